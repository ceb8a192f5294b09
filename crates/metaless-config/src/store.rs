//! One config's state as a device holds it (libsession `ConfigBase`): the current message,
//! whether it has unpushed changes, edits, merges of what the swarm holds, and the push bytes.
//!
//! ```
//! use metaless_config::{bt::Value, Config, Kind};
//! let mut a = Config::new(Kind::UserProfile);
//! let mut b = Config::new(Kind::UserProfile);
//! a.edit(|d| { d.insert(b"n".to_vec(), Value::bytes("Alice")); });
//! b.edit(|d| { d.insert(b"+".to_vec(), Value::Int(1)); });
//! let (pa, pb) = (a.push(), b.push());
//! a.confirm_pushed(&pa);
//! b.confirm_pushed(&pb);
//! a.merge(&[&pb.serialized]);
//! b.merge(&[&pa.serialized]);
//! assert_eq!(a.data(), b.data());
//! assert_eq!(a.data().len(), 2);
//! ```

use alloc::vec::Vec;

use metaless_identity::Keypair;

use crate::bt::Dict;
use crate::{ConfigError, ConfigMessage, Kind};

/// Dump states, upstream's `ConfigState` numbers.
const STATE_CLEAN: i64 = 0;
const STATE_DIRTY: i64 = 1;
const STATE_WAITING: i64 = 2;

/// A config as one device holds it.
pub struct Config {
    kind: Kind,
    msg: ConfigMessage,
    dirty: bool,
    signer: Option<Keypair>,
    verifier: Option<[u8; 32]>,
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The signer is secret: never printed.
        f.debug_struct("Config")
            .field("kind", &self.kind)
            .field("seqno", &self.msg.seqno())
            .field("dirty", &self.dirty)
            .finish_non_exhaustive()
    }
}

/// What [`Config::push`] produced: the serialized message (not yet compressed, padded or
/// encrypted) and its seqno.
///
/// ```
/// let p = metaless_config::Config::new(metaless_config::Kind::Contacts).push();
/// assert_eq!(p.seqno, 0);
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Push {
    /// The message's seqno.
    pub seqno: i64,
    /// The serialized bt message.
    pub serialized: Vec<u8>,
    /// BLAKE2b-256 of `serialized`.
    pub hash: [u8; 32],
}

/// What a [`Config::merge`] did.
///
/// ```
/// let mut c = metaless_config::Config::new(metaless_config::Kind::Contacts);
/// let r = c.merge(&[b"junk"]);
/// assert_eq!((r.accepted, r.changed), (vec![false], false));
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct MergeResult {
    /// Per incoming message: whether it parsed (and verified) and so took part.
    pub accepted: Vec<bool>,
    /// Whether the data or seqno changed.
    pub changed: bool,
}

impl Config {
    /// An empty config (seqno 0, nothing to push).
    ///
    /// ```
    /// assert!(!metaless_config::Config::new(metaless_config::Kind::UserGroups).needs_push());
    /// ```
    pub fn new(kind: Kind) -> Self {
        Config {
            kind,
            msg: ConfigMessage::new(),
            dirty: false,
            signer: None,
            verifier: None,
        }
    }

    /// Signs pushes with `signer` and requires incoming messages to verify under its public
    /// key (group configs, as an admin).
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// let c = metaless_config::Config::new(metaless_config::Kind::GroupInfo)
    ///     .with_signer(Keypair::from_seed(&Seed::from_bytes([1; 32])));
    /// assert!(c.push().serialized.windows(3).any(|w| w == b"1:~"));
    /// ```
    pub fn with_signer(mut self, signer: Keypair) -> Self {
        self.verifier = Some(signer.ed25519_public());
        self.signer = Some(signer);
        self
    }

    /// Requires incoming messages to verify under `public` (group configs, as a member).
    ///
    /// ```
    /// let mut c = metaless_config::Config::new(metaless_config::Kind::GroupInfo).with_verifier([1; 32]);
    /// assert_eq!(c.merge(&[b"d1:#i1e1:&de1:<le1:=dee"]).accepted, vec![false]);
    /// ```
    pub fn with_verifier(mut self, public: [u8; 32]) -> Self {
        self.verifier = Some(public);
        self
    }

    /// The kind.
    ///
    /// ```
    /// assert_eq!(metaless_config::Config::new(metaless_config::Kind::Contacts).kind(), metaless_config::Kind::Contacts);
    /// ```
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The current data (`&`).
    ///
    /// ```
    /// assert!(metaless_config::Config::new(metaless_config::Kind::Contacts).data().is_empty());
    /// ```
    pub fn data(&self) -> &Dict {
        self.msg.data()
    }

    /// The current message.
    ///
    /// ```
    /// assert_eq!(metaless_config::Config::new(metaless_config::Kind::Contacts).message().seqno(), 0);
    /// ```
    pub fn message(&self) -> &ConfigMessage {
        &self.msg
    }

