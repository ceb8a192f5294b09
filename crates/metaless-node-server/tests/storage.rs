//! Storage behaviour: idempotence, paging, expiry, deletes — one set of semantics tests run
//! against both backends, metaless-node's `MemoryStorage` and this crate's `SqliteStorage`, so
//! they cannot drift; a differential property test runs random operation sequences on both and
//! compares every answer; durability across reopen (SQLite only).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_node::replication::{RETRY_LEASE_MS, Retry};
use metaless_node::storage::{
    ExpiryMode, HashState, MemoryStorage, NewMessage, Storage, StoreOutcome, StoredMessage,
    SyncEntry, SyncMessage,
};
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

/// The child of `acknowledged_stores_survive_a_kill_during_checkpoints`: stores messages into
/// the database named by `METALESS_STORAGE_CHILD`, numbered from `METALESS_STORAGE_FROM`,
/// printing each hash once its store has returned, until killed (bounded: 200,000 stores).
/// Not a test of its own: without the variable it returns at once.
#[test]
#[ignore = "child process of acknowledged_stores_survive_a_kill_during_checkpoints"]
fn storage_child_stores_until_killed() {
    use std::io::Write;
    let Ok(dir) = std::env::var("METALESS_STORAGE_CHILD") else {
        return;
    };
    let from: usize = std::env::var("METALESS_STORAGE_FROM")
        .unwrap()
        .parse()
        .unwrap();
    let mut db = SqliteStorage::open(std::path::Path::new(&dir), Durability::Normal).unwrap();
    let mut out = std::io::stdout().lock();
    for i in from..from + 200_000 {
        let hash = format!("k{i:07}");
        db.store(&msg(7, 0, &hash, i as i64, i64::MAX, &[i as u8; 1_000]))
            .unwrap();
        writeln!(out, "ack {hash}").unwrap();
        out.flush().unwrap();
    }
}

/// A store acknowledged by a process killed by PID (SIGKILL) is in the database when it is
/// opened again. The kills land 10–30 writes after a nudge of the background checkpointer
/// (every 1,500 writes of a process), while it copies the WAL into the database file (a
/// checkpoint of 1,500 writes' pages outlasts 30 more writes); three kills in a row on one
/// database, each child recovering the last one's WAL first.
#[test]
fn acknowledged_stores_survive_a_kill_during_checkpoints() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged: Vec<String> = Vec::new();
    for (round, kill_after) in [1_510usize, 3_020, 4_530].into_iter().enumerate() {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "storage_child_stores_until_killed",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("METALESS_STORAGE_CHILD", dir.path())
            .env("METALESS_STORAGE_FROM", (round * 1_000_000).to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while seen < kill_after {
            let line = lines.next().expect("child ended early").unwrap();
            if let Some(hash) = line.strip_prefix("ack ") {
                acknowledged.push(hash.to_string());
                seen += 1;
            }
        }
        child.kill().unwrap();
        // Acknowledgements already printed before the kill landed count too.
        for line in lines {
            match line {
                Ok(l) => {
                    if let Some(hash) = l.strip_prefix("ack ") {
                        acknowledged.push(hash.to_string());
                    }
                }
                Err(_) => break,
            }
        }
        child.wait().unwrap();
        let db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
        let held = db.get_expiries(&[7; 33], &acknowledged).unwrap();
        let missing: Vec<&String> = acknowledged
            .iter()
            .filter(|h| !held.contains_key(*h))
            .collect();
        assert!(
            missing.is_empty(),
            "kill {round}: {} of {} acknowledged stores missing, e.g. {:?}",
            missing.len(),
            acknowledged.len(),
            &missing[..missing.len().min(3)]
        );
    }
}

fn retry(to: u8, next_ms: u64) -> Retry {
    Retry {
        id: 0,
        to: [to; 32],
        body: format!("{{\"n\":{to}}}").into_bytes(),
        expiry_ms: 1_000_000,
        next_ms,
        attempts: u32::from(to),
    }
}

/// The parts of a handed-out replay that are the caller's (the queue sets id and the lease).
fn peer_of(r: &[Retry]) -> Vec<u8> {
    r.iter().map(|r| r.to[0]).collect()
}

