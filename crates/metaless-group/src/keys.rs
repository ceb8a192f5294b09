//! Keys messages (namespace 12): how admins distribute the rotating group encryption key.
//!
//! A *full* rekey message is a signed bt dict `{"#": nonce, "G": generation, "K": key for
//! admins, "k": [one 48-byte entry per member, padded with junk to a multiple of 75], "~":
//! group signature}`. A *supplement* `{"#", "+": [entries], "G", "~"}` hands existing keys to
//! newly added members without rotating. Members find their entry by trial decryption;
//! outsiders learn only the generation and a member count rounded up to 75.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use metaless_cipher::chacha20;
use metaless_config::bt::{self, Value};
use metaless_identity::{Keypair, SessionId, verify_ed25519};
use zeroize::{Zeroize, Zeroizing};

use crate::hash::{h24, h32, h56};
use crate::identity::member_x25519;
use crate::limits::{
    KEY_EXPIRY_MS, MAX_KEY_ENTRIES, MAX_KEY_HISTORY, MAX_KEYS_MESSAGE, MESSAGE_KEY_MULTIPLE,
};
use crate::multi::{MEMBER_KEY_DOMAIN, open, recipient_key, seal};
use crate::{GroupError, GroupId, GroupKeys};

const SEED_KEY: &[u8] = b"SessionGroupKeySeed";
const GEN_KEY: &[u8] = b"SessionGroupKeyGen";
const ADMIN_KEY: &[u8] = b"SessionGroupKeyAdminKey";
const JUNK_KEY: &[u8] = b"SessionGroupJunkMembers";
/// `randombytes_buf_deterministic`'s fixed nonce.
const DRG_NONCE: &[u8; 12] = b"LibsodiumDRG";
/// Length of one wrapped key: 32-byte key + 16-byte tag.
const ENTRY_LEN: usize = 48;
/// Trailer of a signed dict: `1:~64:` ‖ signature ‖ `e`.
const SIG_TRAILER: usize = 3 + 3 + 64 + 1;

/// One group encryption key and the generation it belongs to.
///
/// ```
/// use metaless_group::GroupKey;
/// let k = GroupKey::new(3, [7; 32], 1_700_000_000_000);
/// assert_eq!(k.generation(), 3);
/// assert!(!format!("{k:?}").contains("07"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct GroupKey {
    generation: u64,
    key: Zeroizing<[u8; 32]>,
    timestamp_ms: u64,
}

impl GroupKey {
    /// A key of `generation`, valid since `timestamp_ms`.
    pub fn new(generation: u64, key: [u8; 32], timestamp_ms: u64) -> Self {
        Self {
            generation,
            key: Zeroizing::new(key),
            timestamp_ms,
        }
    }

    /// The key generation (0 for the group's first key).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// When the key came into use (ms).
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// The 32 key bytes (group messages and info/members configs are encrypted with it).
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.key
    }
}

impl fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupKey")
            .field("generation", &self.generation)
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}

