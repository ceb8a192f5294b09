//! The parts of a visible message beyond its text: attachments, quote (reply), link previews,
//! reactions, community invitations, and the sender's profile.
//!
//! Field numbers: `DataMessage` in libsession-util `proto/SessionProtos.proto` (same numbers in
//! session-desktop `protos/SignalService.proto`): attachments 2, profileKey 6, quote 8
//! `{id 1, author 2, text 3, attachments 4}`, preview 10 `{url 1, title 2, image 3}`, reaction 11
//! `{id 1, author 2, emoji 3, action 4}`, profile 101 `{displayName 1, profilePicture 2,
//! lastUpdateSeconds 3}`, openGroupInvitation 102 `{url 1, name 3}`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use metaless_identity::SessionId;

use crate::attachment::AttachmentPointer;
use crate::proto::session as pb;
use crate::secret::SecretBytes;

/// A visible message with more than text: attachments, a quote, link previews.
///
/// A `VisibleMessage` with none of those encodes exactly like [`crate::Message::Text`] and
/// decodes as that.
///
/// ```
/// use metaless_envelope::{AttachmentPointer, Content, Message, SecretBytes};
/// let pointer = AttachmentPointer::new("http://filev2.getsession.org/file/5", SecretBytes::new(vec![1; 32]), 10);
/// let content = Content::text("look").with_attachment(pointer.clone());
/// let Message::Visible(visible) = &content.message else { panic!() };
/// assert_eq!(visible.body.as_deref(), Some("look"));
/// assert_eq!(visible.attachments, vec![pointer]);
/// assert_eq!(Content::decode(&content.encode(1)), Ok(content));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisibleMessage {
    /// The text (`body`, field 1), if any.
    pub body: Option<String>,
    /// Attachments (field 2), in order.
    pub attachments: Vec<AttachmentPointer>,
    /// The message this one replies to (field 8).
    pub quote: Option<Quote>,
    /// Link previews (field 10).
    pub previews: Vec<LinkPreview>,
}

impl VisibleMessage {
    /// Whether this carries only text (and so is a [`crate::Message::Text`] on the wire).
    ///
    /// ```
    /// let v = metaless_envelope::VisibleMessage { body: Some("x".into()), ..Default::default() };
    /// assert!(v.is_plain());
    /// ```
    pub fn is_plain(&self) -> bool {
        self.attachments.is_empty() && self.quote.is_none() && self.previews.is_empty()
    }

    pub(crate) fn fill(&self, data: &mut pb::DataMessage) {
        data.body.clone_from(&self.body);
        data.attachments = self
            .attachments
            .iter()
            .map(AttachmentPointer::to_raw)
            .collect();
        data.quote = self.quote.as_ref().map(Quote::to_raw);
        data.preview = self.previews.iter().map(LinkPreview::to_raw).collect();
    }

    pub(crate) fn from_raw(data: &pb::DataMessage) -> Option<Self> {
        Some(Self {
            body: data.body.clone(),
            attachments: data
                .attachments
                .iter()
                .map(AttachmentPointer::from_raw)
                .collect(),
            quote: match &data.quote {
                Some(quote) => Some(Quote::from_raw(quote)?),
                None => None,
            },
            previews: data.preview.iter().map(LinkPreview::from_raw).collect(),
        })
    }
}

/// A reply's reference to the quoted message (`DataMessage.quote`, field 8).
///
/// ```
/// use metaless_envelope::{Content, Quote};
/// use metaless_identity::{Keypair, Seed};
/// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
/// let reply = Content::text("yes").with_quote(Quote::new(1_700_000_000_000, bob));
/// assert_eq!(Content::decode(&reply.encode(1)), Ok(reply));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// Field 1: the quoted message's sent timestamp (ms): how clients find it.
    pub timestamp_ms: u64,
    /// Field 2: the quoted message's author.
    pub author: SessionId,
    /// Field 3: a copy of the quoted text (libsession; desktop no longer sends it).
    pub text: Option<String>,
    /// Field 4: what the quoted message's attachments were (libsession; desktop reserves it).
    pub attachments: Vec<QuotedAttachment>,
}

