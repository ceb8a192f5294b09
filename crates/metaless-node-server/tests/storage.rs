//! Storage behaviour: idempotence, paging, expiry, deletes — one set of semantics tests run
//! against both backends, metaless-node's `MemoryStorage` and this crate's `SqliteStorage`, so
//! they cannot drift; a differential property test runs random operation sequences on both and
//! compares every answer; durability across reopen (SQLite only).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_node::replication::Retry;
use metaless_node::storage::{ExpiryMode, MemoryStorage, NewMessage, Storage, StoreOutcome};
use metaless_node_server::storage::{Durability, SqliteStorage};
use proptest::prelude::*;

fn msg(owner: u8, ns: i16, hash: &str, ts: i64, expiry: i64, data: &[u8]) -> NewMessage {
    NewMessage {
        owner: [owner; 33],
        namespace: ns,
        hash: hash.to_string(),
        timestamp_ms: ts,
        expiry_ms: expiry,
        data: data.to_vec(),
        replace_namespace: false,
    }
}

fn same_hash_twice_is_one_message(db: &mut dyn Storage) {
    let m = msg(5, 0, "a", 1, 100, b"x");
    assert_eq!(db.store(&m).unwrap(), (StoreOutcome::New, 100));
    assert_eq!(db.store(&m).unwrap(), (StoreOutcome::Exists, 100));
    // An earlier expiry never shortens an existing message.
    let shorter = msg(5, 0, "a", 1, 50, b"x");
    assert_eq!(db.store(&shorter).unwrap(), (StoreOutcome::Exists, 100));
    assert_eq!(db.count().unwrap(), 1);
}

fn accounts_and_namespaces_are_separate(db: &mut dyn Storage) {
    db.store(&msg(5, 0, "a", 1, 100, b"x")).unwrap();
    db.store(&msg(6, 0, "b", 1, 100, b"x")).unwrap();
    db.store(&msg(5, 2, "c", 1, 100, b"x")).unwrap();
    let (got, _) = db.retrieve(&[5; 33], 0, None, None, None, 0).unwrap();
    assert_eq!(
        got.iter().map(|m| m.hash.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    let (got, _) = db.retrieve(&[5; 33], 2, None, None, None, 0).unwrap();
    assert_eq!(
        got.iter().map(|m| m.hash.as_str()).collect::<Vec<_>>(),
        ["c"]
    );
    // Deleting another account's hash does nothing.
    assert!(
        db.delete_by_hash(&[6; 33], &["a".into()])
            .unwrap()
            .is_empty()
    );
}

fn expired_messages_are_not_returned_and_are_swept(db: &mut dyn Storage) {
    db.store(&msg(5, 0, "a", 0, 10_000, b"x")).unwrap();
    db.store(&msg(5, 0, "b", 0, 20_000, b"y")).unwrap();
    let (got, _) = db.retrieve(&[5; 33], 0, None, None, None, 10_000).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].hash, "b");
    assert_eq!(db.sweep_expired(10_000).unwrap(), 1);
    assert_eq!(db.sweep_expired(19_999).unwrap(), 0);
    assert_eq!(db.sweep_expired(20_000).unwrap(), 1);
    assert_eq!(db.count().unwrap(), 0);
}

fn public_outbox_keeps_one_message(db: &mut dyn Storage) {
    let mut a = msg(5, -1, "a", 0, 100, b"x");
    a.replace_namespace = true;
    let mut b = msg(5, -1, "b", 0, 100, b"y");
    b.replace_namespace = true;
    db.store(&a).unwrap();
    db.store(&b).unwrap();
    let (got, _) = db.retrieve(&[5; 33], -1, None, None, None, 0).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].hash, "b");
}

fn retrieve_size_limit_always_returns_one(db: &mut dyn Storage) {
    db.store(&msg(5, 0, "a", 0, 100, &[0u8; 300])).unwrap();
    db.store(&msg(5, 0, "b", 0, 100, &[0u8; 300])).unwrap();
    let (got, more) = db.retrieve(&[5; 33], 0, None, None, Some(10), 0).unwrap();
    assert_eq!((got.len(), more), (1, true));
    let (got, more) = db
        .retrieve(&[5; 33], 0, None, None, Some(10_000), 0)
        .unwrap();
    assert_eq!((got.len(), more), (2, false));
}

