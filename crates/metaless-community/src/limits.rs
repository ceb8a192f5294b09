//! Named limits of the community protocol, each with its upstream source.

/// Longest room token (`[0-9A-Za-z_-]{1,64}`; desktop `OpenGroupUtils.ts`, libsession `ROOM_MAX_LENGTH`).
pub const MAX_ROOM_TOKEN_LEN: usize = 64;
/// Longest base URL (`scheme://host[:port]`) accepted (libsession `BASE_URL_MAX_LENGTH`).
pub const MAX_BASE_URL_LEN: usize = 100;
/// Largest file a room accepts (pysogs `UPLOAD_FILE_MAX_SIZE`).
pub const MAX_UPLOAD_SIZE: usize = 10_000_000;
/// Longest upload filename (pysogs `UPLOAD_FILENAME_MAX`).
pub const MAX_FILENAME_LEN: usize = 60;
/// Largest `limit` any listing endpoint honours (pysogs).
pub const MAX_LIST_LIMIT: u32 = 256;
/// Most reactors a server lists per emoji (pysogs, default 4).
pub const MAX_REACTORS: u32 = 20;
/// How far (seconds) a request's `X-SOGS-Timestamp` may be from the server's clock (pysogs: 24 h).
pub const MAX_CLOCK_SKEW_S: u64 = 86_400;
/// Bytes in an `X-SOGS-Nonce`.
pub const NONCE_LEN: usize = 16;
/// Largest reply body a parser reads (a 10 MB file, base64-encoded inside a batch reply, plus slack).
pub const MAX_REPLY_SIZE: usize = 16 * 1024 * 1024;
/// Most sub-requests in one `/batch` or `/sequence`.
pub const MAX_BATCH_LEN: usize = 64;
/// Smallest blinded DM: version byte, Poly1305 tag, nonce and the 32-byte sender key inside.
pub const MIN_BLINDED_DM_LEN: usize = 1 + 16 + 24 + 32;
/// Largest blinded DM body this crate opens or seals (pysogs has no cap below the request limit;
/// a padded Content is far smaller).
pub const MAX_BLINDED_DM_LEN: usize = 1024 * 1024;
