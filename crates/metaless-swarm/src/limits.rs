//! Resource limits, each enforced before allocating anything proportional to the input.
//!
//! Values marked *upstream* are the storage server's own; the others bound what this crate
//! will parse.

/// Largest `store` payload in bytes (*upstream* `store::MAX_MESSAGE_BODY`).
pub const MAX_MESSAGE_BODY: usize = 76_800;

/// Largest base64 `data` string a `store` may carry (*upstream*: 4/3 of [`MAX_MESSAGE_BODY`]).
pub const MAX_MESSAGE_BODY_BASE64: usize = MAX_MESSAGE_BODY / 3 * 4;

/// Largest `retrieve` reply the server assembles, in bytes (*upstream* `RETRIEVE_MAX_SIZE`).
pub const RETRIEVE_MAX_SIZE: i64 = 7_800_000;

/// Most sub-requests in one `batch` or `sequence` (*upstream* `BATCH_REQUEST_MAX`).
pub const BATCH_REQUEST_MAX: usize = 20;

/// Largest request body `server::parse_request` will look at (the network's 10 MiB
/// message limit).
pub const MAX_REQUEST_BODY: usize = 10 * 1024 * 1024;

/// Largest response body the response parsers will look at (the network's 10 MiB limit).
pub const MAX_RESPONSE_BODY: usize = 10 * 1024 * 1024;

/// Most service nodes accepted from one node list (the network has a few thousand).
pub const MAX_SERVICE_NODES: usize = 20_000;

/// Most message hashes a request builder accepts in one request.
pub const MAX_HASHES_PER_REQUEST: usize = 1_000;

/// Most sub-account tokens one `revoke_subaccount` may carry, and most revoked tokens a node
/// keeps per account, the most recent winning (*upstream* `MAX_SUBACCOUNT_TOKENS`).
pub const MAX_SUBACCOUNT_TOKENS: usize = 50;
