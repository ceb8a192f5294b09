//! Push registration end to end over real sockets: metaless nodes served over HTTP, the mock
//! push server behind `server::spawn`, clients on the HTTP transport. Bob subscribes through an
//! onion request, Alice's message is stored in Bob's swarm, the server's swarm watcher sees it
//! and pushes it to the hook, Bob opens the push and the message inside; after unsubscribing
//! (also through an onion request) nothing more is pushed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::sync::{Arc, Mutex};
use std::time::Duration;

use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{
    Bootstrap, Client, Config, Driver, Event, OpId, PushOpenError, ServerResponse, push_reply,
    push_server,
};
use metaless_envelope::Content;
use metaless_envelope::push::{PushKey, PushReply, PushService};
use metaless_identity::{Keypair, Seed};
use metaless_node::{NetworkMap, Node, NodeConfig, storage::MemoryStorage};
use metaless_node_server::config::TestnetConfig;
use metaless_push_server::Delivery;
use metaless_push_server::server::{self, StoredMessage};
use rand_chacha::rand_core::SeedableRng;

type Peer = Driver<HttpTransport, TokioClock>;
type Nodes = Vec<Arc<Mutex<Node>>>;

/// Six nodes in two swarms on loopback (in-memory storage, so the watcher can read it).
async fn nodes() -> (
    Vec<metaless_node_server::server::ServerHandle>,
    Vec<metaless_swarm::ServiceNode>,
) {
    let cfg = TestnetConfig::generate(6, 2, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(7));
    let mut listeners = Vec::new();
    for _ in &cfg.nodes {
        listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let infos = cfg.infos(&ports).unwrap();
    let network = NetworkMap::new(infos.clone());
    let mut handles = Vec::new();
    for ((entry, info), listener) in cfg.nodes.iter().zip(&infos).zip(listeners) {
        let node = Node::new(NodeConfig {
            keypair: entry.keypair().unwrap(),
            info: info.clone(),
            network: network.clone(),
            storage: Box::new(MemoryStorage::default()),
            rng_seed: [info.port as u8; 32],
            observe: false,
        });
        handles.push(metaless_node_server::server::spawn(listener, node).unwrap());
    }
    (handles, infos.iter().map(|i| i.service_node()).collect())
}

fn peer(seed: u8, nodes: &[metaless_swarm::ServiceNode]) -> Peer {
    let config = Config::testnet(Bootstrap::Nodes(nodes.to_vec())).with_poll_interval_ms(Some(200));
    let keys = Keypair::from_seed(&Seed::from_bytes([seed; 32]));
    Driver::new(
        Client::new(keys, config, [seed; 32], wall_clock_ms()),
        HttpTransport::default(),
        TokioClock,
    )
}

/// What SPNS learns from the swarm: every watched account's messages on any node.
fn source(
    nodes: Nodes,
) -> impl FnMut(&[(metaless_identity::SessionId, Vec<i16>)]) -> Vec<StoredMessage> {
    move |watched| {
        let mut out = Vec::new();
        for node in &nodes {
            let node = node.lock().unwrap();
            for (account, namespaces) in watched {
                for &ns in namespaces {
                    let (messages, _) = node
                        .storage()
                        .retrieve(
                            &account.to_bytes(),
                            ns,
                            None,
                            None,
                            None,
                            wall_clock_ms() as i64,
                        )
                        .unwrap();
                    out.extend(messages.into_iter().map(|m| StoredMessage {
                        account: *account,
                        namespace: ns,
                        hash: m.hash,
                        data: m.data,
                    }));
                }
            }
        }
        out
    }
}

async fn answer(peer: &mut Peer, id: OpId) -> ServerResponse {
    match peer
        .wait_for(20_000, |e| {
            matches!(e, Event::ServerResponse { id: d, .. } | Event::Failed { id: d, .. } if *d == id)
        })
        .await
    {
        Some(Event::ServerResponse { response, .. }) => response,
        other => panic!("no answer from the push server: {other:?}"),
    }
}

async fn wait_deliveries(sink: &Arc<Mutex<Vec<Delivery>>>, n: usize) -> Vec<Delivery> {
    for _ in 0..100 {
        if sink.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::mem::take(&mut *sink.lock().unwrap())
}

#[tokio::test(flavor = "current_thread")]
async fn subscribe_push_open_unsubscribe_over_sockets() {
    let (node_handles, service_nodes) = nodes().await;
    let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let sink = deliveries.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let push_keys = Keypair::from_seed(&Seed::from_bytes([0x50; 32]));
    let push = server::spawn(listener, push_keys, move |d| sink.lock().unwrap().push(d)).unwrap();
    let cores: Nodes = node_handles.iter().map(|h| Arc::clone(h.node())).collect();
    push.watch(Duration::from_millis(100), source(cores));
    // What a testnet's bootstrap.json gives the client: the URL and the Ed25519 key.
    let dest = push_server(&push.url(), &push.ed25519()).unwrap();
    assert_eq!(dest, push.destination().unwrap());

    let mut alice = peer(1, &service_nodes);
    let mut bob = peer(2, &service_nodes);
    let idb = bob.client().session_id();
    let service = PushService::new("firebase", r#"{"token":"bob-phone"}"#).unwrap();
    let key = PushKey::from_bytes([0x42; 32]);

    // Subscribe through an onion path: added, then the same device again: updated.
    for expected in [PushReply::Added, PushReply::Updated] {
        let now = bob.now();
        let id = bob
            .client()
            .push_subscribe(now, &dest, &[0], true, service.clone(), key.clone())
            .unwrap();
        let response = answer(&mut bob, id).await;
        assert_eq!(push_reply(&response), Ok(expected));
    }
    assert_eq!(push.subscriptions(), 1);

    // Alice's message lands in Bob's swarm; the watcher pushes it; Bob opens push and message.
    alice
        .send_confirmed(&idb, &Content::text("ping"), 20_000)
        .await
        .unwrap();
    let pushes = wait_deliveries(&deliveries, 1).await;
    assert_eq!(pushes.len(), 1, "one message, one push");
    assert_eq!(pushes[0].service, service);
    let opened = bob.client().open_push(&key, &pushes[0].payload).unwrap();
    assert_eq!(opened.notification.account, idb);
    let message = opened.message.unwrap();
    assert_eq!(message.content, Content::text("ping"));
    assert_eq!(message.sender, alice.client().session_id());
    // Another device's key opens nothing; Alice cannot open Bob's push.
    assert!(matches!(
        bob.client()
            .open_push(&PushKey::from_bytes([0; 32]), &pushes[0].payload),
        Err(PushOpenError::Push(_))
    ));
    assert_eq!(
        alice.client().open_push(&key, &pushes[0].payload),
        Err(PushOpenError::WrongAccount)
    );

    // Unsubscribe through an onion path: removed, then nothing to remove.
    for expected in [PushReply::Removed(true), PushReply::Removed(false)] {
        let now = bob.now();
        let id = bob
            .client()
            .push_unsubscribe(now, &dest, service.clone())
            .unwrap();
        assert_eq!(push_reply(&answer(&mut bob, id).await), Ok(expected));
    }
    assert_eq!(push.subscriptions(), 0);
    alice
        .send_confirmed(&idb, &Content::text("pong"), 20_000)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        deliveries.lock().unwrap().is_empty(),
        "no push after unsubscribe"
    );

    drop((alice, bob));
    push.shutdown().await;
    for h in node_handles {
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn forged_and_stale_subscriptions_are_refused_over_http() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let push = server::spawn(
        listener,
        Keypair::from_seed(&Seed::from_bytes([0x51; 32])),
        |_| {},
    )
    .unwrap();
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    let service = PushService::new("apns", r#"{"token":"t"}"#).unwrap();
    let post = |path: &'static str, body: String| {
        let url = format!("{}{path}", push.url());
        async move {
            let stream = tokio::net::TcpStream::connect(
                url.trim_start_matches("http://").split('/').next().unwrap(),
            )
            .await
            .unwrap();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = stream;
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(body.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            stream.read_to_end(&mut out).await.unwrap();
            let status: u16 = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
            let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            (status, out[split + 4..].to_vec())
        }
    };
    let now_s = wall_clock_ms() / 1000;
    // Signed 15 days ago: stale.
    let stale = metaless_envelope::push::Subscribe::for_user(
        &bob,
        &[0],
        false,
        now_s - 15 * 24 * 3600,
        service.clone(),
        PushKey::from_bytes([1; 32]),
    )
    .unwrap();
    let (status, body) = post("/subscribe", stale.to_json()).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("outside the accepted window"));
    // Signed by Alice for Bob's account: bad signature.
    let alice = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let forged = metaless_envelope::push::Subscribe::signed_by(
        metaless_envelope::push::PushAccount::user(&bob),
        &[0],
        false,
        now_s,
        service,
        PushKey::from_bytes([1; 32]),
        |m| alice.sign(m),
    )
    .unwrap();
    let (status, body) = post("/subscribe", forged.to_json()).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("signature is invalid"));
    // Garbage onion body: 400 without detail; unknown path 404.
    assert_eq!(post("/oxen/v4/lsrpc", "junk".into()).await.0, 400);
    assert_eq!(post("/nope", "{}".into()).await.0, 404);
    assert_eq!(push.subscriptions(), 0);
    push.shutdown().await;
}
