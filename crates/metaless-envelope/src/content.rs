//! Hand-written domain types for the common kinds of `Content`.
//!
//! Decoding ([`Content::decode`]) recognises a `Content` carrying exactly one of the common payloads
//! (text, disappearing-setting update, receipt, typing, unsend, message-request response,
//! screenshot / media-saved notice) and keeps anything else, whole, as [`Message::Other`].
//! The generated type stays available (feature `proto`) for everything these do not cover.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use metaless_identity::SessionId;
use prost::Message as _;

use crate::EnvelopeError;
use crate::disappearing::Disappearing;
use crate::proto::session as pb;

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
    /// Accepts (or declines) a message request.
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
        Self {
            message: recognise(raw).unwrap_or_else(|| Message::Other(Box::new(raw.clone()))),
            disappearing: Disappearing::from_fields(raw.expiration_type, raw.expiration_timer),
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
        _ => None,
    }
}

/// The common payload of `raw`, if it carries exactly one and nothing this view would drop
/// beyond profile details.
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
        let plain = data.attachments.is_empty()
            && data.quote.is_none()
            && data.preview.is_empty()
            && data.reaction.is_none()
            && data.open_group_invitation.is_none()
            && data.sync_target.is_none()
            && data.group_update_message.is_none();
        if !plain {
            return None;
        }
        let flags = data.flags.unwrap_or(0);
        return match (&data.body, flags) {
            (Some(body), 0) => Some(Message::Text { body: body.clone() }),
            (None, EXPIRATION_TIMER_UPDATE) => Some(Message::DisappearingSettingsUpdate),
            _ => None,
        };
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
        if response.profile_key.is_some() || response.profile.is_some() {
            return None;
        }
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
