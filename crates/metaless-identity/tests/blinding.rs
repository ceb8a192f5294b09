//! Blinded IDs and signatures against upstream's known answers (test-vectors/blinding.json).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_identity::blinding::{self, Platform};
use metaless_identity::{
    IdentityError, Keypair, Seed, SessionId, SessionIdPrefix, hex, verify_ed25519,
};
use proptest::prelude::*;
use serde_json::Value;

fn vectors() -> Value {
    metaless_test_vectors::load("blinding.json")
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn keys_of(case: &Value) -> Keypair {
    let sk: [u8; 64] = hex::decode_array(s(&case["sk"])).unwrap();
    Keypair::from_libsodium_secret(&sk).unwrap()
}

fn server_pk(case: &Value) -> [u8; 32] {
    hex::decode_array(s(&case["server_pk"])).unwrap()
}

fn sid(text: &str) -> SessionId {
    text.parse().unwrap()
}

#[test]
fn blind25_ids_match_upstream() {
    let v = vectors();
    let cases = v["blind25_id"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let id = blinding::blind25_id(&sid(s(&case["session_id"])), &server_pk(case)).unwrap();
        assert_eq!(id.to_string(), s(&case["expected"]));
    }
}

#[test]
fn blind15_ids_match_upstream() {
    let v = vectors();
    let cases = v["blind15_id"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let [positive, negated] =
            blinding::blind15_ids(&sid(s(&case["session_id"])), &server_pk(case)).unwrap();
        assert_eq!(positive.to_string(), s(&case["expected"]));
        let mut flipped = positive.to_bytes();
        flipped[32] ^= 0x80;
        assert_eq!(negated.to_bytes(), flipped);
    }
}

#[test]
fn ids_from_the_ed25519_key_agree_with_ids_from_the_session_id() {
    let v = vectors();
    for identity in v["identities"].as_array().unwrap() {
        let sk: [u8; 64] = hex::decode_array(s(&identity["ed25519_sk64"])).unwrap();
        let keys = Keypair::from_libsodium_secret(&sk).unwrap();
        let session_id = sid(s(&identity["session_id"]));
        for server in [[0u8; 32], [0xab; 32], [0x77; 32]] {
            let b25 = blinding::blind25_id(&session_id, &server).unwrap();
            assert_eq!(
                blinding::blind25_id_from_ed25519(&keys.ed25519_public(), &server).unwrap(),
                b25
            );
            assert_eq!(
                blinding::blind25_keypair(&keys, &server).public_key(),
                *b25.key()
            );
            let [pos, neg] = blinding::blind15_ids(&session_id, &server).unwrap();
            let real = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &server).unwrap();
            assert_eq!(
                blinding::blind15_keypair(&keys, &server).public_key(),
                *real.key()
            );
            // A negative Ed25519 key (sign bit set) blinds to the negated candidate.
            let negative = keys.ed25519_public()[31] & 0x80 != 0;
            assert_eq!(real, if negative { neg } else { pos });
        }
    }
    // Upstream's second identity is the negative one.
    let sk2: [u8; 64] = hex::decode_array(s(&v["identities"][1]["ed25519_sk64"])).unwrap();
    assert_ne!(sk2[63] & 0x80, 0);
}

#[test]
fn blind25_signatures_match_upstream_byte_for_byte() {
    let v = vectors();
    let cases = v["blind25_sign"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let keys = keys_of(case);
        let message = s(&case["message_utf8"]).as_bytes();
        let sig = blinding::blind25_sign(&keys, &server_pk(case), message).unwrap();
        assert_eq!(hex::encode(&sig), s(&case["expected_sig"]));
        let id = blinding::blind25_id(&keys.session_id(), &server_pk(case)).unwrap();
        verify_ed25519(id.key(), message, &sig).unwrap();
        // Upstream accepts the 32-byte seed alone too; so do we (a Keypair from the seed).
        let seed = Seed::from_slice(&hex::decode(s(&case["sk"])).unwrap()[..32]).unwrap();
        let from_seed =
            blinding::blind25_sign(&Keypair::from_seed(&seed), &server_pk(case), message).unwrap();
        assert_eq!(from_seed, sig);
    }
}

