//! XChaCha20-Poly1305, the IETF construction of draft-irtf-cfrg-xchacha-03 (libsodium's
//! `crypto_aead_xchacha20poly1305_ietf_*`): HChaCha20 subkey from the key and the nonce's
//! first 16 bytes, then the RFC 8439 §2.8 AEAD with nonce `0⁴ ‖ nonce[16..24]` — Poly1305 key
//! from block 0, the message from block 1, the tag over `aad ‖ pad ‖ ct ‖ pad ‖ le64(|aad|) ‖
//! le64(|ct|)`.
//!
//! Sealing is one pass: each 512-byte stretch is encrypted and then authenticated while it is
//! in cache. Block 0 (the Poly1305 key) is made in the same kernel call that encrypts the
//! message's first 448 bytes (through a stack copy), so a short message costs one batch, not a
//! key batch and a message batch. Opening authenticates the whole ciphertext first and decrypts only if the tag
//! matches, so a refused buffer is left exactly as it was given.
//!
//! ```
//! use metaless_cipher::xchacha20poly1305::{open_in_place_detached, seal_in_place_detached};
//! let (key, nonce) = ([7u8; 32], [9u8; 24]);
//! let mut buf = *b"hello onion";
//! let tag = seal_in_place_detached(&key, &nonce, b"aad", &mut buf)?;
//! open_in_place_detached(&key, &nonce, b"aad", &mut buf, &tag)?;
//! assert_eq!(&buf, b"hello onion");
//! # Ok::<(), metaless_cipher::CipherError>(())
//! ```

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::CipherError;
use crate::chacha20::{State, check_len, xstate_with};
use crate::poly1305::Poly1305;

/// Bytes of the key.
pub const KEY_LEN: usize = 32;
/// Bytes of the nonce.
pub const NONCE_LEN: usize = 24;
/// Bytes of the tag.
pub const TAG_LEN: usize = 16;

/// Bytes encrypted before they are authenticated in one pass (a multiple of every batch).
const STRETCH: usize = 512;

/// Message bytes encrypted in the same kernel call as block 0 (the Poly1305 key): seven
/// blocks, so block 0 and the head fill one 8-block batch and no batch is spent on the key
/// alone.
const HEAD: usize = 448;

/// Block 0 and the message's first `min(len, HEAD)` bytes in one call to the build's kernel:
/// returns the state at the block after them, the Poly1305 computation keyed by block 0 with
/// the associated data absorbed, and `head` = `0⁶⁴ ‖ first bytes of msg` XORed with the
/// keystream (block 0's keystream is wiped from it). `msg` itself is not touched.
#[inline(always)]
fn start(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    msg: &[u8],
    stream: &mut impl FnMut(&mut State, &mut [u8]),
    hchacha: impl FnOnce(&[u8; 32], &[u8; 16]) -> [u8; 32],
) -> (State, Poly1305, [u8; 64 + HEAD], usize) {
    let mut s = xstate_with(key, nonce, 0, hchacha);
    let mut head = [0u8; 64 + HEAD];
    let take = msg.len().min(HEAD);
    head[64..64 + take].copy_from_slice(&msg[..take]);
    stream(&mut s, &mut head[..64 + take]);
    let mut mac_key = [0u8; 32];
    mac_key.copy_from_slice(&head[..32]);
    head[..64].zeroize();
    let mut mac = Poly1305::new(&mac_key);
    mac_key.zeroize();
    mac.update_padded(aad);
    (s, mac, head, take)
}

#[inline(always)]
fn lengths(mac: &mut Poly1305, aad: usize, ct: usize) {
    let mut block = [0u8; 16];
    block[..8].copy_from_slice(&(aad as u64).to_le_bytes());
    block[8..].copy_from_slice(&(ct as u64).to_le_bytes());
    mac.update(&block);
}

/// The seal over a ChaCha20 stream kernel (each build in `dispatch` passes its own).
#[inline(always)]
pub(crate) fn seal_with(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
    mut stream: impl FnMut(&mut State, &mut [u8]),
    hchacha: impl FnOnce(&[u8; 32], &[u8; 16]) -> [u8; 32],
) -> [u8; 16] {
    let (mut s, mut mac, head, take) = start(key, nonce, aad, buf, &mut stream, hchacha);
    let (now, later) = buf.split_at_mut(take);
    // head[64..] is ciphertext now
    now.copy_from_slice(&head[64..64 + take]);
    mac.update(now);
    for stretch in later.chunks_mut(STRETCH) {
        stream(&mut s, stretch);
        mac.update(stretch);
    }
    mac.update_padded(&[]);
    lengths(&mut mac, aad.len(), buf.len());
    mac.finalize()
}

