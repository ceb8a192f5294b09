//! The hyper/tokio front: one task per connection, bodies capped by `Content-Length` before
//! reading, `POST /oxen/v4/lsrpc` through [`handle_onion`], every other path straight to the
//! core, a purge task deleting expired files every minute.

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
use metaless_identity::Keypair;
use metaless_onion::{NodeKey, ServerDestination};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::core::{FileServerCore, Reply, Request, Store};
use crate::handle_onion;

/// What the onion layer and v4 framing may add around the largest file.
const ONION_OVERHEAD: usize = 256 * 1024;

/// Wall-clock time in ms (the front's only clock; the core takes it as an argument).
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

struct Shared<S: Store> {
    core: Mutex<FileServerCore<S>>,
    keys: Keypair,
    max_body: usize,
}

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    ed25519: [u8; 32],
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's Ed25519 key (what `#p=` carries).
    pub fn ed25519(&self) -> [u8; 32] {
        self.ed25519
    }

    /// This server as a [`metaless_attachment::FileServer`] (`http`, bound address).
    pub fn file_server(
        &self,
    ) -> Result<metaless_attachment::FileServer, metaless_attachment::AttachmentError> {
        metaless_attachment::FileServer::new(
            "http",
            &self.addr.ip().to_string(),
            self.addr.port(),
            self.ed25519,
        )
    }

    /// Stops accepting, lets open connections finish (bounded), returns when done.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Serves `core` on `listener` with the onion key of `keys` (Ed25519 seed; the X25519 half
/// opens onion layers).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use metaless_file_server::{server, Config, FileServerCore, MemoryStore};
/// use metaless_identity::{Keypair, Seed};
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let keys = Keypair::from_seed(&Seed::from_bytes([4; 32]));
/// let handle = server::spawn(listener, FileServerCore::new(MemoryStore::default(), Config::default()), keys).unwrap();
/// assert!(handle.file_server().unwrap().download_url("x", true).contains("#p="));
/// handle.shutdown().await;
/// # }
/// ```
pub fn spawn<S: Store + Send + 'static>(
    listener: TcpListener,
    core: FileServerCore<S>,
    keys: Keypair,
) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let ed25519 = keys.ed25519_public();
    let max_body = core.config().max_file_size + ONION_OVERHEAD;
    let shared = Arc::new(Shared {
        core: Mutex::new(core),
        keys,
        max_body,
    });
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(run(listener, shared, rx));
    Ok(ServerHandle {
        addr,
        ed25519,
        stop,
        task,
    })
}

async fn run<S: Store + Send + 'static>(
    listener: TcpListener,
    shared: Arc<Shared<S>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let mut purge = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = purge.tick() => {
                if let Ok(mut core) = shared.core.lock() {
                    let n = core.purge(wall_ms());
                    if n > 0 { tracing::debug!(n, "purged expired files"); }
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

fn to_hyper(r: Reply) -> hyper::Response<Full<Bytes>> {
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
    to_hyper(Reply {
        status: code,
        headers: vec![("content-type".into(), "application/json".into())],
        body: format!("{{\"status_code\":{code}}}").into_bytes(),
    })
}

async fn handle<S: Store + Send + 'static>(
    shared: Arc<Shared<S>>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    // Refuse by declared length before reading anything.
    if let Some(len) = req.headers().get(hyper::header::CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|s| s.parse::<u64>().ok()) {
            None => return Ok(status(400)),
            Some(n) if n > shared.max_body as u64 => return Ok(status(413)),
            Some(_) => {}
        }
    }
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
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
            Ok(enc) => to_hyper(Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/octet-stream".into())],
                body: enc,
            }),
            Err(_) => status(400),
        });
    }
    let reply = core.handle(
        now,
        &Request {
            method: &method,
            path: &path,
            headers,
            body: &data,
        },
    );
    Ok(to_hyper(reply))
}
