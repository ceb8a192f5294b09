//! Catch-up, sans-IO: a member that starts (after a restart, with an empty database, or newly
//! assigned to a swarm) fetches from each swarm peer the messages it lacks, and learns the
//! deletes it missed.
//!
//! Both requests travel as forwards ([`crate::replication::ForwardKeys::seal`]) on
//! `/storage_rpc/v1`, so only a member of the same swarm can read a node's listing:
//!
//! - `{"method":"metaless_sync_list","params":{"after":HASH,"limit":N}}` → `{"entries":
//!   [{"hash","expiry","deleted"}…],"more":bool}`: up to [`LIST_MAX`] entries with a hash
//!   after `after` (`""`: from the start), sorted by hash — live messages, and tombstones of
//!   deleted ones (`"deleted":true`) until the deleted message would have expired;
//! - `{"method":"metaless_sync_get","params":{"hashes":[…]}}` → `{"messages":[{"owner" (hex),
//!   "namespace","hash","timestamp","expiry","data" (base64)}…]}`: at most [`GET_MAX`] hashes
//!   asked, the reply cut at [`GET_REPLY_MAX`] bytes of data (at least one message; the
//!   asker asks again for the rest).
//!
//! For each listed entry the catching-up node ([`CatchUp`]): stores a message it lacks (after
//! checking that its hash is the network's hash of its owner, namespace and data), deletes a
//! message the peer has a tombstone for and keeps the tombstone itself (so the deleted message
//! never comes back from another peer), and lowers its own expiry to the peer's when the
//! peer's is earlier (an `expire` it missed; extensions arrive by the retry queue). A message
//! it deleted itself is never taken back.
//!
//! ```
//! # let mut node = metaless_node::node::doc_node();
//! // A new node wants a catch-up; a one-node swarm has nobody to catch up from.
//! assert!(node.take_catch_up_wanted());
//! assert!(node.catch_up_start(0).is_empty());
//! ```

use serde_json::{Value, json};

use metaless_identity::hex;
use metaless_swarm::b64;

use crate::network::NodeInfo;
use crate::node::Replicate;
use crate::replication::ReplicaOutcome;
use crate::storage::{HashState, OWNER_LEN, Storage, StoredMessage, SyncMessage};

/// Most entries one listing page holds.
pub const LIST_MAX: usize = 1_000;
/// Most hashes one `metaless_sync_get` may ask for.
pub const GET_MAX: usize = 100;
/// Most message bytes one `metaless_sync_get` reply carries (base64 makes it 4/3 of this,
/// well under the 10 MiB body limit).
pub const GET_REPLY_MAX: usize = 4 * 1024 * 1024;
/// Most requests one catch-up sends to one peer (bounded work whatever the peer answers).
pub const MAX_STEPS: u32 = 20_000;
/// Most failed attempts in a row before a catch-up from one peer gives up.
pub const MAX_ATTEMPTS: u32 = 60;
/// Longest wait between two attempts at an unreachable peer.
pub const RETRY_MAX_MS: u64 = 5_000;

const LIST: &str = "metaless_sync_list";
const GET: &str = "metaless_sync_get";