/// The open over a ChaCha20 stream kernel: verify, then decrypt.
#[inline(always)]
pub(crate) fn open_with(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
    mut stream: impl FnMut(&mut State, &mut [u8]),
    hchacha: impl FnOnce(&[u8; 32], &[u8; 16]) -> [u8; 32],
) -> Result<(), CipherError> {
    let (mut s, mut mac, mut head, take) = start(key, nonce, aad, buf, &mut stream, hchacha);
    mac.update_padded(buf);
    lengths(&mut mac, aad.len(), buf.len());
    if !bool::from(mac.finalize().ct_eq(tag)) {
        // head[64..] holds the unauthenticated plaintext of the first bytes
        head.zeroize();
        return Err(CipherError::Forged);
    }
    let (now, later) = buf.split_at_mut(take);
    now.copy_from_slice(&head[64..64 + take]);
    stream(&mut s, later);
    Ok(())
}

/// Encrypts `buf` in place and returns the 16-byte tag over it and `aad`
/// (`crypto_aead_xchacha20poly1305_ietf_encrypt_detached`). Refuses, untouched, a buffer
/// longer than the 32-bit block counter covers (256 GiB − 64 bytes) with
/// [`CipherError::TooLong`].
///
/// ```
/// use metaless_cipher::xchacha20poly1305::seal_in_place_detached;
/// let mut buf = [0u8; 32];
/// let tag = seal_in_place_detached(&[1; 32], &[2; 24], &[], &mut buf)?;
/// assert_ne!(buf, [0u8; 32]);
/// assert_eq!(tag.len(), 16);
/// # Ok::<(), metaless_cipher::CipherError>(())
/// ```
pub fn seal_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], CipherError> {
    check_len(1, buf.len())?;
    Ok(crate::dispatch::xchacha_seal(key, nonce, aad, buf))
}

/// Checks `tag` against `buf` (the ciphertext) and `aad`, then decrypts `buf` in place
/// (`crypto_aead_xchacha20poly1305_ietf_decrypt_detached`). On [`CipherError::Forged`]
/// `buf` is left as given: nothing is decrypted before the tag is verified.
///
/// ```
/// use metaless_cipher::{CipherError, xchacha20poly1305::*};
/// let mut buf = *b"secret";
/// let tag = seal_in_place_detached(&[1; 32], &[2; 24], &[], &mut buf)?;
/// let sealed = buf;
/// assert_eq!(open_in_place_detached(&[3; 32], &[2; 24], &[], &mut buf, &tag), Err(CipherError::Forged));
/// assert_eq!(buf, sealed);
/// open_in_place_detached(&[1; 32], &[2; 24], &[], &mut buf, &tag)?;
/// assert_eq!(&buf, b"secret");
/// # Ok::<(), CipherError>(())
/// ```
pub fn open_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CipherError> {
    // longer than any seal produces: no tag can match, and the counter would wrap
    if check_len(1, buf.len()).is_err() {
        return Err(CipherError::Forged);
    }
    crate::dispatch::xchacha_open(key, nonce, aad, buf, tag)
}

/// `ciphertext ‖ tag` of `plaintext` (libsodium's combined
/// `crypto_aead_xchacha20poly1305_ietf_encrypt`); one allocation, of exactly that length.
///
/// ```
/// use metaless_cipher::xchacha20poly1305::{open, seal};
/// let sealed = seal(&[1; 32], &[2; 24], b"ad", b"message")?;
/// assert_eq!(sealed.len(), 7 + 16);
/// assert_eq!(open(&[1; 32], &[2; 24], b"ad", &sealed)?, b"message");
/// # Ok::<(), metaless_cipher::CipherError>(())
/// ```
#[cfg(feature = "alloc")]
pub fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<alloc::vec::Vec<u8>, CipherError> {
    check_len(1, plaintext.len())?;
    crate::combined::seal(plaintext, |buf| {
        Ok(crate::dispatch::xchacha_seal(key, nonce, aad, buf))
    })
}

/// The plaintext of `ciphertext ‖ tag` (libsodium's combined
/// `crypto_aead_xchacha20poly1305_ietf_decrypt`): [`CipherError::TooShort`] below 16 bytes,
/// [`CipherError::Forged`] when the tag does not match; one allocation (the copy that is
/// decrypted in place once the tag has been verified).
///
/// ```
/// use metaless_cipher::{CipherError, xchacha20poly1305::{open, seal}};
/// let mut sealed = seal(&[1; 32], &[2; 24], &[], b"message")?;
/// sealed[0] ^= 1;
/// assert_eq!(open(&[1; 32], &[2; 24], &[], &sealed), Err(CipherError::Forged));
/// assert_eq!(open(&[1; 32], &[2; 24], &[], &sealed[..15]), Err(CipherError::TooShort { len: 15, tag: 16 }));
/// # Ok::<(), CipherError>(())
/// ```
#[cfg(feature = "alloc")]
pub fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<alloc::vec::Vec<u8>, CipherError> {
    crate::combined::open(sealed, |buf, tag| {
        open_in_place_detached(key, nonce, aad, buf, tag)
    })
}
