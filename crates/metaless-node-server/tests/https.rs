//! The testnet in TLS mode: nodes serve HTTPS with self-signed certificates and forward onion
//! requests and replication to each other over HTTPS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
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

/// One POST over a fresh TLS connection that accepts the node's self-signed certificate.
async fn post_https(node: &NodeInfo, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let connector =
        tokio_rustls::TlsConnector::from(metaless_client::http::node_client_tls_config().unwrap());
    let tcp = tokio::net::TcpStream::connect((node.ip.as_str(), node.port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::post(path)
        .header(hyper::header::HOST, format!("{}:{}", node.ip, node.port))
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onion_store_retrieve_and_info_over_https() {
    let cfg = TestnetConfig::generate(6, 2, 0, &mut ChaCha20Rng::seed_from_u64(78));
    let net = Testnet::start(
        cfg,
        TestnetOptions {
            tls: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let nodes = net.nodes().to_vec();

    // bootstrap.json lists https addresses
    let b = Bootstrap::load(net.data_dir()).unwrap();
    assert_eq!(b, net.bootstrap());
    for (n, info) in b.nodes.iter().zip(&nodes) {
        assert_eq!(n.address, format!("https://127.0.0.1:{}", info.port));
    }

    // plain info call over https
    let (s, body) = post_https(
        &nodes[0],
        "/storage_rpc/v1",
        json!({"method": "info", "params": {}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(v["version"].is_array(), "{v}");

    // onion store through 3 hops, each hop forwarding over https
    let acct = Keypair::from_seed(&Seed::from_bytes([9; 32]));
    let swarm = metaless_node::NetworkMap::new(nodes.clone())
        .swarm_for(&acct.x25519_public())
        .unwrap();
    let dest = nodes.iter().find(|n| n.swarm_id == swarm).unwrap().clone();
    let other = nodes
        .iter()
        .find(|n| n.swarm_id == swarm && **n != dest)
        .unwrap()
        .clone();
    let path: Vec<NodeInfo> = nodes
        .iter()
        .filter(|n| n.swarm_id != swarm)
        .take(3)
        .cloned()
        .collect();
    assert_eq!(path.len(), 3);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let store = store_request(&acct, 0, b"over https", wall_clock_ms(), 60_000);
    let (body, key) = build_onion(
        &path,
        &dest,
        store.to_string().as_bytes(),
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    let (s, reply) = post_https(&path[0], "/onion_req/v2", body).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&reply));
    let (inner, text) = open_reply(&key, &reply).unwrap();
    assert_eq!(inner, 200, "{text}");
    let hash = serde_json::from_str::<Value>(&text).unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned();

    // retrieve from the other swarm member: the store was replicated to it over https
    let retrieve = retrieve_request(&acct, 0, None, wall_clock_ms());
    let (body, key) = build_onion(
        &path,
        &other,
        retrieve.to_string().as_bytes(),
        EncType::AesGcm,
        &mut rng,
    )
    .unwrap();
    let (s, reply) = post_https(&path[0], "/onion_req/v2", body).await;
    assert_eq!(s, 200);
    let (inner, text) = open_reply(&key, &reply).unwrap();
    assert_eq!(inner, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let messages = v["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["hash"], hash.as_str());

    // a plain-HTTP request to a TLS node gets no HTTP answer, and the node keeps serving
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", nodes[1].port))
        .await
        .unwrap();
    s.write_all(b"POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        .await
        .unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got).await;
    assert!(!got.starts_with(b"HTTP/1.1"));
    let (s, _) = post_https(
        &nodes[1],
        "/storage_rpc/v1",
        json!({"method": "info", "params": {}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(s, 200);

    net.shutdown().await;
}
