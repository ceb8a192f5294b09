//! A deterministic in-process test network for metaless, as its own crate (arti's `tor-rtmock`,
//! quinn's `Pair` harness): what tests, benches, demos and the FFI's test network depend on,
//! never what a library depends on. It needs only metaless-client and metaless-node's sans-IO
//! core — no sockets, no SQLite, no server.
//!
//! - [`LoopbackNet`]: many node cores on in-memory storage, a seeded RNG, virtual time and
//!   fault injection; [`LoopbackNet::post`] is "POST to a node" as HTTP would answer it.
//! - [`LoopbackTransport`] and [`LoopbackClock`]: a [`Transport`](metaless_client::Transport)
//!   and [`Clock`](metaless_client::Clock) over it for metaless-client's async driver.
//! - [`Sim`]: many clients on one network, run synchronously in virtual time.
//! - [`testkit`]: client-side helpers that build onion requests and signed storage RPC bodies
//!   by hand, for node tests.
//!
//! ```
//! use metaless_testnet::{LoopbackConfig, LoopbackNet};
//! let mut net = LoopbackNet::new(LoopbackConfig { nodes: 4, swarms: 2, ..Default::default() }).unwrap();
//! let to = net.nodes()[0].pubkey_ed25519;
//! let (status, _) = net.post(&to, "/storage_rpc/v1", br#"{"method":"info","params":{}}"#).unwrap();
//! assert_eq!(status, 200);
//! assert_eq!(metaless_testnet::service_nodes(&net).len(), 4);
//! ```
#![forbid(unsafe_code)]

pub mod loopback;
pub mod server_fake;
mod sim;
pub mod testkit;

pub use loopback::{Faults, LoopbackConfig, LoopbackError, LoopbackNet};
pub use sim::{LoopbackClock, LoopbackTransport, Sim, service_nodes};
