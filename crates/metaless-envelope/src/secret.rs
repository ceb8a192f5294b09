//! Key bytes carried inside messages (attachment keys, profile keys, group seeds, member
//! auth data): zeroized on drop and never printed.

use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroize;

/// Secret bytes a message carries: wiped when dropped, `Debug` shows only the length, equality
/// does not stop at the first differing byte.
///
/// `Clone` exists because the message types around it are values apps copy; every copy is wiped
/// on drop too.
///
/// ```
/// use metaless_envelope::SecretBytes;
/// let key = SecretBytes::new(vec![7u8; 32]);
/// assert_eq!(key.len(), 32);
/// assert_eq!(format!("{key:?}"), "SecretBytes(32 bytes)");
/// assert_eq!(key.expose_secret(), &[7u8; 32][..]);
/// ```
#[derive(Clone, Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps `bytes` (taking ownership, so no unwiped copy is left behind by us).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes, for the one place that needs them (a cipher).
    ///
    /// ```
    /// assert_eq!(metaless_envelope::SecretBytes::new(vec![1, 2]).expose_secret(), &[1, 2]);
    /// ```
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    ///
    /// ```
    /// assert_eq!(metaless_envelope::SecretBytes::new(vec![0; 3]).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    ///
    /// ```
    /// assert!(metaless_envelope::SecretBytes::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn to_vec(&self) -> Vec<u8> {
        self.0.clone()
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for SecretBytes {
    fn from(bytes: [u8; N]) -> Self {
        let mut bytes = bytes;
        let out = Self(bytes.to_vec());
        bytes.zeroize();
        out
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        // Lengths are not secret; contents are compared without an early exit.
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl Eq for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}
