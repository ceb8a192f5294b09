//! Two devices drive `Call` through sealed one-to-one messages: answered then ended, rejected,
//! timed out, missed, answered elsewhere, and every unexpected message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_envelope::{
    CALL_MESSAGE_TTL_MS, CALL_TIMEOUT_MS, Call, CallError, CallEvent, CallMessage, CallSignal,
    CallState, Content, IceCandidate, Message, open_message, seal_message, storage_ttl_ms,
};
use metaless_identity::{Keypair, Seed};
use rand::SeedableRng;

const UUID: &str = "0b8f2c5e-7f8a-4c1e-9d3b-6a2e1f0c9b7d";
const T0: u64 = 1_700_000_000_000;

fn keys(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

/// Seals every pending transmit of `from` to `to` and opens it there, as the swarm would carry it.
fn deliver(
    from: &mut Call,
    sender: &Keypair,
    recipient: &Keypair,
    now: u64,
) -> Vec<(CallMessage, bool)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(now);
    let mut out = Vec::new();
    while let Some(t) = from.poll_transmit() {
        let content = Content::new(Message::Call(t.message));
        assert_eq!(storage_ttl_ms(&content), CALL_MESSAGE_TTL_MS);
        let stored =
            seal_message(sender, &recipient.session_id(), &content, now, &mut rng).unwrap();
        let received = open_message(recipient, &stored).unwrap();
        assert_eq!(received.sender, sender.session_id());
        let Message::Call(message) = received.content.message else {
            panic!("not a call message")
        };
        out.push((message, t.sync_to_own_devices));
    }
    out
}

fn events(call: &mut Call) -> Vec<CallEvent> {
    std::iter::from_fn(|| call.poll_event()).collect()
}

#[test]
fn call_is_answered_then_ended() {
    let (alice_keys, bob_keys) = (keys(1), keys(2));
    let mut alice = Call::outgoing(UUID, "v=0 offer", T0);
    assert_eq!(alice.state(), CallState::Ringing);
    assert_eq!(alice.poll_timeout(), Some(T0 + CALL_TIMEOUT_MS));
    alice.send_candidates(vec![IceCandidate {
        candidate: "candidate:a".into(),
        sdp_m_line_index: 0,
        sdp_mid: "0".into(),
    }]);

    let sent = deliver(&mut alice, &alice_keys, &bob_keys, T0);
    let kinds: Vec<i32> = sent.iter().map(|(m, _)| m.signal.type_number()).collect();
    assert_eq!(kinds, vec![6, 1, 4], "PRE_OFFER, OFFER, ICE_CANDIDATES");
    assert!(sent.iter().all(|(_, sync)| !sync));

    let mut bob = Call::incoming(&sent[0].0, T0, T0 + 500).unwrap();
    for (m, _) in &sent[1..] {
        bob.handle(m, T0 + 600).unwrap();
    }
    assert_eq!(
        events(&mut bob),
        vec![
            CallEvent::StateChanged(CallState::Ringing),
            CallEvent::RemoteOffer("v=0 offer".into()),
            CallEvent::RemoteCandidates(vec![IceCandidate {
                candidate: "candidate:a".into(),
                sdp_m_line_index: 0,
                sdp_mid: "0".into()
            }]),
        ]
    );
    bob.answer("v=0 answer", T0 + 1_000).unwrap();
    assert_eq!(bob.state(), CallState::Answered);
    assert_eq!(bob.poll_timeout(), None);
    let answer = deliver(&mut bob, &bob_keys, &alice_keys, T0 + 1_000);
    assert_eq!(answer.len(), 1);
    assert!(
        answer[0].1,
        "the callee's ANSWER goes to its own devices too"
    );
    alice.handle(&answer[0].0, T0 + 1_100).unwrap();
    assert_eq!(alice.state(), CallState::Answered);
    assert_eq!(
        events(&mut alice),
        vec![
            CallEvent::RemoteAnswer("v=0 answer".into()),
            CallEvent::StateChanged(CallState::Answered)
        ]
    );
    // An answered call does not time out.
    alice.handle_timeout(T0 + 10 * CALL_TIMEOUT_MS);
    assert_eq!(alice.state(), CallState::Answered);

    alice.hang_up();
    assert_eq!(alice.state(), CallState::Ended);
    let end = deliver(&mut alice, &alice_keys, &bob_keys, T0 + 5_000);
    assert_eq!(end[0].0.signal, CallSignal::EndCall);
    bob.handle(&end[0].0, T0 + 5_100).unwrap();
    assert_eq!(bob.state(), CallState::Ended);
    // Late messages after the end change nothing and send nothing.
    bob.handle(
        &CallMessage::new(UUID, CallSignal::IceCandidates(vec![])),
        T0 + 6_000,
    )
    .unwrap();
    bob.hang_up();
    assert!(bob.poll_transmit().is_none());
}

