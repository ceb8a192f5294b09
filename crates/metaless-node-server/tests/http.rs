//! HTTP integration tests: several nodes on 127.0.0.1 ephemeral ports, real sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use metaless_client::http::wall_clock_ms;
use metaless_identity::{Keypair, Seed};
use metaless_node::{EncType, NodeInfo};
use metaless_node_server::config::{Bootstrap, TestnetConfig};
use metaless_node_server::testnet::{Testnet, TestnetOptions};
use metaless_testnet::testkit::{build_onion, open_reply, retrieve_request, store_request};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type C = Client<HttpConnector, Full<Bytes>>;

fn client() -> C {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn post(c: &C, node: &NodeInfo, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let req = hyper::Request::post(format!("{}{path}", node.url()))
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = c.request(req).await.unwrap();
    let status = resp.status().as_u16();
    (
        status,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

async fn rpc(c: &C, node: &NodeInfo, v: &Value) -> (u16, String) {
    let (s, b) = post(c, node, "/storage_rpc/v1", v.to_string().into_bytes()).await;
    (s, String::from_utf8(b).unwrap())
}

fn account(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

fn config(nodes: usize, swarms: usize) -> TestnetConfig {
    TestnetConfig::generate(nodes, swarms, 0, &mut ChaCha20Rng::seed_from_u64(77))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onion_store_retrieve_and_errors_over_http() {
    let net = Testnet::start(config(6, 2), TestnetOptions::default())
        .await
        .unwrap();
    let c = client();
    let nodes = net.nodes().to_vec();
    let acct = account(1);
    let swarm = metaless_node::NetworkMap::new(nodes.clone())
        .swarm_for(&acct.x25519_public())
        .unwrap();
    let dest = nodes.iter().find(|n| n.swarm_id == swarm).unwrap().clone();
    let other = nodes
        .iter()
        .find(|n| n.swarm_id == swarm && **n != dest)
        .unwrap()
        .clone();
    let outside = nodes.iter().find(|n| n.swarm_id != swarm).unwrap().clone();
    let path: Vec<NodeInfo> = nodes
        .iter()
        .filter(|n| **n != dest)
        .take(3)
        .cloned()
        .collect();
    let mut rng = ChaCha20Rng::seed_from_u64(1);

    // bootstrap.json is on disk and matches
    assert_eq!(Bootstrap::load(net.data_dir()).unwrap(), net.bootstrap());

    // onion-routed store through 3 hops
    let store = store_request(&acct, 0, b"over http", wall_clock_ms(), 60_000);
    let (body, key) = build_onion(
        &path,
        &dest,
        store.to_string().as_bytes(),
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    let (s, reply) = post(&c, &path[0], "/onion_req/v2", body).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&reply));
    let (inner, text) = open_reply(&key, &reply).unwrap();
    assert_eq!(inner, 200, "{text}");
    let hash = serde_json::from_str::<Value>(&text).unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_string();

    // onion-routed retrieve from another swarm member (replicated over HTTP)
    let retrieve = retrieve_request(&acct, 0, None, wall_clock_ms());
    let (body, key) = build_onion(
        &path,
        &other,
        retrieve.to_string().as_bytes(),
        EncType::AesGcm,
        &mut rng,
    )
    .unwrap();
    let (s, reply) = post(&c, &path[0], "/onion_req/v2", body).await;
    assert_eq!(s, 200);
    let (inner, text) = open_reply(&key, &reply).unwrap();
    assert_eq!(inner, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["messages"][0]["hash"], hash.as_str());

    // wrong swarm → 421 with the right swarm
    let (s, b) = rpc(
        &c,
        &outside,
        &retrieve_request(&acct, 0, None, wall_clock_ms()),
    )
    .await;
    assert_eq!(s, 421);
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap()["swarm"],
        format!("{swarm:x}")
    );

    // bad signature, stale timestamp, junk, unknown method
    let mut bad = retrieve_request(&acct, 0, None, wall_clock_ms());
    bad["params"]["signature"] =
        retrieve_request(&account(2), 0, None, wall_clock_ms())["params"]["signature"].clone();
    assert_eq!(
        rpc(&c, &dest, &bad).await,
        (401, "retrieve signature verification failed".into())
    );
    assert_eq!(
        rpc(
            &c,
            &dest,
            &retrieve_request(&acct, 0, None, wall_clock_ms() - 3_600_000)
        )
        .await,
        (406, "retrieve timestamp too far from current time".into())
    );
    assert_eq!(
        post(&c, &dest, "/storage_rpc/v1", b"]]".to_vec()).await,
        (400, b"invalid json".to_vec())
    );
    assert_eq!(
        rpc(&c, &dest, &json!({"method":"nope","params":{}})).await,
        (400, "no method nope".into())
    );

    // malformed onions
    let (s, b) = post(
        &c,
        &path[0],
        "/onion_req/v2",
        b"\xff\xff\xff\xffxx".to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        String::from_utf8(b)
            .unwrap()
            .starts_with("Error parsing onion request: ")
    );
    let (mut body, _) = build_onion(&path, &dest, b"{}", EncType::AesGcm, &mut rng).unwrap();
    body[10] ^= 0x40;
    assert_eq!(
        post(&c, &path[0], "/onion_req/v2", body).await,
        (400, b"Invalid ciphertext".to_vec())
    );

    // unknown path
    assert_eq!(post(&c, &dest, "/nope", vec![]).await.0, 404);

    // oversize: declared length refused before the body is sent
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", dest.port))
        .await
        .unwrap();
    let head = format!(
        "POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        metaless_node::limits::MAX_REQUEST_BODY_SIZE + 1
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.ends_with("Request body too large"), "{text}");

    // still serving after all that
    let (s, b) = rpc(&c, &dest, &json!({"method":"info","params":{}})).await;
    assert_eq!(s, 200);
    assert!(b.contains("\"version\""));
    // seed-node bootstrap
    let (s, b) = post(
        &c,
        &dest,
        "/json_rpc",
        br#"{"method":"get_n_service_nodes","params":{}}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap()["result"]["service_node_states"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_same_dir_keeps_acknowledged_messages() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(3, 1);
    let acct = account(3);
    let c = client();
    let opts = || TestnetOptions {
        data_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let net = Testnet::start(cfg.clone(), opts()).await.unwrap();
    let node = net.nodes()[0].clone();
    let mut hashes = Vec::new();
    for i in 0..5 {
        let (s, b) = rpc(
            &c,
            &node,
            &store_request(
                &acct,
                0,
                format!("m{i}").as_bytes(),
                wall_clock_ms(),
                600_000,
            ),
        )
        .await;
        assert_eq!(s, 200);
        hashes.push(
            serde_json::from_str::<Value>(&b).unwrap()["hash"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    net.shutdown().await;

    let net = Testnet::start(cfg, opts()).await.unwrap();
    // ports changed (ephemeral); keys and data did not
    let node = net.nodes()[0].clone();
    let (s, b) = rpc(
        &c,
        &node,
        &retrieve_request(&acct, 0, None, wall_clock_ms()),
    )
    .await;
    assert_eq!(s, 200);
    let got: Vec<String> = serde_json::from_str::<Value>(&b).unwrap()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["hash"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, hashes);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_reply_lists_every_member_and_a_client_forwarded_header_is_ignored() {
    let net = Testnet::start(config(3, 1), TestnetOptions::default())
        .await
        .unwrap();
    let c = client();
    let acct = account(4);
    let nodes = net.nodes().to_vec();
    for (i, claim) in [false, true].into_iter().enumerate() {
        let body = store_request(
            &acct,
            0,
            format!("r{i}").as_bytes(),
            wall_clock_ms(),
            600_000,
        );
        let mut req = hyper::Request::post(format!("{}/storage_rpc/v1", nodes[0].url()));
        if claim {
            req = req.header("x-metaless-forwarded", "1");
        }
        let resp = c
            .request(req.body(Full::new(Bytes::from(body.to_string()))).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let b = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&b).unwrap();
        let swarm = v["swarm"]
            .as_object()
            .expect("nested under swarm, not flat");
        assert_eq!(swarm.len(), 3, "{v}");
        for n in &nodes {
            let e = &swarm[&metaless_identity::hex::encode(&n.pubkey_ed25519)];
            assert!(
                e.get("failed").is_none() && e["signature"].is_string(),
                "{e}"
            );
        }
        // Every member holds it already.
        for n in &nodes {
            let (s, b) = rpc(&c, n, &retrieve_request(&acct, 0, None, wall_clock_ms())).await;
            assert_eq!(s, 200);
            let got: Value = serde_json::from_str(&b).unwrap();
            assert_eq!(got["messages"].as_array().unwrap().len(), i + 1);
        }
    }
    net.shutdown().await;
}
