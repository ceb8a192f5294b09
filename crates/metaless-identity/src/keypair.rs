use core::fmt;

use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::clamp_integer;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha512};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{IdentityError, Seed, SessionId};

/// An X25519 secret key (clamped scalar bytes). Zeroized on drop, never `Clone`.
///
/// ```
/// use metaless_identity::X25519Secret;
/// let secret = X25519Secret::from_bytes([3u8; 32]);
/// let public = secret.public_key();
/// assert_eq!(format!("{secret:?}"), "X25519Secret(<redacted>)");
/// assert_ne!(public, [0u8; 32]);
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct X25519Secret([u8; 32]);

impl X25519Secret {
    /// Wraps secret scalar bytes (clamping happens inside every multiplication, as in libsodium).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 64 hex characters.
    ///
    /// ```
    /// assert!(metaless_identity::X25519Secret::from_hex(&"11".repeat(32)).is_ok());
    /// assert!(metaless_identity::X25519Secret::from_hex("11").is_err());
    /// ```
    pub fn from_hex(text: &str) -> Result<Self, IdentityError> {
        crate::hex::decode_array(text.trim()).map(Self)
    }

    /// The public key `X25519(secret, 9)`.
    pub fn public_key(&self) -> [u8; 32] {
        crate::x25519::scalarmult_base(&self.0)
    }

    /// `X25519(secret, peer)` wiped on drop, exactly as libsodium's `crypto_scalarmult`
    /// (an all-zero result, from a small-order peer point, is refused): [`crate::x25519::agree`].
    ///
    /// ```
    /// use metaless_identity::X25519Secret;
    /// let a = X25519Secret::from_bytes([1u8; 32]);
    /// let b = X25519Secret::from_bytes([2u8; 32]);
    /// assert_eq!(a.diffie_hellman(&b.public_key()).unwrap(), b.diffie_hellman(&a.public_key()).unwrap());
    /// assert!(a.diffie_hellman(&[0u8; 32]).is_err());
    /// ```
    pub fn diffie_hellman(
        &self,
        peer: &[u8; 32],
    ) -> Result<crate::x25519::SharedSecret, IdentityError> {
        crate::x25519::agree(&self.0, peer)
    }

    /// [`Self::diffie_hellman`] with a peer prepared once ([`crate::x25519::PreparedPeer`]).
    ///
    /// ```
    /// use metaless_identity::{X25519Secret, x25519::PreparedPeer};
    /// let a = X25519Secret::from_bytes([1u8; 32]);
    /// let peer = X25519Secret::from_bytes([2u8; 32]).public_key();
    /// assert_eq!(a.diffie_hellman_prepared(&PreparedPeer::new(peer)).unwrap(), a.diffie_hellman(&peer).unwrap());
    /// ```
    pub fn diffie_hellman_prepared(
        &self,
        peer: &crate::x25519::PreparedPeer,
    ) -> Result<crate::x25519::SharedSecret, IdentityError> {
        crate::x25519::agree_prepared(&self.0, peer)
    }

    /// The raw secret bytes.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl ConstantTimeEq for X25519Secret {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for X25519Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for X25519Secret {}

impl fmt::Debug for X25519Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("X25519Secret(<redacted>)")
    }
}

/// An account's keys: the Ed25519 signing key and the X25519 key derived from it.
///
/// The X25519 pair is derived once, at construction, the way libsodium's
/// `crypto_sign_ed25519_sk_to_curve25519` and `crypto_sign_ed25519_pk_to_curve25519` do, so
/// decrypting never has to recompute it.
///
/// ```
/// use metaless_identity::{Keypair, Seed, verify_ed25519};
/// let keys = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let sig = keys.sign(b"hello");
/// assert!(verify_ed25519(&keys.ed25519_public(), b"hello", &sig).is_ok());
/// assert!(verify_ed25519(&keys.ed25519_public(), b"hellO", &sig).is_err());
/// ```
pub struct Keypair {
    signing: SigningKey,
    x25519_secret: X25519Secret,
    x25519_public: [u8; 32],
}

impl Keypair {
    /// Derives every key of the account from its seed.
    pub fn from_seed(seed: &Seed) -> Self {
        let signing = SigningKey::from_bytes(seed.expose_secret());
        let mut hash: [u8; 64] = Sha512::digest(seed.expose_secret()).into();
        let mut scalar = [0u8; 32];
        scalar.copy_from_slice(&hash[..32]);
        hash.zeroize();
        let x25519_secret = X25519Secret(clamp_integer(scalar));
        scalar.zeroize();
        let x25519_public = signing.verifying_key().to_montgomery().to_bytes();
        Self {
            signing,
            x25519_secret,
            x25519_public,
        }
    }

