//! Groups v2 ("03" groups) over the client: create a group (admin), invite members one-to-one,
//! accept an invitation, send and read group messages through the group's swarm with
//! sub-account auth, remove a member (rekey, kick notice), leave; membership and message
//! events; the group in the account's UserGroups config.
//!
//! [`Groups`] sits beside a [`Client`] like [`ConfigSync`](super::ConfigSync): it drives the
//! client's generic swarm API (`swarm_store`, subscriptions) with a
//! [`RequestSigner`](metaless_swarm::RequestSigner) per group — the group's own key for an
//! admin, the member's [`MemberSigner`] (sub-account token) for a member — and feeds on the
//! client's events through [`Groups::handle_event`]. The bytes (keys messages, the group
//! message cipher, configs, tokens, kick notices) are `metaless-group`'s; this file only
//! decides what to store where and what an arrival means.
//!
//! Per group it polls namespaces 12 (keys), 13 (info), 14 (members), 11 (messages) and, for
//! members, −11 (kick notices). Messages that arrive before the key that opens them are kept
//! (at most [`MAX_WAITING`] per group) and retried when new keys load.
//!
//! ```
//! use metaless_client::{Bootstrap, Client, Config, GroupEvent, Groups};
//! use metaless_identity::{Keypair, Seed};
//! let seed = Seed::from_bytes([1; 32]);
//! let mut client = Client::new(Keypair::from_seed(&seed),
//!     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
//! let mut groups = Groups::new(&seed, [7; 32]);
//! let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
//! let group = groups.create(&mut client, 1_700_000_000_000, "Friends", &[bob]).unwrap();
//! assert!(groups.is_admin(&group));
//! assert_eq!(groups.members(&group).len(), 2);
//! assert_eq!(groups.poll_event(), Some(GroupEvent::Created { group }));
//! // Keys, info and members are queued for the group's swarm, the invite for Bob's.
//! assert!(client.pending_ops() >= 4);
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use metaless_config::Kind;
use metaless_config::views::GroupEntry;
use metaless_envelope::{Content, GroupUpdate, MemberChangeKind, Message, Received};
use metaless_group::{
    GroupError, GroupId, GroupInfo, GroupKeyring, GroupKeys, GroupMembers, LoadOutcome, Member,
    MemberAuth, MemberSigner, Permissions, accept_invite, accept_promotion, decrypt_content,
    encrypt_content, kick_notice, make_invite, member_change, open_kick_notice, rekey,
    revoke_members, verify_update,
};
use metaless_identity::{Keypair, Seed, SessionId};
use metaless_swarm::{MessageHash, Namespace, Request, ttl};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use super::Client;
use super::config_sync::ConfigSync;
use super::event::Event;
use super::ops::OpId;
use super::subscriptions::SubscriptionId;
use super::swarm_ops::{KeySigner, RawMessage, SwarmAccount};
use crate::{ClientError, FailureKind};

/// The permissions every invited member's sub-account token carries (what a removal revokes:
/// nodes compare the whole token, flags included).
/// metaless-group's member default.
fn member_permissions() -> Permissions {
    Permissions::default()
}

/// Undecryptable messages kept per group for a retry when new keys arrive.
pub const MAX_WAITING: usize = 256;

/// Namespaces a member polls, keys first (desktop polls keys last in one batch; separate
/// subscriptions here, so arrivals out of order are retried instead).
const MEMBER_NAMESPACES: [Namespace; 5] = [
    Namespace::GroupKeys,
    Namespace::GroupInfo,
    Namespace::GroupMembers,
    Namespace::GroupMessages,
    Namespace::RevokedRetrievableGroupMessages,
];

/// Why a group operation was refused.
///
/// ```
/// use metaless_client::GroupsError;
/// assert_eq!(GroupsError::UnknownGroup.to_string(), "unknown group");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupsError {
    /// No group with that id is held (not created, joined or restored here).
    #[error("unknown group")]
    UnknownGroup,
    /// No invitation for that group has arrived.
    #[error("no invitation for this group")]
    NoInvitation,
    /// The account is not (or no longer) in the members list.
    #[error("not a member of this group")]
    NotAMember,
    /// This account was removed from the group (newer keys without it, or a kick notice).
    #[error("removed from this group")]
    Removed,
    /// The group layer refused (not an admin, no key yet, bad ids, too large, …).
    #[error(transparent)]
    Group(#[from] GroupError),
    /// The client refused to queue the operation.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// A group message that opened and verified.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMessage {
    /// The group.
    pub group: GroupId,
    /// The storage hash.
    pub hash: MessageHash,
    /// The sender (verified signature inside the ciphertext).
    pub sender: SessionId,
    /// The content.
    pub content: Content,
    /// The sender's timestamp (ms).
    pub sent_at_ms: u64,
    /// Generation of the key that opened it.
    pub generation: u64,
}

