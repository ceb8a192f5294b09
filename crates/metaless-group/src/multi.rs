//! Per-recipient key wrapping (upstream `encrypt_for_multiple`): one shared nonce, one
//! XChaCha20-Poly1305 ciphertext per recipient under
//! `H_32(X25519(a, B) ‖ A ‖ B ; key = domain)` with `A` the sender's and `B` the recipient's
//! X25519 public key. Keys messages wrap the group key this way with
//! [`MEMBER_KEY_DOMAIN`].

use alloc::vec::Vec;

use metaless_cipher::xchacha20poly1305;
use metaless_identity::X25519Secret;
use zeroize::Zeroizing;

use crate::GroupError;
use crate::hash::h32;

/// The key-wrapping domain of keys messages (`"SessionGroupKeyMemberKey"`).
pub const MEMBER_KEY_DOMAIN: &[u8] = b"SessionGroupKeyMemberKey";

/// The wrapping key between a sender (`A`) and a recipient (`B`), computed by either side:
/// the sender passes its secret and `peer = B`, the recipient its secret and `peer = A`.
///
/// ```
/// use metaless_group::{recipient_key, MEMBER_KEY_DOMAIN};
/// use metaless_identity::X25519Secret;
/// let a = X25519Secret::from_bytes([1; 32]);
/// let b = X25519Secret::from_bytes([2; 32]);
/// let (pa, pb) = (a.public_key(), b.public_key());
/// let k1 = recipient_key(&a, &pb, &pa, &pb, MEMBER_KEY_DOMAIN)?;
/// let k2 = recipient_key(&b, &pa, &pa, &pb, MEMBER_KEY_DOMAIN)?;
/// assert_eq!(*k1, *k2);
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn recipient_key(
    own: &X25519Secret,
    peer: &[u8; 32],
    sender_pk: &[u8; 32],
    recipient_pk: &[u8; 32],
    domain: &[u8],
) -> Result<Zeroizing<[u8; 32]>, GroupError> {
    if domain.is_empty() || domain.len() > 64 {
        return Err(GroupError::Malformed("key-wrapping domain"));
    }
    let shared = own
        .diffie_hellman(peer)
        .map_err(|_| GroupError::InvalidKey)?;
    Ok(h32(domain, &[&shared[..], sender_pk, recipient_pk]))
}

/// Encrypts `messages[i]` (or `messages[0]` for everyone, when one message is given) for
/// each of `recipients`, all under the one `nonce`.
///
/// ```
/// use metaless_group::{decrypt_for_recipient, encrypt_for_recipients};
/// use metaless_identity::X25519Secret;
/// let a = X25519Secret::from_bytes([1; 32]);
/// let b = X25519Secret::from_bytes([2; 32]);
/// let out = encrypt_for_recipients(&a, &[b.public_key()], &[b"hi"], &[9; 24], b"test")?;
/// assert_eq!(out[0].len(), 2 + 16);
/// let plain = decrypt_for_recipient(&b, &a.public_key(), &[9; 24], &out[0], b"test")?;
/// assert_eq!(&plain[..], b"hi");
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn encrypt_for_recipients(
    sender: &X25519Secret,
    recipients: &[[u8; 32]],
    messages: &[&[u8]],
    nonce: &[u8; 24],
    domain: &[u8],
) -> Result<Vec<Vec<u8>>, GroupError> {
    if messages.is_empty() || (messages.len() != 1 && messages.len() != recipients.len()) {
        return Err(GroupError::Malformed("recipient message count"));
    }
    let sender_pk = sender.public_key();
    recipients
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let key = recipient_key(sender, b, &sender_pk, b, domain)?;
            let msg = messages.get(i).unwrap_or(&messages[0]);
            seal(&key, nonce, msg)
        })
        .collect()
}

/// Decrypts one recipient's ciphertext ([`GroupError::DecryptFailed`] if it is not for us).
pub fn decrypt_for_recipient(
    me: &X25519Secret,
    sender_pk: &[u8; 32],
    nonce: &[u8; 24],
    ciphertext: &[u8],
    domain: &[u8],
) -> Result<Zeroizing<Vec<u8>>, GroupError> {
    let key = recipient_key(me, sender_pk, sender_pk, &me.public_key(), domain)?;
    open(&key, nonce, ciphertext)
}

/// XChaCha20-Poly1305 (libsodium's `crypto_aead_xchacha20poly1305_ietf`, no associated data).
pub(crate) fn seal(key: &[u8; 32], nonce: &[u8; 24], plain: &[u8]) -> Result<Vec<u8>, GroupError> {
    xchacha20poly1305::seal(key, nonce, &[], plain).map_err(|_| GroupError::TooLarge {
        field: "plaintext",
        len: plain.len(),
        max: crate::limits::MAX_PLAINTEXT_MESSAGE_SIZE,
    })
}

/// The inverse of [`seal`]; every failure is [`GroupError::DecryptFailed`].
pub(crate) fn open(
    key: &[u8; 32],
    nonce: &[u8; 24],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, GroupError> {
    xchacha20poly1305::open(key, nonce, &[], ciphertext)
        .map(Zeroizing::new)
        .map_err(|_| GroupError::DecryptFailed)
}
