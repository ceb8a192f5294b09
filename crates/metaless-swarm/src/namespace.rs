//! Message namespaces: independent mailboxes of one account, numbered by a signed 16-bit
//! integer (storage server `oxenss/common/namespace.h`, libsession `config/namespaces.h`).

use alloc::string::String;
use core::fmt;
use core::hash::{Hash, Hasher};

use crate::SwarmError;

/// A storage namespace. The named variants are the values upstream assigns; every other 16-bit
/// value is a valid namespace too and is carried as [`Namespace::Other`].
///
/// Equality, ordering and hashing go by [`Namespace::value`], so `Other(0)` equals `Default`.
///
/// ```
/// use metaless_swarm::Namespace;
/// assert_eq!(Namespace::from_i16(3), Namespace::Contacts);
/// assert_eq!(Namespace::from_i16(77), Namespace::Other(77));
/// assert_eq!(Namespace::Other(0), Namespace::Default);
/// assert_eq!(Namespace::GroupMessages.value(), 11);
/// assert!(Namespace::Default.is_public_inbox() && !Namespace::Contacts.is_public_inbox());
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub enum Namespace {
    /// 0: one-to-one messages (anyone may deposit).
    #[default]
    Default,
    /// 2: the user profile config.
    UserProfile,
    /// 3: the contacts config.
    Contacts,
    /// 4: the volatile conversation-info config.
    ConvoInfoVolatile,
    /// 5: the user-groups config.
    UserGroups,
    /// 11: messages of a `03` group.
    GroupMessages,
    /// 12: a group's keys config.
    GroupKeys,
    /// 13: a group's info config.
    GroupInfo,
    /// 14: a group's members config.
    GroupMembers,
    /// -10: legacy closed groups (unauthenticated store and retrieve; deprecated).
    LegacyClosed,
    /// -11: group messages that revoked members may still retrieve.
    RevokedRetrievableGroupMessages,
    /// -3741: the permanent testing namespace (stores refused, retrieves empty).
    Testing,
    /// Any other 16-bit namespace.
    Other(i16),
}

impl Namespace {
    /// Every named namespace, in upstream order.
    pub const KNOWN: [Namespace; 12] = [
        Namespace::Default,
        Namespace::UserProfile,
        Namespace::Contacts,
        Namespace::ConvoInfoVolatile,
        Namespace::UserGroups,
        Namespace::GroupMessages,
        Namespace::GroupKeys,
        Namespace::GroupInfo,
        Namespace::GroupMembers,
        Namespace::LegacyClosed,
        Namespace::RevokedRetrievableGroupMessages,
        Namespace::Testing,
    ];

    /// The namespace number.
    pub fn value(self) -> i16 {
        match self {
            Self::Default => 0,
            Self::UserProfile => 2,
            Self::Contacts => 3,
            Self::ConvoInfoVolatile => 4,
            Self::UserGroups => 5,
            Self::GroupMessages => 11,
            Self::GroupKeys => 12,
            Self::GroupInfo => 13,
            Self::GroupMembers => 14,
            Self::LegacyClosed => -10,
            Self::RevokedRetrievableGroupMessages => -11,
            Self::Testing => -3741,
            Self::Other(n) => n,
        }
    }

    /// The namespace for a number, named when upstream names it.
    pub fn from_i16(value: i16) -> Self {
        Self::KNOWN
            .iter()
            .copied()
            .find(|ns| ns.value() == value)
            .unwrap_or(Self::Other(value))
    }

    /// Only the namespaces upstream names (for clients that must not write elsewhere).
    ///
    /// ```
    /// use metaless_swarm::{Namespace, SwarmError};
    /// assert_eq!(Namespace::known(5), Ok(Namespace::UserGroups));
    /// assert_eq!(Namespace::known(6), Err(SwarmError::UnknownNamespace(6)));
    /// ```
    pub fn known(value: i64) -> Result<Self, SwarmError> {
        let ns = i16::try_from(value).map_err(|_| SwarmError::UnknownNamespace(value))?;
        match Self::from_i16(ns) {
            Self::Other(_) => Err(SwarmError::UnknownNamespace(value)),
            named => Ok(named),
        }
    }

    /// Any 16-bit value (the storage server accepts every one of them).
    ///
    /// ```
    /// use metaless_swarm::{Namespace, SwarmError};
    /// assert_eq!(Namespace::try_from_i64(-32768), Ok(Namespace::Other(-32768)));
    /// assert_eq!(Namespace::try_from_i64(40000), Err(SwarmError::UnknownNamespace(40000)));
    /// ```
    pub fn try_from_i64(value: i64) -> Result<Self, SwarmError> {
        i16::try_from(value)
            .map(Self::from_i16)
            .map_err(|_| SwarmError::UnknownNamespace(value))
    }

    /// Public inbox: anyone may store without a signature (every multiple of 10, e.g. 0, -10).
    pub fn is_public_inbox(self) -> bool {
        self.value() % 10 == 0
    }

