//! The hyper/tokio front of the mock push server: `POST /oxen/v4/lsrpc` (onion requests, as
//! clients reach the real server) through [`handle_onion`], plain `POST /subscribe` and
//! `POST /unsubscribe` straight to the core, and a swarm watcher ([`ServerHandle::watch`])
//! feeding newly stored messages to [`MockPushServer::message_stored`].
//!
//! Real SPNS learns about new messages by asking the account's swarm to monitor it (the signed
//! `MONITOR` string is what authorises that). A local testnet's nodes have no monitor endpoint,
//! so whoever runs the nodes hands the watcher a [`SwarmSource`] that lists what their storage
//! holds for the watched accounts.

use std::collections::{BTreeSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use metaless_envelope::push::{MAX_PUSH_BODY_LEN, error_json};
use metaless_identity::{Keypair, SessionId};
use metaless_onion::{NodeKey, OnionError, ServerDestination};
use rand_core::OsRng;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::{Delivery, MockPushServer, handle_onion};

/// Largest request body read: an onion layer around the largest subscribe body.
const MAX_BODY: usize = MAX_PUSH_BODY_LEN + 64 * 1024;
/// Message hashes the watcher remembers (older ones are forgotten first).
const MAX_SEEN: usize = 100_000;

/// Wall-clock time in ms (the front's only clock; the core takes it as an argument).
///
/// ```
/// assert!(metaless_push_server::server::wall_ms() > 1_600_000_000_000);
/// ```
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One message a swarm holds, as a [`SwarmSource`] reports it.
///
/// ```
/// let m = metaless_push_server::server::StoredMessage {
///     account: "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72".parse().unwrap(),
///     namespace: 0, hash: "h".into(), data: vec![1],
/// };
/// assert_eq!(m.namespace, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The account it was stored for.
    pub account: SessionId,
    /// Its namespace.
    pub namespace: i16,
    /// Its storage hash.
    pub hash: String,
    /// The stored bytes.
    pub data: Vec<u8>,
}

/// Lists what the swarm holds for the watched accounts (each with the namespaces watched).
/// Called from the watcher task at every tick; returning messages already reported is fine
/// (they are recognised by hash).
///
/// ```
/// use metaless_push_server::server::{StoredMessage, SwarmSource};
/// fn nothing(_: &[(metaless_identity::SessionId, Vec<i16>)]) -> Vec<StoredMessage> { Vec::new() }
/// let mut source = nothing;
/// assert!(source.fetch(&[]).is_empty());
/// ```
pub trait SwarmSource: Send + 'static {
    /// Messages currently stored for `watched` accounts and namespaces.
    fn fetch(&mut self, watched: &[(SessionId, Vec<i16>)]) -> Vec<StoredMessage>;
}

impl<F> SwarmSource for F
where
    F: FnMut(&[(SessionId, Vec<i16>)]) -> Vec<StoredMessage> + Send + 'static,
{
    fn fetch(&mut self, watched: &[(SessionId, Vec<i16>)]) -> Vec<StoredMessage> {
        self(watched)
    }
}

type Core = Arc<Mutex<MockPushServer<OsRng>>>;

/// A running mock push server.
pub struct ServerHandle {
    addr: SocketAddr,
    ed25519: [u8; 32],
    x25519: [u8; 32],
    core: Core,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl core::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's Ed25519 key (what a testnet's `bootstrap.json` lists).
    pub fn ed25519(&self) -> [u8; 32] {
        self.ed25519
    }

    /// The server's X25519 key (onion requests are encrypted to it).
    pub fn x25519(&self) -> [u8; 32] {
        self.x25519
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where clients send onion requests: `http`, the bound address, the X25519 key.
    pub fn destination(&self) -> Result<ServerDestination, OnionError> {
        ServerDestination::new(
            &self.addr.ip().to_string(),
            self.addr.port(),
            "http",
            self.x25519,
        )
    }

    /// How many subscriptions the server holds.
    pub fn subscriptions(&self) -> usize {
        self.core.lock().map_or(0, |c| c.subscriptions().len())
    }

    /// A message was stored (for callers that see stores themselves instead of
    /// [`watch`](Self::watch)): pushes it to every matching subscription; returns how many.
    pub fn message_stored(
        &self,
        account: &SessionId,
        namespace: i16,
        hash: &str,
        data: &[u8],
    ) -> usize {
        self.core
            .lock()
            .map_or(0, |mut c| c.message_stored(account, namespace, hash, data))
    }

    /// Starts watching the swarm through `source` every `every`: each message not seen before
    /// (by hash) is pushed to the subscriptions watching its account and namespace. Messages
    /// already stored when an account is first watched are pushed too (the mock cannot tell
    /// when they arrived); a message is never pushed twice. The task ends with
    /// [`shutdown`](Self::shutdown).
    pub fn watch(&self, every: Duration, mut source: impl SwarmSource) {
        let core = Arc::clone(&self.core);
        let mut stop = self.stop.subscribe();
        let mut seen = Seen::default();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tick.tick() => {}
                }
                let watched = match core.lock() {
                    Ok(c) => c.watched(),
                    Err(_) => break,
                };
                if watched.is_empty() {
                    continue;
                }
                // The source may be slow (it reads databases): no lock held while it runs.
                let messages = source.fetch(&watched);
                let Ok(mut c) = core.lock() else { break };
                for m in messages {
                    if seen.insert(&m.account, &m.hash) {
                        c.message_stored(&m.account, m.namespace, &m.hash, &m.data);
                    }
                }
            }
        });
    }

    /// Stops accepting, lets open connections finish (bounded), returns when done.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Hashes already pushed, bounded: the oldest are forgotten first.
