//! Group message cipher: the derived byte-exact vector, the upstream size KAT, both signature
//! forms, and refusal of tampered, wrong-key, stale and malformed messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_config::bt::{self, Value};
use metaless_envelope::Content;
use metaless_group::{
    GroupError, GroupId, GroupKey, GroupKeyring, GroupKeys, SignatureForm, decrypt_content,
    decrypt_payload, encrypt_content, encrypt_payload, rekey,
};
use metaless_identity::{Keypair, Seed, hex};
use metaless_test_vectors as tv;
use serde_json::Value as Json;

fn case(id: &str) -> Json {
    let file = tv::load("groups.json");
    file["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|c| c["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no vector {id}"))
}

fn ring_with(group: GroupId, key: &GroupKey) -> GroupKeyring {
    let mut ring = GroupKeyring::new(group);
    ring.insert(key);
    ring
}

#[test]
fn derived_group_message_vector() {
    let c = case("group_message_encrypt_derived");
    let sk: [u8; 64] = tv::array(&c, "sender_ed25519_sk64");
    let sender = Keypair::from_libsodium_secret(&sk).unwrap();
    let group = GroupId::from_ed25519(tv::array(&c, "group_pk")).unwrap();
    let key = GroupKey::new(0, tv::array(&c, "enc_key"), 0);
    let plain = tv::bytes(&c, "plaintext");
    let wire = encrypt_payload(
        &sender,
        &group,
        &key,
        &plain,
        c["compress"].as_bool().unwrap(),
        tv::array(&c, "nonce"),
    )
    .unwrap();
    assert_eq!(hex::encode(&wire), tv::text(&c, "expected_ciphertext"));

    let ring = ring_with(group, &key);
    let got = decrypt_payload(&ring, &tv::bytes(&c, "expected_ciphertext")).unwrap();
    assert_eq!(&got.data[..], &plain[..]);
    assert_eq!(got.sender, sender.session_id());
    assert_eq!(got.signature_form, SignatureForm::Current);
    assert!(!got.compressed);
    // The vector's plaintext is an Envelope: the content parses as "hi group".
    let msg = decrypt_content(&ring, &wire).unwrap();
    assert_eq!(msg.content.as_text(), Some("hi group"));
    assert_eq!(msg.sent_at_ms, 1_700_000_000_000);
}

#[test]
fn upstream_message_sizes() {
    let c = case("group_message_sizes");
    let unit = c["plaintext_utf8_repeat"]["unit"].as_str().unwrap();
    let times = c["plaintext_utf8_repeat"]["times"].as_u64().unwrap() as usize;
    let msg = unit.repeat(times);
    assert_eq!(msg.len(), 1632);
    let group = GroupKeys::from_seed([1; 32]);
    let (_, key) = rekey(&group, &[], 0, 1).unwrap();
    let sender = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    let z = encrypt_payload(
        &sender,
        &group.group_id(),
        &key,
        msg.as_bytes(),
        true,
        [7; 24],
    )
    .unwrap();
    assert_eq!(
        z.len() as u64,
        c["expected_size_compressed"].as_u64().unwrap()
    );
    let d = encrypt_payload(
        &sender,
        &group.group_id(),
        &key,
        msg.as_bytes(),
        false,
        [7; 24],
    )
    .unwrap();
    assert_eq!(
        d.len() as u64,
        c["expected_size_uncompressed"].as_u64().unwrap()
    );
    let ring = ring_with(group.group_id(), &key);
    let got = decrypt_payload(&ring, &z).unwrap();
    assert!(got.compressed);
    assert_eq!(&got.data[..], msg.as_bytes());
}

/// Builds a message by hand with a chosen signature and dict, encrypted under `key`.
fn hand_made(key: &GroupKey, dict: &Value) -> Vec<u8> {
    use chacha20poly1305::aead::{Aead, KeyInit};
    let mut plain = bt::encode(dict);
    while !(40 + plain.len()).is_multiple_of(256) {
        plain.push(0);
    }
    let ct = chacha20poly1305::XChaCha20Poly1305::new(key.expose_secret().into())
        .encrypt(&[3u8; 24].into(), &plain[..])
        .unwrap();
    [&[3u8; 24][..], &ct].concat()
}

fn dict(entries: &[(&[u8], Value)]) -> Value {
    Value::dict(entries.iter().map(|(k, v)| (k.to_vec(), v.clone())))
}

#[test]
fn legacy_signature_form_accepted() {
    let group = GroupKeys::from_seed([5; 32]);
    let (_, key) = rekey(&group, &[], 0, 1).unwrap();
    let sender = Keypair::from_seed(&Seed::from_bytes([6; 32]));
    let data = b"old client".to_vec();
    let legacy = sender.sign(&data);
    let d = dict(&[
        (b"", Value::Int(1)),
        (b"a", Value::Bytes(sender.ed25519_public().to_vec())),
        (b"d", Value::Bytes(data.clone())),
        (b"s", Value::Bytes(legacy.to_vec())),
    ]);
    let ring = ring_with(group.group_id(), &key);
    let got = decrypt_payload(&ring, &hand_made(&key, &d)).unwrap();
    assert_eq!(got.signature_form, SignatureForm::Legacy);
    assert_eq!(&got.data[..], b"old client");

    // A signature by someone else, or over other data, is refused.
    let other = Keypair::from_seed(&Seed::from_bytes([7; 32]));
    let bad = dict(&[
        (b"", Value::Int(1)),
        (b"a", Value::Bytes(sender.ed25519_public().to_vec())),
        (b"d", Value::Bytes(data.clone())),
        (b"s", Value::Bytes(other.sign(&data).to_vec())),
    ]);
    assert_eq!(
        decrypt_payload(&ring, &hand_made(&key, &bad)).err(),
        Some(GroupError::BadSignature)
    );
    // Signature bound to another group (new form with a wrong group_pk).
    let wrong = [
        data.clone(),
        GroupKeys::from_seed([8; 32]).group_id().ed25519().to_vec(),
    ]
    .concat();
    let bad = dict(&[
        (b"", Value::Int(1)),
        (b"a", Value::Bytes(sender.ed25519_public().to_vec())),
        (b"d", Value::Bytes(data.clone())),
        (b"s", Value::Bytes(sender.sign(&wrong).to_vec())),
    ]);
    assert_eq!(
        decrypt_payload(&ring, &hand_made(&key, &bad)).err(),
        Some(GroupError::BadSignature)
    );
}

#[test]
fn malformed_inner_dicts_refused() {
    let group = GroupKeys::from_seed([5; 32]);
    let (_, key) = rekey(&group, &[], 0, 1).unwrap();
    let ring = ring_with(group.group_id(), &key);
    let sender = Keypair::from_seed(&Seed::from_bytes([6; 32]));
    let a = Value::Bytes(sender.ed25519_public().to_vec());
    let s = Value::Bytes(vec![0; 64]);
    let cases: Vec<Value> = vec![
        // version 2
        dict(&[
            (b"", Value::Int(2)),
            (b"a", a.clone()),
            (b"d", Value::bytes("x")),
            (b"s", s.clone()),
        ]),
        // both d and z
        dict(&[
            (b"", Value::Int(1)),
            (b"a", a.clone()),
            (b"d", Value::bytes("x")),
            (b"s", s.clone()),
            (b"z", Value::bytes("y")),
        ]),
        // neither
        dict(&[(b"", Value::Int(1)), (b"a", a.clone()), (b"s", s.clone())]),
        // empty data
        dict(&[
            (b"", Value::Int(1)),
            (b"a", a.clone()),
            (b"d", Value::bytes("")),
            (b"s", s.clone()),
        ]),
        // short sender key
        dict(&[
            (b"", Value::Int(1)),
            (b"a", Value::bytes("abc")),
            (b"d", Value::bytes("x")),
            (b"s", s.clone()),
        ]),
        // short signature
        dict(&[
            (b"", Value::Int(1)),
            (b"a", a.clone()),
            (b"d", Value::bytes("x")),
            (b"s", Value::bytes("sig")),
        ]),
        // not a dict
        Value::List(vec![Value::Int(1)]),
    ];
    for (i, c) in cases.iter().enumerate() {
        let err = decrypt_payload(&ring, &hand_made(&key, c)).unwrap_err();
        assert!(matches!(err, GroupError::Malformed(_)), "case {i}: {err:?}");
    }
    // A zstd bomb-ish / garbage z payload, properly signed.
    let z = b"\x28\xb5\x2f\xfdgarbage".to_vec();
    let sig = sender.sign(&[z.clone(), group.group_id().ed25519().to_vec()].concat());
    let d = dict(&[
        (b"", Value::Int(1)),
        (b"a", a.clone()),
        (b"s", Value::Bytes(sig.to_vec())),
        (b"z", Value::Bytes(z)),
    ]);
    assert_eq!(
        decrypt_payload(&ring, &hand_made(&key, &d)).err(),
        Some(GroupError::Decompress)
    );
    // Over the decompression cap: 1 000 001 zero bytes compress to almost nothing.
    let big = zstd::bulk::compress(&vec![0u8; 1_000_001], 1).unwrap();
    let sig = sender.sign(&[big.clone(), group.group_id().ed25519().to_vec()].concat());
    let d = dict(&[
        (b"", Value::Int(1)),
        (b"a", a),
        (b"s", Value::Bytes(sig.to_vec())),
        (b"z", Value::Bytes(big)),
    ]);
    assert_eq!(
        decrypt_payload(&ring, &hand_made(&key, &d)).err(),
        Some(GroupError::Decompress)
    );
}

#[test]
fn tampered_wrong_key_and_removed_member() {
    let group = GroupKeys::from_seed([9; 32]);
    let alice = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let carol = Keypair::from_seed(&Seed::from_bytes([3; 32]));
    let (m0, _) = rekey(&group, &[alice.session_id(), carol.session_id()], 0, 1).unwrap();
    let (m1, _) = rekey(&group, &[alice.session_id()], 1, 2).unwrap();
    let mut a_ring = GroupKeyring::new(group.group_id());
    let mut c_ring = GroupKeyring::new(group.group_id());
    for m in [&m0, &m1] {
        a_ring.load_as_member(&alice, m, 1).unwrap();
        c_ring.load_as_member(&carol, m, 1).unwrap();
    }
    let mut rng = rand_core::OsRng;
    let wire = encrypt_content(
        &alice,
        &a_ring,
        &Content::text("after removal"),
        5,
        &mut rng,
    )
    .unwrap();
    // Carol (removed at generation 1) cannot read it.
    assert_eq!(
        decrypt_content(&c_ring, &wire).err(),
        Some(GroupError::DecryptFailed)
    );
    assert!(c_ring.is_removed());
    // Alice can, with generation 1.
    assert_eq!(decrypt_content(&a_ring, &wire).unwrap().generation, 1);
    // Any flipped bit fails.
    for i in [0, 23, 24, wire.len() / 2, wire.len() - 1] {
        let mut bad = wire.clone();
        bad[i] ^= 0x80;
        assert_eq!(
            decrypt_payload(&a_ring, &bad).err(),
            Some(GroupError::DecryptFailed),
            "{i}"
        );
    }
    // Truncated below nonce+tag, and empty keyring.
    assert_eq!(
        decrypt_payload(&a_ring, &wire[..39]).err(),
        Some(GroupError::Malformed("group message length"))
    );
    assert_eq!(
        decrypt_payload(&GroupKeyring::new(group.group_id()), &wire).err(),
        Some(GroupError::DecryptFailed)
    );
    assert_eq!(
        encrypt_content(
            &alice,
            &GroupKeyring::new(group.group_id()),
            &Content::text("x"),
            5,
            &mut rng
        )
        .err(),
        Some(GroupError::NoKey)
    );
    // Oversize plaintext refused at the sender.
    let key = a_ring.current().unwrap();
    assert!(matches!(
        encrypt_payload(
            &alice,
            &group.group_id(),
            &key,
            &vec![1; 1_000_001],
            true,
            [0; 24]
        ),
        Err(GroupError::TooLarge { .. })
    ));
    // Old messages still decrypt with the old key after a rekey (history).
    let k0 = a_ring.iter().last().unwrap();
    let old = encrypt_payload(&alice, &group.group_id(), &k0, b"old", false, [1; 24]).unwrap();
    assert_eq!(decrypt_payload(&a_ring, &old).unwrap().generation, 0);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn round_trip_and_padding(data in proptest::collection::vec(any::<u8>(), 1..3000), compress: bool, nonce: [u8; 24]) {
            let group = GroupKeys::from_seed([4; 32]);
            let key = GroupKey::new(0, [5; 32], 0);
            let sender = Keypair::from_seed(&Seed::from_bytes([6; 32]));
            let wire = encrypt_payload(&sender, &group.group_id(), &key, &data, compress, nonce).unwrap();
            prop_assert_eq!(wire.len() % 256, 0);
            let ring = ring_with(group.group_id(), &key);
            let got = decrypt_payload(&ring, &wire).unwrap();
            prop_assert_eq!(&got.data[..], &data[..]);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let group = GroupKeys::from_seed([4; 32]);
            let ring = ring_with(group.group_id(), &GroupKey::new(0, [5; 32], 0));
            prop_assert!(decrypt_payload(&ring, &bytes).is_err());
            let mut kr = GroupKeyring::new(group.group_id());
            let me = Keypair::from_seed(&Seed::from_bytes([6; 32]));
            prop_assert!(kr.load_as_member(&me, &bytes, 0).is_err());
        }
    }
}
