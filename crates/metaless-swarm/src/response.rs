//! Reading storage server replies on the client side, and checking the swarm members'
//! signatures in them.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use metaless_identity::{hex, verify_ed25519};
use serde_json::{Map, Value};

use crate::json::{field, opt_hf, opt_u64, parse_object, req_array, req_object};
use crate::sig::{self, ExpireMode};
use crate::{MessageHash, SwarmError, UserPubkey, b64};

/// A stored message as `retrieve` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The message hash (use the last one as the next `last_hash`).
    pub hash: String,
    /// When it was stored (the store's `timestamp`).
    pub timestamp_ms: u64,
    /// When it expires (`expiration` on the wire).
    pub expiry_ms: u64,
    /// The payload.
    pub data: Vec<u8>,
}

/// A `retrieve` reply.
///
/// ```
/// use metaless_swarm::RetrieveResponse;
/// let body = br#"{"messages": [{"hash": "h", "timestamp": 1, "expiration": 2, "data": "aGk="}], "more": false, "t": 3, "hf": [19, 3]}"#;
/// let r = RetrieveResponse::parse(body).unwrap();
/// assert_eq!(r.messages[0].data, b"hi");
/// assert_eq!((r.more, r.network_time_ms), (false, Some(3)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveResponse {
    /// The messages, oldest first.
    pub messages: Vec<StoredMessage>,
    /// Whether more remain beyond the limits.
    pub more: bool,
    /// The node's clock.
    pub network_time_ms: Option<u64>,
    /// The hard fork.
    pub hf: Option<[u16; 2]>,
}

impl RetrieveResponse {
    /// Parses the reply body; any malformed entry refuses the whole reply (what a test or a
    /// server checking its own output wants). A client reading a node's answer wants
    /// [`parse_tolerant`](Self::parse_tolerant).
    pub fn parse(body: &[u8]) -> Result<Self, SwarmError> {
        let top = parse_object(body)?;
        let messages = req_array(&top, "messages")?
            .iter()
            .map(entry)
            .collect::<Result<_, _>>()?;
        Self::with_messages(&top, messages)
    }

    /// Parses the reply body keeping the well-formed entries and counting the rest, so one
    /// bad entry does not hide the others. An entry is well-formed when it reads as for
    /// [`parse`](Self::parse) and its `hash` is a storage [`MessageHash`] (the client keys
    /// de-duplication and the next `last_hash` on it). The reply itself must still be a JSON
    /// object with a `messages` array and well-typed `more`, `t` and `hf`: a truncated or
    /// foreign body is refused.
    ///
    /// ```
    /// use metaless_swarm::RetrieveResponse;
    /// let h = "A".repeat(43);
    /// let body = format!(r#"{{"messages": [{{"hash": "{h}", "timestamp": 1, "expiration": 2, "data": "aGk="}},
    ///     {{"hash": "{h}", "timestamp": 1, "expiration": 2, "data": "not base64!"}}], "more": true}}"#);
    /// let r = RetrieveResponse::parse_tolerant(body.as_bytes()).unwrap();
    /// assert_eq!((r.response.messages.len(), r.skipped), (1, 1));
    /// assert!(r.response.more);
    /// assert!(RetrieveResponse::parse_tolerant(br#"{"messages": ["#).is_err());
    /// ```
    pub fn parse_tolerant(body: &[u8]) -> Result<TolerantRetrieve, SwarmError> {
        Self::tolerant_from_object(&parse_object(body)?)
    }

    /// [`parse_tolerant`](Self::parse_tolerant) over a body already parsed with
    /// [`parse_reply_object`](crate::parse_reply_object), for a reader that also needs the
    /// top-level fields (the clock) and should parse the body once.
    ///
    /// ```
    /// use metaless_swarm::{RetrieveResponse, parse_reply_object};
    /// let top = parse_reply_object(br#"{"messages":[],"more":false,"t":5}"#).unwrap();
    /// let got = RetrieveResponse::tolerant_from_object(&top).unwrap();
    /// assert_eq!(got.response.network_time_ms, Some(5));
    /// assert!(RetrieveResponse::tolerant_from_object(&parse_reply_object(b"{}").unwrap()).is_err());
    /// ```
    pub fn tolerant_from_object(top: &Map<String, Value>) -> Result<TolerantRetrieve, SwarmError> {
        let list = req_array(top, "messages")?;
        let messages: Vec<StoredMessage> = list
            .iter()
            .filter_map(|m| entry(m).ok())
            .filter(|m| MessageHash::parse(&m.hash).is_ok())
            .collect();
        Ok(TolerantRetrieve {
            skipped: list.len() - messages.len(),
            response: Self::with_messages(top, messages)?,
        })
    }

