//! `metaless swarm map|ttl`, run as a user runs them, against the upstream mapping vectors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;
use common::*;

use serde_json::Value;

fn vectors() -> Value {
    let path = format!(
        "{}/../../test-vectors/swarm.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn map_matches_upstream_vectors() {
    let v = vectors();
    for case in v["nearest_swarm"].as_array().unwrap().iter().take(40) {
        let ids: Vec<&str> = case["swarm_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap())
            .collect();
        let out = ok_json(&[
            "swarm",
            "map",
            "--pubkey",
            case["session_id"].as_str().unwrap(),
            "--swarm-ids",
            &ids.join(","),
        ]);
        let expected: u64 = case["expected"].as_str().unwrap().parse().unwrap();
        assert_eq!(out["swarm_id"], expected, "{case}");
    }
    for case in v["swarm_space"].as_array().unwrap() {
        let sid = format!("05{}", case["x25519"].as_str().unwrap());
        let out = ok_json(&["swarm", "map", "--pubkey", &sid]);
        let expected: u64 = case["space"].as_str().unwrap().parse().unwrap();
        assert_eq!(out["space"], expected);
        assert_eq!(out["swarm_id"], Value::Null);
        assert_eq!(out.as_object().unwrap().len(), 2);
    }
}

#[test]
fn ttl_clamps_and_defaults() {
    let day = 86_400_000u64;
    assert_eq!(
        ok_json(&["swarm", "ttl", "--namespace", "0"])["ttl_ms"],
        14 * day
    );
    assert_eq!(
        ok_json(&["swarm", "ttl", "--namespace", "3"])["ttl_ms"],
        30 * day
    );
    assert_eq!(
        ok_json(&["swarm", "ttl", "--namespace", "0", "--ttl-ms", "1"])["ttl_ms"],
        10_000
    );
    assert_eq!(
        ok_json(&[
            "swarm",
            "ttl",
            "--namespace",
            "-10",
            "--ttl-ms",
            "99999999999"
        ])["ttl_ms"],
        14 * day
    );
    assert_eq!(
        ok_json(&[
            "swarm",
            "ttl",
            "--namespace",
            "5",
            "--ttl-ms",
            "99999999999"
        ])["ttl_ms"],
        30 * day
    );
    assert_eq!(
        ok_json(&["swarm", "ttl", "--namespace", "11", "--ttl-ms", "60000"])["ttl_ms"],
        60_000
    );
    let out = ok_json(&["swarm", "ttl", "--namespace", "0", "--ttl-ms", "60000"]);
    assert_eq!(out.as_object().unwrap().len(), 1);
}

#[test]
fn bad_input_exits_2() {
    bad_input(&["swarm", "map", "--pubkey", "05abc"]);
    bad_input(&["swarm", "map", "--pubkey", &"zz".repeat(33)]);
    bad_input(&[
        "swarm",
        "map",
        "--pubkey",
        &format!("05{}", "00".repeat(32)),
        "--swarm-ids",
        "1,x",
    ]);
    bad_input(&[
        "swarm",
        "map",
        "--pubkey",
        &format!("05{}", "00".repeat(32)),
        "--swarm-ids",
        "",
    ]);
    bad_input(&["swarm", "map"]);
    bad_input(&["swarm", "ttl", "--namespace", "40000"]);
    bad_input(&["swarm", "ttl", "--namespace", "0", "--ttl-ms", "-5"]);
    bad_input(&["swarm", "ttl"]);
}
