//! One layer's symmetric encryption, exactly as upstream `HopEncryption` / `ChannelEncryption`.
//!
//! * `xchacha20`: key = BLAKE2b-256 (unkeyed) of `DH ‖ client public ‖ node public` — the
//!   client's (ephemeral) key first whichever side hashes; 24-byte random nonce prefix;
//!   XChaCha20-Poly1305 with no associated data; 16-byte tag suffix.
//! * `aes-gcm`: key = HMAC-SHA256 with key `"LOKI"` over `DH`; 12-byte random IV prefix;
//!   AES-256-GCM with no associated data; 16-byte tag suffix.
//!
//! The same key serves the request layer and the reply, so both ends derive it once.
//! Everything here works in place on caller buffers with detached tags.

use alloc::vec::Vec;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use hmac::{Hmac, Mac};
use metaless_cipher::{aes256gcm, xchacha20poly1305};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{EncType, OnionError, TAG_LEN};

/// `(nonce, ciphertext, tag)` views of a sealed blob.
pub(crate) type Sealed<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// The symmetric key of one layer (request and reply), zeroized on drop.
pub(crate) struct LayerKey {
    enc: EncType,
    key: Zeroizing<[u8; 32]>,
}

impl LayerKey {
    /// Derives the key from the X25519 shared secret and the two public keys.
    pub(crate) fn derive(
        enc: EncType,
        shared: &[u8; 32],
        client_public: &[u8; 32],
        node_public: &[u8; 32],
    ) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        match enc {
            EncType::XChaCha20 => {
                let mut h = Blake2b::<U32>::new();
                h.update(shared);
                h.update(client_public);
                h.update(node_public);
                key.copy_from_slice(&h.finalize());
            }
            EncType::AesGcm => {
                // HMAC accepts keys of any length, so this cannot fail; a failure would only
                // leave the key zero, which every decryption then rejects.
                if let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(b"LOKI") {
                    mac.update(shared);
                    key.copy_from_slice(&mac.finalize().into_bytes());
                }
            }
        }
        Self { enc, key }
    }

    pub(crate) fn enc(&self) -> EncType {
        self.enc
    }

    /// Encrypts `buf` in place under `nonce` (of [`EncType::nonce_len`] bytes); returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN], OnionError> {
        let tag = match self.enc {
            EncType::XChaCha20 => {
                let nonce: [u8; 24] = nonce.try_into().map_err(|_| OnionError::Decrypt)?;
                xchacha20poly1305::seal_in_place_detached(&self.key, &nonce, b"", buf).ok()
            }
            EncType::AesGcm => {
                let nonce: [u8; 12] = nonce.try_into().map_err(|_| OnionError::Decrypt)?;
                aes256gcm::seal_in_place_detached(&self.key, &nonce, b"", buf).ok()
            }
        };
        // The ciphers only refuse inputs of gigabytes, far beyond the layer limit.
        tag.ok_or(OnionError::TooLarge {
            what: "plaintext",
            len: buf.len(),
            max: crate::limits::MAX_LAYER_SIZE,
        })
    }

    /// Verifies `tag` and decrypts `buf` in place; on failure `buf` is left as it was.
    pub(crate) fn open(&self, nonce: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<(), OnionError> {
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| OnionError::Decrypt)?;
        let ok = match self.enc {
            EncType::XChaCha20 => {
                let nonce: [u8; 24] = nonce.try_into().map_err(|_| OnionError::Decrypt)?;
                xchacha20poly1305::open_in_place_detached(&self.key, &nonce, b"", buf, &tag).is_ok()
            }
            EncType::AesGcm => {
                let nonce: [u8; 12] = nonce.try_into().map_err(|_| OnionError::Decrypt)?;
                aes256gcm::open_in_place_detached(&self.key, &nonce, b"", buf, &tag).is_ok()
            }
        };
        if ok { Ok(()) } else { Err(OnionError::Decrypt) }
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext` in one new buffer (one allocation).
    pub(crate) fn seal_to_vec(
        &self,
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, OnionError> {
        let n = self.enc.nonce_len();
        let mut out = Vec::with_capacity(n + plaintext.len() + TAG_LEN);
        out.resize(n, 0);
        rng.fill_bytes(&mut out);
        out.extend_from_slice(plaintext);
        let (nonce, body) = out.split_at_mut(n);
        let tag = self.seal(nonce, body)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Splits `nonce ‖ ciphertext ‖ tag` (too short is a decryption failure, as upstream).
    pub(crate) fn split<'a>(&self, blob: &'a [u8]) -> Result<Sealed<'a>, OnionError> {
        let n = self.enc.nonce_len();
        if blob.len() < n + TAG_LEN {
            return Err(OnionError::Decrypt);
        }
        let (nonce, rest) = blob.split_at(n);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        Ok((nonce, ct, tag))
    }

    /// Decrypts `nonce ‖ ciphertext ‖ tag` into a new buffer with `spare` bytes of extra
    /// capacity (one allocation: the copy the in-place decryption runs on).
    pub(crate) fn open_to_vec(&self, blob: &[u8], spare: usize) -> Result<Vec<u8>, OnionError> {
        let (nonce, ct, tag) = self.split(blob)?;
        let mut out = Vec::with_capacity(ct.len().saturating_add(spare));
        out.extend_from_slice(ct);
        self.open(nonce, &mut out, tag)?;
        Ok(out)
    }
}
