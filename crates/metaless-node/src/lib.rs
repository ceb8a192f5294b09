//! The sans-IO core of a service node for metaless: the same onion handling, storage RPC,
//! status codes and error texts as the Session network's storage servers, with no sockets, no
//! clock and no database of its own.
//!
//! - [`Node`]: `handle(now_ms, Request) -> Action`, the whole protocol of one node;
//! - [`rpc`]: storage RPC on metaless-swarm's server rules;
//! - [`storage`]: the [`Storage`](storage::Storage) trait the core stores messages through,
//!   and [`MemoryStorage`](storage::MemoryStorage);
//! - [`network`]: the node list every node knows;
//! - [`replication`] and [`sync`]: signed forwards, the retry queue, and catch-up from swarm
//!   peers.
//!
//! Drivers live elsewhere: metaless-node-server serves a node over HTTP(S) with SQLite storage
//! and runs testnets; metaless-testnet's `LoopbackNet` runs many cores in one process in
//! virtual time.
//!
//! ```
//! use metaless_node::{Action, Request};
//! let mut node = metaless_node::node::doc_node();
//! let Action::Respond(r) = node.handle(0, Request::post("/storage_rpc/v1", b"not json".to_vec()))
//! else { unreachable!() };
//! assert_eq!((r.status, r.body.as_slice()), (400, &b"invalid json"[..]));
//! ```
#![forbid(unsafe_code)]

mod error;
pub mod limits;
pub mod network;
pub mod node;
pub mod replication;
pub mod rpc;
pub mod storage;
pub mod sync;

pub use error::NodeError;
pub use metaless_onion::EncType;
pub use network::{NetworkMap, NodeInfo};
pub use node::{Action, Node, NodeConfig, Observation, Replicate, Request, Response, RetryJob};