/// Answers a peer's catch-up request (the body of a signed forward that has been checked), or
/// `None` when `body` is not one (an ordinary replayed change).
///
/// ```
/// use metaless_node::storage::MemoryStorage;
/// use metaless_node::sync::answer_sync;
/// let db = MemoryStorage::new();
/// let r = answer_sync(&db, 0, br#"{"method":"metaless_sync_list","params":{"after":""}}"#).unwrap();
/// assert_eq!(r.0, 200);
/// assert!(answer_sync(&db, 0, br#"{"method":"store","params":{}}"#).is_none());
/// ```
pub fn answer_sync(storage: &dyn Storage, now_ms: i64, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let method = v.get("method")?.as_str()?;
    if method != LIST && method != GET {
        return None;
    }
    let params = v.get("params");
    let out = if method == LIST {
        let after = params
            .and_then(|p| p.get("after"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let limit = params
            .and_then(|p| p.get("limit"))
            .and_then(Value::as_u64)
            .map_or(LIST_MAX, |l| usize::try_from(l).unwrap_or(LIST_MAX))
            .clamp(1, LIST_MAX);
        storage
            .sync_list(after, limit, now_ms)
            .map(|(entries, more)| {
                let entries: Vec<Value> = entries
                    .iter()
                    .map(|e| json!({"hash": e.hash, "expiry": e.expiry_ms, "deleted": e.deleted}))
                    .collect();
                json!({"entries": entries, "more": more})
            })
    } else {
        let Some(hashes) = params
            .and_then(|p| p.get("hashes"))
            .and_then(Value::as_array)
            .filter(|h| h.len() <= GET_MAX)
        else {
            return Some((400, b"metaless_sync_get: bad hashes".to_vec()));
        };
        let hashes: Vec<String> = hashes
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        storage.sync_get(&hashes, now_ms).map(|found| {
            let mut size = 0usize;
            let mut messages = Vec::new();
            for m in found {
                size = size.saturating_add(m.message.data.len());
                if !messages.is_empty() && size > GET_REPLY_MAX {
                    break;
                }
                messages.push(json!({
                    "owner": hex::encode(&m.owner),
                    "namespace": m.message.namespace,
                    "hash": m.message.hash,
                    "timestamp": m.message.timestamp_ms,
                    "expiry": m.message.expiry_ms,
                    "data": b64::encode(&m.message.data),
                }));
            }
            json!({ "messages": messages })
        })
    };
    Some(match out {
        Ok(v) => (200, v.to_string().into_bytes()),
        Err(e) => {
            tracing::error!("catch-up listing failed: {e}");
            (500, b"request failed".to_vec())
        }
    })
}

/// What a catch-up from one peer achieved so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUpStats {
    /// Entries the peer listed.
    pub listed: usize,
    /// Messages copied from the peer.
    pub stored: usize,
    /// Messages deleted here because the peer has their tombstone.
    pub deleted: usize,
    /// Expiries lowered to the peer's.
    pub shortened: usize,
    /// Messages or entries refused (bad hash, malformed).
    pub rejected: usize,
    /// Requests sent (answered or not).
    pub requests: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Ask for the listing page after this hash.
    List { after: String },
    /// Fetch `want` (the first [`GET_MAX`] at a time), then list after `after` if `more`.
    Get {
        after: String,
        more: bool,
        want: Vec<String>,
    },
}

/// A catch-up from one peer, between two requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatchUp {
    /// The peer.
    pub peer: NodeInfo,
    phase: Phase,
    /// Failed attempts in a row.
    pub attempts: u32,
    /// Progress so far.
    pub stats: CatchUpStats,
}

/// One request of a catch-up: POST [`SyncStep::send`] (signed) at or after
/// [`SyncStep::not_before_ms`], then hand the answer to [`crate::Node::catch_up_answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStep {
    /// Where to POST (`/storage_rpc/v1`) and the signed body.
    pub send: Replicate,
    /// Earliest time to send it (a back-off after a failed attempt), ms.
    pub not_before_ms: u64,
    /// The catch-up it belongs to.
    pub catch_up: CatchUp,
}

/// Where a catch-up from one peer stands after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUpProgress {
    /// Send this next.
    Next(SyncStep),
    /// Everything the peer listed has been looked at.
    Done(CatchUp),
    /// The peer did not answer [`MAX_ATTEMPTS`] times in a row, or [`MAX_STEPS`] ran out.
    GaveUp(CatchUp),
}

impl CatchUp {
    /// A catch-up from `peer`, from the start of its listing.
    pub(crate) fn new(peer: NodeInfo) -> Self {
        Self {
            peer,
            phase: Phase::List {
                after: String::new(),
            },
            attempts: 0,
            stats: CatchUpStats::default(),
        }
    }

