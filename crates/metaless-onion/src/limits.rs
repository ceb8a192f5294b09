//! Every size limit of the onion format, in one place.
//!
//! Each limit is checked before anything proportional to an untrusted length field is allocated:
//! a forged length prefix is refused as [`OnionError::TooLarge`](crate::OnionError::TooLarge)
//! whatever bytes follow it.
//!
//! ```
//! use metaless_onion::limits;
//! assert_eq!(limits::MAX_HOPS, 15);
//! assert!(limits::MAX_ROUTING_JSON_SIZE < limits::MAX_LAYER_SIZE);
//! ```

/// Most path hops a request may name (upstream storage server `MAX_ONION_HOPS`: a node drops a
/// request whose hop counter exceeds 15).
pub const MAX_HOPS: usize = 15;

/// Path length Session clients use.
pub const DEFAULT_HOPS: usize = 3;

/// Largest body a hop accepts, and so the largest onion the builder produces (upstream storage
/// server `MAX_REQUEST_BODY_SIZE`, 10 MiB).
pub const MAX_LAYER_SIZE: usize = 10 * 1024 * 1024;

/// Largest routing JSON object (the unencrypted trailer of a layer, or the one inside a decrypted
/// layer). Real ones are under 300 bytes; the limit leaves room for long host names and extra
/// keys while keeping JSON parsing cheap.
pub const MAX_ROUTING_JSON_SIZE: usize = 4096;

/// Largest reply [`PendingResponse::open`](crate::PendingResponse::open) accepts, raw or as
/// base64 text (a 10 MiB file download is about 13.4 MiB of base64).
pub const MAX_RESPONSE_SIZE: usize = 16 * 1024 * 1024;

/// Longest host name in a server destination (DNS limit).
pub const MAX_HOST_LEN: usize = 253;

/// Longest target path in a server destination.
pub const MAX_TARGET_LEN: usize = 256;

/// Largest request-info / response-info JSON in the v4 framing.
pub const MAX_V4_INFO_SIZE: usize = 64 * 1024;
