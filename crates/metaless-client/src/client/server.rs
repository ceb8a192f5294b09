//! Requests to HTTP servers (community servers, the file server, push servers) through the
//! client's onion paths: the request is framed as onion v4 (`metaless_onion::v4`), wrapped
//! for [`Destination::Server`](metaless_onion::Destination::Server) and posted to the path's
//! guard; the last hop proxies it to the server, whose encrypted v4 answer comes back the same
//! way. The server sees a service node's address, never the client's; the nodes on the path see
//! only ciphertext and the server's host name.
//!
//! Path faults (no answer, a hop error naming a node, a reply that does not open) are retried
//! on another path like any operation, up to `max_attempts`; the server's own status (a 404, a
//! 500) is the answer and is reported as it is.

use std::collections::{BTreeMap, BTreeSet};

use metaless_onion::{Destination, HopError, ONION_PATH, ServerDestination, v4};
use metaless_swarm::NodeId;

use super::Client;
use super::event::Event;
use super::faults::Fault;
use super::ops::{OpKey, OpKind};
use super::requests::InFlight;
use crate::transport::{HttpResponse, Target};
use crate::{ClientError, OpId, limits};

/// An HTTP request for a server reached through an onion path.
///
/// ```
/// use metaless_client::ServerRequest;
/// use metaless_onion::ServerDestination;
/// let server = ServerDestination::new("open.getsession.org", 443, "https", [7; 32]).unwrap();
/// let req = ServerRequest::get(server.clone(), "/room/sudoku")
///     .with_header("X-SOGS-Pubkey", "00aa");
/// assert_eq!((req.method.as_str(), req.endpoint.as_str()), ("GET", "/room/sudoku"));
/// let post = ServerRequest::post(server, "/file", b"bytes".to_vec());
/// assert_eq!(post.body.as_deref(), Some(&b"bytes"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerRequest {
    /// The server: host, port, scheme and X25519 key (the onion's last layer is encrypted to it).
    pub server: ServerDestination,
    /// HTTP method (`GET`, `POST`, `PUT`, `DELETE`, …).
    pub method: String,
    /// Path and query on the server, starting with `/`.
    pub endpoint: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any (`Content-Type: application/json` is added when none is given, as
    /// upstream does).
    pub body: Option<Vec<u8>>,
}

impl ServerRequest {
    /// A request without headers or body.
    ///
    /// ```
    /// # use metaless_client::ServerRequest;
    /// # use metaless_onion::ServerDestination;
    /// let server = ServerDestination::new("127.0.0.1", 8080, "http", [7; 32]).unwrap();
    /// assert_eq!(ServerRequest::new(server, "DELETE", "/x").method, "DELETE");
    /// ```
    pub fn new(server: ServerDestination, method: &str, endpoint: &str) -> Self {
        Self {
            server,
            method: method.into(),
            endpoint: endpoint.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A `GET`.
    ///
    /// ```
    /// # use metaless_client::ServerRequest;
    /// # use metaless_onion::ServerDestination;
    /// let server = ServerDestination::new("127.0.0.1", 8080, "http", [7; 32]).unwrap();
    /// assert!(ServerRequest::get(server, "/capabilities").body.is_none());
    /// ```
    pub fn get(server: ServerDestination, endpoint: &str) -> Self {
        Self::new(server, "GET", endpoint)
    }

    /// A `POST` with `body`.
    ///
    /// ```
    /// # use metaless_client::ServerRequest;
    /// # use metaless_onion::ServerDestination;
    /// let server = ServerDestination::new("127.0.0.1", 8080, "http", [7; 32]).unwrap();
    /// assert_eq!(ServerRequest::post(server, "/x", vec![1]).method, "POST");
    /// ```
    pub fn post(server: ServerDestination, endpoint: &str, body: Vec<u8>) -> Self {
        Self::new(server, "POST", endpoint).with_body(body)
    }

    /// Adds a header.
    ///
    /// ```
    /// # use metaless_client::ServerRequest;
    /// # use metaless_onion::ServerDestination;
    /// # let server = ServerDestination::new("127.0.0.1", 8080, "http", [7; 32]).unwrap();
    /// let r = ServerRequest::get(server, "/x").with_header("Accept", "*/*");
    /// assert_eq!(r.headers, [("Accept".to_string(), "*/*".to_string())]);
    /// ```
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    ///
    /// ```
    /// # use metaless_client::ServerRequest;
    /// # use metaless_onion::ServerDestination;
    /// # let server = ServerDestination::new("127.0.0.1", 8080, "http", [7; 32]).unwrap();
    /// let r = ServerRequest::new(server, "PUT", "/x").with_body(b"{}".to_vec());
    /// assert!(r.body.is_some());
    /// ```
    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// Checks the request and frames it as a v4 payload.
    fn encode(&self) -> Result<Vec<u8>, ClientError> {
        let bad = |what: &str| ClientError::InvalidRequest(what.into());
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&c))
        };
        if !token(&self.method) {
            return Err(bad("method"));
        }
        if self.endpoint.is_empty()
            || self.endpoint.len() > limits::MAX_SERVER_ENDPOINT
            || !self.endpoint.bytes().all(|c| c.is_ascii_graphic())
        {
            return Err(bad("endpoint"));
        }
        if self.headers.len() > limits::MAX_SERVER_HEADERS
            || self.headers.iter().any(|(name, value)| {
                !token(name) || value.bytes().any(|c| c.is_ascii_control() && c != b'\t')
            })
        {
            return Err(bad("headers"));
        }
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let payload =
            v4::encode_request(&self.method, &self.endpoint, &headers, self.body.as_deref());
        if payload.len() > limits::MAX_SERVER_REQUEST {
            return Err(ClientError::TooLarge {
                len: payload.len(),
                max: limits::MAX_SERVER_REQUEST,
            });
        }
        Ok(payload)
    }
}

