//! The sans-IO node core: one request in, one [`Action`] out. No sockets, no clock, no global
//! randomness — the driver (metaless-node-server's HTTP server, or metaless-testnet's
//! `LoopbackNet`) passes time in and carries actions out.
//!
//! Endpoint paths are the protocol crates': [`ONION_PATH`] (metaless-onion), [`RPC_PATH`] and
//! [`SEED_PATH`] (metaless-swarm). Path errors are [`HopError`]s, answered with its status and
//! text ([`Response::hop_error`]).

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Serialize;
use serde_json::{Value, json};

use metaless_identity::{Keypair, hex};

use crate::limits::{MAX_OBSERVATIONS, MAX_ONION_HOPS, MAX_REQUEST_BODY_SIZE};
use crate::network::{NetworkMap, NodeInfo};
use crate::rpc::RpcCtx;
use crate::storage::{MemoryStorage, Storage};
use metaless_onion::{HopError, NodeKey, ONION_PATH, Peeled};
use metaless_swarm::server::{Reply, ReplyBody};
use metaless_swarm::{RPC_PATH, SEED_PATH};

/// Header a node sets when replaying a change on its swarm peers.
pub const FORWARDED_HEADER: &str = "x-metaless-forwarded";

/// Interval between storage expiry sweeps, in (virtual) ms.
const SWEEP_INTERVAL_MS: i64 = 10_000;

/// One HTTP request as the core sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Request path, e.g. [`ONION_PATH`].
    pub path: String,
    /// Body bytes (the driver enforces [`MAX_REQUEST_BODY_SIZE`] before buffering).
    pub body: Vec<u8>,
    /// Address of the previous hop (peer socket address, or node name in `LoopbackNet`).
    pub from: Option<String>,
    /// Set when a swarm peer replays a change (header [`FORWARDED_HEADER`]).
    pub forwarded: bool,
}

impl Request {
    /// A POST from `from` to `path`.
    ///
    /// ```
    /// let r = metaless_node::Request::post("/storage_rpc/v1", b"{}".to_vec());
    /// assert_eq!(r.path, "/storage_rpc/v1");
    /// assert!(!r.forwarded);
    /// ```
    pub fn post(path: &str, body: Vec<u8>) -> Self {
        Self {
            path: path.to_owned(),
            body,
            from: None,
            forwarded: false,
        }
    }
}

/// An HTTP response, plus the swarm replication the driver must deliver before sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// `application/json`, `text/plain` or `application/octet-stream`.
    pub content_type: &'static str,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Requests to POST to swarm peers' `/storage_rpc/v1` with [`FORWARDED_HEADER`].
    pub replicate: Vec<Replicate>,
}

impl Response {
    /// A plain-text response (how every error leaves a node).
    ///
    /// ```
    /// let r = metaless_node::Response::text(504, "Request time out");
    /// assert_eq!((r.status, r.body.as_slice()), (504, &b"Request time out"[..]));
    /// ```
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain",
            body: body.into().into_bytes(),
            replicate: Vec::new(),
        }
    }

    /// A path error, with [`HopError`]'s status and text (plain text, unencrypted).
    ///
    /// ```
    /// use metaless_onion::HopError;
    /// let r = metaless_node::Response::hop_error(&HopError::PayloadTooLarge);
    /// assert_eq!((r.status, r.body.as_slice()), (413, &b"Request body too large"[..]));
    /// ```
    pub fn hop_error(error: &HopError) -> Self {
        Self::text(error.status(), error.body())
    }

    /// What an entry or relay node answers when the next hop did not reply
    /// ([`HopError::RequestTimeout`]).
    ///
    /// ```
    /// let r = metaless_node::Response::request_timeout();
    /// assert_eq!((r.status, r.body.as_slice()), (504, &b"Request time out"[..]));
    /// ```
    pub fn request_timeout() -> Self {
        Self::hop_error(&HopError::RequestTimeout)
    }

    /// What a relay answers when the HTTP server destination could not be reached.
    ///
    /// ```
    /// assert_eq!(metaless_node::Response::bad_gateway("refused").status, 502);
    /// ```
    pub fn bad_gateway(reason: &str) -> Self {
        Self::text(502, reason)
    }

    fn from_rpc(r: &Reply, replicate: Vec<Replicate>) -> Self {
        Self {
            status: r.status,
            content_type: match r.body {
                ReplyBody::Json(_) => "application/json",
                ReplyBody::Text(_) => "text/plain",
                ReplyBody::Binary(_) => "application/octet-stream",
            },
            body: r.body_bytes(),
            replicate,
        }
    }
}

