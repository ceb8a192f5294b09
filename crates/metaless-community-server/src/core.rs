//! The sans-IO server: state in memory, one [`CommunityCore::handle`] per HTTP request.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use metaless_community::auth::{self, AuthContext};
use metaless_community::limits::{MAX_LIST_LIMIT, MAX_UPLOAD_SIZE};
use metaless_community::{
    Capabilities, DirectMessage, Message, PollInfo, Reaction, ReceivedAuth, Room, check_room,
};
use metaless_identity::{SessionId, SessionIdPrefix};
use serde_json::{Value, json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Unreferenced uploads live 1 h, referenced ones 15 days (pysogs defaults).
const FILE_TTL_S: f64 = 3600.0;
const FILE_POSTED_TTL_S: f64 = 15.0 * 86_400.0;
/// Inbox messages expire after 15 days (pysogs `DM_EXPIRY`).
const DM_TTL_S: f64 = 15.0 * 86_400.0;
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

struct Stored {
    author: SessionId,
    posted: f64,
    edited: Option<f64>,
    seqno: u64,
    data: Option<Vec<u8>>,
    signature: Option<[u8; 64]>,
    reactions: BTreeMap<String, Vec<SessionId>>,
}

struct RoomState {
    name: String,
    description: Option<String>,
    created: f64,
    info_updates: u64,
    seq: u64,
    defaults: Perms,
    overrides: BTreeMap<SessionId, Perms>,
    moderators: BTreeSet<SessionId>,
    messages: BTreeMap<u64, Stored>,
}

struct StoredFile {
    room: String,
    bytes: Vec<u8>,
    name: Option<String>,
    expires: f64,
}

struct Dm {
    id: u64,
    sender: SessionId,
    recipient: SessionId,
    posted_at: f64,
    data: Vec<u8>,
}

/// A community server's state and request handler.
///
/// ```
/// use metaless_community_server::{CommunityCore, Config, HttpRequest, Perms};
/// let mut core = CommunityCore::new([7; 32], Config::default());
/// core.add_room("lobby", "Lobby", Perms::ALL, 0).unwrap();
/// let reply = core.handle(1_000, &HttpRequest { method: "GET", path: "/capabilities", headers: vec![], body: b"" });
/// assert_eq!(reply.body, br#"{"capabilities":["blind","reactions","sogs"]}"#);
/// ```
pub struct CommunityCore {
    server_pk: [u8; 32],
    config: Config,
    rooms: BTreeMap<String, RoomState>,
    nonces: BTreeSet<(SessionId, [u8; 16])>,
    banned: BTreeSet<SessionId>,
    next_message: u64,
    files: BTreeMap<u64, StoredFile>,
    next_file: u64,
    dms: Vec<Dm>,
    next_dm: u64,
}

struct Ctx<'a> {
    require_blind: bool,
    banned: &'a BTreeSet<SessionId>,
    nonces: &'a mut BTreeSet<(SessionId, [u8; 16])>,
}

impl AuthContext for Ctx<'_> {
    fn require_blind(&self) -> bool {
        self.require_blind
    }
    fn is_banned(&mut self, user: &SessionId) -> bool {
        self.banned.contains(user)
    }
    fn record_nonce(&mut self, user: &SessionId, nonce: &[u8; 16]) -> bool {
        self.nonces.insert((*user, *nonce))
    }
}

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

impl CommunityCore {
    /// A server with key `server_pk` (its X25519 public key) and no rooms.
    pub fn new(server_pk: [u8; 32], config: Config) -> Self {
        Self {
            server_pk,
            config,
            rooms: BTreeMap::new(),
            nonces: BTreeSet::new(),
            banned: BTreeSet::new(),
            next_message: 1,
            files: BTreeMap::new(),
            next_file: 1,
            dms: Vec::new(),
            next_dm: 1,
        }
    }

    /// The server's X25519 public key.
    pub fn server_pk(&self) -> &[u8; 32] {
        &self.server_pk
    }

