//! Typed requests to a community server: one constructor per endpoint, each producing the
//! method, path (raw UTF-8, which is both signed and sent through the onion) and body.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine;
use metaless_identity::{Keypair, SessionId, SessionIdPrefix, blinding};
use rand_core::CryptoRngCore;
use serde_json::{Map, Value, json};

use crate::auth::{self, AuthHeaders, AuthMode};
use crate::limits::{
    MAX_BATCH_LEN, MAX_FILENAME_LEN, MAX_LIST_LIMIT, MAX_REACTORS, MAX_UPLOAD_SIZE,
};
use crate::{CommunityError, check_room};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// No body (GET, DELETE).
    None,
    /// A JSON document.
    Json(Vec<u8>),
    /// Raw bytes (file uploads) with their content type.
    Bytes(Vec<u8>),
}

impl Body {
    /// The body bytes (empty for [`Body::None`]).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Body::None => &[],
            Body::Json(b) | Body::Bytes(b) => b,
        }
    }
}

/// One request to a community server.
///
/// ```
/// use metaless_community::Request;
/// let r = Request::messages_since("lobby", 42, Some(100), true).unwrap();
/// assert_eq!((r.method(), r.path()), ("GET", "/room/lobby/messages/since/42?t=r&limit=100&reactors=4"));
/// assert!(Request::room("../etc").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    method: &'static str,
    path: String,
    body: Body,
    headers: Vec<(String, String)>,
}

/// What [`Request::post_message`] sends: the message bytes (normally `pad(Content)`) and their
/// signature by the poster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostMessage {
    /// The posted bytes.
    pub data: Vec<u8>,
    /// The 15-blinded signature over exactly `data`.
    pub signature: [u8; 64],
    /// A whisper's recipient (moderators only).
    pub whisper_to: Option<SessionId>,
    /// Whisper to all moderators (moderators only).
    pub whisper_mods: bool,
    /// Ids of uploaded files the post references (extends their lifetime).
    pub files: Vec<u64>,
}

impl PostMessage {
    /// Signs `data` with the account's 15-blinded key for this server (what every current
    /// server requires; `05` posters sign with XEd25519, which this crate does not produce).
    ///
    /// ```
    /// use metaless_community::PostMessage;
    /// use metaless_identity::{blinding, verify_ed25519, Keypair, Seed};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    /// let post = PostMessage::signed(&keys, &[2; 32], b"data".to_vec(), vec![]);
    /// let id = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &[2; 32]).unwrap();
    /// assert!(verify_ed25519(id.key(), b"data", &post.signature).is_ok());
    /// ```
    pub fn signed(keys: &Keypair, server_pk: &[u8; 32], data: Vec<u8>, files: Vec<u64>) -> Self {
        let signature = blinding::blind15_sign(keys, server_pk, &data);
        Self {
            data,
            signature,
            whisper_to: None,
            whisper_mods: false,
            files,
        }
    }

    fn to_json(&self, with_whisper: bool) -> Value {
        let mut m = Map::new();
        m.insert("data".into(), Value::String(B64.encode(&self.data)));
        m.insert(
            "signature".into(),
            Value::String(B64.encode(self.signature)),
        );
        if with_whisper {
            if let Some(to) = &self.whisper_to {
                m.insert("whisper_to".into(), Value::String(to.to_string()));
            }
            if self.whisper_mods {
                m.insert("whisper_mods".into(), Value::Bool(true));
            }
        }
        if !self.files.is_empty() {
            m.insert("files".into(), json!(self.files));
        }
        Value::Object(m)
    }
}

fn json_body(value: &Value) -> Body {
    Body::Json(serde_json::to_vec(value).unwrap_or_default())
}

fn limit_ok(limit: Option<u32>) -> Result<(), CommunityError> {
    match limit {
        Some(l) if l == 0 || l > MAX_LIST_LIMIT => {
            Err(CommunityError::InvalidRequest("limit must be 1..=256"))
        }
        _ => Ok(()),
    }
}

/// A reaction emoji as a path segment: non-empty, at most 12 characters (pysogs), no `/`, `?`, `#`.
fn emoji_ok(emoji: &str) -> Result<(), CommunityError> {
    let n = emoji.chars().count();
    if n == 0
        || n > 12
        || emoji.contains(['/', '?', '#', '%'])
        || emoji.chars().any(char::is_control)
    {
        return Err(CommunityError::InvalidRequest("reaction emoji"));
    }
    Ok(())
}