    /// The current seqno.
    ///
    /// ```
    /// assert_eq!(metaless_config::Config::new(metaless_config::Kind::Contacts).seqno(), 0);
    /// ```
    pub fn seqno(&self) -> i64 {
        self.msg.seqno()
    }

    /// True when there are changes (edits or a merge) not yet confirmed pushed.
    ///
    /// ```
    /// let mut c = metaless_config::Config::new(metaless_config::Kind::Contacts);
    /// c.edit(|d| { d.insert(b"x".to_vec(), metaless_config::bt::Value::Int(1)); });
    /// assert!(c.needs_push());
    /// ```
    pub fn needs_push(&self) -> bool {
        self.dirty
    }

    /// Edits the data. The first change after a confirmed push starts the next seqno; an edit
    /// that changes nothing changes nothing. Keys the closure does not touch (including ones
    /// this library does not know) are kept.
    ///
    /// ```
    /// let mut c = metaless_config::Config::new(metaless_config::Kind::Contacts);
    /// c.edit(|_| {});
    /// assert!(!c.needs_push());
    /// ```
    pub fn edit<R>(&mut self, f: impl FnOnce(&mut Dict) -> R) -> R {
        let mut data = self.msg.data().clone();
        let r = f(&mut data);
        if &data != self.msg.data() {
            // Upstream `dirty()`: a clean config (even one holding a mutable message, after a
            // merge bumped its seqno) starts the next seqno; a dirty one keeps editing.
            if !self.is_dirty_mutable() {
                self.msg = self.msg.increment(self.signer.as_ref());
            }
            *self.msg.data_mut() = data;
            self.dirty = true;
        }
        r
    }

    /// The message to push now (its serialization; call [`confirm_pushed`](Self::confirm_pushed)
    /// once the swarm stored it).
    ///
    /// ```
    /// let c = metaless_config::Config::new(metaless_config::Kind::Contacts);
    /// assert_eq!(c.push().serialized, b"d1:#i0e1:&de1:<le1:=dee");
    /// ```
    pub fn push(&self) -> Push {
        let serialized = self.msg.serialize(self.signer.as_ref());
        Push {
            seqno: self.msg.seqno(),
            hash: crate::message::hash(&serialized),
            serialized,
        }
    }

    /// Marks `pushed` stored: if nothing changed since it was made, the config is clean at it.
    ///
    /// ```
    /// let mut c = metaless_config::Config::new(metaless_config::Kind::Contacts);
    /// c.edit(|d| { d.insert(b"x".to_vec(), metaless_config::bt::Value::Int(1)); });
    /// let p = c.push();
    /// c.confirm_pushed(&p);
    /// assert!(!c.needs_push());
    /// ```
    pub fn confirm_pushed(&mut self, pushed: &Push) {
        if pushed.seqno != self.msg.seqno() || self.push().serialized != pushed.serialized {
            return;
        }
        if let Ok(m) = ConfigMessage::parse(&pushed.serialized, None) {
            self.msg = m;
            self.dirty = false;
        }
    }

    /// Upstream's `Dirty` state: edited (or merged) and not pushed, so edits go on in the same
    /// seqno and a merge builds a mutable result.
    fn is_dirty_mutable(&self) -> bool {
        self.dirty && self.msg.is_mutable()
    }

    /// The config's local state, to keep across restarts (libsession's dump, its `!` state and
    /// `$` message keys): `d1:!i<state>e1:$<len>:<message>e`, state 0 clean, 1 edited and not
    /// pushed, 2 a push made but not confirmed. The message is serialized unsigned, as upstream
    /// dumps it. It holds the config's data in the clear: store it as carefully as the data.
    ///
    /// ```
    /// use metaless_config::{bt::Value, Config, Kind};
    /// let mut c = Config::new(Kind::Contacts);
    /// assert_eq!(c.dump(), b"d1:!i0e1:$23:d1:#i0e1:&de1:<le1:=deee");
    /// c.edit(|d| { d.insert(b"x".to_vec(), Value::Int(1)); });
    /// assert!(c.dump().starts_with(b"d1:!i1e"));
    /// ```
    pub fn dump(&self) -> Vec<u8> {
        let state = match (self.dirty, self.msg.is_mutable()) {
            (false, _) => STATE_CLEAN,
            (true, true) => STATE_DIRTY,
            (true, false) => STATE_WAITING,
        };
        let mut d = Dict::new();
        d.insert(b"!".to_vec(), crate::bt::Value::Int(state));
        d.insert(
            b"$".to_vec(),
            crate::bt::Value::Bytes(self.msg.serialize(None)),
        );
        crate::bt::encode(&crate::bt::Value::Dict(d))
    }

