//! Replies: encrypted once by the destination with the innermost layer's key, passed back
//! unchanged by every hop, opened by the client.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use metaless_identity::X25519Secret;
use rand_core::{CryptoRng, RngCore};

use crate::hop::LayerKey;
use crate::limits::MAX_RESPONSE_SIZE;
use crate::peel::NodeKey;
use crate::x25519::{self, Shared};
use crate::{EncType, OnionError};

/// The destination's half of the innermost layer: decrypts the request, encrypts the reply.
/// Holds only the derived symmetric key (zeroized on drop); `Debug` is redacted.
pub struct ReplyContext {
    key: LayerKey,
    client_ephemeral: [u8; 32],
}

impl ReplyContext {
    pub(crate) fn from_key(key: LayerKey, client_ephemeral: [u8; 32]) -> Self {
        Self {
            key,
            client_ephemeral,
        }
    }

    /// Derives the layer key from the node's key and the client's ephemeral public key (what
    /// [`crate::peel`] does; for answering a request peeled elsewhere).
    ///
    /// ```
    /// use metaless_identity::X25519Secret;
    /// use metaless_onion::{EncType, NodeKey, ReplyContext};
    /// let secret = X25519Secret::from_bytes([4u8; 32]);
    /// let ctx = ReplyContext::new(&NodeKey::new(&secret), &[9u8; 32], EncType::AesGcm).unwrap();
    /// assert_eq!(ctx.client_ephemeral_key(), [9u8; 32]);
    /// assert!(ReplyContext::new(&NodeKey::new(&secret), &[0u8; 32], EncType::AesGcm).is_err());
    /// ```
    pub fn new(
        node: &NodeKey<'_>,
        client_ephemeral: &[u8; 32],
        enc: EncType,
    ) -> Result<Self, OnionError> {
        let shared = node.agree(client_ephemeral)?;
        Ok(Self {
            key: LayerKey::derive(enc, &shared, client_ephemeral, &node.public_key()),
            client_ephemeral: *client_ephemeral,
        })
    }

    /// The layer's (and so the reply's) encryption type.
    pub fn enc_type(&self) -> EncType {
        self.key.enc()
    }

    /// The client's ephemeral public key for this layer.
    pub fn client_ephemeral_key(&self) -> [u8; 32] {
        self.client_ephemeral
    }

    /// Decrypts a blob (`nonce ‖ ciphertext ‖ tag`) the client encrypted to this node.
    pub fn decrypt_request(&self, blob: &[u8]) -> Result<Vec<u8>, OnionError> {
        self.key.open_to_vec(blob, 0)
    }

    /// Encrypts a reply: `nonce ‖ ciphertext ‖ tag`, raw bytes (a service node's HTTP reply is
    /// the base64 text of this unless the request's control JSON said `"base64": false`).
    pub fn encrypt_response(
        &self,
        payload: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, OnionError> {
        self.key.seal_to_vec(payload, rng)
    }

    /// Encrypts a service node's reply object `{"body": <body as a JSON string>, "status": N}`
    /// (upstream `wrap_proxy_response` with its defaults: the body double-encoded as a string).
    ///
    /// ```
    /// # use metaless_identity::X25519Secret;
    /// # use metaless_onion::*;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([0u8; 32]);
    /// let node_secret = X25519Secret::from_bytes([4u8; 32]);
    /// let node = NodeKey::new(&node_secret);
    /// let client = X25519Secret::from_bytes([5u8; 32]);
    /// let ctx = ReplyContext::new(&node, &client.public_key(), EncType::XChaCha20).unwrap();
    /// let sealed = ctx.encrypt_snode_reply(400, "Invalid json", &mut rng).unwrap();
    /// let pending = PendingResponse::from_parts(client, node.public_key(), EncType::XChaCha20).unwrap();
    /// assert_eq!(pending.open(&sealed).unwrap(), br#"{"body":"Invalid json","status":400}"#);
    /// ```
    pub fn encrypt_snode_reply(
        &self,
        status: u16,
        body: &str,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, OnionError> {
        self.encrypt_response(&snode_reply_json(status, body), rng)
    }
}

impl fmt::Debug for ReplyContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyContext")
            .field("enc_type", &self.key.enc())
            .finish_non_exhaustive()
    }
}

/// `{"body":"…","status":N}` with keys in upstream's (sorted) order.
fn snode_reply_json(status: u16, body: &str) -> Vec<u8> {
    let mut map = serde_json::Map::new();
    map.insert("body".into(), serde_json::Value::String(body.into()));
    map.insert("status".into(), serde_json::Value::from(status));
    serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default()
}

/// A service node's decrypted reply: `{"body": …, "status": N}`.
///
/// ```
/// let reply = metaless_onion::SnodeReply::parse(br#"{"body":"{\"hi\":\"123\"}","status":200}"#).unwrap();
/// assert_eq!(reply.status, 200);
/// assert_eq!(reply.body, r#"{"hi":"123"}"#);
/// let embedded = metaless_onion::SnodeReply::parse(br#"{"body":{"hi":"123"},"status":200}"#).unwrap();
/// assert_eq!(embedded.body, r#"{"hi":"123"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnodeReply {
    /// The storage RPC's HTTP status.
    pub status: u16,
    /// The body: the string itself when it was a JSON string (the default, double-encoded
    /// form), otherwise the embedded JSON value serialized compactly.
    pub body: String,
}

