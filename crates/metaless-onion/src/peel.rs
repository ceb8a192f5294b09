//! The hop side: decode a layer, decrypt it, and decide what to do with what is inside.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use metaless_identity::wire::{Reader, Writer};
use metaless_identity::{Keypair, X25519Secret};

use crate::hop::LayerKey;
use crate::json::{self, JsonStr, Object};
use crate::limits::{MAX_LAYER_SIZE, MAX_ROUTING_JSON_SIZE};
use crate::reply::ReplyContext;
use crate::{EncType, HopError, OnionError, x25519};

/// A node's X25519 key as a hop uses it: the secret, and the public key derived once (every
/// `xchacha20` layer hashes it, so deriving it per request would cost a base-point
/// multiplication each time).
///
/// ```
/// use metaless_identity::X25519Secret;
/// use metaless_onion::NodeKey;
/// let secret = X25519Secret::from_bytes([9u8; 32]);
/// let node = NodeKey::new(&secret);
/// assert_eq!(node.public_key(), secret.public_key());
/// ```
pub struct NodeKey<'a> {
    secret: &'a X25519Secret,
    public: [u8; 32],
}

impl<'a> NodeKey<'a> {
    /// Derives the public key from the secret.
    pub fn new(secret: &'a X25519Secret) -> Self {
        Self {
            secret,
            public: x25519::scalarmult_base(secret.expose_secret()),
        }
    }

    /// Uses an account keypair's X25519 half (already derived, so this is free).
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([3u8; 32]));
    /// assert_eq!(metaless_onion::NodeKey::from_keypair(&keys).public_key(), keys.x25519_public());
    /// ```
    pub fn from_keypair(keys: &'a Keypair) -> Self {
        Self {
            secret: keys.x25519_secret(),
            public: keys.x25519_public(),
        }
    }

    /// The node's X25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    pub(crate) fn agree(&self, peer: &[u8; 32]) -> Result<x25519::Shared, OnionError> {
        x25519::agree(self.secret.expose_secret(), peer)
    }
}

impl fmt::Debug for NodeKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeKey").finish_non_exhaustive()
    }
}

/// One layer as it arrives: `u32 LE length ‖ ciphertext ‖ JSON metadata`, decoded but not yet
/// decrypted.
///
/// ```
/// use metaless_onion::{decode_layer, EncType};
/// let mut body = vec![3, 0, 0, 0, 1, 2, 3];
/// body.extend_from_slice(format!(r#"{{"ephemeral_key":"{}"}}"#, "11".repeat(32)).as_bytes());
/// let layer = decode_layer(&body).unwrap();
/// assert_eq!(layer.ciphertext, &[1, 2, 3]);
/// assert_eq!(layer.enc_type, EncType::AesGcm); // absent means aes-gcm
/// assert_eq!(layer.ephemeral_key, [0x11; 32]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer<'a> {
    /// The encrypted blob (`nonce ‖ ciphertext ‖ tag`).
    pub ciphertext: &'a [u8],
    /// The client's ephemeral X25519 public key for this layer.
    pub ephemeral_key: [u8; 32],
    /// How the blob is encrypted.
    pub enc_type: EncType,
}

/// Decodes a layer's framing and metadata, with every limit checked before use.
///
/// ```
/// use metaless_onion::{decode_layer, OnionError};
/// assert!(matches!(decode_layer(&[1, 0]), Err(OnionError::Wire(_))));
/// assert!(matches!(decode_layer(&[0, 0, 0, 0, b'{', b'}']), Err(OnionError::MissingEphemeralKey)));
/// ```
pub fn decode_layer(body: &[u8]) -> Result<Layer<'_>, OnionError> {
    if body.len() > MAX_LAYER_SIZE {
        return Err(OnionError::TooLarge {
            what: crate::error::ONION_BODY,
            len: body.len(),
            max: MAX_LAYER_SIZE,
        });
    }
    let mut reader = Reader::new(body);
    let ciphertext = reader.u32_le_prefixed("layer ciphertext", MAX_LAYER_SIZE)?;
    let meta = reader.rest();
    if meta.len() > MAX_ROUTING_JSON_SIZE {
        return Err(OnionError::TooLarge {
            what: "layer metadata",
            len: meta.len(),
            max: MAX_ROUTING_JSON_SIZE,
        });
    }
    let meta = Object::parse(meta)?;
    // Upstream parses enc_type before looking for the key.
    let enc_type = meta.enc_type()?;
    let ephemeral_key = meta.key("ephemeral_key", OnionError::MissingEphemeralKey)?;
    Ok(Layer {
        ciphertext,
        ephemeral_key,
        enc_type,
    })
}

