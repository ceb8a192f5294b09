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
