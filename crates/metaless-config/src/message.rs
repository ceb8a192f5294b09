//! The config message (libsession `config.cpp`): seqno, data, lagged diffs, diff, signature;
//! the diff rules and the merge of concurrent messages.
//!
//! Top-level bt dict, keys in byte order:
//!
//! | key | value |
//! |---|---|
//! | `#` | seqno (int); must be the first key |
//! | (other keys `$`…`%`, `'`…`;`, `>`…`}`) | unknown: kept and re-emitted unchanged |
//! | `&` | data dict: ints, strings, sets (non-empty, ordered), dicts (non-empty) |
//! | `<` | lagged diffs: `[seqno, hash32, diff]` sorted by (seqno, hash), seqno in (cur−5, cur) |
//! | `=` | this message's diff: `""` set, `"-"` removed, dict = changes inside, `[[added], [removed]]` |
//! | `~` | 64-byte Ed25519 signature over the bytes before `1:~` (group configs); must be last |
//!
//! The hash of a message is BLAKE2b-256 of its serialized bytes (signature included).
//!
//! ```
//! use metaless_config::{bt::Value, ConfigMessage};
//! let mut m = ConfigMessage::new().increment(None);
//! m.data_mut().insert(b"n".to_vec(), Value::bytes("Alice"));
//! let bytes = m.serialize(None);
//! assert_eq!(bytes, b"d1:#i1e1:&d1:n5:Alicee1:<lli0e32:\xea\x17\x3b\x57\xbe\xca\x8a\xf1\x8c\x35\x19\xa7\xbb\xf6\x9c\x3e\x7a\x05\xd1\xc0\x49\xfa\x95\x58\x34\x1d\x8e\xbb\x48\xb0\xc9\x65deee1:=d1:n0:ee");
//! let back = ConfigMessage::parse(&bytes, None).unwrap();
//! assert_eq!(back.data(), m.data());
//! ```

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::cmp::Ordering;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use metaless_identity::Keypair;

use crate::ConfigError;
use crate::bt::{self, Dict, Value};

/// How many seqnos back lagged diffs are kept and merged (upstream's default `lag`).
pub const LAG: i64 = 5;

/// A message's (seqno, hash): its identity and its order in a merge.
pub type SeqnoHash = (i64, [u8; 32]);

/// `"1:~64:"`, what precedes the signature; `SIG_SUFFIX_LEN` counts it, the 64 bytes and `e`.
const SIG_MARK: &[u8] = b"1:~64:";
const SIG_SUFFIX_LEN: usize = 6 + 64 + 1;

/// One config message, parsed or being built.
///
/// A parsed message is immutable; [`increment`](Self::increment) (or a merge) gives a mutable
/// one whose diff is computed, at serialization, from the data it started with.
///
/// ```
/// use metaless_config::ConfigMessage;
/// let m = ConfigMessage::new();
/// assert_eq!(m.serialize(None), b"d1:#i0e1:&de1:<le1:=dee");
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ConfigMessage {
    seqno: i64,
    hash: [u8; 32],
    data: Dict,
    lagged: BTreeMap<SeqnoHash, Dict>,
    diff: Dict,
    unknown: Dict,
    signature: Option<[u8; 64]>,
    /// `Some` for a mutable message: the data the diff is computed from.
    orig: Option<Dict>,
}

impl Default for ConfigMessage {
    fn default() -> Self {
        Self::new()
    }
}

/// BLAKE2b-256 of `bytes`: the config message hash.
///
/// ```
/// let h = metaless_config::message::hash(b"d1:#i0e1:&de1:<le1:=dee");
/// assert_eq!(h[0], 0xea);
/// ```
pub fn hash(bytes: &[u8]) -> [u8; 32] {
    Blake2b::<U32>::digest(bytes).into()
}