    /// The unsigned request body of the current phase.
    pub(crate) fn request_body(&self) -> Vec<u8> {
        match &self.phase {
            Phase::List { after } => {
                json!({"method": LIST, "params": {"after": after, "limit": LIST_MAX}})
            }
            Phase::Get { want, .. } => {
                let ask: Vec<&String> = want.iter().take(GET_MAX).collect();
                json!({"method": GET, "params": {"hashes": ask}})
            }
        }
        .to_string()
        .into_bytes()
    }

    /// Applies the peer's answer to `storage`; `Ok(true)` when the catch-up is complete.
    /// `Err(())` = the answer was not usable (try again).
    pub(crate) fn apply(
        &mut self,
        storage: &mut dyn Storage,
        now_ms: i64,
        outcome: &ReplicaOutcome,
    ) -> Result<bool, ()> {
        let ReplicaOutcome::Answered { status: 200, body } = outcome else {
            return Err(());
        };
        let v: Value = serde_json::from_slice(body).map_err(|_| ())?;
        match core::mem::replace(
            &mut self.phase,
            Phase::List {
                after: String::new(),
            },
        ) {
            Phase::List { after } => {
                let entries = v.get("entries").and_then(Value::as_array).ok_or(())?;
                let more = v.get("more").and_then(Value::as_bool).unwrap_or(false);
                let (want, last) = self.take_listing(storage, now_ms, entries, &after)?;
                // A page that does not move forward would loop: treat as the end.
                let more = more && last > after;
                self.phase = Phase::Get {
                    after: last,
                    more,
                    want,
                };
            }
            Phase::Get {
                after,
                more,
                mut want,
            } => {
                let messages = v.get("messages").and_then(Value::as_array).ok_or(())?;
                let asked: Vec<String> = want.iter().take(GET_MAX).cloned().collect();
                let mut got = Vec::new();
                for m in messages {
                    match parse_message(m).filter(|m| asked.contains(&m.message.hash)) {
                        Some(m) if valid_hash(&m) && m.message.expiry_ms > now_ms => {
                            if storage.sync_put(&m).map_err(|_| ())? {
                                self.stats.stored += 1;
                            }
                            got.push(m.message.hash);
                        }
                        _ => self.stats.rejected += 1,
                    }
                }
                // What the peer did not send: gone there since the listing, or cut for size
                // (asked again) — at least one answer per request, or the rest is dropped.
                let (front, rest) = want.split_at(asked.len().min(want.len()));
                let missing: Vec<String> =
                    front.iter().filter(|h| !got.contains(h)).cloned().collect();
                let mut next = if got.is_empty() { Vec::new() } else { missing };
                next.extend_from_slice(rest);
                want = next;
                self.phase = Phase::Get { after, more, want };
            }
        }
        // Skip empty fetch phases.
        if let Phase::Get { after, more, want } = &self.phase
            && want.is_empty()
        {
            if !*more {
                return Ok(true);
            }
            self.phase = Phase::List {
                after: after.clone(),
            };
        }
        Ok(false)
    }

