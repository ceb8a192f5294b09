//! Parsing request parameters exactly as the storage server does
//! (`client_rpc_endpoints.cpp` `load(...)`): fields are type-checked in alphabetical order,
//! then required fields, then values, each failure with the server's own message.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use metaless_identity::hex;
use serde_json::{Map, Value};

use super::RpcError;
use crate::limits::{
    BATCH_REQUEST_MAX, MAX_MESSAGE_BODY, MAX_MESSAGE_BODY_BASE64, MAX_SUBACCOUNT_TOKENS,
};
use crate::rpc::{
    Auth, Delete, Expire, GetExpiries, NamespaceAction, OxendEndpoint, OxendRequest, Request,
    Retrieve, RevokedSubaccounts, SUBACCOUNT_TOKEN_LEN, Store, Subaccount, SubaccountRevocation,
};
use crate::sig::ExpireMode;
use crate::{MESSAGE_HASH_LEN, MessageHash, Namespace, NamespaceOrAll, UserPubkey, b64};

/// A `parse_error`: its text follows `invalid request: ` in the 400 reply.
type P<T> = Result<T, String>;

type Obj = Map<String, Value>;

fn present<'a>(o: &'a Obj, name: &str) -> Option<&'a Value> {
    o.get(name).filter(|v| !v.is_null())
}

fn expected(name: &str, desc: &str) -> String {
    format!("Invalid value given for '{name}': expected {desc}")
}

fn is_integer(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

/// nlohmann's `get<int64_t>()`: unsigned values above `i64::MAX` wrap.
fn as_i64_wrapping(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_u64().map(|u| u as i64))
}

fn f_str<'a>(o: &'a Obj, name: &str) -> P<Option<&'a str>> {
    present(o, name)
        .map(|v| v.as_str().ok_or_else(|| expected(name, "string")))
        .transpose()
}

fn f_bool(o: &Obj, name: &str) -> P<Option<bool>> {
    present(o, name)
        .map(|v| v.as_bool().ok_or_else(|| expected(name, "boolean")))
        .transpose()
}

fn f_int(o: &Obj, name: &str) -> P<Option<i32>> {
    present(o, name)
        .map(|v| {
            // `get<int>()` truncates wider integers.
            as_i64_wrapping(v)
                .map(|n| n as i32)
                .ok_or_else(|| expected(name, "integer"))
        })
        .transpose()
}

fn ns_from(v: &Value, name: &str) -> P<Namespace> {
    let n = as_i64_wrapping(v).ok_or_else(|| expected(name, "16-bit integer"))?;
    Namespace::try_from_i64(n)
        .map_err(|_| format!("Invalid value given for '{name}': value out of range"))
}

fn f_ns(o: &Obj, name: &str) -> P<Option<Namespace>> {
    present(o, name).map(|v| ns_from(v, name)).transpose()
}

fn f_ns_var(o: &Obj, name: &str) -> P<Option<NamespaceOrAll>> {
    let all_err = || expected(name, "integer or \"all\"");
    present(o, name)
        .map(|v| {
            if is_integer(v) {
                ns_from(v, name).map(NamespaceOrAll::One)
            } else if v.as_str() == Some("all") {
                Ok(NamespaceOrAll::All)
            } else {
                Err(all_err())
            }
        })
        .transpose()
}

fn f_ts(o: &Obj, name: &str) -> P<Option<u64>> {
    present(o, name)
        .map(|v| {
            let u = v
                .as_u64()
                .ok_or_else(|| expected(name, "integer timestamp (in milliseconds)"))?;
            // Values below 10^9 ms (and ones that wrap negative as int64) were almost certainly
            // given in seconds.
            if u < 1_000_000_000 || u > i64::MAX as u64 {
                return Err(format!(
                    "Invalid timestamp for '{name}': timestamp must be in milliseconds"
                ));
            }
            Ok(u)
        })
        .transpose()
}

fn f_str_list(o: &Obj, name: &str) -> P<Option<Vec<String>>> {
    present(o, name)
        .map(|v| match v {
            Value::String(s) => Ok(alloc::vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(String::from)
                        .ok_or_else(|| expected(name, "string array"))
                })
                .collect(),
            _ => Err(expected(name, "string array")),
        })
        .transpose()
}

