//! Service nodes and node lists: parsing `get_service_nodes`, `get_swarm` (and the 421 body,
//! which has the same form) and `active_nodes_bin`, and producing them on the node side.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use metaless_identity::wire::Reader;
use metaless_identity::{ed25519_to_x25519_public, hex};
use serde_json::{Map, Value, json};

use crate::json::{field, opt_hf, opt_u64, parse_object, req_array};
use crate::limits::MAX_SERVICE_NODES;
use crate::{INVALID_SWARM_ID, SwarmError, SwarmIds, UserPubkey};

/// Size of one `active_nodes_bin` record (storage server `client_rpc_endpoints.h`).
pub const ACTIVE_NODE_RECORD_LEN: usize = 51;

/// One service node, as clients need it to reach the node and to encrypt to it.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::ServiceNode;
/// let keys = Keypair::from_seed(&Seed::from_bytes([9u8; 32]));
/// let node = ServiceNode::new(keys.ed25519_public(), [10, 0, 0, 1], 22021, 7).unwrap();
/// assert_eq!(node.x25519, keys.x25519_public());
/// let back = ServiceNode::from_json(&node.to_swarm_json()).unwrap();
/// assert_eq!(back.ed25519, node.ed25519);
/// assert_eq!(back.storage_port, 22021);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceNode {
    /// The node's Ed25519 key: its name in onion routing and in swarm replies.
    pub ed25519: [u8; 32],
    /// The X25519 key derived from `ed25519`, which onion layers are encrypted to.
    pub x25519: [u8; 32],
    /// Public IPv4 address.
    pub ip: [u8; 4],
    /// HTTPS storage port (`/storage_rpc/v1`, `/onion_req/v2`).
    pub storage_port: u16,
    /// OxenMQ/QUIC port, 0 when unknown.
    pub omq_port: u16,
    /// The swarm the node serves, [`INVALID_SWARM_ID`] when none or unknown.
    pub swarm_id: u64,
    /// Storage server version, `[0, 0, 0]` when unknown.
    pub version: [u16; 3],
    /// The node's primary ("legacy") key when it differs from `ed25519`.
    pub legacy: Option<[u8; 32]>,
}

impl ServiceNode {
    /// A node from its Ed25519 key, deriving the X25519 key.
    pub fn new(
        ed25519: [u8; 32],
        ip: [u8; 4],
        storage_port: u16,
        swarm_id: u64,
    ) -> Result<Self, SwarmError> {
        let x25519 = ed25519_to_x25519_public(&ed25519)
            .map_err(|_| SwarmError::InvalidNode("pubkey_ed25519"))?;
        Ok(Self {
            ed25519,
            x25519,
            ip,
            storage_port,
            omq_port: 0,
            swarm_id,
            version: [0; 3],
            legacy: None,
        })
    }

