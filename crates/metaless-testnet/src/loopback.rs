//! `LoopbackNet`: many [`Node`] cores in one process, each on a
//! [`MemoryStorage`], no sockets, a seeded RNG, virtual time and fault injection. Shaped as a transport: [`LoopbackNet::post`] is "POST `body` to `path` on the
//! node named by its Ed25519 key" and returns `(status, body)` exactly as HTTP would.

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use thiserror::Error;

use metaless_identity::Keypair;
use metaless_node::limits::MAX_ONION_HOPS;
use metaless_node::network::generate_nodes;
use metaless_node::replication::ReplicaOutcome;
use metaless_node::storage::MemoryStorage;
use metaless_node::{
    Action, NetworkMap, Node, NodeConfig, NodeError, NodeInfo, Observation, Request, Response,
};
use metaless_onion::ONION_PATH;
use metaless_swarm::RPC_PATH;

/// Why a `post` got no HTTP answer at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LoopbackError {
    /// No node with that key is in the network.
    #[error("unknown node")]
    UnknownNode,
    /// The node is down (connection refused).
    #[error("node unreachable")]
    Unreachable,
    /// The request or its answer was dropped (the client's timeout fires).
    #[error("request timed out")]
    Timeout,
}

/// How to build a `LoopbackNet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopbackConfig {
    /// Number of nodes.
    pub nodes: usize,
    /// Number of swarms (nodes are spread round-robin).
    pub swarms: usize,
    /// Seed of every key and every random choice.
    pub seed: u64,
    /// Virtual time at start, ms since the epoch.
    pub start_ms: u64,
    /// Record observations on every node.
    pub observe: bool,
}

impl Default for LoopbackConfig {
    fn default() -> Self {
        Self {
            nodes: 6,
            swarms: 2,
            seed: 0,
            start_ms: 1_700_000_000_000,
            observe: false,
        }
    }
}

/// Per-hop fault probabilities and delays (applied to every transfer: client → node and node →
/// node, including swarm replication).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Probability that a transfer is lost (→ timeout).
    pub drop: f64,
    /// Probability that one byte of a transferred request body is flipped.
    pub corrupt: f64,
    /// Virtual milliseconds each transfer takes.
    pub delay_ms: u64,
}

struct Slot {
    node: Node,
    up: bool,
    skew_ms: i64,
}

type ServerFn = Box<dyn FnMut(&str, &[u8]) -> Option<(u16, Vec<u8>)> + Send>;

/// A deterministic in-process network of node cores.
pub struct LoopbackNet {
    slots: Vec<Slot>,
    index: BTreeMap<[u8; 32], usize>,
    network: NetworkMap,
    now_ms: u64,
    rng: ChaCha20Rng,
    faults: Faults,
    server: Option<ServerFn>,
    transfers: u64,
}

impl core::fmt::Debug for LoopbackNet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoopbackNet")
            .field("nodes", &self.slots.len())
            .field("now_ms", &self.now_ms)
            .finish()
    }
}

impl LoopbackNet {
    /// Builds the network: keys, swarms and node RNGs all follow from `seed` (keys and swarms
    /// as [`generate_nodes`] makes them, so a testnet configuration generated from the same RNG
    /// has the same nodes).
    ///
    /// ```
    /// use metaless_testnet::loopback::{LoopbackConfig, LoopbackNet};
    /// let net = LoopbackNet::new(LoopbackConfig { nodes: 4, swarms: 2, ..Default::default() }).unwrap();
    /// assert_eq!(net.nodes().len(), 4);
    /// assert_eq!(net.network().swarm_ids().len(), 2);
    /// ```
    pub fn new(config: LoopbackConfig) -> Result<Self, NodeError> {
        let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
        let keys: Vec<(Keypair, u64)> = generate_nodes(config.nodes, config.swarms, &mut rng)
            .into_iter()
            .map(|n| (Keypair::from_seed(&n.seed), n.swarm_id))
            .collect();
        // Loopback nodes get distinct fake ports so URLs in swarm JSON are distinct.
        let infos: Vec<NodeInfo> = keys
            .iter()
            .enumerate()
            .map(|(i, (k, swarm_id))| NodeInfo {
                pubkey_ed25519: k.ed25519_public(),
                pubkey_x25519: k.x25519_public(),
                swarm_id: *swarm_id,
                ip: "127.0.0.1".into(),
                port: 20_000u16.saturating_add(u16::try_from(i).unwrap_or(0)),
            })
            .collect();
        let network = NetworkMap::new(infos.clone());
        let mut slots = Vec::with_capacity(infos.len());
        let mut index = BTreeMap::new();
        for (i, ((keypair, _), info)) in keys.into_iter().zip(infos).enumerate() {
            let mut rng_seed = [0u8; 32];
            rng.fill_bytes(&mut rng_seed);
            index.insert(info.pubkey_ed25519, i);
            let node = Node::new(NodeConfig {
                keypair,
                info,
                network: network.clone(),
                storage: Box::new(MemoryStorage::new()),
                rng_seed,
                observe: config.observe,
            });
            slots.push(Slot {
                node,
                up: true,
                skew_ms: 0,
            });
        }
        Ok(Self {
            slots,
            index,
            network,
            now_ms: config.start_ms,
            rng,
            faults: Faults::default(),
            server: None,
            transfers: 0,
        })
    }

