//! Contacts and message requests survive a restart (SQLite store on disk, the in-process
//! network): a request from a stranger → Bob restarts → still waiting → accept → a normal
//! conversation, and contacts stay contacts; typing indicators are never persisted and never
//! shown past their TTL, also across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use metaless_client::{
    Bootstrap, Client, Config, Event, MemoryStore, Persistence, SeedProtection, SqliteStore,
};
use metaless_envelope::{Content, Message, TYPING_MESSAGE_TTL_MS, TypingAction};
use metaless_identity::{Keypair, Seed};
use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};

fn keys(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

fn config(nodes: Vec<metaless_swarm::ServiceNode>) -> Config {
    Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(2_000))
}

/// Bob on a SQLite file, with message requests and typing indicators on (app settings, set at
/// every start).
fn bob(path: &Path, rng: u8) -> impl FnOnce(Vec<metaless_swarm::ServiceNode>, u64) -> Client {
    let path = path.to_path_buf();
    move |nodes, now| {
        let store = SqliteStore::open(&path, SeedProtection::Plaintext).unwrap();
        let mut c =
            Client::with_persistence(keys(2), config(nodes), [rng; 32], now, Box::new(store))
                .unwrap();
        c.set_message_requests(true);
        c.set_typing_indicators(true);
        c
    }
}

fn count(events: &[Event], pick: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| pick(e)).count()
}

fn texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Received(m) => m.message.content.as_text().map(str::to_owned),
            _ => None,
        })
        .collect()
}

#[test]
fn request_restart_accept_then_a_normal_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bob.sqlite");
    let mut sim = Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 9,
            swarms: 3,
            seed: 17,
            ..Default::default()
        })
        .unwrap(),
    );
    let a = sim.add(|nodes, now| {
        let mut c = Client::new(keys(1), config(nodes), [1; 32], now);
        c.set_typing_indicators(true);
        c
    });
    let b = sim.add(bob(&db, 2));
    let carol = sim.add(|nodes, now| Client::new(keys(3), config(nodes), [3; 32], now));
    let (ida, idb, idc) = (
        keys(1).session_id(),
        keys(2).session_id(),
        keys(3).session_id(),
    );
    sim.client_mut(b).add_contact(&idc);

    // Alice, a stranger, writes twice: two held messages of one request.
    for text in ["hello?", "it's Alice"] {
        let now = sim.client_now(a);
        sim.client_mut(a)
            .send(now, &idb, &Content::text(text))
            .unwrap();
    }
    assert!(sim.run_until(30_000, |s| {
        count(s.events(b), |e| matches!(e, Event::MessageRequest(_))) == 2
    }));
    assert_eq!(sim.client(b).message_requests(), vec![(ida, 2)]);

    // Restart Bob: the request still waits, Carol is still a contact, nothing is repeated.
    sim.replace(b, bob(&db, 22));
    sim.take_events(b);
    assert_eq!(sim.client(b).message_requests(), vec![(ida, 2)]);
    assert!(sim.client(b).is_contact(&idc));
    assert!(!sim.client(b).is_contact(&ida));
    sim.run_until(10_000, |_| false);
    assert_eq!(
        count(sim.events(b), |e| matches!(
            e,
            Event::MessageRequest(_) | Event::Received(_)
        )),
        0,
        "held messages are not delivered twice"
    );

    // Accept after the restart: Alice is told, and from now on her messages are normal ones.
    let now = sim.client_now(b);
    sim.client_mut(b).accept_request(now, &ida).unwrap();
    assert!(sim.client(b).message_requests().is_empty());
    assert!(sim.run_until(30_000, |s| {
        s.events(a).iter().any(|e| {
            matches!(e, Event::Received(m)
                if m.message.content.message == Message::MessageRequestResponse { approved: true })
        })
    }));
    let now = sim.client_now(a);
    sim.client_mut(a)
        .send(now, &idb, &Content::text("thanks"))
        .unwrap();
    assert!(sim.run_until(30_000, |s| texts(s.events(b)) == ["thanks"]));
    let now = sim.client_now(b);
    sim.client_mut(b)
        .send(now, &ida, &Content::text("welcome"))
        .unwrap();
    assert!(sim.run_until(30_000, |s| texts(s.events(a)).contains(&"welcome".into())));

    // Another restart: Alice stays a contact (accepted), her next message is no request.
    sim.replace(b, bob(&db, 23));
    sim.take_events(b);
    assert!(sim.client(b).is_contact(&ida));
    assert!(sim.client(b).message_requests().is_empty());
    let now = sim.client_now(a);
    sim.client_mut(a)
        .send(now, &idb, &Content::text("still here"))
        .unwrap();
    assert!(sim.run_until(30_000, |s| texts(s.events(b)) == ["still here"]));
    assert_eq!(
        count(sim.events(b), |e| matches!(e, Event::MessageRequest(_))),
        0
    );
    // Carol was never persisted as a request.
    assert!(
        !sim.client(b)
            .message_requests()
            .iter()
            .any(|(s, _)| *s == idc)
    );
    let _ = carol;
}

