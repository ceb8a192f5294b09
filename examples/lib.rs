//! Helpers shared by the metaless examples: a local testnet in one call, and a client for it.
//!
//! Run the examples with `cargo run -p metaless-examples --example quickstart` (or
//! `custom_transport`, `onion_by_hand`). Each starts its own testnet on loopback and stops it
//! when done.

use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, Client, Config, Driver};
use metaless_identity::{Keypair, Seed};
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::testnet::{Testnet, TestnetHandle, TestnetOptions};
use rand_core::{OsRng, RngCore};

/// A client over plain HTTP with the wall clock.
pub type HttpClient = Driver<HttpTransport, TokioClock>;

/// Starts `nodes` service nodes in `swarms` swarms on 127.0.0.1 (temporary data directory) and
/// returns the running testnet with the bootstrap a client needs. Call inside a tokio runtime.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let (net, bootstrap) = metaless_examples::start_testnet(4, 1).await.unwrap();
/// assert!(matches!(bootstrap, metaless_client::Bootstrap::Nodes(ref n) if n.len() == 4));
/// net.shutdown().await;
/// # });
/// ```
pub async fn start_testnet(
    nodes: usize,
    swarms: usize,
) -> Result<(TestnetHandle, Bootstrap), Box<dyn std::error::Error>> {
    start_with(TestnetConfig::generate(nodes, swarms, 0, &mut OsRng)).await
}

/// Starts the nodes of `config` (observing what each sees) and returns the bootstrap.
pub async fn start_with(
    config: TestnetConfig,
) -> Result<(TestnetHandle, Bootstrap), Box<dyn std::error::Error>> {
    let net = Testnet::start(
        config,
        TestnetOptions {
            observe: true,
            ..Default::default()
        },
    )
    .await?;
    let file = serde_json::to_vec(&net.bootstrap())?;
    let bootstrap = Bootstrap::from_testnet_file(&file)?;
    Ok((net, bootstrap))
}

/// A client with a fresh random account, polling every 250 ms.
///
/// ```
/// let b = metaless_client::Bootstrap::Seeds(vec![]);
/// let mut c = metaless_examples::client(&b);
/// assert!(c.client().session_id().to_string().starts_with("05"));
/// ```
pub fn client(bootstrap: &Bootstrap) -> HttpClient {
    let config = Config::testnet(bootstrap.clone()).with_poll_interval_ms(Some(250));
    let mut rng_seed = [0u8; 32];
    OsRng.fill_bytes(&mut rng_seed);
    let keys = Keypair::from_seed(&Seed::generate_full(&mut OsRng));
    Driver::new(
        Client::new(keys, config, rng_seed, wall_clock_ms()),
        HttpTransport::default(),
        TokioClock,
    )
}