fn f_ts_list(o: &Obj, name: &str) -> P<Option<Vec<u64>>> {
    present(o, name)
        .map(|v| match v {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_u64().ok_or_else(|| expected(name, "timestamp array")))
                .collect(),
            other => other
                .as_u64()
                .map(|u| alloc::vec![u])
                .ok_or_else(|| expected(name, "timestamp array")),
        })
        .transpose()
}

/// `timestamp` and `ttl` of `store` may also be stringified integers (as `std::from_chars`
/// reads them: an optional `-` for signed values only, nothing else around the digits).
fn f_stringified_i64(o: &Obj, name: &str) -> P<Option<i64>> {
    match o.get(name) {
        Some(Value::String(s)) => {
            if s.starts_with('+') {
                return Err(bad_stringified(name, s));
            }
            s.parse::<i64>()
                .map(Some)
                .map_err(|_| bad_stringified(name, s))
        }
        _ => present(o, name)
            .map(|v| as_i64_wrapping(v).ok_or_else(|| expected(name, "integer")))
            .transpose(),
    }
}

fn f_stringified_u64(o: &Obj, name: &str) -> P<Option<u64>> {
    match o.get(name) {
        Some(Value::String(s)) => {
            if s.starts_with('+') {
                return Err(bad_stringified(name, s));
            }
            s.parse::<u64>()
                .map(Some)
                .map_err(|_| bad_stringified(name, s))
        }
        _ => present(o, name)
            .map(|v| v.as_u64().ok_or_else(|| expected(name, "positive integer")))
            .transpose(),
    }
}

fn bad_stringified(name: &str, s: &str) -> String {
    let dumped = serde_json::to_string(s).unwrap_or_default();
    format!("Invalid value given for '{name}': {dumped}")
}

fn require<T>(name: &str, v: Option<T>) -> P<T> {
    v.ok_or_else(|| format!("Required field '{name}' missing"))
}

fn exactly_one_alias<T>(first: &str, a: Option<T>, second: &str, b: Option<T>) -> P<T> {
    match (a, b) {
        (Some(_), Some(_)) => Err(format!("Cannot specify both '{first}' and '{second}'")),
        (Some(v), None) | (None, Some(v)) => Ok(v),
        (None, None) => Err(format!("Required field '{first}' missing")),
    }
}

fn load_pk(pk: Option<&str>) -> P<UserPubkey> {
    let pk = require("pubkey", pk)?;
    UserPubkey::from_param(pk.as_bytes())
        .map_err(|_| "Pubkey must be 66 hex digits (33 bytes) long".to_string())
}

fn is_signature_b64(s: &str) -> bool {
    b64::is_base64(s.as_bytes()) && (s.len() == 86 || (s.len() == 88 && s.ends_with("==")))
}

fn decode_sig(s: &str) -> Option<[u8; 64]> {
    let raw = b64::decode(s.as_bytes())?;
    raw.as_slice().try_into().ok()
}

/// `load_pk_signature` + `load_subaccount`.
fn load_auth(
    pk: Option<&str>,
    pk_ed: Option<&str>,
    sig: Option<&str>,
    subacc: Option<&str>,
    subacc_sig: Option<&str>,
) -> P<(UserPubkey, Auth)> {
    let pubkey = load_pk(pk)?;
    let sig = require("signature", sig)?;
    let pubkey_ed25519 = match pk_ed {
        None => None,
        Some(ed) => {
            if pubkey.prefix() != 5 {
                return Err("pubkey_ed25519 is only permitted for 05[...] pubkeys".into());
            }
            if ed.len() == 64 {
                Some(
                    hex::decode_array::<32>(ed)
                        .map_err(|_| "invalid pubkey_ed25519: value is not hex".to_string())?,
                )
            } else if ed.len() == 32 {
                let mut raw = [0u8; 32];
                raw.copy_from_slice(ed.as_bytes());
                Some(raw)
            } else {
                return Err(
                    "Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey".into(),
                );
            }
        }
    };
    let sig_err = || "invalid signature: expected base64 encoded Ed25519 signature".to_string();
    if !is_signature_b64(sig) {
        return Err(sig_err());
    }
    let signature = decode_sig(sig).ok_or_else(sig_err)?;
    let subaccount = load_subaccount(subacc, subacc_sig)?;
    Ok((
        pubkey,
        Auth {
            signature,
            pubkey_ed25519,
            subaccount,
        },
    ))
}

