//! Issue 17 item 2 against the in-process network: read receipts only while enabled, typing
//! indicators with their short TTL (never persisted, stale ones dropped), message requests held
//! until accepted (or declined and deleted), unsend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use metaless_client::{Bootstrap, Client, Config, Event, Incoming, MemoryStore, Persistence};
use metaless_envelope::{Content, Message, ReceiptKind, TYPING_MESSAGE_TTL_MS, TypingAction};
use metaless_identity::{Keypair, Seed, SessionId};
use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};

fn keys(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

fn sim(seed: u64) -> Sim {
    Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 9,
            swarms: 3,
            seed,
            ..Default::default()
        })
        .unwrap(),
    )
}

fn add(sim: &mut Sim, b: u8) -> usize {
    sim.add(|nodes, now| {
        Client::new(
            keys(b),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(2_000)),
            [b ^ 0x55; 32],
            now,
        )
    })
}

fn id(sim: &Sim, i: usize) -> SessionId {
    sim.client(i).session_id()
}

fn send(sim: &mut Sim, from: usize, to: usize, content: &Content) {
    let (to, now) = (id(sim, to), sim.client_now(from));
    sim.client_mut(from).send(now, &to, content).unwrap();
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

fn requests(events: &[Event]) -> Vec<&Incoming> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MessageRequest(m) => Some(&**m),
            _ => None,
        })
        .collect()
}

/// Lets the network run long enough for every send to be stored and polled.
fn settle(sim: &mut Sim) {
    sim.run_until(20_000, |_| false);
}

#[test]
fn read_receipts_only_while_enabled_on_both_sides() {
    let mut sim = sim(1);
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let bob = id(&sim, b);
    let now = sim.client_now(a);
    // Off: nothing is sent.
    assert_eq!(
        sim.client_mut(a)
            .send_read_receipt(now, &bob, &[7])
            .unwrap(),
        None
    );
    assert_eq!(sim.client(a).pending_sends(), 0);
    // A's receipts on, B's off: B drops it.
    sim.client_mut(a).set_read_receipts(true);
    sim.client_mut(a)
        .send_read_receipt(now, &bob, &[7])
        .unwrap()
        .unwrap();
    settle(&mut sim);
    assert!(received(sim.events(b)).is_empty());
    assert!(sim.client(b).stats().suppressed >= 1);
    // Both on: B sees which message was read.
    sim.client_mut(b).set_read_receipts(true);
    let now = sim.client_now(a);
    sim.client_mut(a)
        .send_read_receipt(now, &bob, &[8, 9])
        .unwrap()
        .unwrap();
    settle(&mut sim);
    let got = received(sim.events(b));
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].message.content.message,
        Message::Receipt {
            kind: ReceiptKind::Read,
            timestamps_ms: vec![8, 9]
        }
    );
    assert_eq!(got[0].message.sender, id(&sim, a));
}

#[test]
fn typing_indicators_are_short_lived_and_never_persisted() {
    let mut sim = sim(2);
    let store = Arc::new(Mutex::new(MemoryStore::default()));
    let s = store.clone();
    let a = sim.add(move |nodes, now| {
        Client::with_persistence(
            keys(1),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(2_000)),
            [1; 32],
            now,
            Box::new(s),
        )
        .unwrap()
    });
    let b = add(&mut sim, 2);
    let bob = id(&sim, b);
    sim.client_mut(a).set_typing_indicators(true);
    sim.client_mut(b).set_typing_indicators(true);
    let now = sim.client_now(a);
    sim.client_mut(a)
        .send_typing(now, &bob, TypingAction::Started)
        .unwrap()
        .unwrap();
    // Not in the persistence hook, even while pending.
    assert!(store.pending().unwrap().is_empty());
    assert_eq!(sim.client(a).pending_sends(), 1);
    settle(&mut sim);
    let got = received(sim.events(b));
    assert_eq!(got.len(), 1);
    assert!(matches!(
        got[0].message.content.message,
        Message::Typing {
            action: TypingAction::Started,
            ..
        }
    ));
    // Stored with the typing TTL, not the default 14 days.
    let network_now = sim.client(b).network_now(sim.client_now(b));
    assert!(got[0].expiry_ms <= network_now + TYPING_MESSAGE_TTL_MS);
    // Off on the receiving side: dropped.
    sim.client_mut(b).set_typing_indicators(false);
    let now = sim.client_now(a);
    sim.client_mut(a)
        .send_typing(now, &bob, TypingAction::Stopped)
        .unwrap();
    let before = received(sim.events(b)).len();
    settle(&mut sim);
    assert_eq!(received(sim.events(b)).len(), before);
    // Off on the sending side: nothing sent.
    sim.client_mut(a).set_typing_indicators(false);
    let now = sim.client_now(a);
    assert_eq!(
        sim.client_mut(a)
            .send_typing(now, &bob, TypingAction::Started)
            .unwrap(),
        None
    );
}

#[test]
fn stale_typing_indicator_is_dropped() {
    let mut sim = sim(3);
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let bob = id(&sim, b);
    sim.client_mut(a).set_typing_indicators(true);
    sim.client_mut(b).set_typing_indicators(true);
    // B does not poll while A's indicator is fresh…
    let now = sim.client_now(a);
    sim.client_mut(a)
        .send_typing(now, &bob, TypingAction::Started)
        .unwrap();
    // …then B reads its inbox more than the TTL later (a replayed or late-listed indicator):
    // nodes have dropped it, and were it still listed, the client drops it by its timestamp.
    sim.replace(b, |nodes, now| {
        let mut c = Client::new(
            keys(2),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(None),
            [9; 32],
            now,
        );
        c.set_typing_indicators(true);
        c
    });
    sim.run_until(TYPING_MESSAGE_TTL_MS + 5_000, |_| false);
    let now = sim.client_now(b);
    sim.client_mut(b).poll_now(now);
    settle(&mut sim);
    assert!(received(sim.events(b)).is_empty());
}

