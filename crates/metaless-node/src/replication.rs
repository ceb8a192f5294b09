//! Swarm replication, sans-IO: how a member signs the change it replays on its peers, how a
//! peer checks it, and what each peer's answer means for the client's reply.
//!
//! A replayed change travels as `{"metaless_forward":{"from","to","t","signature","body"}}` on
//! `/storage_rpc/v1`: `body` is the client's `{"method","params"}` text, `from`/`to` the
//! sending and receiving members' Ed25519 keys (hex), `t` the sender's clock (ms) and
//! `signature` (base64) its Ed25519 signature over
//! `"metaless-forward" ‖ to ‖ t ‖ body` (key and time as text). The receiver accepts it only
//! when `from` is a member of its own swarm in the network map, `to` is itself, the signature
//! verifies and `t` is within [`FORWARD_WINDOW_MS`] of its clock. Nothing else marks a request
//! as forwarded: the `x-metaless-forwarded` header a client can set is ignored.

use serde_json::{Value, json};

use metaless_identity::{Keypair, hex, verify_ed25519};
use metaless_swarm::b64;

use crate::network::NetworkMap;

/// How far a forward's `t` may be from the receiver's clock.
pub const FORWARD_WINDOW_MS: u64 = 60_000;

/// The JSON key a signed forward starts with.
const KEY: &str = "metaless_forward";

fn signed_text(to: &[u8; 32], t: u64, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + 64 + 20 + body.len());
    m.extend_from_slice(b"metaless-forward");
    m.extend_from_slice(hex::encode(to).as_bytes());
    m.extend_from_slice(t.to_string().as_bytes());
    m.extend_from_slice(body);
    m
}

/// Wraps a client's change `body` as `keypair`'s signed forward to the member `to`.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_node::replication::sign_forward;
/// let k = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let wrapped = sign_forward(&k, &[2; 32], 1_000, br#"{"method":"info","params":{}}"#);
/// assert!(wrapped.starts_with(br#"{"metaless_forward""#));
/// ```
pub fn sign_forward(keypair: &Keypair, to: &[u8; 32], now_ms: u64, body: &[u8]) -> Vec<u8> {
    let sig = keypair.sign(&signed_text(to, now_ms, body));
    let v = json!({ KEY: {
        "from": hex::encode(&keypair.ed25519_public()),
        "to": hex::encode(to),
        "t": now_ms,
        "signature": b64::encode(&sig),
        "body": String::from_utf8_lossy(body),
    }});
    v.to_string().into_bytes()
}

/// Why a forward was refused (answered 401 with [`ForwardError::text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardError {
    /// Not a well-formed forward.
    Malformed,
    /// `from` is not a member of the receiver's swarm, or `to` is not the receiver.
    NotAMember,
    /// `t` is outside [`FORWARD_WINDOW_MS`].
    Stale,
    /// The signature does not verify.
    BadSignature,
}

impl ForwardError {
    /// The 401 body.
    ///
    /// ```
    /// use metaless_node::replication::ForwardError;
    /// assert_eq!(ForwardError::Stale.text(), "forwarded request: timestamp out of range");
    /// ```
    pub fn text(self) -> &'static str {
        match self {
            Self::Malformed => "forwarded request: malformed",
            Self::NotAMember => "forwarded request: sender is not a swarm member",
            Self::Stale => "forwarded request: timestamp out of range",
            Self::BadSignature => "forwarded request: invalid signature",
        }
    }
}

