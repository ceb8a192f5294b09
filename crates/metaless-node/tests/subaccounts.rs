//! Group members on a node: sub-account requests accepted by access flag, the revocation
//! table (`revoke_subaccount` / `unrevoke_subaccount` / `revoked_subaccounts`), a revoked
//! token refused except for the kick-notice namespace, the 50-token cap, and a member's
//! `expire` applied extend-only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_identity::{Keypair, Seed, verify_ed25519};
use metaless_node::{Action, Request as NodeRequest, node::doc_node};
use metaless_swarm::sig::{self, ExpireMode};
use metaless_swarm::subaccount::{SubaccountAccess as A, SubaccountToken};
use metaless_swarm::{
    Auth, Expire, GetExpiries, MessageHash, Namespace, Request, RequestSigner, Retrieve,
    RevokedSubaccounts, Signer, Store, Subaccount, SubaccountRevocation, UserPubkey, b64,
};
use serde_json::Value;

const NOW: u64 = 1_700_000_000_000;

fn keys(n: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([n; 32]))
}

struct Member<'a> {
    group: &'a Keypair,
    me: Keypair,
    access: A,
}

impl Member<'_> {
    fn token(&self) -> [u8; 36] {
        SubaccountToken::new(0x03, self.access, self.me.ed25519_public()).to_bytes()
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
                signature: self.group.sign(&token),
            }),
        }
    }
}

struct Net {
    node: metaless_node::Node,
}

impl Net {
    fn call(&mut self, now: u64, r: &Request) -> (u16, Value, String) {
        let Action::Respond(resp) = self.node.handle(
            i64::try_from(now).unwrap(),
            NodeRequest::post("/storage_rpc/v1", r.to_body()),
        ) else {
            panic!("a one-node swarm answers directly")
        };
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        let json = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        (resp.status, json, text)
    }
}

fn store(s: &dyn RequestSigner, ns: Namespace, data: &[u8], now: u64) -> Request {
    Request::Store(
        Store::signed(&Signer::delegated(s), ns, data.to_vec(), now, 86_400_000).unwrap(),
    )
}

fn retrieve(s: &dyn RequestSigner, ns: Namespace, now: u64) -> Request {
    Request::Retrieve(Retrieve::signed(&Signer::delegated(s), ns, None, now))
}

struct Admin<'a>(&'a Keypair);
impl RequestSigner for Admin<'_> {
    fn pubkey(&self) -> UserPubkey {
        Signer::group(self.0).pubkey()
    }
    fn auth(&self, m: &[u8]) -> Auth {
        Signer::group(self.0).auth(m)
    }
}

