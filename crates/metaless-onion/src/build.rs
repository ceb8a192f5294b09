//! The client side: wrap a payload in one layer per hop.

use alloc::string::String;
use alloc::vec::Vec;

use metaless_identity::wire::Writer;
use metaless_identity::x25519::PreparedPeer;
use rand_core::{CryptoRng, RngCore};

use crate::hop::LayerKey;
use crate::json::{self, Sink};
use crate::limits::{MAX_HOPS, MAX_HOST_LEN, MAX_LAYER_SIZE, MAX_TARGET_LEN};
use crate::peel::target_allowed;
use crate::reply::PendingResponse;
use crate::x25519::{EphemeralSecret, Shared};
use crate::{EncType, OnionError, TAG_LEN};

/// A service node as a path hop or destination: its Ed25519 key (how routing JSON names it) and
/// its X25519 key (what layers are encrypted to), as in the network's node list.
///
/// The X25519 key is prepared once here (a [`PreparedPeer`]): on CPUs without AVX-512 IFMA its
/// Edwards form is computed, so every layer encrypted to this node skips that conversion; with
/// IFMA only the bytes are kept, as the IFMA ladder needs none (see [`crate::x25519`]).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_onion::Hop;
/// let node = Keypair::from_seed(&Seed::from_bytes([6u8; 32]));
/// let hop = Hop::from_ed25519(node.ed25519_public()).unwrap();
/// assert_eq!(hop.x25519(), node.x25519_public());
/// assert_eq!(hop, Hop::new(node.ed25519_public(), node.x25519_public()));
/// ```
#[derive(Clone)]
pub struct Hop {
    ed25519: [u8; 32],
    /// The X25519 key, prepared once (its Edwards form without IFMA).
    prepared: PreparedPeer,
}

impl Hop {
    /// A hop from both keys (the node list gives both; they are not cross-checked, as upstream
    /// does not).
    pub fn new(ed25519: [u8; 32], x25519: [u8; 32]) -> Self {
        Self {
            ed25519,
            prepared: PreparedPeer::new(x25519),
        }
    }

    /// A hop from its Ed25519 key alone, deriving the X25519 key as libsodium does.
    pub fn from_ed25519(ed25519: [u8; 32]) -> Result<Self, OnionError> {
        let x25519 = metaless_identity::ed25519_to_x25519_public(&ed25519)
            .map_err(|_| OnionError::InvalidKey)?;
        Ok(Self::new(ed25519, x25519))
    }

    /// The Ed25519 public key.
    pub fn ed25519(&self) -> [u8; 32] {
        self.ed25519
    }

    /// The X25519 public key.
    pub fn x25519(&self) -> [u8; 32] {
        self.prepared.public_key()
    }

    /// `X25519(secret, self.x25519)`: the IFMA ladder, else the cached Edwards point when there
    /// is one.
    fn agree(&self, secret: &EphemeralSecret) -> Result<Shared, OnionError> {
        secret.agree_prepared(&self.prepared)
    }

    /// The same, consuming the secret.
    fn agree_consuming(&self, secret: EphemeralSecret) -> Result<Shared, OnionError> {
        self.agree(&secret)
    }
}

impl core::fmt::Debug for Hop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hop")
            .field("ed25519", &metaless_identity::hex::encode(&self.ed25519))
            .field("x25519", &metaless_identity::hex::encode(&self.x25519()))
            .finish()
    }
}

impl PartialEq for Hop {
    fn eq(&self, other: &Self) -> bool {
        self.ed25519 == other.ed25519 && self.x25519() == other.x25519()
    }
}

impl Eq for Hop {}

/// An HTTP server reached through the last hop (a SOGS, the file server, a push server).
///
/// ```
/// use metaless_onion::{OnionError, ServerDestination};
/// let dest = ServerDestination::new("open.getsession.org", 443, "https", [1u8; 32]).unwrap();
/// assert_eq!(dest.target(), "/oxen/v4/lsrpc");
/// assert!(ServerDestination::new("bad host", 443, "https", [1u8; 32]).is_err());
/// assert!(dest.with_target("/etc/passwd").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerDestination {
    host: String,
    target: String,
    port: u16,
    protocol: String,
    x25519: Hop,
}

impl ServerDestination {
    /// The target every current server serves: onion requests v4.
    pub const V4_TARGET: &'static str = "/oxen/v4/lsrpc";

