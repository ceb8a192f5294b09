//! Round trips through every hop: proptest over hop counts, encryption types, payload sizes and
//! destination kinds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_identity::X25519Secret;
use metaless_onion::limits::MAX_HOPS;
use metaless_onion::{
    Destination, EncType, Hop, NodeKey, OnionError, Peeled, ServerDestination, SnodeReply, build,
    open_layer, peel, v4,
};
use proptest::prelude::*;
use rand_core::SeedableRng;

struct Net {
    secrets: Vec<X25519Secret>,
    hops: Vec<Hop>,
}

/// `n` nodes with keys derived from `seed`; node i has Ed25519 name [i+1; 32].
fn net(n: usize, seed: u8) -> Net {
    let secrets: Vec<X25519Secret> = (0..n)
        .map(|i| X25519Secret::from_bytes([seed.wrapping_add(i as u8) ^ 0x5a; 32]))
        .collect();
    let hops = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| Hop::new([i as u8 + 1; 32], s.public_key()))
        .collect();
    Net { secrets, hops }
}

fn enc_strategy() -> impl Strategy<Value = EncType> {
    prop_oneof![Just(EncType::XChaCha20), Just(EncType::AesGcm)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn service_node_round_trip(
        hops in 1..=MAX_HOPS,
        enc in enc_strategy(),
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(any::<u8>(), 0..=65536),
        ],
        reply in proptest::collection::vec(any::<u8>(), 0..256),
        seed in any::<[u8; 32]>(),
    ) {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
        let net = net(hops + 1, seed[0]);
        let dest = Destination::ServiceNode(net.hops[hops].clone());
        let built = build(&net.hops[..hops], &dest, &payload, enc, &mut rng).unwrap();
        prop_assert_eq!(built.first_hop, net.hops[0].ed25519());

        let mut body = built.body;
        for i in 0..hops {
            match peel(&NodeKey::new(&net.secrets[i]), &body).unwrap() {
                Peeled::Forward { next_ed25519, enc_type, body: next, .. } => {
                    prop_assert_eq!(next_ed25519, net.hops[i + 1].ed25519());
                    prop_assert_eq!(enc_type, enc);
                    body = next;
                }
                other => panic!("hop {i}: {other:?}"),
            }
        }
        let Peeled::Deliver(delivery) = peel(&NodeKey::new(&net.secrets[hops]), &body).unwrap() else {
            panic!("destination did not deliver")
        };
        prop_assert_eq!(delivery.payload(), &payload[..]);
        prop_assert!(!delivery.wants_json());
        prop_assert!(delivery.wants_base64());
        let sealed = delivery.reply().encrypt_response(&reply, &mut rng).unwrap();
        prop_assert_eq!(sealed.len(), reply.len() + enc.overhead());
        prop_assert_eq!(built.pending.open(&sealed).unwrap(), reply.clone());
        let (moved, _) = delivery.into_parts();
        prop_assert_eq!(moved, payload);
    }

    #[test]
    fn server_round_trip(
        hops in 1..=4usize,
        enc in enc_strategy(),
        body_bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        seed in any::<[u8; 32]>(),
    ) {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
        let net = net(hops + 1, seed[1]);
        let server_secret = &net.secrets[hops];
        let server = ServerDestination::new("sogs.example", 8443, "http", server_secret.public_key()).unwrap();
        let request = v4::encode_request("POST", "/room/x/message", &[("X-SOGS-Pubkey", "00ab")], Some(&body_bytes));
        let built = build(&net.hops[..hops], &Destination::Server(server), &request, enc, &mut rng).unwrap();

        let mut body = built.body;
        for i in 0..hops - 1 {
            let Peeled::Forward { body: next, .. } = peel(&NodeKey::new(&net.secrets[i]), &body).unwrap() else {
                panic!("hop {i} did not forward")
            };
            body = next;
        }
        let Peeled::Server { host, target, port, protocol, body: post } = peel(&NodeKey::new(&net.secrets[hops - 1]), &body).unwrap() else {
            panic!("last hop did not proxy")
        };
        prop_assert_eq!((host.as_str(), target.as_str(), port, protocol.as_str()), ("sogs.example", "/oxen/v4/lsrpc", 8443, "http"));

        let (plain, ctx) = open_layer(&NodeKey::new(server_secret), &post).unwrap();
        let decoded = v4::decode_request(&plain).unwrap();
        prop_assert_eq!(decoded.body, Some(&body_bytes[..]));
        prop_assert_eq!(decoded.headers.get("Content-Type").map(String::as_str), Some("application/json"));

        let response = v4::encode_response(201, &[("content-type", "application/octet-stream")], &body_bytes);
        let sealed = ctx.encrypt_response(&response, &mut rng).unwrap();
        let opened = built.pending.open(&sealed).unwrap();
        let resp = v4::decode_response(&opened).unwrap();
        prop_assert_eq!(resp.code, 201);
        prop_assert_eq!(resp.body, &body_bytes[..]);
    }
}