    /// Every node's public facts, in creation order.
    ///
    /// ```
    /// # let net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// assert_eq!(net.nodes().len(), 6);
    /// ```
    pub fn nodes(&self) -> Vec<NodeInfo> {
        self.slots.iter().map(|s| s.node.info().clone()).collect()
    }

    /// The current network map (what `get_service_nodes` returns).
    ///
    /// ```
    /// # let net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// assert_eq!(net.network().nodes().len(), 6);
    /// ```
    pub fn network(&self) -> &NetworkMap {
        &self.network
    }

    /// Virtual time now.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// let t = net.now_ms();
    /// net.advance(5);
    /// assert_eq!(net.now_ms(), t + 5);
    /// ```
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Moves virtual time forward.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// net.advance(1_000);
    /// # assert!(net.now_ms() > 0);
    /// ```
    pub fn advance(&mut self, ms: u64) {
        self.now_ms = self.now_ms.saturating_add(ms);
    }

    /// Sets virtual time (may go backwards, for clock tests).
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// net.set_time(42);
    /// assert_eq!(net.now_ms(), 42);
    /// ```
    pub fn set_time(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// Sets the fault probabilities and delays.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// net.set_faults(metaless_testnet::loopback::Faults { drop: 1.0, ..Default::default() });
    /// let to = net.nodes()[0].pubkey_ed25519;
    /// assert!(net.post(&to, "/storage_rpc/v1", b"{}").is_err());
    /// ```
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// Takes a node down (`false`) or brings it back (`true`); its storage is kept.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// let to = net.nodes()[0].pubkey_ed25519;
    /// net.set_up(&to, false);
    /// assert_eq!(net.post(&to, "/storage_rpc/v1", b"{}"),
    ///     Err(metaless_testnet::loopback::LoopbackError::Unreachable));
    /// ```
    pub fn set_up(&mut self, node: &[u8; 32], up: bool) {
        if let Some(s) = self.index.get(node).and_then(|&i| self.slots.get_mut(i)) {
            s.up = up;
        }
    }

    /// Skews one node's clock by `skew_ms` relative to virtual time.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// let n = net.nodes()[0].pubkey_ed25519;
    /// net.set_clock_skew(&n, -120_000);
    /// # assert_eq!(net.nodes().len(), 6);
    /// ```
    pub fn set_clock_skew(&mut self, node: &[u8; 32], skew_ms: i64) {
        if let Some(s) = self.index.get(node).and_then(|&i| self.slots.get_mut(i)) {
            s.skew_ms = skew_ms;
        }
    }

    /// Reassigns every node to a swarm drawn from the seeded RNG (same swarm ids), so accounts
    /// move and old swarm members answer 421 with the new swarm.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// let before = net.network().clone();
    /// net.reshuffle_swarms();
    /// assert_eq!(net.network().swarm_ids(), before.swarm_ids());
    /// ```
    pub fn reshuffle_swarms(&mut self) {
        let ids = self.network.swarm_ids().to_vec();
        if ids.is_empty() {
            return;
        }
        let mut map = self.network.clone();
        // Rotate by a random non-zero offset so every node moves while swarms stay populated.
        let offset = 1 + (self.rng.next_u64() as usize) % ids.len().max(2).saturating_sub(1).max(1);
        for info in self.network.nodes() {
            let pos = ids.iter().position(|&s| s == info.swarm_id).unwrap_or(0);
            let new = ids
                .get((pos + offset) % ids.len())
                .copied()
                .unwrap_or(info.swarm_id);
            map.set_swarm(&info.pubkey_ed25519, new);
        }
        self.set_network(map);
    }

    /// Installs a network map on every node.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// let map = net.network().clone();
    /// net.set_network(map);
    /// # assert_eq!(net.nodes().len(), 6);
    /// ```
    pub fn set_network(&mut self, map: NetworkMap) {
        for s in &mut self.slots {
            s.node.set_network(map.clone());
        }
        self.network = map;
    }

    /// Gives one node its own view of the network (the rest keep theirs): a node that lies
    /// about the network, answering `get_service_nodes` and 421s from `map` — for
    /// directory-poisoning tests. Unknown keys are ignored.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// let liar = net.nodes()[0].pubkey_ed25519;
    /// let mut map = net.network().clone();
    /// map.set_swarm(&liar, 7);
    /// net.set_node_network(&liar, map);
    /// assert_ne!(net.network().find(&liar).unwrap().swarm_id, 7, "the shared map is unchanged");
    /// ```
    pub fn set_node_network(&mut self, node: &[u8; 32], map: NetworkMap) {
        if let Some(slot) = self.index.get(node).and_then(|&i| self.slots.get_mut(i)) {
            slot.node.set_network(map);
        }
    }

    /// Answers onion requests to HTTP server destinations: `f(url, body)` returns
    /// `Some((status, body))`, or `None` for "connection failed".
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// net.set_server(|_url, _body| Some((200, b"ok".to_vec())));
    /// # assert_eq!(net.nodes().len(), 6);
    /// ```
    pub fn set_server(
        &mut self,
        f: impl FnMut(&str, &[u8]) -> Option<(u16, Vec<u8>)> + Send + 'static,
    ) {
        self.server = Some(Box::new(f));
    }

    /// A node core, for inspection.
    ///
    /// ```
    /// # let net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// let n = net.nodes()[0].pubkey_ed25519;
    /// assert_eq!(net.node(&n).unwrap().storage().count().unwrap(), 0);
    /// ```
    pub fn node(&self, ed25519: &[u8; 32]) -> Option<&Node> {
        self.index
            .get(ed25519)
            .and_then(|&i| self.slots.get(i))
            .map(|s| &s.node)
    }

    /// Turns observation on or off on every node.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// net.set_observe(true);
    /// assert!(net.take_observations().is_empty());
    /// ```
    pub fn set_observe(&mut self, on: bool) {
        for s in &mut self.slots {
            s.node.set_observe(on);
        }
    }

    /// Takes every node's observation records, ordered by node time then node.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// assert!(net.take_observations().is_empty());
    /// ```
    pub fn take_observations(&mut self) -> Vec<Observation> {
        let mut all: Vec<Observation> = self
            .slots
            .iter_mut()
            .flat_map(|s| s.node.take_observations())
            .collect();
        all.sort_by(|a, b| (a.at_ms, &a.node, a.seq).cmp(&(b.at_ms, &b.node, b.seq)));
        all
    }

    /// Number of transfers (client→node, node→node, replication) so far.
    ///
    /// ```
    /// # let net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// assert_eq!(net.transfers(), 0);
    /// ```
    pub fn transfers(&self) -> u64 {
        self.transfers
    }

    /// POSTs `body` to `path` on node `to`, as a client would over HTTP, and runs everything
    /// that follows (onion hops, swarm replication) to completion in virtual time.
    ///
    /// ```
    /// # let mut net = metaless_testnet::loopback::LoopbackNet::new(Default::default()).unwrap();
    /// let to = net.nodes()[0].pubkey_ed25519;
    /// let (status, body) = net.post(&to, "/storage_rpc/v1", br#"{"method":"info","params":{}}"#).unwrap();
    /// assert_eq!(status, 200);
    /// assert!(String::from_utf8(body).unwrap().contains("\"version\""));
    /// ```
    pub fn post(
        &mut self,
        to: &[u8; 32],
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), LoopbackError> {
        let r = self.transfer(
            to,
            Request {
                path: path.to_owned(),
                body: body.to_vec(),
                from: Some("client".into()),
                forwarded: false,
            },
            0,
        )?;
        Ok((r.status, r.body))
    }

    fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        // 53 random bits → uniform in [0, 1).
        let x = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }

