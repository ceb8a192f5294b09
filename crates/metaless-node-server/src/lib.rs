//! A real local Session-compatible service node network: metaless-node's sans-IO core served
//! over HTTP or HTTPS on loopback, with SQLite storage, swarm replication, testnet files and a
//! one-command testnet. Upstream reference: oxen-io/oxen-storage-server and
//! session-foundation/session-storage-server (`docs/node.md`).
//!
//! - [`storage`]: [`SqliteStorage`](storage::SqliteStorage), metaless-node's `Storage` trait on
//!   one SQLite database per node;
//! - [`server`]: tokio + hyper HTTP front for one node, forwarding onion requests and
//!   replicating changes to swarm peers (plain HTTP, or HTTPS: [`tls`]);
//! - [`front`]: the HTTP front's hostile-load limits (timeouts, connection caps, body
//!   budget, per-IP token bucket);
//! - [`config`]: testnet configuration and bootstrap files;
//! - [`testnet`]: every node of a configuration in one process;
//! - [`cli`]: the `init` / `up` commands shared by `metaless testnet` and the `metaless-node`
//!   binary, with their one set of defaults.
//!
//! ```
//! # use rand_core::SeedableRng;
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
//! let cfg = TestnetConfig::generate(3, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
//! let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
//! assert_eq!(net.nodes().len(), 3);
//! net.shutdown().await;
//! # });
//! ```
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod front;
pub mod local;
pub mod server;
pub mod storage;
pub mod testnet;
pub mod tls;
