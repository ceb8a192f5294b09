//! Swarm replication, sans-IO: how a member authenticates the change it replays on its peers,
//! how a peer checks it, and what each peer's answer means for the client's reply.
//!
//! A replayed change travels as `{"metaless_forward":{"from","to","t","mac","body"}}` on
//! `/storage_rpc/v1`: `body` is the client's `{"method","params"}` text, `from`/`to` the
//! sending and receiving members' Ed25519 keys (hex), `t` the sender's clock (ms) and `mac`
//! (base64) a BLAKE2b-256 MAC over `"metaless-forward" ‖ from ‖ to ‖ t ‖ body` (keys as their
//! 32 bytes, `t` as 8 bytes big-endian) keyed by the two members' pair key:
//! `BLAKE2b-256(key = X25519(own secret, peer's X25519 key), "metaless-forward-key" ‖ lower
//! Ed25519 key ‖ higher Ed25519 key)`, the X25519 keys being the network map's. The receiver
//! accepts a forward only when `from` is a member of its own swarm in the network map, `to` is
//! itself, the MAC verifies under the pair key it derives from `from`'s map entry and `t` is
//! within [`FORWARD_WINDOW_MS`] of its clock. Nothing else marks a request as forwarded: the
//! `x-metaless-forwarded` header a client can set is ignored.
//!
//! Why a MAC and not an Ed25519 signature: only the two members need to tell a forward from a
//! forgery (nobody else ever checks it), and a pair key derived once and kept
//! ([`ForwardKeys`]) makes sealing and checking a forward a hash, where a signature cost one
//! Ed25519 signing on the sender and one verification on every peer for every change (~16% of
//! a node's CPU per replicated store).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use blake2::Blake2bMac;
use blake2::digest::consts::U32;
use blake2::digest::{KeyInit, Mac};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use metaless_identity::{Keypair, X25519Secret, hex};
use metaless_swarm::b64;

use crate::network::{NetworkMap, NodeInfo};

/// How far a forward's `t` may be from the receiver's clock.
pub const FORWARD_WINDOW_MS: u64 = 60_000;

/// The JSON key a forward starts with.
const KEY: &str = "metaless_forward";
/// Pair keys kept at most (a swarm has a handful of members; the bound only matters when the
/// network map keeps changing). Beyond it the cache starts over.
const MAX_PAIR_KEYS: usize = 1_024;

type PairKey = Zeroizing<[u8; 32]>;
/// Pair keys by the peer's (Ed25519, X25519) keys.
type PairKeys = HashMap<([u8; 32], [u8; 32]), PairKey>;

/// A member's forward keys: its own X25519 secret and the pair key of every peer it has
/// sealed to or checked a forward from (derived once per peer key, then kept).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_node::NodeInfo;
/// use metaless_node::replication::ForwardKeys;
/// let k = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
/// let info = |k: &Keypair| NodeInfo { pubkey_ed25519: k.ed25519_public(),
///     pubkey_x25519: k.x25519_public(), swarm_id: 7, ip: "127.0.0.1".into(), port: 1 };
/// let (a, b) = (k(1), k(2));
/// let wrapped = ForwardKeys::new(&a).seal(&info(&b), 1_000, br#"{"method":"info","params":{}}"#);
/// assert!(wrapped.unwrap().starts_with(br#"{"metaless_forward""#));
/// ```
pub struct ForwardKeys {
    ed25519: [u8; 32],
    x25519: X25519Secret,
    pairs: Mutex<PairKeys>,
}

impl core::fmt::Debug for ForwardKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ForwardKeys")
            .field("ed25519", &hex::encode(&self.ed25519))
            .finish_non_exhaustive()
    }
}

impl ForwardKeys {
    /// The forward keys of the member `keypair`.
    ///
    /// ```
    /// # use metaless_identity::{Keypair, Seed};
    /// let keys = metaless_node::replication::ForwardKeys::new(&Keypair::from_seed(&Seed::from_bytes([1; 32])));
    /// assert!(format!("{keys:?}").starts_with("ForwardKeys"));
    /// ```
    pub fn new(keypair: &Keypair) -> Self {
        Self {
            ed25519: keypair.ed25519_public(),
            x25519: X25519Secret::from_bytes(*keypair.x25519_secret().expose_secret()),
            pairs: Mutex::new(HashMap::new()),
        }
    }

