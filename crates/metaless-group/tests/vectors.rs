//! Upstream known answers from test-vectors/groups.json.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use metaless_group::{
    GroupError, GroupId, GroupKeys, MEMBER_KEY_DOMAIN, MemberAuth, MemberSigner, Permissions,
    decrypt_for_recipient, encrypt_for_recipients, verify_subaccount_request,
};
use metaless_identity::{Keypair, Seed, hex};
use metaless_swarm::{Namespace, RequestSigner, Retrieve, Signer};
use metaless_test_vectors as tv;
use serde_json::Value;

fn case(id: &str) -> Value {
    let file = tv::load("groups.json");
    file["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|c| c["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no vector {id}"))
}

fn b64(c: &Value, field: &str) -> Vec<u8> {
    STANDARD.decode(tv::text(c, field)).unwrap()
}

#[test]
fn swarm_auth_kat() {
    let c = case("group_keys_swarm_auth");
    let group = GroupKeys::from_seed(tv::array(&c, "group_seed"));
    assert_eq!(
        hex::encode(&group.group_id().ed25519()),
        tv::text(&c, "expected_group_pk")
    );
    assert_eq!(
        group.group_id().to_string(),
        tv::text(&c, "expected_group_id")
    );
    let admin = Keypair::from_seed(&Seed::from_bytes(tv::array(&c, "admin_seed")));
    assert_eq!(
        admin.session_id().to_string(),
        tv::text(&c, "expected_admin_session_id")
    );
    let member = Keypair::from_seed(&Seed::from_bytes(tv::array(&c, "member_seed")));
    assert_eq!(
        member.session_id().to_string(),
        tv::text(&c, "expected_member_session_id")
    );

    let auth = MemberAuth::issue(&group, &member.session_id(), Permissions::default()).unwrap();
    let signer = MemberSigner::new(&member, group.group_id(), &auth).unwrap();
    assert_eq!(signer.token().to_vec(), b64(&c, "expected_subaccount_b64"));
    // The auth data's signature is the token's signature.
    assert_eq!(
        auth.as_bytes()[36..].to_vec(),
        b64(&c, "expected_subaccount_sig_b64")
    );

    let m = tv::text(&c, "message_utf8").as_bytes();
    let a = signer.auth(m);
    assert_eq!(a.signature.to_vec(), b64(&c, "expected_signature_b64"));
    let sub = a.subaccount.as_ref().unwrap();
    assert_eq!(sub.token.to_vec(), b64(&c, "expected_subaccount_b64"));
    assert_eq!(
        sub.signature.to_vec(),
        b64(&c, "expected_subaccount_sig_b64")
    );
    assert_eq!(a.pubkey_ed25519, None);
    verify_subaccount_request(
        &group.group_id(),
        &sub.token,
        &sub.signature,
        m,
        &a.signature,
    )
    .unwrap();

    // Through the swarm request builder: the same string is signed for retrieve ns 999? The
    // vector's message is "retrieve" ‖ "999" ‖ ts; check the builder's string matches it.
    let req = Retrieve::signed(
        &Signer::delegated(&signer),
        Namespace::Other(999),
        None,
        1_693_340_111_000,
    );
    let (ra, _) = req.auth.unwrap();
    assert_eq!(ra.signature.to_vec(), b64(&c, "expected_signature_b64"));
    assert_eq!(req.pubkey, group.group_id().swarm_pubkey());
}

#[test]
fn swarm_auth_negatives() {
    let c = case("group_keys_swarm_auth");
    let group = GroupKeys::from_seed(tv::array(&c, "group_seed"));
    let member = Keypair::from_seed(&Seed::from_bytes(tv::array(&c, "member_seed")));
    let other = Keypair::from_seed(&Seed::from_bytes(tv::array(&c, "admin_seed")));
    let auth = MemberAuth::issue(&group, &member.session_id(), Permissions::default()).unwrap();

    // Auth data for one member does not bind to another member's key.
    assert_eq!(
        MemberSigner::new(&other, group.group_id(), &auth).err(),
        Some(GroupError::BadTokenSignature)
    );
    // ... nor to another group.
    let wrong_group = GroupKeys::from_seed([9; 32]).group_id();
    assert_eq!(
        MemberSigner::new(&member, wrong_group, &auth).err(),
        Some(GroupError::BadTokenSignature)
    );
    // Forged flags (delete added) break the admin signature.
    let mut forged = *auth.as_bytes();
    forged[1] |= 0x04;
    let forged = MemberAuth::from_bytes(&forged).unwrap();
    assert_eq!(
        MemberSigner::new(&member, group.group_id(), &forged).err(),
        Some(GroupError::BadTokenSignature)
    );
    // A tampered signature byte too.
    let mut bad = *auth.as_bytes();
    bad[99] ^= 1;
    assert_eq!(
        MemberSigner::new(
            &member,
            group.group_id(),
            &MemberAuth::from_bytes(&bad).unwrap()
        )
        .err(),
        Some(GroupError::BadTokenSignature)
    );
    // Truncated and bad header.
    assert!(matches!(
        MemberAuth::from_bytes(&auth.as_bytes()[..99]),
        Err(GroupError::WrongLength { len: 99, .. })
    ));
    let mut hdr = *auth.as_bytes();
    hdr[0] = 0x05;
    assert_eq!(
        MemberAuth::from_bytes(&hdr),
        Err(GroupError::Malformed("member auth data header"))
    );

    // Server-side checks: request signature over another message, token from another group.
    let signer = MemberSigner::new(&member, group.group_id(), &auth).unwrap();
    let a = signer.auth(b"retrieve111");
    let sub = a.subaccount.unwrap();
    assert_eq!(
        verify_subaccount_request(
            &group.group_id(),
            &sub.token,
            &sub.signature,
            b"retrieve112",
            &a.signature
        ),
        Err(GroupError::BadRequestSignature)
    );
    assert_eq!(
        verify_subaccount_request(
            &wrong_group,
            &sub.token,
            &sub.signature,
            b"retrieve111",
            &a.signature
        ),
        Err(GroupError::BadTokenSignature)
    );
    // A member cannot mint itself a token: signing the token with its own key fails.
    let self_sig = member.sign(&sub.token);
    assert_eq!(
        verify_subaccount_request(
            &group.group_id(),
            &sub.token,
            &self_sig,
            b"retrieve111",
            &a.signature
        ),
        Err(GroupError::BadTokenSignature)
    );
    // 05 ids only.
    let gid = group.group_id().session_id().unwrap();
    assert_eq!(
        MemberAuth::issue(&group, &gid, Permissions::default()).err(),
        Some(GroupError::InvalidMemberId)
    );
}

#[test]
fn identities() {
    for i in 0..6 {
        let c = case(&format!("group_test_identity_{i}"));
        let keys = Keypair::from_seed(&Seed::from_bytes(tv::array(&c, "ed25519_seed")));
        assert_eq!(
            keys.session_id().to_string(),
            tv::text(&c, "expected_session_id")
        );
    }
}

#[test]
fn group_id_parsing() {
    let c = case("group_keys_swarm_auth");
    let id: GroupId = tv::text(&c, "expected_group_id").parse().unwrap();
    assert_eq!(
        hex::encode(&id.ed25519()),
        tv::text(&c, "expected_group_pk")
    );
    assert!("03".parse::<GroupId>().is_err());
    assert!(
        format!("05{}", tv::text(&c, "expected_group_pk"))
            .parse::<GroupId>()
            .is_err()
    );
    assert_eq!(
        GroupId::from_ed25519([0; 32]),
        Err(GroupError::InvalidGroupId)
    );
}

#[test]
fn multi_encrypt_kat() {
    let c = case("multi_encrypt_kat");
    let seeds: Vec<Keypair> = c["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Keypair::from_seed(&Seed::from_hex(s.as_str().unwrap()).unwrap()))
        .collect();
    let pks: Vec<String> = c["expected_x25519_pks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    for (k, pk) in seeds.iter().zip(&pks) {
        assert_eq!(&hex::encode(&k.x25519_public()), pk);
    }
    let nonce: [u8; 24] = tv::array(&c, "nonce");
    let domain = tv::text(&c, "domain").as_bytes();
    let recipients: Vec<[u8; 32]> = seeds[1..4].iter().map(|k| k.x25519_public()).collect();
    let sender = seeds[0].x25519_secret();

    let same = tv::text(&c, "same_message_utf8").as_bytes();
    let out = encrypt_for_recipients(sender, &recipients, &[same], &nonce, domain).unwrap();
    let expected: Vec<&str> = c["expected_same"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        out.iter().map(|b| hex::encode(b)).collect::<Vec<_>>(),
        expected
    );

    let msgs: Vec<&str> = c["per_recipient_messages_utf8"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let msgs: Vec<&[u8]> = msgs.iter().map(|m| m.as_bytes()).collect();
    let out = encrypt_for_recipients(sender, &recipients, &msgs, &nonce, domain).unwrap();
    let expected: Vec<&str> = c["expected_per_recipient"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        out.iter().map(|b| hex::encode(b)).collect::<Vec<_>>(),
        expected
    );

    // Each recipient opens its own entry and no one else's; seed 4 (not a recipient) none.
    for (i, r) in seeds[1..4].iter().enumerate() {
        let ct = hex::decode(expected[i]).unwrap();
        let plain = decrypt_for_recipient(
            r.x25519_secret(),
            &seeds[0].x25519_public(),
            &nonce,
            &ct,
            domain,
        )
        .unwrap();
        assert_eq!(&plain[..], msgs[i]);
        let ct_other = hex::decode(expected[(i + 1) % 3]).unwrap();
        assert_eq!(
            decrypt_for_recipient(
                r.x25519_secret(),
                &seeds[0].x25519_public(),
                &nonce,
                &ct_other,
                domain
            )
            .err(),
            Some(GroupError::DecryptFailed)
        );
    }
    let ct = hex::decode(expected[0]).unwrap();
    assert_eq!(
        decrypt_for_recipient(
            seeds[4].x25519_secret(),
            &seeds[0].x25519_public(),
            &nonce,
            &ct,
            domain
        )
        .err(),
        Some(GroupError::DecryptFailed)
    );
    // Wrong domain.
    assert_eq!(
        decrypt_for_recipient(
            seeds[1].x25519_secret(),
            &seeds[0].x25519_public(),
            &nonce,
            &ct,
            MEMBER_KEY_DOMAIN
        )
        .err(),
        Some(GroupError::DecryptFailed)
    );
}
