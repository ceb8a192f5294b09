//! The client against metaless-testnet's in-process network, in virtual time: delivery both ways,
//! volume, failures (dead path node, dead swarm member, lost packets, swarm moves, skewed
//! clocks), TTLs, disappearing messages, and restarts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use metaless_client::{
    Bootstrap, Client, Config, Event, FailureKind, Incoming, MemoryStore, Persistence,
};
use metaless_envelope::{Content, DisappearMode, Disappearing};
use metaless_identity::{Keypair, Seed, SessionId};
use metaless_swarm::{NodeList, UserPubkey};
use metaless_testnet::Sim;
use metaless_testnet::{Faults, LoopbackConfig, LoopbackNet};

fn keys(i: u32) -> Keypair {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    seed[31] = 0x5a;
    Keypair::from_seed(&Seed::from_bytes(seed))
}

fn config(nodes: Vec<metaless_swarm::ServiceNode>) -> Config {
    Config::testnet(Bootstrap::Nodes(nodes))
}

fn net(nodes: usize, swarms: usize, seed: u64) -> LoopbackNet {
    LoopbackNet::new(LoopbackConfig {
        nodes,
        swarms,
        seed,
        ..Default::default()
    })
    .unwrap()
}

fn add(sim: &mut Sim, i: u32) -> usize {
    sim.add(|nodes, now| Client::new(keys(i), config(nodes), seed32(i), now))
}

fn seed32(i: u32) -> [u8; 32] {
    let mut s = [0xc1u8; 32];
    s[..4].copy_from_slice(&i.to_le_bytes());
    s
}

fn received(events: &[Event]) -> Vec<&Incoming> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Received(m) => Some(&**m),
            _ => None,
        })
        .collect()
}

fn texts(events: &[Event]) -> Vec<String> {
    received(events)
        .iter()
        .filter_map(|m| m.message.content.as_text().map(str::to_owned))
        .collect()
}

fn delivered(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Delivered { .. }))
        .count()
}

fn send(sim: &mut Sim, from: usize, to: &SessionId, text: &str) -> metaless_client::OpId {
    let now = sim.client_now(from);
    sim.client_mut(from)
        .send(now, to, &Content::text(text))
        .unwrap()
}

#[test]
fn one_to_one_both_ways() {
    let mut sim = Sim::new(net(12, 4, 1));
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let (ida, idb) = (sim.client(a).session_id(), sim.client(b).session_id());
    send(&mut sim, a, &idb, "hi Bob");
    send(&mut sim, b, &ida, "hi Alice");
    assert!(sim.run_until(30_000, |s| texts(s.events(a)).len() == 1
        && texts(s.events(b)).len() == 1));
    assert_eq!(texts(sim.events(b)), ["hi Bob"]);
    assert_eq!(texts(sim.events(a)), ["hi Alice"]);
    let from_alice = received(sim.events(b))[0];
    assert_eq!(
        from_alice.message.sender, ida,
        "sender verified from the signature"
    );
    // Every request went through 3 distinct hops, none in the destination's swarm.
    for e in sim.events(a) {
        if let Event::Delivered { via, .. } = e {
            assert_eq!(via.path.len(), 3);
            assert_eq!(via.path.iter().collect::<BTreeSet<_>>().len(), 3);
            let list = NodeList {
                nodes: metaless_testnet::service_nodes(&sim.net),
                skipped: 0,
            };
            let (_, members) = list.swarm_for(&UserPubkey::new(5, *idb.key())).unwrap();
            assert!(members.iter().any(|m| m.ed25519 == via.destination));
            assert!(
                via.path
                    .iter()
                    .all(|h| members.iter().all(|m| m.ed25519 != *h))
            );
        }
    }
    // The guard is the same on every path of a client.
    let guards: BTreeSet<_> = sim.client(a).paths().iter().map(|p| p[0]).collect();
    assert!(
        guards.len() <= 2,
        "one guard (plus a stand-in for its own swarm at most)"
    );
    assert_eq!(sim.client(a).pending_sends(), 0);
}