    /// A server at `protocol://host:port` (protocol `http` or `https`, a `://` suffix is
    /// dropped as upstream does) with target [`Self::V4_TARGET`]. Host names are limited to
    /// letters, digits, `.`, `-`, `_`, `:`, `[`, `]` (names and IP literals), so they need no
    /// escaping in JSON.
    pub fn new(
        host: &str,
        port: u16,
        protocol: &str,
        x25519: [u8; 32],
    ) -> Result<Self, OnionError> {
        let protocol = protocol.strip_suffix("://").unwrap_or(protocol);
        if protocol != "http" && protocol != "https" {
            return Err(OnionError::InvalidDestination(
                "protocol must be http or https",
            ));
        }
        let host_ok = !host.is_empty()
            && host.len() <= MAX_HOST_LEN
            && host.bytes().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':' | b'[' | b']')
            });
        if !host_ok {
            return Err(OnionError::InvalidDestination("host"));
        }
        Ok(Self {
            host: host.into(),
            target: Self::V4_TARGET.into(),
            port,
            protocol: protocol.into(),
            x25519: Hop::new([0u8; 32], x25519),
        })
    }

    /// The same server with another target, which hops only proxy if it starts with `/oxen/`
    /// or `/loki/`, ends with `/lsrpc` and has no query; it must also need no JSON escaping.
    pub fn with_target(mut self, target: &str) -> Result<Self, OnionError> {
        let clean = target.len() <= MAX_TARGET_LEN
            && target
                .bytes()
                .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\\');
        if !clean || !target_allowed(target) {
            return Err(OnionError::InvalidDestination("target"));
        }
        self.target = target.into();
        Ok(self)
    }

    /// Host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Target path.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http` or `https`.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// The server's X25519 public key.
    pub fn x25519(&self) -> [u8; 32] {
        self.x25519.x25519()
    }
}

/// Where a request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A service node, which receives the payload (a JSON storage request) framed with the
    /// control object `{"headers":""}`.
    ServiceNode(Hop),
    /// An HTTP server, which receives the payload (a v4 request, see [`crate::v4`]) unframed.
    Server(ServerDestination),
}

impl Destination {
    fn key(&self) -> &Hop {
        match self {
            Destination::ServiceNode(hop) => hop,
            Destination::Server(server) => &server.x25519,
        }
    }
}

/// A built onion request.
#[derive(Debug)]
pub struct BuiltRequest {
    /// The bytes to `POST` to the first hop (its `/onion_req/v2` endpoint).
    pub body: Vec<u8>,
    /// The first hop's Ed25519 key.
    pub first_hop: [u8; 32],
    /// What opens the reply.
    pub pending: PendingResponse,
}

