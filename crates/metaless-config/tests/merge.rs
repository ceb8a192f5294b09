//! Concurrent edits on several devices of one account converge, as upstream's merge rules
//! promise; edits made between syncs are not lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_config::bt::{Dict, Value};
use metaless_config::{Config, Kind};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Set { dev: usize, key: u8, val: i64 },
    SetInSub { dev: usize, key: u8, val: u8 },
    AddToSet { dev: usize, item: u8 },
    Remove { dev: usize, key: u8 },
    Push { dev: usize },
    Sync { dev: usize },
}

fn op(devs: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..devs, 0u8..5, -3i64..100).prop_map(|(dev, key, val)| Op::Set { dev, key, val }),
        (0..devs, 0u8..4, any::<u8>()).prop_map(|(dev, key, val)| Op::SetInSub { dev, key, val }),
        (0..devs, 0u8..6).prop_map(|(dev, item)| Op::AddToSet { dev, item }),
        (0..devs, 0u8..5).prop_map(|(dev, key)| Op::Remove { dev, key }),
        (0..devs).prop_map(|dev| Op::Push { dev }),
        (0..devs).prop_map(|dev| Op::Sync { dev }),
    ]
}

fn key(k: u8) -> Vec<u8> {
    vec![b'a' + k]
}

struct World {
    devices: Vec<Config>,
    server: Vec<Vec<u8>>,
}

impl World {
    fn new(n: usize) -> Self {
        World {
            devices: (0..n).map(|_| Config::new(Kind::Contacts)).collect(),
            server: Vec::new(),
        }
    }

    fn push(&mut self, dev: usize) {
        let c = &mut self.devices[dev];
        if c.needs_push() {
            let p = c.push();
            c.confirm_pushed(&p);
            self.server.push(p.serialized);
        }
    }

