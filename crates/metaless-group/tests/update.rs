//! GroupUpdateMessage signatures, invites, promotions, and the Info/Members configs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_envelope::{
    Content, GroupUpdate, InfoChangeKind, MemberChangeKind, Message, SecretBytes,
};
use metaless_group::{
    GroupError, GroupInfo, GroupKeyring, GroupKeys, GroupMembers, Member, Permissions,
    accept_invite, accept_promotion, delete_member_content, info_change, make_invite,
    member_change, rekey, verify_update,
};
use metaless_identity::{Keypair, Seed};

fn kp(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

#[test]
fn invite_round_trip_through_content_and_refusals() {
    let group = GroupKeys::from_seed([1; 32]);
    let bob = kp(2);
    let carol = kp(3);
    let invite = make_invite(
        &group,
        "Friends",
        &bob.session_id(),
        Permissions::default(),
        1000,
    )
    .unwrap();
    // Through the wire form (1:1 message content).
    let content = Content::new(Message::GroupUpdate(invite));
    let decoded = Content::decode(&content.encode(1000)).unwrap();
    let Message::GroupUpdate(invite) = decoded.message else {
        panic!("not a group update")
    };
    let joined = accept_invite(&bob, &invite, 1000).unwrap();
    assert_eq!(joined.group, group.group_id());
    assert!(joined.signer.permissions().write);
    // Wrong recipient, wrong time: the INVITE signature fails.
    assert_eq!(
        accept_invite(&carol, &invite, 1000).err(),
        Some(GroupError::BadSignature)
    );
    assert_eq!(
        accept_invite(&bob, &invite, 1001).err(),
        Some(GroupError::BadSignature)
    );
    // Forged: another group's key signs an invite naming our group.
    let GroupUpdate::Invite {
        group_id,
        name,
        member_auth_data,
        ..
    } = invite.clone()
    else {
        panic!()
    };
    let other = GroupKeys::from_seed([9; 32]);
    let forged = GroupUpdate::Invite {
        group_id,
        name: name.clone(),
        member_auth_data: SecretBytes::new(member_auth_data.expose_secret().to_vec()),
        admin_signature: other.sign(format!("INVITE{}1000", bob.session_id()).as_bytes()),
    };
    assert_eq!(
        accept_invite(&bob, &forged, 1000).err(),
        Some(GroupError::BadSignature)
    );
    // Valid invite signature but auth data for someone else: token check fails.
    let carol_auth =
        metaless_group::MemberAuth::issue(&group, &carol.session_id(), Permissions::default())
            .unwrap();
    let swapped = GroupUpdate::Invite {
        group_id,
        name,
        member_auth_data: SecretBytes::new(carol_auth.as_bytes().to_vec()),
        admin_signature: group.sign(format!("INVITE{}1000", bob.session_id()).as_bytes()),
    };
    assert_eq!(
        accept_invite(&bob, &swapped, 1000).err(),
        Some(GroupError::BadTokenSignature)
    );
    assert!(accept_invite(&bob, &GroupUpdate::MemberLeft, 1000).is_err());
}

#[test]
fn admin_signatures_bind_group_kind_and_time() {
    let group = GroupKeys::from_seed([1; 32]);
    let other = GroupKeys::from_seed([2; 32]).group_id();
    let id = group.group_id();
    let u = info_change(&group, InfoChangeKind::Name, Some("n".into()), None, 77);
    verify_update(&id, &u, 77).unwrap();
    assert_eq!(verify_update(&other, &u, 77), Err(GroupError::BadSignature));
    assert_eq!(verify_update(&id, &u, 78), Err(GroupError::BadSignature));
    // Same signature, other kind.
    if let GroupUpdate::InfoChange {
        admin_signature, ..
    } = u
    {
        let swapped = GroupUpdate::InfoChange {
            kind: InfoChangeKind::Avatar,
            updated_name: None,
            updated_expiration_s: None,
            admin_signature,
        };
        assert_eq!(
            verify_update(&id, &swapped, 77),
            Err(GroupError::BadSignature)
        );
    }
    let m = member_change(
        &group,
        MemberChangeKind::Removed,
        vec![kp(3).session_id()],
        None,
        5,
    );
    verify_update(&id, &m, 5).unwrap();
    assert_eq!(verify_update(&other, &m, 5), Err(GroupError::BadSignature));
    let d = delete_member_content(&group, vec![kp(3).session_id()], vec!["h1".into()], 9);
    verify_update(&id, &d, 9).unwrap();
    if let GroupUpdate::DeleteMemberContent {
        members,
        admin_signature,
        ..
    } = d
    {
        let more = GroupUpdate::DeleteMemberContent {
            members,
            message_hashes: vec!["h1".into(), "h2".into()],
            admin_signature,
        };
        assert_eq!(verify_update(&id, &more, 9), Err(GroupError::BadSignature));
    }
    verify_update(&id, &GroupUpdate::MemberLeft, 1).unwrap();
}

#[test]
fn promotion_seed_must_match_group() {
    let group = GroupKeys::from_seed([1; 32]);
    let good = GroupUpdate::Promote {
        group_seed: [1u8; 32].into(),
        name: "g".into(),
    };
    assert_eq!(
        accept_promotion(&group.group_id(), &good)
            .unwrap()
            .group_id(),
        group.group_id()
    );
    let bad = GroupUpdate::Promote {
        group_seed: [2u8; 32].into(),
        name: "g".into(),
    };
    assert_eq!(
        accept_promotion(&group.group_id(), &bad).err(),
        Some(GroupError::InvalidGroupId)
    );
    let short = GroupUpdate::Promote {
        group_seed: [1u8; 31].into(),
        name: "g".into(),
    };
    assert!(matches!(
        accept_promotion(&group.group_id(), &short),
        Err(GroupError::WrongLength { .. })
    ));
}

#[test]
fn info_and_members_configs() {
    let group = GroupKeys::from_seed([1; 32]);
    let (alice, bob) = (kp(2), kp(3));
    let (km, key) = rekey(&group, &[alice.session_id(), bob.session_id()], 0, 1).unwrap();
    let mut admin_ring = GroupKeyring::new(group.group_id());
    admin_ring.insert(&key);
    let mut bob_ring = GroupKeyring::new(group.group_id());
    bob_ring.load_as_member(&bob, &km, 1).unwrap();

    let mut info = GroupInfo::new_admin(&group);
    info.set_name("Friends").unwrap();
    info.set_description("a group").unwrap();
    info.set_created_s(1_700_000_000);
    info.set_expiry_timer_s(Some(3600));
    assert!(matches!(
        info.set_name(&"x".repeat(101)),
        Err(GroupError::TooLarge { .. })
    ));
    let (stored, push) = info.push(&admin_ring).unwrap();
    info.confirm_pushed(&push);
    assert_eq!(stored.len() % 256, 0);

    let mut members = GroupMembers::new_admin(&group);
    members.set(&Member {
        admin: true,
        ..Member::new(alice.session_id(), "Alice")
    });
    members.set(&Member {
        invite_status: Some(1),
        ..Member::new(bob.session_id(), "Bob")
    });
    let (mstored, _) = members.push(&admin_ring).unwrap();

    let mut bob_info = GroupInfo::new_member(group.group_id());
    let r = bob_info.load(&bob_ring, &[&stored]);
    assert_eq!(r.accepted, vec![true]);
    assert_eq!(bob_info.name().as_deref(), Some("Friends"));
    assert_eq!(bob_info.description().as_deref(), Some("a group"));
    assert_eq!(bob_info.created_s(), Some(1_700_000_000));
    assert_eq!(bob_info.expiry_timer_s(), Some(3600));
    assert!(!bob_info.is_destroyed());

    let mut bob_members = GroupMembers::new_member(group.group_id());
    assert_eq!(
        bob_members.load(&bob_ring, &[&mstored]).accepted,
        vec![true]
    );
    let list = bob_members.list();
    assert_eq!(list.len(), 2);
    assert!(bob_members.get(&alice.session_id()).unwrap().admin);
    assert_eq!(
        bob_members.get(&bob.session_id()).unwrap().invite_status,
        Some(1)
    );

    // A config signed by another "admin" (wrong group key) is refused, as is one under a key
    // Bob does not hold, and garbage.
    let other = GroupKeys::from_seed([7; 32]);
    let mut forged = GroupInfo::new_admin(&other);
    forged.set_name("Pwned").unwrap();
    let (fstored, _) = forged.push(&admin_ring).unwrap();
    let mut outsider_ring = GroupKeyring::new(group.group_id());
    outsider_ring.insert(&metaless_group::GroupKey::new(0, [9; 32], 0));
    let r = bob_info.load(&bob_ring, &[&fstored, &b"junk"[..]]);
    assert_eq!(r.accepted, vec![false, false]);
    assert_eq!(bob_info.name().as_deref(), Some("Friends"));
    let mut fresh = GroupInfo::new_member(group.group_id());
    assert_eq!(fresh.load(&outsider_ring, &[&stored]).accepted, vec![false]);

    // Removal.
    assert!(members.remove(&bob.session_id()));
    assert!(!members.remove(&bob.session_id()));
    assert_eq!(members.list().len(), 1);
    // Destroy.
    info.destroy();
    let (s2, _) = info.push(&admin_ring).unwrap();
    bob_info.load(&bob_ring, &[&s2]);
    assert!(bob_info.is_destroyed());
}
