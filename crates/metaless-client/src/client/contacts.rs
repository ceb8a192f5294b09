//! Contacts and message requests across restarts (issue 17 item 3 of the remainder): the
//! conversation rules (`conversation.rs`) keep contacts and held requests in memory; this file
//! writes every change to the persistence hook and reads them back when a client starts with
//! [`Client::with_persistence`], so an accepted sender stays a contact and a request still
//! waits after a restart. Typing indicators are never written (they mean nothing later).
//!
//! ```
//! use metaless_client::{Bootstrap, Client, Config, MemoryStore};
//! use metaless_identity::{Keypair, Seed};
//! use std::sync::{Arc, Mutex};
//! let store = Arc::new(Mutex::new(MemoryStore::default()));
//! let config = Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) };
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

use super::Client;
use crate::ClientError;

impl Client {
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
