//! Sub-account tokens: the storage server's "note" from an account owner letting another key
//! act on the account (upstream `oxenss/common/subaccount_token.h`).
//!
//! A token is 36 bytes:
//!
//! | bytes | field |
//! |---|---|
//! | 0 | network prefix of the account it is for (`0x03` for groups) |
//! | 1 | access flags ([`SubaccountAccess`]: read 1, write 2, delete 4, any-prefix 8) |
//! | 2..4 | reserved (covered by the owner's signature; nodes do not interpret them) |
//! | 4..36 | the sub-account's Ed25519 public key |
//!
//! A request made with one carries the token (`subaccount`), the owner's Ed25519 signature
//! of the 36 bytes (`subaccount_sig`), and a request `signature` made with the token's key.
//! The node-side checks are [`crate::server::verify_subaccount`].
//!
//! ```
//! use metaless_swarm::subaccount::{SubaccountAccess, SubaccountToken};
//! let t = SubaccountToken::new(0x03, SubaccountAccess::READ | SubaccountAccess::WRITE, [7; 32]);
//! assert_eq!(&t.to_bytes()[..4], &[0x03, 0x03, 0, 0]);
//! assert!(t.access().contains(SubaccountAccess::WRITE));
//! assert!(!t.access().contains(SubaccountAccess::DELETE));
//! assert_eq!(SubaccountToken::from_bytes(t.to_bytes()), t);
//! ```

use core::fmt;
use core::ops::BitOr;

/// Length of a sub-account token (*upstream* `SUBACCOUNT_TOKEN_LENGTH`): prefix 1, flags 1,
/// reserved 2, Ed25519 key 32.
pub const SUBACCOUNT_TOKEN_LEN: usize = 36;

/// The access flags byte of a token (*upstream* `subaccount_access`). Unknown bits are kept
/// (they are reserved for the future and covered by the owner's signature).
///
/// ```
/// use metaless_swarm::subaccount::SubaccountAccess;
/// let rw = SubaccountAccess::READ | SubaccountAccess::WRITE;
/// assert_eq!(rw.bits(), 0x03);
/// assert!(rw.contains(SubaccountAccess::READ));
/// assert!(!rw.contains(SubaccountAccess::WRITE | SubaccountAccess::DELETE));
/// assert!(rw.contains(SubaccountAccess::NONE));
/// assert_eq!(format!("{rw:?}"), "SubaccountAccess(read|write)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubaccountAccess(u8);

impl SubaccountAccess {
    /// No flags: what the methods that need no particular access require.
    pub const NONE: Self = Self(0);
    /// Read: `retrieve`, `get_expiries`.
    pub const READ: Self = Self(0b0001);
    /// Write: `store` and extending expiries (`expire`).
    pub const WRITE: Self = Self(0b0010);
    /// Delete: `delete`, `delete_all`, `delete_before`, `expire_all`, shortening expiries, and
    /// (with write) storing into a public-outbox namespace.
    pub const DELETE: Self = Self(0b0100);
    /// The token also works for the same key under any other network prefix.
    pub const ANY_PREFIX: Self = Self(0b1000);

    /// The flags from their byte.
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// The byte.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Every flag of `other` is set here.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for SubaccountAccess {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl fmt::Debug for SubaccountAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::READ, "read"),
            (Self::WRITE, "write"),
            (Self::DELETE, "delete"),
            (Self::ANY_PREFIX, "any-prefix"),
        ];
        f.write_str("SubaccountAccess(")?;
        let mut first = true;
        for (flag, name) in names {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        let unknown = self.0 & 0xf0;
        if unknown != 0 {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "{unknown:#04x}")?;
        }
        f.write_str(")")
    }
}

/// A sub-account token, as its fields. Every 36-byte string is a token (nodes refuse bad ones
/// by their checks, not by their shape), so reading one cannot fail.
///
/// ```
/// use metaless_swarm::subaccount::{SubaccountAccess, SubaccountToken};
/// let mut raw = [0u8; 36];
/// raw[0] = 0x03;
/// raw[1] = 0x0b;
/// raw[4..].copy_from_slice(&[9; 32]);
/// let t = SubaccountToken::from_bytes(raw);
/// assert_eq!(t.prefix(), 0x03);
/// assert!(t.prefix_allowed(0x05)); // 0x08: any prefix
/// assert_eq!(t.key(), [9; 32]);
/// assert_eq!(t.reserved(), [0, 0]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubaccountToken([u8; SUBACCOUNT_TOKEN_LEN]);

impl SubaccountToken {
    /// A token for accounts with network prefix `prefix`, granting `access` to `key`
    /// (reserved bytes zero, as every current issuer writes them).
    pub fn new(prefix: u8, access: SubaccountAccess, key: [u8; 32]) -> Self {
        let mut t = [0u8; SUBACCOUNT_TOKEN_LEN];
        t[0] = prefix;
        t[1] = access.bits();
        t[4..].copy_from_slice(&key);
        Self(t)
    }

    /// The token's 36 bytes.
    pub const fn from_bytes(bytes: [u8; SUBACCOUNT_TOKEN_LEN]) -> Self {
        Self(bytes)
    }

    /// The 36 bytes (what the owner signs and what revocation lists hold).
    pub const fn to_bytes(self) -> [u8; SUBACCOUNT_TOKEN_LEN] {
        self.0
    }

    /// Byte 0: the network prefix the token is for.
    pub const fn prefix(&self) -> u8 {
        self.0[0]
    }

    /// Byte 1: the access flags.
    pub const fn access(&self) -> SubaccountAccess {
        SubaccountAccess(self.0[1])
    }

    /// Bytes 2..4, reserved.
    pub const fn reserved(&self) -> [u8; 2] {
        [self.0[2], self.0[3]]
    }

    /// Bytes 4..36: the sub-account's Ed25519 key, which verifies the request signature.
    pub fn key(&self) -> [u8; 32] {
        let mut k = [0u8; 32];
        k.copy_from_slice(&self.0[4..]);
        k
    }

    /// The token may be used on an account with network prefix `account_prefix`: the prefixes
    /// match, or the token has [`SubaccountAccess::ANY_PREFIX`] (*upstream* `prefix_allowed`).
    pub const fn prefix_allowed(&self, account_prefix: u8) -> bool {
        self.prefix() == account_prefix || self.access().contains(SubaccountAccess::ANY_PREFIX)
    }
}

impl fmt::Debug for SubaccountToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubaccountToken")
            .field("prefix", &self.prefix())
            .field("access", &self.access())
            .finish_non_exhaustive()
    }
}