/// A full rekey for `members` (every member's `05` id, admins included) at `generation`:
/// returns the keys message (store it in namespace 12) and the new key. Deterministic: the same
/// group, members and generation give the same bytes (upstream derives nonce, key and junk from
/// the group seed).
///
/// ```
/// use metaless_group::{rekey, GroupKeys, GroupKeyring};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
/// let (msg, key) = rekey(&group, &[bob.session_id()], 0, 1_700_000_000_000)?;
/// let mut ring = GroupKeyring::new(group.group_id());
/// ring.load_as_member(&bob, &msg, 1_700_000_000_000)?;
/// assert_eq!(ring.current()?.expose_secret(), key.expose_secret());
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn rekey(
    group: &GroupKeys,
    members: &[SessionId],
    generation: u64,
    now_ms: u64,
) -> Result<(Vec<u8>, GroupKey), GroupError> {
    let gen_i64 = i64::try_from(generation).map_err(|_| GroupError::StaleGeneration)?;
    let mut xs = Vec::with_capacity(members.len());
    let mut sids: Vec<alloc::string::String> = Vec::with_capacity(members.len());
    let mut sorted: Vec<&SessionId> = members.iter().collect();
    sorted.sort();
    sorted.dedup();
    if sorted.len() > MAX_KEY_ENTRIES {
        return Err(GroupError::TooLarge {
            field: "members",
            len: sorted.len(),
            max: MAX_KEY_ENTRIES,
        });
    }
    for m in &sorted {
        xs.push(member_x25519(m)?);
        sids.push(alloc::format!("{m}"));
    }
    let h2 = h32(SEED_KEY, &[group.expose_seed()]);
    let gen_text = alloc::format!("{generation}");
    let mut parts: Vec<&[u8]> = sids.iter().map(|s| s.as_bytes()).collect();
    parts.push(gen_text.as_bytes());
    parts.push(&h2[..]);
    let h1 = h56(GEN_KEY, &parts);
    let mut enc_key = [0u8; 32];
    enc_key.copy_from_slice(&h1[..32]);
    let enc_key = Zeroizing::new(enc_key);
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&h1[32..]);

    let admin_key = h32(ADMIN_KEY, &[group.expose_seed()]);
    let big_k = seal(&admin_key, &nonce, &enc_key[..])?;

    let group_xsk = group.keypair().x25519_secret();
    let group_xpk = group.group_id().x25519();
    let mut entries =
        Vec::with_capacity(xs.len().div_ceil(MESSAGE_KEY_MULTIPLE) * MESSAGE_KEY_MULTIPLE);
    for x in &xs {
        let key = recipient_key(group_xsk, x, &group_xpk, x, MEMBER_KEY_DOMAIN)?;
        entries.push(Value::Bytes(seal(&key, &nonce, &enc_key[..])?));
    }
    let n_junk = xs.len().div_ceil(MESSAGE_KEY_MULTIPLE).max(1) * MESSAGE_KEY_MULTIPLE - xs.len();
    if n_junk > 0 {
        // Junk entries are indistinguishable from real ones; only their count matters to
        // receivers. Derived as upstream does so the message stays reproducible.
        let mut sk64 = Zeroizing::new([0u8; 64]);
        sk64[..32].copy_from_slice(group.expose_seed());
        sk64[32..].copy_from_slice(&group.group_id().ed25519());
        let junk_seed = h32(JUNK_KEY, &[&h1[..], &sk64[..]]);
        let mut junk = Zeroizing::new(alloc::vec![0u8; n_junk * ENTRY_LEN]);
        // fewer than MESSAGE_KEY_MULTIPLE entries, far below the 256 GiB the counter covers
        let junk_len = junk.len();
        chacha20::xor_in_place(&junk_seed, DRG_NONCE, 0, &mut junk).map_err(|_| {
            GroupError::TooLarge {
                field: "junk entries",
                len: junk_len,
                max: MESSAGE_KEY_MULTIPLE * ENTRY_LEN,
            }
        })?;
        entries.extend(junk.chunks(ENTRY_LEN).map(|c| Value::Bytes(c.to_vec())));
    }
    let dict = Value::dict([
        (b"#".to_vec(), Value::Bytes(nonce.to_vec())),
        (b"G".to_vec(), Value::Int(gen_i64)),
        (b"K".to_vec(), Value::Bytes(big_k)),
        (b"k".to_vec(), Value::List(entries)),
    ]);
    let msg = sign_dict(group, &dict);
    Ok((msg, GroupKey::new(generation, *enc_key, now_ms)))
}

/// A supplement giving `keys` (normally the whole key history) to newly added `members`,
/// tagged with the current highest `generation`.
///
/// ```
/// use metaless_group::{key_supplement, rekey, GroupKeys, GroupKeyring};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let (_, k0) = rekey(&group, &[], 0, 1_000)?;
/// let carol = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let msg = key_supplement(&group, &[carol.session_id()], &[k0.clone()], 0)?;
/// let mut ring = GroupKeyring::new(group.group_id());
/// ring.load_as_member(&carol, &msg, 2_000)?;
/// assert_eq!(ring.current()?.expose_secret(), k0.expose_secret());
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn key_supplement(
    group: &GroupKeys,
    members: &[SessionId],
    keys: &[GroupKey],
    generation: u64,
) -> Result<Vec<u8>, GroupError> {
    let gen_i64 = i64::try_from(generation).map_err(|_| GroupError::StaleGeneration)?;
    if keys.is_empty() {
        return Err(GroupError::NoKey);
    }
    let mut sorted: Vec<&SessionId> = members.iter().collect();
    sorted.sort();
    sorted.dedup();
    if sorted.is_empty() || sorted.len() > MAX_KEY_ENTRIES {
        return Err(GroupError::TooLarge {
            field: "members",
            len: sorted.len(),
            max: MAX_KEY_ENTRIES,
        });
    }
    let mut list = Vec::with_capacity(keys.len());
    for k in keys {
        list.push(Value::dict([
            (
                b"g".to_vec(),
                Value::Int(i64::try_from(k.generation).map_err(|_| GroupError::StaleGeneration)?),
            ),
            (b"k".to_vec(), Value::Bytes(k.key.to_vec())),
            (
                b"t".to_vec(),
                Value::Int(i64::try_from(k.timestamp_ms).unwrap_or(i64::MAX)),
            ),
        ]));
    }
    let mut plain = Zeroizing::new(bt::encode(&Value::List(list)));
    let h2 = h32(SEED_KEY, &[group.expose_seed()]);
    let sids: Vec<alloc::string::String> = sorted.iter().map(|m| alloc::format!("{m}")).collect();
    let mut parts: Vec<&[u8]> = sids.iter().map(|s| s.as_bytes()).collect();
    parts.push(&plain[..]);
    parts.push(&h2[..]);
    let nonce_full = h24(GEN_KEY, &parts);
    let nonce = *nonce_full;
    let group_xsk = group.keypair().x25519_secret();
    let group_xpk = group.group_id().x25519();
    let mut entries = Vec::with_capacity(sorted.len());
    for m in &sorted {
        let x = member_x25519(m)?;
        let key = recipient_key(group_xsk, &x, &group_xpk, &x, MEMBER_KEY_DOMAIN)?;
        entries.push(Value::Bytes(seal(&key, &nonce, &plain)?));
    }
    plain.zeroize();
    let dict = Value::dict([
        (b"#".to_vec(), Value::Bytes(nonce.to_vec())),
        (b"+".to_vec(), Value::List(entries)),
        (b"G".to_vec(), Value::Int(gen_i64)),
    ]);
    Ok(sign_dict(group, &dict))
}

