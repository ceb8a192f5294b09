//! Sign-then-seal and open-then-verify: libsession-util's `encrypt_for_recipient`,
//! `encrypt_for_recipient_deterministic` and `decrypt_incoming`, byte for byte.
//!
//! Sender (Ed25519 `a`, public `A`) to recipient X25519 public `Y`, message `M`:
//!
//! 1. `SIG = Ed25519-sign(a, M ‖ A ‖ Y)`
//! 2. `inner = M ‖ A ‖ SIG`
//! 3. sealed box: ephemeral X25519 `(e, E)`; `k = HSalsa20(X25519(e, Y), 0¹⁶)`;
//!    `nonce = BLAKE2b-192(E ‖ Y)`; output `E ‖ tag ‖ XSalsa20(k, nonce) ⊕ inner` where `tag` is
//!    the Poly1305 tag (libsodium's `crypto_box_seal`).
//!
//! The box is built here from X25519, HSalsa20 and XSalsa20-Poly1305 rather than through a
//! `crypto_box` type, so opening uses the account's stored X25519 public key for the nonce
//! instead of recomputing it from the secret on every message, and so every byte lands in one
//! buffer that is signed and encrypted in place.

use alloc::vec::Vec;

use blake2::digest::consts::{U24, U32};
use blake2::digest::{Digest, Mac};
use blake2::{Blake2b, Blake2bMac};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use ed25519_dalek::{Signature, VerifyingKey};
use metaless_cipher::{salsa20, secretbox};
use metaless_identity::x25519::{self, PreparedPeer, SharedSecret};
use metaless_identity::{Keypair, SessionId, SessionIdPrefix, X25519Secret};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha512;
use zeroize::{Zeroize, Zeroizing};

use crate::EnvelopeError;
use crate::limits::{MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN};

/// Bytes the sealed box adds: ephemeral public key (32) and Poly1305 tag (16).
pub const SEAL_OVERHEAD: usize = 48;
/// Bytes the signature adds inside the box: sender's Ed25519 public key (32) and signature (64).
pub const SIGN_OVERHEAD: usize = 96;
/// Total ciphertext overhead over the plaintext: 144 bytes.
///
/// ```
/// assert_eq!(metaless_envelope::OVERHEAD, 144);
/// ```
pub const OVERHEAD: usize = SEAL_OVERHEAD + SIGN_OVERHEAD;

/// Key of the keyed BLAKE2b that derives the deterministic variant's ephemeral seed.
const DETERMINISTIC_HASH_KEY: &[u8] = b"SessionBoxEphemeralHashKey";

/// A verified, decrypted message: what [`decrypt_incoming`] returns.
///
/// ```
/// # use metaless_envelope::{decrypt_incoming, encrypt_for_recipient};
/// # use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let sealed = encrypt_for_recipient(&alice, &bob.session_id(), b"hi", &mut rand_core::OsRng).unwrap();
/// let opened = decrypt_incoming(&bob, &sealed).unwrap();
/// assert_eq!(opened.sender, alice.session_id());
/// assert_eq!(opened.sender_ed25519, alice.ed25519_public());
/// assert_eq!(opened.plaintext, b"hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The sender's Session ID (`05` ‖ X25519 form of the signing key).
    pub sender: SessionId,
    /// The Ed25519 key the signature verified under.
    pub sender_ed25519: [u8; 32],
    /// The signed plaintext, exactly as sealed.
    pub plaintext: Vec<u8>,
}

