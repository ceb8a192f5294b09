//! Resource limits of this crate, in one place.
//!
//! ```
//! assert!(metaless_config::limits::BT_MAX_LEN >= metaless_config::limits::MAX_MESSAGE_SIZE);
//! ```

/// Largest config push the network carries, in bytes (libsession `MAX_MESSAGE_SIZE`).
pub const MAX_MESSAGE_SIZE: usize = 76_800;

/// Longest bencode input [`crate::bt::decode`] accepts by default. A decompressed config may be
/// larger than a push; this bounds what a zstd bomb can make us parse.
pub const BT_MAX_LEN: usize = 1 << 20;

/// Deepest list/dict nesting [`crate::bt::decode`] accepts by default. Config data nests at most
/// about six levels (message → diff → `o` → URL → `R` → room); 64 leaves room without letting a
/// hostile input recurse deep.
pub const BT_MAX_DEPTH: usize = 64;
