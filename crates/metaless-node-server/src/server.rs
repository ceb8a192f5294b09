//! The HTTP front of one node: tokio + hyper 1 on a loopback listener, plain HTTP by default or
//! HTTPS with a self-signed certificate ([`spawn_tls`], see [`crate::tls`]). Swarm replication
//! is here too: the [`Response::replicate`] bodies of a change are POSTed to each swarm peer's
//! `/storage_rpc/v1` (header [`FORWARDED_HEADER`]) before the answer leaves.
//!
//! `POST /onion_req/v2`, `POST /storage_rpc/v1`, `POST /json_rpc` (seed-node bootstrap). Bodies
//! over [`MAX_REQUEST_BODY_SIZE`] are refused with 413 from the `Content-Length` header before
//! anything is read, and streamed bodies are cut off at the same size. Shutdown stops accepting,
//! lets in-flight requests finish (bounded), then drops the node, closing its database.
//!
//! A node served over HTTPS reaches its peers (next onion hops, swarm members it replicates to)
//! over HTTPS too, accepting their self-signed certificates; over plain HTTP it reuses pooled
//! connections, over HTTPS every forward is a fresh connection and handshake.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::sync::watch;
use tokio::task::JoinSet;

use metaless_node::limits::MAX_REQUEST_BODY_SIZE;
use metaless_node::node::FORWARDED_HEADER;
use metaless_node::replication::ReplicaOutcome;
use metaless_node::{Action, Node, NodeError, NodeInfo, Replicate, Request, Response};
use metaless_onion::{HopError, ONION_PATH};
use metaless_swarm::RPC_PATH;

use crate::front::{
    AcceptBackoff, Connections, FrontLimits, RATE_LIMITED_TEXT, RateLimiter, Watched,
};
use crate::tls::ServerTls;

/// How long a node waits for the next hop or a swarm peer (upstream: ~30 s onion, 25 s proxy,
/// 5 s peer); shorter here because everything is on one machine.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);
const REPLICATE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a client may take to finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Wall-clock ms since the epoch (the only clock read in the crate: the server is the driver).
///
/// ```
/// assert!(metaless_node_server::server::wall_ms() > 1_600_000_000_000);
/// ```
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A running node server.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    core: Node,
    node: Arc<Mutex<Node>>,
}

impl ServerHandle {
    /// The bound address.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let port = listener.local_addr().unwrap().port();
    /// let handle = metaless_node_server::server::spawn(listener, metaless_node::node::doc_node()).unwrap();
    /// assert_eq!(handle.addr().port(), port);
    /// handle.shutdown().await;
    /// # });
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The node core the server runs requests on (a handle: [`Node`] is `Clone` and `Sync`,
    /// and the server calls it from every worker thread at once).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let handle = metaless_node_server::server::spawn(listener, metaless_node::node::doc_node()).unwrap();
    /// assert_eq!(handle.core().info().port, 1);
    /// handle.shutdown().await;
    /// # });
    /// ```
    pub fn core(&self) -> &Node {
        &self.core
    }

    /// The same core behind a mutex, for callers written when the server held one: the
    /// server never takes this lock (use [`ServerHandle::core`]).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let handle = metaless_node_server::server::spawn(listener, metaless_node::node::doc_node()).unwrap();
    /// assert_eq!(handle.node().lock().unwrap().info().port, 1);
    /// handle.shutdown().await;
    /// # });
    /// ```
    pub fn node(&self) -> &Arc<Mutex<Node>> {
        &self.node
    }

    /// Stops accepting, drains in-flight requests, and waits for the server task.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let handle = metaless_node_server::server::spawn(listener, metaless_node::node::doc_node()).unwrap();
    /// let addr = handle.addr();
    /// handle.shutdown().await;
    /// assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    /// # });
    /// ```
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// How a node reaches other nodes and HTTP servers.
#[derive(Clone)]
struct Forwarder {
    /// Pooled plain-HTTP client.
    plain: HttpClient,
    /// Present when the testnet runs over HTTPS: peers are `https://` and their self-signed
    /// certificates are accepted.
    tls: Option<tokio_rustls::TlsConnector>,
}

impl Forwarder {
    fn peer_url(&self, peer: &NodeInfo, path: &str) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}:{}{path}", peer.ip, peer.port)
    }
}

/// Serves `node` over plain HTTP on an already bound `listener` until shut down.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let handle = metaless_node_server::server::spawn(listener, metaless_node::node::doc_node()).unwrap();
/// assert!(handle.addr().ip().is_loopback());
/// handle.shutdown().await;
/// # });
/// ```
pub fn spawn(listener: TcpListener, node: Node) -> Result<ServerHandle, NodeError> {
    spawn_with(listener, node, None, FrontLimits::default())
}

