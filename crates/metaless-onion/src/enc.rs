//! The two per-hop encryption types and their wire names.

use core::fmt;
use core::str::FromStr;

use crate::OnionError;

/// Length of the AEAD tag appended by both encryption types.
pub const TAG_LEN: usize = 16;

/// How one onion layer (and the reply) is encrypted.
///
/// Wire names are `"xchacha20"` and `"aes-gcm"`; on input the aliases `"xchacha20-poly1305"` and
/// `"gcm"` are accepted as upstream does. A layer whose JSON has no `enc_type` is
/// [`EncType::ABSENT_DEFAULT`] (AES-GCM, for backwards compatibility), while the upstream builder
/// uses XChaCha20 unless told otherwise.
///
/// ```
/// use metaless_onion::EncType;
/// assert_eq!("gcm".parse::<EncType>().unwrap(), EncType::AesGcm);
/// assert_eq!(EncType::XChaCha20.as_str(), "xchacha20");
/// assert_eq!(EncType::XChaCha20.overhead(), 24 + 16);
/// assert!("aes-cbc".parse::<EncType>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncType {
    /// XChaCha20-Poly1305, key = BLAKE2b-256(DH ‖ client public ‖ node public).
    XChaCha20,
    /// AES-256-GCM, key = HMAC-SHA256(key = "LOKI", message = DH).
    AesGcm,
}

impl EncType {
    /// What a layer without `enc_type` uses.
    pub const ABSENT_DEFAULT: EncType = EncType::AesGcm;

    /// The canonical wire name (what the builder writes).
    pub const fn as_str(self) -> &'static str {
        match self {
            EncType::XChaCha20 => "xchacha20",
            EncType::AesGcm => "aes-gcm",
        }
    }

    /// Parses a wire name or accepted alias.
    ///
    /// ```
    /// use metaless_onion::{EncType, OnionError};
    /// assert_eq!(EncType::parse("xchacha20-poly1305"), Ok(EncType::XChaCha20));
    /// assert_eq!(EncType::parse("XCHACHA20"), Err(OnionError::UnknownEncType));
    /// ```
    pub fn parse(name: &str) -> Result<Self, OnionError> {
        match name {
            "xchacha20" | "xchacha20-poly1305" => Ok(EncType::XChaCha20),
            "aes-gcm" | "gcm" => Ok(EncType::AesGcm),
            _ => Err(OnionError::UnknownEncType),
        }
    }

    /// Length of the random nonce (IV) prefixed to every ciphertext.
    pub const fn nonce_len(self) -> usize {
        match self {
            EncType::XChaCha20 => 24,
            EncType::AesGcm => 12,
        }
    }

    /// Bytes a ciphertext is longer than its plaintext (nonce + tag).
    pub const fn overhead(self) -> usize {
        self.nonce_len() + TAG_LEN
    }
}

impl FromStr for EncType {
    type Err = OnionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for EncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