/// The replication retry queue: only due entries come out, earliest first, at most `limit`;
/// a handed-out entry is leased (not handed out again until the lease ends), removed by
/// `retry_done`, rescheduled by `retry_again`.
fn retry_queue_hands_out_due_entries_once(db: &mut dyn Storage) {
    for (to, next) in [(1, 300), (2, 100), (3, 200), (4, 5_000)] {
        db.push_retry(&retry(to, next)).unwrap();
    }
    assert!(db.take_due_retries(99, 10).unwrap().is_empty());
    let got = db.take_due_retries(300, 2).unwrap();
    assert_eq!(peer_of(&got), vec![2, 3]);
    assert_eq!(got[0].body, retry(2, 100).body);
    assert_eq!((got[0].next_ms, got[0].attempts), (100, 2));
    assert_ne!(got[0].id, got[1].id);
    let one = db.take_due_retries(300, 10).unwrap();
    assert_eq!(peer_of(&one), vec![1]);
    assert!(db.take_due_retries(4_999, 10).unwrap().is_empty());
    // Done, rescheduled, and one never reported back (a crash).
    db.retry_done(got[0].id).unwrap();
    db.retry_again(got[1].id, 7_000, 9).unwrap();
    let lease_end = 300 + RETRY_LEASE_MS;
    let again = db.take_due_retries(lease_end, 10).unwrap();
    assert_eq!(peer_of(&again), vec![4, 3, 1]);
    assert_eq!(again[1].attempts, 9);
    for r in &again {
        db.retry_done(r.id).unwrap();
    }
    assert!(db.take_due_retries(u64::MAX, 10).unwrap().is_empty());
}

#[test]
fn retry_queue_semantics_on_both_backends() {
    retry_queue_hands_out_due_entries_once(&mut MemoryStorage::new());
    retry_queue_hands_out_due_entries_once(&mut SqliteStorage::open_in_memory().unwrap());
}

#[test]
fn retry_queue_survives_reopen_and_a_crash_after_take() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
        db.push_retry(&retry(7, 10)).unwrap();
        db.push_retry(&retry(8, 20)).unwrap();
        // Taken, then the process dies before reporting back.
        assert_eq!(db.take_due_retries(10, 1).unwrap().len(), 1);
    }
    let mut db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
    assert_eq!(peer_of(&db.take_due_retries(20, 10).unwrap()), vec![8]);
    assert_eq!(
        peer_of(&db.take_due_retries(10 + RETRY_LEASE_MS, 10).unwrap()),
        vec![7]
    );
}

/// Tombstones: every delete path leaves one, expiry sweeps clear them, a client's store of
/// the hash again clears it; the sync listing merges messages and tombstones by hash.
fn tombstones_and_listing(db: &mut dyn Storage) {
    for (h, ts) in [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)] {
        db.store(&msg(5, 0, h, ts, 1_000, b"x")).unwrap();
    }
    db.store(&msg(6, 1, "f", 1, 500, b"y")).unwrap();
    db.delete_by_hash(&[5; 33], &["a".into()]).unwrap();
    db.delete_before(&[5; 33], None, 2).unwrap(); // b
    db.delete_all(&[6; 33], None).unwrap(); // f
    let states = db
        .hash_states(&["a".into(), "b".into(), "c".into(), "f".into(), "zz".into()])
        .unwrap();
    assert_eq!(
        states.get("a"),
        Some(&HashState::Deleted { expiry_ms: 1_000 })
    );
    assert_eq!(
        states.get("f"),
        Some(&HashState::Deleted { expiry_ms: 500 })
    );
    assert_eq!(
        states.get("c"),
        Some(&HashState::Held {
            owner: [5; 33],
            expiry_ms: 1_000
        })
    );
    assert!(!states.contains_key("zz"));
    let (page, more) = db.sync_list("", 3, 0).unwrap();
    let names = |p: &[SyncEntry]| -> Vec<(String, bool)> {
        p.iter().map(|e| (e.hash.clone(), e.deleted)).collect()
    };
    assert_eq!(
        names(&page),
        vec![("a".into(), true), ("b".into(), true), ("c".into(), false)]
    );
    assert!(more);
    let (page, more) = db.sync_list("c", 10, 0).unwrap();
    assert_eq!(
        names(&page),
        vec![("d".into(), false), ("e".into(), false), ("f".into(), true)]
    );
    assert!(!more);
    // At 500 the tombstone of f (expiry 500) is no longer listed.
    assert_eq!(db.sync_list("e", 10, 500).unwrap().0.len(), 0);
    // sync_put refuses tombstoned and held hashes; sync_delete applies a peer's tombstone.
    let copy = |h: &str| SyncMessage {
        owner: [5; 33],
        message: StoredMessage {
            hash: h.into(),
            namespace: 0,
            timestamp_ms: 9,
            expiry_ms: 1_000,
            data: b"x".to_vec(),
        },
    };
    assert!(!db.sync_put(&copy("a")).unwrap());
    assert!(!db.sync_put(&copy("c")).unwrap());
    assert!(db.sync_put(&copy("g")).unwrap());
    assert_eq!(
        db.sync_get(&["g".into(), "a".into()], 0).unwrap(),
        vec![copy("g")]
    );
    assert!(db.sync_get(&["g".into()], 1_000).unwrap().is_empty());
    assert!(db.sync_delete("c", 1_000).unwrap());
    assert!(!db.sync_delete("c", 1_000).unwrap());
    assert!(!db.sync_put(&copy("c")).unwrap());
    // A client storing "a" again means it.
    db.store(&msg(5, 0, "a", 1, 1_000, b"x")).unwrap();
    assert!(matches!(
        db.hash_states(&["a".into()]).unwrap().get("a"),
        Some(HashState::Held { .. })
    ));
    // Sweeping at 1_000 removes the messages and every tombstone that old.
    db.sweep_expired(1_000).unwrap();
    assert!(
        db.hash_states(&["a".into(), "b".into(), "c".into()])
            .unwrap()
            .is_empty()
    );
    assert!(db.sync_list("", 10, 0).unwrap().0.is_empty());
}