    /// The pair key with the member whose keys are `ed25519`/`x25519`; `None` when the X25519
    /// key is a small-order point (no shared secret).
    fn pair_key(&self, ed25519: &[u8; 32], x25519: &[u8; 32]) -> Option<PairKey> {
        let id = (*ed25519, *x25519);
        if let Some(k) = self.lock().get(&id) {
            return Some(k.clone());
        }
        // Derived outside the lock: one X25519 per new peer key.
        let shared = self.x25519.diffie_hellman(x25519).ok()?;
        let (lo, hi) = if self.ed25519 <= *ed25519 {
            (&self.ed25519, ed25519)
        } else {
            (ed25519, &self.ed25519)
        };
        let mut mac = keyed(&shared[..])?;
        mac.update(b"metaless-forward-key");
        mac.update(lo);
        mac.update(hi);
        let key: PairKey = Zeroizing::new(mac.finalize().into_bytes().into());
        let mut pairs = self.lock();
        if pairs.len() >= MAX_PAIR_KEYS {
            pairs.clear();
        }
        pairs.insert(id, key.clone());
        Some(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PairKeys> {
        self.pairs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wraps a client's change `body` as this member's forward to the member `to`, at the
    /// sender's clock `now_ms`. `None` when `to`'s X25519 key is a small-order point.
    ///
    /// ```
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_node::NodeInfo;
    /// # use metaless_node::replication::ForwardKeys;
    /// # let k = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    /// let keys = ForwardKeys::new(&k(1));
    /// let mut to = NodeInfo { pubkey_ed25519: k(2).ed25519_public(),
    ///     pubkey_x25519: k(2).x25519_public(), swarm_id: 7, ip: "127.0.0.1".into(), port: 1 };
    /// assert!(keys.seal(&to, 1_000, b"{}").is_some());
    /// to.pubkey_x25519 = [0; 32];
    /// assert!(keys.seal(&to, 1_000, b"{}").is_none());
    /// ```
    pub fn seal(&self, to: &NodeInfo, now_ms: u64, body: &[u8]) -> Option<Vec<u8>> {
        let key = self.pair_key(&to.pubkey_ed25519, &to.pubkey_x25519)?;
        let tag = forward_mac(&key, &self.ed25519, &to.pubkey_ed25519, now_ms, body)?.finalize();
        let v = json!({ KEY: {
            "from": hex::encode(&self.ed25519),
            "to": hex::encode(&to.pubkey_ed25519),
            "t": now_ms,
            "mac": b64::encode(&tag.into_bytes()),
            "body": String::from_utf8_lossy(body),
        }});
        Some(v.to_string().into_bytes())
    }

    /// Checks a forward addressed to this member (of swarm `swarm_id` in `map`) and returns
    /// the client's change body and the sender's Ed25519 key.
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// use metaless_node::{NetworkMap, NodeInfo};
    /// use metaless_node::replication::{ForwardError, ForwardKeys};
    /// let k = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    /// let info = |k: &Keypair| NodeInfo { pubkey_ed25519: k.ed25519_public(),
    ///     pubkey_x25519: k.x25519_public(), swarm_id: 7, ip: "127.0.0.1".into(), port: 1 };
    /// let (a, b) = (k(1), k(2));
    /// let map = NetworkMap::new(vec![info(&a), info(&b)]);
    /// let receiver = ForwardKeys::new(&b);
    /// let w = ForwardKeys::new(&a).seal(&info(&b), 5_000, b"{}").unwrap();
    /// assert_eq!(receiver.open(&w, 7, &map, 5_500).unwrap().0, b"{}");
    /// assert_eq!(receiver.open(&w, 7, &map, 500_000), Err(ForwardError::Stale));
    /// // Sealed by a key outside the swarm:
    /// let w = ForwardKeys::new(&k(3)).seal(&info(&b), 5_000, b"{}").unwrap();
    /// assert_eq!(receiver.open(&w, 7, &map, 5_000), Err(ForwardError::NotAMember));
    /// ```
    pub fn open(
        &self,
        body: &[u8],
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
        let tag = b64::decode(text("mac")?.as_bytes())
            .and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok())
            .ok_or(ForwardError::Malformed)?;
        let inner = text("body")?.as_bytes().to_vec();
        let sender = map
            .swarm_members(swarm_id)
            .find(|n| n.pubkey_ed25519 == from)
            .filter(|_| to == self.ed25519 && from != self.ed25519)
            .ok_or(ForwardError::NotAMember)?;
        if now_ms.abs_diff(t) > FORWARD_WINDOW_MS {
            return Err(ForwardError::Stale);
        }
        let key = self
            .pair_key(&from, &sender.pubkey_x25519)
            .ok_or(ForwardError::BadMac)?;
        forward_mac(&key, &from, &to, t, &inner)
            .ok_or(ForwardError::BadMac)?
            .verify_slice(&tag)
            .map_err(|_| ForwardError::BadMac)?;
        Ok((inner, from))
    }
}

/// BLAKE2b-256 keyed by `key` (a 32-byte key is always accepted: BLAKE2b takes up to 64).
fn keyed(key: &[u8]) -> Option<Blake2bMac<U32>> {
    <Blake2bMac<U32> as KeyInit>::new_from_slice(key).ok()
}

/// The forward MAC of `body` from `from` to `to` at `t`, fed and ready to finalize or verify.
fn forward_mac(
    key: &[u8; 32],
    from: &[u8; 32],
    to: &[u8; 32],
    t: u64,
    body: &[u8],
) -> Option<Blake2bMac<U32>> {
    let mut mac = keyed(key)?;
    mac.update(b"metaless-forward");
    mac.update(from);
    mac.update(to);
    mac.update(&t.to_be_bytes());
    mac.update(body);
    Some(mac)
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
    /// The MAC does not verify (or the sender's X25519 key gives no pair key).
    BadMac,
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
            Self::BadMac => "forwarded request: invalid MAC",
        }
    }
}