#[test]
fn snode_reply_as_base64_round_trips() {
    use base64::Engine;
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([4u8; 32]);
    let net = net(2, 9);
    let built = build(
        &net.hops[..1],
        &Destination::ServiceNode(net.hops[1].clone()),
        b"{}",
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    let Peeled::Forward { body, .. } = peel(&NodeKey::new(&net.secrets[0]), &built.body).unwrap()
    else {
        panic!()
    };
    let Peeled::Deliver(delivery) = peel(&NodeKey::new(&net.secrets[1]), &body).unwrap() else {
        panic!()
    };
    let sealed = delivery
        .reply()
        .encrypt_snode_reply(200, r#"{"hi":"123"}"#, &mut rng)
        .unwrap();
    let text = base64::engine::general_purpose::STANDARD.encode(&sealed);
    let reply = SnodeReply::parse(&built.pending.open(text.as_bytes()).unwrap()).unwrap();
    assert_eq!(
        reply,
        SnodeReply {
            status: 200,
            body: r#"{"hi":"123"}"#.into()
        }
    );
}

#[test]
fn xchacha_reply_falls_back_to_aes_gcm() {
    // A legacy server answering an xchacha20 request with aes-gcm, as upstream clients tolerate.
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([5u8; 32]);
    let net = net(2, 3);
    let built = build(
        &net.hops[..1],
        &Destination::ServiceNode(net.hops[1].clone()),
        b"{}",
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    let ctx = metaless_onion::ReplyContext::new(
        &NodeKey::new(&net.secrets[1]),
        &built.pending.client_ephemeral_key(),
        EncType::AesGcm,
    )
    .unwrap();
    let sealed = ctx.encrypt_response(b"legacy", &mut rng).unwrap();
    assert_eq!(built.pending.open(&sealed).unwrap(), b"legacy");

    // No such fallback the other way round.
    let built = build(
        &net.hops[..1],
        &Destination::ServiceNode(net.hops[1].clone()),
        b"{}",
        EncType::AesGcm,
        &mut rng,
    )
    .unwrap();
    let ctx = metaless_onion::ReplyContext::new(
        &NodeKey::new(&net.secrets[1]),
        &built.pending.client_ephemeral_key(),
        EncType::XChaCha20,
    )
    .unwrap();
    let sealed = ctx.encrypt_response(b"new", &mut rng).unwrap();
    assert_eq!(built.pending.open(&sealed), Err(OnionError::Decrypt));
}

#[test]
fn path_length_limits() {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([6u8; 32]);
    let net = net(MAX_HOPS + 2, 1);
    let dest = Destination::ServiceNode(net.hops[MAX_HOPS + 1].clone());
    assert!(build(&net.hops[..MAX_HOPS], &dest, b"", EncType::AesGcm, &mut rng).is_ok());
    assert_eq!(
        build(
            &net.hops[..MAX_HOPS + 1],
            &dest,
            b"",
            EncType::AesGcm,
            &mut rng
        )
        .err(),
        Some(OnionError::PathLength {
            len: MAX_HOPS + 1,
            max: MAX_HOPS
        })
    );
    assert_eq!(
        build(&[], &dest, b"", EncType::AesGcm, &mut rng).err(),
        Some(OnionError::PathLength {
            len: 0,
            max: MAX_HOPS
        })
    );
}

#[test]
fn oversize_payload_is_refused_before_building() {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([7u8; 32]);
    let net = net(2, 1);
    let dest = Destination::ServiceNode(net.hops[1].clone());
    let payload = vec![0u8; metaless_onion::limits::MAX_LAYER_SIZE];
    assert!(matches!(
        build(&net.hops[..1], &dest, &payload, EncType::AesGcm, &mut rng),
        Err(OnionError::TooLarge {
            what: "onion body",
            ..
        })
    ));
}
