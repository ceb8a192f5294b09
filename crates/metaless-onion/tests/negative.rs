//! Tampering, wrong keys, truncation, forged lengths, bad JSON, unknown encryption types: all
//! refused, typed, without panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_identity::{X25519Secret, hex};
use metaless_onion::limits::{MAX_LAYER_SIZE, MAX_ROUTING_JSON_SIZE};
use metaless_onion::{
    Destination, EncType, Hop, HopError, NodeKey, OnionError, Peeled, PendingResponse,
    ReplyContext, build, decode_layer, peel, v4,
};
use rand_core::SeedableRng;

struct Fixture {
    secrets: Vec<X25519Secret>,
    /// The body each node receives, in path order (the last one is the destination's).
    bodies: Vec<Vec<u8>>,
    pending: PendingResponse,
}

fn fixture(enc: EncType, seed: u8) -> Fixture {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([seed; 32]);
    let secrets: Vec<X25519Secret> = (0..4u8)
        .map(|i| X25519Secret::from_bytes([i * 17 + seed; 32]))
        .collect();
    let hops: Vec<Hop> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| Hop::new([i as u8 + 1; 32], s.public_key()))
        .collect();
    let built = build(
        &hops[..3],
        &Destination::ServiceNode(hops[3].clone()),
        br#"{"method":"x"}"#,
        enc,
        &mut rng,
    )
    .unwrap();
    let mut bodies = vec![built.body];
    for secret in &secrets[..3] {
        let Peeled::Forward { body, .. } =
            peel(&NodeKey::new(secret), bodies.last().unwrap()).unwrap()
        else {
            panic!()
        };
        bodies.push(body);
    }
    Fixture {
        secrets,
        bodies,
        pending: built.pending,
    }
}

/// What a successful peel means, to compare a tampered packet's effect with the original's.
fn meaning(peeled: &Peeled) -> Vec<u8> {
    match peeled {
        Peeled::Forward {
            next_ed25519,
            ephemeral_key,
            enc_type,
            body,
        } => {
            let layer = decode_layer(body).unwrap();
            [
                &next_ed25519[..],
                ephemeral_key,
                enc_type.as_str().as_bytes(),
                layer.ciphertext,
            ]
            .concat()
        }
        Peeled::Deliver(d) => d.payload().to_vec(),
        other => panic!("unexpected {other:?}"),
    }
}

fn rejected(result: &Result<Peeled, OnionError>) -> bool {
    matches!(result, Err(_) | Ok(Peeled::Reject { .. }))
}

#[test]
fn every_byte_flip_is_rejected_at_the_owning_hop() {
    // Every byte of every hop's packet, flipped in its low bit, its high bit (which makes JSON
    // bytes invalid UTF-8) and all bits.
    let f = fixture(EncType::XChaCha20, 1);
    for (hop, body) in f.bodies.iter().enumerate() {
        let node = NodeKey::new(&f.secrets[hop]);
        for mask in [0x01u8, 0x80, 0xff] {
            for pos in 0..body.len() {
                let mut bad = body.clone();
                bad[pos] ^= mask;
                assert!(
                    rejected(&peel(&node, &bad)),
                    "hop {hop} accepted a flip of byte {pos} with {mask:#04x}"
                );
            }
        }
    }
}

#[test]
fn aes_gcm_flips_are_rejected_or_meaningless() {
    // With aes-gcm (the default when `enc_type` is absent), a flip inside the key *name*
    // `enc_type` leaves an unknown key and the default: the hop does exactly what it would have
    // done. Every other flip is rejected. (Same for hex case flips of keys, which decode alike.)
    let f = fixture(EncType::AesGcm, 2);
    for (hop, body) in f.bodies.iter().enumerate() {
        let node = NodeKey::new(&f.secrets[hop]);
        let expected = meaning(&peel(&node, body).unwrap());
        let mut harmless = 0;
        for pos in 0..body.len() {
            let mut bad = body.clone();
            bad[pos] ^= 0x01;
            let result = peel(&node, &bad);
            if !rejected(&result) {
                assert_eq!(
                    meaning(&result.unwrap()),
                    expected,
                    "hop {hop}: flip of byte {pos} changed the meaning"
                );
                harmless += 1;
            }
        }
        assert!(
            harmless <= "enc_type".len(),
            "hop {hop}: {harmless} accepted flips"
        );
    }
}

