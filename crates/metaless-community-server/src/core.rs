//! The sans-IO server: one [`CommunityCore::handle`] per HTTP request over a [`Store`]
//! (rooms, posts, reactions, files, nonces, DMs).

use std::collections::BTreeMap;

use base64::Engine;
use metaless_community::auth::{self, AuthContext};
use metaless_community::limits::{MAX_LIST_LIMIT, MAX_UPLOAD_SIZE};
use metaless_community::{
    Capabilities, DirectMessage, Message, PollInfo, Reaction, ReceivedAuth, Room, check_room,
};
use metaless_identity::{SessionId, SessionIdPrefix};
use serde_json::{Value, json};

use crate::store::{
    Counter, DmRow, FileRow, MemoryStore, MessageQuery, PostRow, RoomRow, Store, StoreError,
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Unreferenced uploads live 1 h, referenced ones 15 days (pysogs defaults).
const FILE_TTL_S: f64 = 3600.0;
const FILE_POSTED_TTL_S: f64 = 15.0 * 86_400.0;
/// Inbox messages expire after 15 days (pysogs `DM_EXPIRY`).
const DM_TTL_S: f64 = 15.0 * 86_400.0;
/// A nonce can come back with an acceptable timestamp for at most 48 h after it was first seen
/// (the timestamp it was signed with is within ±24 h of both moments); older ones are forgotten.
const NONCE_KEEP_S: f64 = 2.0 * 86_400.0;
const DEFAULT_LIMIT: usize = 100;

/// Server settings.
///
/// ```
/// let c = metaless_community_server::Config::default();
/// assert!(c.require_blind);
/// assert_eq!(c.max_upload, 10_000_000);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Refuse `00` (unblinded) keys and list the `blind` capability (pysogs `REQUIRE_BLIND_KEYS`).
    pub require_blind: bool,
    /// Largest upload (pysogs `UPLOAD_FILE_MAX_SIZE`); larger ones get 413.
    pub max_upload: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            require_blind: true,
            max_upload: MAX_UPLOAD_SIZE,
        }
    }
}

/// What a user may do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perms {
    /// Read messages and files.
    pub read: bool,
    /// Post, edit, react.
    pub write: bool,
    /// Upload files (needs `write` too).
    pub upload: bool,
}

impl Perms {
    /// Everything allowed.
    pub const ALL: Perms = Perms {
        read: true,
        write: true,
        upload: true,
    };
    /// Read only.
    pub const READ_ONLY: Perms = Perms {
        read: true,
        write: false,
        upload: false,
    };
}

/// One HTTP request as the core sees it.
#[derive(Debug, Clone)]
pub struct HttpRequest<'a> {
    /// Method.
    pub method: &'a str,
    /// Path and query as received.
    pub path: &'a str,
    /// Headers (names compared case-insensitively).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: &'a [u8],
}

/// One HTTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// Status.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpReply {
    fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    fn text(status: u16, text: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: text.as_bytes().to_vec(),
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// A community server's state and request handler, over a [`Store`] (in memory by default).
///
/// ```
/// use metaless_community_server::{CommunityCore, Config, HttpRequest, Perms};
/// let mut core = CommunityCore::new([7; 32], Config::default());
/// core.add_room("lobby", "Lobby", Perms::ALL, 0).unwrap();
/// let reply = core.handle(1_000, &HttpRequest { method: "GET", path: "/capabilities", headers: vec![], body: b"" });
/// assert_eq!(reply.body, br#"{"capabilities":["blind","reactions","sogs"]}"#);
/// ```
pub struct CommunityCore<S: Store = MemoryStore> {
    server_pk: [u8; 32],
    config: Config,
    store: S,
}

/// The auth check's view of the store; a store failure is kept and turned into a 500 after.
struct Ctx<'a, S: Store> {
    require_blind: bool,
    now: f64,
    store: &'a mut S,
    failed: Option<StoreError>,
}

impl<S: Store> AuthContext for Ctx<'_, S> {
    fn require_blind(&self) -> bool {
        self.require_blind
    }
    fn is_banned(&mut self, user: &SessionId) -> bool {
        match self.store.is_banned(user) {
            Ok(b) => b,
            Err(e) => {
                self.failed = Some(e);
                true
            }
        }
    }
    fn record_nonce(&mut self, user: &SessionId, nonce: &[u8; 16]) -> bool {
        match self.store.record_nonce(user, nonce, self.now) {
            Ok(fresh) => fresh,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }
}

