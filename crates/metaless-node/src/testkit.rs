//! Client-side helpers for the node's own tests, load figure and demos: build an onion request
//! to a node destination, open its reply, and sign storage RPC bodies. Applications use
//! `metaless-onion` / `metaless-swarm` / `metaless-client`; this module exists so the node can be
//! exercised without depending on them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::{CryptoRng, RngCore};
use serde_json::{Value, json};

use metaless_identity::{Keypair, X25519Secret, hex};

use crate::hop::{self, EncType, HopKey};
use crate::network::NodeInfo;

/// What the client keeps to open the destination's reply.
pub struct ReplyKey {
    key: HopKey,
}

impl core::fmt::Debug for ReplyKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ReplyKey(..)")
    }
}

fn random_secret(rng: &mut (impl RngCore + CryptoRng)) -> X25519Secret {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    X25519Secret::from_bytes(b)
}

/// Builds the body to POST to `path[0]`'s `/onion_req/v2` so that `payload` (a storage RPC JSON
/// request) reaches `dest` through every node of `path` in order. Returns `None` only for a
/// degenerate key.
///
/// ```
/// # let net = metaless_node::loopback::LoopbackNet::new(
/// #     metaless_node::loopback::LoopbackConfig { nodes: 4, swarms: 1, seed: 1, ..Default::default() }).unwrap();
/// # let nodes = net.nodes();
/// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
/// # use rand_core::SeedableRng;
/// let (body, _key) = metaless_node::testkit::build_onion(&nodes[..3], &nodes[3],
///     br#"{"method":"info","params":{}}"#, metaless_node::hop::EncType::XChaCha20, &mut rng).unwrap();
/// assert!(body.len() > 100);
/// ```
pub fn build_onion(
    path: &[NodeInfo],
    dest: &NodeInfo,
    payload: &[u8],
    enc: EncType,
    rng: &mut (impl RngCore + CryptoRng),
) -> Option<(Vec<u8>, ReplyKey)> {
    let dest_secret = random_secret(rng);
    let dest_key = HopKey::client(&dest_secret, &dest.pubkey_x25519, enc)?;
    let inner = hop::build_frame(payload, &json!({ "headers": "" }));
    let mut blob = dest_key.encrypt(&inner, rng);
    let mut eph_pub = dest_secret.public_key();
    let mut next = dest.pubkey_ed25519;
    for node in path.iter().rev() {
        let routing = json!({
            "destination": hex::encode(&next),
            "ephemeral_key": hex::encode(&eph_pub),
            "enc_type": enc.as_str(),
        });
        let plaintext = hop::build_frame(&blob, &routing);
        let secret = random_secret(rng);
        let key = HopKey::client(&secret, &node.pubkey_x25519, enc)?;
        blob = key.encrypt(&plaintext, rng);
        eph_pub = secret.public_key();
        next = node.pubkey_ed25519;
    }
    let body = hop::build_frame(
        &blob,
        &json!({ "ephemeral_key": hex::encode(&eph_pub), "enc_type": enc.as_str() }),
    );
    Some((body, ReplyKey { key: dest_key }))
}

/// Opens a destination reply (base64 text or raw bytes): returns `(status, body string)`.
///
/// ```
/// # use metaless_node::{loopback::*, testkit::*, hop::EncType};
/// # use rand_core::SeedableRng;
/// let mut net = LoopbackNet::new(LoopbackConfig { nodes: 3, swarms: 1, seed: 1, ..Default::default() }).unwrap();
/// let nodes = net.nodes();
/// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
/// let (body, key) = build_onion(&nodes[..2], &nodes[2], br#"{"method":"info","params":{}}"#,
///     EncType::AesGcm, &mut rng).unwrap();
/// let (status, reply) = net.post(&nodes[0].pubkey_ed25519, "/onion_req/v2", &body).unwrap();
/// assert_eq!(status, 200);
/// let (inner_status, inner) = open_reply(&key, &reply).unwrap();
/// assert_eq!(inner_status, 200);
/// assert!(inner.contains("version"));
/// ```
pub fn open_reply(key: &ReplyKey, body: &[u8]) -> Option<(u16, String)> {
    let raw = STANDARD.decode(body).ok();
    let plaintext = raw
        .as_deref()
        .and_then(|r| key.key.decrypt(r))
        .or_else(|| key.key.decrypt(body))?;
    let v: Value = serde_json::from_slice(&plaintext).ok()?;
    let status = u16::try_from(v.get("status")?.as_u64()?).ok()?;
    let body = match v.get("body")? {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some((status, body))
}

/// A signed `store` request body for a 05 account, namespace `ns` (signature included for
/// non-public namespaces as well, harmless for public ones).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// let k = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let v = metaless_node::testkit::store_request(&k, 2, b"hi", 1_700_000_000_000, 60_000);
/// assert_eq!(v["method"], "store");
/// assert_eq!(v["params"]["namespace"], 2);
/// ```
pub fn store_request(account: &Keypair, ns: i16, data: &[u8], now_ms: i64, ttl_ms: i64) -> Value {
    let sig = account.sign(format!("store{}{}", ns_text(ns), now_ms).as_bytes());
    json!({ "method": "store", "params": {
        "pubkey": account.session_id().to_string(),
        "pubkey_ed25519": hex::encode(&account.ed25519_public()),
        "namespace": ns,
        "timestamp": now_ms,
        "ttl": ttl_ms,
        "data": STANDARD.encode(data),
        "signature": STANDARD.encode(sig),
    }})
}

/// A signed `retrieve` request body for a 05 account.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// let k = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let v = metaless_node::testkit::retrieve_request(&k, 0, None, 1_700_000_000_000);
/// assert_eq!(v["params"]["last_hash"], "");
/// ```
pub fn retrieve_request(account: &Keypair, ns: i16, last_hash: Option<&str>, now_ms: i64) -> Value {
    let sig = account.sign(format!("retrieve{}{}", ns_text(ns), now_ms).as_bytes());
    json!({ "method": "retrieve", "params": {
        "pubkey": account.session_id().to_string(),
        "pubkey_ed25519": hex::encode(&account.ed25519_public()),
        "namespace": ns,
        "last_hash": last_hash.unwrap_or(""),
        "timestamp": now_ms,
        "signature": STANDARD.encode(sig),
    }})
}

fn ns_text(ns: i16) -> String {
    if ns == 0 {
        String::new()
    } else {
        ns.to_string()
    }
}
