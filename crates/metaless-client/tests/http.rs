//! The client over real HTTP on loopback, against an in-process testnet of metaless nodes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, Client, Config, Driver, Event};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use metaless_node::config::TestnetConfig;
use metaless_node::testnet::{Testnet, TestnetOptions};
use rand_core::SeedableRng;

type Peer = Driver<HttpTransport, TokioClock>;

fn peer(seed: u8, bootstrap: Bootstrap) -> Peer {
    let config = Config {
        poll_interval_ms: Some(200),
        ..Config::testnet(bootstrap)
    };
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
            Config {
                max_attempts: 2,
                retry_base_ms: 10,
                ..Config::testnet(Bootstrap::Seeds(vec![url]))
            },
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
