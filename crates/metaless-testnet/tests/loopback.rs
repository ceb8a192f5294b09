//! The node core driven through `LoopbackNet`: onion-routed store/retrieve, swarm checks, the
//! network's error codes and texts, TTL expiry in virtual time, and fault injection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_identity::{Keypair, Seed};
use metaless_node::EncType;
use metaless_node::{NodeInfo, network::swarm_space};
use metaless_onion::ONION_PATH as ONION;
use metaless_swarm::RPC_PATH as RPC;
use metaless_testnet::loopback::{Faults, LoopbackConfig, LoopbackError, LoopbackNet};
use metaless_testnet::testkit::{build_onion, open_reply, retrieve_request, store_request};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};

fn net(nodes: usize, swarms: usize) -> LoopbackNet {
    LoopbackNet::new(LoopbackConfig {
        nodes,
        swarms,
        seed: 42,
        ..Default::default()
    })
    .unwrap()
}

fn account(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

/// A node in, and one not in, the account's swarm.
fn in_and_out(net: &LoopbackNet, acct: &Keypair) -> (NodeInfo, Option<NodeInfo>) {
    let swarm = net.network().swarm_for(&acct.x25519_public()).unwrap();
    let nodes = net.nodes();
    let inside = nodes.iter().find(|n| n.swarm_id == swarm).unwrap().clone();
    let outside = nodes.iter().find(|n| n.swarm_id != swarm).cloned();
    (inside, outside)
}

fn json_post(net: &mut LoopbackNet, to: &NodeInfo, body: &Value) -> (u16, String) {
    let (s, b) = net
        .post(&to.pubkey_ed25519, RPC, body.to_string().as_bytes())
        .unwrap();
    (s, String::from_utf8(b).unwrap())
}

/// How many messages of `acct` in namespace 0 node `n` returns now.
fn retrieved_count(net: &mut LoopbackNet, n: &NodeInfo, acct: &Keypair) -> usize {
    let t = net.now_ms();
    let (status, b) = json_post(net, n, &retrieve_request(acct, 0, None, t));
    assert_eq!(status, 200, "{b}");
    serde_json::from_str::<Value>(&b).unwrap()["messages"]
        .as_array()
        .unwrap()
        .len()
}

fn onion_rpc(
    net: &mut LoopbackNet,
    path: &[NodeInfo],
    dest: &NodeInfo,
    body: &Value,
    enc: EncType,
    rng: &mut ChaCha20Rng,
) -> (u16, String) {
    let (req, key) = build_onion(path, dest, body.to_string().as_bytes(), enc, rng).unwrap();
    let (status, reply) = net.post(&path[0].pubkey_ed25519, ONION, &req).unwrap();
    assert_eq!(
        status,
        200,
        "outer status, body {}",
        String::from_utf8_lossy(&reply)
    );
    open_reply(&key, &reply).unwrap()
}

#[test]
fn info_answers_version_and_time() {
    let mut net = net(3, 1);
    let n = net.nodes()[0].clone();
    let (s, b) = json_post(&mut net, &n, &json!({"method": "info", "params": {}}));
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["timestamp"], net.now_ms());
    assert_eq!(v["version"].as_array().unwrap().len(), 3);
    assert!(v["hf"].is_array());
}