    /// Compares one listing page with local state; returns the hashes to fetch and the last
    /// hash listed.
    fn take_listing(
        &mut self,
        storage: &mut dyn Storage,
        now_ms: i64,
        entries: &[Value],
        after: &str,
    ) -> Result<(Vec<String>, String), ()> {
        let mut listed = Vec::new();
        for e in entries.iter().take(LIST_MAX) {
            let hash = e.get("hash").and_then(Value::as_str);
            let expiry = e.get("expiry").and_then(Value::as_i64);
            match (hash, expiry) {
                // Sorted and after the cursor, or the peer is not following the protocol.
                (Some(h), Some(x)) if h > after && h.len() <= 128 => listed.push((
                    h.to_owned(),
                    x,
                    e.get("deleted").and_then(Value::as_bool).unwrap_or(false),
                )),
                _ => self.stats.rejected += 1,
            }
        }
        self.stats.listed += listed.len();
        let hashes: Vec<String> = listed.iter().map(|(h, _, _)| h.clone()).collect();
        let local = storage.hash_states(&hashes).map_err(|_| ())?;
        let mut want = Vec::new();
        for (hash, expiry, deleted) in &listed {
            if *expiry <= now_ms {
                continue;
            }
            match (local.get(hash), *deleted) {
                (Some(HashState::Held { .. }), true) | (None, true) => {
                    let removed = storage.sync_delete(hash, *expiry).map_err(|_| ())?;
                    self.stats.deleted += usize::from(removed);
                }
                (Some(HashState::Held { owner, expiry_ms }), false) if *expiry < *expiry_ms => {
                    let changed = storage
                        .update_expiry(
                            owner,
                            core::slice::from_ref(hash),
                            &[*expiry],
                            crate::storage::ExpiryMode::ShortenOnly,
                        )
                        .map_err(|_| ())?;
                    self.stats.shortened += changed.len();
                }
                (None, false) => want.push(hash.clone()),
                _ => {}
            }
        }
        let last = listed
            .iter()
            .map(|(h, _, _)| h.clone())
            .max()
            .unwrap_or_else(|| after.to_owned());
        Ok((want, last))
    }
}

fn parse_message(m: &Value) -> Option<SyncMessage> {
    let owner = hex::decode_array::<OWNER_LEN>(m.get("owner")?.as_str()?).ok()?;
    Some(SyncMessage {
        owner,
        message: StoredMessage {
            hash: m.get("hash")?.as_str()?.to_owned(),
            namespace: i16::try_from(m.get("namespace")?.as_i64()?).ok()?,
            timestamp_ms: m.get("timestamp")?.as_i64()?,
            expiry_ms: m.get("expiry")?.as_i64()?,
            data: b64::decode(m.get("data")?.as_str()?.as_bytes())?,
        },
    })
}

