//! Typed views of the four user configs' data (`&`), with upstream's key names.
//!
//! Each view reads what it knows from a data [`Dict`] and writes back only the keys it owns, so
//! keys a newer client added (which this library does not know) survive a rewrite. Flags are
//! stored as `1` or absent, counters as a non-zero int or absent, strings as a non-empty string
//! or absent — as libsession does — except where upstream always writes a key to keep an entry
//! from being pruned (a contact's `n`, a conversation's `r`, a group's `K`, a room's `n`).
//!
//! | config | keys |
//! |---|---|
//! | UserProfile | `n` name (≤ 100 bytes), `p` avatar URL, `q` avatar key (32), `+` Note-to-Self priority, `e` Note-to-Self expiry (s), `M` blinded message requests |
//! | Contacts | `c` → {33-byte id → {`n`, `N` nickname, `p`, `q`, `a` approved, `A` approved me, `b` blocked, `@` notify, `!` mute until, `+` priority, `e` expiry mode, `E` expiry timer, `j` created}} |
//! | ConvoInfoVolatile | `1` → {id → {`r` last read (ms), `u` unread}}, `g` → {03 id → {`r`, `u`}}, `o` → {base URL → {`#` server key, `R` → {room → {`r`, `u`}}}} |
//! | UserGroups | `g` → {03 id → {`K` seed or empty, `s` auth data, `n`, `r` removed, common}}, `o` → {base URL → {`#`, `R` → {room → {`n` display name, common}}}}; common = `@` notify, `!` mute until, `+` priority, `i` invited, `j` joined |
//!
//! ```
//! use metaless_config::{bt::Dict, views::UserProfile};
//! let mut data = Dict::new();
//! let p = UserProfile { name: Some("Alice".into()), ..Default::default() };
//! p.write(&mut data);
//! assert_eq!(UserProfile::read(&data), p);
//! ```

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use metaless_identity::SessionId;

use crate::bt::{Dict, Value};

/// Longest display name upstream stores, in bytes.
pub const MAX_NAME_LEN: usize = 100;

fn get_int(d: &Dict, k: &[u8]) -> i64 {
    d.get(k).and_then(Value::as_int).unwrap_or(0)
}

fn get_bytes<'a>(d: &'a Dict, k: &[u8]) -> Option<&'a [u8]> {
    d.get(k).and_then(Value::as_bytes).filter(|b| !b.is_empty())
}

fn get_str(d: &Dict, k: &[u8]) -> Option<String> {
    get_bytes(d, k).map(|b| String::from_utf8_lossy(b).into_owned())
}

fn set_int(d: &mut Dict, k: &[u8], v: i64) {
    if v == 0 {
        d.remove(k);
    } else {
        d.insert(k.to_vec(), Value::Int(v));
    }
}

fn set_flag(d: &mut Dict, k: &[u8], v: bool) {
    set_int(d, k, i64::from(v));
}

fn set_bytes(d: &mut Dict, k: &[u8], v: Option<&[u8]>) {
    match v {
        Some(b) if !b.is_empty() => {
            d.insert(k.to_vec(), Value::bytes(b));
        }
        _ => {
            d.remove(k);
        }
    }
}

/// Cuts `s` to at most `max` bytes on a UTF-8 boundary (upstream truncates names this way).
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn sub<'a>(d: &'a Dict, k: &[u8]) -> Option<&'a Dict> {
    d.get(k).and_then(Value::as_dict)
}

/// The dict at `k`, created (or replacing a non-dict) when needed.
fn sub_mut<'a>(d: &'a mut Dict, k: &[u8]) -> &'a mut Dict {
    let e = d
        .entry(k.to_vec())
        .or_insert_with(|| Value::Dict(Dict::new()));
    if !matches!(e, Value::Dict(_)) {
        *e = Value::Dict(Dict::new());
    }
    match e {
        Value::Dict(x) => x,
        _ => unreachable!("replaced by a dict just above"),
    }
}

