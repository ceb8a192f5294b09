//! The client over real HTTP on loopback, against an in-process testnet of metaless nodes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, Client, Config, Driver, Event};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::testnet::{Testnet, TestnetHandle, TestnetOptions};
use rand_core::SeedableRng;

type Peer = Driver<HttpTransport, TokioClock>;

fn peer(seed: u8, bootstrap: Bootstrap) -> Peer {
    peer_with(seed, bootstrap, false)
}

/// A peer reaching the nodes over HTTPS (a testnet in TLS mode).
fn tls_peer(seed: u8, bootstrap: Bootstrap) -> Peer {
    peer_with(seed, bootstrap, true)
}

fn peer_with(seed: u8, bootstrap: Bootstrap, https: bool) -> Peer {
    let config = Config::testnet(bootstrap)
        .with_poll_interval_ms(Some(200))
        .with_https(https);
    let keys = Keypair::from_seed(&Seed::from_bytes([seed; 32]));
    Driver::new(
        Client::new(keys, config, [seed; 32], wall_clock_ms()),
        HttpTransport::default(),
        TokioClock,
    )
}

async fn text_from(at: &mut Peer) -> (String, String) {
    match at
        .wait_for(20_000, |e| matches!(e, Event::Received(_)))
        .await
    {
        Some(Event::Received(m)) => (
            m.message.content.as_text().unwrap_or_default().to_owned(),
            m.message.sender.to_string(),
        ),
        other => panic!("nothing received: {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_to_one_both_ways_over_http() {
    let cfg = TestnetConfig::generate(8, 2, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    let net = Testnet::start(cfg, TestnetOptions::default())
        .await
        .unwrap();
    // Alice reads the testnet's bootstrap file; Bob asks a node acting as a seed (`/json_rpc`).
    let file = std::fs::read(net.data_dir().join("bootstrap.json")).unwrap();
    let mut alice = peer(1, Bootstrap::from_testnet_file(&file).unwrap());
    let mut bob = peer(2, Bootstrap::Seeds(vec![net.nodes()[0].url()]));
    assert_eq!(bob.client().known_nodes(), 0);
    let (ida, idb) = (alice.client().session_id(), bob.client().session_id());

    alice.send(&idb, &Content::text("hello over http")).unwrap();
    let delivered = alice
        .wait_for(20_000, |e| matches!(e, Event::Delivered { .. }))
        .await;
    assert!(matches!(delivered, Some(Event::Delivered { ref via, .. }) if via.path.len() == 3));
    assert_eq!(
        text_from(&mut bob).await,
        ("hello over http".to_owned(), ida.to_string())
    );
    assert_eq!(
        bob.client().known_nodes(),
        8,
        "Bob bootstrapped from the seed"
    );

    bob.send(&ida, &Content::text("and back")).unwrap();
    // A driver only moves while it is awaited: let Bob's store go out first.
    assert!(
        bob.wait_for(20_000, |e| matches!(e, Event::Delivered { .. }))
            .await
            .is_some()
    );
    assert_eq!(
        text_from(&mut alice).await,
        ("and back".to_owned(), idb.to_string())
    );
    drop((alice, bob));
    net.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn unreachable_seed_reports_no_nodes() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut lonely = Driver::new(
        Client::new(
            Keypair::from_seed(&Seed::from_bytes([3; 32])),
            Config::testnet(Bootstrap::Seeds(vec![url]))
                .with_max_attempts(2)
                .with_retry_base_ms(10),
            [3; 32],
            wall_clock_ms(),
        ),
        HttpTransport::default(),
        TokioClock,
    );
    let got = lonely
        .wait_for(5_000, |e| matches!(e, Event::NoNodes))
        .await;
    assert_eq!(got, Some(Event::NoNodes));
}

#[tokio::test(flavor = "current_thread")]
async fn one_to_one_over_https_testnet() {
    let cfg = TestnetConfig::generate(8, 2, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(2));
    let net = Testnet::start(
        cfg,
        TestnetOptions {
            tls: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Alice reads bootstrap.json (https addresses); Bob asks a node acting as a seed over HTTPS.
    let file = std::fs::read(net.data_dir().join("bootstrap.json")).unwrap();
    assert!(String::from_utf8_lossy(&file).contains("\"https://127.0.0.1:"));
    let mut alice = tls_peer(4, Bootstrap::from_testnet_file(&file).unwrap());
    let mut bob = tls_peer(5, Bootstrap::Seeds(vec![net.url(0).unwrap()]));
    let (ida, idb) = (alice.client().session_id(), bob.client().session_id());

    alice
        .send(&idb, &Content::text("hello over https"))
        .unwrap();
    let delivered = alice
        .wait_for(20_000, |e| matches!(e, Event::Delivered { .. }))
        .await;
    assert!(matches!(delivered, Some(Event::Delivered { ref via, .. }) if via.path.len() == 3));
    assert_eq!(
        text_from(&mut bob).await,
        ("hello over https".to_owned(), ida.to_string())
    );
    assert_eq!(bob.client().known_nodes(), 8, "Bob bootstrapped over HTTPS");
    drop((alice, bob));
    net.shutdown().await;
}

/// Seeds over HTTPS are verified per `SeedTrust`; service nodes' certificates are accepted.
#[tokio::test(flavor = "current_thread")]
async fn https_seed_trust_and_node_certificates() {
    use metaless_client::http::SeedTrust;
    use metaless_client::{RequestId, Target, Transmit, Transport, TransportError};
    use metaless_node_server::tls::ServerTls;

    let tls = ServerTls::self_signed().unwrap();
    let pinned = tls.certificate_der().to_vec();
    let other = ServerTls::self_signed().unwrap().certificate_der().to_vec();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let node =
        metaless_node_server::server::spawn_tls(listener, metaless_node::node::doc_node(), tls)
            .unwrap();
    let port = node.addr().port();
    let seed = |host: &str| Transmit {
        id: RequestId::from(1),
        to_node: Target {
            node: None,
            base_url: format!("https://{host}:{port}"),
            path: "/json_rpc",
        },
        body: br#"{"jsonrpc":"2.0","id":"0","method":"get_n_service_nodes","params":{}}"#.to_vec(),
        deadline_ms: u64::MAX,
    };
    let as_node = Transmit {
        to_node: Target {
            node: Some(metaless_swarm::NodeId::new([7; 32])),
            base_url: format!("https://127.0.0.1:{port}"),
            path: "/storage_rpc/v1",
        },
        body: br#"{"method":"info","params":{}}"#.to_vec(),
        ..seed("127.0.0.1")
    };

    // Default: a loopback seed (local testnet) is accepted unverified.
    let default = HttpTransport::default();
    assert_eq!(default.post(&seed("127.0.0.1")).await.unwrap().status, 200);
    assert_eq!(default.post(&as_node).await.unwrap().status, 200);
    // Pinned to this node's certificate: verified by chain and host name (IP SAN) → accepted.
    let pin = HttpTransport::with_seed_trust(SeedTrust::Roots(vec![pinned]));
    assert_eq!(pin.post(&seed("127.0.0.1")).await.unwrap().status, 200);
    // Pinned to another certificate, or no usable anchor: the seed's certificate is refused
    // (told apart from a connection failure)...
    for trust in [
        SeedTrust::Roots(vec![other]),
        SeedTrust::Roots(vec![b"junk".to_vec()]),
    ] {
        let t = HttpTransport::with_seed_trust(trust);
        assert_eq!(
            t.post(&seed("127.0.0.1")).await,
            Err(TransportError::Certificate)
        );
        // ...while a service node's self-signed certificate is still accepted.
        assert_eq!(t.post(&as_node).await.unwrap().status, 200);
    }
    // A plain-HTTP request to an HTTPS node gets no HTTP answer.
    let plain = Transmit {
        to_node: Target {
            base_url: format!("http://127.0.0.1:{port}"),
            ..as_node.to_node.clone()
        },
        ..as_node.clone()
    };
    assert!(default.post(&plain).await.is_err());
    node.shutdown().await;
}

/// The testnet's file server as the client addresses it.
fn testnet_file_server(net: &TestnetHandle) -> metaless_attachment::FileServer {
    let entry = net.file_server().expect("the testnet runs a file server");
    let hex = entry.pubkey_ed25519.as_bytes();
    let mut ed25519 = [0u8; 32];
    for (i, b) in ed25519.iter_mut().enumerate() {
        let pair = std::str::from_utf8(&hex[2 * i..2 * i + 2]).unwrap();
        *b = u8::from_str_radix(pair, 16).unwrap();
    }
    let (host, port) = entry
        .url
        .strip_prefix("http://")
        .unwrap()
        .trim_end_matches('/')
        .rsplit_once(':')
        .unwrap();
    metaless_attachment::FileServer::new("http", host, port.parse().unwrap(), ed25519).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn large_upload_reports_byte_progress_over_http() {
    use metaless_client::{TransferStage, UploadOptions};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let cfg = TestnetConfig::generate(8, 2, 0, &mut rng).with_services(0, &mut rng);
    let net = Testnet::start(cfg, TestnetOptions::default())
        .await
        .unwrap();
    let fs = testnet_file_server(&net);
    let file = std::fs::read(net.data_dir().join("bootstrap.json")).unwrap();
    let mut alice = peer(1, Bootstrap::from_testnet_file(&file).unwrap());
    // 1.5 MiB that does not compress to nothing.
    let data: Vec<u8> = (0..3 * 512 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let now = alice.now();
    let upload = alice
        .client()
        .upload_attachment(now, &fs, &data, UploadOptions::default())
        .unwrap();
    let op = upload.op();
    let answer = alice
        .wait_for(60_000, |e| {
            matches!(e, Event::ServerResponse { id, .. } | Event::Failed { id, .. } if *id == op)
        })
        .await;
    let Some(Event::ServerResponse { response, .. }) = answer else {
        panic!("upload not answered: {answer:?}");
    };
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let pointer = upload.finish(&response).unwrap();
    let progress: Vec<_> = alice
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Transfer(p) if p.id == op => Some(p),
            _ => None,
        })
        .collect();
    let stages: Vec<_> = progress.iter().map(|p| p.stage).collect();
    let last_sent = stages
        .iter()
        .rposition(|s| matches!(s, TransferStage::Sent { .. }))
        .expect("a Sent event");
    let finished = stages
        .iter()
        .position(|s| *s == TransferStage::Finished)
        .expect("a Finished event");
    assert_eq!(
        finished,
        stages.len() - 1,
        "Finished comes last: {stages:?}"
    );
    // Of the attempt that got through: Bytes events, growing, within the request body.
    let bytes: Vec<_> = progress[last_sent + 1..finished]
        .iter()
        .filter(|p| p.stage == TransferStage::Bytes)
        .collect();
    assert!(bytes.len() >= 2, "too few Bytes events: {stages:?}");
    assert!(bytes.windows(2).all(|w| w[0].bytes < w[1].bytes));
    let total = progress[last_sent].total.unwrap();
    assert!(total > data.len() as u64);
    assert!(
        bytes
            .iter()
            .all(|p| p.total == Some(total) && p.bytes <= total)
    );
    assert!(
        bytes[0].bytes < total / 2,
        "the first report came late: {}",
        bytes[0].bytes
    );

    // The download reports the response body as it arrives.
    let now = alice.now();
    let download = alice.client().download_attachment(now, &pointer).unwrap();
    let op = download.op();
    let answer = alice
        .wait_for(60_000, |e| {
            matches!(e, Event::ServerResponse { id, .. } | Event::Failed { id, .. } if *id == op)
        })
        .await;
    let Some(Event::ServerResponse { response, .. }) = answer else {
        panic!("download not answered: {answer:?}");
    };
    let body_len = response.body.len() as u64;
    assert_eq!(download.finish(&response).unwrap(), data);
    let bytes: Vec<u64> = alice
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Transfer(p) if p.id == op && p.stage == TransferStage::Bytes => Some(p.bytes),
            _ => None,
        })
        .collect();
    assert!(bytes.len() >= 2, "too few download Bytes events: {bytes:?}");
    assert!(bytes.windows(2).all(|w| w[0] < w[1]), "{bytes:?}");
    // Counted on the wire: the onion reply around the body.
    assert!(
        bytes.iter().all(|b| *b <= 2 * body_len),
        "{bytes:?} of {body_len}"
    );
    drop(alice);
    net.shutdown().await;
}