/// A copied message must carry the network's hash of its owner, namespace and data: a peer
/// cannot plant a message under someone else's hash.
fn valid_hash(m: &SyncMessage) -> bool {
    crate::rpc::message_hash(&m.owner, m.message.namespace, &m.message.data) == m.message.hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{MemoryStorage, NewMessage};

    fn peer() -> NodeInfo {
        NodeInfo {
            pubkey_ed25519: [9; 32],
            pubkey_x25519: [8; 32],
            swarm_id: 0,
            ip: "127.0.0.1".into(),
            port: 2,
        }
    }

    fn store(db: &mut MemoryStorage, data: &[u8], expiry_ms: i64) -> String {
        let owner = [5u8; 33];
        let hash = crate::rpc::message_hash(&owner, 0, data);
        db.store(&NewMessage {
            owner,
            namespace: 0,
            hash: hash.clone(),
            timestamp_ms: 0,
            expiry_ms,
            data: data.to_vec(),
            replace_namespace: false,
        })
        .unwrap();
        hash
    }

    /// Runs a whole catch-up of `me` from `peer_db`, answering in-process.
    fn run(me: &mut MemoryStorage, peer_db: &MemoryStorage, now: i64) -> CatchUpStats {
        let mut c = CatchUp::new(peer());
        for _ in 0..1_000 {
            let (status, body) = answer_sync(peer_db, now, &c.request_body()).unwrap();
            if c.apply(me, now, &ReplicaOutcome::Answered { status, body })
                .unwrap()
            {
                return c.stats;
            }
        }
        panic!("catch-up did not finish");
    }

    #[test]
    fn copies_missing_messages_over_many_pages() {
        let mut peer_db = MemoryStorage::new();
        for i in 0..2_500u32 {
            store(&mut peer_db, &i.to_le_bytes(), 10_000);
        }
        let mut me = MemoryStorage::new();
        store(&mut me, &7u32.to_le_bytes(), 10_000);
        let stats = run(&mut me, &peer_db, 0);
        assert_eq!((stats.listed, stats.stored), (2_500, 2_499));
        assert_eq!(me.count().unwrap(), 2_500);
        // Done means converged: a second run copies nothing.
        assert_eq!(run(&mut me, &peer_db, 0).stored, 0);
    }

    #[test]
    fn tombstones_propagate_and_deleted_messages_never_come_back() {
        let mut peer_db = MemoryStorage::new();
        let mut me = MemoryStorage::new();
        let a = store(&mut peer_db, b"a", 10_000);
        store(&mut me, b"a", 10_000);
        let b = store(&mut me, b"b", 10_000);
        store(&mut peer_db, b"b", 10_000);
        peer_db
            .delete_by_hash(&[5; 33], core::slice::from_ref(&a))
            .unwrap();
        me.delete_by_hash(&[5; 33], core::slice::from_ref(&b))
            .unwrap();
        let stats = run(&mut me, &peer_db, 0);
        // a: deleted at the peer, so deleted here; b: deleted here, not taken back.
        assert_eq!((stats.deleted, stats.stored), (1, 0));
        assert_eq!(me.count().unwrap(), 0);
        assert!(matches!(
            me.hash_states(&[a]).unwrap().values().next(),
            Some(HashState::Deleted { .. })
        ));
    }

    #[test]
    fn earlier_expiry_at_the_peer_is_adopted_and_expired_entries_skipped() {
        let mut peer_db = MemoryStorage::new();
        let mut me = MemoryStorage::new();
        let h = store(&mut peer_db, b"x", 5_000);
        store(&mut me, b"x", 9_000);
        store(&mut peer_db, b"old", 50);
        let stats = run(&mut me, &peer_db, 100);
        assert_eq!((stats.shortened, stats.stored), (1, 0));
        assert_eq!(
            me.get_expiries(&[5; 33], core::slice::from_ref(&h))
                .unwrap()[&h],
            5_000
        );
    }

    #[test]
    fn forged_messages_and_bad_answers_are_refused() {
        let mut me = MemoryStorage::new();
        let mut c = CatchUp::new(peer());
        c.phase = Phase::Get {
            after: String::new(),
            more: false,
            want: vec!["fake".into()],
        };
        // A message whose hash is not its content's.
        let body = json!({"messages": [{"owner": hex::encode(&[5u8; 33]), "namespace": 0,
            "hash": "fake", "timestamp": 0, "expiry": 9_999, "data": b64::encode(b"evil")}]});
        let done = c
            .apply(
                &mut me,
                0,
                &ReplicaOutcome::Answered {
                    status: 200,
                    body: body.to_string().into_bytes(),
                },
            )
            .unwrap();
        assert!(done);
        assert_eq!((me.count().unwrap(), c.stats.rejected), (0, 1));
        // Not JSON, wrong status, timeout: not usable.
        let mut c = CatchUp::new(peer());
        for bad in [
            ReplicaOutcome::Answered {
                status: 200,
                body: b"{".to_vec(),
            },
            ReplicaOutcome::Answered {
                status: 401,
                body: vec![],
            },
            ReplicaOutcome::Timeout,
        ] {
            assert_eq!(c.apply(&mut me, 0, &bad), Err(()));
        }
    }

    #[test]
    fn a_listing_that_does_not_advance_ends() {
        let mut me = MemoryStorage::new();
        let mut c = CatchUp::new(peer());
        let body = json!({"entries": [], "more": true})
            .to_string()
            .into_bytes();
        let r = c.apply(&mut me, 0, &ReplicaOutcome::Answered { status: 200, body });
        assert_eq!(r, Ok(true));
    }

    #[test]
    fn get_requests_are_bounded() {
        let db = MemoryStorage::new();
        let many: Vec<String> = (0..=GET_MAX).map(|i| i.to_string()).collect();
        let body = json!({"method": GET, "params": {"hashes": many}}).to_string();
        assert_eq!(answer_sync(&db, 0, body.as_bytes()).unwrap().0, 400);
    }
}
