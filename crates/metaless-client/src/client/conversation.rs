//! The small messages of a one-to-one conversation (issue 17 item 2): read receipts (sent and
//! shown only while the app enables them), typing indicators (short TTL, never persisted, stale
//! ones dropped), and message requests (a first message from a sender who is no contact is held
//! as a request until the app accepts it).
//!
//! Contacts are what the app says (`add_contact`, from its config) plus everyone this client
//! sent a message to or accepted; they and the held requests are kept in the persistence hook
//! (`contacts.rs`), so a restart neither turns contacts into strangers nor loses a request.

use std::collections::{BTreeMap, BTreeSet};

use metaless_envelope::{Content, Message, ReceiptKind, TYPING_MESSAGE_TTL_MS, TypingAction};
use metaless_identity::SessionId;
use metaless_swarm::MessageHash;

use super::Client;
use super::event::{Event, Incoming};
use super::ops::OpKind;
use crate::{ClientError, OpId, limits};

/// Conversation settings and state.
#[derive(Debug, Default)]
pub(super) struct Conversations {
    read_receipts: bool,
    typing: bool,
    requests: bool,
    /// Senders whose messages are not requests (by X25519 key).
    contacts: BTreeSet<[u8; 32]>,
    /// Requests not yet accepted or declined: sender → hashes of their held messages.
    held: BTreeMap<[u8; 32], Vec<MessageHash>>,
}

/// Whether a payload is a control message (no conversation content of its own).
fn is_control(message: &Message) -> bool {
    matches!(
        message,
        Message::Receipt { .. } | Message::Typing { .. } | Message::MessageRequestResponse { .. }
    )
}

impl Conversations {
    /// Records that this account sends `content` to `to`: a visible message makes `to` a
    /// contact (a reply from them is no request). Whether `to` just became one.
    pub(super) fn on_send(&mut self, to: &SessionId, content: &Content) -> bool {
        if !is_control(&content.message) && !matches!(content.message, Message::Unsend { .. }) {
            self.held.remove(to.key());
            return self.contacts.insert(*to.key());
        }
        false
    }

    /// What the persistence hook held: contacts and held requests (`client/contacts.rs`).
    pub(super) fn restore(
        &mut self,
        contacts: Vec<[u8; 32]>,
        requests: Vec<([u8; 32], MessageHash)>,
    ) {
        self.contacts.extend(contacts);
        for (from, hash) in requests {
            if self.contacts.contains(&from) {
                continue;
            }
            let senders = self.held.len();
            let list = match self.held.get_mut(&from) {
                Some(list) => list,
                None if senders < limits::MAX_REQUEST_SENDERS => self.held.entry(from).or_default(),
                None => continue,
            };
            if list.len() < limits::MAX_HELD_PER_REQUEST {
                list.push(hash);
            }
        }
    }
}

impl Client {
    /// Sends and shows read receipts (off by default, as the app's privacy setting starts).
    /// While off, [`send_read_receipt`](Self::send_read_receipt) sends nothing and read
    /// receipts that arrive are dropped.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.send_read_receipt(1_000, &bob, &[999]).unwrap(), None);
    /// client.set_read_receipts(true);
    /// assert!(client.send_read_receipt(1_000, &bob, &[999]).unwrap().is_some());
    /// ```
    pub fn set_read_receipts(&mut self, enabled: bool) {
        self.conv.read_receipts = enabled;
    }

    /// Sends and shows typing indicators (off by default). While off,
    /// [`send_typing`](Self::send_typing) sends nothing and indicators that arrive are dropped.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_envelope::TypingAction;
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// client.set_typing_indicators(true);
    /// assert!(client.send_typing(1_000, &bob, TypingAction::Started).unwrap().is_some());
    /// ```
    pub fn set_typing_indicators(&mut self, enabled: bool) {
        self.conv.typing = enabled;
    }

    /// Holds messages from senders who are no contacts as message requests (off by default:
    /// every message is [`Event::Received`](crate::Event::Received)). While on, a message from
    /// a stranger arrives as [`Event::MessageRequest`](crate::Event::MessageRequest) and is
    /// held until [`accept_request`](Self::accept_request) or
    /// [`decline_request`](Self::decline_request); receipts and typing from strangers are
    /// dropped.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// client.set_message_requests(true);
    /// assert!(client.message_requests().is_empty());
    /// ```
    pub fn set_message_requests(&mut self, enabled: bool) {
        self.conv.requests = enabled;
    }

    /// Makes `who` a contact: their messages are never requests.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert!(!client.is_contact(&bob));
    /// client.add_contact(&bob);
    /// assert!(client.is_contact(&bob));
    /// ```
    pub fn add_contact(&mut self, who: &SessionId) {
        self.conv.contacts.insert(*who.key());
        self.persist_contact(who);
    }

    /// Whether `who` is a contact.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert!(!client.is_contact(&client.session_id()));
    /// ```
    pub fn is_contact(&self, who: &SessionId) -> bool {
        self.conv.contacts.contains(who.key())
    }

    /// Senders with message requests waiting, and how many messages each holds.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert!(client.message_requests().is_empty());
    /// ```
    pub fn message_requests(&self) -> Vec<(SessionId, usize)> {
        self.conv
            .held
            .iter()
            .map(|(k, v)| (SessionId::standard(*k), v.len()))
            .collect()
    }