/// A profile picture: where it is and the key it is encrypted with.
///
/// ```
/// let a = metaless_config::views::Avatar { url: "http://x/1".into(), key: [7; 32] };
/// assert!(!format!("{a:?}").contains("7, 7"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Avatar {
    /// Download URL.
    pub url: String,
    /// 32-byte decryption key.
    pub key: [u8; 32],
}

impl core::fmt::Debug for Avatar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Avatar")
            .field("url", &self.url)
            .field("key", &"<redacted>")
            .finish()
    }
}

fn read_avatar(d: &Dict) -> Option<Avatar> {
    let url = get_str(d, b"p")?;
    let key: [u8; 32] = get_bytes(d, b"q")?.try_into().ok()?;
    Some(Avatar { url, key })
}

fn write_avatar(d: &mut Dict, a: Option<&Avatar>) {
    match a {
        Some(a) if !a.url.is_empty() => {
            set_bytes(d, b"p", Some(a.url.as_bytes()));
            set_bytes(d, b"q", Some(&a.key));
        }
        _ => {
            d.remove(&b"p"[..]);
            d.remove(&b"q"[..]);
        }
    }
}

/// The account's own profile (namespace 2).
///
/// ```
/// use metaless_config::{bt::Dict, views::UserProfile};
/// let mut d = Dict::new();
/// UserProfile { name: Some("é".repeat(60)), ..Default::default() }.write(&mut d);
/// assert_eq!(UserProfile::read(&d).name.unwrap().len(), 100); // cut on a char boundary
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserProfile {
    /// Display name (`n`).
    pub name: Option<String>,
    /// Profile picture (`p`, `q`).
    pub avatar: Option<Avatar>,
    /// Note-to-Self priority (`+`; −1 hidden, 0 normal, > 0 pinned).
    pub nts_priority: i64,
    /// Note-to-Self disappearing timer in seconds (`e`; 0 off).
    pub nts_expiry_s: i64,
    /// Whether blinded message requests are allowed (`M`; `None` = client default).
    pub blinded_msgreqs: Option<bool>,
}

impl UserProfile {
    /// Reads the profile from UserProfile data.
    ///
    /// ```
    /// assert_eq!(metaless_config::views::UserProfile::read(&Default::default()).name, None);
    /// ```
    pub fn read(d: &Dict) -> Self {
        UserProfile {
            name: get_str(d, b"n"),
            avatar: read_avatar(d),
            nts_priority: get_int(d, b"+"),
            nts_expiry_s: get_int(d, b"e"),
            blinded_msgreqs: d.get(&b"M"[..]).and_then(Value::as_int).map(|v| v != 0),
        }
    }

    /// Writes the profile's keys into UserProfile data, leaving other keys alone.
    ///
    /// ```
    /// use metaless_config::{bt::{Dict, Value}, views::UserProfile};
    /// let mut d = Dict::new();
    /// d.insert(b"future".to_vec(), Value::Int(1));
    /// UserProfile::default().write(&mut d);
    /// assert_eq!(d.len(), 1);
    /// ```
    pub fn write(&self, d: &mut Dict) {
        set_bytes(
            d,
            b"n",
            self.name
                .as_deref()
                .map(|n| truncate(n, MAX_NAME_LEN).as_bytes()),
        );
        write_avatar(d, self.avatar.as_ref());
        set_int(d, b"+", self.nts_priority);
        set_int(d, b"e", self.nts_expiry_s);
        match self.blinded_msgreqs {
            Some(v) => {
                d.insert(b"M".to_vec(), Value::Int(i64::from(v)));
            }
            None => {
                d.remove(&b"M"[..]);
            }
        }
    }
}

/// Notification setting (`@`): 0 default, 1 all, 2 disabled, 3 mentions only.
pub type Notify = i64;