#[test]
fn thousand_messages_twenty_clients_no_loss_no_duplicates() {
    let mut sim = Sim::new(net(16, 4, 7));
    let clients: Vec<usize> = (0..20).map(|i| add(&mut sim, 100 + i)).collect();
    let ids: Vec<SessionId> = clients
        .iter()
        .map(|&c| sim.client(c).session_id())
        .collect();
    // Some packets get lost on the way: stores and polls must be retried, never doubled.
    sim.net.set_faults(Faults {
        drop: 0.02,
        corrupt: 0.0,
        delay_ms: 1,
    });
    let start = sim.net.now_ms();
    let mut expected: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut rng = 0x1234_5678_u64;
    for n in 0..1000 {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let from = (rng >> 33) as usize % 20;
        let to = (from + 1 + (rng >> 17) as usize % 19) % 20;
        let text = format!("message {n} from {from} to {to}");
        send(&mut sim, clients[from], &ids[to], &text);
        expected.entry(to).or_default().insert(text);
        if n % 50 == 49 {
            sim.pump();
        }
    }
    let done = sim.run_until(600_000, |s| {
        clients
            .iter()
            .all(|&c| texts(s.events(c)).len() >= expected.get(&c).map_or(0, BTreeSet::len))
    });
    let sent: usize = clients.iter().map(|&c| delivered(sim.events(c))).sum();
    let requests: u64 = clients
        .iter()
        .map(|&c| sim.client(c).stats().requests)
        .sum();
    eprintln!(
        "virtual ms {}, client requests {requests}, transfers {}",
        sim.net.now_ms() - start,
        sim.net.transfers()
    );
    assert!(done, "not everything arrived; stores acknowledged: {sent}");
    assert_eq!(sent, 1000, "every message acknowledged exactly once");
    for &c in &clients {
        let got = texts(sim.events(c));
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(got.len(), unique.len(), "no duplicates at client {c}");
        assert_eq!(
            unique,
            expected.get(&c).cloned().unwrap_or_default(),
            "no loss at client {c}"
        );
        assert_eq!(sim.client(c).pending_sends(), 0);
        assert!(
            !sim.events(c)
                .iter()
                .any(|e| matches!(e, Event::Failed { .. }))
        );
    }
}

#[test]
fn killed_path_node_is_routed_around() {
    let mut sim = Sim::new(net(12, 4, 3));
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let idb = sim.client(b).session_id();
    send(&mut sim, a, &idb, "before");
    assert!(sim.run_until(30_000, |s| delivered(s.events(a)) == 1));
    // Kill the middle hop of the path that was just used.
    let via = sim
        .events(a)
        .iter()
        .find_map(|e| match e {
            Event::Delivered { via, .. } => Some(via.clone()),
            _ => None,
        })
        .unwrap();
    let victim = via.path[1];
    sim.net.set_up(victim.as_bytes(), false);
    sim.take_events(a);
    for i in 0..5 {
        send(&mut sim, a, &idb, &format!("after {i}"));
    }
    assert!(sim.run_until(60_000, |s| delivered(s.events(a)) == 5
        && texts(s.events(b)).len() == 6));
    let events = sim.events(a);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::PathRebuilt { .. })),
        "a new path was built"
    );
    for e in events {
        if let Event::Delivered { via, .. } = e {
            assert!(
                !via.path.contains(&victim),
                "no delivery through the dead node"
            );
        }
    }
    assert!(sim.client(a).paths().iter().all(|p| !p.contains(&victim)));
    assert!(sim.client(a).stats().paths_dropped >= 1);
}

#[test]
fn one_member_up_is_not_delivered_until_a_second_stores() {
    let mut sim = Sim::new(net(12, 3, 4));
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let idb = sim.client(b).session_id();
    let list = NodeList {
        nodes: metaless_testnet::service_nodes(&sim.net),
        skipped: 0,
    };
    let (_, members) = list.swarm_for(&UserPubkey::new(5, *idb.key())).unwrap();
    let members: Vec<[u8; 32]> = members.iter().map(|m| m.ed25519).collect();
    assert!(members.len() >= 3);
    // Only one member answers.
    for m in &members[1..] {
        sim.net.set_up(m, false);
    }
    for i in 0..4 {
        send(&mut sim, a, &idb, &format!("m{i}"));
    }
    // One member holds them: not delivered (min_replicas 2), still retried.
    assert!(!sim.run_until(30_000, |s| delivered(s.events(a)) > 0));
    assert_eq!(sim.client(a).pending_sends(), 4);
    // A second member comes back: the retries land on both, and count as delivered.
    sim.net.set_up(&members[1], true);
    assert!(sim.run_until(60_000, |s| delivered(s.events(a)) == 4));
    for e in sim.events(a) {
        if let Event::Delivered { stored_on, .. } = e {
            assert!(*stored_on >= 2, "{stored_on}");
        }
    }
    assert!(sim.run_until(60_000, |s| texts(s.events(b)).len() == 4));
}

