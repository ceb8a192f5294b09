use core::fmt;

use rand_core::{CryptoRng, RngCore};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::IdentityError;

/// The 32-byte Ed25519 seed that *is* a Session account.
///
/// Zeroized on drop, neither `Clone` nor `Copy`, compared in constant time, and its `Debug`
/// output is `Seed(<redacted>)`. The only way to see the bytes is [`Seed::expose_secret`].
///
/// Older Session accounts (and every account the Session apps create today) hold only 16
/// bytes of entropy: the 32-byte seed is those 16 bytes followed by 16 zero bytes, and the
/// 13-word recovery phrase encodes just the first half.
///
/// ```
/// use metaless_identity::Seed;
/// let legacy = Seed::from_slice(&[1u8; 16]).unwrap();
/// assert!(legacy.is_legacy());
/// assert_eq!(&legacy.expose_secret()[16..], &[0u8; 16]);
/// assert_eq!(format!("{legacy:?}"), "Seed(<redacted>)");
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Seed([u8; 32]);

impl Seed {
    /// Length of a full seed.
    pub const LEN: usize = 32;
    /// Length of a legacy (Session app) seed.
    pub const LEGACY_LEN: usize = 16;

    /// Wraps 32 seed bytes.
    ///
    /// ```
    /// let seed = metaless_identity::Seed::from_bytes([9u8; 32]);
    /// assert!(!seed.is_legacy());
    /// ```
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Extends a 16-byte legacy seed with 16 zero bytes, as Session clients do.
    ///
    /// ```
    /// let seed = metaless_identity::Seed::from_legacy([1u8; 16]);
    /// assert!(seed.is_legacy());
    /// ```
    pub fn from_legacy(mut bytes: [u8; 16]) -> Self {
        let mut full = [0u8; 32];
        full[..16].copy_from_slice(&bytes);
        bytes.zeroize();
        Self(full)
    }

    /// Accepts 32 bytes, or 16 legacy bytes.
    ///
    /// ```
    /// use metaless_identity::{IdentityError, Seed};
    /// assert!(Seed::from_slice(&[0u8; 32]).is_ok());
    /// assert_eq!(Seed::from_slice(&[0u8; 15]).err(), Some(IdentityError::WrongLength { expected: 32, actual: 15 }));
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Result<Self, IdentityError> {
        match bytes.len() {
            Self::LEN => {
                let mut full = [0u8; 32];
                full.copy_from_slice(bytes);
                Ok(Self(full))
            }
            Self::LEGACY_LEN => {
                let mut short = [0u8; 16];
                short.copy_from_slice(bytes);
                Ok(Self::from_legacy(short))
            }
            actual => Err(IdentityError::WrongLength {
                expected: Self::LEN,
                actual,
            }),
        }
    }

    /// Parses 64 (or legacy 32) hex characters.
    ///
    /// ```
    /// let seed = metaless_identity::Seed::from_hex(&"ab".repeat(32)).unwrap();
    /// assert_eq!(seed.expose_secret()[0], 0xab);
    /// ```
    pub fn from_hex(text: &str) -> Result<Self, IdentityError> {
        let mut bytes = crate::hex::decode(text.trim())?;
        let seed = Self::from_slice(&bytes);
        bytes.zeroize();
        seed.map_err(|e| match e {
            IdentityError::WrongLength { expected, actual } => IdentityError::WrongLength {
                expected: 2 * expected,
                actual: 2 * actual,
            },
            other => other,
        })
    }

    /// A new account seed in the form the Session apps create: 16 random bytes, zero-extended,
    /// so its recovery phrase is the 13 words those apps accept.
    ///
    /// ```
    /// let seed = metaless_identity::Seed::generate(&mut rand_core::OsRng);
    /// assert!(seed.is_legacy());
    /// ```
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut short = [0u8; 16];
        rng.fill_bytes(&mut short);
        Self::from_legacy(short)
    }

    /// A new seed with 32 random bytes (256 bits; its phrase has 25 words, which the Session
    /// apps do not accept).
    ///
    /// ```
    /// let seed = metaless_identity::Seed::generate_full(&mut rand_core::OsRng);
    /// assert_eq!(seed.expose_secret().len(), 32);
    /// ```
    pub fn generate_full<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut full = [0u8; 32];
        rng.fill_bytes(&mut full);
        Self(full)
    }

    /// Whether the second half is all zero, i.e. this is a 16-byte legacy seed.
    pub fn is_legacy(&self) -> bool {
        self.0[16..].ct_eq(&[0u8; 16]).into()
    }

    /// The raw seed bytes. Named so that every place a secret leaves its type stands out.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl ConstantTimeEq for Seed {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for Seed {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Seed {}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_lengths_are_typed_errors() {
        for len in [0usize, 1, 15, 17, 31, 33, 64] {
            assert_eq!(
                Seed::from_slice(&alloc::vec![0u8; len]).err(),
                Some(IdentityError::WrongLength {
                    expected: 32,
                    actual: len
                })
            );
        }
        assert_eq!(
            Seed::from_hex("abc").err(),
            Some(IdentityError::WrongLength {
                expected: 4,
                actual: 3
            })
        );
        assert_eq!(
            Seed::from_hex(&"zz".repeat(32)).err(),
            Some(IdentityError::NotHex { position: 0 })
        );
    }

    #[test]
    fn zeroize_clears_bytes() {
        let mut seed = Seed::from_bytes([0x5a; 32]);
        seed.zeroize();
        assert_eq!(seed.expose_secret(), &[0u8; 32]);
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(Seed::from_bytes([1; 32]), Seed::from_bytes([1; 32]));
        assert_ne!(Seed::from_bytes([1; 32]), Seed::from_bytes([2; 32]));
    }

    #[test]
    fn generated_seeds_differ() {
        let mut rng = rand_core::OsRng;
        assert_ne!(Seed::generate(&mut rng), Seed::generate(&mut rng));
        assert_ne!(Seed::generate_full(&mut rng), Seed::generate_full(&mut rng));
    }
}
