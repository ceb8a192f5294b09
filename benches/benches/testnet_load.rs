//! Load figure for a whole testnet over real loopback HTTP (issue 18 items 4 and 6): 12 nodes
//! in 4 swarms of 3 (metaless-node-server's `Testnet`, SQLite WAL storage in a temporary
//! directory, plain HTTP) serve 3-hop onion `store` requests — each one 3 relay hops, a
//! destination that stores and replicates to its 2 swarm peers, and an encrypted reply — sent by
//! a load generator over `CONNECTIONS` concurrent keep-alive connections (metaless-client's
//! `HttpTransport`) for a bounded window.
//!
//! The nodes run in a child process (this binary again, `METALESS_LOAD_SERVE=<workers>`) on a
//! tokio runtime with that many worker threads, so the node CPU per request is the child's own
//! CPU time (`/proc/<pid>/stat`), apart from the load generator's. Run once per worker count:
//! 1, then every core (`METALESS_LOAD_WORKERS=1,2` to choose). Onion bodies are built before
//! the window (client CPU is not the figure); a sample of replies is opened and checked after
//! it. The front's per-IP rate limits are raised (every node and the load generator share
//! 127.0.0.1, which the default 600/s per address would throttle).
//!
//! `METALESS_LOAD_KIND=retrieve` sends signed `retrieve` requests instead (accounts with no
//! messages: a poll that finds nothing new, the commonest request; no replication).
//!
//! ```text
//! cargo bench -p metaless-benches --bench testnet_load
//! METALESS_LOAD_SECS=5 METALESS_LOAD_CONNECTIONS=32 METALESS_LOAD_WORKERS=1,2 cargo bench …
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use metaless_client::http::HttpTransport;
use metaless_client::{RequestId, Target, Transmit, Transport};
use metaless_identity::{Keypair, Seed};
use metaless_node::{EncType, NodeInfo};
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::front::FrontLimits;
use metaless_node_server::testnet::{Testnet, TestnetOptions};
use metaless_onion::ONION_PATH;
use metaless_testnet::testkit::{
    ReplyKey, build_onion, open_reply, retrieve_request, store_request,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

const NODES: usize = 12;
const SWARMS: usize = 4;
const CONFIG_SEED: u64 = 18;
const ACCOUNTS: u8 = 64;
const PAYLOAD: usize = 400;
/// Bodies built per second of window (more are cycled: a repeat is an already stored message).
const BUILD_RATE: usize = 4_000;
const WARM_UP: Duration = Duration::from_millis(700);
/// Every this many completions, the reply is kept and opened after the window.
const SAMPLE_EVERY: u64 = 97;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Ok(workers) = std::env::var("METALESS_LOAD_SERVE") {
        serve(workers.parse().expect("worker count"));
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers: Vec<usize> = std::env::var("METALESS_LOAD_WORKERS")
        .ok()
        .map(|v| v.split(',').filter_map(|w| w.trim().parse().ok()).collect())
        .unwrap_or_else(|| if cores > 1 { vec![1, cores] } else { vec![1] });
    let secs: f64 = env_or("METALESS_LOAD_SECS", 5.0);
    let connections: usize = env_or("METALESS_LOAD_CONNECTIONS", 32);
    let rounds: usize = env_or("METALESS_LOAD_ROUNDS", 1);
    let kind = if std::env::var("METALESS_LOAD_KIND").as_deref() == Ok("retrieve") {
        "retrieve (empty accounts)"
    } else {
        "stores of 400 bytes"
    };
    println!(
        "testnet_load: {NODES} nodes, {SWARMS} swarms, 3-hop onion {kind}, \
         {connections} connections, {secs} s window, {cores} cores, worker counts {workers:?}, {rounds} round(s)"
    );
    let mut results: Vec<(usize, Outcome)> = Vec::new();
    for round in 0..rounds {
        for &w in &workers {
            let r = run(w, secs, connections);
            println!(
                "testnet_load: round {round} workers {w}: {:.0} onion requests/s, node CPU {:.3} ms/request \
                 ({:.2} cores busy), load generator {:.3} ms/request, latency median {:.1} ms p99 {:.1} ms, \
                 {} requests, {} errors, {}/{} sampled replies opened with status 200, \
                 {} new client connections",
                r.rate,
                r.node_cpu_ms,
                r.node_cores,
                r.gen_cpu_ms,
                r.p50_ms,
                r.p99_ms,
                r.requests,
                r.errors,
                r.sample_ok,
                r.sampled,
                r.new_connections
            );
            results.push((w, r));
        }
    }
    // Medians per worker count, and the scaling from 1 worker to the most.
    let median = |w: usize, f: fn(&Outcome) -> f64| {
        let mut v: Vec<f64> = results
            .iter()
            .filter(|(x, _)| *x == w)
            .map(|(_, r)| f(r))
            .collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    for &w in &workers {
        let (rate, lo, hi) = median(w, |r| r.rate);
        let (cpu, clo, chi) = median(w, |r| r.node_cpu_ms);
        println!(
            "testnet_load: workers {w}: median {rate:.0} requests/s (range {lo:.0}–{hi:.0}), \
             node CPU median {cpu:.3} ms/request (range {clo:.3}–{chi:.3})"
        );
    }
    if let (Some(&first), Some(&last)) = (workers.first(), workers.last())
        && first != last
    {
        let a = median(first, |r| r.rate).0;
        let b = median(last, |r| r.rate).0;
        println!(
            "testnet_load: {last} workers / {first} worker = {:.2}× requests/s",
            b / a
        );
    }
}

/// The child: every node of the testnet on `workers` tokio worker threads, until stdin closes.
fn serve(workers: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let cfg = config();
        let front = FrontLimits {
            rate_per_s: 1_000_000,
            rate_per_s_node: 1_000_000,
            rate_bucket: 1_000_000,
            ..FrontLimits::default()
        };
        let net = Testnet::start(
            cfg,
            TestnetOptions {
                front,
                ..TestnetOptions::default()
            },
        )
        .await
        .expect("testnet");
        let ports: Vec<String> = net.nodes().iter().map(|n| n.port.to_string()).collect();
        println!("ports {}", ports.join(","));
        std::io::stdout().flush().expect("stdout");
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            std::io::stdin().read_to_end(&mut sink)
        })
        .await;
        net.shutdown().await;
    });
}

