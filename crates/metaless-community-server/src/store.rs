//! What the server keeps, as rows, behind one [`Store`] trait: [`MemoryStore`] for tests and
//! doc examples, [`crate::SqliteStore`] for a server that survives a restart.

use std::collections::{BTreeMap, BTreeSet};

use metaless_identity::SessionId;

use crate::core::Perms;

/// A storage failure (the server answers 500 without detail).
///
/// ```
/// let e = metaless_community_server::StoreError("disk full".into());
/// assert_eq!(e.to_string(), "community store: disk full");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("community store: {0}")]
pub struct StoreError(pub String);

/// One room's settings and counters.
///
/// ```
/// use metaless_community_server::{Perms, RoomRow};
/// let r = RoomRow::new("Lobby", Perms::ALL, 0.0);
/// assert_eq!((r.seq, r.info_updates), (0, 1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RoomRow {
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time (unix seconds).
    pub created: f64,
    /// Bumped on every change of the room's details (pysogs `info_updates`).
    pub info_updates: u64,
    /// The room's message sequence counter (every post, edit, deletion, reaction bumps it).
    pub seq: u64,
    /// Permissions of users without an override.
    pub defaults: Perms,
    /// Per-user permissions.
    pub overrides: BTreeMap<SessionId, Perms>,
    /// Moderators.
    pub moderators: BTreeSet<SessionId>,
}

impl RoomRow {
    /// A fresh room.
    pub fn new(name: &str, defaults: Perms, created: f64) -> Self {
        Self {
            name: name.into(),
            description: None,
            created,
            info_updates: 1,
            seq: 0,
            defaults,
            overrides: BTreeMap::new(),
            moderators: BTreeSet::new(),
        }
    }
}

/// One stored message (deleted ones keep their row without data, as pysogs does).
///
/// ```
/// use metaless_community_server::PostRow;
/// let author = metaless_identity::SessionId::standard([9; 32]);
/// let p = PostRow { author, posted: 1.0, edited: None, seqno: 1,
///     data: Some(b"x".to_vec()), signature: Some([0; 64]), reactions: Default::default() };
/// assert!(p.data.is_some());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PostRow {
    /// Poster.
    pub author: SessionId,
    /// Posting time (unix seconds).
    pub posted: f64,
    /// Last edit time.
    pub edited: Option<f64>,
    /// The room seqno of the last change.
    pub seqno: u64,
    /// The posted bytes; `None` once deleted.
    pub data: Option<Vec<u8>>,
    /// The poster's signature over `data`.
    pub signature: Option<[u8; 64]>,
    /// Emoji → reactors in the order they reacted.
    pub reactions: BTreeMap<String, Vec<SessionId>>,
}

/// Which messages a listing wants.
///
/// ```
/// let q = metaless_community_server::MessageQuery::Since(5);
/// assert_ne!(q, metaless_community_server::MessageQuery::Recent);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageQuery {
    /// Changed after this seqno (deleted ones included), oldest change first.
    Since(u64),
    /// Newest first, not deleted.
    Recent,
    /// Ids below this one, newest first, not deleted.
    Before(u64),
}

/// One uploaded file.
///
/// ```
/// let f = metaless_community_server::FileRow { room: "lobby".into(), bytes: vec![1], name: None, expires: 9.0 };
/// assert_eq!(f.bytes.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    /// The room it was uploaded to (downloads elsewhere are 404).
    pub room: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// Filename from `Content-Disposition`.
    pub name: Option<String>,
    /// Expiry (unix seconds).
    pub expires: f64,
}

/// One blinded DM in the inbox of `recipient` (and the outbox of `sender`).
///
/// ```
/// use metaless_community_server::DmRow;
/// let id = metaless_identity::SessionId::standard([9; 32]);
/// let d = DmRow { id: 1, sender: id, recipient: id, posted_at: 0.0, data: vec![] };
/// assert_eq!(d.id, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DmRow {
    /// Server-wide DM id.
    pub id: u64,
    /// Sender's blinded id.
    pub sender: SessionId,
    /// Recipient's blinded id.
    pub recipient: SessionId,
    /// Time posted (unix seconds).
    pub posted_at: f64,
    /// The sealed message.
    pub data: Vec<u8>,
}

/// Which id counter to draw from.
///
/// ```
/// assert_ne!(metaless_community_server::Counter::Message, metaless_community_server::Counter::File);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    /// Message ids (server-wide, like pysogs).
    Message,
    /// File ids.
    File,
    /// Inbox message ids.
    Dm,
}

impl Counter {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Counter::Message => "message",
            Counter::File => "file",
            Counter::Dm => "dm",
        }
    }
}