fn expire_modes_follow_upstream(db: &mut dyn Storage) {
    db.store(&msg(5, 0, "a", 0, 100, b"x")).unwrap();
    db.store(&msg(5, 0, "b", 0, 300, b"y")).unwrap();
    let hashes = vec!["a".to_string(), "b".to_string(), "missing".to_string()];
    // extend to 200: only "a" (100 < 200) changes
    assert_eq!(
        db.update_expiry(&[5; 33], &hashes, &[200], ExpiryMode::ExtendOnly)
            .unwrap(),
        vec![("a".into(), 200)]
    );
    // shorten to 250: only "b" (300 > 250)
    assert_eq!(
        db.update_expiry(&[5; 33], &hashes, &[250], ExpiryMode::ShortenOnly)
            .unwrap(),
        vec![("b".into(), 250)]
    );
    // per-hash expiries, any direction
    assert_eq!(
        db.update_expiry(&[5; 33], &hashes[..2], &[10, 20], ExpiryMode::Any)
            .unwrap(),
        vec![("a".into(), 10), ("b".into(), 20)]
    );
    // mismatched lengths change nothing
    assert!(
        db.update_expiry(&[5; 33], &hashes, &[1, 2], ExpiryMode::Any)
            .unwrap()
            .is_empty()
    );
    let e = db.get_expiries(&[5; 33], &hashes).unwrap();
    assert_eq!(e.get("a"), Some(&10));
    assert_eq!(e.get("b"), Some(&20));
    assert_eq!(e.get("missing"), None);
}

fn delete_all_and_before(db: &mut dyn Storage) {
    db.store(&msg(5, 0, "b", 10, 100, b"x")).unwrap();
    db.store(&msg(5, 3, "a", 20, 100, b"y")).unwrap();
    db.store(&msg(5, 3, "c", 30, 100, b"y")).unwrap();
    assert_eq!(
        db.delete_before(&[5; 33], Some(3), 20).unwrap(),
        vec![(3, "a".to_string())]
    );
    assert_eq!(
        db.delete_all(&[5; 33], None).unwrap(),
        vec![(0, "b".to_string()), (3, "c".to_string())]
    );
    assert_eq!(db.count().unwrap(), 0);
}

#[test]
fn acknowledged_stores_survive_reopen() {
    for durability in [Durability::Normal, Durability::Full] {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut db = SqliteStorage::open(dir.path(), durability).unwrap();
            for i in 0..20 {
                db.store(&msg(5, 0, &format!("h{i:02}"), i, 1_000, &[i as u8; 16]))
                    .unwrap();
            }
            db.delete_by_hash(&[5; 33], &["h03".into()]).unwrap();
            // Dropped without any explicit checkpoint or close ceremony.
        }
        let db = SqliteStorage::open(dir.path(), durability).unwrap();
        let (got, more) = db.retrieve(&[5; 33], 0, None, None, None, 0).unwrap();
        assert!(!more);
        assert_eq!(got.len(), 19);
        assert!(got.iter().all(|m| m.hash != "h03"));
        assert_eq!(got[0].data, vec![0u8; 16]);
    }
}

fn retry(to: u8, next_ms: u64) -> Retry {
    Retry {
        to: [to; 32],
        body: format!("{{\"n\":{to}}}").into_bytes(),
        expiry_ms: 1_000_000,
        next_ms,
        attempts: u32::from(to),
    }
}

/// The replication retry queue: only due entries come out, earliest first, at most `limit`,
/// each once.
fn retry_queue_hands_out_due_entries_once(db: &mut dyn Storage) {
    for (to, next) in [(1, 300), (2, 100), (3, 200), (4, 5_000)] {
        db.push_retry(&retry(to, next)).unwrap();
    }
    assert!(db.take_due_retries(99, 10).unwrap().is_empty());
    let got = db.take_due_retries(300, 2).unwrap();
    assert_eq!(got, vec![retry(2, 100), retry(3, 200)]);
    assert_eq!(db.take_due_retries(300, 10).unwrap(), vec![retry(1, 300)]);
    assert!(db.take_due_retries(4_999, 10).unwrap().is_empty());
    assert_eq!(
        db.take_due_retries(u64::MAX, 10).unwrap(),
        vec![retry(4, 5_000)]
    );
    assert!(db.take_due_retries(u64::MAX, 10).unwrap().is_empty());
}