    /// The node's name ([`NodeId`](crate::NodeId)): its Ed25519 key.
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([9u8; 32]));
    /// let node = metaless_swarm::ServiceNode::new(keys.ed25519_public(), [10, 0, 0, 1], 22021, 7).unwrap();
    /// assert_eq!(node.id().to_bytes(), keys.ed25519_public());
    /// ```
    pub fn id(&self) -> crate::NodeId {
        crate::NodeId::new(self.ed25519)
    }

    /// The Ed25519 key in hex (how nodes are named in JSON).
    pub fn ed25519_hex(&self) -> String {
        hex::encode(&self.ed25519)
    }

    /// The dotted IPv4 address.
    pub fn ip_string(&self) -> String {
        format!("{}", Ipv4Addr::from(self.ip))
    }

    fn legacy_key(&self) -> [u8; 32] {
        self.legacy.unwrap_or(self.ed25519)
    }

    /// Reads a node entry from `get_service_nodes` (oxend field names) or from a swarm reply
    /// (storage server field names), ignoring fields it does not use.
    ///
    /// Required: `pubkey_ed25519`, an IPv4 (`public_ip` or `ip`, not `0.0.0.0`) and the HTTPS
    /// port (`storage_https_port`, `storage_port` or `port_https`). Optional: the OMQ port
    /// (`storage_lmq_port`/`port_omq`), the swarm (`swarm_id` number or `swarm` hex), the
    /// version (`storage_server_version` as array or `"a.b.c"`), the legacy key
    /// (`service_node_pubkey`/`pubkey_legacy`). A `pubkey_x25519` that does not match the one
    /// derived from `pubkey_ed25519` is refused.
    ///
    /// ```
    /// use metaless_swarm::{ServiceNode, SwarmError};
    /// let ed = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    /// let entry = serde_json::json!({
    ///     "pubkey_ed25519": ed, "public_ip": "1.2.3.4", "storage_port": 22021,
    ///     "storage_lmq_port": 22020, "swarm_id": 42, "some_new_field": true
    /// });
    /// let node = ServiceNode::from_json(&entry).unwrap();
    /// assert_eq!((node.ip, node.storage_port, node.omq_port, node.swarm_id), ([1, 2, 3, 4], 22021, 22020, 42));
    /// let missing = serde_json::json!({"pubkey_ed25519": ed, "public_ip": "1.2.3.4"});
    /// assert_eq!(ServiceNode::from_json(&missing), Err(SwarmError::InvalidNode("storage port")));
    /// ```
    pub fn from_json(value: &Value) -> Result<Self, SwarmError> {
        let obj = value
            .as_object()
            .ok_or(SwarmError::InvalidNode("not an object"))?;
        let ed_hex = field(obj, "pubkey_ed25519")
            .and_then(Value::as_str)
            .ok_or(SwarmError::InvalidNode("pubkey_ed25519"))?;
        let ed25519: [u8; 32] =
            hex::decode_array(ed_hex).map_err(|_| SwarmError::InvalidNode("pubkey_ed25519"))?;
        let ip_text = field(obj, "public_ip")
            .or_else(|| field(obj, "ip"))
            .and_then(Value::as_str)
            .ok_or(SwarmError::InvalidNode("ip"))?;
        let ip = ip_text
            .parse::<Ipv4Addr>()
            .map_err(|_| SwarmError::InvalidNode("ip"))?
            .octets();
        if ip == [0; 4] {
            return Err(SwarmError::InvalidNode("ip"));
        }
        let port = |names: &[&str]| -> Result<Option<u16>, SwarmError> {
            match names.iter().find_map(|n| field(obj, n)) {
                None => Ok(None),
                Some(v) => v
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .map(Some)
                    .ok_or(SwarmError::InvalidNode("port")),
            }
        };
        let storage_port = port(&["storage_https_port", "storage_port", "port_https"])?
            .filter(|&p| p != 0)
            .ok_or(SwarmError::InvalidNode("storage port"))?;
        let omq_port = port(&["storage_lmq_port", "port_omq"])?.unwrap_or(0);
        let swarm_id = match (field(obj, "swarm_id"), field(obj, "swarm")) {
            (Some(v), _) => v.as_u64().ok_or(SwarmError::InvalidNode("swarm_id"))?,
            (None, Some(v)) => parse_swarm_hex(v).ok_or(SwarmError::InvalidNode("swarm"))?,
            (None, None) => INVALID_SWARM_ID,
        };
        let version = match field(obj, "storage_server_version") {
            None => [0; 3],
            Some(v) => parse_version(v).ok_or(SwarmError::InvalidNode("storage_server_version"))?,
        };
        let legacy =
            match field(obj, "service_node_pubkey").or_else(|| field(obj, "pubkey_legacy")) {
                None => None,
                Some(v) => Some(
                    v.as_str()
                        .and_then(|s| hex::decode_array(s).ok())
                        .ok_or(SwarmError::InvalidNode("pubkey_legacy"))?,
                ),
            }
            .filter(|k| *k != ed25519);
        let mut node = Self::new(ed25519, ip, storage_port, swarm_id)?;
        if let Some(x) = field(obj, "pubkey_x25519") {
            let given: [u8; 32] = x
                .as_str()
                .and_then(|s| hex::decode_array(s).ok())
                .ok_or(SwarmError::InvalidNode("pubkey_x25519"))?;
            if given != node.x25519 {
                return Err(SwarmError::InvalidNode("pubkey_x25519"));
            }
        }
        node.omq_port = omq_port;
        node.version = version;
        node.legacy = legacy;
        Ok(node)
    }

    /// The node as a swarm reply lists it (storage server `snode_fields`): `address`, `ip`,
    /// `port` (string), `port_https`, `port_omq`, `port_quic`, `pubkey_ed25519`,
    /// `pubkey_legacy`, `pubkey_x25519`.
    pub fn to_swarm_json(&self) -> Value {
        let legacy = self.legacy_key();
        json!({
            "address": format!("{}.snode", base32z(&legacy)),
            "ip": self.ip_string(),
            "port": format!("{}", self.storage_port),
            "port_https": self.storage_port,
            "port_omq": self.omq_port,
            "port_quic": self.omq_port,
            "pubkey_ed25519": self.ed25519_hex(),
            "pubkey_legacy": hex::encode(&legacy),
            "pubkey_x25519": hex::encode(&self.x25519),
        })
    }

    /// The node as an oxend `get_service_nodes` entry (the fields clients ask for).
    pub fn to_oxend_json(&self) -> Value {
        json!({
            "service_node_pubkey": hex::encode(&self.legacy_key()),
            "pubkey_ed25519": self.ed25519_hex(),
            "pubkey_x25519": hex::encode(&self.x25519),
            "public_ip": self.ip_string(),
            "storage_port": self.storage_port,
            "storage_lmq_port": self.omq_port,
            "swarm_id": self.swarm_id,
            "storage_server_version": self.version,
        })
    }

    /// The 51-byte `active_nodes_bin` record: Ed25519 key, swarm id (big-endian u64), IPv4,
    /// HTTPS port and OMQ/QUIC port (big-endian u16), three version bytes (capped at 255).
    pub fn to_active_record(&self) -> [u8; ACTIVE_NODE_RECORD_LEN] {
        let mut out = [0u8; ACTIVE_NODE_RECORD_LEN];
        let mut parts: Vec<u8> = Vec::with_capacity(ACTIVE_NODE_RECORD_LEN);
        parts.extend_from_slice(&self.ed25519);
        parts.extend_from_slice(&self.swarm_id.to_be_bytes());
        parts.extend_from_slice(&self.ip);
        parts.extend_from_slice(&self.storage_port.to_be_bytes());
        parts.extend_from_slice(&self.omq_port.to_be_bytes());
        parts.extend(
            self.version
                .iter()
                .map(|&v| u8::try_from(v).unwrap_or(u8::MAX)),
        );
        out.copy_from_slice(&parts);
        out
    }
}

