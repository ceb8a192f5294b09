//! Config sync: the account's profile, contacts, conversation read state and group list, kept
//! in namespaces 2–5 of its own swarm as config messages (`metaless-config`) and shared by every
//! device with the same recovery phrase.
//!
//! [`ConfigSync`] sits beside a [`Client`] and drives it through the generic swarm API: it
//! subscribes to the four namespaces (polled on start, at the poll interval and on
//! [`Client::poll_now`]), opens and merges what arrives, exposes the state, pushes a new
//! message (signed store) when the state changes by an edit or by a merge, and once that push
//! is stored deletes the messages it supersedes, as libsession does. Restoring an account is
//! starting a `ConfigSync` from the seed of its recovery phrase: the first poll brings back the
//! profile, contacts and groups.
//!
//! ```
//! use metaless_client::{Bootstrap, Client, Config, ConfigSync};
//! use metaless_identity::{Keypair, Seed};
//! let seed = Seed::from_bytes([1; 32]);
//! let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
//! let mut sync = ConfigSync::new(&seed);
//! sync.start(&mut client, 1_000).unwrap();
//! sync.set_display_name(&mut client, 1_000, "Alice").unwrap();
//! assert_eq!(sync.profile().name.as_deref(), Some("Alice"));
//! assert!(client.pending_ops() >= 1); // the push is queued
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use metaless_config::bt::Dict;
use metaless_config::views::{Contact, ConvoInfoVolatile, UserGroups, UserProfile};
use metaless_config::{Config as ConfigState, Kind, Push, push};
use metaless_identity::{Keypair, Seed, SessionId};
use metaless_swarm::{MessageHash, Namespace, ttl};

use super::Client;
use super::event::Event;
use super::ops::OpId;
use super::subscriptions::SubscriptionId;
use super::swarm_ops::SwarmAccount;
use crate::{ClientError, FailureKind};

/// What [`ConfigSync`] reports (through [`ConfigSync::poll_event`]).
///
/// ```
/// let e = metaless_client::ConfigEvent::Changed(metaless_config::Kind::Contacts);
/// assert!(matches!(e, metaless_client::ConfigEvent::Changed(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigEvent {
    /// The state of a config changed (a merge of what other devices pushed, or an edit).
    Changed(Kind),
    /// A push was stored in the swarm.
    Pushed {
        /// Which config.
        kind: Kind,
        /// Its seqno.
        seqno: i64,
        /// The storage hash.
        hash: MessageHash,
    },
    /// A push failed; it is retried after a back-off ([`ConfigSync::poll_timeout`],
    /// [`ConfigSync::RETRY_BASE_MS`] doubling up to [`ConfigSync::RETRY_MAX_MS`], at most
    /// [`ConfigSync::MAX_PUSH_RETRIES`] times in a row), at the next edit, and when the
    /// namespace brings new messages.
    PushFailed {
        /// Which config.
        kind: Kind,
        /// Why: the network's answer, or `None` when refused before sending (too large for a
        /// config message or for a store).
        failure: Option<FailureKind>,
    },
    /// A stored message did not open or parse (another account's, corrupt, or from a newer
    /// format); it is ignored.
    Refused {
        /// Which config.
        kind: Kind,
        /// Its storage hash.
        hash: MessageHash,
    },
}

/// The wait before timed retry number `n` (from 1).
fn retry_delay(n: u32) -> u64 {
    super::faults::backoff_ms(ConfigSync::RETRY_BASE_MS, ConfigSync::RETRY_MAX_MS, n)
}

struct Slot {
    config: ConfigState,
    /// Storage hashes of messages merged into the current state: superseded by our next push.
    merged: BTreeSet<MessageHash>,
    /// A push in flight.
    pushing: Option<OpId>,
    /// Pushes failed in a row since the last stored one.
    failures: u32,
    /// When the failed push is tried again (local ms).
    retry_at: Option<u64>,
}

struct PendingPush {
    kind: Kind,
    push: Push,
    supersedes: Vec<MessageHash>,
}

