//! `metaless file encrypt|decrypt|put|get`: the vectors of test-vectors/attachments.json through
//! the command line, refusals (tampered, truncated, wrong key, bad flags) that leave no output
//! file behind, and a put/get round trip through a real loopback testnet's file server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use serde_json::Value;

mod common;
use common::{bad_input, ok_json};

fn entry(id: &str) -> Value {
    common::vector("attachments.json", id)
}

/// The upstream test's data: byte i is i·7 mod 256.
fn make_data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn encrypt_matches_the_vector_and_decrypt_restores_it() {
    let v = entry("attachment_encrypt_derived_100");
    let dir = tempfile::tempdir().unwrap();
    let (plain, enc, back) = (
        dir.path().join("plain"),
        dir.path().join("enc"),
        dir.path().join("back"),
    );
    std::fs::write(&plain, make_data(100)).unwrap();
    let seed = v["seed"].as_str().unwrap();
    let out = ok_json(&[
        "file",
        "encrypt",
        "--seed",
        seed,
        "--in",
        p(&plain),
        "--out",
        p(&enc),
    ]);
    assert_eq!(out["key"], v["expected_key"]);
    assert_eq!(out["size"], 100);
    assert_eq!(out["encrypted_size"], v["expected_size"]);
    let blob = std::fs::read(&enc).unwrap();
    assert_eq!(
        metaless_identity::hex::encode(&blob),
        v["expected_ciphertext"].as_str().unwrap()
    );

    // Deterministic: the same seed and content give the same file.
    let again = dir.path().join("again");
    ok_json(&[
        "file",
        "encrypt",
        "--seed",
        seed,
        "--in",
        p(&plain),
        "--out",
        p(&again),
    ]);
    assert_eq!(std::fs::read(&again).unwrap(), blob);

    let key = out["key"].as_str().unwrap();
    let out = ok_json(&[
        "file",
        "decrypt",
        "--key",
        key,
        "--in",
        p(&enc),
        "--out",
        p(&back),
    ]);
    assert_eq!(out["size"], 100);
    assert_eq!(std::fs::read(&back).unwrap(), make_data(100));
}

#[test]
fn profile_pic_domain_gives_its_own_key() {
    let v = entry("profile_pic_encrypt_derived_100");
    let dir = tempfile::tempdir().unwrap();
    let (plain, enc) = (dir.path().join("plain"), dir.path().join("enc"));
    std::fs::write(&plain, make_data(100)).unwrap();
    let out = ok_json(&[
        "file",
        "encrypt",
        "--seed",
        v["seed"].as_str().unwrap(),
        "--domain",
        "profile-pic",
        "--in",
        p(&plain),
        "--out",
        p(&enc),
    ]);
    assert_eq!(out["key"], v["expected_key"]);
}

#[test]
fn refused_decryptions_leave_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, enc, back) = (
        dir.path().join("plain"),
        dir.path().join("enc"),
        dir.path().join("back"),
    );
    std::fs::write(&plain, make_data(70_000)).unwrap();
    let seed = "11".repeat(32);
    let out = ok_json(&[
        "file",
        "encrypt",
        "--seed",
        &seed,
        "--in",
        p(&plain),
        "--out",
        p(&enc),
    ]);
    let key = out["key"].as_str().unwrap().to_owned();
    let blob = std::fs::read(&enc).unwrap();

    let mut cases: Vec<(&str, Vec<u8>, String)> = Vec::new();
    let mut tampered = blob.clone();
    tampered[40_000] ^= 1;
    cases.push(("tampered chunk", tampered, key.clone()));
    cases.push(("truncated", blob[..blob.len() - 100].to_vec(), key.clone()));
    cases.push(("wrong key", blob.clone(), "22".repeat(32)));
    for (what, bytes, key) in cases {
        std::fs::write(&enc, &bytes).unwrap();
        let err = bad_input(&[
            "file",
            "decrypt",
            "--key",
            &key,
            "--in",
            p(&enc),
            "--out",
            p(&back),
        ]);
        assert!(err.contains("decrypt"), "{what}: {err}");
        assert!(!back.exists(), "{what}: a refused decryption left {back:?}");
    }

    // Bad flags: short key, 'S' with legacy flags, missing files.
    bad_input(&[
        "file",
        "decrypt",
        "--key",
        "abcd",
        "--in",
        p(&enc),
        "--out",
        p(&back),
    ]);
    bad_input(&[
        "file",
        "encrypt",
        "--seed",
        &seed,
        "--iv",
        &"00".repeat(16),
        "--in",
        p(&plain),
        "--out",
        p(&back),
    ]);
    let missing = dir.path().join("missing");
    bad_input(&[
        "file",
        "encrypt",
        "--seed",
        &seed,
        "--in",
        p(&missing),
        "--out",
        p(&back),
    ]);
    assert!(!back.exists());
}

