//! Per-node message storage: the [`Storage`] trait the node core works through, and
//! [`MemoryStorage`], its in-memory implementation (what `LoopbackNet` runs on).
//!
//! The durable implementation is metaless-node-server's `SqliteStorage` (one SQLite database per
//! node, the schema in `docs/node.md`). Both follow the same rules, which are those of that
//! schema: messages are keyed by the network's message hash (unique across the node, as
//! upstream) and kept in insertion order (SQLite's row id), a re-store with a later expiry
//! extends it, and every output list is sorted. Time is passed in (`now_ms`), never read from
//! a clock, so expiry is testable with virtual time. metaless-node-server's storage tests run
//! one set of semantics tests against both backends.
//!
//! ```
//! use metaless_node::storage::{MemoryStorage, NewMessage, Storage, StoreOutcome};
//!
//! let mut db = MemoryStorage::new();
//! let msg = NewMessage {
//!     owner: [5u8; 33],
//!     namespace: 0,
//!     hash: "h1".into(),
//!     timestamp_ms: 1_000,
//!     expiry_ms: 61_000,
//!     data: b"hello".to_vec(),
//!     replace_namespace: false,
//! };
//! assert_eq!(db.store(&msg).unwrap().0, StoreOutcome::New);
//! assert_eq!(db.store(&msg).unwrap().0, StoreOutcome::Exists);
//! let (got, more) = db.retrieve(&[5u8; 33], 0, None, None, None, 2_000).unwrap();
//! assert_eq!((got.len(), more), (1, false));
//! assert_eq!(db.sweep_expired(61_000).unwrap(), 1);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use metaless_swarm::SUBACCOUNT_TOKEN_LEN;
use metaless_swarm::limits::MAX_SUBACCOUNT_TOKENS;

use crate::NodeError;
use crate::limits::{RETRIEVE_MAX_SIZE, RETRIEVE_PER_MESSAGE_OVERHEAD};
use crate::replication::{MAX_RETRIES, RETRY_LEASE_MS, Retry};

/// Length of an account ID on the wire and in storage: prefix byte ‖ 32-byte key.
pub const OWNER_LEN: usize = 33;

/// A message as the store RPC hands it to storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Account the message is for: prefix byte ‖ 32-byte key.
    pub owner: [u8; OWNER_LEN],
    /// Namespace (int16 on the wire).
    pub namespace: i16,
    /// The network's message hash (unpadded base64 of BLAKE2b-256).
    pub hash: String,
    /// Client timestamp, ms since the epoch.
    pub timestamp_ms: i64,
    /// Expiry, ms since the epoch.
    pub expiry_ms: i64,
    /// Raw message bytes (already base64-decoded).
    pub data: Vec<u8>,
    /// Public-outbox namespaces hold one message: storing clears every other message there.
    pub replace_namespace: bool,
}

/// A stored message as `retrieve` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The message hash.
    pub hash: String,
    /// Namespace.
    pub namespace: i16,
    /// Client timestamp, ms.
    pub timestamp_ms: i64,
    /// Current expiry, ms.
    pub expiry_ms: i64,
    /// Raw message bytes.
    pub data: Vec<u8>,
}

/// What a store did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreOutcome {
    /// A new message was written.
    New,
    /// The hash existed with an earlier expiry; the expiry was raised.
    Extended,
    /// The hash existed with the same or a later expiry; nothing changed.
    Exists,
    /// The hash was deleted here and stays deleted ([`Storage::store_unless_deleted`] only);
    /// nothing was written.
    Deleted,
}

/// Which expiry changes `update_expiry` may make (upstream `extend` / `shorten` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpiryMode {
    /// Set the expiry whatever it was.
    Any,
    /// Only raise expiries (`"extend": true`).
    ExtendOnly,
    /// Only lower expiries (`"shorten": true`).
    ShortenOnly,
}

impl ExpiryMode {
    /// Whether a message whose expiry is `current` may be set to `target`.
    ///
    /// ```
    /// use metaless_node::storage::ExpiryMode;
    /// assert!(ExpiryMode::ExtendOnly.allows(100, 200));
    /// assert!(!ExpiryMode::ShortenOnly.allows(100, 200));
    /// assert!(ExpiryMode::Any.allows(100, 100));
    /// ```
    pub fn allows(self, current: i64, target: i64) -> bool {
        match self {
            ExpiryMode::Any => true,
            ExpiryMode::ExtendOnly => current < target,
            ExpiryMode::ShortenOnly => current > target,
        }
    }
}

/// The size a message adds to a `retrieve` reply, as upstream counts it: hash + base64 data +
/// [`RETRIEVE_PER_MESSAGE_OVERHEAD`].
///
/// ```
/// assert_eq!(metaless_node::storage::retrieve_size("abc", &[0; 3]), 100 + 3 + 4);
/// ```
pub fn retrieve_size(hash: &str, data: &[u8]) -> usize {
    RETRIEVE_PER_MESSAGE_OVERHEAD
        .saturating_add(hash.len())
        .saturating_add(data.len().div_ceil(3).saturating_mul(4))
}

/// The limits a `retrieve` applies: a count of at least 1 when given, and a size capped at
/// [`RETRIEVE_MAX_SIZE`] (that maximum when not given).
fn retrieve_limits(max_count: Option<usize>, max_size: Option<usize>) -> (Option<usize>, usize) {
    (
        max_count.map(|c| c.max(1)),
        max_size.map_or(RETRIEVE_MAX_SIZE, |s| s.min(RETRIEVE_MAX_SIZE)),
    )
}

