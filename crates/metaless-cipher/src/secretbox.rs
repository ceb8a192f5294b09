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

/// The largest first batch a build uses (eight blocks, AVX2).
const HEAD_MAX: usize = 8 * salsa20::BLOCK_LEN;

/// The Salsa20 subkey and nonce words of `key` and the 24-byte `nonce`.
#[inline(always)]
fn subkey(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN]) -> (KeyWords, [u32; 2]) {
    let (prefix, suffix) = salsa20::split_xnonce(nonce);
    let mut subkey = salsa20::hsalsa20(key, &prefix);
    let words = KeyWords::new(&subkey);
    subkey.zeroize();
    (words, salsa20::nonce_words(&suffix))
}

/// The whole seal over one Salsa20 build `stream` (XORs the keystream from a block counter
/// into a buffer) whose batches are `first` bytes: the first batch covers the Poly1305 key
/// (keystream bytes 0..32) and the message's first `first − 32` bytes together, through a
/// stack copy, so no batch is spent on the key alone. Each build in [`dispatch`](crate) is one
/// instantiation of this, so nothing runs behind a call per block batch.
#[inline(always)]
pub(crate) fn seal_with(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    buf: &mut [u8],
    first: usize,
    stream: impl Fn(&KeyWords, &[u32; 2], u64, &mut [u8]),
) -> [u8; TAG_LEN] {
    let (key, nonce) = subkey(key, nonce);
    let mut head = [0u8; HEAD_MAX];
    let take = buf.len().min(first.min(HEAD_MAX) - 32);
    let (now, later) = buf.split_at_mut(take);
    head[32..32 + take].copy_from_slice(now);
    stream(&key, &nonce, 0, &mut head[..32 + take]);
    now.copy_from_slice(&head[32..32 + take]);
    if !later.is_empty() {
        stream(&key, &nonce, (first / salsa20::BLOCK_LEN) as u64, later);
    }
    // head[32..] is ciphertext now; only the Poly1305 key is secret.
    let mut poly_key = [0u8; 32];
    poly_key.copy_from_slice(&head[..32]);
    head[..32].zeroize();
    let tag = crate::poly1305::tag(&poly_key, buf);
    poly_key.zeroize();
    tag
}

/// The whole open over one Salsa20 build (see [`seal_with`]): the tag is checked over the
/// ciphertext before a byte of `buf` changes.
#[inline(always)]
pub(crate) fn open_with(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
    first: usize,
    stream: impl Fn(&KeyWords, &[u32; 2], u64, &mut [u8]),
) -> Result<(), CipherError> {
    let (key, nonce) = subkey(key, nonce);
    let mut head = [0u8; HEAD_MAX];
    let take = buf.len().min(first.min(HEAD_MAX) - 32);
    head[32..32 + take].copy_from_slice(&buf[..take]);
    stream(&key, &nonce, 0, &mut head[..32 + take]);
    let mut poly_key = [0u8; 32];
    poly_key.copy_from_slice(&head[..32]);
    head[..32].zeroize();
    let expected = crate::poly1305::tag(&poly_key, buf);
    poly_key.zeroize();
    if !bool::from(expected.ct_eq(tag)) {
        // head[32..] holds the unauthenticated plaintext of the first batch.
        head.zeroize();
        return Err(CipherError::Forged);
    }
    let (now, later) = buf.split_at_mut(take);
    now.copy_from_slice(&head[32..32 + take]);
    if !later.is_empty() {
        stream(&key, &nonce, (first / salsa20::BLOCK_LEN) as u64, later);
    }
    Ok(())
}

/// The generic build (4 lanes of generic code): what targets without a vector build here run.
pub(crate) fn seal_portable(key: &[u8; 32], nonce: &[u8; 24], buf: &mut [u8]) -> [u8; 16] {
    seal_with(
        key,
        nonce,
        buf,
        4 * salsa20::BLOCK_LEN,
        salsa20::xor_stream::<4>,
    )
}

/// [`seal_portable`]'s open.
pub(crate) fn open_portable(
    key: &[u8; 32],
    nonce: &[u8; 24],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), CipherError> {
    open_with(
        key,
        nonce,
        buf,
        tag,
        4 * salsa20::BLOCK_LEN,
        salsa20::xor_stream::<4>,
    )
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
        salsa20::Backend::Generic => seal_portable(key, nonce, buf),
        _ => crate::dispatch::salsa::seal(backend, key, nonce, buf),
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
        salsa20::Backend::Generic => open_portable(key, nonce, buf, tag),
        _ => crate::dispatch::salsa::open(backend, key, nonce, buf, tag),
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
