//! An HTTP and HTTPS [`Transport`] on hyper 1, tokio and rustls, and a wall [`Clock`]
//! (feature `http`).
//!
//! Connections to service nodes are kept for reuse (HTTP/1.1 keep-alive): a bounded pool per
//! node ([`HttpTransport::max_idle_per_node`], [`HttpTransport::idle_timeout`]), and TLS
//! sessions resumed through the one shared node TLS configuration. A connection is driven
//! inside the future of the request using it, and does no I/O while idle: nothing is spawned.
//! Seeds get a fresh connection per request (they are asked rarely).
//!
//! # Certificates
//!
//! **Service nodes** (targets with [`Target::node`](crate::Target::node) set) serve HTTPS with
//! self-signed certificates that no CA vouches for, so their certificates are accepted
//! unverified (the TLS handshake signature is still checked against the certificate shown).
//! That is sound for what the client sends them because the security of an onion request does
//! not rest on TLS: each layer is encrypted to the X25519 key of that hop as listed in the
//! node list, and the innermost to the destination's, so a man in the middle of the TLS
//! connection sees only ciphertext it cannot open, and it cannot forge a reply either — the
//! reply is encrypted to the client's one-time key, which only the destination learned. What
//! such an attacker can do (drop, delay, see that the client talks to that node) it could do to
//! a verified TLS connection too, and the client's retry rules handle it. Node-list refreshes
//! go through onion paths too, and are taken only where 3 sources agree (`docs/client.md`,
//! "Directory trust").
//!
//! **Seed nodes** (targets without a node key: bootstrap `/json_rpc`) are different: their
//! answer *is* the node list, including the X25519 keys all later onion encryption trusts, and
//! it is not onion-protected, so a forged seed answer would subvert everything. Seeds are
//! verified per [`SeedTrust`]. By default ([`SeedTrust::Session`]) a loopback seed (a local
//! testnet) is accepted without verification, and any other `https://` seed only when it
//! presents one of the three Session seed certificates shipped here
//! ([`MAINNET_SEED_CERTIFICATES`]), so `Config::mainnet()` bootstraps with no extra argument.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, SizeHint};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::transport::{Clock, HttpResponse, RequestId, Transmit, Transport, TransportError};

/// The rustls this transport is built on (its types are in [`node_client_tls_config`]'s
/// signature), re-exported so an app needs no matching version.
pub use rustls;

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

/// The certificates of the live network's seed nodes (`seed1`–`seed3.getsession.org`, PEM):
/// self-signed by the Oxen Privacy Tech Foundation, valid 2023-04-05 to 2033-04-05, SHA-256
/// fingerprints `36:EA:0B:25:…:4F:2D`, `C5:90:8D:D4:…:E0:E7`, `8A:0A:F2:C7:…:55:6E`. Public
/// data, as the Session apps pin them (session-desktop
/// `ts/session/apis/seed_node_api/SeedNodeAPI.ts`, which pins exactly these certificates and
/// fingerprints; libsession-util's current network code reaches seeds over QUIC by Ed25519
/// key instead). [`SeedTrust::Session`] pins them.
///
/// ```
/// use metaless_client::http::MAINNET_SEED_CERTIFICATES;
/// assert!(MAINNET_SEED_CERTIFICATES.iter().all(|pem| pem.starts_with("-----BEGIN CERTIFICATE-----")));
/// ```
pub const MAINNET_SEED_CERTIFICATES: [&str; 3] = [
    include_str!("../data/seed1.getsession.org.pem"),
    include_str!("../data/seed2.getsession.org.pem"),
    include_str!("../data/seed3.getsession.org.pem"),
];

