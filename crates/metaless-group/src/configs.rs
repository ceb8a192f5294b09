//! The group's Info (namespace 13) and Members (namespace 14) configs: `metaless_config`
//! config messages signed with the group key, encrypted with the current group key (any known
//! key decrypts), domains `groups::Info` / `groups::Members`, not protobuf-wrapped.
//!
//! Admins edit and push; members verify under the group key and take the highest valid
//! message (no merge: a member cannot sign one).

use alloc::string::String;
use alloc::vec::Vec;

use metaless_config::bt::{Dict, Value};
use metaless_config::{Config, Kind, MergeResult, Push, push};
use metaless_identity::{Keypair, Seed, SessionId};

use crate::{GroupError, GroupId, GroupKeyring, GroupKeys};

/// Longest group name (bytes, upstream).
pub const MAX_NAME: usize = 100;
/// Longest group description (bytes, upstream).
pub const MAX_DESCRIPTION: usize = 2000;

fn config_for(kind: Kind, group: &GroupKeys) -> Config {
    Config::new(kind).with_signer(Keypair::from_seed(&Seed::from_bytes(*group.expose_seed())))
}

fn seal(config: &Config, ring: &GroupKeyring) -> Result<(Vec<u8>, Push), GroupError> {
    let key = ring.current()?;
    let p = config.push();
    let stored = push::seal(key.expose_secret(), config.kind(), &p)
        .map_err(|_| GroupError::Malformed("config push"))?;
    Ok((stored, p))
}

fn load(config: &mut Config, ring: &GroupKeyring, stored: &[&[u8]]) -> MergeResult {
    let keys: Vec<[u8; 32]> = ring.iter().map(|k| *k.expose_secret()).collect();
    let plains: Vec<Option<Vec<u8>>> = stored
        .iter()
        .map(|s| push::open(&keys, config.kind(), s).ok())
        .collect();
    let ok: Vec<&[u8]> = plains.iter().flatten().map(|p| p.as_slice()).collect();
    let inner = config.merge(&ok);
    // Report per stored message, undecryptable ones as refused.
    let mut it = inner.accepted.into_iter();
    MergeResult {
        accepted: plains
            .iter()
            .map(|p| p.is_some() && it.next().unwrap_or(false))
            .collect(),
        changed: inner.changed,
    }
}

fn get_str<'a>(d: &'a Dict, k: &[u8]) -> Option<&'a [u8]> {
    d.get(k).and_then(Value::as_bytes)
}

fn set_opt(d: &mut Dict, k: &[u8], v: Option<Value>) {
    match v {
        Some(v) => {
            d.insert(k.to_vec(), v);
        }
        None => {
            d.remove(k);
        }
    }
}

/// The group's Info config: name, description, creation time, disappearing timer, destroyed.
///
/// ```
/// use metaless_group::{rekey, GroupInfo, GroupKeyring, GroupKeys};
/// let group = GroupKeys::from_seed([1; 32]);
/// let (_, key) = rekey(&group, &[], 0, 1)?;
/// let mut ring = GroupKeyring::new(group.group_id());
/// ring.insert(&key);
/// let mut admin = GroupInfo::new_admin(&group);
/// admin.set_name("Friends")?;
/// admin.set_created_s(1_700_000_000);
/// let (stored, push) = admin.push(&ring)?;
/// admin.confirm_pushed(&push);
/// let mut member = GroupInfo::new_member(group.group_id());
/// member.load(&ring, &[&stored]);
/// assert_eq!(member.name().as_deref(), Some("Friends"));
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
#[derive(Debug)]
pub struct GroupInfo {
    config: Config,
}

impl GroupInfo {
    /// An admin's (signing) copy.
    pub fn new_admin(group: &GroupKeys) -> Self {
        Self {
            config: config_for(Kind::GroupInfo, group),
        }
    }

    /// A member's (verifying) copy.
    pub fn new_member(group: GroupId) -> Self {
        Self {
            config: Config::new(Kind::GroupInfo).with_verifier(group.ed25519()),
        }
    }