/// Encodes `dict` (without `~`) and appends the group's signature over the bytes so far as the
/// last key `~`.
fn sign_dict(group: &GroupKeys, dict: &Value) -> Vec<u8> {
    let mut out = bt::encode(dict);
    out.pop(); // the dict's closing 'e'
    let sig = group.sign(&out);
    out.extend_from_slice(b"1:~64:");
    out.extend_from_slice(&sig);
    out.push(b'e');
    out
}

/// Checks a signed bt dict's `~` signature under `group` and returns the decoded dict.
pub(crate) fn verify_signed_dict(group: &GroupId, bytes: &[u8]) -> Result<bt::Dict, GroupError> {
    let value = bt::decode(bytes).map_err(|_| GroupError::Malformed("bencoded dict"))?;
    let Value::Dict(dict) = value else {
        return Err(GroupError::Malformed("bencoded dict"));
    };
    // The signature must be the dict's last key, so the signed prefix is everything before
    // `1:~64:<sig>e` (the reader is canonical: these are exactly the received bytes).
    match dict.last_key_value() {
        Some((k, Value::Bytes(sig))) if k.as_slice() == b"~" && sig.len() == 64 => {}
        _ => return Err(GroupError::BadSignature),
    }
    let signed = &bytes[..bytes.len() - SIG_TRAILER];
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&bytes[bytes.len() - 65..bytes.len() - 1]);
    verify_ed25519(&group.ed25519(), signed, &sig).map_err(|_| GroupError::BadSignature)?;
    Ok(dict)
}

/// What loading a keys message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadOutcome {
    /// New keys were added; the highest generation among them.
    NewKeys {
        /// Highest generation added.
        generation: u64,
    },
    /// The message was valid and every key in it was already known.
    AlreadyKnown,
    /// The message was valid but carries no entry for us (we are not a member of that
    /// generation, e.g. after removal).
    NotRecipient {
        /// The generation we were left out of.
        generation: u64,
    },
}

/// A member's or admin's view of the group keys: the history of keys by generation and the
/// highest generation seen. Decrypting tries newest first.
///
/// ```
/// use metaless_group::{rekey, GroupKeys, GroupKeyring, GroupError};
/// let group = GroupKeys::from_seed([1; 32]);
/// let mut ring = GroupKeyring::new(group.group_id());
/// assert_eq!(ring.current().err(), Some(GroupError::NoKey));
/// let (msg, key) = rekey(&group, &[], 0, 5)?;
/// ring.load_as_admin(&group, &msg, 5)?;
/// assert_eq!(ring.current()?.generation(), 0);
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
#[derive(Clone)]
pub struct GroupKeyring {
    group: GroupId,
    /// Keys by (generation, key bytes); several admins rekeying at once can give one
    /// generation two keys, both kept.
    keys: BTreeMap<(u64, [u8; 32]), u64>,
    max_generation: Option<u64>,
}

impl fmt::Debug for GroupKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupKeyring")
            .field("group", &self.group)
            .field("keys", &self.keys.len())
            .field("max_generation", &self.max_generation)
            .finish()
    }
}

impl Drop for GroupKeyring {
    fn drop(&mut self) {
        let keys = core::mem::take(&mut self.keys);
        for ((_, mut k), _) in keys {
            k.zeroize();
        }
    }
}

