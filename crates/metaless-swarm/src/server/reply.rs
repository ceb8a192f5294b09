//! Reply bodies in the storage server's shapes.

use alloc::string::String;
use alloc::vec::Vec;

use metaless_identity::{Keypair, hex};
use serde_json::{Map, Value, json};

use super::RpcError;
use crate::response::StoredMessage;
use crate::rpc::Expire;
use crate::sig::{self, ExpireMode};
use crate::{
    INVALID_SWARM_ID, MessageHash, Namespace, NodeList, ServiceNode, SwarmResponse, UserPubkey, b64,
};

/// A reply body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyBody {
    /// JSON (`application/json`).
    Json(Value),
    /// Plain text (errors).
    Text(String),
    /// Raw bytes (`active_nodes_bin`).
    Binary(Vec<u8>),
}

/// A reply: status and body.
///
/// ```
/// use metaless_swarm::server::{Reply, RpcError};
/// let r: Reply = RpcError::new(401, "retrieve: request signature required").into();
/// assert_eq!(r.body_bytes(), b"retrieve: request signature required");
/// assert_eq!(
///     r.onion_plaintext(false),
///     br#"{"body":"retrieve: request signature required","status":401}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: ReplyBody,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: ReplyBody::Json(body),
        }
    }

    /// The bytes of the body for a direct HTTP reply.
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            ReplyBody::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            ReplyBody::Text(t) => Vec::from(t.as_bytes()),
            ReplyBody::Binary(b) => b.clone(),
        }
    }

    /// The plaintext a node encrypts back to an onion request's client:
    /// `{"body": …, "status": N}`, where a JSON body is embedded as a string of JSON unless the
    /// request's control JSON asked for `"json": true`, and a binary body is base64
    /// (`wrap_proxy_response`).
    pub fn onion_plaintext(&self, embed_json: bool) -> Vec<u8> {
        let body = match &self.body {
            ReplyBody::Json(v) if embed_json => v.clone(),
            ReplyBody::Json(v) => Value::String(serde_json::to_string(v).unwrap_or_default()),
            ReplyBody::Text(t) => Value::String(t.clone()),
            ReplyBody::Binary(b) => Value::String(b64::encode(b)),
        };
        serde_json::to_vec(&json!({"body": body, "status": self.status})).unwrap_or_default()
    }
}

impl From<RpcError> for Reply {
    fn from(e: RpcError) -> Self {
        Self {
            status: e.status,
            body: ReplyBody::Text(e.text),
        }
    }
}

fn with_misc(mut v: Value, now_ms: u64, hf: [u16; 2]) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("t".into(), now_ms.into());
        m.insert("hf".into(), json!(hf));
    }
    v
}

/// The 421 reply for an account this node does not hold: the account's swarm as `get_swarm`
/// gives it, or 500 `No swarms known!`.
pub fn wrong_swarm_reply(
    pubkey: &UserPubkey,
    nodes: &NodeList,
    now_ms: u64,
    hf: [u16; 2],
) -> Reply {
    match nodes.swarm_for(pubkey) {
        None => RpcError::new(500, "No swarms known!").into(),
        Some((id, members)) => {
            let members: Vec<ServiceNode> = members.into_iter().cloned().collect();
            Reply::json(421, SwarmResponse::to_json(id, &members, now_ms, hf))
        }
    }
}

/// The swarm check made before every account request: `Ok` when the account's swarm (nearest
/// to its swarm-space position among the swarms in `nodes`) is `our_swarm`, otherwise the 421
/// reply (or 500 when no swarms are known).
///
/// ```
/// use metaless_swarm::{NodeList, ServiceNode, UserPubkey, server::check_swarm};
/// let ed = metaless_identity::hex::decode_array("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap();
/// let nodes = NodeList { nodes: vec![ServiceNode::new(ed, [1, 2, 3, 4], 443, 100).unwrap()], skipped: 0 };
/// let account = UserPubkey::new(5, [0; 32]);
/// assert!(check_swarm(&account, 100, &nodes, 1, [19, 3]).is_ok());
/// let reply = check_swarm(&account, 200, &nodes, 1, [19, 3]).unwrap_err();
/// assert_eq!(reply.status, 421);
/// ```
pub fn check_swarm(
    pubkey: &UserPubkey,
    our_swarm: u64,
    nodes: &NodeList,
    now_ms: u64,
    hf: [u16; 2],
) -> Result<(), Reply> {
    match nodes.swarm_ids().nearest(pubkey.swarm_space()) {
        Some(id) if id == our_swarm => Ok(()),
        _ => Err(wrong_swarm_reply(pubkey, nodes, now_ms, hf)),
    }
}

