//! What every node knows about the testnet: its node list. The network's rules over that list
//! — swarm space, nearest swarm, the `get_swarm` / 421 / `get_service_nodes` JSON — are
//! metaless-swarm's ([`metaless_swarm::NodeList`], [`metaless_swarm::SwarmIds`],
//! [`metaless_swarm::server`]); this module keeps only the testnet's own facts about each node
//! (its URL) next to the [`ServiceNode`] form those rules work on.

use core::net::Ipv4Addr;

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use metaless_identity::Seed;

use metaless_swarm::server::{self, ReplyBody};
use metaless_swarm::{NodeList, ServiceNode, SwarmIds, UserPubkey, oxend_service_nodes_json};

pub use metaless_swarm::{INVALID_SWARM_ID, swarm_space};

use crate::rpc::{HARDFORK, NODE_VERSION};

/// One service node as the testnet lists it (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Ed25519 public key: the node's name in routing JSON.
    #[serde(with = "hex32")]
    pub pubkey_ed25519: [u8; 32],
    /// X25519 public key (derived from the Ed25519 key): what onion layers are encrypted to.
    #[serde(with = "hex32")]
    pub pubkey_x25519: [u8; 32],
    /// The swarm the node belongs to.
    pub swarm_id: u64,
    /// IPv4 address (always loopback in a testnet).
    pub ip: String,
    /// HTTP port of `/onion_req/v2` and `/storage_rpc/v1`.
    pub port: u16,
}

impl NodeInfo {
    /// `http://ip:port`, the base URL clients and other nodes use.
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// assert_eq!(n.url(), "http://127.0.0.1:4000");
    /// ```
    pub fn url(&self) -> String {
        self.base_url(false)
    }

    /// `https://ip:port` when `tls` (a testnet started in TLS mode), else [`NodeInfo::url`].
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// assert_eq!(n.base_url(true), "https://127.0.0.1:4000");
    /// assert_eq!(n.base_url(false), n.url());
    /// ```
    pub fn base_url(&self, tls: bool) -> String {
        let scheme = if tls { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.ip, self.port)
    }

    /// The node as metaless-swarm models it. A testnet node has one port, so it is both the
    /// HTTPS storage port and the OMQ/QUIC port (which keeps its `active_nodes_bin` record
    /// usable); its version is [`NODE_VERSION`]. An IP that is not IPv4 becomes `0.0.0.0`,
    /// which clients skip as unreachable.
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// let s = n.service_node();
    /// assert_eq!((s.ip, s.storage_port, s.swarm_id, s.x25519), ([127, 0, 0, 1], 4000, 7, [2; 32]));
    /// ```
    pub fn service_node(&self) -> ServiceNode {
        ServiceNode {
            ed25519: self.pubkey_ed25519,
            x25519: self.pubkey_x25519,
            ip: self.ip.parse::<Ipv4Addr>().map_or([0; 4], |ip| ip.octets()),
            storage_port: self.port,
            omq_port: self.port,
            swarm_id: self.swarm_id,
            version: NODE_VERSION,
            legacy: None,
        }
    }

    /// The node's entry in swarm JSON (`get_swarm`, 421 bodies):
    /// [`ServiceNode::to_swarm_json`].
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// assert_eq!(n.snode_json()["port_https"], 4000);
    /// assert_eq!(n.snode_json()["port"], "4000");
    /// ```
    pub fn snode_json(&self) -> Value {
        self.service_node().to_swarm_json()
    }

    /// The node's entry in an oxend `get_service_nodes` result (what seed nodes return):
    /// [`ServiceNode::to_oxend_json`].
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// assert_eq!(n.service_node_json()["storage_port"], 4000);
    /// assert_eq!(n.service_node_json()["swarm_id"], 7);
    /// ```
    pub fn service_node_json(&self) -> Value {
        self.service_node().to_oxend_json()
    }
}