impl GroupKeyring {
    /// An empty keyring for `group`.
    pub fn new(group: GroupId) -> Self {
        Self {
            group,
            keys: BTreeMap::new(),
            max_generation: None,
        }
    }

    /// The group.
    pub fn group(&self) -> GroupId {
        self.group
    }

    /// Adds a key learnt elsewhere (an admin's own rekey, persisted state).
    pub fn insert(&mut self, key: &GroupKey) -> bool {
        self.max_generation = Some(
            self.max_generation
                .map_or(key.generation, |g| g.max(key.generation)),
        );
        let fresh = !self.keys.contains_key(&(key.generation, *key.key));
        self.keys
            .entry((key.generation, *key.key))
            .or_insert(key.timestamp_ms);
        while self.keys.len() > MAX_KEY_HISTORY {
            self.keys.pop_first();
        }
        fresh
    }

    /// The current encryption key: the highest generation (the newest of equal generations).
    pub fn current(&self) -> Result<GroupKey, GroupError> {
        self.iter().next().ok_or(GroupError::NoKey)
    }

    /// Every known key, newest generation first.
    pub fn iter(&self) -> impl Iterator<Item = GroupKey> + '_ {
        let mut v: Vec<(&(u64, [u8; 32]), &u64)> = self.keys.iter().collect();
        v.sort_by(|a, b| (b.0.0, b.1).cmp(&(a.0.0, a.1)));
        v.into_iter().map(|((g, k), t)| GroupKey::new(*g, *k, *t))
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is known.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The highest generation seen in any valid keys message, including ones we could not
    /// decrypt.
    pub fn max_generation(&self) -> Option<u64> {
        self.max_generation
    }