/// Builds an onion request through `path` (1 to [`MAX_HOPS`] hops, first hop first) to
/// `destination`, every layer encrypted with `enc` and a fresh ephemeral key from `rng`.
///
/// Byte-identical in layout to upstream's `Builder::build`: the destination layer first, then
/// one layer per hop from the last to the first, then the first hop's metadata. The whole body
/// is sized up front and written into one buffer, and each layer is encrypted in place there
/// (one heap allocation in all).
///
/// ```
/// # use metaless_onion::*;
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([3u8; 32]);
/// let hops: Vec<Hop> = (1..=3u8).map(|i| Hop::new([i; 32], x25519::scalarmult_base(&[i; 32]))).collect();
/// let dest = Destination::ServiceNode(Hop::new([9; 32], x25519::scalarmult_base(&[9; 32])));
/// let built = build(&hops, &dest, b"{}", EncType::AesGcm, &mut rng).unwrap();
/// assert_eq!(built.first_hop, [1; 32]);
/// let first = decode_layer(&built.body).unwrap();
/// assert_eq!(first.enc_type, EncType::AesGcm);
/// assert!(matches!(build(&[], &dest, b"{}", EncType::AesGcm, &mut rng), Err(OnionError::PathLength { len: 0, .. })));
/// ```
pub fn build(
    path: &[Hop],
    destination: &Destination,
    payload: &[u8],
    enc: EncType,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<BuiltRequest, OnionError> {
    let hops = path.len();
    let first_hop = match path.first() {
        Some(hop) if hops <= MAX_HOPS => hop.ed25519,
        _ => {
            return Err(OnionError::PathLength {
                len: hops,
                max: MAX_HOPS,
            });
        }
    };
    if payload.len() > MAX_LAYER_SIZE {
        return Err(OnionError::TooLarge {
            what: "payload",
            len: payload.len(),
            max: MAX_LAYER_SIZE,
        });
    }
    let layers = hops + 1;
    let nonce_len = enc.nonce_len();

    // Layer i: 0 is the destination's, i ≥ 1 is path[hops - i]'s (so layer `hops` is the
    // first hop's). A fresh ephemeral key, agreement and symmetric key per layer; every
    // ephemeral secret but the destination layer's is consumed (and zeroized) right here.
    let dest_key = destination.key();
    let reply_secret = EphemeralSecret::random(rng);
    let reply_public = reply_secret.public_key();
    let reply_shared = dest_key.agree(&reply_secret)?;
    let mut publics = [[0u8; 32]; MAX_HOPS + 1];
    let mut nonces = [[0u8; 24]; MAX_HOPS + 1];
    let mut keys: [Option<LayerKey>; MAX_HOPS + 1] = core::array::from_fn(|_| None);
    for (i, ((public, nonce), key)) in publics
        .iter_mut()
        .zip(&mut nonces)
        .zip(&mut keys)
        .enumerate()
        .take(layers)
    {
        let derived = if i == 0 {
            *public = reply_public;
            LayerKey::derive(enc, &reply_shared, public, &dest_key.x25519())
        } else {
            let hop = path.get(hops - i).ok_or(OnionError::PathLength {
                len: hops,
                max: MAX_HOPS,
            })?;
            let secret = EphemeralSecret::random(rng);
            *public = secret.public_key();
            let shared = hop.agree_consuming(secret)?;
            LayerKey::derive(enc, &shared, public, &hop.x25519())
        };
        rng.fill_bytes(nonce.get_mut(..nonce_len).unwrap_or_default());
        *key = Some(derived);
    }

    // Sizes, inner to outer.
    let route_len = |i: usize| -> usize {
        let eph = &publics[i - 1];
        json::measure(|c| write_route(c, path, destination, i, eph, enc))
    };
    let mut plain_len = [0usize; MAX_HOPS + 1];
    let mut blob_len = [0usize; MAX_HOPS + 1];
    plain_len[0] = match destination {
        Destination::ServiceNode(_) => 4 + payload.len() + json::CONTROL.len(),
        Destination::Server(_) => payload.len(),
    };
    blob_len[0] = plain_len[0] + enc.overhead();
    for i in 1..layers {
        plain_len[i] = 4 + blob_len[i - 1] + route_len(i);
        blob_len[i] = plain_len[i] + enc.overhead();
    }
    let outer_len = json::measure(|c| json::outer(c, &publics[hops], enc));
    let total = 4 + blob_len[hops] + outer_len;
    if total > MAX_LAYER_SIZE {
        return Err(OnionError::TooLarge {
            what: crate::error::ONION_BODY,
            len: total,
            max: MAX_LAYER_SIZE,
        });
    }

    // Write everything in order, tags as placeholders: one allocation of exactly `total`.
    let zero_tag = [0u8; TAG_LEN];
    let mut w = Writer::with_capacity(total);
    for i in (0..layers).rev() {
        w.u32_le(blob_len[i] as u32);
        w.bytes(&nonces[i][..nonce_len]);
    }
    match destination {
        Destination::ServiceNode(_) => {
            w.u32_le_prefixed(payload);
            w.bytes(json::CONTROL);
        }
        Destination::Server(_) => {
            w.bytes(payload);
        }
    }
    w.bytes(&zero_tag);
    for i in 1..layers {
        write_route(&mut w, path, destination, i, &publics[i - 1], enc);
        w.bytes(&zero_tag);
    }
    json::outer(&mut w, &publics[hops], enc);
    let mut body = w.into_vec();

    // Encrypt in place, inner to outer; layer i's plaintext starts (layers - i) prefix-and-
    // nonce pairs into the buffer, its tag right after it.
    for (i, key) in keys.iter().enumerate().take(layers) {
        let key = key.as_ref().ok_or(OnionError::Decrypt)?;
        let start = (layers - i) * (4 + nonce_len);
        let (head, rest) = body.split_at_mut(start);
        let (plain, tail) = rest.split_at_mut(plain_len[i]);
        let nonce = head.get(start - nonce_len..).ok_or(OnionError::Decrypt)?;
        let tag = key.seal(nonce, plain)?;
        tail.get_mut(..TAG_LEN)
            .ok_or(OnionError::Decrypt)?
            .copy_from_slice(&tag);
    }

    Ok(BuiltRequest {
        body,
        first_hop,
        pending: PendingResponse::new(
            enc,
            reply_secret.into_identity(),
            reply_public,
            dest_key.x25519(),
            reply_shared,
        ),
    })
}

/// The routing JSON inside layer `i ≥ 1` (read by hop `path[hops - i]`), naming where to go
/// next and the ephemeral key `eph` of layer `i - 1`.
fn write_route(
    out: &mut impl Sink,
    path: &[Hop],
    destination: &Destination,
    i: usize,
    eph: &[u8; 32],
    enc: EncType,
) {
    if i == 1 {
        match destination {
            Destination::ServiceNode(hop) => json::to_node(out, &hop.ed25519, eph, enc),
            Destination::Server(s) => {
                json::to_server(out, &s.host, &s.target, s.port, &s.protocol, eph, enc)
            }
        }
    } else if let Some(next) = path.get(path.len() + 1 - i) {
        json::to_node(out, &next.ed25519, eph, enc);
    }
}