    fn with_messages(
        top: &Map<String, Value>,
        messages: Vec<StoredMessage>,
    ) -> Result<Self, SwarmError> {
        Ok(Self {
            messages,
            more: crate::json::opt_bool(top, "more")?,
            network_time_ms: opt_u64(top, "t")?,
            hf: opt_hf(top)?,
        })
    }
}

/// One `retrieve` entry: `{"hash", "timestamp", "expiration", "data" (base64)}`.
fn entry(m: &Value) -> Result<StoredMessage, SwarmError> {
    let m = m.as_object().ok_or(SwarmError::InvalidField("messages"))?;
    let data = field(m, "data")
        .and_then(Value::as_str)
        .ok_or(SwarmError::MissingField("data"))?;
    Ok(StoredMessage {
        hash: String::from(crate::json::req_str(m, "hash")?),
        timestamp_ms: crate::json::req_u64(m, "timestamp")?,
        expiry_ms: crate::json::req_u64(m, "expiration")?,
        data: b64::decode(data.as_bytes()).ok_or(SwarmError::InvalidField("data"))?,
    })
}

/// A `retrieve` reply read by [`RetrieveResponse::parse_tolerant`]: the well-formed entries,
/// and how many were left out.
///
/// ```
/// use metaless_swarm::RetrieveResponse;
/// let r = RetrieveResponse::parse_tolerant(br#"{"messages": [{"hash": "short"}]}"#).unwrap();
/// assert!(r.response.messages.is_empty());
/// assert_eq!(r.skipped, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TolerantRetrieve {
    /// The reply, holding only the well-formed entries (in their order).
    pub response: RetrieveResponse,
    /// Entries skipped as malformed.
    pub skipped: usize,
}

/// An `info` reply.
///
/// ```
/// let r = metaless_swarm::InfoResponse::parse(br#"{"version":[2,11,0],"timestamp":5,"t":5,"hf":[19,3]}"#).unwrap();
/// assert_eq!((r.version, r.timestamp_ms), ([2, 11, 0], 5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoResponse {
    /// Storage server version.
    pub version: [u16; 3],
    /// The node's clock (use it for the network clock offset).
    pub timestamp_ms: u64,
    /// The hard fork.
    pub hf: Option<[u16; 2]>,
}

impl InfoResponse {
    /// Parses the reply body.
    pub fn parse(body: &[u8]) -> Result<Self, SwarmError> {
        let top = parse_object(body)?;
        let mut version = [0u16; 3];
        for (slot, v) in version.iter_mut().zip(req_array(&top, "version")?) {
            *slot = v
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or(SwarmError::InvalidField("version"))?;
        }
        Ok(Self {
            version,
            timestamp_ms: crate::json::req_u64(&top, "timestamp")?,
            hf: opt_hf(&top)?,
        })
    }
}

/// A `get_expiries` reply: hash → expiry for the messages that exist.
///
/// ```
/// let e = metaless_swarm::parse_get_expiries(br#"{"expiries": {"a": 5}}"#).unwrap();
/// assert_eq!(e.get("a"), Some(&5));
/// ```
pub fn parse_get_expiries(body: &[u8]) -> Result<BTreeMap<String, u64>, SwarmError> {
    let top = parse_object(body)?;
    req_object(&top, "expiries")?
        .iter()
        .map(|(h, e)| {
            e.as_u64()
                .map(|e| (h.clone(), e))
                .ok_or(SwarmError::InvalidField("expiries"))
        })
        .collect()
}

/// Why a member's entry failed, as reported in its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberFailure {
    /// `timeout`.
    Timeout,
    /// `code` and `reason`.
    Code {
        /// The status code text.
        code: String,
        /// The reason.
        reason: String,
    },
    /// `bad_peer_response`, `query_failure` or an unrecognised failure.
    Other,
}

/// One swarm member's part of a swarm-wide reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberResult {
    /// The member's Ed25519 key.
    pub node: [u8; 32],
    /// Its entry, or why it failed.
    pub outcome: Result<Map<String, Value>, MemberFailure>,
}

/// A reply carrying per-member results under `swarm` (`store`, `delete`, `delete_all`,
/// `delete_before`, `expire`, `expire_all`).
///
/// ```
/// use metaless_swarm::SwarmResults;
/// let body = br#"{"swarm": {"0101010101010101010101010101010101010101010101010101010101010101": {"failed": true, "timeout": true}}, "t": 9}"#;
/// let r = SwarmResults::parse(body).unwrap();
/// assert_eq!(r.members.len(), 1);
/// assert!(r.members[0].outcome.is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmResults {
    /// Per member, in key order.
    pub members: Vec<MemberResult>,
    /// The top-level `hash` of a `store` reply.
    pub hash: Option<String>,
    /// The node's clock.
    pub network_time_ms: Option<u64>,
    /// The hard fork.
    pub hf: Option<[u16; 2]>,
}