/// Serves `node` over HTTPS with `tls`'s self-signed certificate; the node forwards to its
/// peers over HTTPS as well, accepting their certificates ([`crate::tls`] says why).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use metaless_node::node::doc_node;
/// use metaless_node_server::{server, tls::ServerTls};
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let handle = server::spawn_tls(listener, doc_node(), ServerTls::self_signed().unwrap()).unwrap();
/// assert!(handle.addr().port() > 0);
/// handle.shutdown().await;
/// # });
/// ```
pub fn spawn_tls(
    listener: TcpListener,
    node: Node,
    tls: ServerTls,
) -> Result<ServerHandle, NodeError> {
    spawn_with(listener, node, Some(tls), FrontLimits::default())
}

/// Serves `node` (over HTTPS when `tls` is given) with the front's hostile-load limits set
/// to `limits` ([`FrontLimits`]; [`spawn`] and [`spawn_tls`] use the defaults).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use metaless_node_server::{front::FrontLimits, server};
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let limits = FrontLimits { header_timeout: Duration::from_secs(2), ..FrontLimits::default() };
/// let handle = server::spawn_with(listener, metaless_node::node::doc_node(), None, limits).unwrap();
/// handle.shutdown().await;
/// # });
/// ```
pub fn spawn_with(
    listener: TcpListener,
    node: Node,
    tls: Option<ServerTls>,
    limits: FrontLimits,
) -> Result<ServerHandle, NodeError> {
    let addr = listener.local_addr()?;
    let node_ips: HashSet<IpAddr> = node
        .network()
        .nodes()
        .iter()
        .filter_map(|n| n.ip.parse().ok())
        .collect();
    let front = Front {
        rate: Arc::new(RateLimiter::new(node_ips)),
        conns: Arc::new(Connections::default()),
        budget: Arc::new(Semaphore::new(limits.body_budget.div_ceil(1024).max(1))),
        limits: Arc::new(limits),
    };
    let (tx, rx) = watch::channel(false);
    // Request/response traffic: no Nagle delay on a forward's second write (headers, body).
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let forward = Forwarder {
        plain: Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(front.limits.peer_pool_idle)
            .pool_max_idle_per_host(32)
            .build(connector),
        tls: match &tls {
            Some(_) => Some(tokio_rustls::TlsConnector::from(
                crate::tls::node_client_config()?,
            )),
            None => None,
        },
    };
    let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.server_config()));
    tokio::spawn(retry_loop(node.clone(), forward.clone(), rx.clone()));
    tokio::spawn(catch_up_loop(node.clone(), forward.clone(), rx.clone()));
    let task = tokio::spawn(accept_loop(
        listener,
        acceptor,
        node.clone(),
        forward,
        front,
        rx,
    ));
    Ok(ServerHandle {
        addr,
        shutdown: tx,
        task,
        core: node.clone(),
        node: Arc::new(Mutex::new(node)),
    })
}

/// What every connection of one node shares: its limits, connection counts, rate buckets and
/// body budget (in KiB permits).
#[derive(Clone)]
struct Front {
    limits: Arc<FrontLimits>,
    conns: Arc<Connections>,
    rate: Arc<RateLimiter>,
    budget: Arc<Semaphore>,
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    node: Node,
    client: Forwarder,
    front: Front,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let mut backoff = AcceptBackoff::new();
    let local = listener.local_addr().ok();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => { backoff.ok(); let _ = a.0.set_nodelay(true); a }
                    Err(e) => {
                        // EMFILE and friends: the listener stays readable, so retrying at
                        // once would spin; pause (still answering a stop).
                        let pause = backoff.failed(&e, local.unwrap_or(([0, 0, 0, 0], 0).into()));
                        tokio::select! {
                            _ = stop.changed() => break,
                            _ = tokio::time::sleep(pause) => {}
                        }
                        continue;
                    }
                };
                let Some(slot) = front.conns.admit(peer.ip(), &front.limits) else {
                    // Over a cap: closed at once, before any byte is read.
                    tracing::debug!(%peer, "connection refused: cap reached");
                    drop(stream);
                    continue;
                };
                let node = node.clone();
                let client = client.clone();
                let stop = stop.clone();
                let acceptor = acceptor.clone();
                let front = front.clone();
                conns.spawn(async move {
                    let _slot = slot;
                    let Some(acceptor) = acceptor else {
                        return serve(stream, node, client, front, peer, stop).await;
                    };
                    // The handshake runs in the connection's task: a slow client holds up
                    // no one else.
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => serve(tls, node, client, front, peer, stop).await,
                        _ => tracing::debug!(%peer, "TLS handshake failed"),
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
    tracing::info!("node server stopped");
}

/// Serves one connection until it closes, goes idle past the idle timeout, or the server
/// stops (then drains it, bounded). Header-read timeout from hyper; both apply after a TLS
/// handshake too (this is where TLS streams are served).
async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    node: Node,
    client: Forwarder,
    front: Front,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let epoch = std::time::Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let io = Watched {
        inner: stream,
        last: Arc::clone(&last),
        epoch,
    };
    let limits = Arc::clone(&front.limits);
    let svc = service_fn(move |req| handle(node.clone(), client.clone(), front.clone(), peer, req));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let idle_ms = u64::try_from(limits.idle_timeout.as_millis()).unwrap_or(u64::MAX);
    let tick = (limits.idle_timeout / 4).max(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.changed() => {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, conn).await;
                return;
            }
            _ = tokio::time::sleep(tick) => {
                let now = u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
                if now.saturating_sub(last.load(Ordering::Relaxed)) >= idle_ms {
                    tracing::debug!(%peer, "closing an idle connection");
                    return;
                }
            }
        }
    }
}

