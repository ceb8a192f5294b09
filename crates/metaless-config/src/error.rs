use crate::bt::BtError;

/// Why a config message was refused. `Display` carries no key, plaintext or data.
///
/// ```
/// use metaless_config::{ConfigError, ConfigMessage};
/// assert!(matches!(ConfigMessage::parse(b"d1:&dee", None), Err(ConfigError::Malformed(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not strict bencode.
    #[error("config is not valid bencode: {0}")]
    Bencode(#[from] BtError),
    /// Bencode, but not a config message (missing/misplaced keys, bad types, unsorted sets,
    /// empty dicts or sets in the data, bad lagged diffs). The text names the rule.
    #[error("malformed config message: {0}")]
    Malformed(&'static str),
    /// The signature is missing where one is required.
    #[error("config signature missing")]
    MissingSignature,
    /// The signature does not verify.
    #[error("config signature invalid")]
    BadSignature,
    /// Decryption failed (wrong key, wrong domain, tampered or truncated). No detail, by design.
    #[error("config decryption failed")]
    Decrypt,
    /// The encryption domain is empty or longer than 24 bytes.
    #[error("config encryption domain must be 1..=24 bytes")]
    BadDomain,
    /// Larger than the network or a limit allows.
    #[error("config of {len} bytes exceeds {max}")]
    TooLarge {
        /// Size seen.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// `z` payload did not inflate (corrupt, or larger than the limit).
    #[error("config decompression failed")]
    Decompress,
    /// A multipart (`m`) message: upstream does not support them either.
    #[error("multipart config messages are not supported")]
    Multipart,
    /// Decrypted bytes are not a config message (neither `d…` nor `z…`).
    #[error("decrypted data is not a config message")]
    NotAConfig,
    /// The legacy protobuf wrapper did not decode or open.
    #[error("config protobuf wrapper invalid")]
    BadWrapper,
    /// None of the messages given to a merge was valid.
    #[error("no valid config message to merge")]
    NothingToMerge,
}