/// The four user configs of one account, synchronised through a [`Client`].
pub struct ConfigSync {
    seed: Seed,
    keys: Keypair,
    slots: BTreeMap<Kind, Slot>,
    subs: BTreeMap<SubscriptionId, Kind>,
    pushes: BTreeMap<OpId, PendingPush>,
    events: VecDeque<ConfigEvent>,
}

impl core::fmt::Debug for ConfigSync {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The seed is the account: never printed.
        f.debug_struct("ConfigSync")
            .field(
                "seqnos",
                &self
                    .slots
                    .iter()
                    .map(|(k, s)| (*k, s.config.seqno()))
                    .collect::<Vec<_>>(),
            )
            .field("pushes", &self.pushes.len())
            .finish_non_exhaustive()
    }
}

fn namespace(kind: Kind) -> Namespace {
    Namespace::from_i16(kind.namespace())
}

impl ConfigSync {
    /// First wait before a failed push is tried again (ms); each further failure in a row doubles
    /// it, up to [`RETRY_MAX_MS`](Self::RETRY_MAX_MS).
    ///
    /// ```
    /// assert!(metaless_client::ConfigSync::RETRY_BASE_MS < metaless_client::ConfigSync::RETRY_MAX_MS);
    /// ```
    pub const RETRY_BASE_MS: u64 = 5_000;

    /// Longest wait between timed retries of a failed push (ms).
    ///
    /// ```
    /// assert_eq!(metaless_client::ConfigSync::RETRY_MAX_MS, 300_000);
    /// ```
    pub const RETRY_MAX_MS: u64 = 300_000;

    /// Timed retries after push failures in a row; after that a config waits for the next edit or
    /// the next messages of its namespace (which also start the count over once a push is stored).
    ///
    /// ```
    /// assert_eq!(metaless_client::ConfigSync::MAX_PUSH_RETRIES, 8);
    /// ```
    pub const MAX_PUSH_RETRIES: u32 = 8;

