//! `metaless config encrypt|decrypt|read` on the upstream UserProfile vectors (byte for byte),
//! their refusals, and `metaless profile set|show` across two processes of one account over a
//! real loopback testnet (the second process is the account's second device).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;
use common::{bad_input, ok_json};

fn entry(id: &str) -> Value {
    common::vector("user_config.json", id)
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn decrypt_encrypt_and_read_the_upstream_user_profile() {
    let v = entry("user_profile_push_seqno1_unwrapped");
    let seed = s(&v["ed25519_seed"]);
    let stored = s(&v["encrypted"]);

    let out = ok_json(&[
        "config",
        "decrypt",
        "--seed",
        seed,
        "--namespace",
        "2",
        "--data-hex",
        stored,
    ]);
    let padded = s(&out["plaintext_hex"]).to_owned();
    // Prefix zero padding, then the serialized message.
    let unpadded = padded.trim_start_matches("00");
    assert_eq!(unpadded, s(&v["expected_decrypted_unpadded"]));

    // Encrypting the padded plaintext again gives the stored bytes (the nonce is derived).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("padded");
    std::fs::write(&file, metaless_identity::hex::decode(&padded).unwrap()).unwrap();
    let out = ok_json(&[
        "config",
        "encrypt",
        "--seed",
        seed,
        "--namespace",
        "2",
        "--in",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out["data_hex"], v["encrypted"]);

    let out = ok_json(&[
        "config",
        "read",
        "--seed",
        seed,
        "--namespace",
        "2",
        "--data-hex",
        stored,
    ]);
    assert_eq!(out["kind"], "UserProfile");
    assert_eq!(out["seqno"], 1);
    assert_eq!(out["data"]["n"], "Kallie");
    assert_eq!(out["data"]["+"], 9);
    assert_eq!(out["data"]["p"], "http://example.org/omg-pic-123.bmp");
}

#[test]
fn read_opens_the_wrapped_432_byte_push() {
    let v = entry("user_profile_push_seqno0_wrapped");
    let push = s(&v["expected_push"]);
    assert_eq!(push.len(), 2 * 432);
    let out = ok_json(&[
        "config",
        "read",
        "--seed",
        s(&v["ed25519_seed"]),
        "--namespace",
        "2",
        "--data-hex",
        push,
    ]);
    assert_eq!(out["seqno"], 0);
    assert_eq!(out["data"], serde_json::json!({}));
}

#[test]
fn wrong_seed_namespace_tampering_and_oversize_are_refused() {
    let v = entry("user_profile_push_seqno1_unwrapped");
    let seed = s(&v["ed25519_seed"]);
    let stored = s(&v["encrypted"]).to_owned();
    let other_seed = "ab".repeat(32);
    let mut tampered = metaless_identity::hex::decode(&stored).unwrap();
    tampered[10] ^= 1;
    let tampered = metaless_identity::hex::encode(&tampered);
    for cmd in ["decrypt", "read"] {
        // Another account, another config's domain, altered bytes, not hex.
        for (seed, ns, data) in [
            (other_seed.as_str(), "2", stored.as_str()),
            (seed, "3", stored.as_str()),
            (seed, "2", tampered.as_str()),
            (seed, "2", "zz"),
        ] {
            bad_input(&[
                "config",
                cmd,
                "--seed",
                seed,
                "--namespace",
                ns,
                "--data-hex",
                data,
            ]);
        }
        // Over the network's 76,800 bytes (through stdin: too long for one argument).
        let mut child = Command::new(env!("CARGO_BIN_EXE_metaless"))
            .args([
                "config",
                cmd,
                "--seed",
                seed,
                "--namespace",
                "2",
                "--data-hex",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all("00".repeat(76_801).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("76800"),
            "{out:?}"
        );
        // The same path takes a real message.
        let mut child = Command::new(env!("CARGO_BIN_EXE_metaless"))
            .args([
                "config",
                cmd,
                "--seed",
                seed,
                "--namespace",
                "2",
                "--data-hex",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stored.as_bytes())
            .unwrap();
        assert!(child.wait_with_output().unwrap().status.success());
        // Group configs use the group's keys, not the account's.
        let err = bad_input(&[
            "config",
            cmd,
            "--seed",
            seed,
            "--namespace",
            "13",
            "--data-hex",
            &stored,
        ]);
        assert!(err.contains("not an account config"), "{err}");
    }
    bad_input(&[
        "config",
        "encrypt",
        "--seed",
        seed,
        "--namespace",
        "2",
        "--in",
        "/nonexistent/file",
    ]);
}

fn up(dir: &Path) -> common::Testnet {
    common::testnet_up(dir, 6, 2)
}

#[test]
fn profile_set_on_one_device_shows_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let net = up(&dir.path().join("net"));
    let b = net.bootstrap.to_str().unwrap();
    let id = ok_json(&["id", "new"]);
    let seed_file = dir.path().join("alice.seed");
    std::fs::write(&seed_file, s(&id["seed"])).unwrap();
    let sf = seed_file.to_str().unwrap();

    let shown = ok_json(&["profile", "show", "--bootstrap", b, "--seed-file", sf]);
    assert_eq!(shown["session_id"], id["session_id"]);
    assert_eq!(shown["name"], Value::Null);

    let set = ok_json(&[
        "profile",
        "set",
        "--bootstrap",
        b,
        "--seed-file",
        sf,
        "--name",
        "Alice",
    ]);
    assert_eq!(set["name"], "Alice");
    let first_seqno = set["seqno"].as_i64().unwrap();
    assert!(first_seqno >= 1, "{set}");

    // A second device (a new process with the same seed) reads it from the swarm.
    let shown = ok_json(&["profile", "show", "--bootstrap", b, "--seed-file", sf]);
    assert_eq!(shown["name"], "Alice");
    assert_eq!(shown["seqnos"]["UserProfile"], first_seqno);

    // Renaming with an avatar builds on the stored state: a higher seqno, both fields.
    let avatar = dir.path().join("avatar.png");
    std::fs::write(&avatar, [0x89, b'P', b'N', b'G', 1, 2, 3]).unwrap();
    let set = ok_json(&[
        "profile",
        "set",
        "--bootstrap",
        b,
        "--seed-file",
        sf,
        "--name",
        "Alice B.",
        "--avatar",
        avatar.to_str().unwrap(),
    ]);
    assert!(set["seqno"].as_i64().unwrap() > first_seqno, "{set}");
    let shown = ok_json(&["profile", "show", "--bootstrap", b, "--seed-file", sf]);
    assert_eq!(shown["name"], "Alice B.");
    let url = s(&shown["avatar"]["url"]);
    assert!(url.contains("/file/"), "{shown}");
    assert_eq!(s(&shown["avatar"]["key"]).len(), 64);

    // Bad input: no name, an over-long name, a missing avatar file.
    bad_input(&[
        "profile",
        "set",
        "--bootstrap",
        b,
        "--seed-file",
        sf,
        "--name",
        " ",
    ]);
    bad_input(&[
        "profile",
        "set",
        "--bootstrap",
        b,
        "--seed-file",
        sf,
        "--name",
        &"x".repeat(101),
    ]);
    bad_input(&[
        "profile",
        "set",
        "--bootstrap",
        b,
        "--seed-file",
        sf,
        "--name",
        "A",
        "--avatar",
        "/nonexistent.png",
    ]);
}
