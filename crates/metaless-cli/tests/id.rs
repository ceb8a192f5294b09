//! `metaless id new|restore|blind`, run as a user runs them, against upstream's known answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;
use common::*;

use serde_json::Value;

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

const FIELDS: [&str; 5] = ["seed", "ed25519_pk", "x25519_pk", "session_id", "mnemonic"];

fn assert_identity_shape(v: &Value) {
    let object = v.as_object().unwrap();
    assert_eq!(object.len(), FIELDS.len(), "{v}");
    for field in FIELDS {
        assert!(object.contains_key(field), "{field} missing from {v}");
    }
    assert_eq!(s(&v["seed"]).len(), 64);
    assert_eq!(s(&v["ed25519_pk"]).len(), 64);
    assert_eq!(s(&v["x25519_pk"]).len(), 64);
    assert_eq!(s(&v["session_id"]), format!("05{}", s(&v["x25519_pk"])));
}

#[test]
fn new_with_seed_matches_upstream_keys_and_restores() {
    let v = vectors("session_encrypt.json");
    let keys = v["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    for case in keys {
        let out = ok_json(&["id", "new", "--seed", s(&case["ed25519_seed"])]);
        assert_identity_shape(&out);
        assert_eq!(out["seed"], case["ed25519_seed"]);
        assert_eq!(out["ed25519_pk"], case["ed25519_pk"]);
        assert_eq!(out["x25519_pk"], case["x25519_pk"]);
        assert_eq!(out["session_id"], case["session_id"]);
        // These seeds are legacy ones (second half zero): the phrase is the 13-word form.
        assert_eq!(s(&out["mnemonic"]).split(' ').count(), 13);
        let restored = ok_json(&["id", "restore", "--mnemonic", s(&out["mnemonic"])]);
        assert_eq!(restored, out);
    }
}

#[test]
fn phrases_match_upstream_mnemonic_vectors() {
    let v = vectors("mnemonic.json");
    let cases = v["with_checksum"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let bytes_hex = s(&case["bytes_hex"]);
        let full_seed = format!("{bytes_hex:0<64}");
        // A 16-byte seed is accepted as 32 hex digits and shown zero-extended.
        let out = ok_json(&["id", "new", "--seed", bytes_hex]);
        assert_eq!(out["mnemonic"], case["phrase"]);
        assert_eq!(s(&out["seed"]), full_seed);
        let restored = ok_json(&["id", "restore", "--mnemonic", s(&case["phrase"])]);
        assert_eq!(s(&restored["seed"]), full_seed);
        assert_eq!(restored, out);
    }
    // Upstream's accepted spellings (typos past the prefix, prefixes only, capitals).
    for case in v["accepted_spellings"].as_array().unwrap() {
        let out = ok_json(&["id", "restore", "--mnemonic", s(&case["phrase"])]);
        assert_eq!(s(&out["seed"]), format!("{:0<64}", s(&case["bytes_hex"])));
    }
}

#[test]
fn new_without_seed_is_a_fresh_session_style_account() {
    let a = ok_json(&["id", "new"]);
    let b = ok_json(&["id", "new"]);
    assert_identity_shape(&a);
    assert_ne!(a["seed"], b["seed"]);
    // 16 bytes of entropy, zero-extended, with the 13-word phrase the Session apps accept.
    assert!(s(&a["seed"]).ends_with(&"0".repeat(32)));
    assert_eq!(s(&a["mnemonic"]).split(' ').count(), 13);
    assert_eq!(
        ok_json(&["id", "restore", "--mnemonic", s(&a["mnemonic"])]),
        a
    );
    assert_eq!(ok_json(&["id", "new", "--seed", s(&a["seed"])]), a);
}

#[test]
fn full_seed_gives_twenty_five_words() {
    let seed = "8659efdcbe0949e0f81141e6d397e8be75f45d09262f209d5950e97989eb43c7";
    let out = ok_json(&["id", "new", "--seed", seed]);
    assert_eq!(s(&out["mnemonic"]).split(' ').count(), 25);
    assert_eq!(
        ok_json(&["id", "restore", "--mnemonic", s(&out["mnemonic"])]),
        out
    );
}

