//! Parsers of a community server's replies. Each takes the status code and body of one reply
//! (from [`Reply::from_v4`], or one element of a batch) and returns a typed value; any status
//! other than the endpoint's success code is [`CommunityError::Status`] with the body kept.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine;
use metaless_identity::{SessionId, SessionIdPrefix, verify_ed25519};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::CommunityError;
use crate::limits::{MAX_BATCH_LEN, MAX_REPLY_SIZE};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A reply: status, lower-case headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status code.
    pub code: u16,
    /// Headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// Decodes the plaintext of an onion v4 reply (`l<info>:<body>e`).
    ///
    /// ```
    /// use metaless_community::Reply;
    /// let bytes = metaless_onion::v4::encode_response(200, &[], br#"{"capabilities":["sogs"]}"#);
    /// let reply = Reply::from_v4(&bytes).unwrap();
    /// assert_eq!(reply.capabilities().unwrap().capabilities, ["sogs"]);
    /// assert!(Reply::from_v4(b"l3:abce").is_err());
    /// ```
    pub fn from_v4(bytes: &[u8]) -> Result<Self, CommunityError> {
        if bytes.len() > MAX_REPLY_SIZE + 64 * 1024 {
            return Err(CommunityError::TooLarge {
                what: "reply",
                len: bytes.len(),
                max: MAX_REPLY_SIZE,
            });
        }
        let r = metaless_onion::v4::decode_response(bytes)?;
        Ok(Self {
            code: r.code,
            headers: r.headers,
            body: r.body.to_vec(),
        })
    }

    fn json<T: DeserializeOwned>(
        &self,
        ok: &[u16],
        what: &'static str,
    ) -> Result<T, CommunityError> {
        if !ok.contains(&self.code) {
            return Err(CommunityError::Status {
                code: self.code,
                body: self.body.clone(),
            });
        }
        if self.body.len() > MAX_REPLY_SIZE {
            return Err(CommunityError::TooLarge {
                what: "reply",
                len: self.body.len(),
                max: MAX_REPLY_SIZE,
            });
        }
        serde_json::from_slice(&self.body).map_err(|_| CommunityError::MalformedReply { what })
    }

    /// `GET /capabilities` (200, or 412 with `missing`).
    pub fn capabilities(&self) -> Result<Capabilities, CommunityError> {
        self.json(&[200, 412], "capabilities")
    }

    /// `GET /rooms`.
    pub fn rooms(&self) -> Result<Vec<Room>, CommunityError> {
        self.json(&[200], "rooms")
    }

    /// `GET /room/<r>`.
    pub fn room(&self) -> Result<Room, CommunityError> {
        self.json(&[200], "room")
    }

    /// `GET /room/<r>/pollInfo/<n>`.
    pub fn poll_info(&self) -> Result<PollInfo, CommunityError> {
        self.json(&[200], "pollInfo")
    }

    /// `GET …/messages/*`: the list of messages (updates in order for `since`).
    ///
    /// ```
    /// use metaless_community::Reply;
    /// let body = br#"[{"id":1,"session_id":"15aa","posted":1.5,"seqno":3,"data":null,"deleted":true}]"#;
    /// let reply = Reply { code: 200, headers: Default::default(), body: body.to_vec() };
    /// assert!(reply.messages().is_err()); // "15aa" is no Session ID
    /// ```
    pub fn messages(&self) -> Result<Vec<Message>, CommunityError> {
        self.json(&[200], "messages")
    }

    /// `GET /room/<r>/message/<id>`.
    pub fn message(&self) -> Result<Message, CommunityError> {
        self.json(&[200], "message")
    }

    /// `POST /room/<r>/message`: 201 and the stored message.
    pub fn posted(&self) -> Result<Message, CommunityError> {
        self.json(&[201], "posted message")
    }

    /// Endpoints answering 200 `{}` (edit, delete, pin, ban, …).
    pub fn empty_ok(&self) -> Result<(), CommunityError> {
        let _: Value = self.json(&[200], "empty reply")?;
        Ok(())
    }

    /// `PUT …/reaction/…`.
    pub fn reaction_added(&self) -> Result<ReactionAdded, CommunityError> {
        self.json(&[200], "reaction")
    }

    /// `DELETE …/reaction/…`.
    pub fn reaction_removed(&self) -> Result<ReactionRemoved, CommunityError> {
        self.json(&[200], "reaction")
    }

    /// `DELETE …/reactions/…` (moderators).
    pub fn reactions_cleared(&self) -> Result<u64, CommunityError> {
        #[derive(Deserialize)]
        struct R {
            removed: u64,
        }
        Ok(self.json::<R>(&[200], "reactions cleared")?.removed)
    }

    /// `GET …/reactors/…`: `[[session_id, unix seconds], …]`.
    pub fn reactors(&self) -> Result<Vec<(SessionId, f64)>, CommunityError> {
        let list: Vec<(String, f64)> = self.json(&[200], "reactors")?;
        list.into_iter()
            .map(|(id, t)| {
                Ok((
                    id.parse()
                        .map_err(|_| CommunityError::MalformedReply { what: "reactor id" })?,
                    t,
                ))
            })
            .collect()
    }

    /// `GET /room/<r>/permissions` (moderators): assigned permissions and bans by user.
    ///
    /// ```
    /// use metaless_community::Reply;
    /// let body = format!(r#"{{"15{}":{{"banned":true,"read":false}}}}"#, "11".repeat(32));
    /// let perms = Reply { code: 200, headers: Default::default(), body: body.into_bytes() }.permissions().unwrap();
    /// assert!(perms.values().next().unwrap().banned);
    /// ```
    pub fn permissions(&self) -> Result<BTreeMap<SessionId, UserPermissions>, CommunityError> {
        let map: BTreeMap<String, UserPermissions> = self.json(&[200], "permissions")?;
        map.into_iter()
            .map(|(k, v)| {
                Ok((
                    k.parse().map_err(|_| CommunityError::MalformedReply {
                        what: "permission id",
                    })?,
                    v,
                ))
            })
            .collect()
    }

    /// `GET /room/<r>/permissions/<id>` (moderators).
    pub fn user_permissions(&self) -> Result<UserPermissions, CommunityError> {
        self.json(&[200], "permissions")
    }

    /// `POST /room/<r>/file`: 201 `{"id"}`.
    pub fn uploaded(&self) -> Result<u64, CommunityError> {
        #[derive(Deserialize)]
        struct R {
            id: u64,
        }
        Ok(self.json::<R>(&[201], "file id")?.id)
    }

    /// `GET /room/<r>/file/<id>`: the bytes and the filename from `content-disposition`.
    pub fn file(&self) -> Result<(Vec<u8>, Option<String>), CommunityError> {
        if self.code != 200 {
            return Err(CommunityError::Status {
                code: self.code,
                body: self.body.clone(),
            });
        }
        let name = self
            .headers
            .get("content-disposition")
            .and_then(|d| filename_of(d));
        Ok((self.body.clone(), name))
    }

    /// `POST /inbox/<id>`: 201 and the stored message (without its body).
    pub fn dm_sent(&self) -> Result<DirectMessage, CommunityError> {
        self.json(&[201], "sent DM")
    }

    /// `GET /inbox[/since]`, `/outbox[/since]`: the messages; empty on 304 (nothing new).
    pub fn dms(&self) -> Result<Vec<DirectMessage>, CommunityError> {
        if self.code == 304 {
            return Ok(Vec::new());
        }
        self.json(&[200], "DMs")
    }

    /// `DELETE /inbox`: how many were deleted.
    pub fn inbox_cleared(&self) -> Result<u64, CommunityError> {
        #[derive(Deserialize)]
        struct R {
            deleted: u64,
        }
        Ok(self.json::<R>(&[200], "inbox cleared")?.deleted)
    }

    /// `POST /batch`, `/sequence`: one reply per sub-request (fewer for a sequence that stopped).
    ///
    /// ```
    /// use metaless_community::Reply;
    /// let body = br#"[{"code":200,"headers":{"content-type":"application/json"},"body":{"capabilities":["sogs"]}},
    ///                 {"code":200,"headers":{"content-type":"application/octet-stream"},"body":"aGk="}]"#;
    /// let subs = Reply { code: 200, headers: Default::default(), body: body.to_vec() }.batch().unwrap();
    /// assert_eq!(subs[0].capabilities().unwrap().capabilities, ["sogs"]);
    /// assert_eq!(subs[1].body, b"hi");
    /// ```
    pub fn batch(&self) -> Result<Vec<Reply>, CommunityError> {
        #[derive(Deserialize)]
        struct Sub {
            code: u16,
            #[serde(default)]
            headers: BTreeMap<String, String>,
            #[serde(default)]
            body: Value,
        }
        let subs: Vec<Sub> = self.json(&[200], "batch")?;
        if subs.len() > MAX_BATCH_LEN {
            return Err(CommunityError::TooLarge {
                what: "batch reply",
                len: subs.len(),
                max: MAX_BATCH_LEN,
            });
        }
        subs.into_iter()
            .map(|s| {
                let json = s
                    .headers
                    .get("content-type")
                    .is_none_or(|t| t.starts_with("application/json"));
                let body = match (&s.body, json) {
                    (Value::Null, _) => Vec::new(),
                    (Value::String(text), false) => {
                        B64.decode(text)
                            .map_err(|_| CommunityError::MalformedReply {
                                what: "batch body base64",
                            })?
                    }
                    (v, _) => serde_json::to_vec(v)
                        .map_err(|_| CommunityError::MalformedReply { what: "batch body" })?,
                };
                Ok(Reply {
                    code: s.code,
                    headers: s.headers,
                    body,
                })
            })
            .collect()
    }
}

