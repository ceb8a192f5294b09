//! Node-side sub-account auth: the upstream known answer (libsession's swarm auth vector run
//! through the node's parser and verifier), each method's access rule, forged and tampered
//! tokens, revocation, and the `revoke_subaccount` family.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use metaless_identity::{Keypair, Seed, hex};
use metaless_swarm::server::{
    self, AuthError, RpcError, SubaccountError, check_auth, verify_subaccount,
};
use metaless_swarm::sig::{self, ExpireMode};
use metaless_swarm::subaccount::{SubaccountAccess as A, SubaccountToken};
use metaless_swarm::{
    Auth, Delete, Expire, MessageHash, Namespace, NamespaceOrAll, Request, RequestSigner, Retrieve,
    RevokedSubaccounts, Signer, Store, Subaccount, SubaccountRevocation, UserPubkey, b64,
};
use metaless_test_vectors as tv;
use serde_json::{Value, json};

const NOW: u64 = 1_700_000_000_000;

fn keys(n: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([n; 32]))
}

fn swarm_auth_vector() -> Value {
    tv::load("groups.json")["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "group_keys_swarm_auth")
        .cloned()
        .unwrap()
}

/// The vector's retrieve exactly as a member's client sends it, as JSON.
fn vector_retrieve(c: &Value) -> Value {
    json!({
        "method": "retrieve",
        "params": {
            "pubkey": tv::text(c, "expected_group_id"),
            "namespace": 999,
            "timestamp": 1_693_340_111_000u64,
            "subaccount": tv::text(c, "expected_subaccount_b64"),
            "subaccount_sig": tv::text(c, "expected_subaccount_sig_b64"),
            "signature": tv::text(c, "expected_signature_b64"),
        }
    })
}

fn node_verdict(body: &Value, now: u64) -> Result<(), RpcError> {
    let r = server::parse_request(body.to_string().as_bytes())?;
    server::verify(&r, now)
}

#[test]
fn upstream_member_retrieve_is_accepted() {
    let c = swarm_auth_vector();
    let body = vector_retrieve(&c);
    node_verdict(&body, 1_693_340_111_000).unwrap();
    // Same through the typed verifier, with the vector's group key as the owner key.
    let r = server::parse_request(body.to_string().as_bytes()).unwrap();
    let sub = r.subaccount().unwrap();
    assert_eq!(sub.token().prefix(), 0x03);
    assert_eq!(sub.token().access(), A::READ | A::WRITE);
    let pk: [u8; 32] = hex::decode_array(tv::text(&c, "expected_group_pk")).unwrap();
    let sig: [u8; 64] = b64::decode(tv::text(&c, "expected_signature_b64").as_bytes())
        .unwrap()
        .try_into()
        .unwrap();
    verify_subaccount(
        0x03,
        &pk,
        sub,
        A::READ,
        tv::text(&c, "message_utf8").as_bytes(),
        &sig,
    )
    .unwrap();
}

#[test]
fn upstream_member_retrieve_tampered_is_refused() {
    let c = swarm_auth_vector();
    let at = 1_693_340_111_000;
    let refuse = |body: &Value| {
        let e = node_verdict(body, at).unwrap_err();
        assert_eq!(
            (e.status, e.text.as_str()),
            (401, "retrieve signature verification failed"),
            "{body}"
        );
    };
    let token = b64::decode(tv::text(&c, "expected_subaccount_b64").as_bytes()).unwrap();
    let retoken = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut t = token.clone();
        f(&mut t);
        let mut body = vector_retrieve(&c);
        body["params"]["subaccount"] = b64::encode(&t).into();
        body
    };
    // Flags raised (delete added), a reserved byte set, the key changed, the prefix changed:
    // each breaks the admin's signature of the token (or its prefix rule).
    refuse(&retoken(&|t| t[1] |= 0x04));
    refuse(&retoken(&|t| t[2] = 1));
    refuse(&retoken(&|t| t[3] = 0x80));
    refuse(&retoken(&|t| t[35] ^= 1));
    refuse(&retoken(&|t| t[0] = 0x05));
    // The request signature over another namespace, and another signature byte.
    let mut body = vector_retrieve(&c);
    body["params"]["namespace"] = 998.into();
    refuse(&body);
    let mut sig = b64::decode(tv::text(&c, "expected_signature_b64").as_bytes()).unwrap();
    sig[0] ^= 1;
    let mut body = vector_retrieve(&c);
    body["params"]["signature"] = b64::encode(&sig).into();
    refuse(&body);
    // The token signed by someone other than the group (the member itself).
    let member = Keypair::from_seed(&Seed::from_bytes(tv::array(&c, "member_seed")));
    let mut body = vector_retrieve(&c);
    body["params"]["subaccount_sig"] = b64::encode(&member.sign(&token)).into();
    refuse(&body);
    // Another group's account with this group's token.
    let mut body = vector_retrieve(&c);
    body["params"]["pubkey"] = format!("03{}", hex::encode(&keys(9).ed25519_public())).into();
    refuse(&body);
    // Stale: the timestamp rule comes first (406).
    let e = node_verdict(&vector_retrieve(&c), at + 61_000).unwrap_err();
    assert_eq!(e.status, 406);
    // A token without its signature is a parse error.
    let mut body = vector_retrieve(&c);
    body["params"]
        .as_object_mut()
        .unwrap()
        .remove("subaccount_sig");
    let e = node_verdict(&body, at).unwrap_err();
    assert_eq!(
        e.text,
        "invalid request: invalid subaccount: subaccount_sig is required when using subaccount"
    );
}