#[test]
fn message_request_held_until_accepted_then_normal_conversation() {
    let mut sim = sim(4);
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let alice = id(&sim, a);
    sim.client_mut(b).set_message_requests(true);
    sim.client_mut(b).set_read_receipts(true);
    sim.client_mut(a).set_read_receipts(true);
    send(&mut sim, a, b, &Content::text("hi, stranger"));
    // A receipt from a stranger says nothing: dropped, not a request.
    let (bob, now) = (id(&sim, b), sim.client_now(a));
    sim.client_mut(a)
        .send_read_receipt(now, &bob, &[1])
        .unwrap();
    settle(&mut sim);
    let reqs = requests(sim.events(b));
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].message.content.as_text(), Some("hi, stranger"));
    assert!(received(sim.events(b)).is_empty());
    assert_eq!(sim.client(b).message_requests(), vec![(alice, 1)]);
    // Still a request until accepted.
    send(&mut sim, a, b, &Content::text("hello?"));
    settle(&mut sim);
    assert_eq!(requests(sim.events(b)).len(), 2);
    assert_eq!(sim.client(b).message_requests(), vec![(alice, 2)]);
    // Accepted: A gets the response, and from then on it is a normal conversation.
    let now = sim.client_now(b);
    sim.client_mut(b).accept_request(now, &alice).unwrap();
    assert!(sim.client(b).message_requests().is_empty());
    send(&mut sim, a, b, &Content::text("thanks"));
    settle(&mut sim);
    let normal: Vec<_> = received(sim.events(b))
        .iter()
        .filter_map(|m| m.message.content.as_text().map(str::to_owned))
        .collect();
    assert_eq!(normal, ["thanks"]);
    let answered = received(sim.events(a))
        .iter()
        .any(|m| m.message.content.message == Message::MessageRequestResponse { approved: true });
    assert!(answered);
    // B wrote to A first in A's eyes? No: A wrote first, so B's reply is no request for A.
    sim.client_mut(a).set_message_requests(true);
    send(&mut sim, b, a, &Content::text("welcome"));
    settle(&mut sim);
    assert!(requests(sim.events(a)).is_empty());
    assert!(
        received(sim.events(a))
            .iter()
            .any(|m| m.message.content.as_text() == Some("welcome"))
    );
}

#[test]
fn declined_request_is_deleted_from_the_swarm() {
    let mut sim = sim(5);
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let alice = id(&sim, a);
    sim.client_mut(b).set_message_requests(true);
    send(&mut sim, a, b, &Content::text("buy now"));
    settle(&mut sim);
    assert_eq!(requests(sim.events(b)).len(), 1);
    let now = sim.client_now(b);
    let op = sim
        .client_mut(b)
        .decline_request(now, &alice)
        .unwrap()
        .unwrap();
    settle(&mut sim);
    assert!(
        sim.events(b)
            .iter()
            .any(|e| matches!(e, Event::Done { id } if *id == op))
    );
    assert!(sim.client(b).message_requests().is_empty());
    // A fresh client for B (nothing seen) finds nothing left in its swarm.
    sim.take_events(b);
    sim.replace(b, |nodes, now| {
        Client::new(
            keys(2),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(2_000)),
            [8; 32],
            now,
        )
    });
    settle(&mut sim);
    assert!(received(sim.events(b)).is_empty());
    assert!(requests(sim.events(b)).is_empty());
}

#[test]
fn contacts_added_by_the_app_are_never_requests() {
    let mut sim = sim(6);
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let alice = id(&sim, a);
    sim.client_mut(b).set_message_requests(true);
    sim.client_mut(b).add_contact(&alice);
    send(&mut sim, a, b, &Content::text("it's me"));
    settle(&mut sim);
    assert_eq!(received(sim.events(b)).len(), 1);
    assert!(requests(sim.events(b)).is_empty());
}

#[test]
fn unsend_removes_the_message_on_the_recipient_side() {
    let mut sim = sim(7);
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let (bob, now) = (id(&sim, b), sim.client_now(a));
    sim.client_mut(a)
        .send(now, &bob, &Content::text("oops"))
        .unwrap();
    settle(&mut sim);
    let got = received(sim.events(b));
    assert_eq!(got.len(), 1);
    let (hash, sent_at) = (got[0].hash.clone(), got[0].message.sent_at_ms);
    let now = sim.client_now(a);
    sim.client_mut(a).unsend(now, &bob, sent_at).unwrap();
    settle(&mut sim);
    assert!(
        sim.events(b)
            .iter()
            .any(|e| matches!(e, Event::Unsent { hash: h } if *h == hash))
    );
    // Gone from the swarm: a fresh client for B gets only the unsend request itself.
    sim.take_events(b);
    sim.replace(b, |nodes, now| {
        Client::new(
            keys(2),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(2_000)),
            [8; 32],
            now,
        )
    });
    settle(&mut sim);
    let left: Vec<_> = received(sim.events(b))
        .iter()
        .map(|m| m.message.content.message.clone())
        .collect();
    assert!(
        left.iter().all(|m| matches!(m, Message::Unsend { .. })),
        "{left:?}"
    );
}