fn filename_of(disposition: &str) -> Option<String> {
    let idx = disposition.find("filename*=UTF-8''")?;
    let enc = disposition[idx + "filename*=UTF-8''".len()..]
        .split(';')
        .next()?
        .trim();
    let mut out = Vec::with_capacity(enc.len());
    let b = enc.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = core::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Session IDs on the wire are 66 hex characters.
mod sid {
    use super::*;
    pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<SessionId, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom("invalid session id"))
    }
    pub fn ser<S: Serializer>(id: &SessionId, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(id)
    }
    pub fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SessionId>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom("invalid session id")),
        }
    }
    pub fn ser_opt<S: Serializer>(id: &Option<SessionId>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.collect_str(id),
            None => s.serialize_none(),
        }
    }
    pub fn de_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SessionId>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                s.parse()
                    .map_err(|_| serde::de::Error::custom("invalid session id"))
            })
            .collect()
    }
    pub fn ser_list<S: Serializer>(ids: &[SessionId], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ids.iter().map(alloc::string::ToString::to_string))
    }
}

/// `GET /capabilities` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// The server's capabilities (sorted): `sogs`, `reactions`, `blind`, ….
    pub capabilities: Vec<String>,
    /// Required capabilities the server lacks (with status 412).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
}

/// A pinned message in a room object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinnedMessage {
    /// The message id.
    pub id: u64,
    /// When it was pinned (unix seconds).
    pub pinned_at: f64,
    /// Who pinned it.
    #[serde(deserialize_with = "sid::de", serialize_with = "sid::ser")]
    pub pinned_by: SessionId,
}