fn config() -> TestnetConfig {
    TestnetConfig::generate(
        NODES,
        SWARMS,
        0,
        &mut ChaCha20Rng::seed_from_u64(CONFIG_SEED),
    )
}

struct Outcome {
    rate: f64,
    node_cpu_ms: f64,
    node_cores: f64,
    gen_cpu_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    errors: u64,
    sampled: usize,
    sample_ok: usize,
    /// Connections the load generator opened inside the window (its guards' are kept).
    new_connections: u64,
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on.
    (ticks(11) + ticks(12)) / 100.0
}

struct Prepared {
    entry: NodeInfo,
    body: Vec<u8>,
    key: ReplyKey,
}

/// Onion stores from `ACCOUNTS` accounts, each to a member of the account's swarm through 3
/// other nodes picked at random.
fn prepare(infos: &[NodeInfo], count: usize) -> Vec<Prepared> {
    let map = metaless_node::NetworkMap::new(infos.to_vec());
    let retrieve = std::env::var("METALESS_LOAD_KIND").as_deref() == Ok("retrieve");
    // Retrieves ask accounts nothing was stored for.
    let first = if retrieve { 180 } else { 100 };
    let accounts: Vec<Keypair> = (0..ACCOUNTS)
        .map(|a| Keypair::from_seed(&Seed::from_bytes([a.wrapping_add(first); 32])))
        .collect();
    let now = metaless_client::http::wall_clock_ms();
    let mut rng = ChaCha20Rng::seed_from_u64(now);
    (0..count)
        .map(|i| {
            let account = &accounts[i % accounts.len()];
            let swarm = map.swarm_for(&account.x25519_public()).expect("swarm");
            let members: Vec<&NodeInfo> = infos.iter().filter(|n| n.swarm_id == swarm).collect();
            let dest = members[rng.next_u32() as usize % members.len()];
            let mut others: Vec<NodeInfo> = infos.iter().filter(|n| *n != dest).cloned().collect();
            let mut path = Vec::new();
            for _ in 0..3 {
                let k = rng.next_u32() as usize % others.len();
                path.push(others.swap_remove(k));
            }
            let req = if retrieve {
                retrieve_request(account, 0, None, now)
            } else {
                let mut data = vec![0u8; PAYLOAD];
                rng.fill_bytes(&mut data);
                store_request(account, 0, &data, now, 3_600_000)
            };
            let (body, key) = build_onion(
                &path,
                dest,
                req.to_string().as_bytes(),
                EncType::XChaCha20,
                &mut rng,
            )
            .expect("onion");
            Prepared {
                entry: path[0].clone(),
                body,
                key,
            }
        })
        .collect()
}

