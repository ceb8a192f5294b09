//! Per-node message storage on SQLite: [`SqliteStorage`], metaless-node's
//! [`Storage`] trait on one database file per node.
//!
//! One table, `messages`, keyed by the network's message hash (unique across the node, as
//! upstream). Every write is one transaction; the database runs in WAL mode with
//! `synchronous = NORMAL` by default, which survives a killed or crashed process (an
//! acknowledged store is in the WAL file before the reply leaves), and `FULL` on request for
//! power-loss durability at the cost of one fsync per write. Time is passed in (`now_ms`), never
//! read from a clock, so expiry is testable with virtual time. The semantics are the trait's,
//! shared with [`MemoryStorage`](metaless_node::storage::MemoryStorage); the storage tests run
//! against both.
//!
//! ```
//! use metaless_node::storage::{NewMessage, Storage, StoreOutcome};
//! use metaless_node_server::storage::SqliteStorage;
//!
//! let mut db = SqliteStorage::open_in_memory().unwrap();
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
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{
    Connection, OptionalExtension, TransactionBehavior, params, params_from_iter, types::Value,
};

use metaless_node::NodeError;
use metaless_node::limits::MAX_HASHES_PER_REQUEST;
use metaless_node::replication::{RETRY_LEASE_MS, Retry};
use metaless_node::storage::{
    ExpiryMode, HashState, NewMessage, OWNER_LEN, Storage, StoreOutcome, StoredMessage, SyncEntry,
    SyncMessage, merge_listing, page,
};
use metaless_swarm::SUBACCOUNT_TOKEN_LEN;
use metaless_swarm::limits::MAX_SUBACCOUNT_TOKENS;

/// The database size cap a testnet node gets unless configured otherwise: 3.5 GB (the
/// figure of upstream's oxen-storage-server; session-storage-server later raised its
/// `Database::SIZE_LIMIT` to 10 GiB).
pub const DEFAULT_SIZE_LIMIT: u64 = 3_500_000_000;

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

impl Durability {
    /// The `synchronous` setting it stands for.
    fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
        }
    }
}

/// One node's SQLite message store: one writer connection (every change, one transaction each)
/// and, for a database file, a small pool of read-only connections that the trait's `&self`
/// methods (retrieve, expiries, listings, counts) run on, so reads on several threads need
/// neither the writer nor each other (WAL: a reader sees every commit made before it started).
/// `Send + Sync`: the node core shares it between its threads (`docs/node.md`, "Node on every
/// core").
///
/// A database file's WAL is checkpointed on a thread of the storage's own (a `PASSIVE` pass
/// and a short `RESTART` every 1,500 writes), never inside a write, so a store never waits
/// for a checkpoint's page copy or fsyncs; the thread ends when the storage is dropped.
#[derive(Debug)]
pub struct SqliteStorage {
    /// The writer; reads use it too for an in-memory database (no second connection sees it).
    conn: Mutex<Connection>,
    readers: Readers,
    /// WAL checkpoints on their own thread (none for an in-memory database).
    checkpointer: Option<Checkpointer>,
}