/// A member: any Ed25519 key the group signed a token for.
struct Member<'a> {
    group: &'a Keypair,
    me: &'a Keypair,
    access: A,
    prefix: u8,
    /// Who signs the token (the group, unless forging).
    issuer: &'a Keypair,
}

impl<'a> Member<'a> {
    fn new(group: &'a Keypair, me: &'a Keypair, access: A) -> Self {
        Self {
            group,
            me,
            access,
            prefix: 0x03,
            issuer: group,
        }
    }
    fn token(&self) -> [u8; 36] {
        SubaccountToken::new(self.prefix, self.access, self.me.ed25519_public()).to_bytes()
    }
}

impl RequestSigner for Member<'_> {
    fn pubkey(&self) -> UserPubkey {
        Signer::group(self.group).pubkey()
    }
    fn auth(&self, message: &[u8]) -> Auth {
        let token = self.token();
        Auth {
            signature: self.me.sign(message),
            pubkey_ed25519: None,
            subaccount: Some(Subaccount {
                token,
                signature: self.issuer.sign(&token),
            }),
        }
    }
}

/// Through JSON, as a node sees it.
fn wire(r: &Request) -> Request {
    server::parse_request(&r.to_body()).unwrap()
}

fn status(r: &Request) -> Result<(), (u16, String)> {
    server::verify(&wire(r), NOW).map_err(|e| (e.status, e.text))
}

fn store(m: &dyn RequestSigner, ns: Namespace) -> Request {
    Request::Store(
        Store::signed(&Signer::delegated(m), ns, b"m".to_vec(), NOW, 86_400_000).unwrap(),
    )
}

fn retrieve(m: &dyn RequestSigner, ns: Namespace) -> Request {
    Request::Retrieve(Retrieve::signed(&Signer::delegated(m), ns, None, NOW))
}

fn a_hash(m: &dyn RequestSigner) -> MessageHash {
    MessageHash::compute(&m.pubkey(), Namespace::GroupMessages, b"m")
}

