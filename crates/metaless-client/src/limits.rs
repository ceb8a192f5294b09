//! Resource limits of the client core, each enforced before the memory it bounds is used.

/// Most operations (sends, polls, expiries, deletes) pending at once; `send` beyond it is
/// refused with [`ClientError::Busy`](crate::ClientError::Busy).
pub const MAX_PENDING_OPS: usize = 100_000;

/// Most onion hops a path may have (upstream nodes refuse more than 15; 3 is the default).
pub const MAX_HOPS: usize = metaless_onion::limits::MAX_HOPS;

/// Largest reply body the core reads (a retrieve answer is at most ~7.8 MB of messages,
/// base64-encoded and encrypted).
pub const MAX_REPLY_SIZE: usize = 16 * 1024 * 1024;

/// Most message hashes remembered for de-duplication; the oldest-expiring are dropped first.
pub const MAX_SEEN_HASHES: usize = 200_000;

/// Most service nodes kept in the directory (the live network has ~2,000).
pub const MAX_NODES: usize = metaless_swarm::limits::MAX_SERVICE_NODES;

/// Most clock samples the median offset is taken over.
pub const CLOCK_SAMPLES: usize = 5;

/// Largest v4 payload (request line, headers and body) a
/// [`server_request`](crate::Client::server_request) may carry: the 10 MiB a hop accepts less
/// room for the onion layers around it (each under 1 KiB, at most 15 hops plus the server).
pub const MAX_SERVER_REQUEST: usize = metaless_onion::limits::MAX_LAYER_SIZE - 64 * 1024;

/// Longest endpoint (path and query) of a server request.
pub const MAX_SERVER_ENDPOINT: usize = 4096;

/// Most headers on a server request.
pub const MAX_SERVER_HEADERS: usize = 64;

/// Most namespace subscriptions at once.
pub const MAX_SUBSCRIPTIONS: usize = 1_024;

/// Most message hashes one subscription remembers for de-duplication.
pub const MAX_SUBSCRIPTION_SEEN: usize = 20_000;

/// Most message timestamps one read receipt names.
pub const MAX_RECEIPT_TIMESTAMPS: usize = 1_000;

/// Most senders with message requests tracked at once (beyond it requests are still reported,
/// not held for `decline_request`).
pub const MAX_REQUEST_SENDERS: usize = 1_000;

/// Most messages held per message request.
pub const MAX_HELD_PER_REQUEST: usize = 100;