/// The `get_swarm` reply (200): the account's swarm, or no nodes and swarm
/// `ffffffffffffffff` when no swarms are known.
pub fn get_swarm_reply(pubkey: &UserPubkey, nodes: &NodeList, now_ms: u64, hf: [u16; 2]) -> Reply {
    let body = match nodes.swarm_for(pubkey) {
        Some((id, members)) => {
            let members: Vec<ServiceNode> = members.into_iter().cloned().collect();
            SwarmResponse::to_json(id, &members, now_ms, hf)
        }
        None => SwarmResponse::to_json(INVALID_SWARM_ID, &[], now_ms, hf),
    };
    Reply::json(200, body)
}

/// The `info` reply: `{"version": [a, b, c], "timestamp": now, "t": now, "hf": [x, y]}`.
///
/// ```
/// let r = metaless_swarm::server::info_reply([2, 11, 0], 5, [19, 3]);
/// assert_eq!(r.body_bytes(), br#"{"hf":[19,3],"t":5,"timestamp":5,"version":[2,11,0]}"#);
/// ```
pub fn info_reply(version: [u16; 3], now_ms: u64, hf: [u16; 2]) -> Reply {
    Reply::json(
        200,
        with_misc(json!({"version": version, "timestamp": now_ms}), now_ms, hf),
    )
}

/// The `retrieve` reply: `{"messages": [{"hash", "timestamp", "expiration", "data"}], "more",
/// "t", "hf"}` with data in base64.
pub fn retrieve_reply(messages: &[StoredMessage], more: bool, now_ms: u64, hf: [u16; 2]) -> Reply {
    let list: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "hash": m.hash,
                "timestamp": m.timestamp_ms,
                "expiration": m.expiry_ms,
                "data": b64::encode(&m.data),
            })
        })
        .collect();
    Reply::json(
        200,
        with_misc(json!({"messages": list, "more": more}), now_ms, hf),
    )
}

/// The `get_expiries` reply: `{"expiries": {hash: expiry}}` (only messages that exist; no
/// `t`/`hf`).
pub fn get_expiries_reply(expiries: &[(String, u64)]) -> Reply {
    let map: Map<String, Value> = expiries
        .iter()
        .map(|(h, e)| (h.clone(), Value::from(*e)))
        .collect();
    Reply::json(200, json!({ "expiries": map }))
}

/// Why a swarm member's part of a request failed (its entry is `{"failed": true, …}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeFailure {
    /// `"timeout": true`: the member did not answer in time.
    Timeout,
    /// `"code"`, `"reason"`: the member answered with an error.
    Code {
        /// Its status code (as text).
        code: String,
        /// Its reason.
        reason: String,
    },
    /// `"bad_peer_response": true`: the member's answer could not be read.
    BadPeerResponse,
    /// `"query_failure": true`: the database failed.
    QueryFailure,
}

impl NodeFailure {
    fn to_json(&self) -> Value {
        match self {
            Self::Timeout => json!({"failed": true, "timeout": true}),
            Self::Code { code, reason } => json!({"failed": true, "code": code, "reason": reason}),
            Self::BadPeerResponse => json!({"failed": true, "bad_peer_response": true}),
            Self::QueryFailure => json!({"failed": true, "query_failure": true}),
        }
    }
}

/// The reply to a request that each swarm member carries out (`store`, `delete`,
/// `delete_all`, `delete_before`, `expire`, `expire_all`): one entry per member under `swarm`,
/// keyed by the member's Ed25519 key in hex. The status is 200 unless every entry failed (500).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{MessageHash, Namespace, UserPubkey, server::{NodeFailure, SwarmReply}};
/// let node = Keypair::from_seed(&Seed::from_bytes([5u8; 32]));
/// let hash = MessageHash::compute(&UserPubkey::new(5, [1; 32]), Namespace::Default, b"m");
/// let mut reply = SwarmReply::new();
/// reply.add_own_store(&node, &hash, 1_700_000_100_000, false, 1_700_000_000_000);
/// reply.add_failure(&[7u8; 32], &NodeFailure::Timeout);
/// let r = reply.finish(1_700_000_000_000, [19, 3]);
/// assert_eq!(r.status, 200);
/// let metaless_swarm::server::ReplyBody::Json(body) = r.body else { unreachable!() };
/// assert_eq!(body["hash"], hash.as_str());
/// assert_eq!(body["swarm"]["07".repeat(32)]["timeout"], true);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwarmReply {
    swarm: Map<String, Value>,
    hash: Option<String>,
}

