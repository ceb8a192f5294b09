//! [`SqliteStore`]: the server's rows in one SQLite file (rooms and their permissions, posts
//! and reactions, files, request nonces, bans, blinded DMs, id counters).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use metaless_identity::SessionId;
use rusqlite::{Connection, OptionalExtension, params};

use crate::core::Perms;
use crate::store::{Counter, DmRow, FileRow, MessageQuery, PostRow, RoomRow, Store, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rooms (
    token TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, created REAL NOT NULL,
    info_updates INTEGER NOT NULL, seq INTEGER NOT NULL,
    read INTEGER NOT NULL, write INTEGER NOT NULL, upload INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS room_perms (
    room TEXT NOT NULL, user TEXT NOT NULL,
    read INTEGER NOT NULL, write INTEGER NOT NULL, upload INTEGER NOT NULL,
    PRIMARY KEY (room, user));
CREATE TABLE IF NOT EXISTS room_mods (room TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (room, user));
CREATE TABLE IF NOT EXISTS messages (
    room TEXT NOT NULL, id INTEGER NOT NULL, author TEXT NOT NULL, posted REAL NOT NULL,
    edited REAL, seqno INTEGER NOT NULL, data BLOB, signature BLOB, PRIMARY KEY (room, id));
CREATE INDEX IF NOT EXISTS messages_seqno ON messages (room, seqno);
CREATE TABLE IF NOT EXISTS reactions (
    room TEXT NOT NULL, message INTEGER NOT NULL, emoji TEXT NOT NULL, ord INTEGER NOT NULL,
    user TEXT NOT NULL, PRIMARY KEY (room, message, emoji, user));
CREATE TABLE IF NOT EXISTS nonces (user TEXT NOT NULL, nonce BLOB NOT NULL, seen REAL NOT NULL,
    PRIMARY KEY (user, nonce));
CREATE INDEX IF NOT EXISTS nonces_seen ON nonces (seen);
CREATE TABLE IF NOT EXISTS bans (user TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, room TEXT NOT NULL, name TEXT,
    expires REAL NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dms (id INTEGER PRIMARY KEY, sender TEXT NOT NULL,
    recipient TEXT NOT NULL, posted REAL NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS dms_recipient ON dms (recipient, id);
CREATE INDEX IF NOT EXISTS dms_sender ON dms (sender, id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
";

fn err(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

fn sid(text: &str) -> Result<SessionId, StoreError> {
    text.parse()
        .map_err(|_| StoreError("stored session id does not parse".into()))
}

/// The server's state in SQLite (WAL mode; one connection, the front serializes requests).
///
/// ```
/// use metaless_community_server::{Perms, RoomRow, SqliteStore, Store};
/// let mut s = SqliteStore::in_memory().unwrap();
/// s.put_room("lobby", &RoomRow::new("Lobby", Perms::ALL, 0.0)).unwrap();
/// assert_eq!(s.room("lobby").unwrap().unwrap().name, "Lobby");
/// ```
pub struct SqliteStore {
    db: Connection,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Connection::open(path).map_err(err)?;
        db.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        Self::init(db)
    }

    /// A database in memory (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(err)?)
    }

    fn init(db: Connection) -> Result<Self, StoreError> {
        db.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self { db })
    }

    fn reactions(
        &self,
        room: &str,
        id: u64,
    ) -> Result<BTreeMap<String, Vec<SessionId>>, StoreError> {
        let mut st = self
            .db
            .prepare_cached(
                "SELECT emoji, user FROM reactions WHERE room = ?1 AND message = ?2 ORDER BY emoji, ord",
            )
            .map_err(err)?;
        let rows = st
            .query_map(params![room, id as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(err)?;
        let mut out: BTreeMap<String, Vec<SessionId>> = BTreeMap::new();
        for row in rows {
            let (emoji, user) = row.map_err(err)?;
            out.entry(emoji).or_default().push(sid(&user)?);
        }
        Ok(out)
    }

    fn post_rows(
        &self,
        room: &str,
        sql: &str,
        arg: i64,
        limit: usize,
    ) -> Result<Vec<(u64, PostRow)>, StoreError> {
        let mut st = self.db.prepare_cached(sql).map_err(err)?;
        let rows = st
            .query_map(params![room, arg, limit as i64], raw_post)
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, raw) = row.map_err(err)?;
            out.push((id, self.finish_post(room, id, raw)?));
        }
        Ok(out)
    }

    fn finish_post(&self, room: &str, id: u64, raw: RawPost) -> Result<PostRow, StoreError> {
        let signature = match raw.signature {
            None => None,
            Some(s) => Some(
                <[u8; 64]>::try_from(s.as_slice())
                    .map_err(|_| StoreError("stored signature is not 64 bytes".into()))?,
            ),
        };
        Ok(PostRow {
            author: sid(&raw.author)?,
            posted: raw.posted,
            edited: raw.edited,
            seqno: raw.seqno as u64,
            data: raw.data,
            signature,
            reactions: self.reactions(room, id)?,
        })
    }
}

struct RawPost {
    author: String,
    posted: f64,
    edited: Option<f64>,
    seqno: i64,
    data: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
}

const POST_COLS: &str = "id, author, posted, edited, seqno, data, signature";

fn raw_post(r: &rusqlite::Row<'_>) -> rusqlite::Result<(u64, RawPost)> {
    Ok((
        r.get::<_, i64>(0)? as u64,
        RawPost {
            author: r.get(1)?,
            posted: r.get(2)?,
            edited: r.get(3)?,
            seqno: r.get(4)?,
            data: r.get(5)?,
            signature: r.get(6)?,
        },
    ))
}

fn perms(read: bool, write: bool, upload: bool) -> Perms {
    Perms {
        read,
        write,
        upload,
    }
}

impl Store for SqliteStore {
    fn room(&self, token: &str) -> Result<Option<RoomRow>, StoreError> {
        let base = self
            .db
            .query_row(
                "SELECT name, description, created, info_updates, seq, read, write, upload
                 FROM rooms WHERE token = ?1",
                [token],
                |r| {
                    Ok(RoomRow {
                        name: r.get(0)?,
                        description: r.get(1)?,
                        created: r.get(2)?,
                        info_updates: r.get::<_, i64>(3)? as u64,
                        seq: r.get::<_, i64>(4)? as u64,
                        defaults: perms(r.get(5)?, r.get(6)?, r.get(7)?),
                        overrides: BTreeMap::new(),
                        moderators: BTreeSet::new(),
                    })
                },
            )
            .optional()
            .map_err(err)?;
        let Some(mut room) = base else {
            return Ok(None);
        };
        let mut st = self
            .db
            .prepare_cached("SELECT user, read, write, upload FROM room_perms WHERE room = ?1")
            .map_err(err)?;
        let rows = st
            .query_map([token], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    perms(r.get(1)?, r.get(2)?, r.get(3)?),
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (user, p) = row.map_err(err)?;
            room.overrides.insert(sid(&user)?, p);
        }
        let mut st = self
            .db
            .prepare_cached("SELECT user FROM room_mods WHERE room = ?1")
            .map_err(err)?;
        let rows = st
            .query_map([token], |r| r.get::<_, String>(0))
            .map_err(err)?;
        for row in rows {
            room.moderators.insert(sid(&row.map_err(err)?)?);
        }
        Ok(Some(room))
    }

    fn room_tokens(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .db
            .prepare_cached("SELECT token FROM rooms ORDER BY token")
            .map_err(err)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    fn put_room(&mut self, token: &str, room: &RoomRow) -> Result<(), StoreError> {
        let tx = self.db.transaction().map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO rooms
             (token, name, description, created, info_updates, seq, read, write, upload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                token,
                room.name,
                room.description,
                room.created,
                room.info_updates as i64,
                room.seq as i64,
                room.defaults.read,
                room.defaults.write,
                room.defaults.upload
            ],
        )
        .map_err(err)?;
        tx.execute("DELETE FROM room_perms WHERE room = ?1", [token])
            .map_err(err)?;
        for (user, p) in &room.overrides {
            tx.execute(
                "INSERT INTO room_perms (room, user, read, write, upload) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token, user.to_string(), p.read, p.write, p.upload],
            )
            .map_err(err)?;
        }
        tx.execute("DELETE FROM room_mods WHERE room = ?1", [token])
            .map_err(err)?;
        for user in &room.moderators {
            tx.execute(
                "INSERT INTO room_mods (room, user) VALUES (?1, ?2)",
                params![token, user.to_string()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn message(&self, room: &str, id: u64) -> Result<Option<PostRow>, StoreError> {
        let raw = self
            .db
            .query_row(
                &format!("SELECT {POST_COLS} FROM messages WHERE room = ?1 AND id = ?2"),
                params![room, id as i64],
                raw_post,
            )
            .optional()
            .map_err(err)?;
        raw.map(|(id, raw)| self.finish_post(room, id, raw))
            .transpose()
    }

    fn put_message(&mut self, room: &str, id: u64, post: &PostRow) -> Result<(), StoreError> {
        let tx = self.db.transaction().map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO messages (room, id, author, posted, edited, seqno, data, signature)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                room,
                id as i64,
                post.author.to_string(),
                post.posted,
                post.edited,
                post.seqno as i64,
                post.data,
                post.signature.map(|s| s.to_vec())
            ],
        )
        .map_err(err)?;
        tx.execute(
            "DELETE FROM reactions WHERE room = ?1 AND message = ?2",
            params![room, id as i64],
        )
        .map_err(err)?;
        for (emoji, who) in &post.reactions {
            for (ord, user) in who.iter().enumerate() {
                tx.execute(
                    "INSERT INTO reactions (room, message, emoji, ord, user) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![room, id as i64, emoji, ord as i64, user.to_string()],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn messages(
        &self,
        room: &str,
        query: MessageQuery,
        limit: usize,
    ) -> Result<Vec<(u64, PostRow)>, StoreError> {
        match query {
            MessageQuery::Since(seq) => self.post_rows(
                room,
                &format!(
                    "SELECT {POST_COLS} FROM messages WHERE room = ?1 AND seqno > ?2
                     ORDER BY seqno LIMIT ?3"
                ),
                seq as i64,
                limit,
            ),
            MessageQuery::Recent => self.post_rows(
                room,
                &format!(
                    "SELECT {POST_COLS} FROM messages WHERE room = ?1 AND data IS NOT NULL
                     AND ?2 = 0 ORDER BY id DESC LIMIT ?3"
                ),
                0,
                limit,
            ),
            MessageQuery::Before(before) => self.post_rows(
                room,
                &format!(
                    "SELECT {POST_COLS} FROM messages WHERE room = ?1 AND id < ?2
                     AND data IS NOT NULL ORDER BY id DESC LIMIT ?3"
                ),
                before.min(i64::MAX as u64) as i64,
                limit,
            ),
        }
    }

    fn authors(&self, room: &str) -> Result<u64, StoreError> {
        self.db
            .query_row(
                "SELECT COUNT(DISTINCT author) FROM messages WHERE room = ?1",
                [room],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(err)
    }

    fn next_id(&mut self, counter: Counter) -> Result<u64, StoreError> {
        self.db
            .query_row(
                "INSERT INTO counters (name, value) VALUES (?1, 1)
                 ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
                [counter.name()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(err)
    }

    fn record_nonce(
        &mut self,
        user: &SessionId,
        nonce: &[u8; 16],
        now: f64,
    ) -> Result<bool, StoreError> {
        self.db
            .execute(
                "INSERT OR IGNORE INTO nonces (user, nonce, seen) VALUES (?1, ?2, ?3)",
                params![user.to_string(), nonce.as_slice(), now],
            )
            .map(|n| n == 1)
            .map_err(err)
    }

    fn purge_nonces(&mut self, before: f64) -> Result<usize, StoreError> {
        self.db
            .execute("DELETE FROM nonces WHERE seen < ?1", [before])
            .map_err(err)
    }

    fn is_banned(&self, user: &SessionId) -> Result<bool, StoreError> {
        self.db
            .query_row(
                "SELECT 1 FROM bans WHERE user = ?1",
                [user.to_string()],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(err)
    }

    fn ban(&mut self, user: &SessionId) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT OR IGNORE INTO bans (user) VALUES (?1)",
                [user.to_string()],
            )
            .map(drop)
            .map_err(err)
    }

    fn file(&self, id: u64) -> Result<Option<FileRow>, StoreError> {
        self.db
            .query_row(
                "SELECT room, data, name, expires FROM files WHERE id = ?1",
                [id as i64],
                |r| {
                    Ok(FileRow {
                        room: r.get(0)?,
                        bytes: r.get(1)?,
                        name: r.get(2)?,
                        expires: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(err)
    }

    fn put_file(&mut self, id: u64, file: &FileRow) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT OR REPLACE INTO files (id, room, name, expires, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id as i64, file.room, file.name, file.expires, file.bytes],
            )
            .map(drop)
            .map_err(err)
    }

    fn extend_file(&mut self, id: u64, room: &str, expires: f64) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE files SET expires = MAX(expires, ?3) WHERE id = ?1 AND room = ?2",
                params![id as i64, room, expires],
            )
            .map(drop)
            .map_err(err)
    }

    fn purge_files(&mut self, now: f64) -> Result<usize, StoreError> {
        self.db
            .execute("DELETE FROM files WHERE expires <= ?1", [now])
            .map_err(err)
    }

    fn put_dm(&mut self, dm: &DmRow) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO dms (id, sender, recipient, posted, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    dm.id as i64,
                    dm.sender.to_string(),
                    dm.recipient.to_string(),
                    dm.posted_at,
                    dm.data
                ],
            )
            .map(drop)
            .map_err(err)
    }

    fn dms(
        &self,
        user: &SessionId,
        inbox: bool,
        since: Option<u64>,
        limit: usize,
    ) -> Result<Vec<DmRow>, StoreError> {
        let sql = if inbox {
            "SELECT id, sender, recipient, posted, data FROM dms WHERE recipient = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        } else {
            "SELECT id, sender, recipient, posted, data FROM dms WHERE sender = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        };
        let mut st = self.db.prepare_cached(sql).map_err(err)?;
        let since = since.unwrap_or(0).min(i64::MAX as u64) as i64;
        let rows = st
            .query_map(params![user.to_string(), since, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, f64>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sender, recipient, posted_at, data) = row.map_err(err)?;
            out.push(DmRow {
                id: id as u64,
                sender: sid(&sender)?,
                recipient: sid(&recipient)?,
                posted_at,
                data,
            });
        }
        Ok(out)
    }

    fn delete_inbox(&mut self, user: &SessionId) -> Result<usize, StoreError> {
        self.db
            .execute("DELETE FROM dms WHERE recipient = ?1", [user.to_string()])
            .map_err(err)
    }

    fn purge_dms(&mut self, before: f64) -> Result<usize, StoreError> {
        self.db
            .execute("DELETE FROM dms WHERE posted < ?1", [before])
            .map_err(err)
    }
}
