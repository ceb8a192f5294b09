use metaless_identity::wire::WireError;
use thiserror::Error;

use crate::HopError;

/// The [`OnionError::TooLarge`] `what` of a whole onion body over
/// [`MAX_LAYER_SIZE`](crate::limits::MAX_LAYER_SIZE): the one size error a hop answers with 413.
pub(crate) const ONION_BODY: &str = "onion body";

/// Everything that can go wrong building, peeling or opening an onion request.
///
/// Decryption failures carry no detail (no oracle), and `Display` never contains key material,
/// plaintext or routing contents, so errors are safe to log.
///
/// ```
/// use metaless_onion::{OnionError, HopError};
/// let err = OnionError::Decrypt;
/// assert_eq!(err.to_string(), "decryption failed");
/// assert_eq!(err.hop_error(), HopError::InvalidCiphertext);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OnionError {
    /// The length-prefixed framing was cut short or claimed too much.
    #[error("framing: {0}")]
    Wire(#[from] WireError),
    /// An input exceeds one of the limits in [`crate::limits`].
    #[error("{what} too large: {len} bytes, at most {max}")]
    TooLarge {
        /// Which input.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Routing JSON is not a JSON object of the expected shape.
    #[error("invalid routing json: {0}")]
    InvalidJson(&'static str),
    /// A layer's JSON has no `ephemeral_key`.
    #[error("metadata does not have an ephemeral_key entry")]
    MissingEphemeralKey,
    /// A key in routing JSON is not 64 hexadecimal characters, or not a usable curve point.
    #[error("invalid key")]
    InvalidKey,
    /// `enc_type` names no known encryption type.
    #[error("unknown encryption type")]
    UnknownEncType,
    /// Authenticated decryption failed (wrong key, tampered or truncated ciphertext).
    #[error("decryption failed")]
    Decrypt,
    /// The X25519 agreement gave the all-zero value (a small-order peer key), as libsodium refuses.
    #[error("key agreement with a small-order point")]
    WeakKey,
    /// A path has no hops, or more than [`crate::limits::MAX_HOPS`].
    #[error("path of {len} hops (1 to {max} allowed)")]
    PathLength {
        /// Hops given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A server destination that cannot be routed (bad host, protocol or target).
    #[error("invalid destination: {0}")]
    InvalidDestination(&'static str),
    /// A v4 request or response is not the bencoded list the format requires.
    #[error("invalid v4 framing: {0}")]
    InvalidV4(&'static str),
}

impl OnionError {
    /// The plain-text error a storage server answers with when peeling fails this way, so a
    /// node built on this crate replies exactly as upstream does.
    ///
    /// ```
    /// use metaless_onion::{OnionError, HopError};
    /// let hop = OnionError::MissingEphemeralKey.hop_error();
    /// assert_eq!(hop.status(), 400);
    /// assert!(hop.body().starts_with("Error parsing onion request: "));
    /// // Routing metadata over its limit is a parse error too; only the body is 413.
    /// let meta = OnionError::TooLarge { what: "layer metadata", len: 5000, max: 4096 };
    /// assert_eq!(meta.hop_error().status(), 400);
    /// let body = OnionError::TooLarge { what: "onion body", len: 11 << 20, max: 10 << 20 };
    /// assert_eq!(body.hop_error(), HopError::PayloadTooLarge);
    /// ```
    pub fn hop_error(&self) -> HopError {
        match self {
            OnionError::Decrypt | OnionError::WeakKey => HopError::InvalidCiphertext,
            // Only the whole body over its limit is 413; routing metadata or an inner blob over
            // theirs is a malformed request (400), as upstream answers.
            OnionError::TooLarge {
                what: ONION_BODY, ..
            } => HopError::PayloadTooLarge,
            other => HopError::ParseError(alloc::string::ToString::to_string(other)),
        }
    }
}
