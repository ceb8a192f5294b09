//! Storage RPC as the network's storage servers answer it (`/storage_rpc/v1` and onion
//! destinations): parsing, the swarm check (421), signature and timestamp windows, namespace and
//! TTL rules, storage, and response bodies with upstream's field names, status codes and texts.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use serde_json::{Map, Value, json};

use metaless_identity::{Keypair, ed25519_to_x25519_public, hex, verify_ed25519};

use crate::network::{NetworkMap, NodeInfo};
use crate::storage::{ExpiryMode, NewMessage, OWNER_LEN, Storage, StoreOutcome};

/// Version reported by `info`: the storage-server release whose behaviour this node follows.
pub const NODE_VERSION: [u16; 3] = [2, 10, 0];
/// Hardfork version reported in `hf`.
pub const HARDFORK: [u16; 2] = [19, 3];

/// Shortest TTL accepted (10 s).
pub const TTL_MINIMUM_MS: i64 = 10_000;
/// Longest TTL for public-inbox namespaces (14 days).
pub const TTL_MAXIMUM_MS: i64 = 14 * 24 * 3600 * 1000;
/// Longest TTL for private namespaces (30 days).
pub const TTL_MAXIMUM_PRIVATE_MS: i64 = 30 * 24 * 3600 * 1000;
/// How far a store timestamp may lead, or an expiry trail, the node's clock (10 s).
pub const STORE_TOLERANCE_MS: i64 = 10_000;
/// Window for signed request timestamps (±60 s).
pub const SIGNATURE_TOLERANCE_MS: i64 = 60_000;
/// Window for signed timestamps of requests forwarded within the swarm (±70 s).
pub const SIGNATURE_TOLERANCE_FORWARDED_MS: i64 = 70_000;
/// Largest message body in bytes (upstream `MAX_MESSAGE_BODY`).
pub const MAX_MESSAGE_BODY: usize = 76_800;
/// Most subrequests in one `batch` / `sequence`.
pub const MAX_SUBREQUESTS: usize = 20;

/// A reply body: JSON, or plain text (errors).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Json(Value),
    Text(String),
}

/// Status + body of one RPC answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RpcResponse {
    pub status: u16,
    pub body: Body,
}

impl RpcResponse {
    fn ok(v: Value) -> Self {
        Self {
            status: 200,
            body: Body::Json(v),
        }
    }
    pub(crate) fn text(status: u16, s: impl Into<String>) -> Self {
        Self {
            status,
            body: Body::Text(s.into()),
        }
    }
    fn parse(msg: impl core::fmt::Display) -> Self {
        Self::text(400, format!("invalid request: {msg}"))
    }
    /// The body as bytes (JSON serialised compactly).
    pub(crate) fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Body::Json(v) => v.to_string().into_bytes(),
            Body::Text(s) => s.clone().into_bytes(),
        }
    }
    /// The body as a string (JSON serialised), for embedding in onion replies and batches.
    pub(crate) fn body_value(&self, embed_json: bool) -> Value {
        match &self.body {
            Body::Json(v) if embed_json => v.clone(),
            Body::Json(v) => Value::String(v.to_string()),
            Body::Text(s) => Value::String(s.clone()),
        }
    }
    pub(crate) fn is_json(&self) -> bool {
        matches!(self.body, Body::Json(_))
    }
}

/// Everything one RPC needs from its node.
pub(crate) struct RpcCtx<'a> {
    pub now_ms: i64,
    pub me: &'a NodeInfo,
    pub keypair: &'a Keypair,
    pub map: &'a NetworkMap,
    pub storage: &'a mut Storage,
    /// Request was forwarded by a swarm peer: answer flat, do not replicate again.
    pub forwarded: bool,
    /// `{"method","params"}` requests to replay on each swarm peer after a successful change.
    pub replicate: Vec<Value>,
    /// Method and (abbreviated) account of the last request, for observation records.
    pub seen_method: Option<String>,
    pub seen_account: Option<String>,
}

type R<T> = Result<T, RpcResponse>;

/// The network's message hash: unpadded base64 of BLAKE2b-256(prefix ‖ key ‖ ns ‖ data).
///
/// ```
/// let h = metaless_node::rpc::message_hash(&[5u8; 33], 0, b"hi");
/// assert_eq!(h.len(), 43);
/// assert_ne!(h, metaless_node::rpc::message_hash(&[5u8; 33], 1, b"hi"));
/// ```
pub fn message_hash(owner: &[u8; OWNER_LEN], namespace: i16, data: &[u8]) -> String {
    let mut h = Blake2b::<U32>::new();
    h.update(owner);
    h.update(ns_sig(namespace).as_bytes());
    h.update(data);
    STANDARD_NO_PAD.encode(h.finalize())
}