/// A room object (`GET /room/<r>`, the `/rooms` list, `pollInfo` details).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Room {
    /// The room token.
    pub token: String,
    /// Display name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Counter bumped on every change of room details.
    pub info_updates: u64,
    /// The room's latest message seqno.
    pub message_sequence: u64,
    /// Creation time (unix seconds).
    #[serde(default)]
    pub created: f64,
    /// Users active within `active_users_cutoff`.
    #[serde(default)]
    pub active_users: u64,
    /// The window of `active_users` (seconds).
    #[serde(default)]
    pub active_users_cutoff: u64,
    /// The room image's file id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<u64>,
    /// Pinned messages.
    #[serde(default)]
    pub pinned_messages: Vec<PinnedMessage>,
    /// Public moderators.
    #[serde(
        default,
        deserialize_with = "sid::de_list",
        serialize_with = "sid::ser_list"
    )]
    pub moderators: Vec<SessionId>,
    /// Public admins.
    #[serde(
        default,
        deserialize_with = "sid::de_list",
        serialize_with = "sid::ser_list"
    )]
    pub admins: Vec<SessionId>,
    /// Whether we may read.
    #[serde(default)]
    pub read: bool,
    /// Whether we may post.
    #[serde(default)]
    pub write: bool,
    /// Whether we may upload files.
    #[serde(default)]
    pub upload: bool,
    /// Whether we moderate this room.
    #[serde(default)]
    pub moderator: bool,
    /// Whether we administer this room.
    #[serde(default)]
    pub admin: bool,
    /// Whether we moderate the whole server.
    #[serde(default)]
    pub global_moderator: bool,
    /// Whether we administer the whole server.
    #[serde(default)]
    pub global_admin: bool,
}

/// `GET /room/<r>/pollInfo/<n>` reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollInfo {
    /// The room token.
    pub token: String,
    /// Active users.
    #[serde(default)]
    pub active_users: u64,
    /// Whether we may read.
    #[serde(default)]
    pub read: bool,
    /// Whether we may post.
    #[serde(default)]
    pub write: bool,
    /// Whether we may upload.
    #[serde(default)]
    pub upload: bool,
    /// Whether we moderate.
    #[serde(default)]
    pub moderator: bool,
    /// Whether we administer.
    #[serde(default)]
    pub admin: bool,
    /// The full room object when `info_updates` changed since the polled value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Room>,
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// Order of first use on the message.
    #[serde(default)]
    pub index: u64,
    /// How many reacted.
    pub count: u64,
    /// Some of the reactors (up to the `reactors` query).
    #[serde(
        default,
        deserialize_with = "sid::de_list",
        serialize_with = "sid::ser_list"
    )]
    pub reactors: Vec<SessionId>,
    /// Whether we reacted.
    #[serde(default)]
    pub you: bool,
}

