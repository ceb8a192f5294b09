//! X25519 exactly as libsodium's `crypto_scalarmult`, computed the fast way for this CPU.
//!
//! RFC 7748's X25519 is defined on the Montgomery form: clamp the scalar, run the Montgomery
//! ladder on the peer's `u` coordinate (top bit ignored, non-canonical values reduced), output
//! `u` of the result. [`scalarmult`] picks, once per process (runtime CPU detection, cached):
//!
//! * **AVX-512 IFMA** (x86-64 with AVX-512F/VL/IFMA): the Montgomery ladder with its field
//!   arithmetic four elements at a time in radix 2^51 on IFMA's 52-bit multiply-adds
//!   (`x25519/ifma.rs`, [`scalarmult_ifma`]), the final inversion on the same vectors. About
//!   0.4× libsodium 1.0.18's `crypto_scalarmult` (the `x25519` bench).
//! * **otherwise** the Edwards path ([`scalarmult_edwards`]): curve25519-dalek's serial ladder is
//!   slower than its variable-base *Edwards* multiplication (AVX2 when the CPU has it), so the
//!   peer's `u` is mapped to an Edwards point and multiplied there when that point exists:
//!
//!   * `u` is on the curve (every honest key): the birational map `y = (u−1)/(u+1)` and Edwards
//!     decompression give a point `P` with that `u` (either sign: `±P` have the same `u`, and so
//!     do `±kP`). `EdwardsPoint::mul_clamped` multiplies by the *clamped, unreduced* scalar `k`
//!     (a multiple of 8, below 2^255), so small-order components of `P` are cleared exactly as
//!     the ladder clears them, and `kP` mapped back with `u = (1+y)/(1−y)` is the ladder's
//!     output, including the all-zero output for small-order `P` (the identity maps to `u = 0`).
//!   * `u` is on the twist, or `u = −1` (no Edwards point): dalek's Montgomery ladder.
//!
//!   Which branch runs depends only on the public peer key, never on the secret.
//!
//! Every path is constant-time in the scalar. Equality with dalek's ladder
//! ([`scalarmult_ladder`]) is checked on the RFC 7748 vectors (including 1 and 1,000
//! iterations), on small-order and non-canonical inputs, and by property tests over random
//! 32-byte strings (half of which are twist points); the IFMA ladder is tested explicitly where
//! the CPU has it.
//!
//! The IFMA ladder also answers whether a public point is in the prime-order subgroup
//! ([`in_prime_subgroup`]: the ladder by the group order, a little over half the cost of the
//! Edwards check by `[ℓ−1]P` in the `x25519` bench).
//!
//! ```
//! use metaless_identity::x25519;
//! let a = [7u8; 32];
//! let b = [9u8; 32];
//! let shared = x25519::scalarmult(&a, &x25519::scalarmult_base(&b));
//! assert_eq!(shared, x25519::scalarmult(&b, &x25519::scalarmult_base(&a)));
//! assert_eq!(shared, x25519::scalarmult_ladder(&a, &x25519::scalarmult_base(&b)));
//! ```

mod dispatch;
#[cfg(target_arch = "x86_64")]
mod ifma;

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::IdentityError;

/// The result of one X25519 agreement; wiped when dropped.
pub type SharedSecret = Zeroizing<[u8; 32]>;

/// A peer's X25519 public key prepared for many agreements (an onion builder's hops): without
/// AVX-512 IFMA its Edwards form is worked out once, saving the decompression per agreement; with
/// IFMA only the bytes are kept, as the IFMA ladder (which [`agree_prepared`] then runs) beats the
/// prepared Edwards multiplication by itself.
///
/// ```
/// use metaless_identity::X25519Secret;
/// use metaless_identity::x25519::PreparedPeer;
/// let alice = X25519Secret::from_bytes([1u8; 32]);
/// let bob = X25519Secret::from_bytes([2u8; 32]);
/// let peer = PreparedPeer::new(bob.public_key());
/// assert_eq!(alice.diffie_hellman_prepared(&peer).unwrap(), alice.diffie_hellman(&bob.public_key()).unwrap());
/// assert_eq!(peer.public_key(), bob.public_key());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PreparedPeer {
    public: [u8; 32],
    edwards: Option<EdwardsPoint>,
}

