//! Message hashes, computed exactly as the storage server computes them
//! (`request_handler.cpp` `computeMessageHash`).

use alloc::string::String;
use core::fmt;

use blake2::Blake2b;
use blake2::digest::Digest;
use blake2::digest::consts::U32;

use crate::{Namespace, SwarmError, UserPubkey, b64};

/// Length of a message hash: 32 bytes of BLAKE2b in unpadded base64.
pub const MESSAGE_HASH_LEN: usize = 43;

/// A stored message's id: unpadded standard base64 of
/// `BLAKE2b-256(prefix byte ‖ 32 key bytes ‖ namespace text ‖ data)`, where the namespace text
/// is empty for namespace 0 and the decimal number otherwise. Timestamps and expiry are not
/// part of it.
///
/// ```
/// use metaless_swarm::{MessageHash, Namespace, UserPubkey};
/// let to = UserPubkey::new(0x05, [1u8; 32]);
/// let h = MessageHash::compute(&to, Namespace::Default, b"hello");
/// assert_eq!(h.as_str().len(), 43);
/// assert_ne!(h, MessageHash::compute(&to, Namespace::Contacts, b"hello"));
/// assert_eq!(MessageHash::parse(h.as_str()).unwrap(), h);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageHash(String);

impl MessageHash {
    /// Computes the hash the storage server will give a message.
    pub fn compute(pubkey: &UserPubkey, namespace: Namespace, data: &[u8]) -> Self {
        let mut h = Blake2b::<U32>::new();
        h.update([pubkey.prefix()]);
        h.update(pubkey.key());
        h.update(namespace.sig_text().as_bytes());
        h.update(data);
        Self(b64::encode_unpadded(&h.finalize()))
    }

    /// Accepts a hash as the storage server does in `delete`/`expire`: exactly 43 characters of
    /// standard base64. The text is kept as given, because hashes are compared as
    /// strings.
    ///
    /// ```
    /// use metaless_swarm::{MessageHash, SwarmError};
    /// assert!(MessageHash::parse(&"A".repeat(43)).is_ok());
    /// assert_eq!(MessageHash::parse(&"A".repeat(44)), Err(SwarmError::InvalidMessageHash));
    /// assert_eq!(MessageHash::parse(&"!".repeat(43)), Err(SwarmError::InvalidMessageHash));
    /// ```
    pub fn parse(text: &str) -> Result<Self, SwarmError> {
        if text.len() == MESSAGE_HASH_LEN && b64::is_base64(text.as_bytes()) {
            Ok(Self(String::from(text)))
        } else {
            Err(SwarmError::InvalidMessageHash)
        }
    }

    /// The hash text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageHash({})", self.0)
    }
}

impl AsRef<str> for MessageHash {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// [`MessageHash::parse`].
///
/// ```
/// let h: metaless_swarm::MessageHash = "A".repeat(43).parse().unwrap();
/// assert_eq!(h, "A".repeat(43).as_str());
/// ```
impl core::str::FromStr for MessageHash {
    type Err = SwarmError;

    fn from_str(text: &str) -> Result<Self, SwarmError> {
        Self::parse(text)
    }
}

impl PartialEq<str> for MessageHash {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for MessageHash {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
