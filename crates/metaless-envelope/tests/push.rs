//! Push registration against `test-vectors/push.json` and the upstream payload KAT, plus every
//! way a request or payload can be wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_envelope::push::{
    PUSH_SERVER_X25519, PushAccount, PushError, PushKey, PushNotification, PushReply, PushService,
    Subscribe, Unsubscribe, decrypt_payload, encrypt_payload, monitor_message, unsubscribe_message,
};
use metaless_identity::{Keypair, Seed, SessionId, hex};
use metaless_test_vectors as tv;
use serde_json::Value;

fn entry(id: &str) -> Value {
    let file = tv::load("push.json");
    file["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("push.json has no {id}"))
        .clone()
}

fn keys_of(case: &Value) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes(tv::array(case, "ed25519_seed")))
}

fn service() -> PushService {
    PushService::new("apns", r#"{"token":"device-token"}"#).unwrap()
}

#[test]
fn server_key_vector() {
    let case = entry("spns_server");
    assert_eq!(PUSH_SERVER_X25519, tv::array::<32>(&case, "x25519_pk"));
    assert_eq!(
        metaless_envelope::push::PUSH_SERVER_URL,
        tv::text(&case, "url")
    );
}

#[test]
fn monitor_signature_vector() {
    let case = entry("spns_monitor_signature_derived");
    let keys = keys_of(&case);
    let account: SessionId = tv::text(&case, "pubkey").parse().unwrap();
    assert_eq!(keys.session_id(), account);
    let namespaces: Vec<i16> = case["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_i64().unwrap() as i16)
        .collect();
    let sig_ts = case["sig_ts"].as_u64().unwrap();
    let data = case["data"].as_bool().unwrap();
    assert_eq!(
        monitor_message(&account, sig_ts, data, &namespaces),
        tv::text(&case, "expected_message_utf8").as_bytes()
    );
    let request = Subscribe::for_user(
        &keys,
        &namespaces,
        data,
        sig_ts,
        service(),
        PushKey::from_bytes([3; 32]),
    )
    .unwrap();
    assert_eq!(
        request.signature,
        tv::array::<64>(&case, "expected_signature")
    );
    request.verify(sig_ts + 60).unwrap();
}

#[test]
fn unsubscribe_signature_vector() {
    let case = entry("spns_unsubscribe_signature_derived");
    let keys = keys_of(&case);
    let sig_ts = case["sig_ts"].as_u64().unwrap();
    assert_eq!(
        unsubscribe_message(&keys.session_id(), sig_ts),
        tv::text(&case, "expected_message_utf8").as_bytes()
    );
    let request = Unsubscribe::for_user(&keys, sig_ts, service());
    assert_eq!(
        request.signature,
        tv::array::<64>(&case, "expected_signature")
    );
    Unsubscribe::from_json(request.to_json().as_bytes())
        .unwrap()
        .verify(sig_ts)
        .unwrap();
}

/// libsession-util tests/test_session_encrypt.cpp "Session push notification decryption"
/// (push.json points to it; the bytes are not in test-vectors/ yet).
#[test]
fn upstream_payload_kat() {
    let key = PushKey::from_bytes(
        hex::decode_array("0123456789abcdef0123456789abcdeffedcba9876543210fedcba9876543210")
            .unwrap(),
    );
    let payload = hex::decode(
        "00112233445566778899aabbccddeeff00ffeeddccbbaa99\
         1bcba42892762dbeecbfb1a375fab4aca5f0991e99eb0344ceeafa",
    )
    .unwrap();
    assert_eq!(decrypt_payload(&key, &payload).unwrap(), b"TestMessage");
    assert_eq!(decrypt_payload(&key, b"invalid"), Err(PushError::Decrypt));
    let wrong = PushKey::from_bytes([0; 32]);
    assert_eq!(decrypt_payload(&wrong, &payload), Err(PushError::Decrypt));
    let mut tampered = payload.clone();
    tampered[30] ^= 1;
    assert_eq!(decrypt_payload(&key, &tampered), Err(PushError::Decrypt));
    for cut in 0..payload.len() {
        assert_eq!(
            decrypt_payload(&key, &payload[..cut]),
            Err(PushError::Decrypt)
        );
    }
}

#[test]
fn zero_padding_is_stripped() {
    let key = PushKey::from_bytes([4; 32]);
    let payload = encrypt_payload(&key, b"abc\0\0\0\0", [1; 24]);
    assert_eq!(decrypt_payload(&key, &payload).unwrap(), b"abc");
}

#[test]
fn subscribe_body_fields() {
    let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let request = Subscribe::for_user(
        &keys,
        &[5, 0],
        false,
        1_700_000_000,
        service(),
        PushKey::from_bytes([0xee; 32]),
    )
    .unwrap();
    let body: Value = serde_json::from_str(&request.to_json()).unwrap();
    assert_eq!(body["pubkey"], keys.session_id().to_string());
    assert_eq!(body["session_ed25519"], hex::encode(&keys.ed25519_public()));
    assert_eq!(body["namespaces"], serde_json::json!([0, 5]));
    assert_eq!(body["data"], false);
    assert_eq!(body["sig_ts"], 1_700_000_000u64);
    assert_eq!(body["service"], "apns");
    assert_eq!(
        body["service_info"],
        serde_json::json!({"token": "device-token"})
    );
    assert_eq!(body["enc_key"], "ee".repeat(32));
}

#[test]
fn subscribe_refusals_are_typed() {
    let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let other = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    let key = || PushKey::from_bytes([1; 32]);
    assert_eq!(
        Subscribe::for_user(&keys, &[], true, 1, service(), key()),
        Err(PushError::NoNamespaces)
    );
    let now = 1_700_000_000;
    let good = Subscribe::for_user(&keys, &[0], true, now, service(), key()).unwrap();
    // stale (14 days) and future (1 day)
    let old = Subscribe::for_user(&keys, &[0], true, now - 14 * 86400, service(), key()).unwrap();
    assert_eq!(old.verify(now), Err(PushError::StaleSignature));
    let ahead = Subscribe::for_user(&keys, &[0], true, now + 86400, service(), key()).unwrap();
    assert_eq!(ahead.verify(now), Err(PushError::StaleSignature));
    // a signature by someone else, or over other namespaces / data flag
    let mut forged = good.clone();
    forged.signature = other.sign(&monitor_message(&keys.session_id(), now, true, &[0]));
    assert_eq!(forged.verify(now), Err(PushError::BadSignature));
    let mut widened = good.clone();
    widened.namespaces = vec![0, 1];
    assert_eq!(widened.verify(now), Err(PushError::BadSignature));
    let mut flipped = good.clone();
    flipped.data = false;
    assert_eq!(flipped.verify(now), Err(PushError::BadSignature));
    // an Ed25519 key that is not the one behind the 05 id
    let mut swapped = good.clone();
    swapped.account = PushAccount::User {
        id: keys.session_id(),
        ed25519: other.ed25519_public(),
    };
    swapped.signature = other.sign(&monitor_message(&keys.session_id(), now, true, &[0]));
    assert_eq!(swapped.verify(now), Err(PushError::BadSignature));
    // replay of an unsubscribe signature as a subscribe one
    let mut replayed = good.clone();
    replayed.signature = keys.sign(&unsubscribe_message(&keys.session_id(), now));
    assert_eq!(replayed.verify(now), Err(PushError::BadSignature));
}

#[test]
fn malformed_bodies_are_typed() {
    let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let good = Subscribe::for_user(
        &keys,
        &[0, 1],
        true,
        5,
        service(),
        PushKey::from_bytes([1; 32]),
    )
    .unwrap();
    let body: Value = serde_json::from_str(&good.to_json()).unwrap();
    let with = |field: &str, value: Value| {
        let mut b = body.clone();
        b[field] = value;
        Subscribe::from_json(b.to_string().as_bytes())
    };
    let without = |field: &str| {
        let mut b = body.clone();
        b.as_object_mut().unwrap().remove(field);
        Subscribe::from_json(b.to_string().as_bytes())
    };
    assert_eq!(
        with("namespaces", serde_json::json!([1, 0])),
        Err(PushError::BadField("namespaces"))
    );
    assert_eq!(
        with("namespaces", serde_json::json!([0, 0])),
        Err(PushError::BadField("namespaces"))
    );
    assert_eq!(
        with("namespaces", serde_json::json!([])),
        Err(PushError::BadField("namespaces"))
    );
    assert_eq!(
        with("namespaces", serde_json::json!([40000])),
        Err(PushError::BadField("namespaces"))
    );
    let blinded = format!("15{}", hex::encode(&keys.ed25519_public()));
    assert_eq!(with("pubkey", blinded.into()), Err(PushError::BadAccount));
    assert_eq!(
        with("pubkey", "zz".into()),
        Err(PushError::BadField("pubkey"))
    );
    assert_eq!(
        with("signature", "AAAA".into()),
        Err(PushError::BadField("signature"))
    );
    assert_eq!(
        with("enc_key", "00".into()),
        Err(PushError::BadField("enc_key"))
    );
    assert_eq!(
        with("service_info", "token".into()),
        Err(PushError::BadField("service_info"))
    );
    assert_eq!(without("sig_ts"), Err(PushError::BadField("sig_ts")));
    assert_eq!(
        without("session_ed25519"),
        Err(PushError::BadField("session_ed25519"))
    );
    assert_eq!(
        Subscribe::from_json(b"[1"),
        Err(PushError::BadField("body"))
    );
    let huge = vec![b' '; 100_001];
    assert!(matches!(
        Subscribe::from_json(&huge),
        Err(PushError::TooLarge { .. })
    ));
    // truncations never panic
    let text = good.to_json();
    for cut in 0..text.len() {
        assert!(Subscribe::from_json(&text.as_bytes()[..cut]).is_err());
    }
}

#[test]
fn group_subscription_with_subaccount() {
    // A group key, a member's sub-account key, the admin's signature over the token: the shape
    // metaless-group produces (token = 03 ‖ flags ‖ 00 00 ‖ kT).
    let group = Keypair::from_seed(&Seed::from_bytes([8; 32]));
    let sub = Keypair::from_seed(&Seed::from_bytes([9; 32]));
    let group_id: SessionId = format!("03{}", hex::encode(&group.ed25519_public()))
        .parse()
        .unwrap();
    let mut token = [0u8; 36];
    token[0] = 0x03;
    token[1] = 0x03;
    token[4..].copy_from_slice(&sub.ed25519_public());
    let account = PushAccount::Group {
        id: group_id,
        subaccount: token,
        subaccount_sig: group.sign(&token),
    };
    let now = 1_700_000_000;
    let request = Subscribe::signed_by(
        account.clone(),
        &[11, 12, 13, 14],
        false,
        now,
        service(),
        PushKey::from_bytes([2; 32]),
        |m| sub.sign(m),
    )
    .unwrap();
    let parsed = Subscribe::from_json(request.to_json().as_bytes()).unwrap();
    assert_eq!(parsed, request);
    parsed.verify(now).unwrap();
    // token not signed by the group key
    let mut bad = parsed.clone();
    bad.account = PushAccount::Group {
        id: group_id,
        subaccount: token,
        subaccount_sig: sub.sign(&token),
    };
    assert_eq!(bad.verify(now), Err(PushError::BadSignature));
    // request signed by the group key instead of the sub-account key
    let wrong_signer = Subscribe::signed_by(
        account,
        &[11],
        false,
        now,
        service(),
        PushKey::from_bytes([2; 32]),
        |m| group.sign(m),
    )
    .unwrap();
    assert_eq!(wrong_signer.verify(now), Err(PushError::BadSignature));
}

#[test]
fn notification_payloads() {
    let key = PushKey::from_bytes([6; 32]);
    let account: SessionId = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
        .parse()
        .unwrap();
    // Hand-built: l <meta> <data> e, with zero padding after it.
    let meta = format!(r##"{{"@":"{account}","#":"hash1","n":0,"l":4,"spns":1}}"##);
    let plain = format!("l{}:{}4:\x01\x02\x03\x04e\0\0\0", meta.len(), meta);
    let payload = encrypt_payload(&key, plain.as_bytes(), [9; 24]);
    let note = PushNotification::open(&key, &payload).unwrap();
    assert_eq!(note.account, account);
    assert_eq!(note.hash, "hash1");
    assert_eq!(note.namespace, 0);
    assert_eq!(note.data_len, Some(4));
    assert!(!note.data_too_big);
    assert_eq!(note.data.as_deref(), Some(&[1, 2, 3, 4][..]));
    // too big: metadata only
    let meta = format!(r##"{{"@":"{account}","#":"h","n":-10,"l":9000,"B":true}}"##);
    let note = PushNotification::parse(format!("l{}:{}e", meta.len(), meta).as_bytes()).unwrap();
    assert!(note.data_too_big);
    assert_eq!(note.data, None);
    assert_eq!(note.namespace, -10);
    // malformed
    for bad in [
        &b""[..],
        b"le",
        b"l3:abce",
        b"l2:{}e",
        b"l99:{}e",
        b"l02:{}e",
        b"d2:{}e",
        b"l2:{}1:xx",
    ] {
        assert_eq!(
            PushNotification::parse(bad),
            Err(PushError::BadPayload),
            "{bad:?}"
        );
    }
}

#[test]
fn replies() {
    assert_eq!(
        PushReply::from_json(br#"{"success":true,"updated":true}"#),
        Ok(PushReply::Updated)
    );
    assert_eq!(
        PushReply::from_json(br#"{"success":true,"removed":false}"#),
        Ok(PushReply::Removed(false))
    );
    assert_eq!(
        PushReply::from_json(PushReply::Added.to_json().as_bytes()),
        Ok(PushReply::Added)
    );
    assert_eq!(
        PushReply::from_json(br#"{"success":false}"#),
        Err(PushError::BadField("success"))
    );
    assert_eq!(
        PushReply::from_json(br#"{"error":2,"message":"no"}"#),
        Err(PushError::Server {
            code: 2,
            message: "no".into()
        })
    );
}