#[test]
fn rejected_call() {
    let mut alice = Call::outgoing(UUID, "o", T0);
    let offer = CallMessage::new(UUID, CallSignal::Offer { sdp: "o".into() });
    let mut bob = Call::incoming(&offer, T0, T0).unwrap();
    bob.hang_up();
    let reject = bob.poll_transmit().unwrap();
    assert!(reject.sync_to_own_devices);
    while alice.poll_transmit().is_some() {}
    alice.handle(&reject.message, T0 + 10).unwrap();
    assert_eq!(alice.state(), CallState::Ended);
}

#[test]
fn unanswered_call_times_out_and_is_missed() {
    let mut alice = Call::outgoing(UUID, "o", T0);
    let pre_offer = alice.poll_transmit().unwrap().message;
    let _offer = alice.poll_transmit().unwrap();
    let mut bob = Call::incoming(&pre_offer, T0, T0 + 10).unwrap();
    alice.handle_timeout(T0 + CALL_TIMEOUT_MS - 1);
    assert_eq!(alice.state(), CallState::Ringing);
    alice.handle_timeout(T0 + CALL_TIMEOUT_MS);
    assert_eq!(alice.state(), CallState::TimedOut);
    let end = alice.poll_transmit().unwrap().message;
    assert_eq!(end.signal, CallSignal::EndCall);
    bob.handle(&end, T0 + CALL_TIMEOUT_MS + 5).unwrap();
    assert_eq!(bob.state(), CallState::Missed);
    // The callee also misses on its own clock.
    let mut carol = Call::incoming(&pre_offer, T0, T0 + 10).unwrap();
    carol.handle_timeout(T0 + CALL_TIMEOUT_MS);
    assert_eq!(carol.state(), CallState::Missed);
    assert_eq!(
        carol.answer("a", T0 + CALL_TIMEOUT_MS),
        Err(CallError::Unexpected)
    );
}

#[test]
fn stale_offer_is_missed_not_rung() {
    let offer = CallMessage::new(UUID, CallSignal::Offer { sdp: "o".into() });
    let mut late = Call::incoming(&offer, T0, T0 + CALL_TIMEOUT_MS).unwrap();
    assert_eq!(late.state(), CallState::Missed);
    assert_eq!(
        events(&mut late),
        vec![CallEvent::StateChanged(CallState::Missed)]
    );
    assert_eq!(late.poll_timeout(), None);
}

#[test]
fn answered_or_rejected_on_another_device() {
    let offer = CallMessage::new(UUID, CallSignal::Offer { sdp: "o".into() });
    for other in [CallSignal::Answer { sdp: "a".into() }, CallSignal::EndCall] {
        let mut phone = Call::incoming(&offer, T0, T0).unwrap();
        phone
            .handle_own_device(&CallMessage::new(UUID, other))
            .unwrap();
        assert_eq!(phone.state(), CallState::Ended);
        assert!(phone.poll_transmit().is_none(), "this device sends nothing");
    }
    let mut phone = Call::incoming(&offer, T0, T0).unwrap();
    assert_eq!(
        phone.handle_own_device(&CallMessage::new("other", CallSignal::EndCall)),
        Err(CallError::WrongCall)
    );
    phone
        .handle_own_device(&CallMessage::new(UUID, CallSignal::PreOffer))
        .unwrap();
    assert_eq!(phone.state(), CallState::Ringing);
}

#[test]
fn unexpected_messages_are_typed_errors() {
    let mut alice = Call::outgoing(UUID, "o", T0);
    assert_eq!(
        alice.handle(&CallMessage::new("another", CallSignal::EndCall), T0),
        Err(CallError::WrongCall)
    );
    assert_eq!(
        alice.handle(
            &CallMessage::new(UUID, CallSignal::Offer { sdp: "x".into() }),
            T0
        ),
        Err(CallError::Unexpected)
    );
    assert_eq!(alice.answer("a", T0), Err(CallError::Unexpected));
    let offer = CallMessage::new(UUID, CallSignal::Offer { sdp: "o".into() });
    let mut bob = Call::incoming(&offer, T0, T0).unwrap();
    assert_eq!(
        bob.handle(
            &CallMessage::new(
                UUID,
                CallSignal::Offer {
                    sdp: "second".into()
                }
            ),
            T0
        ),
        Err(CallError::Unexpected)
    );
    assert_eq!(
        bob.handle(
            &CallMessage::new(UUID, CallSignal::Answer { sdp: "a".into() }),
            T0
        ),
        Err(CallError::Unexpected)
    );
    // A duplicate PRE_OFFER is harmless.
    bob.handle(&CallMessage::new(UUID, CallSignal::PreOffer), T0)
        .unwrap();
    assert_eq!(
        Call::incoming(
            &CallMessage::new(UUID, CallSignal::Answer { sdp: "a".into() }),
            T0,
            T0
        )
        .unwrap_err(),
        CallError::Unexpected
    );
    // Provisional answers surface but do not answer.
    alice
        .handle(
            &CallMessage::new(UUID, CallSignal::ProvisionalAnswer { sdp: "p".into() }),
            T0,
        )
        .unwrap();
    assert_eq!(alice.state(), CallState::Ringing);
    assert!(events(&mut alice).contains(&CallEvent::RemoteProvisionalAnswer("p".into())));
}