#[test]
fn blind_matches_upstream_ids() {
    let v = vectors("blinding.json");
    let identities = v["identities"].as_array().unwrap();
    for case in v["blind25_id"].as_array().unwrap() {
        let identity = identities
            .iter()
            .find(|i| i["session_id"] == case["session_id"])
            .unwrap();
        let seed = &s(&identity["ed25519_sk64"])[..64];
        let out = ok_json(&[
            "id",
            "blind",
            "--seed",
            seed,
            "--server-pk",
            s(&case["server_pk"]),
        ]);
        assert_eq!(out.as_object().unwrap().len(), 2);
        assert_eq!(out["blinded25"], case["expected"]);
    }
    for case in v["blind15_id"].as_array().unwrap() {
        let identity = identities
            .iter()
            .find(|i| i["session_id"] == case["session_id"])
            .unwrap();
        let sk = s(&identity["ed25519_sk64"]);
        let out = ok_json(&[
            "id",
            "blind",
            "--seed",
            &sk[..64],
            "--server-pk",
            s(&case["server_pk"]),
        ]);
        // The account's own 15 ID: upstream's positive candidate, or its negation (last byte's
        // top bit flipped) when the Ed25519 key is negative (top bit of its last byte set).
        let expected = s(&case["expected"]);
        let negative = u8::from_str_radix(&sk[126..], 16).unwrap() & 0x80 != 0;
        let want = if negative {
            let last = u8::from_str_radix(&expected[64..], 16).unwrap() ^ 0x80;
            format!("{}{last:02x}", &expected[..64])
        } else {
            expected.to_owned()
        };
        assert_eq!(s(&out["blinded15"]), want);
    }
}

#[test]
fn bad_seeds_are_refused() {
    for bad in [
        "",
        "zz",
        "abc",
        &"0".repeat(62),
        &"0".repeat(66),
        &"g".repeat(64),
    ] {
        let err = bad_input(&["id", "new", "--seed", bad]);
        assert!(err.contains("--seed"), "{err}");
        bad_input(&[
            "id",
            "blind",
            "--seed",
            bad,
            "--server-pk",
            &"ab".repeat(32),
        ]);
    }
}

#[test]
fn bad_phrases_are_refused_with_the_reason() {
    let v = vectors("mnemonic.json");
    let cases = v["rejects"].as_array().unwrap();
    for case in cases {
        let err = bad_input(&["id", "restore", "--mnemonic", s(&case["phrase"])]);
        assert!(err.contains("--mnemonic"), "{err}");
        // Never echo the phrase.
        for word in s(&case["phrase"]).split(' ') {
            assert!(!err.contains(word), "{err}");
        }
    }
    let err = bad_input(&["id", "restore", "--mnemonic", "abbey abbey abbey"]);
    assert!(err.contains("3 words"), "{err}");
    let thirteen_bad_checksum = format!("{} abducts", ["abbey"; 12].join(" "));
    assert!(
        bad_input(&["id", "restore", "--mnemonic", &thirteen_bad_checksum]).contains("checksum")
    );
    assert!(bad_input(&["id", "restore", "--mnemonic", ""]).contains("0 words"));
}

#[test]
fn bad_server_keys_are_refused() {
    let seed = "0123456789abcdef0123456789abcdef00000000000000000000000000000000";
    for bad in [
        "",
        "ab",
        &"ab".repeat(31),
        &"ab".repeat(33),
        &"xy".repeat(32),
    ] {
        let err = bad_input(&["id", "blind", "--seed", seed, "--server-pk", bad]);
        assert!(err.contains("--server-pk"), "{err}");
        assert!(!err.contains(seed), "{err}");
    }
}

#[test]
fn usage_errors_exit_two_with_nothing_on_stdout() {
    for args in [
        &["id", "blind", "--seed", "00"][..],
        &["id", "restore"][..],
        &["id", "frobnicate"][..],
        &["id", "new", "--seed"][..],
    ] {
        let out = metaless(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn a_command_without_its_subcommand_names_them_in_one_line() {
    let err = bad_input(&["id"]);
    assert!(
        err.contains("`metaless id` needs a subcommand: new, restore, blind"),
        "{err}"
    );
    let err = bad_input(&[]);
    assert!(err.contains("testnet") && err.contains("--help"), "{err}");
}
