//! The state an app must keep between runs, behind a small trait: the account seed, messages
//! accepted for sending but not yet acknowledged, the last message hash seen per node, and the
//! hashes already delivered to the app (so a restart neither loses nor repeats anything).

use std::collections::BTreeMap;

use metaless_identity::{Seed, SessionId};
use metaless_swarm::{MessageHash, NodeId};

use crate::OpId;

/// A message accepted by [`Client::send`](crate::Client::send) and not yet stored by any swarm
/// member: sealed bytes, recipient and expiry (network time).
///
/// ```
/// use metaless_client::{OpId, PendingSend};
/// let to = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72".parse().unwrap();
/// let p = PendingSend { id: OpId::from(1), to, data: vec![1, 2], expiry_ms: 99 };
/// assert_eq!(p.clone(), p);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSend {
    /// The id `send` returned.
    pub id: OpId,
    /// The recipient.
    pub to: SessionId,
    /// The sealed message, exactly as it will be stored.
    pub data: Vec<u8>,
    /// When the message expires (network time, ms): retries stop then.
    pub expiry_ms: u64,
}

/// A persistence failure (opaque: the text comes from the store).
///
/// ```
/// let e = metaless_client::PersistError("disk full".into());
/// assert_eq!(e.to_string(), "disk full");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PersistError(pub String);

/// Where a client keeps what must survive a restart. Calls are synchronous and made from the
/// client's own methods; keep them cheap (an in-memory map, a SQLite row).
///
/// Only [`save_pending`](Persistence::save_pending) failing stops an operation (the message
/// is then refused rather than silently at risk); other failures are counted and ignored, at
/// worst causing a repeated poll after a restart, which de-duplication absorbs.
pub trait Persistence: Send {
    /// The account seed, if one was saved.
    fn seed(&self) -> Result<Option<Seed>, PersistError>;
    /// Saves the account seed.
    fn save_seed(&mut self, seed: &Seed) -> Result<(), PersistError>;
    /// Every pending send.
    fn pending(&self) -> Result<Vec<PendingSend>, PersistError>;
    /// Records a send before `send` returns its id.
    fn save_pending(&mut self, send: &PendingSend) -> Result<(), PersistError>;
    /// Forgets a send once stored (or failed for good).
    fn remove_pending(&mut self, id: OpId) -> Result<(), PersistError>;
    /// Last hash retrieved from each node of the own swarm.
    fn last_hashes(&self) -> Result<Vec<(NodeId, MessageHash)>, PersistError>;
    /// Records the last hash retrieved from `node`.
    fn save_last_hash(&mut self, node: &NodeId, hash: &MessageHash) -> Result<(), PersistError>;
    /// Hashes already handed to the app, with their expiry.
    fn seen(&self) -> Result<Vec<(MessageHash, u64)>, PersistError>;
    /// Records hashes handed to the app.
    fn save_seen(&mut self, hashes: &[(MessageHash, u64)]) -> Result<(), PersistError>;
    /// Forgets seen hashes that expired before `before_ms`.
    fn prune_seen(&mut self, before_ms: u64) -> Result<(), PersistError>;

    // Contacts and message requests (`client/contacts.rs`). Default: nothing kept, as before
    // these existed; `MemoryStore` and `SqliteStore` keep them.

    /// Contacts: senders whose messages are no requests (X25519 keys of `05` ids).
    fn contacts(&self) -> Result<Vec<[u8; 32]>, PersistError> {
        Ok(Vec::new())
    }
    /// Records a contact.
    fn save_contact(&mut self, _key: &[u8; 32]) -> Result<(), PersistError> {
        Ok(())
    }
    /// Held message requests: sender key and the hash of one held message, in arrival order.
    fn requests(&self) -> Result<Vec<([u8; 32], MessageHash)>, PersistError> {
        Ok(Vec::new())
    }
    /// Records one held message of a request.
    fn save_request(&mut self, _from: &[u8; 32], _hash: &MessageHash) -> Result<(), PersistError> {
        Ok(())
    }
    /// Forgets every held message of `from` (accepted or declined).
    fn remove_requests(&mut self, _from: &[u8; 32]) -> Result<(), PersistError> {
        Ok(())
    }
}

/// Keeps everything in memory: the default, and a reference for other implementations.
///
/// ```
/// use metaless_client::{MemoryStore, Persistence};
/// let mut store = MemoryStore::default();
/// let h: metaless_swarm::MessageHash = "A".repeat(43).parse().unwrap();
/// let node = metaless_swarm::NodeId::new([1; 32]);
/// store.save_last_hash(&node, &h).unwrap();
/// assert_eq!(store.last_hashes().unwrap(), vec![(node, h)]);
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    seed: Option<Seed>,
    pending: BTreeMap<OpId, PendingSend>,
    last: BTreeMap<NodeId, MessageHash>,
    seen: BTreeMap<MessageHash, u64>,
    contacts: std::collections::BTreeSet<[u8; 32]>,
    requests: Vec<([u8; 32], MessageHash)>,
}

impl Persistence for MemoryStore {
    fn seed(&self) -> Result<Option<Seed>, PersistError> {
        Ok(self
            .seed
            .as_ref()
            .map(|s| Seed::from_bytes(*s.expose_secret())))
    }

