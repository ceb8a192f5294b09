//! Load figure for metaless-node: onion requests through 3-hop paths (3 relays peel + forward,
//! the destination peels, stores in its `MemoryStorage` and encrypts its reply), driven through
//! metaless-testnet's `LoopbackNet` so the figure is node work only (no sockets, no disk; the
//! SQLite store's cost is the baseline group's `sqlite_store_*`). Baseline group: the primitives one request
//! consists of, in the same run; the ratio is printed. Last, the same chain driven by hand on 1
//! and on 2 threads (and every core, if more) through handles of the same node cores: requests/s
//! in total and per core, CPU per request, and the ratio to one thread (issue 18 item 4).

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit};
use chacha20poly1305::XChaCha20Poly1305;
use criterion::{BatchSize, Criterion, criterion_main};
use metaless_benches::{CountingAlloc, allocations_during};
use metaless_identity::{Keypair, Seed, X25519Secret};
use metaless_node::storage::{MemoryStorage, NewMessage, Storage};
use metaless_node::{Action, EncType, NetworkMap, Node, NodeConfig, NodeInfo, Request};
use metaless_node_server::storage::{Durability, SqliteStorage};
use metaless_onion::ONION_PATH as ONION;
use metaless_onion::{NodeKey, Peeled};
use metaless_testnet::testkit::{build_onion, store_request};
use metaless_testnet::{LoopbackConfig, LoopbackNet};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const PAYLOAD: usize = 400; // a typical padded DM after sealing, before base64

struct Setup {
    net: LoopbackNet,
    path: Vec<NodeInfo>,
    dest: NodeInfo,
    account: Keypair,
    rng: ChaCha20Rng,
    n: u64,
}

impl Setup {
    fn new() -> Self {
        // Four single-node swarms: no replication, so the figure is exactly peel+forward+store.
        let net = LoopbackNet::new(LoopbackConfig {
            nodes: 4,
            swarms: 4,
            seed: 1,
            ..Default::default()
        })
        .unwrap();
        let account = Keypair::from_seed(&Seed::from_bytes([7; 32]));
        let swarm = net.network().swarm_for(&account.x25519_public()).unwrap();
        let nodes = net.nodes();
        let dest = nodes.iter().find(|n| n.swarm_id == swarm).unwrap().clone();
        let path: Vec<NodeInfo> = nodes.iter().filter(|n| **n != dest).cloned().collect();
        Self {
            net,
            path,
            dest,
            account,
            rng: ChaCha20Rng::seed_from_u64(2),
            n: 0,
        }
    }

    /// A fresh onion body (unique data → a new message each time).
    fn body(&mut self) -> Vec<u8> {
        self.n += 1;
        let mut data = vec![0u8; PAYLOAD];
        data[..8].copy_from_slice(&self.n.to_le_bytes());
        let req = store_request(&self.account, 0, &data, self.net.now_ms(), 3_600_000);
        build_onion(
            &self.path,
            &self.dest,
            req.to_string().as_bytes(),
            EncType::XChaCha20,
            &mut self.rng,
        )
        .unwrap()
        .0
    }

    fn send(&mut self, body: &[u8]) {
        let entry = self.path[0].pubkey_ed25519;
        let (status, _) = self.net.post(&entry, ONION, body).unwrap();
        assert_eq!(status, 200);
    }
}