impl ConfigMessage {
    /// The empty seqno-0 message.
    ///
    /// ```
    /// assert_eq!(metaless_config::ConfigMessage::new().seqno(), 0);
    /// ```
    pub fn new() -> Self {
        let mut m = ConfigMessage {
            seqno: 0,
            hash: [0; 32],
            data: Dict::new(),
            lagged: BTreeMap::new(),
            diff: Dict::new(),
            unknown: Dict::new(),
            signature: None,
            orig: None,
        };
        m.hash = hash(&m.serialize(None));
        m
    }

    /// Parses `bytes` (an unpadded, decompressed bt dict). With `verifier`, a valid `~`
    /// signature by that Ed25519 key is required; without, a signature is kept but unchecked.
    ///
    /// ```
    /// use metaless_config::{ConfigError, ConfigMessage};
    /// let m = ConfigMessage::parse(b"d1:#i3e1:&d1:ai1ee1:<le1:=d1:a0:ee", None).unwrap();
    /// assert_eq!(m.seqno(), 3);
    /// assert!(matches!(ConfigMessage::parse(b"d1:#i3e1:&d1:adeee", None), Err(ConfigError::Malformed(_))));
    /// ```
    pub fn parse(bytes: &[u8], verifier: Option<&[u8; 32]>) -> Result<Self, ConfigError> {
        let top = bt::decode(bytes)?;
        let Value::Dict(mut top) = top else {
            return Err(ConfigError::Malformed("top level is not a dict"));
        };
        match top.keys().next() {
            Some(k) if k.as_slice() == b"#" => {}
            _ => return Err(ConfigError::Malformed("first key must be \"#\"")),
        }
        if top
            .keys()
            .next_back()
            .is_some_and(|k| k.as_slice() > &b"~"[..])
        {
            return Err(ConfigError::Malformed("key after \"~\""));
        }
        let seqno = top
            .remove(&b"#"[..])
            .and_then(|v| v.as_int())
            .ok_or(ConfigError::Malformed("seqno is not an integer"))?;
        let data = match top.remove(&b"&"[..]) {
            Some(Value::Dict(d)) => d,
            _ => return Err(ConfigError::Malformed("\"&\" data dict not found")),
        };
        check_data(&data, true)?;
        let mut lagged = BTreeMap::new();
        match top.remove(&b"<"[..]) {
            None => {}
            Some(Value::List(rows)) => {
                let mut last: Option<SeqnoHash> = None;
                for row in rows {
                    let Value::List(row) = row else {
                        return Err(ConfigError::Malformed("lagged diff is not a list"));
                    };
                    let [Value::Int(s), Value::Bytes(h), Value::Dict(d)] = row.as_slice() else {
                        return Err(ConfigError::Malformed(
                            "lagged diff is not [seqno, hash, diff]",
                        ));
                    };
                    let h: [u8; 32] = h
                        .as_slice()
                        .try_into()
                        .map_err(|_| ConfigError::Malformed("lagged hash must be 32 bytes"))?;
                    if *s >= seqno {
                        return Err(ConfigError::Malformed("lagged seqno >= current seqno"));
                    }
                    check_diff(d)?;
                    if *s <= seqno.saturating_sub(LAG) {
                        continue; // too old: dropped, as upstream does
                    }
                    if last.is_some_and(|l| l >= (*s, h)) {
                        return Err(ConfigError::Malformed(
                            "lagged diffs unsorted or duplicated",
                        ));
                    }
                    last = Some((*s, h));
                    lagged.insert((*s, h), d.clone());
                }
            }
            Some(_) => return Err(ConfigError::Malformed("\"<\" is not a list")),
        }
        let diff = match top.remove(&b"="[..]) {
            None => Dict::new(),
            Some(Value::Dict(d)) => {
                check_diff(&d)?;
                d
            }
            Some(_) => return Err(ConfigError::Malformed("\"=\" is not a dict")),
        };
        let signature = match top.remove(&b"~"[..]) {
            None => None,
            Some(Value::Bytes(sig)) => {
                let sig: [u8; 64] = sig
                    .as_slice()
                    .try_into()
                    .map_err(|_| ConfigError::BadSignature)?;
                // Canonical bt puts `~` last, so the signed bytes are all but the suffix.
                let cut = bytes.len() - SIG_SUFFIX_LEN;
                if &bytes[cut..cut + SIG_MARK.len()] != SIG_MARK {
                    return Err(ConfigError::BadSignature);
                }
                if let Some(pk) = verifier {
                    metaless_identity::verify_ed25519(pk, &bytes[..cut], &sig)
                        .map_err(|_| ConfigError::BadSignature)?;
                }
                Some(sig)
            }
            Some(_) => return Err(ConfigError::BadSignature),
        };
        if verifier.is_some() && signature.is_none() {
            return Err(ConfigError::MissingSignature);
        }
        Ok(ConfigMessage {
            seqno,
            hash: hash(bytes),
            data,
            lagged,
            diff,
            unknown: top,
            signature,
            orig: None,
        })
    }

