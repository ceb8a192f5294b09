//! Hand-written domain types for the common kinds of `Content`.
//!
//! Decoding ([`Content::decode`]) recognises a `Content` carrying exactly one of the common payloads
//! (text, visible message with attachments / quote / previews, reaction, community invitation,
//! disappearing-setting update, receipt, typing, unsend, message-request response, screenshot /
//! media-saved notice, call signalling, group update) and the sender's profile, and keeps anything
//! else, whole, as [`Message::Other`]. A payload is recognised only when the domain view holds
//! every field it carries, so re-encoding a recognised `Content` loses nothing we understand.
//! The generated type stays available (feature `proto`) for everything these do not cover.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use metaless_identity::SessionId;
use prost::Message as _;

use crate::EnvelopeError;
use crate::attachment::AttachmentPointer;
use crate::call::CallMessage;
use crate::disappearing::Disappearing;
use crate::group_update::GroupUpdate;
use crate::proto::session as pb;
use crate::visible::{CommunityInvitation, Profile, Quote, Reaction, VisibleMessage};

/// `DataMessage.flags` bit that marks a disappearing-setting update.
const EXPIRATION_TIMER_UPDATE: u32 = pb::data_message::Flags::ExpirationTimerUpdate as u32;

/// What a one-to-one message says, plus its disappearing setting.
///
/// ```
/// use metaless_envelope::{Content, DisappearMode, Disappearing, Message};
/// let content = Content::text("hello").disappearing(Disappearing::new(DisappearMode::AfterRead, 60));
/// assert_eq!(content.message, Message::Text { body: "hello".into() });
/// let bytes = content.encode(1_000);
/// assert_eq!(Content::decode(&bytes), Ok(content));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// The payload.
    pub message: Message,
    /// The sender's disappearing-message setting, if on.
    pub disappearing: Option<Disappearing>,
    /// The sender's profile, carried by messages with a `DataMessage` and by message-request
    /// responses (ignored when encoding any other payload).
    pub profile: Option<Profile>,
}

/// The payload of a [`Content`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// A text message (`dataMessage.body`).
    Text {
        /// The text.
        body: String,
    },
    /// A change of the conversation's disappearing setting (`dataMessage.flags` =
    /// `EXPIRATION_TIMER_UPDATE`); the new setting is [`Content::disappearing`], `None` = off.
    DisappearingSettingsUpdate,
    /// Delivery or read receipt for the messages sent at these timestamps.
    Receipt {
        /// Delivery or read.
        kind: ReceiptKind,
        /// Sent timestamps (ms) of the acknowledged messages.
        timestamps_ms: Vec<u64>,
    },
    /// Typing started or stopped.
    Typing {
        /// Started or stopped.
        action: TypingAction,
        /// When (ms).
        timestamp_ms: u64,
    },
    /// Asks the recipient to delete an earlier message.
    Unsend {
        /// Sent timestamp (ms) of the message to delete.
        timestamp_ms: u64,
        /// Its author.
        author: SessionId,
    },
    /// A visible message with attachments, a quote and/or link previews (a text-only one is
    /// [`Message::Text`]).
    Visible(Box<VisibleMessage>),
    /// An emoji reaction to a message.
    Reaction(Reaction),
    /// An invitation to a community.
    CommunityInvitation(CommunityInvitation),
    /// Call signalling.
    Call(CallMessage),
    /// A groups-v2 control message (`DataMessage.groupUpdateMessage`).
    GroupUpdate(GroupUpdate),
    /// Accepts (or declines) a message request; the sender's profile travels in
    /// [`Content::profile`].
    MessageRequestResponse {
        /// Whether the request was approved.
        approved: bool,
    },
    /// The recipient took a screenshot or saved media.
    DataExtraction {
        /// Screenshot or media saved.
        kind: DataExtractionKind,
        /// When (ms), if given.
        timestamp_ms: Option<u64>,
    },
    /// Any other content, kept whole (its expiration and signed-timestamp fields are replaced
    /// by the [`Content`] around it when sealed).
    Other(Box<pb::Content>),
}

/// Kind of receipt.
///
/// ```
/// assert_ne!(metaless_envelope::ReceiptKind::Delivery, metaless_envelope::ReceiptKind::Read);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptKind {
    /// Delivered.
    Delivery,
    /// Read.
    Read,
}