type Res = Result<HttpReply, StoreError>;

fn header<'a>(req: &'a HttpRequest<'_>, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `%xx` decoding of the path part (what Flask's `request.path` holds); `None` if not UTF-8.
fn decode_path(path: &str) -> Option<String> {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

impl CommunityCore<MemoryStore> {
    /// A server with key `server_pk` (its X25519 public key), no rooms, state in memory.
    pub fn new(server_pk: [u8; 32], config: Config) -> Self {
        Self::with_store(server_pk, config, MemoryStore::default())
    }
}

impl<S: Store> CommunityCore<S> {
    /// A server over `store` (what it holds already is served as it is).
    ///
    /// ```
    /// use metaless_community_server::{CommunityCore, Config, MemoryStore};
    /// let core = CommunityCore::with_store([7; 32], Config::default(), MemoryStore::default());
    /// assert_eq!(core.server_pk(), &[7; 32]);
    /// ```
    pub fn with_store(server_pk: [u8; 32], config: Config, store: S) -> Self {
        Self {
            server_pk,
            config,
            store,
        }
    }

    /// The server's X25519 public key.
    pub fn server_pk(&self) -> &[u8; 32] {
        &self.server_pk
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Creates a room with default permissions `defaults` (an existing room is left as it is).
    pub fn add_room(
        &mut self,
        token: &str,
        name: &str,
        defaults: Perms,
        now_ms: u64,
    ) -> Result<(), crate::ServerError> {
        check_room(token)?;
        if self.store.room(token)?.is_none() {
            self.store
                .put_room(token, &RoomRow::new(name, defaults, now_ms as f64 / 1000.0))?;
        }
        Ok(())
    }

    /// Sets one user's permissions in a room (`false` when there is no such room).
    pub fn set_permissions(
        &mut self,
        room: &str,
        user: SessionId,
        perms: Perms,
    ) -> Result<bool, StoreError> {
        let Some(mut r) = self.store.room(room)? else {
            return Ok(false);
        };
        r.overrides.insert(user, perms);
        self.store.put_room(room, &r)?;
        Ok(true)
    }

    /// Makes `user` a moderator of `room` (`false` when there is no such room).
    pub fn add_moderator(&mut self, room: &str, user: SessionId) -> Result<bool, StoreError> {
        let Some(mut r) = self.store.room(room)? else {
            return Ok(false);
        };
        r.moderators.insert(user);
        r.info_updates += 1;
        self.store.put_room(room, &r)?;
        Ok(true)
    }

    /// Bans `user` from the whole server (every request then gets 403 `Banned`).
    pub fn ban(&mut self, user: SessionId) -> Result<(), StoreError> {
        self.store.ban(&user)
    }

    /// Deletes expired files and DMs and nonces too old to be replayed; returns how many rows.
    ///
    /// ```
    /// let mut core = metaless_community_server::CommunityCore::new([7; 32], Default::default());
    /// assert_eq!(core.purge(1_000).unwrap(), 0);
    /// ```
    pub fn purge(&mut self, now_ms: u64) -> Result<usize, StoreError> {
        let now = now_ms as f64 / 1000.0;
        Ok(self.store.purge_files(now)?
            + self.store.purge_dms(now - DM_TTL_S)?
            + self.store.purge_nonces(now - NONCE_KEEP_S)?)
    }

    fn perms(room: &RoomRow, user: Option<&SessionId>) -> Perms {
        if user.is_some_and(|u| room.moderators.contains(u)) {
            return Perms::ALL;
        }
        let p = user
            .and_then(|u| room.overrides.get(u))
            .copied()
            .unwrap_or(room.defaults);
        Perms {
            read: p.read,
            write: p.write && p.read,
            upload: p.upload && p.write && p.read,
        }
    }

    /// Answers one request: authentication first (pysogs order and texts), then the route. A
    /// store failure is a 500 without detail.
    pub fn handle(&mut self, now_ms: u64, req: &HttpRequest<'_>) -> HttpReply {
        self.handle_inner(now_ms, req)
            .unwrap_or_else(|_| HttpReply::empty(500))
    }

    fn handle_inner(&mut self, now_ms: u64, req: &HttpRequest<'_>) -> Res {
        let (raw_path, query) = match req.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (req.path, None),
        };
        let Some(mut path) = decode_path(raw_path) else {
            return Ok(HttpReply::empty(400));
        };
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            path.push('?');
            path.push_str(q);
        }
        let got = ReceivedAuth {
            pubkey: header(req, "X-SOGS-Pubkey"),
            nonce: header(req, "X-SOGS-Nonce"),
            timestamp: header(req, "X-SOGS-Timestamp"),
            signature: header(req, "X-SOGS-Signature"),
        };
        let mut ctx = Ctx {
            require_blind: self.config.require_blind,
            now: now_ms as f64 / 1000.0,
            store: &mut self.store,
            failed: None,
        };
        let verdict = auth::verify(
            &self.server_pk,
            &got,
            req.method,
            &path,
            req.body,
            now_ms / 1000,
            &mut ctx,
        );
        if let Some(e) = ctx.failed {
            return Err(e);
        }
        let user = match verdict {
            Ok(user) => user,
            Err(rejection) => {
                return Ok(HttpReply::text(rejection.status(), &rejection.to_string()));
            }
        };
        let route = path
            .split_once('?')
            .map_or(path.as_str(), |(p, _)| p)
            .to_owned();
        let query = query.unwrap_or("");
        match (req.method, route.as_str()) {
            ("POST", "/batch") => self.multi(now_ms, user.as_ref(), req.body, false),
            ("POST", "/sequence") => self.multi(now_ms, user.as_ref(), req.body, true),
            _ => self.route(now_ms, user.as_ref(), req, &route, query),
        }
    }

    fn multi(&mut self, now_ms: u64, user: Option<&SessionId>, body: &[u8], stop: bool) -> Res {
        let Ok(Value::Array(subs)) = serde_json::from_slice::<Value>(body) else {
            return Ok(HttpReply::text(
                400,
                "Invalid batch request: expected a JSON array",
            ));
        };
        let mut out = Vec::with_capacity(subs.len());
        for sub in subs {
            let (Some(method), Some(path)) = (sub["method"].as_str(), sub["path"].as_str()) else {
                return Ok(HttpReply::text(
                    400,
                    "Invalid batch request: method and path are required",
                ));
            };
            let body = if let Some(j) = sub.get("json") {
                serde_json::to_vec(j).unwrap_or_default()
            } else if let Some(b) = sub.get("b64").and_then(Value::as_str) {
                match B64.decode(b) {
                    Ok(b) => b,
                    Err(_) => return Ok(HttpReply::text(400, "Invalid batch request: bad b64")),
                }
            } else {
                Vec::new()
            };
            let headers = sub["headers"]
                .as_object()
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            let sub_req = HttpRequest {
                method,
                path,
                headers,
                body: &body,
            };
            let (route, query) = path.split_once('?').unwrap_or((path, ""));
            let route = decode_path(route).unwrap_or_default();
            let reply = if route == "/batch" || route == "/sequence" {
                HttpReply::empty(400)
            } else {
                self.route(now_ms, user, &sub_req, &route, query)?
            };
            let json_body = reply
                .headers
                .iter()
                .any(|(k, v)| k == "content-type" && v.starts_with("application/json"));
            let body = if reply.body.is_empty() {
                Value::Null
            } else if json_body {
                serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
            } else {
                Value::String(B64.encode(&reply.body))
            };
            let headers: serde_json::Map<String, Value> = reply
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let ok = (200..300).contains(&reply.status);
            out.push(json!({ "code": reply.status, "headers": headers, "body": body }));
            if stop && !ok {
                break;
            }
        }
        Ok(HttpReply::json(200, &Value::Array(out)))
    }

    fn route(
        &mut self,
        now_ms: u64,
        user: Option<&SessionId>,
        req: &HttpRequest<'_>,
        route: &str,
        query: &str,
    ) -> Res {
        let now = now_ms as f64 / 1000.0;
        let seg: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        match (req.method, seg.as_slice()) {
            ("GET", ["capabilities"]) => Ok(self.capabilities(query)),
            ("GET", ["rooms"]) => {
                let mut list: Vec<Room> = Vec::new();
                for t in self.store.room_tokens()? {
                    if let Some(r) = self.room_object(&t, user)?.filter(|r| r.read) {
                        list.push(r);
                    }
                }
                Ok(HttpReply::json(
                    200,
                    &serde_json::to_value(list).unwrap_or_default(),
                ))
            }
            ("GET", ["room", r]) => self.with_read(r, user, |s| {
                Ok(s.room_object(r, user)?
                    .map(|o| HttpReply::json(200, &serde_json::to_value(o).unwrap_or_default())))
            }),
            ("GET", ["room", r, "pollInfo", n]) => {
                let n: u64 = n.parse().unwrap_or(0);
                self.with_read(r, user, |s| {
                    let Some(room) = s.room_object(r, user)? else {
                        return Ok(None);
                    };
                    let info = PollInfo {
                        token: room.token.clone(),
                        active_users: room.active_users,
                        read: room.read,
                        write: room.write,
                        upload: room.upload,
                        moderator: room.moderator,
                        admin: false,
                        details: (room.info_updates != n).then_some(room),
                    };
                    Ok(Some(HttpReply::json(
                        200,
                        &serde_json::to_value(info).unwrap_or_default(),
                    )))
                })
            }
            ("GET", ["room", r, "messages", kind, rest @ ..]) => {
                let limit = query_param(query, "limit")
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(DEFAULT_LIMIT)
                    .clamp(1, MAX_LIST_LIMIT as usize);
                let arg = rest.first().and_then(|a| a.parse::<u64>().ok());
                let q = match (*kind, arg, rest.len()) {
                    ("since", Some(seq), 1) => MessageQuery::Since(seq),
                    ("recent", None, 0) => MessageQuery::Recent,
                    ("before", Some(id), 1) => MessageQuery::Before(id),
                    _ => return Ok(HttpReply::empty(404)),
                };
                self.with_read(r, user, |s| {
                    let list: Vec<Message> = s
                        .store
                        .messages(r, q, limit)?
                        .iter()
                        .map(|(id, m)| message_object(*id, m, user))
                        .collect();
                    Ok(Some(HttpReply::json(
                        200,
                        &serde_json::to_value(list).unwrap_or_default(),
                    )))
                })
            }
            ("GET", ["room", r, "message", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                self.with_read(r, user, |s| {
                    Ok(s.store
                        .message(r, id)?
                        .filter(|m| m.data.is_some())
                        .map(|m| {
                            HttpReply::json(
                                200,
                                &serde_json::to_value(message_object(id, &m, user))
                                    .unwrap_or_default(),
                            )
                        }))
                })
            }
            ("POST", ["room", r, "message"]) => self.post(now, user, r, req.body),
            ("PUT", ["room", r, "message", id]) => self.edit(now, user, r, id, req.body),
            ("DELETE", ["room", r, "message", id]) => self.delete(user, r, id),
            ("PUT", ["room", r, "reaction", id, emoji]) => self.react(user, r, id, emoji, true),
            ("DELETE", ["room", r, "reaction", id, emoji]) => self.react(user, r, id, emoji, false),
            ("POST", ["room", r, "file"]) => self.upload(now, user, r, req),
            ("GET", ["room", r, "file", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                self.with_read(r, user, |s| {
                    let Some(f) = s
                        .store
                        .file(id)?
                        .filter(|f| f.room == *r && f.expires > now)
                    else {
                        return Ok(None);
                    };
                    let disposition = match &f.name {
                        Some(n) => format!("attachment; filename*=UTF-8''{}", pct(n)),
                        None => "attachment".into(),
                    };
                    Ok(Some(HttpReply {
                        status: 200,
                        headers: vec![
                            ("content-type".into(), "application/octet-stream".into()),
                            ("content-disposition".into(), disposition),
                        ],
                        body: f.bytes,
                    }))
                })
            }
            ("POST", ["inbox", to]) => self.send_dm(now, user, to, req.body),
            ("GET", ["inbox"]) => self.list_dms(now, user, true, None),
            ("GET", ["inbox", "since", id]) => {
                self.list_dms(now, user, true, Some(id.parse().unwrap_or(0)))
            }
            ("GET", ["outbox"]) => self.list_dms(now, user, false, None),
            ("GET", ["outbox", "since", id]) => {
                self.list_dms(now, user, false, Some(id.parse().unwrap_or(0)))
            }
            ("DELETE", ["inbox"]) => match require_blinded(user) {
                Err(e) => Ok(e),
                Ok(u) => {
                    let n = self.store.delete_inbox(u)?;
                    Ok(HttpReply::json(200, &json!({ "deleted": n })))
                }
            },
            _ => Ok(HttpReply::empty(404)),
        }
    }

    fn capabilities(&self, query: &str) -> HttpReply {
        let mut caps = vec!["reactions".to_string(), "sogs".to_string()];
        if self.config.require_blind {
            caps.insert(0, "blind".into());
        }
        let missing: Vec<String> = query_param(query, "required")
            .map(|r| {
                r.split(',')
                    .filter(|c| !c.is_empty() && !caps.iter().any(|x| x == c))
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let status = if missing.is_empty() { 200 } else { 412 };
        let reply = Capabilities {
            capabilities: caps,
            missing: (!missing.is_empty()).then_some(missing),
        };
        HttpReply::json(status, &serde_json::to_value(reply).unwrap_or_default())
    }

    /// Runs `f` when the room exists (404 otherwise) and the user may read it (403 otherwise,
    /// with pysogs' `read_required` text); `f` answering `None` is a 404.
    fn with_read(
        &mut self,
        r: &str,
        user: Option<&SessionId>,
        f: impl FnOnce(&mut Self) -> Result<Option<HttpReply>, StoreError>,
    ) -> Res {
        let Some(room) = self.store.room(r)? else {
            return Ok(HttpReply::empty(404));
        };
        if !Self::perms(&room, user).read {
            return Ok(read_required());
        }
        Ok(f(self)?.unwrap_or_else(|| HttpReply::empty(404)))
    }

    fn room_object(
        &self,
        token: &str,
        user: Option<&SessionId>,
    ) -> Result<Option<Room>, StoreError> {
        let Some(room) = self.store.room(token)? else {
            return Ok(None);
        };
        let p = Self::perms(&room, user);
        Ok(Some(Room {
            token: token.into(),
            name: room.name.clone(),
            description: room.description.clone(),
            info_updates: room.info_updates,
            message_sequence: room.seq,
            created: room.created,
            active_users: self.store.authors(token)?,
            active_users_cutoff: 7 * 86_400,
            image_id: None,
            pinned_messages: Vec::new(),
            moderators: room.moderators.iter().copied().collect(),
            admins: Vec::new(),
            read: p.read,
            write: p.write,
            upload: p.upload,
            moderator: user.is_some_and(|u| room.moderators.contains(u)),
            admin: false,
            global_moderator: false,
            global_admin: false,
        }))
    }

    /// The room and the user's rights in it, or the refusal (404 / 403 read / 403 write).
    fn writable(
        &self,
        user: &SessionId,
        r: &str,
    ) -> Result<Result<RoomRow, HttpReply>, StoreError> {
        let Some(room) = self.store.room(r)? else {
            return Ok(Err(HttpReply::empty(404)));
        };
        let p = Self::perms(&room, Some(user));
        if !p.read {
            return Ok(Err(read_required()));
        }
        if !p.write {
            return Ok(Err(HttpReply::empty(403)));
        }
        Ok(Ok(room))
    }

    fn post(&mut self, now: f64, user: Option<&SessionId>, r: &str, body: &[u8]) -> Res {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return Ok(e),
        };
        let mut room = match self.writable(&u, r)? {
            Ok(room) => room,
            Err(e) => return Ok(e),
        };
        let Some((data, signature, files)) = parse_post(body) else {
            return Ok(HttpReply::empty(400));
        };
        let id = self.store.next_id(Counter::Message)?;
        for f in files {
            self.store.extend_file(f, r, now + FILE_POSTED_TTL_S)?;
        }
        room.seq += 1;
        let stored = PostRow {
            author: u,
            posted: now,
            edited: None,
            seqno: room.seq,
            data: Some(data),
            signature: Some(signature),
            reactions: BTreeMap::new(),
        };
        self.store.put_message(r, id, &stored)?;
        self.store.put_room(r, &room)?;
        let obj = message_object(id, &stored, Some(&u));
        Ok(HttpReply::json(
            201,
            &serde_json::to_value(obj).unwrap_or_default(),
        ))
    }

    fn edit(&mut self, now: f64, user: Option<&SessionId>, r: &str, id: &str, body: &[u8]) -> Res {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return Ok(e),
        };
        let id: u64 = id.parse().unwrap_or(0);
        let Some((data, signature, _)) = parse_post(body) else {
            return Ok(HttpReply::empty(400));
        };
        let mut room = match self.writable(&u, r)? {
            Ok(room) => room,
            Err(e) => return Ok(e),
        };
        let Some(mut m) = self.store.message(r, id)?.filter(|m| m.data.is_some()) else {
            return Ok(HttpReply::empty(404));
        };
        if m.author != u {
            return Ok(HttpReply::empty(403));
        }
        room.seq += 1;
        m.seqno = room.seq;
        m.data = Some(data);
        m.signature = Some(signature);
        m.edited = Some(now);
        self.store.put_message(r, id, &m)?;
        self.store.put_room(r, &room)?;
        Ok(HttpReply::json(200, &json!({})))
    }

    fn delete(&mut self, user: Option<&SessionId>, r: &str, id: &str) -> Res {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return Ok(e),
        };
        let id: u64 = id.parse().unwrap_or(0);
        let Some(mut room) = self.store.room(r)? else {
            return Ok(HttpReply::empty(404));
        };
        if !Self::perms(&room, Some(&u)).read {
            return Ok(read_required());
        }
        let is_mod = room.moderators.contains(&u);
        let Some(mut m) = self.store.message(r, id)?.filter(|m| m.data.is_some()) else {
            return Ok(HttpReply::empty(404));
        };
        if m.author != u && !is_mod {
            return Ok(HttpReply::empty(403));
        }
        room.seq += 1;
        m.seqno = room.seq;
        m.data = None;
        m.signature = None;
        m.reactions.clear();
        self.store.put_message(r, id, &m)?;
        self.store.put_room(r, &room)?;
        Ok(HttpReply::json(200, &json!({})))
    }

    fn react(
        &mut self,
        user: Option<&SessionId>,
        r: &str,
        id: &str,
        emoji: &str,
        add: bool,
    ) -> Res {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return Ok(e),
        };
        let id: u64 = id.parse().unwrap_or(0);
        let Some(mut room) = self.store.room(r)? else {
            return Ok(HttpReply::empty(404));
        };
        if !Self::perms(&room, Some(&u)).read {
            return Ok(read_required());
        }
        let Some(mut m) = self.store.message(r, id)?.filter(|m| m.data.is_some()) else {
            return Ok(HttpReply::empty(404));
        };
        let list = m.reactions.entry(emoji.to_owned()).or_default();
        let changed = if add {
            !list.contains(&u) && {
                list.push(u);
                true
            }
        } else {
            let before = list.len();
            list.retain(|x| *x != u);
            before != list.len()
        };
        m.reactions.retain(|_, v| !v.is_empty());
        if changed {
            room.seq += 1;
            m.seqno = room.seq;
            self.store.put_message(r, id, &m)?;
            self.store.put_room(r, &room)?;
        }
        let key = if add { "added" } else { "removed" };
        Ok(HttpReply::json(
            200,
            &json!({ key: changed, "seqno": m.seqno }),
        ))
    }

    fn upload(
        &mut self,
        now: f64,
        user: Option<&SessionId>,
        r: &str,
        req: &HttpRequest<'_>,
    ) -> Res {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return Ok(e),
        };
        let Some(room) = self.store.room(r)? else {
            return Ok(HttpReply::empty(404));
        };
        if !Self::perms(&room, Some(&u)).upload {
            return Ok(HttpReply::empty(403));
        }
        if req.body.len() > self.config.max_upload {
            return Ok(HttpReply::empty(413));
        }
        let name = header(req, "Content-Disposition").and_then(|d| {
            let enc = d
                .split("filename*=UTF-8''")
                .nth(1)?
                .split(';')
                .next()?
                .trim();
            decode_path(enc)
        });
        let id = self.store.next_id(Counter::File)?;
        self.store.put_file(
            id,
            &FileRow {
                room: r.into(),
                bytes: req.body.to_vec(),
                name,
                expires: now + FILE_TTL_S,
            },
        )?;
        Ok(HttpReply::json(201, &json!({ "id": id })))
    }

    fn send_dm(&mut self, now: f64, user: Option<&SessionId>, to: &str, body: &[u8]) -> Res {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return Ok(e),
        };
        let Ok(recipient) = to.parse::<SessionId>() else {
            return Ok(HttpReply::empty(404));
        };
        if !matches!(
            recipient.prefix(),
            SessionIdPrefix::Blinded15 | SessionIdPrefix::Blinded25
        ) || self.store.is_banned(&recipient)?
        {
            return Ok(HttpReply::empty(404));
        }
        let Some(data) = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v["message"].as_str().and_then(|m| B64.decode(m).ok()))
        else {
            return Ok(HttpReply::empty(400));
        };
        let id = self.store.next_id(Counter::Dm)?;
        self.store.put_dm(&DmRow {
            id,
            sender: u,
            recipient,
            posted_at: now,
            data,
        })?;
        let reply = DirectMessage {
            id,
            posted_at: now,
            expires_at: now + DM_TTL_S,
            sender: u,
            recipient,
            message: None,
        };
        Ok(HttpReply::json(
            201,
            &serde_json::to_value(reply).unwrap_or_default(),
        ))
    }

    fn list_dms(
        &mut self,
        now: f64,
        user: Option<&SessionId>,
        inbox: bool,
        since: Option<u64>,
    ) -> Res {
        let u = match require_blinded(user) {
            Ok(u) => *u,
            Err(e) => return Ok(e),
        };
        self.store.purge_dms(now - DM_TTL_S)?;
        let list: Vec<DirectMessage> = self
            .store
            .dms(&u, inbox, since, DEFAULT_LIMIT)?
            .into_iter()
            .map(|d| DirectMessage {
                id: d.id,
                posted_at: d.posted_at,
                expires_at: d.posted_at + DM_TTL_S,
                sender: d.sender,
                recipient: d.recipient,
                message: Some(B64.encode(&d.data)),
            })
            .collect();
        if list.is_empty() && since.is_some() {
            return Ok(HttpReply::empty(304));
        }
        Ok(HttpReply::json(
            200,
            &serde_json::to_value(list).unwrap_or_default(),
        ))
    }
}

