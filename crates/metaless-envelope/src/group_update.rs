//! `GroupUpdateMessage` (`DataMessage` field 120): the control messages of groups v2.
//!
//! Field numbers: libsession-util `proto/SessionProtos.proto` / session-desktop
//! `protos/SignalService.proto` (`GroupUpdate*Message`). This module only carries the fields;
//! checking the admin signatures (over `"INVITE" ‖ invitee ‖ ts` and the like) is
//! `metaless-group`'s job, because it needs the group key.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use metaless_identity::SessionId;

use crate::proto::session as pb;
use crate::secret::SecretBytes;

/// One group control message. Each variant is one sub-message of `GroupUpdateMessage`
/// (field number in brackets).
///
/// ```
/// use metaless_envelope::{Content, GroupUpdate, Message};
/// let leave = Content::new(Message::GroupUpdate(GroupUpdate::MemberLeft));
/// assert_eq!(Content::decode(&leave.encode(1)), Ok(leave));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupUpdate {
    /// \[1\] Invitation of the recipient into a group, sent one-to-one.
    Invite {
        /// `groupSessionId`: the group's `03` id.
        group_id: SessionId,
        /// Group name.
        name: String,
        /// The 100-byte sub-account auth data the admin made for the invitee.
        member_auth_data: SecretBytes,
        /// Admin signature over `"INVITE" ‖ invitee id hex ‖ sent ts`.
        admin_signature: [u8; 64],
    },
    /// \[2\] A change of the group's name, avatar or disappearing setting.
    InfoChange {
        /// What changed.
        kind: InfoChangeKind,
        /// The new name, for [`InfoChangeKind::Name`].
        updated_name: Option<String>,
        /// The new timer (s), for [`InfoChangeKind::DisappearingMessages`].
        updated_expiration_s: Option<u32>,
        /// Admin signature over `"INFO_CHANGE" ‖ type number ‖ sent ts`.
        admin_signature: [u8; 64],
    },
    /// \[3\] Members added, removed or promoted.
    MemberChange {
        /// What happened.
        kind: MemberChangeKind,
        /// The members concerned.
        members: Vec<SessionId>,
        /// Whether added members were given the history.
        history_shared: Option<bool>,
        /// Admin signature over `"MEMBER_CHANGE" ‖ type number ‖ sent ts`.
        admin_signature: [u8; 64],
    },
    /// \[4\] Promotion of the recipient to admin: the group's 32-byte identity seed.
    Promote {
        /// `groupIdentitySeed`.
        group_seed: SecretBytes,
        /// Group name.
        name: String,
    },
    /// \[5\] The sender left (the sender is known from the group message's signature).
    MemberLeft,
    /// \[6\] The sender's answer to an invitation.
    InviteResponse {
        /// Whether the invitation was accepted.
        approved: bool,
    },
    /// \[7\] Delete these members' messages and/or these messages.
    DeleteMemberContent {
        /// Members whose messages to delete.
        members: Vec<SessionId>,
        /// Storage hashes of messages to delete.
        message_hashes: Vec<String>,
        /// Admin signature over `"DELETE_CONTENT" ‖ ts ‖ ids ‖ hashes` (absent when a member
        /// deletes its own messages).
        admin_signature: Option<[u8; 64]>,
    },
    /// \[8\] Notice (to the group) that the sender left.
    MemberLeftNotification,
}

/// `GroupUpdateInfoChangeMessage.Type`.
///
/// ```
/// assert_eq!(metaless_envelope::InfoChangeKind::Avatar.number(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InfoChangeKind {
    /// `NAME` (1).
    Name,
    /// `AVATAR` (2).
    Avatar,
    /// `DISAPPEARING_MESSAGES` (3).
    DisappearingMessages,
}

impl InfoChangeKind {
    /// The enum number (what the admin signature covers, in ASCII).
    pub fn number(self) -> i32 {
        self.to_raw() as i32
    }

    fn to_raw(self) -> pb::group_update_info_change_message::Type {
        use pb::group_update_info_change_message::Type;
        match self {
            Self::Name => Type::Name,
            Self::Avatar => Type::Avatar,
            Self::DisappearingMessages => Type::DisappearingMessages,
        }
    }
}

/// `GroupUpdateMemberChangeMessage.Type`.
///
/// ```
/// assert_eq!(metaless_envelope::MemberChangeKind::Removed.number(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberChangeKind {
    /// `ADDED` (1).
    Added,
    /// `REMOVED` (2).
    Removed,
    /// `PROMOTED` (3).
    Promoted,
}

impl MemberChangeKind {
    /// The enum number (what the admin signature covers, in ASCII).
    pub fn number(self) -> i32 {
        self.to_raw() as i32
    }

    fn to_raw(self) -> pb::group_update_member_change_message::Type {
        use pb::group_update_member_change_message::Type;
        match self {
            Self::Added => Type::Added,
            Self::Removed => Type::Removed,
            Self::Promoted => Type::Promoted,
        }
    }
}