/// The server's persistent state. Every method is one small read or write; the core holds the
/// logic (permissions, seqnos, expiry rules).
///
/// ```
/// use metaless_community_server::{MemoryStore, Store};
/// let mut s = MemoryStore::default();
/// let who = metaless_identity::SessionId::standard([9; 32]);
/// assert!(s.record_nonce(&who, &[1; 16], 10.0).unwrap());
/// assert!(!s.record_nonce(&who, &[1; 16], 11.0).unwrap());
/// ```
pub trait Store {
    /// The room `token`.
    fn room(&self, token: &str) -> Result<Option<RoomRow>, StoreError>;
    /// Every room token, sorted.
    fn room_tokens(&self) -> Result<Vec<String>, StoreError>;
    /// Creates or replaces a room.
    fn put_room(&mut self, token: &str, room: &RoomRow) -> Result<(), StoreError>;
    /// Message `id` of `room` (deleted ones too).
    fn message(&self, room: &str, id: u64) -> Result<Option<PostRow>, StoreError>;
    /// Creates or replaces a message.
    fn put_message(&mut self, room: &str, id: u64, post: &PostRow) -> Result<(), StoreError>;
    /// A listing of at most `limit` messages.
    fn messages(
        &self,
        room: &str,
        query: MessageQuery,
        limit: usize,
    ) -> Result<Vec<(u64, PostRow)>, StoreError>;
    /// How many distinct users posted in `room`.
    fn authors(&self, room: &str) -> Result<u64, StoreError>;
    /// The next id of `counter` (starting at 1).
    fn next_id(&mut self, counter: Counter) -> Result<u64, StoreError>;
    /// Records a request nonce seen at `now`; `false` when `user` used it before.
    fn record_nonce(
        &mut self,
        user: &SessionId,
        nonce: &[u8; 16],
        now: f64,
    ) -> Result<bool, StoreError>;
    /// Forgets nonces seen before `before` (they can no longer come with a fresh timestamp).
    fn purge_nonces(&mut self, before: f64) -> Result<usize, StoreError>;
    /// Whether `user` is banned server-wide.
    fn is_banned(&self, user: &SessionId) -> Result<bool, StoreError>;
    /// Bans `user` server-wide.
    fn ban(&mut self, user: &SessionId) -> Result<(), StoreError>;
    /// File `id`.
    fn file(&self, id: u64) -> Result<Option<FileRow>, StoreError>;
    /// Stores a new file.
    fn put_file(&mut self, id: u64, file: &FileRow) -> Result<(), StoreError>;
    /// Moves the expiry of file `id` (in `room`) to at least `expires`.
    fn extend_file(&mut self, id: u64, room: &str, expires: f64) -> Result<(), StoreError>;
    /// Deletes files expired at `now`; returns how many.
    fn purge_files(&mut self, now: f64) -> Result<usize, StoreError>;
    /// Stores a DM.
    fn put_dm(&mut self, dm: &DmRow) -> Result<(), StoreError>;
    /// The inbox (`inbox`) or outbox of `user`, ids above `since`, oldest first, at most `limit`.
    fn dms(
        &self,
        user: &SessionId,
        inbox: bool,
        since: Option<u64>,
        limit: usize,
    ) -> Result<Vec<DmRow>, StoreError>;
    /// Deletes the inbox of `user`; returns how many.
    fn delete_inbox(&mut self, user: &SessionId) -> Result<usize, StoreError>;
    /// Deletes DMs posted before `before`; returns how many.
    fn purge_dms(&mut self, before: f64) -> Result<usize, StoreError>;
}

/// Everything in memory.
///
/// ```
/// use metaless_community_server::{MemoryStore, Perms, RoomRow, Store};
/// let mut s = MemoryStore::default();
/// s.put_room("lobby", &RoomRow::new("Lobby", Perms::ALL, 0.0)).unwrap();
/// assert_eq!(s.room_tokens().unwrap(), ["lobby"]);
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    rooms: BTreeMap<String, RoomRow>,
    messages: BTreeMap<(String, u64), PostRow>,
    nonces: BTreeMap<(SessionId, [u8; 16]), f64>,
    banned: BTreeSet<SessionId>,
    files: BTreeMap<u64, FileRow>,
    dms: BTreeMap<u64, DmRow>,
    counters: BTreeMap<Counter, u64>,
}

impl MemoryStore {
    fn room_messages<'a>(&'a self, room: &'a str) -> impl Iterator<Item = (u64, &'a PostRow)> {
        self.messages
            .range((room.to_owned(), 0)..=(room.to_owned(), u64::MAX))
            .map(|((_, id), p)| (*id, p))
    }
}

