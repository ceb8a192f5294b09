//! Upstream known answers from `test-vectors/` (libsession-util `tests/test_network_swarm.cpp`,
//! oxen-storage-server `unit_test/swarm.cpp`, and the RPC vectors in `swarm_rpc.json`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns
use metaless_identity::hex;
use metaless_swarm::{SwarmIds, UserPubkey, swarm_space};
use serde_json::Value;

use metaless_test_vectors::load as vectors;

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

#[test]
fn base32z_matches_oxen_encoding() {
    let v = vectors("swarm_rpc.json");
    for case in v["base32z"]["cases"].as_array().unwrap() {
        let bytes = hex::decode(case["hex"].as_str().unwrap()).unwrap();
        assert_eq!(
            metaless_swarm::base32z(&bytes),
            case["b32z"].as_str().unwrap()
        );
    }
}

#[test]
fn base64_matches_oxen_encoding() {
    use metaless_swarm::b64;
    let v = &vectors("swarm_rpc.json")["base64"];
    for case in v["encode"].as_array().unwrap() {
        let bytes = hex::decode(case["hex"].as_str().unwrap()).unwrap();
        assert_eq!(b64::encode(&bytes), case["b64"].as_str().unwrap());
    }
    for case in v["decode"].as_array().unwrap() {
        let text = case["b64"].as_str().unwrap();
        assert_eq!(
            hex::encode(&b64::decode(text.as_bytes()).unwrap()),
            case["hex"].as_str().unwrap()
        );
    }
    for ok in v["valid"].as_array().unwrap() {
        assert!(b64::is_base64(ok.as_str().unwrap().as_bytes()), "{ok}");
    }
    for bad in v["invalid"].as_array().unwrap() {
        assert!(!b64::is_base64(bad.as_str().unwrap().as_bytes()), "{bad}");
        assert!(b64::decode(bad.as_str().unwrap().as_bytes()).is_none());
    }
}

#[test]
fn swarm_space_ignores_prefix() {
    let v = vectors("swarm_rpc.json");
    for case in v["swarm_space_prefixed"]["cases"].as_array().unwrap() {
        let pk: UserPubkey = case["pubkey"].as_str().unwrap().parse().unwrap();
        assert_eq!(pk.swarm_space(), u64_of(&case["space"]));
    }
}

#[test]
fn message_hashes_match_storage_server_rule() {
    use metaless_swarm::{MessageHash, Namespace};
    let v = vectors("swarm_rpc.json");
    let cases = v["message_hash"]["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for case in cases {
        let pk: UserPubkey = case["pubkey"].as_str().unwrap().parse().unwrap();
        let ns = Namespace::try_from_i64(case["namespace"].as_i64().unwrap()).unwrap();
        let data = hex::decode(case["data_hex"].as_str().unwrap()).unwrap();
        assert_eq!(
            MessageHash::compute(&pk, ns, &data).as_str(),
            case["hash"].as_str().unwrap()
        );
    }
}

#[test]
fn request_signatures_match_known_answers() {
    use metaless_identity::{Keypair, Seed};
    use metaless_swarm::sig::{self, ExpireMode};
    use metaless_swarm::{Delete, Expire, GetExpiries, Request, Retrieve, Signer, Store};
    use metaless_swarm::{MessageHash, Namespace, NamespaceOrAll, b64, server};

    let v = &vectors("swarm_rpc.json")["request_signatures"];
    let seed = Seed::from_hex(v["account"]["ed25519_seed"].as_str().unwrap()).unwrap();
    let keys = Keypair::from_seed(&seed);
    assert_eq!(
        hex::encode(&keys.ed25519_public()),
        v["account"]["ed25519_pk"].as_str().unwrap()
    );
    let signer = Signer::session(&keys);
    assert_eq!(
        signer.pubkey().to_hex(),
        v["account"]["session_id"].as_str().unwrap()
    );

    let hashes = |c: &Value| -> Vec<MessageHash> {
        c["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| MessageHash::parse(h.as_str().unwrap()).unwrap())
            .collect()
    };
    let ns = |c: &Value| Namespace::try_from_i64(c["namespace"].as_i64().unwrap()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    for c in cases {
        let ts = c["timestamp"].as_u64().unwrap_or(0);
        let (message, request) = match c["method"].as_str().unwrap() {
            "store" => (
                sig::store(ns(c), ts),
                Request::Store(
                    Store::signed(&signer, ns(c), b"m".to_vec(), ts, 3_600_000).unwrap(),
                ),
            ),
            "retrieve" => (
                sig::retrieve(ns(c), ts),
                Request::Retrieve(Retrieve::signed(&signer, ns(c), None, ts)),
            ),
            "delete" => (
                sig::delete(&hashes(c)),
                Request::Delete(Delete::signed(&signer, hashes(c), false).unwrap()),
            ),
            "delete_all" => {
                let target = match &c["namespace"] {
                    Value::String(s) if s == "all" => NamespaceOrAll::All,
                    _ => NamespaceOrAll::One(ns(c)),
                };
                (
                    sig::delete_all(target, ts),
                    Request::delete_all(&signer, target, ts),
                )
            }
            "expire" => {
                let mode = match c["mode"].as_str().unwrap() {
                    "shorten" => ExpireMode::Shorten,
                    "extend" => ExpireMode::Extend,
                    _ => ExpireMode::Set,
                };
                let expiries: Vec<u64> = c["expiries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_u64().unwrap())
                    .collect();
                (
                    sig::expire(mode, &expiries, &hashes(c)),
                    Request::Expire(Expire::signed(&signer, hashes(c), expiries, mode).unwrap()),
                )
            }
            "get_expiries" => (
                sig::get_expiries(ts, &hashes(c)),
                Request::GetExpiries(GetExpiries::signed(&signer, hashes(c), ts).unwrap()),
            ),
            other => panic!("unexpected method {other}"),
        };
        assert_eq!(
            String::from_utf8(message).unwrap(),
            c["message"].as_str().unwrap()
        );
        let params = request.to_params();
        assert_eq!(params["signature"], c["signature"], "{c}");
        assert_eq!(params["pubkey_ed25519"], v["account"]["ed25519_pk"]);
        // What the node sees: parse the body and verify at the signing time.
        let parsed = server::parse_request(&request.to_body()).unwrap();
        assert_eq!(parsed, request);
        server::verify(&parsed, ts.max(1_700_000_000_000)).unwrap();
        assert!(b64::decode(c["signature"].as_str().unwrap().as_bytes()).is_some());
    }
}
