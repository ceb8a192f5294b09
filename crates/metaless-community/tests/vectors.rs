//! Every entry of `test-vectors/communities.json`, checked against this crate (and, for the
//! blinding primitives it reuses, against metaless-identity through the same paths).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use metaless_community::{AuthMode, CommunityError, auth, dm};
use metaless_identity::{Keypair, Seed, SessionId, blinding, hex, verify_ed25519};
use metaless_test_vectors::{Value, array, bytes, load, text};

fn entries() -> Vec<Value> {
    load("communities.json")["entries"]
        .as_array()
        .unwrap()
        .clone()
}

fn keys_sk64(case: &Value, field: &str) -> Keypair {
    Keypair::from_libsodium_secret(&array::<64>(case, field)).unwrap()
}

fn sid(case: &Value, field: &str) -> SessionId {
    text(case, field).parse().unwrap()
}

/// Runs `check` on every entry whose id starts with `prefix`; returns how many ran.
fn each(prefix: &str, mut check: impl FnMut(&Value)) -> usize {
    let mut n = 0;
    for e in entries() {
        if text(&e, "id").starts_with(prefix) {
            check(&e);
            n += 1;
        }
    }
    n
}

#[test]
fn every_entry_is_covered() {
    let prefixes = [
        "blind25_id_",
        "blind15_id_",
        "blind25_sign_",
        "blind15_sign_",
        "version_blind07_",
        "pysogs_blind15_",
        "blinded_dm_keys_",
        "blinded_dm_15_",
        "blinded_dm_25_",
        "pysogs_onion_test_ephemeral_",
        "onion_v4_bencode_example_",
        "sogs_auth_to_sign_layout_",
        "sogs_auth_headers_",
    ];
    let all = entries();
    assert_eq!(all.len(), 51);
    for e in &all {
        let id = text(e, "id");
        assert!(
            prefixes.iter().any(|p| id.starts_with(p)),
            "entry {id} has no test"
        );
    }
}

#[test]
fn blind25_ids() {
    let n = each("blind25_id_", |c| {
        let got = blinding::blind25_id(&sid(c, "session_id"), &array(c, "server_pk")).unwrap();
        assert_eq!(got.to_string(), text(c, "expected_blinded_id"));
    });
    assert_eq!(n, 3);
}

#[test]
fn blind15_ids() {
    let n = each("blind15_id_", |c| {
        let [pos, neg] =
            blinding::blind15_ids(&sid(c, "session_id"), &array(c, "server_pk")).unwrap();
        assert_eq!(pos.to_string(), text(c, "expected_blinded_id"));
        assert_eq!(neg.to_string(), text(c, "negated_alternative"));
    });
    assert_eq!(n, 2);
}

#[test]
fn blinded_signatures() {
    let n = each("blind15_sign_", |c| {
        let keys = keys_sk64(c, "ed25519_sk64");
        let server = array(c, "server_pk");
        let msg = text(c, "message_utf8").as_bytes();
        let pair = blinding::blind15_keypair(&keys, &server);
        assert_eq!(
            hex::encode(&pair.public_key()),
            text(c, "expected_blinded_pubkey")
        );
        let sig = blinding::blind15_sign(&keys, &server, msg);
        assert_eq!(hex::encode(&sig), text(c, "expected_signature"));
        // Posting goes through the same signer.
        let post = metaless_community::PostMessage::signed(&keys, &server, msg.to_vec(), vec![]);
        assert_eq!(hex::encode(&post.signature), text(c, "expected_signature"));
    });
    assert_eq!(n, 6);
    let n = each("blind25_sign_", |c| {
        let keys = keys_sk64(c, "ed25519_sk64");
        let server = array(c, "server_pk");
        let msg = text(c, "message_utf8").as_bytes();
        let pair = blinding::blind25_keypair(&keys, &server);
        assert_eq!(
            hex::encode(&pair.public_key()),
            text(c, "expected_blinded_pubkey")
        );
        let sig = blinding::blind25_sign(&keys, &server, msg).unwrap();
        assert_eq!(hex::encode(&sig), text(c, "expected_signature"));
        assert!(verify_ed25519(&pair.public_key(), msg, &sig).is_ok());
    });
    assert_eq!(n, 6);
}

