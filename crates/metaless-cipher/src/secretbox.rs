//! XSalsa20-Poly1305, NaCl's `crypto_secretbox`: byte for byte libsodium's
//! `crypto_secretbox_detached` / `crypto_secretbox_open_detached`, and in the combined layout
//! (`tag ‖ ciphertext`) `crypto_secretbox_easy` / `crypto_secretbox_open_easy`. It is also the
//! inside of `crypto_box` and `crypto_box_seal` (with the key `HSalsa20(X25519(…), 0¹⁶)`).
//!
//! With `s = HSalsa20(key, nonce[..16])` and the Salsa20 stream `S` of `s` and `nonce[16..]`:
//! the Poly1305 key is `S[0..32]`, the ciphertext is `message ⊕ S[32..]`, and the tag is
//! Poly1305 of the ciphertext. Opening checks the tag before it decrypts anything.
//!
//! ```
//! use metaless_cipher::secretbox;
//! let (key, nonce) = ([1u8; 32], [2u8; 24]);
//! let mut buf = *b"one-time message";
//! let tag = secretbox::seal_in_place_detached(&key, &nonce, &mut buf);
//! secretbox::open_in_place_detached(&key, &nonce, &mut buf, &tag).unwrap();
//! assert_eq!(&buf, b"one-time message");
//! ```

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::CipherError;
use crate::salsa20::{self, KeyWords};

/// Bytes of a secretbox key.
///
/// ```
/// assert_eq!(metaless_cipher::secretbox::KEY_LEN, 32);
/// ```
pub const KEY_LEN: usize = 32;
/// Bytes of a secretbox nonce (XSalsa20's).
///
/// ```
/// assert_eq!(metaless_cipher::secretbox::NONCE_LEN, 24);
/// ```
pub const NONCE_LEN: usize = 24;
/// Bytes of the Poly1305 tag (libsodium's `crypto_secretbox_MACBYTES`).
///
/// ```
/// assert_eq!(metaless_cipher::secretbox::TAG_LEN, 16);
/// ```
pub const TAG_LEN: usize = 16;

/// The Salsa20 state of one message: subkey and nonce words, and the first keystream block
/// (its first half is the Poly1305 key, its second half encrypts the message's first 32 bytes).
struct Stream {
    key: KeyWords,
    nonce: [u32; 2],
    block0: [u8; 64],
}

impl Stream {
    #[inline(always)]
    fn new(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN]) -> Self {
        let (prefix, suffix) = salsa20::split_xnonce(nonce);
        let mut subkey = salsa20::hsalsa20(key, &prefix);
        let key = KeyWords::new(&subkey);
        subkey.zeroize();
        let nonce = salsa20::nonce_words(&suffix);
        let mut block0 = [0u8; 64];
        salsa20::xor_stream::<1>(&key, &nonce, 0, &mut block0);
        Self { key, nonce, block0 }
    }

    /// `buf ⊕ S[32..]`, `L` blocks at a time.
    #[inline(always)]
    fn apply<const L: usize>(&self, buf: &mut [u8]) {
        let (head, tail) = buf.split_at_mut(buf.len().min(32));
        for (byte, key) in head.iter_mut().zip(&self.block0[32..]) {
            *byte ^= key;
        }
        if !tail.is_empty() {
            salsa20::xor_stream::<L>(&self.key, &self.nonce, 1, tail);
        }
    }

    #[inline(always)]
    fn tag(&self, ciphertext: &[u8]) -> [u8; TAG_LEN] {
        let mut key = [0u8; 32];
        key.copy_from_slice(&self.block0[..32]);
        let tag = crate::poly1305::tag(&key, ciphertext);
        key.zeroize();
        tag
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.block0.zeroize();
    }
}

/// The whole seal with `L`-lane Salsa20: each build in [`dispatch`](crate) is one
/// instantiation of this, so nothing runs behind a call per block batch.
#[inline(always)]
pub(crate) fn seal_lanes<const L: usize>(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    let stream = Stream::new(key, nonce);
    stream.apply::<L>(buf);
    stream.tag(buf)
}

/// The whole open (tag checked first, then decryption) with `L`-lane Salsa20.
#[inline(always)]
pub(crate) fn open_lanes<const L: usize>(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CipherError> {
    let stream = Stream::new(key, nonce);
    if !bool::from(stream.tag(buf).ct_eq(tag)) {
        return Err(CipherError::Forged);
    }
    stream.apply::<L>(buf);
    Ok(())
}

/// Encrypts `buf` in place under `key` and `nonce` and returns the Poly1305 tag
/// (libsodium's `crypto_secretbox_detached`). A nonce must never be used twice with one key.
///
/// ```
/// use metaless_cipher::secretbox::seal_in_place_detached;
/// let mut buf = [0u8; 5];
/// let tag = seal_in_place_detached(&[9u8; 32], &[0u8; 24], &mut buf);
/// assert_ne!(buf, [0u8; 5]);
/// assert_eq!(tag.len(), 16);
/// ```
pub fn seal_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    seal_in_place_detached_with(salsa20::Backend::Best, key, nonce, buf)
}