#[test]
fn legacy_encrypt_matches_the_vector_and_needs_its_digest() {
    let v = entry("legacy_attachment_aes_cbc_hmac_derived");
    let dir = tempfile::tempdir().unwrap();
    let (plain, enc, back) = (
        dir.path().join("plain"),
        dir.path().join("enc"),
        dir.path().join("back"),
    );
    // The vector's plaintext is "hello attachment" already padded to 541 bytes with zeros: the
    // CLI pads the 16 bytes to the same.
    std::fs::write(&plain, b"hello attachment").unwrap();
    let key = v["key64"].as_str().unwrap();
    let out = ok_json(&[
        "file",
        "encrypt",
        "--legacy",
        "--key",
        key,
        "--iv",
        v["iv"].as_str().unwrap(),
        "--in",
        p(&plain),
        "--out",
        p(&enc),
    ]);
    assert_eq!(out["digest"], v["expected_digest"]);
    assert_eq!(out["encrypted_size"], v["expected_blob_len"]);
    let digest = out["digest"].as_str().unwrap();

    let out = ok_json(&[
        "file",
        "decrypt",
        "--legacy",
        "--key",
        key,
        "--digest",
        digest,
        "--size",
        "16",
        "--in",
        p(&enc),
        "--out",
        p(&back),
    ]);
    assert_eq!(out["size"], 16);
    assert_eq!(std::fs::read(&back).unwrap(), b"hello attachment");
    std::fs::remove_file(&back).unwrap();

    // Without --size the padding stays.
    let out = ok_json(&[
        "file",
        "decrypt",
        "--legacy",
        "--key",
        key,
        "--digest",
        digest,
        "--in",
        p(&enc),
        "--out",
        p(&back),
    ]);
    assert_eq!(out["size"], 541);
    std::fs::remove_file(&back).unwrap();

    // A digest that is not the file's, no digest, no IV: refused, nothing written.
    let wrong = "00".repeat(32);
    for args in [vec!["--digest", wrong.as_str()], vec![]] {
        let mut all = vec!["file", "decrypt", "--legacy", "--key", key];
        all.extend(args);
        all.extend(["--in", p(&enc), "--out", p(&back)]);
        bad_input(&all);
        assert!(!back.exists());
    }
    bad_input(&[
        "file",
        "encrypt",
        "--legacy",
        "--key",
        key,
        "--in",
        p(&plain),
        "--out",
        p(&back),
    ]);
}

fn up(dir: &Path) -> common::Testnet {
    common::testnet_up(dir, 6, 2)
}

#[test]
fn put_then_get_through_the_testnet_file_server() {
    let dir = tempfile::tempdir().unwrap();
    let net = up(&dir.path().join("net"));
    let b = p(&net.bootstrap);
    let (plain, back) = (dir.path().join("photo.bin"), dir.path().join("back"));
    // Over the client's progress threshold (256 KiB): progress lines on stderr.
    let data = make_data(600_000);
    std::fs::write(&plain, &data).unwrap();

    let out = common::metaless(&["file", "put", "--bootstrap", b, "--in", p(&plain)]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let put: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(put["ok"], true);
    assert_eq!(put["size"], 600_000);
    assert!(
        stderr.contains("upload:"),
        "no progress on stderr: {stderr}"
    );
    assert!(stderr.contains("MiB/s"), "no final progress line: {stderr}");
    let url = put["url"].as_str().unwrap();
    let key = put["key"].as_str().unwrap();
    assert!(url.contains(put["id"].as_str().unwrap()), "{put}");

    let out = common::metaless(&[
        "file",
        "get",
        "--bootstrap",
        b,
        "--url",
        url,
        "--key",
        key,
        "--size",
        "600000",
        "--out",
        p(&back),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["size"], 600_000);
    assert_eq!(std::fs::read(&back).unwrap(), data);
    std::fs::remove_file(&back).unwrap();

    // The wrong key downloads the blob but cannot open it; nothing is written.
    let out = common::metaless(&[
        "file",
        "get",
        "--bootstrap",
        b,
        "--url",
        url,
        "--key",
        &"33".repeat(32),
        "--out",
        p(&back),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(!back.exists());

    // A bootstrap without a file server says so.
    let other = dir.path().join("other.json");
    let mut file: Value = serde_json::from_slice(&std::fs::read(&net.bootstrap).unwrap()).unwrap();
    file.as_object_mut().unwrap().remove("file_server");
    std::fs::write(&other, file.to_string()).unwrap();
    let err = bad_input(&["file", "put", "--bootstrap", p(&other), "--in", p(&plain)]);
    assert!(err.contains("file_server"), "{err}");
}