fn parse_swarm_hex(v: &Value) -> Option<u64> {
    let s = v.as_str()?;
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn parse_version(v: &Value) -> Option<[u16; 3]> {
    let mut out = [0u16; 3];
    match v {
        Value::Array(items) => {
            for (slot, item) in out.iter_mut().zip(items) {
                *slot = u16::try_from(item.as_u64()?).ok()?;
            }
        }
        Value::String(s) => {
            for (slot, part) in out.iter_mut().zip(s.split('.')) {
                *slot = part.parse().ok()?;
            }
        }
        _ => return None,
    }
    Some(out)
}

const BASE32Z: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// z-base-32 as oxen-encoding writes it (the `address` of a node is this of its legacy key plus
/// `.snode`): five bits at a time, most significant first, the last group zero-padded.
///
/// ```
/// assert_eq!(metaless_swarm::base32z(&[0, 0, 0, 0, 0]), "yyyyyyyy");
/// assert_eq!(metaless_swarm::base32z(&[0, 255]), "yd9o");
/// ```
pub fn base32z(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut acc = 0u16;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8) | u16::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32Z[usize::from((acc >> bits) & 0x1f)]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(BASE32Z[usize::from((acc << (5 - bits)) & 0x1f)]));
    }
    out
}

/// A list of service nodes, with a count of the entries that were present but unusable.
///
/// ```
/// use metaless_swarm::{NodeList, UserPubkey};
/// let body = br#"{"result": {"service_node_states": [
///   {"pubkey_ed25519": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
///    "public_ip": "1.2.3.4", "storage_port": 22021, "swarm_id": 100},
///   {"pubkey_ed25519": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
///    "public_ip": "0.0.0.0", "storage_port": 22021, "swarm_id": 200}
/// ]}, "t": 1700000000000, "hf": [19, 3]}"#;
/// let list = NodeList::from_get_service_nodes(body).unwrap();
/// assert_eq!((list.nodes.len(), list.skipped), (1, 1));
/// let account = UserPubkey::new(5, [0u8; 32]);
/// let (swarm, members) = list.swarm_for(&account).unwrap();
/// assert_eq!((swarm, members.len()), (100, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeList {
    /// The usable nodes, in the order given.
    pub nodes: Vec<ServiceNode>,
    /// Entries skipped because a required field was missing or invalid.
    pub skipped: usize,
}