/// Checkpoints the WAL into the database file on a thread of its own, with its own
/// connection. SQLite's automatic checkpoint runs inside the commit that crosses the
/// threshold, so that store's thread — a tokio worker of the node — copied the pages and
/// waited for two fsyncs while its requests queued (testnet_load: 1.65 of 2 cores busy, p99
/// 60 ms; without checkpoints 1.82, 17 ms).
#[derive(Debug)]
struct Checkpointer {
    /// Writes since the last nudge.
    writes: u64,
    /// Nudges after every this many writes.
    every: u64,
    /// A nudge; a full buffer means one is already pending, which is as good.
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// `every`: writes between two checkpoints.
    fn start(path: &Path, durability: Durability, every: u64) -> Result<Self, NodeError> {
        let conn = Connection::open(path).map_err(db)?;
        // The checkpoint's fsyncs follow this connection's setting, as the writer's would.
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {}; PRAGMA wal_autocheckpoint = 0;",
            durability.pragma()
        ))
        .map_err(db)?;
        conn.busy_handler(Some(busy_wait)).map_err(db)?;
        let (nudge, nudges) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while nudges.recv().is_ok() {
                    checkpoint(&conn);
                }
            })?;
        Ok(Self {
            writes: 0,
            every: every.max(1),
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    fn wrote(&mut self) {
        self.writes += 1;
        if self.writes >= self.every {
            self.writes = 0;
            if let Some(nudge) = &self.nudge {
                let _ = nudge.try_send(());
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the thread after the checkpoint it may be in.
        self.nudge = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One checkpoint. A `PASSIVE` pass copies the WAL, as it was when the pass began, without
/// holding anyone back; then a `RESTART` copies what the commits made during the pass added
/// and has the next write start the WAL over, holding the writer back for that short while
/// (a few frames and the fsyncs). Passive passes alone never catch up with a steady writer —
/// the WAL starts over only when a write begins with every frame copied — so its WAL would
/// grow without bound.
fn checkpoint(conn: &Connection) {
    for mode in ["PASSIVE", "RESTART"] {
        if let Err(e) = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(())) {
            tracing::warn!("WAL checkpoint ({mode}) failed: {e}");
            return;
        }
    }
}

/// How long a connection waits on a lock held by another (the checkpointer's `RESTART`
/// holds the writer back; it waits for the writer's transaction and for readers): short
/// sleeps first, since the waits are usually a fraction of a millisecond and SQLite's own
/// handler sleeps 1, 2, 5, 10 ms…, then 1 ms steps up to about 15 s.
fn busy_wait(tries: i32) -> bool {
    const SHORT: i32 = 100;
    let short = Duration::from_micros(50);
    match tries {
        ..SHORT => std::thread::sleep(short),
        SHORT..15_100 => std::thread::sleep(Duration::from_millis(1)),
        _ => return false,
    }
    true
}

/// Most idle read connections kept (more are opened under load and closed after use).
const MAX_IDLE_READERS: usize = 4;

/// Read-only connections to the database file (none for an in-memory database).
#[derive(Debug)]
struct Readers {
    path: Option<PathBuf>,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// An idle reader, or a new one; `None` for an in-memory database or when opening fails
    /// (the caller then reads on the writer).
    fn take(&self) -> Option<Connection> {
        let path = self.path.as_ref()?;
        if let Some(c) = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
        {
            return Some(c);
        }
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
            | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).ok()?;
        conn.busy_timeout(std::time::Duration::from_secs(15)).ok()?;
        Some(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
    }
}

/// A SQLite failure as the node reports storage failures.
fn db(e: rusqlite::Error) -> NodeError {
    NodeError::storage(e)
}

/// Writes between two nudges of the background checkpointer (about 5.4 WAL pages a store: a
/// WAL of ~32 MiB at 4 KiB pages). Stores rewrite the same few index leaves again and again,
/// and a checkpoint copies each page once however often the WAL holds it, so a longer interval
/// costs less per store (node bench `sqlite_store_wal_normal_file`: ~55-61 µs per store with
/// SQLite's 1,000-page automatic checkpoint, ~46-52 µs at 8,000).
const CHECKPOINT_EVERY_WRITES: u64 = 1_500;

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
CREATE TABLE IF NOT EXISTS retries (
    id INTEGER PRIMARY KEY,
    peer BLOB NOT NULL,
    body BLOB NOT NULL,
    expiry INTEGER NOT NULL,
    next INTEGER NOT NULL,
    attempts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS retries_next ON retries(next);
-- Revoked 03-group sub-account tokens per owner; the newest MAX_SUBACCOUNT_TOKENS are kept
-- (by time, then by insertion: seq).
CREATE TABLE IF NOT EXISTS revoked_subaccounts (
    owner BLOB NOT NULL,
    token BLOB NOT NULL,
    timestamp INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (owner, token)
);
CREATE TABLE IF NOT EXISTS tombstones (
    hash TEXT PRIMARY KEY,
    expiry INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tombstones_expiry ON tombstones(expiry);
CREATE TRIGGER IF NOT EXISTS messages_tombstone AFTER DELETE ON messages BEGIN
    INSERT INTO tombstones (hash, expiry) VALUES (old.hash, old.expiry)
        ON CONFLICT(hash) DO UPDATE SET expiry = max(expiry, excluded.expiry);
END;
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

impl SqliteStorage {
    /// Opens (creating if needed) `dir/storage.db` with the given durability.
    ///
    /// ```
    /// use metaless_node::storage::Storage;
    /// use metaless_node_server::storage::{Durability, SqliteStorage};
    /// let dir = tempfile::tempdir().unwrap();
    /// let db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
    /// assert_eq!(db.count().unwrap(), 0);
    /// ```
    pub fn open(dir: &Path, durability: Durability) -> Result<Self, NodeError> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("storage.db");
        let conn = Connection::open(&path).map_err(db)?;
        let mut storage = Self::init(conn, durability, Some(path.clone())).map_err(db)?;
        storage.checkpointer = Some(Checkpointer::start(
            &path,
            durability,
            CHECKPOINT_EVERY_WRITES,
        )?);
        Ok(storage)
    }

    /// The writer, for the `&mut self` methods (no lock taken: `&mut` is exclusive already).
    /// Every write comes through here, so this is where the checkpointer counts them.
    fn w(&mut self) -> &mut Connection {
        if let Some(c) = &mut self.checkpointer {
            c.wrote();
        }
        self.conn.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// A write transaction holding the write lock from its start. A deferred one that reads
    /// first would, on meeting the checkpointer's `RESTART` at its first write, fail at once
    /// with `SQLITE_BUSY` (SQLite calls no busy handler for a reader turning writer: that
    /// could deadlock); an immediate one waits at `BEGIN` like any other lock.
    fn write_tx(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        self.w()
            .transaction_with_behavior(TransactionBehavior::Immediate)
    }

    /// Runs a read on a pooled read-only connection (or on the writer for an in-memory
    /// database).
    fn read<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        if let Some(conn) = self.readers.take() {
            let out = f(&conn);
            self.readers.give_back(conn);
            return out;
        }
        f(&self.conn.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Caps the database file at `bytes` (SQLite `max_page_count`; [`DEFAULT_SIZE_LIMIT`]
    /// unless set otherwise by the testnet). A store past it fails as upstream's does when its
    /// database is full: the member's entry is `{"failed":true,"query_failure":true}`.
    /// Returns the cap in bytes as SQLite rounded it (whole pages; never below the pages in
    /// use).
    ///
    /// ```
    /// use metaless_node::storage::{NewMessage, Storage};
    /// let mut db = metaless_node_server::storage::SqliteStorage::open_in_memory().unwrap();
    /// assert!(db.set_size_limit(64 * 1024).unwrap() <= 64 * 1024);
    /// let big = |i: u32| NewMessage { owner: [5; 33], namespace: 0, hash: format!("h{i}"),
    ///     timestamp_ms: 0, expiry_ms: 9, data: vec![0; 8_000], replace_namespace: false };
    /// assert!((0..100).any(|i| db.store(&big(i)).is_err())); // full
    /// ```
    pub fn set_size_limit(&mut self, bytes: u64) -> Result<u64, NodeError> {
        let page: i64 = self
            .w()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(db)?;
        let page = u64::try_from(page).unwrap_or(4096).max(512);
        let pages = (bytes / page).max(1);
        let set: i64 = self
            .w()
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        Ok(u64::try_from(set).unwrap_or(0).saturating_mul(page))
    }

    /// An in-memory SQLite database (tests): nothing survives the value.
    ///
    /// ```
    /// use metaless_node::storage::Storage;
    /// let db = metaless_node_server::storage::SqliteStorage::open_in_memory().unwrap();
    /// assert_eq!(db.count().unwrap(), 0);
    /// ```
    pub fn open_in_memory() -> Result<Self, NodeError> {
        let conn = Connection::open_in_memory().map_err(db)?;
        Self::init(conn, Durability::Normal, None).map_err(db)
    }

    fn init(
        conn: Connection,
        durability: Durability,
        path: Option<PathBuf>,
    ) -> rusqlite::Result<Self> {
        // journal_mode returns a row, so it is read rather than executed.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        let sync = durability.pragma();
        // A file's WAL is checkpointed by the background thread, never inside a commit.
        let auto = if path.is_some() { 0 } else { 1_000 };
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {sync}; PRAGMA wal_autocheckpoint = {auto};"
        ))?;
        conn.busy_handler(Some(busy_wait))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
            readers: Readers {
                path,
                idle: Mutex::new(Vec::new()),
            },
            checkpointer: None,
        })
    }

    /// `keep_deleted`: a peer's replay, refused (nothing written) when the hash has a
    /// tombstone and is not held ([`Storage::store_unless_deleted`]).
    fn store_sql(
        &mut self,
        msg: &NewMessage,
        keep_deleted: bool,
    ) -> rusqlite::Result<(StoreOutcome, i64)> {
        let tx = self.write_tx()?;
        if keep_deleted
            && let Some(expiry) = tx
                .prepare_cached(
                    "SELECT expiry FROM tombstones WHERE hash = ?1 \
                     AND NOT EXISTS (SELECT 1 FROM messages WHERE hash = ?1)",
                )?
                .query_row(params![msg.hash], |r| r.get::<_, i64>(0))
                .optional()?
        {
            return Ok((StoreOutcome::Deleted, expiry));
        }
        if msg.replace_namespace {
            tx.prepare_cached(
                "DELETE FROM messages WHERE owner = ?1 AND namespace = ?2 AND hash != ?3",
            )?
            .execute(params![&msg.owner[..], msg.namespace, msg.hash])?;
        }
        let existing: Option<(i64, i64)> = tx
            .prepare_cached("SELECT id, expiry FROM messages WHERE hash = ?1")?
            .query_row(params![msg.hash], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let result = match existing {
            Some((id, expiry)) if expiry < msg.expiry_ms => {
                tx.prepare_cached("UPDATE messages SET expiry = ?1 WHERE id = ?2")?
                    .execute(params![msg.expiry_ms, id])?;
                (StoreOutcome::Extended, msg.expiry_ms)
            }
            Some((_, expiry)) => (StoreOutcome::Exists, expiry),
            None => {
                // A client storing a deleted hash again means it.
                tx.prepare_cached("DELETE FROM tombstones WHERE hash = ?1")?
                    .execute(params![msg.hash])?;
                tx.prepare_cached(
                    "INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    msg.hash,
                    &msg.owner[..],
                    msg.namespace,
                    msg.timestamp_ms,
                    msg.expiry_ms,
                    msg.data
                ])?;
                (StoreOutcome::New, msg.expiry_ms)
            }
        };
        tx.commit()?;
        Ok(result)
    }

    fn retrieve_sql(
        &self,
        owner: &[u8; OWNER_LEN],
        namespace: i16,
        last_hash: Option<&str>,
        max_count: Option<usize>,
        max_size: Option<usize>,
        now_ms: i64,
    ) -> rusqlite::Result<(Vec<StoredMessage>, bool)> {
        self.read(|conn| {
            let last_id: Option<i64> = match last_hash.filter(|h| !h.is_empty()) {
                Some(h) => conn
                    .query_row(
                        "SELECT id FROM messages WHERE owner = ?1 AND namespace = ?2 AND hash = ?3",
                        params![&owner[..], namespace, h],
                        |r| r.get(0),
                    )
                    .optional()?,
                None => None,
            };
            // One row past the page tells whether more remain.
            let limit: i64 = max_count
                .map(|c| c.max(1))
                .map_or(-1, |c| i64::try_from(c).unwrap_or(i64::MAX - 1) + 1);
            let mut stmt = conn.prepare_cached(
                "SELECT hash, namespace, timestamp, expiry, data FROM messages \
             WHERE owner = ?1 AND namespace = ?2 AND id > ?3 AND expiry > ?4 ORDER BY id LIMIT ?5",
            )?;
            let rows = stmt.query_map(
                params![&owner[..], namespace, last_id.unwrap_or(0), now_ms, limit],
                |row| {
                    Ok(StoredMessage {
                        hash: row.get(0)?,
                        namespace: row.get(1)?,
                        timestamp_ms: row.get(2)?,
                        expiry_ms: row.get(3)?,
                        data: row.get(4)?,
                    })
                },
            )?;
            page(rows, max_count, max_size)
        })
    }

    fn delete_by_hash_sql(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> rusqlite::Result<Vec<String>> {
        let tx = self.write_tx()?;
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

    fn delete_all_sql(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
    ) -> rusqlite::Result<Vec<(i16, String)>> {
        let mut out = match namespace {
            Some(ns) => {
                let mut stmt = self
                    .w()
                    .prepare_cached("DELETE FROM messages WHERE owner = ?1 AND namespace = ?2 RETURNING namespace, hash")?;
                stmt.query_map(params![&owner[..], ns], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = self.w().prepare_cached(
                    "DELETE FROM messages WHERE owner = ?1 RETURNING namespace, hash",
                )?;
                stmt.query_map(params![&owner[..]], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        out.sort_by(|a: &(i16, String), b| a.1.cmp(&b.1));
        Ok(out)
    }

    fn delete_before_sql(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        before_ms: i64,
    ) -> rusqlite::Result<Vec<(i16, String)>> {
        let mut out = match namespace {
            Some(ns) => {
                let mut stmt = self.w().prepare_cached(
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
                    .w()
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

    fn update_expiry_sql(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
        expiries: &[i64],
        mode: ExpiryMode,
    ) -> rusqlite::Result<Vec<(String, i64)>> {
        if expiries.len() != 1 && expiries.len() != hashes.len() {
            return Ok(Vec::new());
        }
        // The SQL form of `ExpiryMode::allows`.
        let constraint = match mode {
            ExpiryMode::ExtendOnly => " AND expiry < ?1",
            ExpiryMode::ShortenOnly => " AND expiry > ?1",
            _ => "",
        };
        let tx = self.write_tx()?;
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

    fn update_all_expiries_sql(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        expiry_ms: i64,
    ) -> rusqlite::Result<Vec<(i16, String)>> {
        let mut out = match namespace {
            Some(ns) => {
                let mut stmt = self.w().prepare_cached(
                    "UPDATE messages SET expiry = ?1 WHERE expiry > ?1 AND owner = ?2 AND namespace = ?3 \
                     RETURNING namespace, hash",
                )?;
                stmt.query_map(params![expiry_ms, &owner[..], ns], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = self.w().prepare_cached(
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

    fn get_expiries_sql(
        &self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> rusqlite::Result<BTreeMap<String, i64>> {
        self.read(|conn| {
            let mut out = BTreeMap::new();
            let mut stmt =
                conn.prepare_cached("SELECT expiry FROM messages WHERE hash = ?1 AND owner = ?2")?;
            for hash in hashes {
                if let Some(expiry) = stmt
                    .query_row(params![hash, &owner[..]], |r| r.get::<_, i64>(0))
                    .optional()?
                {
                    out.insert(hash.clone(), expiry);
                }
            }
            Ok(out)
        })
    }
}

/// The SQL statements above, reported as the node reports storage failures.
impl Storage for SqliteStorage {
    fn store(&mut self, msg: &NewMessage) -> Result<(StoreOutcome, i64), NodeError> {
        self.store_sql(msg, false).map_err(db)
    }

    fn store_unless_deleted(&mut self, msg: &NewMessage) -> Result<(StoreOutcome, i64), NodeError> {
        self.store_sql(msg, true).map_err(db)
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
        self.retrieve_sql(owner, namespace, last_hash, max_count, max_size, now_ms)
            .map_err(db)
    }

    fn delete_by_hash(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<Vec<String>, NodeError> {
        self.delete_by_hash_sql(owner, hashes).map_err(db)
    }

    fn delete_all(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        self.delete_all_sql(owner, namespace).map_err(db)
    }

    fn delete_before(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        before_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        self.delete_before_sql(owner, namespace, before_ms)
            .map_err(db)
    }

    fn update_expiry(
        &mut self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
        expiries: &[i64],
        mode: ExpiryMode,
    ) -> Result<Vec<(String, i64)>, NodeError> {
        self.update_expiry_sql(owner, hashes, expiries, mode)
            .map_err(db)
    }

    fn update_all_expiries(
        &mut self,
        owner: &[u8; OWNER_LEN],
        namespace: Option<i16>,
        expiry_ms: i64,
    ) -> Result<Vec<(i16, String)>, NodeError> {
        self.update_all_expiries_sql(owner, namespace, expiry_ms)
            .map_err(db)
    }

    fn get_expiries(
        &self,
        owner: &[u8; OWNER_LEN],
        hashes: &[String],
    ) -> Result<BTreeMap<String, i64>, NodeError> {
        self.get_expiries_sql(owner, hashes).map_err(db)
    }

    fn sweep_expired(&mut self, now_ms: i64) -> Result<usize, NodeError> {
        let tx = self.write_tx().map_err(db)?;
        let n = tx
            .execute("DELETE FROM messages WHERE expiry <= ?1", params![now_ms])
            .map_err(db)?;
        // The trigger made tombstones of the expired rows too; they go with the old ones.
        tx.execute("DELETE FROM tombstones WHERE expiry <= ?1", params![now_ms])
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(n)
    }

    fn push_retry(&mut self, retry: &Retry) -> Result<(), NodeError> {
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.w()
            .prepare_cached("INSERT INTO retries (peer, body, expiry, next, attempts) VALUES (?1, ?2, ?3, ?4, ?5)")
            .and_then(|mut st| st.execute(params![
                    retry.to.as_slice(),
                    retry.body,
                    i(retry.expiry_ms),
                    i(retry.next_ms),
                    retry.attempts
                ]))
            .map_err(db)?;
        Ok(())
    }

    fn take_due_retries(&mut self, now_ms: u64, limit: usize) -> Result<Vec<Retry>, NodeError> {
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let tx = self.write_tx().map_err(db)?;
        let rows = {
            let mut stmt = tx
                .prepare(
                    "SELECT id, peer, body, expiry, next, attempts FROM retries \
                     WHERE next <= ?1 ORDER BY next, id LIMIT ?2",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![now, limit], |r| {
                    let peer: Vec<u8> = r.get(1)?;
                    let u = |v: i64| u64::try_from(v).unwrap_or(0);
                    let id = r.get::<_, i64>(0)?;
                    Ok((
                        id,
                        Retry {
                            id: u64::try_from(id).unwrap_or(0),
                            to: <[u8; 32]>::try_from(peer.as_slice()).unwrap_or_default(),
                            body: r.get(2)?,
                            expiry_ms: u(r.get(3)?),
                            next_ms: u(r.get(4)?),
                            attempts: r.get(5)?,
                        },
                    ))
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)?
        };
        // Leased, not deleted: a crash before retry_done/retry_again loses nothing.
        let lease = now.saturating_add(i64::try_from(RETRY_LEASE_MS).unwrap_or(i64::MAX));
        for (id, _) in &rows {
            tx.execute(
                "UPDATE retries SET next = ?1 WHERE id = ?2",
                params![lease, id],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }

    fn retry_done(&mut self, id: u64) -> Result<(), NodeError> {
        let id = i64::try_from(id).unwrap_or(i64::MAX);
        self.w()
            .prepare_cached("DELETE FROM retries WHERE id = ?1")
            .and_then(|mut st| st.execute(params![id]))
            .map_err(db)?;
        Ok(())
    }

    fn retry_again(&mut self, id: u64, next_ms: u64, attempts: u32) -> Result<(), NodeError> {
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.w()
            .prepare_cached("UPDATE retries SET next = ?1, attempts = ?2 WHERE id = ?3")
            .and_then(|mut st| st.execute(params![i(next_ms), attempts, i(id)]))
            .map_err(db)?;
        Ok(())
    }

    fn sync_list(
        &self,
        after: &str,
        limit: usize,
        now_ms: i64,
    ) -> Result<(Vec<SyncEntry>, bool), NodeError> {
        self.read(|conn| {
            let take = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
            let list = |sql: &str, deleted: bool| -> rusqlite::Result<Vec<SyncEntry>> {
                let mut stmt = conn.prepare_cached(sql)?;
                stmt.query_map(params![after, now_ms, take], |r| {
                    Ok(SyncEntry {
                        hash: r.get(0)?,
                        expiry_ms: r.get(1)?,
                        deleted,
                    })
                })?
                .collect()
            };
            let held = list(
                "SELECT hash, expiry FROM messages WHERE hash > ?1 AND expiry > ?2 \
             ORDER BY hash LIMIT ?3",
                false,
            )
            .map_err(db)?;
            let deleted = list(
                "SELECT hash, expiry FROM tombstones WHERE hash > ?1 AND expiry > ?2 \
             ORDER BY hash LIMIT ?3",
                true,
            )
            .map_err(db)?;
            Ok(merge_listing(held, deleted, limit))
        })
    }

    fn sync_get(&self, hashes: &[String], now_ms: i64) -> Result<Vec<SyncMessage>, NodeError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT owner, namespace, timestamp, expiry, data FROM messages \
                 WHERE hash = ?1 AND expiry > ?2",
                )
                .map_err(db)?;
            let mut out = Vec::new();
            for h in hashes {
                let row = stmt
                    .query_row(params![h, now_ms], |r| {
                        let owner: Vec<u8> = r.get(0)?;
                        Ok(SyncMessage {
                            owner: <[u8; OWNER_LEN]>::try_from(owner.as_slice())
                                .unwrap_or([0; OWNER_LEN]),
                            message: StoredMessage {
                                hash: h.clone(),
                                namespace: r.get(1)?,
                                timestamp_ms: r.get(2)?,
                                expiry_ms: r.get(3)?,
                                data: r.get(4)?,
                            },
                        })
                    })
                    .optional()
                    .map_err(db)?;
                out.extend(row);
            }
            Ok(out)
        })
    }

    fn hash_states(&self, hashes: &[String]) -> Result<BTreeMap<String, HashState>, NodeError> {
        self.read(|conn| {
            let mut held = conn
                .prepare_cached("SELECT owner, expiry FROM messages WHERE hash = ?1")
                .map_err(db)?;
            let mut gone = conn
                .prepare_cached("SELECT expiry FROM tombstones WHERE hash = ?1")
                .map_err(db)?;
            let mut out = BTreeMap::new();
            for h in hashes {
                let row: Option<(Vec<u8>, i64)> = held
                    .query_row(params![h], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(db)?;
                if let Some((owner, expiry_ms)) = row {
                    let owner =
                        <[u8; OWNER_LEN]>::try_from(owner.as_slice()).unwrap_or([0; OWNER_LEN]);
                    out.insert(h.clone(), HashState::Held { owner, expiry_ms });
                } else if let Some(expiry_ms) = gone
                    .query_row(params![h], |r| r.get::<_, i64>(0))
                    .optional()
                    .map_err(db)?
                {
                    out.insert(h.clone(), HashState::Deleted { expiry_ms });
                }
            }
            Ok(out)
        })
    }

    fn sync_put(&mut self, msg: &SyncMessage) -> Result<bool, NodeError> {
        let m = &msg.message;
        let n = self
            .w()
            .execute(
                "INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
                 WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE hash = ?1) \
                 ON CONFLICT(hash) DO NOTHING",
                params![
                    m.hash,
                    &msg.owner[..],
                    m.namespace,
                    m.timestamp_ms,
                    m.expiry_ms,
                    m.data
                ],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    fn sync_delete(&mut self, hash: &str, expiry_ms: i64) -> Result<bool, NodeError> {
        let tx = self.write_tx().map_err(db)?;
        // The trigger leaves the tombstone of a held copy.
        let n = tx
            .execute("DELETE FROM messages WHERE hash = ?1", params![hash])
            .map_err(db)?;
        tx.execute(
            "INSERT INTO tombstones (hash, expiry) VALUES (?1, ?2) \
             ON CONFLICT(hash) DO UPDATE SET expiry = max(expiry, excluded.expiry)",
            params![hash, expiry_ms],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(n == 1)
    }

    fn count(&self) -> Result<usize, NodeError> {
        self.read(|conn| {
            let n: i64 = conn
                .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
                .map_err(db)?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
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
        let tx = self.write_tx().map_err(db)?;
        let keep = i64::try_from(MAX_SUBACCOUNT_TOKENS).unwrap_or(i64::MAX);
        // One scan for the counter, then counted up here: seq only orders insertions.
        let mut seq: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM revoked_subaccounts",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        for token in tokens {
            seq += 1;
            let listed = tx
                .query_row(
                    "SELECT timestamp FROM revoked_subaccounts WHERE owner = ?1 AND token = ?2",
                    params![&owner[..], &token[..]],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
                .map_err(db)?;
            match listed {
                // Already listed: keeps the later time (and then counts as the newest).
                Some(at) => {
                    if at < now_ms {
                        tx.execute(
                            "UPDATE revoked_subaccounts SET timestamp = ?3, seq = ?4 \
                             WHERE owner = ?1 AND token = ?2",
                            params![&owner[..], &token[..], now_ms, seq],
                        )
                        .map_err(db)?;
                    }
                }
                None => {
                    tx.execute(
                        "INSERT INTO revoked_subaccounts (owner, token, timestamp, seq) \
                         VALUES (?1, ?2, ?3, ?4)",
                        params![&owner[..], &token[..], now_ms, seq],
                    )
                    .map_err(db)?;
                    // Upstream's autoclean trigger: after an insert only the newest stay.
                    tx.execute(
                        "DELETE FROM revoked_subaccounts WHERE owner = ?1 AND token NOT IN \
                         (SELECT token FROM revoked_subaccounts WHERE owner = ?1 \
                          ORDER BY timestamp DESC, seq DESC LIMIT ?2)",
                        params![&owner[..], keep],
                    )
                    .map_err(db)?;
                }
            }
        }
        tx.commit().map_err(db)
    }

    fn unrevoke_subaccounts(
        &mut self,
        owner: &[u8; OWNER_LEN],
        tokens: &[[u8; SUBACCOUNT_TOKEN_LEN]],
    ) -> Result<usize, NodeError> {
        let tx = self.write_tx().map_err(db)?;
        let mut removed = 0;
        for token in tokens {
            removed += tx
                .execute(
                    "DELETE FROM revoked_subaccounts WHERE owner = ?1 AND token = ?2",
                    params![&owner[..], &token[..]],
                )
                .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(removed)
    }

    fn revoked_subaccounts(
        &self,
        owner: &[u8; OWNER_LEN],
    ) -> Result<Vec<[u8; SUBACCOUNT_TOKEN_LEN]>, NodeError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT token FROM revoked_subaccounts WHERE owner = ?1 ORDER BY token",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![&owner[..]], |r| r.get::<_, Vec<u8>>(0))
                .map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                // The table only ever holds full tokens; anything else is skipped, not trusted.
                if let Ok(token) =
                    <[u8; SUBACCOUNT_TOKEN_LEN]>::try_from(row.map_err(db)?.as_slice())
                {
                    out.push(token);
                }
            }
            Ok(out)
        })
    }

    fn subaccount_revoked(
        &self,
        owner: &[u8; OWNER_LEN],
        token: &[u8; SUBACCOUNT_TOKEN_LEN],
    ) -> Result<bool, NodeError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT 1 FROM revoked_subaccounts WHERE owner = ?1 AND token = ?2",
                params![&owner[..], &token[..]],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(db)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Reads of a database file go to read-only connections (kept idle afterwards, at most
    /// `MAX_IDLE_READERS`), not to the writer; an in-memory database has none.
    #[test]
    fn file_reads_use_the_pool_and_memory_reads_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
        assert_eq!(db.count().unwrap(), 0);
        assert_eq!(db.readers.idle.lock().unwrap().len(), 1);
        let held: Vec<Connection> = (0..MAX_IDLE_READERS + 2)
            .map(|_| db.readers.take().unwrap())
            .collect();
        assert!(held.iter().all(Connection::is_readonly_main));
        for c in held {
            db.readers.give_back(c);
        }
        assert_eq!(db.readers.idle.lock().unwrap().len(), MAX_IDLE_READERS);
        let mem = SqliteStorage::open_in_memory().unwrap();
        assert!(mem.readers.take().is_none());
        assert_eq!(mem.count().unwrap(), 0);
    }

    /// A file database's WAL is checkpointed by the background thread — the writer never
    /// checkpoints (the database file grows only by the checkpointer) — and starts over,
    /// even under a writer with no quiet moment (4,000 writes/s, the pace of a busy node,
    /// which passive passes alone never catch up with: the `RESTART` does it), without the
    /// writer ever meeting a `SQLITE_BUSY`; everything written is there after a reopen.
    #[test]
    fn the_wal_is_checkpointed_in_the_background_and_starts_over() {
        const EVERY: u64 = 100;
        const WRITES: usize = 3_000;
        let dir = tempfile::tempdir().unwrap();
        let mut db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
        let path = dir.path().join("storage.db");
        db.checkpointer = Some(Checkpointer::start(&path, Durability::Normal, EVERY).unwrap());
        let len = |name: &str| std::fs::metadata(dir.path().join(name)).map_or(0, |m| m.len());
        let mut after_one_interval = 0;
        for n in 0..WRITES {
            let msg = NewMessage {
                owner: [5; 33],
                namespace: (n % 4) as i16,
                hash: format!("h{n}"),
                timestamp_ms: 1_000,
                expiry_ms: 1_000_000,
                data: vec![n as u8; 1_000],
                replace_namespace: false,
            };
            assert_eq!(db.store(&msg).unwrap().0, StoreOutcome::New, "write {n}");
            std::thread::sleep(Duration::from_micros(200));
            if n + 1 == EVERY as usize {
                after_one_interval = len("storage.db-wal");
            }
        }
        // Without restarts the WAL would hold all 30 intervals.
        let wal = len("storage.db-wal");
        assert!(
            wal < 5 * after_one_interval,
            "WAL {wal} bytes after {WRITES} writes, {after_one_interval} after {EVERY}: it never started over"
        );
        // At least the data of all but the last few intervals is in the database file.
        assert!(
            len("storage.db") > (WRITES as u64 - 5 * EVERY) * 1_000,
            "database file {} bytes: not checkpointed",
            len("storage.db")
        );
        drop(db);
        let again = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
        assert_eq!(again.count().unwrap(), WRITES);
    }

    trait ReadOnly {
        fn is_readonly_main(&self) -> bool;
    }
    impl ReadOnly for Connection {
        fn is_readonly_main(&self) -> bool {
            self.is_readonly(rusqlite::MAIN_DB).unwrap_or(false)
        }
    }
}
