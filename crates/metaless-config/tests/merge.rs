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
        let first = w.devices[0].push();
        for d in &w.devices[1..] {
            prop_assert_eq!(d.data(), w.devices[0].data());
            prop_assert_eq!(&d.push(), &first);
        }
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