impl SwarmReply {
    /// An empty reply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one member's entry.
    pub fn add(&mut self, node_ed25519: &[u8; 32], entry: Value) {
        self.swarm.insert(hex::encode(node_ed25519), entry);
    }

    /// Adds a failed member.
    pub fn add_failure(&mut self, node_ed25519: &[u8; 32], failure: &NodeFailure) {
        self.add(node_ed25519, failure.to_json());
    }

    /// Adds the receiving node's own `store` entry, which also carries the (deprecated) `t`,
    /// and sets the top-level `hash`.
    pub fn add_own_store(
        &mut self,
        node: &Keypair,
        hash: &MessageHash,
        expiry_ms: u64,
        already: bool,
        now_ms: u64,
    ) {
        let mut entry = store_entry(node, hash, expiry_ms, already);
        if let Value::Object(m) = &mut entry {
            m.insert("t".into(), now_ms.into());
        }
        self.add(&node.ed25519_public(), entry);
        self.hash = Some(String::from(hash.as_str()));
    }

    fn any_ok(&self) -> bool {
        self.swarm.values().any(|e| e.get("failed").is_none())
    }

    /// The reply: 200 when at least one member succeeded, else 500; with `t` and `hf`.
    pub fn finish(self, now_ms: u64, hf: [u16; 2]) -> Reply {
        let status = if self.any_ok() { 200 } else { 500 };
        let mut top = Map::new();
        if let Some(h) = self.hash {
            top.insert("hash".into(), h.into());
        }
        top.insert("swarm".into(), Value::Object(self.swarm));
        Reply::json(status, with_misc(Value::Object(top), now_ms, hf))
    }

    /// For `delete` with `"required": true`: as [`SwarmReply::finish`], but 404 when no member
    /// deleted anything.
    pub fn finish_delete(self, required: bool, now_ms: u64, hf: [u16; 2]) -> Reply {
        let deleted_some = self.swarm.values().any(|e| {
            e.get("deleted")
                .and_then(Value::as_array)
                .is_some_and(|d| !d.is_empty())
        });
        let mut reply = self.finish(now_ms, hf);
        if required && reply.status == 200 && !deleted_some {
            reply.status = 404;
        }
        reply
    }
}

fn signature_b64(node: &Keypair, message: &[u8]) -> Value {
    b64::encode(&node.sign(message)).into()
}

/// A member's `store` entry: `{"hash", "signature" (of the hash text), "expiry",
/// ["already": true]}`.
pub fn store_entry(node: &Keypair, hash: &MessageHash, expiry_ms: u64, already: bool) -> Value {
    let mut m = Map::new();
    m.insert("hash".into(), hash.as_str().into());
    m.insert(
        "signature".into(),
        signature_b64(node, &sig::store_reply(hash)),
    );
    if already {
        m.insert("already".into(), true.into());
    }
    m.insert("expiry".into(), expiry_ms.into());
    Value::Object(m)
}

/// A member's `delete` entry: `{"deleted": [sorted], "signature"}`, signed over
/// `PUBKEY_HEX ‖ requested ‖ deleted`.
pub fn delete_entry(
    node: &Keypair,
    pubkey: &UserPubkey,
    requested: &[MessageHash],
    mut deleted: Vec<String>,
) -> Value {
    deleted.sort();
    let signature = signature_b64(node, &sig::delete_reply(pubkey, requested, &deleted));
    json!({"deleted": deleted, "signature": signature})
}

/// What a whole-namespace action touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affected {
    /// Hashes from the one namespace asked for.
    One(Vec<String>),
    /// Hashes with their namespaces, when `"all"` was asked for.
    All(Vec<(Namespace, String)>),
}

/// A member's `delete_all`/`delete_before` (key `deleted`) or `expire_all` (key `updated`)
/// entry. The signature is over `PUBKEY_HEX ‖ value ‖ hashes sorted`; for `"all"` the list is
/// an object `{namespace: [hashes]}` and the signed hashes are sorted across namespaces.
pub fn namespace_action_entry(
    node: &Keypair,
    key: &str,
    pubkey: &UserPubkey,
    value_ms: u64,
    affected: Affected,
) -> Value {
    let mut m = Map::new();
    match affected {
        Affected::One(mut hashes) => {
            hashes.sort();
            m.insert(
                "signature".into(),
                signature_b64(node, &sig::action_reply(pubkey, value_ms, &hashes)),
            );
            m.insert(key.into(), hashes.into());
        }
        Affected::All(mut pairs) => {
            pairs.sort_by(|a, b| a.1.cmp(&b.1));
            let hashes: Vec<&str> = pairs.iter().map(|(_, h)| h.as_str()).collect();
            m.insert(
                "signature".into(),
                signature_b64(node, &sig::action_reply(pubkey, value_ms, &hashes)),
            );
            let mut by_ns: Map<String, Value> = Map::new();
            for (ns, h) in pairs {
                let list = by_ns
                    .entry(alloc::format!("{}", ns.value()))
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(h.into());
                }
            }
            m.insert(key.into(), Value::Object(by_ns));
        }
    }
    Value::Object(m)
}

