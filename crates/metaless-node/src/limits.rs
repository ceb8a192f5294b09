//! Resource limits of a node, each enforced before allocating in proportion to untrusted input.

/// Largest HTTP request body accepted, in bytes (upstream `MAX_REQUEST_BODY_SIZE`, 10 MiB:
/// metaless-swarm's [`metaless_swarm::limits::MAX_REQUEST_BODY`]). Larger declared or streamed
/// bodies get 413 `Request body too large` before buffering.
pub const MAX_REQUEST_BODY_SIZE: usize = metaless_swarm::limits::MAX_REQUEST_BODY;

/// Largest `retrieve` reply storage assembles, in bytes of hash + base64 data + per-message
/// overhead (upstream `RETRIEVE_MAX_SIZE`, 7.8 MB: metaless-swarm's
/// [`metaless_swarm::limits::RETRIEVE_MAX_SIZE`], whose `server::retrieve_limits` turns a
/// request's `max_count`/`max_size` into the limits passed to storage).
// The value is a positive constant well inside usize.
pub const RETRIEVE_MAX_SIZE: usize = metaless_swarm::limits::RETRIEVE_MAX_SIZE as usize;

/// Overhead counted per message when sizing a `retrieve` reply (JSON keys, timestamps).
pub const RETRIEVE_PER_MESSAGE_OVERHEAD: usize = 100;

/// Most message hashes storage names in one SQL statement; longer lists (upstream puts no
/// limit on them besides the body size) are processed in chunks of this many.
pub const MAX_HASHES_PER_REQUEST: usize = 1000;

/// Most onion hops a request may take before a node refuses to forward it (upstream 15:
/// metaless-onion's [`metaless_onion::limits::MAX_HOPS`]).
pub const MAX_ONION_HOPS: u32 = metaless_onion::limits::MAX_HOPS as u32;

/// Observation records a node keeps in memory when observation is on; older ones are dropped.
pub const MAX_OBSERVATIONS: usize = 100_000;
