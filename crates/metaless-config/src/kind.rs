/// Which config a message is: its swarm namespace, encryption domain and push options.
///
/// | kind | namespace | domain | protobuf wrap | signed | legacy `kind` |
/// |---|---|---|---|---|---|
/// | UserProfile | 2 | `UserProfile` | yes | no | 1 |
/// | Contacts | 3 | `Contacts` | yes | no | 2 |
/// | ConvoInfoVolatile | 4 | `ConvoInfoVolatile` | yes | no | 3 |
/// | UserGroups | 5 | `UserGroups` | yes | no | 4 |
/// | GroupInfo | 13 | `groups::Info` | no | yes | – |
/// | GroupMembers | 14 | `groups::Members` | no | yes | – |
///
/// ```
/// use metaless_config::Kind;
/// assert_eq!(Kind::from_namespace(3), Some(Kind::Contacts));
/// assert_eq!(Kind::Contacts.domain(), "Contacts");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// Display name, avatar, Note-to-Self settings (namespace 2).
    UserProfile,
    /// Contacts (namespace 3).
    Contacts,
    /// Read/unread state of conversations (namespace 4).
    ConvoInfoVolatile,
    /// Groups and communities the account is in (namespace 5).
    UserGroups,
    /// A v2 group's info (namespace 13).
    GroupInfo,
    /// A v2 group's members (namespace 14).
    GroupMembers,
}

impl Kind {
    /// The four per-account kinds, in namespace order.
    ///
    /// ```
    /// assert_eq!(metaless_config::Kind::USER.len(), 4);
    /// ```
    pub const USER: [Kind; 4] = [
        Kind::UserProfile,
        Kind::Contacts,
        Kind::ConvoInfoVolatile,
        Kind::UserGroups,
    ];

    /// The swarm namespace.
    ///
    /// ```
    /// assert_eq!(metaless_config::Kind::UserGroups.namespace(), 5);
    /// ```
    pub fn namespace(self) -> i16 {
        match self {
            Kind::UserProfile => 2,
            Kind::Contacts => 3,
            Kind::ConvoInfoVolatile => 4,
            Kind::UserGroups => 5,
            Kind::GroupInfo => 13,
            Kind::GroupMembers => 14,
        }
    }

    /// The kind stored at `namespace`.
    ///
    /// ```
    /// assert_eq!(metaless_config::Kind::from_namespace(0), None);
    /// ```
    pub fn from_namespace(namespace: i16) -> Option<Kind> {
        [
            Kind::UserProfile,
            Kind::Contacts,
            Kind::ConvoInfoVolatile,
            Kind::UserGroups,
            Kind::GroupInfo,
            Kind::GroupMembers,
        ]
        .into_iter()
        .find(|k| k.namespace() == namespace)
    }

    /// The encryption domain.
    ///
    /// ```
    /// assert_eq!(metaless_config::Kind::GroupInfo.domain(), "groups::Info");
    /// ```
    pub fn domain(self) -> &'static str {
        match self {
            Kind::UserProfile => "UserProfile",
            Kind::Contacts => "Contacts",
            Kind::ConvoInfoVolatile => "ConvoInfoVolatile",
            Kind::UserGroups => "UserGroups",
            Kind::GroupInfo => "groups::Info",
            Kind::GroupMembers => "groups::Members",
        }
    }

    /// `SharedConfigMessage.kind` for the legacy protobuf wrap (user kinds only).
    ///
    /// ```
    /// assert_eq!(metaless_config::Kind::UserProfile.legacy_kind(), Some(1));
    /// assert_eq!(metaless_config::Kind::GroupInfo.legacy_kind(), None);
    /// ```
    pub fn legacy_kind(self) -> Option<i32> {
        match self {
            Kind::UserProfile => Some(1),
            Kind::Contacts => Some(2),
            Kind::ConvoInfoVolatile => Some(3),
            Kind::UserGroups => Some(4),
            _ => None,
        }
    }

    /// Whether messages of this kind carry (and must verify) a `~` signature.
    ///
    /// ```
    /// assert!(metaless_config::Kind::GroupMembers.is_signed());
    /// ```
    pub fn is_signed(self) -> bool {
        matches!(self, Kind::GroupInfo | Kind::GroupMembers)
    }
}
