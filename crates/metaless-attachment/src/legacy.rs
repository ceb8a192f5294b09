//! The legacy attachment scheme (session-desktop `attachmentsEncrypter.ts`), still produced by
//! older clients: `blob = iv(16) ‖ AES-256-CBC-PKCS7(aes_key, iv, padded) ‖
//! HMAC-SHA256(mac_key, iv ‖ ct)(32)`, key = `aes_key(32) ‖ mac_key(32)`, digest =
//! `SHA-256(blob)` carried in the pointer.

use alloc::vec::Vec;
use core::fmt;

use aes::Aes256;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::AttachmentError;
use crate::limits::{
    LEGACY_IV_SIZE, LEGACY_KEY_SIZE, LEGACY_MAC_SIZE, LEGACY_MIN_BLOB, LEGACY_MIN_PADDED,
    MAX_ATTACHMENT_FILESIZE,
};

type HmacSha256 = Hmac<Sha256>;

/// A legacy 64-byte attachment key: AES-256 key ‖ HMAC-SHA256 key. Zeroized, redacted `Debug`.
///
/// ```
/// use metaless_attachment::LegacyKey;
/// let key = LegacyKey::from_slice(&[1; 64]).unwrap();
/// assert_eq!(format!("{key:?}"), "LegacyKey(<redacted>)");
/// assert!(LegacyKey::from_slice(&[1; 32]).is_err());
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct LegacyKey([u8; LEGACY_KEY_SIZE]);

impl LegacyKey {
    /// Wraps 64 key bytes.
    pub fn from_bytes(bytes: [u8; LEGACY_KEY_SIZE]) -> Self {
        Self(bytes)
    }

    /// Wraps a key from a pointer; refuses any length but 64.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, AttachmentError> {
        let arr: [u8; LEGACY_KEY_SIZE] =
            bytes.try_into().map_err(|_| AttachmentError::KeyLength {
                expected: LEGACY_KEY_SIZE,
                got: bytes.len(),
            })?;
        Ok(Self(arr))
    }

    /// A fresh random key (what desktop does for every legacy upload).
    ///
    /// ```
    /// # use metaless_attachment::LegacyKey;
    /// # use rand_core::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
    /// assert_ne!(LegacyKey::generate(&mut rng), LegacyKey::generate(&mut rng));
    /// ```
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = [0u8; LEGACY_KEY_SIZE];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The key bytes, for the pointer.
    pub fn expose_secret(&self) -> &[u8; LEGACY_KEY_SIZE] {
        &self.0
    }

    fn aes(&self) -> Aes256 {
        Aes256::new(GenericArray::from_slice(&self.0[..32]))
    }

    fn mac(&self) -> HmacSha256 {
        match <HmacSha256 as Mac>::new_from_slice(&self.0[32..]) {
            Ok(m) => m,
            // HMAC takes keys of any length.
            Err(_) => <HmacSha256 as Mac>::new(&GenericArray::default()),
        }
    }
}

impl PartialEq for LegacyKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for LegacyKey {}

impl fmt::Debug for LegacyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LegacyKey(<redacted>)")
    }
}

/// Desktop's attachment padding target: `max(541, ⌊1.05^⌈ln n / ln 1.05⌉⌋)`, clamped to
/// 10 000 000 when `n` ≤ 10 000 000 (never below `n`).
///
/// ```
/// use metaless_attachment::legacy_padded_size;
/// assert_eq!(legacy_padded_size(100), 541);
/// assert_eq!(legacy_padded_size(542), 568);
/// assert_eq!(legacy_padded_size(9_999_999), 10_000_000);
/// ```
pub fn legacy_padded_size(n: u64) -> u64 {
    if n == 0 {
        return LEGACY_MIN_PADDED;
    }
    let steps = ((n as f64).ln() / 1.05f64.ln()).ceil();
    let grown = 1.05f64.powf(steps).floor();
    let mut padded = if grown.is_finite() && grown > 0.0 {
        (grown as u64).max(LEGACY_MIN_PADDED)
    } else {
        LEGACY_MIN_PADDED
    };
    if padded > MAX_ATTACHMENT_FILESIZE && n <= MAX_ATTACHMENT_FILESIZE {
        padded = MAX_ATTACHMENT_FILESIZE;
    }
    // Rounding could land a hair under n; desktop would then fail, we keep the data whole.
    padded.max(n)
}

/// A legacy encryption: the blob to upload and the digest for the pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyBlob {
    /// `iv ‖ ciphertext ‖ mac`.
    pub blob: Vec<u8>,
    /// `SHA-256(blob)`.
    pub digest: [u8; 32],
}