    /// The underlying config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `n`: the name.
    pub fn name(&self) -> Option<String> {
        get_str(self.config.data(), b"n").map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Sets the name (at most [`MAX_NAME`] bytes).
    pub fn set_name(&mut self, name: &str) -> Result<(), GroupError> {
        if name.len() > MAX_NAME {
            return Err(GroupError::TooLarge {
                field: "group name",
                len: name.len(),
                max: MAX_NAME,
            });
        }
        self.config
            .edit(|d| set_opt(d, b"n", (!name.is_empty()).then(|| Value::bytes(name))));
        Ok(())
    }

    /// `o`: the description.
    pub fn description(&self) -> Option<String> {
        get_str(self.config.data(), b"o").map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Sets the description (at most [`MAX_DESCRIPTION`] bytes).
    pub fn set_description(&mut self, text: &str) -> Result<(), GroupError> {
        if text.len() > MAX_DESCRIPTION {
            return Err(GroupError::TooLarge {
                field: "group description",
                len: text.len(),
                max: MAX_DESCRIPTION,
            });
        }
        self.config
            .edit(|d| set_opt(d, b"o", (!text.is_empty()).then(|| Value::bytes(text))));
        Ok(())
    }

    /// `c`: creation time (unix s).
    pub fn created_s(&self) -> Option<i64> {
        self.config
            .data()
            .get(b"c".as_slice())
            .and_then(Value::as_int)
    }

    /// Sets the creation time.
    pub fn set_created_s(&mut self, t: i64) {
        self.config.edit(|d| set_opt(d, b"c", Some(Value::Int(t))));
    }

    /// `E`: disappear-after-send timer (s), `None` = off.
    pub fn expiry_timer_s(&self) -> Option<i64> {
        self.config
            .data()
            .get(b"E".as_slice())
            .and_then(Value::as_int)
    }

    /// Sets or clears the timer.
    pub fn set_expiry_timer_s(&mut self, t: Option<i64>) {
        self.config
            .edit(|d| set_opt(d, b"E", t.filter(|t| *t > 0).map(Value::Int)));
    }

    /// `!`: the group was destroyed.
    pub fn is_destroyed(&self) -> bool {
        self.config
            .data()
            .get(b"!".as_slice())
            .and_then(Value::as_int)
            == Some(1)
    }

    /// Marks the group destroyed (irreversible for clients).
    pub fn destroy(&mut self) {
        self.config.edit(|d| set_opt(d, b"!", Some(Value::Int(1))));
    }

    /// The bytes to store in namespace 13 (encrypted with the current key) and the push to
    /// confirm once stored.
    pub fn push(&self, ring: &GroupKeyring) -> Result<(Vec<u8>, Push), GroupError> {
        seal(&self.config, ring)
    }

    /// Marks `push` stored.
    pub fn confirm_pushed(&mut self, push: &Push) {
        self.config.confirm_pushed(push);
    }

    /// Loads stored messages of namespace 13 (undecryptable or badly signed ones are refused
    /// in [`MergeResult::accepted`]).
    pub fn load(&mut self, ring: &GroupKeyring, stored: &[&[u8]]) -> MergeResult {
        load(&mut self.config, ring, stored)
    }
}

/// One member in the Members config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's `05` id.
    pub session_id: SessionId,
    /// `n`: display name (may be empty).
    pub name: String,
    /// `A`: admin.
    pub admin: bool,
    /// `I`: invite status (1 sent, 2 failed, 3 not sent yet); `None` = accepted.
    pub invite_status: Option<i64>,
    /// `s`: the invite carried a key supplement (history access).
    pub supplement: bool,
    /// `P`: promotion status (1 sent, 2 failed, 3 pending).
    pub promotion_status: Option<i64>,
    /// `R`: removal pending (status value).
    pub removed_status: Option<i64>,
}

impl Member {
    /// A member with just an id and name (accepted, not admin).
    pub fn new(session_id: SessionId, name: &str) -> Self {
        Self {
            session_id,
            name: name.into(),
            admin: false,
            invite_status: None,
            supplement: false,
            promotion_status: None,
            removed_status: None,
        }
    }

    fn to_value(&self) -> Value {
        let mut d = Dict::new();
        d.insert(b"n".to_vec(), Value::bytes(&self.name));
        if self.admin {
            d.insert(b"A".to_vec(), Value::Int(1));
        }
        let mut opt = |k: &[u8], v: Option<i64>| {
            if let Some(v) = v.filter(|v| *v != 0) {
                d.insert(k.to_vec(), Value::Int(v));
            }
        };
        opt(b"I", self.invite_status);
        opt(b"P", self.promotion_status);
        opt(b"R", self.removed_status);
        if self.supplement {
            d.insert(b"s".to_vec(), Value::Int(1));
        }
        Value::Dict(d)
    }