    /// Creates a room with default permissions `defaults` (an existing room is left as it is).
    pub fn add_room(
        &mut self,
        token: &str,
        name: &str,
        defaults: Perms,
        now_ms: u64,
    ) -> Result<(), metaless_community::CommunityError> {
        check_room(token)?;
        self.rooms.entry(token.into()).or_insert_with(|| RoomState {
            name: name.into(),
            description: None,
            created: now_ms as f64 / 1000.0,
            info_updates: 1,
            seq: 0,
            defaults,
            overrides: BTreeMap::new(),
            moderators: BTreeSet::new(),
            messages: BTreeMap::new(),
        });
        Ok(())
    }

    /// Sets one user's permissions in a room (`false` when there is no such room).
    pub fn set_permissions(&mut self, room: &str, user: SessionId, perms: Perms) -> bool {
        self.rooms
            .get_mut(room)
            .map(|r| r.overrides.insert(user, perms))
            .is_some()
    }

    /// Makes `user` a moderator of `room`.
    pub fn add_moderator(&mut self, room: &str, user: SessionId) -> bool {
        self.rooms
            .get_mut(room)
            .map(|r| {
                r.moderators.insert(user);
                r.info_updates += 1;
            })
            .is_some()
    }

    /// Bans `user` from the whole server (every request then gets 403 `Banned`).
    pub fn ban(&mut self, user: SessionId) {
        self.banned.insert(user);
    }

    fn perms(&self, room: &RoomState, user: Option<&SessionId>) -> Perms {
        let p = user
            .and_then(|u| room.overrides.get(u))
            .copied()
            .unwrap_or(room.defaults);
        if user.is_some_and(|u| room.moderators.contains(u)) {
            return Perms::ALL;
        }
        Perms {
            read: p.read,
            write: p.write && p.read,
            upload: p.upload && p.write && p.read,
        }
    }

