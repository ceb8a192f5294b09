//! `metaless community auth|dm-seal|dm-open`, run as a user runs them, against communities.json;
//! `metaless community post|read` through onion paths over a real `metaless testnet up`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;
use common::*;

use std::path::Path;

use base64::Engine;
use serde_json::Value;

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn case(id: &str) -> Value {
    common::vector("communities.json", id)
}

#[test]
fn auth_prints_the_headers_as_sent() {
    for (id, extra) in [
        ("sogs_auth_headers_blind15", None),
        ("sogs_auth_headers_unblinded", Some("--unblinded")),
    ] {
        let c = case(id);
        let seed = &s(&c["ed25519_sk64"])[..64];
        let ts = c["timestamp"].as_u64().unwrap().to_string();
        let mut args = vec![
            "community",
            "auth",
            "--seed",
            seed,
            "--server-pubkey",
            s(&c["server_pk"]),
            "--method",
            s(&c["method"]),
            "--path",
            s(&c["path"]),
            "--timestamp",
            &ts,
            "--nonce",
            s(&c["nonce"]),
        ];
        args.extend(extra);
        let out = ok_json(&args);
        assert_eq!(out, c["expected_headers"], "{id}");
        // The keys come in the order the issue writes them, not sorted.
        let text = String::from_utf8(metaless(&args).stdout).unwrap();
        let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
        assert!(at("X-SOGS-Pubkey") < at("X-SOGS-Timestamp"), "{text}");
        assert!(at("X-SOGS-Timestamp") < at("X-SOGS-Nonce"), "{text}");
        assert!(at("X-SOGS-Nonce") < at("X-SOGS-Signature"), "{text}");
    }
}

#[test]
fn dm_open_reads_the_vector_and_seal_round_trips() {
    for id in [
        "blinded_dm_15_hello_fixed_nonce",
        "blinded_dm_25_hello_fixed_nonce",
    ] {
        let c = case(id);
        let recipient_seed = &s(&c["recipient_ed25519_sk64"])[..64];
        let sender_seed = &s(&c["sender_ed25519_sk64"])[..64];
        let data = metaless_identity::hex::decode(s(&c["expected_ciphertext"])).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        let server = s(&c["server_pk"]);
        let opened = ok_json(&[
            "community",
            "dm-open",
            "--seed",
            recipient_seed,
            "--server-pubkey",
            server,
            "--from",
            s(&c["sender_blinded_id"]),
            "--data-b64",
            &b64,
        ]);
        assert_eq!(s(&opened["plaintext_hex"]), "68656c6c6f");
        assert_eq!(opened["sender"], c["expected_sender_session_id"]);

        let sealed = ok_json(&[
            "community",
            "dm-seal",
            "--seed",
            sender_seed,
            "--server-pubkey",
            server,
            "--to",
            s(&c["recipient_blinded_id"]),
            "--plaintext-hex",
            "0102",
        ]);
        let again = ok_json(&[
            "community",
            "dm-open",
            "--seed",
            recipient_seed,
            "--server-pubkey",
            server,
            "--from",
            s(&c["sender_blinded_id"]),
            "--data-b64",
            s(&sealed["data_b64"]),
        ]);
        assert_eq!(s(&again["plaintext_hex"]), "0102");
        // A tampered ciphertext is refused on stderr with exit 2.
        let mut bad = base64::engine::general_purpose::STANDARD
            .decode(s(&sealed["data_b64"]))
            .unwrap();
        bad[5] ^= 1;
        let bad = base64::engine::general_purpose::STANDARD.encode(bad);
        let err = bad_input(&[
            "community",
            "dm-open",
            "--seed",
            recipient_seed,
            "--server-pubkey",
            server,
            "--from",
            s(&c["sender_blinded_id"]),
            "--data-b64",
            &bad,
        ]);
        assert!(err.contains("does not decrypt"), "{err}");
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn up(dir: &Path) -> common::Testnet {
    common::testnet_up(dir, 4, 1)
}

/// The JSON lines a successful `read` printed.
fn read_lines(args: &[&str]) -> Vec<Value> {
    let out = metaless(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn post_and_read_a_room_through_the_testnet() {
    let dir = tempfile::tempdir().unwrap();
    let net = up(&dir.path().join("net"));
    let b = p(&net.bootstrap);
    let file: Value = serde_json::from_slice(&std::fs::read(&net.bootstrap).unwrap()).unwrap();
    let url = s(&file["community"]["url"]).to_owned();
    let (alice, bob) = (dir.path().join("alice.seed"), dir.path().join("bob.seed"));
    std::fs::write(&alice, "01".repeat(32)).unwrap();
    std::fs::write(&bob, "02".repeat(32)).unwrap();

    let mut posted = Vec::new();
    for (seed, text) in [(&alice, "hello from alice"), (&bob, "hi alice")] {
        let v = ok_json(&[
            "community",
            "post",
            "--url",
            &url,
            "--seed-file",
            p(seed),
            "--bootstrap",
            b,
            "--text",
            text,
        ]);
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v.as_object().unwrap().len(), 3, "{v}");
        posted.push((v["id"].as_u64().unwrap(), v["seqno"].as_u64().unwrap()));
    }
    assert!(posted[1].0 > posted[0].0 && posted[1].1 > posted[0].1);

    // Everything (the room from the bootstrap file when --url is left out).
    let lines = read_lines(&[
        "community",
        "read",
        "--seed-file",
        p(&bob),
        "--bootstrap",
        b,
    ]);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (line, ((id, seqno), text)) in lines
        .iter()
        .zip(posted.iter().zip(["hello from alice", "hi alice"]))
    {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["id", "posted", "sender", "seqno", "text"]);
        assert_eq!(
            (line["id"].as_u64(), line["seqno"].as_u64()),
            (Some(*id), Some(*seqno))
        );
        assert_eq!(line["text"], text);
        assert!(s(&line["sender"]).starts_with("15"), "{line}");
        assert!(line["posted"].as_f64().unwrap() > 1.0e9);
    }
    // Posters are blinded: two accounts, two 15 ids, neither the 05 id.
    assert_ne!(lines[0]["sender"], lines[1]["sender"]);
    // --since the first post's seqno: only the second; --limit 1: only the first.
    let since = posted[0].1.to_string();
    let lines = read_lines(&[
        "community",
        "read",
        "--url",
        &url,
        "--seed-file",
        p(&alice),
        "--bootstrap",
        b,
        "--since",
        &since,
    ]);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["text"], "hi alice");
    let lines = read_lines(&[
        "community",
        "read",
        "--url",
        &url,
        "--seed-file",
        p(&alice),
        "--bootstrap",
        b,
        "--limit",
        "1",
    ]);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["text"], "hello from alice");

    // A room the server does not have: the server's 404, exit 1, nothing on stdout.
    let missing = url.replace("/lobby?", "/nosuch?");
    let out = metaless(&[
        "community",
        "post",
        "--url",
        &missing,
        "--seed-file",
        p(&alice),
        "--bootstrap",
        b,
        "--text",
        "x",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("404"), "{stderr}");

    // Bad input: a URL without the server key, a limit out of range.
    let no_key = url.split('?').next().unwrap().to_owned();
    let err = bad_input(&[
        "community",
        "post",
        "--url",
        &no_key,
        "--seed-file",
        p(&alice),
        "--bootstrap",
        b,
        "--text",
        "x",
    ]);
    assert!(err.contains("--url"), "{err}");
    bad_input(&[
        "community",
        "read",
        "--seed-file",
        p(&alice),
        "--bootstrap",
        b,
        "--limit",
        "0",
    ]);
    drop(net);
}
