use thiserror::Error;

/// Everything that can go wrong building storage requests or reading responses and node lists.
///
/// `Display` never contains keys, message data or whole account IDs, so errors are safe to log.
/// (Errors a node returns to a client are `server::RpcError` instead: status and text
/// exactly as the storage server sends them.)
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SwarmError {
    /// A namespace number outside the 16-bit range, or one upstream does not name where only
    /// named ones are allowed.
    #[error("unknown namespace {0}")]
    UnknownNamespace(i64),
    /// An account address that is not 66 hex digits or 33 bytes.
    #[error("pubkey must be 66 hex digits (33 bytes)")]
    InvalidPubkey,
    /// The input is not JSON, or not the JSON shape expected.
    #[error("invalid json")]
    InvalidJson,
    /// A required field is absent.
    #[error("missing field '{0}'")]
    MissingField(&'static str),
    /// A field is present but has the wrong type or an impossible value.
    #[error("invalid field '{0}'")]
    InvalidField(&'static str),
    /// An input exceeds a limit from [`crate::limits`].
    #[error("{field} too large: {len}, at most {max}")]
    TooLarge {
        /// What was too large.
        field: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A TTL outside the namespace's permitted range.
    #[error("ttl {ttl_ms} ms outside [{min_ms}, {max_ms}]")]
    TtlOutOfRange {
        /// The TTL asked for (negative when the expiry precedes the timestamp).
        ttl_ms: i64,
        /// The namespace's minimum.
        min_ms: u64,
        /// The namespace's maximum.
        max_ms: u64,
    },
    /// A message hash that is not 43 characters of base64.
    #[error("invalid message hash")]
    InvalidMessageHash,
    /// An `expire` request needs at least one hash and one expiry, and one expiry per hash
    /// when several are given.
    #[error("expiries and hashes do not match")]
    ExpiryMismatch,
    /// An expiry more than a minute in the past.
    #[error("expiry is in the past")]
    ExpiryInPast,
    /// A signature in a response did not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// Storing to this namespace needs the owner's signature (use `Store::signed`).
    #[error("namespace requires a signature")]
    SignatureRequired,
    /// A service node entry lacks a usable key, address or port.
    #[error("invalid service node: {0}")]
    InvalidNode(&'static str),
}
