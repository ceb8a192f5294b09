//! The platform higher layers build on, against the in-process network: onion v4 requests to an
//! HTTP server (metaless-testnet's `FakeServer` behind the last hop), generic swarm store /
//! retrieve / delete for any account, namespace and signer, and namespace subscriptions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use metaless_client::{
    Bootstrap, Client, ClientError, Config, Event, FailureKind, KeySigner, OpId, RawMessage,
    ServerRequest, SwarmAccount,
};
use metaless_identity::{Keypair, Seed};
use metaless_onion::ServerDestination;
use metaless_swarm::{MessageHash, Namespace, UserPubkey};
use metaless_testnet::server_fake::{FakeResponse, FakeServer};
use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};

const SERVER_SECRET: [u8; 32] = [0x42; 32];
const DAY: u64 = 86_400_000;

fn keys(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

fn sim(seed: u64) -> Sim {
    Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 12,
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
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(None),
            [b ^ 0x77; 32],
            now,
        )
    })
}

/// Runs until an event for `id` (Delivered, Done, Failed, ServerResponse, Retrieved) arrives.
fn wait_for(sim: &mut Sim, i: usize, id: OpId) -> Event {
    let is = |e: &Event| match e {
        Event::Delivered { id: d, .. }
        | Event::Done { id: d }
        | Event::Failed { id: d, .. }
        | Event::ServerResponse { id: d, .. }
        | Event::Retrieved { id: d, .. } => *d == id,
        _ => false,
    };
    assert!(
        sim.run_until(600_000, |s| s.events(i).iter().any(is)),
        "no event for {id:?}"
    );
    sim.take_events(i).into_iter().find(is).unwrap()
}

fn server(x25519: [u8; 32]) -> ServerDestination {
    ServerDestination::new("sogs.test", 8080, "http", x25519).unwrap()
}

#[test]
fn server_request_round_trip_through_a_path() {
    let mut sim = sim(1);
    let fake = FakeServer::install(&mut sim.net, SERVER_SECRET, |req| {
        let body = format!(
            r#"{{"method":"{}","endpoint":"{}","len":{}}}"#,
            req.method,
            req.endpoint,
            req.body.as_ref().map_or(0, Vec::len)
        );
        Some(FakeResponse {
            status: 201,
            headers: vec![("x-test".into(), "yes".into())],
            body: body.into_bytes(),
        })
    });
    let a = add(&mut sim, 1);
    let now = sim.client_now(a);
    let req = ServerRequest::post(server(fake.x25519()), "/room/r/message", b"hello".to_vec())
        .with_header("X-SOGS-Pubkey", "00ab");
    let id = sim.client_mut(a).server_request(now, req).unwrap();
    let Event::ServerResponse { response, .. } = wait_for(&mut sim, a, id) else {
        panic!("expected a server response")
    };
    assert_eq!(response.status, 201);
    assert_eq!(
        response.headers.get("x-test").map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        response.body,
        br#"{"method":"POST","endpoint":"/room/r/message","len":5}"#
    );
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    // The last hop posted to the server's v4 target, on the port asked for.
    assert_eq!(seen[0].url, "http://sogs.test:8080/oxen/v4/lsrpc");
    assert_eq!(
        seen[0].headers.get("X-SOGS-Pubkey").map(String::as_str),
        Some("00ab")
    );
    // A body without a content type is sent as JSON, as upstream does.
    assert_eq!(
        seen[0].headers.get("Content-Type").map(String::as_str),
        Some("application/json")
    );
    assert_eq!(seen[0].body.as_deref(), Some(&b"hello"[..]));
    assert_eq!(sim.client(a).pending_ops(), 0);
}

