//! `metaless send` / `metaless inbox` against a real loopback HTTP testnet started with
//! `metaless testnet init` + `up`: JSON, exit codes, one-line errors, the state file, secrets
//! from a file, the environment and stdin.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

fn metaless() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_metaless"));
    c.env_remove("METALESS_SEED");
    c
}

fn up(dir: &Path) -> common::Testnet {
    common::testnet_up(dir, 6, 2)
}

/// A new account: its seed file and Session ID.
fn account(dir: &Path, name: &str) -> (PathBuf, String) {
    let out = metaless().args(["id", "new"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = dir.join(format!("{name}.seed"));
    std::fs::write(&path, v["seed"].as_str().unwrap()).unwrap();
    (path, v["session_id"].as_str().unwrap().to_owned())
}

fn run(args: &[&str]) -> Output {
    metaless().args(args).output().unwrap()
}

fn stdout_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn one_line_error(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    let last = err.lines().last().unwrap_or_default().to_owned();
    assert!(last.starts_with("error: "), "{err}");
    last
}

#[test]
fn send_then_inbox_prints_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let net = up(&dir.path().join("net"));
    let b = net.bootstrap.to_str().unwrap();
    let (alice_seed, alice_id) = account(dir.path(), "alice");
    let (bob_seed, bob_id) = account(dir.path(), "bob");
    let (alice_seed, bob_seed) = (alice_seed.to_str().unwrap(), bob_seed.to_str().unwrap());

    let out = run(&[
        "send",
        "--bootstrap",
        b,
        "--seed-file",
        alice_seed,
        "--to",
        &bob_id,
        "--text",
        "hello from the CLI",
        "--ttl-ms",
        "600000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent = stdout_lines(&out);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["ok"], true);
    assert_eq!(sent[0]["hash"].as_str().unwrap().len(), 43);
    assert!(sent[0]["stored_on"].as_u64().unwrap() >= 1);

    let out = run(&[
        "inbox",
        "--bootstrap",
        b,
        "--seed-file",
        bob_seed,
        "--wait-ms",
        "5000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = stdout_lines(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["from"], alice_id.as_str());
    assert_eq!(got[0]["text"], "hello from the CLI");
    assert_eq!(got[0]["hash"], sent[0]["hash"]);
    assert!(got[0]["timestamp_ms"].as_u64().unwrap() > 1_600_000_000_000);
    assert!(
        Path::new(&format!("{bob_seed}.inbox.json")).exists(),
        "state next to the seed"
    );

    // --since-last: nothing new, nothing printed.
    let out = run(&[
        "inbox",
        "--bootstrap",
        b,
        "--seed-file",
        bob_seed,
        "--since-last",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    // A second message, the seed from the environment and from stdin.
    let out = metaless()
        .args([
            "send",
            "--bootstrap",
            b,
            "--to",
            &bob_id,
            "--text",
            "second",
        ])
        .env(
            "METALESS_SEED",
            std::fs::read_to_string(alice_seed).unwrap(),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = metaless()
        .args([
            "inbox",
            "--bootstrap",
            b,
            "--seed-file",
            "-",
            "--wait-ms",
            "5000",
            "--no-state",
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
        .write_all(std::fs::read(bob_seed).unwrap().as_slice())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let texts: Vec<_> = stdout_lines(&out)
        .iter()
        .map(|v| v["text"].clone())
        .collect();
    assert_eq!(
        texts,
        ["hello from the CLI", "second"],
        "without state: every message"
    );
    // With the state file: only the new one.
    let out = run(&[
        "inbox",
        "--bootstrap",
        b,
        "--seed-file",
        bob_seed,
        "--since-last",
        "--wait-ms",
        "5000",
    ]);
    let texts: Vec<_> = stdout_lines(&out)
        .iter()
        .map(|v| v["text"].clone())
        .collect();
    assert_eq!(texts, ["second"]);
}

#[test]
fn send_and_inbox_fail_with_one_line_and_an_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let (seed, id) = account(dir.path(), "a");
    let seed = seed.to_str().unwrap();
    // Bad input: exit 2.
    one_line_error(
        &run(&[
            "send",
            "--network",
            "mainnet",
            "--seed-file",
            seed,
            "--to",
            "05zz",
            "--text",
            "x",
        ]),
        2,
    );
    one_line_error(
        &run(&["send", "--to", &id, "--text", "x", "--seed-file", seed]),
        2,
    );
    let missing = one_line_error(
        &run(&["send", "--network", "mainnet", "--to", &id, "--text", "x"]),
        2,
    );
    assert!(missing.contains("METALESS_SEED"), "{missing}");
    let nofile = dir.path().join("nope.json");
    one_line_error(
        &run(&[
            "inbox",
            "--bootstrap",
            nofile.to_str().unwrap(),
            "--seed-file",
            seed,
        ]),
        2,
    );
    // Nothing listening: exit 1, not delivered.
    let dead = dir.path().join("dead.json");
    std::fs::write(
        &dead,
        r#"{"version":1,"nodes":[
 {"pubkey_ed25519":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","swarm_id":1,"ip":"127.0.0.1","port":9},
 {"pubkey_ed25519":"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c","swarm_id":1,"ip":"127.0.0.1","port":9},
 {"pubkey_ed25519":"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025","swarm_id":1,"ip":"127.0.0.1","port":9},
 {"pubkey_ed25519":"278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e","swarm_id":1,"ip":"127.0.0.1","port":9}]}"#,
    )
    .unwrap();
    let d = dead.to_str().unwrap();
    let err = one_line_error(
        &run(&[
            "send",
            "--bootstrap",
            d,
            "--seed-file",
            seed,
            "--to",
            &id,
            "--text",
            "x",
            "--timeout-ms",
            "1500",
        ]),
        1,
    );
    assert!(err.contains("not delivered"), "{err}");
}

#[test]
fn help_warns_that_argv_secrets_are_visible() {
    for args in [["msg", "seal", "--help"], ["id", "blind", "--help"]] {
        let out = run(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("visible to other local users"),
            "{args:?}: {text}"
        );
    }
}
