//! The own swarm's messages: when to poll and which member, the last hash per member, the
//! hashes already handed to the app (de-duplication, kept until they expire), the
//! disappear-after-read timers of received messages and the unsend requests that name them.

use std::collections::BTreeMap;

use metaless_envelope::{DisappearMode, Message, SenderKeys};
use metaless_identity::Keypair;
use metaless_swarm::StoredMessage;
use metaless_swarm::{MessageHash, Namespace, NodeId, ttl};
use metaless_swarm::{Request, Retrieve, Signer};

use super::Client;
use super::event::{Event, Incoming, Route};
use super::ops::OpKind;
use crate::{ClientError, limits};

/// How often seen hashes are pruned (local ms).
const PRUNE_EVERY_MS: u64 = 60_000;
/// How long a seen hash is kept after its expiry: a node may still list a message shortly
/// after it expired.
const SEEN_MARGIN_MS: u64 = 120_000;

#[derive(Debug)]
pub(super) struct Inbox {
    /// Last hash retrieved from each member of the own swarm.
    last_hash: BTreeMap<NodeId, MessageHash>,
    /// Hashes handed to the app, with their expiry (network ms).
    seen: BTreeMap<MessageHash, u64>,
    /// Disappear-after-read timers (ms) of received messages not yet marked read.
    read_timers: BTreeMap<MessageHash, u64>,
    /// Received messages by (author key, sent at): what an unsend request names.
    by_sent_at: BTreeMap<([u8; 32], u64), MessageHash>,
    /// When the next poll is due (local ms); `None` while one runs or when polling only on
    /// request.
    pub(super) poll_due: Option<u64>,
    /// The member polled, kept while it works (fewer repeats: its last hash goes with it).
    pub(super) poll_node: Option<[u8; 32]>,
    /// When seen hashes are next pruned (local ms).
    prune_due: u64,
    /// Sender keys that passed the envelope's checks: a repeat sender's message skips the
    /// key decompression and conversions (the signature is still verified every time).
    sender_keys: SenderKeys,
}

impl Inbox {
    /// The inbox as persistence left it; pruning starts at `now`.
    pub(super) fn new(
        last_hashes: Vec<(NodeId, MessageHash)>,
        seen: Vec<(MessageHash, u64)>,
        poll_due: Option<u64>,
        now: u64,
    ) -> Self {
        Self {
            last_hash: last_hashes.into_iter().collect(),
            seen: seen.into_iter().collect(),
            read_timers: BTreeMap::new(),
            by_sent_at: BTreeMap::new(),
            poll_due,
            poll_node: None,
            prune_due: now,
            sender_keys: SenderKeys::default(),
        }
    }

    /// A signed `retrieve` of namespace 0 after `member`'s last hash (all messages without a
    /// member or a last hash).
    pub(super) fn retrieve_body(
        &self,
        keys: &Keypair,
        member: Option<[u8; 32]>,
        network_now: u64,
    ) -> Vec<u8> {
        let last = member
            .and_then(|m| self.last_hash.get(&NodeId::from(m)))
            .cloned();
        let signer = Signer::session(keys);
        Request::Retrieve(Retrieve::signed(
            &signer,
            Namespace::Default,
            last,
            network_now,
        ))
        .to_body()
    }

    /// Takes the hash of the message `author` sent at `sent_at_ms`, if this device fetched it
    /// (for the own account: the copy in the own swarm a sender-side unsend deletes).
    pub(super) fn take_sent(&mut self, author: &[u8; 32], sent_at_ms: u64) -> Option<MessageHash> {
        self.by_sent_at.remove(&(*author, sent_at_ms))
    }

    /// Marks `hash` read: its timer is used up, and the new expiry (network ms) to ask the
    /// swarm for is recorded and returned, unless the current one is already that short.
    pub(super) fn mark_read(
        &mut self,
        hash: &MessageHash,
        network_now: u64,
    ) -> Result<Option<(MessageHash, u64)>, ClientError> {
        let timer = *self
            .read_timers
            .get(hash)
            .ok_or(ClientError::UnknownMessage)?;
        let current = self.seen.get(hash).copied().unwrap_or(u64::MAX);
        self.read_timers.remove(hash);
        let Some(expiry_ms) = ttl::after_read_expiry(network_now, timer, current) else {
            return Ok(None);
        };
        self.seen.insert(hash.clone(), expiry_ms);
        Ok(Some((hash.clone(), expiry_ms)))
    }

    /// Forgets seen hashes that expired before `network_now` − margin (and, beyond
    /// [`limits::MAX_SEEN_HASHES`], the soonest-expiring ones), with their timers and unsend
    /// entries. Returns the cutoff, for the persistence hook.
    fn prune(&mut self, now: u64, network_now: u64) -> u64 {
        self.prune_due = now.saturating_add(PRUNE_EVERY_MS);
        let cutoff = network_now.saturating_sub(SEEN_MARGIN_MS);
        self.seen.retain(|_, exp| *exp >= cutoff);
        if self.seen.len() > limits::MAX_SEEN_HASHES {
            let mut by_expiry: Vec<(u64, MessageHash)> =
                self.seen.iter().map(|(h, e)| (*e, h.clone())).collect();
            by_expiry.sort_unstable();
            let excess = self.seen.len() - limits::MAX_SEEN_HASHES;
            for (_, h) in by_expiry.into_iter().take(excess) {
                self.seen.remove(&h);
            }
        }
        let seen = &self.seen;
        self.read_timers.retain(|h, _| seen.contains_key(h));
        self.by_sent_at.retain(|_, h| seen.contains_key(h));
        cutoff
    }
}

