//! A private network over several hosts, tried on loopback aliases only (Linux routes all of
//! 127/8 to `lo`): `init --hosts 127.0.0.2,127.0.0.3` spreads the nodes, each "host" runs its
//! share with `--only HOST` from its own copy of config.json, bootstrap.json lists advertised
//! addresses, the nodes replicate to each other at those addresses and a message between two
//! clients gets through.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap as ClientBootstrap, Client, Config, Driver};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use metaless_node_server::config::{Bootstrap, CONFIG_FILE, TestnetConfig};
use metaless_node_server::testnet::{Testnet, TestnetHandle, TestnetOptions, init_on, only_keys};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOSTS: [Ipv4Addr; 2] = [Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3)];

/// `n` consecutive ports free right now on every host.
fn free_port_run(n: u16) -> u16 {
    for _ in 0..50 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        if base > 60_000 {
            continue;
        }
        if (0..n).all(|i| {
            HOSTS
                .iter()
                .all(|h| std::net::TcpListener::bind((*h, base + i)).is_ok())
        }) {
            return base;
        }
    }
    panic!("no run of {n} free ports");
}

/// One host's share, started from its own directory (its copy of config.json).
async fn host(dir: &std::path::Path, cfg: &TestnetConfig, host: Ipv4Addr) -> TestnetHandle {
    std::fs::create_dir_all(dir).unwrap();
    cfg.save(dir).unwrap();
    let only = only_keys(cfg, &[host.to_string()]).unwrap();
    Testnet::start(
        TestnetConfig::load(dir).unwrap(),
        TestnetOptions {
            data_dir: Some(dir.to_path_buf()),
            only,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn post(ip: &str, port: u16, path: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut s = tokio::net::TcpStream::connect((ip, port)).await.ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {ip}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.ok()?;
    s.write_all(body).await.ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.ok()?;
    let status: u16 = std::str::from_utf8(out.get(9..12)?).ok()?.parse().ok()?;
    let split = out.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((status, out[split + 4..].to_vec()))
}

/// The hashes a node holds for `account` (namespace 0, one page is plenty here).
async fn held(ip: &str, port: u16, account: &Keypair) -> BTreeSet<String> {
    let req = metaless_testnet::testkit::retrieve_request(account, 0, None, wall_clock_ms());
    let Some((200, body)) = post(ip, port, "/storage_rpc/v1", req.to_string().as_bytes()).await
    else {
        return BTreeSet::new();
    };
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["hash"].as_str().unwrap().to_owned())
        .collect()
}

fn peer(seed: u8, bootstrap: &Bootstrap) -> Driver<HttpTransport, TokioClock> {
    let nodes = bootstrap
        .infos()
        .unwrap()
        .iter()
        .map(|n| n.service_node())
        .collect();
    let mut config = Config::testnet(ClientBootstrap::Nodes(nodes));
    config.poll_interval_ms = Some(200);
    Driver::new(
        Client::new(
            Keypair::from_seed(&Seed::from_bytes([seed; 32])),
            config,
            [seed; 32],
            wall_clock_ms(),
        ),
        HttpTransport::default(),
        TokioClock,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_spread_over_loopback_aliases_serve_and_replicate_at_their_advertised_addresses() {
    let base = free_port_run(6 + 3);
    let root = tempfile::tempdir().unwrap();
    let cfg = init_on(&root.path().join("init"), 6, 2, base, &HOSTS).unwrap();
    let hosts: BTreeSet<&str> = cfg
        .nodes
        .iter()
        .map(|n| n.advertised_address.as_str())
        .collect();
    assert_eq!(hosts, BTreeSet::from(["127.0.0.2", "127.0.0.3"]));
    // Every swarm spans both hosts.
    for swarm in cfg.network().unwrap().swarm_ids() {
        let on: BTreeSet<&str> = cfg
            .nodes
            .iter()
            .filter(|n| n.swarm_id == *swarm)
            .map(|n| n.advertised_address.as_str())
            .collect();
        assert_eq!(on.len(), 2, "swarm {swarm:x} on {on:?}");
    }

    let a = host(&root.path().join("a"), &cfg, HOSTS[0]).await;
    let b = host(&root.path().join("b"), &cfg, HOSTS[1]).await;
    assert_eq!(a.running() + b.running(), 6);

    // Both hosts write the same complete bootstrap.json, with advertised addresses.
    let boot = Bootstrap::load(a.data_dir()).unwrap();
    assert_eq!(boot, Bootstrap::load(b.data_dir()).unwrap());
    assert_eq!(boot.nodes.len(), 6);
    for (n, entry) in boot.nodes.iter().zip(&cfg.nodes) {
        assert_eq!(n.ip, entry.advertised_address);
        assert_eq!(
            n.address,
            format!("http://{}:{}", entry.advertised_address, entry.port)
        );
        // Served on its own address only.
        assert!(
            tokio::net::TcpStream::connect((n.ip.as_str(), n.port))
                .await
                .is_ok()
        );
        assert!(
            tokio::net::TcpStream::connect(("127.0.0.1", n.port))
                .await
                .is_err(),
            "{} also answers on 127.0.0.1",
            n.address
        );
    }
    // The servers beside the nodes are on the first host.
    assert!(
        boot.file_server
            .as_ref()
            .unwrap()
            .url
            .starts_with("http://127.0.0.2:")
    );
    assert!(
        boot.community
            .as_ref()
            .unwrap()
            .url
            .starts_with("http://127.0.0.2:")
    );
    assert!(
        boot.push_server
            .as_ref()
            .unwrap()
            .url
            .starts_with("http://127.0.0.2:")
    );

    // A message between two clients, through onion paths over both hosts.
    let mut alice = peer(1, &boot);
    let mut bob = peer(2, &boot);
    let bob_id = bob.client().session_id();
    let hash = alice
        .send_confirmed(&bob_id, &Content::text("across hosts"), 20_000)
        .await
        .unwrap();
    let got = bob.recv(20_000).await.expect("bob receives");
    assert_eq!(got.message.content, Content::text("across hosts"));

    // Every member of Bob's swarm, on either host, holds it: the nodes reached each other at
    // their advertised addresses.
    let bob_keys = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    let swarm = cfg.network().unwrap().swarm_for(bob_id.key()).unwrap();
    let members: Vec<_> = boot.nodes.iter().filter(|n| n.swarm_id == swarm).collect();
    assert_eq!(members.len(), 3);
    let start = Instant::now();
    loop {
        let mut all = true;
        for m in &members {
            all &= held(&m.ip, m.port, &bob_keys)
                .await
                .contains(&hash.to_string());
        }
        if all {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not on every member"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((alice, bob));
    a.shutdown().await;
    b.shutdown().await;
}

#[test]
fn configs_without_addresses_load_on_loopback_and_bad_addresses_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = init_on(dir.path(), 2, 1, 0, &[]).unwrap();
    // Strip the address fields, as in a config.json written before private networks.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap())
            .unwrap();
    for n in v["nodes"].as_array_mut().unwrap() {
        let n = n.as_object_mut().unwrap();
        assert!(n.remove("bind_address").is_some());
        assert!(n.remove("advertised_address").is_some());
    }
    v["file_server"]
        .as_object_mut()
        .unwrap()
        .remove("advertised_address");
    std::fs::write(dir.path().join(CONFIG_FILE), v.to_string()).unwrap();
    let loaded = TestnetConfig::load(dir.path()).unwrap();
    assert_eq!(loaded, cfg);
    assert!(
        loaded
            .nodes
            .iter()
            .all(|n| n.bind_address == "127.0.0.1" && n.advertised_address == "127.0.0.1")
    );
    assert_eq!(loaded.infos(&[]).unwrap()[0].ip, "127.0.0.1");

    for (field, value, says) in [
        ("advertised_address", "::1", "not an IPv4 address"),
        ("advertised_address", "node.example", "not an IPv4 address"),
        ("bind_address", "localhost", "not an IP address"),
    ] {
        let mut bad = cfg.clone();
        match field {
            "advertised_address" => bad.nodes[1].advertised_address = value.into(),
            _ => bad.nodes[1].bind_address = value.into(),
        }
        bad.save(dir.path()).unwrap();
        let err = TestnetConfig::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains(says), "{field}={value}: {err}");
    }
    // A bind address of every interface is fine; an address no node is on is no --only.
    let mut any = cfg.clone();
    any.nodes[0].bind_address = "0.0.0.0".into();
    any.save(dir.path()).unwrap();
    assert!(TestnetConfig::load(dir.path()).is_ok());
    assert!(only_keys(&cfg, &["127.0.0.9".into()]).is_err());
    assert_eq!(only_keys(&cfg, &["127.0.0.1".into()]).unwrap().len(), 2 + 3);
}

/// The command line end to end: `init --hosts`, then `up --only HOST` as its own process.
#[cfg(unix)]
#[test]
fn init_hosts_and_up_only_host_through_the_binary() {
    use std::process::{Command, Stdio};
    let base = free_port_run(4 + 3);
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_metaless-node");
    let out = Command::new(bin)
        .args(["init", "--nodes", "4", "--swarms", "1", "--hosts"])
        .arg("127.0.0.2,127.0.0.3")
        .args(["--base-port", &base.to_string(), "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hosts"], serde_json::json!(["127.0.0.2", "127.0.0.3"]));
    let cfg = TestnetConfig::load(dir.path()).unwrap();

    // An address no node is on: exit 2 with one error line, nothing started.
    let out = Command::new(bin)
        .args(["up", "--only", "127.0.0.9", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.9"));

    let child = Command::new(bin)
        .args(["up", "--only", "127.0.0.3", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mine: Vec<_> = cfg
        .nodes
        .iter()
        .filter(|n| n.advertised_address == "127.0.0.3")
        .collect();
    assert_eq!(mine.len(), 2);
    let start = Instant::now();
    while !mine
        .iter()
        .all(|n| std::net::TcpStream::connect(("127.0.0.3", n.port)).is_ok())
    {
        assert!(start.elapsed() < Duration::from_secs(20), "not serving");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The other host's nodes are not started here; bootstrap.json lists them anyway.
    for n in cfg
        .nodes
        .iter()
        .filter(|n| n.advertised_address == "127.0.0.2")
    {
        assert!(std::net::TcpStream::connect(("127.0.0.2", n.port)).is_err());
    }
    // Written once everything of this host is up.
    while Bootstrap::load(dir.path()).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no bootstrap.json"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let boot = Bootstrap::load(dir.path()).unwrap();
    assert_eq!(boot.nodes.len(), 4);
    assert!(
        boot.nodes
            .iter()
            .all(|n| n.address.starts_with(&format!("http://{}:", n.ip)))
    );
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nodes"], 2);
}
