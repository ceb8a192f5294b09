//! Per-node message storage on SQLite.
//!
//! One table, `messages`, keyed by the network's message hash (unique across the node, as
//! upstream). Every write is one transaction; the database runs in WAL mode with
//! `synchronous = NORMAL` by default, which survives a killed or crashed process (an
//! acknowledged store is in the WAL file before the reply leaves), and `FULL` on request for
//! power-loss durability at the cost of one fsync per write. Time is passed in (`now_ms`), never
//! read from a clock, so expiry is testable with virtual time.
//!
//! ```
//! use metaless_node::storage::{NewMessage, Storage, StoreOutcome};
//!
//! let mut db = Storage::open_in_memory().unwrap();
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

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};

use crate::NodeError;
use crate::limits::{MAX_HASHES_PER_REQUEST, RETRIEVE_MAX_SIZE};

/// Length of an account ID on the wire and in the database: prefix byte ‖ 32-byte key.
pub const OWNER_LEN: usize = 33;

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// WAL + `synchronous = NORMAL` (what upstream storage servers run): a store acknowledged
    /// to a client survives the process being killed; the last commits may be lost on power
    /// failure.
    #[default]
    Normal,
    /// WAL + `synchronous = FULL`: one fsync per commit, survives power loss.
    Full,
}

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

/// One node's SQLite message store.
#[derive(Debug)]
pub struct Storage {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    owner BLOB NOT NULL,
    namespace INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    expiry INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_owner ON messages(owner, namespace, id);
CREATE INDEX IF NOT EXISTS messages_expiry ON messages(expiry);
";

fn dynamic_in(count: usize) -> String {
    let mut s = String::with_capacity(count * 2);
    for i in 0..count {
        if i > 0 {
            s.push(',');
        }
        s.push('?');
    }
    s
}

impl Storage {
    /// Opens (creating if needed) `dir/storage.db` with the given durability.
    ///
    /// ```
    /// use metaless_node::storage::{Durability, Storage};
    /// let dir = tempfile::tempdir().unwrap();
    /// let db = Storage::open(dir.path(), Durability::Normal).unwrap();
    /// assert_eq!(db.count().unwrap(), 0);
    /// ```
    pub fn open(dir: &Path, durability: Durability) -> Result<Self, NodeError> {
        std::fs::create_dir_all(dir)?;
        let conn = Connection::open(dir.join("storage.db"))?;
        Self::init(conn, durability)
    }

    /// An in-memory store (for `LoopbackNet` and tests): nothing survives the value.
    ///
    /// ```
    /// let db = metaless_node::storage::Storage::open_in_memory().unwrap();
    /// assert_eq!(db.count().unwrap(), 0);
    /// ```
    pub fn open_in_memory() -> Result<Self, NodeError> {
        Self::init(Connection::open_in_memory()?, Durability::Normal)
    }