/// A peer's replay of a deleted hash writes nothing (not even a public outbox's clearing);
/// a held or unknown hash is stored as by `store`.
fn replays_leave_deleted_messages_deleted(db: &mut dyn Storage) {
    let a = msg(1, 0, "a", 1, 1_000, b"x");
    assert_eq!(
        db.store_unless_deleted(&a).unwrap(),
        (StoreOutcome::New, 1_000)
    );
    assert_eq!(
        db.store_unless_deleted(&a).unwrap(),
        (StoreOutcome::Exists, 1_000)
    );
    db.delete_by_hash(&[1; 33], &["a".into()]).unwrap();
    assert_eq!(
        db.store_unless_deleted(&a).unwrap(),
        (StoreOutcome::Deleted, 1_000)
    );
    assert_eq!(db.count().unwrap(), 0);
    // Public outbox: the refused replay does not clear the message there.
    let kept = msg(1, -21, "k", 1, 900, b"k");
    let mut gone = msg(1, -21, "g", 1, 800, b"g");
    gone.replace_namespace = true;
    let mut kept_r = kept.clone();
    kept_r.replace_namespace = true;
    db.store(&gone).unwrap();
    db.delete_by_hash(&[1; 33], &["g".into()]).unwrap();
    db.store(&kept_r).unwrap();
    assert_eq!(
        db.store_unless_deleted(&gone).unwrap(),
        (StoreOutcome::Deleted, 800)
    );
    let (held, _) = db.retrieve(&[1; 33], -21, None, None, None, 0).unwrap();
    assert_eq!(
        held.iter().map(|m| m.hash.as_str()).collect::<Vec<_>>(),
        ["k"]
    );
    // A client's store of the hash clears the tombstone; a replay then extends as usual.
    assert_eq!(db.store(&a).unwrap(), (StoreOutcome::New, 1_000));
    let mut later = a.clone();
    later.expiry_ms = 2_000;
    assert_eq!(
        db.store_unless_deleted(&later).unwrap(),
        (StoreOutcome::Extended, 2_000)
    );
}

#[test]
fn replays_leave_deleted_messages_deleted_on_both_backends() {
    replays_leave_deleted_messages_deleted(&mut MemoryStorage::new());
    replays_leave_deleted_messages_deleted(&mut SqliteStorage::open_in_memory().unwrap());
}

#[test]
fn tombstones_and_listing_on_both_backends() {
    tombstones_and_listing(&mut MemoryStorage::new());
    tombstones_and_listing(&mut SqliteStorage::open_in_memory().unwrap());
}