/// Typing indicator action.
///
/// ```
/// assert_ne!(metaless_envelope::TypingAction::Started, metaless_envelope::TypingAction::Stopped);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypingAction {
    /// Started typing.
    Started,
    /// Stopped typing.
    Stopped,
}

/// What the recipient did with a message's content.
///
/// ```
/// assert_ne!(metaless_envelope::DataExtractionKind::Screenshot, metaless_envelope::DataExtractionKind::MediaSaved);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataExtractionKind {
    /// Took a screenshot.
    Screenshot,
    /// Saved an attachment.
    MediaSaved,
}

impl Content {
    /// Content with no disappearing setting.
    ///
    /// ```
    /// use metaless_envelope::{Content, Message};
    /// let read = Content::new(Message::MessageRequestResponse { approved: true });
    /// assert!(read.disappearing.is_none());
    /// ```
    pub fn new(message: Message) -> Self {
        Self {
            message,
            disappearing: None,
            profile: None,
        }
    }

    /// A text message.
    ///
    /// ```
    /// assert_eq!(metaless_envelope::Content::text("hi").as_text(), Some("hi"));
    /// ```
    pub fn text(body: impl Into<String>) -> Self {
        Self::new(Message::Text { body: body.into() })
    }

    /// The same content with this disappearing setting.
    ///
    /// ```
    /// use metaless_envelope::{Content, DisappearMode, Disappearing};
    /// let setting = Disappearing::new(DisappearMode::AfterSend, 60);
    /// assert_eq!(Content::text("x").disappearing(setting).disappearing, setting);
    /// ```
    #[must_use]
    pub fn disappearing(mut self, setting: Option<Disappearing>) -> Self {
        self.disappearing = setting;
        self
    }

    /// The same content carrying the sender's profile.
    ///
    /// ```
    /// use metaless_envelope::{Content, Profile};
    /// let me = Profile { display_name: Some("Alice".into()), ..Default::default() };
    /// assert_eq!(Content::text("x").with_profile(me.clone()).profile, Some(me));
    /// ```
    #[must_use]
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// The same message with one more attachment (a text message becomes a
    /// [`Message::Visible`]; any other payload is replaced by a visible message holding only the
    /// attachment).
    ///
    /// ```
    /// use metaless_envelope::{AttachmentPointer, Content, Message, SecretBytes};
    /// let p = AttachmentPointer::new("http://filev2.getsession.org/file/1", SecretBytes::new(vec![0; 32]), 3);
    /// let c = Content::text("photo").with_attachment(p);
    /// assert!(matches!(c.message, Message::Visible(ref v) if v.attachments.len() == 1));
    /// ```
    #[must_use]
    pub fn with_attachment(self, attachment: AttachmentPointer) -> Self {
        self.map_visible(|visible| visible.attachments.push(attachment))
    }

    /// The same message as a reply quoting another (a text message becomes a [`Message::Visible`]).
    ///
    /// ```
    /// use metaless_envelope::{Content, Message, Quote};
    /// use metaless_identity::{Keypair, Seed};
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// let c = Content::text("yes").with_quote(Quote::new(5, bob));
    /// assert!(matches!(c.message, Message::Visible(ref v) if v.quote.is_some()));
    /// ```
    #[must_use]
    pub fn with_quote(self, quote: Quote) -> Self {
        self.map_visible(|visible| visible.quote = Some(quote))
    }

    fn map_visible(mut self, change: impl FnOnce(&mut VisibleMessage)) -> Self {
        let mut visible = match self.message {
            Message::Visible(visible) => visible,
            Message::Text { body } => Box::new(VisibleMessage {
                body: Some(body),
                ..VisibleMessage::default()
            }),
            _ => Box::default(),
        };
        change(&mut visible);
        self.message = Message::Visible(visible);
        self
    }