    fn save_seed(&mut self, seed: &Seed) -> Result<(), PersistError> {
        self.seed = Some(Seed::from_bytes(*seed.expose_secret()));
        Ok(())
    }

    fn pending(&self) -> Result<Vec<PendingSend>, PersistError> {
        Ok(self.pending.values().cloned().collect())
    }

    fn save_pending(&mut self, send: &PendingSend) -> Result<(), PersistError> {
        self.pending.insert(send.id, send.clone());
        Ok(())
    }

    fn remove_pending(&mut self, id: OpId) -> Result<(), PersistError> {
        self.pending.remove(&id);
        Ok(())
    }

    fn last_hashes(&self) -> Result<Vec<(NodeId, MessageHash)>, PersistError> {
        Ok(self.last.iter().map(|(k, v)| (*k, v.clone())).collect())
    }

    fn save_last_hash(&mut self, node: &NodeId, hash: &MessageHash) -> Result<(), PersistError> {
        self.last.insert(*node, hash.clone());
        Ok(())
    }

    fn seen(&self) -> Result<Vec<(MessageHash, u64)>, PersistError> {
        Ok(self.seen.iter().map(|(k, v)| (k.clone(), *v)).collect())
    }

    fn save_seen(&mut self, hashes: &[(MessageHash, u64)]) -> Result<(), PersistError> {
        self.seen.extend(hashes.iter().cloned());
        Ok(())
    }

    fn prune_seen(&mut self, before_ms: u64) -> Result<(), PersistError> {
        self.seen.retain(|_, exp| *exp >= before_ms);
        Ok(())
    }

    fn contacts(&self) -> Result<Vec<[u8; 32]>, PersistError> {
        Ok(self.contacts.iter().copied().collect())
    }

    fn save_contact(&mut self, key: &[u8; 32]) -> Result<(), PersistError> {
        self.contacts.insert(*key);
        Ok(())
    }

    fn requests(&self) -> Result<Vec<([u8; 32], MessageHash)>, PersistError> {
        Ok(self.requests.clone())
    }

    fn save_request(&mut self, from: &[u8; 32], hash: &MessageHash) -> Result<(), PersistError> {
        if !self.requests.iter().any(|(f, h)| f == from && h == hash) {
            self.requests.push((*from, hash.clone()));
        }
        Ok(())
    }

    fn remove_requests(&mut self, from: &[u8; 32]) -> Result<(), PersistError> {
        self.requests.retain(|(f, _)| f != from);
        Ok(())
    }
}

/// A shared handle, so a test or an app can keep looking at the store a client writes to.
impl<P: Persistence> Persistence for std::sync::Arc<std::sync::Mutex<P>> {
    fn seed(&self) -> Result<Option<Seed>, PersistError> {
        lock(self)?.seed()
    }
    fn save_seed(&mut self, seed: &Seed) -> Result<(), PersistError> {
        lock(self)?.save_seed(seed)
    }
    fn pending(&self) -> Result<Vec<PendingSend>, PersistError> {
        lock(self)?.pending()
    }
    fn save_pending(&mut self, send: &PendingSend) -> Result<(), PersistError> {
        lock(self)?.save_pending(send)
    }
    fn remove_pending(&mut self, id: OpId) -> Result<(), PersistError> {
        lock(self)?.remove_pending(id)
    }
    fn last_hashes(&self) -> Result<Vec<(NodeId, MessageHash)>, PersistError> {
        lock(self)?.last_hashes()
    }
    fn save_last_hash(&mut self, node: &NodeId, hash: &MessageHash) -> Result<(), PersistError> {
        lock(self)?.save_last_hash(node, hash)
    }
    fn seen(&self) -> Result<Vec<(MessageHash, u64)>, PersistError> {
        lock(self)?.seen()
    }
    fn save_seen(&mut self, hashes: &[(MessageHash, u64)]) -> Result<(), PersistError> {
        lock(self)?.save_seen(hashes)
    }
    fn prune_seen(&mut self, before_ms: u64) -> Result<(), PersistError> {
        lock(self)?.prune_seen(before_ms)
    }
    fn contacts(&self) -> Result<Vec<[u8; 32]>, PersistError> {
        lock(self)?.contacts()
    }
    fn save_contact(&mut self, key: &[u8; 32]) -> Result<(), PersistError> {
        lock(self)?.save_contact(key)
    }
    fn requests(&self) -> Result<Vec<([u8; 32], MessageHash)>, PersistError> {
        lock(self)?.requests()
    }
    fn save_request(&mut self, from: &[u8; 32], hash: &MessageHash) -> Result<(), PersistError> {
        lock(self)?.save_request(from, hash)
    }
    fn remove_requests(&mut self, from: &[u8; 32]) -> Result<(), PersistError> {
        lock(self)?.remove_requests(from)
    }
}

fn lock<P>(m: &std::sync::Mutex<P>) -> Result<std::sync::MutexGuard<'_, P>, PersistError> {
    m.lock()
        .map_err(|_| PersistError("store lock poisoned".into()))
}