impl Client {
    /// Starts a poll of the own swarm if one is due.
    pub(super) fn poll_if_due(&mut self, now: u64) {
        if let Some(due) = self.inbox.poll_due
            && now >= due
        {
            self.inbox.poll_due = None;
            self.ops.insert_internal(OpKind::Retrieve, now);
        }
    }

    /// After a poll: the next one at once when the node said `more`, else after the interval.
    pub(super) fn schedule_poll(&mut self, now: u64, more: bool) {
        self.inbox.poll_due = if more {
            Some(now)
        } else {
            self.config.poll_interval_ms.map(|i| now.saturating_add(i))
        };
    }

    pub(super) fn prune_if_due(&mut self, now: u64) {
        if now < self.inbox.prune_due {
            return;
        }
        let cutoff = self.inbox.prune(now, self.clock.now(now));
        if self.store.prune_seen(cutoff).is_err() {
            self.stats.persist_errors += 1;
        }
    }

    /// Retrieved messages: remember the last hash, drop repeats, open and verify the rest.
    pub(super) fn take_messages(&mut self, now: u64, messages: Vec<StoredMessage>, via: Route) {
        // The tolerant retrieve reader keeps only entries whose hash parses.
        let messages: Vec<(MessageHash, StoredMessage)> = messages
            .into_iter()
            .filter_map(|m| Some((MessageHash::parse(&m.hash).ok()?, m)))
            .collect();
        let Some(last) = messages.last().map(|(hash, _)| hash.clone()) else {
            return;
        };
        let mut fresh = Vec::new();
        for (hash, m) in messages {
            if self.inbox.seen.contains_key(&hash) {
                self.stats.duplicates += 1;
                continue;
            }
            self.inbox.seen.insert(hash.clone(), m.expiry_ms);
            fresh.push((hash.clone(), m.expiry_ms));
            let Ok(message) = self.inbox.sender_keys.open_message(&self.keys, &m.data) else {
                self.stats.undecryptable += 1;
                continue;
            };
            if let Some(d) = message.content.disappearing
                && d.mode == DisappearMode::AfterRead
            {
                self.inbox
                    .read_timers
                    .insert(hash.clone(), u64::from(d.timer_s) * 1000);
            }
            if let Message::Unsend {
                timestamp_ms,
                author,
            } = &message.content.message
            {
                // Only the author may unsend, and only what was received before.
                if *author == message.sender
                    && let Some(target) = self
                        .inbox
                        .by_sent_at
                        .remove(&(*author.key(), *timestamp_ms))
                {
                    self.ops.insert_internal(
                        OpKind::Delete {
                            hashes: vec![target.clone()],
                        },
                        now,
                    );
                    self.events.push_back(Event::Unsent { hash: target });
                }
            } else {
                self.inbox
                    .by_sent_at
                    .insert((*message.sender.key(), message.sent_at_ms), hash.clone());
            }
            self.route_incoming(
                now,
                Incoming {
                    hash,
                    expiry_ms: m.expiry_ms,
                    message,
                    via: via.clone(),
                },
            );
        }
        let errors = u64::from(self.store.save_last_hash(&via.destination, &last).is_err())
            + u64::from(!fresh.is_empty() && self.store.save_seen(&fresh).is_err());
        self.stats.persist_errors += errors;
        self.inbox.last_hash.insert(via.destination, last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> MessageHash {
        MessageHash::compute(
            &metaless_swarm::UserPubkey::new(5, [n; 32]),
            Namespace::Default,
            &[n],
        )
    }

    #[test]
    fn mark_read_uses_the_timer_once_and_never_lengthens() {
        let (h, far) = (hash(1), 10_000_000);
        let mut inbox = Inbox::new(vec![], vec![(h.clone(), far)], None, 0);
        inbox.read_timers.insert(h.clone(), 30_000);
        let (got, expiry) = inbox.mark_read(&h, 1_000).unwrap().unwrap();
        assert_eq!((got.as_str(), expiry), (h.as_str(), 31_000));
        assert_eq!(inbox.seen.get(&h), Some(&31_000));
        assert_eq!(inbox.mark_read(&h, 1_000), Err(ClientError::UnknownMessage));
        // A message already expiring sooner than the timer needs no change.
        inbox.read_timers.insert(h.clone(), 60_000);
        assert_eq!(inbox.mark_read(&h, 1_000), Ok(None));
    }

    #[test]
    fn prune_drops_expired_hashes_with_their_timers() {
        let (old, live) = (hash(1), hash(2));
        let mut inbox = Inbox::new(
            vec![],
            vec![(old.clone(), 1_000), (live.clone(), 500_000)],
            None,
            0,
        );
        inbox.read_timers.insert(old.clone(), 5);
        inbox.by_sent_at.insert(([1; 32], 7), old.clone());
        let cutoff = inbox.prune(10, 1_000 + SEEN_MARGIN_MS + 1);
        assert_eq!(cutoff, 1_001);
        assert!(!inbox.seen.contains_key(&old) && inbox.seen.contains_key(&live));
        assert!(inbox.read_timers.is_empty() && inbox.by_sent_at.is_empty());
        assert_eq!(inbox.prune_due, 10 + PRUNE_EVERY_MS);
    }
}
