//! Sender-side "delete for everyone" across the sender's own devices (upstream
//! `unsendMessagesForEveryone1o1`): the unsend goes to the recipient and to the own swarm, and
//! the own-swarm copy of the message is deleted; the sender's other device drops its copy, a
//! device restored later never sees the message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_client::{Bootstrap, Client, Config, Event, Incoming};
use metaless_envelope::{Content, Message};
use metaless_identity::{Keypair, Seed};
use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};

fn keys(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

fn device(b: u8, rng: u8) -> impl FnOnce(Vec<metaless_swarm::ServiceNode>, u64) -> Client {
    move |nodes, now| {
        Client::new(
            keys(b),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(2_000)),
            [rng; 32],
            now,
        )
    }
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

fn text_hash(events: &[Event], text: &str) -> Option<metaless_swarm::MessageHash> {
    received(events)
        .into_iter()
        .find(|m| m.message.content.as_text() == Some(text))
        .map(|m| m.hash.clone())
}

#[test]
fn unsend_everywhere_reaches_the_recipient_and_the_own_devices() {
    let mut sim = Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 9,
            swarms: 3,
            seed: 21,
            ..Default::default()
        })
        .unwrap(),
    );
    let phone = sim.add(device(1, 1));
    let laptop = sim.add(device(1, 2));
    let bob = sim.add(device(2, 3));
    let (me, idb) = (keys(1).session_id(), keys(2).session_id());

    // The phone sends and stores its sync copy in the own swarm (same timestamp).
    let now = sim.client_now(phone);
    let content = Content::text("regret");
    sim.client_mut(phone).send(now, &idb, &content).unwrap();
    sim.client_mut(phone).send(now, &me, &content).unwrap();
    assert!(sim.run_until(30_000, |s| {
        [phone, laptop, bob]
            .iter()
            .all(|&i| text_hash(s.events(i), "regret").is_some())
    }));
    let sent_at = received(sim.events(bob))[0].message.sent_at_ms;
    let (bob_copy, laptop_copy) = (
        text_hash(sim.events(bob), "regret").unwrap(),
        text_hash(sim.events(laptop), "regret").unwrap(),
    );

    // Delete for everyone: to Bob, to the own devices, and the own-swarm copy deleted.
    let now = sim.client_now(phone);
    let ids = sim
        .client_mut(phone)
        .unsend_everywhere(now, &idb, sent_at)
        .unwrap();
    assert_eq!(
        ids.len(),
        3,
        "unsend to Bob, unsend to own swarm, delete own copy"
    );
    let delete = ids[2];
    assert!(sim.run_until(30_000, |s| {
        s.events(phone)
            .iter()
            .any(|e| matches!(e, Event::Done { id } if *id == delete))
            && s.events(bob)
                .iter()
                .any(|e| matches!(e, Event::Unsent { hash } if *hash == bob_copy))
            && s.events(laptop)
                .iter()
                .any(|e| matches!(e, Event::Unsent { hash } if *hash == laptop_copy))
    }));

    // A device restored from the phrase now finds only the unsend request in the own swarm.
    let restored = sim.add(device(1, 9));
    sim.run_until(20_000, |_| false);
    let left: Vec<Message> = received(sim.events(restored))
        .iter()
        .map(|m| m.message.content.message.clone())
        .collect();
    assert_eq!(
        left,
        vec![Message::Unsend {
            timestamp_ms: sent_at,
            author: me
        }]
    );
}

#[test]
fn an_unsend_naming_another_author_deletes_nothing() {
    let mut sim = Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 6,
            swarms: 2,
            seed: 22,
            ..Default::default()
        })
        .unwrap(),
    );
    let alice = sim.add(device(1, 1));
    let bob = sim.add(device(2, 2));
    let mallory = sim.add(device(3, 3));
    let idb = keys(2).session_id();
    let now = sim.client_now(alice);
    sim.client_mut(alice)
        .send(now, &idb, &Content::text("keep"))
        .unwrap();
    assert!(sim.run_until(30_000, |s| text_hash(s.events(bob), "keep").is_some()));
    let sent_at = received(sim.events(bob))[0].message.sent_at_ms;
    // Mallory claims Alice's message: refused (only the author may unsend).
    let now = sim.client_now(mallory);
    let forged = Content::new(Message::Unsend {
        timestamp_ms: sent_at,
        author: keys(1).session_id(),
    });
    sim.client_mut(mallory).send(now, &idb, &forged).unwrap();
    sim.run_until(20_000, |_| false);
    assert!(
        !sim.events(bob)
            .iter()
            .any(|e| matches!(e, Event::Unsent { .. }))
    );
}
