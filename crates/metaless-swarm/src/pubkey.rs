//! The account address every storage request names: a one-byte network/type prefix and a
//! 32-byte key (storage server `user_pubkey`).

use alloc::string::String;
use core::fmt;

use metaless_identity::{SessionId, hex};

use crate::{SwarmError, swarm_space};

/// An account address as the storage server sees it: any prefix byte (`0x05` Session IDs,
/// `0x03` groups, …) and 32 key bytes. Unlike [`SessionId`] it accepts every prefix, because the
/// server does.
///
/// ```
/// use metaless_swarm::UserPubkey;
/// let text = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
/// let pk: UserPubkey = text.parse().unwrap();
/// assert_eq!(pk.prefix(), 0x05);
/// assert_eq!(pk.to_hex(), text);
/// assert!("05abcd".parse::<UserPubkey>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserPubkey {
    prefix: u8,
    key: [u8; 32],
}

impl UserPubkey {
    /// Length of the binary form.
    pub const LEN: usize = 33;
    /// Length of the hex form.
    pub const HEX_LEN: usize = 66;

    /// An address from its parts.
    pub fn new(prefix: u8, key: [u8; 32]) -> Self {
        Self { prefix, key }
    }

    /// The prefix byte (`0x05` for Session IDs, `0x03` for groups).
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The 32 key bytes without the prefix.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The 33-byte binary form.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = self.prefix;
        out[1..].copy_from_slice(&self.key);
        out
    }

    /// 66 lowercase hex characters, prefix first (`prefixed_hex` upstream).
    pub fn to_hex(&self) -> String {
        hex::encode(&self.to_bytes())
    }

    /// The account's position in swarm space.
    ///
    /// ```
    /// use metaless_swarm::UserPubkey;
    /// assert_eq!(UserPubkey::new(5, [0xee; 32]).swarm_space(), 0);
    /// ```
    pub fn swarm_space(&self) -> u64 {
        swarm_space(&self.key)
    }

    /// Parses a `pubkey` parameter the way the storage server does: 66 hex digits (either case),
    /// or exactly 33 raw bytes.
    ///
    /// ```
    /// use metaless_swarm::UserPubkey;
    /// let raw = [3u8; 33];
    /// assert_eq!(UserPubkey::from_param(&raw).unwrap().prefix(), 3);
    /// assert!(UserPubkey::from_param(&[3u8; 32]).is_err());
    /// ```
    pub fn from_param(text: &[u8]) -> Result<Self, SwarmError> {
        if text.len() == Self::HEX_LEN
            && let Ok(s) = core::str::from_utf8(text)
            && let Ok(raw) = hex::decode_array::<33>(s)
        {
            return Ok(Self::from_array(raw));
        }
        if text.len() == Self::LEN {
            let mut raw = [0u8; 33];
            raw.copy_from_slice(text);
            return Ok(Self::from_array(raw));
        }
        Err(SwarmError::InvalidPubkey)
    }

    fn from_array(raw: [u8; 33]) -> Self {
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[1..]);
        Self {
            prefix: raw[0],
            key,
        }
    }
}

impl From<SessionId> for UserPubkey {
    fn from(id: SessionId) -> Self {
        Self::new(id.prefix().byte(), *id.key())
    }
}

impl From<&SessionId> for UserPubkey {
    fn from(id: &SessionId) -> Self {
        Self::from(*id)
    }
}

impl core::str::FromStr for UserPubkey {
    type Err = SwarmError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != Self::HEX_LEN {
            return Err(SwarmError::InvalidPubkey);
        }
        Self::from_param(text.as_bytes())
    }
}

impl fmt::Display for UserPubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for UserPubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserPubkey({})", self.to_hex())
    }
}