fn bench(c: &mut Criterion) {
    let r = relay_allocations();
    println!(
        "node: relay hop {} allocations, {} bytes (observation on: {}, {}); bare peel {}, {}",
        r.relay.0, r.relay.1, r.relay_observed.0, r.relay_observed.1, r.peel.0, r.peel.1
    );
    println!(
        "node: relay hop {:.1} us, bare peel {:.1} us (medians, alternately; ratio {:.3})",
        r.relay_us,
        r.peel_us,
        r.relay_us / r.peel_us
    );
    // Budget (issue 18 items 3 and 5): the peel's one buffer, which becomes the forwarded body,
    // plus the next hop's `NodeInfo` that `Action::ForwardToNode` owns (its address string).
    assert!(
        r.peel.0 <= 1 && r.relay.0 <= r.peel.0 + 1,
        "allocation budget exceeded: relay hop {:?}, bare peel {:?} (budget: 1, and 1 more per hop)",
        r.relay,
        r.peel
    );
    let cell = std::cell::RefCell::new(Setup::new());

    let mut g = c.benchmark_group("node_onion_3hop");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("peel_forward_store", |b| {
        b.iter_batched(
            || cell.borrow_mut().body(),
            |body| cell.borrow_mut().send(&body),
            BatchSize::SmallInput,
        )
    });
    g.finish();
    let mut s = cell.into_inner();

    // Baseline: what one request is made of.
    let mut g = c.benchmark_group("node_baseline");
    let peer = X25519Secret::from_bytes([4; 32]).public_key();
    // What the node's peel uses (metaless-onion: Edwards-form multiplication).
    g.bench_function("x25519_dh_onion", |b| {
        b.iter(|| {
            black_box(metaless_onion::x25519::scalarmult(
                &[3; 32],
                black_box(&peer),
            ))
        })
    });
    // The plain Montgomery ladder, for comparison with the Edwards form above.
    g.bench_function("x25519_dh_ladder", |b| {
        b.iter(|| {
            black_box(metaless_identity::x25519::scalarmult_ladder(
                &[3; 32],
                black_box(&peer),
            ))
        })
    });
    let key = XChaCha20Poly1305::new_from_slice(&[9; 32]).unwrap();
    let ct = key.encrypt((&[1u8; 24]).into(), &[0u8; 1024][..]).unwrap();
    g.bench_function("xchacha20poly1305_open_1k", |b| {
        b.iter(|| {
            black_box(
                key.decrypt((&[1u8; 24]).into(), black_box(&ct[..]))
                    .unwrap(),
            )
        })
    });
    let req =
        store_request(&s.account, 0, &[0u8; PAYLOAD], 1_700_000_000_000, 3_600_000).to_string();
    g.bench_function("json_parse_store_request", |b| {
        b.iter(|| black_box(serde_json::from_str::<serde_json::Value>(black_box(&req)).unwrap()))
    });
    let mut mem = SqliteStorage::open_in_memory().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut disk = SqliteStorage::open(dir.path(), Durability::Normal).unwrap();
    let mut map = MemoryStorage::new();
    let mut i = 0u64;
    let mut msg = move || {
        i += 1;
        NewMessage {
            owner: [5; 33],
            namespace: 0,
            hash: format!("{i:043}"),
            timestamp_ms: 0,
            expiry_ms: i64::MAX,
            data: vec![0; PAYLOAD],
            replace_namespace: false,
        }
    };
    g.bench_function("sqlite_store_in_memory", |b| {
        b.iter_batched(&mut msg, |m| mem.store(&m).unwrap(), BatchSize::SmallInput)
    });
    g.bench_function("sqlite_store_wal_normal_file", |b| {
        b.iter_batched(&mut msg, |m| disk.store(&m).unwrap(), BatchSize::SmallInput)
    });
    g.bench_function("memory_store", |b| {
        b.iter_batched(&mut msg, |m| map.store(&m).unwrap(), BatchSize::SmallInput)
    });
    g.finish();

    // One plain measurement for the printed figure and allocation count.
    let bodies: Vec<Vec<u8>> = (0..2000).map(|_| s.body()).collect();
    let start = Instant::now();
    for b in &bodies {
        s.send(b);
    }
    let per_req = start.elapsed().as_secs_f64() / bodies.len() as f64;
    let one = s.body();
    let ((), (allocs, bytes)) = allocations_during(|| s.send(&one));
    let dh = time(|| {
        black_box(metaless_onion::x25519::scalarmult(&[3; 32], &peer));
    });
    let open = time(|| {
        black_box(key.decrypt((&[1u8; 24]).into(), &ct[..]).unwrap());
    });
    let primitives = 4.0 * (dh + open);
    println!(
        "node: 3-hop onion store = {:.1} us/request -> {:.0} requests/s on one core ({:.0} node-hops/s); \
         4 DH + 4 AEAD opens alone = {:.1} us (ratio {:.2}); {} allocations, {} bytes per request",
        per_req * 1e6,
        1.0 / per_req,
        4.0 / per_req,
        primitives * 1e6,
        per_req / primitives,
        allocs,
        bytes
    );

    // Scaling (issue 18 item 4): the same chain on 1 thread and on every core, through the
    // same node cores, interleaved rounds; requests/s in total and per core, CPU per request.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut counts = vec![1, 2];
    if cores > 2 {
        counts.push(cores);
    }
    let per_thread = 3_000;
    let rounds = 5;
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
    for _ in 0..rounds {
        for (k, &t) in counts.iter().enumerate() {
            let (rate, cpu) = chain_on_threads(&mut s, t, per_thread);
            rates[k].push(rate);
            cpus[k].push(cpu);
        }
    }
    let one = median_spread(rates[0].clone()).0;
    for (k, &t) in counts.iter().enumerate() {
        let (rate, lo, hi) = median_spread(rates[k].clone());
        let (cpu, clo, chi) = median_spread(cpus[k].clone());
        println!(
            "node: full 3-hop chain on {t} thread(s) sharing the nodes: {rate:.0} requests/s \
             (range {lo:.0}–{hi:.0}), {:.0} per core, CPU {cpu:.1} us/request (range {clo:.1}–{chi:.1}), \
             {:.2}× one thread ({rounds} interleaved rounds of {per_thread} per thread, {cores} cores)",
            rate / t as f64,
            rate / one
        );
    }
}