#[test]
fn wrong_key_is_invalid_ciphertext() {
    let f = fixture(EncType::XChaCha20, 3);
    let stranger = X25519Secret::from_bytes([0xee; 32]);
    for body in &f.bodies {
        let err = peel(&NodeKey::new(&stranger), body).unwrap_err();
        assert_eq!(err, OnionError::Decrypt);
        assert_eq!(err.hop_error(), HopError::InvalidCiphertext);
        assert_eq!(
            (err.hop_error().status(), err.hop_error().body()),
            (400, "Invalid ciphertext".to_string())
        );
    }
    // A node one hop further along cannot read the outer layer either.
    assert_eq!(
        peel(&NodeKey::new(&f.secrets[1]), &f.bodies[0]).unwrap_err(),
        OnionError::Decrypt
    );
}

#[test]
fn truncation_at_every_length_is_refused() {
    for enc in [EncType::XChaCha20, EncType::AesGcm] {
        let f = fixture(enc, 4);
        for (hop, body) in f.bodies.iter().enumerate() {
            let node = NodeKey::new(&f.secrets[hop]);
            for len in 0..body.len() {
                assert!(
                    peel(&node, &body[..len]).is_err(),
                    "hop {hop} accepted {len} of {} bytes",
                    body.len()
                );
            }
        }
    }
}

#[test]
fn length_prefix_larger_than_rest() {
    let f = fixture(EncType::XChaCha20, 5);
    let node = NodeKey::new(&f.secrets[0]);
    let body = &f.bodies[0];
    let rest = (body.len() - 4) as u32;
    for claimed in [rest + 1, rest + 1000, MAX_LAYER_SIZE as u32] {
        let mut bad = body.clone();
        bad[..4].copy_from_slice(&claimed.to_le_bytes());
        assert!(
            matches!(peel(&node, &bad), Err(OnionError::Wire(_))),
            "claimed {claimed}"
        );
    }
    let mut bad = body.clone();
    bad[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        peel(&node, &bad),
        Err(OnionError::Wire(
            metaless_identity::wire::WireError::TooLarge { .. }
        ))
    ));
}

/// A single layer to `node` around an arbitrary plaintext (the layer key is symmetric, so the
/// reply direction of a [`ReplyContext`] seals exactly what the node will open).
fn layer_around(
    node: &X25519Secret,
    plaintext: &[u8],
    enc: EncType,
    meta: Option<String>,
) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([9u8; 32]);
    let client = X25519Secret::from_bytes([0x42; 32]);
    let ctx = ReplyContext::new(&NodeKey::new(node), &client.public_key(), enc).unwrap();
    let blob = ctx.encrypt_response(plaintext, &mut rng).unwrap();
    let meta = meta.unwrap_or_else(|| {
        format!(
            r#"{{"ephemeral_key":"{}","enc_type":"{}"}}"#,
            hex::encode(&client.public_key()),
            enc.as_str()
        )
    });
    [
        &(blob.len() as u32).to_le_bytes()[..],
        &blob,
        meta.as_bytes(),
    ]
    .concat()
}

fn framed(blob: &[u8], json: &str) -> Vec<u8> {
    [
        &(blob.len() as u32).to_le_bytes()[..],
        blob,
        json.as_bytes(),
    ]
    .concat()
}