#[test]
fn revoked_member_is_refused_until_unrevoked() {
    let group = keys(7);
    let admin = Admin(&group);
    let bob = Member {
        group: &group,
        me: keys(2),
        access: A::READ | A::WRITE,
    };
    let carol = Member {
        group: &group,
        me: keys(3),
        access: A::READ | A::WRITE,
    };
    let mut net = Net { node: doc_node() };
    let node_key = keys(1).ed25519_public(); // doc_node's key is seed [1; 32]

    assert_eq!(
        net.call(NOW, &store(&admin, Namespace::GroupMessages, b"a", NOW))
            .0,
        200
    );
    assert_eq!(
        net.call(NOW, &store(&bob, Namespace::GroupMessages, b"b", NOW))
            .0,
        200
    );
    assert_eq!(
        net.call(NOW, &store(&admin, Namespace::Other(-11), b"kick", NOW))
            .0,
        200
    );
    let (st, j, _) = net.call(NOW, &retrieve(&bob, Namespace::GroupMessages, NOW));
    assert_eq!((st, j["messages"].as_array().unwrap().len()), (200, 2));

    // Revoke Bob.
    let revoke = Request::RevokeSubaccount(
        SubaccountRevocation::signed(&Signer::group(&group), vec![bob.token()], NOW).unwrap(),
    );
    let (st, j, text) = net.call(NOW, &revoke);
    assert_eq!(st, 200, "{text}");
    let entry = &j["swarm"][metaless_identity::hex::encode(&node_key)];
    let node_sig: [u8; 64] = b64::decode(entry["signature"].as_str().unwrap().as_bytes())
        .unwrap()
        .try_into()
        .unwrap();
    verify_ed25519(
        &node_key,
        &sig::revocation_reply(&admin.pubkey(), NOW, &[bob.token()]),
        &node_sig,
    )
    .unwrap();

    let later = NOW + 1_000;
    let (st, _, text) = net.call(later, &retrieve(&bob, Namespace::GroupMessages, later));
    assert_eq!(
        (st, text.as_str()),
        (401, "retrieve signature verification failed")
    );
    let (st, _, text) = net.call(later, &store(&bob, Namespace::GroupMessages, b"c", later));
    assert_eq!(
        (st, text.as_str()),
        (401, "store signature verification failed")
    );
    // The kick notice stays readable for Bob; Carol is unaffected; the admin too.
    let (st, j, _) = net.call(later, &retrieve(&bob, Namespace::Other(-11), later));
    assert_eq!((st, j["messages"].as_array().unwrap().len()), (200, 1));
    assert_eq!(
        net.call(later, &retrieve(&carol, Namespace::GroupMessages, later))
            .0,
        200
    );
    assert_eq!(
        net.call(later, &retrieve(&admin, Namespace::GroupMessages, later))
            .0,
        200
    );
    // A token with other flags for the same key is another token (tokens compare whole).
    let bob_rwd = Member {
        group: &group,
        me: keys(2),
        access: A::READ | A::WRITE | A::DELETE,
    };
    assert_eq!(
        net.call(later, &retrieve(&bob_rwd, Namespace::GroupMessages, later))
            .0,
        200
    );

    // The list, owner-only.
    let list =
        Request::RevokedSubaccounts(RevokedSubaccounts::signed(&Signer::group(&group), later));
    let (st, j, _) = net.call(later, &list);
    assert_eq!(st, 200);
    assert_eq!(
        j["revoked_subaccounts"],
        serde_json::json!([b64::encode(&bob.token())])
    );
    let by_bob =
        Request::RevokedSubaccounts(RevokedSubaccounts::signed(&Signer::delegated(&bob), later));
    let (st, _, text) = net.call(later, &by_bob);
    assert_eq!(
        (st, text.as_str()),
        (401, "revoked_subaccounts signature verification failed")
    );
    // Bob cannot unrevoke himself.
    let self_unrevoke = Request::UnrevokeSubaccount(
        SubaccountRevocation::signed_unrevoke(&Signer::delegated(&bob), vec![bob.token()], later)
            .unwrap(),
    );
    assert_eq!(net.call(later, &self_unrevoke).0, 401);

    // Unrevoke: count of removed tokens, and Bob reads again.
    let unrevoke = Request::UnrevokeSubaccount(
        SubaccountRevocation::signed_unrevoke(
            &Signer::group(&group),
            vec![bob.token(), carol.token()],
            later,
        )
        .unwrap(),
    );
    let (st, j, _) = net.call(later, &unrevoke);
    assert_eq!(st, 200);
    assert_eq!(
        j["swarm"][metaless_identity::hex::encode(&node_key)]["count"],
        1
    );
    assert_eq!(
        net.call(later, &retrieve(&bob, Namespace::GroupMessages, later))
            .0,
        200
    );
}

#[test]
fn the_list_keeps_the_fifty_most_recent() {
    let group = keys(7);
    let mut net = Net { node: doc_node() };
    let member = |n: u8| Member {
        group: &group,
        me: keys(n),
        access: A::READ,
    };
    let first = member(100);
    let owner = Signer::group(&group);
    let revoke = |tokens: Vec<[u8; 36]>, at: u64| {
        Request::RevokeSubaccount(SubaccountRevocation::signed(&owner, tokens, at).unwrap())
    };
    assert_eq!(net.call(NOW, &revoke(vec![first.token()], NOW)).0, 200);
    let rest: Vec<[u8; 36]> = (101..151).map(|n| member(n).token()).collect();
    assert_eq!(rest.len(), 50);
    let at = NOW + 5_000;
    assert_eq!(net.call(at, &revoke(rest.clone(), at)).0, 200);
    let list = Request::RevokedSubaccounts(RevokedSubaccounts::signed(&owner, at));
    let (_, j, _) = net.call(at, &list);
    let listed = j["revoked_subaccounts"].as_array().unwrap();
    assert_eq!(listed.len(), 50);
    // The oldest went: its holder reads again.
    assert!(!listed.contains(&b64::encode(&first.token()).into()));
    assert_eq!(
        net.call(at, &retrieve(&first, Namespace::GroupMessages, at))
            .0,
        200
    );
    assert_eq!(
        net.call(at, &retrieve(&member(120), Namespace::GroupMessages, at))
            .0,
        401
    );
}

