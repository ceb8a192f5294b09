//! A swarm peer's forward on outside bytes: `ForwardKeys::open` and the node's
//! `/storage_rpc/v1` never panic, and nothing but a forward sealed under the (sender,
//! receiver) pair key is taken as a peer's replay — the fuzzer holds no member's secret, so
//! every input it makes must be refused as a forward (its MAC would have to be guessed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_node::replication::{ForwardKeys, is_forward};
use metaless_node::storage::MemoryStorage;
use metaless_node::{Action, NetworkMap, Node, NodeConfig, Request};

#[path = "common/member.rs"]
mod member;
use member::info;

/// The seeds' forwards are sealed by member 2 at this time (the node's clock here), so they
/// open; a fuzzed variant must not, unless its MAC is the one member 2 would make.
const SEALED_AT: u64 = 1_700_000_000_000;

fuzz_target!(|data: &[u8]| {
    let (me_keys, me) = info(1);
    let (peer_keys, peer) = info(2);
    let map = NetworkMap::new(vec![me.clone(), peer.clone()]);
    let keys = ForwardKeys::new(&me_keys);
    let opened = keys.open(data, 7, &map, SEALED_AT);
    if let Ok((body, from)) = &opened {
        // What opens carries exactly the MAC the peer makes for that body and time.
        assert_eq!(*from, peer.pubkey_ed25519);
        let field = |v: &serde_json::Value, k: &str| v["metaless_forward"][k].clone();
        let given: serde_json::Value = serde_json::from_slice(data).unwrap_or_default();
        let t = field(&given, "t").as_u64().unwrap_or_default();
        let resealed = ForwardKeys::new(&peer_keys)
            .seal(&me, t, body)
            .unwrap_or_default();
        let resealed: serde_json::Value = serde_json::from_slice(&resealed).unwrap_or_default();
        assert_eq!(field(&given, "mac"), field(&resealed, "mac"));
    }

    let node = Node::new(NodeConfig {
        keypair: me_keys,
        network: map,
        info: me,
        storage: Box::new(MemoryStorage::new()),
        rng_seed: [0; 32],
        observe: false,
    });
    let action = node.handle(
        i64::try_from(SEALED_AT).unwrap_or(0),
        Request::post(metaless_swarm::RPC_PATH, data.to_vec()),
    );
    if is_forward(data) && opened.is_err() {
        // A refused forward is a 401, never carried out.
        match action {
            Action::Respond(r) => assert_eq!(r.status, 401),
            _ => panic!("a refused forward was acted on"),
        }
    }
});
