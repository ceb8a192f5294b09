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