/// The DER bytes of one PEM certificate (`None` when it is not one).
///
/// ```
/// let der = metaless_client::http::pem_certificate_der(metaless_client::http::MAINNET_SEED_CERTIFICATES[0]).unwrap();
/// assert_eq!(der.len(), 1041);
/// assert!(metaless_client::http::pem_certificate_der("junk").is_none());
/// ```
pub fn pem_certificate_der(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN CERTIFICATE-----")?
        .strip_suffix("-----END CERTIFICATE-----")?;
    let b64: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// How `https://` seed URLs (bootstrap targets without a node key) are authenticated. See the
/// [module docs](self) for why seeds, unlike service nodes, must be verified.
///
/// ```
/// use metaless_client::http::SeedTrust;
/// assert_eq!(SeedTrust::default(), SeedTrust::Session);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeedTrust {
    /// The default: loopback seeds as [`LoopbackOnly`](Self::LoopbackOnly); every other
    /// `https://` seed must present one of [`MAINNET_SEED_CERTIFICATES`] (as
    /// [`Pinned`](Self::Pinned) with those).
    #[default]
    Session,
    /// Seeds on a loopback address (`127.0.0.0/8`, `::1`, `localhost`: a local testnet in TLS
    /// mode, where the attacker would have to be on the machine already) are accepted without
    /// verification; `https://` seeds anywhere else are refused with
    /// [`TransportError::Connect`], since no trust anchor was given.
    LoopbackOnly,
    /// Accept an `https://` seed (loopback or not) only when it presents exactly one of these
    /// certificates (DER), whatever its chain: how Session clients pin their seeds, whose
    /// self-signed certificates are also marked as CAs (which chain verification refuses for
    /// a server).
    Pinned(Vec<Vec<u8>>),
    /// Verify every `https://` seed's certificate chain and host name against these trust
    /// anchors (DER certificates): the CA that signs the seeds' certificates, or a seed's own
    /// self-signed certificate to pin it.
    Roots(Vec<Vec<u8>>),
}

/// POST over HTTP/1.1 with hyper, over plain TCP for `http://` URLs and over TLS (rustls, ring)
/// for `https://` URLs: service nodes' self-signed certificates are accepted, seeds are
/// checked per [`SeedTrust`] (see the [module docs](self)).
///
/// ```
/// use metaless_client::{RequestId, Target, Transmit, Transport, TransportError, http::HttpTransport};
/// use metaless_client::http::SeedTrust;
/// let t = HttpTransport::with_seed_trust(SeedTrust::LoopbackOnly);
/// // A live seed over HTTPS with no trust anchor configured: refused before connecting.
/// let req = Transmit { id: RequestId::from(1), to_node: Target { node: None,
///     base_url: "https://seed1.getsession.org:4443".into(), path: "/json_rpc" }, body: vec![], deadline_ms: u64::MAX };
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// assert_eq!(rt.block_on(t.post(&req)), Err(TransportError::Connect));
/// ```
#[derive(Debug, Clone)]
pub struct HttpTransport {
    /// Largest response body accepted.
    pub max_body: usize,
    /// Longest a request may take, whatever its deadline says.
    pub timeout: Duration,
    /// How `https://` seeds are authenticated.
    pub seed_trust: SeedTrust,
    /// Idle connections kept per service node (0: a new connection for every request).
    pub max_idle_per_node: usize,
    /// An idle connection older than this is closed instead of reused.
    pub idle_timeout: Duration,
    /// TLS configuration for service nodes (any certificate), built on first HTTPS use and
    /// shared by clones; its session cache lets reconnections resume TLS sessions. Seed
    /// configurations are built per request from `seed_trust`: seeds are asked rarely, and
    /// the field may change.
    node_tls: Arc<OnceLock<Option<Arc<ClientConfig>>>>,
    /// Idle keep-alive connections by base URL, and the counters; shared by clones.
    pool: Arc<Mutex<Pool>>,
    /// Byte counts of the requests in flight.
    progress: Progress,
}

/// Connection counters of an [`HttpTransport`] (and its clones).
///
/// ```
/// let t = metaless_client::http::HttpTransport::default();
/// assert_eq!(t.stats(), metaless_client::http::HttpStats::default());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpStats {
    /// Requests sent.
    pub requests: u64,
    /// Connections opened (TCP, plus a TLS handshake for `https://`).
    pub connections: u64,
    /// Requests sent on a kept connection.
    pub reused: u64,
    /// TLS handshakes that resumed an earlier session.
    pub tls_resumed: u64,
}

/// Anything a connection runs over (TCP, or TLS over TCP).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}
type Io = TokioIo<Box<dyn Stream>>;
type Conn = Pin<Box<Connection<Io, CountingBody>>>;

/// One open HTTP/1.1 connection: the request half and the connection future that does its I/O.
struct Link {
    sender: SendRequest<CountingBody>,
    conn: Conn,
    idle_since: Instant,
}