    /// A config back from [`dump`](Self::dump) (or a libsession dump: its other keys are
    /// ignored). As upstream, an edited-not-pushed state comes back as the next seqno (one seqno
    /// is skipped, which is harmless and safe if it was pushed after all), a push awaiting
    /// confirmation comes back as that same message, still to push. Signature keys are not in
    /// a dump: add them with [`with_signer`](Self::with_signer) / [`with_verifier`](Self::with_verifier).
    ///
    /// ```
    /// use metaless_config::{bt::Value, Config, ConfigError, Kind};
    /// let mut c = Config::new(Kind::Contacts);
    /// c.edit(|d| { d.insert(b"x".to_vec(), Value::Int(1)); });
    /// let back = Config::from_dump(Kind::Contacts, &c.dump()).unwrap();
    /// assert_eq!((back.seqno(), back.data(), back.needs_push()), (2, c.data(), true));
    /// assert!(matches!(Config::from_dump(Kind::Contacts, b"d1:!i7ee"), Err(ConfigError::Malformed(_))));
    /// ```
    pub fn from_dump(kind: Kind, dump: &[u8]) -> Result<Self, ConfigError> {
        let crate::bt::Value::Dict(d) = crate::bt::decode(dump)? else {
            return Err(ConfigError::Malformed("dump is not a dict"));
        };
        let state = d
            .get(&b"!"[..])
            .and_then(crate::bt::Value::as_int)
            .ok_or(ConfigError::Malformed("dump has no \"!\" state"))?;
        let bytes = d
            .get(&b"$"[..])
            .and_then(crate::bt::Value::as_bytes)
            .ok_or(ConfigError::Malformed("dump has no \"$\" message"))?;
        let parsed = ConfigMessage::parse(bytes, None)?;
        let (msg, dirty) = match state {
            STATE_CLEAN => (parsed, false),
            STATE_DIRTY => (parsed.increment(None), true),
            STATE_WAITING => (parsed, true),
            _ => return Err(ConfigError::Malformed("dump state is not 0, 1 or 2")),
        };
        Ok(Config {
            kind,
            msg,
            dirty,
            signer: None,
            verifier: None,
        })
    }

    /// Merges serialized (decrypted, unpadded, inflated) messages from the swarm with our own
    /// current message, as upstream does ([`ConfigMessage::merge`]). Invalid ones are skipped
    /// and reported in [`MergeResult::accepted`].
    ///
    /// The result is our own message (nothing changes), another single message (adopted, clean:
    /// it is already stored), or a merge (a new seqno to push).
    ///
    /// ```
    /// let mut c = metaless_config::Config::new(metaless_config::Kind::Contacts);
    /// // A fresh (clean, seqno 0) config takes no part, as upstream: 7 is adopted as it is.
    /// let r = c.merge(&[b"d1:#i7e1:&d1:ai1ee1:<le1:=d1:a0:ee"]);
    /// assert!(r.changed && !c.needs_push());
    /// assert_eq!(c.seqno(), 7);
    /// ```
    pub fn merge(&mut self, incoming: &[&[u8]]) -> MergeResult {
        // Upstream leaves a default seqno-0 config (clean) out of the merge: it holds nothing.
        let include_mine = self.msg.seqno() != 0 || self.dirty;
        // Upstream's `Dirty` state (edited, not yet pushed); an immutable dirty message is a
        // push restored from a dump (upstream `Waiting`).
        let was_dirty = self.is_dirty_mutable();
        let mut candidates = Vec::with_capacity(incoming.len() + 1);
        if include_mine {
            candidates.push(self.msg.clone());
        }
        let mut accepted = Vec::with_capacity(incoming.len());
        for bytes in incoming {
            match ConfigMessage::parse(bytes, self.verifier.as_ref()) {
                Ok(m) => {
                    candidates.push(m);
                    accepted.push(true);
                }
                Err(_) => accepted.push(false),
            }
        }
        let before = (self.msg.seqno(), self.msg.data().clone());
        if candidates.len() > usize::from(include_mine) {
            // A member that can verify but not sign cannot produce a valid merge: keep the
            // highest message and wait for an admin's merge (upstream does the same).
            if self.verifier.is_some() && self.signer.is_none() {
                let best = candidates
                    .into_iter()
                    .max_by_key(|m| (m.seqno(), m.hash()))
                    .unwrap_or_default();
                if (best.seqno(), best.hash()) != (self.msg.seqno(), self.msg.hash()) {
                    self.msg = best;
                    self.dirty = false;
                }
            } else {
                let (m, which) = ConfigMessage::merge(candidates, self.signer.as_ref());
                match which {
                    Some(0) if include_mine => {}
                    Some(_) if was_dirty => {
                        // Another message includes or outdates ours while we hold unpushed
                        // edits: upstream builds the result as a mutable message, which bumps
                        // the winner's seqno by one, and then marks the config clean. Our edits
                        // are lost (the winner is 5 or more seqnos ahead, or already has them).
                        self.msg = m.increment(self.signer.as_ref());
                        self.dirty = false;
                    }
                    Some(_) => {
                        self.msg = m;
                        self.dirty = false;
                    }
                    None => {
                        self.msg = m;
                        self.dirty = true;
                    }
                }
            }
        }
        MergeResult {
            accepted,
            changed: before != (self.msg.seqno(), self.msg.data().clone()),
        }
    }
}
