//! Server side of one onion hop: frame parsing, layer decryption and the destination's reply
//! encryption, exactly as the network's storage servers do them.
//!
//! This is a thin, node-local adapter: it is written against the wire notes and checked against
//! the upstream vectors in `test-vectors/onionreq.json`; client-side building lives in
//! `metaless-onion`.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit};
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use chacha20poly1305::XChaCha20Poly1305;
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value};
use sha2::Sha256;

use metaless_identity::X25519Secret;
use metaless_identity::wire::Reader;

use crate::limits::MAX_REQUEST_BODY_SIZE;

/// Hop encryption type named by `enc_type` in routing JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncType {
    /// AES-256-GCM with key HMAC-SHA256(key = "LOKI", msg = DH); the default.
    AesGcm,
    /// XChaCha20-Poly1305 with key BLAKE2b-256(DH ‖ client public ‖ node public).
    XChaCha20,
}

impl EncType {
    /// Parses `enc_type` (aliases `gcm`, `xchacha20-poly1305` accepted).
    ///
    /// ```
    /// use metaless_node::hop::EncType;
    /// assert_eq!(EncType::parse("gcm"), Some(EncType::AesGcm));
    /// assert_eq!(EncType::parse("xchacha20-poly1305"), Some(EncType::XChaCha20));
    /// assert_eq!(EncType::parse("rot13"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "aes-gcm" | "gcm" => Some(Self::AesGcm),
            "xchacha20" | "xchacha20-poly1305" => Some(Self::XChaCha20),
            _ => None,
        }
    }

    /// The name written into routing JSON.
    ///
    /// ```
    /// assert_eq!(metaless_node::hop::EncType::XChaCha20.as_str(), "xchacha20");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AesGcm => "aes-gcm",
            Self::XChaCha20 => "xchacha20",
        }
    }
}

/// The symmetric key one hop shares with the client's ephemeral key.
pub(crate) struct HopKey {
    key: [u8; 32],
    enc: EncType,
}

impl Drop for HopKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

impl HopKey {
    /// Node side of the key agreement; `None` for a degenerate (all-zero) DH.
    pub(crate) fn server(
        secret: &X25519Secret,
        client_public: &[u8; 32],
        enc: EncType,
    ) -> Option<Self> {
        let dh = secret.diffie_hellman(client_public).ok()?;
        let key: [u8; 32] = match enc {
            EncType::AesGcm => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"LOKI").ok()?;
                mac.update(&dh);
                mac.finalize().into_bytes().into()
            }
            EncType::XChaCha20 => {
                let mut h = Blake2b::<U32>::new();
                h.update(dh);
                h.update(client_public);
                h.update(secret.public_key());
                h.finalize().into()
            }
        };
        Some(Self { key, enc })
    }

    /// Client side of the same key (its ephemeral secret, the hop's public key).
    pub(crate) fn client(
        secret: &X25519Secret,
        node_public: &[u8; 32],
        enc: EncType,
    ) -> Option<Self> {
        let dh = secret.diffie_hellman(node_public).ok()?;
        let key: [u8; 32] = match enc {
            EncType::AesGcm => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"LOKI").ok()?;
                mac.update(&dh);
                mac.finalize().into_bytes().into()
            }
            EncType::XChaCha20 => {
                let mut h = Blake2b::<U32>::new();
                h.update(dh);
                h.update(secret.public_key());
                h.update(node_public);
                h.finalize().into()
            }
        };
        Some(Self { key, enc })
    }

    /// nonce ‖ ciphertext ‖ tag → plaintext; `None` on any failure (no detail, no oracle).
    pub(crate) fn decrypt(&self, blob: &[u8]) -> Option<Vec<u8>> {
        match self.enc {
            EncType::AesGcm => {
                let (iv, ct) = blob.split_at_checked(12)?;
                Aes256Gcm::new_from_slice(&self.key)
                    .ok()?
                    .decrypt(iv.into(), ct)
                    .ok()
            }
            EncType::XChaCha20 => {
                let (nonce, ct) = blob.split_at_checked(24)?;
                XChaCha20Poly1305::new_from_slice(&self.key)
                    .ok()?
                    .decrypt(nonce.into(), ct)
                    .ok()
            }
        }
    }

    /// plaintext → random nonce ‖ ciphertext ‖ tag.
    pub(crate) fn encrypt(
        &self,
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Vec<u8> {
        match self.enc {
            EncType::AesGcm => {
                let mut iv = [0u8; 12];
                rng.fill_bytes(&mut iv);
                let ct = Aes256Gcm::new_from_slice(&self.key)
                    .ok()
                    .and_then(|c| c.encrypt((&iv).into(), plaintext).ok())
                    .unwrap_or_default();
                [&iv[..], &ct].concat()
            }
            EncType::XChaCha20 => {
                let mut nonce = [0u8; 24];
                rng.fill_bytes(&mut nonce);
                let ct = XChaCha20Poly1305::new_from_slice(&self.key)
                    .ok()
                    .and_then(|c| c.encrypt((&nonce).into(), plaintext).ok())
                    .unwrap_or_default();
                [&nonce[..], &ct].concat()
            }
        }
    }
}

