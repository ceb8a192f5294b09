//! A swarm member of the node fuzz targets: the keypair of `[seed; 32]` in swarm 7.

use metaless_identity::{Keypair, Seed};
use metaless_node::NodeInfo;

pub fn info(seed: u8) -> (Keypair, NodeInfo) {
    let k = Keypair::from_seed(&Seed::from_bytes([seed; 32]));
    let i = NodeInfo {
        pubkey_ed25519: k.ed25519_public(),
        pubkey_x25519: k.x25519_public(),
        swarm_id: 7,
        ip: "127.0.0.1".into(),
        port: u16::from(seed),
    };
    (k, i)
}