#[test]
fn blind15_signatures_match_upstream_byte_for_byte() {
    let v = vectors();
    let cases = v["blind15_sign"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let keys = keys_of(case);
        let message = s(&case["message_utf8"]).as_bytes();
        let sig = blinding::blind15_sign(&keys, &server_pk(case), message);
        assert_eq!(hex::encode(&sig), s(&case["expected_sig"]));
        let [pos, neg] = blinding::blind15_ids(&keys.session_id(), &server_pk(case)).unwrap();
        // It verifies under exactly one of the two candidate IDs: the negated one for a negative
        // Ed25519 key (upstream's second identity, whose cases use `blind15_id(...)[1]`).
        let negated = keys.ed25519_public()[31] & 0x80 != 0;
        let (right, wrong) = if negated { (neg, pos) } else { (pos, neg) };
        verify_ed25519(right.key(), message, &sig).unwrap();
        assert_eq!(
            verify_ed25519(wrong.key(), message, &sig),
            Err(IdentityError::BadSignature)
        );
    }
}

#[test]
fn version_keys_and_signatures_match_upstream() {
    let v = vectors();
    let cases = v["blind_version_07"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    let keys = keys_of(&cases[0]);
    let version = blinding::blind_version_keypair(&keys).unwrap();
    let expected: [u8; 64] = hex::decode_array(s(&cases[0]["expected_seckey64"])).unwrap();
    assert_eq!(version.signing_key().as_bytes()[..], expected[..32]);
    assert_eq!(version.ed25519_public()[..], expected[32..]);

    let case = &cases[1];
    assert_eq!(s(&case["platform"]), "desktop");
    let sig = blinding::blind_version_sign(
        &keys_of(case),
        Platform::Desktop,
        case["timestamp"].as_u64().unwrap(),
    )
    .unwrap();
    assert_eq!(hex::encode(&sig), s(&case["expected_sig"]));
    verify_ed25519(
        &version.ed25519_public(),
        s(&case["signed_message_utf8"]).as_bytes(),
        &sig,
    )
    .unwrap();

    for case in v["blind_version_sign_request"].as_array().unwrap() {
        let body = case["body"].as_str().map(str::as_bytes);
        let sig = blinding::blind_version_sign_request(
            &keys_of(case),
            case["timestamp"].as_u64().unwrap(),
            s(&case["method"]).as_bytes(),
            s(&case["path"]).as_bytes(),
            body,
        )
        .unwrap();
        let pk: [u8; 32] = hex::decode_array(s(&case["verify_with_pk"])).unwrap();
        verify_ed25519(&pk, s(&case["signed_message_utf8"]).as_bytes(), &sig).unwrap();
    }
}

#[test]
fn session_id_matching_matches_upstream() {
    let v = vectors();
    let cases = v["session_id_matches"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let got = blinding::session_id_matches_blinded_id(
            &sid(s(&case["session_id"])),
            &sid(s(&case["blinded_id"])),
            &server_pk(case),
        )
        .unwrap();
        assert_eq!(got, case["matches"].as_bool().unwrap(), "{case}");
    }
    // Upstream's invalid inputs throw; ours do not get past parsing.
    let invalid = v["session_id_matches_invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 3);
    for case in invalid {
        let parsed = (
            s(&case["session_id"]).parse::<SessionId>(),
            s(&case["blinded_id"]).parse::<SessionId>(),
            hex::decode_array::<32>(s(&case["server_pk"])),
        );
        assert!(
            parsed.0.is_err() || parsed.1.is_err() || parsed.2.is_err(),
            "{case}"
        );
    }
}

#[test]
fn wrong_kinds_of_id_are_refused() {
    let keys = Keypair::from_seed(&Seed::from_bytes([9; 32]));
    let server = [1u8; 32];
    let b25 = blinding::blind25_id(&keys.session_id(), &server).unwrap();
    let b15 = blinding::blind15_ids(&keys.session_id(), &server).unwrap()[0];
    // Only 05 IDs can be blinded.
    assert_eq!(
        blinding::blind25_id(&b25, &server).err(),
        Some(IdentityError::UnexpectedPrefix(0x25))
    );
    assert_eq!(
        blinding::blind15_ids(&b15, &server).err(),
        Some(IdentityError::UnexpectedPrefix(0x15))
    );
    // Only 15/25 IDs are blinded IDs.
    assert_eq!(
        blinding::session_id_matches_blinded_id(&keys.session_id(), &keys.session_id(), &server)
            .err(),
        Some(IdentityError::UnexpectedPrefix(0x05))
    );
    assert_eq!(
        blinding::session_id_matches_blinded_id(&b25, &b25, &server).err(),
        Some(IdentityError::UnexpectedPrefix(0x25))
    );
    let group = SessionId::new(SessionIdPrefix::Group, keys.ed25519_public()).unwrap();
    assert_eq!(
        blinding::blind25_id(&group, &server).err(),
        Some(IdentityError::UnexpectedPrefix(0x03))
    );
}

#[test]
fn x25519_keys_without_a_prime_order_point_are_refused() {
    let server = [1u8; 32];
    // u = 0 maps to y = −1, a point of order 2; u = −1 (p − 1) has no Edwards image.
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    for x in [[0u8; 32], minus_one] {
        let id = SessionId::standard(x);
        assert_eq!(
            blinding::blind25_id(&id, &server).err(),
            Some(IdentityError::InvalidPoint)
        );
        assert_eq!(
            blinding::blind15_ids(&id, &server).err(),
            Some(IdentityError::InvalidPoint)
        );
    }
    // An Ed25519 key that is not a point.
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    assert_eq!(
        blinding::blind15_id_from_ed25519(&not_a_point, &server).err(),
        Some(IdentityError::InvalidPoint)
    );
    assert_eq!(
        blinding::blind25_id_from_ed25519(&not_a_point, &server).err(),
        Some(IdentityError::InvalidPoint)
    );
}

#[test]
fn tampered_signatures_fail() {
    let keys = Keypair::from_seed(&Seed::from_bytes([4; 32]));
    let server = [5u8; 32];
    let id = blinding::blind25_id(&keys.session_id(), &server).unwrap();
    let sig = blinding::blind25_sign(&keys, &server, b"payload").unwrap();
    for i in 0..64 {
        let mut bad = sig;
        bad[i] ^= 0x01;
        assert!(
            verify_ed25519(id.key(), b"payload", &bad).is_err(),
            "byte {i}"
        );
    }
    assert!(verify_ed25519(id.key(), b"payloae", &sig).is_err());
    // The signature is bound to the server: another server's blinded key rejects it.
    let other = blinding::blind25_id(&keys.session_id(), &[6; 32]).unwrap();
    assert!(verify_ed25519(other.key(), b"payload", &sig).is_err());
    // The unblinded key rejects it too.
    assert!(verify_ed25519(&keys.ed25519_public(), b"payload", &sig).is_err());
}

#[test]
fn blinded_keypair_is_a_secret_type() {
    fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    assert_zeroize_on_drop::<blinding::BlindedKeypair>();
    let keys = Keypair::from_seed(&Seed::from_bytes([4; 32]));
    let pair = blinding::blind15_keypair(&keys, &[1; 32]);
    let debug = format!("{pair:?}");
    assert!(debug.contains(&hex::encode(&pair.public_key())));
    assert!(!debug.contains(&hex::encode(pair.expose_secret())));
}

proptest! {
    // Each case does a dozen scalar multiplications; 64 cases keep debug-build tests quick.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn blinded_signatures_verify_and_ids_match(seed in any::<[u8; 32]>(), server in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..64)) {
        let keys = Keypair::from_seed(&Seed::from_bytes(seed));
        let sid = keys.session_id();
        let b25 = blinding::blind25_id(&sid, &server).unwrap();
        let sig25 = blinding::blind25_sign(&keys, &server, &msg).unwrap();
        prop_assert!(verify_ed25519(b25.key(), &msg, &sig25).is_ok());
        prop_assert!(blinding::session_id_matches_blinded_id(&sid, &b25, &server).unwrap());

        let b15 = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &server).unwrap();
        let sig15 = blinding::blind15_sign(&keys, &server, &msg);
        prop_assert!(verify_ed25519(b15.key(), &msg, &sig15).is_ok());
        prop_assert!(blinding::session_id_matches_blinded_id(&sid, &b15, &server).unwrap());

        // Deterministic: the same inputs sign the same way.
        prop_assert_eq!(blinding::blind25_sign(&keys, &server, &msg).unwrap(), sig25);
        prop_assert_eq!(blinding::blind15_sign(&keys, &server, &msg), sig15);
    }

    #[test]
    fn arbitrary_x25519_keys_never_panic(x in any::<[u8; 32]>(), server in any::<[u8; 32]>()) {
        let id = SessionId::standard(x);
        let _ = blinding::blind25_id(&id, &server);
        let _ = blinding::blind15_ids(&id, &server);
        let _ = blinding::blind15_id_from_ed25519(&x, &server);
        let _ = blinding::blind25_id_from_ed25519(&x, &server);
    }
}