/// Evenly spread swarm ids over the u64 circle (never [`INVALID_SWARM_ID`]).
///
/// ```
/// let ids = metaless_node::network::swarm_ids(4);
/// assert_eq!(ids.len(), 4);
/// assert!(ids.windows(2).all(|w| w[0] < w[1]));
/// ```
pub fn swarm_ids(count: usize) -> Vec<u64> {
    let count = count.max(1) as u64;
    let step = u64::MAX / count;
    (0..count).map(|i| i * step + step / 2).collect()
}

/// One node of a generated testnet: its key seed (secret) and its swarm.
#[derive(Debug)]
pub struct GeneratedNode {
    /// The node's Ed25519 key seed.
    pub seed: Seed,
    /// The swarm it belongs to.
    pub swarm_id: u64,
}

/// The nodes of a testnet: `nodes` fresh key seeds drawn from `rng` (32 bytes each, in order),
/// assigned round-robin to [`swarm_ids`]`(swarms)` (`swarms` clamped to 1..=`nodes`). Both
/// testnet files (metaless-node-server) and `LoopbackNet` (metaless-testnet) are made with it,
/// so one seed gives the same keys and swarms everywhere.
///
/// ```
/// # use rand_core::SeedableRng;
/// let nodes = metaless_node::network::generate_nodes(5, 2,
///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
/// assert_eq!(nodes.len(), 5);
/// assert_eq!(nodes[0].swarm_id, nodes[2].swarm_id);
/// assert_ne!(nodes[0].swarm_id, nodes[1].swarm_id);
/// ```
pub fn generate_nodes(
    nodes: usize,
    swarms: usize,
    rng: &mut (impl RngCore + CryptoRng),
) -> Vec<GeneratedNode> {
    let ids = swarm_ids(swarms.clamp(1, nodes.max(1)));
    (0..nodes)
        .map(|i| {
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            GeneratedNode {
                seed: Seed::from_bytes(s),
                swarm_id: ids.get(i % ids.len()).copied().unwrap_or(0),
            }
        })
        .collect()
}

/// The swarm for position `pos` among `ids`: [`SwarmIds::nearest`] (nearest on the circle,
/// ties to the left). `None` when there are no swarms.
///
/// ```
/// use metaless_node::network::pick_swarm;
/// assert_eq!(pick_swarm(&[100, 200], 150), Some(100)); // tie goes left
/// assert_eq!(pick_swarm(&[100, 200], 151), Some(200));
/// assert_eq!(pick_swarm(&[], 1), None);
/// ```
pub fn pick_swarm(ids: &[u64], pos: u64) -> Option<u64> {
    SwarmIds::new(ids.iter().copied()).nearest(pos)
}

/// The testnet's node list, as every node (and the seed-node endpoints) knows it: the
/// [`NodeInfo`]s and, built once from them, the [`NodeList`] and [`SwarmIds`] that
/// metaless-swarm's rules take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkMap {
    nodes: Vec<NodeInfo>,
    list: NodeList,
    swarm_ids: SwarmIds,
}

impl NetworkMap {
    /// Builds the map; swarm ids are taken from the nodes (excluding [`INVALID_SWARM_ID`]).
    ///
    /// ```
    /// use metaless_node::{NetworkMap, NodeInfo};
    /// let n = |b: u8, s: u64| NodeInfo { pubkey_ed25519: [b; 32], pubkey_x25519: [b; 32],
    ///     swarm_id: s, ip: "127.0.0.1".into(), port: 4000 + b as u16 };
    /// let map = NetworkMap::new(vec![n(1, 10), n(2, 10), n(3, 20)]);
    /// assert_eq!(map.swarm_ids(), &[10, 20]);
    /// assert_eq!(map.swarm_members(10).count(), 2);
    /// ```
    pub fn new(nodes: Vec<NodeInfo>) -> Self {
        let list = NodeList {
            nodes: nodes.iter().map(NodeInfo::service_node).collect(),
            skipped: 0,
        };
        let swarm_ids = list.swarm_ids();
        Self {
            nodes,
            list,
            swarm_ids,
        }
    }