impl Quote {
    /// A quote of `author`'s message sent at `timestamp_ms`, without copies of its text or
    /// attachments (what desktop sends).
    pub fn new(timestamp_ms: u64, author: SessionId) -> Self {
        Self {
            timestamp_ms,
            author,
            text: None,
            attachments: Vec::new(),
        }
    }

    fn to_raw(&self) -> pb::data_message::Quote {
        pb::data_message::Quote {
            id: self.timestamp_ms,
            author: self.author.to_string(),
            text: self.text.clone(),
            attachments: self
                .attachments
                .iter()
                .map(|a| pb::data_message::quote::QuotedAttachment {
                    content_type: a.content_type.clone(),
                    file_name: a.file_name.clone(),
                    thumbnail: a.thumbnail.as_ref().map(AttachmentPointer::to_raw),
                    flags: a.flags,
                })
                .collect(),
        }
    }

    fn from_raw(raw: &pb::data_message::Quote) -> Option<Self> {
        Some(Self {
            timestamp_ms: raw.id,
            author: raw.author.parse().ok()?,
            text: raw.text.clone(),
            attachments: raw
                .attachments
                .iter()
                .map(|a| QuotedAttachment {
                    content_type: a.content_type.clone(),
                    file_name: a.file_name.clone(),
                    thumbnail: a.thumbnail.as_ref().map(AttachmentPointer::from_raw),
                    flags: a.flags,
                })
                .collect(),
        })
    }
}

/// A quoted message's attachment, as described in the quote (`Quote.attachments`, field 4).
///
/// ```
/// let a = metaless_envelope::QuotedAttachment { content_type: Some("image/png".into()), ..Default::default() };
/// assert!(a.thumbnail.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuotedAttachment {
    /// Field 1: MIME type.
    pub content_type: Option<String>,
    /// Field 2: file name.
    pub file_name: Option<String>,
    /// Field 3: a thumbnail pointer.
    pub thumbnail: Option<AttachmentPointer>,
    /// Field 4: flags (voice message = 1).
    pub flags: Option<u32>,
}

/// A link preview (`DataMessage.preview`, field 10).
///
/// ```
/// let p = metaless_envelope::LinkPreview { url: "https://getsession.org".into(), title: None, image: None };
/// assert_eq!(p.url, "https://getsession.org");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreview {
    /// Field 1 (required): the previewed URL.
    pub url: String,
    /// Field 2: page title.
    pub title: Option<String>,
    /// Field 3: preview image.
    pub image: Option<AttachmentPointer>,
}

impl LinkPreview {
    fn to_raw(&self) -> pb::data_message::Preview {
        pb::data_message::Preview {
            url: self.url.clone(),
            title: self.title.clone(),
            image: self.image.as_ref().map(AttachmentPointer::to_raw),
        }
    }

    fn from_raw(raw: &pb::data_message::Preview) -> Self {
        Self {
            url: raw.url.clone(),
            title: raw.title.clone(),
            image: raw.image.as_ref().map(AttachmentPointer::from_raw),
        }
    }
}

/// An emoji reaction to a message (`DataMessage.reaction`, field 11).
///
/// ```
/// use metaless_envelope::{Content, Message, Reaction, ReactionAction};
/// use metaless_identity::{Keypair, Seed};
/// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
/// let like = Content::new(Message::Reaction(Reaction { timestamp_ms: 7, author: bob, emoji: "👍".into(), action: ReactionAction::React }));
/// assert_eq!(Content::decode(&like.encode(8)), Ok(like));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// Field 1: sent timestamp (ms) of the message reacted to.
    pub timestamp_ms: u64,
    /// Field 2: that message's author.
    pub author: SessionId,
    /// Field 3: the emoji.
    pub emoji: String,
    /// Field 4: add or remove.
    pub action: ReactionAction,
}