fn load_subaccount(subacc: Option<&str>, subacc_sig: Option<&str>) -> P<Option<Subaccount>> {
    let Some(sa) = subacc.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let sa_sig = subacc_sig.ok_or_else(|| {
        "invalid subaccount: subaccount_sig is required when using subaccount".to_string()
    })?;
    let token = decode_token(sa).ok_or_else(|| {
        "invalid subaccount: expected base64 or hex-encoded subaccount token".to_string()
    })?;
    let sig_err =
        || "invalid subaccount signature: expected base64 encoded Ed25519 signature".to_string();
    if !is_signature_b64(sa_sig) {
        return Err(sig_err());
    }
    let signature = decode_sig(sa_sig).ok_or_else(sig_err)?;
    Ok(Some(Subaccount { token, signature }))
}

/// A token in JSON: 48 base64 characters or 72 hex digits (upstream `load_subaccount`, and the
/// `revoke`/`unrevoke` lists).
fn decode_token(s: &str) -> Option<[u8; SUBACCOUNT_TOKEN_LEN]> {
    let raw = if b64::is_base64(s.as_bytes()) && s.len() == SUBACCOUNT_TOKEN_LEN * 4 / 3 {
        b64::decode(s.as_bytes())?
    } else if s.len() == SUBACCOUNT_TOKEN_LEN * 2 {
        hex::decode(s).ok()?
    } else {
        return None;
    };
    raw.as_slice().try_into().ok()
}

fn token_list(list: &[String], what: &str) -> P<Vec<[u8; SUBACCOUNT_TOKEN_LEN]>> {
    list.iter()
        .map(|t| {
            decode_token(t).ok_or_else(|| {
                format!("invalid {what}: expected base64 or hex-encoded subaccount tag")
            })
        })
        .collect()
}

/// `revoke_subaccount`: fields `pubkey`, `pubkey_ed25519`, `revoke`, `signature`, `timestamp`.
fn revoke_subaccount(o: &Obj) -> P<Request> {
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let revoke = f_str_list(o, "revoke")?;
    let sig = f_str(o, "signature")?;
    let ts = f_ts(o, "timestamp")?;
    let (pubkey, auth) = load_auth(pubkey, pk_ed, sig, None, None)?;
    let revoke = require("revoke", revoke)?;
    if revoke.len() > MAX_SUBACCOUNT_TOKENS {
        return Err(format!(
            "invalid revoke: cannot revoke more than {MAX_SUBACCOUNT_TOKENS} subaccounts at once"
        ));
    }
    let tokens = token_list(&revoke, "revoke")?;
    let timestamp_ms = require("timestamp", ts)?;
    Ok(Request::RevokeSubaccount(SubaccountRevocation {
        pubkey,
        auth,
        tokens,
        timestamp_ms,
    }))
}

/// `unrevoke_subaccount`: fields `pubkey`, `pubkey_ed25519`, `signature`, `timestamp`,
/// `unrevoke` (no count limit upstream beyond the body size).
fn unrevoke_subaccount(o: &Obj) -> P<Request> {
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let sig = f_str(o, "signature")?;
    let ts = f_ts(o, "timestamp")?;
    let unrevoke = f_str_list(o, "unrevoke")?;
    let (pubkey, auth) = load_auth(pubkey, pk_ed, sig, None, None)?;
    let timestamp_ms = require("timestamp", ts)?;
    let unrevoke = require("unrevoke", unrevoke)?;
    let tokens = token_list(&unrevoke, "unrevoke")?;
    Ok(Request::UnrevokeSubaccount(SubaccountRevocation {
        pubkey,
        auth,
        tokens,
        timestamp_ms,
    }))
}

/// `revoked_subaccounts`: fields `pubkey`, `pubkey_ed25519`, `signature`, `timestamp`.
fn revoked_subaccounts(o: &Obj) -> P<Request> {
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let sig = f_str(o, "signature")?;
    let ts = f_ts(o, "timestamp")?;
    let (pubkey, auth) = load_auth(pubkey, pk_ed, sig, None, None)?;
    let timestamp_ms = require("timestamp", ts)?;
    Ok(Request::RevokedSubaccounts(RevokedSubaccounts {
        pubkey,
        auth,
        timestamp_ms,
    }))
}

fn valid_hashes(messages: Vec<String>) -> P<Vec<MessageHash>> {
    if messages.is_empty() {
        return Err("messages does not contain any message hashes".into());
    }
    messages
        .into_iter()
        .map(|m| MessageHash::parse(&m).map_err(|_| format!("invalid message hash: {m}")))
        .collect()
}

