//! The servers a testnet runs beside its nodes: listed in bootstrap.json, started by `--only`
//! with their key like a node, refused when unknown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_identity::hex;
use metaless_node_server::config::{Bootstrap, TestnetConfig};
use metaless_node_server::testnet::{Testnet, TestnetOptions};
use rand_core::SeedableRng;

fn free_base_port() -> u16 {
    // Four consecutive ports starting at an ephemeral one: bind to learn a free region.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    port.min(u16::MAX - 8)
}

#[tokio::test]
async fn only_the_file_server_runs_when_only_its_key_is_given() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let base = free_base_port();
    let cfg = TestnetConfig::generate(2, 1, base, &mut rng).with_services(base, &mut rng);
    let fs = cfg.file_server.clone().unwrap();
    assert_eq!(fs.port, base + 2);
    let key = hex::decode_array::<32>(&fs.pubkey_ed25519).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let net = Testnet::start(
        cfg,
        TestnetOptions {
            data_dir: Some(dir.path().to_path_buf()),
            only: vec![key],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(net.running(), 0, "no node runs in this process");
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", fs.port))
            .await
            .is_ok()
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", base))
            .await
            .is_err()
    );
    let on_disk = Bootstrap::load(dir.path()).unwrap();
    assert_eq!(
        on_disk.nodes.len(),
        2,
        "every node is listed, running or not"
    );
    let listed = on_disk.file_server.unwrap();
    assert_eq!(listed.url, format!("http://127.0.0.1:{}", fs.port));
    assert_eq!(listed.pubkey_x25519, fs.pubkey_x25519);
    net.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", fs.port))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_unknown_only_key_and_an_unfixed_service_port_are_refused() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
    let cfg = TestnetConfig::generate(1, 1, 0, &mut rng).with_services(0, &mut rng);
    let node = hex::decode_array::<32>(&cfg.nodes[0].pubkey_ed25519).unwrap();
    let err = Testnet::start(
        cfg.clone(),
        TestnetOptions {
            only: vec![[9; 32]],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no such node or server"), "{err}");
    let err = Testnet::start(
        cfg,
        TestnetOptions {
            only: vec![node],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("fixed ports"), "{err}");
}

#[test]
fn a_tampered_service_seed_is_refused_on_load() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
    let mut cfg = TestnetConfig::generate(1, 1, 0, &mut rng).with_services(0, &mut rng);
    let dir = tempfile::tempdir().unwrap();
    cfg.file_server.as_mut().unwrap().pubkey_ed25519 = cfg.nodes[0].pubkey_ed25519.clone();
    cfg.save(dir.path()).unwrap();
    let err = TestnetConfig::load(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("service seed does not match"),
        "{err}"
    );
}