    /// Every node.
    ///
    /// ```
    /// assert!(metaless_node::NetworkMap::default().nodes().is_empty());
    /// ```
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// The same nodes as metaless-swarm's [`NodeList`] (what the swarm check and the node-list
    /// replies are computed from).
    ///
    /// ```
    /// assert!(metaless_node::NetworkMap::default().node_list().nodes.is_empty());
    /// ```
    pub fn node_list(&self) -> &NodeList {
        &self.list
    }

    /// Sorted swarm ids.
    ///
    /// ```
    /// assert!(metaless_node::NetworkMap::default().swarm_ids().is_empty());
    /// ```
    pub fn swarm_ids(&self) -> &[u64] {
        self.swarm_ids.as_slice()
    }

    /// The node with this Ed25519 key.
    ///
    /// ```
    /// assert!(metaless_node::NetworkMap::default().find(&[0; 32]).is_none());
    /// ```
    pub fn find(&self, ed25519: &[u8; 32]) -> Option<&NodeInfo> {
        self.nodes.iter().find(|n| &n.pubkey_ed25519 == ed25519)
    }

    /// The swarm an account key (32 bytes after the prefix) belongs to
    /// ([`SwarmIds::swarm_for`]).
    ///
    /// ```
    /// assert_eq!(metaless_node::NetworkMap::default().swarm_for(&[0; 32]), None);
    /// ```
    pub fn swarm_for(&self, account_key: &[u8; 32]) -> Option<u64> {
        self.swarm_ids.swarm_for(account_key)
    }

    /// Members of a swarm.
    ///
    /// ```
    /// assert_eq!(metaless_node::NetworkMap::default().swarm_members(1).count(), 0);
    /// ```
    pub fn swarm_members(&self, swarm_id: u64) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.iter().filter(move |n| n.swarm_id == swarm_id)
    }

    /// Swarm JSON for an account: the body of [`server::get_swarm_reply`] without `t`/`hf`.
    ///
    /// ```
    /// let v = metaless_node::NetworkMap::default().swarm_json(&[0; 32]);
    /// assert_eq!(v["swarm"], "ffffffffffffffff");
    /// ```
    pub fn swarm_json(&self, account_key: &[u8; 32]) -> Value {
        let account = UserPubkey::new(0x05, *account_key);
        let mut body = match server::get_swarm_reply(&account, &self.list, 0, HARDFORK).body {
            ReplyBody::Json(v) => v,
            _ => Value::Null,
        };
        if let Value::Object(m) = &mut body {
            m.remove("t");
            m.remove("hf");
        }
        body
    }

    /// The oxend `get_service_nodes` result (`{"service_node_states": [...]}`): the `result`
    /// of [`oxend_service_nodes_json`].
    ///
    /// ```
    /// let v = metaless_node::NetworkMap::default().service_nodes_json();
    /// assert!(v["service_node_states"].as_array().unwrap().is_empty());
    /// ```
    pub fn service_nodes_json(&self) -> Value {
        match oxend_service_nodes_json(&self.list.nodes, 0, HARDFORK) {
            Value::Object(mut m) => m.remove("result").unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// Replaces the swarm of one node (fault injection: a reshuffle makes accounts move).
    ///
    /// ```
    /// use metaless_node::{NetworkMap, NodeInfo};
    /// let mut map = NetworkMap::new(vec![NodeInfo { pubkey_ed25519: [1; 32],
    ///     pubkey_x25519: [1; 32], swarm_id: 5, ip: "127.0.0.1".into(), port: 1 }]);
    /// map.set_swarm(&[1; 32], 9);
    /// assert_eq!(map.swarm_ids(), &[9]);
    /// ```
    pub fn set_swarm(&mut self, ed25519: &[u8; 32], swarm_id: u64) {
        for n in &mut self.nodes {
            if &n.pubkey_ed25519 == ed25519 {
                n.swarm_id = swarm_id;
            }
        }
        *self = Self::new(core::mem::take(&mut self.nodes));
    }
}

/// Serde helper: 32-byte keys as lowercase hex strings.
pub(crate) mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&metaless_identity::hex::encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        metaless_identity::hex::decode_array::<32>(&s).map_err(D::Error::custom)
    }
}
