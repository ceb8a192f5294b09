//! Errors of the client API and the stable failure kinds reported in events.

use thiserror::Error;

/// Why a call on [`Client`](crate::Client) was refused outright. Failures that happen later, on
/// the network, arrive as [`Event::Failed`](crate::Event::Failed) with a [`FailureKind`].
///
/// `Display` never contains keys, message text or full Session IDs.
///
/// ```
/// use metaless_client::ClientError;
/// assert_eq!(ClientError::TooLarge { len: 10, max: 5 }.to_string(), "message too large: 10 bytes, at most 5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The sealed message exceeds what a node stores.
    #[error("message too large: {len} bytes, at most {max}")]
    TooLarge {
        /// Sealed size.
        len: usize,
        /// Largest storable size.
        max: usize,
    },
    /// The recipient is not a standard (`05`) Session ID.
    #[error("recipient is not a standard Session ID")]
    InvalidRecipient,
    /// Sealing the message failed.
    #[error("could not seal the message")]
    Seal,
    /// The persistence hook refused to record a pending send, so it was not accepted.
    #[error("persistence: {0}")]
    Persistence(String),
    /// Too many operations are pending.
    #[error("too many pending operations (at most {max})")]
    Busy {
        /// The limit.
        max: usize,
    },
    /// No message with that hash was received (or it has no disappear-after-read timer).
    #[error("unknown message")]
    UnknownMessage,
    /// The operation ended without success (see [`FailureKind`]).
    #[error("failed: {0}")]
    Failed(FailureKind),
    /// The driver stopped waiting; the operation may still complete later.
    #[error("timed out")]
    TimedOut,
    /// A bootstrap file or seed list could not be used.
    #[error("bootstrap: {0}")]
    Bootstrap(String),
    /// The request can never be accepted (an unsigned write to a private namespace, a
    /// malformed HTTP method or header, …); the text says what, never with keys or data.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ClientError {
    /// The stable kind of this error: what bindings map to their own codes, without matching on
    /// the variants' fields.
    ///
    /// ```
    /// use metaless_client::{ClientError, ErrorKind};
    /// assert_eq!(ClientError::Busy { max: 8 }.kind(), ErrorKind::Busy);
    /// assert_eq!(ClientError::Bootstrap("no nodes".into()).kind().as_str(), "bootstrap");
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::InvalidRecipient => ErrorKind::InvalidRecipient,
            Self::Seal => ErrorKind::Seal,
            Self::Persistence(_) => ErrorKind::Persistence,
            Self::Busy { .. } => ErrorKind::Busy,
            Self::UnknownMessage => ErrorKind::UnknownMessage,
            Self::Failed(_) => ErrorKind::Failed,
            Self::TimedOut => ErrorKind::TimedOut,
            Self::Bootstrap(_) => ErrorKind::Bootstrap,
            Self::InvalidRequest(_) => ErrorKind::InvalidRequest,
        }
    }
}

/// The kind of a [`ClientError`], without its details: stable across versions (new kinds may
/// be added), with a stable log-safe name.
///
/// ```
/// use metaless_client::ErrorKind;
/// assert_eq!(ErrorKind::UnknownMessage.as_str(), "unknown-message");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`ClientError::TooLarge`].
    TooLarge,
    /// [`ClientError::InvalidRecipient`].
    InvalidRecipient,
    /// [`ClientError::Seal`].
    Seal,
    /// [`ClientError::Persistence`].
    Persistence,
    /// [`ClientError::Busy`].
    Busy,
    /// [`ClientError::UnknownMessage`].
    UnknownMessage,
    /// [`ClientError::Failed`].
    Failed,
    /// [`ClientError::TimedOut`].
    TimedOut,
    /// [`ClientError::Bootstrap`].
    Bootstrap,
    /// [`ClientError::InvalidRequest`].
    InvalidRequest,
}

impl ErrorKind {
    /// The kind's stable name (`"too-large"`, `"busy"`, …).
    ///
    /// ```
    /// assert_eq!(metaless_client::ErrorKind::TooLarge.as_str(), "too-large");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "too-large",
            Self::InvalidRecipient => "invalid-recipient",
            Self::Seal => "seal",
            Self::Persistence => "persistence",
            Self::Busy => "busy",
            Self::UnknownMessage => "unknown-message",
            Self::Failed => "failed",
            Self::TimedOut => "timed-out",
            Self::Bootstrap => "bootstrap",
            Self::InvalidRequest => "invalid-request",
        }
    }
}

/// Why an operation ended without success: a stable, log-safe kind.
///
/// ```
/// use metaless_client::FailureKind;
/// assert_eq!(FailureKind::Expired.as_str(), "expired");
/// assert_eq!(FailureKind::Rejected { status: 403 }.as_str(), "rejected");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The message's TTL ran out before any swarm member acknowledged it.
    Expired,
    /// A node refused the request for good (bad signature, invalid TTL, …): retrying the same
    /// request cannot succeed.
    Rejected {
        /// The node's status code.
        status: u16,
    },
    /// The operation ran out of attempts (nodes unreachable, replies unreadable).
    Unreachable,
    /// No service nodes are known and none could be fetched.
    NoNodes,
    /// The clock could not be brought within the network's tolerance.
    Clock,
}

impl FailureKind {
    /// A short stable name (`expired`, `rejected`, `unreachable`, `no-nodes`, `clock`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Rejected { .. } => "rejected",
            Self::Unreachable => "unreachable",
            Self::NoNodes => "no-nodes",
            Self::Clock => "clock",
        }
    }
}

impl core::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Rejected { status } => write!(f, "rejected ({status})"),
            other => f.write_str(other.as_str()),
        }
    }
}