/// A member's `expire` entry. `targets` are the applied expiries
/// ([`super::expire_targets`]); `updated` the messages whose expiry changed (with the expiry
/// now set), `unchanged` the found-but-unchanged ones with their current expiries (reported
/// only for shorten/extend requests).
///
/// `expiry` is the single applied expiry, or, for per-message expiries, the list applied to
/// the `updated` messages; the signature is over `PUBKEY_HEX ‖ expiry (or the list) ‖
/// requested ‖ updated (sorted) ‖ (hash ‖ expiry of each unchanged, sorted by hash)`.
pub fn expire_entry(
    node: &Keypair,
    request: &Expire,
    targets: &[u64],
    mut updated: Vec<(String, u64)>,
    mut unchanged: Vec<(String, u64)>,
) -> Value {
    updated.sort_by(|a, b| a.0.cmp(&b.0));
    unchanged.sort_by(|a, b| a.0.cmp(&b.0));
    if request.mode == ExpireMode::Set {
        unchanged.clear();
    }
    let per_message = request.expiries_ms.len() > 1;
    let expiries: Vec<u64> = if per_message {
        updated.iter().map(|(_, e)| *e).collect()
    } else {
        targets.first().copied().into_iter().collect()
    };
    let updated_hashes: Vec<&str> = updated.iter().map(|(h, _)| h.as_str()).collect();
    let signature = signature_b64(
        node,
        &sig::expire_reply(
            &request.pubkey,
            &expiries,
            &request.messages,
            &updated_hashes,
            &unchanged,
        ),
    );
    let mut m = Map::new();
    m.insert(
        "expiry".into(),
        if per_message {
            expiries.into()
        } else {
            expiries.first().copied().unwrap_or(0).into()
        },
    );
    m.insert("updated".into(), updated_hashes.into());
    if request.mode != ExpireMode::Set {
        let map: Map<String, Value> = unchanged
            .into_iter()
            .map(|(h, e)| (h, Value::from(e)))
            .collect();
        m.insert("unchanged".into(), Value::Object(map));
    }
    m.insert("signature".into(), signature);
    Value::Object(m)
}

/// One node's part of a `revoke_subaccount` reply (`{"signature"}`) or, with `count` (how many
/// tokens it removed from the list), of an `unrevoke_subaccount` reply
/// (`{"count", "signature"}`); the signature is over [`sig::revocation_reply`].
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{UserPubkey, server::revocation_entry};
/// let node = Keypair::from_seed(&Seed::from_bytes([7; 32]));
/// let e = revocation_entry(&node, &UserPubkey::new(3, [1; 32]), 5, &[[2; 36]], Some(1));
/// assert_eq!(e["count"], 1);
/// assert_eq!(e["signature"].as_str().unwrap().len(), 88);
/// ```
pub fn revocation_entry(
    node: &Keypair,
    pubkey: &UserPubkey,
    timestamp_ms: u64,
    tokens: &[[u8; crate::SUBACCOUNT_TOKEN_LEN]],
    count: Option<usize>,
) -> Value {
    let signature = signature_b64(node, &sig::revocation_reply(pubkey, timestamp_ms, tokens));
    match count {
        Some(n) => json!({"count": n, "signature": signature}),
        None => json!({"signature": signature}),
    }
}

/// The `revoked_subaccounts` reply: `{"revoked_subaccounts": [base64 token, …], "t", "hf"}`.
///
/// ```
/// use metaless_swarm::server::revoked_subaccounts_reply;
/// let r = revoked_subaccounts_reply(&[[3; 36]], 9, [19, 3]);
/// let v: serde_json::Value = serde_json::from_slice(&r.body_bytes()).unwrap();
/// assert_eq!(v["revoked_subaccounts"][0].as_str().unwrap().len(), 48);
/// ```
pub fn revoked_subaccounts_reply(
    tokens: &[[u8; crate::SUBACCOUNT_TOKEN_LEN]],
    now_ms: u64,
    hf: [u16; 2],
) -> Reply {
    let list: Vec<Value> = tokens.iter().map(|t| Value::from(b64::encode(t))).collect();
    Reply::json(
        200,
        with_misc(json!({ "revoked_subaccounts": list }), now_ms, hf),
    )
}