/// What [`Groups`] reports (through [`Groups::poll_event`]).
///
/// ```
/// use metaless_client::GroupEvent;
/// use metaless_group::GroupKeys;
/// let e = GroupEvent::Removed { group: GroupKeys::from_seed([1; 32]).group_id() };
/// assert!(matches!(e, GroupEvent::Removed { .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum GroupEvent {
    /// [`Groups::create`] made a group.
    Created {
        /// The new group.
        group: GroupId,
    },
    /// An invitation arrived one-to-one and verified (admin signature, token); accept it
    /// with [`Groups::accept`].
    Invited {
        /// The group.
        group: GroupId,
        /// Its name as the invite gave it.
        name: String,
        /// Who sent the invitation.
        from: SessionId,
    },
    /// A one-to-one invitation or promotion did not verify (forged, for someone else, for
    /// another group); it is dropped.
    InviteRefused {
        /// Who sent it.
        from: SessionId,
        /// Why.
        error: GroupError,
    },
    /// The first group key loaded after an accept: the group can be read and written.
    Joined {
        /// The group.
        group: GroupId,
    },
    /// A new key generation loaded.
    NewKeys {
        /// The group.
        group: GroupId,
        /// Its generation.
        generation: u64,
    },
    /// A group message arrived (own ones included).
    Message(Box<GroupMessage>),
    /// A stored message does not open with any key held now (sent before we joined, after we
    /// were removed, or tampered). It is retried if new keys arrive.
    Undecryptable {
        /// The group.
        group: GroupId,
        /// Its storage hash.
        hash: MessageHash,
    },
    /// An admin-signed member change notice (added, removed, promoted).
    MemberChange {
        /// The group.
        group: GroupId,
        /// What happened.
        kind: MemberChangeKind,
        /// To whom.
        members: Vec<SessionId>,
        /// The admin who sent it.
        by: SessionId,
    },
    /// A member said it left.
    MemberLeft {
        /// The group.
        group: GroupId,
        /// Who left.
        member: SessionId,
    },
    /// A member answered its invitation (admins mark it accepted in the members list).
    InviteResponse {
        /// The group.
        group: GroupId,
        /// Who answered.
        member: SessionId,
        /// Accepted or declined.
        approved: bool,
    },
    /// The Info config (name, description, …) changed.
    InfoChanged {
        /// The group.
        group: GroupId,
    },
    /// The Members config changed.
    MembersChanged {
        /// The group.
        group: GroupId,
    },
    /// This account was removed: a keys message of a newer generation holds no key for it,
    /// or a kick notice named it. It still polls (to see what it can no longer read) until
    /// [`Groups::leave`].
    Removed {
        /// The group.
        group: GroupId,
    },
    /// This account became an admin (a promotion carrying the group seed).
    Promoted {
        /// The group.
        group: GroupId,
    },
    /// A group message [`Groups::send`] queued was stored.
    Sent {
        /// The group.
        group: GroupId,
        /// What `send` returned.
        id: OpId,
        /// Its storage hash.
        hash: MessageHash,
    },
    /// A store for the group failed (a message, a keys message, a config, a kick notice, an
    /// invitation).
    Failed {
        /// The group.
        group: GroupId,
        /// The operation.
        id: OpId,
        /// The network's answer.
        failure: FailureKind,
    },
    /// A stored message of the group that verified under no rule (forged admin notice,
    /// badly signed keys or config message); ignored.
    Refused {
        /// The group.
        group: GroupId,
        /// Its namespace.
        namespace: Namespace,
        /// Its storage hash.
        hash: MessageHash,
    },
}

/// Admin or member: what signs the group's storage requests.
enum Role {
    Admin(Box<GroupKeys>),
    Member(MemberAuth),
}

/// Which config a push is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cfg {
    Info,
    Members,
}

/// What a store the groups layer queued is for.
enum Pending {
    Message,
    Keys,
    Config(Cfg, metaless_config::Push),
    Other,
}

struct Group {
    role: Role,
    account: SwarmAccount,
    name: String,
    ring: GroupKeyring,
    info: GroupInfo,
    members: GroupMembers,
    subs: Vec<SubscriptionId>,
    /// Messages no key held opened yet (namespace, message, reported as undecryptable).
    waiting: VecDeque<(Namespace, RawMessage, bool)>,
    /// Send the invite response once a key is there.
    respond: bool,
    joined: bool,
    removed: bool,
    /// Pushes in flight, and whether another is wanted after it.
    pushing: [Option<OpId>; 2],
    again: [bool; 2],
}

impl Group {
    fn admin(&self) -> Option<&GroupKeys> {
        match &self.role {
            Role::Admin(k) => Some(k),
            Role::Member(_) => None,
        }
    }
}

fn slot(c: Cfg) -> usize {
    match c {
        Cfg::Info => 0,
        Cfg::Members => 1,
    }
}

fn admin_account(keys: &GroupKeys) -> SwarmAccount {
    let kp = Keypair::from_seed(&Seed::from_bytes(*keys.expose_seed()));
    SwarmAccount::Signed(Arc::new(KeySigner::group(kp)))
}

/// The groups of one account, driven through a [`Client`].
pub struct Groups {
    keys: Keypair,
    rng: ChaCha20Rng,
    groups: BTreeMap<GroupId, Group>,
    subs: BTreeMap<SubscriptionId, (GroupId, Namespace)>,
    ops: BTreeMap<OpId, (GroupId, Pending)>,
    invites: BTreeMap<GroupId, metaless_group::Invitation>,
    events: VecDeque<GroupEvent>,
}

impl core::fmt::Debug for Groups {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Group seeds and auth data are secrets: only counts.
        f.debug_struct("Groups")
            .field("groups", &self.groups.len())
            .field("invites", &self.invites.len())
            .field("ops", &self.ops.len())
            .finish_non_exhaustive()
    }
}

impl Groups {
    /// The groups layer for the account of `seed` (the client's own). `rng_seed` seeds the
    /// group seeds, nonces and decoy bytes it draws (32 bytes from the OS generator; fixed in
    /// tests).
    ///
    /// ```
    /// let g = metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]);
    /// assert!(g.groups().is_empty());
    /// ```
    pub fn new(seed: &Seed, rng_seed: [u8; 32]) -> Self {
        Groups {
            keys: Keypair::from_seed(seed),
            rng: ChaCha20Rng::from_seed(rng_seed),
            groups: BTreeMap::new(),
            subs: BTreeMap::new(),
            ops: BTreeMap::new(),
            invites: BTreeMap::new(),
            events: VecDeque::new(),
        }
    }

    fn group(&self, id: &GroupId) -> Result<&Group, GroupsError> {
        self.groups.get(id).ok_or(GroupsError::UnknownGroup)
    }

    fn group_mut(&mut self, id: &GroupId) -> Result<&mut Group, GroupsError> {
        self.groups.get_mut(id).ok_or(GroupsError::UnknownGroup)
    }

