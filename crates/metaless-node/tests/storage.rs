//! Storage behaviour: idempotence, paging, expiry, deletes, and durability across reopen.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_node::storage::{Durability, ExpiryMode, NewMessage, Storage, StoreOutcome};
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

#[test]
fn same_hash_twice_is_one_message() {
    let mut db = Storage::open_in_memory().unwrap();
    let m = msg(5, 0, "a", 1, 100, b"x");
    assert_eq!(db.store(&m).unwrap(), (StoreOutcome::New, 100));
    assert_eq!(db.store(&m).unwrap(), (StoreOutcome::Exists, 100));
    // An earlier expiry never shortens an existing message.
    let shorter = msg(5, 0, "a", 1, 50, b"x");
    assert_eq!(db.store(&shorter).unwrap(), (StoreOutcome::Exists, 100));
    assert_eq!(db.count().unwrap(), 1);
}

#[test]
fn accounts_and_namespaces_are_separate() {
    let mut db = Storage::open_in_memory().unwrap();
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

#[test]
fn expired_messages_are_not_returned_and_are_swept() {
    let mut db = Storage::open_in_memory().unwrap();
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

#[test]
fn public_outbox_keeps_one_message() {
    let mut db = Storage::open_in_memory().unwrap();
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

#[test]
fn retrieve_size_limit_always_returns_one() {
    let mut db = Storage::open_in_memory().unwrap();
    db.store(&msg(5, 0, "a", 0, 100, &[0u8; 300])).unwrap();
    db.store(&msg(5, 0, "b", 0, 100, &[0u8; 300])).unwrap();
    let (got, more) = db.retrieve(&[5; 33], 0, None, None, Some(10), 0).unwrap();
    assert_eq!((got.len(), more), (1, true));
    let (got, more) = db
        .retrieve(&[5; 33], 0, None, None, Some(10_000), 0)
        .unwrap();
    assert_eq!((got.len(), more), (2, false));
}

#[test]
fn expire_modes_follow_upstream() {
    let mut db = Storage::open_in_memory().unwrap();
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

#[test]
fn delete_all_and_before() {
    let mut db = Storage::open_in_memory().unwrap();
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
            let mut db = Storage::open(dir.path(), durability).unwrap();
            for i in 0..20 {
                db.store(&msg(5, 0, &format!("h{i:02}"), i, 1_000, &[i as u8; 16]))
                    .unwrap();
            }
            db.delete_by_hash(&[5; 33], &["h03".into()]).unwrap();
            // Dropped without any explicit checkpoint or close ceremony.
        }
        let db = Storage::open(dir.path(), durability).unwrap();
        let (got, more) = db.retrieve(&[5; 33], 0, None, None, None, 0).unwrap();
        assert!(!more);
        assert_eq!(got.len(), 19);
        assert!(got.iter().all(|m| m.hash != "h03"));
        assert_eq!(got[0].data, vec![0u8; 16]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Paging with last_hash and any page size visits every live message exactly once, in
    /// insertion order.
    #[test]
    fn paging_visits_each_message_once(n in 0usize..40, page in 1usize..7) {
        let mut db = Storage::open_in_memory().unwrap();
        let hashes: Vec<String> = (0..n).map(|i| format!("m{i:03}")).collect();
        for (i, h) in hashes.iter().enumerate() {
            db.store(&msg(5, 0, h, i as i64, 1_000, b"d")).unwrap();
        }
        let mut seen = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let (got, more) = db.retrieve(&[5; 33], 0, last.as_deref(), Some(page), None, 0).unwrap();
            prop_assert!(got.len() <= page);
            seen.extend(got.iter().map(|m| m.hash.clone()));
            last = got.last().map(|m| m.hash.clone()).or(last);
            if !more { break; }
        }
        prop_assert_eq!(seen, hashes);
    }
}