#[test]
fn each_method_needs_its_access_flag() {
    let (group, bob) = (keys(1), keys(2));
    let read = Member::new(&group, &bob, A::READ);
    let write = Member::new(&group, &bob, A::WRITE);
    let rw = Member::new(&group, &bob, A::READ | A::WRITE);
    let del = Member::new(&group, &bob, A::DELETE);
    let wd = Member::new(&group, &bob, A::WRITE | A::DELETE);
    let none = Member::new(&group, &bob, A::NONE);
    let store_fail = Err((401, "store signature verification failed".to_string()));
    let retrieve_fail = Err((401, "retrieve signature verification failed".to_string()));

    assert_eq!(status(&retrieve(&read, Namespace::GroupMessages)), Ok(()));
    assert_eq!(
        status(&retrieve(&write, Namespace::GroupMessages)),
        retrieve_fail
    );
    assert_eq!(
        status(&retrieve(&none, Namespace::GroupMessages)),
        retrieve_fail
    );
    assert_eq!(status(&store(&rw, Namespace::GroupMessages)), Ok(()));
    assert_eq!(status(&store(&read, Namespace::GroupMessages)), store_fail);
    // No namespace restriction on the node: a writer may store into the keys namespace too
    // (receivers check the group signature inside).
    assert_eq!(status(&store(&write, Namespace::GroupKeys)), Ok(()));
    // Public outbox (−21): a store replaces, so it needs delete as well.
    assert_eq!(status(&store(&write, Namespace::Other(-21))), store_fail);
    assert_eq!(status(&store(&wd, Namespace::Other(-21))), Ok(()));

    let delete = |m: &dyn RequestSigner| {
        Request::Delete(Delete::signed(&Signer::delegated(m), vec![a_hash(m)], false).unwrap())
    };
    assert_eq!(status(&delete(&del)), Ok(()));
    assert_eq!(
        status(&delete(&rw)),
        Err((401, "delete_msgs signature verification failed".into()))
    );
    let all = |m: &dyn RequestSigner| {
        Request::delete_all(&Signer::delegated(m), NamespaceOrAll::All, NOW)
    };
    assert_eq!(status(&all(&del)), Ok(()));
    assert_eq!(
        status(&all(&rw)),
        Err((401, "delete_all signature verification failed".into()))
    );
    let before = |m: &dyn RequestSigner| {
        Request::delete_before(&Signer::delegated(m), NamespaceOrAll::All, NOW)
    };
    assert_eq!(status(&before(&del)), Ok(()));
    assert_eq!(status(&before(&rw)).unwrap_err().0, 401);
    let expire_all = |m: &dyn RequestSigner| {
        Request::expire_all(&Signer::delegated(m), NamespaceOrAll::All, NOW + 1_000)
    };
    assert_eq!(status(&expire_all(&del)), Ok(()));
    assert_eq!(status(&expire_all(&rw)).unwrap_err().0, 401);
}

#[test]
fn a_writer_without_delete_may_only_extend() {
    let (group, bob) = (keys(1), keys(2));
    let rw = Member::new(&group, &bob, A::READ | A::WRITE);
    let wd = Member::new(&group, &bob, A::WRITE | A::DELETE);
    let expire = |m: &dyn RequestSigner, mode| {
        Expire::signed(
            &Signer::delegated(m),
            vec![a_hash(m)],
            vec![NOW + 5_000],
            mode,
        )
        .unwrap()
    };
    let e = server::verify(
        &wire(&Request::Expire(expire(&rw, ExpireMode::Shorten))),
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (
            400,
            "expire: shorten parameter cannot be used with this subaccount token (missing delete access)"
        )
    );
    // Set is accepted but applied as extend-only; extend as asked.
    let set = expire(&rw, ExpireMode::Set);
    server::verify(&wire(&Request::Expire(set.clone())), NOW).unwrap();
    assert_eq!(server::expire_mode(&set), ExpireMode::Extend);
    assert_eq!(
        server::expire_mode(&expire(&rw, ExpireMode::Extend)),
        ExpireMode::Extend
    );
    // With delete: shorten and set as asked.
    let short = expire(&wd, ExpireMode::Shorten);
    server::verify(&wire(&Request::Expire(short.clone())), NOW).unwrap();
    assert_eq!(server::expire_mode(&short), ExpireMode::Shorten);
    assert_eq!(
        server::expire_mode(&expire(&wd, ExpireMode::Set)),
        ExpireMode::Set
    );
    // Read only: no expire at all.
    let ro = Member::new(&group, &bob, A::READ);
    assert_eq!(
        server::verify(
            &wire(&Request::Expire(expire(&ro, ExpireMode::Extend))),
            NOW
        )
        .unwrap_err()
        .text,
        "expire: signature verification failed"
    );
}