    /// The seqno.
    ///
    /// ```
    /// assert_eq!(metaless_config::ConfigMessage::new().increment(None).seqno(), 1);
    /// ```
    pub fn seqno(&self) -> i64 {
        self.seqno
    }

    /// The hash of this message as parsed (for a mutable message: as last hashed by
    /// [`serialize_and_hash`](Self::serialize_and_hash), [`increment`](Self::increment) or a merge).
    ///
    /// ```
    /// let m = metaless_config::ConfigMessage::new();
    /// assert_eq!(m.hash(), metaless_config::message::hash(&m.serialize(None)));
    /// ```
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The data dict (`&`).
    ///
    /// ```
    /// assert!(metaless_config::ConfigMessage::new().data().is_empty());
    /// ```
    pub fn data(&self) -> &Dict {
        &self.data
    }

    /// The data dict, to edit. On an immutable (parsed) message this first turns it into the next
    /// mutable one, as [`increment`](Self::increment) does without a signer.
    ///
    /// ```
    /// let mut m = metaless_config::ConfigMessage::new();
    /// m.data_mut().insert(b"x".to_vec(), metaless_config::bt::Value::Int(1));
    /// assert_eq!(m.seqno(), 1);
    /// ```
    pub fn data_mut(&mut self) -> &mut Dict {
        if self.orig.is_none() {
            *self = self.increment(None);
        }
        &mut self.data
    }

    /// True when this message is mutable (its diff is computed from where it started).
    ///
    /// ```
    /// assert!(metaless_config::ConfigMessage::new().increment(None).is_mutable());
    /// ```
    pub fn is_mutable(&self) -> bool {
        self.orig.is_some()
    }

    /// Unknown top-level keys, preserved on rewrite.
    ///
    /// ```
    /// let m = metaless_config::ConfigMessage::parse(b"d1:#i1e1:$i7e1:&de1:<le1:=dee", None).unwrap();
    /// assert_eq!(m.unknown().len(), 1);
    /// ```
    pub fn unknown(&self) -> &Dict {
        &self.unknown
    }

    /// The signature carried (parsed messages) if any.
    ///
    /// ```
    /// assert!(metaless_config::ConfigMessage::new().signature().is_none());
    /// ```
    pub fn signature(&self) -> Option<&[u8; 64]> {
        self.signature.as_ref()
    }

    /// The lagged diffs kept, by (seqno, hash).
    ///
    /// ```
    /// let m = metaless_config::ConfigMessage::new().increment(None);
    /// assert_eq!(m.lagged().len(), 1);
    /// ```
    pub fn lagged(&self) -> &BTreeMap<SeqnoHash, Dict> {
        &self.lagged
    }