/// Request-body bytes handed to hyper and response-body bytes read so far, for one request in
/// flight ([`Transport::progress`]).
#[derive(Debug, Default)]
struct Counter {
    sent: AtomicU64,
    received: AtomicU64,
}

/// Counters of the requests in flight, by id; shared by clones.
type Progress = Arc<Mutex<HashMap<RequestId, Arc<Counter>>>>;

/// Removes a request's counter when its future ends (answered, failed or dropped).
struct Tracking {
    progress: Progress,
    id: RequestId,
}

impl Drop for Tracking {
    fn drop(&mut self) {
        if let Ok(mut map) = self.progress.lock() {
            map.remove(&self.id);
        }
    }
}

/// Request bodies are handed to hyper in pieces of this size, so that progress moves.
const BODY_CHUNK: usize = 64 * 1024;

/// A request body that counts what hyper pulls from it: [`BODY_CHUNK`] at a time, yielding
/// (waking itself at once) between pieces so the driver sees the count move between polls.
struct CountingBody {
    rest: Bytes,
    counter: Arc<Counter>,
    yield_next: bool,
}

impl Body for CountingBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.rest.is_empty() {
            return std::task::Poll::Ready(None);
        }
        if core::mem::take(&mut self.yield_next) {
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let n = self.rest.len().min(BODY_CHUNK);
        let chunk = self.rest.split_to(n);
        self.counter.sent.fetch_add(n as u64, Ordering::Relaxed);
        self.yield_next = true;
        std::task::Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}

/// Completes on its second poll (waking itself on the first): lets the driver see progress.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if core::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

/// Most nodes with idle connections at once.
const MAX_POOLED_NODES: usize = 64;

#[derive(Default)]
struct Pool {
    idle: HashMap<String, Vec<Link>>,
    stats: HttpStats,
}

impl core::fmt::Debug for Pool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pool")
            .field("nodes", &self.idle.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Pool {
    /// The newest usable idle connection to `key`; stale ones are closed.
    fn take(&mut self, key: &str, idle_timeout: Duration) -> Option<Link> {
        let links = self.idle.get_mut(key)?;
        let mut found = None;
        while let Some(link) = links.pop() {
            if link.idle_since.elapsed() < idle_timeout && !link.sender.is_closed() {
                found = Some(link);
                break;
            }
        }
        if links.is_empty() {
            self.idle.remove(key);
        }
        found
    }

    /// Keeps `link` for reuse, within the bounds.
    fn put(&mut self, key: &str, link: Link, max_per_node: usize) {
        if max_per_node == 0 {
            return;
        }
        if !self.idle.contains_key(key) && self.idle.len() >= MAX_POOLED_NODES {
            // Close the node whose newest idle connection is the oldest.
            let oldest = self
                .idle
                .iter()
                .min_by_key(|(_, v)| v.last().map(|l| l.idle_since))
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.idle.remove(&k);
            }
        }
        let links = self.idle.entry(key.to_owned()).or_default();
        if links.len() >= max_per_node {
            links.remove(0);
        }
        links.push(link);
    }
}

impl Default for HttpTransport {
    /// Seeds trusted per [`SeedTrust::Session`]: loopback ones, and the live network's by
    /// their shipped certificates.
    fn default() -> Self {
        Self::with_seed_trust(SeedTrust::Session)
    }
}