/// Splits `u32 LE length ‖ blob ‖ JSON object` into the blob and the parsed object.
/// Errors carry upstream's texts for the length checks.
pub(crate) fn parse_frame(body: &[u8]) -> Result<(&[u8], Map<String, Value>), String> {
    let mut r = Reader::new(body);
    let n = r
        .u32_le()
        .map_err(|_| "Unexpected payload size; expected ciphertext size".to_string())?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > MAX_REQUEST_BODY_SIZE || r.remaining() < n {
        return Err(format!(
            "Unexpected payload size {}, expected >= {}",
            r.remaining(),
            n
        ));
    }
    let blob = r.take(n).map_err(|e| e.to_string())?;
    let json: Value =
        serde_json::from_slice(r.rest()).map_err(|e| format!("[json.exception] {e}"))?;
    match json {
        Value::Object(map) => Ok((blob, map)),
        _ => Err("[json.exception] routing data is not a JSON object".to_string()),
    }
}

/// Builds `u32 LE length ‖ blob ‖ JSON`.
pub(crate) fn build_frame(blob: &[u8], json: &Value) -> Vec<u8> {
    let json = json.to_string();
    let mut out = Vec::with_capacity(4 + blob.len() + json.len());
    out.extend_from_slice(&u32::try_from(blob.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(blob);
    out.extend_from_slice(json.as_bytes());
    out
}

/// Reads a 32-byte key given as 64 hex characters.
pub(crate) fn hex_key(v: Option<&Value>) -> Option<[u8; 32]> {
    metaless_identity::hex::decode_array::<32>(v?.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../../../test-vectors/onionreq.json")).unwrap()
    }

    fn hx(v: &Value) -> Vec<u8> {
        metaless_identity::hex::decode(v.as_str().unwrap()).unwrap()
    }

    #[test]
    fn upstream_hop_decrypt_vectors() {
        let v = vectors();
        let cases = v["hop_decrypt"].as_array().unwrap();
        for case in cases {
            let secret = X25519Secret::from_bytes(hx(&case["node_secret"]).try_into().unwrap());
            let eph: [u8; 32] = hx(&case["client_ephemeral_public"]).try_into().unwrap();
            let enc = EncType::parse(case["enc_type"].as_str().unwrap()).unwrap();
            let key = HopKey::server(&secret, &eph, enc).unwrap();
            let pt = key.decrypt(&hx(&case["ciphertext"])).unwrap();
            assert_eq!(pt, case["plaintext_utf8"].as_str().unwrap().as_bytes());
        }
        let first = &cases[0];
        let secret = X25519Secret::from_bytes(hx(&first["node_secret"]).try_into().unwrap());
        let eph: [u8; 32] = hx(&first["client_ephemeral_public"]).try_into().unwrap();
        for bad in v["hop_decrypt_must_fail"].as_array().unwrap() {
            let enc = EncType::parse(bad["enc_type"].as_str().unwrap()).unwrap();
            let key = HopKey::server(&secret, &eph, enc).unwrap();
            assert!(key.decrypt(&hx(&bad["ciphertext"])).is_none());
        }
    }

    #[test]
    fn upstream_parse_request_vectors_and_reply_sizes() {
        let v = vectors();
        for case in v["parse_request"].as_array().unwrap() {
            let secret = X25519Secret::from_bytes(hx(&case["node_secret"]).try_into().unwrap());
            let body = hx(&case["body"]);
            let (blob, routing) = parse_frame(&body).unwrap();
            let eph = hex_key(routing.get("ephemeral_key")).unwrap();
            let enc = routing
                .get("enc_type")
                .and_then(Value::as_str)
                .map_or(Some(EncType::AesGcm), EncType::parse)
                .unwrap();
            let key = HopKey::server(&secret, &eph, enc).unwrap();
            assert_eq!(
                key.decrypt(blob).unwrap(),
                case["payload_utf8"].as_str().unwrap().as_bytes()
            );
            // The client side derives the same key from its ephemeral secret.
            let client_secret =
                X25519Secret::from_bytes(hx(&case["client_ephemeral_secret"]).try_into().unwrap());
            let client = HopKey::client(&client_secret, &secret.public_key(), enc).unwrap();
            let reply = key.encrypt(b"Hello, World!", &mut rand_core::OsRng);
            assert_eq!(
                reply.len() as u64,
                case["reply_len_for_13_bytes"].as_u64().unwrap()
            );
            assert_eq!(client.decrypt(&reply).unwrap(), b"Hello, World!");
        }
    }

    #[test]
    fn frame_parsing_never_panics_on_truncation() {
        let body = build_frame(b"abc", &serde_json::json!({"ephemeral_key": "00"}));
        for n in 0..body.len() {
            assert!(parse_frame(&body[..n]).is_err());
        }
        assert!(parse_frame(&body).is_ok());
    }
}