    /// One hop: deliver `req` to `to`, run its action, return its HTTP answer.
    fn transfer(
        &mut self,
        to: &[u8; 32],
        mut req: Request,
        depth: u32,
    ) -> Result<Response, LoopbackError> {
        let i = *self.index.get(to).ok_or(LoopbackError::UnknownNode)?;
        self.transfers += 1;
        self.now_ms = self.now_ms.saturating_add(self.faults.delay_ms);
        if !self.slots.get(i).is_some_and(|s| s.up) {
            return Err(LoopbackError::Unreachable);
        }
        if self.chance(self.faults.drop) {
            return Err(LoopbackError::Timeout);
        }
        if !req.body.is_empty() && self.chance(self.faults.corrupt) {
            let pos = (self.rng.next_u64() as usize) % req.body.len();
            if let Some(b) = req.body.get_mut(pos) {
                *b ^= 1 << (self.rng.next_u32() % 8);
            }
        }
        let (action, me) = {
            let slot = self.slots.get_mut(i).ok_or(LoopbackError::UnknownNode)?;
            let now = self.now_ms.saturating_add_signed(slot.skew_ms);
            // The node core still counts ms in i64: the one conversion, here.
            let now = i64::try_from(now).unwrap_or(i64::MAX);
            (slot.node.handle(now, req), slot.node.info().clone())
        };
        let mut response = match action {
            Action::Respond(r) => r,
            Action::Replicate { ticket, targets } => {
                let mut outcomes = Vec::new();
                for rep in targets {
                    let req = Request {
                        path: RPC_PATH.into(),
                        body: rep.body,
                        from: Some(me.url()),
                        forwarded: true,
                    };
                    let outcome = match self.transfer(&rep.to.pubkey_ed25519, req, depth + 1) {
                        Ok(r) => ReplicaOutcome::Answered {
                            status: r.status,
                            body: r.body,
                        },
                        Err(_) => ReplicaOutcome::Timeout,
                    };
                    outcomes.push((rep.to.pubkey_ed25519, outcome));
                }
                let slot = self.slots.get_mut(i).ok_or(LoopbackError::UnknownNode)?;
                let now = self.now_ms.saturating_add_signed(slot.skew_ms);
                let now = i64::try_from(now).unwrap_or(i64::MAX);
                slot.node.finish_replication(now, ticket, &outcomes)
            }
            Action::ForwardToNode { node, body } => {
                // hop_no bounds honest paths; depth bounds anything else.
                if depth > MAX_ONION_HOPS + 1 {
                    Response::request_timeout()
                } else {
                    let next = Request {
                        path: ONION_PATH.into(),
                        body,
                        from: Some(me.url()),
                        forwarded: false,
                    };
                    match self.transfer(&node.pubkey_ed25519, next, depth + 1) {
                        Ok(r) => r,
                        Err(_) => Response::request_timeout(),
                    }
                }
            }
            Action::ForwardToServer { url, body } => {
                match self.server.as_mut().and_then(|f| f(&url, &body)) {
                    Some((status, body)) => Response {
                        status,
                        content_type: "application/octet-stream",
                        body,
                        replicate: Vec::new(),
                    },
                    None => Response::bad_gateway("Could not connect to server"),
                }
            }
        };
        for rep in core::mem::take(&mut response.replicate) {
            let req = Request {
                path: RPC_PATH.into(),
                body: rep.body,
                from: Some(me.url()),
                forwarded: true,
            };
            // Replication failures only show up later as a peer missing the message, as upstream.
            let _ = self.transfer(&rep.to.pubkey_ed25519, req, depth + 1);
        }
        Ok(response)
    }
}