/// A message object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Message id (room-unique).
    pub id: u64,
    /// The poster's `05`/`15`/`25` id.
    #[serde(deserialize_with = "sid::de", serialize_with = "sid::ser")]
    pub session_id: SessionId,
    /// Posting time (unix seconds).
    pub posted: f64,
    /// Last edit time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<f64>,
    /// The update counter of this message (posts, edits, deletions and reactions bump it).
    pub seqno: u64,
    /// base64 of the posted bytes; `None` for a deletion or a reaction-only update.
    #[serde(default)]
    pub data: Option<String>,
    /// base64 of the poster's signature over the data bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Whether this update is a deletion.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub deleted: bool,
    /// Whether it is a whisper.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub whisper: bool,
    /// Whether it whispers to moderators.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub whisper_mods: bool,
    /// A whisper's recipient.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "sid::de_opt",
        serialize_with = "sid::ser_opt"
    )]
    pub whisper_to: Option<SessionId>,
    /// Reactions by emoji.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, Reaction>,
}

impl Message {
    /// The posted bytes after checking the poster's signature over exactly them: `Ok(None)` for
    /// deletions and reaction-only updates. `15`/`25` posters sign with their blinded key
    /// (plain Ed25519); `05` posters' XEd25519 signatures are not checked by this crate and give
    /// [`CommunityError::BadSignature`].
    ///
    /// ```
    /// use base64::Engine;
    /// use metaless_community::{Message, PostMessage};
    /// use metaless_identity::{blinding, Keypair, Seed};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    /// let post = PostMessage::signed(&keys, &[2; 32], b"data".to_vec(), vec![]);
    /// let b64 = base64::engine::general_purpose::STANDARD;
    /// let mut m = Message { id: 1, session_id: blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &[2; 32]).unwrap(),
    ///     posted: 0.0, edited: None, seqno: 1, data: Some(b64.encode(&post.data)), signature: Some(b64.encode(post.signature)),
    ///     deleted: false, whisper: false, whisper_mods: false, whisper_to: None, reactions: Default::default() };
    /// assert_eq!(m.verified_data().unwrap().unwrap(), b"data");
    /// m.data = Some(b64.encode(b"date"));
    /// assert!(m.verified_data().is_err());
    /// ```
    pub fn verified_data(&self) -> Result<Option<Vec<u8>>, CommunityError> {
        let Some(data) = &self.data else {
            return Ok(None);
        };
        if self.deleted {
            return Ok(None);
        }
        let data = B64
            .decode(data)
            .map_err(|_| CommunityError::MalformedReply {
                what: "message data",
            })?;
        let sig = self
            .signature
            .as_deref()
            .ok_or(CommunityError::BadSignature)?;
        let sig: [u8; 64] = B64
            .decode(sig)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or(CommunityError::BadSignature)?;
        match self.session_id.prefix() {
            SessionIdPrefix::Blinded15 | SessionIdPrefix::Blinded25 => {
                verify_ed25519(self.session_id.key(), &data, &sig)
                    .map_err(|_| CommunityError::BadSignature)?;
                Ok(Some(data))
            }
            _ => Err(CommunityError::BadSignature),
        }
    }
}

/// `POST /room/<r>/reaction` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionAdded {
    /// `false` when we had already reacted.
    pub added: bool,
    /// The message's new seqno.
    pub seqno: u64,
}

/// `DELETE /room/<r>/reaction` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionRemoved {
    /// `false` when we had not reacted.
    pub removed: bool,
    /// The message's new seqno.
    pub seqno: u64,
}

/// A message in a blinded inbox or outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectMessage {
    /// Message id (server-wide).
    pub id: u64,
    /// When it was posted (unix seconds).
    pub posted_at: f64,
    /// When the server drops it.
    pub expires_at: f64,
    /// The sender's blinded id.
    #[serde(deserialize_with = "sid::de", serialize_with = "sid::ser")]
    pub sender: SessionId,
    /// The recipient's blinded id.
    #[serde(deserialize_with = "sid::de", serialize_with = "sid::ser")]
    pub recipient: SessionId,
    /// base64 of the blinded ciphertext (absent in the reply to a send).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl DirectMessage {
    /// The ciphertext bytes.
    pub fn data(&self) -> Result<Vec<u8>, CommunityError> {
        let m = self
            .message
            .as_deref()
            .ok_or(CommunityError::MalformedReply {
                what: "DM without message",
            })?;
        B64.decode(m)
            .map_err(|_| CommunityError::MalformedReply { what: "DM base64" })
    }
}

/// A user's assigned room permissions as moderators see them (`None`: the room default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserPermissions {
    /// Banned from the room.
    #[serde(default)]
    pub banned: bool,
    /// May see the room without reading it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessible: Option<bool>,
    /// May read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
    /// May post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<bool>,
    /// May upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<bool>,
    /// A moderator.
    #[serde(default)]
    pub moderator: bool,
    /// An admin.
    #[serde(default)]
    pub admin: bool,
    /// A hidden moderator or admin.
    #[serde(default)]
    pub hidden: bool,
}