impl PreparedPeer {
    /// Prepares `public` (any 32 bytes: twist points fall back to the ladder).
    pub fn new(public: [u8; 32]) -> Self {
        let edwards = if dispatch::has_ifma() {
            None
        } else {
            MontgomeryPoint(public).to_edwards(0)
        };
        Self { public, edwards }
    }

    /// The public key as given.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }
}

impl core::fmt::Debug for PreparedPeer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("PreparedPeer")
            .field(&crate::hex::encode(&self.public))
            .finish()
    }
}

/// The one X25519 agreement of the workspace: `X25519(secret, peer)` wiped on drop, with the
/// all-zero result (a small-order peer) refused as libsodium's `crypto_scalarmult` refuses it.
/// Onion layers, replies and sealed boxes all agree through this (via [`crate::X25519Secret`]).
///
/// ```
/// use metaless_identity::{IdentityError, x25519};
/// let shared = x25519::agree(&[7u8; 32], &x25519::scalarmult_base(&[9u8; 32])).unwrap();
/// assert_eq!(*shared, x25519::scalarmult(&[9u8; 32], &x25519::scalarmult_base(&[7u8; 32])));
/// assert_eq!(x25519::agree(&[7u8; 32], &[0u8; 32]).err(), Some(IdentityError::InvalidPoint));
/// ```
pub fn agree(secret: &[u8; 32], peer: &[u8; 32]) -> Result<SharedSecret, IdentityError> {
    refuse_zero(Zeroizing::new(scalarmult(secret, peer)))
}

/// [`agree`] with a peer prepared beforehand.
///
/// ```
/// use metaless_identity::x25519::{self, PreparedPeer};
/// let peer = x25519::scalarmult_base(&[9u8; 32]);
/// assert_eq!(x25519::agree_prepared(&[7u8; 32], &PreparedPeer::new(peer)).unwrap(), x25519::agree(&[7u8; 32], &peer).unwrap());
/// ```
pub fn agree_prepared(
    secret: &[u8; 32],
    peer: &PreparedPeer,
) -> Result<SharedSecret, IdentityError> {
    let raw = match (dispatch::ladder_ifma(secret, &peer.public), peer.edwards) {
        (Some(out), _) => out,
        (None, Some(point)) => point.mul_clamped(*secret).to_montgomery().to_bytes(),
        (None, None) => scalarmult_ladder(secret, &peer.public),
    };
    refuse_zero(Zeroizing::new(raw))
}

fn refuse_zero(shared: SharedSecret) -> Result<SharedSecret, IdentityError> {
    if bool::from(shared.ct_eq(&[0u8; 32])) {
        return Err(IdentityError::InvalidPoint);
    }
    Ok(shared)
}

/// `X25519(secret, peer)`: the AVX-512 IFMA ladder ([`scalarmult_ifma`]) when the CPU has it,
/// else [`scalarmult_edwards`]. Output identical to libsodium's
/// `crypto_scalarmult` (which additionally refuses an all-zero result; so does [`agree`], the form every protocol
/// crate uses).
///
/// ```
/// // RFC 7748 §5.2, first test vector.
/// let k = metaless_identity::hex::decode_array("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4").unwrap();
/// let u = metaless_identity::hex::decode_array("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c").unwrap();
/// let out = metaless_identity::x25519::scalarmult(&k, &u);
/// assert_eq!(metaless_identity::hex::encode(&out), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
/// ```
pub fn scalarmult(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    match dispatch::ladder_ifma(secret, peer) {
        Some(out) => out,
        None => scalarmult_edwards(secret, peer),
    }
}

/// `X25519(secret, peer)` by the AVX-512 IFMA Montgomery ladder (`x25519/ifma.rs`), or `None`
/// when this CPU lacks AVX-512F/VL/IFMA. What [`scalarmult`] runs when it returns `Some`;
/// public so that tests and benches can run it explicitly.
///
/// ```
/// use metaless_identity::x25519;
/// let peer = x25519::scalarmult_base(&[9u8; 32]);
/// if let Some(out) = x25519::scalarmult_ifma(&[7u8; 32], &peer) {
///     assert_eq!(out, x25519::scalarmult_ladder(&[7u8; 32], &peer));
/// }
/// ```
pub fn scalarmult_ifma(secret: &[u8; 32], peer: &[u8; 32]) -> Option<[u8; 32]> {
    dispatch::ladder_ifma(secret, peer)
}

