//! `metaless msg …` end to end: JSON out on success; one `error:` line, empty stdout and exit
//! code 2 on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;
use common::*;

use std::path::PathBuf;

use serde_json::Value;

const ALICE_SEED: &str = "0123456789abcdef0123456789abcdef00000000000000000000000000000000";
const ALICE_ID: &str = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
const BOB_SEED: &str = "00112233445566778899aabbccddeeff00000000000000000000000000000000";
const BOB_ID: &str = "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74";

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("metaless-msg-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[test]
fn encrypt_then_decrypt() {
    let plain = temp_file("plain", b"raw bytes \x00\xff");
    let out = ok_json(&[
        "msg",
        "encrypt",
        "--sender-seed",
        ALICE_SEED,
        "--to",
        BOB_ID,
        "--in",
        plain.to_str().unwrap(),
    ]);
    assert_eq!(out.as_object().unwrap().len(), 1);
    let ciphertext_b64 = out["ciphertext_b64"].as_str().unwrap();
    // Decrypt reads the file as base64 text here...
    let sealed = temp_file("sealed-b64", ciphertext_b64.as_bytes());
    let opened = ok_json(&[
        "msg",
        "decrypt",
        "--seed",
        BOB_SEED,
        "--in",
        sealed.to_str().unwrap(),
    ]);
    assert_eq!(
        opened,
        serde_json::json!({ "sender": ALICE_ID, "plaintext_b64": b64(b"raw bytes \x00\xff") })
    );
    // ...and the wrong account cannot open it.
    bad_input(&[
        "msg",
        "decrypt",
        "--seed",
        ALICE_SEED,
        "--in",
        sealed.to_str().unwrap(),
    ]);
}

#[test]
fn decrypt_reads_the_upstream_deterministic_vector_as_raw_bytes() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/session_encrypt.json"
    );
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = &vectors["encrypt_for_recipient_deterministic"][0];
    let ciphertext = metaless_hex(case["ciphertext_hex"].as_str().unwrap());
    let file = temp_file("vector", &ciphertext);
    let opened = ok_json(&[
        "msg",
        "decrypt",
        "--seed",
        case["decrypt_with_recipient_seed"].as_str().unwrap(),
        "--in",
        file.to_str().unwrap(),
    ]);
    assert_eq!(opened["sender"], ALICE_ID);
    assert_eq!(
        opened["plaintext_b64"],
        b64(case["plaintext_utf8"].as_str().unwrap().as_bytes())
    );
}

fn metaless_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn seal_then_open() {
    let sealed = ok_json(&[
        "msg",
        "seal",
        "--sender-seed",
        ALICE_SEED,
        "--to",
        BOB_ID,
        "--text",
        "hi Bob",
        "--sent-at-ms",
        "1754971101000",
        "--disappear",
        "after-send",
        "--timer-s",
        "3600",
    ]);
    assert_eq!(sealed.as_object().unwrap().len(), 1);
    let data = sealed["data_b64"].as_str().unwrap();
    let opened = ok_json(&["msg", "open", "--seed", BOB_SEED, "--data-b64", data]);
    assert_eq!(
        opened,
        serde_json::json!({
            "sender": ALICE_ID,
            "text": "hi Bob",
            "sent_at_ms": 1_754_971_101_000u64,
            "disappear": { "type": "after-send", "timer_s": 3600 },
        })
    );

    let plain = ok_json(&[
        "msg",
        "seal",
        "--sender-seed",
        ALICE_SEED,
        "--to",
        BOB_ID,
        "--text",
        "",
        "--sent-at-ms",
        "5",
    ]);
    let opened = ok_json(&[
        "msg",
        "open",
        "--seed",
        BOB_SEED,
        "--data-b64",
        plain["data_b64"].as_str().unwrap(),
    ]);
    assert_eq!(opened["disappear"], Value::Null);
    assert_eq!(opened["text"], "");
    assert_eq!(opened["sent_at_ms"], 5);

    let read = ok_json(&[
        "msg",
        "seal",
        "--sender-seed",
        ALICE_SEED,
        "--to",
        BOB_ID,
        "--text",
        "x",
        "--disappear",
        "after-read",
        "--timer-s",
        "60",
    ]);
    let opened = ok_json(&[
        "msg",
        "open",
        "--seed",
        BOB_SEED,
        "--data-b64",
        read["data_b64"].as_str().unwrap(),
    ]);
    assert_eq!(
        opened["disappear"],
        serde_json::json!({ "type": "after-read", "timer_s": 60 })
    );
    assert!(
        opened["sent_at_ms"].as_u64().unwrap() > 1_700_000_000_000,
        "defaults to now"
    );

    // Sealed to Bob: Alice cannot open it.
    bad_input(&["msg", "open", "--seed", ALICE_SEED, "--data-b64", data]);
}

#[test]
fn bad_input_exits_2_with_empty_stdout() {
    let plain = temp_file("bad-plain", b"x");
    let plain = plain.to_str().unwrap();
    bad_input(&[
        "msg",
        "encrypt",
        "--sender-seed",
        "zz",
        "--to",
        BOB_ID,
        "--in",
        plain,
    ]);
    bad_input(&[
        "msg",
        "encrypt",
        "--sender-seed",
        ALICE_SEED,
        "--to",
        "05abc",
        "--in",
        plain,
    ]);
    bad_input(&[
        "msg",
        "encrypt",
        "--sender-seed",
        ALICE_SEED,
        "--to",
        BOB_ID,
        "--in",
        "/nonexistent/file",
    ]);
    bad_input(&["msg", "decrypt", "--seed", BOB_SEED, "--in", plain]);
    bad_seal(&["--disappear", "after-send"]);
    bad_seal(&["--timer-s", "5"]);
    bad_seal(&["--disappear", "after-send", "--timer-s", "0"]);
    bad_seal(&["--disappear", "sometimes", "--timer-s", "5"]);
    bad_input(&[
        "msg",
        "open",
        "--seed",
        BOB_SEED,
        "--data-b64",
        "not base64!",
    ]);
    bad_input(&[
        "msg",
        "open",
        "--seed",
        BOB_SEED,
        "--data-b64",
        &b64(b"not a message"),
    ]);
}

/// A `msg seal` from Alice to Bob with text "x" and `extra` options, which must be refused.
fn bad_seal(extra: &[&str]) {
    let mut args = vec![
        "msg",
        "seal",
        "--sender-seed",
        ALICE_SEED,
        "--to",
        BOB_ID,
        "--text",
        "x",
    ];
    args.extend_from_slice(extra);
    bad_input(&args);
}