#[test]
fn version_blinding() {
    let mut n = 0;
    for c in entries() {
        match text(&c, "id") {
            "version_blind07_keypair" => {
                let keys = keys_sk64(&c, "ed25519_sk64");
                let v = blinding::blind_version_keypair(&keys).unwrap();
                assert_eq!(
                    hex::encode(&v.ed25519_public()),
                    text(&c, "expected_pubkey")
                );
                assert_eq!(
                    &text(&c, "expected_sk64")[64..],
                    text(&c, "expected_pubkey")
                );
                n += 1;
            }
            "version_blind07_sign" => {
                let keys = keys_sk64(&c, "ed25519_sk64");
                let v = blinding::blind_version_keypair(&keys).unwrap();
                let sig = v.sign(text(&c, "signed_message_utf8").as_bytes());
                assert_eq!(hex::encode(&sig), text(&c, "expected_signature"));
                n += 1;
            }
            _ => {}
        }
    }
    assert_eq!(n, 2);
}

#[test]
fn pysogs_blinding() {
    let n = each("pysogs_blind15_", |c| {
        let keys = Keypair::from_seed(&Seed::from_bytes(array(c, "ed25519_seed")));
        let server = array(c, "server_pk");
        assert_eq!(keys.session_id().to_string(), text(c, "session_id"));
        let id = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &server).unwrap();
        assert_eq!(id.to_string(), text(c, "expected_blinded_id"));
        // The id the signer puts in X-SOGS-Pubkey is the same.
        let h = auth::sign(
            &keys,
            &server,
            AuthMode::Blinded15,
            "GET",
            "/",
            b"",
            1,
            [0; 16],
        );
        assert_eq!(h.pubkey(), text(c, "expected_blinded_id"));
        // And it is one of the two candidates from the Session ID alone.
        assert!(
            blinding::blind15_ids(&keys.session_id(), &server)
                .unwrap()
                .contains(&id)
        );
    });
    assert_eq!(n, 20);
}

#[test]
fn blinded_dm_key_setup() {
    let n = each("blinded_dm_keys_", |c| {
        let keys = Keypair::from_seed(&Seed::from_bytes(array(c, "ed25519_seed")));
        assert_eq!(
            hex::encode(&keys.ed25519_public()),
            text(c, "expected_ed25519_pk")
        );
        assert_eq!(
            hex::encode(&keys.x25519_public()),
            text(c, "expected_x25519_pk")
        );
        assert_eq!(
            keys.session_id().to_string(),
            text(c, "expected_session_id")
        );
    });
    assert_eq!(n, 2);
}

fn dm_case(c: &Value) {
    let sender = keys_sk64(c, "sender_ed25519_sk64");
    let recipient = keys_sk64(c, "recipient_ed25519_sk64");
    let server = array(c, "server_pk");
    let from = sid(c, "sender_blinded_id");
    let to = sid(c, "recipient_blinded_id");
    let msg = text(c, "message_utf8").as_bytes();
    let expected = bytes(c, "expected_ciphertext");
    assert_eq!(dm::own_blinded_id(&sender, &server, &to).unwrap(), from);
    assert_eq!(dm::own_blinded_id(&recipient, &server, &from).unwrap(), to);
    let wire = dm::encrypt_with_nonce(&sender, &server, &to, msg, &array(c, "nonce")).unwrap();
    assert_eq!(hex::encode(&wire), hex::encode(&expected));
    // The recipient opens it and learns the sender's Session ID.
    let opened = dm::decrypt(&recipient, &server, &from, &to, &expected).unwrap();
    assert_eq!(&opened.message[..], msg);
    assert_eq!(
        opened.sender.to_string(),
        text(c, "expected_sender_session_id")
    );
    // The sender reads its outbox copy.
    let own = dm::decrypt(&sender, &server, &from, &to, &expected).unwrap();
    assert_eq!(&own.message[..], msg);
    // Tampering anywhere fails without detail.
    for i in [1, expected.len() / 2, expected.len() - 1] {
        let mut bad = expected.clone();
        bad[i] ^= 1;
        assert_eq!(
            dm::decrypt(&recipient, &server, &from, &to, &bad),
            Err(CommunityError::Decrypt)
        );
    }
    let mut v1 = expected.clone();
    v1[0] = 1;
    assert_eq!(
        dm::decrypt(&recipient, &server, &from, &to, &v1),
        Err(CommunityError::UnknownVersion(1))
    );
    assert_eq!(
        dm::decrypt(&recipient, &server, &from, &to, &expected[..40]),
        Err(CommunityError::Decrypt)
    );
    // A third party cannot open it.
    let eve = Keypair::from_seed(&Seed::from_bytes([0xee; 32]));
    assert_eq!(
        dm::decrypt(&eve, &server, &from, &to, &expected),
        Err(CommunityError::Decrypt)
    );
    // The wrong server key: 25 keys change (no decrypt); the 15 shared point does not depend on
    // the server, so it opens but the sender key no longer blinds to the claimed id.
    let wrong = dm::decrypt(&recipient, &[0x11; 32], &from, &to, &expected);
    if from.prefix() == metaless_identity::SessionIdPrefix::Blinded15 {
        assert_eq!(wrong, Err(CommunityError::SenderMismatch));
    } else {
        assert_eq!(wrong, Err(CommunityError::Decrypt));
    }
    // A claimed sender other than the real one is refused.
    let other = dm::own_blinded_id(
        &Keypair::from_seed(&Seed::from_bytes([0x33; 32])),
        &server,
        &to,
    )
    .unwrap();
    assert!(dm::decrypt(&recipient, &server, &other, &to, &expected).is_err());
}