/// One contact (namespace 3, under `c`).
///
/// ```
/// use metaless_config::{bt::Dict, views::Contact};
/// use metaless_identity::SessionId;
/// let id = SessionId::standard([5; 32]);
/// let mut d = Dict::new();
/// let mut bob = Contact::new(id);
/// bob.name = Some("Bob".into());
/// bob.approved = true;
/// bob.write(&mut d);
/// assert_eq!(Contact::all(&d), vec![bob]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The contact's Session ID (the key, as 33 raw bytes).
    pub session_id: SessionId,
    /// Their display name (`n`).
    pub name: Option<String>,
    /// Our nickname for them (`N`).
    pub nickname: Option<String>,
    /// Their picture (`p`, `q`).
    pub avatar: Option<Avatar>,
    /// We accepted them (`a`).
    pub approved: bool,
    /// They accepted us (`A`).
    pub approved_me: bool,
    /// Blocked (`b`).
    pub blocked: bool,
    /// Notifications (`@`).
    pub notify: Notify,
    /// Muted until (unix s; `!`).
    pub mute_until_s: i64,
    /// Conversation priority (`+`; −1 hidden).
    pub priority: i64,
    /// Disappearing mode (`e`; 1 after send, 2 after read).
    pub exp_mode: i64,
    /// Disappearing timer in seconds (`E`).
    pub exp_timer_s: i64,
    /// Created (unix s; `j`).
    pub created_s: i64,
}

impl Contact {
    /// A contact with nothing set.
    ///
    /// ```
    /// let c = metaless_config::views::Contact::new(metaless_identity::SessionId::standard([1; 32]));
    /// assert!(!c.approved);
    /// ```
    pub fn new(session_id: SessionId) -> Self {
        Contact {
            session_id,
            name: None,
            nickname: None,
            avatar: None,
            approved: false,
            approved_me: false,
            blocked: false,
            notify: 0,
            mute_until_s: 0,
            priority: 0,
            exp_mode: 0,
            exp_timer_s: 0,
            created_s: 0,
        }
    }

    fn read(session_id: SessionId, d: &Dict) -> Self {
        Contact {
            session_id,
            name: get_str(d, b"n"),
            nickname: get_str(d, b"N"),
            avatar: read_avatar(d),
            approved: get_int(d, b"a") != 0,
            approved_me: get_int(d, b"A") != 0,
            blocked: get_int(d, b"b") != 0,
            notify: get_int(d, b"@"),
            mute_until_s: get_int(d, b"!"),
            priority: get_int(d, b"+"),
            exp_mode: get_int(d, b"e"),
            exp_timer_s: get_int(d, b"E"),
            created_s: get_int(d, b"j"),
        }
    }

