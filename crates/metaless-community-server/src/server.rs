//! The hyper/tokio front: one task per connection, bodies capped by `Content-Length` before
//! reading, `POST /oxen/v4/lsrpc` through [`handle_onion`], every other path straight to the
//! core (plain HTTP works too, as on pysogs), a purge task every minute. State in SQLite.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use metaless_community::{CommunityError, CommunityUrl};
use metaless_identity::{Keypair, hex};
use metaless_onion::{NodeKey, ServerDestination};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::core::{CommunityCore, Config, HttpReply, HttpRequest, Perms};
use crate::sqlite::SqliteStore;
use crate::{ServerError, handle_onion};

/// What the onion layer, v4 framing and base64 in a `/batch` may add around the largest upload.
const ONION_OVERHEAD: usize = 256 * 1024;

/// Wall-clock time in ms (the front's only clock; the core takes it as an argument).
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What to serve.
///
/// ```
/// use metaless_community_server::server::ServerConfig;
/// use metaless_identity::{Keypair, Seed};
/// let c = ServerConfig::new(Keypair::from_seed(&Seed::from_bytes([4; 32])));
/// assert_eq!(c.rooms[0].0, "lobby");
/// assert!(c.db.is_none());
/// ```
pub struct ServerConfig {
    /// The server's keys: the X25519 half opens onion layers and is the URL's `public_key`.
    pub keys: Keypair,
    /// The SQLite file (`None`: in memory, gone at shutdown).
    pub db: Option<PathBuf>,
    /// Rooms created at start if missing: token, name, default permissions.
    pub rooms: Vec<(String, String, Perms)>,
    /// Core settings (blind-only, upload limit).
    pub core: Config,
}

impl ServerConfig {
    /// In memory, one open room `lobby`, pysogs defaults.
    pub fn new(keys: Keypair) -> Self {
        Self {
            keys,
            db: None,
            rooms: vec![("lobby".into(), "Lobby".into(), Perms::ALL)],
            core: Config::default(),
        }
    }
}

struct Shared {
    core: Mutex<CommunityCore<SqliteStore>>,
    keys: Keypair,
    max_body: usize,
}

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    x25519: [u8; 32],
    ed25519: [u8; 32],
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's X25519 public key (the URL's `public_key`, what onion layers are sealed to).
    pub fn x25519(&self) -> [u8; 32] {
        self.x25519
    }

    /// The server's Ed25519 public key.
    pub fn ed25519(&self) -> [u8; 32] {
        self.ed25519
    }

    /// `http://host:port/<room>?public_key=<hex>` (what `bootstrap.json` carries).
    pub fn url(&self, room: &str) -> String {
        format!(
            "http://{}/{room}?public_key={}",
            self.addr,
            hex::encode(&self.x25519)
        )
    }

    /// [`ServerHandle::url`] parsed.
    pub fn community_url(&self, room: &str) -> Result<CommunityUrl, CommunityError> {
        CommunityUrl::new(&format!("http://{}", self.addr), room, self.x25519)
    }

    /// Stops accepting, lets open connections finish (bounded), returns when done.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Serves a community on `listener`: opens (or creates) the SQLite store, creates the configured
/// rooms, answers onion v4 requests at `POST /oxen/v4/lsrpc`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use metaless_community_server::server::{self, ServerConfig};
/// use metaless_identity::{Keypair, Seed};
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let keys = Keypair::from_seed(&Seed::from_bytes([4; 32]));
/// let handle = server::spawn(listener, ServerConfig::new(keys)).unwrap();
/// assert!(handle.url("lobby").ends_with(&format!("/lobby?public_key={}", metaless_identity::hex::encode(&handle.x25519()))));
/// assert_eq!(handle.community_url("lobby").unwrap().server_pk(), &handle.x25519());
/// handle.shutdown().await;
/// # }
/// ```
pub fn spawn(listener: TcpListener, config: ServerConfig) -> Result<ServerHandle, ServerError> {
    let addr = listener.local_addr()?;
    let store = match &config.db {
        Some(path) => SqliteStore::open(path)?,
        None => SqliteStore::in_memory()?,
    };
    let x25519 = config.keys.x25519_public();
    let ed25519 = config.keys.ed25519_public();
    let max_body = config.core.max_upload + ONION_OVERHEAD;
    let mut core = CommunityCore::with_store(x25519, config.core, store);
    let now = wall_ms();
    for (token, name, perms) in &config.rooms {
        core.add_room(token, name, *perms, now)?;
    }
    let shared = Arc::new(Shared {
        core: Mutex::new(core),
        keys: config.keys,
        max_body,
    });
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(run(listener, shared, rx));
    Ok(ServerHandle {
        addr,
        x25519,
        ed25519,
        stop,
        task,
    })
}

async fn run(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    let mut purge = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = purge.tick() => {
                if let Ok(mut core) = shared.core.lock() {
                    match core.purge(wall_ms()) {
                        Ok(n) if n > 0 => tracing::debug!(n, "purged expired rows"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(%e, "purge failed"),
                    }
                }
            }
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let shared = Arc::clone(&shared);
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
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

fn to_hyper(r: HttpReply) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(Bytes::from(r.body)));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

fn status(code: u16) -> hyper::Response<Full<Bytes>> {
    to_hyper(HttpReply {
        status: code,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    // Refuse by declared length before reading anything (pysogs' 413 for an upload too big).
    if let Some(len) = req.headers().get(hyper::header::CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|s| s.parse::<u64>().ok()) {
            None => return Ok(status(400)),
            Some(n) if n > shared.max_body as u64 => return Ok(status(413)),
            Some(_) => {}
        }
    }
    let method = req.method().as_str().to_owned();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let mut body = req.into_body();
    let mut data = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Ok(status(400));
        };
        if let Ok(chunk) = frame.into_data() {
            if data.len() + chunk.len() > shared.max_body {
                return Ok(status(413));
            }
            data.extend_from_slice(&chunk);
        }
    }
    let now = wall_ms();
    let Ok(mut core) = shared.core.lock() else {
        return Ok(status(500));
    };
    if method == "POST" && path == ServerDestination::V4_TARGET {
        let key = NodeKey::from_keypair(&shared.keys);
        let mut rng = rand_core::OsRng;
        return Ok(match handle_onion(&mut core, &key, now, &data, &mut rng) {
            Ok(enc) => to_hyper(HttpReply {
                status: 200,
                headers: vec![("content-type".into(), "application/octet-stream".into())],
                body: enc,
            }),
            // A layer that does not open: 400 without detail (pysogs answers the same).
            Err(_) => status(400),
        });
    }
    let reply = core.handle(
        now,
        &HttpRequest {
            method: &method,
            path: &path,
            headers,
            body: &data,
        },
    );
    Ok(to_hyper(reply))
}