#[test]
fn retry_queue_semantics_on_both_backends() {
    retry_queue_hands_out_due_entries_once(&mut MemoryStorage::new());
    retry_queue_hands_out_due_entries_once(&mut SqliteStorage::open_in_memory().unwrap());
}

#[test]
fn retry_queue_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
        db.push_retry(&retry(7, 10)).unwrap();
        db.push_retry(&retry(8, 20)).unwrap();
    }
    let mut db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
    assert_eq!(
        db.take_due_retries(20, 10).unwrap(),
        vec![retry(7, 10), retry(8, 20)]
    );
}

/// Paging with last_hash and any page size visits every live message exactly once, in
/// insertion order.
fn paging_visits_each_message_once(
    db: &mut dyn Storage,
    n: usize,
    page: usize,
) -> Result<(), TestCaseError> {
    let hashes: Vec<String> = (0..n).map(|i| format!("m{i:03}")).collect();
    for (i, h) in hashes.iter().enumerate() {
        db.store(&msg(5, 0, h, i as i64, 1_000, b"d")).unwrap();
    }
    let mut seen = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let (got, more) = db
            .retrieve(&[5; 33], 0, last.as_deref(), Some(page), None, 0)
            .unwrap();
        prop_assert!(got.len() <= page);
        seen.extend(got.iter().map(|m| m.hash.clone()));
        last = got.last().map(|m| m.hash.clone()).or(last);
        if !more {
            break;
        }
    }
    prop_assert_eq!(seen, hashes);
    Ok(())
}

/// The semantics tests above, as `#[test]`s against one backend.
macro_rules! semantics {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;

            fn open() -> Box<dyn Storage> {
                Box::new($open)
            }

            #[test]
            fn same_hash_twice_is_one_message() {
                super::same_hash_twice_is_one_message(open().as_mut());
            }

            #[test]
            fn accounts_and_namespaces_are_separate() {
                super::accounts_and_namespaces_are_separate(open().as_mut());
            }

            #[test]
            fn expired_messages_are_not_returned_and_are_swept() {
                super::expired_messages_are_not_returned_and_are_swept(open().as_mut());
            }

            #[test]
            fn public_outbox_keeps_one_message() {
                super::public_outbox_keeps_one_message(open().as_mut());
            }

            #[test]
            fn retrieve_size_limit_always_returns_one() {
                super::retrieve_size_limit_always_returns_one(open().as_mut());
            }

            #[test]
            fn expire_modes_follow_upstream() {
                super::expire_modes_follow_upstream(open().as_mut());
            }

            #[test]
            fn delete_all_and_before() {
                super::delete_all_and_before(open().as_mut());
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(32))]
                #[test]
                fn paging_visits_each_message_once(n in 0usize..40, page in 1usize..7) {
                    super::paging_visits_each_message_once(open().as_mut(), n, page)?;
                }
            }
        }
    };
}

semantics!(memory, MemoryStorage::new());
semantics!(sqlite, SqliteStorage::open_in_memory().unwrap());

/// One storage call with small, colliding arguments (few owners, namespaces and hashes, so
/// operations meet each other's messages).
#[derive(Debug, Clone)]
enum Op {
    Store(NewMessage),
    Retrieve {
        owner: u8,
        ns: i16,
        last: Option<String>,
        max_count: Option<usize>,
        max_size: Option<usize>,
        now: i64,
    },
    DeleteByHash(u8, Vec<String>),
    DeleteAll(u8, Option<i16>),
    DeleteBefore(u8, Option<i16>, i64),
    UpdateExpiry(u8, Vec<String>, Vec<i64>, ExpiryMode),
    UpdateAllExpiries(u8, Option<i16>, i64),
    GetExpiries(u8, Vec<String>),
    Sweep(i64),
}

fn hash() -> impl Strategy<Value = String> {
    (0u8..8).prop_map(|i| format!("h{i}"))
}

fn ns() -> impl Strategy<Value = i16> {
    prop_oneof![Just(0i16), Just(2), Just(-21)]
}

