//! One node core driven from several threads at once (as metaless-node-server's workers drive
//! it): every onion store lands exactly once, every client gets its own reply (tickets of
//! concurrent replications never cross), and the failed members' replays are all queued.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use metaless_identity::{Keypair, Seed};
use metaless_node::replication::ReplicaOutcome;
use metaless_node::{Action, EncType, Node, NodeInfo, Request};
use metaless_onion::ONION_PATH as ONION;
use metaless_testnet::loopback::{LoopbackConfig, LoopbackNet};
use metaless_testnet::testkit::{build_onion, open_reply, store_request};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;

const THREADS: usize = 4;
const PER_THREAD: usize = 40;
const NOW: i64 = 1_700_000_000_000;

fn node_is_shareable<T: Send + Sync + Clone>() {}

/// Runs one onion request through `nodes` (handles of the net's cores) by hand, the way a
/// driver would: each relay's forward goes to the next core; a replication is completed with
/// `outcome` for every target. Returns the opened reply (status, JSON body).
fn run(
    nodes: &[(NodeInfo, Node)],
    entry: &NodeInfo,
    body: Vec<u8>,
    key: &metaless_testnet::testkit::ReplyKey,
    outcome: &ReplicaOutcome,
) -> (u16, Value) {
    let find = |info: &NodeInfo| &nodes.iter().find(|(i, _)| i == info).unwrap().1;
    let mut at = find(entry);
    let mut body = body;
    for _ in 0..8 {
        match at.handle(NOW, Request::post(ONION, body)) {
            Action::ForwardToNode { node, body: next } => {
                at = find(&node);
                body = next;
            }
            Action::Replicate { ticket, targets } => {
                let outcomes: Vec<([u8; 32], ReplicaOutcome)> = targets
                    .iter()
                    .map(|t| (t.to.pubkey_ed25519, outcome.clone()))
                    .collect();
                let r = at.finish_replication(NOW, ticket, &outcomes);
                return opened(key, r.status, &r.body);
            }
            Action::Respond(r) => return opened(key, r.status, &r.body),
            Action::ForwardToServer { .. } => panic!("no server destination here"),
        }
    }
    panic!("the path did not end")
}

fn opened(key: &metaless_testnet::testkit::ReplyKey, status: u16, body: &[u8]) -> (u16, Value) {
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(body));
    let (inner, text) = open_reply(key, body).expect("the reply opens with this client's key");
    (inner, serde_json::from_str(&text).unwrap())
}

/// `THREADS` threads, each with its own account and path, store through the same cores.
fn hammer(swarms: usize, outcome: ReplicaOutcome) -> (LoopbackNet, Vec<(NodeInfo, Node)>) {
    node_is_shareable::<Node>();
    let net = LoopbackNet::new(LoopbackConfig {
        nodes: 6,
        swarms,
        seed: 3,
        start_ms: NOW as u64,
        ..Default::default()
    })
    .unwrap();
    let nodes: Vec<(NodeInfo, Node)> = net
        .nodes()
        .into_iter()
        .map(|i| {
            let n = net.node(&i.pubkey_ed25519).unwrap().clone();
            (i, n)
        })
        .collect();
    let map = net.network().clone();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let nodes = &nodes;
            let map = &map;
            let outcome = outcome.clone();
            s.spawn(move || {
                let account = Keypair::from_seed(&Seed::from_bytes([10 + t as u8; 32]));
                let swarm = map.swarm_for(&account.x25519_public()).unwrap();
                let dest = nodes.iter().find(|(i, _)| i.swarm_id == swarm).unwrap();
                let path: Vec<NodeInfo> = nodes
                    .iter()
                    .filter(|(i, _)| i != &dest.0)
                    .map(|(i, _)| i.clone())
                    .take(3)
                    .collect();
                let mut rng = ChaCha20Rng::seed_from_u64(t as u64);
                let mut hashes = BTreeSet::new();
                for k in 0..PER_THREAD {
                    let data = format!("thread {t} message {k}").into_bytes();
                    let req = store_request(&account, 0, &data, NOW as u64, 3_600_000);
                    let (body, key) = build_onion(
                        &path,
                        &dest.0,
                        req.to_string().as_bytes(),
                        EncType::XChaCha20,
                        &mut rng,
                    )
                    .unwrap();
                    let (status, reply) = run(nodes, &path[0], body, &key, &outcome);
                    assert_eq!(status, 200, "{reply}");
                    let mut owner = [5u8; 33];
                    owner[1..].copy_from_slice(&account.x25519_public());
                    // This client's own message, not another thread's.
                    assert_eq!(
                        reply["hash"].as_str().unwrap(),
                        metaless_node::rpc::message_hash(&owner, 0, &data)
                    );
                    assert!(hashes.insert(reply["hash"].as_str().unwrap().to_owned()));
                }
            });
        }
    });
    (net, nodes)
}

#[test]
fn concurrent_onion_stores_on_single_node_swarms_each_land_once() {
    let (_net, nodes) = hammer(6, ReplicaOutcome::Timeout);
    let total: usize = nodes
        .iter()
        .map(|(_, n)| n.storage().count().unwrap())
        .sum();
    assert_eq!(total, THREADS * PER_THREAD);
}

#[test]
fn concurrent_replications_keep_their_own_tickets_and_queue_every_failed_member() {
    // Two swarms of three: each store waits on two peers, which all time out here.
    let (_net, nodes) = hammer(2, ReplicaOutcome::Timeout);
    let stored: usize = nodes
        .iter()
        .map(|(_, n)| n.storage().count().unwrap())
        .sum();
    assert_eq!(stored, THREADS * PER_THREAD);
    // Every store owes both peers a replay: 2 per message, leased out once each.
    let queued: usize = nodes
        .iter()
        .map(|(_, n)| n.due_retries(NOW + 60_000, 10_000).len())
        .sum();
    assert_eq!(queued, 2 * THREADS * PER_THREAD);
}

#[test]
fn concurrent_replications_that_succeed_queue_nothing() {
    let ok = ReplicaOutcome::Answered {
        status: 200,
        body: br#"{"hash":"x"}"#.to_vec(),
    };
    let (_net, nodes) = hammer(2, ok);
    let queued: usize = nodes
        .iter()
        .map(|(_, n)| n.due_retries(NOW + 60_000, 10_000).len())
        .sum();
    assert_eq!(queued, 0);
}