/// Legacy encryption with a given IV (tests, or callers with their own RNG plumbing); `pad`
/// applies [`legacy_padded_size`] zero padding first (attachments yes, link-preview images no).
///
/// ```
/// use metaless_attachment::{decrypt_legacy, encrypt_legacy, LegacyKey};
/// let key = LegacyKey::from_bytes([4; 64]);
/// let out = encrypt_legacy(&key, [9; 16], b"hello", true);
/// assert_eq!(out.blob.len(), 16 + 544 + 32); // 541 padded bytes + PKCS7 to 544
/// let plain = decrypt_legacy(&key, &out.blob, Some(&out.digest), Some(5)).unwrap();
/// assert_eq!(plain, b"hello");
/// ```
pub fn encrypt_legacy(
    key: &LegacyKey,
    iv: [u8; LEGACY_IV_SIZE],
    data: &[u8],
    pad: bool,
) -> LegacyBlob {
    let padded_len = if pad {
        legacy_padded_size(data.len() as u64) as usize
    } else {
        data.len()
    };
    let ct_len = (padded_len / 16 + 1) * 16;
    let mut blob = Vec::with_capacity(LEGACY_IV_SIZE + ct_len + LEGACY_MAC_SIZE);
    blob.extend_from_slice(&iv);
    blob.extend_from_slice(data);
    blob.resize(LEGACY_IV_SIZE + padded_len, 0);
    let fill = (ct_len - padded_len) as u8;
    blob.resize(LEGACY_IV_SIZE + ct_len, fill);
    let aes = key.aes();
    let mut prev = iv;
    for block in blob[LEGACY_IV_SIZE..].chunks_exact_mut(16) {
        for (b, p) in block.iter_mut().zip(prev.iter()) {
            *b ^= p;
        }
        aes.encrypt_block(GenericArray::from_mut_slice(block));
        prev.copy_from_slice(block);
    }
    let mut mac = key.mac();
    mac.update(&blob);
    let tag = mac.finalize().into_bytes();
    blob.extend_from_slice(&tag);
    let digest: [u8; 32] = Sha256::digest(&blob).into();
    LegacyBlob { blob, digest }
}

/// Legacy encryption with a random key and IV. Returns the key and the blob.
///
/// ```
/// use metaless_attachment::{decrypt_legacy, encrypt_legacy_random};
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([2; 32]);
/// let (key, out) = encrypt_legacy_random(&mut rng, b"data", true);
/// assert_eq!(decrypt_legacy(&key, &out.blob, Some(&out.digest), Some(4)).unwrap(), b"data");
/// ```
pub fn encrypt_legacy_random(
    rng: &mut impl CryptoRngCore,
    data: &[u8],
    pad: bool,
) -> (LegacyKey, LegacyBlob) {
    let key = LegacyKey::generate(rng);
    let mut iv = [0u8; LEGACY_IV_SIZE];
    rng.fill_bytes(&mut iv);
    let blob = encrypt_legacy(&key, iv, data, pad);
    (key, blob)
}

/// Legacy decryption as desktop does it: MAC first, then the pointer's digest (required),
/// then AES-CBC; the padding is cut to `size` when given and the data is longer.
///
/// ```
/// use metaless_attachment::{decrypt_legacy, encrypt_legacy, AttachmentError, LegacyKey};
/// let key = LegacyKey::from_bytes([4; 64]);
/// let mut out = encrypt_legacy(&key, [9; 16], b"hello", true);
/// assert_eq!(decrypt_legacy(&key, &out.blob, None, Some(5)), Err(AttachmentError::BadDigest));
/// out.blob[20] ^= 1;
/// assert_eq!(decrypt_legacy(&key, &out.blob, Some(&out.digest), Some(5)), Err(AttachmentError::BadMac));
/// ```
pub fn decrypt_legacy(
    key: &LegacyKey,
    blob: &[u8],
    digest: Option<&[u8]>,
    size: Option<u64>,
) -> Result<Vec<u8>, AttachmentError> {
    if blob.len() < LEGACY_MIN_BLOB {
        return Err(AttachmentError::Truncated);
    }
    let (body, tag) = blob.split_at(blob.len() - LEGACY_MAC_SIZE);
    let mut mac = key.mac();
    mac.update(body);
    mac.verify_slice(tag).map_err(|_| AttachmentError::BadMac)?;
    let ours: [u8; 32] = Sha256::digest(blob).into();
    match digest {
        Some(d) if bool::from(ours.ct_eq(d)) => {}
        _ => return Err(AttachmentError::BadDigest),
    }
    let (iv, ct) = body.split_at(LEGACY_IV_SIZE);
    if ct.len() % 16 != 0 {
        return Err(AttachmentError::BadCipherPadding);
    }
    let aes = key.aes();
    let mut out = ct.to_vec();
    let mut prev = [0u8; 16];
    prev.copy_from_slice(iv);
    for block in out.chunks_exact_mut(16) {
        let mut this = [0u8; 16];
        this.copy_from_slice(block);
        aes.decrypt_block(GenericArray::from_mut_slice(block));
        for (b, p) in block.iter_mut().zip(prev.iter()) {
            *b ^= p;
        }
        prev = this;
    }
    let fill = out.last().copied().unwrap_or(0) as usize;
    if fill == 0
        || fill > 16
        || fill > out.len()
        || !out[out.len() - fill..].iter().all(|b| *b as usize == fill)
    {
        out.zeroize();
        return Err(AttachmentError::BadCipherPadding);
    }
    out.truncate(out.len() - fill);
    if let Some(size) = size {
        let len = out.len() as u64;
        if len < size {
            out.zeroize();
            return Err(AttachmentError::ShortPlaintext { len, size });
        }
        out.truncate(size as usize);
    }
    Ok(out)
}