/// A change to replay on one swarm peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replicate {
    /// The peer.
    pub to: NodeInfo,
    /// `{"method","params"}` JSON body for its `/storage_rpc/v1`.
    pub body: Vec<u8>,
}

/// What the driver must do with a request. Exhaustive on purpose: every driver
/// (metaless-node-server's HTTP server, metaless-testnet's `LoopbackNet`) must carry out every
/// action, so a new one is a compile error there rather than a silently dropped request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer now.
    Respond(Response),
    /// POST `body` to `node`'s `/onion_req/v2` and relay its answer (status and body)
    /// unchanged; if it does not answer, reply [`Response::request_timeout`].
    ForwardToNode {
        /// The next hop.
        node: NodeInfo,
        /// Its onion body: frame(blob, {ephemeral_key, enc_type, hop_no}).
        body: Vec<u8>,
    },
    /// POST `body` to `url` (an HTTP server destination) and relay its answer; on failure
    /// reply [`Response::bad_gateway`] (or [`Response::request_timeout`] on timeout).
    ForwardToServer {
        /// `protocol://host[:port]/target`.
        url: String,
        /// The decrypted last-hop plaintext, as upstream relays it.
        body: Vec<u8>,
    },
}

/// What a node did with one request, recorded only when observation is on.
/// It holds addresses, sizes and outcomes — never message plaintext or keys of accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// Ed25519 key (hex) of the observing node.
    pub node: String,
    /// Per-node sequence number.
    pub seq: u64,
    /// Node time when the request arrived.
    pub at_ms: i64,
    /// Endpoint path.
    pub path: String,
    /// Previous hop's address as the transport reported it.
    pub from: Option<String>,
    /// `relay`, `deliver`, `proxy`, `rpc`, `error`.
    pub kind: &'static str,
    /// Next hop: a node's Ed25519 hex, or the server URL.
    pub next_hop: Option<String>,
    /// Request body size.
    pub bytes_in: usize,
    /// Size of what left: forwarded body or response body.
    pub bytes_out: usize,
    /// HTTP status answered (0 while forwarding: the next hop decides).
    pub status: u16,
    /// RPC method run at a destination.
    pub method: Option<String>,
    /// The account touched, abbreviated like upstream logs (`05ab…cd`).
    pub account: Option<String>,
}

/// How a node is set up.
#[derive(Debug)]
pub struct NodeConfig {
    /// The node's identity (Ed25519 seed → X25519 for onion layers).
    pub keypair: Keypair,
    /// The node's own entry in the network map.
    pub info: NodeInfo,
    /// The testnet's node list.
    pub network: NetworkMap,
    /// Message store: a [`MemoryStorage`], metaless-node-server's `SqliteStorage`, or any other
    /// [`Storage`].
    pub storage: Box<dyn Storage + Send>,
    /// Seed for the node's RNG (nonces of encrypted replies).
    pub rng_seed: [u8; 32],
    /// Record an [`Observation`] per request.
    pub observe: bool,
}