#[test]
fn forged_and_foreign_tokens_are_refused() {
    let (group, bob, mallory) = (keys(1), keys(2), keys(3));
    // Bob signs his own token.
    let mut forged = Member::new(&group, &bob, A::READ | A::WRITE);
    forged.issuer = &bob;
    assert_eq!(
        status(&retrieve(&forged, Namespace::GroupMessages))
            .unwrap_err()
            .0,
        401
    );
    // Another group's admin signs a token for this group.
    let mut foreign = Member::new(&group, &bob, A::READ);
    foreign.issuer = &mallory;
    assert_eq!(
        status(&retrieve(&foreign, Namespace::GroupMessages))
            .unwrap_err()
            .0,
        401
    );
    // A valid token used by someone else: Mallory signs the request with her key but sends
    // Bob's token.
    let honest = Member::new(&group, &bob, A::READ);
    let m = sig::retrieve(Namespace::GroupMessages, NOW);
    let mut auth = honest.auth(&m);
    auth.signature = mallory.sign(&m);
    let pk = honest.pubkey();
    assert_eq!(
        check_auth(&pk, &auth, A::READ, false, &m),
        Err(AuthError::Subaccount(SubaccountError::BadRequestSignature))
    );
    // Typed reasons, in upstream's order.
    let auth = honest.auth(&m);
    assert!(matches!(
        check_auth(&pk, &auth, A::WRITE, false, &m),
        Err(AuthError::Subaccount(
            SubaccountError::MissingPermissions { .. }
        ))
    ));
    let mut tampered = auth.clone();
    if let Some(s) = tampered.subaccount.as_mut() {
        s.token[2] = 7; // reserved byte
    }
    assert_eq!(
        check_auth(&pk, &tampered, A::READ, false, &m),
        Err(AuthError::Subaccount(SubaccountError::BadTokenSignature))
    );
    // A token whose reserved bytes the owner itself set is honoured (upstream does not
    // interpret them; they are signed).
    let mut token = honest.token();
    token[2] = 9;
    let own = Auth {
        signature: bob.sign(&m),
        pubkey_ed25519: None,
        subaccount: Some(Subaccount {
            token,
            signature: group.sign(&token),
        }),
    };
    assert_eq!(check_auth(&pk, &own, A::READ, false, &m), Ok(()));
}

#[test]
fn network_prefix_and_any_prefix() {
    let (owner, bob) = (keys(4), keys(5));
    // A 05 account: the owner key is pubkey_ed25519 (converted and checked), the token is the
    // owner's note.
    let account = UserPubkey::new(0x05, owner.x25519_public());
    let m = b"retrieve1700000000000";
    let make = |prefix: u8, access: A| {
        let token = SubaccountToken::new(prefix, access, bob.ed25519_public()).to_bytes();
        Auth {
            signature: bob.sign(m),
            pubkey_ed25519: Some(owner.ed25519_public()),
            subaccount: Some(Subaccount {
                token,
                signature: owner.sign(&token),
            }),
        }
    };
    assert_eq!(
        check_auth(&account, &make(0x05, A::READ), A::READ, false, m),
        Ok(())
    );
    assert_eq!(
        check_auth(&account, &make(0x03, A::READ), A::READ, false, m),
        Err(AuthError::Subaccount(SubaccountError::BadNetwork {
            token: 3,
            account: 5
        }))
    );
    assert_eq!(
        check_auth(
            &account,
            &make(0x03, A::READ | A::ANY_PREFIX),
            A::READ,
            false,
            m
        ),
        Ok(())
    );
    // pubkey_ed25519 that is not the account's key.
    let mut wrong = make(0x05, A::READ);
    wrong.pubkey_ed25519 = Some(bob.ed25519_public());
    assert_eq!(
        check_auth(&account, &wrong, A::READ, false, m),
        Err(AuthError::KeyMismatch)
    );
}

