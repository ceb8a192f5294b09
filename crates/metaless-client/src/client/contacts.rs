//! Contacts and message requests across restarts (issue 17 item 3 of the remainder): the
//! conversation rules (`conversation.rs`) keep contacts and held requests in memory; this file
//! writes every change to the persistence hook and reads them back when a client starts with
//! [`Client::with_persistence`], so an accepted sender stays a contact and a request still
//! waits after a restart. Typing indicators are never written (they mean nothing later).
//!
//! It also holds the sender side of "delete for everyone" across the account's own devices
//! ([`Client::unsend_everywhere`]), as session-desktop's `unsendMessagesForEveryone1o1` does.
//!
//! ```
//! use metaless_client::{Bootstrap, Client, Config, MemoryStore};
//! use metaless_identity::{Keypair, Seed};
//! use std::sync::{Arc, Mutex};
//! let store = Arc::new(Mutex::new(MemoryStore::default()));
//! let config = Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None);
//! let me = || Keypair::from_seed(&Seed::from_bytes([1; 32]));
//! let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
//! let mut client = Client::with_persistence(me(), config.clone(), [0; 32], 1_000, Box::new(store.clone())).unwrap();
//! client.add_contact(&bob);
//! drop(client);
//! let again = Client::with_persistence(me(), config, [1; 32], 2_000, Box::new(store)).unwrap();
//! assert!(again.is_contact(&bob));
//! ```

use metaless_identity::SessionId;
use metaless_swarm::MessageHash;

use metaless_envelope::{Content, Message};

use super::Client;
use crate::{ClientError, OpId};

impl Client {
    /// Deletes a message this account sent `to` at `sent_at_ms` everywhere, as upstream's
    /// 1:1 "delete for everyone": an unsend request to `to` (their device deletes it from their
    /// swarm), the same unsend request to the own swarm (the account's other devices delete
    /// their copy), and, when this device fetched the own-swarm copy of that message (a sync
    /// copy), a delete of it from the own swarm. Returns every operation queued;
    /// [`Event::Delivered`](crate::Event::Delivered) / [`Event::Done`](crate::Event::Done)
    /// follow for them.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// // No own-swarm copy fetched here: to Bob and to the own devices.
    /// assert_eq!(client.unsend_everywhere(1_000, &bob, 999).unwrap().len(), 2);
    /// assert_eq!(client.pending_sends(), 2);
    /// ```
    pub fn unsend_everywhere(
        &mut self,
        now_ms: u64,
        to: &SessionId,
        sent_at_ms: u64,
    ) -> Result<Vec<OpId>, ClientError> {
        let me = self.session_id();
        let content = Content::new(Message::Unsend {
            timestamp_ms: sent_at_ms,
            author: me,
        });
        let mut ids = vec![self.send(now_ms, to, &content)?];
        if *to != me {
            ids.push(self.send(now_ms, &me, &content)?);
        }
        if let Some(copy) = self.inbox.take_sent(me.key(), sent_at_ms) {
            ids.push(self.delete(now_ms, &[copy])?);
        }
        Ok(ids)
    }

    /// Reads contacts and held requests back from the persistence hook (at start).
    pub(super) fn restore_contacts(&mut self) -> Result<(), ClientError> {
        let perr = |e: crate::PersistError| ClientError::Persistence(e.0);
        let contacts = self.store.contacts().map_err(perr)?;
        let requests = self.store.requests().map_err(perr)?;
        self.conv.restore(contacts, requests);
        Ok(())
    }

    /// `who` is a contact now: recorded, and whatever they had held as a request forgotten.
    pub(super) fn persist_contact(&mut self, who: &SessionId) {
        let errors = u64::from(self.store.save_contact(who.key()).is_err())
            + u64::from(self.store.remove_requests(who.key()).is_err());
        self.stats.persist_errors += errors;
    }

    /// One more message held in `from`'s request.
    pub(super) fn persist_request(&mut self, from: &[u8; 32], hash: &MessageHash) {
        if self.store.save_request(from, hash).is_err() {
            self.stats.persist_errors += 1;
        }
    }

    /// `from`'s request was declined: nothing of it is kept.
    pub(super) fn forget_requests(&mut self, from: &[u8; 32]) {
        if self.store.remove_requests(from).is_err() {
            self.stats.persist_errors += 1;
        }
    }
}