/// Reads a body of at most `max` bytes into one allocation sized by its declared length (one
/// block that goes back to the system when freed, not a heap of small chunks).
async fn read_body(
    mut body: Incoming,
    declared: Option<u64>,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    let cap = declared
        .and_then(|d| usize::try_from(d).ok())
        .unwrap_or(0)
        .min(max);
    let mut out = Vec::with_capacity(cap);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Read)?;
        if let Ok(data) = frame.into_data() {
            if out.len().saturating_add(data.len()) > max {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

enum BodyError {
    Read,
    TooLarge,
}

fn reply(r: Response) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(Bytes::from(r.body)));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(r.content_type),
    );
    resp
}

async fn handle(
    node: Node,
    client: Forwarder,
    front: Front,
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    if !front
        .rate
        .allow(peer.ip(), std::time::Instant::now(), &front.limits)
    {
        return Ok(reply(Response::text(429, RATE_LIMITED_TEXT)));
    }
    if req.method() != Method::POST {
        return Ok(reply(Response::text(
            404,
            format!("{} {} Not Found", req.method(), req.uri()),
        )));
    }
    // Refuse by declared length before reading anything.
    let mut declared = None;
    if let Some(len) = req.headers().get(hyper::header::CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|s| s.parse::<u64>().ok()) {
            None => return Ok(reply(Response::text(400, "invalid Content-Length"))),
            Some(n) if n > MAX_REQUEST_BODY_SIZE as u64 => {
                return Ok(reply(Response::hop_error(&HopError::PayloadTooLarge)));
            }
            Some(n) => declared = Some(n),
        }
    }
    let forwarded = req.headers().contains_key(FORWARDED_HEADER);
    // A large (or undeclared) body first waits for its share of the node's body budget, so
    // stalled uploads hold at most the budget in memory; the wait and the read share the
    // body timeout.
    let deadline = tokio::time::Instant::now() + front.limits.body_timeout;
    let size = declared
        .and_then(|d| usize::try_from(d).ok())
        .unwrap_or(MAX_REQUEST_BODY_SIZE);
    let _permit = if size > front.limits.small_body {
        let total = front.limits.body_budget.div_ceil(1024).max(1);
        let kib = u32::try_from(size.div_ceil(1024).min(total)).unwrap_or(u32::MAX);
        match tokio::time::timeout_at(deadline, Arc::clone(&front.budget).acquire_many_owned(kib))
            .await
        {
            Ok(Ok(p)) => Some(p),
            _ => return Ok(reply(Response::text(503, "Server busy, try again later"))),
        }
    } else {
        None
    };
    let body = match tokio::time::timeout_at(
        deadline,
        read_body(req.into_body(), declared, MAX_REQUEST_BODY_SIZE),
    )
    .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(BodyError::TooLarge)) => {
            return Ok(reply(Response::hop_error(&HopError::PayloadTooLarge)));
        }
        Ok(Err(BodyError::Read)) => {
            return Ok(reply(Response::text(400, "could not read request body")));
        }
        Err(_) => return Ok(reply(Response::text(408, "Request body timed out"))),
    };
    let request = Request {
        path: path.clone(),
        body,
        from: Some(peer.to_string()),
        forwarded,
    };
    // No lock here: the core takes its own narrow ones, so requests run on every worker.
    let action = node.handle(wall_ms(), request);
    let response = match action {
        Action::Respond(mut r) => {
            let replicate = std::mem::take(&mut r.replicate);
            let mut set = JoinSet::new();
            for rep in replicate {
                let url = client.peer_url(&rep.to, RPC_PATH);
                set.spawn(post(client.clone(), url, rep.body, true, REPLICATE_TIMEOUT));
            }
            while let Some(res) = set.join_next().await {
                if let Ok(Err(e)) = res {
                    tracing::warn!("replication to a swarm peer failed: {e}");
                }
            }
            r
        }
        Action::Replicate { ticket, targets } => {
            let outcomes = replicate_all(&client, targets).await;
            node.finish_replication(wall_ms(), ticket, &outcomes)
        }
        Action::ForwardToNode { node: next, body } => {
            tracing::debug!(next = %metaless_identity::hex::encode(&next.pubkey_ed25519), "relaying onion request");
            let url = client.peer_url(&next, ONION_PATH);
            match post(client, url, body, false, FORWARD_TIMEOUT).await {
                Ok((status, body)) => Response {
                    status,
                    content_type: "text/plain",
                    body,
                    replicate: Vec::new(),
                },
                Err(_) => Response::request_timeout(),
            }
        }
        Action::ForwardToServer { url, body } => {
            if !url.starts_with("http://") {
                Response::bad_gateway("Unsupported protocol (plain HTTP only in the local testnet)")
            } else {
                match post(client, url, body, false, FORWARD_TIMEOUT).await {
                    Ok((status, body)) => Response {
                        status,
                        content_type: "application/octet-stream",
                        body,
                        replicate: Vec::new(),
                    },
                    Err(PostError::Timeout) => Response::request_timeout(),
                    Err(PostError::Failed(e)) => Response::bad_gateway(&e),
                }
            }
        }
    };
    tracing::debug!(%path, status = response.status, "answered");
    Ok(reply(response))
}

