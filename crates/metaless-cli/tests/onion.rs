//! `metaless onion build|peel|respond|open-response`, run as a user runs them: a whole path by
//! hand, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;
use common::*;

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use metaless_identity::{X25519Secret, hex};
use serde_json::Value;

struct Node {
    secret_hex: String,
    ed: String,
    x: String,
}

fn node(i: u8) -> Node {
    let secret = [i.wrapping_mul(29).wrapping_add(3); 32];
    Node {
        secret_hex: hex::encode(&secret),
        ed: hex::encode(&[i; 32]),
        x: hex::encode(&X25519Secret::from_bytes(secret).public_key()),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn b64(value: &Value) -> Vec<u8> {
    STANDARD.decode(value.as_str().unwrap()).unwrap()
}

#[test]
fn three_hops_to_a_node_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let nodes: Vec<Node> = (1..=4).map(node).collect();
    let payload = br#"{"method":"info","params":{}}"#;
    let payload_file = write(dir.path(), "payload", payload);
    for enc in ["xchacha20", "aes-gcm"] {
        let hops: Vec<String> = nodes[..3]
            .iter()
            .map(|n| format!("{}:{}", n.ed, n.x))
            .collect();
        let to = format!("{}:{}", nodes[3].ed, nodes[3].x);
        let mut args = vec!["onion", "build"];
        for h in &hops {
            args.extend(["--hop", h]);
        }
        args.extend([
            "--to-node",
            &to,
            "--enc",
            enc,
            "--payload-file",
            payload_file.to_str().unwrap(),
        ]);
        let built = ok_json(&args);
        assert_eq!(built["first_hop"], nodes[0].ed.as_str());
        assert_eq!(built["reply_secret_hex"].as_str().unwrap().len(), 64);

        let mut body = b64(&built["body_b64"]);
        for (i, n) in nodes.iter().enumerate() {
            let input = write(dir.path(), "in", &body);
            let peeled = ok_json(&[
                "onion",
                "peel",
                "--x25519-secret",
                &n.secret_hex,
                "--in",
                input.to_str().unwrap(),
            ]);
            if i < 3 {
                assert_eq!(peeled["kind"], "forward");
                assert_eq!(peeled["next"], nodes[i + 1].ed.as_str());
                body = b64(&peeled["body_b64"]);
            } else {
                assert_eq!(peeled["kind"], "deliver");
                assert_eq!(b64(&peeled["payload_b64"]), payload);
                assert_eq!(peeled["enc_type"], enc);
                let reply_in = write(dir.path(), "reply", b"{\"status\":200}");
                let responded = ok_json(&[
                    "onion",
                    "respond",
                    "--x25519-secret",
                    &n.secret_hex,
                    "--ephemeral-key",
                    peeled["ephemeral_key"].as_str().unwrap(),
                    "--enc",
                    enc,
                    "--in",
                    reply_in.to_str().unwrap(),
                ]);
                // open-response takes the raw reply and its base64 text alike.
                let raw = write(dir.path(), "response", &b64(&responded["response_b64"]));
                let text = write(
                    dir.path(),
                    "response.b64",
                    responded["response_b64"].as_str().unwrap().as_bytes(),
                );
                for file in [raw, text] {
                    let opened = ok_json(&[
                        "onion",
                        "open-response",
                        "--reply-secret",
                        built["reply_secret_hex"].as_str().unwrap(),
                        "--dest-x25519",
                        &n.x,
                        "--enc",
                        enc,
                        "--in",
                        file.to_str().unwrap(),
                    ]);
                    assert_eq!(b64(&opened["payload_b64"]), b"{\"status\":200}");
                }
            }
        }
    }
}

#[test]
fn to_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let guard = node(1);
    let server = node(9);
    let payload = write(dir.path(), "payload", b"l2:{}e");
    let hop = format!("{}:{}", guard.ed, guard.x);
    let built = ok_json(&[
        "onion",
        "build",
        "--hop",
        &hop,
        "--to-server",
        "http://127.0.0.1:8080",
        "--server-x25519",
        &server.x,
        "--enc",
        "aes-gcm",
        "--payload-file",
        payload.to_str().unwrap(),
    ]);
    let input = write(dir.path(), "in", &b64(&built["body_b64"]));
    let peeled = ok_json(&[
        "onion",
        "peel",
        "--x25519-secret",
        &guard.secret_hex,
        "--in",
        input.to_str().unwrap(),
    ]);
    assert_eq!(peeled["kind"], "server");
    assert_eq!(peeled["host"], "127.0.0.1");
    assert_eq!(peeled["port"], 8080);
    assert_eq!(peeled["protocol"], "http");
    assert_eq!(peeled["target"], "/oxen/v4/lsrpc");
    assert!(!b64(&peeled["body_b64"]).is_empty());
}

#[test]
fn bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(1);
    let payload = write(dir.path(), "payload", b"{}");
    let p = payload.to_str().unwrap();
    let hop = format!("{}:{}", n.ed, n.x);
    bad_input(&[
        "onion",
        "build",
        "--hop",
        "zz:00",
        "--to-node",
        &hop,
        "--payload-file",
        p,
    ]);
    bad_input(&[
        "onion",
        "build",
        "--hop",
        &hop,
        "--to-node",
        &hop,
        "--enc",
        "aes-cbc",
        "--payload-file",
        p,
    ]);
    bad_input(&[
        "onion",
        "build",
        "--hop",
        &hop,
        "--to-node",
        &hop,
        "--payload-file",
        "/nonexistent/file",
    ]);
    bad_input(&[
        "onion",
        "build",
        "--hop",
        &hop,
        "--to-server",
        "ftp://x",
        "--server-x25519",
        &n.x,
        "--payload-file",
        p,
    ]);
    bad_input(&[
        "onion",
        "build",
        "--hop",
        &hop,
        "--to-server",
        "https://x/etc",
        "--server-x25519",
        &n.x,
        "--payload-file",
        p,
    ]);
    bad_input(&["onion", "build", "--to-node", &hop, "--payload-file", p]);

    // Peeling with the wrong key, or garbage.
    let built = ok_json(&[
        "onion",
        "build",
        "--hop",
        &hop,
        "--to-node",
        &hop,
        "--payload-file",
        p,
    ]);
    let body = write(dir.path(), "body", &b64(&built["body_b64"]));
    let other = node(2);
    let err = bad_input(&[
        "onion",
        "peel",
        "--x25519-secret",
        &other.secret_hex,
        "--in",
        body.to_str().unwrap(),
    ]);
    assert!(err.contains("Invalid ciphertext"), "{err}");
    let garbage = write(dir.path(), "garbage", b"\x01\x02");
    bad_input(&[
        "onion",
        "peel",
        "--x25519-secret",
        &n.secret_hex,
        "--in",
        garbage.to_str().unwrap(),
    ]);
    bad_input(&[
        "onion",
        "peel",
        "--x25519-secret",
        "12",
        "--in",
        body.to_str().unwrap(),
    ]);
    bad_input(&[
        "onion",
        "respond",
        "--x25519-secret",
        &n.secret_hex,
        "--ephemeral-key",
        &"00".repeat(32),
        "--enc",
        "gcm",
        "--in",
        p,
    ]);
    bad_input(&[
        "onion",
        "open-response",
        "--reply-secret",
        &n.secret_hex,
        "--dest-x25519",
        &other.x,
        "--enc",
        "xchacha20",
        "--in",
        garbage.to_str().unwrap(),
    ]);
}
