//! Upstream known answers: seed → Ed25519 → X25519 → Session ID.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_identity::{Keypair, Seed, SessionId, ed25519_to_x25519_public, hex};

use metaless_test_vectors::load as vectors;

#[test]
fn seed_to_session_id_matches_upstream() {
    let v = vectors("session_encrypt.json");
    let keys = v["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    for case in keys {
        let seed = Seed::from_hex(case["ed25519_seed"].as_str().unwrap()).unwrap();
        let kp = Keypair::from_seed(&seed);
        assert_eq!(
            hex::encode(&kp.ed25519_public()),
            case["ed25519_pk"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(&kp.x25519_public()),
            case["x25519_pk"].as_str().unwrap()
        );
        assert_eq!(
            kp.session_id().to_string(),
            case["session_id"].as_str().unwrap()
        );
        assert_eq!(
            ed25519_to_x25519_public(&kp.ed25519_public()).unwrap(),
            kp.x25519_public()
        );
        // The X25519 secret must be the one whose public key is in the Session ID.
        assert_eq!(kp.x25519_secret().public_key(), kp.x25519_public());
    }
}

#[test]
fn libsodium_secret_keys_match_upstream_session_ids() {
    let v = vectors("blinding.json");
    for case in v["identities"].as_array().unwrap() {
        let sk: [u8; 64] = hex::decode_array(case["ed25519_sk64"].as_str().unwrap()).unwrap();
        let kp = Keypair::from_libsodium_secret(&sk).unwrap();
        let expected: SessionId = case["session_id"].as_str().unwrap().parse().unwrap();
        assert_eq!(kp.session_id(), expected);
    }
}

/// libsession-util's plain Ed25519 signature of "hello" (tests/test_ed25519.cpp), through
/// `Keypair::sign` (the IFMA path on a CPU with AVX-512 IFMA) and verified back.
#[test]
fn ed25519_signature_matches_upstream() {
    let v = vectors("identity.json");
    let cases: Vec<_> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "ed25519_sign_hello")
        .collect();
    assert_eq!(cases.len(), 1);
    for case in cases {
        let kp =
            Keypair::from_seed(&Seed::from_hex(case["ed25519_seed"].as_str().unwrap()).unwrap());
        let message = case["message_utf8"].as_str().unwrap().as_bytes();
        let sig = kp.sign(message);
        assert_eq!(hex::encode(&sig), case["signature_hex"].as_str().unwrap());
        assert!(metaless_identity::verify_ed25519(&kp.ed25519_public(), message, &sig).is_ok());
    }
}
