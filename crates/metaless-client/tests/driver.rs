//! The async driver keeps every event: what arrives while the app waits for something else
//! is handed out by the next call, in order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_client::{Bootstrap, Client, Config, Driver, Event};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use metaless_testnet::{LoopbackClock, LoopbackConfig, LoopbackNet, LoopbackTransport};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

type D = Driver<LoopbackTransport, LoopbackClock>;

fn pair() -> (D, D) {
    let net = LoopbackNet::new(LoopbackConfig {
        nodes: 8,
        swarms: 2,
        ..Default::default()
    })
    .unwrap();
    let transport = LoopbackTransport::new(net);
    let clock = LoopbackClock::new(&transport);
    let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
    let keys = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    let alice = Driver::new(
        Client::new(keys(1), config.clone(), [1; 32], clock.now()),
        transport.clone(),
        clock.clone(),
    );
    let bob = Driver::new(
        Client::new(keys(2), config, [2; 32], clock.now()),
        transport,
        clock,
    );
    (alice, bob)
}

#[test]
fn a_message_that_arrives_while_waiting_for_a_delivery_is_not_lost() {
    let (mut alice, mut bob) = pair();
    let (to_alice, to_bob) = (alice.client().session_id(), bob.client().session_id());
    block_on(alice.send_confirmed(&to_bob, &Content::text("first"), 30_000)).unwrap();
    // Bob waits for his own send's delivery; Alice's message comes in meanwhile (his polls
    // run during the wait) and is kept.
    block_on(bob.send_confirmed(&to_alice, &Content::text("reply"), 30_000)).unwrap();
    block_on(bob.wait_for(10_000, |_| false));
    // Nothing more runs: recv(0) can only return what an earlier call kept.
    let got = block_on(bob.recv(0)).expect("the message seen while waiting was kept");
    assert_eq!(got.message.content.as_text(), Some("first"));
    // Taken once: it is not handed out again.
    assert!(block_on(bob.recv(0)).is_none());
    assert!(
        !bob.take_events()
            .iter()
            .any(|e| matches!(e, Event::Received(_)))
    );
}

#[test]
fn kept_events_come_back_in_order_before_new_ones() {
    let (mut alice, _bob) = pair();
    assert!(block_on(alice.wait_for(5_000, |_| false)).is_none());
    let mut first = Vec::new();
    while let Some(e) = block_on(alice.next_event_until(0)) {
        first.push(e);
    }
    assert!(
        matches!(first.first(), Some(Event::PathRebuilt { .. })),
        "the first event of the run comes first: {first:?}"
    );
    assert!(
        alice.take_events().is_empty(),
        "next_event_until drained them"
    );
}
