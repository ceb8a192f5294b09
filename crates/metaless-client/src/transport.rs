//! What the core asks the outside world to do, and the one-method trait a transport implements.
//!
//! The contract: POST [`Transmit::body`] to [`Transmit::url`] (or, for an in-process network,
//! to the node named by [`Target::node`] at [`Target::path`]) and hand back the HTTP status
//! and body bytes, whatever the status. Only a failure to get any HTTP answer at all —
//! connection refused, reset, timed out — is a [`TransportError`]. Transports do not retry:
//! the core decides what to do next.

use std::future::Future;

use metaless_swarm::NodeId;

/// Id of one request the core wants sent (unique per [`Client`](crate::Client), counted from
/// 1). A transport passes it back unchanged; only a host that carries it across a boundary
/// (the C ABI, a process) needs the number.
///
/// ```
/// use metaless_client::RequestId;
/// let id = RequestId::from(3);
/// assert_eq!(id.get(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(u64);

impl RequestId {
    /// The number.
    ///
    /// ```
    /// assert_eq!(metaless_client::RequestId::from(9).get(), 9);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for RequestId {
    /// The id with this number (as a host got it from [`RequestId::get`]).
    fn from(n: u64) -> Self {
        Self(n)
    }
}

/// Where a request goes: a base URL, the endpoint path, and the node's key when the target is
/// a service node (seed URLs have none).
///
/// ```
/// use metaless_client::Target;
/// let t = Target { node: None, base_url: "https://seed1.example:4443".into(), path: "/json_rpc" };
/// assert_eq!(t.url(), "https://seed1.example:4443/json_rpc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Ed25519 key of the service node, if the target is one.
    pub node: Option<NodeId>,
    /// `scheme://host:port`, no trailing slash.
    pub base_url: String,
    /// Endpoint path: `/onion_req/v2`, `/storage_rpc/v1` or `/json_rpc`.
    pub path: &'static str,
}

impl Target {
    /// The full URL.
    pub fn url(&self) -> String {
        format!("{}{}", self.base_url, self.path)
    }
}

/// One request the core wants sent.
///
/// ```
/// use metaless_client::{RequestId, Target, Transmit};
/// let t = Transmit { id: RequestId::from(1), to_node: Target { node: None, base_url: "http://127.0.0.1:1".into(),
///     path: "/json_rpc" }, body: b"{}".to_vec(), deadline_ms: 10 };
/// assert_eq!(t.url(), "http://127.0.0.1:1/json_rpc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Pass back to [`Client::handle_response`](crate::Client::handle_response).
    pub id: RequestId,
    /// Where to POST.
    pub to_node: Target,
    /// The exact bytes to POST.
    pub body: Vec<u8>,
    /// Local time (ms) after which the core treats the request as timed out; a transport may
    /// give up then too.
    pub deadline_ms: u64,
}

impl Transmit {
    /// The full URL to POST to.
    pub fn url(&self) -> String {
        self.to_node.url()
    }
}

/// An HTTP answer: any status, with its body.
///
/// ```
/// let r = metaless_client::HttpResponse { status: 200, body: b"ok".to_vec() };
/// assert_eq!(r.status, 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// No HTTP answer at all.
///
/// ```
/// use metaless_client::TransportError;
/// assert_eq!(TransportError::Timeout.to_string(), "timed out");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connection refused, reset, DNS failure, TLS failure…
    #[error("connection failed")]
    Connect,
    /// No answer before the deadline.
    #[error("timed out")]
    Timeout,
    /// The answer was larger than the transport accepts.
    #[error("response too large")]
    TooLarge,
    /// The TLS peer's certificate was refused (a seed that is not the one pinned or
    /// trusted). The core treats it as [`Connect`](Self::Connect); it is told apart so an
    /// app can say why (`MessengerError::CertificateRefused`).
    #[error("certificate refused")]
    Certificate,
}

/// The one thing a platform must provide: POST bytes, get bytes back.
///
/// Implement it over your HTTP stack (URLSession, OkHttp, reqwest, …). The futures need not be
/// `Send`; the [`Driver`](crate::Driver) polls them on the caller's task and spawns nothing.
///
/// ```
/// use metaless_client::{HttpResponse, Transmit, Transport, TransportError};
/// struct Refuse;
/// impl Transport for Refuse {
///     async fn post(&self, _request: &Transmit) -> Result<HttpResponse, TransportError> {
///         Err(TransportError::Connect)
///     }
/// }
/// # let _ = Refuse;
/// ```
pub trait Transport {
    /// Sends one request and waits for its answer.
    fn post(
        &self,
        request: &Transmit,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>>;

    /// For a transport that streams: request-body bytes written and response-body bytes read
    /// so far for the request `id` in flight, or `None` (the default) when it does not count.
    /// The [`Driver`](crate::Driver) reads it while it polls the request's future and feeds
    /// changes to [`Client::report_transfer`](crate::Client::report_transfer), so attachment
    /// transfers report [`TransferStage::Bytes`](crate::TransferStage::Bytes).
    ///
    /// ```
    /// use metaless_client::{HttpResponse, RequestId, Transmit, Transport, TransportError};
    /// struct Refuse;
    /// impl Transport for Refuse {
    ///     async fn post(&self, _request: &Transmit) -> Result<HttpResponse, TransportError> {
    ///         Err(TransportError::Connect)
    ///     }
    /// }
    /// assert_eq!(Refuse.progress(RequestId::from(1)), None);
    /// ```
    fn progress(&self, id: RequestId) -> Option<(u64, u64)> {
        let _ = id;
        None
    }
}

/// Time for the driver: the local clock in ms since the Unix epoch, and a way to wait.
///
/// ```
/// use metaless_client::Clock;
/// struct Frozen;
/// impl Clock for Frozen {
///     fn now_ms(&self) -> u64 { 42 }
///     async fn sleep_until(&self, _deadline_ms: u64) {}
/// }
/// assert_eq!(Frozen.now_ms(), 42);
/// ```
pub trait Clock {
    /// Local time now, ms since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Completes at (or after) local time `deadline_ms`.
    fn sleep_until(&self, deadline_ms: u64) -> impl Future<Output = ()>;
}