    /// Every contact in Contacts data, in id order (entries whose key is not a Session ID are
    /// skipped).
    ///
    /// ```
    /// assert!(metaless_config::views::Contact::all(&Default::default()).is_empty());
    /// ```
    pub fn all(data: &Dict) -> Vec<Contact> {
        sub(data, b"c")
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some(Contact::read(SessionId::from_bytes(k).ok()?, v.as_dict()?)))
            .collect()
    }

    /// The contact `id`, if present.
    ///
    /// ```
    /// use metaless_identity::SessionId;
    /// assert!(metaless_config::views::Contact::get(&Default::default(), &SessionId::standard([1; 32])).is_none());
    /// ```
    pub fn get(data: &Dict, id: &SessionId) -> Option<Contact> {
        let d = sub(data, b"c")?.get(&id.to_bytes()[..])?.as_dict()?;
        Some(Contact::read(*id, d))
    }

    /// Writes (inserts or updates) this contact, keeping keys of its entry this library does
    /// not know.
    ///
    /// ```
    /// # use metaless_config::{bt::Dict, views::Contact};
    /// let mut d = Dict::new();
    /// Contact::new(metaless_identity::SessionId::standard([1; 32])).write(&mut d);
    /// assert_eq!(Contact::all(&d).len(), 1); // `n` is always written, so the entry stays
    /// ```
    pub fn write(&self, data: &mut Dict) {
        let e = sub_mut(sub_mut(data, b"c"), &self.session_id.to_bytes());
        let name = self
            .name
            .as_deref()
            .map(|n| truncate(n, MAX_NAME_LEN))
            .unwrap_or("");
        e.insert(b"n".to_vec(), Value::bytes(name));
        set_bytes(
            e,
            b"N",
            self.nickname
                .as_deref()
                .map(|n| truncate(n, MAX_NAME_LEN).as_bytes()),
        );
        write_avatar(e, self.avatar.as_ref());
        set_flag(e, b"a", self.approved);
        set_flag(e, b"A", self.approved_me);
        set_flag(e, b"b", self.blocked);
        set_int(e, b"@", self.notify);
        set_int(e, b"!", self.mute_until_s);
        set_int(e, b"+", self.priority);
        set_int(e, b"e", self.exp_mode);
        set_int(e, b"E", self.exp_timer_s);
        set_int(e, b"j", self.created_s);
    }

    /// Removes contact `id`; true if it was there.
    ///
    /// ```
    /// # use metaless_config::{bt::Dict, views::Contact};
    /// let id = metaless_identity::SessionId::standard([1; 32]);
    /// let mut d = Dict::new();
    /// Contact::new(id).write(&mut d);
    /// assert!(Contact::remove(&mut d, &id));
    /// ```
    pub fn remove(data: &mut Dict, id: &SessionId) -> bool {
        match data.get_mut(&b"c"[..]).and_then(Value::as_dict_mut) {
            Some(c) => c.remove(&id.to_bytes()[..]).is_some(),
            None => false,
        }
    }
}

/// Read state of one conversation (ConvoInfoVolatile): `r` and `u`.
///
/// ```
/// let r = metaless_config::views::ReadState { last_read_ms: 5, unread: false };
/// assert_eq!(r.last_read_ms, 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadState {
    /// Last read message timestamp, ms (`r`, always written).
    pub last_read_ms: i64,
    /// Marked unread (`u`).
    pub unread: bool,
}

impl ReadState {
    fn read(d: &Dict) -> Self {
        ReadState {
            last_read_ms: get_int(d, b"r"),
            unread: get_int(d, b"u") != 0,
        }
    }

    fn write(&self, e: &mut Dict) {
        e.insert(b"r".to_vec(), Value::Int(self.last_read_ms));
        set_flag(e, b"u", self.unread);
    }
}

/// A community room's address in the configs: base URL, server key, room token (lower-cased
/// as upstream keys it).
///
/// ```
/// let r = metaless_config::views::RoomRef::new("https://sogs.example", [1; 32], "Lokinet");
/// assert_eq!(r.room, "lokinet");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoomRef {
    /// Base URL (`o` key).
    pub base_url: String,
    /// Server X25519 key (`#`).
    pub server_pk: [u8; 32],
    /// Room token, lower-cased (`R` key).
    pub room: String,
}

impl RoomRef {
    /// A room reference; the token is lower-cased.
    ///
    /// ```
    /// assert_eq!(metaless_config::views::RoomRef::new("u", [0; 32], "AbC").room, "abc");
    /// ```
    pub fn new(base_url: impl Into<String>, server_pk: [u8; 32], room: &str) -> Self {
        RoomRef {
            base_url: base_url.into(),
            server_pk,
            room: room.to_lowercase(),
        }
    }
}

/// Walks `o` → {url → {`#`, `R` → {room → entry}}}.
fn rooms(data: &Dict) -> Vec<(RoomRef, &Dict)> {
    let mut out = Vec::new();
    for (url, server) in sub(data, b"o").into_iter().flatten() {
        let Some(server) = server.as_dict() else {
            continue;
        };
        let Some(pk) = get_bytes(server, b"#").and_then(|b| <[u8; 32]>::try_from(b).ok()) else {
            continue;
        };
        for (room, e) in sub(server, b"R").into_iter().flatten() {
            if let Some(e) = e.as_dict() {
                let r = RoomRef {
                    base_url: String::from_utf8_lossy(url).into_owned(),
                    server_pk: pk,
                    room: String::from_utf8_lossy(room).into_owned(),
                };
                out.push((r, e));
            }
        }
    }
    out
}

