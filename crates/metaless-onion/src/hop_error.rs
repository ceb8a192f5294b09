//! The errors hops answer with, as typed values that convert both ways to the wire's
//! `(HTTP status, body text)`.
//!
//! Texts are exactly those of upstream `oxen-storage-server` (`rpc/request_handler.cpp`,
//! `server/https.cpp`, `server/omq.cpp`); a node uses [`HopError::status`] and [`HopError::body`]
//! to answer, a client uses [`HopError::from_response`] to classify what came back.

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

use metaless_identity::hex;

/// An error reply from a hop on the path (or the destination node's onion layer).
///
/// ```
/// use metaless_onion::HopError;
/// let err = HopError::NextNodeNotFound([0xab; 32]);
/// assert_eq!(err.status(), 502);
/// assert_eq!(err.body(), format!("Next node not found: {}", "ab".repeat(32)));
/// assert_eq!(HopError::from_response(err.status(), &err.body()), err);
/// assert_eq!(HopError::from_response(504, "Request time out"), HopError::RequestTimeout);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HopError {
    /// 400 `Invalid ciphertext`: the hop could not decrypt its layer (plain text).
    InvalidCiphertext,
    /// 400 `Invalid json`: the decrypted layer is not a valid frame with routing JSON
    /// (encrypted to the layer's ephemeral key).
    InvalidJson,
    /// 400 `Invalid url`: a server target other than `/oxen/…/lsrpc` or `/loki/…/lsrpc`, one with
    /// a query, or a protocol other than http/https (encrypted).
    InvalidUrl,
    /// 400 `Error parsing onion request: <detail>`: the first hop could not parse the body's
    /// framing or metadata (plain text).
    ParseError(String),
    /// 400 `onion request max path length exceeded` (plain text).
    MaxPathLength,
    /// 413 `Request body too large` (plain text).
    PayloadTooLarge,
    /// 502 `Next node not found: <ed25519 hex>` (plain text).
    NextNodeNotFound([u8; 32]),
    /// 502 `Next node is currently unreachable: <ed25519 hex>` (plain text).
    NextNodeUnreachable([u8; 32]),
    /// 504 `Request time out`: the next hop did not answer (plain text).
    RequestTimeout,
    /// 500 `Invalid response from snode`: the next hop's answer was malformed (plain text).
    InvalidSnodeResponse,
    /// 503 `Snode not ready: <ed25519 hex>` (plain), or `Snode not ready` without a key
    /// (encrypted, from the destination).
    SnodeNotReady(Option<[u8; 32]>),
    /// 503 `Service node is not ready: <reason>` from the first hop (plain text).
    NodeNotReady(String),
    /// 503 `Server busy, try again later` from the first hop (plain text).
    ServerBusy,
    /// Any other status and body.
    Other {
        /// HTTP status.
        status: u16,
        /// Body text.
        body: String,
    },
}

const NOT_FOUND: &str = "Next node not found: ";
const UNREACHABLE: &str = "Next node is currently unreachable: ";
const NOT_READY: &str = "Snode not ready";
const NODE_NOT_READY: &str = "Service node is not ready: ";
const PARSE: &str = "Error parsing onion request: ";

impl HopError {
    /// The HTTP status a hop sends.
    pub fn status(&self) -> u16 {
        match self {
            HopError::InvalidCiphertext
            | HopError::InvalidJson
            | HopError::InvalidUrl
            | HopError::ParseError(_)
            | HopError::MaxPathLength => 400,
            HopError::PayloadTooLarge => 413,
            HopError::NextNodeNotFound(_) | HopError::NextNodeUnreachable(_) => 502,
            HopError::RequestTimeout => 504,
            HopError::InvalidSnodeResponse => 500,
            HopError::SnodeNotReady(_) | HopError::NodeNotReady(_) | HopError::ServerBusy => 503,
            HopError::Other { status, .. } => *status,
        }
    }

    /// The exact body text a hop sends.
    pub fn body(&self) -> String {
        match self {
            HopError::InvalidCiphertext => "Invalid ciphertext".to_string(),
            HopError::InvalidJson => "Invalid json".to_string(),
            HopError::InvalidUrl => "Invalid url".to_string(),
            HopError::ParseError(detail) => format!("{PARSE}{detail}"),
            HopError::MaxPathLength => "onion request max path length exceeded".to_string(),
            HopError::PayloadTooLarge => "Request body too large".to_string(),
            HopError::NextNodeNotFound(key) => format!("{NOT_FOUND}{}", hex::encode(key)),
            HopError::NextNodeUnreachable(key) => format!("{UNREACHABLE}{}", hex::encode(key)),
            HopError::RequestTimeout => "Request time out".to_string(),
            HopError::InvalidSnodeResponse => "Invalid response from snode".to_string(),
            HopError::SnodeNotReady(Some(key)) => format!("{NOT_READY}: {}", hex::encode(key)),
            HopError::SnodeNotReady(None) => NOT_READY.to_string(),
            HopError::NodeNotReady(reason) => format!("{NODE_NOT_READY}{reason}"),
            HopError::ServerBusy => "Server busy, try again later".to_string(),
            HopError::Other { body, .. } => body.clone(),
        }
    }

