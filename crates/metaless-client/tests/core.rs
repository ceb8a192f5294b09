//! The core's decisions, one scripted reply at a time: a fake network peels the onion with the
//! nodes' keys and answers exactly what the test says (421, hop errors, clock skew, silence).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use metaless_client::{Bootstrap, Client, Config, Event, HttpResponse, Transmit, TransportError};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use metaless_onion::{HopError, NodeKey, Peeled, peel};
use metaless_swarm::{MessageHash, ServiceNode, SwarmResponse, UserPubkey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};

const T0: u64 = 1_700_000_000_000;

struct FakeNet {
    keys: BTreeMap<[u8; 32], Keypair>,
    nodes: Vec<ServiceNode>,
    rng: ChaCha20Rng,
}

/// What reached the destination.
struct Arrived {
    dest: [u8; 32],
    path: Vec<[u8; 32]>,
    request: Value,
    reply: metaless_onion::ReplyContext,
}

impl FakeNet {
    fn new(n: u8, swarms: u64) -> Self {
        let mut keys = BTreeMap::new();
        let mut nodes = Vec::new();
        for i in 1..=n {
            let k = Keypair::from_seed(&Seed::from_bytes([i; 32]));
            let swarm = (u64::from(i) % swarms) * (u64::MAX / swarms);
            nodes.push(
                ServiceNode::new(
                    k.ed25519_public(),
                    [127, 0, 0, 1],
                    4000 + u16::from(i),
                    swarm,
                )
                .unwrap(),
            );
            keys.insert(k.ed25519_public(), k);
        }
        Self {
            keys,
            nodes,
            rng: ChaCha20Rng::seed_from_u64(9),
        }
    }

    fn client(&self, seed: u8) -> Client {
        self.client_with(seed, 1)
    }

    /// A client that needs `min_replicas` members per store (the fake replies of
    /// [`FakeNet::stored`] speak for one member, hence 1 in [`FakeNet::client`]).
    fn client_with(&self, seed: u8, min_replicas: usize) -> Client {
        let config = Config::testnet(Bootstrap::Nodes(self.nodes.clone()))
            .with_poll_interval_ms(None)
            .with_min_replicas(min_replicas);
        Client::new(
            Keypair::from_seed(&Seed::from_bytes([seed; 32])),
            config,
            [seed; 32],
            T0,
        )
    }

    /// Peels every layer of `t` as the nodes would.
    fn route(&self, t: &Transmit) -> Arrived {
        let mut at = t.to_node.node.unwrap().to_bytes();
        let mut body = t.body.clone();
        let mut path = Vec::new();
        loop {
            let key = NodeKey::from_keypair(&self.keys[&at]);
            match peel(&key, &body).unwrap() {
                Peeled::Forward {
                    next_ed25519,
                    body: next,
                    ..
                } => {
                    path.push(at);
                    at = next_ed25519;
                    body = next;
                }
                Peeled::Deliver(d) => {
                    let request = serde_json::from_slice(d.payload()).unwrap();
                    let (_, reply) = d.into_parts();
                    return Arrived {
                        dest: at,
                        path,
                        request,
                        reply,
                    };
                }
                _ => panic!("unexpected layer"),
            }
        }
    }

    fn answer(
        &mut self,
        a: &Arrived,
        status: u16,
        body: &Value,
    ) -> Result<HttpResponse, TransportError> {
        let sealed = a
            .reply
            .encrypt_snode_reply(status, &body.to_string(), &mut self.rng)
            .unwrap();
        Ok(HttpResponse {
            status: 200,
            body: metaless_swarm::b64::encode(&sealed).into_bytes(),
        })
    }

    /// A `store` reply as a swarm member writes it: the hash at the top and the member's
    /// signed entry under `swarm.<its key>`; `signer` signs it (the destination, or an impostor).
    fn stored(&self, a: &Arrived, signer: [u8; 32]) -> Value {
        let params = &a.request["params"];
        let account =
            UserPubkey::from_param(params["pubkey"].as_str().unwrap().as_bytes()).unwrap();
        let data =
            metaless_swarm::b64::decode(params["data"].as_str().unwrap().as_bytes()).unwrap();
        let hash = MessageHash::compute(&account, metaless_swarm::Namespace::Default, &data);
        let entry = metaless_swarm::server::store_entry(&self.keys[&signer], &hash, T0 + 1, false);
        json!({"hash": hash.to_string(), "t": T0, "swarm": {metaless_identity::hex::encode(&a.dest): entry}})
    }

