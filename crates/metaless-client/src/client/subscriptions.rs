//! Namespaces higher layers ask the client to poll: an account (own, signed by a
//! [`RequestSigner`](metaless_swarm::RequestSigner), or public) and a namespace, polled at the
//! client's poll interval (and on [`Client::poll_now`]), pages followed while the member says
//! `more`, repeats dropped, new messages reported raw as
//! [`Event::SwarmMessages`](crate::Event::SwarmMessages).
//!
//! One last hash per subscription (not per member, unlike the own inbox): a member that does not
//! know it answers from the start, and the seen set drops what was already reported. The app
//! keeps the `last_hash` of the events if it wants to resume after a restart
//! ([`Client::subscribe_from`]).

use std::collections::BTreeMap;

use metaless_swarm::{MessageHash, Namespace, UserPubkey};

use super::Client;
use super::event::{Event, Route};
use super::ops::OpKind;
use super::swarm_ops::{RawMessage, RetrieveOp, SwarmAccount};
use crate::{ClientError, limits};

/// How long a seen hash is kept after its expiry (a member may still list it shortly after).
const SEEN_MARGIN_MS: u64 = 120_000;

/// A registered namespace poll: what [`Client::subscribe`] returns and
/// [`Event::SwarmMessages`](crate::Event::SwarmMessages) names.
///
/// ```
/// let id = metaless_client::SubscriptionId::from(4);
/// assert_eq!(id.get(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriptionId(u64);

impl SubscriptionId {
    /// The number.
    ///
    /// ```
    /// assert_eq!(metaless_client::SubscriptionId::from(1).get(), 1);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for SubscriptionId {
    fn from(n: u64) -> Self {
        Self(n)
    }
}

#[derive(Debug)]
pub(super) struct Sub {
    pub(super) account: SwarmAccount,
    pub(super) namespace: Namespace,
    pub(super) last_hash: Option<MessageHash>,
    /// The member polled, kept while it works.
    pub(super) node: Option<[u8; 32]>,
    /// Hashes reported, with their expiry (network ms).
    seen: BTreeMap<MessageHash, u64>,
    /// Next poll (local ms); `None` while one runs or when polling only on request.
    due: Option<u64>,
}

#[derive(Debug, Default)]
pub(super) struct Subscriptions {
    next: u64,
    pub(super) map: BTreeMap<SubscriptionId, Sub>,
}

impl Subscriptions {
    pub(super) fn next_due(&self) -> Option<u64> {
        self.map.values().filter_map(|s| s.due).min()
    }
}

impl Client {
    /// Polls `namespace` of `account`'s swarm from now on, reporting new messages as
    /// [`Event::SwarmMessages`](crate::Event::SwarmMessages). The first poll starts at once.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, SwarmAccount};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::Namespace;
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let sub = client.subscribe(1_000, SwarmAccount::Own, Namespace::UserProfile).unwrap();
    /// assert_eq!(client.subscriptions(), 1);
    /// assert!(client.unsubscribe(sub));
    /// assert!(!client.unsubscribe(sub));
    /// ```
    pub fn subscribe(
        &mut self,
        now_ms: u64,
        account: SwarmAccount,
        namespace: Namespace,
    ) -> Result<SubscriptionId, ClientError> {
        self.subscribe_from(now_ms, account, namespace, None)
    }

    /// [`subscribe`](Self::subscribe), starting after `last_hash` (as an earlier
    /// [`Event::SwarmMessages`](crate::Event::SwarmMessages) reported it).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, SwarmAccount, ClientError};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::{Namespace, UserPubkey};
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let last = "A".repeat(43).parse().unwrap();
    /// client.subscribe_from(1_000, SwarmAccount::Own, Namespace::Contacts, Some(last)).unwrap();
    /// // A private namespace of another account cannot be read unsigned.
    /// let theirs = SwarmAccount::Public(UserPubkey::new(5, [9; 32]));
    /// assert!(matches!(client.subscribe(1_000, theirs, Namespace::Contacts), Err(ClientError::InvalidRequest(_))));
    /// ```
    pub fn subscribe_from(
        &mut self,
        now_ms: u64,
        account: SwarmAccount,
        namespace: Namespace,
        last_hash: Option<MessageHash>,
    ) -> Result<SubscriptionId, ClientError> {
        if !account.is_signed() && !namespace.is_noauth_retrieve() {
            return Err(ClientError::InvalidRequest(
                "this namespace needs a signed retrieve".into(),
            ));
        }
        if self.subs.map.len() >= limits::MAX_SUBSCRIPTIONS {
            return Err(ClientError::Busy {
                max: limits::MAX_SUBSCRIPTIONS,
            });
        }
        self.subs.next += 1;
        let id = SubscriptionId(self.subs.next);
        self.subs.map.insert(
            id,
            Sub {
                account,
                namespace,
                last_hash,
                node: None,
                seen: BTreeMap::new(),
                due: Some(now_ms),
            },
        );
        self.drive(now_ms);
        Ok(id)
    }

