//! Config message encryption, padding and compression (libsession `config/encrypt.cpp`,
//! `config/base.cpp` `push`).
//!
//! | step | bytes |
//! |---|---|
//! | compress (optional) | `"z" ‖ zstd(plain)`, kept only when shorter than `plain` |
//! | pad | `0x00 × (padded_size(len, 40) − len) ‖ plain` (prefix zeros) |
//! | key | `BLAKE2b-256(key_base ‖ u64be(len(padded)) ‖ domain)` |
//! | nonce | `BLAKE2b-192(padded; key = "libsessionutil-config-encrypted-" ‖ domain)` |
//! | out | `XChaCha20-Poly1305(key, nonce, padded) ‖ nonce` |
//!
//! The nonce is a hash of the plaintext, so equal plaintexts under one domain give equal
//! ciphertexts (upstream's choice: a re-push of an unchanged config is byte-identical).
//!
//! ```
//! use metaless_config::encrypt::{decrypt, encrypt};
//! let key_base = [7u8; 32];
//! let ct = encrypt(b"d1:#i0ee", &key_base, "UserProfile").unwrap();
//! assert_eq!(decrypt(&ct, &key_base, "UserProfile").unwrap().as_slice(), b"d1:#i0ee");
//! assert!(decrypt(&ct, &key_base, "Contacts").is_err());
//! ```

use alloc::vec::Vec;

use blake2::digest::consts::{U24, U32};
use blake2::digest::{FixedOutput, Mac, Update};
use blake2::{Blake2b, Blake2bMac, Digest};
use metaless_cipher::xchacha20poly1305;
use zeroize::{Zeroize, Zeroizing};

use crate::ConfigError;
use crate::limits;

/// Bytes encryption adds: the 16-byte Poly1305 tag and the 24-byte nonce.
pub const OVERHEAD: usize = 40;

/// The nonce hash key's prefix; the domain follows it.
pub const NONCE_KEY_PREFIX: &[u8; 32] = b"libsessionutil-config-encrypted-";

/// Longest encryption domain (the nonce hash key is at most 56 of BLAKE2b's 64 key bytes).
pub const MAX_DOMAIN_LEN: usize = 24;

/// The size `len` bytes are padded to so that `len + overhead` fills whole chunks: 256-byte
/// chunks below 5 120, 1 024 below 20 480, 2 048 below 40 960, else 5 120 (libsession
/// `padded_size`).
///
/// ```
/// use metaless_config::encrypt::padded_size;
/// assert_eq!(padded_size(1, 0), 256);
/// assert_eq!(padded_size(23, 40), 216); // an empty config: 216 + 40 = 256 bytes stored
/// ```
pub fn padded_size(len: usize, overhead: usize) -> usize {
    let s2 = len + overhead;
    let chunk = if s2 < 5120 {
        256
    } else if s2 < 20480 {
        1024
    } else if s2 < 40960 {
        2048
    } else {
        5120
    };
    s2.div_ceil(chunk) * chunk - overhead
}

/// Prefix-pads `plain` with zeros to `padded_size(len, OVERHEAD)`.
///
/// ```
/// let p = metaless_config::encrypt::pad(b"d1:#i0ee");
/// assert_eq!(p.len(), 216);
/// assert!(p.ends_with(b"d1:#i0ee") && p[0] == 0);
/// ```
pub fn pad(plain: &[u8]) -> Vec<u8> {
    let target = padded_size(plain.len(), OVERHEAD);
    let mut out = Vec::with_capacity(target);
    out.resize(target - plain.len(), 0);
    out.extend_from_slice(plain);
    out
}

/// Strips the leading zero padding (a bt message never starts with a zero byte).
///
/// ```
/// assert_eq!(metaless_config::encrypt::unpad(b"\0\0d1:ae"), b"d1:ae");
/// ```
pub fn unpad(padded: &[u8]) -> &[u8] {
    let start = padded.iter().position(|&b| b != 0).unwrap_or(padded.len());
    &padded[start..]
}

/// `"z" ‖ zstd(plain)` at `level` when that is shorter than `plain`, else `plain` unchanged.
///
/// ```
/// let big = vec![b'd'; 4000];
/// let z = metaless_config::encrypt::compress(&big, 1);
/// assert!(z.len() < 100 && z[0] == b'z');
/// assert_eq!(metaless_config::encrypt::compress(b"d1:#i0ee", 1), b"d1:#i0ee");
/// ```
pub fn compress(plain: &[u8], level: i32) -> Vec<u8> {
    match zstd::bulk::compress(plain, level) {
        Ok(z) if z.len() + 1 < plain.len() => {
            let mut out = Vec::with_capacity(z.len() + 1);
            out.push(b'z');
            out.extend_from_slice(&z);
            out
        }
        _ => plain.to_vec(),
    }
}

/// Undoes [`compress`] on unpadded bytes: `z…` is inflated (to at most
/// [`limits::BT_MAX_LEN`] bytes), `d…` is returned as is; anything else is refused.
///
/// ```
/// use metaless_config::encrypt::{compress, decompress};
/// let big = vec![b'd'; 4000];
/// assert_eq!(decompress(&compress(&big, 1)).unwrap(), big);
/// assert!(decompress(b"x").is_err());
/// ```
pub fn decompress(unpadded: &[u8]) -> Result<Vec<u8>, ConfigError> {
    match unpadded.first() {
        Some(b'd') => Ok(unpadded.to_vec()),
        Some(b'z') => {
            let out = zstd::bulk::decompress(&unpadded[1..], limits::BT_MAX_LEN)
                .map_err(|_| ConfigError::Decompress)?;
            if out.first() != Some(&b'd') {
                return Err(ConfigError::NotAConfig);
            }
            Ok(out)
        }
        Some(b'm') => Err(ConfigError::Multipart),
        _ => Err(ConfigError::NotAConfig),
    }
}

