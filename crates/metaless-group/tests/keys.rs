//! Keys messages: the derived gen-0 rekey vector, loading as member and admin, rekey on
//! removal, supplements, history, and refusal of tampered/forged/oversize messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_group::{GroupError, GroupKeyring, GroupKeys, LoadOutcome, key_supplement, rekey};
use metaless_identity::{Keypair, Seed, SessionId, hex};
use metaless_test_vectors as tv;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn case(id: &str) -> Value {
    let file = tv::load("groups.json");
    file["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|c| c["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no vector {id}"))
}

fn identity(i: usize) -> Keypair {
    let c = case(&format!("group_test_identity_{i}"));
    Keypair::from_seed(&Seed::from_bytes(tv::array(&c, "ed25519_seed")))
}

#[test]
fn rekey_gen0_derived_vector() {
    let c = case("group_rekey_gen0_derived");
    let group = GroupKeys::from_seed(tv::array(&c, "group_seed"));
    let members: Vec<SessionId> = c["member_session_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().parse().unwrap())
        .collect();
    // Given in reverse order on purpose: the rekey sorts.
    let rev: Vec<SessionId> = members.iter().rev().copied().collect();
    let (msg, key) = rekey(&group, &rev, c["generation"].as_u64().unwrap(), 1).unwrap();
    assert_eq!(
        hex::encode(key.expose_secret()),
        tv::text(&c, "expected_enc_key")
    );
    assert_eq!(
        msg.len() as u64,
        c["expected_message_len"].as_u64().unwrap()
    );
    let prefix = hex::decode(tv::text(&c, "expected_message_prefix")).unwrap();
    assert_eq!(&msg[..prefix.len()], &prefix[..]);
    assert_eq!(
        hex::encode(&Sha256::digest(&msg)),
        tv::text(&c, "expected_message_sha256")
    );

    // Both members (identities 2 and 0) load it; identity 1 is not a recipient.
    for (i, expect) in [(2, true), (0, true), (1, false)] {
        let mut ring = GroupKeyring::new(group.group_id());
        let out = ring.load_as_member(&identity(i), &msg, 7).unwrap();
        if expect {
            assert_eq!(out, LoadOutcome::NewKeys { generation: 0 });
            assert_eq!(ring.current().unwrap().expose_secret(), key.expose_secret());
            assert_eq!(
                ring.load_as_member(&identity(i), &msg, 7).unwrap(),
                LoadOutcome::AlreadyKnown
            );
        } else {
            assert_eq!(out, LoadOutcome::NotRecipient { generation: 0 });
            assert!(ring.is_removed());
            assert_eq!(ring.current().err(), Some(GroupError::NoKey));
        }
    }
    let mut admin = GroupKeyring::new(group.group_id());
    assert_eq!(
        admin.load_as_admin(&group, &msg, 7).unwrap(),
        LoadOutcome::NewKeys { generation: 0 }
    );
    assert_eq!(
        admin.current().unwrap().expose_secret(),
        key.expose_secret()
    );
}

#[test]
fn rekey_on_removal_excludes_removed_member() {
    let group = GroupKeys::from_seed([0x42; 32]);
    let (alice, bob, carol) = (identity(0), identity(1), identity(2));
    let all = [alice.session_id(), bob.session_id(), carol.session_id()];
    let (m0, k0) = rekey(&group, &all, 0, 1_000).unwrap();
    let mut carol_ring = GroupKeyring::new(group.group_id());
    let mut bob_ring = GroupKeyring::new(group.group_id());
    carol_ring.load_as_member(&carol, &m0, 1_000).unwrap();
    bob_ring.load_as_member(&bob, &m0, 1_000).unwrap();

    // Carol removed: generation 1 for Alice and Bob only.
    let (m1, k1) = rekey(&group, &all[..2], 1, 2_000).unwrap();
    assert_ne!(k0.expose_secret(), k1.expose_secret());
    assert_eq!(
        bob_ring.load_as_member(&bob, &m1, 2_000).unwrap(),
        LoadOutcome::NewKeys { generation: 1 }
    );
    assert_eq!(
        carol_ring.load_as_member(&carol, &m1, 2_000).unwrap(),
        LoadOutcome::NotRecipient { generation: 1 }
    );
    assert!(carol_ring.is_removed());
    assert!(!bob_ring.is_removed());
    assert_eq!(carol_ring.current().unwrap().generation(), 0);
    assert_eq!(
        bob_ring.current().unwrap().expose_secret(),
        k1.expose_secret()
    );
    // History: Bob keeps both, newest first.
    let gens: Vec<u64> = bob_ring.iter().map(|k| k.generation()).collect();
    assert_eq!(gens, vec![1, 0]);
    // Old key expires 60 days after it was superseded.
    bob_ring.prune(2_000 + 60 * 86_400_000);
    assert_eq!(bob_ring.len(), 2);
    bob_ring.prune(2_001 + 60 * 86_400_000);
    assert_eq!(bob_ring.len(), 1);
}

#[test]
fn supplement_gives_history_to_new_member_only() {
    let group = GroupKeys::from_seed([0x43; 32]);
    let (alice, dave, eve) = (identity(0), identity(3), identity(4));
    let (_, k0) = rekey(&group, &[alice.session_id()], 0, 1_000).unwrap();
    let (_, k1) = rekey(&group, &[alice.session_id()], 1, 2_000).unwrap();
    let sup = key_supplement(&group, &[dave.session_id()], &[k0.clone(), k1.clone()], 1).unwrap();
    let mut ring = GroupKeyring::new(group.group_id());
    assert_eq!(
        ring.load_as_member(&dave, &sup, 3_000).unwrap(),
        LoadOutcome::NewKeys { generation: 1 }
    );
    assert_eq!(ring.len(), 2);
    assert_eq!(ring.current().unwrap().expose_secret(), k1.expose_secret());
    // Timestamps travel with the keys.
    assert_eq!(ring.iter().last().unwrap().timestamp_ms(), 1_000);
    let mut other = GroupKeyring::new(group.group_id());
    assert_eq!(
        other.load_as_member(&eve, &sup, 3_000).unwrap(),
        LoadOutcome::NotRecipient { generation: 1 }
    );
    // Admins check and skip supplements.
    let mut admin = GroupKeyring::new(group.group_id());
    assert_eq!(
        admin.load_as_admin(&group, &sup, 3_000).unwrap(),
        LoadOutcome::AlreadyKnown
    );
    assert_eq!(
        key_supplement(&group, &[dave.session_id()], &[], 1).err(),
        Some(GroupError::NoKey)
    );
}

#[test]
fn refuses_forged_tampered_and_wrong_group() {
    let group = GroupKeys::from_seed([0x44; 32]);
    let alice = identity(0);
    let (msg, _) = rekey(&group, &[alice.session_id()], 0, 1).unwrap();
    let mut ring = GroupKeyring::new(group.group_id());

    // Any flipped byte: a bad signature or malformed bencode, never a key.
    for i in [5, 40, 100, msg.len() / 2, msg.len() - 10, msg.len() - 1] {
        let mut bad = msg.clone();
        bad[i] ^= 0x01;
        let err = ring.load_as_member(&alice, &bad, 1).unwrap_err();
        assert!(
            matches!(err, GroupError::BadSignature | GroupError::Malformed(_)),
            "{i}: {err:?}"
        );
    }
    // Truncated.
    assert!(
        ring.load_as_member(&alice, &msg[..msg.len() - 1], 1)
            .is_err()
    );
    assert!(ring.load_as_member(&alice, &[], 1).is_err());
    // Signed by another group (a forged rekey).
    let other = GroupKeys::from_seed([0x45; 32]);
    let (forged, _) = rekey(&other, &[alice.session_id()], 5, 1).unwrap();
    assert_eq!(
        ring.load_as_member(&alice, &forged, 1).err(),
        Some(GroupError::BadSignature)
    );
    // Admin of another group.
    assert_eq!(
        ring.load_as_admin(&other, &msg, 1).err(),
        Some(GroupError::InvalidGroupId)
    );
    // Oversize.
    let big = vec![b'd'; 80_000];
    assert!(matches!(
        ring.load_as_member(&alice, &big, 1),
        Err(GroupError::TooLarge { .. })
    ));
    assert!(ring.is_empty());
    assert_eq!(ring.max_generation(), None);
}

#[test]
fn junk_pads_to_multiple_of_75() {
    let group = GroupKeys::from_seed([0x46; 32]);
    let one = rekey(&group, &[identity(0).session_id()], 0, 1).unwrap().0;
    let none = rekey(&group, &[], 0, 1).unwrap().0;
    assert_eq!(one.len(), none.len());
    // 76 members need 150 entries.
    let members: Vec<SessionId> = (0u8..76)
        .map(|i| Keypair::from_seed(&Seed::from_bytes([i; 32])).session_id())
        .collect();
    let (m76, _) = rekey(&group, &members, 0, 1).unwrap();
    assert!(m76.len() > one.len() + 74 * 51);
    let mut ring = GroupKeyring::new(group.group_id());
    let last = Keypair::from_seed(&Seed::from_bytes([75; 32]));
    assert_eq!(
        ring.load_as_member(&last, &m76, 1).unwrap(),
        LoadOutcome::NewKeys { generation: 0 }
    );
}
