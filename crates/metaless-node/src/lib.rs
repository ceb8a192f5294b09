//! A real local service node for metaless: the same HTTP endpoints, onion handling and storage
//! RPC as the Session network's storage servers, on one machine, with no outside network.
//!
//! Layers, bottom up:
//! - [`storage`]: SQLite message store (idempotent by hash, expiry with passed-in time);
//! - [`Node`]: the sans-IO core, `handle(now_ms, Request) -> Action`;
//! - `server`: tokio + hyper HTTP front for one node;
//! - `testnet`: config files and an in-process multi-node testnet on loopback (plain HTTP, or
//!   HTTPS with self-signed certificates: `tls`);
//! - `loopback`: [`LoopbackNet`](crate::loopback::LoopbackNet), many cores without sockets,
//!   virtual time and fault injection.
//!
//! ```
//! use metaless_node::{Action, Request};
//! let mut node = metaless_node::node::doc_node();
//! let Action::Respond(r) = node.handle(0, Request::post("/storage_rpc/v1", b"not json".to_vec()))
//! else { unreachable!() };
//! assert_eq!((r.status, r.body.as_slice()), (400, &b"invalid json"[..]));
//! ```
#![forbid(unsafe_code)]

pub mod config;
mod error;
pub mod limits;
pub mod loopback;
pub mod network;
pub mod node;
pub mod rpc;
pub mod server;
pub mod storage;
pub mod testkit;
pub mod testnet;
pub mod tls;

pub use error::NodeError;
pub use metaless_onion::EncType;
pub use network::{NetworkMap, NodeInfo};
pub use node::{Action, Node, NodeConfig, Observation, Replicate, Request, Response};