/// [`seal_in_place_detached`] through a chosen Salsa20 build (for the tests).
#[doc(hidden)]
pub fn seal_in_place_detached_with(
    backend: salsa20::Backend,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    match backend {
        salsa20::Backend::Best => salsa20::best::secretbox_seal(key, nonce, buf),
        salsa20::Backend::Portable => seal_lanes::<4>(key, nonce, buf),
    }
}

/// Checks `tag` over the ciphertext in `buf` and, only if it matches, decrypts `buf` in place
/// (libsodium's `crypto_secretbox_open_detached`). A refused buffer is left untouched.
///
/// ```
/// use metaless_cipher::{CipherError, secretbox};
/// let (key, nonce) = ([9u8; 32], [0u8; 24]);
/// let mut buf = *b"hello";
/// let tag = secretbox::seal_in_place_detached(&key, &nonce, &mut buf);
/// let sealed = buf;
/// assert_eq!(secretbox::open_in_place_detached(&[8u8; 32], &nonce, &mut buf, &tag), Err(CipherError::Forged));
/// assert_eq!(buf, sealed);
/// secretbox::open_in_place_detached(&key, &nonce, &mut buf, &tag).unwrap();
/// assert_eq!(&buf, b"hello");
/// ```
pub fn open_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CipherError> {
    open_in_place_detached_with(salsa20::Backend::Best, key, nonce, buf, tag)
}

/// [`open_in_place_detached`] through a chosen Salsa20 build (for the tests).
#[doc(hidden)]
pub fn open_in_place_detached_with(
    backend: salsa20::Backend,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CipherError> {
    match backend {
        salsa20::Backend::Best => salsa20::best::secretbox_open(key, nonce, buf, tag),
        salsa20::Backend::Portable => open_lanes::<4>(key, nonce, buf, tag),
    }
}

/// Encrypts `message` into a new `tag ‖ ciphertext` (NaCl's combined layout, libsodium's
/// `crypto_secretbox_easy`).
///
/// ```
/// use metaless_cipher::secretbox;
/// let boxed = secretbox::seal(&[1u8; 32], &[2u8; 24], b"hi");
/// assert_eq!(boxed.len(), 2 + secretbox::TAG_LEN);
/// assert_eq!(secretbox::open(&[1u8; 32], &[2u8; 24], &boxed).unwrap(), b"hi");
/// ```
#[cfg(feature = "alloc")]
pub fn seal(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], message: &[u8]) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::with_capacity(TAG_LEN + message.len());
    out.extend_from_slice(&[0u8; TAG_LEN]);
    out.extend_from_slice(message);
    let (tag_slot, body) = out.split_at_mut(TAG_LEN);
    let tag = seal_in_place_detached(key, nonce, body);
    tag_slot.copy_from_slice(&tag);
    out
}

/// Opens a `tag ‖ ciphertext` made by [`seal`] (libsodium's `crypto_secretbox_open_easy`).
///
/// ```
/// use metaless_cipher::{CipherError, secretbox};
/// let mut boxed = secretbox::seal(&[1u8; 32], &[2u8; 24], b"hi");
/// assert_eq!(secretbox::open(&[1u8; 32], &[2u8; 24], &boxed[..15]), Err(CipherError::TooShort { len: 15, tag: 16 }));
/// boxed[16] ^= 1;
/// assert_eq!(secretbox::open(&[1u8; 32], &[2u8; 24], &boxed), Err(CipherError::Forged));
/// ```
#[cfg(feature = "alloc")]
pub fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    boxed: &[u8],
) -> Result<alloc::vec::Vec<u8>, CipherError> {
    let (Some(tag), Some(body)) = (boxed.get(..TAG_LEN), boxed.get(TAG_LEN..)) else {
        return Err(CipherError::TooShort {
            len: boxed.len(),
            tag: TAG_LEN,
        });
    };
    let mut tag_bytes = [0u8; TAG_LEN];
    tag_bytes.copy_from_slice(tag);
    let mut out = body.to_vec();
    open_in_place_detached(key, nonce, &mut out, &tag_bytes)?;
    Ok(out)
}