/// What a parse can end in besides a `parse_error` (400): a store with a negative timestamp,
/// which upstream lets through to its clock check.
pub(super) enum Failure {
    Parse(String),
    Reply(RpcError),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Self::Parse(s)
    }
}

fn store(o: &Obj) -> Result<Request, Failure> {
    let data = f_str(o, "data")?;
    let expiry = f_ts(o, "expiry")?;
    let ns = f_ns(o, "namespace")?;
    let pub_key_alt = f_str(o, "pubKey")?;
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let sig_ts = f_ts(o, "sig_timestamp")?;
    let sig = f_str(o, "signature")?;
    let subacc = f_str(o, "subaccount")?;
    let subacc_sig = f_str(o, "subaccount_sig")?;
    let timestamp = f_stringified_i64(o, "timestamp")?;
    let ttl = f_stringified_u64(o, "ttl")?;

    let timestamp = require("timestamp", timestamp)?;
    let expiry_or_ttl = match (expiry, ttl) {
        (Some(_), Some(_)) => {
            return Err(Failure::Parse(
                "Cannot specify both 'expiry' and 'ttl'".into(),
            ));
        }
        (None, None) => {
            return Err(Failure::Parse(
                "Required field 'expiry' or 'ttl' missing".into(),
            ));
        }
        (e, t) => (e, t),
    };
    let pk = exactly_one_alias("pubkey", pubkey, "pubKey", pub_key_alt)?;
    let namespace = ns.unwrap_or_default();
    let (pubkey, auth, sig_timestamp_ms) = if sig.is_some() {
        let (pubkey, auth) = load_auth(Some(pk), pk_ed, sig, subacc, subacc_sig)?;
        (pubkey, Some(auth), sig_ts)
    } else {
        (load_pk(Some(pk))?, None, None)
    };
    let data = require("data", data)?;
    if !b64::is_base64(data.as_bytes()) {
        return Err(Failure::Parse(
            "Invalid 'data' value: not base64 encoded".into(),
        ));
    }
    if data.len() > MAX_MESSAGE_BODY_BASE64 {
        return Err(Failure::Parse(format!(
            "Message body exceeds maximum allowed length of {MAX_MESSAGE_BODY} bytes"
        )));
    }
    let data = b64::decode(data.as_bytes()).unwrap_or_default();
    // Upstream keeps a negative timestamp and refuses it at the clock check; our timestamps are
    // unsigned, so the same reply is given here.
    let timestamp_ms = u64::try_from(timestamp)
        .map_err(|_| Failure::Reply(RpcError::new(406, "Timestamp error: check your clock")))?;
    let expiry_ms = match expiry_or_ttl {
        (Some(e), _) => e,
        (None, Some(t)) => timestamp_ms.saturating_add(t),
        (None, None) => timestamp_ms,
    };
    Ok(Request::Store(Store {
        pubkey,
        namespace,
        timestamp_ms,
        expiry_ms,
        data,
        auth,
        sig_timestamp_ms,
    }))
}

fn retrieve(o: &Obj) -> P<Request> {
    let last_hash_alt = f_str(o, "lastHash")?;
    let last_hash = f_str(o, "last_hash")?;
    let max_count = f_int(o, "max_count")?;
    let max_size = f_int(o, "max_size")?;
    let ns = f_ns(o, "namespace")?;
    let pub_key_alt = f_str(o, "pubKey")?;
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let reverse = f_bool(o, "reverse_direction")?;
    let sig = f_str(o, "signature")?;
    let subacc = f_str(o, "subaccount")?;
    let subacc_sig = f_str(o, "subaccount_sig")?;
    let ts = f_ts(o, "timestamp")?;

    let pk = exactly_one_alias("pubkey", pubkey, "pubKey", pub_key_alt)?;
    let needs_auth = pk_ed.is_some()
        || sig.is_some()
        || ts.is_some()
        || ns.is_some_and(|n| !n.is_noauth_retrieve());
    let (pubkey, auth) = if needs_auth {
        let (pubkey, auth) = load_auth(Some(pk), pk_ed, sig, subacc, subacc_sig)?;
        (pubkey, Some((auth, require("timestamp", ts)?)))
    } else {
        (load_pk(Some(pk))?, None)
    };
    let last_hash = match (last_hash, last_hash_alt) {
        (Some(_), Some(_)) => return Err("Cannot specify both 'last_hash' and 'lastHash'".into()),
        (a, b) => a.or(b),
    };
    let last_hash = match last_hash {
        None | Some("") => None,
        Some(h) if h.len() == MESSAGE_HASH_LEN => {
            Some(MessageHash::parse(h).map_err(|_| "Invalid last_hash: not base64".to_string())?)
        }
        Some(_) => return Err("Invalid last_hash: expected base64 (43 chars)".into()),
    };
    Ok(Request::Retrieve(Retrieve {
        pubkey,
        namespace: ns.unwrap_or_default(),
        last_hash,
        max_count,
        max_size,
        reverse_direction: reverse.unwrap_or(false),
        auth,
    }))
}

