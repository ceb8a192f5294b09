//! Client figures.
//!
//! 1. CPU per message on the client: `send` (seal, store request, onion build) plus handling
//!    the store reply (open, parse, event), timed around the client calls only while the
//!    network (an in-process `LoopbackNet`) answers untimed. Baseline group, same run: one
//!    `seal_message` plus one 3-hop `onion::build` of a payload of the same size; the ratio is
//!    printed with the allocation count of one message.
//! 2. End to end over a real loopback HTTP testnet (12 nodes, 4 swarms): Alice sends a batch to
//!    Bob while Bob polls; messages/s and the median send→receive latency are printed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_main};
use metaless_benches::{CountingAlloc, allocations_during};
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, Client, Config, Driver, Event, HttpResponse, TransportError};
use metaless_envelope::{Content, seal_message};
use metaless_identity::{Keypair, Seed, SessionId};
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::testnet::{Testnet, TestnetOptions};
use metaless_onion::{Destination, EncType, Hop, build};
use metaless_testnet::{LoopbackConfig, LoopbackNet};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const TEXT: &str =
    "The quick brown fox jumps over the lazy dog, twice: a typical short chat message.";

struct Rig {
    net: LoopbackNet,
    client: Client,
    to: SessionId,
    content: Content,
}

impl Rig {
    fn new() -> Self {
        let net = LoopbackNet::new(LoopbackConfig {
            nodes: 12,
            swarms: 4,
            seed: 3,
            ..Default::default()
        })
        .unwrap();
        let nodes = metaless_testnet::service_nodes(&net);
        // No polling: only the sends are measured.
        let config = Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(None);
        let now = net.now_ms();
        let client = Client::new(
            Keypair::from_seed(&Seed::from_bytes([1; 32])),
            config,
            [1; 32],
            now,
        );
        let to = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
        Self {
            net,
            client,
            to,
            content: Content::text(TEXT),
        }
    }

    /// One message; returns the time spent inside the client.
    fn message(&mut self) -> Duration {
        let now = self.net.now_ms();
        let start = Instant::now();
        self.client.send(now, &self.to, &self.content).unwrap();
        let t = self.client.poll_transmit().unwrap();
        let mut spent = start.elapsed();
        let node = t.to_node.node.unwrap();
        let answer = self
            .net
            .post(node.as_bytes(), t.to_node.path, &t.body)
            .map(|(status, body)| HttpResponse { status, body })
            .map_err(|_| TransportError::Connect);
        let start = Instant::now();
        self.client.handle_response(now, t.id, answer);
        let mut delivered = false;
        while let Some(e) = self.client.poll_event() {
            delivered |= matches!(e, Event::Delivered { .. });
        }
        spent += start.elapsed();
        assert!(delivered);
        spent
    }
}

fn cpu(c: &mut Criterion) {
    let mut rig = Rig::new();
    // Warm: paths built, nothing pending.
    for _ in 0..20 {
        rig.message();
    }
    let mut g = c.benchmark_group("client");
    g.bench_function("message_cpu", |b| {
        b.iter_custom(|n| (0..n).map(|_| rig.message()).sum())
    });
    g.finish();

    // Baseline: what a message costs at least — one seal and one 3-hop onion build of the store
    // request (same size as the client's).
    let sender = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let to = rig.to;
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let sealed = seal_message(&sender, &to, &rig.content, 1_700_000_000_000, &mut rng).unwrap();
    let payload_len = sealed.len() * 4 / 3 + 400; // base64 data + store JSON around it
    let payload = vec![b'a'; payload_len];
    let nodes = metaless_testnet::service_nodes(&rig.net);
    let hops: Vec<Hop> = nodes[..3]
        .iter()
        .map(|n| Hop::new(n.ed25519, n.x25519))
        .collect();
    let dest = Destination::ServiceNode(Hop::new(nodes[3].ed25519, nodes[3].x25519));
    let mut g = c.benchmark_group("client_baseline");
    g.bench_function("seal", |b| {
        b.iter(|| {
            seal_message(
                &sender,
                black_box(&to),
                &rig.content,
                1_700_000_000_000,
                &mut rng,
            )
            .unwrap()
        })
    });
    g.bench_function("onion_build_3_hops", |b| {
        b.iter(|| {
            build(
                &hops,
                &dest,
                black_box(&payload),
                EncType::XChaCha20,
                &mut rng,
            )
            .unwrap()
        })
    });
    g.bench_function("seal_plus_build", |b| {
        b.iter(|| {
            let s = seal_message(
                &sender,
                black_box(&to),
                &rig.content,
                1_700_000_000_000,
                &mut rng,
            )
            .unwrap();
            let o = build(
                &hops,
                &dest,
                black_box(&payload),
                EncType::XChaCha20,
                &mut rng,
            )
            .unwrap();
            (s, o)
        })
    });
    g.finish();

    // Same-run ratio from direct timings (criterion's estimates are in target/criterion).
    let rounds = 300u32;
    let client_time: Duration = (0..rounds).map(|_| rig.message()).sum();
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(seal_message(&sender, &to, &rig.content, 1_700_000_000_000, &mut rng).unwrap());
        black_box(build(&hops, &dest, &payload, EncType::XChaCha20, &mut rng).unwrap());
    }
    let base_time = start.elapsed();
    let (_, (allocs, bytes)) = allocations_during(|| rig.message());
    let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(rounds);
    println!(
        "client CPU per message: {:.1} µs; seal + 3-hop build: {:.1} µs; ratio {:.2}; {allocs} allocations ({bytes} bytes) per message",
        per(client_time),
        per(base_time),
        client_time.as_secs_f64() / base_time.as_secs_f64()
    );
}

