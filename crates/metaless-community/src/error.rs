//! The crate's error type. `Display` never contains keys, plaintext or full Session IDs.

/// Everything that can go wrong in this crate.
///
/// ```
/// use metaless_community::{CommunityError, CommunityUrl};
/// assert!(matches!(CommunityUrl::parse("https://example.org/room"), Err(CommunityError::Url(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommunityError {
    /// A community URL that does not parse (the reason is a fixed text).
    #[error("invalid community URL: {0}")]
    Url(&'static str),
    /// A room token outside `[0-9A-Za-z_-]{1,64}`.
    #[error("invalid room token")]
    RoomToken,
    /// A value too large for the protocol (`what` names it).
    #[error("{what} too large: {len} > {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A request argument the server would refuse (the reason is a fixed text).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// A reply that is not what the endpoint returns (`what` says which part).
    #[error("malformed reply: {what}")]
    MalformedReply {
        /// Which part of the reply was wrong.
        what: &'static str,
    },
    /// The server answered with a status other than the endpoint's success code.
    #[error("server replied {code}")]
    Status {
        /// The HTTP status code.
        code: u16,
        /// The body, as the server sent it (pysogs sends a short text or JSON).
        body: Vec<u8>,
    },
    /// A Session ID or key that is not valid where it is used.
    #[error("invalid key or id: {0}")]
    Identity(#[from] metaless_identity::IdentityError),
    /// A signature (on a post or a request) that does not verify.
    #[error("bad signature")]
    BadSignature,
    /// A blinded DM that does not open (wrong key, tampered, truncated): no further detail.
    #[error("blinded message does not decrypt")]
    Decrypt,
    /// A blinded DM of a version this crate does not know.
    #[error("unknown blinded message version {0}")]
    UnknownVersion(u8),
    /// A blinded DM whose inner sender key does not blind to the claimed sender id.
    #[error("blinded sender id does not match the sender's key")]
    SenderMismatch,
    /// The v4 onion framing around a request or reply is broken.
    #[error("onion v4 framing: {0}")]
    Onion(#[from] metaless_onion::OnionError),
}
