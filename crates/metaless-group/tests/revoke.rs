//! Removing members on the nodes: the admin's revocation names exactly the tokens members
//! sign with, a node holding the list refuses them (kick notices excepted) and nobody else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_group::{
    GroupError, GroupKeys, MemberAuth, MemberSigner, Permissions, revoke_members,
};
use metaless_identity::{Keypair, Seed};
use metaless_swarm::{Namespace, Request, Retrieve, Signer, server};

const NOW: u64 = 1_700_000_000_000;

fn member(group: &GroupKeys, seed: u8, p: Permissions) -> (Keypair, MemberSigner) {
    let k = Keypair::from_seed(&Seed::from_bytes([seed; 32]));
    let auth = MemberAuth::issue(group, &k.session_id(), p).unwrap();
    let s = MemberSigner::new(&k, group.group_id(), &auth).unwrap();
    (k, s)
}

#[test]
fn revoked_members_are_refused_and_others_are_not() {
    let group = GroupKeys::from_seed([5; 32]);
    let rw = Permissions::default();
    let rwd = Permissions {
        read: true,
        write: true,
        delete: true,
    };
    let (bob, bob_s) = member(&group, 2, rw);
    let (carol, carol_s) = member(&group, 3, rwd);
    let (_, dave_s) = member(&group, 4, rw);
    let revoke = revoke_members(
        &group,
        &[(bob.session_id(), rw), (carol.session_id(), rwd)],
        NOW,
    )
    .unwrap();
    assert_eq!(revoke.tokens, vec![*bob_s.token(), *carol_s.token()]);
    // Through the node's parser and checks, signed by the group key.
    let r = server::parse_request(&Request::RevokeSubaccount(revoke.clone()).to_body()).unwrap();
    server::verify(&r, NOW).unwrap();

    let listed = |_: &_, t: &[u8; 36]| revoke.tokens.contains(t);
    let read = |s: &MemberSigner, ns| {
        let r = Request::Retrieve(Retrieve::signed(&Signer::delegated(s), ns, None, NOW));
        server::verify_with_revocations(&r, NOW, false, &listed).map_err(|e| e.status)
    };
    assert_eq!(read(&bob_s, Namespace::GroupMessages), Err(401));
    assert_eq!(read(&carol_s, Namespace::GroupKeys), Err(401));
    assert_eq!(read(&dave_s, Namespace::GroupMessages), Ok(()));
    assert_eq!(
        read(&bob_s, Namespace::RevokedRetrievableGroupMessages),
        Ok(())
    );

    // Revoking with other permissions than issued names another token: Bob stays in.
    let wrong = revoke_members(&group, &[(bob.session_id(), rwd)], NOW).unwrap();
    assert_ne!(wrong.tokens[0], *bob_s.token());
    // Another group's revocation does not verify for this group's account.
    let other = revoke_members(
        &GroupKeys::from_seed([6; 32]),
        &[(bob.session_id(), rw)],
        NOW,
    )
    .unwrap();
    let mut forged = revoke.clone();
    forged.auth = other.auth;
    assert_eq!(
        server::verify(&Request::RevokeSubaccount(forged), NOW)
            .unwrap_err()
            .status,
        401
    );
    // Upstream's cap.
    let many: Vec<_> = (0..51u8)
        .map(|i| {
            (
                Keypair::from_seed(&Seed::from_bytes([i; 32])).session_id(),
                rw,
            )
        })
        .collect();
    assert!(matches!(
        revoke_members(&group, &many, NOW),
        Err(GroupError::TooLarge {
            len: 51,
            max: 50,
            ..
        })
    ));
    assert!(revoke_members(&group, &many[..50], NOW).is_ok());
}