/// A server's answer, as the v4 framing carried it.
///
/// ```
/// use metaless_client::ServerResponse;
/// let r = ServerResponse { status: 200, headers: Default::default(), body: b"{}".to_vec() };
/// assert!(r.is_success());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerResponse {
    /// The server's HTTP status.
    pub status: u16,
    /// Its headers (servers send lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Its body.
    pub body: Vec<u8>,
}

impl ServerResponse {
    /// A 2xx status.
    ///
    /// ```
    /// # use metaless_client::ServerResponse;
    /// let r = ServerResponse { status: 404, headers: Default::default(), body: vec![] };
    /// assert!(!r.is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Client {
    /// Sends `request` to its server through an onion path.
    /// [`Event::ServerResponse`](crate::Event::ServerResponse) carries the server's answer
    /// (whatever its status), or [`Event::Failed`](crate::Event::Failed) follows when no path
    /// got an answer through within `max_attempts`.
    ///
    /// Refused at once: a malformed method, endpoint or header
    /// ([`ClientError::InvalidRequest`]), a request over
    /// [`MAX_SERVER_REQUEST`](crate::limits::MAX_SERVER_REQUEST) ([`ClientError::TooLarge`]).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ServerRequest, ClientError};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_onion::ServerDestination;
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let server = ServerDestination::new("files.example", 443, "https", [7; 32]).unwrap();
    /// let id = client.server_request(1_000, ServerRequest::get(server.clone(), "/file/1")).unwrap();
    /// assert_eq!(client.pending_ops(), 1);
    /// assert!(matches!(client.server_request(1_000, ServerRequest::new(server, "G T", "/")),
    ///     Err(ClientError::InvalidRequest(_))));
    /// # let _ = id;
    /// ```
    pub fn server_request(
        &mut self,
        now_ms: u64,
        request: ServerRequest,
    ) -> Result<OpId, ClientError> {
        let payload = request.encode()?;
        self.queue(
            OpKind::Server {
                dest: Box::new(request.server),
                payload,
            },
            now_ms,
        )
    }

    /// One attempt of a server request: a path (any, the server is no swarm), the onion to the
    /// server, handed out.
    pub(super) fn attempt_server(&mut self, key: OpKey, now: u64) {
        let Some(OpKind::Server { dest, payload }) = self.ops.get(key).map(|op| &op.kind) else {
            return;
        };
        let (dest, payload) = (Destination::Server((**dest).clone()), payload.clone());
        let (hops, paths) = (self.config.hops, self.config.paths);
        let Some((pid, fresh)) =
            self.dir
                .path_for(&BTreeSet::new(), hops, paths, now, &mut self.rng)
        else {
            return self.stall(key, now);
        };
        let Some(path) = self.dir.path(pid).map(|p| p.hops.clone()) else {
            return self.stall(key, now);
        };
        if fresh {
            self.stats.paths_built += 1;
            self.events.push_back(Event::PathRebuilt {
                hops: path.iter().copied().map(NodeId::from).collect(),
            });
        }
        let onion_hops: Vec<metaless_onion::Hop> = path
            .iter()
            .filter_map(|k| self.dir.get(k).map(|e| e.hop.clone()))
            .collect();
        let built = match metaless_onion::build(
            &onion_hops,
            &dest,
            &payload,
            self.config.enc,
            &mut self.rng,
        ) {
            Ok(built) => built,
            // Sized before queueing; a build failure now is a path without keys.
            Err(_) => return self.stall(key, now),
        };
        let Some(guard) = self.dir.get(&built.first_hop) else {
            return self.stall(key, now);
        };
        let target = Target {
            node: Some(NodeId::from(built.first_hop)),
            base_url: self.base_url(&guard.node),
            path: ONION_PATH,
        };
        let fl = self.new_request(key, Some(built.pending), Some(pid), path, None, now);
        self.push(fl, target, built.body);
    }

    /// The guard's answer to a server request.
    pub(super) fn on_server_response(&mut self, now: u64, fl: &InFlight, resp: HttpResponse) {
        let Some(pending) = &fl.reply else {
            return self.fail(now, fl, Fault::BadReply);
        };
        if resp.status != 200 {
            let text = String::from_utf8_lossy(&resp.body);
            let hop = HopError::from_response(resp.status, &text);
            // An error no hop protocol names is the last hop failing to reach the server:
            // retried, but no node is to blame for it.
            let fault = match hop {
                HopError::Other { .. } => Fault::Server,
                known => Fault::Hop(known),
            };
            return self.fail(now, fl, fault);
        }
        let Ok(plain) = pending.open(&resp.body) else {
            return self.fail(now, fl, Fault::BadReply);
        };
        let Ok(decoded) = v4::decode_response(&plain) else {
            return self.fail(now, fl, Fault::BadReply);
        };
        if let Some(pid) = fl.path {
            self.dir.path_ok(pid);
            for hop in &fl.hops {
                self.dir.clear_strikes(hop);
            }
        }
        let response = ServerResponse {
            status: decoded.code,
            headers: decoded.headers,
            body: decoded.body.to_vec(),
        };
        let Some(op) = self.ops.get(fl.op) else {
            return;
        };
        if let Some(id) = op.user {
            self.events
                .push_back(Event::ServerResponse { id, response });
        }
        self.finish(fl.op, now, None);
    }
}