    /// Stops polling; `false` if there was no such subscription. A poll in flight finishes
    /// without an event.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, SubscriptionId};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert!(!client.unsubscribe(SubscriptionId::from(9)));
    /// ```
    pub fn unsubscribe(&mut self, id: SubscriptionId) -> bool {
        self.subs.map.remove(&id).is_some()
    }

    /// Subscriptions registered.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.subscriptions(), 0);
    /// ```
    pub fn subscriptions(&self) -> usize {
        self.subs.map.len()
    }

    /// Starts the subscription polls that are due.
    pub(super) fn poll_subs_if_due(&mut self, now: u64) {
        let due: Vec<SubscriptionId> = self
            .subs
            .map
            .iter()
            .filter(|(_, s)| s.due.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(sub) = self.subs.map.get_mut(&id) else {
                continue;
            };
            sub.due = None;
            let op = RetrieveOp {
                account: sub.account.clone(),
                namespace: sub.namespace,
                last_hash: sub.last_hash.clone(),
                max_count: None,
                sub: Some(id),
            };
            self.ops.insert_internal(OpKind::SwarmRetrieve(op), now);
        }
    }

    /// Every subscription not polling now is due at `now`.
    pub(super) fn poll_subs_now(&mut self, now: u64) {
        let polling: Vec<SubscriptionId> = self
            .ops
            .iter()
            .filter_map(|(_, op)| match &op.kind {
                OpKind::SwarmRetrieve(r) => r.sub,
                _ => None,
            })
            .collect();
        for (id, sub) in &mut self.subs.map {
            if !polling.contains(id) {
                sub.due = Some(now);
            }
        }
    }

    /// After a subscription poll: the next one at once on `more`, else after the interval.
    pub(super) fn schedule_sub(&mut self, id: SubscriptionId, now: u64, more: bool) {
        let interval = self.config.poll_interval_ms;
        if let Some(sub) = self.subs.map.get_mut(&id) {
            sub.due = if more {
                Some(now)
            } else {
                interval.map(|i| now.saturating_add(i))
            };
        }
    }

    /// A subscription poll's messages: last hash and member remembered, repeats dropped, the
    /// rest reported.
    pub(super) fn take_sub_messages(
        &mut self,
        id: SubscriptionId,
        now: u64,
        messages: Vec<RawMessage>,
        via: &Route,
    ) {
        let network_now = self.clock.now(now);
        let me = self.me;
        let Some(sub) = self.subs.map.get_mut(&id) else {
            return;
        };
        sub.node = Some(*via.destination.as_bytes());
        let Some(last) = messages.last().map(|m| m.hash.clone()) else {
            return;
        };
        sub.last_hash = Some(last.clone());
        let mut fresh = Vec::new();
        for m in messages {
            if sub.seen.contains_key(&m.hash) {
                self.stats.duplicates += 1;
                continue;
            }
            sub.seen.insert(m.hash.clone(), m.expiry_ms);
            fresh.push(m);
        }
        let cutoff = network_now.saturating_sub(SEEN_MARGIN_MS);
        sub.seen.retain(|_, exp| *exp >= cutoff);
        while sub.seen.len() > limits::MAX_SUBSCRIPTION_SEEN {
            // Soonest-expiring first: the ones least likely to be listed again.
            let Some(oldest) = sub
                .seen
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(h, _)| h.clone())
            else {
                break;
            };
            sub.seen.remove(&oldest);
        }
        if fresh.is_empty() {
            return;
        }
        let account: UserPubkey = sub.account.pubkey(&me);
        self.events.push_back(Event::SwarmMessages {
            sub: id,
            account,
            namespace: sub.namespace,
            messages: fresh,
            last_hash: last,
        });
    }
}
