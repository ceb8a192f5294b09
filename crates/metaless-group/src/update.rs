//! `GroupUpdateMessage` handling: the admin signatures that make invites, info changes, member
//! changes and content deletions authoritative, and accepting an invite. The message types
//! themselves are `metaless_envelope::GroupUpdate`; this module holds what needs the group key.
//!
//! Signed strings (ASCII, `ts` = the message's sent timestamp in ms, decimal):
//! `"INVITE" ‖ invitee id hex ‖ ts`, `"INFO_CHANGE" ‖ type ‖ ts`, `"MEMBER_CHANGE" ‖ type ‖ ts`,
//! `"DELETE_CONTENT" ‖ ts ‖ ids hex… ‖ hashes…`.

use alloc::string::String;
use alloc::vec::Vec;

use metaless_envelope::{GroupUpdate, InfoChangeKind, MemberChangeKind, SecretBytes};
use metaless_identity::{Keypair, SessionId, SessionIdPrefix, verify_ed25519};

use crate::{GroupError, GroupId, GroupKeys, MemberAuth, MemberSigner, Permissions};

fn invite_text(invitee: &SessionId, sent_ms: u64) -> Vec<u8> {
    alloc::format!("INVITE{invitee}{sent_ms}").into_bytes()
}

fn info_text(kind: InfoChangeKind, sent_ms: u64) -> Vec<u8> {
    alloc::format!("INFO_CHANGE{}{sent_ms}", kind.number()).into_bytes()
}

fn member_text(kind: MemberChangeKind, sent_ms: u64) -> Vec<u8> {
    alloc::format!("MEMBER_CHANGE{}{sent_ms}", kind.number()).into_bytes()
}

fn delete_text(sent_ms: u64, members: &[SessionId], hashes: &[String]) -> Vec<u8> {
    let mut s = alloc::format!("DELETE_CONTENT{sent_ms}");
    for m in members {
        s.push_str(&alloc::format!("{m}"));
    }
    for h in hashes {
        s.push_str(h);
    }
    s.into_bytes()
}

/// An invitation for `invitee` (sent one-to-one, namespace 0): the group id and name, the
/// invitee's auth data, and the admin signature over `"INVITE" ‖ invitee ‖ sent_ms`.
///
/// ```
/// use metaless_group::{accept_invite, make_invite, GroupKeys, Permissions};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
/// let invite = make_invite(&group, "Friends", &bob.session_id(), Permissions::default(), 1_700_000_000_000)?;
/// let joined = accept_invite(&bob, &invite, 1_700_000_000_000)?;
/// assert_eq!(joined.group, group.group_id());
/// assert_eq!(joined.name, "Friends");
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn make_invite(
    group: &GroupKeys,
    name: &str,
    invitee: &SessionId,
    permissions: Permissions,
    sent_ms: u64,
) -> Result<GroupUpdate, GroupError> {
    let auth = MemberAuth::issue(group, invitee, permissions)?;
    Ok(GroupUpdate::Invite {
        group_id: group.group_id().session_id()?,
        name: name.into(),
        member_auth_data: SecretBytes::new(auth.as_bytes().to_vec()),
        admin_signature: group.sign(&invite_text(invitee, sent_ms)),
    })
}

/// A verified invitation, ready to use.
#[derive(Debug)]
pub struct Invitation {
    /// The group.
    pub group: GroupId,
    /// Its name as the invite gave it.
    pub name: String,
    /// The auth data (keep it: it goes in the user-groups config).
    pub auth: MemberAuth,
    /// The storage-RPC signer bound to our key.
    pub signer: MemberSigner,
}

/// Checks an invite sent to `me` at `sent_ms` (the message's signed timestamp): the admin
/// signature under the group key ([`GroupError::BadSignature`]) and the auth data's token
/// signature ([`GroupError::BadTokenSignature`]).
pub fn accept_invite(
    me: &Keypair,
    update: &GroupUpdate,
    sent_ms: u64,
) -> Result<Invitation, GroupError> {
    let GroupUpdate::Invite {
        group_id,
        name,
        member_auth_data,
        admin_signature,
    } = update
    else {
        return Err(GroupError::Malformed("not an invite"));
    };
    if group_id.prefix() != SessionIdPrefix::Group {
        return Err(GroupError::InvalidGroupId);
    }
    let group = GroupId::from_ed25519(*group_id.key())?;
    verify_ed25519(
        &group.ed25519(),
        &invite_text(&me.session_id(), sent_ms),
        admin_signature,
    )
    .map_err(|_| GroupError::BadSignature)?;
    let auth = MemberAuth::from_bytes(member_auth_data.expose_secret())?;
    let signer = MemberSigner::new(me, group, &auth)?;
    Ok(Invitation {
        group,
        name: name.clone(),
        auth,
        signer,
    })
}