impl NodeList {
    /// Parses the body of an `oxend_request` for `get_service_nodes`
    /// (`{"result": {"service_node_states": [...]}, "t", "hf"}`; a bare
    /// `{"service_node_states": [...]}` is accepted too).
    pub fn from_get_service_nodes(body: &[u8]) -> Result<Self, SwarmError> {
        let top = parse_object(body)?;
        let states = match field(&top, "result") {
            Some(result) => {
                let result = result
                    .as_object()
                    .ok_or(SwarmError::InvalidField("result"))?;
                req_array(result, "service_node_states")?
            }
            None => req_array(&top, "service_node_states")?,
        };
        Self::from_entries(states)
    }

    /// Parses node entries, skipping unusable ones.
    pub fn from_entries(entries: &[Value]) -> Result<Self, SwarmError> {
        if entries.len() > MAX_SERVICE_NODES {
            return Err(SwarmError::TooLarge {
                field: "service nodes",
                len: entries.len(),
                max: MAX_SERVICE_NODES,
            });
        }
        let mut list = Self::default();
        for entry in entries {
            match ServiceNode::from_json(entry) {
                Ok(node) => list.nodes.push(node),
                Err(_) => list.skipped += 1,
            }
        }
        Ok(list)
    }

    /// Parses an `active_nodes_bin` reply: whole 51-byte records; records without an IP or
    /// OMQ/QUIC port (nodes not yet reachable) or with an invalid key are skipped.
    ///
    /// ```
    /// use metaless_swarm::{NodeList, ServiceNode};
    /// let ed = metaless_identity::hex::decode_array("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap();
    /// let mut node = ServiceNode::new(ed, [1, 2, 3, 4], 443, 5).unwrap();
    /// node.omq_port = 22020;
    /// let bin = NodeList { nodes: vec![node.clone()], skipped: 0 }.to_active_nodes_bin();
    /// assert_eq!(NodeList::from_active_nodes_bin(&bin).unwrap().nodes, vec![node]);
    /// assert!(NodeList::from_active_nodes_bin(&bin[..50]).is_err());
    /// ```
    pub fn from_active_nodes_bin(bytes: &[u8]) -> Result<Self, SwarmError> {
        if !bytes.len().is_multiple_of(ACTIVE_NODE_RECORD_LEN) {
            return Err(SwarmError::InvalidField("active_nodes_bin"));
        }
        let count = bytes.len() / ACTIVE_NODE_RECORD_LEN;
        if count > MAX_SERVICE_NODES {
            return Err(SwarmError::TooLarge {
                field: "service nodes",
                len: count,
                max: MAX_SERVICE_NODES,
            });
        }
        let mut list = Self::default();
        let mut r = Reader::new(bytes);
        for _ in 0..count {
            let rec =
                read_record(&mut r).map_err(|_| SwarmError::InvalidField("active_nodes_bin"))?;
            match rec {
                Some(node) => list.nodes.push(node),
                None => list.skipped += 1,
            }
        }
        Ok(list)
    }

    /// The `active_nodes_bin` encoding of these nodes.
    pub fn to_active_nodes_bin(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.nodes.len() * ACTIVE_NODE_RECORD_LEN);
        for node in &self.nodes {
            out.extend_from_slice(&node.to_active_record());
        }
        out
    }

    /// Every swarm that has at least one node (nodes outside any swarm are left out).
    pub fn swarm_ids(&self) -> SwarmIds {
        self.nodes
            .iter()
            .map(|n| n.swarm_id)
            .filter(|&id| id != INVALID_SWARM_ID)
            .collect()
    }

    /// The members of swarm `id`.
    pub fn swarm(&self, id: u64) -> Vec<&ServiceNode> {
        self.nodes.iter().filter(|n| n.swarm_id == id).collect()
    }

    /// The swarm that holds `pubkey`'s messages and its members.
    pub fn swarm_for(&self, pubkey: &UserPubkey) -> Option<(u64, Vec<&ServiceNode>)> {
        let id = self.swarm_ids().nearest(pubkey.swarm_space())?;
        Some((id, self.swarm(id)))
    }
}