impl SnodeReply {
    /// Parses a decrypted reply.
    pub fn parse(plaintext: &[u8]) -> Result<Self, OnionError> {
        #[derive(serde::Deserialize)]
        struct Raw {
            status: u16,
            #[serde(default)]
            body: serde_json::Value,
        }
        let raw: Raw = serde_json::from_slice(plaintext)
            .map_err(|_| OnionError::InvalidJson("snode reply"))?;
        let body = match raw.body {
            serde_json::Value::String(text) => text,
            other => {
                serde_json::to_string(&other).map_err(|_| OnionError::InvalidJson("snode reply"))?
            }
        };
        Ok(Self {
            status: raw.status,
            body,
        })
    }
}

/// What the client keeps from [`crate::build`] to open the reply, and nothing else can:
/// the innermost layer's ephemeral secret, its agreement with the destination (zeroized on
/// drop), and the destination's key. `Debug` is redacted.
pub struct PendingResponse {
    enc: EncType,
    reply_secret: X25519Secret,
    client_public: [u8; 32],
    destination: [u8; 32],
    shared: Shared,
    /// The reply's layer key, derived once here rather than on every open (a BLAKE2b or HMAC
    /// pass, ~10% of opening a 1 KiB reply).
    key: LayerKey,
}

impl PendingResponse {
    pub(crate) fn new(
        enc: EncType,
        reply_secret: X25519Secret,
        client_public: [u8; 32],
        destination: [u8; 32],
        shared: Shared,
    ) -> Self {
        let key = LayerKey::derive(enc, &shared, &client_public, &destination);
        Self {
            enc,
            reply_secret,
            client_public,
            destination,
            shared,
            key,
        }
    }

    /// Rebuilds the state from an exported reply secret (the research CLI's `open-response`).
    ///
    /// ```
    /// use metaless_identity::X25519Secret;
    /// use metaless_onion::{EncType, OnionError, PendingResponse};
    /// let secret = X25519Secret::from_bytes([1u8; 32]);
    /// assert_eq!(PendingResponse::from_parts(secret, [0u8; 32], EncType::AesGcm).err(), Some(OnionError::WeakKey));
    /// ```
    pub fn from_parts(
        reply_secret: X25519Secret,
        destination_x25519: [u8; 32],
        enc: EncType,
    ) -> Result<Self, OnionError> {
        let shared = x25519::agree(reply_secret.expose_secret(), &destination_x25519)?;
        let client_public = x25519::scalarmult_base(reply_secret.expose_secret());
        Ok(Self::new(
            enc,
            reply_secret,
            client_public,
            destination_x25519,
            shared,
        ))
    }

    /// The encryption type the request used.
    pub fn enc_type(&self) -> EncType {
        self.enc
    }

    /// The destination's X25519 public key.
    pub fn destination_x25519(&self) -> [u8; 32] {
        self.destination
    }

    /// The innermost layer's ephemeral public key (what the destination saw).
    pub fn client_ephemeral_key(&self) -> [u8; 32] {
        self.client_public
    }

    /// Gives up the reply secret, for research tools that must print it. Whoever holds it can
    /// read the reply.
    pub fn into_reply_secret(self) -> X25519Secret {
        self.reply_secret
    }

    /// Opens a reply: raw `nonce ‖ ciphertext ‖ tag`, or its base64 text (a service node's
    /// default). As upstream clients do, an `xchacha20` reply that fails is retried as
    /// `aes-gcm` (legacy servers answer errors that way).
    pub fn open(&self, response: &[u8]) -> Result<Vec<u8>, OnionError> {
        if response.len() > MAX_RESPONSE_SIZE {
            return Err(OnionError::TooLarge {
                what: "response",
                len: response.len(),
                max: MAX_RESPONSE_SIZE,
            });
        }
        match self.open_raw(response) {
            Ok(plaintext) => Ok(plaintext),
            Err(err) => {
                let text = response.trim_ascii();
                // Only text that could be base64 is worth decoding.
                if text.is_empty()
                    || !text
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
                {
                    return Err(err);
                }
                let decoded = STANDARD.decode(text).map_err(|_| OnionError::Decrypt)?;
                self.open_raw(&decoded)
            }
        }
    }

    fn open_raw(&self, response: &[u8]) -> Result<Vec<u8>, OnionError> {
        match self.key.open_to_vec(response, 0) {
            Ok(plaintext) => Ok(plaintext),
            Err(err) if self.enc == EncType::XChaCha20 => {
                let legacy = LayerKey::derive(
                    EncType::AesGcm,
                    &self.shared,
                    &self.client_public,
                    &self.destination,
                );
                legacy.open_to_vec(response, 0).map_err(|_| err)
            }
            Err(err) => Err(err),
        }
    }
}

impl fmt::Debug for PendingResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingResponse")
            .field("enc_type", &self.enc)
            .finish_non_exhaustive()
    }
}