/// POSTs each signed forward to its peer concurrently; the peers' answers by key.
async fn replicate_all(
    client: &Forwarder,
    targets: Vec<Replicate>,
) -> Vec<([u8; 32], ReplicaOutcome)> {
    let mut set = JoinSet::new();
    for rep in targets {
        let url = client.peer_url(&rep.to, RPC_PATH);
        let client = client.clone();
        let key = rep.to.pubkey_ed25519;
        set.spawn(async move {
            let r = post(client, url, rep.body, true, REPLICATE_TIMEOUT).await;
            (key, r)
        });
    }
    let mut out = Vec::new();
    while let Some(res) = set.join_next().await {
        let Ok((key, r)) = res else { continue };
        let outcome = match r {
            Ok((status, body)) => ReplicaOutcome::Answered { status, body },
            Err(e) => {
                tracing::warn!(peer = %metaless_identity::hex::encode(&key), "replication failed: {e} (queued for retry)");
                ReplicaOutcome::Timeout
            }
        };
        out.push((key, outcome));
    }
    out
}

/// How often a node looks at its replication retry queue, and how many replays it sends
/// per round.
const RETRY_INTERVAL: Duration = Duration::from_millis(500);
const RETRY_BATCH: usize = 256;

/// Sends the node's due replication retries until the server stops.
async fn retry_loop(node: Node, client: Forwarder, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(RETRY_INTERVAL) => {}
        }
        let jobs = node.due_retries(wall_ms(), RETRY_BATCH);
        if jobs.is_empty() {
            continue;
        }
        let mut set = JoinSet::new();
        for job in jobs {
            let url = client.peer_url(&job.send.to, RPC_PATH);
            let client = client.clone();
            set.spawn(async move {
                let r = post(client, url, job.send.body.clone(), true, REPLICATE_TIMEOUT).await;
                let outcome = match r {
                    Ok((status, body)) => ReplicaOutcome::Answered { status, body },
                    Err(_) => ReplicaOutcome::Timeout,
                };
                (job, outcome)
            });
        }
        while let Some(res) = set.join_next().await {
            if let Ok((job, outcome)) = res {
                node.retry_result(wall_ms(), job, &outcome);
            }
        }
    }
}

/// How often a node asks its core whether a catch-up is wanted (at start, and after a move to
/// another swarm).
const CATCH_UP_POLL: Duration = Duration::from_millis(250);

