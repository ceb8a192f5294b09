use thiserror::Error;

/// Everything that can go wrong sealing or opening a message.
///
/// Failures to decrypt carry no detail (no decryption oracle), and `Display` never contains key
/// material, plaintext or whole Session IDs, so every error is safe to log.
///
/// ```
/// use metaless_envelope::EnvelopeError;
/// let err = EnvelopeError::TooLarge { what: "content", len: 10, max: 5 };
/// assert_eq!(err.to_string(), "content is too large: 10 bytes, at most 5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The bytes are not a stored one-to-one message: not the `WebSocketMessage` /
    /// `Envelope` protobuf, a required field is missing, or the envelope is of another type.
    #[error("not a valid message envelope")]
    NotAnEnvelope,
    /// The ciphertext is shorter than the 144 bytes every sealed message has.
    #[error("ciphertext is too short: {len} bytes, at least 144")]
    CiphertextTooShort {
        /// Length received.
        len: usize,
    },
    /// The sealed box does not open with this account's key: it was sealed to someone else, or
    /// altered on the way. The two are deliberately indistinguishable.
    #[error("message is not for this recipient, or was altered")]
    WrongRecipient,
    /// The box opened but the sender's signature over the plaintext and our key does not verify.
    #[error("sender signature is invalid")]
    BadSignature,
    /// The sender's Ed25519 key is not one libsodium converts to an X25519 key (small-order or
    /// mixed-order point), so it names no Session ID.
    #[error("sender key is not a valid account key")]
    InvalidSenderKey,
    /// The plaintext ends in zero bytes that no `0x80` terminator precedes, or is empty.
    #[error("message padding is invalid")]
    BadPadding,
    /// The (verified, unpadded) plaintext is not a `Content` protobuf.
    #[error("message content is not a valid Content protobuf")]
    InvalidContent,
    /// The recipient is not a standard (`05`) Session ID, or its key is a small-order point.
    #[error("recipient is not a standard account")]
    InvalidRecipient,
    /// An input exceeds one of the limits in [`crate::limits`].
    #[error("{what} is too large: {len} bytes, at most {max}")]
    TooLarge {
        /// Which input.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}