/// Whether the curve point with u-coordinate `u` is in the prime-order subgroup (`[ℓ]P = O`),
/// by the AVX-512 IFMA ladder; `None` when this CPU lacks AVX-512F/VL/IFMA, so the caller checks
/// another way (on the Edwards point, say). The sign lost in `u` does not matter: `±P` are in
/// the subgroup together.
///
/// The ladder multiplies by ℓ itself (public and unclamped, 253 bits) and tests the projective
/// result's `Z = 0`, the point at infinity. The encoded `u` of `[ℓ]P` would not do: for
/// `P = Q + T₂` (`Q` in the subgroup, `T₂ = (0, 0)` of order 2) `[ℓ]P = T₂` encodes as 0 too.
///
/// `u` must belong to a point **on the curve** (not the twist) with `u ≠ 0`, such as the
/// Montgomery form of a decompressed Edwards point that passed the small-order check:
/// * `u = 0` is `(0, 0)`, but it is also what dalek's `to_montgomery` gives for the identity,
///   and the x-only ladder's differential addition by a difference with `u = 0` degenerates to
///   `(0 : 0)`. So 0 (and its non-canonical form p) is answered `Some(false)`, which is right
///   for `(0, 0)` and wrong for the identity.
/// * a twist `u` has no point on the curve to ask about; the answer is `Some(false)` (the twist's
///   order, 4 times a prime other than ℓ, is prime to ℓ), which says nothing about the curve.
///
/// As in [`scalarmult`], the top bit is ignored and non-canonical values are reduced. The ladder
/// is the constant-time one, though `u` is public here.
///
/// ```
/// use curve25519_dalek::constants::EIGHT_TORSION;
/// use curve25519_dalek::{EdwardsPoint, Scalar};
/// use metaless_identity::x25519;
/// let p = EdwardsPoint::mul_base(&Scalar::from(7u8));
/// if let Some(inside) = x25519::in_prime_subgroup(&p.to_montgomery().to_bytes()) {
///     assert!(inside);
///     // P + T₂: [ℓ](P + T₂) = T₂ = (0, 0), not the point at infinity.
///     let mixed = (p + EIGHT_TORSION[4]).to_montgomery().to_bytes();
///     assert_eq!(x25519::in_prime_subgroup(&mixed), Some(false));
/// }
/// ```
pub fn in_prime_subgroup(u: &[u8; 32]) -> Option<bool> {
    if !dispatch::has_ifma() {
        return None;
    }
    let mut low = *u;
    low[31] &= 0x7f;
    if low == [0u8; 32] || low == FIELD_PRIME {
        return Some(false);
    }
    dispatch::order_ladder_ifma(u)
}

/// p = 2^255 − 19, little-endian: the one non-canonical encoding of 0 below 2^255.
const FIELD_PRIME: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// `X25519(secret, peer)` without IFMA: Edwards-form multiplication (dalek's, AVX2 when the CPU
/// has it) when `peer` is on the curve, the Montgomery ladder when it is on the twist. What
/// [`scalarmult`] runs on CPUs without AVX-512 IFMA.
///
/// ```
/// use metaless_identity::x25519;
/// let peer = x25519::scalarmult_base(&[9u8; 32]);
/// assert_eq!(x25519::scalarmult_edwards(&[7u8; 32], &peer), x25519::scalarmult_ladder(&[7u8; 32], &peer));
/// ```
pub fn scalarmult_edwards(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    let u = MontgomeryPoint(*peer);
    match u.to_edwards(0) {
        Some(point) => point.mul_clamped(*secret).to_montgomery().to_bytes(),
        None => u.mul_clamped(*secret).to_bytes(),
    }
}

/// `X25519(secret, peer)` by the Montgomery ladder alone: the reference [`scalarmult`] is
/// checked against.
///
/// ```
/// use metaless_identity::x25519;
/// let peer = [0x55u8; 32];
/// assert_eq!(x25519::scalarmult_ladder(&[1u8; 32], &peer), x25519::scalarmult(&[1u8; 32], &peer));
/// ```
pub fn scalarmult_ladder(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    MontgomeryPoint(*peer).mul_clamped(*secret).to_bytes()
}