/// A failed TLS handshake: [`TransportError::Certificate`] when our verifier refused the
/// peer's certificate, else [`TransportError::Connect`].
fn tls_error(e: &std::io::Error) -> TransportError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(_)) => TransportError::Certificate,
        _ => TransportError::Connect,
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(
    verifier: Option<Arc<dyn ServerCertVerifier>>,
    roots: RootCertStore,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let builder =
        ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let mut config = match verifier {
        Some(v) => builder
            .dangerous()
            .with_custom_certificate_verifier(v)
            .with_no_client_auth(),
        None => builder.with_root_certificates(roots).with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The rustls client configuration for HTTPS to **service nodes**: every certificate is
/// accepted, while the handshake signature is still checked against the certificate the peer
/// shows (TLS 1.3 and 1.2, ALPN `http/1.1`, ring).
///
/// Sound for service nodes, and only for them: their certificates are self-signed and no CA
/// vouches for them, and an onion request does not rest on TLS — each layer is encrypted to
/// the X25519 key of that hop taken from the node list, so a man in the middle of the TLS link
/// sees only ciphertext for someone else and cannot forge a reply the client will open (the
/// [module docs](self) give the whole argument, and why seeds are different). Everything that
/// talks to service nodes uses this one configuration: [`HttpTransport`] for node targets, and
/// metaless-node-server's nodes when they forward onion requests to, or replicate changes on,
/// their peers (replication bodies are client-signed requests, refused if forged).
///
/// ```
/// let config = metaless_client::http::node_client_tls_config().unwrap();
/// assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
/// ```
pub fn node_client_tls_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    client_config(
        Some(Arc::new(CertVerifier::new(CertPolicy::AnyNode))),
        RootCertStore::empty(),
    )
}

impl HttpTransport {
    /// The defaults with `seed_trust` for `https://` seeds.
    ///
    /// ```
    /// use metaless_client::http::{HttpTransport, SeedTrust};
    /// let t = HttpTransport::with_seed_trust(SeedTrust::Roots(vec![]));
    /// assert_eq!(t.seed_trust, SeedTrust::Roots(vec![]));
    /// ```
    pub fn with_seed_trust(seed_trust: SeedTrust) -> Self {
        Self {
            max_body: crate::limits::MAX_REPLY_SIZE,
            timeout: Duration::from_secs(30),
            seed_trust,
            max_idle_per_node: 8,
            idle_timeout: Duration::from_secs(30),
            node_tls: Arc::new(OnceLock::new()),
            pool: Arc::new(Mutex::new(Pool::default())),
            progress: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Connection counters so far (shared by clones).
    ///
    /// ```
    /// let t = metaless_client::http::HttpTransport::default();
    /// assert_eq!((t.stats().requests, t.stats().connections), (0, 0));
    /// ```
    pub fn stats(&self) -> HttpStats {
        self.pool().stats
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn accept_any(&self) -> Option<Arc<ClientConfig>> {
        self.node_tls
            .get_or_init(|| node_client_tls_config().ok())
            .clone()
    }

    /// The TLS configuration for a target, or `None` when it must be refused.
    fn tls_for(&self, is_node: bool, host: &str) -> Option<Arc<ClientConfig>> {
        if is_node {
            return self.accept_any();
        }
        match &self.seed_trust {
            SeedTrust::Roots(anchors) => {
                let mut roots = RootCertStore::empty();
                for der in anchors {
                    // An unusable anchor is skipped: verification then fails closed.
                    let _ = roots.add(CertificateDer::from(der.clone()));
                }
                client_config(None, roots).ok()
            }
            SeedTrust::Pinned(pins) => pinned_config(pins.clone()),
            SeedTrust::LoopbackOnly | SeedTrust::Session if is_loopback(host) => self.accept_any(),
            SeedTrust::LoopbackOnly => None,
            SeedTrust::Session => pinned_config(
                MAINNET_SEED_CERTIFICATES
                    .iter()
                    .filter_map(|pem| pem_certificate_der(pem))
                    .collect(),
            ),
        }
    }

    /// Opens an HTTP/1.1 connection over `stream`.
    async fn handshake(&self, stream: Box<dyn Stream>) -> Result<Link, TransportError> {
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| TransportError::Connect)?;
        self.pool().stats.connections += 1;
        Ok(Link {
            sender,
            conn: Box::pin(conn),
            idle_since: Instant::now(),
        })
    }

    /// One request on `link`: the answer, and the link back when it can carry another.
    async fn exchange(
        &self,
        mut link: Link,
        authority: &str,
        path: &str,
        body: &[u8],
        counter: &Arc<Counter>,
    ) -> (Result<HttpResponse, TransportError>, Option<Link>) {
        // A retry on a new connection starts the count over.
        counter.sent.store(0, Ordering::Relaxed);
        counter.received.store(0, Ordering::Relaxed);
        let body = CountingBody {
            rest: Bytes::copy_from_slice(body),
            counter: Arc::clone(counter),
            yield_next: false,
        };
        let request = match hyper::Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
        {
            Ok(r) => r,
            Err(_) => return (Err(TransportError::Connect), None),
        };
        self.pool().stats.requests += 1;
        let max = self.max_body;
        let (result, alive) = {
            let sender = &mut link.sender;
            let exchange = async move {
                sender.ready().await.map_err(|_| TransportError::Connect)?;
                let resp = sender
                    .send_request(request)
                    .await
                    .map_err(|_| TransportError::Connect)?;
                let status = resp.status().as_u16();
                let mut incoming = Limited::new(resp.into_body(), max);
                let mut body = Vec::new();
                while let Some(frame) = incoming.frame().await {
                    let frame = frame.map_err(|e| {
                        if e.downcast_ref::<http_body_util::LengthLimitError>()
                            .is_some()
                        {
                            TransportError::TooLarge
                        } else {
                            TransportError::Connect
                        }
                    })?;
                    if let Ok(data) = frame.into_data() {
                        body.extend_from_slice(&data);
                        counter
                            .received
                            .fetch_add(data.len() as u64, Ordering::Relaxed);
                        yield_once().await;
                    }
                }
                Ok(HttpResponse { status, body })
            };
            tokio::pin!(exchange);
            // The connection future does the I/O; the exchange completes first on success
            // and the connection stays open (keep-alive) unless it ended.
            tokio::select! {
                biased;
                r = &mut exchange => (r, true),
                _ = &mut link.conn => (exchange.await, false),
            }
        };
        let reusable = alive && result.is_ok() && !link.sender.is_closed();
        link.idle_since = Instant::now();
        (result, reusable.then_some(link))
    }

    /// Connects (TCP, then TLS for `https://`).
    async fn connect(
        &self,
        host: &str,
        port: u16,
        tls: Option<Arc<ClientConfig>>,
    ) -> Result<Link, TransportError> {
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|_| TransportError::Connect)?;
        // Small request/response exchanges: don't let Nagle hold the request back.
        let _ = stream.set_nodelay(true);
        match tls {
            None => self.handshake(Box::new(stream)).await,
            Some(config) => {
                let name =
                    ServerName::try_from(host.to_owned()).map_err(|_| TransportError::Connect)?;
                let stream = tokio_rustls::TlsConnector::from(config)
                    .connect(name, stream)
                    .await
                    .map_err(|e| tls_error(&e))?;
                if stream.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
                    self.pool().stats.tls_resumed += 1;
                }
                self.handshake(Box::new(stream)).await
            }
        }
    }

    /// Runs one exchange: on a kept connection to a service node when there is one (and on a
    /// new one if that fails before an answer), else on a new connection.
    async fn connect_and_exchange(
        &self,
        request: &Transmit,
        counter: &Arc<Counter>,
    ) -> Result<HttpResponse, TransportError> {
        let base = request.to_node.base_url.as_str();
        let (https, authority) = match (base.strip_prefix("http://"), base.strip_prefix("https://"))
        {
            (Some(a), _) => (false, a),
            (_, Some(a)) => (true, a),
            _ => return Err(TransportError::Connect),
        };
        let parsed: hyper::http::uri::Authority =
            authority.parse().map_err(|_| TransportError::Connect)?;
        let host = parsed.host().trim_start_matches('[').trim_end_matches(']');
        let port = parsed.port_u16().unwrap_or(if https { 443 } else { 80 });
        let is_node = request.to_node.node.is_some();
        // Decide about TLS trust before any packet leaves.
        let tls = if https {
            Some(self.tls_for(is_node, host).ok_or(TransportError::Connect)?)
        } else {
            None
        };
        let (path, body) = (request.to_node.path, request.body.as_slice());
        let kept = if is_node {
            let mut pool = self.pool();
            let link = pool.take(base, self.idle_timeout);
            if link.is_some() {
                pool.stats.reused += 1;
            }
            link
        } else {
            None
        };
        let (result, back) = match kept {
            Some(link) => match self.exchange(link, authority, path, body, counter).await {
                // The node may have closed the idle connection: once more on a new one.
                (Err(TransportError::Connect), _) => {
                    let link = self.connect(host, port, tls).await?;
                    self.exchange(link, authority, path, body, counter).await
                }
                done => done,
            },
            None => {
                let link = self.connect(host, port, tls).await?;
                self.exchange(link, authority, path, body, counter).await
            }
        };
        if is_node && let Some(link) = back {
            self.pool().put(base, link, self.max_idle_per_node);
        }
        result
    }
}

/// A TLS configuration accepting only servers that present one of `pins` (DER).
fn pinned_config(pins: Vec<Vec<u8>>) -> Option<Arc<ClientConfig>> {
    if pins.is_empty() {
        return None;
    }
    client_config(
        Some(Arc::new(CertVerifier::new(CertPolicy::Pinned(pins)))),
        RootCertStore::empty(),
    )
    .ok()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Which certificates a [`CertVerifier`] accepts.
#[derive(Debug)]
enum CertPolicy {
    /// Any certificate: service nodes, whose onion layers carry the security
    /// ([`node_client_tls_config`], module docs).
    AnyNode,
    /// Exactly these DER certificates (seeds).
    Pinned(Vec<Vec<u8>>),
}

/// The workspace's one custom certificate verifier: the policy decides which certificate is
/// acceptable; the handshake signature is always verified against the certificate shown.
#[derive(Debug)]
struct CertVerifier {
    policy: CertPolicy,
    provider: Arc<CryptoProvider>,
}

impl CertVerifier {
    fn new(policy: CertPolicy) -> Self {
        Self {
            policy,
            provider: provider(),
        }
    }
}

impl ServerCertVerifier for CertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let accepted = match &self.policy {
            CertPolicy::AnyNode => true,
            CertPolicy::Pinned(pins) => pins.iter().any(|p| p.as_slice() == end_entity.as_ref()),
        };
        if accepted {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl Transport for HttpTransport {
    async fn post(&self, request: &Transmit) -> Result<HttpResponse, TransportError> {
        let until_deadline =
            Duration::from_millis(request.deadline_ms.saturating_sub(wall_clock_ms()));
        let limit = self.timeout.min(until_deadline);
        let counter = Arc::new(Counter::default());
        if let Ok(mut map) = self.progress.lock() {
            map.insert(request.id, Arc::clone(&counter));
        }
        let _tracking = Tracking {
            progress: Arc::clone(&self.progress),
            id: request.id,
        };
        let exchange = self.connect_and_exchange(request, &counter);
        match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout),
        }
    }

    /// Request-body bytes hyper took and response-body bytes read so far (a request sent on a
    /// kept connection that then failed, and is sent again on a new one, starts over at 0).
    fn progress(&self, id: RequestId) -> Option<(u64, u64)> {
        let map = self.progress.lock().ok()?;
        let c = map.get(&id)?;
        Some((
            c.sent.load(Ordering::Relaxed),
            c.received.load(Ordering::Relaxed),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_seed_certificates_decode_and_are_pinned_by_default() {
        let ders: Vec<Vec<u8>> = MAINNET_SEED_CERTIFICATES
            .iter()
            .filter_map(|pem| pem_certificate_der(pem))
            .collect();
        assert_eq!(ders.len(), 3);
        assert!(
            ders.iter().all(|d| d.first() == Some(&0x30)),
            "DER sequences"
        );
        // The live seeds get a pinning configuration by default, nothing without anchors.
        let default = HttpTransport::default();
        assert!(default.tls_for(false, "seed1.getsession.org").is_some());
        let strict = HttpTransport::with_seed_trust(SeedTrust::LoopbackOnly);
        assert!(strict.tls_for(false, "seed1.getsession.org").is_none());
        assert!(
            HttpTransport::with_seed_trust(SeedTrust::Pinned(vec![]))
                .tls_for(false, "seed1.getsession.org")
                .is_none()
        );
    }

    #[test]
    fn pins_accept_only_the_pinned_certificates() {
        let ders: Vec<Vec<u8>> = MAINNET_SEED_CERTIFICATES
            .iter()
            .filter_map(|pem| pem_certificate_der(pem))
            .collect();
        let v = CertVerifier::new(CertPolicy::Pinned(ders[..2].to_vec()));
        let name = ServerName::try_from("seed1.getsession.org").unwrap();
        let check = |der: &[u8]| {
            v.verify_server_cert(
                &CertificateDer::from(der.to_vec()),
                &[],
                &name,
                &[],
                UnixTime::now(),
            )
        };
        assert!(check(&ders[0]).is_ok());
        assert!(check(&ders[1]).is_ok());
        assert!(check(&ders[2]).is_err(), "not pinned");
        let mut tampered = ders[0].clone();
        if let Some(b) = tampered.last_mut() {
            *b ^= 1;
        }
        assert!(check(&tampered).is_err());
    }
}