/// Namespace as it appears in signed strings and hashes: "" for 0, else decimal.
fn ns_sig(ns: i16) -> String {
    if ns == 0 {
        String::new()
    } else {
        ns.to_string()
    }
}

/// Anyone may store (ns divisible by 10).
///
/// ```
/// assert!(metaless_node::rpc::is_public_inbox(0));
/// assert!(metaless_node::rpc::is_public_inbox(-10));
/// assert!(!metaless_node::rpc::is_public_inbox(2));
/// ```
pub fn is_public_inbox(ns: i16) -> bool {
    ns % 10 == 0
}

/// One message, anyone may retrieve (ns = -(20n + 1)).
///
/// ```
/// assert!(metaless_node::rpc::is_public_outbox(-21));
/// assert!(!metaless_node::rpc::is_public_outbox(-11));
/// ```
pub fn is_public_outbox(ns: i16) -> bool {
    ns < 0 && (-i32::from(ns)) % 20 == 1
}

fn is_noauth_retrieve(ns: i16) -> bool {
    ns == -10 || is_public_outbox(ns)
}

/// Account IDs in logs and observations: first two bytes and last byte, like upstream.
pub(crate) fn obfuscate(owner: &[u8; OWNER_LEN]) -> String {
    let h = hex::encode(owner);
    format!(
        "{}…{}",
        h.get(..4).unwrap_or(""),
        h.get(h.len().saturating_sub(2)..).unwrap_or("")
    )
}

// ---------- parameter parsing (texts follow upstream's parse errors) ----------

fn field<'a>(p: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    p.get(name).filter(|v| !v.is_null())
}

fn opt_str<'a>(p: &'a Map<String, Value>, name: &str) -> R<Option<&'a str>> {
    match field(p, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RpcResponse::parse(format!(
            "Invalid value given for '{name}': expected string"
        ))),
    }
}

fn opt_bool(p: &Map<String, Value>, name: &str) -> R<bool> {
    match field(p, name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(RpcResponse::parse(format!(
            "Invalid value given for '{name}': expected boolean"
        ))),
    }
}

fn opt_int(p: &Map<String, Value>, name: &str, stringified: bool) -> R<Option<i64>> {
    match field(p, name) {
        None => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(Value::String(s)) if stringified => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| RpcResponse::parse(format!("Invalid value given for '{name}': \"{s}\""))),
        Some(_) => Err(RpcResponse::parse(format!(
            "Invalid value given for '{name}': expected integer"
        ))),
    }
}

fn opt_timestamp(p: &Map<String, Value>, name: &str, stringified: bool) -> R<Option<i64>> {
    let Some(t) = opt_int(p, name, stringified)? else {
        return Ok(None);
    };
    if t < 1_000_000_000 {
        return Err(RpcResponse::parse(format!(
            "Invalid timestamp for '{name}': timestamp must be in milliseconds"
        )));
    }
    Ok(Some(t))
}

fn require<T>(name: &str, v: Option<T>) -> R<T> {
    v.ok_or_else(|| RpcResponse::parse(format!("Required field '{name}' missing")))
}

/// Namespace: an int16, or with `allow_all` the string "all" (→ `None`).
fn namespace(p: &Map<String, Value>, allow_all: bool) -> R<Option<i16>> {
    match field(p, "namespace") {
        None => Ok(Some(0)),
        Some(Value::Number(n)) => match n.as_i64().and_then(|v| i16::try_from(v).ok()) {
            Some(ns) => Ok(Some(ns)),
            None => Err(RpcResponse::parse(
                "Invalid value given for 'namespace': value out of range",
            )),
        },
        Some(Value::String(s)) if allow_all && s == "all" => Ok(None),
        Some(_) => Err(RpcResponse::parse(if allow_all {
            "Invalid value given for 'namespace': expected integer or \"all\""
        } else {
            "Invalid value given for 'namespace': expected 16-bit integer"
        })),
    }
}

fn pubkey(p: &Map<String, Value>) -> R<[u8; OWNER_LEN]> {
    let a = opt_str(p, "pubkey")?;
    let b = opt_str(p, "pubKey")?;
    let s = match (a, b) {
        (Some(_), Some(_)) => {
            return Err(RpcResponse::parse(
                "Cannot specify both 'pubkey' and 'pubKey'",
            ));
        }
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => return Err(RpcResponse::parse("Required field 'pubkey' missing")),
    };
    hex::decode_array::<OWNER_LEN>(s)
        .map_err(|_| RpcResponse::parse("Pubkey must be 66 hex digits (33 bytes) long"))
}