    fn init(conn: Connection, durability: Durability) -> Result<Self, NodeError> {
        // journal_mode returns a row, so it is read rather than executed.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.execute_batch(&format!("PRAGMA synchronous = {sync};"))?;
        conn.busy_timeout(std::time::Duration::from_secs(15))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    /// Stores a message; the same hash twice is one message (a later expiry extends it).
    /// Returns what happened and the message's expiry afterwards.
    ///
    /// ```
    /// use metaless_node::storage::{NewMessage, Storage, StoreOutcome};
    /// let mut db = Storage::open_in_memory().unwrap();
    /// let mut m = NewMessage { owner: [5; 33], namespace: 0, hash: "a".into(), timestamp_ms: 0,
    ///     expiry_ms: 10, data: vec![1], replace_namespace: false };
    /// db.store(&m).unwrap();
    /// m.expiry_ms = 20;
    /// assert_eq!(db.store(&m).unwrap(), (StoreOutcome::Extended, 20));
    /// ```
    pub fn store(&mut self, msg: &NewMessage) -> Result<(StoreOutcome, i64), NodeError> {
        let tx = self.conn.transaction()?;
        if msg.replace_namespace {
            tx.execute(
                "DELETE FROM messages WHERE owner = ?1 AND namespace = ?2 AND hash != ?3",
                params![&msg.owner[..], msg.namespace, msg.hash],
            )?;
        }
        let existing: Option<(i64, i64)> = tx
            .query_row(
                "SELECT id, expiry FROM messages WHERE hash = ?1",
                params![msg.hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let result = match existing {
            Some((id, expiry)) if expiry < msg.expiry_ms => {
                tx.execute(
                    "UPDATE messages SET expiry = ?1 WHERE id = ?2",
                    params![msg.expiry_ms, id],
                )?;
                (StoreOutcome::Extended, msg.expiry_ms)
            }
            Some((_, expiry)) => (StoreOutcome::Exists, expiry),
            None => {
                tx.execute(
                    "INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        msg.hash,
                        &msg.owner[..],
                        msg.namespace,
                        msg.timestamp_ms,
                        msg.expiry_ms,
                        msg.data
                    ],
                )?;
                (StoreOutcome::New, msg.expiry_ms)
            }
        };
        tx.commit()?;
        Ok(result)
    }

    /// Messages of `owner` in `namespace` stored after `last_hash` (all when `None` or unknown),
    /// oldest first, not expired at `now_ms`. Stops at `max_count` messages or when the running
    /// size (hash + base64 data + 100 bytes overhead per message, as upstream counts) would exceed
    /// `max_size` (at least one message is always returned). The flag says whether more remain.
    ///
    /// ```
    /// use metaless_node::storage::{NewMessage, Storage};
    /// let mut db = Storage::open_in_memory().unwrap();
    /// for i in 0..3 {
    ///     db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: format!("h{i}"),
    ///         timestamp_ms: i, expiry_ms: 100, data: vec![0], replace_namespace: false }).unwrap();
    /// }
    /// let (page, more) = db.retrieve(&[5; 33], 0, Some("h0"), Some(1), None, 0).unwrap();
    /// assert_eq!((page[0].hash.as_str(), more), ("h1", true));
    /// ```
    pub fn retrieve(
        &self,
        owner: &[u8; OWNER_LEN],
        namespace: i16,
        last_hash: Option<&str>,
        max_count: Option<usize>,
        max_size: Option<usize>,
        now_ms: i64,
    ) -> Result<(Vec<StoredMessage>, bool), NodeError> {
        let last_id: Option<i64> = match last_hash.filter(|h| !h.is_empty()) {
            Some(h) => self
                .conn
                .query_row(
                    "SELECT id FROM messages WHERE owner = ?1 AND namespace = ?2 AND hash = ?3",
                    params![&owner[..], namespace, h],
                    |r| r.get(0),
                )
                .optional()?,
            None => None,
        };
        let max_count = max_count.map(|c| c.max(1));
        let max_size = max_size
            .map(|s| s.min(RETRIEVE_MAX_SIZE))
            .unwrap_or(RETRIEVE_MAX_SIZE);
        let limit: i64 = max_count.map_or(-1, |c| i64::try_from(c).unwrap_or(i64::MAX - 1) + 1);
        let mut stmt = self.conn.prepare_cached(
            "SELECT hash, namespace, timestamp, expiry, data FROM messages \
             WHERE owner = ?1 AND namespace = ?2 AND id > ?3 AND expiry > ?4 ORDER BY id LIMIT ?5",
        )?;
        let mut rows = stmt.query(params![
            &owner[..],
            namespace,
            last_id.unwrap_or(0),
            now_ms,
            limit
        ])?;
        let mut out = Vec::new();
        let mut more = false;
        let mut total = 0usize;
        while let Some(row) = rows.next()? {
            if max_count.is_some_and(|c| out.len() >= c) {
                more = true;
                break;
            }
            let msg = StoredMessage {
                hash: row.get(0)?,
                namespace: row.get(1)?,
                timestamp_ms: row.get(2)?,
                expiry_ms: row.get(3)?,
                data: row.get(4)?,
            };
            total = total
                .saturating_add(crate::limits::RETRIEVE_PER_MESSAGE_OVERHEAD)
                .saturating_add(msg.hash.len())
                .saturating_add(msg.data.len().div_ceil(3).saturating_mul(4));
            if !out.is_empty() && total > max_size {
                more = true;
                break;
            }
            out.push(msg);
        }
        Ok((out, more))
    }

    /// Deletes the named messages of `owner`; returns the hashes actually deleted, sorted.
    ///
    /// ```
    /// use metaless_node::storage::{NewMessage, Storage};
    /// let mut db = Storage::open_in_memory().unwrap();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 9, data: vec![], replace_namespace: false }).unwrap();
    /// assert_eq!(db.delete_by_hash(&[5; 33], &["x".into(), "y".into()]).unwrap(), vec!["x"]);
    /// ```
    pub fn delete_by_hash(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<Vec<String>, NodeError> {
        let tx = self.conn.transaction()?;
        let mut deleted = Vec::new();
        // Chunked so that no request builds an unbounded SQL statement.
        for chunk in hashes.chunks(MAX_HASHES_PER_REQUEST) {
            let sql = format!(
                "DELETE FROM messages WHERE owner = ? AND hash IN ({}) RETURNING hash",
                dynamic_in(chunk.len())
            );
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() + 1);
            values.push(Value::Blob(owner.to_vec()));
            values.extend(chunk.iter().map(|h| Value::Text(h.clone())));
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt
                .query_map(params_from_iter(values), |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            deleted.extend(rows);
        }
        tx.commit()?;
        deleted.sort();
        Ok(deleted)
    }

    /// Deletes every message of `owner` (in `namespace`, or all namespaces when `None`);
    /// returns `(namespace, hash)` pairs sorted by hash.
    ///
    /// ```
    /// use metaless_node::storage::{NewMessage, Storage};
    /// let mut db = Storage::open_in_memory().unwrap();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 3, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 9, data: vec![], replace_namespace: false }).unwrap();
    /// assert!(db.delete_all(&[5; 33], Some(0)).unwrap().is_empty());
    /// assert_eq!(db.delete_all(&[5; 33], None).unwrap(), vec![(3, "x".to_string())]);
    /// ```
    pub fn delete_all(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        let mut out = match namespace {
            Some(ns) => {
                let mut stmt = self
                    .conn
                    .prepare_cached("DELETE FROM messages WHERE owner = ?1 AND namespace = ?2 RETURNING namespace, hash")?;
                stmt.query_map(params![&owner[..], ns], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = self.conn.prepare_cached(
                    "DELETE FROM messages WHERE owner = ?1 RETURNING namespace, hash",
                )?;
                stmt.query_map(params![&owner[..]], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        out.sort_by(|a: &(i16, String), b| a.1.cmp(&b.1));
        Ok(out)
    }

    /// Deletes messages of `owner` with timestamp ≤ `before_ms` (upstream `delete_before`);
    /// returns `(namespace, hash)` pairs sorted by hash.
    ///
    /// ```
    /// use metaless_node::storage::{NewMessage, Storage};
    /// let mut db = Storage::open_in_memory().unwrap();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 5,
    ///     expiry_ms: 99, data: vec![], replace_namespace: false }).unwrap();
    /// assert!(db.delete_before(&[5; 33], None, 4).unwrap().is_empty());
    /// assert_eq!(db.delete_before(&[5; 33], Some(0), 5).unwrap().len(), 1);
    /// ```
    pub fn delete_before(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        before_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        let mut out = match namespace {
            Some(ns) => {
                let mut stmt = self.conn.prepare_cached(
                    "DELETE FROM messages WHERE owner = ?1 AND namespace = ?2 AND timestamp <= ?3 \
                     RETURNING namespace, hash",
                )?;
                stmt.query_map(params![&owner[..], ns, before_ms], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = self
                    .conn
                    .prepare_cached("DELETE FROM messages WHERE owner = ?1 AND timestamp <= ?2 RETURNING namespace, hash")?;
                stmt.query_map(params![&owner[..], before_ms], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
            }
        };
        out.sort_by(|a: &(i16, String), b| a.1.cmp(&b.1));
        Ok(out)
    }

    /// Sets the expiry of the named messages of `owner`. `expiries` holds one value for all
    /// hashes or one per hash (other lengths update nothing). Returns `(hash, new expiry)` for
    /// each message changed, sorted by hash.
    ///
    /// ```
    /// use metaless_node::storage::{ExpiryMode, NewMessage, Storage};
    /// let mut db = Storage::open_in_memory().unwrap();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 100, data: vec![], replace_namespace: false }).unwrap();
    /// assert!(db.update_expiry(&[5; 33], &["x".into()], &[200], ExpiryMode::ShortenOnly).unwrap().is_empty());
    /// assert_eq!(db.update_expiry(&[5; 33], &["x".into()], &[50], ExpiryMode::ShortenOnly).unwrap(),
    ///     vec![("x".to_string(), 50)]);
    /// ```
    pub fn update_expiry(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
        expiries: &[i64],
        mode: ExpiryMode,
    ) -> Result<Vec<(String, i64)>, NodeError> {
        if expiries.len() != 1 && expiries.len() != hashes.len() {
            return Ok(Vec::new());
        }
        let constraint = match mode {
            ExpiryMode::Any => "",
            ExpiryMode::ExtendOnly => " AND expiry < ?1",
            ExpiryMode::ShortenOnly => " AND expiry > ?1",
        };
        let tx = self.conn.transaction()?;
        let mut out = Vec::new();
        {
            let mut stmt = tx.prepare(&format!(
                "UPDATE messages SET expiry = ?1 WHERE hash = ?2 AND owner = ?3{constraint}"
            ))?;
            for (i, hash) in hashes.iter().enumerate() {
                let Some(&expiry) = expiries.get(i).or_else(|| expiries.first()) else {
                    continue;
                };
                if stmt.execute(params![expiry, hash, &owner[..]])? > 0 {
                    out.push((hash.clone(), expiry));
                }
            }
        }
        tx.commit()?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Lowers to `expiry_ms` every expiry of `owner` (in `namespace` or all) that is later than
    /// it (upstream `expire_all`); returns `(namespace, hash)` of the messages changed, sorted by
    /// hash.
    ///
    /// ```
    /// use metaless_node::storage::{NewMessage, Storage};
    /// let mut db = Storage::open_in_memory().unwrap();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 100, data: vec![], replace_namespace: false }).unwrap();
    /// assert_eq!(db.update_all_expiries(&[5; 33], None, 50).unwrap().len(), 1);
    /// assert!(db.update_all_expiries(&[5; 33], None, 70).unwrap().is_empty());
    /// ```
    pub fn update_all_expiries(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        expiry_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        let mut out = match namespace {
            Some(ns) => {
                let mut stmt = self.conn.prepare_cached(
                    "UPDATE messages SET expiry = ?1 WHERE expiry > ?1 AND owner = ?2 AND namespace = ?3 \
                     RETURNING namespace, hash",
                )?;
                stmt.query_map(params![expiry_ms, &owner[..], ns], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = self.conn.prepare_cached(
                    "UPDATE messages SET expiry = ?1 WHERE expiry > ?1 AND owner = ?2 RETURNING namespace, hash",
                )?;
                stmt.query_map(params![expiry_ms, &owner[..]], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
            }
        };
        out.sort_by(|a: &(i16, String), b| a.1.cmp(&b.1));
        Ok(out)
    }

    /// Current expiries of the named messages of `owner` that exist.
    ///
    /// ```
    /// use metaless_node::storage::{NewMessage, Storage};
    /// let mut db = Storage::open_in_memory().unwrap();
    /// db.store(&NewMessage { owner: [5; 33], namespace: 0, hash: "x".into(), timestamp_ms: 0,
    ///     expiry_ms: 100, data: vec![], replace_namespace: false }).unwrap();
    /// let e = db.get_expiries(&[5; 33], &["x".into(), "nope".into()]).unwrap();
    /// assert_eq!(e.get("x"), Some(&100));
    /// assert_eq!(e.len(), 1);
    /// ```
    pub fn get_expiries(
        &self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<BTreeMap<String, i64>, NodeError> {
        let mut out = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT expiry FROM messages WHERE hash = ?1 AND owner = ?2")?;
        for hash in hashes {
            if let Some(expiry) = stmt
                .query_row(params![hash, &owner[..]], |r| r.get::<_, i64>(0))
                .optional()?
            {
                out.insert(hash.clone(), expiry);
            }
        }
        Ok(out)
    }

    /// Deletes every message whose expiry is ≤ `now_ms`; returns how many went.
    ///
    /// ```
    /// let mut db = metaless_node::storage::Storage::open_in_memory().unwrap();
    /// assert_eq!(db.sweep_expired(0).unwrap(), 0);
    /// ```
    pub fn sweep_expired(&mut self, now_ms: i64) -> Result<usize, NodeError> {
        Ok(self
            .conn
            .execute("DELETE FROM messages WHERE expiry <= ?1", params![now_ms])?)
    }

    /// Number of messages held (expired or not).
    ///
    /// ```
    /// let db = metaless_node::storage::Storage::open_in_memory().unwrap();
    /// assert_eq!(db.count().unwrap(), 0);
    /// ```
    pub fn count(&self) -> Result<usize, NodeError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