#[derive(Default)]
struct Seen {
    set: BTreeSet<(SessionId, String)>,
    order: VecDeque<(SessionId, String)>,
}

impl Seen {
    fn insert(&mut self, account: &SessionId, hash: &str) -> bool {
        let key = (*account, hash.to_owned());
        if !self.set.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > MAX_SEEN
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// Serves a mock push server on `listener` with the onion key of `keys`, delivering every
/// push to `hook` (where APNS / Firebase would be). Must be called inside a tokio runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use metaless_identity::{Keypair, Seed};
/// use metaless_push_server::server;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let keys = Keypair::from_seed(&Seed::from_bytes([4; 32]));
/// let handle = server::spawn(listener, keys, |_delivery| {}).unwrap();
/// assert_eq!(handle.destination().unwrap().x25519(), handle.x25519());
/// assert_eq!(handle.subscriptions(), 0);
/// handle.shutdown().await;
/// # }
/// ```
pub fn spawn(
    listener: TcpListener,
    keys: Keypair,
    hook: impl FnMut(Delivery) + Send + 'static,
) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let core: Core = Arc::new(Mutex::new(MockPushServer::new(hook, OsRng)));
    let (ed25519, x25519) = (keys.ed25519_public(), keys.x25519_public());
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(run(listener, Arc::clone(&core), Arc::new(keys), rx));
    Ok(ServerHandle {
        addr,
        ed25519,
        x25519,
        core,
        stop,
        task,
    })
}

async fn run(
    listener: TcpListener,
    core: Core,
    keys: Arc<Keypair>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (core, keys) = (Arc::clone(&core), Arc::clone(&keys));
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        handle(Arc::clone(&core), Arc::clone(&keys), req)
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
}

fn reply(status: u16, content_type: &str, body: Vec<u8>) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

fn error(status: u16, message: &str) -> hyper::Response<Full<Bytes>> {
    reply(
        status,
        "application/json",
        error_json(1, message).into_bytes(),
    )
}

async fn handle(
    core: Core,
    keys: Arc<Keypair>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    // Refuse by declared length before reading anything.
    if let Some(len) = req.headers().get(hyper::header::CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|s| s.parse::<u64>().ok()) {
            None => return Ok(error(400, "bad content-length")),
            Some(n) if n > MAX_BODY as u64 => return Ok(error(413, "too large")),
            Some(_) => {}
        }
    }
    if req.method() != hyper::Method::POST {
        return Ok(error(405, "method not allowed"));
    }
    let path = req.uri().path().to_owned();
    let mut body = req.into_body();
    let mut data = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Ok(error(400, "bad body"));
        };
        if let Ok(chunk) = frame.into_data() {
            if data.len() + chunk.len() > MAX_BODY {
                return Ok(error(413, "too large"));
            }
            data.extend_from_slice(&chunk);
        }
    }
    let now = wall_ms();
    let Ok(mut core) = core.lock() else {
        return Ok(error(500, "internal error"));
    };
    if path == ServerDestination::V4_TARGET {
        let key = NodeKey::from_keypair(&keys);
        return Ok(
            match handle_onion(&mut core, &key, now, &data, &mut OsRng) {
                Ok(enc) => reply(200, "application/octet-stream", enc),
                Err(_) => error(400, "bad onion request"),
            },
        );
    }
    let (status, body) = core.handle(&path, &data, now);
    Ok(reply(status, "application/json", body))
}
