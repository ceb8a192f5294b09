//! Swarms and the storage RPC of the Session network, without I/O.
//!
//! * [`swarm_space`] and [`SwarmIds::nearest`]: which swarm holds an account's messages.
//! * [`Namespace`], [`MessageHash`], [`UserPubkey`]: the storage server's vocabulary.
//!
//! Time is always a parameter (`now_ms`, milliseconds since the Unix epoch); nothing here reads
//! a clock, opens a socket or draws randomness.
//!
//! ```
//! use metaless_swarm::{SwarmIds, UserPubkey};
//! let account: UserPubkey =
//!     "050000000000000000000000000000000000000000000000000000000000000096".parse().unwrap();
//! assert_eq!(account.swarm_space(), 150);
//! let swarms = SwarmIds::new([100, 200, 300]);
//! assert_eq!(swarms.nearest(account.swarm_space()), Some(100)); // ties go to the lower swarm
//! ```
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod b64;
mod clock;
mod error;
mod hash;
mod json;
pub mod limits;
mod namespace;
mod node;
mod node_id;
mod pubkey;
mod response;
mod rpc;
pub mod server;
pub mod sig;
mod space;
pub mod subaccount;
pub mod ttl;

/// HTTP path of direct (not onion-wrapped) storage RPC on a service node (upstream
/// `/storage_rpc/v1`): the one place this endpoint is spelled.
///
/// ```
/// assert_eq!(metaless_swarm::RPC_PATH, "/storage_rpc/v1");
/// ```
pub const RPC_PATH: &str = "/storage_rpc/v1";

/// HTTP path of a seed node's JSON-RPC (`get_n_service_nodes` via `oxend_request`), upstream
/// `/json_rpc`.
///
/// ```
/// assert_eq!(metaless_swarm::SEED_PATH, "/json_rpc");
/// ```
pub const SEED_PATH: &str = "/json_rpc";

pub use clock::NetworkClock;
pub use error::SwarmError;
pub use hash::{MESSAGE_HASH_LEN, MessageHash};
pub use json::parse_object as parse_reply_object;
pub use namespace::{Namespace, NamespaceOrAll};
pub use node::{
    ACTIVE_NODE_RECORD_LEN, NodeList, ServiceNode, SwarmResponse, base32z, oxend_service_nodes_json,
};
pub use node_id::NodeId;
pub use pubkey::UserPubkey;
pub use response::{
    InfoResponse, MemberFailure, MemberResult, RetrieveResponse, StoredMessage, SwarmResults,
    TolerantRetrieve, parse_get_expiries, parse_revoked_subaccounts, verify_delete_entry,
    verify_expire_entry, verify_namespace_action_entry, verify_revocation_entry,
    verify_store_entry,
};
pub use rpc::{
    Auth, Delete, Expire, GetExpiries, NamespaceAction, OxendEndpoint, OxendRequest, Request,
    RequestSigner, Retrieve, RevokedSubaccounts, SUBACCOUNT_TOKEN_LEN, Signer, Store, Subaccount,
    SubaccountRevocation,
};
pub use space::{INVALID_SWARM_ID, SwarmIds, swarm_space};