/// Whether a [`Reaction`] adds or removes the emoji.
///
/// ```
/// assert_ne!(metaless_envelope::ReactionAction::React, metaless_envelope::ReactionAction::Remove);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReactionAction {
    /// `REACT` (0).
    React,
    /// `REMOVE` (1).
    Remove,
}

impl Reaction {
    pub(crate) fn to_raw(&self) -> pb::data_message::Reaction {
        pb::data_message::Reaction {
            id: self.timestamp_ms,
            author: self.author.to_string(),
            emoji: Some(self.emoji.clone()),
            action: match self.action {
                ReactionAction::React => pb::data_message::reaction::Action::React,
                ReactionAction::Remove => pb::data_message::reaction::Action::Remove,
            } as i32,
        }
    }

    pub(crate) fn from_raw(raw: &pb::data_message::Reaction) -> Option<Self> {
        Some(Self {
            timestamp_ms: raw.id,
            author: raw.author.parse().ok()?,
            emoji: raw.emoji.clone()?,
            action: match pb::data_message::reaction::Action::try_from(raw.action).ok()? {
                pb::data_message::reaction::Action::React => ReactionAction::React,
                pb::data_message::reaction::Action::Remove => ReactionAction::Remove,
            },
        })
    }
}

/// The sender's profile, attached to visible messages (`DataMessage.profile` 101 +
/// `profileKey` 6) and to message-request responses (`profile` 3 + `profileKey` 2).
///
/// Receivers keep the profile with the newest [`Profile::updated_s`].
///
/// ```
/// use metaless_envelope::{Content, Profile, SecretBytes};
/// let me = Profile {
///     display_name: Some("Alice".into()),
///     picture_url: Some("http://filev2.getsession.org/file/77".into()),
///     key: Some(SecretBytes::new(vec![3; 32])),
///     updated_s: Some(1_700_000_000),
/// };
/// let content = Content::text("hi").with_profile(me.clone());
/// assert_eq!(Content::decode(&content.encode(1)).unwrap().profile, Some(me));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// `displayName` (1).
    pub display_name: Option<String>,
    /// `profilePicture` (2): the avatar's file-server URL.
    pub picture_url: Option<String>,
    /// `profileKey`: the 32-byte key that decrypts the avatar.
    pub key: Option<SecretBytes>,
    /// `lastUpdateSeconds` (3): when the profile last changed (unix seconds).
    pub updated_s: Option<u64>,
}

impl Profile {
    pub(crate) fn to_raw(&self) -> (Option<pb::LokiProfile>, Option<Vec<u8>>) {
        let loki =
            (self.display_name.is_some() || self.picture_url.is_some() || self.updated_s.is_some())
                .then(|| pb::LokiProfile {
                    display_name: self.display_name.clone(),
                    profile_picture: self.picture_url.clone(),
                    last_update_seconds: self.updated_s,
                });
        (loki, self.key.as_ref().map(SecretBytes::to_vec))
    }

    pub(crate) fn from_raw(loki: Option<&pb::LokiProfile>, key: Option<&[u8]>) -> Option<Self> {
        if loki.is_none() && key.is_none() {
            return None;
        }
        Some(Self {
            display_name: loki.and_then(|p| p.display_name.clone()),
            picture_url: loki.and_then(|p| p.profile_picture.clone()),
            key: key.map(SecretBytes::from),
            updated_s: loki.and_then(|p| p.last_update_seconds),
        })
    }
}

/// An invitation to a community (`DataMessage.openGroupInvitation`, field 102).
///
/// ```
/// use metaless_envelope::{CommunityInvitation, Content, Message};
/// let invite = Content::new(Message::CommunityInvitation(CommunityInvitation {
///     url: "https://open.getsession.org/session?public_key=a03c".into(),
///     name: "Session".into(),
/// }));
/// assert_eq!(Content::decode(&invite.encode(1)), Ok(invite));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityInvitation {
    /// Field 1: the community's join URL.
    pub url: String,
    /// Field 3: its name.
    pub name: String,
}