fn delete(o: &Obj) -> P<Request> {
    let messages = f_str_list(o, "messages")?;
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let required = f_bool(o, "required")?;
    let sig = f_str(o, "signature")?;
    let subacc = f_str(o, "subaccount")?;
    let subacc_sig = f_str(o, "subaccount_sig")?;
    let (pubkey, auth) = load_auth(pubkey, pk_ed, sig, subacc, subacc_sig)?;
    let messages = valid_hashes(require("messages", messages)?)?;
    Ok(Request::Delete(Delete {
        pubkey,
        auth,
        messages,
        required: required.unwrap_or(false),
    }))
}

/// `delete_all` (value `timestamp`), `delete_before` (`before`), `expire_all` (`expiry`).
fn namespace_action(o: &Obj, value_name: &str) -> P<NamespaceAction> {
    // Fields in alphabetical order: `before`/`expiry` sort before `namespace`, `timestamp` after.
    let early = if value_name == "timestamp" {
        None
    } else {
        f_ts(o, value_name)?
    };
    let ns = f_ns_var(o, "namespace")?;
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let sig = f_str(o, "signature")?;
    let subacc = f_str(o, "subaccount")?;
    let subacc_sig = f_str(o, "subaccount_sig")?;
    let value = if value_name == "timestamp" {
        f_ts(o, value_name)?
    } else {
        early
    };
    let (pubkey, auth) = load_auth(pubkey, pk_ed, sig, subacc, subacc_sig)?;
    let value_ms = require(value_name, value)?;
    Ok(NamespaceAction {
        pubkey,
        auth,
        namespace: ns.unwrap_or_default(),
        value_ms,
    })
}

fn expire(o: &Obj) -> P<Request> {
    let expiry = f_ts_list(o, "expiry")?;
    let extend = f_bool(o, "extend")?;
    let messages = f_str_list(o, "messages")?;
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let shorten = f_bool(o, "shorten")?;
    let sig = f_str(o, "signature")?;
    let subacc = f_str(o, "subaccount")?;
    let subacc_sig = f_str(o, "subaccount_sig")?;
    let (pubkey, auth) = load_auth(pubkey, pk_ed, sig, subacc, subacc_sig)?;
    let expiries_ms = require("expiry", expiry)?;
    if expiries_ms.is_empty() {
        return Err("'expiry' does not contain any expiration timestamps".into());
    }
    let mode = match (shorten.unwrap_or(false), extend.unwrap_or(false)) {
        (true, true) => return Err("cannot specify both 'shorten' and 'extend'".into()),
        (true, false) => ExpireMode::Shorten,
        (false, true) => ExpireMode::Extend,
        (false, false) => ExpireMode::Set,
    };
    let messages = require("messages", messages)?;
    if messages.is_empty() {
        return Err("messages does not contain any message hashes".into());
    }
    if expiries_ms.len() > 1 && expiries_ms.len() != messages.len() {
        return Err("'expiry' must be a single expiry, or the same length as 'messages'".into());
    }
    let messages = valid_hashes(messages)?;
    Ok(Request::Expire(Expire {
        pubkey,
        auth,
        messages,
        expiries_ms,
        mode,
    }))
}

fn get_expiries(o: &Obj) -> P<Request> {
    let messages = f_str_list(o, "messages")?;
    let pubkey = f_str(o, "pubkey")?;
    let pk_ed = f_str(o, "pubkey_ed25519")?;
    let sig = f_str(o, "signature")?;
    let subacc = f_str(o, "subaccount")?;
    let subacc_sig = f_str(o, "subaccount_sig")?;
    let ts = f_ts(o, "timestamp")?;
    let (pubkey, auth) = load_auth(pubkey, pk_ed, sig, subacc, subacc_sig)?;
    let timestamp_ms = require("timestamp", ts)?;
    let messages = require("messages", messages)?;
    if messages.is_empty() {
        return Err("messages does not contain any message hashes".into());
    }
    Ok(Request::GetExpiries(GetExpiries {
        pubkey,
        auth,
        messages,
        timestamp_ms,
    }))
}

