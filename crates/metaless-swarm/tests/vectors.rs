//! Upstream known answers from `test-vectors/` (libsession-util `tests/test_network_swarm.cpp`,
//! oxen-storage-server `unit_test/swarm.cpp`, and the RPC vectors in `swarm_rpc.json`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns
use metaless_identity::hex;
use metaless_swarm::{SwarmIds, UserPubkey, swarm_space};
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/../../test-vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn u64_of(v: &Value) -> u64 {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn swarm_space_matches_upstream() {
    let v = vectors("swarm.json");
    let cases = v["swarm_space"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for case in cases {
        let key: [u8; 32] = hex::decode_array(case["x25519"].as_str().unwrap()).unwrap();
        assert_eq!(swarm_space(&key), u64_of(&case["space"]), "{case}");
    }
}

#[test]
fn nearest_swarm_matches_upstream() {
    let v = vectors("swarm.json");
    let cases = v["nearest_swarm"].as_array().unwrap();
    assert_eq!(cases.len(), 32);
    for case in cases {
        let pk: UserPubkey = case["session_id"].as_str().unwrap().parse().unwrap();
        let ids = SwarmIds::new(case["swarm_ids"].as_array().unwrap().iter().map(u64_of));
        assert_eq!(
            ids.swarm_for(pk.key()),
            Some(u64_of(&case["expected"])),
            "{case}"
        );
        assert_eq!(
            ids.nearest(pk.swarm_space()),
            Some(u64_of(&case["expected"]))
        );
    }
}
