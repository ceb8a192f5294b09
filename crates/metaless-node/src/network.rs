//! What every node knows about the testnet: the node list, swarm assignment per the network's
//! rules, and the JSON forms (`get_swarm`, 421 bodies, `get_service_nodes`) built from it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use metaless_identity::hex;

/// Swarm id of nodes that are not in any swarm (upstream `INVALID_SWARM_ID`).
pub const INVALID_SWARM_ID: u64 = u64::MAX;

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
        format!("http://{}:{}", self.ip, self.port)
    }

    /// The node's entry in swarm JSON (`get_swarm`, 421 bodies), with upstream's field names.
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// assert_eq!(n.snode_json()["port_https"], 4000);
    /// assert_eq!(n.snode_json()["port"], "4000");
    /// ```
    pub fn snode_json(&self) -> Value {
        let ed = hex::encode(&self.pubkey_ed25519);
        json!({
            "address": format!("{ed}.snode"),
            "pubkey_legacy": ed,
            "pubkey_x25519": hex::encode(&self.pubkey_x25519),
            "pubkey_ed25519": ed,
            "port": self.port.to_string(),
            "port_https": self.port,
            "port_omq": self.port,
            "port_quic": self.port,
            "ip": self.ip,
        })
    }

    /// The node's entry in an oxend `get_service_nodes` result (what seed nodes return).
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// assert_eq!(n.service_node_json()["storage_port"], 4000);
    /// assert_eq!(n.service_node_json()["swarm_id"], 7);
    /// ```
    pub fn service_node_json(&self) -> Value {
        json!({
            "public_ip": self.ip,
            "storage_port": self.port,
            "storage_lmq_port": self.port,
            "pubkey_ed25519": hex::encode(&self.pubkey_ed25519),
            "pubkey_x25519": hex::encode(&self.pubkey_x25519),
            "swarm_id": self.swarm_id,
        })
    }
}

/// Swarm space position of an account: the 32 key bytes after the prefix as four big-endian
/// u64 words, XORed.
///
/// ```
/// let mut key = [0u8; 32];
/// key[24..].copy_from_slice(&0x0123456789abcdefu64.to_be_bytes());
/// assert_eq!(metaless_node::network::swarm_space(&key), 0x0123456789abcdef);
/// ```
pub fn swarm_space(key: &[u8; 32]) -> u64 {
    key.chunks_exact(8).fold(0u64, |acc, word| {
        let mut b = [0u8; 8];
        b.copy_from_slice(word);
        acc ^ u64::from_be_bytes(b)
    })
}

/// The swarm for position `pos` among sorted, deduplicated `ids`: the nearest on the circle,
/// ties to the left (lower, or across the wrap the largest). `None` when there are no swarms.
///
/// ```
/// use metaless_node::network::pick_swarm;
/// assert_eq!(pick_swarm(&[100, 200], 150), Some(100)); // tie goes left
/// assert_eq!(pick_swarm(&[100, 200], 151), Some(200));
/// assert_eq!(pick_swarm(&[], 1), None);
/// ```
pub fn pick_swarm(ids: &[u64], pos: u64) -> Option<u64> {
    let first = *ids.first()?;
    let last = *ids.last()?;
    if ids.len() == 1 {
        return Some(first);
    }
    let idx = ids.partition_point(|&id| id < pos);
    let right = ids.get(idx).copied().unwrap_or(first);
    let left = if idx == 0 || idx == ids.len() {
        last
    } else {
        ids.get(idx - 1).copied().unwrap_or(last)
    };
    let dright = right.wrapping_sub(pos);
    let dleft = pos.wrapping_sub(left);
    Some(if dright < dleft { right } else { left })
}

/// The testnet's node list, as every node (and the seed-node endpoints) knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkMap {
    nodes: Vec<NodeInfo>,
    swarm_ids: Vec<u64>,
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
        let mut swarm_ids: Vec<u64> = nodes
            .iter()
            .map(|n| n.swarm_id)
            .filter(|&s| s != INVALID_SWARM_ID)
            .collect();
        swarm_ids.sort_unstable();
        swarm_ids.dedup();
        Self { nodes, swarm_ids }
    }

    /// Every node.
    ///
    /// ```
    /// assert!(metaless_node::NetworkMap::default().nodes().is_empty());
    /// ```
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// Sorted swarm ids.
    ///
    /// ```
    /// assert!(metaless_node::NetworkMap::default().swarm_ids().is_empty());
    /// ```
    pub fn swarm_ids(&self) -> &[u64] {
        &self.swarm_ids
    }

    /// The node with this Ed25519 key.
    ///
    /// ```
    /// assert!(metaless_node::NetworkMap::default().find(&[0; 32]).is_none());
    /// ```
    pub fn find(&self, ed25519: &[u8; 32]) -> Option<&NodeInfo> {
        self.nodes.iter().find(|n| &n.pubkey_ed25519 == ed25519)
    }

    /// The swarm an account key (32 bytes after the prefix) belongs to.
    ///
    /// ```
    /// assert_eq!(metaless_node::NetworkMap::default().swarm_for(&[0; 32]), None);
    /// ```
    pub fn swarm_for(&self, account_key: &[u8; 32]) -> Option<u64> {
        pick_swarm(&self.swarm_ids, swarm_space(account_key))
    }

    /// Members of a swarm.
    ///
    /// ```
    /// assert_eq!(metaless_node::NetworkMap::default().swarm_members(1).count(), 0);
    /// ```
    pub fn swarm_members(&self, swarm_id: u64) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.iter().filter(move |n| n.swarm_id == swarm_id)
    }

    /// Swarm JSON for an account (the `get_swarm` reply and the 421 body, without `t`/`hf`).
    ///
    /// ```
    /// let v = metaless_node::NetworkMap::default().swarm_json(&[0; 32]);
    /// assert_eq!(v["swarm"], "ffffffffffffffff");
    /// ```
    pub fn swarm_json(&self, account_key: &[u8; 32]) -> Value {
        match self.swarm_for(account_key) {
            Some(id) => json!({
                "snodes": self.swarm_members(id).map(NodeInfo::snode_json).collect::<Vec<_>>(),
                "swarm": format!("{id:x}"),
            }),
            None => json!({ "snodes": [], "swarm": format!("{INVALID_SWARM_ID:x}") }),
        }
    }

    /// The oxend `get_service_nodes` result: every node's public facts.
    ///
    /// ```
    /// let v = metaless_node::NetworkMap::default().service_nodes_json();
    /// assert!(v["service_node_states"].as_array().unwrap().is_empty());
    /// ```
    pub fn service_nodes_json(&self) -> Value {
        json!({
            "service_node_states": self.nodes.iter().map(NodeInfo::service_node_json).collect::<Vec<_>>(),
        })
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