#[test]
fn revoked_tokens_are_refused_except_for_kick_notices() {
    let (group, bob, carol) = (keys(1), keys(2), keys(3));
    let b = Member::new(&group, &bob, A::READ | A::WRITE);
    let c = Member::new(&group, &carol, A::READ | A::WRITE);
    let bob_token = b.token();
    let lookup =
        |pk: &UserPubkey, t: &[u8; 36]| *pk == Signer::group(&group).pubkey() && *t == bob_token;
    let check = |r: &Request| {
        server::verify_with_revocations(&wire(r), NOW, false, &lookup).map_err(|e| e.status)
    };
    assert_eq!(check(&retrieve(&b, Namespace::GroupMessages)), Err(401));
    assert_eq!(check(&store(&b, Namespace::GroupMessages)), Err(401));
    assert_eq!(check(&retrieve(&c, Namespace::GroupMessages)), Ok(()));
    // −11 (and −111, −211…) stay readable for revoked members; storing there does not.
    assert_eq!(check(&retrieve(&b, Namespace::Other(-11))), Ok(()));
    assert_eq!(check(&retrieve(&b, Namespace::Other(-111))), Ok(()));
    assert_eq!(check(&retrieve(&b, Namespace::Other(-12))), Err(401));
    // The admin is never "revoked".
    let admin = Request::Retrieve(Retrieve::signed(
        &Signer::group(&group),
        Namespace::GroupMessages,
        None,
        NOW,
    ));
    assert_eq!(check(&admin), Ok(()));
    // Forwarded requests consult the list too.
    let fwd = server::verify_with_revocations(
        &wire(&retrieve(&b, Namespace::GroupMessages)),
        NOW,
        true,
        &lookup,
    );
    assert_eq!(fwd.unwrap_err().status, 401);
}

#[test]
fn revoke_requests_round_trip_and_are_owner_only() {
    let (group, bob) = (keys(1), keys(2));
    let tokens = vec![[7u8; 36], [8u8; 36]];
    let owner = Signer::group(&group);
    let revoke = Request::RevokeSubaccount(
        SubaccountRevocation::signed(&owner, tokens.clone(), NOW).unwrap(),
    );
    let parsed = wire(&revoke);
    assert_eq!(parsed, revoke);
    server::verify(&parsed, NOW).unwrap();
    // The signed string: method ‖ timestamp ‖ raw tokens.
    let Request::RevokeSubaccount(r) = &parsed else {
        panic!()
    };
    let mut expect = b"revoke_subaccount1700000000000".to_vec();
    expect.extend_from_slice(&[7u8; 36]);
    expect.extend_from_slice(&[8u8; 36]);
    metaless_identity::verify_ed25519(&group.ed25519_public(), &expect, &r.auth.signature).unwrap();

    let unrevoke = Request::UnrevokeSubaccount(
        SubaccountRevocation::signed_unrevoke(&owner, tokens.clone(), NOW).unwrap(),
    );
    assert_eq!(wire(&unrevoke), unrevoke);
    server::verify(&unrevoke, NOW).unwrap();
    // A revoke signature does not pass as an unrevoke.
    let swapped = Request::UnrevokeSubaccount(r.clone());
    assert_eq!(
        server::verify(&swapped, NOW).unwrap_err().text,
        "unrevoke_subaccount signature verification failed"
    );
    let list = Request::RevokedSubaccounts(RevokedSubaccounts::signed(&owner, NOW));
    assert_eq!(wire(&list), list);
    server::verify(&list, NOW).unwrap();

    // A member cannot revoke: its sub-account fields are ignored and its signature is not the
    // owner's.
    let member = Member::new(&group, &bob, A::READ | A::WRITE | A::DELETE);
    let by_member = Request::RevokeSubaccount(
        SubaccountRevocation::signed(&Signer::delegated(&member), tokens.clone(), NOW).unwrap(),
    );
    let e = server::verify(&wire(&by_member), NOW).unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (401, "revoke_subaccount signature verification failed")
    );
    // Stale.
    let old = Request::RevokeSubaccount(
        SubaccountRevocation::signed(&owner, tokens.clone(), NOW - 61_000).unwrap(),
    );
    let e = server::verify(&old, NOW).unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (406, "revoke_subaccount timestamp too far from current time")
    );
    let old = Request::RevokedSubaccounts(RevokedSubaccounts::signed(&owner, NOW + 61_000));
    assert_eq!(
        server::verify(&old, NOW).unwrap_err().text,
        "revoked_subaccounts timestamp too far from current time"
    );
}