    fn from_entry(id: &[u8], v: &Value) -> Option<Self> {
        let session_id = SessionId::from_bytes(id).ok()?;
        let d = v.as_dict()?;
        let int = |k: &[u8]| d.get(k).and_then(Value::as_int);
        Some(Self {
            session_id,
            name: String::from_utf8_lossy(get_str(d, b"n").unwrap_or_default()).into_owned(),
            admin: int(b"A") == Some(1),
            invite_status: int(b"I"),
            supplement: int(b"s") == Some(1),
            promotion_status: int(b"P"),
            removed_status: int(b"R"),
        })
    }
}

/// The group's Members config: `m` = {33-byte session id: {n, A, I, s, P, R}}.
///
/// ```
/// use metaless_group::{rekey, GroupKeyring, GroupKeys, GroupMembers, Member};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let (_, key) = rekey(&group, &[], 0, 1)?;
/// let mut ring = GroupKeyring::new(group.group_id());
/// ring.insert(&key);
/// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
/// let mut admin = GroupMembers::new_admin(&group);
/// admin.set(&Member { invite_status: Some(1), ..Member::new(bob, "Bob") });
/// let (stored, _) = admin.push(&ring)?;
/// let mut member = GroupMembers::new_member(group.group_id());
/// member.load(&ring, &[&stored]);
/// assert_eq!(member.get(&bob).unwrap().invite_status, Some(1));
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
#[derive(Debug)]
pub struct GroupMembers {
    config: Config,
}

impl GroupMembers {
    /// An admin's (signing) copy.
    pub fn new_admin(group: &GroupKeys) -> Self {
        Self {
            config: config_for(Kind::GroupMembers, group),
        }
    }

    /// A member's (verifying) copy.
    pub fn new_member(group: GroupId) -> Self {
        Self {
            config: Config::new(Kind::GroupMembers).with_verifier(group.ed25519()),
        }
    }

    /// The underlying config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every member (entries that do not parse are skipped), in id order.
    pub fn list(&self) -> Vec<Member> {
        match self
            .config
            .data()
            .get(b"m".as_slice())
            .and_then(Value::as_dict)
        {
            Some(m) => m
                .iter()
                .filter_map(|(k, v)| Member::from_entry(k, v))
                .collect(),
            None => Vec::new(),
        }
    }

    /// One member.
    pub fn get(&self, id: &SessionId) -> Option<Member> {
        let m = self.config.data().get(b"m".as_slice())?.as_dict()?;
        Member::from_entry(&id.to_bytes(), m.get(id.to_bytes().as_slice())?)
    }

    /// Adds or replaces a member.
    pub fn set(&mut self, member: &Member) {
        self.config.edit(|d| {
            let m = d
                .entry(b"m".to_vec())
                .or_insert_with(|| Value::Dict(Dict::new()));
            if let Some(m) = m.as_dict_mut() {
                m.insert(member.session_id.to_bytes().to_vec(), member.to_value());
            }
        });
    }

    /// Removes a member (true if it was there).
    pub fn remove(&mut self, id: &SessionId) -> bool {
        self.config.edit(|d| {
            let found = d
                .get_mut(b"m".as_slice())
                .and_then(Value::as_dict_mut)
                .and_then(|m| m.remove(id.to_bytes().as_slice()))
                .is_some();
            // Empty dicts are pruned from config data.
            if d.get(b"m".as_slice())
                .and_then(Value::as_dict)
                .is_some_and(|m| m.is_empty())
            {
                d.remove(b"m".as_slice());
            }
            found
        })
    }

    /// The bytes to store in namespace 14 and the push to confirm once stored.
    pub fn push(&self, ring: &GroupKeyring) -> Result<(Vec<u8>, Push), GroupError> {
        seal(&self.config, ring)
    }

    /// Marks `push` stored.
    pub fn confirm_pushed(&mut self, push: &Push) {
        self.config.confirm_pushed(push);
    }

    /// Loads stored messages of namespace 14.
    pub fn load(&mut self, ring: &GroupKeyring, stored: &[&[u8]]) -> MergeResult {
        load(&mut self.config, ring, stored)
    }
}