    /// This message's diff: stored for a parsed message, computed (after pruning empty
    /// dicts/sets) for a mutable one.
    ///
    /// ```
    /// use metaless_config::{bt::{encode, Value}, ConfigMessage};
    /// let mut m = ConfigMessage::new().increment(None);
    /// m.data_mut().insert(b"a".to_vec(), Value::Int(1));
    /// assert_eq!(encode(&Value::Dict(m.diff())), b"d1:a0:e");
    /// ```
    pub fn diff(&self) -> Dict {
        match &self.orig {
            Some(orig) => {
                let mut data = self.data.clone();
                prune(&mut data);
                diff_dicts(orig, &data)
            }
            None => self.diff.clone(),
        }
    }

    /// The next mutable message: seqno + 1, this message's diff becomes a lagged diff, lags
    /// older than the window dropped, the new diff empty. `signer` is needed only to hash a
    /// mutable signed message.
    ///
    /// ```
    /// let m = metaless_config::ConfigMessage::new();
    /// let n = m.increment(None);
    /// assert_eq!(n.lagged().keys().next(), Some(&(0, m.hash())));
    /// ```
    pub fn increment(&self, signer: Option<&Keypair>) -> ConfigMessage {
        let (bytes_hash, diff) = if self.orig.is_some() {
            (hash(&self.serialize(signer)), self.diff())
        } else {
            (self.hash, self.diff.clone())
        };
        let mut data = self.data.clone();
        prune(&mut data);
        let mut lagged = self.lagged.clone();
        lagged.retain(|(s, _), _| *s > self.seqno.saturating_sub(LAG) && *s < self.seqno);
        lagged.insert((self.seqno, bytes_hash), diff);
        let mut next = ConfigMessage {
            seqno: self.seqno.saturating_add(1),
            hash: [0; 32],
            orig: Some(data.clone()),
            data,
            lagged,
            diff: Dict::new(),
            unknown: self.unknown.clone(),
            signature: None,
        };
        next.hash = hash(&next.serialize(signer));
        next
    }

    /// Serializes; with `signer`, appends the `~` signature (group configs). A parsed message
    /// re-serializes to the bytes it was parsed from (its signature kept when `signer` is `None`).
    ///
    /// ```
    /// use metaless_config::ConfigMessage;
    /// let b = b"d1:#i3e1:&d1:ai1ee1:<le1:=d1:a0:ee";
    /// assert_eq!(ConfigMessage::parse(b, None).unwrap().serialize(None), b);
    /// ```
    pub fn serialize(&self, signer: Option<&Keypair>) -> Vec<u8> {
        let mut top = self.unknown.clone();
        top.insert(b"#".to_vec(), Value::Int(self.seqno));
        let mut data = self.data.clone();
        if self.orig.is_some() {
            prune(&mut data);
        }
        top.insert(b"&".to_vec(), Value::Dict(data));
        let lags = self
            .lagged
            .iter()
            .filter(|((s, _), _)| *s > self.seqno.saturating_sub(LAG) && *s < self.seqno)
            .map(|((s, h), d)| {
                Value::List(alloc::vec![
                    Value::Int(*s),
                    Value::bytes(h),
                    Value::Dict(d.clone())
                ])
            })
            .collect();
        top.insert(b"<".to_vec(), Value::List(lags));
        top.insert(b"=".to_vec(), Value::Dict(self.diff()));
        let mut out = bt::encode(&Value::Dict(top));
        let sig = match signer {
            Some(k) => {
                out.pop();
                Some(k.sign(&out))
            }
            None if self.orig.is_none() => self.signature.inspect(|_| {
                out.pop();
            }),
            None => None,
        };
        if let Some(sig) = sig {
            out.extend_from_slice(SIG_MARK);
            out.extend_from_slice(&sig);
            out.push(b'e');
        }
        out
    }

    /// Serializes and records the hash of the result as this message's hash.
    ///
    /// ```
    /// let mut m = metaless_config::ConfigMessage::new().increment(None);
    /// let bytes = m.serialize_and_hash(None);
    /// assert_eq!(m.hash(), metaless_config::message::hash(&bytes));
    /// ```
    pub fn serialize_and_hash(&mut self, signer: Option<&Keypair>) -> Vec<u8> {
        let out = self.serialize(signer);
        self.hash = hash(&out);
        out
    }