#[test]
fn blinded_dms() {
    assert_eq!(each("blinded_dm_15_", dm_case), 1);
    assert_eq!(each("blinded_dm_25_", dm_case), 1);
}

#[test]
fn pysogs_onion_key() {
    let n = each("pysogs_onion_test_ephemeral_", |c| {
        let pk = metaless_identity::x25519::scalarmult_base(&array(c, "x25519_sk"));
        assert_eq!(hex::encode(&pk), text(c, "expected_x25519_pk"));
    });
    assert_eq!(n, 1);
}

#[test]
fn onion_v4_framing() {
    let n = each("onion_v4_bencode_example_", |c| {
        let meta: Value = serde_json::from_str(text(c, "meta_utf8")).unwrap();
        let expected = text(c, "expected_encoded_utf8").as_bytes();
        if meta.get("code").is_some() {
            // A reply: decode it, then the typed reply sees the same body.
            let reply = metaless_community::Reply::from_v4(expected).unwrap();
            assert_eq!(reply.code, 200);
            assert_eq!(reply.body, text(c, "body_utf8").as_bytes());
            assert_eq!(reply.headers["content-type"], "application/json");
        } else {
            // A request: the server-side decoder reads every field.
            let req = metaless_onion::v4::decode_request(expected).unwrap();
            assert_eq!(req.method, meta["method"].as_str().unwrap());
            assert_eq!(req.endpoint, meta["endpoint"].as_str().unwrap());
            assert_eq!(req.body, c["body_utf8"].as_str().map(str::as_bytes));
            for (k, v) in meta["headers"].as_object().unwrap() {
                assert_eq!(req.headers[k], v.as_str().unwrap());
            }
        }
    });
    assert_eq!(n, 3);
}

#[test]
fn to_sign_layout() {
    let n = each("sogs_auth_to_sign_layout_", |c| {
        let nonce: [u8; 16] = match c.get("nonce_b64") {
            Some(v) => base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
            None => array(c, "nonce"),
        };
        let got = auth::to_sign(
            &array(c, "server_pk"),
            &nonce,
            c["timestamp"].as_u64().unwrap(),
            text(c, "method"),
            text(c, "path"),
            text(c, "body_utf8").as_bytes(),
        );
        assert_eq!(hex::encode(&got), text(c, "expected_to_sign"));
    });
    assert_eq!(n, 2);
}

#[test]
fn auth_headers() {
    let n = each("sogs_auth_headers_", |c| {
        let keys = keys_sk64(c, "ed25519_sk64");
        let mode = if text(c, "id").ends_with("unblinded") {
            AuthMode::Unblinded
        } else {
            AuthMode::Blinded15
        };
        let h = auth::sign(
            &keys,
            &array(c, "server_pk"),
            mode,
            text(c, "method"),
            text(c, "path"),
            b"",
            c["timestamp"].as_u64().unwrap(),
            array(c, "nonce"),
        );
        let want = c["expected_headers"].as_object().unwrap();
        let pairs = h.pairs();
        assert_eq!(pairs.len(), want.len());
        for (k, v) in pairs {
            assert_eq!(want[k].as_str().unwrap(), v, "{k}");
        }
    });
    assert_eq!(n, 2);
}
