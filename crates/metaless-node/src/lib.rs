//! A real local service node for metaless: the same HTTP endpoints, onion handling and storage
//! RPC as the Session network's storage servers, on one machine, with no outside network.
//!
//! ```
//! use metaless_node::storage::Storage;
//! let db = Storage::open_in_memory().unwrap();
//! assert_eq!(db.count().unwrap(), 0);
//! ```
#![forbid(unsafe_code)]

mod error;
pub mod limits;
pub mod storage;

pub use error::NodeError;
