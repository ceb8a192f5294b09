//! Blinded direct messages through a community's inbox, as libsession-util's
//! `encrypt_for_blinded_recipient` / `decrypt_from_blinded_recipient`.
//!
//! ```text
//! shared = s · jR                  (Ed25519 multiplication, no clamping)
//!          s = a (own X25519 scalar) for 15 ids, a' = ±k25·a (own 25-blinded scalar) for 25 ids
//! key    = BLAKE2b-256(shared ‖ sender_blinded_key ‖ recipient_blinded_key)
//! wire   = 0x00 ‖ XChaCha20-Poly1305(key, nonce, message ‖ sender_ed25519_pk) ‖ nonce(24)
//! ```
//!
//! Both sides compute the same point (`a·k·B = b·k·A` for 15; `a'·b'·G` for 25), and the key
//! hashes the sender's blinded key first whoever computes it, so a sender can also read its own
//! outbox. The receiver learns the sender's real Ed25519 key from the plaintext and checks that
//! it blinds to the claimed sender id — that is how a message request reveals the sender's
//! Session ID to the recipient, and only to them (the server sees two blinded ids).
//!
//! `message` is what the caller gives; Session clients put `pad(Content)` there.

use alloc::vec::Vec;

use blake2::Blake2bVar;
use blake2::digest::{Update, VariableOutput};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use metaless_cipher::xchacha20poly1305;
use metaless_identity::{Keypair, SessionId, SessionIdPrefix, blinding, ed25519_to_x25519_public};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::CommunityError;
use crate::limits::{MAX_BLINDED_DM_LEN, MIN_BLINDED_DM_LEN};

/// The version byte in front of every blinded DM.
pub const BLINDED_DM_VERSION: u8 = 0x00;
const NONCE_LEN: usize = 24;

/// A decrypted blinded DM: the message and the sender's real (`05`) Session ID.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedDm {
    /// The message bytes (normally `pad(Content)`).
    pub message: Zeroizing<Vec<u8>>,
    /// The sender's standard Session ID, recovered from the key inside the message.
    pub sender: SessionId,
}

impl core::fmt::Debug for OpenedDm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenedDm")
            .field("len", &self.message.len())
            .finish_non_exhaustive()
    }
}

/// Our own blinded id on the server, of the same kind (`15`/`25`) as `like`.
///
/// ```
/// use metaless_community::dm;
/// use metaless_identity::{blinding, Keypair, Seed, SessionIdPrefix};
/// let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let peer = blinding::blind25_id(&Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id(), &[9; 32]).unwrap();
/// assert_eq!(dm::own_blinded_id(&keys, &[9; 32], &peer).unwrap().prefix(), SessionIdPrefix::Blinded25);
/// ```
pub fn own_blinded_id(
    keys: &Keypair,
    server_pk: &[u8; 32],
    like: &SessionId,
) -> Result<SessionId, CommunityError> {
    let pair = match like.prefix() {
        SessionIdPrefix::Blinded15 => blinding::blind15_keypair(keys, server_pk),
        SessionIdPrefix::Blinded25 => blinding::blind25_keypair(keys, server_pk),
        other => {
            return Err(metaless_identity::IdentityError::UnexpectedPrefix(other.byte()).into());
        }
    };
    Ok(SessionId::new(like.prefix(), pair.public_key())?)
}

/// Encrypts `message` for `recipient` (a `15` or `25` id) with a fresh nonce from `rng`.
///
/// ```
/// use metaless_community::dm;
/// use metaless_identity::{Keypair, Seed};
/// use rand_core::SeedableRng;
/// let (alice, bob) = (Keypair::from_seed(&Seed::from_bytes([1; 32])), Keypair::from_seed(&Seed::from_bytes([2; 32])));
/// let server = [9u8; 32];
/// let bob15 = metaless_identity::blinding::blind15_id_from_ed25519(&bob.ed25519_public(), &server).unwrap();
/// let alice15 = metaless_identity::blinding::blind15_id_from_ed25519(&alice.ed25519_public(), &server).unwrap();
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([0; 32]);
/// let wire = dm::encrypt(&alice, &server, &bob15, b"hi", &mut rng).unwrap();
/// let opened = dm::decrypt(&bob, &server, &alice15, &bob15, &wire).unwrap();
/// assert_eq!((&opened.message[..], opened.sender), (&b"hi"[..], alice.session_id()));
/// // Alice reads her own outbox copy the same way.
/// assert_eq!(&dm::decrypt(&alice, &server, &alice15, &bob15, &wire).unwrap().message[..], b"hi");
/// ```
pub fn encrypt(
    keys: &Keypair,
    server_pk: &[u8; 32],
    recipient: &SessionId,
    message: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, CommunityError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    encrypt_with_nonce(keys, server_pk, recipient, message, &nonce)
}