fn room_mut<'a>(data: &'a mut Dict, r: &RoomRef) -> &'a mut Dict {
    let server = sub_mut(sub_mut(data, b"o"), r.base_url.as_bytes());
    server.insert(b"#".to_vec(), Value::bytes(r.server_pk));
    sub_mut(sub_mut(server, b"R"), r.room.as_bytes())
}

/// ConvoInfoVolatile data (namespace 4): read state per conversation.
///
/// ```
/// use metaless_config::{bt::Dict, views::{ConvoInfoVolatile, ReadState}};
/// let id = metaless_identity::SessionId::standard([2; 32]);
/// let mut d = Dict::new();
/// ConvoInfoVolatile::set_one_to_one(&mut d, &id, ReadState { last_read_ms: 42, unread: true });
/// assert_eq!(ConvoInfoVolatile::read(&d).one_to_one[&id.to_bytes()].last_read_ms, 42);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConvoInfoVolatile {
    /// 1:1 conversations by 33-byte Session ID (`1`).
    pub one_to_one: BTreeMap<[u8; 33], ReadState>,
    /// v2 groups by 33-byte 03 id (`g`).
    pub groups: BTreeMap<[u8; 33], ReadState>,
    /// Community rooms (`o`).
    pub communities: BTreeMap<RoomRef, ReadState>,
}

fn by_id(data: &Dict, k: &[u8]) -> BTreeMap<[u8; 33], ReadState> {
    sub(data, k)
        .into_iter()
        .flatten()
        .filter_map(|(id, e)| {
            Some((
                <[u8; 33]>::try_from(id.as_slice()).ok()?,
                ReadState::read(e.as_dict()?),
            ))
        })
        .collect()
}

impl ConvoInfoVolatile {
    /// Reads all entries.
    ///
    /// ```
    /// assert!(metaless_config::views::ConvoInfoVolatile::read(&Default::default()).groups.is_empty());
    /// ```
    pub fn read(data: &Dict) -> Self {
        ConvoInfoVolatile {
            one_to_one: by_id(data, b"1"),
            groups: by_id(data, b"g"),
            communities: rooms(data)
                .into_iter()
                .map(|(r, e)| (r, ReadState::read(e)))
                .collect(),
        }
    }

    /// Sets a 1:1 conversation's read state.
    ///
    /// ```
    /// # use metaless_config::{bt::Dict, views::{ConvoInfoVolatile, ReadState}};
    /// let mut d = Dict::new();
    /// ConvoInfoVolatile::set_one_to_one(&mut d, &metaless_identity::SessionId::standard([2; 32]), ReadState::default());
    /// assert_eq!(ConvoInfoVolatile::read(&d).one_to_one.len(), 1);
    /// ```
    pub fn set_one_to_one(data: &mut Dict, id: &SessionId, s: ReadState) {
        s.write(sub_mut(sub_mut(data, b"1"), &id.to_bytes()));
    }

    /// Sets a v2 group's read state (`id` is the 03-prefixed group id).
    ///
    /// ```
    /// # use metaless_config::{bt::Dict, views::{ConvoInfoVolatile, ReadState}};
    /// let mut d = Dict::new();
    /// ConvoInfoVolatile::set_group(&mut d, &[3; 33], ReadState::default());
    /// assert_eq!(ConvoInfoVolatile::read(&d).groups.len(), 1);
    /// ```
    pub fn set_group(data: &mut Dict, id: &[u8; 33], s: ReadState) {
        s.write(sub_mut(sub_mut(data, b"g"), id));
    }