#[test]
fn a_member_without_delete_only_extends() {
    let group = keys(7);
    let admin = Admin(&group);
    let rw = Member {
        group: &group,
        me: keys(2),
        access: A::READ | A::WRITE,
    };
    let rwd = Member {
        group: &group,
        me: keys(2),
        access: A::READ | A::WRITE | A::DELETE,
    };
    let mut net = Net { node: doc_node() };
    assert_eq!(
        net.call(NOW, &store(&admin, Namespace::GroupMessages, b"x", NOW))
            .0,
        200
    );
    let hash = MessageHash::compute(&admin.pubkey(), Namespace::GroupMessages, b"x");
    let stored_expiry = NOW + 86_400_000;
    let expire = |s: &dyn RequestSigner, to: u64| {
        Request::Expire(
            Expire::signed(
                &Signer::delegated(s),
                vec![hash.clone()],
                vec![to],
                ExpireMode::Set,
            )
            .unwrap(),
        )
    };
    let expiry_now = |net: &mut Net| {
        let g = Request::GetExpiries(
            GetExpiries::signed(&Signer::delegated(&rw), vec![hash.clone()], NOW).unwrap(),
        );
        let (st, j, _) = net.call(NOW, &g);
        assert_eq!(st, 200);
        j["expiries"][hash.as_str()].as_u64().unwrap()
    };
    // Shortening through a plain set: not applied for a writer without delete.
    assert_eq!(net.call(NOW, &expire(&rw, NOW + 60_000)).0, 200);
    assert_eq!(expiry_now(&mut net), stored_expiry);
    // Extending is.
    assert_eq!(net.call(NOW, &expire(&rw, stored_expiry + 1_000)).0, 200);
    assert_eq!(expiry_now(&mut net), stored_expiry + 1_000);
    // With delete the set applies as asked.
    assert_eq!(net.call(NOW, &expire(&rwd, NOW + 60_000)).0, 200);
    assert_eq!(expiry_now(&mut net), NOW + 60_000);
}

/// A store that implements messages but leaves the revocation methods at their defaults (as a
/// backend without a revocation table does).
#[derive(Debug, Default)]
struct NoRevocations(metaless_node::storage::MemoryStorage);

mod no_revocations {
    use super::NoRevocations;
    use metaless_node::NodeError;
    use metaless_node::replication::Retry;
    use metaless_node::storage::{
        ExpiryMode, HashState, NewMessage, OWNER_LEN, Storage, StoreOutcome, StoredMessage,
        SyncEntry, SyncMessage,
    };
    use std::collections::BTreeMap;

    type R<T> = Result<T, NodeError>;

