//! The node answers with metaless-swarm's rules: its replies are accepted (signatures checked)
//! by metaless-swarm's client-side parsers, forwarded changes get upstream's wider windows, and
//! `batch`/`sequence`, `active_nodes_bin` and `oxend_request` behave as upstream's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_identity::{Keypair, Seed};
use metaless_node::node::doc_node;
use metaless_node::{Action, NodeInfo, Request};
use metaless_swarm::RPC_PATH;
use metaless_swarm::sig::ExpireMode;
use metaless_swarm::{Delete, Expire, Request as Rpc, Retrieve, Signer, Store};
use metaless_swarm::{Namespace, NamespaceOrAll, NodeList, SwarmResponse, UserPubkey};
use metaless_swarm::{
    RetrieveResponse, SwarmResults, verify_delete_entry, verify_expire_entry,
    verify_namespace_action_entry, verify_store_entry,
};
use metaless_testnet::loopback::{LoopbackConfig, LoopbackNet};
use serde_json::{Value, json};

fn account(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

fn net(nodes: usize, swarms: usize) -> LoopbackNet {
    LoopbackNet::new(LoopbackConfig {
        nodes,
        swarms,
        seed: 7,
        ..Default::default()
    })
    .unwrap()
}

fn now(net: &LoopbackNet) -> u64 {
    net.now_ms()
}

fn member(net: &LoopbackNet, pk: &UserPubkey) -> NodeInfo {
    let swarm = net.network().swarm_for(pk.key()).unwrap();
    net.nodes()
        .into_iter()
        .find(|n| n.swarm_id == swarm)
        .unwrap()
}

fn send(net: &mut LoopbackNet, to: &NodeInfo, request: &Rpc) -> (u16, Vec<u8>) {
    net.post(&to.pubkey_ed25519, RPC_PATH, &request.to_body())
        .unwrap()
}

/// Every member's entry of a swarm-wide reply, with the member's key.
fn entries(body: &[u8]) -> Vec<([u8; 32], serde_json::Map<String, Value>)> {
    SwarmResults::parse(body)
        .unwrap()
        .successes()
        .map(|(k, e)| (*k, e.clone()))
        .collect()
}

#[test]
fn client_side_parsers_accept_the_node_replies() {
    let mut net = net(3, 1);
    let keys = account(1);
    let signer = Signer::session(&keys);
    let pk = signer.pubkey();
    let to = member(&net, &pk);

    // store: every member's entry verifies (the receiving node replicated before answering);
    // the hash is the one the client computed.
    let store = Store::signed(
        &signer,
        Namespace::Contacts,
        b"cfg".to_vec(),
        now(&net),
        600_000,
    )
    .unwrap();
    let hash = store.message_hash();
    let (status, body) = send(&mut net, &to, &Rpc::Store(store.clone()));
    assert_eq!(status, 200);
    let stored = entries(&body);
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().any(|(n, _)| n == &to.pubkey_ed25519));
    for (node, entry) in &stored {
        let (h, expiry, already) = verify_store_entry(node, entry).unwrap();
        assert_eq!((h, expiry, already), (hash.clone(), store.expiry_ms, false));
    }

    // retrieve from another member (the store was replicated to it).
    let other = net
        .nodes()
        .into_iter()
        .find(|n| n.swarm_id == to.swarm_id && n != &to)
        .unwrap();
    let retrieve = Retrieve::signed(&signer, Namespace::Contacts, None, now(&net));
    let (status, body) = send(&mut net, &other, &Rpc::Retrieve(retrieve));
    assert_eq!(status, 200);
    let got = RetrieveResponse::parse(&body).unwrap();
    assert_eq!(got.messages.len(), 1);
    assert_eq!(got.messages[0].hash, hash.as_str());
    assert_eq!(got.messages[0].data, b"cfg");

    // expire (shorten): updated, signed over what changed.
    let target = now(&net) + 120_000;
    let expire = Expire::signed(
        &signer,
        vec![hash.clone()],
        vec![target],
        ExpireMode::Shorten,
    )
    .unwrap();
    let (status, body) = send(&mut net, &to, &Rpc::Expire(expire));
    assert_eq!(status, 200);
    for (node, entry) in entries(&body) {
        let (updated, unchanged) = verify_expire_entry(
            &node,
            &entry,
            &pk,
            std::slice::from_ref(&hash),
            ExpireMode::Shorten,
        )
        .unwrap();
        assert_eq!(updated, vec![hash.as_str().to_owned()]);
        assert!(unchanged.is_empty());
    }

    // delete: signed over requested and deleted.
    let delete = Delete::signed(&signer, vec![hash.clone()], true).unwrap();
    let (status, body) = send(&mut net, &to, &Rpc::Delete(delete));
    assert_eq!(status, 200);
    for (node, entry) in entries(&body) {
        let deleted = verify_delete_entry(&node, &entry, &pk, std::slice::from_ref(&hash)).unwrap();
        assert_eq!(deleted, vec![hash.as_str().to_owned()]);
    }

    // delete_all over every namespace: the per-namespace object form verifies too.
    let again = Store::signed(
        &signer,
        Namespace::UserProfile,
        b"p".to_vec(),
        now(&net),
        600_000,
    )
    .unwrap();
    assert_eq!(send(&mut net, &to, &Rpc::Store(again.clone())).0, 200);
    let t = now(&net);
    let (status, body) = send(
        &mut net,
        &to,
        &Rpc::delete_all(&signer, NamespaceOrAll::All, t),
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    let own = &v["swarm"][metaless_identity::hex::encode(&to.pubkey_ed25519)];
    assert_eq!(own["deleted"]["2"][0], again.message_hash().as_str());
    for (node, entry) in entries(&body) {
        let hashes = verify_namespace_action_entry(&node, &entry, "deleted", &pk, t).unwrap();
        assert_eq!(hashes, vec![again.message_hash().as_str().to_owned()]);
    }
}

#[test]
fn wrong_swarm_reply_parses_as_the_accounts_swarm() {
    let mut net = net(6, 3);
    let signer_keys = account(2);
    let signer = Signer::session(&signer_keys);
    let pk = signer.pubkey();
    let right = member(&net, &pk);
    let wrong = net
        .nodes()
        .into_iter()
        .find(|n| n.swarm_id != right.swarm_id)
        .unwrap();
    let retrieve = Retrieve::signed(&signer, Namespace::Default, None, now(&net));
    let (status, body) = send(&mut net, &wrong, &Rpc::Retrieve(retrieve));
    assert_eq!(status, 421);
    let swarm = SwarmResponse::parse(&body).unwrap();
    assert_eq!(swarm.swarm_id, Some(right.swarm_id));
    let members: Vec<[u8; 32]> = net
        .nodes()
        .into_iter()
        .filter(|n| n.swarm_id == right.swarm_id)
        .map(|n| n.pubkey_ed25519)
        .collect();
    assert_eq!(
        swarm.nodes.iter().map(|n| n.ed25519).collect::<Vec<_>>(),
        members
    );
    assert!(swarm.nodes.iter().all(|n| n.storage_port != 0));
    assert_eq!(swarm.network_time_ms, Some(now(&net)));
}

#[test]
fn forwarded_changes_get_the_wider_window_upstream_gives_them() {
    let mut node = doc_node();
    let keys = account(3);
    let signer = Signer::session(&keys);
    let now_ms: i64 = 1_700_000_000_000;
    let stale = u64::try_from(now_ms - 65_000).unwrap();
    let body = Rpc::delete_all(&signer, NamespaceOrAll::All, stale).to_body();
    let answer = |node: &mut metaless_node::Node, forwarded: bool| {
        let Action::Respond(r) = node.handle(
            now_ms,
            Request {
                path: RPC_PATH.into(),
                body: body.clone(),
                from: None,
                forwarded,
            },
        ) else {
            panic!("not a response")
        };
        r
    };
    let direct = answer(&mut node, false);
    assert_eq!(
        (direct.status, direct.body.as_slice()),
        (406, &b"delete_all timestamp too far from current time"[..])
    );
    // The forwarded header alone is a client's claim: ignored.
    let claimed = answer(&mut node, true);
    assert_eq!(claimed.status, 406);
}

/// A member of [`pair`]'s swarm 0.
fn info(k: &Keypair) -> NodeInfo {
    NodeInfo {
        pubkey_ed25519: k.ed25519_public(),
        pubkey_x25519: k.x25519_public(),
        swarm_id: 0,
        ip: "127.0.0.1".into(),
        port: 1,
    }
}

/// A two-member swarm of raw cores: (a, b) and b's core.
fn pair() -> (Keypair, Keypair, metaless_node::Node) {
    use metaless_node::{NetworkMap, Node, NodeConfig, storage::MemoryStorage};
    let (a, b) = (account(41), account(42));
    let map = NetworkMap::new(vec![info(&a), info(&b)]);
    let node = Node::new(NodeConfig {
        keypair: account(42),
        info: info(&b),
        network: map,
        storage: Box::new(MemoryStorage::new()),
        rng_seed: [0; 32],
        observe: false,
    });
    (a, b, node)
}

#[test]
fn only_an_authenticated_forward_from_a_swarm_member_is_a_replay() {
    use metaless_node::replication::ForwardKeys;
    let (a, b, node) = pair();
    let user = account(3);
    let signer = Signer::session(&user);
    let now_ms: i64 = 1_700_000_000_000;
    let now = u64::try_from(now_ms).unwrap();
    let body = Rpc::delete_all(&signer, NamespaceOrAll::All, now - 65_000).to_body();
    let post = |body: Vec<u8>| {
        let Action::Respond(r) = node.handle(now_ms, Request::post(RPC_PATH, body)) else {
            panic!("not a response")
        };
        r
    };
    let from_a = ForwardKeys::new(&a);
    let seal = |keys: &ForwardKeys, to: &Keypair, t: u64| keys.seal(&info(to), t, &body).unwrap();
    // A member's replay is answered flat (no `swarm` nesting) with the wider window.
    let r = post(seal(&from_a, &b, now));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert!(v["deleted"].is_object() && v["signature"].is_string());
    assert!(v.get("swarm").is_none());
    // From a stranger, addressed to someone else, stale, tampered, or with a MAC made under
    // another pair key: refused.
    let r = post(seal(&ForwardKeys::new(&account(9)), &b, now));
    assert_eq!(
        (r.status, r.body.as_slice()),
        (401, &b"forwarded request: sender is not a swarm member"[..])
    );
    let r = post(seal(&from_a, &a, now));
    assert_eq!(r.status, 401);
    let r = post(seal(&from_a, &b, now - 120_000));
    assert_eq!(
        (r.status, r.body.as_slice()),
        (401, &b"forwarded request: timestamp out of range"[..])
    );
    let bad_mac = b"forwarded request: invalid MAC";
    let tampered = String::from_utf8(seal(&from_a, &b, now))
        .unwrap()
        .replace("delete_all", "delete_alk");
    let r = post(tampered.into_bytes());
    assert_eq!((r.status, r.body.as_slice()), (401, &bad_mac[..]));
    // The stranger claims to be a: its MAC is under the (stranger, b) pair key, not (a, b).
    let forged = String::from_utf8(seal(&ForwardKeys::new(&account(9)), &b, now))
        .unwrap()
        .replace(
            &metaless_identity::hex::encode(&account(9).ed25519_public()),
            &metaless_identity::hex::encode(&a.ed25519_public()),
        );
    let r = post(forged.into_bytes());
    assert_eq!((r.status, r.body.as_slice()), (401, &bad_mac[..]));
    // A different `t` than the one the MAC covers.
    let moved = String::from_utf8(seal(&from_a, &b, now))
        .unwrap()
        .replace(&format!("\"t\":{now}"), &format!("\"t\":{}", now + 1));
    let r = post(moved.into_bytes());
    assert_eq!((r.status, r.body.as_slice()), (401, &bad_mac[..]));
}

#[test]
fn a_store_reply_lists_each_member_and_failed_replays_are_retried() {
    use metaless_node::replication::ReplicaOutcome;
    let (a, _b, node) = pair();
    let user = account(3);
    let signer = Signer::session(&user);
    let now_ms: i64 = 1_700_000_000_000;
    let now = u64::try_from(now_ms).unwrap();
    let store = Store::signed(&signer, Namespace::Default, b"m".to_vec(), now, 600_000).unwrap();
    let Action::Replicate { ticket, targets } = node.handle(
        now_ms,
        Request::post(RPC_PATH, Rpc::Store(store.clone()).to_body()),
    ) else {
        panic!("a store with a peer replicates first")
    };
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].to.pubkey_ed25519, a.ed25519_public());
    let r = node.finish_replication(
        now_ms,
        ticket,
        &[(a.ed25519_public(), ReplicaOutcome::Timeout)],
    );
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        v["swarm"][metaless_identity::hex::encode(&a.ed25519_public())]["timeout"],
        true
    );
    assert_eq!(entries(&r.body).len(), 1);
    // The same ticket twice: unknown.
    assert_eq!(node.finish_replication(now_ms, ticket, &[]).status, 500);
    // The missed replay is queued, not due yet, then due, then backed off after a failure.
    assert!(node.due_retries(now_ms, 10).is_empty());
    let jobs = node.due_retries(now_ms + 1_000, 10);
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].send.body.starts_with(br#"{"metaless_forward""#));
    let job = jobs.into_iter().next().unwrap();
    node.retry_result(now_ms + 1_000, job, &ReplicaOutcome::Timeout);
    assert!(node.due_retries(now_ms + 2_500, 10).is_empty());
    let job = node
        .due_retries(now_ms + 3_000, 10)
        .into_iter()
        .next()
        .unwrap();
    node.retry_result(
        now_ms + 3_000,
        job,
        &ReplicaOutcome::Answered {
            status: 200,
            body: b"{}".to_vec(),
        },
    );
    assert!(node.due_retries(now_ms + 1_000_000, 10).is_empty());

    // A refusal drops the replay; a timeout or a 429 keeps it.
    let store = Store::signed(&signer, Namespace::Default, b"n".to_vec(), now, 600_000).unwrap();
    let Action::Replicate { ticket, .. } =
        node.handle(now_ms, Request::post(RPC_PATH, Rpc::Store(store).to_body()))
    else {
        panic!("a store with a peer replicates first")
    };
    node.finish_replication(now_ms, ticket, &[]);
    let job = node
        .due_retries(now_ms + 1_000, 10)
        .into_iter()
        .next()
        .unwrap();
    let busy = ReplicaOutcome::Answered {
        status: 429,
        body: b"Too many requests, try again later".to_vec(),
    };
    node.retry_result(now_ms + 1_000, job, &busy);
    let job = node
        .due_retries(now_ms + 3_000, 10)
        .into_iter()
        .next()
        .unwrap();
    let refused = ReplicaOutcome::Answered {
        status: 406,
        body: b"Timestamp error: check your clock".to_vec(),
    };
    node.retry_result(now_ms + 3_000, job, &refused);
    assert!(node.due_retries(now_ms + 1_000_000, 10).is_empty());
}