    /// Sets a community room's read state.
    ///
    /// ```
    /// # use metaless_config::{bt::Dict, views::{ConvoInfoVolatile, ReadState, RoomRef}};
    /// let mut d = Dict::new();
    /// ConvoInfoVolatile::set_community(&mut d, &RoomRef::new("https://x", [1; 32], "r"), ReadState::default());
    /// assert_eq!(ConvoInfoVolatile::read(&d).communities.len(), 1);
    /// ```
    pub fn set_community(data: &mut Dict, r: &RoomRef, s: ReadState) {
        s.write(room_mut(data, r));
    }
}

/// Settings every UserGroups entry has: `@`, `!`, `+`, `i`, `j`.
///
/// ```
/// assert_eq!(metaless_config::views::GroupCommon::default().priority, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupCommon {
    /// Notifications (`@`: 1 all, 2 disabled, 3 mentions).
    pub notify: Notify,
    /// Muted until (unix s; `!`).
    pub mute_until_s: i64,
    /// Priority (`+`; −1 hidden).
    pub priority: i64,
    /// Invite pending (`i`).
    pub invited: bool,
    /// Joined (unix s; `j`).
    pub joined_s: i64,
}

impl GroupCommon {
    fn read(d: &Dict) -> Self {
        GroupCommon {
            notify: get_int(d, b"@"),
            mute_until_s: get_int(d, b"!"),
            priority: get_int(d, b"+"),
            invited: get_int(d, b"i") != 0,
            joined_s: get_int(d, b"j"),
        }
    }

    fn write(&self, e: &mut Dict) {
        set_int(e, b"@", self.notify);
        set_int(e, b"!", self.mute_until_s);
        set_int(e, b"+", self.priority);
        set_flag(e, b"i", self.invited);
        set_int(e, b"j", self.joined_s);
    }
}

/// A v2 group the account is in (UserGroups `g`).
///
/// ```
/// use metaless_config::{bt::Dict, views::{GroupEntry, UserGroups}};
/// let mut d = Dict::new();
/// let g = GroupEntry { id: [3; 33], secret_seed: None, auth_data: Some(vec![1; 100]), name: Some("G".into()), removed: 0, common: Default::default() };
/// g.write(&mut d);
/// assert_eq!(UserGroups::read(&d).groups, vec![g]);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// The 33-byte group id (0x03 ‖ Ed25519 key).
    pub id: [u8; 33],
    /// Admin's group seed (`K`, 32 bytes; written empty for members).
    pub secret_seed: Option<[u8; 32]>,
    /// Member's sub-account auth data (`s`, 100 bytes).
    pub auth_data: Option<Vec<u8>>,
    /// Group name (`n`).
    pub name: Option<String>,
    /// Removed status (`r`).
    pub removed: i64,
    /// Common settings.
    pub common: GroupCommon,
}

impl core::fmt::Debug for GroupEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupEntry")
            .field("id", &metaless_identity::hex::encode(&self.id[..4]))
            .field("admin", &self.secret_seed.is_some())
            .field("name", &self.name)
            .field("removed", &self.removed)
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

impl GroupEntry {
    /// Writes this group's entry, keeping unknown keys in it.
    ///
    /// ```
    /// # use metaless_config::{bt::Dict, views::GroupEntry};
    /// let mut d = Dict::new();
    /// GroupEntry { id: [3; 33], secret_seed: None, auth_data: None, name: None, removed: 0, common: Default::default() }.write(&mut d);
    /// assert_eq!(metaless_config::views::UserGroups::read(&d).groups.len(), 1); // `K` (empty) keeps it
    /// ```
    pub fn write(&self, data: &mut Dict) {
        let e = sub_mut(sub_mut(data, b"g"), &self.id);
        let k: &[u8] = self.secret_seed.as_ref().map_or(&[], |s| &s[..]);
        e.insert(b"K".to_vec(), Value::bytes(k));
        set_bytes(e, b"s", self.auth_data.as_deref());
        set_bytes(e, b"n", self.name.as_deref().map(str::as_bytes));
        set_int(e, b"r", self.removed);
        self.common.write(e);
    }
}