    /// Whether upstream sends this error encrypted to the layer's ephemeral key (as the
    /// `{"body": …, "status": …}` reply) rather than as plain text.
    ///
    /// ```
    /// use metaless_onion::HopError;
    /// assert!(HopError::InvalidJson.is_encrypted());
    /// assert!(!HopError::InvalidCiphertext.is_encrypted());
    /// ```
    pub fn is_encrypted(&self) -> bool {
        matches!(
            self,
            HopError::InvalidJson | HopError::InvalidUrl | HopError::SnodeNotReady(None)
        )
    }

    /// Classifies a status and body text (trailing whitespace ignored); anything unknown is
    /// [`HopError::Other`].
    ///
    /// ```
    /// use metaless_onion::HopError;
    /// assert_eq!(HopError::from_response(400, "Invalid ciphertext\n"), HopError::InvalidCiphertext);
    /// assert!(matches!(HopError::from_response(502, "Next node not found: zz"), HopError::Other { .. }));
    /// ```
    pub fn from_response(status: u16, body: &str) -> HopError {
        let text = body.trim_end();
        let key_after = |prefix: &str| {
            text.strip_prefix(prefix)
                .and_then(|k| hex::decode_array::<32>(k).ok())
        };
        let known = match (status, text) {
            (400, "Invalid ciphertext") => Some(HopError::InvalidCiphertext),
            (400, "Invalid json") => Some(HopError::InvalidJson),
            (400, "Invalid url") => Some(HopError::InvalidUrl),
            (400, "onion request max path length exceeded") => Some(HopError::MaxPathLength),
            (400, t) if t.starts_with(PARSE) => t
                .strip_prefix(PARSE)
                .map(|d| HopError::ParseError(d.to_string())),
            (413, "Request body too large") => Some(HopError::PayloadTooLarge),
            (502, t) if t.starts_with(NOT_FOUND) => {
                key_after(NOT_FOUND).map(HopError::NextNodeNotFound)
            }
            (502, t) if t.starts_with(UNREACHABLE) => {
                key_after(UNREACHABLE).map(HopError::NextNodeUnreachable)
            }
            (504, "Request time out") => Some(HopError::RequestTimeout),
            (500, "Invalid response from snode") => Some(HopError::InvalidSnodeResponse),
            (503, NOT_READY) => Some(HopError::SnodeNotReady(None)),
            (503, t) if t.starts_with(NOT_READY) => {
                key_after("Snode not ready: ").map(|k| HopError::SnodeNotReady(Some(k)))
            }
            (503, t) if t.starts_with(NODE_NOT_READY) => t
                .strip_prefix(NODE_NOT_READY)
                .map(|reason| HopError::NodeNotReady(reason.to_string())),
            (503, "Server busy, try again later") => Some(HopError::ServerBusy),
            _ => None,
        };
        known.unwrap_or_else(|| HopError::Other {
            status,
            body: body.to_string(),
        })
    }
}

impl fmt::Display for HopError {
    // Only the category and status: bodies may carry node keys or upstream exception text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            HopError::InvalidCiphertext => "invalid ciphertext",
            HopError::InvalidJson => "invalid json",
            HopError::InvalidUrl => "invalid url",
            HopError::ParseError(_) => "error parsing onion request",
            HopError::MaxPathLength => "max path length exceeded",
            HopError::PayloadTooLarge => "request body too large",
            HopError::NextNodeNotFound(_) => "next node not found",
            HopError::NextNodeUnreachable(_) => "next node unreachable",
            HopError::RequestTimeout => "request time out",
            HopError::InvalidSnodeResponse => "invalid response from snode",
            HopError::SnodeNotReady(_) => "snode not ready",
            HopError::NodeNotReady(_) => "service node not ready",
            HopError::ServerBusy => "server busy",
            HopError::Other { .. } => "hop error",
        };
        write!(f, "{} ({what})", self.status())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HopError {}