    /// Sends a read receipt for the messages `to` sent at `sent_at_ms`; `Ok(None)` while read
    /// receipts are off.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// client.set_read_receipts(true);
    /// assert!(client.send_read_receipt(1_000, &bob, &[]).is_err());
    /// ```
    pub fn send_read_receipt(
        &mut self,
        now_ms: u64,
        to: &SessionId,
        sent_at_ms: &[u64],
    ) -> Result<Option<OpId>, ClientError> {
        if !self.conv.read_receipts {
            return Ok(None);
        }
        if sent_at_ms.is_empty() || sent_at_ms.len() > limits::MAX_RECEIPT_TIMESTAMPS {
            return Err(ClientError::InvalidRequest(
                "a receipt names 1 to 1000 messages".into(),
            ));
        }
        let content = Content::new(Message::Receipt {
            kind: ReceiptKind::Read,
            timestamps_ms: sent_at_ms.to_vec(),
        });
        self.send(now_ms, to, &content).map(Some)
    }

    /// Sends a typing indicator: stored for 20 s (`TYPING_MESSAGE_TTL_MS`), never written to
    /// the persistence hook (not retried after a restart); `Ok(None)` while indicators are off.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, MemoryStore};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_envelope::TypingAction;
    /// use std::sync::{Arc, Mutex};
    /// let store = Arc::new(Mutex::new(MemoryStore::default()));
    /// let mut client = Client::with_persistence(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000,
    ///     Box::new(store.clone())).unwrap();
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// client.set_typing_indicators(true);
    /// client.send_typing(1_000, &bob, TypingAction::Started).unwrap();
    /// use metaless_client::Persistence;
    /// assert!(store.pending().unwrap().is_empty());
    /// ```
    pub fn send_typing(
        &mut self,
        now_ms: u64,
        to: &SessionId,
        action: TypingAction,
    ) -> Result<Option<OpId>, ClientError> {
        if !self.conv.typing {
            return Ok(None);
        }
        let content = Content::new(Message::Typing {
            action,
            timestamp_ms: self.clock.now(now_ms),
        });
        self.send_inner(now_ms, to, &content, TYPING_MESSAGE_TTL_MS, false)
            .map(Some)
    }

    /// Accepts `from`'s message request: they become a contact, their held messages are
    /// released from the hold (the app already has them from `MessageRequest`), and a
    /// message-request response (approved) is sent to them.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// client.accept_request(1_000, &bob).unwrap();
    /// assert!(client.is_contact(&bob));
    /// ```
    pub fn accept_request(&mut self, now_ms: u64, from: &SessionId) -> Result<OpId, ClientError> {
        let content = Content::new(Message::MessageRequestResponse { approved: true });
        let id = self.send(now_ms, from, &content)?;
        self.conv.contacts.insert(*from.key());
        self.conv.held.remove(from.key());
        self.persist_contact(from);
        Ok(id)
    }

    /// Declines `from`'s message request: their held messages are deleted from the own swarm
    /// ([`Event::Done`](crate::Event::Done) for the returned id); `Ok(None)` when nothing was
    /// held. Later messages from them are requests again.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.decline_request(1_000, &bob).unwrap(), None);
    /// ```
    pub fn decline_request(
        &mut self,
        now_ms: u64,
        from: &SessionId,
    ) -> Result<Option<OpId>, ClientError> {
        let Some(hashes) = self.conv.held.remove(from.key()) else {
            return Ok(None);
        };
        self.forget_requests(from.key());
        if hashes.is_empty() {
            return Ok(None);
        }
        self.queue(OpKind::Delete { hashes }, now_ms).map(Some)
    }

    /// What the app is told about an opened message: `Received`, a `MessageRequest`, or nothing
    /// (a receipt or typing indicator the settings turn off, a stale typing indicator, control
    /// messages from strangers).
    pub(super) fn route_incoming(&mut self, now: u64, incoming: Incoming) {
        let message = &incoming.message;
        let sender = *message.sender.key();
        let control = is_control(&message.content.message);
        match &message.content.message {
            Message::Receipt {
                kind: ReceiptKind::Read,
                ..
            } if !self.conv.read_receipts => return self.drop_incoming(),
            Message::Typing { .. } => {
                // Never kept past its TTL: one listed late (or replayed) says nothing now.
                let stale =
                    message.sent_at_ms.saturating_add(TYPING_MESSAGE_TTL_MS) < self.clock.now(now);
                if !self.conv.typing || stale {
                    return self.drop_incoming();
                }
            }
            _ => {}
        }
        let own = sender == *self.keys.session_id().key();
        if !self.conv.requests || own || self.conv.contacts.contains(&sender) {
            return self.events.push_back(Event::Received(Box::new(incoming)));
        }
        if control {
            return self.drop_incoming();
        }
        let held = self.conv.held.len();
        let list = match self.conv.held.get_mut(&sender) {
            Some(list) => list,
            None if held < limits::MAX_REQUEST_SENDERS => self.conv.held.entry(sender).or_default(),
            // Beyond the limit the request is still shown, just not tracked for decline.
            None => {
                return self
                    .events
                    .push_back(Event::MessageRequest(Box::new(incoming)));
            }
        };
        if list.len() < limits::MAX_HELD_PER_REQUEST {
            list.push(incoming.hash.clone());
            self.persist_request(&sender, &incoming.hash);
        }
        self.events
            .push_back(Event::MessageRequest(Box::new(incoming)));
    }

    fn drop_incoming(&mut self) {
        self.stats.suppressed += 1;
    }
}