    /// Creates a group named `name` with this account as admin and `members` invited: the
    /// first keys message (generation 0, every member a recipient), Info (`n`, `c`) and
    /// Members (self admin, invitees with invite status 1 "sent") are stored in the group's
    /// swarm (namespaces 12, 13, 14), an invitation goes to each member one-to-one, and the
    /// group's namespaces are polled.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let g = groups.create(&mut client, 1_700_000_000_000, "Solo", &[]).unwrap();
    /// assert_eq!(groups.name(&g).as_deref(), Some("Solo"));
    /// assert_eq!(groups.generation(&g), Some(0));
    /// ```
    pub fn create(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        name: &str,
        members: &[SessionId],
    ) -> Result<GroupId, GroupsError> {
        let keys = GroupKeys::generate(&mut self.rng);
        let id = keys.group_id();
        let network_now = client.network_now(now_ms);
        let mut info = GroupInfo::new_admin(&keys);
        info.set_name(name)?;
        info.set_created_s(i64::try_from(network_now / 1000).unwrap_or(i64::MAX));
        let mut list = GroupMembers::new_admin(&keys);
        let mut me = Member::new(self.keys.session_id(), "");
        me.admin = true;
        list.set(&me);
        for m in members {
            if *m == me.session_id {
                continue;
            }
            let mut member = Member::new(*m, "");
            member.invite_status = Some(1);
            list.set(&member);
        }
        let ids: Vec<SessionId> = list.list().into_iter().map(|m| m.session_id).collect();
        let (keys_msg, key) = rekey(&keys, &ids, 0, network_now)?;
        let mut ring = GroupKeyring::new(id);
        ring.insert(&key);
        let account = admin_account(&keys);
        self.groups.insert(
            id,
            Group {
                role: Role::Admin(Box::new(keys)),
                account,
                name: name.into(),
                ring,
                info,
                members: list,
                subs: Vec::new(),
                waiting: VecDeque::new(),
                respond: false,
                joined: true,
                removed: false,
                pushing: [None; 2],
                again: [false; 2],
            },
        );
        self.store(
            client,
            now_ms,
            id,
            Namespace::GroupKeys,
            keys_msg,
            Pending::Keys,
        )?;
        self.push_config(client, now_ms, id, Cfg::Info)?;
        self.push_config(client, now_ms, id, Cfg::Members)?;
        for m in members.iter().filter(|m| **m != me.session_id) {
            self.send_invite(client, now_ms, id, m)?;
        }
        self.subscribe(client, now_ms, id, &MEMBER_NAMESPACES[..4])?;
        self.events.push_back(GroupEvent::Created { group: id });
        Ok(id)
    }

    /// Takes up a group this account administers from its seed (as the UserGroups entry or an
    /// app's store keeps it): the current keys, info and members are read back from the
    /// group's swarm by the polls this starts. Rekeying operations wait for the first keys
    /// message ([`Groups::is_synced`]).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let g = groups.restore_admin(&mut client, 1_000, [9; 32], "Old").unwrap();
    /// assert!(groups.is_admin(&g) && !groups.is_synced(&g));
    /// assert_eq!(client.subscriptions(), 4);
    /// ```
    pub fn restore_admin(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group_seed: [u8; 32],
        name: &str,
    ) -> Result<GroupId, GroupsError> {
        let keys = GroupKeys::from_seed(group_seed);
        let id = keys.group_id();
        if self.groups.contains_key(&id) {
            return Ok(id);
        }
        let account = admin_account(&keys);
        self.groups.insert(
            id,
            Group {
                info: GroupInfo::new_admin(&keys),
                members: GroupMembers::new_admin(&keys),
                role: Role::Admin(Box::new(keys)),
                account,
                name: name.into(),
                ring: GroupKeyring::new(id),
                subs: Vec::new(),
                waiting: VecDeque::new(),
                respond: false,
                joined: true,
                removed: false,
                pushing: [None; 2],
                again: [false; 2],
            },
        );
        self.subscribe(client, now_ms, id, &MEMBER_NAMESPACES[..4])?;
        Ok(id)
    }