#[test]
fn skewed_clock_is_corrected_from_node_replies() {
    let mut sim = Sim::new(net(8, 2, 5));
    let skew = 5 * 60 * 1000;
    let a = sim.add_skewed(skew, |nodes, now| {
        Client::new(keys(1), config(nodes), seed32(1), now)
    });
    let b = sim.add_skewed(-skew, |nodes, now| {
        Client::new(keys(2), config(nodes), seed32(2), now)
    });
    let (ida, idb) = (sim.client(a).session_id(), sim.client(b).session_id());
    send(&mut sim, a, &idb, "from the future");
    send(&mut sim, b, &ida, "from the past");
    assert!(sim.run_until(60_000, |s| texts(s.events(a)).len() == 1
        && texts(s.events(b)).len() == 1));
    let off_a = sim.client(a).clock_offset_ms();
    let off_b = sim.client(b).clock_offset_ms();
    assert!((off_a + skew).abs() < 1_000, "offset {off_a}");
    assert!((off_b - skew).abs() < 1_000, "offset {off_b}");
}

#[test]
fn unstorable_message_fails_when_its_ttl_runs_out() {
    let mut sim = Sim::new(net(8, 2, 6));
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let idb = sim.client(b).session_id();
    for n in sim.net.nodes() {
        sim.net.set_up(&n.pubkey_ed25519, false);
    }
    let now = sim.client_now(a);
    let content =
        Content::text("short-lived").disappearing(Disappearing::new(DisappearMode::AfterSend, 30));
    let id = sim.client_mut(a).send(now, &idb, &content).unwrap();
    assert!(sim.run_until(120_000, |s| {
        s.events(a)
            .iter()
            .any(|e| matches!(e, Event::Failed { .. }))
    }));
    let failed = sim.events(a).iter().find_map(|e| match e {
        Event::Failed { id, kind } => Some((*id, *kind)),
        _ => None,
    });
    assert_eq!(failed, Some((id, FailureKind::Expired)));
    assert_eq!(sim.client(a).pending_sends(), 0);
    // It was retried the whole time, not given up early.
    assert!(sim.client(a).stats().requests > 5);
}

#[test]
fn stored_message_expires_with_its_ttl() {
    let mut sim = Sim::new(net(8, 2, 8));
    let a = add(&mut sim, 1);
    let b = sim.add(|nodes, now| {
        Client::new(
            keys(2),
            config(nodes).with_poll_interval_ms(None),
            seed32(2),
            now,
        )
    });
    let idb = sim.client(b).session_id();
    let now = sim.client_now(a);
    let brief =
        Content::text("gone in 10 s").disappearing(Disappearing::new(DisappearMode::AfterSend, 10));
    sim.client_mut(a).send(now, &idb, &brief).unwrap();
    send(&mut sim, a, &idb, "stays");
    assert!(sim.run_until(30_000, |s| delivered(s.events(a)) == 2));
    // Bob is offline for 20 s, then polls.
    let t = sim.net.now_ms();
    sim.run_until(20_000, |s| s.net.now_ms() >= t + 20_000);
    let now = sim.client_now(b);
    sim.client_mut(b).poll_now(now);
    assert!(sim.run_until(10_000, |s| !texts(s.events(b)).is_empty()));
    assert_eq!(texts(sim.events(b)), ["stays"]);
}

#[test]
fn disappear_after_read_shortens_the_expiry() {
    let mut sim = Sim::new(net(8, 2, 9));
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let idb = sim.client(b).session_id();
    let now = sim.client_now(a);
    let content =
        Content::text("read me once").disappearing(Disappearing::new(DisappearMode::AfterRead, 30));
    sim.client_mut(a).send(now, &idb, &content).unwrap();
    send(&mut sim, a, &idb, "plain");
    assert!(sim.run_until(30_000, |s| texts(s.events(b)).len() == 2));
    let hash = received(sim.events(b))
        .iter()
        .find(|m| m.message.content.as_text() == Some("read me once"))
        .unwrap()
        .hash
        .clone();
    let now = sim.client_now(b);
    let plain_hash = received(sim.events(b))
        .iter()
        .find(|m| m.message.content.as_text() == Some("plain"))
        .unwrap()
        .hash
        .clone();
    assert!(
        sim.client_mut(b).mark_read(now, &plain_hash).is_err(),
        "no timer on a plain message"
    );
    let id = sim.client_mut(b).mark_read(now, &hash).unwrap().unwrap();
    assert!(sim.run_until(30_000, |s| {
        s.events(b)
            .iter()
            .any(|e| matches!(e, Event::Done { id: d } if *d == id))
    }));
    // 31 s later a fresh client for Bob (nothing remembered) sees only the plain message.
    let t = sim.net.now_ms();
    sim.run_until(31_000, |s| s.net.now_ms() >= t + 31_000);
    let fresh = sim.add(|nodes, now| Client::new(keys(2), config(nodes), seed32(77), now));
    assert!(sim.run_until(30_000, |s| !texts(s.events(fresh)).is_empty()));
    sim.run_until(3_000, |_| false);
    assert_eq!(texts(sim.events(fresh)), ["plain"]);
}