    /// Empty configs for the account of `seed` (the client's own seed).
    ///
    /// ```
    /// let sync = metaless_client::ConfigSync::new(&metaless_identity::Seed::from_bytes([1; 32]));
    /// assert!(sync.contacts().is_empty());
    /// ```
    pub fn new(seed: &Seed) -> Self {
        let seed = Seed::from_bytes(*seed.expose_secret());
        let keys = Keypair::from_seed(&seed);
        let slots = Kind::USER
            .into_iter()
            .map(|k| {
                let slot = Slot {
                    config: ConfigState::new(k),
                    merged: BTreeSet::new(),
                    pushing: None,
                    failures: 0,
                    retry_at: None,
                };
                (k, slot)
            })
            .collect();
        ConfigSync {
            seed,
            keys,
            slots,
            subs: BTreeMap::new(),
            pushes: BTreeMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Subscribes `client` to namespaces 2–5 of its own swarm (the first poll reads everything
    /// stored there). Call once, with the client of the same seed.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ConfigSync};
    /// # use metaless_identity::{Keypair, Seed};
    /// let seed = Seed::from_bytes([1; 32]);
    /// let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// ConfigSync::new(&seed).start(&mut client, 1_000).unwrap();
    /// assert_eq!(client.subscriptions(), 4);
    /// ```
    pub fn start(&mut self, client: &mut Client, now_ms: u64) -> Result<(), ClientError> {
        for kind in Kind::USER {
            if self.subs.values().any(|k| *k == kind) {
                continue;
            }
            let id = client.subscribe(now_ms, SwarmAccount::Own, namespace(kind))?;
            self.subs.insert(id, kind);
        }
        Ok(())
    }

    /// Feeds one client event; returns whether it was config sync's (new messages of its
    /// namespaces, or the outcome of its stores and deletes).
    ///
    /// ```
    /// # use metaless_client::{ConfigSync, Event};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// let seed = Seed::from_bytes([1; 32]);
    /// let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// let mut sync = ConfigSync::new(&seed);
    /// assert!(!sync.handle_event(&mut client, 1_000, &Event::NoNodes));
    /// ```
    pub fn handle_event(&mut self, client: &mut Client, now_ms: u64, event: &Event) -> bool {
        match event {
            Event::SwarmMessages { sub, messages, .. } => {
                let Some(&kind) = self.subs.get(sub) else {
                    return false;
                };
                self.receive(kind, messages.iter().map(|m| (&m.hash, m.data.as_slice())));
                self.push_if_needed(client, now_ms, kind);
                true
            }
            Event::Delivered { id, hash, .. } => {
                let Some(p) = self.pushes.remove(id) else {
                    return false;
                };
                self.pushed(client, now_ms, p, hash);
                true
            }
            Event::Failed { id, kind: failure } => {
                let Some(p) = self.pushes.remove(id) else {
                    return false;
                };
                if let Some(slot) = self.slots.get_mut(&p.kind) {
                    slot.pushing = None;
                }
                self.push_failed(now_ms, p.kind, Some(*failure));
                true
            }
            _ => false,
        }
    }

    /// Opens and merges stored messages of `kind`.
    fn receive<'a>(
        &mut self,
        kind: Kind,
        messages: impl Iterator<Item = (&'a MessageHash, &'a [u8])>,
    ) {
        let mut opened = Vec::new();
        for (hash, data) in messages {
            match push::open_user(&self.keys, &self.seed, kind, data) {
                Ok(plain) => opened.push((hash.clone(), plain)),
                Err(_) => self.events.push_back(ConfigEvent::Refused {
                    kind,
                    hash: hash.clone(),
                }),
            }
        }
        if opened.is_empty() {
            return;
        }
        let Some(slot) = self.slots.get_mut(&kind) else {
            return;
        };
        let plains: Vec<&[u8]> = opened.iter().map(|(_, p)| p.as_slice()).collect();
        let result = slot.config.merge(&plains);
        for ((hash, _), ok) in opened.iter().zip(&result.accepted) {
            if *ok {
                slot.merged.insert(hash.clone());
            } else {
                self.events.push_back(ConfigEvent::Refused {
                    kind,
                    hash: hash.clone(),
                });
            }
        }
        if result.changed {
            self.events.push_back(ConfigEvent::Changed(kind));
        }
    }

    /// A push of `kind` failed: reported, and (when the network or the client's queue refused
    /// it, not its size) tried again after the back-off, within [`Self::MAX_PUSH_RETRIES`].
    fn push_failed(&mut self, now_ms: u64, kind: Kind, failure: Option<FailureKind>) {
        self.events
            .push_back(ConfigEvent::PushFailed { kind, failure });
        let Some(slot) = self.slots.get_mut(&kind) else {
            return;
        };
        slot.failures = slot.failures.saturating_add(1);
        slot.retry_at = (slot.failures <= Self::MAX_PUSH_RETRIES)
            .then(|| now_ms.saturating_add(retry_delay(slot.failures)));
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next (local ms): the
    /// earliest timed retry of a failed push, `None` when none is due. Sans-IO like
    /// [`Client::poll_timeout`]: the app's loop (or a [`Driver`](crate::Driver) caller) waits
    /// for the earlier of both.
    ///
    /// ```
    /// assert_eq!(metaless_client::ConfigSync::new(&metaless_identity::Seed::from_bytes([1; 32])).poll_timeout(), None);
    /// ```
    pub fn poll_timeout(&self) -> Option<u64> {
        self.slots.values().filter_map(|s| s.retry_at).min()
    }

    /// Tries again the failed pushes whose back-off has passed at `now_ms` (a no-op before).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ConfigSync};
    /// # use metaless_identity::{Keypair, Seed};
    /// let seed = Seed::from_bytes([1; 32]);
    /// let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// let mut sync = ConfigSync::new(&seed);
    /// let before = client.pending_ops();
    /// // Nothing failed, so nothing is due: no store is queued.
    /// sync.handle_timeout(&mut client, 1_000);
    /// assert_eq!(client.pending_ops(), before);
    /// ```
    pub fn handle_timeout(&mut self, client: &mut Client, now_ms: u64) {
        let due: Vec<Kind> = self
            .slots
            .iter_mut()
            .filter(|(_, s)| s.retry_at.is_some_and(|t| t <= now_ms))
            .map(|(k, s)| {
                s.retry_at = None;
                *k
            })
            .collect();
        for kind in due {
            self.push_if_needed(client, now_ms, kind);
        }
    }

    /// Stores the config of `kind` if it has unpushed changes and no push is in flight.
    fn push_if_needed(&mut self, client: &mut Client, now_ms: u64, kind: Kind) {
        let Some(slot) = self.slots.get_mut(&kind) else {
            return;
        };
        if !slot.config.needs_push() || slot.pushing.is_some() {
            return;
        }
        // Pushed now: the timed retry is not needed any more.
        slot.retry_at = None;
        let p = slot.config.push();
        let Ok(stored) = push::seal_user(&self.keys, &self.seed, kind, &p) else {
            // Over the network's size limit: nothing to retry until the data shrinks.
            self.events.push_back(ConfigEvent::PushFailed {
                kind,
                failure: None,
            });
            return;
        };
        match client.swarm_store(
            now_ms,
            SwarmAccount::Own,
            namespace(kind),
            stored,
            ttl::TTL_DEFAULT_CONFIG_MS,
        ) {
            Ok(id) => {
                slot.pushing = Some(id);
                let supersedes = slot.merged.iter().cloned().collect();
                self.pushes.insert(
                    id,
                    PendingPush {
                        kind,
                        push: p,
                        supersedes,
                    },
                );
            }
            // The client's queue is full (or the store was refused before sending): later.
            Err(_) => self.push_failed(now_ms, kind, None),
        }
    }

    /// A push was stored: the config is clean at it (unless edited since, then pushed again),
    /// and the messages it merged are deleted.
    fn pushed(&mut self, client: &mut Client, now_ms: u64, p: PendingPush, hash: &MessageHash) {
        let kind = p.kind;
        if let Some(slot) = self.slots.get_mut(&kind) {
            slot.pushing = None;
            slot.failures = 0;
            slot.retry_at = None;
            slot.config.confirm_pushed(&p.push);
            let old: Vec<MessageHash> = p.supersedes.into_iter().filter(|h| h != hash).collect();
            for h in &old {
                slot.merged.remove(h);
            }
            slot.merged.insert(hash.clone());
            if !old.is_empty() {
                // Best effort: a failed delete leaves old messages to expire (30 days) and to
                // be ignored by the merge rules meanwhile.
                let _ = client.swarm_delete(now_ms, SwarmAccount::Own, &old);
            }
        }
        self.events.push_back(ConfigEvent::Pushed {
            kind,
            seqno: p.push.seqno,
            hash: hash.clone(),
        });
        self.push_if_needed(client, now_ms, kind);
    }

    /// The next event, if any.
    ///
    /// ```
    /// assert!(metaless_client::ConfigSync::new(&metaless_identity::Seed::from_bytes([1; 32])).poll_event().is_none());
    /// ```
    pub fn poll_event(&mut self) -> Option<ConfigEvent> {
        self.events.pop_front()
    }

    /// The state of one config.
    ///
    /// ```
    /// let s = metaless_client::ConfigSync::new(&metaless_identity::Seed::from_bytes([1; 32]));
    /// assert_eq!(s.config(metaless_config::Kind::Contacts).map(|c| c.seqno()), Some(0));
    /// ```
    pub fn config(&self, kind: Kind) -> Option<&ConfigState> {
        self.slots.get(&kind).map(|s| &s.config)
    }

    fn data(&self, kind: Kind) -> Dict {
        self.config(kind)
            .map(|c| c.data().clone())
            .unwrap_or_default()
    }

    /// The account's profile (UserProfile).
    ///
    /// ```
    /// assert_eq!(metaless_client::ConfigSync::new(&metaless_identity::Seed::from_bytes([1; 32])).profile().name, None);
    /// ```
    pub fn profile(&self) -> UserProfile {
        UserProfile::read(&self.data(Kind::UserProfile))
    }

    /// The contacts (Contacts).
    ///
    /// ```
    /// assert!(metaless_client::ConfigSync::new(&metaless_identity::Seed::from_bytes([1; 32])).contacts().is_empty());
    /// ```
    pub fn contacts(&self) -> Vec<Contact> {
        Contact::all(&self.data(Kind::Contacts))
    }

    /// Conversation read state (ConvoInfoVolatile).
    ///
    /// ```
    /// assert!(metaless_client::ConfigSync::new(&metaless_identity::Seed::from_bytes([1; 32])).convo_info().one_to_one.is_empty());
    /// ```
    pub fn convo_info(&self) -> ConvoInfoVolatile {
        ConvoInfoVolatile::read(&self.data(Kind::ConvoInfoVolatile))
    }

    /// Groups and communities (UserGroups).
    ///
    /// ```
    /// assert!(metaless_client::ConfigSync::new(&metaless_identity::Seed::from_bytes([1; 32])).user_groups().groups.is_empty());
    /// ```
    pub fn user_groups(&self) -> UserGroups {
        UserGroups::read(&self.data(Kind::UserGroups))
    }

    /// Edits the data of `kind` and, if it changed, pushes it. Keys the closure leaves alone
    /// (including ones this library does not know) are kept.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ConfigSync};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_config::{bt::Value, Kind};
    /// let seed = Seed::from_bytes([1; 32]);
    /// let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// let mut sync = ConfigSync::new(&seed);
    /// sync.edit(&mut client, 1_000, Kind::UserProfile, |d| { d.insert(b"+".to_vec(), Value::Int(1)); }).unwrap();
    /// assert_eq!(sync.profile().nts_priority, 1);
    /// ```
    pub fn edit<R>(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        kind: Kind,
        f: impl FnOnce(&mut Dict) -> R,
    ) -> Result<R, ClientError> {
        let slot = self
            .slots
            .get_mut(&kind)
            .ok_or_else(|| ClientError::InvalidRequest("not a user config kind".into()))?;
        let before = slot.config.seqno();
        let changed_before = slot.config.data().clone();
        let r = slot.config.edit(f);
        if slot.config.data() != &changed_before || slot.config.seqno() != before {
            self.events.push_back(ConfigEvent::Changed(kind));
        }
        self.push_if_needed(client, now_ms, kind);
        Ok(r)
    }

    /// Sets the display name (UserProfile `n`) and pushes.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ConfigSync};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// let mut sync = ConfigSync::new(&seed);
    /// sync.set_display_name(&mut client, 1_000, "Alice").unwrap();
    /// assert_eq!(sync.profile().name.as_deref(), Some("Alice"));
    /// ```
    pub fn set_display_name(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        name: &str,
    ) -> Result<(), ClientError> {
        self.edit(client, now_ms, Kind::UserProfile, |d| {
            let mut p = UserProfile::read(d);
            p.name = Some(name.into());
            p.write(d);
        })
    }

    /// Adds or updates a contact and pushes.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ConfigSync};
    /// # use metaless_identity::{Keypair, Seed, SessionId};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// let mut sync = ConfigSync::new(&seed);
    /// let mut bob = metaless_config::views::Contact::new(SessionId::standard([2; 32]));
    /// bob.approved = true;
    /// sync.set_contact(&mut client, 1_000, &bob).unwrap();
    /// assert_eq!(sync.contacts(), vec![bob]);
    /// ```
    pub fn set_contact(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        contact: &Contact,
    ) -> Result<(), ClientError> {
        self.edit(client, now_ms, Kind::Contacts, |d| contact.write(d))
    }

    /// Removes a contact and pushes; true if it was there.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ConfigSync};
    /// # use metaless_identity::{Keypair, Seed, SessionId};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// let mut sync = ConfigSync::new(&seed);
    /// assert!(!sync.remove_contact(&mut client, 1_000, &SessionId::standard([2; 32])).unwrap());
    /// ```
    pub fn remove_contact(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        id: &SessionId,
    ) -> Result<bool, ClientError> {
        self.edit(client, now_ms, Kind::Contacts, |d| Contact::remove(d, id))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{Bootstrap, Config};

    const T0: u64 = 1_700_000_000_000;

    fn setup() -> (Client, ConfigSync) {
        let seed = Seed::from_bytes([1; 32]);
        let client = Client::new(
            Keypair::from_seed(&seed),
            Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None),
            [0; 32],
            T0,
        );
        (client, ConfigSync::new(&seed))
    }

    /// The push in flight for `kind`, failed by the network at `now`.
    fn fail(sync: &mut ConfigSync, client: &mut Client, kind: Kind, now: u64) {
        let id = sync.slots[&kind].pushing.unwrap();
        let failed = Event::Failed {
            id,
            kind: FailureKind::Unreachable,
        };
        assert!(sync.handle_event(client, now, &failed));
    }

    #[test]
    fn a_failed_push_is_retried_with_a_doubling_bounded_back_off() {
        let (mut client, mut sync) = setup();
        sync.set_display_name(&mut client, T0, "Alice").unwrap();
        assert_eq!(sync.poll_timeout(), None, "nothing failed yet");
        let mut now = T0;
        // Waits 5 s, 10 s, 20 s, … capped at 300 s.
        let expected = [
            5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000,
        ];
        for wait in expected {
            fail(&mut sync, &mut client, Kind::UserProfile, now);
            assert_eq!(sync.poll_timeout(), Some(now + wait));
            // Not before its time…
            sync.handle_timeout(&mut client, now + wait - 1);
            assert!(sync.slots[&Kind::UserProfile].pushing.is_none());
            // … then a new push is queued.
            now += wait;
            sync.handle_timeout(&mut client, now);
            assert!(sync.slots[&Kind::UserProfile].pushing.is_some());
            assert_eq!(sync.poll_timeout(), None);
        }
        // The ninth failure in a row: no more timed retries.
        fail(&mut sync, &mut client, Kind::UserProfile, now);
        assert_eq!(sync.poll_timeout(), None);
        let failures = std::iter::from_fn(|| sync.poll_event())
            .filter(|e| {
                matches!(
                    e,
                    ConfigEvent::PushFailed {
                        kind: Kind::UserProfile,
                        failure: Some(FailureKind::Unreachable)
                    }
                )
            })
            .count();
        assert_eq!(failures, 9);
        // An edit still pushes at once.
        sync.set_display_name(&mut client, now, "Alice B").unwrap();
        assert!(sync.slots[&Kind::UserProfile].pushing.is_some());
    }

    #[test]
    fn a_stored_push_starts_the_count_over_and_other_kinds_wait_apart() {
        let (mut client, mut sync) = setup();
        sync.set_display_name(&mut client, T0, "Alice").unwrap();
        fail(&mut sync, &mut client, Kind::UserProfile, T0);
        fail_after_edit_of_contacts(&mut sync, &mut client, T0 + 1_000);
        // Each kind keeps its own schedule; the earliest is reported.
        assert_eq!(sync.poll_timeout(), Some(T0 + 5_000));
        sync.handle_timeout(&mut client, T0 + 5_000);
        assert!(sync.slots[&Kind::UserProfile].pushing.is_some());
        assert!(sync.slots[&Kind::Contacts].pushing.is_none());
        assert_eq!(sync.poll_timeout(), Some(T0 + 6_000));
        // The profile push is stored: its failures are forgotten.
        let id = sync.slots[&Kind::UserProfile].pushing.unwrap();
        let hash: MessageHash = "A".repeat(43).parse().unwrap();
        let delivered = Event::Delivered {
            id,
            hash,
            via: crate::Route {
                path: vec![],
                destination: metaless_swarm::NodeId::from([0; 32]),
            },
            stored_on: 1,
        };
        assert!(sync.handle_event(&mut client, T0 + 5_500, &delivered));
        assert_eq!(sync.slots[&Kind::UserProfile].failures, 0);
        sync.set_display_name(&mut client, T0 + 7_000, "Alice B")
            .unwrap();
        fail(&mut sync, &mut client, Kind::UserProfile, T0 + 7_000);
        assert_eq!(sync.slots[&Kind::UserProfile].retry_at, Some(T0 + 12_000));
    }

    fn fail_after_edit_of_contacts(sync: &mut ConfigSync, client: &mut Client, now: u64) {
        let bob = Contact::new(SessionId::standard([2; 32]));
        sync.set_contact(client, now, &bob).unwrap();
        fail(sync, client, Kind::Contacts, now);
    }
}