/// Room kept after a decrypted layer so the forwarded metadata can replace the routing JSON
/// without reallocating: the metadata is at most 107 bytes, 118–119 once a relay appends
/// `"hop_no"` ([`crate::with_hop_no`]) for any hop count a node accepts.
const FORWARD_SPARE: usize = 128;

fn open_decoded(
    node: &NodeKey<'_>,
    layer: &Layer<'_>,
    spare: usize,
) -> Result<(Vec<u8>, ReplyContext), OnionError> {
    let shared = node.agree(&layer.ephemeral_key)?;
    let key = LayerKey::derive(layer.enc_type, &shared, &layer.ephemeral_key, &node.public);
    let plaintext = key.open_to_vec(layer.ciphertext, spare)?;
    Ok((plaintext, ReplyContext::from_key(key, layer.ephemeral_key)))
}

/// Decodes and decrypts one layer, returning the raw plaintext: what an HTTP server destination
/// (a SOGS or file server receiving the last hop's `POST /oxen/v4/lsrpc`) does with its body —
/// the plaintext is then the v4 request. Upstream's `OnionReqParser`.
///
/// ```
/// # use metaless_onion::*;
/// # use metaless_identity::X25519Secret;
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([2u8; 32]);
/// let server_secret = X25519Secret::from_bytes([8u8; 32]);
/// let server = NodeKey::new(&server_secret);
/// let hop_secret = X25519Secret::from_bytes([7u8; 32]);
/// let hop = Hop::new([1u8; 32], hop_secret.public_key());
/// let dest = Destination::Server(ServerDestination::new("example.org", 443, "https", server.public_key()).unwrap());
/// let built = build(&[hop], &dest, b"l2:{}e", EncType::XChaCha20, &mut rng).unwrap();
/// let Peeled::Server { body, .. } = peel(&NodeKey::new(&hop_secret), &built.body).unwrap() else { panic!() };
/// let (request, reply) = open_layer(&server, &body).unwrap();
/// assert_eq!(request, b"l2:{}e");
/// let response = reply.encrypt_response(b"l2:{}0:e", &mut rng).unwrap();
/// assert_eq!(built.pending.open(&response).unwrap(), b"l2:{}0:e");
/// ```
pub fn open_layer(node: &NodeKey<'_>, body: &[u8]) -> Result<(Vec<u8>, ReplyContext), OnionError> {
    let layer = decode_layer(body)?;
    open_decoded(node, &layer, 0)
}

/// What a hop does with a request after peeling its layer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Peeled {
    /// Send `body` to the service node `next_ed25519` (upstream relays `blob`, `ephemeral_key`
    /// and `enc_type` node-to-node; `body` is the same three in the first-hop framing).
    Forward {
        /// The next node's Ed25519 public key.
        next_ed25519: [u8; 32],
        /// The ephemeral key the next node decrypts with.
        ephemeral_key: [u8; 32],
        /// The next layer's encryption type.
        enc_type: EncType,
        /// `u32 LE length ‖ blob ‖ {"enc_type":…,"ephemeral_key":…}`.
        body: Vec<u8>,
    },
    /// `POST` `body` to `protocol://host:port/target`. As upstream, `body` is this whole
    /// decrypted layer (frame and routing JSON): the server parses it like a first hop.
    Server {
        /// Host name or address.
        host: String,
        /// Path, `/oxen/…/lsrpc` or `/loki/…/lsrpc`.
        target: String,
        /// Port (upstream's default when absent is 443, whatever the protocol).
        port: u16,
        /// `http` or `https`.
        protocol: String,
        /// The bytes to post.
        body: Vec<u8>,
    },
    /// This node is the destination.
    Deliver(Delivery),
    /// The layer decrypted but its contents are invalid; upstream answers with this error
    /// encrypted to the layer's key (see [`ReplyContext::encrypt_snode_reply`]).
    Reject {
        /// [`HopError::InvalidJson`] or [`HopError::InvalidUrl`].
        error: HopError,
        /// The layer's reply key.
        reply: ReplyContext,
    },
}

