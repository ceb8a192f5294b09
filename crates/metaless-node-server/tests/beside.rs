//! The community and push servers a testnet runs beside its nodes, over real loopback sockets:
//! a client posts to the community's room through onion paths over the testnet's nodes and
//! the post survives a restart; a push subscription made through the nodes gets a line in the
//! push server's delivery log when a message is stored for the account.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::time::Duration;

use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{
    Bootstrap as ClientBootstrap, Client, Config, Driver, Event, OpId, ServerRequest,
    ServerResponse, push_reply, push_server,
};
use metaless_community::{AuthMode, CommunityUrl, PostMessage, Reply, Request, auth};
use metaless_envelope::Content;
use metaless_envelope::push::{PushKey, PushReply, PushService};
use metaless_identity::{Keypair, Seed, hex};
use metaless_node_server::config::{Bootstrap, TestnetConfig};
use metaless_node_server::testnet::{COMMUNITY_ROOM, Testnet, TestnetHandle, TestnetOptions};
use rand_core::SeedableRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Peer = Driver<HttpTransport, TokioClock>;

fn peer(seed: u8, net: &TestnetHandle) -> Peer {
    let nodes = net.nodes().iter().map(|n| n.service_node()).collect();
    let mut config = Config::testnet(ClientBootstrap::Nodes(nodes));
    config.poll_interval_ms = Some(200);
    let keys = Keypair::from_seed(&Seed::from_bytes([seed; 32]));
    Driver::new(
        Client::new(keys, config, [seed; 32], wall_clock_ms()),
        HttpTransport::default(),
        TokioClock,
    )
}

async fn answer(peer: &mut Peer, id: OpId) -> ServerResponse {
    match peer
        .wait_for(20_000, |e| {
            matches!(e, Event::ServerResponse { id: d, .. } | Event::Failed { id: d, .. } if *d == id)
        })
        .await
    {
        Some(Event::ServerResponse { response, .. }) => response,
        other => panic!("no answer from the server: {other:?}"),
    }
}

/// `req` signed by `keys` (15-blinded), through an onion path over the testnet's nodes.
async fn community(
    peer: &mut Peer,
    url: &CommunityUrl,
    keys: &Keypair,
    req: &Request,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> Reply {
    let h = auth::sign_now(
        keys,
        url.server_pk(),
        AuthMode::Blinded15,
        req.method(),
        req.path(),
        req.body().bytes(),
        wall_clock_ms(),
        rng,
    );
    let mut sr = ServerRequest::new(url.destination().unwrap(), req.method(), req.path());
    for (k, v) in req.headers() {
        sr = sr.with_header(k, v);
    }
    for (k, v) in h.pairs() {
        sr = sr.with_header(k, &v);
    }
    if !req.body().bytes().is_empty() {
        sr = sr.with_body(req.body().bytes().to_vec());
    }
    let now = peer.now();
    let id = peer.client().server_request(now, sr).unwrap();
    let r = answer(peer, id).await;
    Reply {
        code: r.status,
        headers: r.headers,
        body: r.body,
    }
}

/// A plain HTTP GET straight to the server (no onion): status and body.
async fn get(url: &CommunityUrl, path: &str) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect((url.host(), url.port()))
        .await
        .unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let status: u16 = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (status, out[split + 4..].to_vec())
}