fn account_key(owner: &[u8; OWNER_LEN]) -> [u8; 32] {
    let mut k = [0u8; 32];
    k.copy_from_slice(owner.get(1..).unwrap_or(&[0u8; 32]));
    k
}

struct Auth {
    signature: [u8; 64],
    pubkey_ed25519: Option<[u8; 32]>,
}

fn auth(p: &Map<String, Value>, owner: &[u8; OWNER_LEN], required: bool) -> R<Option<Auth>> {
    let Some(sig) = opt_str(p, "signature")? else {
        return if required {
            Err(RpcResponse::parse("Required field 'signature' missing"))
        } else {
            Ok(None)
        };
    };
    let pubkey_ed25519 = match opt_str(p, "pubkey_ed25519")? {
        None => None,
        Some(_) if owner.first() != Some(&5) => {
            return Err(RpcResponse::parse(
                "pubkey_ed25519 is only permitted for 05[...] pubkeys",
            ));
        }
        Some(s) => Some(hex::decode_array::<32>(s).map_err(|_| {
            RpcResponse::parse("Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey")
        })?),
    };
    let bad_sig =
        || RpcResponse::parse("invalid signature: expected base64 encoded Ed25519 signature");
    if !(sig.len() == 86 || (sig.len() == 88 && sig.ends_with("=="))) {
        return Err(bad_sig());
    }
    let raw = STANDARD_NO_PAD
        .decode(sig.trim_end_matches('='))
        .map_err(|_| bad_sig())?;
    let signature: [u8; 64] = raw.try_into().map_err(|_| bad_sig())?;
    Ok(Some(Auth {
        signature,
        pubkey_ed25519,
    }))
}

/// Upstream's check: for 05 accounts the given Ed25519 key must map to the account's X25519 key;
/// otherwise the account key itself is the Ed25519 key.
fn verify(owner: &[u8; OWNER_LEN], a: &Auth, message: &[u8]) -> bool {
    let key = account_key(owner);
    let ed = match (owner.first(), a.pubkey_ed25519) {
        (Some(5) | Some(0), Some(ed)) => match ed25519_to_x25519_public(&ed) {
            Ok(x) if x == key => ed,
            _ => return false,
        },
        _ => key,
    };
    verify_ed25519(&ed, message, &a.signature).is_ok()
}

fn hashes(p: &Map<String, Value>) -> R<Vec<String>> {
    let v = require("messages", field(p, "messages"))?;
    let arr = v.as_array().ok_or_else(|| {
        RpcResponse::parse("Invalid value given for 'messages': expected string array")
    })?;
    if arr.is_empty() {
        return Err(RpcResponse::parse(
            "messages does not contain any message hashes",
        ));
    }
    if arr.len() > crate::limits::MAX_HASHES_PER_REQUEST {
        return Err(RpcResponse::parse("too many message hashes"));
    }
    arr.iter()
        .map(|h| {
            h.as_str().map(str::to_owned).ok_or_else(|| {
                RpcResponse::parse("Invalid value given for 'messages': expected string array")
            })
        })
        .collect()
}

// ---------- the handler ----------