/// An admin-signed info change.
///
/// ```
/// use metaless_envelope::{GroupUpdate, InfoChangeKind};
/// use metaless_group::{info_change, verify_update, GroupKeys};
/// let group = GroupKeys::from_seed([1; 32]);
/// let u = info_change(&group, InfoChangeKind::Name, Some("New name".into()), None, 5);
/// assert!(verify_update(&group.group_id(), &u, 5).is_ok());
/// assert!(verify_update(&group.group_id(), &u, 6).is_err());
/// ```
pub fn info_change(
    group: &GroupKeys,
    kind: InfoChangeKind,
    updated_name: Option<String>,
    updated_expiration_s: Option<u32>,
    sent_ms: u64,
) -> GroupUpdate {
    GroupUpdate::InfoChange {
        kind,
        updated_name,
        updated_expiration_s,
        admin_signature: group.sign(&info_text(kind, sent_ms)),
    }
}

/// An admin-signed member change (added, removed, promoted).
///
/// ```
/// use metaless_envelope::MemberChangeKind;
/// use metaless_group::{member_change, verify_update, GroupKeys};
/// let group = GroupKeys::from_seed([1; 32]);
/// let u = member_change(&group, MemberChangeKind::Removed, vec![], None, 5);
/// assert!(verify_update(&group.group_id(), &u, 5).is_ok());
/// assert!(verify_update(&GroupKeys::from_seed([2; 32]).group_id(), &u, 5).is_err());
/// ```
pub fn member_change(
    group: &GroupKeys,
    kind: MemberChangeKind,
    members: Vec<SessionId>,
    history_shared: Option<bool>,
    sent_ms: u64,
) -> GroupUpdate {
    GroupUpdate::MemberChange {
        kind,
        members,
        history_shared,
        admin_signature: group.sign(&member_text(kind, sent_ms)),
    }
}

/// An admin-signed request to delete members' content and/or messages by hash.
///
/// ```
/// use metaless_group::{delete_member_content, verify_update, GroupKeys};
/// let group = GroupKeys::from_seed([1; 32]);
/// let u = delete_member_content(&group, vec![], vec!["abc".into()], 5);
/// assert!(verify_update(&group.group_id(), &u, 5).is_ok());
/// ```
pub fn delete_member_content(
    group: &GroupKeys,
    members: Vec<SessionId>,
    message_hashes: Vec<String>,
    sent_ms: u64,
) -> GroupUpdate {
    let sig = group.sign(&delete_text(sent_ms, &members, &message_hashes));
    GroupUpdate::DeleteMemberContent {
        members,
        message_hashes,
        admin_signature: Some(sig),
    }
}

/// Checks the admin signature of a group update received in `group` at `sent_ms`
/// ([`GroupError::BadSignature`] if it is forged, for another group or another time).
/// Invites are checked with [`accept_invite`]; updates without an admin signature (leave,
/// invite response, a member deleting its own content) pass.
pub fn verify_update(
    group: &GroupId,
    update: &GroupUpdate,
    sent_ms: u64,
) -> Result<(), GroupError> {
    let (text, sig) = match update {
        GroupUpdate::InfoChange {
            kind,
            admin_signature,
            ..
        } => (info_text(*kind, sent_ms), admin_signature),
        GroupUpdate::MemberChange {
            kind,
            admin_signature,
            ..
        } => (member_text(*kind, sent_ms), admin_signature),
        GroupUpdate::DeleteMemberContent {
            members,
            message_hashes,
            admin_signature: Some(sig),
        } => (delete_text(sent_ms, members, message_hashes), sig),
        GroupUpdate::Invite { .. } => {
            return Err(GroupError::Malformed("invite: use accept_invite"));
        }
        _ => return Ok(()),
    };
    verify_ed25519(&group.ed25519(), &text, sig).map_err(|_| GroupError::BadSignature)
}

/// Reads a promotion: the group seed it carries must give `group` (else
/// [`GroupError::InvalidGroupId`]).
///
/// ```
/// use metaless_envelope::GroupUpdate;
/// use metaless_group::{accept_promotion, GroupKeys};
/// let group = GroupKeys::from_seed([1; 32]);
/// let p = GroupUpdate::Promote { group_seed: [1u8; 32].into(), name: "g".into() };
/// assert_eq!(accept_promotion(&group.group_id(), &p)?.group_id(), group.group_id());
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn accept_promotion(group: &GroupId, update: &GroupUpdate) -> Result<GroupKeys, GroupError> {
    let GroupUpdate::Promote { group_seed, .. } = update else {
        return Err(GroupError::Malformed("not a promotion"));
    };
    let seed: [u8; 32] =
        group_seed
            .expose_secret()
            .try_into()
            .map_err(|_| GroupError::WrongLength {
                field: "group seed",
                len: group_seed.len(),
                expected: 32,
            })?;
    let keys = GroupKeys::from_seed(seed);
    if keys.group_id() != *group {
        return Err(GroupError::InvalidGroupId);
    }
    Ok(keys)
}
