//! The fault suite on real processes: a 12-node testnet, one `metaless-node up --only KEY`
//! process per node on loopback, nodes killed by PID (SIGKILL) and restarted, while one client
//! sends to another through onion paths over real sockets.
//!
//! (a) the sender's guard is killed and restarted during the sends; (b) 2 of the recipient's
//! 3 swarm members are killed during the sends and restarted, then the third is killed for
//! good — every message the sender saw `Delivered` must reach the recipient, and the
//! restarted members must hold every message within 10 s; (c) a member's database is deleted
//! and the member restarted — it catches up from its peer within 10 s.
//!
//! `METALESS_FAULT_MESSAGES` sets the message count (default 200; the issue's run is 1,000).
//! Every wait is bounded. Measurements are printed (run with `--nocapture` to see them).

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, Client, Config, Driver, Event, OpId};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed, hex};
use metaless_node::NetworkMap;
use metaless_node_server::config::TestnetConfig;
use serde_json::Value;

const NODES: u16 = 12;
const SWARMS: usize = 4;
/// Longest any one phase may wait (a failing run ends, it does not hang).
const PHASE_LIMIT: Duration = Duration::from_secs(60);
/// What the issue promises after a restart.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(10);

fn message_count() -> usize {
    std::env::var("METALESS_FAULT_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// `n` consecutive ports free right now.
fn free_port_run(n: u16) -> u16 {
    for _ in 0..50 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        if base > 60_000 {
            continue;
        }
        if (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no run of {n} free ports");
}

/// One POST over a fresh connection (`Connection: close`); `None` if the node is down.
fn post(port: u16, path: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .ok()?;
    s.write_all(body).ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, resp[split + 4..].to_vec()))
}

struct Net {
    dir: PathBuf,
    keys: Vec<String>,
    ports: Vec<u16>,
    procs: Vec<Option<Child>>,
    map: NetworkMap,
}

impl Net {
    fn init() -> (tempfile::TempDir, Self) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let base = free_port_run(NODES);
        let out = Command::new(env!("CARGO_BIN_EXE_metaless-node"))
            .args(["init", "--nodes", &NODES.to_string(), "--swarms"])
            .arg(SWARMS.to_string())
            .args(["--base-port", &base.to_string(), "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cfg = TestnetConfig::load(&dir).unwrap();
        let keys = cfg.nodes.iter().map(|n| n.pubkey_ed25519.clone()).collect();
        let ports = cfg.nodes.iter().map(|n| n.port).collect();
        let map = cfg.network().unwrap();
        let mut net = Self {
            dir,
            keys,
            ports,
            procs: (0..NODES).map(|_| None).collect(),
            map,
        };
        for i in 0..usize::from(NODES) {
            net.start(i);
        }
        for i in 0..usize::from(NODES) {
            net.wait_serving(i);
        }
        (tmp, net)
    }

    fn index_of(&self, ed25519: &[u8; 32]) -> usize {
        let h = hex::encode(ed25519);
        self.keys.iter().position(|k| *k == h).unwrap()
    }

    fn start(&mut self, i: usize) {
        assert!(self.procs[i].is_none());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("node{i}.log")))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_metaless-node"))
            .args(["up", "--only", &self.keys[i], "--dir"])
            .arg(&self.dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs[i] = Some(child);
    }

    fn kill(&mut self, i: usize) {
        let mut child = self.procs[i].take().unwrap();
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .unwrap()
                .success()
        );
        let _ = child.wait();
    }

    fn wait_serving(&self, i: usize) {
        let start = Instant::now();
        let info = br#"{"method":"info","params":{}}"#;
        while post(self.ports[i], "/storage_rpc/v1", info).map(|r| r.0) != Some(200) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "node {i} never served"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.join("nodes").join(&self.keys[i])
    }

    /// Every message hash node `i` holds for `account` in namespace 0 (paged retrieve).
    fn held(&self, i: usize, account: &Keypair) -> Option<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        let mut last: Option<String> = None;
        for _ in 0..100 {
            let req = metaless_testnet::testkit::retrieve_request(
                account,
                0,
                last.as_deref(),
                wall_clock_ms(),
            );
            let (status, body) =
                post(self.ports[i], "/storage_rpc/v1", req.to_string().as_bytes())?;
            if status != 200 {
                return None;
            }
            let v: Value = serde_json::from_slice(&body).ok()?;
            let msgs = v["messages"].as_array()?;
            for m in msgs {
                out.insert(m["hash"].as_str()?.to_owned());
            }
            last = msgs
                .last()
                .and_then(|m| m["hash"].as_str())
                .map(str::to_owned)
                .or(last);
            if !v["more"].as_bool().unwrap_or(false) {
                return Some(out);
            }
        }
        Some(out)
    }

    /// Waits (bounded) until every node of `nodes` holds all of `want`; the time it took.
    fn wait_holding(
        &self,
        nodes: &[usize],
        account: &Keypair,
        want: &BTreeSet<String>,
        limit: Duration,
    ) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let mut missing = BTreeMap::new();
            for &i in nodes {
                let held = self.held(i, account).unwrap_or_default();
                let lack = want.difference(&held).count();
                if lack > 0 {
                    missing.insert(i, lack);
                }
            }
            if missing.is_empty() {
                return Ok(start.elapsed());
            }
            if start.elapsed() > limit {
                return Err(format!("after {limit:?} still missing: {missing:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in self.procs.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

type Peer = Driver<HttpTransport, TokioClock>;

fn peer(seed: u8, bootstrap: &Path) -> (Peer, Keypair) {
    let keys = Keypair::from_seed(&Seed::from_bytes([seed; 32]));
    let bytes = std::fs::read(bootstrap).unwrap();
    let mut config = Config::testnet(Bootstrap::from_testnet_file(&bytes).unwrap());
    // A killed node refuses connections at once; keep the test's retries quick.
    config.request_timeout_ms = 3_000;
    config.retry_max_ms = 2_000;
    config.blacklist_ms = 5_000;
    let mut rng_seed = [0u8; 32];
    rng_seed[0] = seed;
    let client = Client::new(keys, config, rng_seed, wall_clock_ms());
    (
        Driver::new(client, HttpTransport::default(), TokioClock),
        Keypair::from_seed(&Seed::from_bytes([seed; 32])),
    )
}

/// The sender's bookkeeping: what it submitted, and which were acknowledged.
#[derive(Default)]
struct Sends {
    pending: BTreeMap<OpId, String>,
    acked: BTreeMap<String, String>,
    failed: usize,
}

impl Sends {
    fn note(&mut self, e: Event) {
        match e {
            Event::Delivered { id, hash, .. } => {
                if let Some(text) = self.pending.remove(&id) {
                    self.acked.insert(text, hash.to_string());
                }
            }
            Event::Failed { id, .. } => {
                self.failed += usize::from(self.pending.remove(&id).is_some());
            }
            _ => {}
        }
    }

    /// Drives the sender until at most `left` sends are pending (or `limit` passes).
    async fn drain(&mut self, alice: &mut Peer, left: usize, limit: Duration) {
        let deadline = alice
            .now()
            .saturating_add(u64::try_from(limit.as_millis()).unwrap());
        while self.pending.len() > left && alice.now() < deadline {
            let until = alice.now().saturating_add(200).min(deadline);
            if let Some(e) = alice.next_event_until(until).await {
                self.note(e);
            }
        }
    }

    fn hashes(&self) -> BTreeSet<String> {
        self.acked.values().cloned().collect()
    }
}

async fn send_range(
    alice: &mut Peer,
    sends: &mut Sends,
    bob: &metaless_identity::SessionId,
    range: std::ops::Range<usize>,
    hold: Duration,
) {
    for i in range {
        let text = format!("fault-suite message {i}");
        let now = alice.now();
        let id = alice
            .client()
            .send_with_ttl(now, bob, &Content::text(text.clone()), 30 * 60_000)
            .unwrap();
        sends.pending.insert(id, text);
        // Keep at most 32 in flight (waiting at most `hold`), so kills land in the middle of
        // the sends.
        sends.drain(alice, 32, hold).await;
    }
}

#[test]
fn acknowledged_messages_survive_kills_restarts_and_a_lost_database() {
    let n = message_count();
    let (_tmp, mut net) = Net::init();
    let bootstrap = net.dir.join("bootstrap.json");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut alice, _) = peer(1, &bootstrap);
    let (mut bob, bob_keys) = peer(2, &bootstrap);
    let bob_id = bob_keys.session_id();
    let bob_swarm = net.map.swarm_for(&bob_keys.x25519_public()).unwrap();
    let members: Vec<usize> = net
        .map
        .swarm_members(bob_swarm)
        .map(|m| net.index_of(&m.pubkey_ed25519))
        .collect();
    assert_eq!(members.len(), 3);
    let mut sends = Sends::default();
    let suite = Instant::now();

    // (a) the guard killed and restarted during the sends.
    let guard = rt.block_on(async {
        send_range(&mut alice, &mut sends, &bob_id, 0..n / 6, PHASE_LIMIT).await;
        alice.client().guard()
    });
    let guard = guard
        .map(|g| net.index_of(g.as_bytes()))
        .expect("a guard after the first sends");
    net.kill(guard);
    rt.block_on(send_range(
        &mut alice,
        &mut sends,
        &bob_id,
        n / 6..n / 3,
        PHASE_LIMIT,
    ));
    net.start(guard);
    net.wait_serving(guard);
    rt.block_on(sends.drain(&mut alice, 0, PHASE_LIMIT));
    let acked_a = sends.acked.len();

    // (b) two of the recipient's three members killed during the sends, then restarted.
    let (m0, m1, m2) = (members[0], members[1], members[2]);
    rt.block_on(send_range(
        &mut alice,
        &mut sends,
        &bob_id,
        n / 3..n / 2,
        PHASE_LIMIT,
    ));
    net.kill(m0);
    net.kill(m1);
    rt.block_on(send_range(
        &mut alice,
        &mut sends,
        &bob_id,
        n / 2..2 * n / 3,
        Duration::from_millis(50),
    ));
    let down_since = Instant::now();
    // Sends keep retrying while two members are down: the survivor alone is no
    // acknowledgement (min_replicas 2).
    rt.block_on(sends.drain(&mut alice, 0, Duration::from_secs(2)));
    net.start(m0);
    net.start(m1);
    net.wait_serving(m0);
    net.wait_serving(m1);
    let restarted = Instant::now();
    rt.block_on(sends.drain(&mut alice, 0, PHASE_LIMIT));
    assert!(
        sends.pending.is_empty(),
        "{} sends never acknowledged",
        sends.pending.len()
    );
    // Every member, the restarted ones included, holds every acknowledged message.
    let catch_up_b = net
        .wait_holding(&[m0, m1, m2], &bob_keys, &sends.hashes(), CATCH_UP_LIMIT)
        .unwrap();
    let after_restart = restarted.elapsed();
    // The third member dies for good; the rest of the sends go to the two left.
    net.kill(m2);
    rt.block_on(send_range(
        &mut alice,
        &mut sends,
        &bob_id,
        2 * n / 3..n,
        PHASE_LIMIT,
    ));
    rt.block_on(sends.drain(&mut alice, 0, PHASE_LIMIT));
    assert!(
        sends.pending.is_empty(),
        "{} sends never acknowledged",
        sends.pending.len()
    );

    // The recipient reads everything acknowledged, from the two members left.
    let received: BTreeSet<String> = rt.block_on(async {
        let mut got = BTreeSet::new();
        let deadline = bob.now().saturating_add(60_000);
        while got.len() < sends.acked.len() && bob.now() < deadline {
            if let Some(m) = bob.recv(1_000).await
                && let Some(t) = m.message.content.as_text()
            {
                got.insert(t.to_owned());
            }
        }
        got
    });
    let lost: Vec<&String> = sends
        .acked
        .keys()
        .filter(|t| !received.contains(*t))
        .collect();

    // (c) a member's database deleted, the member restarted: it catches up from its peer.
    net.kill(m0);
    std::fs::remove_dir_all(net.node_dir(m0)).unwrap();
    net.start(m0);
    net.wait_serving(m0);
    let catch_up_c = net
        .wait_holding(&[m0], &bob_keys, &sends.hashes(), CATCH_UP_LIMIT)
        .unwrap();

    println!(
        "fault suite: {n} messages, {} acknowledged ({} by the end of (a)), {} failed, lost {}; \
         (b) members down {:?}, every member held everything {:?} after the restart \
         (catch-up wait {:?}); (c) empty database caught up in {:?}; whole suite {:?}",
        sends.acked.len(),
        acked_a,
        sends.failed,
        lost.len(),
        restarted - down_since,
        after_restart,
        catch_up_b,
        catch_up_c,
        suite.elapsed(),
    );
    assert_eq!(sends.failed, 0);
    assert_eq!(sends.acked.len(), n, "every send acknowledged in the end");
    assert!(lost.is_empty(), "acknowledged but never received: {lost:?}");
}