/// A community room the account is in (UserGroups `o`).
///
/// ```
/// use metaless_config::{bt::Dict, views::{CommunityEntry, RoomRef, UserGroups}};
/// let mut d = Dict::new();
/// let c = CommunityEntry { room: RoomRef::new("https://sogs", [1; 32], "Main"), display_room: "Main".into(), common: Default::default() };
/// c.write(&mut d);
/// assert_eq!(UserGroups::read(&d).communities, vec![c]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityEntry {
    /// Where the room is.
    pub room: RoomRef,
    /// The room token as displayed (`n`).
    pub display_room: String,
    /// Common settings.
    pub common: GroupCommon,
}

impl CommunityEntry {
    /// Writes this room's entry, keeping unknown keys in it.
    ///
    /// ```
    /// # use metaless_config::{bt::Dict, views::{CommunityEntry, RoomRef}};
    /// let mut d = Dict::new();
    /// CommunityEntry { room: RoomRef::new("u", [1; 32], "r"), display_room: "R".into(), common: Default::default() }.write(&mut d);
    /// assert!(d.contains_key(&b"o"[..]));
    /// ```
    pub fn write(&self, data: &mut Dict) {
        let e = room_mut(data, &self.room);
        e.insert(b"n".to_vec(), Value::bytes(self.display_room.as_bytes()));
        self.common.write(e);
    }
}

/// UserGroups data (namespace 5).
///
/// ```
/// assert!(metaless_config::views::UserGroups::read(&Default::default()).groups.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserGroups {
    /// v2 groups (`g`), in id order.
    pub groups: Vec<GroupEntry>,
    /// Community rooms (`o`).
    pub communities: Vec<CommunityEntry>,
    /// Legacy group ids (`C`; read-only here, kept untouched on rewrite).
    pub legacy_groups: Vec<[u8; 33]>,
}

impl UserGroups {
    /// Reads all entries.
    ///
    /// ```
    /// assert!(metaless_config::views::UserGroups::read(&Default::default()).communities.is_empty());
    /// ```
    pub fn read(data: &Dict) -> Self {
        let groups = sub(data, b"g")
            .into_iter()
            .flatten()
            .filter_map(|(id, e)| {
                let e = e.as_dict()?;
                Some(GroupEntry {
                    id: id.as_slice().try_into().ok()?,
                    secret_seed: get_bytes(e, b"K").and_then(|b| b.try_into().ok()),
                    auth_data: get_bytes(e, b"s").map(<[u8]>::to_vec),
                    name: get_str(e, b"n"),
                    removed: get_int(e, b"r"),
                    common: GroupCommon::read(e),
                })
            })
            .collect();
        let communities = rooms(data)
            .into_iter()
            .map(|(room, e)| CommunityEntry {
                display_room: get_str(e, b"n").unwrap_or_else(|| room.room.clone()),
                room,
                common: GroupCommon::read(e),
            })
            .collect();
        let legacy_groups = sub(data, b"C")
            .into_iter()
            .flatten()
            .filter_map(|(id, _)| id.as_slice().try_into().ok())
            .collect();
        UserGroups {
            groups,
            communities,
            legacy_groups,
        }
    }

    /// Removes group `id`; true if it was there.
    ///
    /// ```
    /// assert!(!metaless_config::views::UserGroups::remove_group(&mut Default::default(), &[3; 33]));
    /// ```
    pub fn remove_group(data: &mut Dict, id: &[u8; 33]) -> bool {
        match data.get_mut(&b"g"[..]).and_then(Value::as_dict_mut) {
            Some(g) => g.remove(&id[..]).is_some(),
            None => false,
        }
    }
}