/// Collects a `retrieve` page from candidate messages in insertion order (already filtered to
/// the account, namespace, position after `last_hash` and expiry): stops at `max_count`, or when
/// the running [`retrieve_size`] would exceed `max_size` — at least one message is always
/// returned. The flag says whether more remain. Shared by every [`Storage`] implementation.
///
/// ```
/// use metaless_node::storage::{StoredMessage, page};
/// let m = |h: &str| StoredMessage { hash: h.into(), namespace: 0, timestamp_ms: 0,
///     expiry_ms: 1, data: vec![] };
/// let (got, more) = page([m("a"), m("b")].into_iter().map(Ok::<_, ()>), Some(1), None).unwrap();
/// assert_eq!((got.len(), more), (1, true));
/// ```
pub fn page<E>(
    candidates: impl IntoIterator<Item = Result<StoredMessage, E>>,
    max_count: Option<usize>,
    max_size: Option<usize>,
) -> Result<(Vec<StoredMessage>, bool), E> {
    let (max_count, max_size) = retrieve_limits(max_count, max_size);
    let mut out = Vec::new();
    let mut total = 0usize;
    for msg in candidates {
        if max_count.is_some_and(|c| out.len() >= c) {
            return Ok((out, true));
        }
        let msg = msg?;
        total = total.saturating_add(retrieve_size(&msg.hash, &msg.data));
        if !out.is_empty() && total > max_size {
            return Ok((out, true));
        }
        out.push(msg);
    }
    Ok((out, false))
}

/// What a node holds under one message hash (catch-up compares these with a peer's listing).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashState {
    /// The message is stored, for `owner`, until `expiry_ms`.
    Held {
        /// Account.
        owner: [u8; OWNER_LEN],
        /// Current expiry, ms.
        expiry_ms: i64,
    },
    /// The message was deleted here; the tombstone lasts until the message would have expired.
    Deleted {
        /// The deleted message's expiry, ms.
        expiry_ms: i64,
    },
}

/// One line of a catch-up listing: a message hash, its expiry, and whether it is a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncEntry {
    /// Message hash.
    pub hash: String,
    /// Expiry (of the message, or of the deleted message for a tombstone), ms.
    pub expiry_ms: i64,
    /// A tombstone: the message was deleted and must not come back.
    pub deleted: bool,
}

/// A whole message as catch-up copies it from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncMessage {
    /// Account.
    pub owner: [u8; OWNER_LEN],
    /// The message.
    pub message: StoredMessage,
}

/// Merges the (hash-sorted) live messages and tombstones of a listing page: at most `limit`
/// entries after `after`, sorted by hash, and whether more remain. Shared by both backends.
///
/// ```
/// use metaless_node::storage::{SyncEntry, merge_listing};
/// let e = |h: &str, d| SyncEntry { hash: h.into(), expiry_ms: 1, deleted: d };
/// let (page, more) = merge_listing(vec![e("a", false), e("c", false)], vec![e("b", true)], 2);
/// assert_eq!(page.iter().map(|x| x.hash.as_str()).collect::<Vec<_>>(), ["a", "b"]);
/// assert!(more);
/// ```
pub fn merge_listing(
    held: Vec<SyncEntry>,
    deleted: Vec<SyncEntry>,
    limit: usize,
) -> (Vec<SyncEntry>, bool) {
    let mut all: BTreeMap<String, SyncEntry> = BTreeMap::new();
    // A hash both held and tombstoned (a client stored it again) is listed as held.
    for e in deleted.into_iter().chain(held) {
        all.insert(e.hash.clone(), e);
    }
    let more = all.len() > limit;
    (all.into_values().take(limit).collect(), more)
}

/// A node's message store. Every method is one atomic change (a transaction in SQLite); the
/// semantics below are the SQLite schema's (`docs/node.md`), and every implementation follows
/// them exactly. `Debug` is required so a [`NodeConfig`](crate::NodeConfig) can be printed; it
/// should print no message data.
pub trait Storage: core::fmt::Debug {
    /// Stores a message; the same hash twice is one message (a later expiry extends it). With
    /// [`NewMessage::replace_namespace`] every other message of the owner in that namespace is
    /// deleted first. Returns what happened and the message's expiry afterwards. Every message
    /// removed other than by expiry leaves a tombstone ([`Storage::hash_states`]) until its
    /// expiry; a client's store of that hash again clears it.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage, StoreOutcome};
    /// let mut db = MemoryStorage::new();
    /// let mut m = NewMessage { owner: [5; 33], namespace: 0, hash: "a".into(), timestamp_ms: 0,
    ///     expiry_ms: 10, data: vec![1], replace_namespace: false };
    /// db.store(&m).unwrap();
    /// m.expiry_ms = 20;
    /// assert_eq!(db.store(&m).unwrap(), (StoreOutcome::Extended, 20));
    /// ```
    fn store(&mut self, msg: &NewMessage) -> Result<(StoreOutcome, i64), NodeError>;