fn ids(list: &[SessionId]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

fn parse_ids(list: &[String]) -> Option<Vec<SessionId>> {
    list.iter().map(|id| id.parse().ok()).collect()
}

fn signature(bytes: &[u8]) -> Option<[u8; 64]> {
    bytes.try_into().ok()
}

impl GroupUpdate {
    pub(crate) fn to_raw(&self) -> pb::GroupUpdateMessage {
        let mut raw = pb::GroupUpdateMessage::default();
        match self {
            Self::Invite {
                group_id,
                name,
                member_auth_data,
                admin_signature,
            } => {
                raw.invite_message = Some(pb::GroupUpdateInviteMessage {
                    group_session_id: group_id.to_string(),
                    name: name.clone(),
                    member_auth_data: member_auth_data.to_vec(),
                    admin_signature: admin_signature.to_vec(),
                });
            }
            Self::InfoChange {
                kind,
                updated_name,
                updated_expiration_s,
                admin_signature,
            } => {
                raw.info_change_message = Some(pb::GroupUpdateInfoChangeMessage {
                    r#type: kind.number(),
                    updated_name: updated_name.clone(),
                    updated_expiration: *updated_expiration_s,
                    admin_signature: admin_signature.to_vec(),
                });
            }
            Self::MemberChange {
                kind,
                members,
                history_shared,
                admin_signature,
            } => {
                raw.member_change_message = Some(pb::GroupUpdateMemberChangeMessage {
                    r#type: kind.number(),
                    member_session_ids: ids(members),
                    history_shared: *history_shared,
                    admin_signature: admin_signature.to_vec(),
                });
            }
            Self::Promote { group_seed, name } => {
                raw.promote_message = Some(pb::GroupUpdatePromoteMessage {
                    group_identity_seed: group_seed.to_vec(),
                    name: name.clone(),
                });
            }
            Self::MemberLeft => raw.member_left_message = Some(Default::default()),
            Self::InviteResponse { approved } => {
                raw.invite_response = Some(pb::GroupUpdateInviteResponseMessage {
                    is_approved: *approved,
                });
            }
            Self::DeleteMemberContent {
                members,
                message_hashes,
                admin_signature,
            } => {
                raw.delete_member_content = Some(pb::GroupUpdateDeleteMemberContentMessage {
                    member_session_ids: ids(members),
                    message_hashes: message_hashes.clone(),
                    admin_signature: admin_signature.map(|s| s.to_vec()),
                });
            }
            Self::MemberLeftNotification => {
                raw.member_left_notification_message = Some(Default::default());
            }
        }
        raw
    }

    /// The domain view of a `GroupUpdateMessage` carrying exactly one well-formed sub-message.
    pub(crate) fn from_raw(raw: &pb::GroupUpdateMessage) -> Option<Self> {
        let set = [
            raw.invite_message.is_some(),
            raw.info_change_message.is_some(),
            raw.member_change_message.is_some(),
            raw.promote_message.is_some(),
            raw.member_left_message.is_some(),
            raw.invite_response.is_some(),
            raw.delete_member_content.is_some(),
            raw.member_left_notification_message.is_some(),
        ];
        if set.iter().filter(|&&s| s).count() != 1 {
            return None;
        }
        if let Some(m) = &raw.invite_message {
            let group_id: SessionId = m.group_session_id.parse().ok()?;
            if group_id.prefix() != metaless_identity::SessionIdPrefix::Group {
                return None;
            }
            return Some(Self::Invite {
                group_id,
                name: m.name.clone(),
                member_auth_data: SecretBytes::from(m.member_auth_data.as_slice()),
                admin_signature: signature(&m.admin_signature)?,
            });
        }
        if let Some(m) = &raw.info_change_message {
            use pb::group_update_info_change_message::Type;
            return Some(Self::InfoChange {
                kind: match Type::try_from(m.r#type).ok()? {
                    Type::Name => InfoChangeKind::Name,
                    Type::Avatar => InfoChangeKind::Avatar,
                    Type::DisappearingMessages => InfoChangeKind::DisappearingMessages,
                },
                updated_name: m.updated_name.clone(),
                updated_expiration_s: m.updated_expiration,
                admin_signature: signature(&m.admin_signature)?,
            });
        }
        if let Some(m) = &raw.member_change_message {
            use pb::group_update_member_change_message::Type;
            return Some(Self::MemberChange {
                kind: match Type::try_from(m.r#type).ok()? {
                    Type::Added => MemberChangeKind::Added,
                    Type::Removed => MemberChangeKind::Removed,
                    Type::Promoted => MemberChangeKind::Promoted,
                },
                members: parse_ids(&m.member_session_ids)?,
                history_shared: m.history_shared,
                admin_signature: signature(&m.admin_signature)?,
            });
        }
        if let Some(m) = &raw.promote_message {
            if m.group_identity_seed.len() != 32 {
                return None;
            }
            return Some(Self::Promote {
                group_seed: SecretBytes::from(m.group_identity_seed.as_slice()),
                name: m.name.clone(),
            });
        }
        if raw.member_left_message.is_some() {
            return Some(Self::MemberLeft);
        }
        if let Some(m) = &raw.invite_response {
            return Some(Self::InviteResponse {
                approved: m.is_approved,
            });
        }
        if let Some(m) = &raw.delete_member_content {
            return Some(Self::DeleteMemberContent {
                members: parse_ids(&m.member_session_ids)?,
                message_hashes: m.message_hashes.clone(),
                admin_signature: match &m.admin_signature {
                    Some(sig) => Some(signature(sig)?),
                    None => None,
                },
            });
        }
        Some(Self::MemberLeftNotification)
    }
}