#[test]
fn server_status_is_the_answer_not_a_failure() {
    let mut sim = sim(2);
    let fake = FakeServer::install(&mut sim.net, SERVER_SECRET, |_| {
        Some(FakeResponse::json(404, r#"{"error":"no such room"}"#))
    });
    let a = add(&mut sim, 1);
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .server_request(now, ServerRequest::get(server(fake.x25519()), "/room/nope"))
        .unwrap();
    let Event::ServerResponse { response, .. } = wait_for(&mut sim, a, id) else {
        panic!("expected a server response")
    };
    assert_eq!(response.status, 404);
    assert!(!response.is_success());
    // Asked once: a server status is not retried.
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn unreachable_server_fails_after_retries_without_banning_nodes() {
    let mut sim = sim(3);
    let fake = FakeServer::install(&mut sim.net, SERVER_SECRET, |_| None);
    let a = add(&mut sim, 1);
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .server_request(now, ServerRequest::get(server(fake.x25519()), "/x"))
        .unwrap();
    let Event::Failed { kind, .. } = wait_for(&mut sim, a, id) else {
        panic!("expected a failure")
    };
    assert_eq!(kind, FailureKind::Unreachable);
    let attempts = fake.requests().len();
    assert!(attempts >= 2, "retried: {attempts}");
    // The server being down is nobody on the path's fault: paths are kept.
    assert_eq!(sim.client(a).stats().paths_dropped, 0);
}

#[test]
fn wrong_server_key_is_refused_and_reported() {
    let mut sim = sim(4);
    let fake = FakeServer::install(&mut sim.net, SERVER_SECRET, |_| {
        Some(FakeResponse::json(200, "{}"))
    });
    let a = add(&mut sim, 1);
    let now = sim.client_now(a);
    // Encrypted to another key: the server cannot open it, the handler is never asked.
    let id = sim
        .client_mut(a)
        .server_request(now, ServerRequest::get(server([0x11; 32]), "/x"))
        .unwrap();
    assert!(matches!(
        wait_for(&mut sim, a, id),
        Event::Failed {
            kind: FailureKind::Unreachable,
            ..
        }
    ));
    assert!(fake.requests().is_empty());
}

#[test]
fn server_request_survives_a_dead_path_node() {
    let mut sim = sim(5);
    let fake = FakeServer::install(&mut sim.net, SERVER_SECRET, |_| {
        Some(FakeResponse::json(200, "{}"))
    });
    let a = add(&mut sim, 1);
    let now = sim.client_now(a);
    // Warm up a path, then kill its guard: the next request must go another way.
    let id = sim
        .client_mut(a)
        .server_request(now, ServerRequest::get(server(fake.x25519()), "/1"))
        .unwrap();
    assert!(matches!(
        wait_for(&mut sim, a, id),
        Event::ServerResponse { .. }
    ));
    let guard = sim.client(a).guard().unwrap();
    sim.net.set_up(guard.as_bytes(), false);
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .server_request(now, ServerRequest::get(server(fake.x25519()), "/2"))
        .unwrap();
    assert!(matches!(
        wait_for(&mut sim, a, id),
        Event::ServerResponse { .. }
    ));
    assert!(sim.client(a).stats().failures >= 1);
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn server_request_limits_and_malformed_requests() {
    let mut client = Client::new(
        keys(1),
        Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None),
        [0; 32],
        1_000,
    );
    let s = server([7; 32]);
    let big = vec![0u8; metaless_client::limits::MAX_SERVER_REQUEST];
    assert!(matches!(
        client.server_request(1_000, ServerRequest::post(s.clone(), "/file", big)),
        Err(ClientError::TooLarge { .. })
    ));
    for bad in [
        ServerRequest::new(s.clone(), "", "/x"),
        ServerRequest::new(s.clone(), "GE T", "/x"),
        ServerRequest::get(s.clone(), "/a b"),
        ServerRequest::get(s.clone(), ""),
        ServerRequest::get(s.clone(), "/x").with_header("Bad Name", "v"),
        ServerRequest::get(s.clone(), "/x").with_header("X-Ok", "line\r\nbreak"),
    ] {
        let err = client.server_request(1_000, bad).unwrap_err();
        assert_eq!(err.kind(), metaless_client::ErrorKind::InvalidRequest);
    }
    assert_eq!(client.pending_ops(), 0);
}

fn messages(event: Event) -> (Vec<RawMessage>, bool) {
    match event {
        Event::Retrieved { messages, more, .. } => (messages, more),
        other => panic!("expected Retrieved, got {other:?}"),
    }
}

#[test]
fn own_namespace_store_retrieve_page_and_delete() {
    let mut sim = sim(6);
    let a = add(&mut sim, 1);
    let me = UserPubkey::new(0x05, keys(1).x25519_public());
    let mut hashes = Vec::new();
    for n in 0..5u8 {
        let now = sim.client_now(a);
        let data = vec![n; 40];
        let id = sim
            .client_mut(a)
            .swarm_store(
                now,
                SwarmAccount::Own,
                Namespace::Contacts,
                data.clone(),
                DAY,
            )
            .unwrap();
        let Event::Delivered {
            hash, stored_on, ..
        } = wait_for(&mut sim, a, id)
        else {
            panic!("not stored")
        };
        // The hash the swarm gives a message (upstream's rule, computed by metaless-swarm).
        assert_eq!(hash, MessageHash::compute(&me, Namespace::Contacts, &data));
        assert!(stored_on >= 1);
        hashes.push(hash);
    }
    // Paged: 2, then the rest after the last hash.
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .swarm_retrieve(now, SwarmAccount::Own, Namespace::Contacts, None, Some(2))
        .unwrap();
    let (page, more) = messages(wait_for(&mut sim, a, id));
    assert!(more);
    assert_eq!(
        page.iter().map(|m| &m.hash).collect::<Vec<_>>(),
        [&hashes[0], &hashes[1]]
    );
    assert_eq!(page[1].data, vec![1u8; 40]);
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .swarm_retrieve(
            now,
            SwarmAccount::Own,
            Namespace::Contacts,
            Some(page[1].hash.clone()),
            None,
        )
        .unwrap();
    let (rest, more) = messages(wait_for(&mut sim, a, id));
    assert!(!more);
    assert_eq!(
        rest.iter().map(|m| &m.hash).collect::<Vec<_>>(),
        hashes[2..].iter().collect::<Vec<_>>()
    );
    // Namespaces are separate: nothing in namespace 2.
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .swarm_retrieve(now, SwarmAccount::Own, Namespace::UserProfile, None, None)
        .unwrap();
    assert!(messages(wait_for(&mut sim, a, id)).0.is_empty());
    // Delete two, and they are gone.
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .swarm_delete(now, SwarmAccount::Own, &hashes[..2])
        .unwrap();
    assert!(matches!(wait_for(&mut sim, a, id), Event::Done { .. }));
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .swarm_retrieve(now, SwarmAccount::Own, Namespace::Contacts, None, None)
        .unwrap();
    let (left, _) = messages(wait_for(&mut sim, a, id));
    assert_eq!(left.len(), 3);
    assert!(left.iter().all(|m| !hashes[..2].contains(&m.hash)));
}

#[test]
fn group_account_with_a_delegated_signer() {
    let mut sim = sim(7);
    let group = keys(0x33);
    let group_pk = UserPubkey::new(0x03, group.ed25519_public());
    let signer = Arc::new(KeySigner::group(keys(0x33)));
    let (admin, member) = (add(&mut sim, 1), add(&mut sim, 2));
    let now = sim.client_now(admin);
    let id = sim
        .client_mut(admin)
        .swarm_store(
            now,
            SwarmAccount::Signed(signer.clone()),
            Namespace::GroupMessages,
            b"group hello".to_vec(),
            DAY,
        )
        .unwrap();
    let Event::Delivered { hash, .. } = wait_for(&mut sim, admin, id) else {
        panic!("not stored")
    };
    assert_eq!(
        hash,
        MessageHash::compute(&group_pk, Namespace::GroupMessages, b"group hello")
    );
    // Another client holding the signer reads it from the group's swarm.
    let now = sim.client_now(member);
    let id = sim
        .client_mut(member)
        .swarm_retrieve(
            now,
            SwarmAccount::Signed(signer.clone()),
            Namespace::GroupMessages,
            None,
            None,
        )
        .unwrap();
    let Event::Retrieved {
        account, messages, ..
    } = wait_for(&mut sim, member, id)
    else {
        panic!()
    };
    assert_eq!(account, group_pk);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].data, b"group hello");
    assert_eq!(messages[0].hash, hash);
    // A signer for another account reads nothing there: it is another swarm account.
    let other = Arc::new(KeySigner::group(keys(0x34)));
    let now = sim.client_now(member);
    let id = sim
        .client_mut(member)
        .swarm_retrieve(
            now,
            SwarmAccount::Signed(other),
            Namespace::GroupMessages,
            None,
            None,
        )
        .unwrap();
    assert!(messages_of(wait_for(&mut sim, member, id)).is_empty());
}

fn messages_of(e: Event) -> Vec<RawMessage> {
    messages(e).0
}

/// A signer that claims the group's address but signs with another key: nodes refuse it.
struct Impostor(Keypair, UserPubkey);

impl metaless_swarm::RequestSigner for Impostor {
    fn pubkey(&self) -> UserPubkey {
        self.1
    }
    fn auth(&self, message: &[u8]) -> metaless_swarm::Auth {
        metaless_swarm::Auth {
            signature: self.0.sign(message),
            pubkey_ed25519: None,
            subaccount: None,
        }
    }
}

#[test]
fn wrongly_signed_requests_are_rejected_not_retried_forever() {
    let mut sim = sim(8);
    let a = add(&mut sim, 1);
    let group_pk = UserPubkey::new(0x03, keys(0x33).ed25519_public());
    let impostor = SwarmAccount::Signed(Arc::new(Impostor(keys(9), group_pk)));
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .swarm_store(
            now,
            impostor.clone(),
            Namespace::GroupMessages,
            b"x".to_vec(),
            DAY,
        )
        .unwrap();
    let Event::Failed { kind, .. } = wait_for(&mut sim, a, id) else {
        panic!()
    };
    assert!(
        matches!(kind, FailureKind::Rejected { status: 401 | 403 }),
        "{kind:?}"
    );
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .swarm_retrieve(now, impostor, Namespace::GroupMessages, None, None)
        .unwrap();
    assert!(matches!(
        wait_for(&mut sim, a, id),
        Event::Failed {
            kind: FailureKind::Rejected { .. },
            ..
        }
    ));
}

#[test]
fn public_deposit_into_someone_elses_inbox() {
    let mut sim = sim(9);
    let (a, b) = (add(&mut sim, 1), add(&mut sim, 2));
    let bob = UserPubkey::new(0x05, keys(2).x25519_public());
    let now = sim.client_now(a);
    let id = sim
        .client_mut(a)
        .swarm_store(
            now,
            SwarmAccount::Public(bob),
            Namespace::Other(30),
            b"raw".to_vec(),
            DAY,
        )
        .unwrap();
    assert!(matches!(wait_for(&mut sim, a, id), Event::Delivered { .. }));
    let now = sim.client_now(b);
    let id = sim
        .client_mut(b)
        .swarm_retrieve(now, SwarmAccount::Own, Namespace::Other(30), None, None)
        .unwrap();
    let got = messages_of(wait_for(&mut sim, b, id));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, b"raw");
}