    /// Public outbox: negative `-(20n+1)` (−1, −21, …): one message, anyone may retrieve, only
    /// the owner stores.
    ///
    /// ```
    /// use metaless_swarm::Namespace;
    /// assert!(Namespace::Other(-21).is_public_outbox() && !Namespace::Other(-20).is_public_outbox());
    /// ```
    pub fn is_public_outbox(self) -> bool {
        let n = i32::from(self.value());
        n < 0 && (-n) % 20 == 1
    }

    /// Retrieval needs no signature: the legacy closed-group namespace and public outboxes.
    ///
    /// ```
    /// use metaless_swarm::Namespace;
    /// assert!(Namespace::LegacyClosed.is_noauth_retrieve() && !Namespace::Default.is_noauth_retrieve());
    /// ```
    pub fn is_noauth_retrieve(self) -> bool {
        self.value() == -10 || self.is_public_outbox()
    }

    /// Negative namespaces ending in `11` (−11, −211, …) stay retrievable by revoked
    /// subaccounts.
    pub fn is_unrevocable(self) -> bool {
        let n = i32::from(self.value());
        n < 0 && (-n) % 100 == 11
    }

    /// The reserved testing namespace −3741 (which is also a public outbox by number).
    pub fn is_testing(self) -> bool {
        self.value() == -3741
    }

    /// The text this namespace contributes to signed messages and message hashes: empty for
    /// namespace 0, otherwise the decimal number.
    ///
    /// ```
    /// use metaless_swarm::Namespace;
    /// assert_eq!(Namespace::Default.sig_text(), "");
    /// assert_eq!(Namespace::LegacyClosed.sig_text(), "-10");
    /// ```
    pub fn sig_text(self) -> String {
        if self.value() == 0 {
            String::new()
        } else {
            alloc::format!("{}", self.value())
        }
    }
}

impl PartialEq for Namespace {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Eq for Namespace {}

impl PartialOrd for Namespace {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Namespace {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.value().cmp(&other.value())
    }
}

impl Hash for Namespace {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value().hash(state);
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value())
    }
}

impl From<i16> for Namespace {
    fn from(value: i16) -> Self {
        Self::from_i16(value)
    }
}

/// A namespace argument that may also be `"all"` (`delete_all`, `delete_before`, `expire_all`).
///
/// ```
/// use metaless_swarm::{Namespace, NamespaceOrAll};
/// assert_eq!(NamespaceOrAll::All.sig_text(), "all");
/// assert_eq!(NamespaceOrAll::One(Namespace::Default).sig_text(), "");
/// assert_eq!(NamespaceOrAll::One(Namespace::Contacts).sig_text(), "3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamespaceOrAll {
    /// One namespace.
    One(Namespace),
    /// Every namespace of the account.
    All,
}

impl NamespaceOrAll {
    /// The text used in signatures: `""` for namespace 0, `"all"`, or the decimal number.
    pub fn sig_text(self) -> String {
        match self {
            Self::One(ns) => ns.sig_text(),
            Self::All => String::from("all"),
        }
    }
}

impl Default for NamespaceOrAll {
    fn default() -> Self {
        Self::One(Namespace::Default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn upstream_values() {
        let expected: [(Namespace, i16); 12] = [
            (Namespace::Default, 0),
            (Namespace::UserProfile, 2),
            (Namespace::Contacts, 3),
            (Namespace::ConvoInfoVolatile, 4),
            (Namespace::UserGroups, 5),
            (Namespace::GroupMessages, 11),
            (Namespace::GroupKeys, 12),
            (Namespace::GroupInfo, 13),
            (Namespace::GroupMembers, 14),
            (Namespace::LegacyClosed, -10),
            (Namespace::RevokedRetrievableGroupMessages, -11),
            (Namespace::Testing, -3741),
        ];
        for (ns, v) in expected {
            assert_eq!(ns.value(), v);
            assert!(!matches!(Namespace::from_i16(v), Namespace::Other(_)));
        }
        assert!(Namespace::Testing.is_public_outbox() && Namespace::Testing.is_testing());
        assert!(Namespace::RevokedRetrievableGroupMessages.is_unrevocable());
        assert!(
            Namespace::Other(-211).is_unrevocable() && !Namespace::Other(-111).is_public_outbox()
        );
        assert!(Namespace::Other(-1230).is_public_inbox());
        assert!(
            !Namespace::Other(-1).is_public_inbox() && Namespace::Other(-1).is_noauth_retrieve()
        );
        assert_eq!(
            Namespace::known(-32769),
            Err(SwarmError::UnknownNamespace(-32769))
        );
    }

    proptest! {
        #[test]
        fn value_round_trips(v in any::<i16>()) {
            let ns = Namespace::from_i16(v);
            prop_assert_eq!(ns.value(), v);
            prop_assert_eq!(Namespace::try_from_i64(i64::from(v)), Ok(ns));
            prop_assert_eq!(ns.sig_text().is_empty(), v == 0);
        }
    }
}
