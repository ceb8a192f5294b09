//! The built bytes, read back by an independent decoder written from docs/onion-format.md with
//! the primitive crates directly (no metaless-onion code on the reading side): checks the exact
//! layout, JSON text, key derivations and sizes the format page states.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use aes_gcm::Aes256Gcm;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit};
use curve25519_dalek::montgomery::MontgomeryPoint;
use hmac::{Hmac, Mac};
use metaless_identity::{X25519Secret, hex};
use metaless_onion::{Destination, EncType, Hop, ServerDestination, build};
use rand_core::SeedableRng;
use sha2::Sha256;

fn reference_dh(secret: &[u8; 32], public: &[u8; 32]) -> [u8; 32] {
    MontgomeryPoint(*public).mul_clamped(*secret).to_bytes()
}

/// Decrypts `blob` addressed to the node with secret `b`, given the client's ephemeral `a_pub`.
fn reference_open(enc: &str, b: &[u8; 32], a_pub: &[u8; 32], blob: &[u8]) -> Vec<u8> {
    let b_pub = MontgomeryPoint::mul_base_clamped(*b).to_bytes();
    let s = reference_dh(b, a_pub);
    match enc {
        "xchacha20" => {
            let key: [u8; 32] = Blake2b::<U32>::new()
                .chain_update(s)
                .chain_update(a_pub)
                .chain_update(b_pub)
                .finalize()
                .into();
            let (nonce, ct) = blob.split_at(24);
            XChaCha20Poly1305::new(&key.into())
                .decrypt(nonce.into(), ct)
                .unwrap()
        }
        "aes-gcm" => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"LOKI").unwrap();
            mac.update(&s);
            let key: [u8; 32] = mac.finalize().into_bytes().into();
            let (iv, ct) = blob.split_at(12);
            Aes256Gcm::new(&key.into()).decrypt(iv.into(), ct).unwrap()
        }
        other => panic!("{other}"),
    }
}

/// `u32le(N) ‖ N bytes ‖ rest`.
fn frame(bytes: &[u8]) -> (&[u8], &[u8]) {
    let n = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    bytes[4..].split_at(n)
}

fn key_of(json: &serde_json::Value, field: &str) -> [u8; 32] {
    hex::decode_array(json[field].as_str().unwrap()).unwrap()
}

#[test]
fn a_built_onion_reads_as_documented() {
    for (enc, enc_name) in [
        (EncType::XChaCha20, "xchacha20"),
        (EncType::AesGcm, "aes-gcm"),
    ] {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([12u8; 32]);
        let secrets: Vec<[u8; 32]> = (1..=4u8).map(|i| [i * 3; 32]).collect();
        let hops: Vec<Hop> = secrets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Hop::new(
                    [0x10 + i as u8; 32],
                    X25519Secret::from_bytes(*s).public_key(),
                )
            })
            .collect();
        let payload = vec![0x42u8; 1024];
        let built = build(
            &hops[..3],
            &Destination::ServiceNode(hops[3].clone()),
            &payload,
            enc,
            &mut rng,
        )
        .unwrap();

        // Sizes as docs §4 states them.
        let o = enc.overhead();
        let route = if enc == EncType::XChaCha20 { 188 } else { 186 };
        let meta = if enc == EncType::XChaCha20 { 107 } else { 105 };
        let mut blob = 4 + payload.len() + 14 + o;
        for _ in 0..3 {
            blob = 4 + blob + route + o;
        }
        assert_eq!(built.body.len(), 4 + blob + meta);

        let (_, meta_bytes) = frame(&built.body);
        let meta: serde_json::Value = serde_json::from_slice(meta_bytes).unwrap();
        let outer = format!(
            r#"{{"enc_type":"{enc_name}","ephemeral_key":"{}"}}"#,
            meta["ephemeral_key"].as_str().unwrap()
        );
        assert_eq!(meta_bytes, outer.as_bytes(), "metadata text");

        // Each node receives `u32le(N) ‖ blob ‖ JSON with the key for blob`.
        let mut body = built.body.clone();
        for (i, secret) in secrets.iter().enumerate() {
            let (blob, json) = frame(&body);
            let json: serde_json::Value = serde_json::from_slice(json).unwrap();
            let layer = reference_open(enc_name, secret, &key_of(&json, "ephemeral_key"), blob);
            let (inner, routing) = frame(&layer);
            if i < 3 {
                let r: serde_json::Value = serde_json::from_slice(routing).unwrap();
                let expected = format!(
                    r#"{{"destination":"{}","enc_type":"{enc_name}","ephemeral_key":"{}"}}"#,
                    hex::encode(&hops[i + 1].ed25519()),
                    r["ephemeral_key"].as_str().unwrap()
                );
                assert_eq!(routing, expected.as_bytes(), "route text at hop {i}");
                body = [&(inner.len() as u32).to_le_bytes()[..], inner, routing].concat();
            } else {
                assert_eq!(routing, br#"{"headers":""}"#);
                assert_eq!(inner, &payload[..]);
            }
        }
    }
}

#[test]
fn a_server_route_reads_as_documented() {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([13u8; 32]);
    let hop_secret = [5u8; 32];
    let server_secret = [6u8; 32];
    let hop = Hop::new(
        [0x77; 32],
        X25519Secret::from_bytes(hop_secret).public_key(),
    );
    let server = ServerDestination::new(
        "example.org",
        8080,
        "http",
        X25519Secret::from_bytes(server_secret).public_key(),
    )
    .unwrap();
    let built = build(
        &[hop],
        &Destination::Server(server),
        b"l2:{}e",
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    let (blob, meta) = frame(&built.body);
    let meta: serde_json::Value = serde_json::from_slice(meta).unwrap();
    let layer = reference_open(
        "xchacha20",
        &hop_secret,
        &key_of(&meta, "ephemeral_key"),
        blob,
    );
    let (inner, routing) = frame(&layer);
    let r: serde_json::Value = serde_json::from_slice(routing).unwrap();
    let expected = format!(
        r#"{{"enc_type":"xchacha20","ephemeral_key":"{}","host":"example.org","method":"POST","port":8080,"protocol":"http","target":"/oxen/v4/lsrpc"}}"#,
        r["ephemeral_key"].as_str().unwrap()
    );
    assert_eq!(routing, expected.as_bytes());
    // The server's layer is the v4 payload itself, unframed.
    assert_eq!(
        reference_open(
            "xchacha20",
            &server_secret,
            &key_of(&r, "ephemeral_key"),
            inner
        ),
        b"l2:{}e"
    );
}
