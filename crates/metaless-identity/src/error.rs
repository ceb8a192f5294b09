use thiserror::Error;

/// Everything that can go wrong turning outside input into identity types.
///
/// `Display` never contains key material or whole identifiers, so errors are safe to log.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Input had the wrong number of bytes (or hex characters).
    #[error("wrong length: expected {expected}, got {actual}")]
    WrongLength {
        /// What the format requires.
        expected: usize,
        /// What was given.
        actual: usize,
    },
    /// A character that is not a hexadecimal digit.
    #[error("not hexadecimal at position {position}")]
    NotHex {
        /// Index of the first offending character.
        position: usize,
    },
    /// The first byte of a Session ID is not a known prefix.
    #[error("unknown Session ID prefix {0:#04x}")]
    UnknownPrefix(u8),
    /// A Session ID of a known kind where another kind is required (e.g. a `15` ID where
    /// blinding needs a standard `05` one).
    #[error("Session ID prefix {0:#04x} is not valid here")]
    UnexpectedPrefix(u8),
    /// The key bytes do not decode to a point on the curve.
    #[error("key is not a valid curve point")]
    InvalidPoint,
    /// An Ed25519 signature did not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// A recovery phrase word is not in the word list.
    #[error("unknown word at position {position}")]
    UnknownWord {
        /// Zero-based index of the word in the phrase.
        position: usize,
    },
    /// A recovery phrase has a number of words no seed length produces.
    #[error("{0} words is an invalid count")]
    WrongWordCount(usize),
    /// The checksum word of a recovery phrase does not match the other words.
    #[error("recovery phrase checksum does not match")]
    BadChecksum,
    /// The encoded value does not fit the seed length (the phrase is corrupt).
    #[error("recovery phrase does not encode a valid seed")]
    InvalidPhrase,
    /// A blinding operation could not be performed on this key (e.g. a zero scalar).
    #[error("blinding failed")]
    BlindingFailed,
}
