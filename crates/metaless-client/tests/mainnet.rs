//! The mainnet code path against a loopback seed: `Config::mainnet()`'s HTTPS seed bootstrap
//! with a seed verified by certificate pin (the shipped Session pins, or a test pin), and
//! nothing leaving loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_client::http::{
    HttpTransport, MAINNET_SEED_CERTIFICATES, SeedTrust, TokioClock, pem_certificate_der,
    wall_clock_ms,
};
use metaless_client::{Bootstrap, Client, Config, Driver, Event, MAINNET_SEEDS};
use metaless_identity::{Keypair, Seed};
use metaless_node::network::{NetworkMap, NodeInfo};
use metaless_node::node::{Node, NodeConfig};
use metaless_node::storage::MemoryStorage;
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::testnet::{Testnet, TestnetOptions};
use metaless_node_server::tls::ServerTls;
use rand_core::SeedableRng;

#[test]
fn mainnet_config_asks_the_shipped_seeds_over_https() {
    let config = Config::mainnet();
    assert!(config.https);
    assert_eq!(config.bootstrap, Bootstrap::mainnet());
    let mut client = Client::new(
        Keypair::from_seed(&Seed::from_bytes([1; 32])),
        config,
        [1; 32],
        wall_clock_ms(),
    );
    // The first request goes to a seed: verified against the pins by default.
    let t = client.poll_transmit().unwrap();
    assert!(t.to_node.node.is_none());
    assert!(MAINNET_SEEDS.iter().any(|s| t.url().starts_with(s)));
    assert!(t.url().ends_with("/json_rpc"));
}

/// A TLS testnet whose first node serves as the seed of a mainnet-configured client.
#[tokio::test(flavor = "current_thread")]
async fn mainnet_path_bootstraps_from_a_pinned_loopback_seed_and_refuses_an_unpinned_one() {
    let cfg = TestnetConfig::generate(8, 2, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(8));
    let net = Testnet::start(
        cfg,
        TestnetOptions {
            tls: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The seed: a node core answering `get_n_service_nodes` with the testnet's nodes, served
    // over TLS with a certificate of its own (the test pin).
    let tls = ServerTls::self_signed().unwrap();
    let seed_cert = tls.certificate_der().to_vec();
    let keypair = Keypair::from_seed(&Seed::from_bytes([9; 32]));
    let info = NodeInfo {
        pubkey_ed25519: keypair.ed25519_public(),
        pubkey_x25519: keypair.x25519_public(),
        swarm_id: 0,
        ip: "127.0.0.1".into(),
        port: 1,
    };
    let seed_node = Node::new(NodeConfig {
        keypair,
        network: NetworkMap::new(net.nodes().to_vec()),
        info,
        storage: Box::new(MemoryStorage::new()),
        rng_seed: [0; 32],
        observe: false,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let seed = metaless_node_server::server::spawn_tls(listener, seed_node, tls).unwrap();
    let seed_url = format!("https://127.0.0.1:{}", seed.addr().port());
    let client = |trust: SeedTrust| {
        let config = Config::mainnet()
            .with_bootstrap(Bootstrap::Seeds(vec![seed_url.clone()]))
            .with_poll_interval_ms(Some(200));
        Driver::new(
            Client::new(
                Keypair::from_seed(&Seed::from_bytes([3; 32])),
                config,
                [3; 32],
                wall_clock_ms(),
            ),
            HttpTransport::with_seed_trust(trust),
            TokioClock,
        )
    };
    // Pinned to the seed's certificate (a test pin in place of the shipped ones): bootstraps.
    let mut ok = client(SeedTrust::Pinned(vec![seed_cert]));
    let got = ok
        .wait_for(10_000, |e| {
            matches!(e, Event::NodesUpdated { .. } | Event::NoNodes)
        })
        .await;
    assert!(matches!(got, Some(Event::NodesUpdated { .. })), "{got:?}");
    assert_eq!(ok.client().known_nodes(), 8);
    // Pinned to the shipped Session certificates, which this seed does not have: refused.
    let shipped = MAINNET_SEED_CERTIFICATES
        .iter()
        .filter_map(|pem| pem_certificate_der(pem))
        .collect();
    let mut refused = client(SeedTrust::Pinned(shipped));
    let got = refused
        .wait_for(3_000, |e| matches!(e, Event::NodesUpdated { .. }))
        .await;
    assert_eq!(got, None, "no node list from an unpinned seed");
    assert_eq!(refused.client().known_nodes(), 0);
    assert!(
        refused.client().stats().failures > 0,
        "the seed was refused"
    );
    drop((ok, refused));
    seed.shutdown().await;
    net.shutdown().await;
}