/// `[k]B` compressed: the IFMA table walk where it runs, curve25519-dalek's basepoint table
/// elsewhere (the same bytes either way).
pub(crate) fn mul_base_compressed(k: &curve25519_dalek::Scalar) -> [u8; 32] {
    ed25519_mul_base(k.as_bytes())
        .unwrap_or_else(|| EdwardsPoint::mul_base(k).compress().to_bytes())
}

/// Whether [`ed25519_mul_base`] answers on this build and CPU.
#[cfg(test)]
pub(crate) fn ifma_available() -> bool {
    cfg!(feature = "std") && dispatch::has_ifma()
}

/// Ed25519's `[k]B` compressed, by the AVX-512 IFMA table walk, for `k` below 2^255 (a
/// reduced scalar); `None` without IFMA or without `std` (the table is built once and kept).
/// `Keypair::sign` takes it for the nonce's point.
pub(crate) fn ed25519_mul_base(k: &[u8; 32]) -> Option<[u8; 32]> {
    #[cfg(feature = "std")]
    {
        dispatch::mul_base_ifma(k)
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = k;
        None
    }
}

/// `X25519(secret, 9)`, the public key, by the precomputed Edwards basepoint table.
///
/// ```
/// use metaless_identity::X25519Secret;
/// let secret = [42u8; 32];
/// assert_eq!(metaless_identity::x25519::scalarmult_base(&secret), X25519Secret::from_bytes(secret).public_key());
/// ```
pub fn scalarmult_base(secret: &[u8; 32]) -> [u8; 32] {
    EdwardsPoint::mul_base_clamped(*secret)
        .to_montgomery()
        .to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::IsIdentity;
    use proptest::prelude::*;

    fn arr(text: &str) -> [u8; 32] {
        hex::decode_array(text).unwrap()
    }

    /// `[k]B` by the IFMA table walk equals curve25519-dalek's for edge scalars (0, 1, small,
    /// ℓ − 1, ℓ, all-`0x88` bytes but the top, all-`0x77`, 2^255 − 1) and random ones; checked only
    /// where the CPU has IFMA (elsewhere `ed25519_mul_base` is `None`, which is asserted).
    #[test]
    fn ifma_mul_base_matches_dalek() {
        let dalek = |k: &[u8; 32]| {
            EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(*k))
                .compress()
                .to_bytes()
        };
        let Some(_) = ed25519_mul_base(&[1; 32]) else {
            assert!(!dispatch::has_ifma() || cfg!(not(feature = "std")));
            return;
        };
        let ell = Scalar::ZERO - Scalar::ONE;
        let mut edges = alloc::vec![
            [0u8; 32],
            [0x88; 32],
            [0x77; 32],
            [0xff; 32],
            *ell.as_bytes(),
        ];
        edges[1][31] = 0x78; // below 2^255, the walk's domain
        edges[3][31] = 0x7f;
        for small in [1u8, 2, 8, 9, 15, 16, 17, 255] {
            let mut k = [0u8; 32];
            k[0] = small;
            edges.push(k);
        }
        let mut ell_plus = *ell.as_bytes();
        ell_plus[0] += 1; // ℓ itself: the identity
        edges.push(ell_plus);
        for k in &edges {
            assert_eq!(
                ed25519_mul_base(k).unwrap(),
                dalek(k),
                "k = {}",
                hex::encode(k)
            );
        }
        assert_eq!(ed25519_mul_base(&ell_plus).unwrap(), dalek(&[0; 32]));
    }

    proptest! {
        #[test]
        fn ifma_mul_base_matches_dalek_on_random_scalars(mut k in any::<[u8; 32]>()) {
            k[31] &= 0x7f;
            if let Some(ours) = ed25519_mul_base(&k) {
                let theirs = EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(k)).compress();
                prop_assert_eq!(ours, theirs.to_bytes());
            }
        }
    }

    #[test]
    fn small_order_agreements_are_refused() {
        let mut one = [0u8; 32];
        one[0] = 1;
        for peer in [[0u8; 32], one] {
            assert_eq!(
                agree(&[3u8; 32], &peer).err(),
                Some(IdentityError::InvalidPoint)
            );
            assert_eq!(
                agree_prepared(&[3u8; 32], &PreparedPeer::new(peer)).err(),
                Some(IdentityError::InvalidPoint)
            );
        }
    }

    /// The IFMA ladder on this CPU, or `None` after saying the test is skipped.
    fn ifma(secret: &[u8; 32], peer: &[u8; 32]) -> Option<[u8; 32]> {
        let out = scalarmult_ifma(secret, peer);
        if out.is_none() {
            std::eprintln!("skipped: no IFMA");
        }
        out
    }

    #[test]
    fn rfc7748_vectors_every_path() {
        let cases = [
            (
                "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
                "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
            ),
            (
                "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
                "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
            ),
        ];
        for (k, u, out) in cases {
            assert_eq!(scalarmult(&arr(k), &arr(u)), arr(out));
            assert_eq!(scalarmult_edwards(&arr(k), &arr(u)), arr(out));
            assert_eq!(scalarmult_ladder(&arr(k), &arr(u)), arr(out));
            if let Some(got) = ifma(&arr(k), &arr(u)) {
                assert_eq!(got, arr(out));
            }
        }
    }

    /// RFC 7748 §5.2: k = u = 9; each round k, u = X25519(k, u), k. Returns k after 1 round and
    /// after `rounds`.
    fn iterate(f: impl Fn(&[u8; 32], &[u8; 32]) -> [u8; 32], rounds: u32) -> ([u8; 32], [u8; 32]) {
        let mut k = [0u8; 32];
        k[0] = 9;
        let mut u = k;
        let mut first = k;
        for round in 1..=rounds {
            let out = f(&k, &u);
            u = k;
            k = out;
            if round == 1 {
                first = k;
            }
        }
        (first, k)
    }

    const AFTER_1: &str = "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079";
    const AFTER_1000: &str = "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51";

    #[test]
    fn rfc7748_iterated_vectors_ifma() {
        if ifma(&[0u8; 32], &[0u8; 32]).is_none() {
            return;
        }
        let (first, last) = iterate(|k, u| scalarmult_ifma(k, u).unwrap_or_default(), 1000);
        assert_eq!(first, arr(AFTER_1));
        assert_eq!(last, arr(AFTER_1000));
    }

    #[test]
    fn rfc7748_iterated_vectors_dispatched() {
        let (first, last) = iterate(scalarmult, 1000);
        assert_eq!(first, arr(AFTER_1));
        assert_eq!(last, arr(AFTER_1000));
    }

    #[test]
    #[ignore = "a million ladders: minutes in a debug build"]
    fn rfc7748_iterated_million() {
        let (_, last) = iterate(scalarmult, 1_000_000);
        assert_eq!(
            last,
            arr("7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424")
        );
    }

    #[test]
    fn rfc7748_diffie_hellman_ifma() {
        // RFC 7748 §6.1.
        let alice = arr("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let alice_public = arr("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let bob = arr("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        let bob_public = arr("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        let shared = arr("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        let mut nine = [0u8; 32];
        nine[0] = 9;
        assert_eq!(*agree(&alice, &bob_public).unwrap(), shared);
        assert_eq!(*agree(&bob, &alice_public).unwrap(), shared);
        let Some(a) = ifma(&alice, &nine) else {
            return;
        };
        assert_eq!(a, alice_public);
        assert_eq!(ifma(&bob, &nine), Some(bob_public));
        assert_eq!(ifma(&alice, &bob_public), Some(shared));
        assert_eq!(ifma(&bob, &alice_public), Some(shared));
        // A wrong key gives another secret.
        assert_ne!(ifma(&bob, &bob_public), Some(shared));
    }

    /// The first entries of libsodium's small-order blocklist: u = 0, 1, the two order-8 points, p − 1.
    const SMALL_ORDER: [&str; 5] = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];

    #[test]
    fn exceptional_inputs_match_the_ladder() {
        let mut peers: alloc::vec::Vec<[u8; 32]> = alloc::vec::Vec::new();
        // Small-order points (the libsodium blocklist) and u = 0, 1, p-1 (= -1), p, p+1, 2^255-1,
        // and with the top bit set.
        for text in SMALL_ORDER.into_iter().chain([
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
            "4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
            "d9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "0100000000000000000000000000000000000000000000000000000000000080",
        ]) {
            peers.push(arr(text));
        }
        let mut no_ifma = false;
        for peer in &peers {
            for secret in [[0u8; 32], [0xffu8; 32], [0x5au8; 32]] {
                let want = scalarmult_ladder(&secret, peer);
                assert_eq!(
                    scalarmult(&secret, peer),
                    want,
                    "peer {}",
                    hex::encode(peer)
                );
                assert_eq!(
                    scalarmult_edwards(&secret, peer),
                    want,
                    "peer {}",
                    hex::encode(peer)
                );
                match scalarmult_ifma(&secret, peer) {
                    Some(got) => assert_eq!(got, want, "IFMA, peer {}", hex::encode(peer)),
                    None => no_ifma = true,
                }
                if want == [0u8; 32] {
                    assert_eq!(
                        agree(&secret, peer).err(),
                        Some(IdentityError::InvalidPoint)
                    );
                }
            }
        }
        if no_ifma {
            std::eprintln!("skipped: no IFMA");
        }
    }

    #[test]
    fn small_order_points_give_zero_on_every_path() {
        for text in SMALL_ORDER {
            let peer = arr(text);
            for secret in [[0u8; 32], [0xffu8; 32], [0x11u8; 32]] {
                assert_eq!(scalarmult(&secret, &peer), [0u8; 32]);
                assert_eq!(
                    agree(&secret, &peer).err(),
                    Some(IdentityError::InvalidPoint)
                );
                if let Some(got) = ifma(&secret, &peer) {
                    assert_eq!(got, [0u8; 32]);
                }
            }
        }
    }

    /// `[k]B` for a scalar from 32 bytes.
    fn subgroup_point(bytes: [u8; 32]) -> EdwardsPoint {
        EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(bytes))
    }

    /// [`in_prime_subgroup`] of an Edwards point's u, or `None` after saying the test is skipped.
    fn subgroup(point: &EdwardsPoint) -> Option<bool> {
        let out = in_prime_subgroup(&point.to_montgomery().to_bytes());
        if out.is_none() {
            std::eprintln!("skipped: no IFMA");
        }
        out
    }

    #[test]
    fn subgroup_check_fixed_points() {
        let Some(base) = subgroup(&ED25519_BASEPOINT_POINT) else {
            return;
        };
        assert!(base);
        // Honest X25519 keys are in the subgroup (clamped scalars are multiples of 8).
        assert_eq!(
            in_prime_subgroup(&scalarmult_base(&[0x17u8; 32])),
            Some(true)
        );
        // Every nonzero torsion point alone, and on the basepoint: T₂ = EIGHT_TORSION[4] (the
        // X = 0 trap), order 4 at 2 and 6, order 8 at the odd indices.
        for torsion in &EIGHT_TORSION[1..] {
            assert_eq!(subgroup(torsion), Some(false));
            assert_eq!(subgroup(&(ED25519_BASEPOINT_POINT + torsion)), Some(false));
        }
        // u = 0 and its non-canonical form p; the top bit is ignored.
        assert_eq!(in_prime_subgroup(&[0u8; 32]), Some(false));
        assert_eq!(in_prime_subgroup(&FIELD_PRIME), Some(false));
        let mut top = ED25519_BASEPOINT_POINT.to_montgomery().to_bytes();
        top[31] |= 0x80;
        assert_eq!(in_prime_subgroup(&top), Some(true));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn subgroup_points_are_in_the_subgroup(k in any::<[u8; 32]>()) {
            let point = subgroup_point(k);
            prop_assume!(!point.is_identity());
            if let Some(inside) = subgroup(&point) {
                prop_assert!(inside);
            }
        }

        #[test]
        fn every_torsion_component_is_refused(k in any::<[u8; 32]>()) {
            let point = subgroup_point(k);
            prop_assume!(!point.is_identity());
            for (index, torsion) in EIGHT_TORSION.iter().enumerate().skip(1) {
                if let Some(inside) = subgroup(&(point + torsion)) {
                    prop_assert!(!inside, "torsion index {}", index);
                }
            }
        }

        #[test]
        fn subgroup_check_agrees_with_dalek(k in any::<[u8; 32]>(), index in 0usize..8) {
            let point = subgroup_point(k) + EIGHT_TORSION[index];
            prop_assume!(!point.is_small_order());
            if let Some(inside) = subgroup(&point) {
                prop_assert_eq!(inside, point.is_torsion_free());
            }
        }

        #[test]
        fn random_strings_match_the_ladder(secret in any::<[u8; 32]>(), peer in any::<[u8; 32]>()) {
            prop_assert_eq!(scalarmult(&secret, &peer), scalarmult_ladder(&secret, &peer));
            prop_assert_eq!(scalarmult_edwards(&secret, &peer), scalarmult_ladder(&secret, &peer));
        }

        #[test]
        fn ifma_matches_dalek_on_random_strings(secret in any::<[u8; 32]>(), peer in any::<[u8; 32]>()) {
            // Any 32 bytes: half are twist points, some have the top bit set or are ≥ p.
            if let Some(got) = ifma(&secret, &peer) {
                prop_assert_eq!(got, MontgomeryPoint(peer).mul_clamped(secret).to_bytes());
            }
        }

        #[test]
        fn ifma_matches_dalek_on_curve_points(secret in any::<[u8; 32]>(), other in any::<[u8; 32]>()) {
            let peer = scalarmult_base(&other);
            if let Some(got) = ifma(&secret, &peer) {
                prop_assert_eq!(got, MontgomeryPoint(peer).mul_clamped(secret).to_bytes());
            }
        }

        #[test]
        fn ifma_matches_dalek_on_twist_points(secret in any::<[u8; 32]>(), peer in any::<[u8; 32]>()) {
            prop_assume!(MontgomeryPoint(peer).to_edwards(0).is_none());
            if let Some(got) = ifma(&secret, &peer) {
                prop_assert_eq!(got, MontgomeryPoint(peer).mul_clamped(secret).to_bytes());
            }
        }

        #[test]
        fn ifma_matches_dalek_near_p(secret in any::<[u8; 32]>(), low in 0u8..64, top in any::<bool>()) {
            // u in [2^255 − 64, 2^255): p − 1, p, p + 1, … (non-canonical), top bit optionally set.
            let mut peer = [0xffu8; 32];
            peer[0] = 0xc0 | low;
            peer[31] = if top { 0xff } else { 0x7f };
            if let Some(got) = ifma(&secret, &peer) {
                prop_assert_eq!(got, MontgomeryPoint(peer).mul_clamped(secret).to_bytes());
            }
        }

        #[test]
        fn ifma_matches_dalek_with_extreme_scalars(peer in any::<[u8; 32]>(), all_ones in any::<bool>()) {
            // Every scalar bit set, or none (clamping makes them 2^255 − 8 and 2^254).
            let secret = if all_ones { [0xffu8; 32] } else { [0u8; 32] };
            if let Some(got) = ifma(&secret, &peer) {
                prop_assert_eq!(got, MontgomeryPoint(peer).mul_clamped(secret).to_bytes());
            }
        }

        #[test]
        fn curve_points_match_the_ladder(secret in any::<[u8; 32]>(), other in any::<[u8; 32]>()) {
            // Honest public keys are always on the curve, so the Edwards branch runs.
            let peer = scalarmult_base(&other);
            prop_assert!(MontgomeryPoint(peer).to_edwards(0).is_some());
            prop_assert_eq!(scalarmult(&secret, &peer), scalarmult_ladder(&secret, &peer));
            prop_assert_eq!(scalarmult_edwards(&secret, &peer), scalarmult_ladder(&secret, &peer));
        }

        #[test]
        fn twist_points_match_the_ladder(secret in any::<[u8; 32]>(), peer in any::<[u8; 32]>()) {
            prop_assume!(MontgomeryPoint(peer).to_edwards(0).is_none());
            prop_assert_eq!(scalarmult(&secret, &peer), scalarmult_ladder(&secret, &peer));
            prop_assert_eq!(scalarmult_edwards(&secret, &peer), scalarmult_ladder(&secret, &peer));
        }
    }
}
