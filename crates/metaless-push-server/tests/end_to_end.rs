//! Push end to end over the loopback testnet: Bob subscribes, Alice's message is stored in Bob's
//! swarm, the mock server (watching the swarm as SPNS does) pushes it, Bob's device opens the
//! push and the message inside it; after unsubscribing nothing more arrives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use metaless_client::{Bootstrap, Client, Config, Event};
use metaless_envelope::push::{
    PushError, PushKey, PushNotification, PushReply, PushService, Subscribe, Unsubscribe,
};
use metaless_envelope::{Content, open_message};
use metaless_identity::{Keypair, Seed};
use metaless_push_server::{Delivery, MockPushServer};
use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
use rand_chacha::rand_core::SeedableRng;

fn keys(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

/// Feeds the server every message of `account` (ns 0) any node holds that it has not seen.
fn watch_swarm(
    net: &LoopbackNet,
    server: &mut MockPushServer<rand_chacha::ChaCha20Rng>,
    account: &metaless_identity::SessionId,
    seen: &mut BTreeSet<String>,
) {
    for node in net.nodes() {
        let core = net.node(&node.pubkey_ed25519).unwrap();
        let (messages, _) = core
            .storage()
            .retrieve(
                &account.to_bytes(),
                0,
                None,
                None,
                None,
                net.now_ms() as i64,
            )
            .unwrap();
        for m in messages {
            if seen.insert(m.hash.clone()) {
                server.message_stored(account, 0, &m.hash, &m.data);
            }
        }
    }
}

#[test]
fn subscribe_receive_push_open_unsubscribe() {
    let mut sim = Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 6,
            swarms: 2,
            ..Default::default()
        })
        .unwrap(),
    );
    let new = |b: u8| {
        move |nodes, now| {
            Client::new(
                keys(b),
                Config::testnet(Bootstrap::Nodes(nodes)),
                [b; 32],
                now,
            )
        }
    };
    let a = sim.add(new(1));
    let b = sim.add(new(2));
    let bob = keys(2);

    let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let sink = deliveries.clone();
    let mut server = MockPushServer::new(
        move |d| sink.lock().unwrap().push(d),
        rand_chacha::ChaCha20Rng::seed_from_u64(1),
    );
    let service = PushService::new("firebase", r#"{"token":"bob-phone"}"#).unwrap();
    let key = PushKey::from_bytes([0x42; 32]);

    // Bob subscribes (ns 0, with data).
    let now = sim.net.now_ms();
    let sub =
        Subscribe::for_user(&bob, &[0], true, now / 1000, service.clone(), key.clone()).unwrap();
    let (status, reply) = server.handle("/subscribe", sub.to_json().as_bytes(), now);
    assert_eq!(
        (status, PushReply::from_json(&reply).unwrap()),
        (200, PushReply::Added)
    );
    // Same device again: updated, not duplicated.
    let (_, reply) = server.handle("/subscribe", sub.to_json().as_bytes(), now);
    assert_eq!(PushReply::from_json(&reply).unwrap(), PushReply::Updated);
    assert_eq!(server.subscriptions().len(), 1);
    // A forged subscription (Alice signing for Bob's account) is refused.
    let mut forged: serde_like::Value = serde_like::parse(&sub.to_json());
    forged.set(
        "signature",
        &metaless_identity::hex::encode(&keys(1).sign(b"x")),
    );
    let (status, reply) = server.handle("/subscribe", forged.text.as_bytes(), now);
    assert_eq!(status, 400);
    assert!(matches!(
        PushReply::from_json(&reply),
        Err(PushError::Server { code: 1, .. })
    ));

    // Alice sends; the message lands in Bob's swarm.
    let to = bob.session_id();
    let t = sim.client_now(a);
    sim.client_mut(a)
        .send(t, &to, &Content::text("ping"))
        .unwrap();
    assert!(sim.run_until(30_000, |s| {
        s.events(b).iter().any(|e| matches!(e, Event::Received(_)))
    }));

    let mut seen = BTreeSet::new();
    watch_swarm(&sim.net, &mut server, &to, &mut seen);
    let pushes = std::mem::take(&mut *deliveries.lock().unwrap());
    assert_eq!(pushes.len(), 1, "one message, one push");
    assert_eq!(pushes[0].service, service);
    let note = PushNotification::open(&key, &pushes[0].payload).unwrap();
    assert_eq!(note.account, to);
    assert_eq!(note.namespace, 0);
    let data = note.data.unwrap();
    assert_eq!(note.data_len, Some(data.len() as u64));
    let opened = open_message(&bob, &data).unwrap();
    assert_eq!(opened.content, Content::text("ping"));
    assert_eq!(opened.sender, keys(1).session_id());
    // The wrong device key opens nothing.
    assert!(PushNotification::open(&PushKey::from_bytes([0; 32]), &pushes[0].payload).is_err());

    // Unsubscribe; the next message is not pushed.
    let now = sim.net.now_ms();
    let unsub = Unsubscribe::for_user(&bob, now / 1000, service.clone());
    let (_, reply) = server.handle("/unsubscribe", unsub.to_json().as_bytes(), now);
    assert_eq!(
        PushReply::from_json(&reply).unwrap(),
        PushReply::Removed(true)
    );
    let (_, reply) = server.handle("/unsubscribe", unsub.to_json().as_bytes(), now);
    assert_eq!(
        PushReply::from_json(&reply).unwrap(),
        PushReply::Removed(false)
    );
    let t = sim.client_now(a);
    sim.client_mut(a)
        .send(t, &to, &Content::text("pong"))
        .unwrap();
    sim.run_until(30_000, |s| {
        s.events(b)
            .iter()
            .filter(|e| matches!(e, Event::Received(_)))
            .count()
            >= 2
    });
    watch_swarm(&sim.net, &mut server, &to, &mut seen);
    assert!(deliveries.lock().unwrap().is_empty());
    assert!(seen.len() >= 2, "the second message was stored");
}

/// Just enough JSON editing for the forgery case, without a serde dependency.
mod serde_like {
    pub struct Value {
        pub text: String,
    }
    pub fn parse(text: &str) -> Value {
        Value { text: text.into() }
    }
    impl Value {
        pub fn set(&mut self, field: &str, value: &str) {
            let start = self.text.find(&format!("\"{field}\":\"")).unwrap() + field.len() + 4;
            let end = start + self.text[start..].find('"').unwrap();
            self.text.replace_range(start..end, value);
        }
    }
}