fn get_swarm(o: &Obj) -> P<Request> {
    let pub_key_alt = f_str(o, "pubKey")?;
    let pubkey = f_str(o, "pubkey")?;
    let pk = exactly_one_alias("pubkey", pubkey, "pubKey", pub_key_alt)?;
    UserPubkey::from_param(pk.as_bytes())
        .map(Request::GetSwarm)
        .map_err(|_| "Pubkey must be 66 hex digits/33 bytes long".into())
}

fn oxend_request(o: &Obj) -> P<Request> {
    let endpoint = require("endpoint", f_str(o, "endpoint")?)?;
    let endpoint = match endpoint {
        "get_service_nodes" => OxendEndpoint::GetServiceNodes,
        "ons_resolve" => OxendEndpoint::OnsResolve,
        other => return Err(format!("Invalid oxend endpoint '{other}'")),
    };
    Ok(Request::OxendRequest(OxendRequest {
        endpoint,
        params: present(o, "params").cloned(),
    }))
}

/// Methods the storage server has that this crate does not model.
const UNSUPPORTED: [&str; 1] = ["ifelse"];

fn is_meta(method: &str) -> bool {
    matches!(method, "batch" | "sequence" | "ifelse")
}

fn batch(o: &Obj, sequence: bool) -> Result<Request, Failure> {
    let no_requests =
        || Failure::Parse("Invalid batch request: no valid \"requests\" field".into());
    let reqs = present(o, "requests")
        .and_then(Value::as_array)
        .ok_or_else(no_requests)?;
    if reqs.is_empty() {
        return Err(no_requests());
    }
    if reqs.len() > BATCH_REQUEST_MAX {
        return Err(Failure::Parse(
            "Invalid batch request: subrequest limit exceeded".into(),
        ));
    }
    let mut subs = Vec::with_capacity(reqs.len());
    for j in reqs {
        let j = j.as_object().ok_or_else(|| {
            Failure::Parse("Invalid batch request: requests must be objects".into())
        })?;
        let (Some(Value::String(method)), Some(Value::Object(params))) =
            (j.get("method"), j.get("params"))
        else {
            return Err(Failure::Parse(
                "Invalid batch request: subrequests must have method/params keys".into(),
            ));
        };
        if is_meta(method) {
            return Err(Failure::Parse(
                "Invalid batch subrequest: subrequests may not contain meta-requests".into(),
            ));
        }
        match by_method(method, params) {
            Some(r) => subs.push(r?),
            None => {
                return Err(Failure::Parse(format!(
                    "Invalid batch subrequest: invalid method \"{method}\""
                )));
            }
        }
    }
    Ok(if sequence {
        Request::Sequence(subs)
    } else {
        Request::Batch(subs)
    })
}

/// Parses `params` for `method`; `None` when the method is unknown (or not modelled here).
pub(super) fn by_method(method: &str, o: &Obj) -> Option<Result<Request, Failure>> {
    let lift = |r: P<Request>| r.map_err(Failure::Parse);
    Some(match method {
        "store" => store(o),
        "retrieve" => lift(retrieve(o)),
        "delete" => lift(delete(o)),
        "delete_all" => namespace_action(o, "timestamp")
            .map(Request::DeleteAll)
            .map_err(Failure::Parse),
        "delete_before" => namespace_action(o, "before")
            .map(Request::DeleteBefore)
            .map_err(Failure::Parse),
        "expire_all" => namespace_action(o, "expiry")
            .map(Request::ExpireAll)
            .map_err(Failure::Parse),
        "expire" => lift(expire(o)),
        "get_expiries" => lift(get_expiries(o)),
        "revoke_subaccount" => lift(revoke_subaccount(o)),
        "unrevoke_subaccount" => lift(unrevoke_subaccount(o)),
        "revoked_subaccounts" => lift(revoked_subaccounts(o)),
        "get_swarm" | "get_snodes_for_pubkey" => lift(get_swarm(o)),
        "oxend_request" => lift(oxend_request(o)),
        "info" => Ok(Request::Info),
        "active_nodes_bin" => Ok(Request::ActiveNodesBin),
        "batch" => batch(o, false),
        "sequence" => batch(o, true),
        m if UNSUPPORTED.contains(&m) => return None,
        _ => return None,
    })
}