impl Store for MemoryStore {
    fn room(&self, token: &str) -> Result<Option<RoomRow>, StoreError> {
        Ok(self.rooms.get(token).cloned())
    }
    fn room_tokens(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.rooms.keys().cloned().collect())
    }
    fn put_room(&mut self, token: &str, room: &RoomRow) -> Result<(), StoreError> {
        self.rooms.insert(token.into(), room.clone());
        Ok(())
    }
    fn message(&self, room: &str, id: u64) -> Result<Option<PostRow>, StoreError> {
        Ok(self.messages.get(&(room.to_owned(), id)).cloned())
    }
    fn put_message(&mut self, room: &str, id: u64, post: &PostRow) -> Result<(), StoreError> {
        self.messages.insert((room.into(), id), post.clone());
        Ok(())
    }
    fn messages(
        &self,
        room: &str,
        query: MessageQuery,
        limit: usize,
    ) -> Result<Vec<(u64, PostRow)>, StoreError> {
        let all = self.room_messages(room);
        let out: Vec<(u64, PostRow)> = match query {
            MessageQuery::Since(seq) => {
                let mut v: Vec<_> = all.filter(|(_, m)| m.seqno > seq).collect();
                v.sort_by_key(|(_, m)| m.seqno);
                v.into_iter()
                    .take(limit)
                    .map(|(i, m)| (i, m.clone()))
                    .collect()
            }
            MessageQuery::Recent => {
                let v: Vec<_> = all.filter(|(_, m)| m.data.is_some()).collect();
                v.into_iter()
                    .rev()
                    .take(limit)
                    .map(|(i, m)| (i, m.clone()))
                    .collect()
            }
            MessageQuery::Before(before) => {
                let v: Vec<_> = all
                    .filter(|(i, m)| *i < before && m.data.is_some())
                    .collect();
                v.into_iter()
                    .rev()
                    .take(limit)
                    .map(|(i, m)| (i, m.clone()))
                    .collect()
            }
        };
        Ok(out)
    }
    fn authors(&self, room: &str) -> Result<u64, StoreError> {
        let set: BTreeSet<&SessionId> = self.room_messages(room).map(|(_, m)| &m.author).collect();
        Ok(set.len() as u64)
    }
    fn next_id(&mut self, counter: Counter) -> Result<u64, StoreError> {
        let c = self.counters.entry(counter).or_insert(0);
        *c += 1;
        Ok(*c)
    }
    fn record_nonce(
        &mut self,
        user: &SessionId,
        nonce: &[u8; 16],
        now: f64,
    ) -> Result<bool, StoreError> {
        let key = (*user, *nonce);
        if self.nonces.contains_key(&key) {
            return Ok(false);
        }
        self.nonces.insert(key, now);
        Ok(true)
    }
    fn purge_nonces(&mut self, before: f64) -> Result<usize, StoreError> {
        let n = self.nonces.len();
        self.nonces.retain(|_, seen| *seen >= before);
        Ok(n - self.nonces.len())
    }
    fn is_banned(&self, user: &SessionId) -> Result<bool, StoreError> {
        Ok(self.banned.contains(user))
    }
    fn ban(&mut self, user: &SessionId) -> Result<(), StoreError> {
        self.banned.insert(*user);
        Ok(())
    }
    fn file(&self, id: u64) -> Result<Option<FileRow>, StoreError> {
        Ok(self.files.get(&id).cloned())
    }
    fn put_file(&mut self, id: u64, file: &FileRow) -> Result<(), StoreError> {
        self.files.insert(id, file.clone());
        Ok(())
    }
    fn extend_file(&mut self, id: u64, room: &str, expires: f64) -> Result<(), StoreError> {
        if let Some(f) = self.files.get_mut(&id).filter(|f| f.room == room) {
            f.expires = f.expires.max(expires);
        }
        Ok(())
    }
    fn purge_files(&mut self, now: f64) -> Result<usize, StoreError> {
        let n = self.files.len();
        self.files.retain(|_, f| f.expires > now);
        Ok(n - self.files.len())
    }
    fn put_dm(&mut self, dm: &DmRow) -> Result<(), StoreError> {
        self.dms.insert(dm.id, dm.clone());
        Ok(())
    }
    fn dms(
        &self,
        user: &SessionId,
        inbox: bool,
        since: Option<u64>,
        limit: usize,
    ) -> Result<Vec<DmRow>, StoreError> {
        Ok(self
            .dms
            .range(since.map_or(0, |s| s.saturating_add(1))..)
            .map(|(_, d)| d)
            .filter(|d| {
                if inbox {
                    d.recipient == *user
                } else {
                    d.sender == *user
                }
            })
            .take(limit)
            .cloned()
            .collect())
    }
    fn delete_inbox(&mut self, user: &SessionId) -> Result<usize, StoreError> {
        let n = self.dms.len();
        self.dms.retain(|_, d| d.recipient != *user);
        Ok(n - self.dms.len())
    }
    fn purge_dms(&mut self, before: f64) -> Result<usize, StoreError> {
        let n = self.dms.len();
        self.dms.retain(|_, d| d.posted_at >= before);
        Ok(n - self.dms.len())
    }
}