impl RpcCtx<'_> {
    fn misc(&self, mut v: Value) -> Value {
        if let Value::Object(m) = &mut v {
            m.insert("t".into(), json!(self.now_ms));
            m.insert("hf".into(), json!(HARDFORK));
        }
        v
    }

    fn sign_b64(&self, parts: &[&[u8]]) -> String {
        let msg = parts.concat();
        STANDARD.encode(self.keypair.sign(&msg))
    }

    fn check_swarm(&self, owner: &[u8; OWNER_LEN]) -> R<()> {
        let key = account_key(owner);
        if self.map.swarm_for(&key) == Some(self.me.swarm_id) {
            return Ok(());
        }
        Err(RpcResponse {
            status: 421,
            body: Body::Json(self.misc(self.map.swarm_json(&key))),
        })
    }

    /// Wraps this node's part of a swarm-wide change: nested under `swarm.<own ed25519>` for a
    /// client request (which is then replayed on the peers), flat when forwarded by a peer.
    fn swarm_result(&mut self, request: &Value, mine: Value) -> Value {
        if self.forwarded {
            return mine;
        }
        self.replicate.push(request.clone());
        let mut swarm = Map::new();
        swarm.insert(hex::encode(&self.me.pubkey_ed25519), mine);
        self.misc(json!({ "swarm": swarm }))
    }

    fn note(&mut self, method: &str, owner: Option<&[u8; OWNER_LEN]>) {
        self.seen_method = Some(method.to_owned());
        self.seen_account = owner.map(obfuscate);
    }

    /// Answers one JSON request body.
    pub(crate) fn handle_bytes(&mut self, body: &[u8]) -> RpcResponse {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return RpcResponse::text(400, "invalid json");
        };
        self.handle_value(&v, true)
    }

    fn handle_value(&mut self, v: &Value, allow_batch: bool) -> RpcResponse {
        let Some(method) = v.get("method").and_then(Value::as_str) else {
            return RpcResponse::text(400, "invalid json: no `method` field");
        };
        let Some(params) = v.get("params").and_then(Value::as_object) else {
            return RpcResponse::text(400, "invalid json: no `params` field");
        };
        let result = match method {
            "store" => self.store(v, params),
            "retrieve" => self.retrieve(params),
            "delete" => self.delete(v, params),
            "delete_all" => self.delete_all(v, params),
            "delete_before" => self.delete_before(v, params),
            "expire_all" => self.expire_all(v, params),
            "expire" => self.expire(v, params),
            "get_expiries" => self.get_expiries(params),
            "get_swarm" | "get_snodes_for_pubkey" => self.get_swarm(params),
            "oxend_request" => self.oxend_request(params),
            "info" => {
                self.note("info", None);
                Ok(RpcResponse::ok(self.misc(
                    json!({ "version": NODE_VERSION, "timestamp": self.now_ms }),
                )))
            }
            "batch" | "sequence" if allow_batch => self.batch(params, method == "sequence"),
            _ => Ok(RpcResponse::text(400, format!("no method {method}"))),
        };
        result.unwrap_or_else(|e| e)
    }

    fn batch(&mut self, p: &Map<String, Value>, sequence: bool) -> R<RpcResponse> {
        self.note(if sequence { "sequence" } else { "batch" }, None);
        let reqs = require("requests", field(p, "requests"))?
            .as_array()
            .ok_or_else(|| {
                RpcResponse::parse("Invalid value given for 'requests': expected array")
            })?;
        if reqs.is_empty() || reqs.len() > MAX_SUBREQUESTS {
            return Err(RpcResponse::parse(format!(
                "Invalid batch request: subrequest count must be between 1 and {MAX_SUBREQUESTS}"
            )));
        }
        let mut results = Vec::with_capacity(reqs.len());
        for sub in reqs {
            let r = self.handle_value(sub, false);
            let failed = !(200..300).contains(&r.status);
            results.push(json!({ "code": r.status, "body": r.body_value(true) }));
            if sequence && failed {
                break;
            }
        }
        Ok(RpcResponse::ok(json!({ "results": results })))
    }

    fn store(&mut self, request: &Value, p: &Map<String, Value>) -> R<RpcResponse> {
        let timestamp = require("timestamp", opt_timestamp(p, "timestamp", true)?)?;
        let expiry = opt_timestamp(p, "expiry", false)?;
        let ttl = opt_int(p, "ttl", true)?;
        let expiry = match (expiry, ttl) {
            (Some(_), Some(_)) => {
                return Err(RpcResponse::parse("Cannot specify both 'expiry' and 'ttl'"));
            }
            (Some(e), None) => e,
            (None, Some(t)) if t >= 0 => timestamp.saturating_add(t),
            (None, Some(_)) => {
                return Err(RpcResponse::parse(
                    "Invalid value given for 'ttl': expected positive integer",
                ));
            }
            (None, None) => {
                return Err(RpcResponse::parse(
                    "Required field 'expiry' or 'ttl' missing",
                ));
            }
        };
        let owner = pubkey(p)?;
        self.note("store", Some(&owner));
        let ns = namespace(p, false)?.unwrap_or(0);
        let sig = auth(p, &owner, false)?;
        let sig_ts = opt_timestamp(p, "sig_timestamp", false)?.unwrap_or(timestamp);
        let data_b64 = require("data", opt_str(p, "data")?)?;
        if data_b64.len() > MAX_MESSAGE_BODY / 3 * 4 {
            return Err(RpcResponse::parse(format!(
                "Message body exceeds maximum allowed length of {MAX_MESSAGE_BODY} bytes"
            )));
        }
        let data = STANDARD
            .decode(data_b64)
            .map_err(|_| RpcResponse::parse("Invalid 'data' value: not base64 encoded"))?;

        self.check_swarm(&owner)?;
        let public = is_public_inbox(ns);
        let ttl = expiry.saturating_sub(timestamp);
        let max_ttl = if public {
            TTL_MAXIMUM_MS
        } else {
            TTL_MAXIMUM_PRIVATE_MS
        };
        if !(TTL_MINIMUM_MS..=max_ttl).contains(&ttl) {
            return Err(RpcResponse::text(403, "Provided expiry/TTL is not valid."));
        }
        let now = self.now_ms;
        if timestamp > now + STORE_TOLERANCE_MS || expiry < now - STORE_TOLERANCE_MS {
            return Err(RpcResponse::text(406, "Timestamp error: check your clock"));
        }
        if !public {
            let Some(sig) = sig else {
                return Err(RpcResponse::text(
                    401,
                    format!("store: signature required to store to namespace {ns}"),
                ));
            };
            if (sig_ts - now).abs() > SIGNATURE_TOLERANCE_MS {
                return Err(RpcResponse::text(
                    406,
                    "store signature timestamp too far from current time",
                ));
            }
            let msg = format!("store{}{}", ns_sig(ns), sig_ts);
            if !verify(&owner, &sig, msg.as_bytes()) {
                return Err(RpcResponse::text(
                    401,
                    "store signature verification failed",
                ));
            }
        }
        let hash = message_hash(&owner, ns, &data);
        let stored = self.storage.store(&NewMessage {
            owner,
            namespace: ns,
            hash: hash.clone(),
            timestamp_ms: timestamp,
            expiry_ms: expiry,
            data,
            replace_namespace: is_public_outbox(ns),
        });
        let mut mine = Map::new();
        let ok = match stored {
            Ok((outcome, expiry)) => {
                mine.insert("hash".into(), json!(hash));
                mine.insert("signature".into(), json!(self.sign_b64(&[hash.as_bytes()])));
                if outcome != StoreOutcome::New {
                    mine.insert("already".into(), json!(true));
                }
                mine.insert("expiry".into(), json!(expiry));
                true
            }
            Err(e) => {
                tracing::error!("could not store message for {}: {e}", obfuscate(&owner));
                mine.insert("failed".into(), json!(true));
                mine.insert("query_failure".into(), json!(true));
                false
            }
        };
        if !self.forwarded {
            mine.insert("t".into(), json!(now));
        }
        let mut out = self.swarm_result(request, Value::Object(mine));
        if !ok {
            self.replicate.pop();
            return Ok(RpcResponse {
                status: 500,
                body: Body::Json(out),
            });
        }
        if !self.forwarded
            && let Value::Object(m) = &mut out
        {
            m.insert("hash".into(), json!(hash));
        }
        Ok(RpcResponse::ok(out))
    }

    fn retrieve(&mut self, p: &Map<String, Value>) -> R<RpcResponse> {
        let owner = pubkey(p)?;
        self.note("retrieve", Some(&owner));
        let ns = namespace(p, false)?.unwrap_or(0);
        let last_hash = match opt_str(p, "last_hash")? {
            Some(h) => Some(h),
            None => opt_str(p, "lastHash")?,
        };
        let max_count = opt_int(p, "max_count", false)?;
        let max_size = opt_int(p, "max_size", false)?;
        let timestamp = opt_timestamp(p, "timestamp", false)?;
        let sig = auth(p, &owner, false)?;
        self.check_swarm(&owner)?;
        let now = self.now_ms;
        match (sig, is_noauth_retrieve(ns)) {
            (None, true) => {}
            (None, false) => {
                return Err(RpcResponse::text(
                    401,
                    "retrieve: request signature required",
                ));
            }
            (Some(sig), _) => {
                let ts = require("timestamp", timestamp)?;
                if (ts - now).abs() > SIGNATURE_TOLERANCE_MS {
                    return Err(RpcResponse::text(
                        406,
                        "retrieve timestamp too far from current time",
                    ));
                }
                let msg = format!("retrieve{}{}", ns_sig(ns), ts);
                if !verify(&owner, &sig, msg.as_bytes()) {
                    return Err(RpcResponse::text(
                        401,
                        "retrieve signature verification failed",
                    ));
                }
            }
        }
        let max_count = max_count
            .filter(|&c| c > 0)
            .map(|c| usize::try_from(c).unwrap_or(usize::MAX));
        let max_size = match max_size.filter(|&s| s != 0) {
            None if max_count.is_none() => Some(crate::limits::RETRIEVE_MAX_SIZE / 5),
            None => None,
            Some(s) if s < 0 => Some(
                crate::limits::RETRIEVE_MAX_SIZE
                    / usize::try_from(s.unsigned_abs()).unwrap_or(usize::MAX),
            ),
            Some(s) => Some(usize::try_from(s).unwrap_or(usize::MAX)),
        };
        let (msgs, more) = self
            .storage
            .retrieve(&owner, ns, last_hash, max_count, max_size, now)
            .map_err(|_| {
                RpcResponse::text(
                    500,
                    format!(
                        "Internal Server Error. Could not retrieve messages for {}",
                        obfuscate(&owner)
                    ),
                )
            })?;
        let messages: Vec<Value> = msgs
            .iter()
            .map(|m| {
                json!({
                    "hash": m.hash,
                    "timestamp": m.timestamp_ms,
                    "expiration": m.expiry_ms,
                    "data": STANDARD.encode(&m.data),
                })
            })
            .collect();
        Ok(RpcResponse::ok(
            self.misc(json!({ "messages": messages, "more": more })),
        ))
    }

    fn signed_window(&self, what: &str, ts: i64) -> R<()> {
        let tol = if self.forwarded {
            SIGNATURE_TOLERANCE_FORWARDED_MS
        } else {
            SIGNATURE_TOLERANCE_MS
        };
        if (ts - self.now_ms).abs() > tol {
            return Err(RpcResponse::text(
                406,
                format!("{what} timestamp too far from current time"),
            ));
        }
        Ok(())
    }

    fn delete(&mut self, request: &Value, p: &Map<String, Value>) -> R<RpcResponse> {
        let owner = pubkey(p)?;
        self.note("delete", Some(&owner));
        let sig = require("signature", auth(p, &owner, true)?)?;
        let msgs = hashes(p)?;
        let required = opt_bool(p, "required")?;
        self.check_swarm(&owner)?;
        let msg = ["delete".to_string(), msgs.concat()].concat();
        if !verify(&owner, &sig, msg.as_bytes()) {
            return Err(RpcResponse::text(
                401,
                "delete_msgs signature verification failed",
            ));
        }
        let deleted = self
            .storage
            .delete_by_hash(&owner, &msgs)
            .map_err(|_| RpcResponse::text(500, "request failed"))?;
        let pk_hex = hex::encode(&owner);
        let signature = self.sign_b64(&[
            pk_hex.as_bytes(),
            msgs.concat().as_bytes(),
            deleted.concat().as_bytes(),
        ]);
        let none = deleted.is_empty();
        let out = self.swarm_result(
            request,
            json!({ "deleted": deleted, "signature": signature }),
        );
        Ok(RpcResponse {
            status: if required && none { 404 } else { 200 },
            body: Body::Json(out),
        })
    }

    fn deleted_json(&self, affected: &[(i16, String)], all: bool) -> (Value, Vec<u8>) {
        let sorted: Vec<u8> = affected.iter().flat_map(|(_, h)| h.bytes()).collect();
        if all {
            let mut by_ns: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for (ns, h) in affected {
                by_ns.entry(ns.to_string()).or_default().push(h);
            }
            (json!(by_ns), sorted)
        } else {
            (
                json!(affected.iter().map(|(_, h)| h.as_str()).collect::<Vec<_>>()),
                sorted,
            )
        }
    }

    fn delete_all(&mut self, request: &Value, p: &Map<String, Value>) -> R<RpcResponse> {
        let owner = pubkey(p)?;
        self.note("delete_all", Some(&owner));
        let ns = namespace(p, true)?;
        let ts = require("timestamp", opt_timestamp(p, "timestamp", false)?)?;
        let sig = require("signature", auth(p, &owner, true)?)?;
        self.check_swarm(&owner)?;
        self.signed_window("delete_all", ts)?;
        let ns_str = ns.map_or_else(|| "all".to_string(), ns_sig);
        if !verify(&owner, &sig, format!("delete_all{ns_str}{ts}").as_bytes()) {
            return Err(RpcResponse::text(
                401,
                "delete_all signature verification failed",
            ));
        }
        let affected = self
            .storage
            .delete_all(&owner, ns)
            .map_err(|_| RpcResponse::text(500, "request failed"))?;
        let (deleted, sorted) = self.deleted_json(&affected, ns.is_none());
        let pk_hex = hex::encode(&owner);
        let signature = self.sign_b64(&[pk_hex.as_bytes(), ts.to_string().as_bytes(), &sorted]);
        Ok(RpcResponse::ok(self.swarm_result(
            request,
            json!({ "deleted": deleted, "signature": signature }),
        )))
    }

    fn delete_before(&mut self, request: &Value, p: &Map<String, Value>) -> R<RpcResponse> {
        let owner = pubkey(p)?;
        self.note("delete_before", Some(&owner));
        let ns = namespace(p, true)?;
        let before = require("before", opt_timestamp(p, "before", false)?)?;
        let sig = require("signature", auth(p, &owner, true)?)?;
        self.check_swarm(&owner)?;
        if before > self.now_ms + 60_000 {
            return Err(RpcResponse::text(
                401,
                "delete_before timestamp too far in the future",
            ));
        }
        let ns_str = ns.map_or_else(|| "all".to_string(), ns_sig);
        if !verify(
            &owner,
            &sig,
            format!("delete_before{ns_str}{before}").as_bytes(),
        ) {
            return Err(RpcResponse::text(
                401,
                "delete_before signature verification failed",
            ));
        }
        let affected = self
            .storage
            .delete_before(&owner, ns, before)
            .map_err(|_| RpcResponse::text(500, "request failed"))?;
        let (deleted, sorted) = self.deleted_json(&affected, ns.is_none());
        let pk_hex = hex::encode(&owner);
        let signature = self.sign_b64(&[pk_hex.as_bytes(), before.to_string().as_bytes(), &sorted]);
        Ok(RpcResponse::ok(self.swarm_result(
            request,
            json!({ "deleted": deleted, "signature": signature }),
        )))
    }

    fn expire_all(&mut self, request: &Value, p: &Map<String, Value>) -> R<RpcResponse> {
        let owner = pubkey(p)?;
        self.note("expire_all", Some(&owner));
        let ns = namespace(p, true)?;
        let expiry = require("expiry", opt_timestamp(p, "expiry", false)?)?;
        let sig = require("signature", auth(p, &owner, true)?)?;
        self.check_swarm(&owner)?;
        let tol = if self.forwarded {
            SIGNATURE_TOLERANCE_FORWARDED_MS
        } else {
            SIGNATURE_TOLERANCE_MS
        };
        if expiry < self.now_ms - tol {
            return Err(RpcResponse::text(
                406,
                "expire_all timestamp should be >= current time",
            ));
        }
        let ns_str = ns.map_or_else(|| "all".to_string(), ns_sig);
        if !verify(
            &owner,
            &sig,
            format!("expire_all{ns_str}{expiry}").as_bytes(),
        ) {
            return Err(RpcResponse::text(
                401,
                "expire_all signature verification failed",
            ));
        }
        let affected = self
            .storage
            .update_all_expiries(&owner, ns, expiry)
            .map_err(|_| RpcResponse::text(500, "request failed"))?;
        let (updated, sorted) = self.deleted_json(&affected, ns.is_none());
        let pk_hex = hex::encode(&owner);
        let signature = self.sign_b64(&[pk_hex.as_bytes(), expiry.to_string().as_bytes(), &sorted]);
        Ok(RpcResponse::ok(self.swarm_result(
            request,
            json!({ "updated": updated, "signature": signature }),
        )))
    }

    fn expire(&mut self, request: &Value, p: &Map<String, Value>) -> R<RpcResponse> {
        let owner = pubkey(p)?;
        self.note("expire", Some(&owner));
        let msgs = hashes(p)?;
        let shorten = opt_bool(p, "shorten")?;
        let extend = opt_bool(p, "extend")?;
        if shorten && extend {
            return Err(RpcResponse::parse(
                "Cannot specify both 'shorten' and 'extend'",
            ));
        }
        let expiries: Vec<i64> = match require("expiry", field(p, "expiry"))? {
            Value::Array(a) => a.iter().map(Value::as_i64).collect::<Option<Vec<_>>>().ok_or_else(|| {
                RpcResponse::parse("Invalid value given for 'expiry': expected integer timestamp (in milliseconds)")
            })?,
            v => vec![v.as_i64().ok_or_else(|| {
                RpcResponse::parse("Invalid value given for 'expiry': expected integer timestamp (in milliseconds)")
            })?],
        };
        if expiries.len() != 1 && expiries.len() != msgs.len() {
            return Err(RpcResponse::parse(
                "expiry array must have the same length as messages",
            ));
        }
        let sig = require("signature", auth(p, &owner, true)?)?;
        self.check_swarm(&owner)?;
        let now = self.now_ms;
        let mut applied = Vec::with_capacity(expiries.len());
        for &e in &expiries {
            if e < now - 60_000 {
                return Err(RpcResponse::text(
                    401,
                    "expire: timestamp should be >= current time",
                ));
            }
            applied.push(e.min(now + TTL_MAXIMUM_PRIVATE_MS));
        }
        let mode_str = if shorten {
            "shorten"
        } else if extend {
            "extend"
        } else {
            ""
        };
        let exp_str: String = expiries.iter().map(i64::to_string).collect();
        if !verify(
            &owner,
            &sig,
            format!("expire{mode_str}{exp_str}{}", msgs.concat()).as_bytes(),
        ) {
            return Err(RpcResponse::text(
                401,
                "expire: signature verification failed",
            ));
        }
        let mode = if shorten {
            ExpiryMode::ShortenOnly
        } else if extend {
            ExpiryMode::ExtendOnly
        } else {
            ExpiryMode::Any
        };
        let updated = self
            .storage
            .update_expiry(&owner, &msgs, &applied, mode)
            .map_err(|_| RpcResponse::text(500, "request failed"))?;
        let updated_hashes: Vec<&str> = updated.iter().map(|(h, _)| h.as_str()).collect();
        let mut unchanged = BTreeMap::new();
        if shorten || extend {
            let rest: Vec<String> = msgs
                .iter()
                .filter(|h| !updated_hashes.contains(&h.as_str()))
                .cloned()
                .collect();
            if !rest.is_empty() {
                unchanged = self
                    .storage
                    .get_expiries(&owner, &rest)
                    .map_err(|_| RpcResponse::text(500, "request failed"))?;
            }
        }
        let (expiry_json, sig_exp): (Value, String) = if expiries.len() > 1 {
            let v: Vec<i64> = updated.iter().map(|(_, e)| *e).collect();
            let s = v.iter().map(i64::to_string).collect();
            (json!(v), s)
        } else {
            let e = applied.first().copied().unwrap_or(0);
            (json!(e), e.to_string())
        };
        let unchanged_str: String = unchanged.iter().map(|(h, e)| format!("{h}{e}")).collect();
        let pk_hex = hex::encode(&owner);
        let signature = self.sign_b64(&[
            pk_hex.as_bytes(),
            sig_exp.as_bytes(),
            msgs.concat().as_bytes(),
            updated_hashes.concat().as_bytes(),
            unchanged_str.as_bytes(),
        ]);
        let mut mine =
            json!({ "expiry": expiry_json, "updated": updated_hashes, "signature": signature });
        if (shorten || extend)
            && let Value::Object(m) = &mut mine
        {
            m.insert("unchanged".into(), json!(unchanged));
        }
        Ok(RpcResponse::ok(self.swarm_result(request, mine)))
    }

    fn get_expiries(&mut self, p: &Map<String, Value>) -> R<RpcResponse> {
        let owner = pubkey(p)?;
        self.note("get_expiries", Some(&owner));
        let msgs = hashes(p)?;
        let ts = require("timestamp", opt_timestamp(p, "timestamp", false)?)?;
        let sig = require("signature", auth(p, &owner, true)?)?;
        self.check_swarm(&owner)?;
        if (ts - self.now_ms).abs() > SIGNATURE_TOLERANCE_MS {
            return Err(RpcResponse::text(
                406,
                "get_expiries timestamp too far from current time",
            ));
        }
        if !verify(
            &owner,
            &sig,
            format!("get_expiries{ts}{}", msgs.concat()).as_bytes(),
        ) {
            return Err(RpcResponse::text(
                401,
                "get_expiries signature verification failed",
            ));
        }
        let expiries = self
            .storage
            .get_expiries(&owner, &msgs)
            .map_err(|_| RpcResponse::text(500, "request failed"))?;
        Ok(RpcResponse::ok(json!({ "expiries": expiries })))
    }

    fn get_swarm(&mut self, p: &Map<String, Value>) -> R<RpcResponse> {
        let owner = pubkey(p)?;
        self.note("get_swarm", Some(&owner));
        Ok(RpcResponse::ok(
            self.misc(self.map.swarm_json(&account_key(&owner))),
        ))
    }

    fn oxend_request(&mut self, p: &Map<String, Value>) -> R<RpcResponse> {
        self.note("oxend_request", None);
        let endpoint = require("endpoint", opt_str(p, "endpoint")?)?;
        match endpoint {
            "get_service_nodes" | "get_n_service_nodes" => Ok(RpcResponse::ok(
                self.misc(json!({ "result": self.map.service_nodes_json() })),
            )),
            _ => Ok(RpcResponse::text(400, "Unknown oxend error")),
        }
    }
}