    /// The text, if this is a text message.
    ///
    /// ```
    /// use metaless_envelope::{Content, Message};
    /// assert_eq!(Content::new(Message::MessageRequestResponse { approved: true }).as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match &self.message {
            Message::Text { body } => Some(body),
            _ => None,
        }
    }

    /// The protobuf `Content` to send at `sent_at_ms`: the payload, the expiration fields, and
    /// `sigTimestamp` = `sent_at_ms` (the copy of the timestamp the signature covers).
    ///
    /// ```
    /// # #[cfg(feature = "proto")] {
    /// use metaless_envelope::Content;
    /// let raw = Content::text("hi").to_proto(42);
    /// assert_eq!(raw.data_message.unwrap().body.as_deref(), Some("hi"));
    /// assert_eq!(raw.expiration_type, None);
    /// # }
    /// ```
    #[cfg(feature = "proto")]
    pub fn to_proto(&self, sent_at_ms: u64) -> pb::Content {
        self.to_raw(sent_at_ms)
    }

    /// The serialized (unpadded) `Content` protobuf, with `sigTimestamp` = `sent_at_ms`: what
    /// [`seal_message`](crate::seal_message) pads, signs and seals.
    ///
    /// ```
    /// use metaless_envelope::Content;
    /// let bytes = Content::text("hi").encode(42);
    /// assert_eq!(Content::decode(&bytes), Ok(Content::text("hi")));
    /// ```
    pub fn encode(&self, sent_at_ms: u64) -> Vec<u8> {
        self.to_raw(sent_at_ms).encode_to_vec()
    }

    pub(crate) fn to_raw(&self, sent_at_ms: u64) -> pb::Content {
        let mut raw = match &self.message {
            Message::Other(raw) => {
                let mut raw = (**raw).clone();
                if self.disappearing.is_none()
                    && Disappearing::from_fields(raw.expiration_type, raw.expiration_timer)
                        .is_some()
                {
                    raw.expiration_type = None;
                    raw.expiration_timer = None;
                }
                raw
            }
            message => pb::Content {
                data_message: data_message(message),
                call_message: match message {
                    Message::Call(call) => Some(call.to_raw()),
                    _ => None,
                },
                receipt_message: match message {
                    Message::Receipt {
                        kind,
                        timestamps_ms,
                    } => Some(pb::ReceiptMessage {
                        r#type: match kind {
                            ReceiptKind::Delivery => pb::receipt_message::Type::Delivery,
                            ReceiptKind::Read => pb::receipt_message::Type::Read,
                        } as i32,
                        timestamp: timestamps_ms.clone(),
                    }),
                    _ => None,
                },
                typing_message: match message {
                    Message::Typing {
                        action,
                        timestamp_ms,
                    } => Some(pb::TypingMessage {
                        timestamp: *timestamp_ms,
                        action: match action {
                            TypingAction::Started => pb::typing_message::Action::Started,
                            TypingAction::Stopped => pb::typing_message::Action::Stopped,
                        } as i32,
                    }),
                    _ => None,
                },
                unsend_request: match message {
                    Message::Unsend {
                        timestamp_ms,
                        author,
                    } => Some(pb::UnsendRequest {
                        timestamp: *timestamp_ms,
                        author: author.to_string(),
                    }),
                    _ => None,
                },
                message_request_response: match message {
                    Message::MessageRequestResponse { approved } => {
                        Some(pb::MessageRequestResponse {
                            is_approved: *approved,
                            ..Default::default()
                        })
                    }
                    _ => None,
                },
                data_extraction_notification: match message {
                    Message::DataExtraction { kind, timestamp_ms } => {
                        Some(pb::DataExtractionNotification {
                            r#type: match kind {
                                DataExtractionKind::Screenshot => {
                                    pb::data_extraction_notification::Type::Screenshot
                                }
                                DataExtractionKind::MediaSaved => {
                                    pb::data_extraction_notification::Type::MediaSaved
                                }
                            } as i32,
                            timestamp: *timestamp_ms,
                        })
                    }
                    _ => None,
                },
                ..Default::default()
            },
        };
        if let (Some(profile), false) = (&self.profile, matches!(self.message, Message::Other(_))) {
            let (loki, key) = profile.to_raw();
            if let Some(data) = raw.data_message.as_mut() {
                data.profile = loki;
                data.profile_key = key;
            } else if let Some(response) = raw.message_request_response.as_mut() {
                response.profile = loki;
                response.profile_key = key;
            }
        }
        match self.disappearing {
            Some(setting) => {
                raw.expiration_type = Some(setting.mode.to_proto() as i32);
                raw.expiration_timer = Some(setting.timer_s);
            }
            // Turning disappearing off is said explicitly, as the clients do.
            None if matches!(self.message, Message::DisappearingSettingsUpdate) => {
                raw.expiration_type = Some(pb::content::ExpirationType::Unknown as i32);
                raw.expiration_timer = Some(0);
            }
            None => {}
        }
        raw.sig_timestamp = Some(sent_at_ms);
        raw
    }

    /// The domain view of a protobuf `Content`.
    ///
    /// ```
    /// # #[cfg(feature = "proto")] {
    /// use metaless_envelope::{Content, Message, proto::session as pb};
    /// let raw = pb::Content { call_message: Some(Default::default()), ..Default::default() };
    /// assert!(matches!(Content::from_proto(&raw).message, Message::Other(_)));
    /// # }
    /// ```
    #[cfg(feature = "proto")]
    pub fn from_proto(raw: &pb::Content) -> Self {
        Self::from_raw(raw)
    }

    fn from_raw(raw: &pb::Content) -> Self {
        let message = recognise(raw);
        // The profile is lifted out only from what the domain view recognised; `Other` keeps it
        // inside the raw protobuf.
        let profile = match (&message, &raw.data_message, &raw.message_request_response) {
            (None, _, _) => None,
            (Some(_), Some(data), _) => {
                Profile::from_raw(data.profile.as_ref(), data.profile_key.as_deref())
            }
            (Some(_), None, Some(response)) => {
                Profile::from_raw(response.profile.as_ref(), response.profile_key.as_deref())
            }
            _ => None,
        };
        Self {
            message: message.unwrap_or_else(|| Message::Other(Box::new(raw.clone()))),
            disappearing: Disappearing::from_fields(raw.expiration_type, raw.expiration_timer),
            profile,
        }
    }

    /// Parses serialized (unpadded) `Content` bytes into the domain view.
    ///
    /// ```
    /// use metaless_envelope::{Content, EnvelopeError};
    /// let bytes = Content::text("hi").encode(7);
    /// assert_eq!(Content::decode(&bytes), Ok(Content::text("hi")));
    /// assert_eq!(Content::decode(&[0xff]), Err(EnvelopeError::InvalidContent));
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        Self::decode_with_raw(bytes).map(|(content, _)| content)
    }

    /// [`Content::decode`], also giving the full protobuf.
    ///
    /// ```
    /// use metaless_envelope::Content;
    /// let bytes = Content::text("hi").encode(7);
    /// let (content, raw) = Content::decode_raw(&bytes).unwrap();
    /// assert_eq!(content, Content::text("hi"));
    /// assert_eq!(raw.sig_timestamp, Some(7));
    /// ```
    #[cfg(feature = "proto")]
    pub fn decode_raw(bytes: &[u8]) -> Result<(Self, pb::Content), EnvelopeError> {
        Self::decode_with_raw(bytes)
    }

    pub(crate) fn decode_with_raw(bytes: &[u8]) -> Result<(Self, pb::Content), EnvelopeError> {
        let raw = pb::Content::decode(bytes).map_err(|_| EnvelopeError::InvalidContent)?;
        Ok((Self::from_raw(&raw), raw))
    }
}

