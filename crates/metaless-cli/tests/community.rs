//! `metaless community auth|dm-seal|dm-open`, run as a user runs them, against communities.json.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;
use common::*;

use base64::Engine;
use serde_json::Value;

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn case(id: &str) -> Value {
    let v = vectors("communities.json");
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
        .clone()
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
