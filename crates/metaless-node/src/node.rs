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

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use metaless_identity::{Keypair, hex};

use crate::limits::{MAX_OBSERVATIONS, MAX_ONION_HOPS, MAX_REQUEST_BODY_SIZE};
use crate::network::{NetworkMap, NodeInfo};
use crate::replication::{self, ForwardKeys, ReplicaOutcome, Retry};
use crate::rpc::RpcCtx;
use crate::storage::{Locked, MemoryStorage, Storage};
use crate::sync::{CatchUp, CatchUpProgress, SyncStep};
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
    /// Ignored (kept so drivers can say what they saw): a client can set
    /// [`FORWARDED_HEADER`], so only a signed forward ([`crate::replication`]) counts as a
    /// swarm peer's replay.
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
    /// Always empty from [`Node::handle`] (replication is [`Action::Replicate`]); a driver
    /// that finds bodies here POSTs them to the peers' `/storage_rpc/v1`.
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
    /// The forward ([`crate::replication::ForwardKeys::seal`]) to POST to its
    /// `/storage_rpc/v1`.
    pub body: Vec<u8>,
}

/// A replay still owed to a peer, handed out by [`Node::due_retries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryJob {
    /// What the queue holds.
    pub retry: Retry,
    /// Where to POST it, and the signed body.
    pub send: Replicate,
}

/// A client's change waiting for its swarm peers' answers.
struct Pending {
    reply: Reply,
    /// The onion reply key and the control flags (`json`, `base64`), when it came by onion.
    onion: Option<(metaless_onion::ReplyContext, bool, bool)>,
    /// Unsigned bodies and their expiry, for the retry queue.
    bodies: Vec<(Vec<u8>, u64)>,
    targets: Vec<[u8; 32]>,
}

/// Most client changes a node waits on at once (oldest forgotten beyond: answered 500).
const MAX_PENDING: usize = 4_096;

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
    /// POST every [`Replicate`] (concurrently, each with a timeout), then answer with
    /// [`Node::finish_replication`]`(now, ticket, outcomes)`: the reply lists each member's
    /// result, and the members that failed go into the node's retry queue.
    Replicate {
        /// Names the waiting reply.
        ticket: u64,
        /// One signed forward per other swarm member.
        targets: Vec<Replicate>,
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
    pub storage: Box<dyn Storage + Send + Sync>,
    /// Seed for the node's RNG (nonces of encrypted replies).
    pub rng_seed: [u8; 32],
    /// Record an [`Observation`] per request.
    pub observe: bool,
}

/// One service node's protocol core, callable from many threads at once.
///
/// Every method takes `&self`, and a clone is another handle on the same node (keys, store,
/// replication queue): a driver runs requests on every core by handing each thread a clone.
/// The crypto of a request (the onion peel, signature checks, reply signing and encryption)
/// runs outside any lock; what a request changes sits behind narrow locks taken only for the
/// change — the store for one [`Storage`] call at a time (reads shared, changes alone), the replies waiting for their swarm
/// peers, the reply-nonce RNG for one 32-byte draw, the observation list — and the network map
/// is a snapshot swapped whole by [`Node::set_network`] (`docs/node.md`, "Node on every core").
///
/// ```
/// let node = metaless_node::node::doc_node();
/// let other = node.clone();
/// let t = std::thread::spawn(move || other.info().port);
/// assert_eq!(t.join().unwrap(), node.info().port);
/// ```
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

/// What the handles of one node share.
struct Inner {
    keypair: Keypair,
    /// Pair keys for authenticating forwards to and from swarm peers.
    forward_keys: ForwardKeys,
    /// Own entry and network map, replaced together.
    view: RwLock<Arc<View>>,
    /// Reads (`&self` calls) share it, changes take it alone, one [`Storage`] call at a time.
    storage: RwLock<Box<dyn Storage + Send + Sync>>,
    /// Seeds each reply's own RNG (one draw under the lock, the encryption outside it).
    rng: Mutex<ChaCha20Rng>,
    observe: AtomicBool,
    observations: Mutex<Vec<Observation>>,
    seq: AtomicU64,
    last_sweep_ms: AtomicI64,
    pending: Mutex<PendingQueue>,
    catch_up_wanted: AtomicBool,
}

/// The node's own entry and the map it routes with, as one snapshot.
struct View {
    info: NodeInfo,
    network: Arc<NetworkMap>,
}

/// Client changes waiting for their swarm peers' answers.
struct PendingQueue {
    replies: BTreeMap<u64, Pending>,
    next_ticket: u64,
}