#[test]
fn onion_routed_store_then_retrieve_both_enc_types() {
    let mut net = net(8, 2);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let acct = account(7);
    let (dest, _) = in_and_out(&net, &acct);
    let path: Vec<NodeInfo> = net
        .nodes()
        .into_iter()
        .filter(|n| n != &dest)
        .take(3)
        .collect();
    for (i, enc) in [EncType::AesGcm, EncType::XChaCha20]
        .into_iter()
        .enumerate()
    {
        let data = format!("message {i}");
        let now = net.now_ms();
        let (s, body) = onion_rpc(
            &mut net,
            &path,
            &dest,
            &store_request(&acct, 0, data.as_bytes(), now, 60_000),
            enc,
            &mut rng,
        );
        assert_eq!(s, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let hash = v["hash"].as_str().unwrap().to_string();
        assert!(
            v["swarm"][metaless_identity::hex::encode(&dest.pubkey_ed25519)]["signature"]
                .is_string()
        );

        // Retrieve from a *different* member of the swarm: replication reached it.
        let other = net
            .nodes()
            .into_iter()
            .find(|n| n.swarm_id == dest.swarm_id && n != &dest)
            .unwrap();
        let t = net.now_ms();
        let (s, body) = onion_rpc(
            &mut net,
            &path,
            &other,
            &retrieve_request(&acct, 0, None, t),
            enc,
            &mut rng,
        );
        assert_eq!(s, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let msgs = v["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), i + 1);
        assert_eq!(msgs[i]["hash"], hash.as_str());
        assert_eq!(msgs[i]["data"], base64_of(data.as_bytes()));
    }
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn storing_twice_is_one_message() {
    let mut net = net(4, 1);
    let acct = account(1);
    let n = net.nodes()[0].clone();
    let req = store_request(&acct, 0, b"same", net.now_ms(), 60_000);
    let (s1, b1) = json_post(&mut net, &n, &req);
    let (s2, b2) = json_post(&mut net, &n, &req);
    assert_eq!((s1, s2), (200, 200));
    assert!(!b1.contains("already"));
    assert!(b2.contains("\"already\":true"));
    assert_eq!(
        net.node(&n.pubkey_ed25519)
            .unwrap()
            .storage()
            .count()
            .unwrap(),
        1
    );
}

#[test]
fn wrong_swarm_gets_421_with_the_right_swarm() {
    let mut net = net(6, 3);
    let acct = account(2);
    let (inside, outside) = in_and_out(&net, &acct);
    let outside = outside.unwrap();
    let t = net.now_ms();
    let (s, b) = json_post(
        &mut net,
        &outside,
        &store_request(&acct, 0, b"x", t, 60_000),
    );
    assert_eq!(s, 421);
    let v: Value = serde_json::from_str(&b).unwrap();
    let snodes = v["snodes"].as_array().unwrap();
    assert!(
        snodes
            .iter()
            .any(|s| s["pubkey_ed25519"] == metaless_identity::hex::encode(&inside.pubkey_ed25519))
    );
    assert_eq!(v["swarm"], format!("{:x}", inside.swarm_id));
    // get_swarm from any node gives the same members
    let (s, b) = json_post(
        &mut net,
        &outside,
        &json!({"method":"get_swarm","params":{"pubkey": acct.session_id().to_string()}}),
    );
    assert_eq!(s, 200);
    let g: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(g["snodes"], v["snodes"]);
}

#[test]
fn swarm_reshuffle_turns_into_421() {
    let mut net = net(6, 3);
    let acct = account(3);
    let (inside, _) = in_and_out(&net, &acct);
    let t = net.now_ms();
    assert_eq!(
        json_post(&mut net, &inside, &store_request(&acct, 0, b"x", t, 60_000)).0,
        200
    );
    net.reshuffle_swarms();
    let t = net.now_ms();
    let (s, _) = json_post(&mut net, &inside, &retrieve_request(&acct, 0, None, t));
    assert_eq!(s, 421);
}

#[test]
fn rpc_errors_use_the_network_codes_and_texts() {
    let mut net = net(3, 1);
    let n = net.nodes()[0].clone();
    let acct = account(4);
    let now = net.now_ms();
    let post_raw = |net: &mut LoopbackNet, body: &[u8]| {
        let (s, b) = net.post(&n.pubkey_ed25519, RPC, body).unwrap();
        (s, String::from_utf8(b).unwrap())
    };
    assert_eq!(post_raw(&mut net, b"{nope"), (400, "invalid json".into()));
    assert_eq!(
        post_raw(&mut net, b"{}"),
        (400, "invalid json: no `method` field".into())
    );
    assert_eq!(
        post_raw(&mut net, br#"{"method":"x"}"#),
        (400, "invalid json: no `params` field".into())
    );
    assert_eq!(
        post_raw(&mut net, br#"{"method":"frobnicate","params":{}}"#),
        (400, "no method frobnicate".into())
    );

    // bad signature: signed by someone else
    let mut req = store_request(&acct, 2, b"x", now, 60_000);
    req["params"]["signature"] =
        store_request(&account(5), 2, b"x", now, 60_000)["params"]["signature"].clone();
    assert_eq!(
        json_post(&mut net, &n, &req),
        (401, "store signature verification failed".into())
    );
    let mut req = retrieve_request(&acct, 0, None, now);
    req["params"]["signature"] =
        retrieve_request(&account(5), 0, None, now)["params"]["signature"].clone();
    assert_eq!(
        json_post(&mut net, &n, &req),
        (401, "retrieve signature verification failed".into())
    );
    // unsigned private store, unsigned retrieve
    let mut req = store_request(&acct, 2, b"x", now, 60_000);
    req["params"].as_object_mut().unwrap().remove("signature");
    assert_eq!(
        json_post(&mut net, &n, &req),
        (
            401,
            "store: signature required to store to namespace 2".into()
        )
    );
    // A retrieve that still carries the other auth fields (`pubkey_ed25519`, `timestamp`) but
    // no signature is refused by upstream's parser (`load_pk_signature`), before the handler.
    let mut req = retrieve_request(&acct, 0, None, now);
    req["params"].as_object_mut().unwrap().remove("signature");
    assert_eq!(
        json_post(&mut net, &n, &req),
        (
            400,
            "invalid request: Required field 'signature' missing".into()
        )
    );
    // A plain unsigned retrieve reaches the handler, which requires the signature.
    let req = json!({"method":"retrieve","params":{"pubkey": acct.session_id().to_string()}});
    assert_eq!(
        json_post(&mut net, &n, &req),
        (401, "retrieve: request signature required".into())
    );

    // stale timestamps
    let stale = now - 120_000;
    assert_eq!(
        json_post(&mut net, &n, &retrieve_request(&acct, 0, None, stale)),
        (406, "retrieve timestamp too far from current time".into())
    );
    assert_eq!(
        json_post(
            &mut net,
            &n,
            &store_request(&acct, 0, b"x", now + 60_000, 60_000)
        ),
        (406, "Timestamp error: check your clock".into())
    );
    let mut req = store_request(&acct, 2, b"x", now, 60_000);
    req["params"]["sig_timestamp"] = json!(stale);
    assert_eq!(
        json_post(&mut net, &n, &req),
        (
            406,
            "store signature timestamp too far from current time".into()
        )
    );
    // TTL out of range
    assert_eq!(
        json_post(&mut net, &n, &store_request(&acct, 0, b"x", now, 5_000)),
        (403, "Provided expiry/TTL is not valid.".into())
    );
    // missing field
    assert_eq!(
        json_post(&mut net, &n, &json!({"method":"retrieve","params":{}})),
        (
            400,
            "invalid request: Required field 'pubkey' missing".into()
        )
    );
    // the node still serves
    assert_eq!(
        json_post(&mut net, &n, &json!({"method":"info","params":{}})).0,
        200
    );
}

#[test]
fn malformed_onions_get_path_errors_and_node_keeps_serving() {
    let mut net = net(4, 1);
    let nodes = net.nodes();
    let entry = nodes[0].pubkey_ed25519;
    let (s, b) = net.post(&entry, ONION, b"\x01").unwrap();
    assert_eq!(s, 400);
    assert!(
        String::from_utf8(b)
            .unwrap()
            .starts_with("Error parsing onion request: ")
    );
    let (s, b) = net
        .post(&entry, ONION, b"\x03\0\0\0abc{\"ephemeral_key\":\"zz\"}")
        .unwrap();
    assert_eq!(s, 400);
    assert!(
        String::from_utf8(b)
            .unwrap()
            .starts_with("Error parsing onion request")
    );

    // A valid frame whose ciphertext was tampered with: "Invalid ciphertext", in clear.
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let payload = json!({"method":"info","params":{}}).to_string();
    let (mut body, _) = build_onion(
        &nodes[..2],
        &nodes[3],
        payload.as_bytes(),
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    body[40] ^= 1;
    assert_eq!(
        net.post(&entry, ONION, &body).unwrap(),
        (400, b"Invalid ciphertext".to_vec())
    );

    // Unknown next hop: 502 with its key.
    let ghost = NodeInfo {
        pubkey_ed25519: [9; 32],
        ..nodes[3].clone()
    };
    let (body, _) = build_onion(
        &nodes[..1],
        &ghost,
        payload.as_bytes(),
        EncType::AesGcm,
        &mut rng,
    )
    .unwrap();
    let (s, b) = net.post(&entry, ONION, &body).unwrap();
    assert_eq!(
        (s, String::from_utf8(b).unwrap()),
        (502, format!("Next node not found: {}", "09".repeat(32)))
    );

    // Every truncation of a good onion is refused with a 4xx, never a crash.
    let (body, _) = build_onion(
        &nodes[..2],
        &nodes[3],
        payload.as_bytes(),
        EncType::AesGcm,
        &mut rng,
    )
    .unwrap();
    for n in 0..body.len() {
        let (s, _) = net.post(&entry, ONION, &body[..n]).unwrap();
        assert!((400..500).contains(&s), "truncated at {n}: {s}");
    }
    let (body, key) = build_onion(
        &nodes[..2],
        &nodes[3],
        payload.as_bytes(),
        EncType::AesGcm,
        &mut rng,
    )
    .unwrap();
    let (s, reply) = net.post(&entry, ONION, &body).unwrap();
    assert_eq!(s, 200);
    assert_eq!(open_reply(&key, &reply).unwrap().0, 200);
}

#[test]
fn oversize_body_is_refused() {
    let mut net = net(2, 1);
    let n = net.nodes()[0].pubkey_ed25519;
    let big = vec![b' '; metaless_node::limits::MAX_REQUEST_BODY_SIZE + 1];
    assert_eq!(
        net.post(&n, RPC, &big).unwrap(),
        (413, b"Request body too large".to_vec())
    );
}

#[test]
fn ttl_expiry_in_virtual_time() {
    let mut net = net(3, 1);
    let acct = account(6);
    let n = net.nodes()[0].clone();
    let t = net.now_ms();
    assert_eq!(
        json_post(&mut net, &n, &store_request(&acct, 0, b"short", t, 10_000)).0,
        200
    );
    let t = net.now_ms();
    assert_eq!(
        json_post(&mut net, &n, &store_request(&acct, 0, b"long", t, 60_000)).0,
        200
    );
    net.advance(9_999);
    assert_eq!(retrieved_count(&mut net, &n, &acct), 2);
    net.advance(2);
    assert_eq!(retrieved_count(&mut net, &n, &acct), 1);
    net.advance(60_000);
    assert_eq!(retrieved_count(&mut net, &n, &acct), 0);
    // the sweep removed them from disk too
    assert_eq!(
        net.node(&n.pubkey_ed25519)
            .unwrap()
            .storage()
            .count()
            .unwrap(),
        0
    );
}

#[test]
fn faults_down_drop_skew() {
    let mut net = net(4, 1);
    let nodes = net.nodes();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let payload = json!({"method":"info","params":{}}).to_string();
    // Middle hop down: the entry answers 504 "Request time out" in clear.
    net.set_up(&nodes[1].pubkey_ed25519, false);
    let (body, _) = build_onion(
        &nodes[..2],
        &nodes[3],
        payload.as_bytes(),
        EncType::AesGcm,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        net.post(&nodes[0].pubkey_ed25519, ONION, &body).unwrap(),
        (504, b"Request time out".to_vec())
    );
    assert_eq!(
        net.post(&nodes[1].pubkey_ed25519, ONION, &body),
        Err(LoopbackError::Unreachable)
    );
    net.set_up(&nodes[1].pubkey_ed25519, true);
    // Everything dropped: the client times out.
    net.set_faults(Faults {
        drop: 1.0,
        ..Default::default()
    });
    assert_eq!(
        net.post(&nodes[0].pubkey_ed25519, ONION, &body),
        Err(LoopbackError::Timeout)
    );
    // Delay moves virtual time.
    net.set_faults(Faults {
        delay_ms: 100,
        ..Default::default()
    });
    let t = net.now_ms();
    let (body, _) = build_onion(
        &nodes[..2],
        &nodes[3],
        payload.as_bytes(),
        EncType::AesGcm,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        net.post(&nodes[0].pubkey_ed25519, ONION, &body).unwrap().0,
        200
    );
    assert_eq!(net.now_ms(), t + 300);
    net.set_faults(Faults::default());
    // A skewed node clock rejects a client's signed timestamp.
    let acct = account(8);
    net.set_clock_skew(&nodes[0].pubkey_ed25519, 120_000);
    let t = net.now_ms();
    let (s, _) = json_post(&mut net, &nodes[0], &retrieve_request(&acct, 0, None, t));
    assert_eq!(s, 406);
}

#[test]
fn corrupted_bytes_never_crash_and_runs_are_deterministic() {
    let run = || {
        let mut net = LoopbackNet::new(LoopbackConfig {
            nodes: 5,
            swarms: 1,
            seed: 5,
            ..Default::default()
        })
        .unwrap();
        net.set_faults(Faults {
            corrupt: 0.3,
            ..Default::default()
        });
        let nodes = net.nodes();
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let acct = account(9);
        let mut statuses = Vec::new();
        for i in 0..30 {
            let req = store_request(&acct, 0, format!("m{i}").as_bytes(), net.now_ms(), 60_000);
            let (body, _) = build_onion(
                &nodes[..3],
                &nodes[4],
                req.to_string().as_bytes(),
                EncType::XChaCha20,
                &mut rng,
            )
            .unwrap();
            statuses.push(
                net.post(&nodes[0].pubkey_ed25519, ONION, &body)
                    .map(|r| r.0),
            );
            net.advance(10);
        }
        statuses
    };
    let a = run();
    assert_eq!(a, run());
    assert!(a.contains(&Ok(200)));
    assert!(a.iter().any(|s| matches!(s, Ok(400..=599))));
}

#[test]
fn observation_records_no_node_sees_both_ends() {
    let mut net = net(5, 1);
    net.set_observe(true);
    let nodes = net.nodes();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let acct = account(10);
    let req = store_request(&acct, 0, b"secret words", net.now_ms(), 60_000);
    let (body, _) = build_onion(
        &nodes[..3],
        &nodes[4],
        req.to_string().as_bytes(),
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        net.post(&nodes[0].pubkey_ed25519, ONION, &body).unwrap().0,
        200
    );
    let obs: Vec<_> = net
        .take_observations()
        .into_iter()
        .filter(|o| o.path == ONION)
        .collect();
    assert_eq!(obs.len(), 4);
    let entry = obs
        .iter()
        .find(|o| o.from.as_deref() == Some("client"))
        .unwrap();
    assert_eq!(entry.kind, "relay");
    assert!(entry.account.is_none());
    let dest = obs.iter().find(|o| o.kind == "deliver").unwrap();
    assert_ne!(dest.from.as_deref(), Some("client"));
    assert_eq!(dest.method.as_deref(), Some("store"));
    let rendered = serde_json::to_string(&obs).unwrap();
    assert!(!rendered.contains("secret words"));
    assert!(!rendered.contains(&acct.session_id().to_string()));
    let _ = swarm_space(&[0; 32]);
}

#[test]
fn delete_expire_and_get_expiries_round_trip() {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut net = net(3, 1);
    let acct = account(12);
    let n = net.nodes()[0].clone();
    let now = net.now_ms();
    let (_, b) = json_post(&mut net, &n, &store_request(&acct, 0, b"a", now, 60_000));
    let hash = serde_json::from_str::<Value>(&b).unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let pk = acct.session_id().to_string();
    let ed = metaless_identity::hex::encode(&acct.ed25519_public());
    // extend to now+120s
    let exp = now + 120_000;
    let sig = b64(&acct.sign(format!("expireextend{exp}{hash}").as_bytes()));
    let (s, b) = json_post(
        &mut net,
        &n,
        &json!({"method":"expire","params":{"pubkey":pk,"pubkey_ed25519":ed,
        "messages":[hash],"expiry":exp,"extend":true,"signature":sig}}),
    );
    assert_eq!(s, 200, "{b}");
    let sig = b64(&acct.sign(format!("get_expiries{now}{hash}").as_bytes()));
    let (s, b) = json_post(
        &mut net,
        &n,
        &json!({"method":"get_expiries","params":{"pubkey":pk,"pubkey_ed25519":ed,
        "messages":[hash],"timestamp":now,"signature":sig}}),
    );
    assert_eq!(s, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap()["expiries"][&hash],
        exp
    );
    // delete (required) twice: 200 then 404
    let sig = b64(&acct.sign(format!("delete{hash}").as_bytes()));
    let del = json!({"method":"delete","params":{"pubkey":pk,"pubkey_ed25519":ed,"messages":[hash],"required":true,"signature":sig}});
    assert_eq!(json_post(&mut net, &n, &del).0, 200);
    assert_eq!(json_post(&mut net, &n, &del).0, 404);
    // every swarm member lost it
    for node in net.nodes() {
        assert_eq!(
            net.node(&node.pubkey_ed25519)
                .unwrap()
                .storage()
                .count()
                .unwrap(),
            0
        );
    }
}