/// Runs the node's catch-ups ([`metaless_node::sync`]): one chain of requests per swarm peer,
/// concurrently, each bounded by the core; logs what each brought in and how long it took.
async fn catch_up_loop(node: Node, client: Forwarder, mut stop: watch::Receiver<bool>) {
    let mut chains = JoinSet::new();
    loop {
        if node.take_catch_up_wanted() {
            for step in node.catch_up_start(wall_ms()) {
                chains.spawn(catch_up_chain(node.clone(), client.clone(), step));
            }
        }
        tokio::select! {
            _ = stop.changed() => { chains.abort_all(); return; }
            _ = tokio::time::sleep(CATCH_UP_POLL) => {}
            Some(_) = chains.join_next(), if !chains.is_empty() => {}
        }
    }
}

/// One peer's catch-up, request after request, until the core says done or gave up.
async fn catch_up_chain(node: Node, client: Forwarder, mut step: metaless_node::sync::SyncStep) {
    use metaless_node::sync::CatchUpProgress;
    let started = std::time::Instant::now();
    let peer = metaless_identity::hex::encode(&step.catch_up.peer.pubkey_ed25519);
    loop {
        let wait = u64::try_from(wall_ms()).map_or(0, |now| step.not_before_ms.saturating_sub(now));
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let url = client.peer_url(&step.send.to, RPC_PATH);
        let outcome = match post(
            client.clone(),
            url,
            step.send.body.clone(),
            true,
            REPLICATE_TIMEOUT,
        )
        .await
        {
            Ok((status, body)) => ReplicaOutcome::Answered { status, body },
            Err(_) => ReplicaOutcome::Timeout,
        };
        let progress = node.catch_up_answer(wall_ms(), step, &outcome);
        match progress {
            CatchUpProgress::Next(next) => step = next,
            CatchUpProgress::Done(c) => {
                let s = c.stats;
                tracing::info!(%peer, listed = s.listed, stored = s.stored, deleted = s.deleted,
                    shortened = s.shortened, rejected = s.rejected, requests = s.requests,
                    ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX), "catch-up done");
                return;
            }
            CatchUpProgress::GaveUp(c) => {
                tracing::warn!(%peer, stored = c.stats.stored, requests = c.stats.requests,
                    "catch-up gave up (peer unreachable)");
                return;
            }
        }
    }
}

#[derive(Debug)]
enum PostError {
    Timeout,
    Failed(String),
}

impl core::fmt::Display for PostError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Timeout => f.write_str("timeout"),
            Self::Failed(e) => f.write_str(e),
        }
    }
}

async fn post(
    client: Forwarder,
    url: String,
    body: Vec<u8>,
    forwarded: bool,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), PostError> {
    let mut builder = hyper::Request::post(&url);
    if forwarded {
        builder = builder.header(FORWARDED_HEADER, "1");
    }
    let req = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| PostError::Failed(e.to_string()))?;
    let fut = async {
        let resp = match (&client.tls, url.strip_prefix("https://")) {
            (Some(tls), Some(rest)) => {
                let authority = rest.split('/').next().unwrap_or(rest);
                post_tls(tls, authority, req).await?
            }
            _ => client
                .plain
                .request(req)
                .await
                .map_err(|e| PostError::Failed(e.to_string()))?,
        };
        let status = resp.status().as_u16();
        let body = Limited::new(resp.into_body(), MAX_REQUEST_BODY_SIZE)
            .collect()
            .await
            .map_err(|e| PostError::Failed(e.to_string()))?
            .to_bytes()
            .to_vec();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or(Err(PostError::Timeout))
}

/// One request over a fresh TLS connection to `authority` (`ip:port`).
async fn post_tls(
    tls: &tokio_rustls::TlsConnector,
    authority: &str,
    mut req: hyper::Request<Full<Bytes>>,
) -> Result<hyper::Response<Incoming>, PostError> {
    let failed = |e: &dyn core::fmt::Display| PostError::Failed(e.to_string());
    let (host, _) = authority
        .rsplit_once(':')
        .ok_or_else(|| PostError::Failed("no port in URL".into()))?;
    // The certificate is not checked, so the name only has to be well formed.
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| failed(&e))?;
    let tcp = TcpStream::connect(authority)
        .await
        .map_err(|e| failed(&e))?;
    let _ = tcp.set_nodelay(true);
    let stream = tls.connect(name, tcp).await.map_err(|e| failed(&e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| failed(&e))?;
    // The connection drives the I/O; it ends when the response body is read or dropped.
    tokio::spawn(conn);
    // hyper's connection-level client sends the URI as given: use origin form plus Host.
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    *req.uri_mut() = path.parse().map_err(|e| failed(&e))?;
    if let Ok(v) = hyper::header::HeaderValue::from_str(authority) {
        req.headers_mut().insert(hyper::header::HOST, v);
    }
    sender.send_request(req).await.map_err(|e| failed(&e))
}