/// Is `body` a forward (by its first bytes; [`ForwardKeys::open`] decides if it is valid)?
///
/// ```
/// assert!(!metaless_node::replication::is_forward(br#"{"method":"store"}"#));
/// ```
pub fn is_forward(body: &[u8]) -> bool {
    body.trim_ascii_start()
        .strip_prefix(b"{")
        .is_some_and(|r| r.trim_ascii_start().starts_with(br#""metaless_forward""#))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use metaless_identity::Seed;

    fn member(b: u8) -> (Keypair, NodeInfo) {
        let k = Keypair::from_seed(&Seed::from_bytes([b; 32]));
        let info = NodeInfo {
            pubkey_ed25519: k.ed25519_public(),
            pubkey_x25519: k.x25519_public(),
            swarm_id: 3,
            ip: "127.0.0.1".into(),
            port: 1,
        };
        (k, info)
    }

    /// The MAC as the module text specifies it, from x25519-dalek and the blake2 crate.
    fn expected_mac(sender: &Keypair, to: &NodeInfo, t: u64, body: &[u8]) -> [u8; 32] {
        let secret = x25519_dalek::StaticSecret::from(*sender.x25519_secret().expose_secret());
        let q = secret.diffie_hellman(&x25519_dalek::PublicKey::from(to.pubkey_x25519));
        let (from, to) = (sender.ed25519_public(), to.pubkey_ed25519);
        let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
        let mut k = <Blake2bMac<U32> as KeyInit>::new_from_slice(q.as_bytes()).unwrap();
        k.update(b"metaless-forward-key");
        k.update(&lo);
        k.update(&hi);
        let pair: [u8; 32] = k.finalize().into_bytes().into();
        let mut m = <Blake2bMac<U32> as KeyInit>::new_from_slice(&pair).unwrap();
        let text = [&b"metaless-forward"[..], &from, &to, &t.to_be_bytes(), body].concat();
        m.update(&text);
        m.finalize().into_bytes().into()
    }

    fn field<'a>(v: &'a Value, k: &str) -> &'a Value {
        &v[KEY][k]
    }

    #[test]
    fn a_sealed_forward_carries_the_specified_mac_both_ways() {
        let ((a, ai), (b, bi)) = (member(1), member(2));
        let body = br#"{"method":"store","params":{}}"#;
        for (sender, to) in [(&a, &bi), (&b, &ai)] {
            let sealed = ForwardKeys::new(sender).seal(to, 77, body).unwrap();
            let v: Value = serde_json::from_slice(&sealed).unwrap();
            let mac = b64::decode(field(&v, "mac").as_str().unwrap().as_bytes()).unwrap();
            assert_eq!(mac, expected_mac(sender, to, 77, body));
            assert_eq!(field(&v, "t"), 77);
            assert_eq!(field(&v, "body").as_str().unwrap().as_bytes(), body);
            assert_eq!(
                field(&v, "from").as_str().unwrap(),
                hex::encode(&sender.ed25519_public())
            );
        }
    }

    #[test]
    fn a_cached_pair_key_opens_what_a_fresh_one_does_and_a_changed_key_is_not_reused() {
        let ((a, ai), (b, mut bi)) = (member(1), member(2));
        let map = NetworkMap::new(vec![ai.clone(), bi.clone()]);
        let (from_a, at_b) = (ForwardKeys::new(&a), ForwardKeys::new(&b));
        for t in [10, 11, 12] {
            let w = from_a.seal(&bi, t, b"{}").unwrap();
            assert_eq!(
                at_b.open(&w, 3, &map, t).unwrap(),
                (b"{}".to_vec(), a.ed25519_public())
            );
        }
        // The map now gives b another X25519 key: a's forwards are sealed under a new pair
        // key, which b (whose own secret did not change) does not share.
        bi.pubkey_x25519 = member(9).1.pubkey_x25519;
        let w = from_a.seal(&bi, 13, b"{}").unwrap();
        assert_eq!(at_b.open(&w, 3, &map, 13), Err(ForwardError::BadMac));
    }

    #[test]
    fn a_sender_whose_map_key_is_small_order_is_refused() {
        let ((a, mut ai), (b, bi)) = (member(1), member(2));
        let w = ForwardKeys::new(&a).seal(&bi, 5, b"{}").unwrap();
        // The map now lists a with the identity point as X25519 key: no pair key exists, so
        // even a's genuine forward is refused (nobody can be told apart from a).
        ai.pubkey_x25519 = [0; 32];
        let map = NetworkMap::new(vec![ai, bi]);
        assert_eq!(
            ForwardKeys::new(&b).open(&w, 3, &map, 5),
            Err(ForwardError::BadMac)
        );
    }

    #[test]
    fn malformed_forwards_are_refused_without_panicking() {
        let ((a, ai), (b, bi)) = (member(1), member(2));
        let map = NetworkMap::new(vec![ai, bi.clone()]);
        let at_b = ForwardKeys::new(&b);
        let good = String::from_utf8(ForwardKeys::new(&a).seal(&bi, 5, b"{}").unwrap()).unwrap();
        let v: Value = serde_json::from_str(&good).unwrap();
        let mac = field(&v, "mac").as_str().unwrap().to_owned();
        let short_mac = good.replace(&mac, &b64::encode(&[1u8; 31]));
        let cases = [
            b"".to_vec(),
            b"{".to_vec(),
            br#"{"metaless_forward":{}}"#.to_vec(),
            good.replace("\"t\":5", "\"t\":-5").into_bytes(),
            short_mac.into_bytes(),
            good.replace("\"mac\"", "\"signature\"").into_bytes(),
            good.as_bytes()[..good.len() - 3].to_vec(),
        ];
        for c in cases {
            assert_eq!(
                at_b.open(&c, 3, &map, 5),
                Err(ForwardError::Malformed),
                "{c:?}"
            );
        }
    }
}
