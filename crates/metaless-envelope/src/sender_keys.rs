//! A bounded cache of sender keys that already passed the checks opening makes on them.
//!
//! Opening a sign-then-seal message checks the sender's Ed25519 key the way libsodium's
//! `crypto_sign_ed25519_pk_to_curve25519` does (it decodes, is not of small order, lies in the
//! prime-order subgroup) and converts it twice (canonical encoding for verification, X25519
//! for the Session ID): a decompression, a scalar multiplication and two inversions, about a
//! third of an open+verify of 1 KiB. The key is the same for every message a contact sends,
//! so [`SenderKeys`] remembers the result for the most recently seen keys. Only keys that
//! passed are remembered, and only facts about the key: the signature of every message is
//! verified every time, against the bytes of that message.

use alloc::collections::BTreeMap;
use core::fmt;

use metaless_identity::Keypair;

use crate::EnvelopeError;
use crate::message::{Received, open_message_with};
use crate::sealed::{CheckedKey, Decrypted, open_and_verify};

/// Sender keys already checked, at most [`capacity`](SenderKeys::capacity) of them (the least
/// recently used is forgotten first). Opening through it gives exactly what
/// [`decrypt_incoming`](crate::decrypt_incoming) and [`open_message`](crate::open_message)
/// give; a repeat sender's key is just not checked again.
///
/// ```
/// use metaless_envelope::{encrypt_for_recipient, EnvelopeError, SenderKeys};
/// use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let mut keys = SenderKeys::default();
/// for text in [&b"hi"[..], b"again"] {
///     let sealed = encrypt_for_recipient(&alice, &bob.session_id(), text, &mut rand_core::OsRng).unwrap();
///     let opened = keys.decrypt_incoming(&bob, &sealed).unwrap();
///     assert_eq!((opened.sender, opened.plaintext.as_slice()), (alice.session_id(), text));
/// }
/// assert_eq!(keys.len(), 1);
/// // A remembered key does not make a tampered message verify.
/// let mut sealed = encrypt_for_recipient(&alice, &bob.session_id(), b"x", &mut rand_core::OsRng).unwrap();
/// let last = sealed.len() - 1;
/// sealed[last] ^= 1;
/// assert!(keys.decrypt_incoming(&bob, &sealed).is_err());
/// ```
#[derive(Clone)]
pub struct SenderKeys {
    entries: BTreeMap<[u8; 32], Entry>,
    capacity: usize,
    tick: u64,
}

#[derive(Clone, Copy)]
struct Entry {
    key: CheckedKey,
    last_used: u64,
}

impl SenderKeys {
    /// What [`SenderKeys::default`] holds: 256 keys (about 265 bytes each, in B-tree nodes
    /// at least half full: 70–140 KiB when full).
    pub const DEFAULT_CAPACITY: usize = 256;

    /// A cache of at most `capacity` keys (0 remembers nothing).
    ///
    /// ```
    /// let keys = metaless_envelope::SenderKeys::new(16);
    /// assert_eq!((keys.capacity(), keys.len()), (16, 0));
    /// ```
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: BTreeMap::new(),
            capacity,
            tick: 0,
        }
    }

    /// Most keys remembered at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is remembered.
    ///
    /// ```
    /// assert!(metaless_envelope::SenderKeys::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every key.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// [`decrypt_incoming`](crate::decrypt_incoming), with the sender key's checks remembered.
    ///
    /// ```
    /// # use metaless_envelope::{encrypt_for_recipient, EnvelopeError, SenderKeys};
    /// # use metaless_identity::{Keypair, Seed};
    /// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
    /// let sealed = encrypt_for_recipient(&alice, &bob.session_id(), b"hi", &mut rand_core::OsRng).unwrap();
    /// let mut keys = SenderKeys::new(8);
    /// assert_eq!(keys.decrypt_incoming(&alice, &sealed), Err(EnvelopeError::WrongRecipient));
    /// assert_eq!(keys.decrypt_incoming(&bob, &sealed).unwrap().plaintext, b"hi");
    /// ```
    pub fn decrypt_incoming(
        &mut self,
        me: &Keypair,
        ciphertext: &[u8],
    ) -> Result<Decrypted, EnvelopeError> {
        open_and_verify(me, ciphertext, |key| self.checked(key))
    }

    /// [`open_message`](crate::open_message), with the sender key's checks remembered.
    ///
    /// ```
    /// # use metaless_envelope::{seal_message, Content, SenderKeys};
    /// # use metaless_identity::{Keypair, Seed};
    /// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
    /// let stored = seal_message(&alice, &bob.session_id(), &Content::text("hi"), 1, &mut rand_core::OsRng).unwrap();
    /// let mut keys = SenderKeys::default();
    /// assert_eq!(keys.open_message(&bob, &stored).unwrap().sender, alice.session_id());
    /// ```
    pub fn open_message(&mut self, me: &Keypair, stored: &[u8]) -> Result<Received, EnvelopeError> {
        open_message_with(me, stored, Some(self))
    }

    /// The key's checked forms: remembered, or checked now (and remembered if it passed).
    fn checked(&mut self, key: &[u8; 32]) -> Option<CheckedKey> {
        self.tick = self.tick.wrapping_add(1);
        if let Some(entry) = self.entries.get_mut(key) {
            entry.last_used = self.tick;
            return Some(entry.key);
        }
        let checked = CheckedKey::check(key)?;
        if self.capacity == 0 {
            return Some(checked);
        }
        if self.entries.len() >= self.capacity {
            // A miss already costs a full check, so a scan for the least recently used key
            // (at most `capacity` entries) adds little to it; hits stay a tree lookup.
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(
            *key,
            Entry {
                key: checked,
                last_used: self.tick,
            },
        );
        Some(checked)
    }
}

impl Default for SenderKeys {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for SenderKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderKeys")
            .field("len", &self.entries.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encrypt_for_recipient;
    use alloc::vec::Vec;
    use metaless_identity::Seed;

    fn keys(byte: u8) -> Keypair {
        Keypair::from_seed(&Seed::from_bytes([byte; 32]))
    }

    #[test]
    fn at_most_capacity_keys_the_least_recently_used_forgotten_first() {
        let bob = keys(100);
        let senders: Vec<Keypair> = (1..=4).map(keys).collect();
        let mut rng = rand_core::OsRng;
        let mut cache = SenderKeys::new(2);
        let mut open = |cache: &mut SenderKeys, i: usize| {
            let sealed =
                encrypt_for_recipient(&senders[i], &bob.session_id(), b"m", &mut rng).unwrap();
            let opened = cache.decrypt_incoming(&bob, &sealed).unwrap();
            assert_eq!(opened.sender, senders[i].session_id());
            assert!(cache.len() <= 2);
        };
        open(&mut cache, 0);
        open(&mut cache, 1);
        open(&mut cache, 0); // 0 is now more recent than 1
        open(&mut cache, 2); // evicts 1
        let held =
            |cache: &SenderKeys, i: usize| cache.entries.contains_key(&senders[i].ed25519_public());
        assert!(held(&cache, 0) && !held(&cache, 1) && held(&cache, 2));
        open(&mut cache, 1); // checked again, evicts 0
        assert!(!held(&cache, 0) && held(&cache, 1) && held(&cache, 2));
        cache.clear();
        assert!(cache.is_empty());

        let mut none = SenderKeys::new(0);
        open(&mut none, 3);
        assert!(none.is_empty());
    }
}