    /// True when a generation newer than every key we hold has been seen: we were left out
    /// of a rekey (removed from the group).
    pub fn is_removed(&self) -> bool {
        match (self.max_generation, self.keys.keys().map(|k| k.0).max()) {
            (Some(seen), Some(have)) => seen > have,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// Drops keys superseded (a newer generation's key in use) for more than the 60-day
    /// [`KEY_EXPIRY_MS`].
    pub fn prune(&mut self, now_ms: u64) {
        let gens: Vec<(u64, u64)> = self.keys.iter().map(|((g, _), t)| (*g, *t)).collect();
        self.keys.retain(|(g, _), _| {
            // Superseded since the earliest key of a higher generation.
            let since = gens.iter().filter(|(g2, _)| g2 > g).map(|(_, t)| *t).min();
            since.is_none_or(|s| now_ms.saturating_sub(s) <= KEY_EXPIRY_MS)
        });
    }

    /// Loads a keys message as a member (`me` = the member's account keys). `storage_ms` is
    /// the message's storage timestamp (the new key's start).
    pub fn load_as_member(
        &mut self,
        me: &Keypair,
        message: &[u8],
        storage_ms: u64,
    ) -> Result<LoadOutcome, GroupError> {
        let group_xpk = self.group.x25519();
        let key = recipient_key(
            me.x25519_secret(),
            &group_xpk,
            &group_xpk,
            &me.x25519_public(),
            MEMBER_KEY_DOMAIN,
        )?;
        self.load(Reader::Member(&key), message, storage_ms)
    }

    /// Loads a keys message as an admin (decrypts the admin copy `K`; supplements carry
    /// nothing new for admins and are checked and skipped).
    pub fn load_as_admin(
        &mut self,
        group: &GroupKeys,
        message: &[u8],
        storage_ms: u64,
    ) -> Result<LoadOutcome, GroupError> {
        if group.group_id() != self.group {
            return Err(GroupError::InvalidGroupId);
        }
        let admin_key = h32(ADMIN_KEY, &[group.expose_seed()]);
        self.load(Reader::Admin(&admin_key), message, storage_ms)
    }

    fn load(
        &mut self,
        reader: Reader<'_>,
        message: &[u8],
        storage_ms: u64,
    ) -> Result<LoadOutcome, GroupError> {
        if message.len() > MAX_KEYS_MESSAGE {
            return Err(GroupError::TooLarge {
                field: "keys message",
                len: message.len(),
                max: MAX_KEYS_MESSAGE,
            });
        }
        let dict = verify_signed_dict(&self.group, message)?;
        let nonce: [u8; 24] = dict
            .get(b"#".as_slice())
            .and_then(Value::as_bytes)
            .and_then(|b| b.try_into().ok())
            .ok_or(GroupError::Malformed("keys message nonce"))?;
        let generation = dict
            .get(b"G".as_slice())
            .and_then(Value::as_int)
            .and_then(|g| u64::try_from(g).ok())
            .ok_or(GroupError::Malformed("keys message generation"))?;
        let found = if let Some(sup) = dict.get(b"+".as_slice()) {
            if dict.contains_key(b"K".as_slice()) || dict.contains_key(b"k".as_slice()) {
                return Err(GroupError::Malformed(
                    "keys message: both supplement and rekey",
                ));
            }
            let entries = entry_list(sup, false)?;
            match reader {
                Reader::Admin(_) => Vec::new(),
                Reader::Member(key) => match entries.iter().find_map(|e| open(key, &nonce, e).ok())
                {
                    Some(plain) => parse_supplement(&plain)?,
                    None => Vec::new(),
                },
            }
        } else {
            let big_k = dict
                .get(b"K".as_slice())
                .and_then(Value::as_bytes)
                .filter(|k| k.len() == ENTRY_LEN)
                .ok_or(GroupError::Malformed("keys message admin key"))?;
            let entries = entry_list(
                dict.get(b"k".as_slice())
                    .ok_or(GroupError::Malformed("keys message entries"))?,
                true,
            )?;
            let plain = match reader {
                Reader::Admin(key) => {
                    Some(open(key, &nonce, big_k).map_err(|_| GroupError::DecryptFailed)?)
                }
                Reader::Member(key) => entries.iter().find_map(|e| open(key, &nonce, e).ok()),
            };
            match plain {
                Some(p) => {
                    let k: [u8; 32] = p[..]
                        .try_into()
                        .map_err(|_| GroupError::Malformed("wrapped key"))?;
                    alloc::vec![GroupKey::new(generation, k, storage_ms)]
                }
                None => Vec::new(),
            }
        };
        self.max_generation = Some(
            self.max_generation
                .map_or(generation, |g| g.max(generation)),
        );
        if found.is_empty() {
            return Ok(match reader {
                Reader::Admin(_) => LoadOutcome::AlreadyKnown,
                Reader::Member(_) => LoadOutcome::NotRecipient { generation },
            });
        }
        let mut newest = None;
        for k in &found {
            if self.insert(k) {
                newest = Some(newest.map_or(k.generation, |g: u64| g.max(k.generation)));
            }
        }
        Ok(match newest {
            Some(generation) => LoadOutcome::NewKeys { generation },
            None => LoadOutcome::AlreadyKnown,
        })
    }
}

enum Reader<'a> {
    Member(&'a [u8; 32]),
    Admin(&'a [u8; 32]),
}

fn entry_list(v: &Value, full: bool) -> Result<Vec<&[u8]>, GroupError> {
    let list = v
        .as_list()
        .ok_or(GroupError::Malformed("keys message entries"))?;
    if list.len() > MAX_KEY_ENTRIES {
        return Err(GroupError::TooLarge {
            field: "keys message entries",
            len: list.len(),
            max: MAX_KEY_ENTRIES,
        });
    }
    if full && (list.is_empty() || list.len() % MESSAGE_KEY_MULTIPLE != 0) {
        return Err(GroupError::Malformed("keys message entry count"));
    }
    list.iter()
        .map(|e| match e.as_bytes() {
            Some(b) if full && b.len() == ENTRY_LEN => Ok(b),
            // A supplement entry holds at least one {g,k,t} dict plus the tag.
            Some(b) if !full && b.len() >= 68 => Ok(b),
            _ => Err(GroupError::Malformed("keys message entry")),
        })
        .collect()
}

fn parse_supplement(plain: &[u8]) -> Result<Vec<GroupKey>, GroupError> {
    let v = bt::decode(plain).map_err(|_| GroupError::Malformed("supplement keys"))?;
    let list = v
        .as_list()
        .ok_or(GroupError::Malformed("supplement keys"))?;
    list.iter()
        .map(|item| {
            let d = item
                .as_dict()
                .ok_or(GroupError::Malformed("supplement key"))?;
            let g = d
                .get(b"g".as_slice())
                .and_then(Value::as_int)
                .and_then(|g| u64::try_from(g).ok())
                .ok_or(GroupError::Malformed("supplement key generation"))?;
            let k: [u8; 32] = d
                .get(b"k".as_slice())
                .and_then(Value::as_bytes)
                .and_then(|k| k.try_into().ok())
                .ok_or(GroupError::Malformed("supplement key bytes"))?;
            let t = d
                .get(b"t".as_slice())
                .and_then(Value::as_int)
                .and_then(|t| u64::try_from(t).ok())
                .ok_or(GroupError::Malformed("supplement key timestamp"))?;
            Ok(GroupKey::new(g, k, t))
        })
        .collect()
}