#[test]
fn a_declined_request_is_gone_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bob.sqlite");
    let mut sim = Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 6,
            swarms: 2,
            seed: 5,
            ..Default::default()
        })
        .unwrap(),
    );
    let a = sim.add(|nodes, now| Client::new(keys(1), config(nodes), [1; 32], now));
    let b = sim.add(bob(&db, 2));
    let (ida, idb) = (keys(1).session_id(), keys(2).session_id());
    let now = sim.client_now(a);
    sim.client_mut(a)
        .send(now, &idb, &Content::text("spam"))
        .unwrap();
    assert!(sim.run_until(30_000, |s| {
        count(s.events(b), |e| matches!(e, Event::MessageRequest(_))) == 1
    }));
    let now = sim.client_now(b);
    assert!(
        sim.client_mut(b)
            .decline_request(now, &ida)
            .unwrap()
            .is_some()
    );
    sim.run_until(5_000, |_| false);
    sim.replace(b, bob(&db, 3));
    assert!(sim.client(b).message_requests().is_empty());
    assert!(!sim.client(b).is_contact(&ida));
}

#[test]
fn typing_indicators_never_persist_past_their_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bob.sqlite");
    let mut sim = Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 6,
            swarms: 2,
            seed: 9,
            ..Default::default()
        })
        .unwrap(),
    );
    let a_db = dir.path().join("alice.sqlite");
    let alice = |rng: u8| {
        let path = a_db.clone();
        move |nodes, now| {
            let store = SqliteStore::open(&path, SeedProtection::Plaintext).unwrap();
            let mut c =
                Client::with_persistence(keys(1), config(nodes), [rng; 32], now, Box::new(store))
                    .unwrap();
            c.set_typing_indicators(true);
            c
        }
    };
    let a = sim.add(alice(1));
    let b = sim.add(bob(&db, 2));
    let idb = keys(2).session_id();
    sim.client_mut(b).add_contact(&keys(1).session_id());

    // Alice starts typing; Alice's store never records it, and a restart does not resend it.
    let now = sim.client_now(a);
    sim.client_mut(a)
        .send_typing(now, &idb, TypingAction::Started)
        .unwrap()
        .unwrap();
    let store = SqliteStore::open(&a_db, SeedProtection::Plaintext).unwrap();
    assert!(store.pending().unwrap().is_empty());
    drop(store);
    sim.replace(a, alice(11));
    assert_eq!(sim.client(a).pending_sends(), 0);

    // Bob is offline (replaced by a client that never polls) for longer than the TTL...
    sim.replace(b, |nodes, now| {
        let mut c = Client::new(
            keys(9),
            config(nodes).with_poll_interval_ms(None),
            [9; 32],
            now,
        );
        c.set_typing_indicators(true);
        c
    });
    sim.run_until(TYPING_MESSAGE_TTL_MS + 5_000, |_| false);
    // ...then comes back: the indicator is gone from the swarm or dropped as stale; either
    // way it is never shown.
    sim.replace(b, bob(&db, 3));
    sim.take_events(b);
    sim.run_until(10_000, |_| false);
    let typing = count(
        sim.events(b),
        |e| matches!(e, Event::Received(m) if matches!(m.message.content.message, Message::Typing { .. })),
    );
    assert_eq!(typing, 0);
    // Nothing about typing was written to Bob's store either.
    let store = SqliteStore::open(&db, SeedProtection::Plaintext).unwrap();
    assert!(store.requests().unwrap().is_empty());
    let _ = MemoryStore::default();
}