fn read_record(
    r: &mut Reader<'_>,
) -> Result<Option<ServiceNode>, metaless_identity::wire::WireError> {
    let ed25519: [u8; 32] = r.array()?;
    let swarm_id = u64::from_be_bytes(r.array()?);
    let ip: [u8; 4] = r.array()?;
    let storage_port = u16::from_be_bytes(r.array()?);
    let omq_port = u16::from_be_bytes(r.array()?);
    let v: [u8; 3] = r.array()?;
    if ip == [0; 4] || omq_port == 0 {
        return Ok(None);
    }
    Ok(ServiceNode::new(ed25519, ip, storage_port, swarm_id)
        .ok()
        .map(|mut n| {
            n.omq_port = omq_port;
            n.version = v.map(u16::from);
            n
        }))
}

/// The body of a `get_swarm` reply, and of a 421 (wrong swarm) reply.
///
/// ```
/// use metaless_swarm::{ServiceNode, SwarmResponse};
/// let ed = metaless_identity::hex::decode_array("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap();
/// let node = ServiceNode::new(ed, [1, 2, 3, 4], 443, 0xabc).unwrap();
/// let body = SwarmResponse::to_json(0xabc, &[node.clone()], 1_700_000_000_000, [19, 3]);
/// assert_eq!(body["swarm"], "abc");
/// let parsed = SwarmResponse::parse(body.to_string().as_bytes()).unwrap();
/// assert_eq!(parsed.swarm_id, Some(0xabc));
/// assert_eq!(parsed.nodes, vec![node]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmResponse {
    /// The swarm id (`swarm`, hex), when given.
    pub swarm_id: Option<u64>,
    /// Its contactable members (each with `swarm_id` set to the swarm's).
    pub nodes: Vec<ServiceNode>,
    /// Entries skipped as unusable.
    pub skipped: usize,
    /// The replying node's clock (`t`), for the network clock offset.
    pub network_time_ms: Option<u64>,
    /// The network hard fork `[major, minor]` (`hf`).
    pub hf: Option<[u16; 2]>,
}

impl SwarmResponse {
    /// Parses `{"snodes": [...], "swarm": "<hex>", "t": ms, "hf": [a, b]}`; only `snodes` is
    /// required.
    pub fn parse(body: &[u8]) -> Result<Self, SwarmError> {
        Self::from_object(&parse_object(body)?)
    }

    pub(crate) fn from_object(obj: &Map<String, Value>) -> Result<Self, SwarmError> {
        let swarm_id = field(obj, "swarm")
            .map(|v| parse_swarm_hex(v).ok_or(SwarmError::InvalidField("swarm")))
            .transpose()?;
        let mut list = NodeList::from_entries(req_array(obj, "snodes")?)?;
        if let Some(id) = swarm_id {
            for node in &mut list.nodes {
                node.swarm_id = id;
            }
        }
        Ok(Self {
            swarm_id,
            nodes: list.nodes,
            skipped: list.skipped,
            network_time_ms: opt_u64(obj, "t")?,
            hf: opt_hf(obj)?,
        })
    }

    /// The body a node sends for `get_swarm` and with a 421: the swarm's members, the swarm id
    /// as lowercase hex, the node's time `t` and hard fork `hf` (storage server
    /// `swarm_to_json` plus `add_misc_response_fields`).
    pub fn to_json(swarm_id: u64, nodes: &[ServiceNode], now_ms: u64, hf: [u16; 2]) -> Value {
        let snodes: Vec<Value> = nodes.iter().map(ServiceNode::to_swarm_json).collect();
        json!({
            "snodes": snodes,
            "swarm": format!("{swarm_id:x}"),
            "t": now_ms,
            "hf": hf,
        })
    }
}