    /// A swarm peer's replay of a store: as [`Storage::store`], except that a hash deleted
    /// here (a tombstone) stays deleted — nothing is written and the answer is
    /// [`StoreOutcome::Deleted`] with the tombstone's expiry — so a late replay cannot bring
    /// a deleted message back. The default checks [`Storage::hash_states`] and then stores;
    /// a store with transactions should do both in one (SQLite does: a replay is then one
    /// transaction, not a read and a write).
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage, StoreOutcome};
    /// let mut db = MemoryStorage::new();
    /// let m = NewMessage { owner: [5; 33], namespace: 0, hash: "a".into(), timestamp_ms: 0,
    ///     expiry_ms: 10, data: vec![1], replace_namespace: false };
    /// assert_eq!(db.store_unless_deleted(&m).unwrap(), (StoreOutcome::New, 10));
    /// db.delete_by_hash(&[5; 33], &["a".into()]).unwrap();
    /// assert_eq!(db.store_unless_deleted(&m).unwrap(), (StoreOutcome::Deleted, 10));
    /// assert!(db.retrieve(&[5; 33], 0, None, None, None, 0).unwrap().0.is_empty());
    /// ```
    fn store_unless_deleted(&mut self, msg: &NewMessage) -> Result<(StoreOutcome, i64), NodeError> {
        let states = self.hash_states(core::slice::from_ref(&msg.hash))?;
        if let Some(HashState::Deleted { expiry_ms }) = states.get(&msg.hash) {
            return Ok((StoreOutcome::Deleted, *expiry_ms));
        }
        self.store(msg)
    }

    /// Messages of `owner` in `namespace` stored after `last_hash` (all when `None` or unknown),
    /// oldest first, not expired at `now_ms`. Stops at `max_count` messages or when the running
    /// size ([`retrieve_size`]: hash + base64 data + 100 bytes overhead per message, as upstream
    /// counts) would exceed `max_size` (at least one message is always returned). The flag says
    /// whether more remain.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// for i in 0..3 {
    ///     db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: format!("h{i}"),
    ///         timestamp_ms: i, expiry_ms: 100, data: vec![0], replace_namespace: false }).unwrap();
    /// }
    /// let (page, more) = db.retrieve(&[5; 33], 0, Some("h0"), Some(1), None, 0).unwrap();
    /// assert_eq!((page[0].hash.as_str(), more), ("h1", true));
    /// ```
    fn retrieve(
        &self,
        owner: &[u8; OWNER_LEN],
        namespace: i16,
        last_hash: Option<&str>,
        max_count: Option<usize>,
        max_size: Option<usize>,
        now_ms: i64,
    ) -> Result<(Vec<StoredMessage>, bool), NodeError>;

    /// Deletes the named messages of `owner`; returns the hashes actually deleted, sorted.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 9, data: vec![], replace_namespace: false }).unwrap();
    /// assert_eq!(db.delete_by_hash(&[5; 33], &["x".into(), "y".into()]).unwrap(), vec!["x"]);
    /// ```
    fn delete_by_hash(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<Vec<String>, NodeError>;

    /// Deletes every message of `owner` (in `namespace`, or all namespaces when `None`);
    /// returns `(namespace, hash)` pairs sorted by hash.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 3, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 9, data: vec![], replace_namespace: false }).unwrap();
    /// assert!(db.delete_all(&[5; 33], Some(0)).unwrap().is_empty());
    /// assert_eq!(db.delete_all(&[5; 33], None).unwrap(), vec![(3, "x".to_string())]);
    /// ```
    fn delete_all(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
    ) -> Result<Vec<(i16, String)>, NodeError>;

    /// Deletes messages of `owner` with timestamp ≤ `before_ms` (upstream `delete_before`);
    /// returns `(namespace, hash)` pairs sorted by hash.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 5,
    ///     expiry_ms: 99, data: vec![], replace_namespace: false }).unwrap();
    /// assert!(db.delete_before(&[5; 33], None, 4).unwrap().is_empty());
    /// assert_eq!(db.delete_before(&[5; 33], Some(0), 5).unwrap().len(), 1);
    /// ```
    fn delete_before(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        before_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError>;

    /// Sets the expiry of the named messages of `owner` where `mode` [allows](ExpiryMode::allows)
    /// it. `expiries` holds one value for all hashes or one per hash (other lengths update
    /// nothing). Returns `(hash, new expiry)` for each message changed, sorted and without
    /// repeated pairs.
    ///
    /// ```
    /// use metaless_node::storage::{ExpiryMode, MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 100, data: vec![], replace_namespace: false }).unwrap();
    /// assert!(db.update_expiry(&[5; 33], &["x".into()], &[200], ExpiryMode::ShortenOnly).unwrap().is_empty());
    /// assert_eq!(db.update_expiry(&[5; 33], &["x".into()], &[50], ExpiryMode::ShortenOnly).unwrap(),
    ///     vec![("x".to_string(), 50)]);
    /// ```
    fn update_expiry(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
        expiries: &[i64],
        mode: ExpiryMode,
    ) -> Result<Vec<(String, i64)>, NodeError>;

    /// Lowers to `expiry_ms` every expiry of `owner` (in `namespace` or all) that is later than
    /// it (upstream `expire_all`); returns `(namespace, hash)` of the messages changed, sorted by
    /// hash.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 100, data: vec![], replace_namespace: false }).unwrap();
    /// assert_eq!(db.update_all_expiries(&[5; 33], None, 50).unwrap().len(), 1);
    /// assert!(db.update_all_expiries(&[5; 33], None, 70).unwrap().is_empty());
    /// ```
    fn update_all_expiries(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        expiry_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError>;

    /// Current expiries of the named messages of `owner` that exist.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 100, data: vec![], replace_namespace: false }).unwrap();
    /// let e = db.get_expiries(&[5; 33], &["x".into(), "nope".into()]).unwrap();
    /// assert_eq!(e.get("x"), Some(&100));
    /// assert_eq!(e.len(), 1);
    /// ```
    fn get_expiries(
        &self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<BTreeMap<String, i64>, NodeError>;

    /// Deletes every message whose expiry is ≤ `now_ms`, and the tombstones that old; returns
    /// how many messages went.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// let mut db = MemoryStorage::new();
    /// assert_eq!(db.sweep_expired(0).unwrap(), 0);
    /// ```
    fn sweep_expired(&mut self, now_ms: i64) -> Result<usize, NodeError>;

    /// Number of messages held (expired or not).
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// assert_eq!(MemoryStorage::new().count().unwrap(), 0);
    /// ```
    fn count(&self) -> Result<usize, NodeError>;

    /// Queues a replay owed to a swarm peer (the node's retry queue; SQLite keeps it across
    /// restarts). The storage assigns the queue id (`retry.id` is ignored).
    ///
    /// ```
    /// use metaless_node::replication::Retry;
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.push_retry(&Retry { id: 0, to: [1; 32], body: b"{}".to_vec(), expiry_ms: 9,
    ///     next_ms: 5, attempts: 0 }).unwrap();
    /// assert!(db.take_due_retries(4, 10).unwrap().is_empty());
    /// assert_eq!(db.take_due_retries(5, 10).unwrap().len(), 1);
    /// assert!(db.take_due_retries(5, 10).unwrap().is_empty());
    /// ```
    fn push_retry(&mut self, retry: &Retry) -> Result<(), NodeError>;

    /// Returns up to `limit` queued replays with `next_ms <= now_ms`, earliest first, each
    /// with its queue id, and leases them: they stay queued with `next_ms` moved
    /// [`RETRY_LEASE_MS`] ahead, so a crash before [`Storage::retry_done`] /
    /// [`Storage::retry_again`] loses nothing (the replay is sent again when the lease ends;
    /// replays are idempotent).
    ///
    /// ```
    /// use metaless_node::replication::{RETRY_LEASE_MS, Retry};
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.push_retry(&Retry { id: 0, to: [1; 32], body: b"{}".to_vec(), expiry_ms: u64::MAX,
    ///     next_ms: 5, attempts: 0 }).unwrap();
    /// let got = db.take_due_retries(5, 10).unwrap();
    /// assert!(db.take_due_retries(5, 10).unwrap().is_empty()); // leased
    /// // Never acknowledged (a crash): due again when the lease ends.
    /// assert_eq!(db.take_due_retries(5 + RETRY_LEASE_MS, 10).unwrap()[0].id, got[0].id);
    /// ```
    fn take_due_retries(&mut self, now_ms: u64, limit: usize) -> Result<Vec<Retry>, NodeError>;

    /// Removes queued replay `id` (it was delivered, or will never be).
    ///
    /// ```
    /// use metaless_node::replication::Retry;
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.push_retry(&Retry { id: 0, to: [1; 32], body: vec![], expiry_ms: u64::MAX, next_ms: 0,
    ///     attempts: 0 }).unwrap();
    /// let id = db.take_due_retries(0, 1).unwrap()[0].id;
    /// db.retry_done(id).unwrap();
    /// assert!(db.take_due_retries(u64::MAX, 1).unwrap().is_empty());
    /// ```
    fn retry_done(&mut self, id: u64) -> Result<(), NodeError>;

    /// Reschedules queued replay `id` for `next_ms` after `attempts` attempts.
    ///
    /// ```
    /// use metaless_node::replication::Retry;
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.push_retry(&Retry { id: 0, to: [1; 32], body: vec![], expiry_ms: u64::MAX, next_ms: 0,
    ///     attempts: 0 }).unwrap();
    /// let id = db.take_due_retries(0, 1).unwrap()[0].id;
    /// db.retry_again(id, 7, 1).unwrap();
    /// assert_eq!(db.take_due_retries(7, 1).unwrap()[0].attempts, 1);
    /// ```
    fn retry_again(&mut self, id: u64, next_ms: u64, attempts: u32) -> Result<(), NodeError>;

    /// Catch-up listing: up to `limit` entries with hash > `after` (all when empty), sorted by
    /// hash — messages not expired at `now_ms`, and tombstones of deleted messages that had not
    /// expired — and whether more remain ([`merge_listing`]).
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// for h in ["b", "a"] {
    ///     db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: h.into(), timestamp_ms: 0,
    ///         expiry_ms: 100, data: vec![], replace_namespace: false }).unwrap();
    /// }
    /// db.delete_by_hash(&[5; 33], &["b".into()]).unwrap();
    /// let (page, more) = db.sync_list("", 10, 50).unwrap();
    /// assert_eq!((page[0].deleted, page[1].deleted, more), (false, true, false));
    /// assert!(db.sync_list("", 10, 100).unwrap().0.is_empty()); // all expired
    /// ```
    fn sync_list(
        &self,
        after: &str,
        limit: usize,
        now_ms: i64,
    ) -> Result<(Vec<SyncEntry>, bool), NodeError>;

    /// The named messages (any account) not expired at `now_ms`, in the order asked.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "a".into(), timestamp_ms: 0,
    ///     expiry_ms: 100, data: vec![7], replace_namespace: false }).unwrap();
    /// let got = db.sync_get(&["a".into(), "zz".into()], 0).unwrap();
    /// assert_eq!((got.len(), got[0].owner, got[0].message.data.clone()), (1, [5; 33], vec![7]));
    /// ```
    fn sync_get(&self, hashes: &[String], now_ms: i64) -> Result<Vec<SyncMessage>, NodeError>;

    /// What this node holds under each named hash (absent hashes are left out).
    ///
    /// ```
    /// use metaless_node::storage::{HashState, MemoryStorage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.sync_delete("gone", 9).unwrap();
    /// let s = db.hash_states(&["gone".into(), "never".into()]).unwrap();
    /// assert_eq!(s.get("gone"), Some(&HashState::Deleted { expiry_ms: 9 }));
    /// assert_eq!(s.len(), 1);
    /// ```
    fn hash_states(&self, hashes: &[String]) -> Result<BTreeMap<String, HashState>, NodeError>;

    /// Stores a message copied from a peer, unless this node holds it or deleted it (a
    /// tombstone). Returns whether it was stored.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage, StoredMessage, SyncMessage};
    /// let mut db = MemoryStorage::new();
    /// let m = SyncMessage { owner: [5; 33], message: StoredMessage { hash: "a".into(),
    ///     namespace: 0, timestamp_ms: 0, expiry_ms: 100, data: vec![] } };
    /// assert!(db.sync_put(&m).unwrap());
    /// assert!(!db.sync_put(&m).unwrap());
    /// db.sync_delete("a", 100).unwrap();
    /// assert!(!db.sync_put(&m).unwrap()); // deleted here: never comes back
    /// ```
    fn sync_put(&mut self, msg: &SyncMessage) -> Result<bool, NodeError>;

    /// Applies a peer's tombstone: deletes the message under `hash` if held (any account) and
    /// keeps a tombstone until `expiry_ms`. Returns whether a message was deleted.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// assert!(!MemoryStorage::new().sync_delete("a", 5).unwrap());
    /// ```
    fn sync_delete(&mut self, hash: &str, expiry_ms: i64) -> Result<bool, NodeError>;

    /// Adds sub-account tokens (36 bytes each, compared whole) to `owner`'s revocation list as
    /// of `now_ms`; a token already listed keeps the later time. The list holds the
    /// [`MAX_SUBACCOUNT_TOKENS`] most recent tokens (upstream's `revoked_autoclean` trigger):
    /// adding more drops the oldest.
    ///
    /// The default refuses ([`NodeError::Unsupported`]) so that a backend without a revocation
    /// table answers a revocation with a failure instead of pretending it took effect.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.revoke_subaccounts(&[3; 33], &[[1; 36]], 10).unwrap();
    /// assert!(db.subaccount_revoked(&[3; 33], &[1; 36]).unwrap());
    /// assert!(!db.subaccount_revoked(&[3; 33], &[2; 36]).unwrap());
    /// assert!(!db.subaccount_revoked(&[4; 33], &[1; 36]).unwrap()); // per account
    /// ```
    fn revoke_subaccounts(
        &mut self,
        owner: &[u8; OWNER_LEN],
        tokens: &[[u8; SUBACCOUNT_TOKEN_LEN]],
        now_ms: i64,
    ) -> Result<(), NodeError> {
        let _ = (owner, tokens, now_ms);
        Err(NodeError::Unsupported("sub-account revocation"))
    }

    /// Removes tokens from `owner`'s revocation list; returns how many were listed. The default
    /// refuses, like [`Storage::revoke_subaccounts`].
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// let mut db = MemoryStorage::new();
    /// db.revoke_subaccounts(&[3; 33], &[[1; 36], [2; 36]], 10).unwrap();
    /// assert_eq!(db.unrevoke_subaccounts(&[3; 33], &[[1; 36], [9; 36]]).unwrap(), 1);
    /// assert_eq!(db.revoked_subaccounts(&[3; 33]).unwrap(), vec![[2; 36]]);
    /// ```
    fn unrevoke_subaccounts(
        &mut self,
        owner: &[u8; OWNER_LEN],
        tokens: &[[u8; SUBACCOUNT_TOKEN_LEN]],
    ) -> Result<usize, NodeError> {
        let _ = (owner, tokens);
        Err(NodeError::Unsupported("sub-account revocation"))
    }

    /// `owner`'s revoked tokens, sorted. The default (a backend with no revocation table) has
    /// revoked nothing.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// assert!(MemoryStorage::new().revoked_subaccounts(&[3; 33]).unwrap().is_empty());
    /// ```
    fn revoked_subaccounts(
        &self,
        owner: &[u8; OWNER_LEN],
    ) -> Result<Vec<[u8; SUBACCOUNT_TOKEN_LEN]>, NodeError> {
        let _ = owner;
        Ok(Vec::new())
    }

    /// Whether `token` is on `owner`'s revocation list (by default: looked up in
    /// [`Storage::revoked_subaccounts`]).
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// assert!(!MemoryStorage::new().subaccount_revoked(&[3; 33], &[0; 36]).unwrap());
    /// ```
    fn subaccount_revoked(
        &self,
        owner: &[u8; OWNER_LEN],
        token: &[u8; SUBACCOUNT_TOKEN_LEN],
    ) -> Result<bool, NodeError> {
        Ok(self.revoked_subaccounts(owner)?.contains(token))
    }
}

/// One stored message with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    owner: [u8; OWNER_LEN],
    message: StoredMessage,
}

/// One account's revoked tokens → (revocation time, insertion sequence).
type RevocationList = BTreeMap<[u8; SUBACCOUNT_TOKEN_LEN], (i64, u64)>;

/// Index key of a message by account: `(owner, namespace, row id)`.
type OwnerKey = ([u8; OWNER_LEN], i16, i64);

/// Messages in memory, with the SQLite schema's semantics exactly: rows keyed by a row id
/// assigned as SQLite assigns `INTEGER PRIMARY KEY` ids (one more than the largest present,
/// 1 in an empty table), a unique hash index and an `(owner, namespace, id)` index. Nothing
/// survives the value. Never fails.
///
/// ```
/// use metaless_node::storage::{MemoryStorage, Storage};
/// let db = MemoryStorage::default();
/// assert_eq!(db.count().unwrap(), 0);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MemoryStorage {
    rows: BTreeMap<i64, Row>,
    by_hash: BTreeMap<String, i64>,
    by_owner: BTreeSet<OwnerKey>,
    /// Queue id → replay.
    retries: BTreeMap<u64, Retry>,
    /// Hash → expiry of a deleted message.
    tombstones: BTreeMap<String, i64>,
    /// Account → revoked token → (revocation time, insertion sequence).
    revoked: BTreeMap<[u8; OWNER_LEN], RevocationList>,
    /// Next insertion sequence number of the revocation list (orders equal times).
    revoked_seq: u64,
}

impl core::fmt::Debug for MemoryStorage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Message data and accounts stay out of logs.
        f.debug_struct("MemoryStorage")
            .field("messages", &self.rows.len())
            .finish()
    }
}

impl MemoryStorage {
    /// An empty store.
    ///
    /// ```
    /// use metaless_node::storage::{MemoryStorage, Storage};
    /// assert_eq!(MemoryStorage::new().count().unwrap(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn insert(&mut self, owner: [u8; OWNER_LEN], message: StoredMessage) {
        let id = self
            .rows
            .last_key_value()
            .map_or(1, |(id, _)| id.saturating_add(1));
        self.by_hash.insert(message.hash.clone(), id);
        self.by_owner.insert((owner, message.namespace, id));
        self.rows.insert(id, Row { owner, message });
    }

    fn remove(&mut self, id: i64) -> Option<Row> {
        let row = self.rows.remove(&id)?;
        self.by_hash.remove(&row.message.hash);
        // As SQLite's delete trigger: every removal leaves a tombstone (sweeps clear theirs).
        self.tombstones
            .insert(row.message.hash.clone(), row.message.expiry_ms);
        self.by_owner
            .remove(&(row.owner, row.message.namespace, id));
        Some(row)
    }

    /// Row ids of `owner`'s messages (in `namespace`, or all), in id order within a namespace.
    fn owner_ids(&self, owner: &[u8; OWNER_LEN], namespace: Option<i16>) -> Vec<i64> {
        let (lo, hi) = match namespace {
            Some(ns) => ((*owner, ns, i64::MIN), (*owner, ns, i64::MAX)),
            None => ((*owner, i16::MIN, i64::MIN), (*owner, i16::MAX, i64::MAX)),
        };
        self.by_owner.range(lo..=hi).map(|&(_, _, id)| id).collect()
    }

    /// The row of `hash` if it belongs to `owner`.
    fn owned(&self, owner: &[u8; OWNER_LEN], hash: &str) -> Option<(i64, &Row)> {
        let id = *self.by_hash.get(hash)?;
        self.rows
            .get(&id)
            .filter(|r| &r.owner == owner)
            .map(|r| (id, r))
    }

    /// Removes the given rows; returns their `(namespace, hash)` sorted by hash.
    fn remove_all(&mut self, ids: Vec<i64>) -> Vec<(i16, String)> {
        let mut out: Vec<(i16, String)> = ids
            .into_iter()
            .filter_map(|id| self.remove(id))
            .map(|r| (r.message.namespace, r.message.hash))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }
}

impl Storage for MemoryStorage {
    fn store(&mut self, msg: &NewMessage) -> Result<(StoreOutcome, i64), NodeError> {
        if msg.replace_namespace {
            let others: Vec<i64> = self
                .owner_ids(&msg.owner, Some(msg.namespace))
                .into_iter()
                .filter(|id| {
                    self.rows
                        .get(id)
                        .is_some_and(|r| r.message.hash != msg.hash)
                })
                .collect();
            for id in others {
                self.remove(id);
            }
        }
        let existing = self
            .by_hash
            .get(&msg.hash)
            .and_then(|id| self.rows.get_mut(id));
        Ok(match existing {
            Some(row) if row.message.expiry_ms < msg.expiry_ms => {
                row.message.expiry_ms = msg.expiry_ms;
                (StoreOutcome::Extended, msg.expiry_ms)
            }
            Some(row) => (StoreOutcome::Exists, row.message.expiry_ms),
            None => {
                self.tombstones.remove(&msg.hash);
                self.insert(
                    msg.owner,
                    StoredMessage {
                        hash: msg.hash.clone(),
                        namespace: msg.namespace,
                        timestamp_ms: msg.timestamp_ms,
                        expiry_ms: msg.expiry_ms,
                        data: msg.data.clone(),
                    },
                );
                (StoreOutcome::New, msg.expiry_ms)
            }
        })
    }

    fn retrieve(
        &self,
        owner: &[u8; OWNER_LEN],
        namespace: i16,
        last_hash: Option<&str>,
        max_count: Option<usize>,
        max_size: Option<usize>,
        now_ms: i64,
    ) -> Result<(Vec<StoredMessage>, bool), NodeError> {
        let after = last_hash
            .filter(|h| !h.is_empty())
            .and_then(|h| self.owned(owner, h))
            .filter(|(_, r)| r.message.namespace == namespace)
            .map_or(0, |(id, _)| id);
        let candidates = self
            .by_owner
            .range((*owner, namespace, after.saturating_add(1))..=(*owner, namespace, i64::MAX))
            .filter_map(|(_, _, id)| self.rows.get(id))
            .filter(|r| r.message.expiry_ms > now_ms)
            .map(|r| Ok(r.message.clone()));
        page(candidates, max_count, max_size)
    }

    fn delete_by_hash(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<Vec<String>, NodeError> {
        let mut deleted = Vec::new();
        for hash in hashes {
            if let Some((id, _)) = self.owned(owner, hash) {
                self.remove(id);
                deleted.push(hash.clone());
            }
        }
        deleted.sort();
        Ok(deleted)
    }

    fn delete_all(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        let ids = self.owner_ids(owner, namespace);
        Ok(self.remove_all(ids))
    }

    fn delete_before(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        before_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        let ids = self
            .owner_ids(owner, namespace)
            .into_iter()
            .filter(|id| {
                self.rows
                    .get(id)
                    .is_some_and(|r| r.message.timestamp_ms <= before_ms)
            })
            .collect();
        Ok(self.remove_all(ids))
    }

    fn update_expiry(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
        expiries: &[i64],
        mode: ExpiryMode,
    ) -> Result<Vec<(String, i64)>, NodeError> {
        if expiries.len() != 1 && expiries.len() != hashes.len() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (i, hash) in hashes.iter().enumerate() {
            let Some(&expiry) = expiries.get(i).or_else(|| expiries.first()) else {
                continue;
            };
            let Some((id, _)) = self.owned(owner, hash) else {
                continue;
            };
            if let Some(row) = self.rows.get_mut(&id)
                && mode.allows(row.message.expiry_ms, expiry)
            {
                row.message.expiry_ms = expiry;
                out.push((hash.clone(), expiry));
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn update_all_expiries(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        expiry_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        let mut out = Vec::new();
        for id in self.owner_ids(owner, namespace) {
            if let Some(row) = self.rows.get_mut(&id)
                && row.message.expiry_ms > expiry_ms
            {
                row.message.expiry_ms = expiry_ms;
                out.push((row.message.namespace, row.message.hash.clone()));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }

    fn get_expiries(
        &self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<BTreeMap<String, i64>, NodeError> {
        Ok(hashes
            .iter()
            .filter_map(|h| {
                self.owned(owner, h)
                    .map(|(_, r)| (h.clone(), r.message.expiry_ms))
            })
            .collect())
    }

    fn sweep_expired(&mut self, now_ms: i64) -> Result<usize, NodeError> {
        let expired: Vec<i64> = self
            .rows
            .iter()
            .filter(|(_, r)| r.message.expiry_ms <= now_ms)
            .map(|(&id, _)| id)
            .collect();
        for &id in &expired {
            self.remove(id);
        }
        self.tombstones.retain(|_, e| *e > now_ms);
        Ok(expired.len())
    }

    fn push_retry(&mut self, retry: &Retry) -> Result<(), NodeError> {
        if self.retries.len() >= MAX_RETRIES {
            self.retries.pop_first();
        }
        let id = self
            .retries
            .last_key_value()
            .map_or(1, |(id, _)| id.saturating_add(1));
        self.retries.insert(
            id,
            Retry {
                id,
                ..retry.clone()
            },
        );
        Ok(())
    }

    fn take_due_retries(&mut self, now_ms: u64, limit: usize) -> Result<Vec<Retry>, NodeError> {
        let mut due: Vec<Retry> = self
            .retries
            .values()
            .filter(|r| r.next_ms <= now_ms)
            .cloned()
            .collect();
        due.sort_by_key(|r| (r.next_ms, r.id));
        due.truncate(limit);
        for r in &due {
            if let Some(q) = self.retries.get_mut(&r.id) {
                q.next_ms = now_ms.saturating_add(RETRY_LEASE_MS);
            }
        }
        Ok(due)
    }

    fn retry_done(&mut self, id: u64) -> Result<(), NodeError> {
        self.retries.remove(&id);
        Ok(())
    }

    fn retry_again(&mut self, id: u64, next_ms: u64, attempts: u32) -> Result<(), NodeError> {
        if let Some(q) = self.retries.get_mut(&id) {
            q.next_ms = next_ms;
            q.attempts = attempts;
        }
        Ok(())
    }

    fn sync_list(
        &self,
        after: &str,
        limit: usize,
        now_ms: i64,
    ) -> Result<(Vec<SyncEntry>, bool), NodeError> {
        use core::ops::Bound::{Excluded, Unbounded};
        let take = limit.saturating_add(1);
        let held = self
            .by_hash
            .range::<str, _>((Excluded(after), Unbounded))
            .filter_map(|(h, id)| self.rows.get(id).map(|r| (h, r.message.expiry_ms)))
            .filter(|(_, e)| *e > now_ms)
            .take(take)
            .map(|(h, e)| SyncEntry {
                hash: h.clone(),
                expiry_ms: e,
                deleted: false,
            })
            .collect();
        let deleted = self
            .tombstones
            .range::<str, _>((Excluded(after), Unbounded))
            .filter(|(_, e)| **e > now_ms)
            .take(take)
            .map(|(h, e)| SyncEntry {
                hash: h.clone(),
                expiry_ms: *e,
                deleted: true,
            })
            .collect();
        Ok(merge_listing(held, deleted, limit))
    }

    fn sync_get(&self, hashes: &[String], now_ms: i64) -> Result<Vec<SyncMessage>, NodeError> {
        Ok(hashes
            .iter()
            .filter_map(|h| self.by_hash.get(h).and_then(|id| self.rows.get(id)))
            .filter(|r| r.message.expiry_ms > now_ms)
            .map(|r| SyncMessage {
                owner: r.owner,
                message: r.message.clone(),
            })
            .collect())
    }

    fn hash_states(&self, hashes: &[String]) -> Result<BTreeMap<String, HashState>, NodeError> {
        let mut out = BTreeMap::new();
        for h in hashes {
            if let Some(r) = self.by_hash.get(h).and_then(|id| self.rows.get(id)) {
                out.insert(
                    h.clone(),
                    HashState::Held {
                        owner: r.owner,
                        expiry_ms: r.message.expiry_ms,
                    },
                );
            } else if let Some(&expiry_ms) = self.tombstones.get(h) {
                out.insert(h.clone(), HashState::Deleted { expiry_ms });
            }
        }
        Ok(out)
    }

    fn sync_put(&mut self, msg: &SyncMessage) -> Result<bool, NodeError> {
        let hash = &msg.message.hash;
        if self.by_hash.contains_key(hash) || self.tombstones.contains_key(hash) {
            return Ok(false);
        }
        self.insert(msg.owner, msg.message.clone());
        Ok(true)
    }

    fn sync_delete(&mut self, hash: &str, expiry_ms: i64) -> Result<bool, NodeError> {
        let removed = match self.by_hash.get(hash).copied() {
            Some(id) => self.remove(id).is_some(),
            None => false,
        };
        let e = self.tombstones.entry(hash.to_owned()).or_insert(expiry_ms);
        *e = (*e).max(expiry_ms);
        Ok(removed)
    }

    fn count(&self) -> Result<usize, NodeError> {
        Ok(self.rows.len())
    }

    fn revoke_subaccounts(
        &mut self,
        owner: &[u8; OWNER_LEN],
        tokens: &[[u8; SUBACCOUNT_TOKEN_LEN]],
        now_ms: i64,
    ) -> Result<(), NodeError> {
        if tokens.is_empty() {
            return Ok(());
        }
        let list = self.revoked.entry(*owner).or_default();
        for token in tokens {
            self.revoked_seq = self.revoked_seq.saturating_add(1);
            let seq = self.revoked_seq;
            let inserted = match list.get_mut(token) {
                Some(at) => {
                    if at.0 < now_ms {
                        *at = (now_ms, seq);
                    }
                    false
                }
                None => {
                    list.insert(*token, (now_ms, seq));
                    true
                }
            };
            // As the autoclean trigger: after an insert, keep only the most recent.
            while inserted && list.len() > MAX_SUBACCOUNT_TOKENS {
                let oldest = list.iter().min_by_key(|(_, at)| **at).map(|(t, _)| *t);
                match oldest {
                    Some(t) => list.remove(&t),
                    None => break,
                };
            }
        }
        Ok(())
    }

    fn unrevoke_subaccounts(
        &mut self,
        owner: &[u8; OWNER_LEN],
        tokens: &[[u8; SUBACCOUNT_TOKEN_LEN]],
    ) -> Result<usize, NodeError> {
        let Some(list) = self.revoked.get_mut(owner) else {
            return Ok(0);
        };
        let removed = tokens.iter().filter(|t| list.remove(*t).is_some()).count();
        if list.is_empty() {
            self.revoked.remove(owner);
        }
        Ok(removed)
    }

    fn revoked_subaccounts(
        &self,
        owner: &[u8; OWNER_LEN],
    ) -> Result<Vec<[u8; SUBACCOUNT_TOKEN_LEN]>, NodeError> {
        Ok(self
            .revoked
            .get(owner)
            .map(|l| l.keys().copied().collect())
            .unwrap_or_default())
    }

    fn subaccount_revoked(
        &self,
        owner: &[u8; OWNER_LEN],
        token: &[u8; SUBACCOUNT_TOKEN_LEN],
    ) -> Result<bool, NodeError> {
        Ok(self
            .revoked
            .get(owner)
            .is_some_and(|l| l.contains_key(token)))
    }
}

/// A store shared by the threads of one node: every [`Storage`] call takes the lock for that
/// call only (each call is one transaction in every backend), shared for the `&self` calls
/// (reads run side by side), alone for the `&mut self` ones; so no lock is held across a
/// request's crypto. A poisoned lock is taken over: no call leaves a backend half-changed
/// (each is one transaction), and a node that stopped storing would lose more.
pub(crate) struct Locked<'a>(pub(crate) &'a std::sync::RwLock<Box<dyn Storage + Send + Sync>>);

impl Locked<'_> {
    fn get(&self) -> std::sync::RwLockReadGuard<'_, Box<dyn Storage + Send + Sync>> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    fn get_mut(&mut self) -> std::sync::RwLockWriteGuard<'_, Box<dyn Storage + Send + Sync>> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl core::fmt::Debug for Locked<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Locked(..)")
    }
}

impl Storage for Locked<'_> {
    fn store(&mut self, msg: &NewMessage) -> Result<(StoreOutcome, i64), NodeError> {
        self.get_mut().store(msg)
    }
    // Under one write lock: the check and the store are one change.
    fn store_unless_deleted(&mut self, msg: &NewMessage) -> Result<(StoreOutcome, i64), NodeError> {
        self.get_mut().store_unless_deleted(msg)
    }
    fn retrieve(
        &self,
        owner: &[u8; OWNER_LEN],
        namespace: i16,
        last_hash: Option<&str>,
        max_count: Option<usize>,
        max_size: Option<usize>,
        now_ms: i64,
    ) -> Result<(Vec<StoredMessage>, bool), NodeError> {
        self.get()
            .retrieve(owner, namespace, last_hash, max_count, max_size, now_ms)
    }
    fn delete_by_hash(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<Vec<String>, NodeError> {
        self.get_mut().delete_by_hash(owner, hashes)
    }
    fn delete_all(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        self.get_mut().delete_all(owner, namespace)
    }
    fn delete_before(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        before_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        self.get_mut().delete_before(owner, namespace, before_ms)
    }
    fn update_expiry(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
        expiries: &[i64],
        mode: ExpiryMode,
    ) -> Result<Vec<(String, i64)>, NodeError> {
        self.get_mut().update_expiry(owner, hashes, expiries, mode)
    }
    fn update_all_expiries(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        expiry_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        self.get_mut()
            .update_all_expiries(owner, namespace, expiry_ms)
    }
    fn get_expiries(
        &self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<BTreeMap<String, i64>, NodeError> {
        self.get().get_expiries(owner, hashes)
    }
    fn sweep_expired(&mut self, now_ms: i64) -> Result<usize, NodeError> {
        self.get_mut().sweep_expired(now_ms)
    }
    fn count(&self) -> Result<usize, NodeError> {
        self.get().count()
    }
    fn push_retry(&mut self, retry: &Retry) -> Result<(), NodeError> {
        self.get_mut().push_retry(retry)
    }
    fn take_due_retries(&mut self, now_ms: u64, limit: usize) -> Result<Vec<Retry>, NodeError> {
        self.get_mut().take_due_retries(now_ms, limit)
    }
    fn retry_done(&mut self, id: u64) -> Result<(), NodeError> {
        self.get_mut().retry_done(id)
    }
    fn retry_again(&mut self, id: u64, next_ms: u64, attempts: u32) -> Result<(), NodeError> {
        self.get_mut().retry_again(id, next_ms, attempts)
    }
    fn sync_list(
        &self,
        after: &str,
        limit: usize,
        now_ms: i64,
    ) -> Result<(Vec<SyncEntry>, bool), NodeError> {
        self.get().sync_list(after, limit, now_ms)
    }
    fn sync_get(&self, hashes: &[String], now_ms: i64) -> Result<Vec<SyncMessage>, NodeError> {
        self.get().sync_get(hashes, now_ms)
    }
    fn hash_states(&self, hashes: &[String]) -> Result<BTreeMap<String, HashState>, NodeError> {
        self.get().hash_states(hashes)
    }
    fn sync_put(&mut self, msg: &SyncMessage) -> Result<bool, NodeError> {
        self.get_mut().sync_put(msg)
    }
    fn sync_delete(&mut self, hash: &str, expiry_ms: i64) -> Result<bool, NodeError> {
        self.get_mut().sync_delete(hash, expiry_ms)
    }
    fn revoke_subaccounts(
        &mut self,
        owner: &[u8; OWNER_LEN],
        tokens: &[[u8; SUBACCOUNT_TOKEN_LEN]],
        now_ms: i64,
    ) -> Result<(), NodeError> {
        self.get_mut().revoke_subaccounts(owner, tokens, now_ms)
    }
    fn unrevoke_subaccounts(
        &mut self,
        owner: &[u8; OWNER_LEN],
        tokens: &[[u8; SUBACCOUNT_TOKEN_LEN]],
    ) -> Result<usize, NodeError> {
        self.get_mut().unrevoke_subaccounts(owner, tokens)
    }
    fn revoked_subaccounts(
        &self,
        owner: &[u8; OWNER_LEN],
    ) -> Result<Vec<[u8; SUBACCOUNT_TOKEN_LEN]>, NodeError> {
        self.get().revoked_subaccounts(owner)
    }
    fn subaccount_revoked(
        &self,
        owner: &[u8; OWNER_LEN],
        token: &[u8; SUBACCOUNT_TOKEN_LEN],
    ) -> Result<bool, NodeError> {
        self.get().subaccount_revoked(owner, token)
    }
}
