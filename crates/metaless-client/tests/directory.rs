//! Directory trust on metaless-testnet's in-process network: a node that lies about the
//! network (answering every node-list request and 421 with a list full of its own keys) never
//! gets its nodes into the directory, onto a path or into a swarm.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use metaless_client::{Bootstrap, Client, Config, Event};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use metaless_node::network::{NetworkMap, NodeInfo};
use metaless_swarm::NodeId;
use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};

fn keys(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

/// A 12-node network whose first node answers with 40 nodes of its own added to the real ones
/// (in the real swarms, so they would be picked as members and hops alike).
fn poisoned_net() -> (LoopbackNet, [u8; 32], BTreeSet<NodeId>) {
    let mut net = LoopbackNet::new(LoopbackConfig {
        nodes: 12,
        swarms: 4,
        seed: 77,
        ..Default::default()
    })
    .unwrap();
    let liar = net.nodes()[0].pubkey_ed25519;
    let swarms = net.network().swarm_ids().to_vec();
    let mut infos = net.nodes();
    let mut fakes = BTreeSet::new();
    for i in 0..40u8 {
        let k = Keypair::from_seed(&Seed::from_bytes([200u8.wrapping_add(i); 32]));
        fakes.insert(NodeId::from(k.ed25519_public()));
        infos.push(NodeInfo {
            pubkey_ed25519: k.ed25519_public(),
            pubkey_x25519: k.x25519_public(),
            swarm_id: swarms[usize::from(i) % swarms.len()],
            ip: "127.0.0.1".into(),
            port: 30_000 + u16::from(i),
        });
    }
    net.set_node_network(&liar, NetworkMap::new(infos));
    (net, liar, fakes)
}

fn client(b: u8, nodes: Vec<metaless_swarm::ServiceNode>, now: u64) -> Client {
    // A refresh round every 2 s, so the liar is asked many times.
    let config = Config::testnet(Bootstrap::Nodes(nodes)).with_node_refresh_ms(2_000);
    Client::new(keys(b), config, [b; 32], now)
}

#[test]
fn a_lying_node_never_puts_its_nodes_on_a_path() {
    let (net, liar, fakes) = poisoned_net();
    let mut sim = Sim::new(net);
    let a = sim.add(|nodes, now| client(1, nodes, now));
    let b = sim.add(|nodes, now| client(2, nodes, now));
    let (to_a, to_b) = (sim.client(a).session_id(), sim.client(b).session_id());
    let mut hops_seen = BTreeSet::new();
    let mut sent = 0;
    for round in 0..30 {
        for (from, to) in [(a, &to_b), (b, &to_a)] {
            let now = sim.client_now(from);
            sim.client_mut(from)
                .send(now, to, &Content::text(format!("m{round}")))
                .unwrap();
            sent += 1;
        }
        let t0 = sim.client_now(a);
        sim.run_until(2_500, |s| s.client_now(a) >= t0 + 2_000);
        for i in [a, b] {
            for path in sim.client(i).paths() {
                hops_seen.extend(path);
            }
            assert!(sim.client(i).known_nodes() <= 12, "no node was added");
        }
    }
    sim.run_until(60_000, |s| {
        [a, b].iter().all(|&i| {
            s.events(i)
                .iter()
                .filter(|e| matches!(e, Event::Received(_)))
                .count()
                >= sent / 2
        })
    });
    for i in [a, b] {
        let events = sim.events(i);
        for e in events {
            match e {
                Event::PathRebuilt { hops } => hops_seen.extend(hops.iter().copied()),
                Event::Delivered { via, .. } => {
                    hops_seen.extend(via.path.iter().copied());
                    assert!(!fakes.contains(&via.destination), "stored on a fake node");
                }
                Event::Received(m) => assert!(!fakes.contains(&m.via.destination)),
                _ => {}
            }
        }
        let updates = events
            .iter()
            .filter(|e| matches!(e, Event::NodesUpdated { .. }))
            .count();
        assert!(
            updates >= 10,
            "the node list was refreshed ({updates} times)"
        );
        let got = events
            .iter()
            .filter(|e| matches!(e, Event::Received(_)))
            .count();
        assert_eq!(got, sent / 2, "every message arrived");
    }
    assert!(!hops_seen.is_empty());
    let bad: Vec<_> = hops_seen.intersection(&fakes).collect();
    assert!(bad.is_empty(), "{} attacker nodes became hops", bad.len());
    // The liar itself is a real node the honest answers list: it may carry traffic.
    let _ = liar;
}
