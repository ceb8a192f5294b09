//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong building or reading group objects. `Display` never contains
/// keys, plaintext or full Session IDs; decryption failures carry no detail (no oracle).
///
/// ```
/// use metaless_group::GroupError;
/// assert_eq!(GroupError::DecryptFailed.to_string(), "decryption failed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GroupError {
    /// A group id is not `03` followed by 32 bytes of a valid Ed25519 key.
    #[error("not a valid 03 group id")]
    InvalidGroupId,
    /// A member id is not a standard `05` Session ID with a usable X25519 key.
    #[error("not a valid 05 member Session ID")]
    InvalidMemberId,
    /// A key or scalar is not usable (not on the curve, small order, zero).
    #[error("invalid key")]
    InvalidKey,
    /// Bytes have the wrong length.
    #[error("{field}: wrong length {len}, expected {expected}")]
    WrongLength {
        /// What was being read.
        field: &'static str,
        /// The length given.
        len: usize,
        /// The length required.
        expected: usize,
    },
    /// Bytes exceed a limit in [`crate::limits`].
    #[error("{field}: {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// What was being read or written.
        field: &'static str,
        /// The length given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A sub-account token's admin signature does not verify under the group key (forged,
    /// for another group, or for another member).
    #[error("sub-account token signature does not verify under the group key")]
    BadTokenSignature,
    /// A sub-account token lacks the permission the request needs.
    #[error("sub-account token lacks the {0} permission")]
    NotPermitted(&'static str),
    /// A request signature made with a sub-account key does not verify.
    #[error("request signature does not verify")]
    BadRequestSignature,
    /// A message or keys message signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// No known key decrypts (wrong key, removed member, tampered ciphertext).
    #[error("decryption failed")]
    DecryptFailed,
    /// The decrypted or received structure is not what the format requires.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A compressed payload does not decompress within the size limit.
    #[error("decompression failed")]
    Decompress,
    /// The operation needs the group's secret key (admin) and this state has none.
    #[error("not an admin of this group")]
    NotAdmin,
    /// A keys message's generation is not newer than the one it must follow, or otherwise
    /// out of order.
    #[error("stale or out-of-order keys generation")]
    StaleGeneration,
    /// No group key is known yet.
    #[error("no group key known")]
    NoKey,
}