fn end_to_end() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cfg = TestnetConfig::generate(12, 4, 0, &mut ChaCha20Rng::seed_from_u64(9));
        let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
        let file = serde_json::to_vec(&net.bootstrap()).unwrap();
        let bootstrap = Bootstrap::from_testnet_file(&file).unwrap();
        let config = Config::testnet(bootstrap).with_poll_interval_ms(Some(20)).with_max_in_flight(32);
        let peer = |seed: u8| {
            let keys = Keypair::from_seed(&Seed::from_bytes([seed; 32]));
            Driver::new(Client::new(keys, config.clone(), [seed; 32], wall_clock_ms()), HttpTransport::default(), TokioClock)
        };
        let (mut alice, mut bob) = (peer(1), peer(2));
        let to = bob.client().session_id();
        // Warm up paths on both sides.
        alice.send_confirmed(&to, &Content::text("warm"), 10_000).await.unwrap();
        bob.recv(10_000).await.unwrap();

        // Unloaded: one message at a time, send → Bob has it.
        let mut single = Vec::new();
        for i in 0..30 {
            let t0 = Instant::now();
            let content = Content::text(format!("single {i}"));
            let (stored, got) = tokio::join!(alice.send_confirmed(&to, &content, 10_000), bob.recv(10_000));
            stored.unwrap();
            got.unwrap();
            single.push(t0.elapsed());
        }
        single.sort();
        let single_median = single[single.len() / 2];

        let n = 500usize;
        let start = Instant::now();
        let mut sent_at = Vec::with_capacity(n);
        for i in 0..n {
            sent_at.push(Instant::now());
            alice.send(&to, &Content::text(format!("{i}"))).unwrap();
        }
        let mut latencies = Vec::with_capacity(n);
        let sending = async {
            let mut delivered = 0;
            while delivered < n {
                match alice.next_event_until(wall_clock_ms() + 30_000).await {
                    Some(Event::Delivered { .. }) => delivered += 1,
                    Some(_) => {}
                    None => break,
                }
            }
            delivered
        };
        let receiving = async {
            while latencies.len() < n {
                match bob.recv(30_000).await {
                    Some(m) => {
                        let i: usize = m.message.content.as_text().and_then(|t| t.parse().ok()).unwrap();
                        latencies.push(sent_at[i].elapsed());
                    }
                    None => break,
                }
            }
        };
        let (delivered, ()) = tokio::join!(sending, receiving);
        let elapsed = start.elapsed();
        latencies.sort();
        let median = latencies.get(latencies.len() / 2).copied().unwrap_or_default();
        println!(
            "one message at a time over loopback HTTP (poll every 20 ms): median send→receive {:.1} ms",
            single_median.as_secs_f64() * 1e3
        );
        println!(
            "end to end over loopback HTTP (12 nodes, 4 swarms, 3 hops, poll every 20 ms): {n} messages, {delivered} stored, {} received in {:.2} s = {:.0} messages/s; median send→receive latency under that load {:.1} ms",
            latencies.len(),
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            median.as_secs_f64() * 1e3,
        );
        drop((alice, bob));
        net.shutdown().await;
    });
}

fn benches() {
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3));
    cpu(&mut c);
    end_to_end();
    c.final_summary();
}

criterion_main!(benches);