#[test]
fn refused_before_anything_is_sent() {
    let mut client = Client::new(
        keys(1),
        Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None),
        [0; 32],
        1_700_000_000_000,
    );
    let now = 1_700_000_000_000;
    let theirs = SwarmAccount::Public(UserPubkey::new(0x05, [9; 32]));
    let invalid = |r: Result<OpId, ClientError>| matches!(r, Err(ClientError::InvalidRequest(_)));
    // No unsigned writes to a private namespace, no unsigned reads of one.
    assert!(invalid(client.swarm_store(
        now,
        theirs.clone(),
        Namespace::Contacts,
        vec![1],
        DAY
    )));
    assert!(invalid(client.swarm_retrieve(
        now,
        theirs.clone(),
        Namespace::Default,
        None,
        None
    )));
    assert!(invalid(client.swarm_delete(
        now,
        theirs.clone(),
        &["A".repeat(43).parse().unwrap()]
    )));
    assert!(client.subscribe(now, theirs, Namespace::Contacts).is_err());
    // Too many hashes for one delete.
    let many: Vec<MessageHash> = (0..1001u32)
        .map(|i| {
            MessageHash::compute(
                &UserPubkey::new(5, [1; 32]),
                Namespace::Default,
                &i.to_le_bytes(),
            )
        })
        .collect();
    assert!(invalid(client.swarm_delete(now, SwarmAccount::Own, &many)));
    // Oversize data.
    let big = vec![0u8; metaless_swarm::limits::MAX_MESSAGE_BODY + 1];
    assert!(matches!(
        client.swarm_store(now, SwarmAccount::Own, Namespace::Contacts, big, DAY),
        Err(ClientError::TooLarge { .. })
    ));
    assert_eq!(client.pending_ops(), 0);
}