/// A request delivered to this node: the payload (a JSON storage request), the control flags
/// and the key to encrypt the reply with. Holds the decrypted layer; the payload is a view
/// into it, not a copy.
pub struct Delivery {
    plaintext: Vec<u8>,
    payload_len: usize,
    json: bool,
    base64: bool,
    reply: ReplyContext,
}

impl Delivery {
    /// The request payload.
    pub fn payload(&self) -> &[u8] {
        self.plaintext
            .get(4..4 + self.payload_len)
            .unwrap_or_default()
    }

    /// The reply key.
    pub fn reply(&self) -> &ReplyContext {
        &self.reply
    }

    /// Control flag `"json"`: embed a JSON body in the reply as a value rather than as a string
    /// (default false).
    pub fn wants_json(&self) -> bool {
        self.json
    }

    /// Control flag `"base64"`: base64 the encrypted reply (default true).
    pub fn wants_base64(&self) -> bool {
        self.base64
    }

    /// The payload (moved to the front of the buffer, no new allocation) and the reply key.
    pub fn into_parts(self) -> (Vec<u8>, ReplyContext) {
        let Delivery {
            mut plaintext,
            payload_len,
            reply,
            ..
        } = self;
        plaintext.truncate(4 + payload_len);
        plaintext.drain(..4.min(plaintext.len()));
        (plaintext, reply)
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("payload_len", &self.payload_len)
            .field("json", &self.json)
            .field("base64", &self.base64)
            .finish_non_exhaustive()
    }
}

/// What the routing JSON asks for, extracted (owned) so the buffer can then be reused.
enum Route {
    Deliver {
        json: bool,
        base64: bool,
    },
    Server {
        host: String,
        target: String,
        port: u16,
        protocol: String,
    },
    Forward {
        next: [u8; 32],
        ephemeral: [u8; 32],
        enc: EncType,
    },
}

/// Reads `u32 LE length ‖ blob ‖ routing JSON` as upstream's `process_inner_request` does:
/// `headers` present → destination; else `host` → server; else `destination` → next node.
fn route(plaintext: &[u8]) -> Result<(usize, Route), OnionError> {
    let mut reader = Reader::new(plaintext);
    let blob_len = reader.u32_le_prefixed("inner blob", MAX_LAYER_SIZE)?.len();
    let routing = reader.rest();
    if routing.len() > MAX_ROUTING_JSON_SIZE {
        return Err(OnionError::TooLarge {
            what: "routing json",
            len: routing.len(),
            max: MAX_ROUTING_JSON_SIZE,
        });
    }
    let r = Object::parse(routing)?;
    let text = |key: &'static str| -> Result<Option<String>, OnionError> {
        Ok(r.get::<JsonStr<'_>>(key)?.map(|t| t.0.into_owned()))
    };
    let route = if r.has("headers") {
        Route::Deliver {
            json: r.get("json")?.unwrap_or(false),
            base64: r.get("base64")?.unwrap_or(true),
        }
    } else if let Some(host) = text("host")? {
        Route::Server {
            host,
            target: text("target")?
                .ok_or(OnionError::InvalidJson("server route without target"))?,
            port: r.get("port")?.unwrap_or(443),
            protocol: text("protocol")?.unwrap_or_else(|| "https".to_string()),
        }
    } else {
        Route::Forward {
            next: r.key("destination", OnionError::InvalidJson("no destination"))?,
            ephemeral: r.key("ephemeral_key", OnionError::MissingEphemeralKey)?,
            enc: r.enc_type()?,
        }
    };
    Ok((blob_len, route))
}