/// The body a node sends for `oxend_request` `get_service_nodes`:
/// `{"result": {"service_node_states": [...]}, "t", "hf"}`.
///
/// ```
/// use metaless_swarm::{NodeList, ServiceNode, oxend_service_nodes_json};
/// let ed = metaless_identity::hex::decode_array("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap();
/// let node = ServiceNode::new(ed, [1, 2, 3, 4], 443, 9).unwrap();
/// let body = oxend_service_nodes_json(&[node.clone()], 1, [19, 3]).to_string();
/// assert_eq!(NodeList::from_get_service_nodes(body.as_bytes()).unwrap().nodes, vec![node]);
/// ```
pub fn oxend_service_nodes_json(nodes: &[ServiceNode], now_ms: u64, hf: [u16; 2]) -> Value {
    let states: Vec<Value> = nodes.iter().map(ServiceNode::to_oxend_json).collect();
    json!({
        "result": {"service_node_states": states},
        "t": now_ms,
        "hf": hf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ED: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn swarm_reply_node_fields() {
        let ed: [u8; 32] = hex::decode_array(ED).unwrap();
        let mut node = ServiceNode::new(ed, [5, 6, 7, 8], 22021, 3).unwrap();
        node.omq_port = 22020;
        let j = node.to_swarm_json();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "address",
                "ip",
                "port",
                "port_https",
                "port_omq",
                "port_quic",
                "pubkey_ed25519",
                "pubkey_legacy",
                "pubkey_x25519"
            ]
        );
        assert_eq!(j["port"], "22021");
        assert_eq!(j["ip"], "5.6.7.8");
        assert!(j["address"].as_str().unwrap().ends_with(".snode"));
        assert_eq!(j["address"].as_str().unwrap().len(), 52 + 6);
    }

    #[test]
    fn strict_on_required_fields() {
        let ok = json!({"pubkey_ed25519": ED, "ip": "1.1.1.1", "port_https": 1});
        assert!(ServiceNode::from_json(&ok).is_ok());
        for bad in [
            json!({"ip": "1.1.1.1", "port_https": 1}),
            json!({"pubkey_ed25519": &ED[2..], "ip": "1.1.1.1", "port_https": 1}),
            json!({"pubkey_ed25519": ED, "ip": "1.1.1", "port_https": 1}),
            json!({"pubkey_ed25519": ED, "ip": "1.1.1.1", "port_https": 70000}),
            json!({"pubkey_ed25519": ED, "ip": "1.1.1.1", "port_https": "1"}),
            json!({"pubkey_ed25519": ED, "ip": "1.1.1.1", "port_https": 1, "swarm": "xyz"}),
            json!({"pubkey_ed25519": ED, "ip": "1.1.1.1", "port_https": 1, "pubkey_x25519": ED}),
            json!({"pubkey_ed25519": "00".repeat(32), "ip": "1.1.1.1", "port_https": 1}),
            json!(["not", "an", "object"]),
        ] {
            assert!(ServiceNode::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_either_form() {
        let a = json!({"pubkey_ed25519": ED, "ip": "1.1.1.1", "port_https": 1, "storage_server_version": [2, 11, 0]});
        let b = json!({"pubkey_ed25519": ED, "ip": "1.1.1.1", "port_https": 1, "storage_server_version": "2.11.0"});
        assert_eq!(ServiceNode::from_json(&a).unwrap().version, [2, 11, 0]);
        assert_eq!(ServiceNode::from_json(&b).unwrap().version, [2, 11, 0]);
    }

    #[test]
    fn node_list_structure_errors() {
        assert_eq!(
            NodeList::from_get_service_nodes(b"nope"),
            Err(SwarmError::InvalidJson)
        );
        assert_eq!(
            NodeList::from_get_service_nodes(br#"{"result": {}}"#),
            Err(SwarmError::MissingField("service_node_states"))
        );
        assert_eq!(
            NodeList::from_get_service_nodes(br#"{"result": 5}"#),
            Err(SwarmError::InvalidField("result"))
        );
        assert_eq!(
            SwarmResponse::parse(br#"{"swarm": "1"}"#),
            Err(SwarmError::MissingField("snodes"))
        );
    }

    proptest! {
        #[test]
        fn active_nodes_bin_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = NodeList::from_active_nodes_bin(&bytes);
        }

        #[test]
        fn base32z_length(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(base32z(&bytes).len(), (bytes.len() * 8).div_ceil(5));
        }
    }
}