fn swarm_messages(events: &[Event]) -> Vec<(metaless_client::SubscriptionId, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SwarmMessages { sub, messages, .. } => Some((*sub, messages.clone())),
            _ => None,
        })
        .flat_map(|(sub, ms)| ms.into_iter().map(move |m| (sub, m.data)))
        .collect()
}

#[test]
fn subscriptions_deliver_each_message_once() {
    let mut sim = sim(10);
    let signer = Arc::new(KeySigner::group(keys(0x33)));
    let (writer, reader) = (add(&mut sim, 1), add(&mut sim, 2));
    let now = sim.client_now(reader);
    let group_sub = sim
        .client_mut(reader)
        .subscribe(
            now,
            SwarmAccount::Signed(signer.clone()),
            Namespace::GroupMessages,
        )
        .unwrap();
    let own_sub = sim
        .client_mut(reader)
        .subscribe(now, SwarmAccount::Own, Namespace::Contacts)
        .unwrap();
    sim.run_until(30_000, |s| s.client(reader).pending_ops() == 0);
    assert!(swarm_messages(sim.events(reader)).is_empty());
    for text in [&b"one"[..], b"two"] {
        let now = sim.client_now(writer);
        let id = sim
            .client_mut(writer)
            .swarm_store(
                now,
                SwarmAccount::Signed(signer.clone()),
                Namespace::GroupMessages,
                text.to_vec(),
                DAY,
            )
            .unwrap();
        assert!(matches!(
            wait_for(&mut sim, writer, id),
            Event::Delivered { .. }
        ));
    }
    let now = sim.client_now(reader);
    let id = sim
        .client_mut(reader)
        .swarm_store(
            now,
            SwarmAccount::Own,
            Namespace::Contacts,
            b"mine".to_vec(),
            DAY,
        )
        .unwrap();
    wait_for(&mut sim, reader, id);
    // Polled three times: each message reported once, under its subscription.
    for _ in 0..3 {
        let now = sim.client_now(reader);
        sim.client_mut(reader).poll_now(now);
        sim.run_until(30_000, |s| s.client(reader).pending_ops() == 0);
    }
    let got = swarm_messages(sim.events(reader));
    assert_eq!(
        got,
        [
            (group_sub, b"one".to_vec()),
            (group_sub, b"two".to_vec()),
            (own_sub, b"mine".to_vec())
        ]
    );
    let last = sim
        .events(reader)
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::SwarmMessages { sub, last_hash, .. } if *sub == group_sub => {
                Some(last_hash.clone())
            }
            _ => None,
        })
        .unwrap();
    // A new client resuming after the last hash sees nothing old.
    let later = add(&mut sim, 3);
    let now = sim.client_now(later);
    sim.client_mut(later)
        .subscribe_from(
            now,
            SwarmAccount::Signed(signer),
            Namespace::GroupMessages,
            Some(last),
        )
        .unwrap();
    sim.run_until(30_000, |s| s.client(later).pending_ops() == 0);
    assert!(swarm_messages(sim.events(later)).is_empty());
    // Unsubscribed: no more polls.
    assert!(sim.client_mut(reader).unsubscribe(group_sub));
    assert_eq!(sim.client(reader).subscriptions(), 1);
}

