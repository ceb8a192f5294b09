use core::fmt;
use core::str::FromStr;

use curve25519_dalek::edwards::CompressedEdwardsY;

use crate::IdentityError;

/// The one-byte prefix that says what kind of key a [`SessionId`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SessionIdPrefix {
    /// `00`: an unblinded Ed25519 public key (community server and legacy uses).
    UnblindedEd25519,
    /// `03`: a closed group's Ed25519 public key.
    Group,
    /// `05`: a standard account, holding its X25519 public key.
    Standard,
    /// `15`: a community-blinded Ed25519 key (the older blinding).
    Blinded15,
    /// `25`: a community-blinded Ed25519 key (the current blinding).
    Blinded25,
}

impl SessionIdPrefix {
    /// The prefix byte.
    ///
    /// ```
    /// assert_eq!(metaless_identity::SessionIdPrefix::Standard.byte(), 0x05);
    /// ```
    pub fn byte(self) -> u8 {
        match self {
            Self::UnblindedEd25519 => 0x00,
            Self::Group => 0x03,
            Self::Standard => 0x05,
            Self::Blinded15 => 0x15,
            Self::Blinded25 => 0x25,
        }
    }

    /// The prefix for a byte, if it is one we know.
    ///
    /// ```
    /// use metaless_identity::{IdentityError, SessionIdPrefix};
    /// assert_eq!(SessionIdPrefix::from_byte(0x25), Ok(SessionIdPrefix::Blinded25));
    /// assert_eq!(SessionIdPrefix::from_byte(0x07), Err(IdentityError::UnknownPrefix(0x07)));
    /// ```
    pub fn from_byte(byte: u8) -> Result<Self, IdentityError> {
        match byte {
            0x00 => Ok(Self::UnblindedEd25519),
            0x03 => Ok(Self::Group),
            0x05 => Ok(Self::Standard),
            0x15 => Ok(Self::Blinded15),
            0x25 => Ok(Self::Blinded25),
            other => Err(IdentityError::UnknownPrefix(other)),
        }
    }

    /// Whether the key behind this prefix is an Ed25519 point (everything but `05`).
    pub fn is_ed25519(self) -> bool {
        !matches!(self, Self::Standard)
    }
}

/// A Session ID: one prefix byte and a 32-byte public key, written as 66 lowercase hex chars.
///
/// ```
/// use metaless_identity::{SessionId, SessionIdPrefix};
/// let text = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
/// let id: SessionId = text.parse().unwrap();
/// assert_eq!(id.prefix(), SessionIdPrefix::Standard);
/// assert_eq!(id.to_string(), text);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    prefix: SessionIdPrefix,
    key: [u8; 32],
}

impl SessionId {
    /// Length of the binary form.
    pub const LEN: usize = 33;
    /// Length of the hex form.
    pub const HEX_LEN: usize = 66;

    /// A standard `05` ID for an X25519 public key (every 32-byte value is accepted: an
    /// X25519 coordinate cannot be checked without the Ed25519 key it came from).
    pub fn standard(x25519_public: [u8; 32]) -> Self {
        Self {
            prefix: SessionIdPrefix::Standard,
            key: x25519_public,
        }
    }

    /// An ID with the given prefix, checking that Ed25519-kind keys decompress to a point.
    ///
    /// ```
    /// use metaless_identity::{IdentityError, SessionId, SessionIdPrefix};
    /// let mut not_a_point = [0u8; 32];
    /// not_a_point[0] = 2; // y = 2 is not on the Edwards curve
    /// assert_eq!(SessionId::new(SessionIdPrefix::Blinded25, not_a_point), Err(IdentityError::InvalidPoint));
    /// assert!(SessionId::new(SessionIdPrefix::Standard, not_a_point).is_ok());
    /// ```
    pub fn new(prefix: SessionIdPrefix, key: [u8; 32]) -> Result<Self, IdentityError> {
        if prefix.is_ed25519() && CompressedEdwardsY(key).decompress().is_none() {
            return Err(IdentityError::InvalidPoint);
        }
        Ok(Self { prefix, key })
    }

    /// Parses the 33-byte binary form.
    ///
    /// ```
    /// use metaless_identity::SessionId;
    /// let mut raw = [0u8; 33];
    /// raw[0] = 0x05;
    /// assert_eq!(SessionId::from_bytes(&raw).unwrap().to_bytes(), raw);
    /// assert!(SessionId::from_bytes(&raw[..32]).is_err());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentityError> {
        if bytes.len() != Self::LEN {
            return Err(IdentityError::WrongLength {
                expected: Self::LEN,
                actual: bytes.len(),
            });
        }
        let prefix = SessionIdPrefix::from_byte(bytes[0])?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[1..]);
        Self::new(prefix, key)
    }

    /// The prefix.
    pub fn prefix(&self) -> SessionIdPrefix {
        self.prefix
    }

    /// The 32-byte key without its prefix.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The 33-byte binary form.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = self.prefix.byte();
        out[1..].copy_from_slice(&self.key);
        out
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::hex::encode(&self.to_bytes()))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl FromStr for SessionId {
    type Err = IdentityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != Self::HEX_LEN {
            return Err(IdentityError::WrongLength {
                expected: Self::HEX_LEN,
                actual: text.len(),
            });
        }
        let raw: [u8; 33] = crate::hex::decode_array(text)?;
        Self::from_bytes(&raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    fn any_prefix() -> impl Strategy<Value = SessionIdPrefix> {
        prop_oneof![
            Just(SessionIdPrefix::UnblindedEd25519),
            Just(SessionIdPrefix::Group),
            Just(SessionIdPrefix::Standard),
            Just(SessionIdPrefix::Blinded15),
            Just(SessionIdPrefix::Blinded25),
        ]
    }

    proptest! {
        #[test]
        fn string_round_trip(prefix in any_prefix(), key in any::<[u8; 32]>()) {
            if let Ok(id) = SessionId::new(prefix, key) {
                let text = id.to_string();
                prop_assert_eq!(text.len(), 66);
                prop_assert_eq!(text.to_lowercase(), text.clone());
                prop_assert_eq!(text.parse::<SessionId>().unwrap(), id);
            } else {
                prop_assert!(prefix.is_ed25519());
            }
        }

        #[test]
        fn uppercase_is_accepted(key in any::<[u8; 32]>()) {
            let id = SessionId::standard(key);
            prop_assert_eq!(id.to_string().to_uppercase().parse::<SessionId>().unwrap(), id);
        }
    }

    #[test]
    fn every_parse_error_is_typed() {
        let good = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
        assert_eq!(
            good[..64].parse::<SessionId>(),
            Err(IdentityError::WrongLength {
                expected: 66,
                actual: 64
            })
        );
        let mut bad_hex = good.to_string();
        bad_hex.replace_range(10..11, "x");
        assert_eq!(
            bad_hex.parse::<SessionId>(),
            Err(IdentityError::NotHex { position: 10 })
        );
        let unknown = alloc::format!("07{}", &good[2..]);
        assert_eq!(
            unknown.parse::<SessionId>(),
            Err(IdentityError::UnknownPrefix(0x07))
        );
        let not_point = alloc::format!("25{}", "02".to_string() + &"00".repeat(31));
        assert_eq!(
            not_point.parse::<SessionId>(),
            Err(IdentityError::InvalidPoint)
        );
    }
}
