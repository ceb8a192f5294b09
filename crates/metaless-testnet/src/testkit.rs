//! Client-side helpers for the node's tests, load figure and demos: build an onion request to a
//! node destination (with `metaless-onion`), open its reply, and sign storage RPC bodies (with
//! `metaless-swarm`'s request types), byte by byte and without the client's own checks, so a
//! test can send what a node must refuse. Applications use `metaless-client`.

use rand_core::{CryptoRng, RngCore};
use serde_json::{Value, json};

use metaless_identity::Keypair;
use metaless_onion::{Destination, EncType, Hop};
use metaless_swarm::{Namespace, sig};
use metaless_swarm::{Request as RpcRequest, Retrieve, Signer, Store};

use metaless_node::NodeInfo;

/// What the client keeps to open the destination's reply.
#[derive(Debug)]
pub struct ReplyKey {
    pending: metaless_onion::PendingResponse,
}

fn hop(n: &NodeInfo) -> Hop {
    Hop::new(n.pubkey_ed25519, n.pubkey_x25519)
}

/// Builds, with `metaless-onion`, the body to POST to `path[0]`'s `/onion_req/v2` so that
/// `payload` (a storage RPC JSON request) reaches `dest` through every node of `path` in order.
/// `None` when the path is empty or too long.
///
/// ```
/// # let net = metaless_testnet::loopback::LoopbackNet::new(
/// #     metaless_testnet::loopback::LoopbackConfig { nodes: 4, swarms: 1, seed: 1, ..Default::default() }).unwrap();
/// # let nodes = net.nodes();
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
/// let (body, _key) = metaless_testnet::testkit::build_onion(&nodes[..3], &nodes[3],
///     br#"{"method":"info","params":{}}"#, metaless_onion::EncType::XChaCha20, &mut rng).unwrap();
/// assert!(body.len() > 100);
/// ```
pub fn build_onion(
    path: &[NodeInfo],
    dest: &NodeInfo,
    payload: &[u8],
    enc: EncType,
    rng: &mut (impl RngCore + CryptoRng),
) -> Option<(Vec<u8>, ReplyKey)> {
    let hops: Vec<Hop> = path.iter().map(hop).collect();
    let built = metaless_onion::build(
        &hops,
        &Destination::ServiceNode(hop(dest)),
        payload,
        enc,
        rng,
    )
    .ok()?;
    Some((
        built.body,
        ReplyKey {
            pending: built.pending,
        },
    ))
}

/// Opens a destination reply (base64 text or raw bytes): returns `(status, body string)`.
///
/// ```
/// # use metaless_testnet::{loopback::*, testkit::*};
/// # use metaless_onion::EncType;
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
    let plaintext = key.pending.open(body).ok()?;
    let reply = metaless_onion::SnodeReply::parse(&plaintext).ok()?;
    Some((reply.status, reply.body))
}

/// A signed `store` request body for a 05 account, namespace `ns` (signature included for
/// non-public namespaces as well, harmless for public ones). Built with metaless-swarm's
/// request types and signed message, without its client-side TTL check, so that tests can send
/// what a node must refuse.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// let k = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let v = metaless_testnet::testkit::store_request(&k, 2, b"hi", 1_700_000_000_000, 60_000);
/// assert_eq!(v["method"], "store");
/// assert_eq!(v["params"]["namespace"], 2);
/// ```
pub fn store_request(account: &Keypair, ns: i16, data: &[u8], now_ms: u64, ttl_ms: i64) -> Value {
    let signer = Signer::session(account);
    let namespace = Namespace::from_i16(ns);
    let timestamp_ms = now_ms;
    let store = Store {
        pubkey: signer.pubkey(),
        namespace,
        timestamp_ms,
        expiry_ms: timestamp_ms.saturating_add_signed(ttl_ms),
        data: data.to_vec(),
        auth: Some(signer.auth(&sig::store(namespace, timestamp_ms))),
        sig_timestamp_ms: None,
    };
    body_json(&RpcRequest::Store(store))
}

/// A signed `retrieve` request body for a 05 account; `last_hash` is sent as given (`""` when
/// `None`).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// let k = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let v = metaless_testnet::testkit::retrieve_request(&k, 0, None, 1_700_000_000_000);
/// assert_eq!(v["params"]["last_hash"], "");
/// ```
pub fn retrieve_request(account: &Keypair, ns: i16, last_hash: Option<&str>, now_ms: u64) -> Value {
    let retrieve = Retrieve::signed(
        &Signer::session(account),
        Namespace::from_i16(ns),
        None,
        now_ms,
    );
    let mut v = body_json(&RpcRequest::Retrieve(retrieve));
    if let Some(params) = v.get_mut("params").and_then(Value::as_object_mut) {
        params.insert("last_hash".into(), last_hash.unwrap_or("").into());
    }
    v
}

fn body_json(request: &RpcRequest) -> Value {
    json!({ "method": request.method(), "params": request.to_params() })
}
