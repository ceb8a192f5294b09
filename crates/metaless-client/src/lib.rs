//! The metaless client: send and receive Session-compatible one-to-one messages through onion
//! paths, without owning a runtime or a socket.
//!
//! * `Messenger` (feature `http`) is the quickest start: a builder
//!   (`Messenger::builder().testnet(path to bootstrap.json)` or `.mainnet()`, then `.build().await`),
//!   a `Clone + Send + Sync` handle whose `send` resolves when the message is delivered, and
//!   every event on a `Stream` (`events()`); it runs the pieces below on a thread of its own.
//!   `examples/quickstart.rs` and `docs/client.md` show it in full.
//! * [`Client`] is a sans-IO state machine (like `quinn-proto`): it is given the time, it hands
//!   out [`Transmit`]s (bytes to POST to a node), takes back the answers, and reports
//!   [`Event`]s. It builds 3-hop onion paths (a guard node kept across paths, every hop outside
//!   the destination's swarm), stores sealed messages in the recipient's swarm, polls its own
//!   swarm, de-duplicates, opens and verifies what arrives, follows 421s, corrects its clock
//!   from node replies, blacklists failing nodes and rebuilds paths, and retries a send until
//!   its TTL runs out.
//! * [`Driver`] is a thin async loop over a one-method [`Transport`] and a [`Clock`]; it spawns
//!   nothing. Feature `http`: `http::HttpTransport` (hyper; plain HTTP, or HTTPS with rustls
//!   accepting the service nodes' self-signed certificates). An in-process network to run
//!   clients on without sockets (a loopback transport and clock, the `Sim` harness) is the
//!   separate `metaless-testnet` crate, a dev-dependency: this crate depends on no node code.
//! * [`Persistence`]: what must survive a restart (seed, pending sends, last hashes, seen
//!   hashes); [`MemoryStore`] by default, `SqliteStore` with feature `sqlite`.
//!
//! The loop an app (or the driver) runs around the core:
//!
//! ```
//! use metaless_client::{Bootstrap, Client, Config, Event};
//! use metaless_identity::{Keypair, Seed};
//! use metaless_testnet::{LoopbackConfig, LoopbackNet};
//!
//! let mut net = LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap();
//! let nodes = metaless_testnet::service_nodes(&net);
//! let now = net.now_ms();
//! let mut alice = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])), Config::testnet(Bootstrap::Nodes(nodes)), [7; 32], now);
//! let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
//! let id = alice.send(now, &bob, &metaless_envelope::Content::text("hello")).unwrap();
//!
//! let mut delivered = false;
//! while !delivered {
//!     while let Some(t) = alice.poll_transmit() {
//!         // Any transport: here the in-process network.
//!         let answer = net.post(t.to_node.node.unwrap().as_bytes(), t.to_node.path, &t.body)
//!             .map(|(status, body)| metaless_client::HttpResponse { status, body })
//!             .map_err(|_| metaless_client::TransportError::Connect);
//!         alice.handle_response(net.now_ms(), t.id, answer);
//!     }
//!     while let Some(event) = alice.poll_event() {
//!         delivered |= matches!(event, Event::Delivered { id: done, .. } if done == id);
//!     }
//!     if let Some(t) = alice.poll_timeout().filter(|_| !delivered) {
//!         net.set_time(t);
//!         alice.handle_timeout(t);
//!     }
//! }
//! assert_eq!(alice.pending_sends(), 0);
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod community;
mod config;
mod directory;
mod driver;
mod error;
pub mod limits;
mod persist;
mod transport;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
#[cfg(feature = "http")]
mod messenger;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use client::{
    AttachmentDownload, AttachmentUpload, PROGRESS_THRESHOLD, TransferDirection, TransferProgress,
    TransferStage, UploadOptions,
};
pub use client::{CallUpdate, Calls, CallsError, MAX_CALLS};
pub use client::{
    Client, Event, Incoming, KeySigner, OpId, RawMessage, Route, ServerRequest, ServerResponse,
    Stats, SubscriptionId, SwarmAccount,
};
pub use client::{ConfigEvent, ConfigSync};
pub use client::{GroupEvent, GroupMessage, Groups, GroupsError};
pub use client::{OpenedPush, PushOpenError, push_reply, push_server};
pub use config::{Bootstrap, Config, MAINNET_SEEDS};
pub use driver::Driver;
pub use error::{ClientError, ErrorKind, FailureKind};
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use messenger::{
    DEFAULT_READY_TIMEOUT, Events, IntoContent, Messenger, MessengerBuilder, MessengerError,
    Recipient, futures_core,
};
pub use persist::{MemoryStore, PendingSend, PersistError, Persistence};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SeedProtection, SqliteStore, StoreKey};
pub use transport::{Clock, HttpResponse, RequestId, Target, Transmit, Transport, TransportError};