#[test]
fn batch_runs_all_and_sequence_stops_at_the_first_failure() {
    let mut net = net(3, 1);
    let to = net.nodes()[0].clone();
    let unsigned =
        json!({"method": "retrieve", "params": {"pubkey": format!("05{}", "11".repeat(32))}});
    let info = json!({"method": "info", "params": {}});
    for (method, expected) in [("batch", vec![200, 401, 200]), ("sequence", vec![200, 401])] {
        let body = json!({"method": method, "params": {"requests": [info, unsigned, info]}});
        let (status, reply) = net
            .post(&to.pubkey_ed25519, RPC_PATH, body.to_string().as_bytes())
            .unwrap();
        assert_eq!(status, 200);
        let v: Value = serde_json::from_slice(&reply).unwrap();
        let results = v["results"].as_array().unwrap();
        let codes: Vec<u64> = results
            .iter()
            .map(|r| r["code"].as_u64().unwrap())
            .collect();
        assert_eq!(codes, expected, "{method}");
        // JSON bodies are embedded as JSON, error texts as strings.
        assert!(results[0]["body"]["version"].is_array());
        assert_eq!(results[1]["body"], "retrieve: request signature required");
    }
    // An empty batch is refused with upstream's text.
    let (status, reply) = net
        .post(
            &to.pubkey_ed25519,
            RPC_PATH,
            br#"{"method":"batch","params":{"requests":[]}}"#,
        )
        .unwrap();
    assert_eq!(
        (status, String::from_utf8(reply).unwrap()),
        (
            400,
            "invalid request: Invalid batch request: no valid \"requests\" field".into()
        )
    );
}

#[test]
fn node_lists_come_back_in_every_form() {
    let mut net = net(4, 2);
    let to = net.nodes()[0].clone();
    let mut post = |body: &[u8]| net.post(&to.pubkey_ed25519, RPC_PATH, body).unwrap();
    let (status, bin) = post(br#"{"method":"active_nodes_bin","params":{}}"#);
    assert_eq!(status, 200);
    let list = NodeList::from_active_nodes_bin(&bin).unwrap();
    assert_eq!((list.nodes.len(), list.skipped), (4, 0));
    let (status, body) =
        post(br#"{"method":"oxend_request","params":{"endpoint":"get_service_nodes"}}"#);
    assert_eq!(status, 200);
    let parsed = NodeList::from_get_service_nodes(&body).unwrap();
    assert_eq!(parsed.nodes, list.nodes);
    assert_eq!(
        post(br#"{"method":"oxend_request","params":{"endpoint":"ons_resolve"}}"#),
        (400, b"Unknown oxend error".to_vec())
    );
    assert_eq!(
        post(br#"{"method":"oxend_request","params":{"endpoint":"get_n_service_nodes"}}"#),
        (
            400,
            b"invalid request: Invalid oxend endpoint 'get_n_service_nodes'".to_vec()
        )
    );
}