impl Request {
    fn get(path: String) -> Self {
        Self {
            method: "GET",
            path,
            body: Body::None,
            headers: Vec::new(),
        }
    }

    fn with_json(method: &'static str, path: String, value: &Value) -> Self {
        Self {
            method,
            path,
            body: json_body(value),
            headers: Vec::new(),
        }
    }

    /// HTTP method.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// Path and query, as signed and sent.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// Extra headers (content type and disposition of uploads).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// `GET /capabilities[?required=a,b]`.
    ///
    /// ```
    /// use metaless_community::Request;
    /// assert_eq!(Request::capabilities(&["sogs", "blind"]).path(), "/capabilities?required=sogs,blind");
    /// assert_eq!(Request::capabilities(&[]).path(), "/capabilities");
    /// ```
    pub fn capabilities(required: &[&str]) -> Self {
        if required.is_empty() {
            Self::get("/capabilities".into())
        } else {
            Self::get(alloc::format!(
                "/capabilities?required={}",
                required.join(",")
            ))
        }
    }

    /// `GET /rooms`.
    pub fn rooms() -> Self {
        Self::get("/rooms".into())
    }

    /// `GET /room/<r>`.
    pub fn room(room: &str) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::get(alloc::format!("/room/{room}")))
    }

    /// `GET /room/<r>/pollInfo/<info_updates>`.
    pub fn poll_info(room: &str, info_updates: u64) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::get(alloc::format!(
            "/room/{room}/pollInfo/{info_updates}"
        )))
    }

    /// `GET /room/<r>/messages/since/<seqno>`, with reaction-only updates (`t=r`) when
    /// `reactions` is set, as desktop polls.
    pub fn messages_since(
        room: &str,
        seqno: u64,
        limit: Option<u32>,
        reactions: bool,
    ) -> Result<Self, CommunityError> {
        check_room(room)?;
        limit_ok(limit)?;
        let mut q = Vec::new();
        if reactions {
            q.push("t=r".to_string());
        }
        if let Some(l) = limit {
            q.push(alloc::format!("limit={l}"));
        }
        if reactions {
            q.push(alloc::format!("reactors={}", MAX_REACTORS.min(4)));
        }
        Ok(Self::get(with_query(
            alloc::format!("/room/{room}/messages/since/{seqno}"),
            &q,
        )))
    }

    /// `GET /room/<r>/messages/recent` (newest first).
    pub fn messages_recent(room: &str, limit: Option<u32>) -> Result<Self, CommunityError> {
        check_room(room)?;
        limit_ok(limit)?;
        let q: Vec<String> = limit
            .map(|l| alloc::format!("limit={l}"))
            .into_iter()
            .collect();
        Ok(Self::get(with_query(
            alloc::format!("/room/{room}/messages/recent"),
            &q,
        )))
    }

    /// `GET /room/<r>/messages/before/<id>` (newest first).
    pub fn messages_before(
        room: &str,
        id: u64,
        limit: Option<u32>,
    ) -> Result<Self, CommunityError> {
        check_room(room)?;
        limit_ok(limit)?;
        let q: Vec<String> = limit
            .map(|l| alloc::format!("limit={l}"))
            .into_iter()
            .collect();
        Ok(Self::get(with_query(
            alloc::format!("/room/{room}/messages/before/{id}"),
            &q,
        )))
    }

    /// `GET /room/<r>/message/<id>`.
    pub fn message(room: &str, id: u64) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::get(alloc::format!("/room/{room}/message/{id}")))
    }

    /// `POST /room/<r>/message` (reply 201 + message object).
    ///
    /// ```
    /// use metaless_community::{PostMessage, Request};
    /// let post = PostMessage { data: b"x".to_vec(), signature: [0; 64], whisper_to: None, whisper_mods: false, files: vec![7] };
    /// let r = Request::post_message("lobby", &post).unwrap();
    /// let body: serde_json::Value = serde_json::from_slice(r.body().bytes()).unwrap();
    /// assert_eq!(body["data"], "eA==");
    /// assert_eq!(body["files"][0], 7);
    /// ```
    pub fn post_message(room: &str, post: &PostMessage) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::with_json(
            "POST",
            alloc::format!("/room/{room}/message"),
            &post.to_json(true),
        ))
    }

    /// `PUT /room/<r>/message/<id>` (edit, author only; whispers cannot change).
    pub fn edit_message(room: &str, id: u64, post: &PostMessage) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::with_json(
            "PUT",
            alloc::format!("/room/{room}/message/{id}"),
            &post.to_json(false),
        ))
    }

    /// `DELETE /room/<r>/message/<id>` (author or moderator).
    pub fn delete_message(room: &str, id: u64) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self {
            method: "DELETE",
            path: alloc::format!("/room/{room}/message/{id}"),
            body: Body::None,
            headers: Vec::new(),
        })
    }

    /// `PUT /room/<r>/reaction/<id>/<emoji>` with body `{}`.
    ///
    /// ```
    /// let r = metaless_community::Request::add_reaction("lobby", 5, "👍").unwrap();
    /// assert_eq!((r.method(), r.path(), r.body().bytes()), ("PUT", "/room/lobby/reaction/5/👍", &b"{}"[..]));
    /// ```
    pub fn add_reaction(room: &str, id: u64, emoji: &str) -> Result<Self, CommunityError> {
        check_room(room)?;
        emoji_ok(emoji)?;
        Ok(Self::with_json(
            "PUT",
            alloc::format!("/room/{room}/reaction/{id}/{emoji}"),
            &json!({}),
        ))
    }

    /// `DELETE /room/<r>/reaction/<id>/<emoji>`.
    pub fn remove_reaction(room: &str, id: u64, emoji: &str) -> Result<Self, CommunityError> {
        check_room(room)?;
        emoji_ok(emoji)?;
        Ok(Self {
            method: "DELETE",
            path: alloc::format!("/room/{room}/reaction/{id}/{emoji}"),
            body: Body::None,
            headers: Vec::new(),
        })
    }

    /// `DELETE /room/<r>/reactions/<id>[/<emoji>]` (moderators: clear reactions).
    pub fn clear_reactions(
        room: &str,
        id: u64,
        emoji: Option<&str>,
    ) -> Result<Self, CommunityError> {
        check_room(room)?;
        let path = match emoji {
            Some(e) => {
                emoji_ok(e)?;
                alloc::format!("/room/{room}/reactions/{id}/{e}")
            }
            None => alloc::format!("/room/{room}/reactions/{id}"),
        };
        Ok(Self {
            method: "DELETE",
            path,
            body: Body::None,
            headers: Vec::new(),
        })
    }

    /// `GET /room/<r>/reactors/<id>/<emoji>[?limit=L]`: who reacted (pysogs `get_reactors`).
    pub fn reactors(
        room: &str,
        id: u64,
        emoji: &str,
        limit: Option<u32>,
    ) -> Result<Self, CommunityError> {
        check_room(room)?;
        emoji_ok(emoji)?;
        limit_ok(limit)?;
        let q: Vec<String> = limit
            .map(|l| alloc::format!("limit={l}"))
            .into_iter()
            .collect();
        Ok(Self::get(with_query(
            alloc::format!("/room/{room}/reactors/{id}/{emoji}"),
            &q,
        )))
    }

    /// `POST /room/<r>/file`: the plain file bytes with its name (reply 201 `{"id"}`).
    ///
    /// ```
    /// use metaless_community::{CommunityError, Request};
    /// let r = Request::upload_file("lobby", b"hello".to_vec(), Some("a b.txt")).unwrap();
    /// assert_eq!(r.headers()[1].1, "attachment; filename*=UTF-8''a%20b.txt");
    /// assert!(matches!(Request::upload_file("lobby", vec![0; 10_000_001], None), Err(CommunityError::TooLarge { .. })));
    /// ```
    pub fn upload_file(
        room: &str,
        bytes: Vec<u8>,
        filename: Option<&str>,
    ) -> Result<Self, CommunityError> {
        check_room(room)?;
        if bytes.len() > MAX_UPLOAD_SIZE {
            return Err(CommunityError::TooLarge {
                what: "upload",
                len: bytes.len(),
                max: MAX_UPLOAD_SIZE,
            });
        }
        let mut headers = alloc::vec![(
            "Content-Type".to_string(),
            "application/octet-stream".to_string()
        )];
        if let Some(name) = filename {
            if name.chars().count() > MAX_FILENAME_LEN {
                return Err(CommunityError::TooLarge {
                    what: "filename",
                    len: name.chars().count(),
                    max: MAX_FILENAME_LEN,
                });
            }
            headers.push((
                "Content-Disposition".into(),
                alloc::format!("attachment; filename*=UTF-8''{}", pct_encode(name)),
            ));
        }
        Ok(Self {
            method: "POST",
            path: alloc::format!("/room/{room}/file"),
            body: Body::Bytes(bytes),
            headers,
        })
    }

    /// `GET /room/<r>/file/<id>` (raw bytes back).
    pub fn download_file(room: &str, id: u64) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::get(alloc::format!("/room/{room}/file/{id}")))
    }

    /// `POST /room/<r>/pin/<id>` (admins).
    pub fn pin(room: &str, id: u64) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::with_json(
            "POST",
            alloc::format!("/room/{room}/pin/{id}"),
            &json!({}),
        ))
    }

    /// `POST /room/<r>/unpin/<id>` (admins).
    pub fn unpin(room: &str, id: u64) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::with_json(
            "POST",
            alloc::format!("/room/{room}/unpin/{id}"),
            &json!({}),
        ))
    }

    /// `POST /user/<id>/ban` for the given rooms (moderators), optionally for `timeout` seconds.
    pub fn ban(
        user: &SessionId,
        rooms: &[&str],
        timeout_s: Option<u64>,
    ) -> Result<Self, CommunityError> {
        for r in rooms {
            check_room(r)?;
        }
        let mut body = json!({ "rooms": rooms });
        if let Some(t) = timeout_s {
            body["timeout"] = json!(t);
        }
        Ok(Self::with_json(
            "POST",
            alloc::format!("/user/{user}/ban"),
            &body,
        ))
    }

    /// `POST /user/<id>/unban` for the given rooms (moderators).
    pub fn unban(user: &SessionId, rooms: &[&str]) -> Result<Self, CommunityError> {
        for r in rooms {
            check_room(r)?;
        }
        Ok(Self::with_json(
            "POST",
            alloc::format!("/user/{user}/unban"),
            &json!({ "rooms": rooms }),
        ))
    }

    /// `GET /room/<r>/permissions` (moderators): every user with assigned permissions or a ban.
    pub fn permissions(room: &str) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::get(alloc::format!("/room/{room}/permissions")))
    }

    /// `GET /room/<r>/permissions/<id>` (moderators): one user's assigned permissions.
    pub fn user_permissions(room: &str, user: &SessionId) -> Result<Self, CommunityError> {
        check_room(room)?;
        Ok(Self::get(alloc::format!("/room/{room}/permissions/{user}")))
    }

    /// `POST /inbox/<blinded id>` with a blinded DM (see [`crate::dm`]).
    ///
    /// ```
    /// use metaless_community::Request;
    /// let to: metaless_identity::SessionId = format!("15{}", "11".repeat(32)).parse().unwrap();
    /// assert!(Request::send_dm(&to, b"x").unwrap().path().starts_with("/inbox/15"));
    /// let not_blinded: metaless_identity::SessionId = format!("05{}", "11".repeat(32)).parse().unwrap();
    /// assert!(Request::send_dm(&not_blinded, b"x").is_err());
    /// ```
    pub fn send_dm(recipient: &SessionId, data: &[u8]) -> Result<Self, CommunityError> {
        if !matches!(
            recipient.prefix(),
            SessionIdPrefix::Blinded15 | SessionIdPrefix::Blinded25
        ) {
            return Err(CommunityError::InvalidRequest("DMs go to 15 or 25 ids"));
        }
        Ok(Self::with_json(
            "POST",
            alloc::format!("/inbox/{recipient}"),
            &json!({ "message": B64.encode(data) }),
        ))
    }

    /// `GET /inbox` or `/inbox/since/<id>` (15-blinded auth only; 304 when nothing new).
    pub fn inbox(since: Option<u64>) -> Self {
        match since {
            Some(id) => Self::get(alloc::format!("/inbox/since/{id}")),
            None => Self::get("/inbox".into()),
        }
    }

    /// `GET /outbox` or `/outbox/since/<id>`.
    pub fn outbox(since: Option<u64>) -> Self {
        match since {
            Some(id) => Self::get(alloc::format!("/outbox/since/{id}")),
            None => Self::get("/outbox".into()),
        }
    }

    /// `DELETE /inbox`.
    pub fn clear_inbox() -> Self {
        Self {
            method: "DELETE",
            path: "/inbox".into(),
            body: Body::None,
            headers: Vec::new(),
        }
    }

    /// `POST /batch`: all sub-requests run (authentication of the outer request covers them).
    ///
    /// ```
    /// use metaless_community::Request;
    /// let b = Request::batch(&[Request::capabilities(&[]), Request::inbox(None)]).unwrap();
    /// let v: serde_json::Value = serde_json::from_slice(b.body().bytes()).unwrap();
    /// assert_eq!(v[1], serde_json::json!({"method": "GET", "path": "/inbox"}));
    /// ```
    pub fn batch(requests: &[Request]) -> Result<Self, CommunityError> {
        Self::multi("/batch", requests)
    }

    /// `POST /sequence`: like [`Request::batch`], stopping after the first non-2xx.
    pub fn sequence(requests: &[Request]) -> Result<Self, CommunityError> {
        Self::multi("/sequence", requests)
    }

    fn multi(path: &str, requests: &[Request]) -> Result<Self, CommunityError> {
        if requests.is_empty() {
            return Err(CommunityError::InvalidRequest("empty batch"));
        }
        if requests.len() > MAX_BATCH_LEN {
            return Err(CommunityError::TooLarge {
                what: "batch",
                len: requests.len(),
                max: MAX_BATCH_LEN,
            });
        }
        let mut list = Vec::with_capacity(requests.len());
        for r in requests {
            let mut m = Map::new();
            m.insert("method".into(), Value::String(r.method.into()));
            m.insert("path".into(), Value::String(r.path.clone()));
            if !r.headers.is_empty() {
                let h: Map<String, Value> = r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                m.insert("headers".into(), Value::Object(h));
            }
            match &r.body {
                Body::None => {}
                Body::Json(b) => {
                    let v: Value = serde_json::from_slice(b).map_err(|_| {
                        CommunityError::InvalidRequest("sub-request body is not JSON")
                    })?;
                    m.insert("json".into(), v);
                }
                Body::Bytes(b) => {
                    m.insert("b64".into(), Value::String(B64.encode(b)));
                }
            }
            list.push(Value::Object(m));
        }
        Ok(Self::with_json("POST", path.into(), &Value::Array(list)))
    }

    /// Signs this request (see [`crate::auth`]).
    pub fn sign(
        &self,
        keys: &Keypair,
        server_pk: &[u8; 32],
        mode: AuthMode,
        now_ms: u64,
        rng: &mut impl CryptoRngCore,
    ) -> AuthHeaders {
        auth::sign_now(
            keys,
            server_pk,
            mode,
            self.method,
            &self.path,
            self.body.bytes(),
            now_ms,
            rng,
        )
    }

    /// The onion v4 payload for this request with `auth` headers (if any): what goes inside the
    /// onion to the server's `/oxen/v4/lsrpc`.
    ///
    /// ```
    /// use metaless_community::Request;
    /// let bytes = Request::rooms().to_v4(None);
    /// assert!(bytes.starts_with(b"l") && bytes.ends_with(b"e"));
    /// assert_eq!(metaless_onion::v4::decode_request(&bytes).unwrap().endpoint, "/rooms");
    /// ```
    pub fn to_v4(&self, auth: Option<&AuthHeaders>) -> Vec<u8> {
        let pairs = auth.map(AuthHeaders::pairs);
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(p) = &pairs {
            headers.extend(p.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let body = match &self.body {
            Body::None => None,
            Body::Json(b) | Body::Bytes(b) => Some(b.as_slice()),
        };
        metaless_onion::v4::encode_request(self.method, &self.path, &headers, body)
    }

    /// [`Request::sign`] then [`Request::to_v4`].
    pub fn to_v4_signed(
        &self,
        keys: &Keypair,
        server_pk: &[u8; 32],
        mode: AuthMode,
        now_ms: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Vec<u8> {
        let auth = self.sign(keys, server_pk, mode, now_ms, rng);
        self.to_v4(Some(&auth))
    }
}

fn with_query(path: String, q: &[String]) -> String {
    if q.is_empty() {
        path
    } else {
        alloc::format!("{path}?{}", q.join("&"))
    }
}

/// RFC 5987 percent-encoding of a filename (unreserved characters stay).
fn pct_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&alloc::format!("%{b:02X}"));
        }
    }
    out
}
