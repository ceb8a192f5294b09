//! X25519 for onion layers: single-use ephemeral secrets, and the agreement that refuses an
//! all-zero result as libsodium does.
//!
//! The multiplication itself is [`metaless_identity::x25519`] (the AVX-512 IFMA Montgomery
//! ladder where the CPU has it, else the Edwards form for curve points and dalek's ladder for
//! twist points; identical to libsodium's `crypto_scalarmult`), re-exported here so onion users
//! need not name the identity crate.
//!
//! ```
//! use metaless_onion::x25519;
//! let a = [7u8; 32];
//! let b = [9u8; 32];
//! let shared = x25519::scalarmult(&a, &x25519::scalarmult_base(&b));
//! assert_eq!(shared, x25519::scalarmult(&b, &x25519::scalarmult_base(&a)));
//! assert_eq!(shared, x25519::scalarmult_ladder(&a, &x25519::scalarmult_base(&b)));
//! ```

use metaless_identity::x25519::PreparedPeer;
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::OnionError;

pub use metaless_identity::x25519::{scalarmult, scalarmult_base, scalarmult_ladder};

/// The shared secret of one agreement; zeroized on drop.
pub(crate) type Shared = metaless_identity::x25519::SharedSecret;

/// `X25519(secret, peer)` by the identity crate's one agreement; the all-zero result (a
/// small-order peer) is this crate's [`OnionError::WeakKey`].
pub(crate) fn agree(secret: &[u8; 32], peer: &[u8; 32]) -> Result<Shared, OnionError> {
    metaless_identity::x25519::agree(secret, peer).map_err(|_| OnionError::WeakKey)
}

/// A single-use X25519 secret for one onion layer: generated, used for exactly one agreement
/// (which consumes it), zeroized on drop. Never `Clone`; `Debug` is redacted.
///
/// ```
/// use metaless_onion::x25519::{EphemeralSecret, scalarmult_base};
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([1u8; 32]);
/// # use rand_core::SeedableRng;
/// let node = [5u8; 32];
/// let eph = EphemeralSecret::random(&mut rng);
/// let public = eph.public_key();
/// let shared = eph.diffie_hellman(&scalarmult_base(&node)).unwrap();
/// assert_eq!(*shared, metaless_onion::x25519::scalarmult(&node, &public));
/// assert_eq!(format!("{:?}", EphemeralSecret::random(&mut rng)), "EphemeralSecret(<redacted>)");
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct EphemeralSecret([u8; 32]);

impl EphemeralSecret {
    /// A fresh secret from the caller's cryptographic RNG.
    pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Its public key.
    pub fn public_key(&self) -> [u8; 32] {
        scalarmult_base(&self.0)
    }

    /// The agreement with `peer` (zeroized when dropped); consumes (and so zeroizes) the
    /// secret. An all-zero result (small-order `peer`) is [`OnionError::WeakKey`].
    pub fn diffie_hellman(self, peer: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, OnionError> {
        agree(&self.0, peer)
    }

    /// The agreement with a prepared peer (its Edwards form computed once where that is the
    /// faster path; only its bytes on IFMA CPUs).
    pub(crate) fn agree_prepared(&self, peer: &PreparedPeer) -> Result<Shared, OnionError> {
        metaless_identity::x25519::agree_prepared(&self.0, peer).map_err(|_| OnionError::WeakKey)
    }

    pub(crate) fn into_identity(self) -> metaless_identity::X25519Secret {
        metaless_identity::X25519Secret::from_bytes(self.0)
    }
}

impl core::fmt::Debug for EphemeralSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EphemeralSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_order_agreement_is_refused() {
        let zero = [0u8; 32];
        assert_eq!(agree(&[3u8; 32], &zero), Err(OnionError::WeakKey));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(agree(&[3u8; 32], &one), Err(OnionError::WeakKey));
    }
}