    fn sync(&mut self, dev: usize) {
        let all: Vec<&[u8]> = self.server.iter().map(Vec::as_slice).collect();
        let r = self.devices[dev].merge(&all);
        assert!(r.accepted.iter().all(|a| *a), "every pushed message parses");
        self.push(dev);
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Set { dev, key: k, val } => self.devices[dev].edit(|d| {
                d.insert(key(k), Value::Int(val));
            }),
            Op::SetInSub { dev, key: k, val } => self.devices[dev].edit(|d| {
                let sub = d
                    .entry(b"sub".to_vec())
                    .or_insert_with(|| Value::Dict(Dict::new()));
                if let Value::Dict(s) = sub {
                    s.insert(key(k), Value::bytes([val]));
                } else {
                    *sub = Value::dict([(key(k), Value::bytes([val]))]);
                }
            }),
            Op::AddToSet { dev, item } => self.devices[dev].edit(|d| {
                let items = match d.remove(&b"set"[..]) {
                    Some(Value::List(l)) => l,
                    _ => Vec::new(),
                };
                d.insert(
                    b"set".to_vec(),
                    Value::set(items.into_iter().chain([Value::Int(i64::from(item))])),
                );
            }),
            Op::Remove { dev, key: k } => self.devices[dev].edit(|d| {
                d.remove(&key(k));
            }),
            Op::Push { dev } => self.push(dev),
            Op::Sync { dev } => self.sync(dev),
        }
    }

    /// Everyone pushes, then syncs until nobody has anything to push.
    fn settle(&mut self) -> usize {
        for dev in 0..self.devices.len() {
            self.push(dev);
        }
        for round in 0..6 {
            for dev in 0..self.devices.len() {
                let all: Vec<&[u8]> = self.server.iter().map(Vec::as_slice).collect();
                self.devices[dev].merge(&all);
            }
            let dirty = self.devices.iter().any(Config::needs_push);
            for dev in 0..self.devices.len() {
                self.push(dev);
            }
            if !dirty {
                return round;
            }
        }
        panic!("did not settle");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any interleaving of edits, pushes and syncs on 2 or 3 devices ends, after everyone syncs,
    /// with one state and one message on every device.
    #[test]
    fn devices_converge(devs in 2usize..4, ops in proptest::collection::vec(op(3), 0..40)) {
        let mut w = World::new(devs);
        for o in &ops {
            let o = match *o {
                Op::Set { dev, key, val } => Op::Set { dev: dev % devs, key, val },
                Op::SetInSub { dev, key, val } => Op::SetInSub { dev: dev % devs, key, val },
                Op::AddToSet { dev, item } => Op::AddToSet { dev: dev % devs, item },
                Op::Remove { dev, key } => Op::Remove { dev: dev % devs, key },
                Op::Push { dev } => Op::Push { dev: dev % devs },
                Op::Sync { dev } => Op::Sync { dev: dev % devs },
            };
            w.apply(&o);
        }
        w.settle();
        // One state everywhere, nothing left to push, and it is what the swarm's messages merge
        // to on a device that never took part. (Seqnos may differ by one: a device that was
        // outdated while holding unpushed edits bumps the winner's seqno, as upstream does.)
        let mut fresh = Config::new(Kind::Contacts);
        let all: Vec<&[u8]> = w.server.iter().map(Vec::as_slice).collect();
        fresh.merge(&all);
        for d in &w.devices {
            prop_assert_eq!(d.data(), w.devices[0].data());
            prop_assert!(!d.needs_push());
        }
        prop_assert_eq!(fresh.data(), w.devices[0].data());
    }

    /// Each device edits its own key and a shared key between syncs: after settling, every
    /// device's own key holds the last value it wrote (nothing lost), and the shared key holds
    /// one of the values written in the last round.
    #[test]
    fn concurrent_edits_are_not_lost(rounds in proptest::collection::vec(proptest::collection::vec(proptest::option::of(0i64..1000), 3), 1..8)) {
        let mut w = World::new(3);
        let mut last: [Option<i64>; 3] = [None; 3];
        let mut shared_last_round = Vec::new();
        for round in &rounds {
            shared_last_round.clear();
            for (dev, v) in round.iter().enumerate() {
                if let Some(v) = *v {
                    w.devices[dev].edit(|d| {
                        d.insert(key(dev as u8), Value::Int(v));
                        d.insert(b"shared".to_vec(), Value::Int(v));
                    });
                    last[dev] = Some(v);
                    shared_last_round.push(v);
                    w.push(dev);
                }
            }
            for dev in 0..3 {
                w.sync(dev);
            }
        }
        w.settle();
        for d in &w.devices {
            for (dev, v) in last.iter().enumerate() {
                prop_assert_eq!(d.data().get(&key(dev as u8)).and_then(Value::as_int), *v);
            }
            if !shared_last_round.is_empty() {
                let s = d.data().get(&b"shared"[..]).and_then(Value::as_int).unwrap();
                prop_assert!(shared_last_round.contains(&s));
            }
        }
    }
}

#[test]
fn stale_and_replayed_messages_change_nothing() {
    let mut w = World::new(1);
    for v in 0..8 {
        w.apply(&Op::Set {
            dev: 0,
            key: 0,
            val: v,
        });
        w.push(0);
    }
    let now = w.devices[0].push();
    // Replaying every old push (all 5+ seqnos behind, or inside the newest's lags) is a no-op.
    let old: Vec<&[u8]> = w.server.iter().map(Vec::as_slice).collect();
    let r = w.devices[0].merge(&old);
    assert!(!r.changed);
    assert_eq!(w.devices[0].push(), now);
    assert!(!w.devices[0].needs_push());
}