fn read_required() -> HttpReply {
    HttpReply::text(403, "This endpoint requires room message 'read' permission")
}

fn require_user(user: Option<&SessionId>) -> Result<&SessionId, HttpReply> {
    user.ok_or_else(|| HttpReply::text(401, "X-SOGS-* request authentication required"))
}

fn require_blinded(user: Option<&SessionId>) -> Result<&SessionId, HttpReply> {
    let u = require_user(user)?;
    if u.prefix() == SessionIdPrefix::Blinded15 {
        Ok(u)
    } else {
        Err(HttpReply::text(
            401,
            "This endpoint requires blinded pubkeys be used",
        ))
    }
}

fn parse_post(body: &[u8]) -> Option<(Vec<u8>, [u8; 64], Vec<u64>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let data = B64.decode(v["data"].as_str()?).ok()?;
    let sig: [u8; 64] = B64.decode(v["signature"].as_str()?).ok()?.try_into().ok()?;
    let files = v["files"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    Some((data, sig, files))
}

fn message_object(id: u64, m: &PostRow, user: Option<&SessionId>) -> Message {
    Message {
        id,
        session_id: m.author,
        posted: m.posted,
        edited: m.edited,
        seqno: m.seqno,
        data: m.data.as_ref().map(|d| B64.encode(d)),
        signature: m.signature.map(|s| B64.encode(s)),
        deleted: m.data.is_none(),
        whisper: false,
        whisper_mods: false,
        whisper_to: None,
        reactions: m
            .reactions
            .iter()
            .enumerate()
            .map(|(i, (e, who))| {
                (
                    e.clone(),
                    Reaction {
                        index: i as u64,
                        count: who.len() as u64,
                        reactors: who.iter().take(4).copied().collect(),
                        you: user.is_some_and(|u| who.contains(u)),
                    },
                )
            })
            .collect(),
    }
}

fn pct(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}