#[test]
fn tombstones_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
        db.store(&msg(5, 0, "a", 1, 1_000, b"x")).unwrap();
        db.delete_by_hash(&[5; 33], &["a".into()]).unwrap();
    }
    let db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
    assert_eq!(
        db.hash_states(&["a".into()]).unwrap().get("a"),
        Some(&HashState::Deleted { expiry_ms: 1_000 })
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

/// Sub-account revocations: per owner, whole tokens, the newest 50 kept (by time, then by
/// insertion), a re-revoke moves a token to the newest, unrevoke counts what it removed.
fn revocations_keep_the_newest_fifty(db: &mut dyn Storage) {
    let (alice, bob) = ([3u8; 33], [4u8; 33]);
    let token = |i: u8| {
        let mut t = [0u8; 36];
        t[0] = 0x03;
        t[1] = 1;
        t[4] = i;
        t
    };
    assert!(db.revoked_subaccounts(&alice).unwrap().is_empty());
    db.revoke_subaccounts(&alice, &[token(1)], 10).unwrap();
    assert!(db.subaccount_revoked(&alice, &token(1)).unwrap());
    assert!(
        !db.subaccount_revoked(&bob, &token(1)).unwrap(),
        "per owner"
    );
    // The same key with other flags is another token.
    let mut other_flags = token(1);
    other_flags[1] = 3;
    assert!(!db.subaccount_revoked(&alice, &other_flags).unwrap());

    // 1 at t=10, then 2..=50 at t=20: 50 tokens. Re-revoking 1 at t=30 makes it the newest, so
    // the 51st token (t=30) evicts 2, the oldest by (time, insertion).
    let later: Vec<[u8; 36]> = (2..=50).map(token).collect();
    db.revoke_subaccounts(&alice, &later, 20).unwrap();
    assert_eq!(db.revoked_subaccounts(&alice).unwrap().len(), 50);
    db.revoke_subaccounts(&alice, &[token(1)], 30).unwrap();
    db.revoke_subaccounts(&alice, &[token(51)], 30).unwrap();
    let listed = db.revoked_subaccounts(&alice).unwrap();
    assert_eq!(listed.len(), 50);
    assert!(listed.contains(&token(1)) && listed.contains(&token(51)));
    assert!(!listed.contains(&token(2)), "the oldest went");
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "listed sorted");

    // An earlier re-revoke does not move a token back in time: 3 (t=20) stays older than 1.
    db.revoke_subaccounts(&alice, &[token(1)], 5).unwrap();
    db.revoke_subaccounts(&alice, &[token(52)], 40).unwrap();
    let listed = db.revoked_subaccounts(&alice).unwrap();
    assert!(listed.contains(&token(1)) && !listed.contains(&token(3)));

    assert_eq!(
        db.unrevoke_subaccounts(&alice, &[token(1), token(99)])
            .unwrap(),
        1
    );
    assert!(!db.subaccount_revoked(&alice, &token(1)).unwrap());
    assert_eq!(db.unrevoke_subaccounts(&bob, &[token(1)]).unwrap(), 0);
    db.revoke_subaccounts(&alice, &[], 50).unwrap();
    assert_eq!(db.revoked_subaccounts(&alice).unwrap().len(), 49);
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

            #[test]
            fn revocations_keep_the_newest_fifty() {
                super::revocations_keep_the_newest_fifty(open().as_mut());
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
    /// A peer's replay: `store_unless_deleted`.
    StoreReplayed(NewMessage),
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
        2 => (owner.clone(), ns(), hash(), time.clone(), time.clone()).prop_map(
            |(o, ns, hash, ts, expiry)| Op::StoreReplayed(NewMessage {
                owner: [o; 33],
                namespace: ns,
                hash,
                timestamp_ms: ts,
                expiry_ms: expiry,
                data: vec![o; 3],
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
        Op::StoreReplayed(m) => format!("{:?}", db.store_unless_deleted(m).unwrap()),
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

#[test]
fn revocations_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let token = [7u8; 36];
    {
        let mut db = SqliteStorage::open(dir.path(), Durability::Full).unwrap();
        db.revoke_subaccounts(&[3; 33], &[token], 10).unwrap();
    }
    let db = SqliteStorage::open(dir.path(), Durability::Full).unwrap();
    assert!(db.subaccount_revoked(&[3; 33], &token).unwrap());
    assert_eq!(db.revoked_subaccounts(&[3; 33]).unwrap(), vec![token]);
}

/// A database file: the `&self` reads run on pooled read-only connections from several
/// threads at once, each sees every store committed before it (also a reader kept idle in the
/// pool from before those stores), and the writer's changes never wait for a reader's pool.
#[test]
fn file_reads_on_pooled_connections_see_every_commit_from_many_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<SqliteStorage>();
    let dir = tempfile::tempdir().unwrap();
    let mut db = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
    for i in 0..50 {
        db.store(&msg(5, 0, &format!("h{i:03}"), 1, 1_000, b"x"))
            .unwrap();
    }
    for round in 1..=3usize {
        let seen: Vec<usize> = std::thread::scope(|s| {
            let db = &db;
            let readers: Vec<_> = (0..6)
                .map(|_| {
                    s.spawn(move || {
                        let (got, more) = db.retrieve(&[5; 33], 0, None, None, None, 10).unwrap();
                        assert!(!more);
                        assert_eq!(db.count().unwrap(), got.len());
                        got.len()
                    })
                })
                .collect();
            readers.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(seen, vec![50 * round; 6], "round {round}");
        // More stores: the idle pooled readers must see them next round.
        for i in 0..50 {
            db.store(&msg(5, 0, &format!("r{round}-{i:03}"), 1, 1_000, b"x"))
                .unwrap();
        }
    }
    // A delete is seen by the readers too (its tombstone as well).
    let gone = db.delete_by_hash(&[5; 33], &["h000".into()]).unwrap();
    assert_eq!(gone, vec!["h000".to_string()]);
    assert_eq!(db.count().unwrap(), 199);
    assert!(matches!(
        db.hash_states(&["h000".into()]).unwrap().get("h000"),
        Some(HashState::Deleted { .. })
    ));
}