fn start_child(workers: usize) -> (Child, Vec<u16>) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .env("METALESS_LOAD_SERVE", workers.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ports line");
    let ports = line
        .trim()
        .strip_prefix("ports ")
        .expect("ports")
        .split(',')
        .map(|p| p.parse().expect("port"))
        .collect();
    (child, ports)
}

fn run(workers: usize, secs: f64, connections: usize) -> Outcome {
    let (mut child, ports) = start_child(workers);
    let infos = config().infos(&ports).expect("infos");
    let count = (BUILD_RATE as f64 * (secs + WARM_UP.as_secs_f64())) as usize;
    let prepared = Arc::new(prepare(&infos, count.max(connections)));
    let pid = child.id().to_string();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = rt.block_on(async {
        let mut transport = HttpTransport::default();
        transport.max_idle_per_node = connections;
        let next = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let measuring = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
        let samples = Arc::new(Mutex::new(Vec::<(usize, u16, Vec<u8>)>::new()));
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (prepared, transport) = (Arc::clone(&prepared), transport.clone());
            let (next, done, errors) = (Arc::clone(&next), Arc::clone(&done), Arc::clone(&errors));
            let (measuring, stop) = (Arc::clone(&measuring), Arc::clone(&stop));
            let (latencies, samples) = (Arc::clone(&latencies), Arc::clone(&samples));
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed) % prepared.len();
                    let p = &prepared[i];
                    let req = Transmit {
                        id: RequestId::from(i as u64),
                        // A service node (not a seed): the transport keeps the connection, as
                        // a client keeps its guard's.
                        to_node: Target {
                            node: Some(metaless_swarm::NodeId::new(p.entry.pubkey_ed25519)),
                            base_url: format!("http://127.0.0.1:{}", p.entry.port),
                            path: ONION_PATH,
                        },
                        body: p.body.clone(),
                        deadline_ms: u64::MAX,
                    };
                    let started = Instant::now();
                    let r = transport.post(&req).await;
                    let took = started.elapsed();
                    let n = done.fetch_add(1, Ordering::Relaxed);
                    match r {
                        Ok(resp) if resp.status == 200 => {
                            if measuring.load(Ordering::Relaxed) {
                                latencies
                                    .lock()
                                    .unwrap()
                                    .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                                if n % SAMPLE_EVERY == 0 {
                                    samples.lock().unwrap().push((i, resp.status, resp.body));
                                }
                            }
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(WARM_UP).await;
        let (d0, e0) = (done.load(Ordering::SeqCst), errors.load(Ordering::SeqCst));
        let (node0, gen0, t0) = (cpu_seconds(&pid), cpu_seconds("self"), Instant::now());
        let conns0 = transport.stats().connections;
        measuring.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        measuring.store(false, Ordering::SeqCst);
        let (d1, e1) = (done.load(Ordering::SeqCst), errors.load(Ordering::SeqCst));
        let (node1, gen1, elapsed) = (
            cpu_seconds(&pid),
            cpu_seconds("self"),
            t0.elapsed().as_secs_f64(),
        );
        let new_connections = transport.stats().connections - conns0;
        stop.store(true, Ordering::SeqCst);
        for t in tasks {
            let _ = t.await;
        }
        let requests = d1 - d0;
        let mut lat = std::mem::take(&mut *latencies.lock().unwrap());
        lat.sort_unstable();
        let pct = |q: f64| {
            lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
                .map_or(0.0, |&us| f64::from(us) / 1e3)
        };
        let samples = std::mem::take(&mut *samples.lock().unwrap());
        let sample_ok = samples
            .iter()
            .filter(|(i, status, body)| {
                *status == 200
                    && open_reply(&prepared[*i].key, body).is_some_and(|(inner, _)| inner == 200)
            })
            .count();
        Outcome {
            rate: requests as f64 / elapsed,
            node_cpu_ms: (node1 - node0) * 1e3 / requests.max(1) as f64,
            node_cores: (node1 - node0) / elapsed,
            gen_cpu_ms: (gen1 - gen0) * 1e3 / requests.max(1) as f64,
            p50_ms: pct(0.5),
            p99_ms: pct(0.99),
            requests,
            errors: e1 - e0,
            sampled: samples.len(),
            sample_ok,
            new_connections,
        }
    });
    drop(child.stdin.take());
    let _ = child.wait();
    outcome
}
