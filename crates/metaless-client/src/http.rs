//! A plain-HTTP [`Transport`] on hyper 1 and tokio, and a wall [`Clock`] (feature `http`).
//!
//! One connection per request, driven inside the request's own future: nothing is spawned.
//! This is what a local testnet on loopback needs. `https://` URLs (the live network) are
//! refused with [`TransportError::Connect`] for now: the nodes' certificates are self-signed,
//! and since every request is already end-to-end encrypted to the destination by the onion
//! layers (and the first hop learns only the client's address), TLS adds little beyond hiding
//! the fact of an onion request. Apps that talk to the live network plug in their platform's
//! HTTPS stack through [`Transport`], accepting the self-signed certificates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;

use crate::transport::{Clock, HttpResponse, Transmit, Transport, TransportError};

/// Local wall-clock time in ms since the Unix epoch.
///
/// ```
/// assert!(metaless_client::http::wall_clock_ms() > 1_600_000_000_000);
/// ```
pub fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The wall clock, with tokio timers.
///
/// ```
/// use metaless_client::{Clock, http::TokioClock};
/// assert!(TokioClock.now_ms() > 1_600_000_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        wall_clock_ms()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        let wait = deadline_ms.saturating_sub(wall_clock_ms());
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }
}

/// POST over plain HTTP/1.1 with hyper.
///
/// ```
/// use metaless_client::{RequestId, Target, Transmit, Transport, TransportError, http::HttpTransport};
/// let t = HttpTransport::default();
/// let req = Transmit { id: RequestId(1), to_node: Target { node: None,
///     base_url: "https://seed1.getsession.org:4443".into(), path: "/json_rpc" }, body: vec![], deadline_ms: u64::MAX };
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// assert_eq!(rt.block_on(t.post(&req)), Err(TransportError::Connect)); // no TLS here
/// ```
#[derive(Debug, Clone)]
pub struct HttpTransport {
    /// Largest response body accepted.
    pub max_body: usize,
    /// Longest a request may take, whatever its deadline says.
    pub timeout: Duration,
}

impl Default for HttpTransport {
    fn default() -> Self {
        Self {
            max_body: crate::limits::MAX_REPLY_SIZE,
            timeout: Duration::from_secs(30),
        }
    }
}

impl HttpTransport {
    async fn exchange(
        &self,
        authority: &str,
        path: &str,
        body: &[u8],
    ) -> Result<HttpResponse, TransportError> {
        let stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(|_| TransportError::Connect)?;
        // Small request/response exchanges: don't let Nagle hold the request back.
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| TransportError::Connect)?;
        let request = hyper::Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
            .body(Full::new(Bytes::copy_from_slice(body)))
            .map_err(|_| TransportError::Connect)?;
        let max = self.max_body;
        let exchange = async move {
            let resp = sender
                .send_request(request)
                .await
                .map_err(|_| TransportError::Connect)?;
            let status = resp.status().as_u16();
            let bytes = Limited::new(resp.into_body(), max)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        TransportError::TooLarge
                    } else {
                        TransportError::Connect
                    }
                })?;
            Ok(HttpResponse {
                status,
                body: bytes.to_bytes().to_vec(),
            })
        };
        tokio::pin!(exchange);
        tokio::pin!(conn);
        // The connection future does the I/O; the exchange completes first on success.
        tokio::select! {
            biased;
            r = &mut exchange => r,
            _ = &mut conn => exchange.await,
        }
    }
}

impl Transport for HttpTransport {
    async fn post(&self, request: &Transmit) -> Result<HttpResponse, TransportError> {
        let Some(authority) = request.to_node.base_url.strip_prefix("http://") else {
            return Err(TransportError::Connect);
        };
        let until_deadline =
            Duration::from_millis(request.deadline_ms.saturating_sub(wall_clock_ms()));
        let limit = self.timeout.min(until_deadline);
        match tokio::time::timeout(
            limit,
            self.exchange(authority, request.to_node.path, &request.body),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout),
        }
    }
}
