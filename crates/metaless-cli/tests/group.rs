//! `metaless group …` end to end against the upstream sub-account KAT and the derived group
//! message vector.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;
use common::*;

use base64::Engine;

const GROUP_SEED: &str = "0123456789abcdeffedcba98765432100123456789abcdeffedcba9876543210";
const GROUP_ID: &str = "03c50cb3ae956947a8de19135b5be2685ff348afc63fc34a837aca12bc5c1f5625";
const MEMBER_ID: &str = "05c5ba413c336f2fe1fb9a2c525f8a86a412a1db128a7841b4e0e217fa9eb7fd5e";

#[test]
fn subaccount_matches_upstream_kat() {
    let out = ok_json(&[
        "group",
        "subaccount",
        "--group-seed",
        GROUP_SEED,
        "--member",
        MEMBER_ID,
        "--write",
    ]);
    let auth = metaless_identity::hex::decode(out["auth"].as_str().unwrap()).unwrap();
    assert_eq!(auth.len(), 100);
    assert_eq!(&auth[..4], &[3, 3, 0, 0]);
    // The signature half is upstream's subaccount_sig (group_keys_swarm_auth).
    let sig = base64::engine::general_purpose::STANDARD
        .decode("6brvv/2jfciBAJeRKMGSepNJLullyrVVHijyVDE+8GC5Oc89UNxjNrq1kVV1P+pkUIRDOew24gSLFgLZfdl+BQ==")
        .unwrap();
    assert_eq!(&auth[36..], &sig[..]);
    // Read-only and delete flags.
    let ro = ok_json(&[
        "group",
        "subaccount",
        "--group-seed",
        GROUP_SEED,
        "--member",
        MEMBER_ID,
    ]);
    assert!(ro["auth"].as_str().unwrap().starts_with("03010000"));
    let rwd = ok_json(&[
        "group",
        "subaccount",
        "--group-seed",
        GROUP_SEED,
        "--member",
        MEMBER_ID,
        "--write",
        "--delete",
    ]);
    assert!(rwd["auth"].as_str().unwrap().starts_with("03070000"));
    // A group id is not a member.
    bad_input(&[
        "group",
        "subaccount",
        "--group-seed",
        GROUP_SEED,
        "--member",
        GROUP_ID,
    ]);
    bad_input(&[
        "group",
        "subaccount",
        "--group-seed",
        "00",
        "--member",
        MEMBER_ID,
    ]);
}

#[test]
fn encrypt_decrypt_derived_vector() {
    let sk = "000111222333444555666777888999aaabbbcccdddeeefff0123456789abcdef";
    let key = "c46568d9431515236220e362eab1e096061be67f47cb6cb35e9c9fc60818d830";
    let plain = "08072880d095ffbc31420c0a0a0a0868692067726f7570";
    let expected = "0000000000000000000000000000000000000000000000008da437cb3bb82cb1b7d79a371e23736f6ca2bf994230400a009be1c83b62dcbde3d9065df8b990d8104819971aabdf5de892091d2268e585657a0dd0cbcdbfd34eaac4f5b005caf9f5912878cb444f77f22a735443d41cf86d8c76efafa35d0e7bcc9f0349fdd6ad8023d3061ec7b25a5ab2bfac1b993fe245b15eda11479ae0424f3bba3ff800ddecb17c78162fac42f32c5fe0fd7bce96947ad7f4b5848736a54a8bb046735ee19ed5cd01648f655924fbd3d96171c44a83d1071f4fa10858e34d2293ca2bf501bd52148ca00c19a4cfef76c9556b18e63a25a605513883e01d10670bf2fc3e2b";
    let out = ok_json(&[
        "group",
        "encrypt",
        "--sender-seed",
        sk,
        "--group",
        GROUP_ID,
        "--key",
        key,
        "--plaintext-hex",
        plain,
        "--nonce",
        &"00".repeat(24),
        "--no-compress",
    ]);
    assert_eq!(out["ciphertext_hex"], expected);
    let wrong = "11".repeat(32);
    let got = ok_json(&[
        "group",
        "decrypt",
        "--group",
        GROUP_ID,
        "--key",
        &wrong,
        "--key",
        key,
        "--ciphertext-hex",
        expected,
    ]);
    assert_eq!(got["plaintext_hex"], plain);
    assert_eq!(got["signature"], "current");
    assert_eq!(got["key_index"], 1);
    assert_eq!(got["compressed"], false);
    bad_input(&[
        "group",
        "decrypt",
        "--group",
        GROUP_ID,
        "--key",
        &wrong,
        "--ciphertext-hex",
        expected,
    ]);
}