#[test]
fn invalid_inner_routing_is_an_encrypted_invalid_json() {
    let node = X25519Secret::from_bytes([0x33; 32]);
    let key = "ab".repeat(32);
    let long = format!(
        r#"{{"headers":"","pad":"{}"}}"#,
        "x".repeat(MAX_ROUTING_JSON_SIZE)
    );
    let cases: Vec<Vec<u8>> = vec![
        framed(b"blob", "not json"),
        framed(b"blob", "[]"),
        framed(b"blob", ""),
        framed(b"blob", r#"{"headers":""} trailing"#),
        framed(b"blob", &long),
        framed(b"blob", r#"{"ephemeral_key":"00"}"#),
        framed(b"blob", &format!(r#"{{"destination":"{key}"}}"#)),
        framed(
            b"blob",
            &format!(r#"{{"destination":"zz","ephemeral_key":"{key}"}}"#),
        ),
        framed(
            b"blob",
            &format!(r#"{{"destination":"{key}","ephemeral_key":"{key}","enc_type":"aes-cbc"}}"#),
        ),
        framed(b"blob", r#"{"headers":"","json":"yes"}"#),
        framed(b"blob", r#"{"host":"example.org"}"#),
        framed(
            b"blob",
            r#"{"host":"example.org","target":"/oxen/v4/lsrpc","port":70000}"#,
        ),
        {
            let mut v = framed(b"blob", r#"{"headers":""}"#);
            v[..4].copy_from_slice(&100u32.to_le_bytes());
            v
        },
        vec![1, 2],
    ];
    for enc in [EncType::XChaCha20, EncType::AesGcm] {
        for (i, plaintext) in cases.iter().enumerate() {
            let body = layer_around(&node, plaintext, enc, None);
            match peel(&NodeKey::new(&node), &body).unwrap() {
                Peeled::Reject { error, reply } => {
                    assert_eq!(error, HopError::InvalidJson, "case {i}");
                    assert!(error.is_encrypted());
                    assert_eq!(reply.enc_type(), enc);
                }
                other => panic!("case {i}: {other:?}"),
            }
        }
    }
}

#[test]
fn disallowed_server_targets_are_invalid_url() {
    let node = X25519Secret::from_bytes([0x34; 32]);
    for json in [
        r#"{"host":"h","target":"/etc/passwd"}"#,
        r#"{"host":"h","target":"/oxen/v4/lsrpc?x=1"}"#,
        r#"{"host":"h","target":"/oxen/v4/lsrpc","protocol":"ftp"}"#,
        r#"{"host":"h","target":"/oxen/v4/other"}"#,
    ] {
        let body = layer_around(&node, &framed(b"", json), EncType::XChaCha20, None);
        assert!(
            matches!(
                peel(&NodeKey::new(&node), &body).unwrap(),
                Peeled::Reject {
                    error: HopError::InvalidUrl,
                    ..
                }
            ),
            "{json}"
        );
    }
    // Defaults as upstream: protocol https, port 443.
    let body = layer_around(
        &node,
        &framed(b"", r#"{"host":"h","target":"/loki/v3/lsrpc"}"#),
        EncType::XChaCha20,
        None,
    );
    let Peeled::Server { port, protocol, .. } = peel(&NodeKey::new(&node), &body).unwrap() else {
        panic!()
    };
    assert_eq!((port, protocol.as_str()), (443, "https"));
}

#[test]
fn headers_key_with_any_value_means_destination() {
    let node = X25519Secret::from_bytes([0x35; 32]);
    for json in [
        r#"{"headers":""}"#,
        r#"{"headers":null}"#,
        r#"{"headers":{},"json":true,"base64":false}"#,
    ] {
        let body = layer_around(&node, &framed(b"payload", json), EncType::AesGcm, None);
        let Peeled::Deliver(d) = peel(&NodeKey::new(&node), &body).unwrap() else {
            panic!("{json}")
        };
        assert_eq!(d.payload(), b"payload");
    }
}

#[test]
fn invalid_outer_metadata() {
    let node = X25519Secret::from_bytes([0x36; 32]);
    let eph = hex::encode(&X25519Secret::from_bytes([0x42; 32]).public_key());
    type Check = fn(&OnionError) -> bool;
    let cases: Vec<(String, Check)> = vec![
        (
            format!(r#"{{"ephemeral_key":"{eph}","enc_type":"aes-cbc"}}"#),
            |e| *e == OnionError::UnknownEncType,
        ),
        (
            format!(r#"{{"ephemeral_key":"{eph}","enc_type":"XCHACHA20"}}"#),
            |e| *e == OnionError::UnknownEncType,
        ),
        (r#"{"enc_type":"xchacha20"}"#.to_string(), |e| {
            *e == OnionError::MissingEphemeralKey
        }),
        (r#"{"ephemeral_key":"abcd"}"#.to_string(), |e| {
            *e == OnionError::InvalidKey
        }),
        (
            format!(r#"{{"ephemeral_key":"{eph}","enc_type":7}}"#),
            |e| matches!(e, OnionError::InvalidJson(_)),
        ),
        ("garbage".to_string(), |e| {
            matches!(e, OnionError::InvalidJson(_))
        }),
        (
            format!(
                r#"{{"ephemeral_key":"{eph}","x":"{}"}}"#,
                "y".repeat(MAX_ROUTING_JSON_SIZE)
            ),
            |e| matches!(e, OnionError::TooLarge { .. }),
        ),
        (
            format!(r#"{{"ephemeral_key":"{}"}}"#, "00".repeat(32)),
            |e| *e == OnionError::WeakKey,
        ),
    ];
    for (meta, expected) in cases {
        let body = layer_around(&node, b"x", EncType::AesGcm, Some(meta.clone()));
        let err = peel(&NodeKey::new(&node), &body).unwrap_err();
        assert!(expected(&err), "{meta}: {err:?}");
        let hop = err.hop_error();
        assert_eq!(
            hop.status(),
            if err == OnionError::WeakKey {
                400
            } else {
                hop.status()
            }
        );
        assert_eq!(HopError::from_response(hop.status(), &hop.body()), hop);
    }
}

#[test]
fn oversize_body_is_refused_before_parsing() {
    let node = X25519Secret::from_bytes([0x37; 32]);
    let body = vec![0u8; MAX_LAYER_SIZE + 1];
    let err = peel(&NodeKey::new(&node), &body).unwrap_err();
    assert!(matches!(
        err,
        OnionError::TooLarge {
            what: "onion body",
            ..
        }
    ));
    assert_eq!(err.hop_error(), HopError::PayloadTooLarge);
    assert_eq!(err.hop_error().status(), 413);
}

#[test]
fn oversize_layer_metadata_is_a_400_parse_error_not_413() {
    let node = X25519Secret::from_bytes([0x38; 32]);
    let eph = hex::encode(&X25519Secret::from_bytes([0x42; 32]).public_key());
    // The metadata one byte over its limit, the body far under the body limit.
    let head = format!(r#"{{"ephemeral_key":"{eph}","enc_type":"xchacha20","x":""#);
    let pad = MAX_ROUTING_JSON_SIZE + 1 - head.len() - 2;
    let meta = format!("{head}{}\"}}", "y".repeat(pad));
    assert_eq!(meta.len(), MAX_ROUTING_JSON_SIZE + 1);
    let body = layer_around(&node, b"x", EncType::XChaCha20, Some(meta));
    assert!(body.len() < MAX_LAYER_SIZE);
    let err = peel(&NodeKey::new(&node), &body).unwrap_err();
    assert!(
        matches!(
            err,
            OnionError::TooLarge {
                what: "layer metadata",
                ..
            }
        ),
        "{err:?}"
    );
    let hop = err.hop_error();
    assert_eq!(hop.status(), 400);
    assert!(
        hop.body().starts_with("Error parsing onion request: "),
        "{}",
        hop.body()
    );
    assert!(matches!(hop, HopError::ParseError(_)));
    // At the limit exactly, the size is no error (the peel goes on to decrypt and open).
    let meta = format!("{head}{}\"}}", "y".repeat(pad - 1));
    let body = layer_around(&node, b"x", EncType::XChaCha20, Some(meta));
    assert!(!matches!(
        peel(&NodeKey::new(&node), &body),
        Err(OnionError::TooLarge { .. })
    ));
}

#[test]
fn replies_resist_tampering_truncation_and_the_wrong_client() {
    for enc in [EncType::XChaCha20, EncType::AesGcm] {
        let f = fixture(enc, 6);
        let Peeled::Deliver(d) = peel(&NodeKey::new(&f.secrets[3]), &f.bodies[3]).unwrap() else {
            panic!()
        };
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([1u8; 32]);
        let sealed = d.reply().encrypt_response(b"the reply", &mut rng).unwrap();
        assert_eq!(f.pending.open(&sealed).unwrap(), b"the reply");
        for pos in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[pos] ^= 0x01;
            assert!(f.pending.open(&bad).is_err(), "flip {pos}");
        }
        for len in 0..sealed.len() {
            assert!(
                f.pending.open(&sealed[..len]).is_err(),
                "truncated to {len}"
            );
        }
        let other = fixture(enc, 7);
        assert_eq!(other.pending.open(&sealed), Err(OnionError::Decrypt));
        assert!(f.pending.open(b"not base64 at all!").is_err());
        assert!(f.pending.open(b"QUJD").is_err());
    }
}

#[test]
fn v4_framing_refuses_malformed_input() {
    let good = v4::encode_request("POST", "/x", &[], Some(b"body"));
    assert!(v4::decode_request(&good).is_ok());
    for len in 0..good.len() {
        assert!(
            v4::decode_request(&good[..len]).is_err(),
            "truncated to {len}"
        );
    }
    for bad in [
        &b"l999999999:xe"[..],
        b"l04:abcde",
        b"l-1:e",
        b"l2:{}2:ab2:cde",
        b"d2:{}e",
        b"l13:{\"method\":1}e",
        b"l2:[]e",
    ] {
        assert!(
            v4::decode_request(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let resp = v4::encode_response(200, &[], b"ok");
    for len in 0..resp.len() {
        assert!(
            v4::decode_response(&resp[..len]).is_err(),
            "truncated to {len}"
        );
    }
    assert!(v4::decode_response(br#"l22:{"code":99999,"a":1}0:e"#).is_err());
}

#[test]
fn hop_errors_round_trip_through_status_and_text() {
    let all = [
        HopError::InvalidCiphertext,
        HopError::InvalidJson,
        HopError::InvalidUrl,
        HopError::ParseError("bad".into()),
        HopError::MaxPathLength,
        HopError::PayloadTooLarge,
        HopError::NextNodeNotFound([7; 32]),
        HopError::NextNodeUnreachable([8; 32]),
        HopError::RequestTimeout,
        HopError::InvalidSnodeResponse,
        HopError::SnodeNotReady(Some([9; 32])),
        HopError::SnodeNotReady(None),
        HopError::NodeNotReady("syncing".into()),
        HopError::ServerBusy,
        HopError::Other {
            status: 418,
            body: "teapot".into(),
        },
    ];
    for err in all {
        assert_eq!(HopError::from_response(err.status(), &err.body()), err);
        assert!(!err.to_string().contains(&"07".repeat(32)));
    }
}

#[test]
fn keys_a_branch_does_not_read_are_ignored_and_the_last_duplicate_wins() {
    // As upstream's nlohmann-based parsing: a forward route with junk under `json`/`port`
    // forwards; a repeated key takes its last value.
    let node = X25519Secret::from_bytes([0x38; 32]);
    let next = "cd".repeat(32);
    let eph = hex::encode(&X25519Secret::from_bytes([0x39; 32]).public_key());
    let json = format!(
        r#"{{"destination":"{}","destination":"{next}","ephemeral_key":"{eph}","json":"junk","port":"x","enc_type":"gcm"}}"#,
        "ab".repeat(32)
    );
    let body = layer_around(&node, &framed(b"blob", &json), EncType::XChaCha20, None);
    let Peeled::Forward {
        next_ed25519,
        enc_type,
        ..
    } = peel(&NodeKey::new(&node), &body).unwrap()
    else {
        panic!()
    };
    assert_eq!((next_ed25519, enc_type), ([0xcd; 32], EncType::AesGcm));

    let body = layer_around(
        &node,
        &framed(b"p", r#"{"headers":"","host":7,"destination":[]}"#),
        EncType::AesGcm,
        None,
    );
    assert!(matches!(
        peel(&NodeKey::new(&node), &body).unwrap(),
        Peeled::Deliver(_)
    ));
}