#[test]
fn swarm_move_follows_421_for_the_account_asked_about() {
    let mut sim = Sim::new(net(12, 4, 10));
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let idb = sim.client(b).session_id();
    send(&mut sim, a, &idb, "one");
    assert!(sim.run_until(30_000, |s| texts(s.events(b)).len() == 1));
    sim.net.reshuffle_swarms();
    send(&mut sim, a, &idb, "two");
    assert!(sim.run_until(60_000, |s| texts(s.events(b)).len() == 2));
    let moved: Vec<UserPubkey> = sim
        .events(a)
        .iter()
        .filter_map(|e| match e {
            Event::SwarmChanged { account, .. } => Some(*account),
            _ => None,
        })
        .collect();
    let (bob, alice) = (
        UserPubkey::new(5, *idb.key()),
        UserPubkey::new(5, *sim.client(a).session_id().key()),
    );
    assert!(
        moved.contains(&bob),
        "the sender learned Bob's new swarm from a 421"
    );
    // Alice's own polls may have moved her account too; nothing else moved.
    assert!(moved.iter().all(|acc| *acc == bob || *acc == alice));
}

#[test]
fn restart_resumes_pending_sends_without_duplicates() {
    let mut sim = Sim::new(net(8, 2, 11));
    let store_a = Arc::new(Mutex::new(MemoryStore::default()));
    let store_b = Arc::new(Mutex::new(MemoryStore::default()));
    let sa = store_a.clone();
    let a = sim.add(move |nodes, now| {
        Client::with_persistence(keys(1), config(nodes), seed32(1), now, Box::new(sa)).unwrap()
    });
    let sb = store_b.clone();
    let b = sim.add(move |nodes, now| {
        Client::with_persistence(keys(2), config(nodes), seed32(2), now, Box::new(sb)).unwrap()
    });
    let idb = sim.client(b).session_id();
    send(&mut sim, a, &idb, "first");
    assert!(sim.run_until(30_000, |s| texts(s.events(b)).len() == 1));
    // The network goes away; Alice queues a message, then restarts.
    let nodes = sim.net.nodes();
    for n in &nodes {
        sim.net.set_up(&n.pubkey_ed25519, false);
    }
    send(&mut sim, a, &idb, "queued while offline");
    sim.run_until(5_000, |_| false);
    assert_eq!(store_a.pending().unwrap().len(), 1);
    let sa = store_a.clone();
    sim.replace(a, move |nodes, now| {
        Client::with_persistence(keys(1), config(nodes), seed32(3), now, Box::new(sa)).unwrap()
    });
    assert_eq!(sim.client(a).pending_sends(), 1);
    // Bob restarts too: what he already saw must not come back.
    let sb = store_b.clone();
    sim.replace(b, move |nodes, now| {
        Client::with_persistence(keys(2), config(nodes), seed32(4), now, Box::new(sb)).unwrap()
    });
    for n in &nodes {
        sim.net.set_up(&n.pubkey_ed25519, true);
    }
    assert!(sim.run_until(60_000, |s| texts(s.events(b)).len() == 2));
    sim.run_until(5_000, |_| false);
    assert_eq!(texts(sim.events(b)), ["first", "queued while offline"]);
    assert!(store_a.pending().unwrap().is_empty());
}

#[test]
fn unsend_deletes_the_message_from_the_recipient_swarm() {
    let mut sim = Sim::new(net(8, 2, 12));
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let idb = sim.client(b).session_id();
    send(&mut sim, a, &idb, "oops");
    assert!(sim.run_until(30_000, |s| texts(s.events(b)).len() == 1));
    let sent_at = received(sim.events(b))[0].message.sent_at_ms;
    let hash = received(sim.events(b))[0].hash.clone();
    let now = sim.client_now(a);
    sim.client_mut(a).unsend(now, &idb, sent_at).unwrap();
    assert!(sim.run_until(30_000, |s| {
        s.events(b)
            .iter()
            .any(|e| matches!(e, Event::Unsent { .. }))
    }));
    let unsent = sim.events(b).iter().find_map(|e| match e {
        Event::Unsent { hash } => Some(hash.clone()),
        _ => None,
    });
    assert_eq!(unsent, Some(hash));
    // Once the delete went through, a fresh client for Bob finds only the unsend request.
    sim.run_until(5_000, |_| false);
    let fresh = sim.add(|nodes, now| Client::new(keys(2), config(nodes), seed32(9), now));
    assert!(sim.run_until(30_000, |s| !received(s.events(fresh)).is_empty()));
    sim.run_until(3_000, |_| false);
    assert!(texts(sim.events(fresh)).is_empty(), "the original is gone");
}
