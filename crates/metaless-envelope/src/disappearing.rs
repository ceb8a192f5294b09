//! Disappearing messages: the setting a `Content` carries, and the storage TTL it implies.
//!
//! Upstream encodes the setting in `Content` itself (`expirationType` 12: 1 = delete after
//! read, 2 = delete after send; `expirationTimer` 13: seconds). The TTL a sender stores a
//! message with follows session-desktop's `ttl()` rules: a typing indicator lives 20 s, a call
//! message 5 min, a delete-after-send message exactly its timer, anything else 14 days. The
//! network's own TTL limits are applied by the swarm layer, not here.

use crate::content::{Content, Message};
use crate::proto::session::content::ExpirationType;

/// Default storage TTL of a message: 14 days, in milliseconds.
///
/// ```
/// assert_eq!(metaless_envelope::DEFAULT_MESSAGE_TTL_MS, 1_209_600_000);
/// ```
pub const DEFAULT_MESSAGE_TTL_MS: u64 = 14 * 24 * 60 * 60 * 1000;

/// Storage TTL of a typing indicator: 20 seconds.
///
/// ```
/// assert_eq!(metaless_envelope::TYPING_MESSAGE_TTL_MS, 20_000);
/// ```
pub const TYPING_MESSAGE_TTL_MS: u64 = 20 * 1000;

/// Storage TTL of a call message: 5 minutes.
///
/// ```
/// assert_eq!(metaless_envelope::CALL_MESSAGE_TTL_MS, 300_000);
/// ```
pub const CALL_MESSAGE_TTL_MS: u64 = 5 * 60 * 1000;

/// When a disappearing message's timer starts.
///
/// ```
/// use metaless_envelope::DisappearMode;
/// assert_eq!(DisappearMode::AfterSend.as_str(), "after-send");
/// assert_eq!("after-read".parse::<DisappearMode>(), Ok(DisappearMode::AfterRead));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisappearMode {
    /// The timer starts when the message is sent (`DELETE_AFTER_SEND`).
    AfterSend,
    /// The timer starts when the recipient reads the message (`DELETE_AFTER_READ`).
    AfterRead,
}

impl DisappearMode {
    /// The command-line / JSON spelling: `after-send` or `after-read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AfterSend => "after-send",
            Self::AfterRead => "after-read",
        }
    }

    pub(crate) fn to_proto(self) -> ExpirationType {
        match self {
            Self::AfterSend => ExpirationType::DeleteAfterSend,
            Self::AfterRead => ExpirationType::DeleteAfterRead,
        }
    }
}

impl core::str::FromStr for DisappearMode {
    type Err = crate::EnvelopeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "after-send" => Ok(Self::AfterSend),
            "after-read" => Ok(Self::AfterRead),
            _ => Err(crate::EnvelopeError::InvalidContent),
        }
    }
}

/// A disappearing-message setting: mode and timer.
///
/// ```
/// use metaless_envelope::{DisappearMode, Disappearing};
/// let setting = Disappearing::new(DisappearMode::AfterSend, 3600).unwrap();
/// assert_eq!(setting.timer_s, 3600);
/// assert!(Disappearing::new(DisappearMode::AfterRead, 0).is_none()); // zero means off
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Disappearing {
    /// When the timer starts.
    pub mode: DisappearMode,
    /// How long the message lives, in seconds (never zero: zero is "off").
    pub timer_s: u32,
}

impl Disappearing {
    /// A setting, or `None` for a zero timer (which Session treats as disappearing off).
    pub fn new(mode: DisappearMode, timer_s: u32) -> Option<Self> {
        (timer_s > 0).then_some(Self { mode, timer_s })
    }

    /// Reads the setting from `Content`'s `expirationType` and `expirationTimer` fields.
    pub(crate) fn from_fields(kind: Option<i32>, timer_s: Option<u32>) -> Option<Self> {
        let mode = match ExpirationType::try_from(kind?).ok()? {
            ExpirationType::DeleteAfterSend => DisappearMode::AfterSend,
            ExpirationType::DeleteAfterRead => DisappearMode::AfterRead,
            ExpirationType::Unknown => return None,
        };
        Self::new(mode, timer_s?)
    }
}

/// The TTL (milliseconds) a sender stores `content` with in the recipient's swarm.
///
/// ```
/// use metaless_envelope::{storage_ttl_ms, Content, DisappearMode, Disappearing, DEFAULT_MESSAGE_TTL_MS};
/// let plain = Content::text("hi");
/// assert_eq!(storage_ttl_ms(&plain), DEFAULT_MESSAGE_TTL_MS);
/// let after_send = plain.clone().disappearing(Disappearing::new(DisappearMode::AfterSend, 300));
/// assert_eq!(storage_ttl_ms(&after_send), 300_000);
/// let after_read = plain.disappearing(Disappearing::new(DisappearMode::AfterRead, 300));
/// assert_eq!(storage_ttl_ms(&after_read), DEFAULT_MESSAGE_TTL_MS); // read time is unknown
/// ```
pub fn storage_ttl_ms(content: &Content) -> u64 {
    match &content.message {
        Message::Typing { .. } => return TYPING_MESSAGE_TTL_MS,
        Message::Call(_) => return CALL_MESSAGE_TTL_MS,
        Message::Other(raw) if raw.call_message.is_some() => return CALL_MESSAGE_TTL_MS,
        _ => {}
    }
    match content.disappearing {
        Some(Disappearing {
            mode: DisappearMode::AfterSend,
            timer_s,
        }) => u64::from(timer_s) * 1000,
        _ => DEFAULT_MESSAGE_TTL_MS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::TypingAction;

    #[test]
    fn typing_ignores_the_timer() {
        let typing = Content::new(Message::Typing {
            action: TypingAction::Started,
            timestamp_ms: 1,
        })
        .disappearing(Disappearing::new(DisappearMode::AfterSend, 5));
        assert_eq!(storage_ttl_ms(&typing), TYPING_MESSAGE_TTL_MS);
    }

    #[test]
    fn largest_timer_does_not_overflow() {
        let long =
            Content::text("x").disappearing(Disappearing::new(DisappearMode::AfterSend, u32::MAX));
        assert_eq!(storage_ttl_ms(&long), u64::from(u32::MAX) * 1000);
    }

    #[test]
    fn field_decoding() {
        assert_eq!(
            Disappearing::from_fields(Some(2), Some(60)),
            Disappearing::new(DisappearMode::AfterSend, 60)
        );
        assert_eq!(
            Disappearing::from_fields(Some(1), Some(60)),
            Disappearing::new(DisappearMode::AfterRead, 60)
        );
        assert_eq!(Disappearing::from_fields(Some(0), Some(60)), None);
        assert_eq!(Disappearing::from_fields(Some(9), Some(60)), None);
        assert_eq!(Disappearing::from_fields(Some(2), None), None);
        assert_eq!(Disappearing::from_fields(None, Some(60)), None);
    }
}