/// One service node's protocol core.
pub struct Node {
    keypair: Keypair,
    info: NodeInfo,
    network: NetworkMap,
    storage: Box<dyn Storage + Send>,
    rng: ChaCha20Rng,
    observations: Option<Vec<Observation>>,
    seq: u64,
    last_sweep_ms: i64,
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// Builds a node.
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// use metaless_node::{Node, NodeConfig, NodeInfo, NetworkMap, storage::MemoryStorage};
    /// let keypair = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    /// let info = NodeInfo { pubkey_ed25519: keypair.ed25519_public(),
    ///     pubkey_x25519: keypair.x25519_public(), swarm_id: 0, ip: "127.0.0.1".into(), port: 1 };
    /// let node = Node::new(NodeConfig { keypair, network: NetworkMap::new(vec![info.clone()]),
    ///     info, storage: Box::new(MemoryStorage::new()), rng_seed: [0; 32], observe: false });
    /// assert_eq!(node.info().port, 1);
    /// ```
    pub fn new(config: NodeConfig) -> Self {
        Self {
            keypair: config.keypair,
            info: config.info,
            network: config.network,
            storage: config.storage,
            rng: ChaCha20Rng::from_seed(config.rng_seed),
            observations: config.observe.then(Vec::new),
            seq: 0,
            last_sweep_ms: i64::MIN,
        }
    }

    /// This node's public facts.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert_eq!(node.info().ip, "127.0.0.1");
    /// ```
    pub fn info(&self) -> &NodeInfo {
        &self.info
    }

    /// The network map this node routes and checks swarms with.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert_eq!(node.network().nodes().len(), 1);
    /// ```
    pub fn network(&self) -> &NetworkMap {
        &self.network
    }

    /// Replaces the network map (a swarm reshuffle); own swarm id follows the map.
    ///
    /// ```
    /// # let mut node = metaless_node::node::doc_node();
    /// let mut map = node.network().clone();
    /// map.set_swarm(&node.info().pubkey_ed25519, 42);
    /// node.set_network(map);
    /// assert_eq!(node.info().swarm_id, 42);
    /// ```
    pub fn set_network(&mut self, network: NetworkMap) {
        if let Some(me) = network.find(&self.info.pubkey_ed25519) {
            self.info.swarm_id = me.swarm_id;
        }
        self.network = network;
    }

    /// The message store (read access for tests and tools).
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert_eq!(node.storage().count().unwrap(), 0);
    /// ```
    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    /// Deletes expired messages now; returns how many went.
    ///
    /// ```
    /// # let mut node = metaless_node::node::doc_node();
    /// assert_eq!(node.sweep(0), 0);
    /// ```
    pub fn sweep(&mut self, now_ms: i64) -> usize {
        self.last_sweep_ms = now_ms;
        self.storage.sweep_expired(now_ms).unwrap_or(0)
    }

    /// Takes the observation records gathered so far (empty when observation is off).
    ///
    /// ```
    /// # let mut node = metaless_node::node::doc_node();
    /// assert!(node.take_observations().is_empty());
    /// ```
    pub fn take_observations(&mut self) -> Vec<Observation> {
        self.observations
            .as_mut()
            .map(core::mem::take)
            .unwrap_or_default()
    }

    /// Turns per-request observation records on or off.
    ///
    /// ```
    /// # let mut node = metaless_node::node::doc_node();
    /// node.set_observe(true);
    /// node.handle(0, metaless_node::Request::post("/storage_rpc/v1", b"x".to_vec()));
    /// assert_eq!(node.take_observations().len(), 1);
    /// ```
    pub fn set_observe(&mut self, on: bool) {
        self.observations = if on {
            Some(self.observations.take().unwrap_or_default())
        } else {
            None
        };
    }

