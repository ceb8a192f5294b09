//! Call signalling between two clients over a real HTTP testnet (metaless nodes on loopback):
//! PRE_OFFER/OFFER → ringing → ANSWER (also to the callee's own swarm) → answered → ICE both
//! ways → END_CALL → ended; and the time-outs without a network.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, CallUpdate, Calls, CallsError, Client, Config, Driver};
use metaless_envelope::{CallDirection, CallError, CallEvent, CallState, IceCandidate};
use metaless_identity::{Keypair, Seed};
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::testnet::{Testnet, TestnetOptions};
use rand_core::SeedableRng;

type Peer = Driver<HttpTransport, TokioClock>;

fn peer(seed: u8, bootstrap: Bootstrap) -> Peer {
    let config = Config::testnet(bootstrap).with_poll_interval_ms(Some(200));
    let keys = Keypair::from_seed(&Seed::from_bytes([seed; 32]));
    Driver::new(
        Client::new(keys, config, [seed; 32], wall_clock_ms()),
        HttpTransport::default(),
        TokioClock,
    )
}

/// Runs `at` (its calls fed every event) until a call update matching `want` comes out.
async fn until(
    at: &mut Peer,
    calls: &mut Calls,
    within_ms: u64,
    want: impl Fn(&CallUpdate) -> bool,
) -> CallUpdate {
    let deadline = at.now() + within_ms;
    loop {
        while let Some(update) = calls.poll_event() {
            if want(&update) {
                return update;
            }
        }
        let Some(event) = at.next_event_until(deadline).await else {
            panic!("no such call update within {within_ms} ms");
        };
        let now = at.now();
        calls.handle_event(at.client(), now, &event);
    }
}

const UUID: &str = "6b1f0c2e-8d3a-4f5b-9c7e-1a2b3c4d5e6f";

#[tokio::test(flavor = "current_thread")]
async fn two_clients_reach_answered_then_ended_over_http() {
    let cfg = TestnetConfig::generate(6, 2, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(3));
    let net = Testnet::start(cfg, TestnetOptions::default())
        .await
        .unwrap();
    let file = std::fs::read(net.data_dir().join("bootstrap.json")).unwrap();
    let mut alice = peer(1, Bootstrap::from_testnet_file(&file).unwrap());
    let mut bob = peer(2, Bootstrap::from_testnet_file(&file).unwrap());
    let (ida, idb) = (alice.client().session_id(), bob.client().session_id());
    let (mut a_calls, mut b_calls) = (Calls::default(), Calls::default());

    let now = alice.now();
    a_calls
        .start(alice.client(), now, &idb, UUID, "v=0 alice-offer")
        .unwrap();
    assert_eq!(
        a_calls.start(alice.client(), now, &idb, UUID, "again"),
        Err(CallsError::DuplicateCall)
    );
    // Alice's sends go out while her driver runs.
    let _ = alice.wait_for(3_000, |_| false).await;

    // Bob rings and gets the offer.
    let ring = until(&mut bob, &mut b_calls, 20_000, |u| {
        u.event == CallEvent::StateChanged(CallState::Ringing)
    })
    .await;
    assert_eq!((ring.peer, ring.uuid.as_str()), (ida, UUID));
    let offer = until(&mut bob, &mut b_calls, 20_000, |u| {
        matches!(u.event, CallEvent::RemoteOffer(_))
    })
    .await;
    assert_eq!(
        offer.event,
        CallEvent::RemoteOffer("v=0 alice-offer".into())
    );
    assert_eq!(
        b_calls.calls(),
        vec![(
            UUID.into(),
            ida,
            CallDirection::Incoming,
            CallState::Ringing
        )]
    );

    // Bob answers and sends a candidate.
    let now = bob.now();
    b_calls
        .answer(bob.client(), now, UUID, "v=0 bob-answer")
        .unwrap();
    let candidate = IceCandidate {
        candidate: "candidate:1 1 udp 2122260223 192.0.2.7 50000 typ host".into(),
        sdp_m_line_index: 0,
        sdp_mid: "0".into(),
    };
    b_calls
        .send_candidates(bob.client(), now, UUID, vec![candidate.clone()])
        .unwrap();
    assert_eq!(b_calls.state(UUID), Some(CallState::Answered));
    let _ = bob.wait_for(3_000, |_| false).await;

    // Alice: answered, with Bob's SDP and candidate.
    let answer = until(&mut alice, &mut a_calls, 20_000, |u| {
        matches!(u.event, CallEvent::RemoteAnswer(_))
    })
    .await;
    assert_eq!(
        answer.event,
        CallEvent::RemoteAnswer("v=0 bob-answer".into())
    );
    assert_eq!(a_calls.state(UUID), Some(CallState::Answered));
    let ice = until(&mut alice, &mut a_calls, 20_000, |u| {
        matches!(u.event, CallEvent::RemoteCandidates(_))
    })
    .await;
    assert_eq!(ice.event, CallEvent::RemoteCandidates(vec![candidate]));

    // Alice hangs up; Bob's call ends.
    let now = alice.now();
    a_calls.end(alice.client(), now, UUID).unwrap();
    assert_eq!(a_calls.state(UUID), Some(CallState::Ended));
    let _ = alice.wait_for(3_000, |_| false).await;
    until(&mut bob, &mut b_calls, 20_000, |u| {
        u.event == CallEvent::StateChanged(CallState::Ended)
    })
    .await;
    assert_eq!(b_calls.state(UUID), Some(CallState::Ended));
    drop((alice, bob));
    net.shutdown().await;
}

fn offline(seed: u8) -> Client {
    Client::new(
        Keypair::from_seed(&Seed::from_bytes([seed; 32])),
        Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None),
        [seed; 32],
        1_000_000,
    )
}

#[test]
fn unanswered_call_times_out_and_sends_end_call() {
    let mut alice = offline(1);
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    let mut calls = Calls::default();
    calls
        .start(&mut alice, 1_000_000, &bob, UUID, "offer")
        .unwrap();
    assert_eq!(alice.pending_sends(), 2);
    assert_eq!(calls.poll_timeout(&alice, 1_000_000), Some(1_060_000));
    calls.handle_timeout(&mut alice, 1_059_999);
    assert_eq!(calls.state(UUID), Some(CallState::Ringing));
    calls.handle_timeout(&mut alice, 1_060_000);
    assert_eq!(calls.state(UUID), Some(CallState::TimedOut));
    assert_eq!(alice.pending_sends(), 3, "END_CALL sent");
    assert_eq!(calls.poll_timeout(&alice, 1_060_000), None);
    // Over: answering or re-ending changes nothing, unknown calls are refused.
    calls.end(&mut alice, 1_070_000, UUID).unwrap();
    assert_eq!(alice.pending_sends(), 3);
    assert_eq!(
        calls.answer(&mut alice, 1_070_000, UUID, "a"),
        Err(CallsError::Call(CallError::Unexpected))
    );
    assert_eq!(
        calls.end(&mut alice, 1_070_000, "nope"),
        Err(CallsError::UnknownCall)
    );
    assert_eq!(
        calls.start(&mut alice, 1_070_000, &bob, "", "offer"),
        Err(CallsError::Call(CallError::EmptyUuid))
    );
}
