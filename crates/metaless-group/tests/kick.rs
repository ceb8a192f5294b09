//! Kick notices (namespace −11): the removed member reads its generation, nobody else reads
//! anything, and malformed, tampered, oversize or foreign notices are refused with typed errors.
//! (The per-recipient wrapping under them is the one the upstream multi-encrypt KAT pins in
//! vectors.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use metaless_config::bt::{self, Value};
use metaless_group::{
    GroupError, GroupKeys, KICKED_DOMAIN, decrypt_for_recipient, kick_notice, open_kick_notice,
};
use metaless_identity::{Keypair, Seed, SessionId};
use proptest::prelude::*;

fn kp(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

#[test]
fn every_removed_member_reads_its_own_entry() {
    let group = GroupKeys::from_seed([1; 32]);
    let (carol, dave, bob) = (kp(3), kp(4), kp(2));
    let notice = kick_notice(&group, &[carol.session_id(), dave.session_id()], 7, [5; 24]).unwrap();
    assert_eq!(open_kick_notice(&carol, &group.group_id(), &notice), Ok(7));
    assert_eq!(open_kick_notice(&dave, &group.group_id(), &notice), Ok(7));
    assert_eq!(
        open_kick_notice(&bob, &group.group_id(), &notice),
        Err(GroupError::DecryptFailed)
    );
    // Another group's key opens nothing.
    let other = GroupKeys::from_seed([9; 32]).group_id();
    assert_eq!(
        open_kick_notice(&carol, &other, &notice),
        Err(GroupError::DecryptFailed)
    );
}

#[test]
fn layout_is_the_simple_multi_encrypt_dict() {
    let group = GroupKeys::from_seed([1; 32]);
    let carol = kp(3);
    let notice = kick_notice(&group, &[carol.session_id()], 12, [5; 24]).unwrap();
    let v = bt::decode(&notice).unwrap();
    let d = v.as_dict().unwrap();
    assert_eq!(
        d.keys().map(|k| k.as_slice()).collect::<Vec<_>>(),
        [b"#".as_slice(), b"e"]
    );
    assert_eq!(d[b"#".as_slice()].as_bytes().unwrap(), [5; 24]);
    let entries = d[b"e".as_slice()].as_list().unwrap();
    assert_eq!(entries.len(), 1);
    // Plaintext: the 33-byte id then the generation in ASCII, wrapped from the group's X25519 key.
    let plain = decrypt_for_recipient(
        carol.x25519_secret(),
        &group.group_id().x25519(),
        &[5; 24],
        entries[0].as_bytes().unwrap(),
        KICKED_DOMAIN,
    )
    .unwrap();
    let mut want = carol.session_id().to_bytes().to_vec();
    want.extend_from_slice(b"12");
    assert_eq!(&plain[..], &want[..]);
    assert_eq!(entries[0].as_bytes().unwrap().len(), 33 + 2 + 16);
}

#[test]
fn refusals_are_typed() {
    let group = GroupKeys::from_seed([1; 32]);
    let g = group.group_id();
    let carol = kp(3);
    assert!(matches!(
        kick_notice(&group, &[], 1, [0; 24]),
        Err(GroupError::TooLarge { .. })
    ));
    let group_id_as_member = SessionId::from_bytes(&g.to_bytes()).unwrap();
    assert_eq!(
        kick_notice(&group, &[group_id_as_member], 1, [0; 24]),
        Err(GroupError::InvalidMemberId)
    );
    let notice = kick_notice(&group, &[carol.session_id()], 1, [0; 24]).unwrap();
    // Truncated anywhere: not a notice, or nothing opens.
    for n in 0..notice.len() {
        assert!(open_kick_notice(&carol, &g, &notice[..n]).is_err());
    }
    // Wrong nonce length, missing list.
    let bad = bt::encode(&Value::dict([(b"#".to_vec(), Value::bytes([0u8; 23]))]));
    assert_eq!(
        open_kick_notice(&carol, &g, &bad),
        Err(GroupError::Malformed("kick notice nonce"))
    );
    let bad = bt::encode(&Value::dict([(b"#".to_vec(), Value::bytes([0u8; 24]))]));
    assert_eq!(
        open_kick_notice(&carol, &g, &bad),
        Err(GroupError::Malformed("kick notice entries"))
    );
    assert!(matches!(
        open_kick_notice(&carol, &g, &vec![b'l'; 200_000]),
        Err(GroupError::TooLarge { .. })
    ));
}

#[test]
fn an_entry_naming_someone_else_is_refused() {
    // A notice whose entry for Carol carries Dave's id (a confused or hostile admin).
    let group = GroupKeys::from_seed([1; 32]);
    let (carol, dave) = (kp(3), kp(4));
    let mut plain = dave.session_id().to_bytes().to_vec();
    plain.extend_from_slice(b"3");
    let entries = metaless_group::encrypt_for_recipients(
        group.keypair().x25519_secret(),
        &[carol.x25519_public()],
        &[&plain],
        &[1; 24],
        KICKED_DOMAIN,
    )
    .unwrap();
    let notice = bt::encode(&Value::dict([
        (b"#".to_vec(), Value::bytes([1u8; 24])),
        (
            b"e".to_vec(),
            Value::List(vec![Value::Bytes(entries[0].clone())]),
        ),
    ]));
    assert_eq!(
        open_kick_notice(&carol, &group.group_id(), &notice),
        Err(GroupError::Malformed("kick notice member"))
    );
}

proptest! {
    #[test]
    fn round_trip_and_bit_flips(generation in 0u64..u64::MAX, flip in 0usize..1000, nonce in any::<[u8; 24]>()) {
        let group = GroupKeys::from_seed([1; 32]);
        let carol = kp(3);
        let notice = kick_notice(&group, &[carol.session_id()], generation, nonce).unwrap();
        prop_assert_eq!(open_kick_notice(&carol, &group.group_id(), &notice), Ok(generation));
        let mut bad = notice.clone();
        let i = flip % bad.len();
        bad[i] ^= 0x01;
        prop_assert!(open_kick_notice(&carol, &group.group_id(), &bad) != Ok(generation) || bad == notice);
    }
}
