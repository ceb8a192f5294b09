//! Session config messages without I/O: strict bencode, signed/compressed/padded/encrypted config
//! messages, merge, and typed views (UserProfile, Contacts, ConvoInfoVolatile, UserGroups).
//!
//! The layers, bottom up (byte tables in `docs/config.md`):
//!
//! - [`bt`]: strict bencode. One canonical encoding per value, so hashes and signatures over
//!   received bytes equal those over a re-encoding.
//! - [`message`]: the config message ([`ConfigMessage`]): seqno, data, lagged diffs, diff,
//!   signature, and upstream's merge of concurrent messages.
//! - [`Config`]: one device's copy of one config: edit, push, confirm, merge.
//! - [`encrypt`], [`wrap`], [`push`]: compression, padding, encryption with the
//!   `libsessionutil-config-encrypted-` domain keys, the legacy protobuf wrap.
//! - [`views`]: typed reads and writes of the four user configs' data, upstream key names.
//!
//! ```
//! use metaless_config::bt::{self, Value};
//! let set = Value::set([Value::bytes("foo"), Value::Int(23), Value::Int(-123)]);
//! assert_eq!(bt::encode(&set), b"li-123ei23e3:fooe");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod bt;
pub mod encrypt;
mod error;
mod kind;
pub mod limits;
pub mod message;
pub mod push;
mod store;
pub mod views;
pub mod wrap;

pub use error::ConfigError;
pub use kind::Kind;
pub use message::ConfigMessage;
pub use store::{Config, MergeResult, Push};

/// docs/config.md's example runs as a doctest, so the page cannot drift from the code.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/config.md")]
struct DocsConfigMd;