/// [`encrypt`] with a caller-chosen nonce (for known-answer tests; never reuse a nonce).
pub fn encrypt_with_nonce(
    keys: &Keypair,
    server_pk: &[u8; 32],
    recipient: &SessionId,
    message: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, CommunityError> {
    let limit = MAX_BLINDED_DM_LEN - (MIN_BLINDED_DM_LEN);
    if message.len() > limit {
        return Err(CommunityError::TooLarge {
            what: "blinded message",
            len: message.len(),
            max: limit,
        });
    }
    let me = own_blinded_id(keys, server_pk, recipient)?;
    let key = shared_key(keys, server_pk, &me, recipient, true)?;
    // version ‖ (message ‖ sender key, encrypted in place) ‖ tag ‖ nonce, in one buffer
    let mut out = Vec::with_capacity(1 + message.len() + 32 + 16 + NONCE_LEN);
    out.push(BLINDED_DM_VERSION);
    out.extend_from_slice(message);
    out.extend_from_slice(&keys.ed25519_public());
    let tag = xchacha20poly1305::seal_in_place_detached(&key, nonce, &[], &mut out[1..])
        .map_err(|_| CommunityError::Decrypt)?;
    out.extend_from_slice(&tag);
    out.extend_from_slice(nonce);
    Ok(out)
}

/// Decrypts a blinded DM between `sender` and `recipient` (both `15` or both `25`); we are
/// either of them (our own outbox when we are the sender). Checks that the key inside blinds to
/// `sender` and returns the sender's `05` Session ID.
///
/// Every failure to open is [`CommunityError::Decrypt`] (no oracle); a wrong version byte is
/// [`CommunityError::UnknownVersion`] and a sender key that does not match the claimed id is
/// [`CommunityError::SenderMismatch`].
pub fn decrypt(
    keys: &Keypair,
    server_pk: &[u8; 32],
    sender: &SessionId,
    recipient: &SessionId,
    data: &[u8],
) -> Result<OpenedDm, CommunityError> {
    if data.len() > MAX_BLINDED_DM_LEN {
        return Err(CommunityError::TooLarge {
            what: "blinded message",
            len: data.len(),
            max: MAX_BLINDED_DM_LEN,
        });
    }
    if sender.prefix() != recipient.prefix() {
        return Err(CommunityError::InvalidRequest(
            "sender and recipient ids of different kinds",
        ));
    }
    let me = own_blinded_id(keys, server_pk, recipient)?;
    let key = if me == *sender {
        shared_key(keys, server_pk, sender, recipient, true)?
    } else {
        shared_key(keys, server_pk, recipient, sender, false)?
    };
    let (&version, rest) = data.split_first().ok_or(CommunityError::Decrypt)?;
    if data.len() < MIN_BLINDED_DM_LEN {
        return Err(CommunityError::Decrypt);
    }
    if version != BLINDED_DM_VERSION {
        return Err(CommunityError::UnknownVersion(version));
    }
    let (sealed, nonce) = rest.split_at(rest.len() - NONCE_LEN);
    let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| CommunityError::Decrypt)?;
    let inner = Zeroizing::new(
        xchacha20poly1305::open(&key, nonce, &[], sealed).map_err(|_| CommunityError::Decrypt)?,
    );
    let split = inner.len().checked_sub(32).ok_or(CommunityError::Decrypt)?;
    let mut sender_ed = [0u8; 32];
    sender_ed.copy_from_slice(&inner[split..]);
    let claimed = match sender.prefix() {
        SessionIdPrefix::Blinded25 => blinding::blind25_id_from_ed25519(&sender_ed, server_pk),
        _ => blinding::blind15_id_from_ed25519(&sender_ed, server_pk),
    }
    .map_err(|_| CommunityError::SenderMismatch)?;
    let matches = claimed == *sender
        || (claimed.prefix() == SessionIdPrefix::Blinded15 && {
            // A 15 id may be given in its negated form (computed from a Session ID alone).
            let mut neg = *claimed.key();
            neg[31] ^= 0x80;
            neg == *sender.key()
        });
    if !matches {
        return Err(CommunityError::SenderMismatch);
    }
    let x = ed25519_to_x25519_public(&sender_ed).map_err(|_| CommunityError::SenderMismatch)?;
    let mut message = inner;
    message.truncate(split);
    Ok(OpenedDm {
        message,
        sender: SessionId::standard(x),
    })
}

/// `BLAKE2b-256(s·jB ‖ sender ‖ recipient)`; `me` is our blinded id, `other` theirs; `sending`
/// says which of them is the sender (the hash always puts the sender first).
fn shared_key(
    keys: &Keypair,
    server_pk: &[u8; 32],
    me: &SessionId,
    other: &SessionId,
    sending: bool,
) -> Result<Zeroizing<[u8; 32]>, CommunityError> {
    let scalar = Zeroizing::new(match me.prefix() {
        SessionIdPrefix::Blinded25 => {
            let pair = blinding::blind25_keypair(keys, server_pk);
            Scalar::from_bytes_mod_order(*pair.expose_secret())
        }
        // For 15 both factors are the same k, so the plain scalar suffices (a·kB = b·kA).
        _ => Scalar::from_bytes_mod_order(*keys.x25519_secret().expose_secret()),
    });
    let point = checked_point(other.key())?;
    let shared: EdwardsPoint = point * *scalar;
    if shared.is_identity() {
        return Err(CommunityError::Decrypt);
    }
    let mut shared = Zeroizing::new(shared.compress().to_bytes());
    let (first, second) = if sending { (me, other) } else { (other, me) };
    let mut key = Zeroizing::new([0u8; 32]);
    let mut hasher = Blake2bVar::new(32).map_err(|_| CommunityError::Decrypt)?;
    hasher.update(&*shared);
    hasher.update(first.key());
    hasher.update(second.key());
    hasher
        .finalize_variable(&mut *key)
        .map_err(|_| CommunityError::Decrypt)?;
    shared.zeroize();
    Ok(key)
}

/// A blinded key as libsodium's `crypto_scalarmult_ed25519_noclamp` accepts it: canonical, on the
/// curve, prime order, not small order.
fn checked_point(bytes: &[u8; 32]) -> Result<EdwardsPoint, CommunityError> {
    let point = CompressedEdwardsY(*bytes)
        .decompress()
        .filter(|p| p.compress().as_bytes() == bytes)
        .filter(|p| !p.is_small_order() && p.is_torsion_free())
        .ok_or(CommunityError::Identity(
            metaless_identity::IdentityError::InvalidPoint,
        ))?;
    Ok(point)
}