    /// Takes up a group this account is a member of from its auth data (as the UserGroups
    /// entry or an app's store keeps it; [`GroupError::BadTokenSignature`] if the data is not
    /// this account's for `group`).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups, GroupsError};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_group::{GroupKeys, MemberAuth, Permissions};
    /// let seed = Seed::from_bytes([2; 32]);
    /// let mut client = Client::new(Keypair::from_seed(&seed),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let group = GroupKeys::from_seed([9; 32]);
    /// let auth = MemberAuth::issue(&group, &client.session_id(), Permissions::default()).unwrap();
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// groups.restore_member(&mut client, 1_000, group.group_id(), &auth, "G").unwrap();
    /// assert_eq!(client.subscriptions(), 5);
    /// // Someone else's auth data is refused.
    /// let other = MemberAuth::issue(&group, &Keypair::from_seed(&Seed::from_bytes([3; 32])).session_id(), Permissions::default()).unwrap();
    /// let mut g2 = Groups::new(&seed, [7; 32]);
    /// assert!(matches!(g2.restore_member(&mut client, 1_000, group.group_id(), &other, "G"), Err(GroupsError::Group(_))));
    /// ```
    pub fn restore_member(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        auth: &MemberAuth,
        name: &str,
    ) -> Result<(), GroupsError> {
        let signer = MemberSigner::new(&self.keys, group, auth)?;
        self.join(client, now_ms, group, auth.clone(), signer, name, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn join(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        id: GroupId,
        auth: MemberAuth,
        signer: MemberSigner,
        name: &str,
        respond: bool,
    ) -> Result<(), GroupsError> {
        if self.groups.contains_key(&id) {
            return Ok(());
        }
        self.groups.insert(
            id,
            Group {
                role: Role::Member(auth),
                account: SwarmAccount::Signed(Arc::new(signer)),
                name: name.into(),
                ring: GroupKeyring::new(id),
                info: GroupInfo::new_member(id),
                members: GroupMembers::new_member(id),
                subs: Vec::new(),
                waiting: VecDeque::new(),
                respond,
                joined: false,
                removed: false,
                pushing: [None; 2],
                again: [false; 2],
            },
        );
        self.subscribe(client, now_ms, id, &MEMBER_NAMESPACES)
    }

    /// Accepts the invitation to `group` that arrived ([`GroupEvent::Invited`]): the group's
    /// namespaces are polled with the sub-account key, and once the keys are read an invite
    /// response (`approved`) goes to the group; [`GroupEvent::Joined`] follows.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups, GroupsError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let g = metaless_group::GroupKeys::from_seed([9; 32]).group_id();
    /// assert!(matches!(groups.accept(&mut client, 1_000, &g), Err(GroupsError::NoInvitation)));
    /// ```
    pub fn accept(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: &GroupId,
    ) -> Result<(), GroupsError> {
        let inv = self
            .invites
            .remove(group)
            .ok_or(GroupsError::NoInvitation)?;
        self.join(
            client, now_ms, inv.group, inv.auth, inv.signer, &inv.name, true,
        )
    }

    /// Invitations received and not yet accepted: group and name.
    ///
    /// ```
    /// assert!(metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).invitations().is_empty());
    /// ```
    pub fn invitations(&self) -> Vec<(GroupId, String)> {
        self.invites
            .values()
            .map(|i| (i.group, i.name.clone()))
            .collect()
    }

    /// Invites `member` into `group` (admin): the member is added to Members (invite status
    /// 1), a new key generation including it is stored (so it reads from now on, not the
    /// history), Info and Members are stored again under the new key, an admin-signed
    /// "added" notice goes to the group and the invitation one-to-one.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let g = groups.create(&mut client, 1_700_000_000_000, "G", &[]).unwrap();
    /// let carol = Keypair::from_seed(&Seed::from_bytes([3; 32])).session_id();
    /// groups.invite(&mut client, 1_700_000_000_000, &g, &carol).unwrap();
    /// assert_eq!(groups.generation(&g), Some(1));
    /// assert!(groups.members(&g).iter().any(|m| m.session_id == carol && m.invite_status == Some(1)));
    /// ```
    pub fn invite(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: &GroupId,
        member: &SessionId,
    ) -> Result<(), GroupsError> {
        let g = self.group_mut(group)?;
        g.admin().ok_or(GroupError::NotAdmin)?;
        if g.ring.is_empty() {
            return Err(GroupError::NoKey.into());
        }
        let mut m = g
            .members
            .get(member)
            .unwrap_or_else(|| Member::new(*member, ""));
        m.invite_status = Some(1);
        m.removed_status = None;
        g.members.set(&m);
        self.rotate(client, now_ms, *group)?;
        let notice = self.admin_update(client, now_ms, group, MemberChangeKind::Added, member)?;
        self.send_group_content(client, now_ms, group, &notice, Pending::Other)?;
        self.send_invite(client, now_ms, *group, member)
    }

    /// Removes `member` from `group` (admin): it leaves Members, a new key generation without
    /// it is stored (it cannot read anything sent from now on), Info and Members are stored
    /// again under the new key, a kick notice for it goes to namespace −11, its sub-account
    /// token is revoked on the group's swarm (an admin-signed `revoke_subaccount`: from then on
    /// nodes refuse its requests except reads of the kick notices) and an admin-signed
    /// "removed" notice goes to the group. A revocation that fails for good is reported as
    /// [`GroupEvent::Failed`].
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups, GroupsError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let carol = Keypair::from_seed(&Seed::from_bytes([3; 32])).session_id();
    /// let g = groups.create(&mut client, 1_700_000_000_000, "G", &[carol]).unwrap();
    /// groups.remove(&mut client, 1_700_000_000_000, &g, &carol).unwrap();
    /// assert_eq!((groups.generation(&g), groups.members(&g).len()), (Some(1), 1));
    /// assert!(matches!(groups.remove(&mut client, 1_700_000_000_000, &g, &carol), Err(GroupsError::NotAMember)));
    /// ```
    pub fn remove(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: &GroupId,
        member: &SessionId,
    ) -> Result<(), GroupsError> {
        let g = self.group_mut(group)?;
        g.admin().ok_or(GroupError::NotAdmin)?;
        if g.ring.is_empty() {
            return Err(GroupError::NoKey.into());
        }
        if !g.members.remove(member) {
            return Err(GroupsError::NotAMember);
        }
        let generation = self.rotate(client, now_ms, *group)?;
        let mut nonce = [0u8; 24];
        self.rng.fill_bytes(&mut nonce);
        let g = self.group(group)?;
        let keys = g.admin().ok_or(GroupError::NotAdmin)?;
        let notice = kick_notice(keys, &[*member], generation, nonce)?;
        // Derived once and moved into the op: the secret stays inside `GroupKeys`, and a retry
        // only re-signs.
        let group_keys = GroupKeys::from_seed(*keys.expose_seed());
        self.store(
            client,
            now_ms,
            *group,
            Namespace::RevokedRetrievableGroupMessages,
            notice,
            Pending::Other,
        )?;
        // Re-signed at each attempt's network time (nodes refuse a stale signature).
        let removed = [(*member, member_permissions())];
        let id = client.swarm_request(now_ms, move |at| {
            revoke_members(&group_keys, &removed, at)
                .ok()
                .map(Request::RevokeSubaccount)
        })?;
        self.ops.insert(id, (*group, Pending::Other));
        let update = self.admin_update(client, now_ms, group, MemberChangeKind::Removed, member)?;
        self.send_group_content(client, now_ms, group, &update, Pending::Other)?;
        Ok(())
    }

    /// Leaves `group`: a member sends the "left" notice to the group first; then polling stops
    /// and the group is forgotten here (drop it from UserGroups with [`Groups::forget_in`]).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let g = groups.create(&mut client, 1_700_000_000_000, "G", &[]).unwrap();
    /// groups.leave(&mut client, 1_700_000_000_000, &g).unwrap();
    /// assert!(groups.groups().is_empty() && client.subscriptions() == 0);
    /// ```
    pub fn leave(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: &GroupId,
    ) -> Result<(), GroupsError> {
        let g = self.group(group)?;
        if g.admin().is_none() && !g.ring.is_empty() && !g.removed {
            let left = Content::new(Message::GroupUpdate(GroupUpdate::MemberLeft));
            self.send_group_content(client, now_ms, group, &left, Pending::Other)?;
        }
        if let Some(g) = self.groups.remove(group) {
            for s in g.subs {
                client.unsubscribe(s);
                self.subs.remove(&s);
            }
        }
        Ok(())
    }

    /// Sends `content` to `group` (namespace 11, encrypted with the current key, signed by
    /// this account); [`GroupEvent::Sent`] follows with the storage hash.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let g = groups.create(&mut client, 1_700_000_000_000, "G", &[]).unwrap();
    /// let before = client.pending_ops();
    /// groups.send(&mut client, 1_700_000_000_000, &g, &metaless_envelope::Content::text("hi")).unwrap();
    /// assert_eq!(client.pending_ops(), before + 1);
    /// ```
    pub fn send(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: &GroupId,
        content: &Content,
    ) -> Result<OpId, GroupsError> {
        let g = self.group(group)?;
        if g.removed {
            return Err(GroupsError::Removed);
        }
        self.send_group_content(client, now_ms, group, content, Pending::Message)
    }

    fn send_group_content(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: &GroupId,
        content: &Content,
        what: Pending,
    ) -> Result<OpId, GroupsError> {
        let sent_at = client.network_now(now_ms);
        let g = self.groups.get(group).ok_or(GroupsError::UnknownGroup)?;
        let wire = encrypt_content(&self.keys, &g.ring, content, sent_at, &mut self.rng)?;
        self.store(client, now_ms, *group, Namespace::GroupMessages, wire, what)
    }

    /// An admin-signed member change for one member, signed for the send time.
    fn admin_update(
        &self,
        client: &Client,
        now_ms: u64,
        group: &GroupId,
        kind: MemberChangeKind,
        member: &SessionId,
    ) -> Result<Content, GroupsError> {
        let keys = self.group(group)?.admin().ok_or(GroupError::NotAdmin)?;
        let u = member_change(keys, kind, vec![*member], None, client.network_now(now_ms));
        Ok(Content::new(Message::GroupUpdate(u)))
    }

    /// A new key generation for the current members (admin), stored with Info and Members
    /// again under it. Returns the generation.
    fn rotate(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
    ) -> Result<u64, GroupsError> {
        let network_now = client.network_now(now_ms);
        let g = self.group_mut(&group)?;
        let keys = g.admin().ok_or(GroupError::NotAdmin)?;
        let generation = g.ring.max_generation().map_or(0, |m| m + 1);
        let ids: Vec<SessionId> = g.members.list().into_iter().map(|m| m.session_id).collect();
        let (msg, key) = rekey(keys, &ids, generation, network_now)?;
        g.ring.insert(&key);
        self.store(
            client,
            now_ms,
            group,
            Namespace::GroupKeys,
            msg,
            Pending::Keys,
        )?;
        self.push_config(client, now_ms, group, Cfg::Info)?;
        self.push_config(client, now_ms, group, Cfg::Members)?;
        Ok(generation)
    }

    fn send_invite(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        member: &SessionId,
    ) -> Result<(), GroupsError> {
        let g = self.group(&group)?;
        let keys = g.admin().ok_or(GroupError::NotAdmin)?;
        // The signature covers the sent timestamp `send` will stamp (the same network time).
        let invite = make_invite(
            keys,
            &g.name,
            member,
            member_permissions(),
            client.network_now(now_ms),
        )?;
        let id = client.send(now_ms, member, &Content::new(Message::GroupUpdate(invite)))?;
        self.ops.insert(id, (group, Pending::Other));
        Ok(())
    }

    fn store(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        namespace: Namespace,
        data: Vec<u8>,
        what: Pending,
    ) -> Result<OpId, GroupsError> {
        let g = self.group(&group)?;
        let ttl_ms = if namespace == Namespace::GroupMessages {
            ttl::TTL_DEFAULT_CONTENT_MS
        } else {
            ttl::TTL_DEFAULT_CONFIG_MS
        };
        let id = client.swarm_store(now_ms, g.account.clone(), namespace, data, ttl_ms)?;
        self.ops.insert(id, (group, what));
        Ok(id)
    }

    /// Stores the config (admin), or marks it for storing once the push in flight is done.
    fn push_config(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        which: Cfg,
    ) -> Result<(), GroupsError> {
        let g = self.group_mut(&group)?;
        if g.admin().is_none() {
            return Ok(());
        }
        if g.pushing[slot(which)].is_some() {
            g.again[slot(which)] = true;
            return Ok(());
        }
        let (stored, push) = match which {
            Cfg::Info => g.info.push(&g.ring)?,
            Cfg::Members => g.members.push(&g.ring)?,
        };
        let ns = match which {
            Cfg::Info => Namespace::GroupInfo,
            Cfg::Members => Namespace::GroupMembers,
        };
        let id = self.store(
            client,
            now_ms,
            group,
            ns,
            stored,
            Pending::Config(which, push),
        )?;
        if let Some(g) = self.groups.get_mut(&group) {
            g.pushing[slot(which)] = Some(id);
        }
        Ok(())
    }

    fn subscribe(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        namespaces: &[Namespace],
    ) -> Result<(), GroupsError> {
        let account = self.group(&group)?.account.clone();
        for ns in namespaces {
            let sub = client.subscribe(now_ms, account.clone(), *ns)?;
            self.subs.insert(sub, (group, *ns));
            if let Some(g) = self.groups.get_mut(&group) {
                g.subs.push(sub);
            }
        }
        Ok(())
    }

    /// Feeds one client event; returns whether it was the groups layer's (new messages of a
    /// group namespace, the outcome of its stores, an invitation or promotion arriving
    /// one-to-one).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// let seed = Seed::from_bytes([1; 32]);
    /// let mut client = Client::new(Keypair::from_seed(&seed), Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// assert!(!groups.handle_event(&mut client, 1_000, &Event::NoNodes));
    /// ```
    pub fn handle_event(&mut self, client: &mut Client, now_ms: u64, event: &Event) -> bool {
        match event {
            Event::SwarmMessages { sub, messages, .. } => {
                let Some(&(group, ns)) = self.subs.get(sub) else {
                    return false;
                };
                self.receive(client, now_ms, group, ns, messages.clone());
                true
            }
            Event::Delivered { id, hash, .. } => {
                let Some((group, what)) = self.ops.remove(id) else {
                    return false;
                };
                self.stored(client, now_ms, group, *id, what, hash);
                true
            }
            Event::Done { id } => self.ops.remove(id).is_some(),
            Event::Failed { id, kind } => {
                let Some((group, what)) = self.ops.remove(id) else {
                    return false;
                };
                if let (Pending::Config(which, _), Some(g)) = (&what, self.groups.get_mut(&group)) {
                    g.pushing[slot(*which)] = None;
                }
                self.events.push_back(GroupEvent::Failed {
                    group,
                    id: *id,
                    failure: *kind,
                });
                true
            }
            Event::Received(incoming) => self.one_to_one(&incoming.message),
            _ => false,
        }
    }

    /// A store of ours was acknowledged.
    fn stored(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        id: OpId,
        what: Pending,
        hash: &MessageHash,
    ) {
        match what {
            Pending::Message => self.events.push_back(GroupEvent::Sent {
                group,
                id,
                hash: hash.clone(),
            }),
            Pending::Config(which, push) => {
                let Some(g) = self.groups.get_mut(&group) else {
                    return;
                };
                g.pushing[slot(which)] = None;
                match which {
                    Cfg::Info => g.info.confirm_pushed(&push),
                    Cfg::Members => g.members.confirm_pushed(&push),
                }
                let dirty = match which {
                    Cfg::Info => g.info.config().needs_push(),
                    Cfg::Members => g.members.config().needs_push(),
                };
                if core::mem::take(&mut g.again[slot(which)]) || dirty {
                    let _ = self.push_config(client, now_ms, group, which);
                }
            }
            Pending::Keys | Pending::Other => {}
        }
    }

    /// An invitation or promotion in the own inbox.
    fn one_to_one(&mut self, message: &Received) -> bool {
        let Message::GroupUpdate(update) = &message.content.message else {
            return false;
        };
        let sent = message.signed_sent_at_ms.unwrap_or(message.sent_at_ms);
        match update {
            GroupUpdate::Invite { .. } => match accept_invite(&self.keys, update, sent) {
                Ok(inv) => {
                    if !self.groups.contains_key(&inv.group) {
                        self.events.push_back(GroupEvent::Invited {
                            group: inv.group,
                            name: inv.name.clone(),
                            from: message.sender,
                        });
                        self.invites.insert(inv.group, inv);
                    }
                }
                Err(error) => self.events.push_back(GroupEvent::InviteRefused {
                    from: message.sender,
                    error,
                }),
            },
            GroupUpdate::Promote { .. } => {
                let promoted = self.groups.iter_mut().find_map(|(id, g)| {
                    let keys = accept_promotion(id, update).ok()?;
                    g.account = admin_account(&keys);
                    g.role = Role::Admin(Box::new(keys));
                    Some(*id)
                });
                match promoted {
                    Some(group) => self.events.push_back(GroupEvent::Promoted { group }),
                    None => self.events.push_back(GroupEvent::InviteRefused {
                        from: message.sender,
                        error: GroupError::InvalidGroupId,
                    }),
                }
            }
            _ => return false,
        }
        true
    }

    fn receive(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        ns: Namespace,
        messages: Vec<RawMessage>,
    ) {
        match ns {
            Namespace::GroupKeys => self.receive_keys(client, now_ms, group, &messages),
            Namespace::GroupMessages => {
                for m in messages {
                    self.receive_message(client, now_ms, group, m, false);
                }
            }
            Namespace::RevokedRetrievableGroupMessages => {
                for m in &messages {
                    if open_kick_notice(&self.keys, &group, &m.data).is_ok() {
                        self.mark_removed(group);
                    }
                }
            }
            Namespace::GroupInfo | Namespace::GroupMembers => {
                self.receive_config(group, ns, messages, true);
            }
            _ => {}
        }
    }

    fn receive_keys(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        messages: &[RawMessage],
    ) {
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        let mut new = Vec::new();
        for m in messages {
            let outcome = match &g.role {
                Role::Admin(keys) => g.ring.load_as_admin(keys, &m.data, m.timestamp_ms),
                Role::Member(_) => g.ring.load_as_member(&self.keys, &m.data, m.timestamp_ms),
            };
            match outcome {
                Ok(LoadOutcome::NewKeys { generation }) => new.push(generation),
                Ok(_) => {}
                Err(_) => self.events.push_back(GroupEvent::Refused {
                    group,
                    namespace: Namespace::GroupKeys,
                    hash: m.hash.clone(),
                }),
            }
        }
        let removed = g.admin().is_none() && g.ring.is_removed();
        if removed {
            self.mark_removed(group);
        }
        if new.is_empty() {
            return;
        }
        for generation in new {
            self.events
                .push_back(GroupEvent::NewKeys { group, generation });
        }
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        if !g.joined {
            g.joined = true;
            self.events.push_back(GroupEvent::Joined { group });
        }
        // Whatever waited for a key gets another try, configs first (they say who is in).
        let waiting: Vec<(Namespace, RawMessage, bool)> = g.waiting.drain(..).collect();
        let respond = core::mem::take(&mut g.respond) && !removed;
        let mut configs: BTreeMap<Namespace, Vec<RawMessage>> = BTreeMap::new();
        let mut msgs = Vec::new();
        for (ns, m, reported) in waiting {
            if ns == Namespace::GroupMessages {
                msgs.push((m, reported));
            } else {
                configs.entry(ns).or_default().push(m);
            }
        }
        for (ns, ms) in configs {
            self.receive_config(group, ns, ms, false);
        }
        for (m, reported) in msgs {
            self.receive_message(client, now_ms, group, m, reported);
        }
        if respond {
            let answer = Content::new(Message::GroupUpdate(GroupUpdate::InviteResponse {
                approved: true,
            }));
            let _ = self.send_group_content(client, now_ms, &group, &answer, Pending::Other);
        }
    }

    fn mark_removed(&mut self, group: GroupId) {
        if let Some(g) = self.groups.get_mut(&group)
            && !g.removed
        {
            g.removed = true;
            self.events.push_back(GroupEvent::Removed { group });
        }
    }

    /// Info or Members messages: loaded (members verify under the group key and keep the
    /// highest valid message; admins merge). What no key opens waits for keys once; what
    /// still fails after that is refused.
    fn receive_config(
        &mut self,
        group: GroupId,
        ns: Namespace,
        messages: Vec<RawMessage>,
        first: bool,
    ) {
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        let data: Vec<&[u8]> = messages.iter().map(|m| m.data.as_slice()).collect();
        let result = if ns == Namespace::GroupInfo {
            g.info.load(&g.ring, &data)
        } else {
            g.members.load(&g.ring, &data)
        };
        for (m, ok) in messages.iter().zip(&result.accepted) {
            if *ok {
                continue;
            }
            if first {
                push_waiting(&mut g.waiting, (ns, m.clone(), false));
            } else {
                self.events.push_back(GroupEvent::Refused {
                    group,
                    namespace: ns,
                    hash: m.hash.clone(),
                });
            }
        }
        if result.changed {
            if ns == Namespace::GroupInfo {
                if let Some(name) = g.info.name() {
                    g.name = name;
                }
                self.events.push_back(GroupEvent::InfoChanged { group });
            } else {
                self.events.push_back(GroupEvent::MembersChanged { group });
            }
        }
    }

    /// One group message: opened and verified, then reported by what it carries.
    /// `reported`: already reported as undecryptable.
    fn receive_message(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        group: GroupId,
        m: RawMessage,
        reported: bool,
    ) {
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        let r = match decrypt_content(&g.ring, &m.data) {
            Ok(r) => r,
            Err(_) => {
                // Without any key nothing is wrong yet: the keys message may come next.
                let report = !reported && !g.ring.is_empty();
                if report {
                    self.events.push_back(GroupEvent::Undecryptable {
                        group,
                        hash: m.hash.clone(),
                    });
                }
                push_waiting(
                    &mut g.waiting,
                    (Namespace::GroupMessages, m, reported || report),
                );
                return;
            }
        };
        let is_admin = g.admin().is_some();
        let refused = |events: &mut VecDeque<GroupEvent>, hash: &MessageHash| {
            events.push_back(GroupEvent::Refused {
                group,
                namespace: Namespace::GroupMessages,
                hash: hash.clone(),
            });
        };
        if let Message::GroupUpdate(update) = &r.content.message {
            match update {
                GroupUpdate::MemberChange { kind, members, .. } => {
                    if verify_update(&group, update, r.sent_at_ms).is_ok() {
                        self.events.push_back(GroupEvent::MemberChange {
                            group,
                            kind: *kind,
                            members: members.clone(),
                            by: r.sender,
                        });
                    } else {
                        refused(&mut self.events, &m.hash);
                    }
                    return;
                }
                GroupUpdate::InfoChange { .. } => {
                    if verify_update(&group, update, r.sent_at_ms).is_ok() {
                        self.events.push_back(GroupEvent::InfoChanged { group });
                    } else {
                        refused(&mut self.events, &m.hash);
                    }
                    return;
                }
                GroupUpdate::MemberLeft | GroupUpdate::MemberLeftNotification => {
                    self.events.push_back(GroupEvent::MemberLeft {
                        group,
                        member: r.sender,
                    });
                    return;
                }
                GroupUpdate::InviteResponse { approved } => {
                    self.events.push_back(GroupEvent::InviteResponse {
                        group,
                        member: r.sender,
                        approved: *approved,
                    });
                    // The admin records the acceptance (invite status cleared).
                    if is_admin
                        && *approved
                        && let Some(mut member) = g.members.get(&r.sender)
                        && member.invite_status.is_some()
                    {
                        member.invite_status = None;
                        g.members.set(&member);
                        let _ = self.push_config(client, now_ms, group, Cfg::Members);
                    }
                    return;
                }
                GroupUpdate::DeleteMemberContent { .. }
                    if verify_update(&group, update, r.sent_at_ms).is_err() =>
                {
                    refused(&mut self.events, &m.hash);
                    return;
                }
                _ => {}
            }
        }
        self.events
            .push_back(GroupEvent::Message(Box::new(GroupMessage {
                group,
                hash: m.hash,
                sender: r.sender,
                content: r.content,
                sent_at_ms: r.sent_at_ms,
                generation: r.generation,
            })));
    }

    /// The next event, if any.
    ///
    /// ```
    /// assert!(metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).poll_event().is_none());
    /// ```
    pub fn poll_event(&mut self) -> Option<GroupEvent> {
        self.events.pop_front()
    }

    /// The groups held (created, joined, restored), in id order.
    ///
    /// ```
    /// assert!(metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).groups().is_empty());
    /// ```
    pub fn groups(&self) -> Vec<GroupId> {
        self.groups.keys().copied().collect()
    }

    /// The group's name (from Info once read; the invitation's before).
    ///
    /// ```
    /// let g = metaless_group::GroupKeys::from_seed([1; 32]).group_id();
    /// assert_eq!(metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).name(&g), None);
    /// ```
    pub fn name(&self, group: &GroupId) -> Option<String> {
        self.groups.get(group).map(|g| g.name.clone())
    }

    /// The Members list as last read or written.
    ///
    /// ```
    /// let g = metaless_group::GroupKeys::from_seed([1; 32]).group_id();
    /// assert!(metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).members(&g).is_empty());
    /// ```
    pub fn members(&self, group: &GroupId) -> Vec<Member> {
        self.groups
            .get(group)
            .map(|g| g.members.list())
            .unwrap_or_default()
    }

    /// Whether this account holds the group's key (admin).
    ///
    /// ```
    /// let g = metaless_group::GroupKeys::from_seed([1; 32]).group_id();
    /// assert!(!metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).is_admin(&g));
    /// ```
    pub fn is_admin(&self, group: &GroupId) -> bool {
        self.groups.get(group).is_some_and(|g| g.admin().is_some())
    }

    /// Whether a group key is held (created here, or the keys message read).
    ///
    /// ```
    /// let g = metaless_group::GroupKeys::from_seed([1; 32]).group_id();
    /// assert!(!metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).is_synced(&g));
    /// ```
    pub fn is_synced(&self, group: &GroupId) -> bool {
        self.groups.get(group).is_some_and(|g| !g.ring.is_empty())
    }

    /// Whether this account was removed from the group.
    ///
    /// ```
    /// let g = metaless_group::GroupKeys::from_seed([1; 32]).group_id();
    /// assert!(!metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).is_removed(&g));
    /// ```
    pub fn is_removed(&self, group: &GroupId) -> bool {
        self.groups.get(group).is_some_and(|g| g.removed)
    }

    /// How this account signs for the group's swarm (an admin with the group key, a member
    /// with its sub-account token), for requests outside this layer such as
    /// [`Client::swarm_retrieve`] of a namespace.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let g = groups.create(&mut client, 1_700_000_000_000, "G", &[]).unwrap();
    /// let account = groups.account(&g).unwrap();
    /// assert_eq!(account.pubkey(&metaless_swarm::UserPubkey::new(5, [0; 32])), g.swarm_pubkey());
    /// ```
    pub fn account(&self, group: &GroupId) -> Option<SwarmAccount> {
        self.groups.get(group).map(|g| g.account.clone())
    }

    /// The newest key generation held.
    ///
    /// ```
    /// let g = metaless_group::GroupKeys::from_seed([1; 32]).group_id();
    /// assert_eq!(metaless_client::Groups::new(&metaless_identity::Seed::from_bytes([1; 32]), [0; 32]).generation(&g), None);
    /// ```
    pub fn generation(&self, group: &GroupId) -> Option<u64> {
        self.groups
            .get(group)
            .and_then(|g| g.ring.current().ok())
            .map(|k| k.generation())
    }

    /// The group's UserGroups entry: the seed for an admin (`K`), the auth data for a member
    /// (`s`), the name. Holds secrets: store it like the account seed.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let g = groups.create(&mut client, 1_700_000_000_000, "G", &[]).unwrap();
    /// let entry = groups.entry(&g, 1_700_000_000).unwrap();
    /// assert!(entry.secret_seed.is_some() && entry.auth_data.is_none());
    /// assert_eq!(entry.id, g.to_bytes());
    /// ```
    pub fn entry(&self, group: &GroupId, joined_s: i64) -> Option<GroupEntry> {
        let g = self.groups.get(group)?;
        let (secret_seed, auth_data) = match &g.role {
            Role::Admin(k) => (Some(*k.expose_seed()), None),
            Role::Member(a) => (None, Some(a.as_bytes().to_vec())),
        };
        Some(GroupEntry {
            id: group.to_bytes(),
            secret_seed,
            auth_data,
            name: Some(g.name.clone()),
            removed: i64::from(g.removed),
            common: metaless_config::views::GroupCommon {
                joined_s,
                ..Default::default()
            },
        })
    }

    /// Records `group` in the account's UserGroups config (namespace 5) and pushes it.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ConfigSync, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let mut sync = ConfigSync::new(&seed);
    /// let g = groups.create(&mut client, 1_700_000_000_000, "G", &[]).unwrap();
    /// groups.record_in(&mut sync, &mut client, 1_700_000_000_000, &g).unwrap();
    /// assert_eq!(sync.user_groups().groups[0].name.as_deref(), Some("G"));
    /// groups.forget_in(&mut sync, &mut client, 1_700_000_000_000, &g).unwrap();
    /// assert!(sync.user_groups().groups.is_empty());
    /// ```
    pub fn record_in(
        &self,
        sync: &mut ConfigSync,
        client: &mut Client,
        now_ms: u64,
        group: &GroupId,
    ) -> Result<(), GroupsError> {
        let joined = i64::try_from(client.network_now(now_ms) / 1000).unwrap_or(i64::MAX);
        let entry = self.entry(group, joined).ok_or(GroupsError::UnknownGroup)?;
        sync.edit(client, now_ms, Kind::UserGroups, |d| entry.write(d))?;
        Ok(())
    }

    /// Removes `group` from the account's UserGroups config and pushes it.
    pub fn forget_in(
        &self,
        sync: &mut ConfigSync,
        client: &mut Client,
        now_ms: u64,
        group: &GroupId,
    ) -> Result<bool, GroupsError> {
        let id = group.to_bytes();
        Ok(sync.edit(client, now_ms, Kind::UserGroups, |d| {
            metaless_config::views::UserGroups::remove_group(d, &id)
        })?)
    }

    /// Takes up every group of a UserGroups config (a restored device): admins from their
    /// seed, members from their auth data. Returns the groups taken up; entries that do not
    /// verify are skipped.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ConfigSync, Groups};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let seed = Seed::from_bytes([1; 32]);
    /// # let mut client = Client::new(Keypair::from_seed(&seed),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let mut groups = Groups::new(&seed, [7; 32]);
    /// let mut sync = ConfigSync::new(&seed);
    /// let g = groups.create(&mut client, 1_700_000_000_000, "G", &[]).unwrap();
    /// groups.record_in(&mut sync, &mut client, 1_700_000_000_000, &g).unwrap();
    /// let mut restored = Groups::new(&seed, [8; 32]);
    /// assert_eq!(restored.restore_from(&mut client, 1_700_000_000_000, &sync.user_groups()), vec![g]);
    /// assert!(restored.is_admin(&g));
    /// ```
    pub fn restore_from(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        user_groups: &metaless_config::views::UserGroups,
    ) -> Vec<GroupId> {
        let mut out = Vec::new();
        for e in &user_groups.groups {
            let name = e.name.clone().unwrap_or_default();
            let Ok(id) = GroupId::from_bytes(&e.id) else {
                continue;
            };
            let ok = match (&e.secret_seed, &e.auth_data) {
                (Some(seed), _) => self
                    .restore_admin(client, now_ms, *seed, &name)
                    .is_ok_and(|got| got == id),
                (None, Some(auth)) => MemberAuth::from_bytes(auth).is_ok_and(|auth| {
                    self.restore_member(client, now_ms, id, &auth, &name)
                        .is_ok()
                }),
                (None, None) => false,
            };
            if ok {
                out.push(id);
            }
        }
        out
    }
}

fn push_waiting(
    waiting: &mut VecDeque<(Namespace, RawMessage, bool)>,
    item: (Namespace, RawMessage, bool),
) {
    if waiting.len() >= MAX_WAITING {
        waiting.pop_front();
    }
    waiting.push_back(item);
}