fn op() -> impl Strategy<Value = Op> {
    let owner = 1u8..4;
    let time = 0i64..200;
    prop_oneof![
        4 => (owner.clone(), ns(), hash(), time.clone(), time.clone(), 0usize..300).prop_map(
            |(o, ns, hash, ts, expiry, len)| Op::Store(NewMessage {
                owner: [o; 33],
                namespace: ns,
                hash,
                timestamp_ms: ts,
                expiry_ms: expiry,
                data: vec![o; len],
                replace_namespace: ns == -21,
            })
        ),
        3 => (
            owner.clone(),
            ns(),
            proptest::option::of(prop_oneof![hash(), Just(String::new())]),
            proptest::option::of(0usize..4),
            proptest::option::of(0usize..1_000),
            time.clone()
        )
            .prop_map(|(owner, ns, last, max_count, max_size, now)| Op::Retrieve {
                owner,
                ns,
                last,
                max_count,
                max_size,
                now
            }),
        1 => (owner.clone(), proptest::collection::vec(hash(), 0..4))
            .prop_map(|(o, h)| Op::DeleteByHash(o, h)),
        1 => (owner.clone(), proptest::option::of(ns())).prop_map(|(o, n)| Op::DeleteAll(o, n)),
        1 => (owner.clone(), proptest::option::of(ns()), time.clone())
            .prop_map(|(o, n, t)| Op::DeleteBefore(o, n, t)),
        2 => (
            owner.clone(),
            proptest::collection::vec(hash(), 0..4),
            proptest::collection::vec(time.clone(), 0..4),
            prop_oneof![
                Just(ExpiryMode::Any),
                Just(ExpiryMode::ExtendOnly),
                Just(ExpiryMode::ShortenOnly)
            ]
        )
            .prop_map(|(o, h, e, m)| Op::UpdateExpiry(o, h, e, m)),
        1 => (owner.clone(), proptest::option::of(ns()), time.clone())
            .prop_map(|(o, n, t)| Op::UpdateAllExpiries(o, n, t)),
        1 => (owner, proptest::collection::vec(hash(), 0..4))
            .prop_map(|(o, h)| Op::GetExpiries(o, h)),
        1 => time.prop_map(Op::Sweep),
    ]
}

/// What one operation answered, in a form both backends can be compared by.
fn apply(db: &mut dyn Storage, op: &Op) -> String {
    let answer = match op {
        Op::Store(m) => format!("{:?}", db.store(m).unwrap()),
        Op::Retrieve {
            owner,
            ns,
            last,
            max_count,
            max_size,
            now,
        } => format!(
            "{:?}",
            db.retrieve(
                &[*owner; 33],
                *ns,
                last.as_deref(),
                *max_count,
                *max_size,
                *now
            )
            .unwrap()
        ),
        Op::DeleteByHash(o, h) => format!("{:?}", db.delete_by_hash(&[*o; 33], h).unwrap()),
        Op::DeleteAll(o, n) => format!("{:?}", db.delete_all(&[*o; 33], *n).unwrap()),
        Op::DeleteBefore(o, n, t) => {
            format!("{:?}", db.delete_before(&[*o; 33], *n, *t).unwrap())
        }
        Op::UpdateExpiry(o, h, e, m) => {
            format!("{:?}", db.update_expiry(&[*o; 33], h, e, *m).unwrap())
        }
        Op::UpdateAllExpiries(o, n, t) => {
            format!("{:?}", db.update_all_expiries(&[*o; 33], *n, *t).unwrap())
        }
        Op::GetExpiries(o, h) => format!("{:?}", db.get_expiries(&[*o; 33], h).unwrap()),
        Op::Sweep(t) => format!("{:?}", db.sweep_expired(*t).unwrap()),
    };
    format!("{answer} count={}", db.count().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random operation sequences get the same answers from both backends, step by step.
    #[test]
    fn memory_and_sqlite_agree(ops in proptest::collection::vec(op(), 1..60)) {
        let mut memory = MemoryStorage::new();
        let mut sqlite = SqliteStorage::open_in_memory().unwrap();
        for (i, op) in ops.iter().enumerate() {
            let (m, s) = (apply(&mut memory, op), apply(&mut sqlite, op));
            prop_assert_eq!(m, s, "step {} ({:?})", i, op);
        }
    }
}