async fn start(cfg: &TestnetConfig, dir: &std::path::Path) -> TestnetHandle {
    Testnet::start(
        cfg.clone(),
        TestnetOptions {
            data_dir: Some(dir.to_path_buf()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn community_room_is_served_through_the_nodes_and_keeps_posts_across_restart() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(21);
    let cfg = TestnetConfig::generate(3, 1, 0, &mut rng).with_services(0, &mut rng);
    let server_x25519 = cfg.community.as_ref().unwrap().pubkey_x25519.clone();
    let dir = tempfile::tempdir().unwrap();
    let net = start(&cfg, dir.path()).await;

    // bootstrap.json names the room as Session's community links do.
    let listed = Bootstrap::load(dir.path()).unwrap().community.unwrap();
    assert_eq!(Some(&listed), net.community());
    assert!(
        listed
            .url
            .ends_with(&format!("/{COMMUNITY_ROOM}?public_key={server_x25519}")),
        "{}",
        listed.url
    );
    let url = CommunityUrl::parse(&listed.url).unwrap();
    assert_eq!(url.room(), COMMUNITY_ROOM);
    assert_eq!(hex::encode(url.server_pk()), server_x25519);
    assert!(dir.path().join("community/sogs.db").exists());

    // Room info over plain HTTP: the room exists and is open.
    let (status, body) = get(&url, &format!("/room/{COMMUNITY_ROOM}")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let room: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(room["token"], COMMUNITY_ROOM);
    assert_eq!(get(&url, "/room/nosuchroom").await.0, 404);

    // A signed post through an onion path over the testnet's nodes.
    let alice_keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let mut alice = peer(1, &net);
    let mut nonces = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let post = PostMessage::signed(&alice_keys, url.server_pk(), b"hello".to_vec(), vec![]);
    let req = Request::post_message(COMMUNITY_ROOM, &post).unwrap();
    let reply = community(&mut alice, &url, &alice_keys, &req, &mut nonces).await;
    assert_eq!(reply.code, 201, "{}", String::from_utf8_lossy(&reply.body));
    let posted = reply.posted().unwrap();
    drop(alice);
    net.shutdown().await;

    // Same directory again: same key, the room and the post are still there.
    let net = start(&cfg, dir.path()).await;
    let url2 = CommunityUrl::parse(&net.community().unwrap().url).unwrap();
    assert_eq!(url2.server_pk(), url.server_pk());
    let mut bob = peer(2, &net);
    let bob_keys = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    let req = Request::messages_since(COMMUNITY_ROOM, 0, None, false).unwrap();
    let reply = community(&mut bob, &url2, &bob_keys, &req, &mut nonces).await;
    assert_eq!(reply.code, 200, "{}", String::from_utf8_lossy(&reply.body));
    let messages = reply.messages().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].id, posted.id);
    assert_eq!(messages[0].verified_data().unwrap().unwrap(), b"hello");
    drop(bob);
    net.shutdown().await;
}

/// Lines of the delivery log, waiting up to `bound` for at least `n`.
async fn deliveries(net: &TestnetHandle, n: usize, bound: Duration) -> Vec<serde_json::Value> {
    let start = std::time::Instant::now();
    loop {
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(net.deliveries_file())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() >= n || start.elapsed() > bound {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_message_for_a_subscriber_appears_in_the_delivery_log() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(22);
    let cfg = TestnetConfig::generate(6, 2, 0, &mut rng).with_services(0, &mut rng);
    let dir = tempfile::tempdir().unwrap();
    let net = start(&cfg, dir.path()).await;
    let listed = Bootstrap::load(dir.path()).unwrap().push_server.unwrap();
    assert_eq!(Some(&listed), net.push_server());
    assert_eq!(
        listed.pubkey_x25519,
        cfg.push_server.as_ref().unwrap().pubkey_x25519
    );
    // What a client reads from bootstrap.json: the URL and the Ed25519 key.
    let dest = push_server(
        &listed.url,
        &hex::decode_array::<32>(&listed.pubkey_ed25519).unwrap(),
    )
    .unwrap();
    assert_eq!(hex::encode(&dest.x25519()), listed.pubkey_x25519);

    let mut alice = peer(1, &net);
    let mut bob = peer(2, &net);
    let idb = bob.client().session_id();
    let service = PushService::new("firebase", r#"{"token":"bob-phone"}"#).unwrap();
    let key = PushKey::from_bytes([0x42; 32]);
    let now = bob.now();
    let id = bob
        .client()
        .push_subscribe(now, &dest, &[0], true, service.clone(), key.clone())
        .unwrap();
    assert_eq!(
        push_reply(&answer(&mut bob, id).await),
        Ok(PushReply::Added)
    );
    // Nothing stored for Bob yet: nothing delivered.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        deliveries(&net, 1, Duration::ZERO).await.is_empty(),
        "a push without a message"
    );

    alice
        .send_confirmed(&idb, &Content::text("ping"), 20_000)
        .await
        .unwrap();
    let lines = deliveries(&net, 1, Duration::from_secs(10)).await;
    assert_eq!(lines.len(), 1, "one message, one push: {lines:?}");
    let line = &lines[0];
    assert_eq!(line["service"], "firebase");
    assert_eq!(line["service_info"]["token"], "bob-phone");
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        line["enc_payload"].as_str().unwrap(),
    )
    .unwrap();
    let opened = bob.client().open_push(&key, &payload).unwrap();
    assert_eq!(opened.notification.account, idb);
    assert_eq!(opened.message.unwrap().content, Content::text("ping"));
    // The watcher does not push the same message twice.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(deliveries(&net, 2, Duration::ZERO).await.len(), 1);
    drop((alice, bob));
    net.shutdown().await;
}