    /// Handles one request at node time `now_ms`. Never panics on any input: bad input
    /// becomes a 4xx with the network's error text.
    ///
    /// ```
    /// # let mut node = metaless_node::node::doc_node();
    /// use metaless_node::{Action, Request};
    /// let Action::Respond(r) = node.handle(1_700_000_000_000,
    ///     Request::post("/storage_rpc/v1", br#"{"method":"info","params":{}}"#.to_vec()))
    /// else { unreachable!() };
    /// assert_eq!(r.status, 200);
    /// ```
    pub fn handle(&mut self, now_ms: i64, request: Request) -> Action {
        if now_ms.saturating_sub(self.last_sweep_ms) >= SWEEP_INTERVAL_MS {
            self.sweep(now_ms);
        }
        let mut obs = Observation {
            node: hex::encode(&self.info.pubkey_ed25519),
            seq: self.seq,
            at_ms: now_ms,
            path: request.path.clone(),
            from: request.from.clone(),
            kind: "error",
            next_hop: None,
            bytes_in: request.body.len(),
            bytes_out: 0,
            status: 0,
            method: None,
            account: None,
        };
        self.seq = self.seq.wrapping_add(1);
        let action = if request.body.len() > MAX_REQUEST_BODY_SIZE {
            Action::Respond(Response::hop_error(&HopError::PayloadTooLarge))
        } else {
            match request.path.as_str() {
                ONION_PATH => self.onion(now_ms, &request.body, &mut obs),
                RPC_PATH => {
                    obs.kind = "rpc";
                    let (r, repl) = self.rpc(now_ms, &request.body, request.forwarded, &mut obs);
                    Action::Respond(Response::from_rpc(&r, repl))
                }
                SEED_PATH => {
                    obs.kind = "rpc";
                    Action::Respond(self.seed_rpc(&request.body))
                }
                other => Action::Respond(Response::text(404, format!("POST {other} Not Found"))),
            }
        };
        if let Some(list) = self.observations.as_mut() {
            match &action {
                Action::Respond(r) => {
                    obs.status = r.status;
                    obs.bytes_out = r.body.len();
                }
                Action::ForwardToNode { node, body } => {
                    obs.next_hop = Some(hex::encode(&node.pubkey_ed25519));
                    obs.bytes_out = body.len();
                }
                Action::ForwardToServer { url, body } => {
                    obs.next_hop = Some(url.clone());
                    obs.bytes_out = body.len();
                }
            }
            if list.len() >= MAX_OBSERVATIONS {
                list.remove(0);
            }
            list.push(obs);
        }
        action
    }

    fn rpc(
        &mut self,
        now_ms: i64,
        body: &[u8],
        forwarded: bool,
        obs: &mut Observation,
    ) -> (Reply, Vec<Replicate>) {
        let mut ctx = RpcCtx {
            now_ms,
            me: &self.info,
            keypair: &self.keypair,
            map: &self.network,
            storage: self.storage.as_mut(),
            forwarded,
            replicate: Vec::new(),
            seen_method: None,
            seen_account: None,
        };
        let r = ctx.handle_bytes(body);
        obs.method = ctx.seen_method.take();
        obs.account = ctx.seen_account.take();
        let mut repl = Vec::new();
        for body in ctx.replicate {
            for peer in self.network.swarm_members(self.info.swarm_id) {
                if peer.pubkey_ed25519 != self.info.pubkey_ed25519 {
                    repl.push(Replicate {
                        to: peer.clone(),
                        body: body.clone(),
                    });
                }
            }
        }
        (r, repl)
    }