    /// Answers one request: authentication first (pysogs order and texts), then the route.
    pub fn handle(&mut self, now_ms: u64, req: &HttpRequest<'_>) -> HttpReply {
        let (raw_path, query) = match req.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (req.path, None),
        };
        let Some(mut path) = decode_path(raw_path) else {
            return HttpReply::empty(400);
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
            banned: &self.banned,
            nonces: &mut self.nonces,
        };
        let user = match auth::verify(
            &self.server_pk,
            &got,
            req.method,
            &path,
            req.body,
            now_ms / 1000,
            &mut ctx,
        ) {
            Ok(user) => user,
            Err(rejection) => return HttpReply::text(rejection.status(), &rejection.to_string()),
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

    fn multi(
        &mut self,
        now_ms: u64,
        user: Option<&SessionId>,
        body: &[u8],
        stop: bool,
    ) -> HttpReply {
        let Ok(Value::Array(subs)) = serde_json::from_slice::<Value>(body) else {
            return HttpReply::text(400, "Invalid batch request: expected a JSON array");
        };
        let mut out = Vec::with_capacity(subs.len());
        for sub in subs {
            let (Some(method), Some(path)) = (sub["method"].as_str(), sub["path"].as_str()) else {
                return HttpReply::text(400, "Invalid batch request: method and path are required");
            };
            let body = if let Some(j) = sub.get("json") {
                serde_json::to_vec(j).unwrap_or_default()
            } else if let Some(b) = sub.get("b64").and_then(Value::as_str) {
                match B64.decode(b) {
                    Ok(b) => b,
                    Err(_) => return HttpReply::text(400, "Invalid batch request: bad b64"),
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
                self.route(now_ms, user, &sub_req, &route, query)
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
        HttpReply::json(200, &Value::Array(out))
    }

    fn route(
        &mut self,
        now_ms: u64,
        user: Option<&SessionId>,
        req: &HttpRequest<'_>,
        route: &str,
        query: &str,
    ) -> HttpReply {
        let now = now_ms as f64 / 1000.0;
        let seg: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        match (req.method, seg.as_slice()) {
            ("GET", ["capabilities"]) => self.capabilities(query),
            ("GET", ["rooms"]) => {
                let list: Vec<Room> = self
                    .rooms
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .iter()
                    .filter_map(|t| self.room_object(t, user))
                    .filter(|r| r.read)
                    .collect();
                HttpReply::json(200, &serde_json::to_value(list).unwrap_or_default())
            }
            ("GET", ["room", r]) => self.with_read(r, user, |s| {
                s.room_object(r, user)
                    .map(|o| HttpReply::json(200, &serde_json::to_value(o).unwrap_or_default()))
            }),
            ("GET", ["room", r, "pollInfo", n]) => {
                let n: u64 = n.parse().unwrap_or(0);
                self.with_read(r, user, |s| {
                    let room = s.room_object(r, user)?;
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
                    Some(HttpReply::json(
                        200,
                        &serde_json::to_value(info).unwrap_or_default(),
                    ))
                })
            }
            ("GET", ["room", r, "messages", kind, rest @ ..]) => {
                let limit = query_param(query, "limit")
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(DEFAULT_LIMIT)
                    .clamp(1, MAX_LIST_LIMIT as usize);
                let arg = rest.first().and_then(|a| a.parse::<u64>().ok());
                let kind = (*kind).to_owned();
                self.with_read(r, user, |s| {
                    s.list_messages(
                        r,
                        user,
                        &kind,
                        arg,
                        limit,
                        query_param(query, "t") == Some("r"),
                    )
                })
            }
            ("GET", ["room", r, "message", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                self.with_read(r, user, |s| {
                    let room = s.rooms.get(*r)?;
                    let m = room.messages.get(&id).filter(|m| m.data.is_some())?;
                    Some(HttpReply::json(
                        200,
                        &serde_json::to_value(message_object(id, m, user)).unwrap_or_default(),
                    ))
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
                    let f = s
                        .files
                        .get(&id)
                        .filter(|f| f.room == *r && f.expires > now)?;
                    let disposition = match &f.name {
                        Some(n) => format!("attachment; filename*=UTF-8''{}", pct(n)),
                        None => "attachment".into(),
                    };
                    Some(HttpReply {
                        status: 200,
                        headers: vec![
                            ("content-type".into(), "application/octet-stream".into()),
                            ("content-disposition".into(), disposition),
                        ],
                        body: f.bytes.clone(),
                    })
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
                Err(e) => e,
                Ok(u) => {
                    let before = self.dms.len();
                    self.dms.retain(|d| d.recipient != *u);
                    HttpReply::json(200, &json!({ "deleted": before - self.dms.len() }))
                }
            },
            _ => HttpReply::empty(404),
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
    /// with pysogs' `read_required` text).
    fn with_read(
        &mut self,
        r: &str,
        user: Option<&SessionId>,
        f: impl FnOnce(&mut Self) -> Option<HttpReply>,
    ) -> HttpReply {
        let Some(room) = self.rooms.get(r) else {
            return HttpReply::empty(404);
        };
        if !self.perms(room, user).read {
            return HttpReply::text(403, "This endpoint requires room message 'read' permission");
        }
        f(self).unwrap_or_else(|| HttpReply::empty(404))
    }

    fn room_object(&self, token: &str, user: Option<&SessionId>) -> Option<Room> {
        let room = self.rooms.get(token)?;
        let p = self.perms(room, user);
        let authors: BTreeSet<&SessionId> = room.messages.values().map(|m| &m.author).collect();
        Some(Room {
            token: token.into(),
            name: room.name.clone(),
            description: room.description.clone(),
            info_updates: room.info_updates,
            message_sequence: room.seq,
            created: room.created,
            active_users: authors.len() as u64,
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
        })
    }

    fn list_messages(
        &self,
        r: &str,
        user: Option<&SessionId>,
        kind: &str,
        arg: Option<u64>,
        limit: usize,
        reactions: bool,
    ) -> Option<HttpReply> {
        let room = self.rooms.get(r)?;
        let list: Vec<Message> = match (kind, arg) {
            ("since", Some(seq)) => {
                let mut v: Vec<(&u64, &Stored)> = room
                    .messages
                    .iter()
                    .filter(|(_, m)| m.seqno > seq)
                    .collect();
                v.sort_by_key(|(_, m)| m.seqno);
                v.into_iter()
                    .take(limit)
                    .map(|(id, m)| message_object(*id, m, user))
                    .filter(|m| reactions || m.data.is_some() || m.deleted)
                    .collect()
            }
            ("recent", None) => room
                .messages
                .iter()
                .rev()
                .filter(|(_, m)| m.data.is_some())
                .take(limit)
                .map(|(id, m)| message_object(*id, m, user))
                .collect(),
            ("before", Some(before)) => room
                .messages
                .range(..before)
                .rev()
                .filter(|(_, m)| m.data.is_some())
                .take(limit)
                .map(|(id, m)| message_object(*id, m, user))
                .collect(),
            _ => return None,
        };
        Some(HttpReply::json(
            200,
            &serde_json::to_value(list).unwrap_or_default(),
        ))
    }

    fn post(&mut self, now: f64, user: Option<&SessionId>, r: &str, body: &[u8]) -> HttpReply {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return e,
        };
        let Some(room) = self.rooms.get(r) else {
            return HttpReply::empty(404);
        };
        let p = self.perms(room, Some(&u));
        if !p.read {
            return HttpReply::text(403, "This endpoint requires room message 'read' permission");
        }
        if !p.write {
            return HttpReply::empty(403);
        }
        let Some((data, signature, files)) = parse_post(body) else {
            return HttpReply::empty(400);
        };
        let id = self.next_message;
        self.next_message += 1;
        for f in files {
            if let Some(file) = self.files.get_mut(&f).filter(|f| f.room == r) {
                file.expires = file.expires.max(now + FILE_POSTED_TTL_S);
            }
        }
        let Some(room) = self.rooms.get_mut(r) else {
            return HttpReply::empty(404);
        };
        room.seq += 1;
        let stored = Stored {
            author: u,
            posted: now,
            edited: None,
            seqno: room.seq,
            data: Some(data),
            signature: Some(signature),
            reactions: BTreeMap::new(),
        };
        let obj = message_object(id, &stored, Some(&u));
        room.messages.insert(id, stored);
        HttpReply::json(201, &serde_json::to_value(obj).unwrap_or_default())
    }

    fn edit(
        &mut self,
        now: f64,
        user: Option<&SessionId>,
        r: &str,
        id: &str,
        body: &[u8],
    ) -> HttpReply {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return e,
        };
        let id: u64 = id.parse().unwrap_or(0);
        let Some((data, signature, _)) = parse_post(body) else {
            return HttpReply::empty(400);
        };
        let Some(room) = self.rooms.get_mut(r) else {
            return HttpReply::empty(404);
        };
        let Some(m) = room.messages.get_mut(&id).filter(|m| m.data.is_some()) else {
            return HttpReply::empty(404);
        };
        if m.author != u {
            return HttpReply::empty(403);
        }
        room.seq += 1;
        m.seqno = room.seq;
        m.data = Some(data);
        m.signature = Some(signature);
        m.edited = Some(now);
        HttpReply::json(200, &json!({}))
    }

    fn delete(&mut self, user: Option<&SessionId>, r: &str, id: &str) -> HttpReply {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return e,
        };
        let id: u64 = id.parse().unwrap_or(0);
        let Some(room) = self.rooms.get_mut(r) else {
            return HttpReply::empty(404);
        };
        let is_mod = room.moderators.contains(&u);
        let Some(m) = room.messages.get_mut(&id).filter(|m| m.data.is_some()) else {
            return HttpReply::empty(404);
        };
        if m.author != u && !is_mod {
            return HttpReply::empty(403);
        }
        room.seq += 1;
        m.seqno = room.seq;
        m.data = None;
        m.signature = None;
        m.reactions.clear();
        HttpReply::json(200, &json!({}))
    }

    fn react(
        &mut self,
        user: Option<&SessionId>,
        r: &str,
        id: &str,
        emoji: &str,
        add: bool,
    ) -> HttpReply {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return e,
        };
        let id: u64 = id.parse().unwrap_or(0);
        let Some(room) = self.rooms.get(r) else {
            return HttpReply::empty(404);
        };
        if !self.perms(room, Some(&u)).read {
            return HttpReply::text(403, "This endpoint requires room message 'read' permission");
        }
        let Some(room) = self.rooms.get_mut(r) else {
            return HttpReply::empty(404);
        };
        let Some(m) = room.messages.get_mut(&id).filter(|m| m.data.is_some()) else {
            return HttpReply::empty(404);
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
        }
        let key = if add { "added" } else { "removed" };
        HttpReply::json(200, &json!({ key: changed, "seqno": m.seqno }))
    }

    fn upload(
        &mut self,
        now: f64,
        user: Option<&SessionId>,
        r: &str,
        req: &HttpRequest<'_>,
    ) -> HttpReply {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return e,
        };
        let Some(room) = self.rooms.get(r) else {
            return HttpReply::empty(404);
        };
        if !self.perms(room, Some(&u)).upload {
            return HttpReply::empty(403);
        }
        if req.body.len() > self.config.max_upload {
            return HttpReply::empty(413);
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
        let id = self.next_file;
        self.next_file += 1;
        self.files.insert(
            id,
            StoredFile {
                room: r.into(),
                bytes: req.body.to_vec(),
                name,
                expires: now + FILE_TTL_S,
            },
        );
        HttpReply::json(201, &json!({ "id": id }))
    }

    fn send_dm(&mut self, now: f64, user: Option<&SessionId>, to: &str, body: &[u8]) -> HttpReply {
        let u = match require_user(user) {
            Ok(u) => *u,
            Err(e) => return e,
        };
        let Ok(recipient) = to.parse::<SessionId>() else {
            return HttpReply::empty(404);
        };
        if !matches!(
            recipient.prefix(),
            SessionIdPrefix::Blinded15 | SessionIdPrefix::Blinded25
        ) || self.banned.contains(&recipient)
        {
            return HttpReply::empty(404);
        }
        let Some(data) = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v["message"].as_str().and_then(|m| B64.decode(m).ok()))
        else {
            return HttpReply::empty(400);
        };
        let id = self.next_dm;
        self.next_dm += 1;
        self.dms.push(Dm {
            id,
            sender: u,
            recipient,
            posted_at: now,
            data,
        });
        let reply = DirectMessage {
            id,
            posted_at: now,
            expires_at: now + DM_TTL_S,
            sender: u,
            recipient,
            message: None,
        };
        HttpReply::json(201, &serde_json::to_value(reply).unwrap_or_default())
    }

    fn list_dms(
        &mut self,
        now: f64,
        user: Option<&SessionId>,
        inbox: bool,
        since: Option<u64>,
    ) -> HttpReply {
        let u = match require_blinded(user) {
            Ok(u) => *u,
            Err(e) => return e,
        };
        self.dms.retain(|d| d.posted_at + DM_TTL_S > now);
        let list: Vec<DirectMessage> = self
            .dms
            .iter()
            .filter(|d| {
                if inbox {
                    d.recipient == u
                } else {
                    d.sender == u
                }
            })
            .filter(|d| since.is_none_or(|s| d.id > s))
            .take(DEFAULT_LIMIT)
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
            return HttpReply::empty(304);
        }
        HttpReply::json(200, &serde_json::to_value(list).unwrap_or_default())
    }
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

fn message_object(id: u64, m: &Stored, user: Option<&SessionId>) -> Message {
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