/// Takes a lock even if a thread panicked while holding it: every lock here guards state that
/// each change leaves whole (one map insert or remove, one RNG draw, one list push).
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node")
            .field("info", &self.view().info)
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
            inner: Arc::new(Inner {
                forward_keys: ForwardKeys::new(&config.keypair),
                keypair: config.keypair,
                view: RwLock::new(Arc::new(View {
                    info: config.info,
                    network: Arc::new(config.network),
                })),
                storage: RwLock::new(config.storage),
                rng: Mutex::new(ChaCha20Rng::from_seed(config.rng_seed)),
                observe: AtomicBool::new(config.observe),
                observations: Mutex::new(Vec::new()),
                seq: AtomicU64::new(0),
                last_sweep_ms: AtomicI64::new(i64::MIN),
                pending: Mutex::new(PendingQueue {
                    replies: BTreeMap::new(),
                    next_ticket: 0,
                }),
                // Whatever the database holds, the node may have missed changes while it was
                // down (or never had any): catch up once at start.
                catch_up_wanted: AtomicBool::new(true),
            }),
        }
    }

    /// The current snapshot of own entry and network map (a request keeps the one it started
    /// with).
    fn view(&self) -> Arc<View> {
        Arc::clone(
            &self
                .inner
                .view
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// This node's public facts (a copy: [`Node::set_network`] may change the swarm id).
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert_eq!(node.info().ip, "127.0.0.1");
    /// ```
    pub fn info(&self) -> NodeInfo {
        self.view().info.clone()
    }

    /// The network map this node routes and checks swarms with (the current snapshot).
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert_eq!(node.network().nodes().len(), 1);
    /// ```
    pub fn network(&self) -> Arc<NetworkMap> {
        Arc::clone(&self.view().network)
    }

    /// Replaces the network map (a swarm reshuffle); own swarm id follows the map. Requests
    /// already running finish with the map they started with.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// let mut map = (*node.network()).clone();
    /// map.set_swarm(&node.info().pubkey_ed25519, 42);
    /// node.set_network(map);
    /// assert_eq!(node.info().swarm_id, 42);
    /// ```
    pub fn set_network(&self, network: NetworkMap) {
        let mut view = self
            .inner
            .view
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut info = view.info.clone();
        if let Some(me) = network.find(&info.pubkey_ed25519) {
            if me.swarm_id != info.swarm_id {
                // Newly assigned to a swarm: its messages are elsewhere.
                self.inner.catch_up_wanted.store(true, Ordering::SeqCst);
            }
            info.swarm_id = me.swarm_id;
        }
        *view = Arc::new(View {
            info,
            network: Arc::new(network),
        });
    }

    /// Whether the driver should run a catch-up now ([`Node::catch_up_start`]): true once after
    /// the node is built, and again after [`Node::set_network`] moves it to another swarm.
    /// Reading it clears it.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert!(node.take_catch_up_wanted());
    /// assert!(!node.take_catch_up_wanted());
    /// let mut map = (*node.network()).clone();
    /// map.set_swarm(&node.info().pubkey_ed25519, 42);
    /// node.set_network(map);
    /// assert!(node.take_catch_up_wanted());
    /// ```
    pub fn take_catch_up_wanted(&self) -> bool {
        self.inner.catch_up_wanted.swap(false, Ordering::SeqCst)
    }

    /// Starts a catch-up ([`crate::sync`]): the first request to each other member of the
    /// node's swarm. Run each peer's chain with [`Node::catch_up_answer`].
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert!(node.catch_up_start(1_000).is_empty()); // alone in its swarm
    /// ```
    pub fn catch_up_start(&self, now_ms: i64) -> Vec<SyncStep> {
        let now = u64::try_from(now_ms).unwrap_or(0);
        let view = self.view();
        let peers: Vec<NodeInfo> = view
            .network
            .swarm_members(view.info.swarm_id)
            .filter(|p| p.pubkey_ed25519 != view.info.pubkey_ed25519)
            .cloned()
            .collect();
        peers
            .into_iter()
            .map(|p| self.sync_step(CatchUp::new(p), now))
            .collect()
    }

    fn sync_step(&self, catch_up: CatchUp, not_before_ms: u64) -> SyncStep {
        // A peer whose map entry has no usable X25519 key gets an empty body: it answers 400
        // and the catch-up gives up on it, as on any peer that never answers usefully.
        let body = self
            .inner
            .forward_keys
            .seal(&catch_up.peer, not_before_ms, &catch_up.request_body())
            .unwrap_or_else(|| {
                tracing::warn!("cannot authenticate a catch-up to a peer: its X25519 key is a small-order point");
                Vec::new()
            });
        SyncStep {
            send: Replicate {
                to: catch_up.peer.clone(),
                body,
            },
            not_before_ms,
            catch_up,
        }
    }

    /// Applies a peer's answer to a [`SyncStep`] and says what comes next: the next request,
    /// the same one again after a back-off (no usable answer), done, or given up (bounded by
    /// [`crate::sync::MAX_ATTEMPTS`] failures in a row and [`crate::sync::MAX_STEPS`]).
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// use metaless_node::replication::ReplicaOutcome;
    /// use metaless_node::sync::CatchUpProgress;
    /// # let keypair = metaless_identity::Keypair::from_seed(&metaless_identity::Seed::from_bytes([2; 32]));
    /// # let peer = metaless_node::NodeInfo { pubkey_ed25519: keypair.ed25519_public(),
    /// #     pubkey_x25519: keypair.x25519_public(), swarm_id: 0, ip: "127.0.0.1".into(), port: 2 };
    /// # let map = metaless_node::NetworkMap::new(vec![node.info(), peer]);
    /// # node.set_network(map);
    /// let step = node.catch_up_start(1_000).remove(0);
    /// // The peer is down: the same request again, a little later.
    /// let CatchUpProgress::Next(again) = node.catch_up_answer(1_000, step, &ReplicaOutcome::Timeout)
    /// else { unreachable!() };
    /// assert!(again.not_before_ms > 1_000);
    /// // It answers an empty listing: done.
    /// let empty = ReplicaOutcome::Answered { status: 200,
    ///     body: br#"{"entries":[],"more":false}"#.to_vec() };
    /// assert!(matches!(node.catch_up_answer(2_000, again, &empty), CatchUpProgress::Done(_)));
    /// ```
    pub fn catch_up_answer(
        &self,
        now_ms: i64,
        step: SyncStep,
        outcome: &ReplicaOutcome,
    ) -> CatchUpProgress {
        let now = u64::try_from(now_ms).unwrap_or(0);
        let mut c = step.catch_up;
        c.stats.requests = c.stats.requests.saturating_add(1);
        if c.stats.requests >= crate::sync::MAX_STEPS {
            return CatchUpProgress::GaveUp(c);
        }
        match c.apply(&mut Locked(&self.inner.storage), now_ms, outcome) {
            Ok(true) => CatchUpProgress::Done(c),
            Ok(false) => {
                c.attempts = 0;
                CatchUpProgress::Next(self.sync_step(c, now))
            }
            Err(()) => {
                c.attempts = c.attempts.saturating_add(1);
                if c.attempts >= crate::sync::MAX_ATTEMPTS {
                    return CatchUpProgress::GaveUp(c);
                }
                let wait = replication::backoff_ms(c.attempts.saturating_sub(1))
                    .min(crate::sync::RETRY_MAX_MS);
                CatchUpProgress::Next(self.sync_step(c, now.saturating_add(wait)))
            }
        }
    }

    /// The message store, for reading (tests and tools). The guard shares the store's lock
    /// with the node's own reads; a change waits while it is held, so keep it for one call.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert_eq!(node.storage().count().unwrap(), 0);
    /// ```
    pub fn storage(&self) -> RwLockReadGuard<'_, Box<dyn Storage + Send + Sync>> {
        self.inner
            .storage
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The message store, for one change.
    fn storage_mut(&self) -> RwLockWriteGuard<'_, Box<dyn Storage + Send + Sync>> {
        self.inner
            .storage
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Deletes expired messages now; returns how many went.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert_eq!(node.sweep(0), 0);
    /// ```
    pub fn sweep(&self, now_ms: i64) -> usize {
        self.inner.last_sweep_ms.store(now_ms, Ordering::Relaxed);
        self.storage_mut().sweep_expired(now_ms).unwrap_or(0)
    }

    /// Takes the observation records gathered so far (empty when observation is off).
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert!(node.take_observations().is_empty());
    /// ```
    pub fn take_observations(&self) -> Vec<Observation> {
        core::mem::take(&mut *lock(&self.inner.observations))
    }

    /// Turns per-request observation records on or off (off drops the records not taken).
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// node.set_observe(true);
    /// node.handle(0, metaless_node::Request::post("/storage_rpc/v1", b"x".to_vec()));
    /// assert_eq!(node.take_observations().len(), 1);
    /// ```
    pub fn set_observe(&self, on: bool) {
        self.inner.observe.store(on, Ordering::SeqCst);
        if !on {
            lock(&self.inner.observations).clear();
        }
    }

    /// Handles one request at node time `now_ms`. Never panics on any input: bad input
    /// becomes a 4xx with the network's error text.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// use metaless_node::{Action, Request};
    /// let Action::Respond(r) = node.handle(1_700_000_000_000,
    ///     Request::post("/storage_rpc/v1", br#"{"method":"info","params":{}}"#.to_vec()))
    /// else { unreachable!() };
    /// assert_eq!(r.status, 200);
    /// ```
    pub fn handle(&self, now_ms: i64, request: Request) -> Action {
        let last_sweep = self.inner.last_sweep_ms.load(Ordering::Relaxed);
        // One thread sweeps (the one that moves the mark); the others go on.
        if now_ms.saturating_sub(last_sweep) >= SWEEP_INTERVAL_MS
            && self
                .inner
                .last_sweep_ms
                .compare_exchange(last_sweep, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let _ = self.storage_mut().sweep_expired(now_ms);
        }
        let view = self.view();
        let observe = self.inner.observe.load(Ordering::Relaxed);
        // Strings are filled in only when the record is kept (below): a node with observation
        // off allocates nothing for it.
        let mut obs = Observation {
            node: String::new(),
            seq: self.inner.seq.fetch_add(1, Ordering::Relaxed),
            at_ms: now_ms,
            path: String::new(),
            from: None,
            kind: "error",
            next_hop: None,
            bytes_in: request.body.len(),
            bytes_out: 0,
            status: 0,
            method: None,
            account: None,
        };
        let action = if request.body.len() > MAX_REQUEST_BODY_SIZE {
            Action::Respond(Response::hop_error(&HopError::PayloadTooLarge))
        } else {
            match request.path.as_str() {
                ONION_PATH => self.onion(&view, now_ms, &request.body, observe, &mut obs),
                RPC_PATH => {
                    obs.kind = "rpc";
                    self.rpc_path(&view, now_ms, &request.body, observe, &mut obs)
                }
                SEED_PATH => {
                    obs.kind = "rpc";
                    Action::Respond(seed_rpc(&view.network, &request.body))
                }
                other => Action::Respond(Response::text(404, format!("POST {other} Not Found"))),
            }
        };
        if observe {
            obs.node = hex::encode(&view.info.pubkey_ed25519);
            obs.path = request.path;
            obs.from = request.from;
            match &action {
                Action::Respond(r) => {
                    obs.status = r.status;
                    obs.bytes_out = r.body.len();
                }
                Action::ForwardToNode { node, body } => {
                    obs.next_hop = Some(hex::encode(&node.pubkey_ed25519));
                    obs.bytes_out = body.len();
                }
                Action::Replicate { .. } => obs.status = 200,
                Action::ForwardToServer { url, body } => {
                    obs.next_hop = Some(url.clone());
                    obs.bytes_out = body.len();
                }
            }
            let mut list = lock(&self.inner.observations);
            if list.len() >= MAX_OBSERVATIONS {
                list.remove(0);
            }
            list.push(obs);
        }
        action
    }

    /// `/storage_rpc/v1`: a signed forward from a swarm peer, or a client's request.
    fn rpc_path(
        &self,
        view: &View,
        now_ms: i64,
        body: &[u8],
        observe: bool,
        obs: &mut Observation,
    ) -> Action {
        if replication::is_forward(body) {
            let now = u64::try_from(now_ms).unwrap_or(0);
            return match self
                .inner
                .forward_keys
                .open(body, view.info.swarm_id, &view.network, now)
            {
                Ok((inner, _from)) => {
                    if let Some((status, body)) =
                        crate::sync::answer_sync(&Locked(&self.inner.storage), now_ms, &inner)
                    {
                        obs.method = Some("metaless_sync".into());
                        return Action::Respond(Response {
                            status,
                            content_type: "application/json",
                            body,
                            replicate: Vec::new(),
                        });
                    }
                    let (r, _) = self.rpc(view, now_ms, &inner, true, observe, obs);
                    Action::Respond(Response::from_rpc(&r, Vec::new()))
                }
                Err(e) => Action::Respond(Response::text(401, e.text())),
            };
        }
        let (r, bodies) = self.rpc(view, now_ms, body, false, observe, obs);
        self.respond_or_replicate(view, now_ms, r, bodies, None)
    }

    /// Answers now, or (when the change has peers to reach) parks the reply and asks the
    /// driver to replicate.
    fn respond_or_replicate(
        &self,
        view: &View,
        now_ms: i64,
        reply: Reply,
        bodies: Vec<(Vec<u8>, u64)>,
        onion: Option<(metaless_onion::ReplyContext, bool, bool)>,
    ) -> Action {
        let now = u64::try_from(now_ms).unwrap_or(0);
        let peers: Vec<NodeInfo> = view
            .network
            .swarm_members(view.info.swarm_id)
            .filter(|p| p.pubkey_ed25519 != view.info.pubkey_ed25519)
            .cloned()
            .collect();
        if bodies.is_empty() || peers.is_empty() {
            return Action::Respond(self.seal(reply, onion));
        }
        let mut targets = Vec::new();
        for (body, _) in &bodies {
            for peer in &peers {
                // A peer it cannot seal for is left out: no answer, so it is queued for retry.
                if let Some(sealed) = self.inner.forward_keys.seal(peer, now, body) {
                    targets.push(Replicate {
                        body: sealed,
                        to: peer.clone(),
                    });
                }
            }
        }
        let waiting = Pending {
            reply,
            onion,
            bodies,
            targets: peers.iter().map(|p| p.pubkey_ed25519).collect(),
        };
        let mut pending = lock(&self.inner.pending);
        let ticket = pending.next_ticket;
        pending.next_ticket = ticket.wrapping_add(1);
        if pending.replies.len() >= MAX_PENDING {
            pending.replies.pop_first();
        }
        pending.replies.insert(ticket, waiting);
        drop(pending);
        Action::Replicate { ticket, targets }
    }

    fn seal(
        &self,
        reply: Reply,
        onion: Option<(metaless_onion::ReplyContext, bool, bool)>,
    ) -> Response {
        match onion {
            None => Response::from_rpc(&reply, Vec::new()),
            Some((ctx, json, base64)) => {
                let inner = reply.onion_plaintext(json);
                sealed_response(ctx.encrypt_response(&inner, &mut self.reply_rng()), base64)
            }
        }
    }

    /// An RNG for one reply's nonce, seeded from the node's: the lock covers one 32-byte draw,
    /// not the encryption.
    fn reply_rng(&self) -> ChaCha20Rng {
        let mut seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut *lock(&self.inner.rng), &mut seed);
        ChaCha20Rng::from_seed(seed)
    }

    /// Completes an [`Action::Replicate`]: `outcomes` are the peers' answers by Ed25519 key (a
    /// peer missing from the list counts as a timeout). A `store` reply gains each member's
    /// entry under `swarm` (the peer's own signed entry, or `{"failed":true,…}`); every change
    /// a peer did not take goes into the retry queue ([`Node::due_retries`]). An unknown
    /// ticket is answered 500 `request failed`.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// let r = node.finish_replication(0, 12345, &[]);
    /// assert_eq!(r.status, 500);
    /// ```
    pub fn finish_replication(
        &self,
        now_ms: i64,
        ticket: u64,
        outcomes: &[([u8; 32], ReplicaOutcome)],
    ) -> Response {
        let taken = lock(&self.inner.pending).replies.remove(&ticket);
        let Some(mut p) = taken else {
            return Response::text(500, "request failed");
        };
        let now = u64::try_from(now_ms).unwrap_or(0);
        let outcome = |peer: &[u8; 32]| outcomes.iter().find(|(k, _)| k == peer).map(|(_, o)| o);
        for peer in &p.targets {
            if outcome(peer).is_some_and(ReplicaOutcome::succeeded) {
                continue;
            }
            for (body, expiry_ms) in &p.bodies {
                let retry = Retry {
                    id: 0,
                    to: *peer,
                    body: body.clone(),
                    expiry_ms: *expiry_ms,
                    next_ms: now.saturating_add(replication::backoff_ms(0)),
                    attempts: 0,
                };
                if let Err(e) = self.storage_mut().push_retry(&retry) {
                    tracing::error!("could not queue a replication retry: {e}");
                }
            }
        }
        // Only a single store's reply lists members (a batch's sub-replies stay as they are).
        if let ReplyBody::Json(Value::Object(top)) = &mut p.reply.body
            && top.contains_key("hash")
            && let Some(Value::Object(swarm)) = top.get_mut("swarm")
        {
            for peer in &p.targets {
                let entry = match outcome(peer) {
                    Some(ReplicaOutcome::Answered { status, body })
                        if (200..300).contains(status) =>
                    {
                        match serde_json::from_slice::<Value>(body) {
                            Ok(v @ Value::Object(_)) => v,
                            _ => json!({"failed": true, "bad_peer_response": true}),
                        }
                    }
                    Some(ReplicaOutcome::Answered { status, body }) => json!({"failed": true,
                        "code": status.to_string(), "reason": String::from_utf8_lossy(body)}),
                    Some(ReplicaOutcome::Timeout) | None => {
                        json!({"failed": true, "timeout": true})
                    }
                };
                swarm.insert(hex::encode(peer), entry);
            }
        }
        self.seal(p.reply, p.onion)
    }

    /// Takes the queued replays that are due at `now_ms` (at most `limit`), signed afresh for
    /// their peers. Hand each back with [`Node::retry_result`]; until then each stays in the
    /// queue under a lease ([`replication::RETRY_LEASE_MS`]), so a crash loses none. Replays
    /// whose peer left this node's swarm, or whose message expired, are dropped.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// assert!(node.due_retries(0, 10).is_empty());
    /// ```
    pub fn due_retries(&self, now_ms: i64, limit: usize) -> Vec<RetryJob> {
        let now = u64::try_from(now_ms).unwrap_or(0);
        let view = self.view();
        let due = self.storage_mut().take_due_retries(now, limit);
        let due = match due {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("could not read the replication retry queue: {e}");
                return Vec::new();
            }
        };
        let mut jobs = Vec::new();
        for retry in due {
            if retry.expiry_ms <= now {
                self.forget_retry(retry.id);
                continue;
            }
            let Some(peer) = view
                .network
                .swarm_members(view.info.swarm_id)
                .find(|n| {
                    n.pubkey_ed25519 == retry.to && n.pubkey_ed25519 != view.info.pubkey_ed25519
                })
                .cloned()
            else {
                self.forget_retry(retry.id);
                continue;
            };
            let Some(body) = self.inner.forward_keys.seal(&peer, now, &retry.body) else {
                // Never deliverable: the map gives the peer no usable X25519 key.
                tracing::warn!(
                    "dropping a replay to a peer whose X25519 key is a small-order point"
                );
                self.forget_retry(retry.id);
                continue;
            };
            jobs.push(RetryJob {
                retry,
                send: Replicate { to: peer, body },
            });
        }
        jobs
    }

    /// Reports how a [`RetryJob`] went: done on a 2xx, dropped on a refusal (a 4xx other than
    /// 421/429), else queued again with back-off ([`replication::backoff_ms`]) until the
    /// message expires.
    ///
    /// ```
    /// # let node = metaless_node::node::doc_node();
    /// use metaless_node::node::RetryJob;
    /// use metaless_node::replication::{ReplicaOutcome, Retry};
    /// let to = node.info();
    /// let job = RetryJob { retry: Retry { id: 1, to: to.pubkey_ed25519, body: b"{}".to_vec(),
    ///     expiry_ms: 1_000_000, next_ms: 0, attempts: 0 },
    ///     send: metaless_node::Replicate { to, body: vec![] } };
    /// node.retry_result(0, job, &ReplicaOutcome::Timeout);
    /// ```
    pub fn retry_result(&self, now_ms: i64, job: RetryJob, outcome: &ReplicaOutcome) {
        if outcome.succeeded() {
            self.forget_retry(job.retry.id);
            return;
        }
        // A peer that refuses the change itself (a 4xx other than 421/429: a signature or
        // timestamp window that has closed, a parse error) will refuse it again.
        if let ReplicaOutcome::Answered { status, body } = outcome
            && (400..500).contains(status)
            && !matches!(status, 421 | 429)
        {
            tracing::warn!(
                peer = %hex::encode(&job.retry.to),
                status,
                reason = %String::from_utf8_lossy(body),
                "replication refused by the peer; dropped from the retry queue"
            );
            self.forget_retry(job.retry.id);
            return;
        }
        let now = u64::try_from(now_ms).unwrap_or(0);
        let retry = job.retry;
        let attempts = retry.attempts.saturating_add(1);
        let next = now.saturating_add(replication::backoff_ms(attempts));
        if next >= retry.expiry_ms {
            self.forget_retry(retry.id);
        } else if let Err(e) = self.storage_mut().retry_again(retry.id, next, attempts) {
            tracing::error!("could not reschedule a replication retry: {e}");
        }
    }

    fn forget_retry(&self, id: u64) {
        if let Err(e) = self.storage_mut().retry_done(id) {
            tracing::error!("could not remove a replication retry: {e}");
        }
    }

    fn rpc(
        &self,
        view: &View,
        now_ms: i64,
        body: &[u8],
        forwarded: bool,
        observe: bool,
        obs: &mut Observation,
    ) -> (Reply, Vec<(Vec<u8>, u64)>) {
        let mut storage = Locked(&self.inner.storage);
        let mut ctx = RpcCtx {
            now_ms,
            me: &view.info,
            keypair: &self.inner.keypair,
            map: &view.network,
            storage: &mut storage,
            forwarded,
            replicate: Vec::new(),
            observe,
            seen_method: None,
            seen_account: None,
        };
        let r = ctx.handle_bytes(body);
        obs.method = ctx.seen_method.take();
        obs.account = ctx.seen_account.take();
        (r, ctx.replicate)
    }

    fn onion(
        &self,
        view: &View,
        now_ms: i64,
        body: &[u8],
        observe: bool,
        obs: &mut Observation,
    ) -> Action {
        // hop_no travels in the outer JSON between our nodes (upstream: the OMQ "nh" field).
        let hop_no = metaless_onion::hop_no(body);
        if hop_no > u64::from(MAX_ONION_HOPS) {
            return Action::Respond(Response::hop_error(&HopError::MaxPathLength));
        }
        let peeled = match metaless_onion::peel(&NodeKey::from_keypair(&self.inner.keypair), body) {
            Ok(p) => p,
            Err(e) => return Action::Respond(Response::hop_error(&e.hop_error())),
        };
        match peeled {
            Peeled::Deliver(delivery) => {
                obs.kind = "deliver";
                let (json, base64) = (delivery.wants_json(), delivery.wants_base64());
                let (payload, ctx) = delivery.into_parts();
                let (r, bodies) = self.rpc(view, now_ms, &payload, false, observe, obs);
                self.respond_or_replicate(view, now_ms, r, bodies, Some((ctx, json, base64)))
            }
            Peeled::Reject { error, reply } => {
                let sealed =
                    reply.encrypt_snode_reply(error.status(), &error.body(), &mut self.reply_rng());
                Action::Respond(sealed_response(sealed, true))
            }
            Peeled::Forward {
                next_ed25519, body, ..
            } => {
                obs.kind = "relay";
                match view.network.find(&next_ed25519) {
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

/// Seed-node bootstrap: `{"method":"get_n_service_nodes"|"get_service_nodes"}` on `/json_rpc`.
fn seed_rpc(network: &NetworkMap, body: &[u8]) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Response::text(400, "invalid json");
    };
    match v.get("method").and_then(Value::as_str) {
        Some("get_n_service_nodes" | "get_service_nodes") => {
            let body = json!({ "jsonrpc": "2.0", "id": v.get("id").cloned().unwrap_or(json!("0")),
                "result": network.service_nodes_json() });
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

    fn swarm_node(seed: u8, swarm_id: u64, storage: MemoryStorage, map: &[NodeInfo]) -> Node {
        let keypair = Keypair::from_seed(&metaless_identity::Seed::from_bytes([seed; 32]));
        let info = map
            .iter()
            .find(|n| n.pubkey_ed25519 == keypair.ed25519_public())
            .cloned()
            .unwrap();
        assert_eq!(info.swarm_id, swarm_id);
        Node::new(NodeConfig {
            keypair,
            info,
            network: NetworkMap::new(map.to_vec()),
            storage: Box::new(storage),
            rng_seed: [seed; 32],
            observe: false,
        })
    }

    fn info(seed: u8, swarm_id: u64) -> NodeInfo {
        let k = Keypair::from_seed(&metaless_identity::Seed::from_bytes([seed; 32]));
        NodeInfo {
            pubkey_ed25519: k.ed25519_public(),
            pubkey_x25519: k.x25519_public(),
            swarm_id,
            ip: "127.0.0.1".into(),
            port: u16::from(seed),
        }
    }

    #[test]
    fn a_member_catches_up_from_its_peer_through_signed_forwards() {
        use crate::storage::NewMessage;
        let map = [info(1, 7), info(2, 7), info(3, 9)];
        let mut full = MemoryStorage::new();
        let owner = [5u8; 33];
        for i in 0..1_500u32 {
            let data = i.to_le_bytes();
            full.store(&NewMessage {
                owner,
                namespace: 0,
                hash: crate::rpc::message_hash(&owner, 0, &data),
                timestamp_ms: 1,
                expiry_ms: 10_000_000,
                data: data.to_vec(),
                replace_namespace: false,
            })
            .unwrap();
        }
        let a = swarm_node(1, 7, full, &map);
        let b = swarm_node(2, 7, MemoryStorage::new(), &map);
        let now = 1_000_000;
        assert!(b.take_catch_up_wanted());
        let mut steps = b.catch_up_start(now);
        assert_eq!(steps.len(), 1);
        let mut step = steps.remove(0);
        let mut done = None;
        for _ in 0..100 {
            let Action::Respond(r) = a.handle(now, Request::post(RPC_PATH, step.send.body.clone()))
            else {
                panic!("a sync request is answered at once")
            };
            let outcome = ReplicaOutcome::Answered {
                status: r.status,
                body: r.body,
            };
            match b.catch_up_answer(now, step, &outcome) {
                CatchUpProgress::Next(next) => step = next,
                CatchUpProgress::Done(c) => {
                    done = Some(c);
                    break;
                }
                CatchUpProgress::GaveUp(_) => panic!("gave up"),
            }
        }
        let c = done.expect("finished");
        assert_eq!((c.stats.stored, c.stats.listed), (1_500, 1_500));
        assert_eq!(b.storage().count().unwrap(), 1_500);

        // A node of another swarm is not answered: its listing request is refused.
        let outsider = swarm_node(3, 9, MemoryStorage::new(), &map);
        let mut c_map = (*outsider.network()).clone();
        c_map.set_swarm(&info(3, 9).pubkey_ed25519, 7);
        outsider.set_network(c_map);
        let forged = outsider.catch_up_start(now);
        let Action::Respond(r) =
            a.handle(now, Request::post(RPC_PATH, forged[0].send.body.clone()))
        else {
            panic!()
        };
        assert_eq!(r.status, 401);
    }

    #[test]
    fn a_peer_without_a_usable_x25519_key_gets_no_forward_and_no_retry() {
        // Peer 2's map entry carries the identity point: no pair key, so nothing can be sealed
        // to it. Its member entry in the store reply is a timeout, the replay is queued and then
        // dropped when due (never deliverable), and a catch-up from it gets an empty request.
        let mut broken = info(2, 7);
        broken.pubkey_x25519 = [0; 32];
        let map = [info(1, 7), broken.clone()];
        let a = swarm_node(1, 7, MemoryStorage::new(), &map);
        let now: i64 = 1_700_000_000_000;
        let store = format!(
            r#"{{"method":"store","params":{{"pubkey":"05{}","namespace":0,"timestamp":{now},"ttl":60000,"data":"aGVsbG8"}}}}"#,
            "ab".repeat(32)
        );
        let Action::Replicate { ticket, targets } =
            a.handle(now, Request::post(RPC_PATH, store.into_bytes()))
        else {
            panic!("a client's store replicates")
        };
        assert!(targets.is_empty());
        let r = a.finish_replication(now, ticket, &[]);
        assert_eq!(r.status, 200);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        let entry = &v["swarm"][hex::encode(&broken.pubkey_ed25519)];
        assert_eq!(
            (entry["failed"].as_bool(), entry["timeout"].as_bool()),
            (Some(true), Some(true))
        );
        assert!(a.due_retries(now + 2_000, 10).is_empty());
        let later = now + 2_000 + i64::try_from(replication::RETRY_LEASE_MS).unwrap() + 1;
        assert!(a.due_retries(later, 10).is_empty());
        let steps = a.catch_up_start(1_000);
        assert_eq!(steps.len(), 1);
        assert!(steps[0].send.body.is_empty());
    }

    #[test]
    fn oversized_routing_metadata_is_a_parse_error() {
        let node = doc_node();
        // u32 LE length ‖ blob ‖ routing JSON longer than its 4 KiB limit
        let mut b = b"\x04\0\0\0blob".to_vec();
        let pad = "x".repeat(metaless_onion::limits::MAX_ROUTING_JSON_SIZE);
        b.extend_from_slice(format!(r#"{{"enc_type":"xchacha20","pad":"{pad}"}}"#).as_bytes());
        let Action::Respond(r) = node.handle(0, Request::post(ONION_PATH, b)) else {
            unreachable!()
        };
        assert_eq!(r.status, 400);
        assert!(
            String::from_utf8_lossy(&r.body).starts_with("Error parsing onion request: "),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }

    #[test]
    fn too_many_hops_are_refused() {
        let node = doc_node();
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

    /// A relay forwards `u32 LE length ‖ blob ‖ {"enc_type":…,"ephemeral_key":…,"hop_no":N}`:
    /// the blob the layer held, the next layer's key and type as the onion crate's own peel
    /// reads them, and the hop count one more than it received — observation on or off.
    #[test]
    fn a_relay_forwards_the_blob_with_the_next_key_and_hop_number() {
        use metaless_onion::{Destination, EncType, Hop};
        let map: Vec<NodeInfo> = (1..=3u8).map(|s| info(s, u64::from(s))).collect();
        let hop = |n: &NodeInfo| Hop::new(n.pubkey_ed25519, n.pubkey_x25519);
        for (enc, observe) in [
            (EncType::XChaCha20, false),
            (EncType::AesGcm, false),
            (EncType::XChaCha20, true),
        ] {
            let mut rng = ChaCha20Rng::seed_from_u64(5);
            let built = metaless_onion::build(
                &[hop(&map[0]), hop(&map[1])],
                &Destination::ServiceNode(hop(&map[2])),
                br#"{"method":"info","params":{}}"#,
                enc,
                &mut rng,
            )
            .unwrap();
            let mut body = built.body;
            for (i, seed) in [1u8, 2].into_iter().enumerate() {
                let node = swarm_node(seed, u64::from(seed), MemoryStorage::new(), &map);
                node.set_observe(observe);
                let keys = Keypair::from_seed(&metaless_identity::Seed::from_bytes([seed; 32]));
                let Ok(Peeled::Forward {
                    body: peeled,
                    ephemeral_key,
                    enc_type,
                    ..
                }) = metaless_onion::peel(&NodeKey::from_keypair(&keys), &body)
                else {
                    panic!("hop {i} does not forward");
                };
                let blob_end =
                    4 + usize::try_from(u32::from_le_bytes(peeled[..4].try_into().unwrap()))
                        .unwrap();
                let mut expected = peeled[..blob_end].to_vec();
                expected.extend_from_slice(
                    format!(
                        r#"{{"enc_type":"{}","ephemeral_key":"{}","hop_no":{}}}"#,
                        enc_type.as_str(),
                        hex::encode(&ephemeral_key),
                        i + 1
                    )
                    .as_bytes(),
                );
                let Action::ForwardToNode {
                    node: next,
                    body: forwarded,
                } = node.handle(0, Request::post(ONION_PATH, body.clone()))
                else {
                    panic!("hop {i} does not forward");
                };
                assert_eq!(next, map[i + 1]);
                assert_eq!(
                    String::from_utf8_lossy(&forwarded[blob_end..]),
                    String::from_utf8_lossy(&expected[blob_end..])
                );
                assert_eq!(forwarded, expected, "{enc} hop {i}");
                assert_eq!(node.take_observations().len(), usize::from(observe));
                body = forwarded;
            }
        }
    }
}