/// Whether a hop may proxy to `target` (upstream `is_onion_url_target_allowed`).
pub(crate) fn target_allowed(target: &str) -> bool {
    (target.starts_with("/loki/") || target.starts_with("/oxen/"))
        && target.ends_with("/lsrpc")
        && !target.contains('?')
}

/// Peels one layer, as a storage server does with an onion request it receives.
///
/// Errors before decryption (`Err`) are answered in plain text ([`OnionError::hop_error`]);
/// errors after it are [`Peeled::Reject`], answered encrypted. The body is decrypted once into
/// one new buffer, which becomes the forwarded body, the server body or the delivered payload
/// without further copies.
///
/// ```
/// # use metaless_onion::*;
/// # use metaless_identity::X25519Secret;
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([1u8; 32]);
/// let secrets: Vec<X25519Secret> = (1..=3u8).map(|i| X25519Secret::from_bytes([i; 32])).collect();
/// let hops: Vec<Hop> = secrets.iter().enumerate().map(|(i, s)| Hop::new([i as u8; 32], s.public_key())).collect();
/// let dest = Destination::ServiceNode(hops[2].clone());
/// let built = build(&hops[..2], &dest, br#"{"method":"info","params":{}}"#, EncType::XChaCha20, &mut rng).unwrap();
///
/// let mut body = built.body;
/// for (i, secret) in secrets.iter().enumerate().take(2) {
///     match peel(&NodeKey::new(secret), &body).unwrap() {
///         Peeled::Forward { next_ed25519, body: next, .. } => { assert_eq!(next_ed25519, [i as u8 + 1; 32]); body = next; }
///         other => panic!("{other:?}"),
///     }
/// }
/// let Peeled::Deliver(delivery) = peel(&NodeKey::new(&secrets[2]), &body).unwrap() else { panic!() };
/// assert_eq!(delivery.payload(), br#"{"method":"info","params":{}}"#);
/// let reply = delivery.reply().encrypt_response(b"pong", &mut rng).unwrap();
/// assert_eq!(built.pending.open(&reply).unwrap(), b"pong");
/// ```
pub fn peel(node: &NodeKey<'_>, body: &[u8]) -> Result<Peeled, OnionError> {
    let layer = decode_layer(body)?;
    let (mut plaintext, reply) = open_decoded(node, &layer, FORWARD_SPARE)?;
    let (blob_len, route) = match route(&plaintext) {
        Ok(found) => found,
        Err(_) => {
            return Ok(Peeled::Reject {
                error: HopError::InvalidJson,
                reply,
            });
        }
    };
    Ok(match route {
        Route::Deliver { json, base64 } => Peeled::Deliver(Delivery {
            plaintext,
            payload_len: blob_len,
            json,
            base64,
            reply,
        }),
        Route::Server {
            host,
            target,
            port,
            protocol,
        } => {
            if !(protocol == "http" || protocol == "https") || !target_allowed(&target) {
                return Ok(Peeled::Reject {
                    error: HopError::InvalidUrl,
                    reply,
                });
            }
            Peeled::Server {
                host,
                target,
                port,
                protocol,
                body: plaintext,
            }
        }
        Route::Forward {
            next,
            ephemeral,
            enc,
        } => {
            // Keep `u32 length ‖ blob`, replace the routing JSON by the next hop's metadata.
            plaintext.truncate(4 + blob_len);
            let mut writer = Writer::from_vec(plaintext);
            json::outer(&mut writer, &ephemeral, enc);
            Peeled::Forward {
                next_ed25519: next,
                ephemeral_key: ephemeral,
                enc_type: enc,
                body: writer.into_vec(),
            }
        }
    })
}