/// Signs `message` for `to` and seals it to `to`'s X25519 key with a fresh ephemeral key.
///
/// ```
/// # use metaless_envelope::{encrypt_for_recipient, EnvelopeError, OVERHEAD};
/// # use metaless_identity::{Keypair, Seed, SessionId};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let sealed = encrypt_for_recipient(&alice, &bob.session_id(), b"hello", &mut rand_core::OsRng).unwrap();
/// assert_eq!(sealed.len(), 5 + OVERHEAD);
/// let group: SessionId = format!("03{}", metaless_identity::hex::encode(&alice.ed25519_public())).parse().unwrap();
/// assert_eq!(encrypt_for_recipient(&alice, &group, b"x", &mut rand_core::OsRng), Err(EnvelopeError::InvalidRecipient));
/// ```
pub fn encrypt_for_recipient(
    sender: &Keypair,
    to: &SessionId,
    message: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, EnvelopeError> {
    let mut ephemeral = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(ephemeral.as_mut());
    let ephemeral = X25519Secret::from_bytes(*ephemeral);
    seal_to(sender, recipient_key(to)?, message, ephemeral, Vec::new())
}

/// The deterministic variant: the ephemeral key is derived from the sender's seed, the
/// recipient and the message, so the same inputs always give the same bytes (libsession-util's
/// `encrypt_for_recipient_deterministic`; useful for tests and for idempotent re-sends).
///
/// Ephemeral seed = keyed BLAKE2b-256 (key `"SessionBoxEphemeralHashKey"`) of
/// `sender seed ‖ Y ‖ M`; the ephemeral secret is the first half of SHA-512 of that seed, as
/// libsodium's `crypto_box_seed_keypair` does.
///
/// ```
/// # use metaless_envelope::encrypt_for_recipient_deterministic;
/// # use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let one = encrypt_for_recipient_deterministic(&alice, &bob.session_id(), b"hi").unwrap();
/// let two = encrypt_for_recipient_deterministic(&alice, &bob.session_id(), b"hi").unwrap();
/// assert_eq!(one, two);
/// ```
pub fn encrypt_for_recipient_deterministic(
    sender: &Keypair,
    to: &SessionId,
    message: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let recipient = recipient_key(to)?;
    check_plaintext_len(message.len())?;
    let mut hash = <Blake2bMac<U32> as Mac>::new_from_slice(DETERMINISTIC_HASH_KEY)
        .map_err(|_| EnvelopeError::InvalidRecipient)?;
    let mut seed = Zeroizing::new(sender.signing_key().to_bytes());
    hash.update(seed.as_ref());
    seed.zeroize();
    hash.update(recipient);
    hash.update(message);
    let mut box_seed: [u8; 32] = hash.finalize().into_bytes().into();
    let mut expanded: [u8; 64] = Sha512::digest(box_seed).into();
    box_seed.zeroize();
    let mut secret = [0u8; 32];
    secret.copy_from_slice(&expanded[..32]);
    expanded.zeroize();
    let ephemeral = X25519Secret::from_bytes(secret);
    secret.zeroize();
    seal_to(sender, recipient, message, ephemeral, Vec::new())
}

/// A recipient's X25519 key prepared once (a [`PreparedPeer`]), for a sender that seals to the
/// same contact many times. Without AVX-512 IFMA its Edwards form is worked out here, so
/// [`encrypt_for_prepared`] skips the key's decompression (an inversion and a square root) that
/// every [`encrypt_for_recipient`] pays; with IFMA only the bytes are kept, as the IFMA ladder
/// needs no conversion. The output is byte for byte what [`encrypt_for_recipient`] gives for
/// the same ephemeral key.
///
/// ```
/// use metaless_envelope::{decrypt_incoming, encrypt_for_prepared, EnvelopeError, PreparedRecipient};
/// use metaless_identity::{Keypair, Seed, SessionId};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let to_bob = PreparedRecipient::new(&bob.session_id())?;
/// assert_eq!(to_bob.session_id(), bob.session_id());
/// for text in [&b"one"[..], b"two"] {
///     let sealed = encrypt_for_prepared(&alice, &to_bob, text, &mut rand_core::OsRng)?;
///     assert_eq!(decrypt_incoming(&bob, &sealed)?.plaintext, text);
/// }
/// let group: SessionId = format!("03{}", metaless_identity::hex::encode(&alice.ed25519_public())).parse().unwrap();
/// assert_eq!(PreparedRecipient::new(&group), Err(EnvelopeError::InvalidRecipient));
/// # Ok::<(), EnvelopeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreparedRecipient {
    peer: PreparedPeer,
}

impl PreparedRecipient {
    /// Prepares a standard (`05`) account's key; any other Session ID is refused as
    /// [`encrypt_for_recipient`] refuses it.
    pub fn new(to: &SessionId) -> Result<Self, EnvelopeError> {
        Ok(Self {
            peer: PreparedPeer::new(*recipient_key(to)?),
        })
    }