    /// Seed-node bootstrap: `{"method":"get_n_service_nodes"|"get_service_nodes"}` on `/json_rpc`.
    fn seed_rpc(&self, body: &[u8]) -> Response {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return Response::text(400, "invalid json");
        };
        match v.get("method").and_then(Value::as_str) {
            Some("get_n_service_nodes" | "get_service_nodes") => {
                let body = json!({ "jsonrpc": "2.0", "id": v.get("id").cloned().unwrap_or(json!("0")),
                    "result": self.network.service_nodes_json() });
                Response {
                    status: 200,
                    content_type: "application/json",
                    body: body.to_string().into_bytes(),
                    replicate: Vec::new(),
                }
            }
            Some(m) => Response::text(400, format!("no method {m}")),
            None => Response::text(400, "invalid json: no `method` field"),
        }
    }

    fn onion(&mut self, now_ms: i64, body: &[u8], obs: &mut Observation) -> Action {
        // hop_no travels in the outer JSON between our nodes (upstream: the OMQ "nh" field).
        let hop_no = metaless_onion::hop_no(body);
        if hop_no > u64::from(MAX_ONION_HOPS) {
            return Action::Respond(Response::hop_error(&HopError::MaxPathLength));
        }
        let peeled = match metaless_onion::peel(&NodeKey::from_keypair(&self.keypair), body) {
            Ok(p) => p,
            Err(e) => return Action::Respond(Response::hop_error(&e.hop_error())),
        };
        match peeled {
            Peeled::Deliver(delivery) => {
                obs.kind = "deliver";
                let (json, base64) = (delivery.wants_json(), delivery.wants_base64());
                let (r, repl) = self.rpc(now_ms, delivery.payload(), false, obs);
                let inner = r.onion_plaintext(json);
                let sealed = delivery.reply().encrypt_response(&inner, &mut self.rng);
                let mut resp = sealed_response(sealed, base64);
                resp.replicate = repl;
                Action::Respond(resp)
            }
            Peeled::Reject { error, reply } => {
                let sealed =
                    reply.encrypt_snode_reply(error.status(), &error.body(), &mut self.rng);
                Action::Respond(sealed_response(sealed, true))
            }
            Peeled::Forward {
                next_ed25519, body, ..
            } => {
                obs.kind = "relay";
                match self.network.find(&next_ed25519) {
                    Some(n) => Action::ForwardToNode {
                        node: n.clone(),
                        body: metaless_onion::with_hop_no(body, hop_no + 1),
                    },
                    None => Action::Respond(Response::hop_error(&HopError::NextNodeNotFound(
                        next_ed25519,
                    ))),
                }
            }
            Peeled::Server {
                host,
                target,
                port,
                protocol,
                body,
            } => {
                obs.kind = "proxy";
                let default_port = if protocol == "https" { 443 } else { 80 };
                let port_part = if port == default_port {
                    String::new()
                } else {
                    format!(":{port}")
                };
                Action::ForwardToServer {
                    url: format!("{protocol}://{host}{port_part}{target}"),
                    body,
                }
            }
            _ => Action::Respond(Response::hop_error(&HopError::InvalidCiphertext)),
        }
    }
}

/// The destination's reply leaves as base64 text unless the control JSON asked for raw bytes.
fn sealed_response(sealed: Result<Vec<u8>, metaless_onion::OnionError>, base64: bool) -> Response {
    match sealed {
        Ok(ct) if base64 => Response {
            status: 200,
            content_type: "text/plain",
            body: metaless_swarm::b64::encode(&ct).into_bytes(),
            replicate: Vec::new(),
        },
        Ok(ct) => Response {
            status: 200,
            content_type: "application/octet-stream",
            body: ct,
            replicate: Vec::new(),
        },
        Err(_) => Response::text(500, "request failed"),
    }
}

/// A one-node network for doc examples.
#[doc(hidden)]
pub fn doc_node() -> Node {
    let keypair = Keypair::from_seed(&metaless_identity::Seed::from_bytes([1; 32]));
    let info = NodeInfo {
        pubkey_ed25519: keypair.ed25519_public(),
        pubkey_x25519: keypair.x25519_public(),
        swarm_id: 0,
        ip: "127.0.0.1".into(),
        port: 1,
    };
    Node::new(NodeConfig {
        keypair,
        network: NetworkMap::new(vec![info.clone()]),
        info,
        storage: Box::new(MemoryStorage::new()),
        rng_seed: [0; 32],
        observe: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_hops_are_refused() {
        let mut node = doc_node();
        // u32 LE length ‖ blob ‖ routing JSON
        let mut b = b"\x04\0\0\0blob".to_vec();
        b.extend_from_slice(format!(r#"{{"hop_no":{}}}"#, MAX_ONION_HOPS + 1).as_bytes());
        let Action::Respond(r) = node.handle(0, Request::post(ONION_PATH, b)) else {
            unreachable!()
        };
        assert_eq!(
            (r.status, r.body.as_slice()),
            (400, &b"onion request max path length exceeded"[..])
        );
    }
}