fn check_domain(domain: &str) -> Result<(), ConfigError> {
    if domain.is_empty() || domain.len() > MAX_DOMAIN_LEN {
        return Err(ConfigError::BadDomain);
    }
    Ok(())
}

fn nonce_for(plain: &[u8], domain: &str) -> Result<[u8; 24], ConfigError> {
    let mut key = Vec::with_capacity(NONCE_KEY_PREFIX.len() + domain.len());
    key.extend_from_slice(NONCE_KEY_PREFIX);
    key.extend_from_slice(domain.as_bytes());
    let mut h =
        <Blake2bMac<U24> as Mac>::new_from_slice(&key).map_err(|_| ConfigError::BadDomain)?;
    Mac::update(&mut h, plain);
    Ok(h.finalize_fixed().into())
}

fn key_for(key_base: &[u8; 32], len: usize, domain: &str) -> Zeroizing<[u8; 32]> {
    let mut h = Blake2b::<U32>::new();
    Update::update(&mut h, key_base);
    Update::update(&mut h, &(len as u64).to_be_bytes());
    Update::update(&mut h, domain.as_bytes());
    Zeroizing::new(h.finalize().into())
}

/// Encrypts already padded (or any) bytes exactly as given: `ciphertext ‖ nonce`.
///
/// ```
/// let ct = metaless_config::encrypt::encrypt(b"hello", &[1; 32], "Contacts").unwrap();
/// assert_eq!(ct.len(), 5 + 40);
/// assert!(metaless_config::encrypt::encrypt(b"x", &[1; 32], "").is_err());
/// ```
pub fn encrypt(plain: &[u8], key_base: &[u8; 32], domain: &str) -> Result<Vec<u8>, ConfigError> {
    check_domain(domain)?;
    let nonce = nonce_for(plain, domain)?;
    let key = key_for(key_base, plain.len(), domain);
    let mut out = Vec::with_capacity(plain.len() + OVERHEAD);
    out.extend_from_slice(plain);
    let tag = xchacha20poly1305::seal_in_place_detached(&key, &nonce, &[], &mut out)
        .map_err(|_| ConfigError::Decrypt)?;
    out.extend_from_slice(&tag);
    out.extend_from_slice(&nonce);
    Ok(out)
}

/// Decrypts `ciphertext ‖ nonce`; the result is still padded. Any failure is
/// [`ConfigError::Decrypt`] without detail.
///
/// ```
/// use metaless_config::{encrypt::{decrypt, encrypt}, ConfigError};
/// let mut ct = encrypt(b"hello", &[1; 32], "Contacts").unwrap();
/// ct[0] ^= 1;
/// assert_eq!(decrypt(&ct, &[1; 32], "Contacts").unwrap_err(), ConfigError::Decrypt);
/// ```
pub fn decrypt(
    data: &[u8],
    key_base: &[u8; 32],
    domain: &str,
) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    check_domain(domain)?;
    if data.len() > limits::MAX_MESSAGE_SIZE {
        return Err(ConfigError::TooLarge {
            len: data.len(),
            max: limits::MAX_MESSAGE_SIZE,
        });
    }
    if data.len() < OVERHEAD {
        return Err(ConfigError::Decrypt);
    }
    let (ct, nonce) = data.split_at(data.len() - 24);
    let nonce: &[u8; 24] = nonce.try_into().map_err(|_| ConfigError::Decrypt)?;
    let key = key_for(key_base, ct.len() - 16, domain);
    let plain = xchacha20poly1305::open(&key, nonce, &[], ct).map_err(|_| ConfigError::Decrypt)?;
    Ok(Zeroizing::new(plain))
}

/// The push pipeline below the protobuf wrap: optionally compress, pad, encrypt.
///
/// ```
/// use metaless_config::encrypt::{seal, open};
/// let ct = seal(b"d1:#i0e1:&de1:<le1:=dee", &[9; 32], "UserProfile", Some(1)).unwrap();
/// assert_eq!(ct.len(), 256);
/// assert_eq!(open(&ct, &[9; 32], "UserProfile").unwrap(), b"d1:#i0e1:&de1:<le1:=dee");
/// ```
pub fn seal(
    serialized: &[u8],
    key_base: &[u8; 32],
    domain: &str,
    compression_level: Option<i32>,
) -> Result<Vec<u8>, ConfigError> {
    let body = match compression_level {
        Some(level) => compress(serialized, level),
        None => serialized.to_vec(),
    };
    let mut padded = pad(&body);
    let out = encrypt(&padded, key_base, domain);
    padded.zeroize();
    let out = out?;
    if out.len() > limits::MAX_MESSAGE_SIZE {
        return Err(ConfigError::TooLarge {
            len: out.len(),
            max: limits::MAX_MESSAGE_SIZE,
        });
    }
    Ok(out)
}

/// The receive pipeline: decrypt, strip the zero padding, inflate `z…`; the result starts with
/// `d` (a bt dict, not yet parsed).
///
/// ```
/// use metaless_config::{encrypt::open, ConfigError};
/// assert_eq!(open(&[0u8; 10], &[9; 32], "UserProfile").unwrap_err(), ConfigError::Decrypt);
/// ```
pub fn open(data: &[u8], key_base: &[u8; 32], domain: &str) -> Result<Vec<u8>, ConfigError> {
    let plain = decrypt(data, key_base, domain)?;
    decompress(unpad(&plain))
}