/// utime + stime of the calling thread, in seconds (`/proc/thread-self/stat`, 10 ms ticks).
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The full 3-hop chain (3 relays peel and forward, the destination peels, stores and seals
/// its reply) driven by hand on `threads` threads at once through handles of the *same* four
/// cores, as metaless-node-server's workers drive them: `(requests/s in total, CPU µs per
/// request)`.
fn chain_on_threads(s: &mut Setup, threads: usize, per_thread: usize) -> (f64, f64) {
    let cores: Vec<(NodeInfo, Node)> = s
        .net
        .nodes()
        .into_iter()
        .map(|i| {
            let n = s.net.node(&i.pubkey_ed25519).unwrap().clone();
            (i, n)
        })
        .collect();
    let bodies: Vec<Vec<Vec<u8>>> = (0..threads)
        .map(|_| (0..per_thread).map(|_| s.body()).collect())
        .collect();
    let now = s.net.now_ms() as i64;
    let entry = s.path[0].pubkey_ed25519;
    let barrier = std::sync::Barrier::new(threads);
    let runs: Vec<(f64, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .into_iter()
            .map(|mine| {
                let (cores, barrier) = (&cores, &barrier);
                scope.spawn(move || {
                    let find = |k: &[u8; 32]| {
                        &cores
                            .iter()
                            .find(|(i, _)| &i.pubkey_ed25519 == k)
                            .unwrap()
                            .1
                    };
                    barrier.wait();
                    let (cpu0, t0) = (thread_cpu_seconds(), Instant::now());
                    for body in mine {
                        let mut at = find(&entry);
                        let mut body = body;
                        loop {
                            match at.handle(now, Request::post(ONION, body)) {
                                Action::ForwardToNode { node, body: next } => {
                                    at = find(&node.pubkey_ed25519);
                                    body = next;
                                }
                                Action::Respond(r) => {
                                    assert_eq!(r.status, 200);
                                    break;
                                }
                                other => panic!("unexpected {other:?}"),
                            }
                        }
                    }
                    (t0.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu0)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = runs.iter().map(|r| r.0).fold(0.0, f64::max);
    let cpu: f64 = runs.iter().map(|r| r.1).sum();
    let n = (threads * per_thread) as f64;
    (n / wall, cpu / n * 1e6)
}

fn median_spread(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Heap allocations (count, bytes) of one relay hop in `Node::handle` (observation off and on)
/// and of the bare `metaless_onion::peel` it consists of, on a 2-node map (relay → destination).
struct RelayAllocs {
    peel: (usize, usize),
    relay: (usize, usize),
    relay_observed: (usize, usize),
    /// Median times (µs) of the relay hop and of the bare peel, measured alternately.
    relay_us: f64,
    peel_us: f64,
}

fn relay_allocations() -> RelayAllocs {
    let keys: Vec<Keypair> = (1..=2u8)
        .map(|b| Keypair::from_seed(&Seed::from_bytes([b; 32])))
        .collect();
    let infos: Vec<NodeInfo> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| NodeInfo {
            pubkey_ed25519: k.ed25519_public(),
            pubkey_x25519: k.x25519_public(),
            swarm_id: i as u64,
            ip: "127.0.0.1".into(),
            port: 20_000 + i as u16,
        })
        .collect();
    let relay_keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let node = Node::new(NodeConfig {
        keypair: Keypair::from_seed(&Seed::from_bytes([1; 32])),
        info: infos[0].clone(),
        network: NetworkMap::new(infos.clone()),
        storage: Box::new(MemoryStorage::new()),
        rng_seed: [3; 32],
        observe: false,
    });
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut body = || {
        build_onion(
            &infos[..1],
            &infos[1],
            &[0x5a; PAYLOAD],
            EncType::XChaCha20,
            &mut rng,
        )
        .unwrap()
        .0
    };
    let now = 1_700_000_000_000;
    // The first request runs the node's first sweep; measure the next ones.
    node.handle(now, Request::post(ONION, body()));
    let one = body();
    let (peeled, peel) = allocations_during(|| peel_once(&relay_keys, &one));
    assert!(matches!(peeled, Peeled::Forward { .. }));
    let mut relay = |node: &Node| {
        let request = Request::post(ONION, body());
        let (action, allocs) = allocations_during(|| node.handle(now, request));
        assert!(matches!(action, Action::ForwardToNode { .. }), "{action:?}");
        allocs
    };
    let relay_off = relay(&node);
    node.set_observe(true);
    let relay_on = relay(&node);
    node.set_observe(false);
    // Time: the relay hop and the bare peel of the same body, alternately (medians).
    let (mut hop_ns, mut peel_ns) = (Vec::new(), Vec::new());
    for _ in 0..3000 {
        let request = Request::post(ONION, one.clone());
        let start = Instant::now();
        black_box(node.handle(now, request));
        hop_ns.push(start.elapsed().as_nanos());
        let start = Instant::now();
        black_box(peel_once(&relay_keys, &one));
        peel_ns.push(start.elapsed().as_nanos());
    }
    // The relay's own routing-JSON work alone (read the incoming hop number, add the next one
    // to the peeled body; the body clone, the same in both, included), against the previous
    // implementation's `serde_json::Value` round trip, alternately in the same run.
    let Peeled::Forward { body: peeled, .. } = peel_once(&relay_keys, &one) else {
        unreachable!()
    };
    assert_eq!(
        metaless_onion::with_hop_no(peeled.clone(), 1),
        value_with_hop_no(peeled.clone(), 1)
    );
    let (mut new_ns, mut old_ns) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let start = Instant::now();
        for _ in 0..50 {
            let n = metaless_onion::hop_no(black_box(&one));
            black_box(metaless_onion::with_hop_no(peeled.clone(), n + 1));
        }
        new_ns.push(start.elapsed().as_nanos() / 50);
        let start = Instant::now();
        for _ in 0..50 {
            let n = value_hop_no(black_box(&one));
            black_box(value_with_hop_no(peeled.clone(), n + 1));
        }
        old_ns.push(start.elapsed().as_nanos() / 50);
    }
    new_ns.sort_unstable();
    old_ns.sort_unstable();
    let (json_new, json_old) = (new_ns[100], old_ns[100]);
    println!(
        "node: relay routing JSON per hop {:.2} us, previously (Value round trip) {:.2} us (ratio {:.3})",
        json_new as f64 / 1e3,
        json_old as f64 / 1e3,
        json_new as f64 / json_old as f64
    );
    hop_ns.sort_unstable();
    peel_ns.sort_unstable();
    RelayAllocs {
        peel,
        relay: relay_off,
        relay_observed: relay_on,
        relay_us: hop_ns[hop_ns.len() / 2] as f64 / 1e3,
        peel_us: peel_ns[peel_ns.len() / 2] as f64 / 1e3,
    }
}

/// `hop_no` as metaless-onion read it before b06b31a: the routing JSON parsed into a `Value`.
fn value_hop_no(body: &[u8]) -> u64 {
    let len = u32::from_le_bytes(body[..4].try_into().unwrap()) as usize;
    serde_json::from_slice::<serde_json::Value>(&body[4 + len..])
        .ok()
        .and_then(|v| v.get("hop_no").and_then(serde_json::Value::as_u64))
        .unwrap_or(0)
}

/// `with_hop_no` as it was before b06b31a: parse into a `Value`, insert, re-serialise.
fn value_with_hop_no(mut body: Vec<u8>, hop_no: u64) -> Vec<u8> {
    let split = 4 + u32::from_le_bytes(body[..4].try_into().unwrap()) as usize;
    let mut v: serde_json::Value = serde_json::from_slice(&body[split..]).unwrap();
    v.as_object_mut()
        .unwrap()
        .insert("hop_no".into(), hop_no.into());
    let json = serde_json::to_vec(&v).unwrap();
    body.truncate(split);
    body.extend_from_slice(&json);
    body
}

fn peel_once(keys: &Keypair, body: &[u8]) -> Peeled {
    metaless_onion::peel(&NodeKey::from_keypair(keys), body).unwrap()
}

fn time(mut f: impl FnMut()) -> f64 {
    let n = 2000;
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() / n as f64
}

// criterion_group! generates an undocumented function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
use group::benches;
criterion_main!(benches);
