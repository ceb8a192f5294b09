//! Upstream known answers from `test-vectors/session_encrypt.json`
//! (libsession-util tests/test_session_encrypt.cpp).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_envelope::{
    EnvelopeError, OVERHEAD, decrypt_incoming, encrypt_for_recipient,
    encrypt_for_recipient_deterministic,
};
use metaless_identity::{Keypair, Seed, SessionId, hex};
use serde_json::Value;

fn vectors() -> Value {
    metaless_test_vectors::load("session_encrypt.json")
}

fn keypair(seed_hex: &str) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes(hex::decode_array(seed_hex).unwrap()))
}

fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case[name]
        .as_str()
        .unwrap_or_else(|| panic!("missing {name}"))
}

#[test]
fn identities_match_upstream() {
    let all = vectors();
    let keys = all["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for case in keys {
        let pair = keypair(field(case, "ed25519_seed"));
        assert_eq!(
            hex::encode(&pair.ed25519_public()),
            field(case, "ed25519_pk")
        );
        assert_eq!(hex::encode(&pair.x25519_public()), field(case, "x25519_pk"));
        assert_eq!(pair.session_id().to_string(), field(case, "session_id"));
    }
}

#[test]
fn deterministic_encryption_matches_upstream_bytes() {
    let all = vectors();
    let cases = all["encrypt_for_recipient_deterministic"]
        .as_array()
        .unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let sender = keypair(field(case, "sender_ed25519_seed"));
        let to: SessionId = field(case, "recipient_session_id").parse().unwrap();
        let plaintext = field(case, "plaintext_utf8").as_bytes();
        let expected = hex::decode(field(case, "ciphertext_hex")).unwrap();

        let ours = encrypt_for_recipient_deterministic(&sender, &to, plaintext).unwrap();
        assert_eq!(hex::encode(&ours), hex::encode(&expected));

        let recipient = keypair(field(case, "decrypt_with_recipient_seed"));
        assert_eq!(recipient.session_id(), to);
        let opened = decrypt_incoming(&recipient, &expected).unwrap();
        assert_eq!(opened.plaintext, plaintext);
        assert_eq!(
            hex::encode(&opened.sender_ed25519),
            field(case, "expected_sender_ed25519_pk")
        );
        assert_eq!(opened.sender, sender.session_id());

        // The sender cannot open what it sealed to someone else (upstream checks this too).
        assert_eq!(
            decrypt_incoming(&sender, &expected),
            Err(EnvelopeError::WrongRecipient)
        );
    }
}

#[test]
fn random_encryption_round_trips_between_the_upstream_identities() {
    let all = vectors();
    let keys = all["keys"].as_array().unwrap();
    let alice = keypair(field(&keys[0], "ed25519_seed"));
    let bob = keypair(field(&keys[1], "ed25519_seed"));
    let lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
                 incididunt ut labore et dolore magna aliqua.";
    let one = encrypt_for_recipient(
        &alice,
        &bob.session_id(),
        lorem.as_bytes(),
        &mut rand::thread_rng(),
    )
    .unwrap();
    let two = encrypt_for_recipient(
        &alice,
        &bob.session_id(),
        lorem.as_bytes(),
        &mut rand::thread_rng(),
    )
    .unwrap();
    assert_ne!(one, two, "fresh ephemeral key each time");
    assert_eq!(one.len(), lorem.len() + OVERHEAD);
    assert!(!one.windows(12).any(|w| w == b"dolore magna"));
    let deterministic =
        encrypt_for_recipient_deterministic(&alice, &bob.session_id(), lorem.as_bytes()).unwrap();
    assert_eq!(deterministic.len(), one.len());
    for sealed in [one, two, deterministic] {
        let opened = decrypt_incoming(&bob, &sealed).unwrap();
        assert_eq!(opened.plaintext, lorem.as_bytes());
        assert_eq!(opened.sender, alice.session_id());
        let mut broken = sealed.clone();
        broken[14] ^= 0x80;
        assert_eq!(
            decrypt_incoming(&bob, &broken),
            Err(EnvelopeError::WrongRecipient)
        );
    }
}