fn data_message(message: &Message) -> Option<pb::DataMessage> {
    match message {
        Message::Text { body } => Some(pb::DataMessage {
            body: Some(body.clone()),
            ..Default::default()
        }),
        Message::DisappearingSettingsUpdate => Some(pb::DataMessage {
            flags: Some(EXPIRATION_TIMER_UPDATE),
            ..Default::default()
        }),
        Message::Visible(visible) => {
            let mut data = pb::DataMessage::default();
            visible.fill(&mut data);
            Some(data)
        }
        Message::Reaction(reaction) => Some(pb::DataMessage {
            reaction: Some(reaction.to_raw()),
            ..Default::default()
        }),
        Message::CommunityInvitation(invite) => Some(pb::DataMessage {
            open_group_invitation: Some(pb::data_message::OpenGroupInvitation {
                url: invite.url.clone(),
                name: invite.name.clone(),
            }),
            ..Default::default()
        }),
        Message::GroupUpdate(update) => Some(pb::DataMessage {
            group_update_message: Some(update.to_raw()),
            ..Default::default()
        }),
        _ => None,
    }
}

/// The common payload of `raw`, if it carries exactly one and nothing this view would drop.
fn recognise(raw: &pb::Content) -> Option<Message> {
    let payloads = [
        raw.data_message.is_some(),
        raw.call_message.is_some(),
        raw.receipt_message.is_some(),
        raw.typing_message.is_some(),
        raw.data_extraction_notification.is_some(),
        raw.unsend_request.is_some(),
        raw.message_request_response.is_some(),
        raw.shared_config_message.is_some(),
    ];
    if payloads.iter().filter(|&&set| set).count() != 1 {
        return None;
    }
    if let Some(data) = &raw.data_message {
        return recognise_data(data);
    }
    if let Some(call) = &raw.call_message {
        return CallMessage::from_raw(call).ok().map(Message::Call);
    }
    if let Some(receipt) = &raw.receipt_message {
        let kind = match pb::receipt_message::Type::try_from(receipt.r#type).ok()? {
            pb::receipt_message::Type::Delivery => ReceiptKind::Delivery,
            pb::receipt_message::Type::Read => ReceiptKind::Read,
        };
        return Some(Message::Receipt {
            kind,
            timestamps_ms: receipt.timestamp.clone(),
        });
    }
    if let Some(typing) = &raw.typing_message {
        let action = match pb::typing_message::Action::try_from(typing.action).ok()? {
            pb::typing_message::Action::Started => TypingAction::Started,
            pb::typing_message::Action::Stopped => TypingAction::Stopped,
        };
        return Some(Message::Typing {
            action,
            timestamp_ms: typing.timestamp,
        });
    }
    if let Some(unsend) = &raw.unsend_request {
        return Some(Message::Unsend {
            timestamp_ms: unsend.timestamp,
            author: unsend.author.parse().ok()?,
        });
    }
    if let Some(response) = &raw.message_request_response {
        return Some(Message::MessageRequestResponse {
            approved: response.is_approved,
        });
    }
    if let Some(notice) = &raw.data_extraction_notification {
        let kind = match pb::data_extraction_notification::Type::try_from(notice.r#type).ok()? {
            pb::data_extraction_notification::Type::Screenshot => DataExtractionKind::Screenshot,
            pb::data_extraction_notification::Type::MediaSaved => DataExtractionKind::MediaSaved,
        };
        return Some(Message::DataExtraction {
            kind,
            timestamp_ms: notice.timestamp,
        });
    }
    None
}

