//! Upstream known answers: libsession-util tests/test_onionreq.cpp, via test-vectors/onionreq.json.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_identity::X25519Secret;
use metaless_onion::{
    EncType, NodeKey, OnionError, PendingResponse, ReplyContext, decode_layer, open_layer,
};
use rand_core::SeedableRng;
use serde_json::Value;

use metaless_test_vectors::{array as key, bytes};

fn vectors() -> Value {
    metaless_test_vectors::load("onionreq.json")
}

fn enc(v: &Value) -> EncType {
    v["enc_type"].as_str().unwrap().parse().unwrap()
}

#[test]
fn hop_decrypt_known_answers() {
    let all = vectors();
    let cases = all["hop_decrypt"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let secret = X25519Secret::from_bytes(key(case, "node_secret"));
        let node = NodeKey::new(&secret);
        assert_eq!(node.public_key(), key(case, "node_public"));
        let ctx =
            ReplyContext::new(&node, &key(case, "client_ephemeral_public"), enc(case)).unwrap();
        let plain = ctx.decrypt_request(&bytes(case, "ciphertext")).unwrap();
        assert_eq!(plain, case["plaintext_utf8"].as_str().unwrap().as_bytes());
    }
}

#[test]
fn hop_decrypt_must_fail() {
    let all = vectors();
    let base = &all["hop_decrypt"][0];
    let secret = X25519Secret::from_bytes(key(base, "node_secret"));
    let node = NodeKey::new(&secret);
    let cases = all["hop_decrypt_must_fail"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let ctx =
            ReplyContext::new(&node, &key(base, "client_ephemeral_public"), enc(case)).unwrap();
        assert_eq!(
            ctx.decrypt_request(&bytes(case, "ciphertext")),
            Err(OnionError::Decrypt)
        );
    }
}

#[test]
fn parse_request_known_answers_and_replies() {
    let all = vectors();
    let cases = all["parse_request"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([11u8; 32]);
    for case in cases {
        let body = bytes(case, "body");
        let layer = decode_layer(&body).unwrap();
        assert_eq!(layer.enc_type, enc(case));
        assert_eq!(layer.ephemeral_key, key(case, "client_ephemeral_public"));

        let secret = X25519Secret::from_bytes(key(case, "node_secret"));
        let node = NodeKey::new(&secret);
        assert_eq!(node.public_key(), key(case, "node_public"));
        let (payload, reply) = open_layer(&node, &body).unwrap();
        assert_eq!(payload, case["payload_utf8"].as_str().unwrap().as_bytes());
        assert_eq!(
            reply.client_ephemeral_key(),
            key(case, "client_ephemeral_public")
        );

        // Reply: 13 bytes of plaintext give upstream's reply length; the client's ephemeral
        // secret opens it.
        let sealed = reply.encrypt_response(b"Goodbye world", &mut rng).unwrap();
        assert_eq!(
            sealed.len() as u64,
            case["reply_len_for_13_bytes"].as_u64().unwrap()
        );
        let client = X25519Secret::from_bytes(key(case, "client_ephemeral_secret"));
        assert_eq!(client.public_key(), key(case, "client_ephemeral_public"));
        let pending = PendingResponse::from_parts(client, node.public_key(), enc(case)).unwrap();
        assert_eq!(pending.open(&sealed).unwrap(), b"Goodbye world");

        // The same reply as base64 text, as a service node sends it by default.
        use base64::Engine;
        let text = base64::engine::general_purpose::STANDARD.encode(&sealed);
        assert_eq!(pending.open(text.as_bytes()).unwrap(), b"Goodbye world");
    }
}
