//! `HttpTransport` keeps connections to service nodes (HTTP/1.1 keep-alive, bounded per node,
//! idle timeout) and resumes TLS sessions: handshakes per message with and without the pool,
//! against an in-process loopback testnet.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use metaless_client::http::{HttpStats, HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, Client, Config, Driver};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::testnet::{Testnet, TestnetOptions};
use rand_core::SeedableRng;

/// Sends `n` messages Alice → Bob one at a time (each stored, then received) over `transport`
/// and returns its counters and the messages per second.
async fn run(tls: bool, transport: HttpTransport, n: usize) -> (HttpStats, f64) {
    let cfg = TestnetConfig::generate(8, 2, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(5));
    let net = Testnet::start(
        cfg,
        TestnetOptions {
            tls,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let file = std::fs::read(net.data_dir().join("bootstrap.json")).unwrap();
    let shared = Arc::new(transport);
    let peer = |seed: u8| {
        let config = Config::testnet(Bootstrap::from_testnet_file(&file).unwrap())
            .with_poll_interval_ms(Some(50))
            .with_https(tls);
        Driver::with_shared(
            Client::new(
                Keypair::from_seed(&Seed::from_bytes([seed; 32])),
                config,
                [seed; 32],
                wall_clock_ms(),
            ),
            shared.clone(),
            TokioClock,
        )
    };
    let (mut alice, mut bob) = (peer(1), peer(2));
    let to = bob.client().session_id();
    let start = Instant::now();
    for i in 0..n {
        let content = Content::text(format!("m{i}"));
        let (stored, got) = tokio::join!(
            alice.send_confirmed(&to, &content, 10_000),
            bob.recv(10_000)
        );
        stored.unwrap();
        assert!(got.is_some(), "message {i} received");
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    (shared.stats(), rate)
}

fn report(what: &str, s: HttpStats, n: usize, rate: f64) {
    eprintln!(
        "{what}: {} requests, {} connections ({:.2} per message, {:.2} per request), {} reused, {} TLS resumed, {rate:.0} messages/s",
        s.requests,
        s.connections,
        s.connections as f64 / n as f64,
        s.connections as f64 / s.requests as f64,
        s.reused,
        s.tls_resumed
    );
}

#[tokio::test(flavor = "current_thread")]
async fn kept_connections_cut_handshakes() {
    let n = 20;
    let mut none = HttpTransport::default();
    none.max_idle_per_node = 0;
    let (before, rate_before) = run(false, none, n).await;
    report("no pool", before, n, rate_before);
    assert_eq!(
        before.connections, before.requests,
        "a connection per request"
    );
    assert_eq!(before.reused, 0);

    let (after, rate_after) = run(false, HttpTransport::default(), n).await;
    report("pool", after, n, rate_after);
    assert!(after.reused > 0);
    assert!(
        after.connections * 4 < after.requests,
        "most requests reuse a connection: {after:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn tls_sessions_are_resumed_and_connections_kept() {
    let n = 10;
    let mut none = HttpTransport::default();
    none.max_idle_per_node = 0;
    let (before, rate) = run(true, none, n).await;
    report("TLS, no pool", before, n, rate);
    assert!(
        before.tls_resumed > 0,
        "new connections resume TLS sessions: {before:?}"
    );
    let (after, rate) = run(true, HttpTransport::default(), n).await;
    report("TLS, pool", after, n, rate);
    assert!(after.connections * 4 < after.requests, "{after:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_idle_connection_past_its_timeout_is_not_reused() {
    let mut t = HttpTransport::default();
    t.idle_timeout = Duration::ZERO;
    let (s, _) = run(false, t, 3).await;
    assert_eq!(s.reused, 0, "{s:?}");
    assert_eq!(s.connections, s.requests);
}