/// The payload of a `DataMessage` carrying exactly one kind of thing this view knows.
fn recognise_data(data: &pb::DataMessage) -> Option<Message> {
    // Own-device sync copies are the client's business: kept whole. (The retired `timestamp`
    // and the community-only `blocksCommunityMessageRequests` are tolerated and dropped.)
    if data.sync_target.is_some() {
        return None;
    }
    let flags = data.flags.unwrap_or(0);
    let visible = data.body.is_some()
        || !data.attachments.is_empty()
        || data.quote.is_some()
        || !data.preview.is_empty();
    let kinds = [
        visible,
        data.reaction.is_some(),
        data.open_group_invitation.is_some(),
        data.group_update_message.is_some(),
        flags == EXPIRATION_TIMER_UPDATE,
    ];
    if kinds.iter().filter(|&&k| k).count() != 1
        || !(flags == 0 || flags == EXPIRATION_TIMER_UPDATE)
    {
        return None;
    }
    if flags == EXPIRATION_TIMER_UPDATE {
        return Some(Message::DisappearingSettingsUpdate);
    }
    if visible {
        let visible = VisibleMessage::from_raw(data)?;
        return Some(match (visible.is_plain(), visible.body) {
            (true, Some(body)) => Message::Text { body },
            (_, body) => Message::Visible(Box::new(VisibleMessage { body, ..visible })),
        });
    }
    if let Some(reaction) = &data.reaction {
        return Reaction::from_raw(reaction).map(Message::Reaction);
    }
    if let Some(invite) = &data.open_group_invitation {
        return Some(Message::CommunityInvitation(CommunityInvitation {
            url: invite.url.clone(),
            name: invite.name.clone(),
        }));
    }
    data.group_update_message
        .as_ref()
        .and_then(GroupUpdate::from_raw)
        .map(Message::GroupUpdate)
}