    /// Merges candidate messages as upstream does. Returns the result and, when no merge was
    /// needed, the index of the one message that is the result as is.
    ///
    /// Rules: a message included in another's lagged diffs, a duplicate, or one `LAG` or more
    /// seqnos behind the newest is dropped. One left: that is the result. Otherwise the new
    /// seqno is the highest + 1; the data starts from the highest (seqno, hash) message and
    /// every current and lagged diff is replayed in ascending (seqno, hash) order, each taking
    /// its values from the data of the message it came with (the newest carrying it wins).
    ///
    /// ```
    /// use metaless_config::{bt::Value, ConfigMessage};
    /// let base = ConfigMessage::new();
    /// let mut a = base.increment(None);
    /// a.data_mut().insert(b"a".to_vec(), Value::Int(1));
    /// let mut b = base.increment(None);
    /// b.data_mut().insert(b"b".to_vec(), Value::Int(2));
    /// let (m, which) = ConfigMessage::merge(vec![a, b], None);
    /// assert_eq!(which, None);
    /// assert_eq!(m.seqno(), 2);
    /// assert_eq!(m.data().len(), 2);
    /// ```
    pub fn merge(
        candidates: Vec<ConfigMessage>,
        signer: Option<&Keypair>,
    ) -> (ConfigMessage, Option<usize>) {
        // Mutable candidates get their current hash and diff fixed first.
        let confs: Vec<ConfigMessage> = candidates
            .into_iter()
            .map(|c| {
                if c.orig.is_some() {
                    let bytes = c.serialize(signer);
                    ConfigMessage {
                        hash: hash(&bytes),
                        diff: c.diff(),
                        orig: None,
                        signature: None,
                        ..c
                    }
                } else {
                    c
                }
            })
            .collect();
        let Some(max_seqno) = confs.iter().map(|c| c.seqno).max() else {
            return (ConfigMessage::new(), None);
        };
        let mut redundant = alloc::vec![false; confs.len()];
        for (i, c) in confs.iter().enumerate() {
            let key = (c.seqno, c.hash);
            redundant[i] = c.seqno.saturating_add(LAG) <= max_seqno
                || confs.iter().enumerate().any(|(j, d)| {
                    j != i && (d.lagged.contains_key(&key) || (j < i && (d.seqno, d.hash) == key))
                });
        }
        let live: Vec<usize> = (0..confs.len()).filter(|&i| !redundant[i]).collect();
        if let [only] = live.as_slice() {
            let only = *only;
            let mut confs = confs;
            return (confs.swap_remove(only), Some(only));
        }
        let mut live: Vec<ConfigMessage> = confs
            .into_iter()
            .zip(redundant)
            .filter(|(_, r)| !r)
            .map(|(c, _)| c)
            .collect();
        live.sort_by_key(|c| core::cmp::Reverse((c.seqno, c.hash)));
        let mut data = live[0].data.clone();
        // Highest-first so the newest message carrying a diff supplies its source data.
        let mut replay: BTreeMap<SeqnoHash, (&Dict, &Dict)> = BTreeMap::new();
        for c in &live {
            replay
                .entry((c.seqno, c.hash))
                .or_insert((&c.data, &c.diff));
            for (sh, d) in &c.lagged {
                replay.entry(*sh).or_insert((&c.data, d));
            }
        }
        let mut lagged = BTreeMap::new();
        for (sh, (source, diff)) in &replay {
            apply_diff(&mut data, diff, source);
            lagged.insert(*sh, (*diff).clone());
        }
        prune(&mut data);
        let mut m = ConfigMessage {
            seqno: max_seqno.saturating_add(1),
            hash: [0; 32],
            data,
            lagged,
            diff: Dict::new(),
            unknown: live[0].unknown.clone(),
            signature: None,
            // Upstream's merged message diffs against an empty start: its diff lists every key.
            orig: Some(Dict::new()),
        };
        m.hash = hash(&m.serialize(signer));
        (m, None)
    }
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Bytes(_))
}