/// Upstream `ConfigBase::_merge`: holding unpushed edits while another device's message wins
/// outright (ours is 5 or more seqnos behind it) gives the winner's data at the winner's seqno
/// + 1, clean; the edits are dropped; the next edit starts the seqno after that.
#[test]
fn outdated_unpushed_edits_bump_the_winners_seqno() {
    let mut w = World::new(2);
    w.apply(&Op::Set {
        dev: 0,
        key: 0,
        val: 1,
    });
    w.push(0);
    w.sync(1);
    assert_eq!(w.devices[1].seqno(), 1);
    for v in 2..8 {
        w.apply(&Op::Set {
            dev: 0,
            key: 0,
            val: v,
        });
        w.push(0);
    }
    assert_eq!(w.devices[0].seqno(), 7);
    // Device 1 edits (seqno 2, not pushed), then hears of seqno 7: 2 + 5 <= 7.
    w.apply(&Op::Set {
        dev: 1,
        key: 1,
        val: 99,
    });
    assert_eq!(w.devices[1].seqno(), 2);
    let all: Vec<&[u8]> = w.server.iter().map(Vec::as_slice).collect();
    let r = w.devices[1].merge(&all);
    assert!(r.changed);
    let d1 = &w.devices[1];
    assert_eq!(d1.seqno(), 8, "upstream bumps the winner's seqno");
    assert!(!d1.needs_push());
    assert_eq!(d1.data(), w.devices[0].data());
    assert_eq!(
        d1.data().get(&b"b"[..]),
        None,
        "the outdated edit is dropped"
    );
    // The bumped message keeps the winner's own diff as a lag.
    let seven = metaless_config::message::hash(w.server.last().unwrap());
    assert!(d1.message().lagged().contains_key(&(7, seven)));
    // Its next edit is seqno 9, and device 0 adopts it as is (7 is in its lags).
    w.apply(&Op::Set {
        dev: 1,
        key: 2,
        val: 5,
    });
    assert_eq!(w.devices[1].seqno(), 9);
    w.push(1);
    let pushed = w.server.last().unwrap().clone();
    let r = w.devices[0].merge(&[&pushed]);
    assert!(r.changed);
    assert_eq!(w.devices[0].seqno(), 9);
    assert!(!w.devices[0].needs_push());
    assert_eq!(w.devices[0].data(), w.devices[1].data());
}

/// The same while not dirty: the winner is adopted as is (no bump).
#[test]
fn clean_device_adopts_the_winner_unchanged() {
    let mut w = World::new(2);
    w.apply(&Op::Set {
        dev: 1,
        key: 1,
        val: 1,
    });
    w.push(1);
    for v in 0..7 {
        w.apply(&Op::Set {
            dev: 0,
            key: 0,
            val: v,
        });
        w.push(0);
    }
    let all: Vec<&[u8]> = w.server.iter().map(Vec::as_slice).collect();
    w.devices[1].merge(&all);
    assert_eq!(w.devices[1].push(), w.devices[0].push());
    assert!(!w.devices[1].needs_push());
}

/// A fresh config is left out of the merge (upstream skips a clean seqno 0): two incoming
/// messages merge on their own, the result carries no lag for the empty message.
#[test]
fn fresh_config_takes_no_part_in_a_merge() {
    let (mut a, mut b) = (Config::new(Kind::Contacts), Config::new(Kind::Contacts));
    a.edit(|d| {
        d.insert(b"a".to_vec(), Value::Int(1));
    });
    b.edit(|d| {
        d.insert(b"b".to_vec(), Value::Int(2));
    });
    let (pa, pb) = (a.push(), b.push());
    // Both lag the empty seqno-0 message (they started from it), so the merge keeps that lag.
    let mut fresh = Config::new(Kind::Contacts);
    fresh.merge(&[&pa.serialized, &pb.serialized]);
    assert_eq!(fresh.seqno(), 2);
    assert!(fresh.needs_push());
    assert_eq!(fresh.data().len(), 2);
    // The same two merged by a (clean, seqno 0) device and by a or b give one message.
    a.confirm_pushed(&pa);
    a.merge(&[&pb.serialized]);
    assert_eq!(a.push(), fresh.push());
    // A single message is adopted as is, whatever its lags.
    let mut lone = Config::new(Kind::Contacts);
    let msg = b"d1:#i3e1:&d1:ai1ee1:<le1:=d1:a0:ee";
    assert!(lone.merge(&[msg]).changed);
    assert_eq!((lone.seqno(), lone.needs_push()), (3, false));
    assert_eq!(lone.push().serialized, msg);
    // Nothing valid: nothing changes.
    let mut none = Config::new(Kind::Contacts);
    assert!(!none.merge(&[b"junk"]).changed);
    assert_eq!(none.seqno(), 0);
}