#[test]
fn subscriptions_poll_on_the_interval() {
    let mut sim = sim(11);
    let reader = sim.add(|nodes, now| {
        Client::new(
            keys(2),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(5_000)),
            [2; 32],
            now,
        )
    });
    let writer = add(&mut sim, 2);
    let now = sim.client_now(reader);
    sim.client_mut(reader)
        .subscribe(now, SwarmAccount::Own, Namespace::UserProfile)
        .unwrap();
    // The same account writes from another client; the reader finds it on its own.
    let now = sim.client_now(writer);
    let id = sim
        .client_mut(writer)
        .swarm_store(
            now,
            SwarmAccount::Own,
            Namespace::UserProfile,
            b"profile v1".to_vec(),
            DAY,
        )
        .unwrap();
    wait_for(&mut sim, writer, id);
    assert!(sim.run_until(60_000, |s| !swarm_messages(s.events(reader)).is_empty()));
    assert_eq!(swarm_messages(sim.events(reader))[0].1, b"profile v1");
}

fn revoke_of(
    group: Keypair,
    tokens: Vec<[u8; 36]>,
    unrevoke: bool,
    signed_at: Arc<std::sync::Mutex<Vec<u64>>>,
) -> impl Fn(u64) -> Option<metaless_swarm::Request> + Send + Sync + 'static {
    use metaless_swarm::{Request, Signer, SubaccountRevocation};
    move |at| {
        signed_at.lock().unwrap().push(at);
        let signer = Signer::group(&group);
        if unrevoke {
            SubaccountRevocation::signed_unrevoke(&signer, tokens.clone(), at)
                .ok()
                .map(Request::UnrevokeSubaccount)
        } else {
            SubaccountRevocation::signed(&signer, tokens.clone(), at)
                .ok()
                .map(Request::RevokeSubaccount)
        }
    }
}