fn parse_err(method: &str, params: Value) -> String {
    let body = json!({"method": method, "params": params}).to_string();
    server::parse_request(body.as_bytes()).unwrap_err().text
}

#[test]
fn revoke_parsing_follows_upstream() {
    let group = keys(1);
    let owner = Signer::group(&group);
    let r = SubaccountRevocation::signed(&owner, vec![[7u8; 36]], NOW).unwrap();
    let base = Request::RevokeSubaccount(r).to_params();
    // Hex tokens and a single string (not a list) are accepted.
    let mut p = base.clone();
    p["revoke"] = hex::encode(&[7u8; 36]).into();
    let body = json!({"method": "revoke_subaccount", "params": p}).to_string();
    server::verify(&server::parse_request(body.as_bytes()).unwrap(), NOW).unwrap();
    // Bad token text, wrong type, missing, over the cap.
    let mut p = base.clone();
    p["revoke"] = json!(["AAAA"]);
    assert_eq!(
        parse_err("revoke_subaccount", p),
        "invalid request: invalid revoke: expected base64 or hex-encoded subaccount tag"
    );
    let mut p = base.clone();
    p["revoke"] = json!(5);
    assert_eq!(
        parse_err("revoke_subaccount", p),
        "invalid request: Invalid value given for 'revoke': expected string array"
    );
    let mut p = base.clone();
    p.as_object_mut().unwrap().remove("revoke");
    assert_eq!(
        parse_err("revoke_subaccount", p),
        "invalid request: Required field 'revoke' missing"
    );
    let mut p = base.clone();
    p["revoke"] = json!(vec![b64::encode(&[7u8; 36]); 51]);
    assert_eq!(
        parse_err("revoke_subaccount", p),
        "invalid request: invalid revoke: cannot revoke more than 50 subaccounts at once"
    );
    let mut p = base.clone();
    p.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(
        parse_err("revoke_subaccount", p),
        "invalid request: Required field 'timestamp' missing"
    );
    let u = Request::UnrevokeSubaccount(
        SubaccountRevocation::signed_unrevoke(&owner, vec![[7u8; 36]], NOW).unwrap(),
    )
    .to_params();
    let mut p = u.clone();
    p["unrevoke"] = json!(["zz"]);
    assert_eq!(
        parse_err("unrevoke_subaccount", p),
        "invalid request: invalid unrevoke: expected base64 or hex-encoded subaccount tag"
    );
    // The builder refuses what the node would.
    assert!(SubaccountRevocation::signed(&owner, vec![[0; 36]; 51], NOW).is_err());
    assert!(SubaccountRevocation::signed(&owner, vec![[0; 36]; 50], NOW).is_ok());
}

#[test]
fn member_requests_in_a_batch_are_checked_one_by_one() {
    let (group, bob) = (keys(1), keys(2));
    let ro = Member::new(&group, &bob, A::READ);
    let batch = Request::Batch(vec![
        retrieve(&ro, Namespace::GroupMessages),
        store(&ro, Namespace::GroupMessages),
    ]);
    let Request::Batch(subs) = wire(&batch) else {
        panic!()
    };
    assert!(server::verify(&subs[0], NOW).is_ok());
    assert_eq!(server::verify(&subs[1], NOW).unwrap_err().status, 401);
}