    /// Builds the keypair from a libsodium-style 64-byte secret key (`seed ‖ ed25519_pk`),
    /// checking that the public half matches the seed.
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([4u8; 32]));
    /// let mut sk = [0u8; 64];
    /// sk[..32].copy_from_slice(&[4u8; 32]);
    /// sk[32..].copy_from_slice(&keys.ed25519_public());
    /// assert_eq!(Keypair::from_libsodium_secret(&sk).unwrap().ed25519_public(), keys.ed25519_public());
    /// sk[63] ^= 1;
    /// assert!(Keypair::from_libsodium_secret(&sk).is_err());
    /// ```
    pub fn from_libsodium_secret(sk: &[u8; 64]) -> Result<Self, IdentityError> {
        let seed = Seed::from_slice(&sk[..32])?;
        let keys = Self::from_seed(&seed);
        if keys.ed25519_public()[..] != sk[32..] {
            return Err(IdentityError::InvalidPoint);
        }
        Ok(keys)
    }

    /// The Ed25519 public key.
    pub fn ed25519_public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The X25519 public key (the key in the Session ID).
    pub fn x25519_public(&self) -> [u8; 32] {
        self.x25519_public
    }

    /// The X25519 secret key.
    pub fn x25519_secret(&self) -> &X25519Secret {
        &self.x25519_secret
    }

    /// The account's standard (`05`) Session ID.
    pub fn session_id(&self) -> SessionId {
        SessionId::standard(self.x25519_public)
    }

    /// The Ed25519 signing key, for protocols (such as blinding) that need the raw scalar.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// A detached Ed25519 signature over `message` (RFC 8032, deterministic: the same bytes
    /// on every CPU and path).
    ///
    /// ```
    /// let keys = metaless_identity::Keypair::from_seed(&metaless_identity::Seed::from_bytes([7; 32]));
    /// let sig = keys.sign(b"hello");
    /// assert!(metaless_identity::verify_ed25519(&keys.ed25519_public(), b"hello", &sig).is_ok());
    /// ```
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.sign_ifma(message)
            .unwrap_or_else(|| self.signing.sign(message).to_bytes())
    }

    /// RFC 8032 §5.1.6 with the nonce's point `[r]B` from the IFMA table walk (~3× faster
    /// than curve25519-dalek's basepoint table here); `None` where that walk is unavailable.
    /// The rest is curve25519-dalek's scalar arithmetic, as ed25519-dalek's signing.
    fn sign_ifma(&self, message: &[u8]) -> Option<[u8; 64]> {
        use curve25519_dalek::scalar::Scalar;
        let mut expanded: [u8; 64] = Sha512::digest(self.signing.as_bytes()).into();
        let (lower, prefix) = expanded.split_at(32);
        let mut secret = Scalar::from_bytes_mod_order(clamp_integer(lower.try_into().ok()?));
        let mut nonce_hash: [u8; 64] = Sha512::new()
            .chain_update(prefix)
            .chain_update(message)
            .finalize()
            .into();
        expanded.zeroize();
        let mut nonce = Scalar::from_bytes_mod_order_wide(&nonce_hash);
        nonce_hash.zeroize();
        let Some(r) = crate::x25519::ed25519_mul_base(nonce.as_bytes()) else {
            secret.zeroize();
            nonce.zeroize();
            return None;
        };
        let challenge: [u8; 64] = Sha512::new()
            .chain_update(r)
            .chain_update(self.ed25519_public())
            .chain_update(message)
            .finalize()
            .into();
        let s = Scalar::from_bytes_mod_order_wide(&challenge) * secret + nonce;
        secret.zeroize();
        nonce.zeroize();
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice(s.as_bytes());
        Some(sig)
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field(
                "ed25519_public",
                &crate::hex::encode(&self.ed25519_public()),
            )
            .finish_non_exhaustive()
    }
}

/// Verifies a detached Ed25519 signature (RFC 8032 with libsodium's strictness: the
/// signature's `R` and the key must not be small-order, `S` must be canonical).
///
/// ```
/// use metaless_identity::{verify_ed25519, IdentityError};
/// assert_eq!(verify_ed25519(&[0u8; 32], b"m", &[0u8; 64]), Err(IdentityError::BadSignature));
/// ```
pub fn verify_ed25519(
    public: &[u8; 32],
    message: &[u8],
    signature: &[u8; 64],
) -> Result<(), IdentityError> {
    let key = VerifyingKey::from_bytes(public).map_err(|_| IdentityError::BadSignature)?;
    key.verify_strict(message, &Signature::from_bytes(signature))
        .map_err(|_| IdentityError::BadSignature)
}

/// Converts another party's Ed25519 public key to its X25519 public key, as libsodium's
/// `crypto_sign_ed25519_pk_to_curve25519` does (small-order and non-prime-order points are refused).
///
/// ```
/// use metaless_identity::{ed25519_to_x25519_public, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([5u8; 32]));
/// assert_eq!(ed25519_to_x25519_public(&keys.ed25519_public()).unwrap(), keys.x25519_public());
/// ```
pub fn ed25519_to_x25519_public(ed25519: &[u8; 32]) -> Result<[u8; 32], IdentityError> {
    let point = CompressedEdwardsY(*ed25519)
        .decompress()
        .ok_or(IdentityError::InvalidPoint)?;
    if point.is_small_order() || !point.is_torsion_free() {
        return Err(IdentityError::InvalidPoint);
    }
    Ok(point.to_montgomery().to_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The IFMA signing path gives ed25519-dalek's bytes exactly (Ed25519 signatures are
        /// deterministic), for random seeds and messages; where the CPU has no IFMA the path
        /// is absent, and `sign` is ed25519-dalek's.
        #[test]
        fn ifma_signing_matches_ed25519_dalek(seed in any::<[u8; 32]>(), message in proptest::collection::vec(any::<u8>(), 0..300)) {
            let keys = Keypair::from_seed(&Seed::from_bytes(seed));
            let theirs = keys.signing.sign(&message).to_bytes();
            match keys.sign_ifma(&message) {
                Some(ours) => prop_assert_eq!(ours, theirs),
                None => prop_assert!(!crate::x25519::ifma_available()),
            }
            prop_assert_eq!(keys.sign(&message), theirs);
        }
    }
}