#[test]
fn app_signed_revocations_are_confirmed_refused_and_re_signed_on_retry() {
    let mut sim = sim(11);
    let a = sim.add(|nodes, now| {
        Client::new(
            keys(1),
            Config::testnet(Bootstrap::Nodes(nodes))
                .with_poll_interval_ms(None)
                .with_max_attempts(30),
            [0x76; 32],
            now,
        )
    });
    let signed_at = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tokens = vec![[3u8; 36], [4u8; 36]];
    // Revoke, then unrevoke: both confirmed by the members' signed entries.
    for unrevoke in [false, true] {
        let build = revoke_of(keys(0x33), tokens.clone(), unrevoke, signed_at.clone());
        let now = sim.client_now(a);
        let id = sim.client_mut(a).swarm_request(now, build).unwrap();
        assert!(
            matches!(wait_for(&mut sim, a, id), Event::Done { .. }),
            "unrevoke: {unrevoke}"
        );
    }
    assert_eq!(sim.client(a).stats().bad_signatures, 0);
    // Signed by a key that is not the group's: the node refuses it for good.
    let group_pk = UserPubkey::new(0x03, keys(0x33).ed25519_public());
    let impostor = Impostor(keys(9), group_pk);
    let forged = move |at| {
        let signer = metaless_swarm::Signer::delegated(&impostor);
        metaless_swarm::SubaccountRevocation::signed(&signer, vec![[3u8; 36]], at)
            .ok()
            .map(metaless_swarm::Request::RevokeSubaccount)
    };
    let now = sim.client_now(a);
    let id = sim.client_mut(a).swarm_request(now, forged).unwrap();
    let Event::Failed { kind, .. } = wait_for(&mut sim, a, id) else {
        panic!("a forged revoke was accepted")
    };
    assert!(
        matches!(kind, FailureKind::Rejected { status: 401 | 403 }),
        "{kind:?}"
    );

    // With the network down for two minutes the attempts time out; when it is back the
    // request is signed again with the time then (a signature from the first attempt would be
    // stale by now), and is confirmed.
    signed_at.lock().unwrap().clear();
    sim.net.set_faults(metaless_testnet::loopback::Faults {
        drop: 1.0,
        ..Default::default()
    });
    let build = revoke_of(keys(0x33), tokens.clone(), false, signed_at.clone());
    let now = sim.client_now(a);
    let id = sim.client_mut(a).swarm_request(now, build).unwrap();
    sim.run_until(120_000, |_| false);
    sim.net.set_faults(Default::default());
    assert!(matches!(wait_for(&mut sim, a, id), Event::Done { .. }));
    let at = signed_at.lock().unwrap().clone();
    let (first, last) = (at[0], *at.last().unwrap());
    assert!(at.len() >= 3, "attempts: {at:?}");
    assert!(last >= first + 120_000, "not re-signed: {at:?}");
}

#[test]
fn swarm_request_refuses_what_it_cannot_verify() {
    let mut sim = sim(12);
    let a = add(&mut sim, 1);
    let now = sim.client_now(a);
    let c = sim.client_mut(a);
    let before = c.pending_ops();
    assert!(matches!(
        c.swarm_request(now, |_| None),
        Err(ClientError::InvalidRequest(_))
    ));
    assert!(matches!(
        c.swarm_request(now, |_| Some(metaless_swarm::Request::Info)),
        Err(ClientError::InvalidRequest(_))
    ));
    assert_eq!(c.pending_ops(), before, "nothing was queued");
}