    /// The Session ID this recipient was prepared from.
    pub fn session_id(&self) -> SessionId {
        SessionId::standard(self.peer.public_key())
    }
}

/// [`encrypt_for_recipient`] to a [`PreparedRecipient`]: the same bytes, without converting
/// the recipient's key again.
///
/// ```
/// # use metaless_envelope::{decrypt_incoming, encrypt_for_prepared, PreparedRecipient};
/// # use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let to_bob = PreparedRecipient::new(&bob.session_id()).unwrap();
/// let sealed = encrypt_for_prepared(&alice, &to_bob, b"hi", &mut rand_core::OsRng).unwrap();
/// assert_eq!(decrypt_incoming(&bob, &sealed).unwrap().sender, alice.session_id());
/// ```
pub fn encrypt_for_prepared(
    sender: &Keypair,
    to: &PreparedRecipient,
    message: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, EnvelopeError> {
    check_plaintext_len(message.len())?;
    let mut ephemeral = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(ephemeral.as_mut());
    let ephemeral = X25519Secret::from_bytes(*ephemeral);
    let recipient = to.peer.public_key();
    seal_core(
        sender,
        &recipient,
        Peer::Prepared(&to.peer),
        ephemeral,
        Vec::new(),
        message.len(),
        |buf| {
            buf.extend_from_slice(message);
            Ok(())
        },
    )
}

/// How the recipient's key enters the X25519 agreement.
#[derive(Clone, Copy)]
enum Peer<'a> {
    /// The 32 bytes as given.
    Raw(&'a [u8; 32]),
    /// Prepared beforehand (the Edwards form on CPUs without IFMA).
    Prepared(&'a PreparedPeer),
}

/// The recipient's X25519 key, refusing anything but a standard account.
fn recipient_key(to: &SessionId) -> Result<&[u8; 32], EnvelopeError> {
    if to.prefix() != SessionIdPrefix::Standard {
        return Err(EnvelopeError::InvalidRecipient);
    }
    Ok(to.key())
}

fn check_plaintext_len(len: usize) -> Result<(), EnvelopeError> {
    if len > MAX_PLAINTEXT_LEN {
        return Err(EnvelopeError::TooLarge {
            what: "plaintext",
            len,
            max: MAX_PLAINTEXT_LEN,
        });
    }
    Ok(())
}

/// Seals `message` into `out` (appending after whatever `out` already holds) and returns `out`.
pub(crate) fn seal_to(
    sender: &Keypair,
    recipient: &[u8; 32],
    message: &[u8],
    ephemeral: X25519Secret,
    out: Vec<u8>,
) -> Result<Vec<u8>, EnvelopeError> {
    check_plaintext_len(message.len())?;
    seal_with(sender, recipient, ephemeral, out, message.len(), |buf| {
        buf.extend_from_slice(message);
        Ok(())
    })
}

/// The one sealing routine: `write_message` appends `message_len` plaintext bytes to the
/// buffer, which then receives `A ‖ Y`, is signed, has `Y` replaced by the signature, and is
/// encrypted in place behind the ephemeral key and tag.
pub(crate) fn seal_with(
    sender: &Keypair,
    recipient: &[u8; 32],
    ephemeral: X25519Secret,
    out: Vec<u8>,
    message_len: usize,
    write_message: impl FnOnce(&mut Vec<u8>) -> Result<(), EnvelopeError>,
) -> Result<Vec<u8>, EnvelopeError> {
    seal_core(
        sender,
        recipient,
        Peer::Raw(recipient),
        ephemeral,
        out,
        message_len,
        write_message,
    )
}

/// [`seal_with`] with the agreement's form of the recipient key chosen by the caller.
fn seal_core(
    sender: &Keypair,
    recipient: &[u8; 32],
    peer: Peer<'_>,
    ephemeral: X25519Secret,
    mut out: Vec<u8>,
    message_len: usize,
    write_message: impl FnOnce(&mut Vec<u8>) -> Result<(), EnvelopeError>,
) -> Result<Vec<u8>, EnvelopeError> {
    let ephemeral_public = ephemeral.public_key();
    let shared = match peer {
        Peer::Raw(key) => ephemeral.diffie_hellman(key),
        Peer::Prepared(prepared) => ephemeral.diffie_hellman_prepared(prepared),
    }
    .map_err(|_| EnvelopeError::InvalidRecipient)?;
    drop(ephemeral);
    let key = box_key(&shared);
    drop(shared);
    let nonce = box_nonce(&ephemeral_public, recipient);

    let start = out.len();
    out.reserve(SEAL_OVERHEAD + message_len + SIGN_OVERHEAD);
    out.extend_from_slice(&ephemeral_public);
    out.extend_from_slice(&[0u8; 16]); // tag, filled in after encryption
    let inner = start + SEAL_OVERHEAD;
    write_message(&mut out)?;
    out.extend_from_slice(&sender.ed25519_public());
    out.extend_from_slice(recipient);
    let signature = sender.sign(out.get(inner..).unwrap_or_default());
    out.truncate(out.len() - 32);
    out.extend_from_slice(&signature);

    let body = out.get_mut(inner..).unwrap_or_default();
    let tag = secretbox::seal_in_place_detached(&key, &nonce, body);
    if let Some(slot) = out.get_mut(start + 32..inner) {
        slot.copy_from_slice(&tag);
    }
    Ok(out)
}

/// Opens and verifies a sign-then-seal ciphertext addressed to `me`.
///
/// The signature is checked over the decrypted bytes exactly as received, followed by the
/// sender key and our own X25519 key; the sender's Session ID is derived from the key that
/// verified, never taken from anything unauthenticated.
///
/// ```
/// # use metaless_envelope::{decrypt_incoming, encrypt_for_recipient, EnvelopeError};
/// # use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let sealed = encrypt_for_recipient(&alice, &bob.session_id(), b"hi", &mut rand_core::OsRng).unwrap();
/// assert_eq!(decrypt_incoming(&alice, &sealed), Err(EnvelopeError::WrongRecipient));
/// assert_eq!(decrypt_incoming(&bob, &sealed[..100]), Err(EnvelopeError::CiphertextTooShort { len: 100 }));
/// ```
pub fn decrypt_incoming(me: &Keypair, ciphertext: &[u8]) -> Result<Decrypted, EnvelopeError> {
    open_and_verify(me, ciphertext, CheckedKey::check)
}

/// A sender key that passed libsodium's conversion checks ([`account_point`]), in the two
/// forms opening needs: the verifying key (point and canonical encoding) and the X25519 key
/// the Session ID is made of. Public facts only; what
/// [`SenderKeys`](crate::SenderKeys) keeps so a repeat sender skips the checks.
#[derive(Clone, Copy)]
pub(crate) struct CheckedKey {
    pub(crate) verifying: VerifyingKey,
    pub(crate) x25519: [u8; 32],
}

impl CheckedKey {
    /// Decompression, small-order and torsion checks, and both conversions: `None` for a key
    /// libsodium's `crypto_sign_ed25519_pk_to_curve25519` would refuse.
    pub(crate) fn check(key: &[u8; 32]) -> Option<Self> {
        let (point, x25519) = account_point(key)?;
        Some(Self {
            verifying: VerifyingKey::from(point),
            x25519,
        })
    }
}

/// [`decrypt_incoming`] with the sender key's checks supplied by `check_key` (computed, or
/// remembered by [`SenderKeys`](crate::SenderKeys)). The signature is verified every time.
pub(crate) fn open_and_verify(
    me: &Keypair,
    ciphertext: &[u8],
    mut check_key: impl FnMut(&[u8; 32]) -> Option<CheckedKey>,
) -> Result<Decrypted, EnvelopeError> {
    if ciphertext.len() > MAX_CIPHERTEXT_LEN {
        return Err(EnvelopeError::TooLarge {
            what: "ciphertext",
            len: ciphertext.len(),
            max: MAX_CIPHERTEXT_LEN,
        });
    }
    let (Some(ephemeral), Some(tag), Some(body)) = (
        ciphertext.get(..32),
        ciphertext.get(32..SEAL_OVERHEAD),
        ciphertext.get(SEAL_OVERHEAD..),
    ) else {
        return Err(EnvelopeError::CiphertextTooShort {
            len: ciphertext.len(),
        });
    };
    if body.len() < SIGN_OVERHEAD {
        return Err(EnvelopeError::CiphertextTooShort {
            len: ciphertext.len(),
        });
    }
    let mut ephemeral_public = [0u8; 32];
    ephemeral_public.copy_from_slice(ephemeral);
    let my_public = me.x25519_public();

    let shared = me
        .x25519_secret()
        .diffie_hellman(&ephemeral_public)
        .map_err(|_| EnvelopeError::WrongRecipient)?;
    let key = box_key(&shared);
    drop(shared);
    let nonce = box_nonce(&ephemeral_public, &my_public);
    let mut tag_bytes = [0u8; secretbox::TAG_LEN];
    tag_bytes.copy_from_slice(tag);
    // M ‖ A ‖ Y is 32 bytes shorter than M ‖ A ‖ SIG, so one allocation serves both.
    let mut buf = Vec::with_capacity(body.len());
    buf.extend_from_slice(body);
    secretbox::open_in_place_detached(&key, &nonce, &mut buf, &tag_bytes)
        .map_err(|_| EnvelopeError::WrongRecipient)?;

    let message_len = buf.len() - SIGN_OVERHEAD;
    let mut signature = [0u8; 64];
    let mut sender_ed25519 = [0u8; 32];
    if let (Some(sig), Some(key)) = (
        buf.get(message_len + 32..),
        buf.get(message_len..message_len + 32),
    ) {
        signature.copy_from_slice(sig);
        sender_ed25519.copy_from_slice(key);
    }
    let sender_key = check_key(&sender_ed25519);
    buf.truncate(message_len + 32);
    buf.extend_from_slice(&my_public);
    let verified = match &sender_key {
        Some(key) => key
            .verifying
            .verify_strict(&buf, &Signature::from_bytes(&signature))
            .is_ok(),
        None => false,
    };
    if !verified {
        // A key libsodium would refuse to convert can still sign validly; say which it was.
        let invalid_key =
            sender_key.is_none() && signature_verifies(&sender_ed25519, &buf, &signature);
        // Unauthenticated plaintext does not linger in freed memory.
        buf.zeroize();
        return Err(if invalid_key {
            EnvelopeError::InvalidSenderKey
        } else {
            EnvelopeError::BadSignature
        });
    }
    buf.truncate(message_len);
    let sender_x25519 = sender_key
        .map(|key| key.x25519)
        .ok_or(EnvelopeError::InvalidSenderKey)?;
    Ok(Decrypted {
        sender: SessionId::standard(sender_x25519),
        sender_ed25519,
        plaintext: buf,
    })
}

/// The point of an Ed25519 account key and its X25519 form, if libsodium's
/// `crypto_sign_ed25519_pk_to_curve25519` would accept the key: decodes, not of small order,
/// and in the prime-order subgroup.
fn account_point(key: &[u8; 32]) -> Option<(EdwardsPoint, [u8; 32])> {
    let point = CompressedEdwardsY(*key).decompress()?;
    if point.is_small_order() {
        return None;
    }
    // One conversion serves the subgroup check and the Session ID. Not small order, so u ≠ 0
    // on the curve, as the IFMA ladder by ℓ requires.
    let u = point.to_montgomery().to_bytes();
    let in_subgroup = match x25519::in_prime_subgroup(&u) {
        Some(inside) => inside,
        // [ℓ]P = O  ⇔  [ℓ−1]P = −P; variable time is fine for a public key and much cheaper
        // than the constant-time multiplication `is_torsion_free` does.
        None => (EdwardsPoint::vartime_double_scalar_mul_basepoint(
            &(-Scalar::ONE),
            &point,
            &Scalar::ZERO,
        ) + point)
            .is_identity(),
    };
    in_subgroup.then_some((point, u))
}

fn signature_verifies(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    metaless_identity::verify_ed25519(key, message, signature).is_ok()
}

/// `k = HSalsa20(X25519(…), 0¹⁶)`, libsodium's `crypto_box_beforenm` (the agreement itself
/// refuses an all-zero shared secret as libsodium does).
fn box_key(shared: &SharedSecret) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(salsa20::hsalsa20(shared, &[0u8; 16]))
}

/// The sealed-box nonce, `BLAKE2b-192(E ‖ Y)`.
fn box_nonce(ephemeral_public: &[u8; 32], recipient: &[u8; 32]) -> [u8; 24] {
    let mut hash = Blake2b::<U24>::new();
    hash.update(ephemeral_public);
    hash.update(recipient);
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use metaless_identity::Seed;

    fn keys(byte: u8) -> Keypair {
        Keypair::from_seed(&Seed::from_bytes([byte; 32]))
    }

    /// Seals an arbitrary inner plaintext to `recipient` exactly as `seal_to` would.
    fn seal_inner(recipient: &Keypair, inner: &[u8]) -> Vec<u8> {
        let ephemeral = X25519Secret::from_bytes([9u8; 32]);
        let public = ephemeral.public_key();
        let key = box_key(
            &ephemeral
                .diffie_hellman(&recipient.x25519_public())
                .unwrap(),
        );
        let nonce = box_nonce(&public, &recipient.x25519_public());
        let mut body = inner.to_vec();
        let tag = secretbox::seal_in_place_detached(&key, &nonce, &mut body);
        [&public[..], &tag[..], &body[..]].concat()
    }

    /// A fixed-seed RNG: the same ephemeral key for both seals.
    fn rng(seed: u8) -> impl RngCore + CryptoRng {
        struct Fixed(u8, u64);
        impl RngCore for Fixed {
            fn next_u32(&mut self) -> u32 {
                self.next_u64() as u32
            }
            fn next_u64(&mut self) -> u64 {
                let mut b = [0u8; 8];
                self.fill_bytes(&mut b);
                u64::from_le_bytes(b)
            }
            fn fill_bytes(&mut self, dest: &mut [u8]) {
                for byte in dest {
                    self.1 = self
                        .1
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    *byte = (self.1 >> 33) as u8 ^ self.0;
                }
            }
            fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
                self.fill_bytes(dest);
                Ok(())
            }
        }
        impl CryptoRng for Fixed {}
        Fixed(seed, u64::from(seed))
    }

    /// Item 2 of issue 18: sealing to a prepared recipient gives exactly the plain seal's bytes
    /// for the same ephemeral key, and different bytes for another ephemeral key.
    #[test]
    fn prepared_recipient_seals_the_same_bytes() {
        let alice = keys(1);
        for recipient in [keys(2), keys(3), keys(200)] {
            let prepared = PreparedRecipient::new(&recipient.session_id()).unwrap();
            assert_eq!(prepared.session_id(), recipient.session_id());
            for (seed, len) in [(1u8, 0usize), (2, 1), (3, 31), (4, 1024), (5, 5000)] {
                let message: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                let plain = encrypt_for_recipient(
                    &alice,
                    &recipient.session_id(),
                    &message,
                    &mut rng(seed),
                )
                .unwrap();
                let fast =
                    encrypt_for_prepared(&alice, &prepared, &message, &mut rng(seed)).unwrap();
                assert_eq!(plain, fast);
                let other =
                    encrypt_for_prepared(&alice, &prepared, &message, &mut rng(seed ^ 0x80))
                        .unwrap();
                assert_ne!(other, fast);
                assert_eq!(
                    decrypt_incoming(&recipient, &fast).unwrap().plaintext,
                    message
                );
            }
        }
        let too_long = alloc::vec![0u8; MAX_PLAINTEXT_LEN + 1];
        let prepared = PreparedRecipient::new(&keys(2).session_id()).unwrap();
        assert!(matches!(
            encrypt_for_prepared(&alice, &prepared, &too_long, &mut rng(1)),
            Err(EnvelopeError::TooLarge { .. })
        ));
    }

    #[test]
    fn swapped_sender_key_is_a_bad_signature() {
        let (alice, bob, carol) = (keys(1), keys(2), keys(3));
        let message = b"who sent this?";
        let signed = [&message[..], &alice.ed25519_public(), &bob.x25519_public()].concat();
        let signature = alice.sign(&signed);
        let inner = [&message[..], &carol.ed25519_public(), &signature].concat();
        assert_eq!(
            decrypt_incoming(&bob, &seal_inner(&bob, &inner)),
            Err(EnvelopeError::BadSignature)
        );
        // The honest inner opens, so the refusal above is the key swap and nothing else.
        let honest = [&message[..], &alice.ed25519_public(), &signature].concat();
        assert_eq!(
            decrypt_incoming(&bob, &seal_inner(&bob, &honest))
                .unwrap()
                .sender,
            alice.session_id()
        );
    }

    #[test]
    fn signature_for_another_recipient_is_refused_when_resealed() {
        // Carol received a message signed for her and re-seals it to Bob: the signature covers
        // Carol's key, so Bob must not accept it as sent to him.
        let (alice, bob, carol) = (keys(1), keys(2), keys(3));
        let message = b"for carol only";
        let signature = alice.sign(
            &[
                &message[..],
                &alice.ed25519_public(),
                &carol.x25519_public(),
            ]
            .concat(),
        );
        let inner = [&message[..], &alice.ed25519_public(), &signature].concat();
        assert_eq!(
            decrypt_incoming(&bob, &seal_inner(&bob, &inner)),
            Err(EnvelopeError::BadSignature)
        );
        assert!(decrypt_incoming(&carol, &seal_inner(&carol, &inner)).is_ok());
    }

    /// A message to `bob` from the sender key `A = a·B + T` (`T = EIGHT_TORSION[torsion]`)
    /// with a signature that verifies under `A`: `verify_strict` accepts signatures whose
    /// challenge k makes [k]T vanish (found by retrying), so only the subgroup check is left to
    /// refuse it.
    fn mixed_sender_message(bob: &Keypair, torsion: usize) -> Vec<u8> {
        let a = Scalar::from_bytes_mod_order([5u8; 32]);
        let mixed = (EdwardsPoint::mul_base(&a) + EIGHT_TORSION[torsion])
            .compress()
            .to_bytes();
        for attempt in 0u8..64 {
            let message = [attempt; 8];
            let signed = [&message[..], &mixed, &bob.x25519_public()].concat();
            let r = Scalar::from_bytes_mod_order([attempt.wrapping_add(77); 32]);
            let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
            let k = Scalar::from_hash(
                Sha512::new()
                    .chain_update(big_r)
                    .chain_update(mixed)
                    .chain_update(&signed),
            );
            let s = r + k * a;
            let signature = [&big_r[..], s.as_bytes()].concat();
            if signature_verifies(&mixed, &signed, signature.as_slice().try_into().unwrap()) {
                return seal_inner(bob, &[&message[..], &mixed, &signature].concat());
            }
        }
        panic!("at least one challenge in eight kills the torsion part");
    }

    #[test]
    fn mixed_order_sender_key_is_refused_even_with_a_valid_signature() {
        // T of order 8: libsodium refuses to turn A into an X25519 key, so no Session ID.
        let bob = keys(2);
        assert_eq!(
            decrypt_incoming(&bob, &mixed_sender_message(&bob, 1)),
            Err(EnvelopeError::InvalidSenderKey)
        );
    }

    #[test]
    fn order_two_component_sender_key_is_refused_even_with_a_valid_signature() {
        // T₂ = (0, 0) on the Montgomery side: [ℓ]A = T₂, whose u is 0 like the point at
        // infinity's encoding, so a subgroup check on the encoded u would wrongly accept A.
        let bob = keys(2);
        let sealed = mixed_sender_message(&bob, 4);
        assert_eq!(
            decrypt_incoming(&bob, &sealed),
            Err(EnvelopeError::InvalidSenderKey)
        );
        assert_eq!(
            crate::SenderKeys::new(4).decrypt_incoming(&bob, &sealed),
            Err(EnvelopeError::InvalidSenderKey)
        );
    }

    #[test]
    fn small_order_ephemeral_key_is_refused() {
        let bob = keys(2);
        let mut sealed = alloc::vec![0u8; OVERHEAD + 4];
        sealed[0] = 1; // u = 1 is a small-order point: the shared secret would be zero
        assert_eq!(
            decrypt_incoming(&bob, &sealed),
            Err(EnvelopeError::WrongRecipient)
        );
    }

    #[test]
    fn torsion_check_agrees_with_dalek() {
        for byte in 0u8..32 {
            let point = EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order([byte; 32]));
            for torsion in EIGHT_TORSION {
                let candidate = (point + torsion).compress().to_bytes();
                let expected = CompressedEdwardsY(candidate)
                    .decompress()
                    .filter(|p| !p.is_small_order() && p.is_torsion_free())
                    .is_some();
                assert_eq!(account_point(&candidate).is_some(), expected);
            }
        }
    }

    /// Every way a message from a remembered sender can be wrong is still refused: the cache
    /// holds facts about the key, never about a signature.
    #[test]
    fn a_remembered_sender_key_never_accepts_a_different_signature() {
        let (alice, bob, carol) = (keys(1), keys(2), keys(3));
        let mut cache = crate::SenderKeys::new(4);
        let message = b"remember me";
        let signed_for = |who: &Keypair, to: &Keypair, msg: &[u8]| {
            who.sign(&[msg, &alice.ed25519_public(), &to.x25519_public()].concat())
        };
        let honest = [
            &message[..],
            &alice.ed25519_public(),
            &signed_for(&alice, &bob, message),
        ]
        .concat();
        let opened = cache
            .decrypt_incoming(&bob, &seal_inner(&bob, &honest))
            .unwrap();
        assert_eq!(opened.sender, alice.session_id());
        assert_eq!(cache.len(), 1);

        let mut forgeries = alloc::vec![
            // carol signs, claiming alice's key
            signed_for(&carol, &bob, message),
            // alice's signature for another recipient
            signed_for(&alice, &carol, message),
            // alice's signature over another message
            signed_for(&alice, &bob, b"remember you"),
        ];
        // every single-bit change of the honest signature
        let good = signed_for(&alice, &bob, message);
        for bit in 0..512 {
            let mut sig = good;
            sig[bit / 8] ^= 1 << (bit % 8);
            forgeries.push(sig);
        }
        for signature in &forgeries {
            let inner = [&message[..], &alice.ed25519_public(), signature].concat();
            let sealed = seal_inner(&bob, &inner);
            let uncached = decrypt_incoming(&bob, &sealed);
            assert!(uncached.is_err());
            assert_eq!(cache.decrypt_incoming(&bob, &sealed), uncached);
        }
        // A different message under the remembered key's honest signature is refused too.
        let moved = [&b"remember mf"[..], &alice.ed25519_public(), &good].concat();
        assert_eq!(
            cache.decrypt_incoming(&bob, &seal_inner(&bob, &moved)),
            Err(EnvelopeError::BadSignature)
        );
        assert_eq!(cache.len(), 1);
        assert_eq!(
            cache.decrypt_incoming(&bob, &seal_inner(&bob, &honest)),
            decrypt_incoming(&bob, &seal_inner(&bob, &honest))
        );
    }

    /// Keys libsodium refuses are not remembered: each message is refused as without a cache.
    #[test]
    fn refused_sender_keys_are_not_remembered() {
        let bob = keys(2);
        let a = Scalar::from_bytes_mod_order([5u8; 32]);
        let mixed = (EdwardsPoint::mul_base(&a) + EIGHT_TORSION[1])
            .compress()
            .to_bytes();
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let not_a_point = [0xffu8; 32];
        let mut cache = crate::SenderKeys::new(4);
        for key in [mixed, identity, not_a_point] {
            for _ in 0..2 {
                let inner = [&b"m"[..], &key, &[7u8; 64]].concat();
                let sealed = seal_inner(&bob, &inner);
                let uncached = decrypt_incoming(&bob, &sealed);
                assert!(uncached.is_err());
                assert_eq!(cache.decrypt_incoming(&bob, &sealed), uncached);
            }
        }
        assert!(cache.is_empty());
    }
}