#[test]
fn dump_round_trips_every_state() {
    // Clean.
    let mut c = Config::new(Kind::Contacts);
    c.edit(|d| {
        d.insert(b"a".to_vec(), Value::Int(1));
    });
    let p = c.push();
    c.confirm_pushed(&p);
    let back = Config::from_dump(Kind::Contacts, &c.dump()).unwrap();
    assert_eq!((back.seqno(), back.needs_push()), (1, false));
    assert_eq!(back.push(), c.push());
    // Dirty: comes back one seqno on, its edit kept and still to push; the skipped seqno's
    // diff is a lag, so a device holding seqno 1 adopts it.
    c.edit(|d| {
        d.insert(b"b".to_vec(), Value::Int(2));
    });
    assert_eq!(c.seqno(), 2);
    let back = Config::from_dump(Kind::Contacts, &c.dump()).unwrap();
    assert_eq!((back.seqno(), back.needs_push()), (3, true));
    assert_eq!(back.data(), c.data());
    let mut other = Config::new(Kind::Contacts);
    other.merge(&[&p.serialized]);
    other.merge(&[&back.push().serialized]);
    assert_eq!((other.seqno(), other.needs_push()), (3, false));
    // A dirty config edited after a reload stays at the reloaded seqno.
    let mut again = back;
    again.edit(|d| {
        d.insert(b"c".to_vec(), Value::Int(3));
    });
    assert_eq!(again.seqno(), 3);
    // Waiting (a push restored unconfirmed): the same message, still to push.
    let waiting = b"d1:!i2e1:$34:d1:#i3e1:&d1:ai1ee1:<le1:=d1:a0:eee";
    let w = Config::from_dump(Kind::Contacts, waiting).unwrap();
    assert_eq!((w.seqno(), w.needs_push()), (3, true));
    assert_eq!(w.push().serialized, b"d1:#i3e1:&d1:ai1ee1:<le1:=d1:a0:ee");
    assert_eq!(w.dump(), waiting);
    // A libsession dump's other keys ("(" current hash, ")" old hashes, "+" extra) are ignored.
    let upstream = b"d1:!i0e1:$23:d1:#i0e1:&de1:<le1:=dee1:(0:1:)le1:+dee";
    assert_eq!(
        Config::from_dump(Kind::Contacts, upstream).unwrap().seqno(),
        0
    );
}

#[test]
fn bad_dumps_are_refused() {
    use metaless_config::ConfigError;
    let cases: &[&[u8]] = &[
        b"",
        b"le",
        b"d1:$23:d1:#i0e1:&de1:<le1:=deee",        // no state
        b"d1:!i0ee",                               // no message
        b"d1:!i3e1:$23:d1:#i0e1:&de1:<le1:=deee",  // unknown state
        b"d1:!i0e1:$5:d1:#ee",                     // message not a config
        b"d1:!i0e1:$23:d1:#i0e1:&de1:<le1:=deeeX", // trailing byte
        b"d1:!1:01:$23:d1:#i0e1:&de1:<le1:=deee",  // state not an int
    ];
    for c in cases {
        assert!(
            Config::from_dump(Kind::Contacts, c).is_err(),
            "{:?}",
            String::from_utf8_lossy(c)
        );
    }
    assert!(matches!(
        Config::from_dump(Kind::Contacts, b"d1:!i3e1:$23:d1:#i0e1:&de1:<le1:=deee"),
        Err(ConfigError::Malformed(_))
    ));
    assert!(matches!(
        Config::from_dump(Kind::Contacts, b"d1:!i0e"),
        Err(ConfigError::Bencode(_))
    ));
}