/// Is `body` a signed forward (by its first bytes; [`open_forward`] decides if it is valid)?
///
/// ```
/// assert!(!metaless_node::replication::is_forward(br#"{"method":"store"}"#));
/// ```
pub fn is_forward(body: &[u8]) -> bool {
    body.trim_ascii_start()
        .strip_prefix(b"{")
        .is_some_and(|r| r.trim_ascii_start().starts_with(br#""metaless_forward""#))
}

/// Checks a signed forward addressed to `me` (a member of swarm `swarm_id` in `map`) and
/// returns the client's change body and the sender's key.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_node::{NetworkMap, NodeInfo};
/// use metaless_node::replication::{open_forward, sign_forward, ForwardError};
/// let k = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
/// let info = |k: &Keypair| NodeInfo { pubkey_ed25519: k.ed25519_public(),
///     pubkey_x25519: k.x25519_public(), swarm_id: 7, ip: "127.0.0.1".into(), port: 1 };
/// let (a, b) = (k(1), k(2));
/// let map = NetworkMap::new(vec![info(&a), info(&b)]);
/// let me = b.ed25519_public();
/// let w = sign_forward(&a, &me, 5_000, b"{}");
/// assert_eq!(open_forward(&w, &me, 7, &map, 5_500).unwrap().0, b"{}");
/// assert_eq!(open_forward(&w, &me, 7, &map, 500_000), Err(ForwardError::Stale));
/// // Signed by a key outside the swarm:
/// let w = sign_forward(&k(3), &me, 5_000, b"{}");
/// assert_eq!(open_forward(&w, &me, 7, &map, 5_000), Err(ForwardError::NotAMember));
/// ```
pub fn open_forward(
    body: &[u8],
    me: &[u8; 32],
    swarm_id: u64,
    map: &NetworkMap,
    now_ms: u64,
) -> Result<(Vec<u8>, [u8; 32]), ForwardError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| ForwardError::Malformed)?;
    let f = v.get(KEY).ok_or(ForwardError::Malformed)?;
    let text = |k: &str| {
        f.get(k)
            .and_then(Value::as_str)
            .ok_or(ForwardError::Malformed)
    };
    let key32 = |s: &str| -> Result<[u8; 32], ForwardError> {
        hex::decode(s)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or(ForwardError::Malformed)
    };
    let from = key32(text("from")?)?;
    let to = key32(text("to")?)?;
    let t = f
        .get("t")
        .and_then(Value::as_u64)
        .ok_or(ForwardError::Malformed)?;
    let sig = b64::decode(text("signature")?.as_bytes())
        .and_then(|s| <[u8; 64]>::try_from(s.as_slice()).ok())
        .ok_or(ForwardError::Malformed)?;
    let inner = text("body")?.as_bytes().to_vec();
    if &to != me
        || from == *me
        || !map
            .swarm_members(swarm_id)
            .any(|n| n.pubkey_ed25519 == from)
    {
        return Err(ForwardError::NotAMember);
    }
    if now_ms.abs_diff(t) > FORWARD_WINDOW_MS {
        return Err(ForwardError::Stale);
    }
    verify_ed25519(&from, &signed_text(&to, t, &inner), &sig)
        .map_err(|_| ForwardError::BadSignature)?;
    Ok((inner, from))
}

/// What became of one replayed change, as the driver saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaOutcome {
    /// The peer answered.
    Answered {
        /// HTTP status.
        status: u16,
        /// Body.
        body: Vec<u8>,
    },
    /// No answer in time (refused, down, timed out).
    Timeout,
}

impl ReplicaOutcome {
    /// Did the peer carry out the change (a 2xx answer)?
    ///
    /// ```
    /// use metaless_node::replication::ReplicaOutcome;
    /// assert!(ReplicaOutcome::Answered { status: 200, body: vec![] }.succeeded());
    /// assert!(!ReplicaOutcome::Timeout.succeeded());
    /// ```
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Answered { status, .. } if (200..300).contains(status))
    }
}

/// One change still owed to a peer, as a node's retry queue holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Queue id, assigned by the storage ([`crate::storage::Storage::push_retry`] ignores it).
    pub id: u64,
    /// The peer's Ed25519 key.
    pub to: [u8; 32],
    /// The client's change (`{"method","params"}`), unsigned; signed again when sent.
    pub body: Vec<u8>,
    /// Give up after this (the message's expiry), ms.
    pub expiry_ms: u64,
    /// Earliest next attempt, ms.
    pub next_ms: u64,
    /// Attempts so far.
    pub attempts: u32,
}

/// First retry delay; doubled per attempt up to [`RETRY_MAX_MS`].
pub const RETRY_BASE_MS: u64 = 1_000;
/// Longest retry delay.
pub const RETRY_MAX_MS: u64 = 30_000;
/// How long a replay handed out by `take_due_retries` stays leased before it is due again
/// (the driver crashed, or never reported back).
pub const RETRY_LEASE_MS: u64 = 60_000;
/// Most queued retries a node keeps (oldest dropped beyond).
pub const MAX_RETRIES: usize = 100_000;

/// The delay before attempt `attempts + 1`.
///
/// ```
/// use metaless_node::replication::backoff_ms;
/// assert_eq!(backoff_ms(0), 1_000);
/// assert_eq!(backoff_ms(1), 2_000);
/// assert_eq!(backoff_ms(40), 30_000);
/// ```
pub fn backoff_ms(attempts: u32) -> u64 {
    RETRY_BASE_MS
        .saturating_mul(1u64 << attempts.min(20))
        .min(RETRY_MAX_MS)
}
