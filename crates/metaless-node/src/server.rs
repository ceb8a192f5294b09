//! The HTTP front of one node: tokio + hyper 1 on a loopback listener, plain HTTP.
//!
//! `POST /onion_req/v2`, `POST /storage_rpc/v1`, `POST /json_rpc` (seed-node bootstrap). Bodies
//! over [`MAX_REQUEST_BODY_SIZE`] are refused with 413 from the `Content-Length` header before
//! anything is read, and streamed bodies are cut off at the same size. Shutdown stops accepting,
//! lets in-flight requests finish (bounded), then drops the node, closing its database.

use std::convert::Infallible;
use std::net::SocketAddr;
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
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::limits::MAX_REQUEST_BODY_SIZE;
use crate::node::{Action, FORWARDED_HEADER, Node, ONION_PATH, RPC_PATH, Request, Response};

/// How long a node waits for the next hop or a swarm peer (upstream: ~30 s onion, 25 s proxy,
/// 5 s peer); shorter here because everything is on one machine.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);
const REPLICATE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Wall-clock ms since the epoch (the only clock read in the crate: the server is the driver).
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
    node: Arc<Mutex<Node>>,
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The node core (shared with the server).
    pub fn node(&self) -> &Arc<Mutex<Node>> {
        &self.node
    }

    /// Stops accepting, drains in-flight requests, and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Serves `node` on an already bound `listener` until shut down.
pub fn spawn(listener: TcpListener, node: Node) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let node = Arc::new(Mutex::new(node));
    let (tx, rx) = watch::channel(false);
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let task = tokio::spawn(accept_loop(listener, Arc::clone(&node), client, rx));
    Ok(ServerHandle {
        addr,
        shutdown: tx,
        task,
        node,
    })
}

async fn accept_loop(
    listener: TcpListener,
    node: Arc<Mutex<Node>>,
    client: HttpClient,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let node = Arc::clone(&node);
                let client = client.clone();
                let mut stop = stop.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(Arc::clone(&node), client.clone(), peer, req));
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(DRAIN_TIMEOUT, conn).await;
                        }
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
    node: Arc<Mutex<Node>>,
    client: HttpClient,
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    if req.method() != Method::POST {
        return Ok(reply(Response::text(
            404,
            format!("{} {} Not Found", req.method(), req.uri()),
        )));
    }
    // Refuse by declared length before reading anything.
    if let Some(len) = req.headers().get(hyper::header::CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|s| s.parse::<u64>().ok()) {
            None => return Ok(reply(Response::text(400, "invalid Content-Length"))),
            Some(n) if n > MAX_REQUEST_BODY_SIZE as u64 => {
                return Ok(reply(Response::text(413, "Request body too large")));
            }
            Some(_) => {}
        }
    }
    let forwarded = req.headers().contains_key(FORWARDED_HEADER);
    let body = match Limited::new(req.into_body(), MAX_REQUEST_BODY_SIZE)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Ok(reply(Response::text(413, "Request body too large")));
        }
        Err(_) => return Ok(reply(Response::text(400, "could not read request body"))),
    };
    let request = Request {
        path: path.clone(),
        body,
        from: Some(peer.to_string()),
        forwarded,
    };
    let action = match node.lock() {
        Ok(mut n) => n.handle(wall_ms(), request),
        Err(_) => Action::Respond(Response::text(500, "request failed")),
    };
    let response = match action {
        Action::Respond(mut r) => {
            let replicate = std::mem::take(&mut r.replicate);
            let mut set = JoinSet::new();
            for rep in replicate {
                let url = format!("{}{RPC_PATH}", rep.to.url());
                set.spawn(post(client.clone(), url, rep.body, true, REPLICATE_TIMEOUT));
            }
            while let Some(res) = set.join_next().await {
                if let Ok(Err(e)) = res {
                    tracing::warn!("replication to a swarm peer failed: {e}");
                }
            }
            r
        }
        Action::ForwardToNode { node: next, body } => {
            tracing::debug!(next = %metaless_identity::hex::encode(&next.pubkey_ed25519), "relaying onion request");
            match post(
                client,
                format!("{}{ONION_PATH}", next.url()),
                body,
                false,
                FORWARD_TIMEOUT,
            )
            .await
            {
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
    client: HttpClient,
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
        let resp = client
            .request(req)
            .await
            .map_err(|e| PostError::Failed(e.to_string()))?;
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