    fn swarm_of(&self, account: &UserPubkey) -> (u64, Vec<ServiceNode>) {
        let list = metaless_swarm::NodeList {
            nodes: self.nodes.clone(),
            skipped: 0,
        };
        let (id, members) = list.swarm_for(account).unwrap();
        (id, members.into_iter().cloned().collect())
    }
}

fn events(c: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn follows_421_only_for_the_account_the_request_was_for() {
    let mut net = FakeNet::new(12, 4);
    let mut alice = net.client(1);
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    let bob_pk = UserPubkey::new(5, *bob.key());
    let alice_pk = UserPubkey::new(5, *alice.session_id().key());
    alice.send(T0, &bob, &Content::text("hi")).unwrap();
    let t = alice.poll_transmit().unwrap();
    let arrived = net.route(&t);
    assert_eq!(arrived.request["method"], "store");
    // The node says Bob lives in another swarm, and the body claims to be about Alice: ignored.
    let (bob_swarm, _) = net.swarm_of(&bob_pk);
    let other: Vec<ServiceNode> = net
        .nodes
        .iter()
        .filter(|n| n.swarm_id != bob_swarm)
        .take(2)
        .cloned()
        .collect();
    let moved_to = other[0].swarm_id;
    let mut body = SwarmResponse::to_json(moved_to, &other, T0, [19, 3]);
    body["pubkey"] = json!(alice_pk.to_hex());
    let reply = net.answer(&arrived, 421, &body);
    alice.handle_response(T0 + 5, t.id, reply);
    let ev = events(&mut alice);
    assert!(ev.contains(&Event::SwarmChanged {
        account: bob_pk,
        swarm_id: moved_to
    }));
    assert!(
        !ev.iter()
            .any(|e| matches!(e, Event::SwarmChanged { account, .. } if *account == alice_pk))
    );
    // The retry goes to the new swarm at once.
    let retry = alice.poll_transmit().unwrap();
    let again = net.route(&retry);
    assert!(other.iter().any(|n| n.ed25519 == again.dest));
    assert!(
        again
            .path
            .iter()
            .all(|h| other.iter().all(|n| n.ed25519 != *h)),
        "path avoids the new swarm"
    );
    let ok = net.answer(&again, 200, &net.stored(&again, again.dest));
    alice.handle_response(T0 + 10, retry.id, ok);
    assert!(
        events(&mut alice)
            .iter()
            .any(|e| matches!(e, Event::Delivered { .. }))
    );
}

#[test]
fn dead_destination_named_by_a_hop_is_avoided() {
    let net = FakeNet::new(12, 3);
    let mut alice = net.client(1);
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    alice.send(T0, &bob, &Content::text("hi")).unwrap();
    let t = alice.poll_transmit().unwrap();
    let first = net.route(&t);
    // The hop's text as metaless-onion writes it (`502 Next node not found: <key hex>`).
    let hop = HopError::NextNodeNotFound(first.dest);
    alice.handle_response(
        T0 + 5,
        t.id,
        Ok(HttpResponse {
            status: hop.status(),
            body: hop.body().into_bytes(),
        }),
    );
    // The retry waits for its back-off, then goes to another member through a path that is kept.
    assert!(alice.poll_transmit().is_none());
    let when = alice.poll_timeout().unwrap();
    alice.handle_timeout(when);
    let retry = alice.poll_transmit().unwrap();
    let second = net.route(&retry);
    assert_ne!(second.dest, first.dest);
    assert_eq!(second.path[0], first.path[0], "same guard");
}

#[test]
fn unanswered_request_times_out_and_is_retried_late_answers_ignored() {
    let mut net = FakeNet::new(8, 2);
    let mut alice = net.client(1);
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    let id = alice.send(T0, &bob, &Content::text("hi")).unwrap();
    let t = alice.poll_transmit().unwrap();
    assert_eq!(alice.poll_timeout(), Some(t.deadline_ms));
    alice.handle_timeout(t.deadline_ms);
    // The late answer to the timed-out request changes nothing.
    let late = net.route(&t);
    let reply = net.answer(&late, 200, &json!({"hash": "x"}));
    alice.handle_response(t.deadline_ms + 1, t.id, reply);
    assert!(
        !events(&mut alice)
            .iter()
            .any(|e| matches!(e, Event::Delivered { .. }))
    );
    assert_eq!(alice.pending_sends(), 1);
    let when = alice.poll_timeout().unwrap();
    alice.handle_timeout(when);
    let retry = alice.poll_transmit().unwrap();
    assert_ne!(retry.id, t.id);
    let arrived = net.route(&retry);
    let body = net.stored(&arrived, arrived.dest);
    let signed = body["hash"].as_str().unwrap().to_owned();
    let reply = net.answer(&arrived, 200, &body);
    alice.handle_response(when + 3, retry.id, reply);
    let ev = events(&mut alice);
    assert!(ev.iter().any(|e| matches!(e,
        Event::Delivered { id: d, hash, stored_on: 1, .. } if *d == id && *hash == signed.as_str())));
}

#[test]
fn store_replies_without_a_valid_member_signature_are_node_faults() {
    let mut net = FakeNet::new(12, 3);
    let mut alice = net.client(1);
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    let id = alice.send(T0, &bob, &Content::text("hi")).unwrap();
    let mut now = T0;
    let mut tried = Vec::new();
    // 1: no signature at all; 2: signed by another node's key (not the destination's);
    // 3: the destination's signature over the wrong hash.
    for case in 0..3 {
        let t = alice.poll_transmit().expect("a retry");
        let a = net.route(&t);
        tried.push(a.dest);
        let body = match case {
            0 => json!({"hash": "h".repeat(43), "t": T0}),
            1 => {
                let other = *net.keys.keys().find(|k| **k != a.dest).unwrap();
                net.stored(&a, other)
            }
            _ => {
                let wrong = MessageHash::compute(
                    &UserPubkey::new(5, [7; 32]),
                    metaless_swarm::Namespace::Default,
                    b"x",
                );
                let entry =
                    metaless_swarm::server::store_entry(&net.keys[&a.dest], &wrong, T0 + 1, false);
                json!({"swarm": {metaless_identity::hex::encode(&a.dest): entry}})
            }
        };
        let reply = net.answer(&a, 200, &body);
        alice.handle_response(now + 1, t.id, reply);
        assert!(
            !events(&mut alice)
                .iter()
                .any(|e| matches!(e, Event::Delivered { .. })),
            "case {case} accepted"
        );
        assert_eq!(alice.stats().bad_signatures, case + 1);
        now = alice.poll_timeout().unwrap();
        alice.handle_timeout(now);
    }
    assert_eq!(alice.pending_sends(), 1, "still pending, retried");
    // The good answer, with an extra entry from a node outside the swarm: not counted.
    let t = alice.poll_transmit().unwrap();
    let a = net.route(&t);
    let mut body = net.stored(&a, a.dest);
    let (_, members) = net.swarm_of(&UserPubkey::new(5, *bob.key()));
    let outsider = *net
        .keys
        .keys()
        .find(|k| members.iter().all(|m| m.ed25519 != **k))
        .unwrap();
    let hash = MessageHash::parse(body["hash"].as_str().unwrap()).unwrap();
    body["swarm"][metaless_identity::hex::encode(&outsider)] =
        metaless_swarm::server::store_entry(&net.keys[&outsider], &hash, T0 + 1, false);
    let reply = net.answer(&a, 200, &body);
    alice.handle_response(now + 1, t.id, reply);
    assert!(
        events(&mut alice)
            .iter()
            .any(|e| matches!(e, Event::Delivered { id: d, stored_on: 1, .. } if *d == id))
    );
}

#[test]
fn a_store_on_fewer_than_min_replicas_members_is_retried_not_delivered() {
    let mut net = FakeNet::new(8, 2);
    let mut alice = net.client_with(1, 2);
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    let id = alice.send(T0, &bob, &Content::text("hi")).unwrap();
    // One member (the destination) stored it: not enough.
    let t = alice.poll_transmit().unwrap();
    let a = net.route(&t);
    let first = a.dest;
    let body = net.stored(&a, a.dest);
    alice.handle_response(T0 + 1, t.id, net.answer(&a, 200, &body));
    assert!(
        !events(&mut alice)
            .iter()
            .any(|e| matches!(e, Event::Delivered { .. })),
        "delivered on one member"
    );
    assert_eq!(alice.pending_sends(), 1);
    assert_eq!(alice.stats().bad_signatures, 0, "not a node fault");
    // Retried, on another member first; two members' signed entries: delivered.
    let now = alice.poll_timeout().unwrap();
    alice.handle_timeout(now);
    let t = alice.poll_transmit().expect("a retry");
    let a = net.route(&t);
    assert_ne!(a.dest, first, "another member is tried");
    let mut body = net.stored(&a, a.dest);
    let hash = MessageHash::parse(body["hash"].as_str().unwrap()).unwrap();
    body["swarm"][metaless_identity::hex::encode(&first)] =
        metaless_swarm::server::store_entry(&net.keys[&first], &hash, T0 + 1, false);
    alice.handle_response(now + 1, t.id, net.answer(&a, 200, &body));
    assert!(
        events(&mut alice)
            .iter()
            .any(|e| matches!(e, Event::Delivered { id: d, stored_on: 2, .. } if *d == id))
    );
}

#[test]
fn clock_offset_comes_from_node_replies_and_406_triggers_a_sync() {
    let mut net = FakeNet::new(8, 2);
    let mut alice = net.client(1);
    alice.poll_now(T0);
    let t = alice.poll_transmit().unwrap();
    let first = net.route(&t);
    assert_eq!(first.request["method"], "retrieve");
    alice.handle_response(
        T0 + 20,
        t.id,
        net.answer(
            &first,
            406,
            &json!("retrieve timestamp too far from current time"),
        ),
    );
    // A clock sync (info) to the same node, then the retrieve again with the corrected time.
    let sync = alice.poll_transmit().unwrap();
    let info = net.route(&sync);
    assert_eq!(info.request["method"], "info");
    assert_eq!(info.dest, first.dest);
    let network = T0 + 120_000;
    alice.handle_response(
        T0 + 40,
        sync.id,
        net.answer(&info, 200, &json!({"timestamp": network, "t": network})),
    );
    assert!((alice.clock_offset_ms() - 120_000).abs() <= 40);
    let again = alice.poll_transmit().unwrap();
    let retried = net.route(&again);
    assert_eq!(retried.request["method"], "retrieve");
    let ts = retried.request["params"]["timestamp"].as_u64().unwrap();
    assert!(ts.abs_diff(network) < 1_000, "signed with network time");
}

#[test]
fn path_hops_are_distinct_and_outside_the_destination_swarm() {
    let net = FakeNet::new(16, 4);
    let mut alice = net.client(1);
    for i in 0..20u8 {
        let to = Keypair::from_seed(&Seed::from_bytes([100 + i; 32])).session_id();
        alice.send(T0, &to, &Content::text("x")).unwrap();
        let t = alice.poll_transmit().unwrap();
        let a = net.route(&t);
        let (swarm, members) = net.swarm_of(&UserPubkey::new(5, *to.key()));
        assert_eq!(a.path.len(), 3);
        assert_eq!(
            a.path
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            3
        );
        assert!(members.iter().any(|m| m.ed25519 == a.dest));
        for h in &a.path {
            assert_ne!(
                net.nodes.iter().find(|n| n.ed25519 == *h).unwrap().swarm_id,
                swarm
            );
        }
    }
}

#[test]
fn no_node_source_waits_instead_of_spinning() {
    let config = Config::testnet(Bootstrap::Seeds(vec![]));
    let mut c = Client::new(
        Keypair::from_seed(&Seed::from_bytes([1; 32])),
        config,
        [1; 32],
        T0,
    );
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    c.send(T0, &bob, &Content::text("waits")).unwrap();
    let (mut now, mut wakeups, mut no_nodes) = (T0, 0, 0);
    while now < T0 + 60_000 {
        no_nodes += events(&mut c)
            .iter()
            .filter(|e| **e == Event::NoNodes)
            .count();
        let t = c.poll_timeout().unwrap();
        assert!(t > now, "the next wake-up is in the future");
        now = t;
        c.handle_timeout(now);
        wakeups += 1;
    }
    assert!(wakeups <= 30, "{wakeups} wake-ups in a minute");
    assert!((1..=7).contains(&no_nodes), "{no_nodes} NoNodes events");
    assert_eq!(c.pending_sends(), 1, "the message is kept");
}