impl SwarmResults {
    /// Parses the reply body. Entries keyed by something other than a 64-hex key are an error.
    pub fn parse(body: &[u8]) -> Result<Self, SwarmError> {
        Self::from_object(&parse_object(body)?)
    }

    /// [`parse`](Self::parse) over a body already parsed with
    /// [`parse_reply_object`](crate::parse_reply_object).
    ///
    /// ```
    /// use metaless_swarm::{SwarmResults, parse_reply_object};
    /// let top = parse_reply_object(br#"{"swarm":{},"hash":"h","t":9}"#).unwrap();
    /// assert_eq!(SwarmResults::from_object(&top).unwrap().network_time_ms, Some(9));
    /// assert!(SwarmResults::from_object(&parse_reply_object(b"{}").unwrap()).is_err());
    /// ```
    pub fn from_object(top: &Map<String, Value>) -> Result<Self, SwarmError> {
        let mut members = Vec::new();
        for (k, v) in req_object(top, "swarm")? {
            let node: [u8; 32] =
                hex::decode_array(k).map_err(|_| SwarmError::InvalidField("swarm"))?;
            let entry = v.as_object().ok_or(SwarmError::InvalidField("swarm"))?;
            let outcome = if entry.get("failed").and_then(Value::as_bool) == Some(true) {
                Err(if entry.get("timeout").is_some() {
                    MemberFailure::Timeout
                } else if let (Some(code), Some(reason)) = (entry.get("code"), entry.get("reason"))
                {
                    MemberFailure::Code {
                        code: code
                            .as_str()
                            .map(String::from)
                            .unwrap_or_else(|| code.to_string()),
                        reason: reason.as_str().map(String::from).unwrap_or_default(),
                    }
                } else {
                    MemberFailure::Other
                })
            } else {
                Ok(entry.clone())
            };
            members.push(MemberResult { node, outcome });
        }
        Ok(Self {
            members,
            hash: field(top, "hash").and_then(Value::as_str).map(String::from),
            network_time_ms: opt_u64(top, "t")?,
            hf: opt_hf(top)?,
        })
    }

    /// The members whose entries succeeded.
    pub fn successes(&self) -> impl Iterator<Item = (&[u8; 32], &Map<String, Value>)> {
        self.members
            .iter()
            .filter_map(|m| m.outcome.as_ref().ok().map(|e| (&m.node, e)))
    }
}

fn entry_signature(entry: &Map<String, Value>) -> Result<[u8; 64], SwarmError> {
    let s = field(entry, "signature")
        .and_then(Value::as_str)
        .ok_or(SwarmError::MissingField("signature"))?;
    b64::decode(s.as_bytes())
        .and_then(|raw| <[u8; 64]>::try_from(raw.as_slice()).ok())
        .ok_or(SwarmError::InvalidField("signature"))
}

fn strings(entry: &Map<String, Value>, name: &'static str) -> Result<Vec<String>, SwarmError> {
    Ok(crate::json::req_str_list(entry, name)?
        .into_iter()
        .map(String::from)
        .collect())
}

fn check(node: &[u8; 32], message: &[u8], entry: &Map<String, Value>) -> Result<(), SwarmError> {
    verify_ed25519(node, message, &entry_signature(entry)?).map_err(|_| SwarmError::BadSignature)
}

/// Checks a member's `store` entry (signature over the hash) and returns the hash, expiry and
/// whether it was already stored.
pub fn verify_store_entry(
    node: &[u8; 32],
    entry: &Map<String, Value>,
) -> Result<(MessageHash, u64, bool), SwarmError> {
    let hash = MessageHash::parse(crate::json::req_str(entry, "hash")?)?;
    check(node, &sig::store_reply(&hash), entry)?;
    Ok((
        hash,
        crate::json::req_u64(entry, "expiry")?,
        crate::json::opt_bool(entry, "already")?,
    ))
}

/// Checks a member's `delete` entry and returns the hashes it deleted.
pub fn verify_delete_entry(
    node: &[u8; 32],
    entry: &Map<String, Value>,
    pubkey: &UserPubkey,
    requested: &[MessageHash],
) -> Result<Vec<String>, SwarmError> {
    let deleted = strings(entry, "deleted")?;
    check(node, &sig::delete_reply(pubkey, requested, &deleted), entry)?;
    Ok(deleted)
}