/// Data rules: nested dicts and sets non-empty, sets ordered scalars.
fn check_data(d: &Dict, top: bool) -> Result<(), ConfigError> {
    if !top && d.is_empty() {
        return Err(ConfigError::Malformed("data contains an empty dict"));
    }
    for v in d.values() {
        match v {
            Value::Int(_) | Value::Bytes(_) => {}
            Value::Dict(sub) => check_data(sub, false)?,
            Value::List(l) => {
                if l.is_empty() {
                    return Err(ConfigError::Malformed("data contains an empty set"));
                }
                if !v.is_canonical_set() {
                    return Err(ConfigError::Malformed(
                        "data set unsorted, duplicated or not scalar",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Diff rules: `""`/`"-"`, `[[added], [removed]]` ordered scalar lists, or nested diffs.
fn check_diff(d: &Dict) -> Result<(), ConfigError> {
    for v in d.values() {
        match v {
            Value::Bytes(b) if b.is_empty() || b.as_slice() == b"-" => {}
            Value::Dict(sub) => check_diff(sub)?,
            Value::List(l) => {
                let [a, r] = l.as_slice() else {
                    return Err(ConfigError::Malformed("set diff must be [added, removed]"));
                };
                for side in [a, r] {
                    let Value::List(items) = side else {
                        return Err(ConfigError::Malformed("set diff must be [added, removed]"));
                    };
                    if !items.is_empty() && !side.is_canonical_set() {
                        return Err(ConfigError::Malformed("set diff elements unsorted"));
                    }
                }
            }
            _ => {
                return Err(ConfigError::Malformed(
                    "diff value must be \"\", \"-\", a dict or a set diff",
                ));
            }
        }
    }
    Ok(())
}

/// Removes empty dicts and sets, recursively; true when `d` itself ended up empty.
fn prune(d: &mut Dict) -> bool {
    d.retain(|_, v| match v {
        Value::Dict(sub) => !prune(sub),
        Value::List(l) => !l.is_empty(),
        _ => true,
    });
    d.is_empty()
}

fn kind(v: &Value) -> u8 {
    match v {
        Value::Int(_) | Value::Bytes(_) => 0,
        Value::Dict(_) => 1,
        Value::List(_) => 2,
    }
}

fn set_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Int(_), _) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// `[[added], [removed]]` between two sets, or `None` when equal.
fn diff_sets(old: &[Value], new: &[Value]) -> Option<Value> {
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let ord = match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) => set_cmp(n, o),
            (None, _) => Ordering::Less,
            (_, None) => Ordering::Greater,
        };
        match ord {
            Ordering::Less => {
                added.push(new[j].clone());
                j += 1;
            }
            Ordering::Greater => {
                removed.push(old[i].clone());
                i += 1;
            }
            Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    if added.is_empty() && removed.is_empty() {
        return None;
    }
    Some(Value::List(alloc::vec![
        Value::List(added),
        Value::List(removed)
    ]))
}

/// A value's diff when it appears (type changed or new key).
fn diff_new(v: &Value) -> Value {
    match v {
        Value::Dict(d) => Value::Dict(diff_dicts(&Dict::new(), d)),
        Value::List(s) => diff_sets(&[], s).unwrap_or(Value::List(alloc::vec![
            Value::List(Vec::new()),
            Value::List(Vec::new())
        ])),
        _ => Value::bytes(""),
    }
}

/// The diff taking `old` to `new` (upstream `diff_impl`).
fn diff_dicts(old: &Dict, new: &Dict) -> Dict {
    let mut df = Dict::new();
    let keys: BTreeSet<&Vec<u8>> = old.keys().chain(new.keys()).collect();
    for k in keys {
        match (old.get(k), new.get(k)) {
            (Some(o), None) => {
                let d = match o {
                    Value::Dict(od) => Value::Dict(diff_dicts(od, &Dict::new())),
                    Value::List(os) => diff_sets(os, &[]).unwrap_or(Value::bytes("-")),
                    _ => Value::bytes("-"),
                };
                df.insert(k.clone(), d);
            }
            (None, Some(n)) => {
                df.insert(k.clone(), diff_new(n));
            }
            (Some(o), Some(n)) if kind(o) != kind(n) => {
                df.insert(k.clone(), diff_new(n));
            }
            (Some(o), Some(n)) => match (o, n) {
                (Value::Dict(od), Value::Dict(nd)) => {
                    let sub = diff_dicts(od, nd);
                    if !sub.is_empty() {
                        df.insert(k.clone(), Value::Dict(sub));
                    }
                }
                (Value::List(os), Value::List(ns)) => {
                    if let Some(sub) = diff_sets(os, ns) {
                        df.insert(k.clone(), sub);
                    }
                }
                _ => {
                    if o != n {
                        df.insert(k.clone(), Value::bytes(""));
                    }
                }
            },
            (None, None) => {}
        }
    }
    df
}

/// Applies `diff` to `data`, taking values from `source` (upstream `apply_diff`). A key whose
/// source is missing or of another type than the diff says is removed: a later diff sets it.
fn apply_diff(data: &mut Dict, diff: &Dict, source: &Dict) {
    for (k, dv) in diff {
        let src = source.get(k);
        match (dv, src) {
            (Value::Bytes(mode), Some(s)) if is_scalar(s) => {
                if mode.as_slice() == b"-" {
                    data.remove(k);
                } else {
                    data.insert(k.clone(), s.clone());
                }
            }
            (Value::Dict(sub), Some(Value::Dict(s))) => {
                let entry = data
                    .entry(k.clone())
                    .or_insert_with(|| Value::Dict(Dict::new()));
                if !matches!(entry, Value::Dict(_)) {
                    *entry = Value::Dict(Dict::new());
                }
                if let Value::Dict(target) = entry {
                    apply_diff(target, sub, s);
                }
            }
            (Value::List(change), Some(Value::List(_))) => {
                let entry = data
                    .entry(k.clone())
                    .or_insert_with(|| Value::List(Vec::new()));
                let mut items = match core::mem::replace(entry, Value::List(Vec::new())) {
                    Value::List(l) => l,
                    _ => Vec::new(),
                };
                if let [Value::List(added), Value::List(removed)] = change.as_slice() {
                    items.extend(added.iter().filter(|x| is_scalar(x)).cloned());
                    items.retain(|x| !removed.contains(x));
                }
                *entry = Value::set(items);
            }
            _ => {
                data.remove(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(bytes: &[u8]) -> Dict {
        match bt::decode(bytes) {
            Ok(Value::Dict(d)) => d,
            _ => Dict::new(),
        }
    }

    #[test]
    fn diff_then_apply_reproduces_new() {
        let old = d(b"d1:ai1e1:bd1:xi1ee1:cli1ei2ee1:d3:abce");
        let new = d(b"d1:ai2e1:bd1:yi1ee1:cli2ei3ee1:ed1:zi0eee");
        let df = diff_dicts(&old, &new);
        let mut data = old.clone();
        apply_diff(&mut data, &df, &new);
        prune(&mut data);
        assert_eq!(data, new);
    }

    #[test]
    fn type_change_replaces() {
        let old = d(b"d1:ad1:xi1eee");
        let new = d(b"d1:ai5ee");
        let df = diff_dicts(&old, &new);
        assert_eq!(bt::encode(&Value::Dict(df.clone())), b"d1:a0:e");
        let mut data = old.clone();
        apply_diff(&mut data, &df, &new);
        assert_eq!(data, new);
    }
}