    impl Storage for NoRevocations {
        fn store(&mut self, msg: &NewMessage) -> R<(StoreOutcome, i64)> {
            self.0.store(msg)
        }
        fn retrieve(
            &self,
            owner: &[u8; OWNER_LEN],
            namespace: i16,
            last_hash: Option<&str>,
            max_count: Option<usize>,
            max_size: Option<usize>,
            now_ms: i64,
        ) -> R<(Vec<StoredMessage>, bool)> {
            self.0
                .retrieve(owner, namespace, last_hash, max_count, max_size, now_ms)
        }
        fn delete_by_hash(&mut self, owner: &[u8; OWNER_LEN], hashes: &[String]) -> R<Vec<String>> {
            self.0.delete_by_hash(owner, hashes)
        }
        fn delete_all(&mut self, o: &[u8; OWNER_LEN], ns: Option<i16>) -> R<Vec<(i16, String)>> {
            self.0.delete_all(o, ns)
        }
        fn delete_before(
            &mut self,
            o: &[u8; OWNER_LEN],
            ns: Option<i16>,
            before_ms: i64,
        ) -> R<Vec<(i16, String)>> {
            self.0.delete_before(o, ns, before_ms)
        }
        fn update_expiry(
            &mut self,
            o: &[u8; OWNER_LEN],
            hashes: &[String],
            expiries: &[i64],
            mode: ExpiryMode,
        ) -> R<Vec<(String, i64)>> {
            self.0.update_expiry(o, hashes, expiries, mode)
        }
        fn update_all_expiries(
            &mut self,
            o: &[u8; OWNER_LEN],
            ns: Option<i16>,
            expiry_ms: i64,
        ) -> R<Vec<(i16, String)>> {
            self.0.update_all_expiries(o, ns, expiry_ms)
        }
        fn get_expiries(&self, o: &[u8; OWNER_LEN], hashes: &[String]) -> R<BTreeMap<String, i64>> {
            self.0.get_expiries(o, hashes)
        }
        fn sweep_expired(&mut self, now_ms: i64) -> R<usize> {
            self.0.sweep_expired(now_ms)
        }
        fn count(&self) -> R<usize> {
            self.0.count()
        }
        fn push_retry(&mut self, retry: &Retry) -> R<()> {
            self.0.push_retry(retry)
        }
        fn take_due_retries(&mut self, now_ms: u64, limit: usize) -> R<Vec<Retry>> {
            self.0.take_due_retries(now_ms, limit)
        }
        fn retry_done(&mut self, id: u64) -> R<()> {
            self.0.retry_done(id)
        }
        fn retry_again(&mut self, id: u64, next_ms: u64, attempts: u32) -> R<()> {
            self.0.retry_again(id, next_ms, attempts)
        }
        fn sync_list(&self, after: &str, limit: usize, now_ms: i64) -> R<(Vec<SyncEntry>, bool)> {
            self.0.sync_list(after, limit, now_ms)
        }
        fn sync_get(&self, hashes: &[String], now_ms: i64) -> R<Vec<SyncMessage>> {
            self.0.sync_get(hashes, now_ms)
        }
        fn hash_states(&self, hashes: &[String]) -> R<BTreeMap<String, HashState>> {
            self.0.hash_states(hashes)
        }
        fn sync_put(&mut self, msg: &SyncMessage) -> R<bool> {
            self.0.sync_put(msg)
        }
        fn sync_delete(&mut self, hash: &str, expiry_ms: i64) -> R<bool> {
            self.0.sync_delete(hash, expiry_ms)
        }
    }
}

#[test]
fn a_store_without_a_revocation_table_refuses_revokes_and_serves_members() {
    use metaless_node::{NetworkMap, NodeConfig, NodeInfo};
    let keypair = keys(1);
    let info = NodeInfo {
        pubkey_ed25519: keypair.ed25519_public(),
        pubkey_x25519: keypair.x25519_public(),
        swarm_id: 0,
        ip: "127.0.0.1".into(),
        port: 1,
    };
    let node = metaless_node::Node::new(NodeConfig {
        keypair,
        network: NetworkMap::new(vec![info.clone()]),
        info,
        storage: Box::new(NoRevocations::default()),
        rng_seed: [0; 32],
        observe: false,
    });
    let mut net = Net { node };
    let group = keys(7);
    let bob = Member {
        group: &group,
        me: keys(2),
        access: A::READ | A::WRITE,
    };
    let revoke = Request::RevokeSubaccount(
        SubaccountRevocation::signed(&Signer::group(&group), vec![bob.token()], NOW).unwrap(),
    );
    let (st, _, text) = net.call(NOW, &revoke);
    assert_eq!((st, text.as_str()), (500, "request failed"));
    // Nothing is listed, so nothing is refused.
    let list = Request::RevokedSubaccounts(RevokedSubaccounts::signed(&Signer::group(&group), NOW));
    let (st, j, _) = net.call(NOW, &list);
    assert_eq!(
        (st, j["revoked_subaccounts"].clone()),
        (200, serde_json::json!([]))
    );
    assert_eq!(
        net.call(NOW, &store(&bob, Namespace::GroupMessages, b"m", NOW))
            .0,
        200
    );
    assert_eq!(
        net.call(NOW, &retrieve(&bob, Namespace::GroupMessages, NOW))
            .0,
        200
    );
}