/// Checks a member's `revoke_subaccount` entry (`{"signature"}`), or with `unrevoke` its
/// `unrevoke_subaccount` entry (`{"count", "signature"}`), against the request; returns the
/// count (0 for a revoke).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{UserPubkey, server::revocation_entry, verify_revocation_entry};
/// let node = Keypair::from_seed(&Seed::from_bytes([7; 32]));
/// let pk = UserPubkey::new(3, [1; 32]);
/// let e = revocation_entry(&node, &pk, 5, &[[2; 36]], Some(1));
/// let e = e.as_object().unwrap();
/// assert_eq!(verify_revocation_entry(&node.ed25519_public(), e, &pk, 5, &[[2; 36]], true), Ok(1));
/// assert!(verify_revocation_entry(&node.ed25519_public(), e, &pk, 6, &[[2; 36]], true).is_err());
/// ```
pub fn verify_revocation_entry(
    node: &[u8; 32],
    entry: &Map<String, Value>,
    pubkey: &UserPubkey,
    timestamp_ms: u64,
    tokens: &[[u8; crate::SUBACCOUNT_TOKEN_LEN]],
    unrevoke: bool,
) -> Result<u64, SwarmError> {
    check(
        node,
        &sig::revocation_reply(pubkey, timestamp_ms, tokens),
        entry,
    )?;
    if unrevoke {
        crate::json::req_u64(entry, "count")
    } else {
        Ok(0)
    }
}

/// Reads a `revoked_subaccounts` reply: the account's revoked tokens.
///
/// ```
/// use metaless_swarm::{parse_revoked_subaccounts, server::revoked_subaccounts_reply};
/// let r = revoked_subaccounts_reply(&[[3; 36]], 9, [19, 3]);
/// assert_eq!(parse_revoked_subaccounts(&r.body_bytes()).unwrap(), vec![[3; 36]]);
/// assert!(parse_revoked_subaccounts(br#"{"revoked_subaccounts":["AAAA"]}"#).is_err());
/// ```
pub fn parse_revoked_subaccounts(
    body: &[u8],
) -> Result<Vec<[u8; crate::SUBACCOUNT_TOKEN_LEN]>, SwarmError> {
    let top = parse_object(body)?;
    req_array(&top, "revoked_subaccounts")?
        .iter()
        .map(|t| {
            t.as_str()
                .and_then(|t| crate::b64::decode(t.as_bytes()))
                .and_then(|raw| raw.as_slice().try_into().ok())
                .ok_or(SwarmError::InvalidField("revoked_subaccounts"))
        })
        .collect()
}

/// Checks a member's `delete_all`/`delete_before` (`key` = `deleted`) or `expire_all`
/// (`updated`) entry for one namespace and returns the affected hashes.
pub fn verify_namespace_action_entry(
    node: &[u8; 32],
    entry: &Map<String, Value>,
    key: &'static str,
    pubkey: &UserPubkey,
    value_ms: u64,
) -> Result<Vec<String>, SwarmError> {
    let mut hashes: Vec<String> = match field(entry, key) {
        Some(Value::Object(by_ns)) => {
            let mut all = Vec::new();
            for list in by_ns.values() {
                for h in list.as_array().ok_or(SwarmError::InvalidField("deleted"))? {
                    all.push(String::from(
                        h.as_str().ok_or(SwarmError::InvalidField("deleted"))?,
                    ));
                }
            }
            all
        }
        _ => strings(entry, key)?,
    };
    hashes.sort();
    check(node, &sig::action_reply(pubkey, value_ms, &hashes), entry)?;
    Ok(hashes)
}

/// Checks a member's `expire` entry and returns `(updated hashes, unchanged hash → expiry)`.
pub fn verify_expire_entry(
    node: &[u8; 32],
    entry: &Map<String, Value>,
    pubkey: &UserPubkey,
    requested: &[MessageHash],
    mode: ExpireMode,
) -> Result<(Vec<String>, BTreeMap<String, u64>), SwarmError> {
    let updated = strings(entry, "updated")?;
    let expiries: Vec<u64> = match field(entry, "expiry") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_u64().ok_or(SwarmError::InvalidField("expiry")))
            .collect::<Result<_, _>>()?,
        Some(v) => alloc::vec![v.as_u64().ok_or(SwarmError::InvalidField("expiry"))?],
        None => return Err(SwarmError::MissingField("expiry")),
    };
    let mut unchanged = BTreeMap::new();
    if mode != ExpireMode::Set
        && let Some(map) = field(entry, "unchanged")
    {
        for (h, e) in map
            .as_object()
            .ok_or(SwarmError::InvalidField("unchanged"))?
        {
            unchanged.insert(
                h.clone(),
                e.as_u64().ok_or(SwarmError::InvalidField("unchanged"))?,
            );
        }
    }
    let unchanged_list: Vec<(&str, u64)> =
        unchanged.iter().map(|(h, e)| (h.as_str(), *e)).collect();
    check(
        node,
        &sig::expire_reply(pubkey, &expiries, requested, &updated, &unchanged_list),
        entry,
    )?;
    Ok((updated, unchanged))
}
