//! [`NodeId`]: a service node's name.

use alloc::string::String;
use core::fmt;

use metaless_identity::hex;

use crate::SwarmError;

/// A service node's name: its Ed25519 public key, the key routing JSON, swarm replies and
/// node lists name it by. Public (not a secret), so `Display` and `Debug` show it in hex.
///
/// ```
/// use metaless_swarm::NodeId;
/// let id = NodeId::from([0xab; 32]);
/// assert_eq!(id.to_string(), "ab".repeat(32));
/// assert_eq!(id.to_string().parse::<NodeId>().unwrap(), id);
/// assert_eq!(id.as_bytes(), &[0xab; 32]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId([u8; 32]);

impl NodeId {
    /// The node named by this Ed25519 public key.
    ///
    /// ```
    /// assert_eq!(metaless_swarm::NodeId::new([1; 32]).to_bytes(), [1; 32]);
    /// ```
    pub const fn new(ed25519: [u8; 32]) -> Self {
        Self(ed25519)
    }

    /// The Ed25519 public key.
    ///
    /// ```
    /// assert_eq!(metaless_swarm::NodeId::new([2; 32]).as_bytes(), &[2; 32]);
    /// ```
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The Ed25519 public key, copied.
    ///
    /// ```
    /// assert_eq!(metaless_swarm::NodeId::new([3; 32]).to_bytes(), [3; 32]);
    /// ```
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// The key in lowercase hex (64 digits), how JSON names the node.
    ///
    /// ```
    /// assert_eq!(metaless_swarm::NodeId::new([0; 32]).to_hex(), "0".repeat(64));
    /// ```
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl From<[u8; 32]> for NodeId {
    fn from(ed25519: [u8; 32]) -> Self {
        Self(ed25519)
    }
}

impl From<NodeId> for [u8; 32] {
    fn from(id: NodeId) -> Self {
        id.0
    }
}

impl AsRef<[u8]> for NodeId {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<[u8; 32]> for NodeId {
    fn eq(&self, other: &[u8; 32]) -> bool {
        self.0 == *other
    }
}

impl PartialEq<NodeId> for [u8; 32] {
    fn eq(&self, other: &NodeId) -> bool {
        *self == other.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.to_hex())
    }
}

/// 64 hex digits.
///
/// ```
/// use metaless_swarm::{NodeId, SwarmError};
/// assert_eq!("zz".parse::<NodeId>(), Err(SwarmError::InvalidNode("pubkey_ed25519")));
/// ```
impl core::str::FromStr for NodeId {
    type Err = SwarmError;

    fn from_str(text: &str) -> Result<Self, SwarmError> {
        hex::decode_array(text)
            .map(Self)
            .map_err(|_| SwarmError::InvalidNode("pubkey_ed25519"))
    }
}
