//! The node's error type.

use thiserror::Error;

/// Everything that can go wrong inside a node outside of answering a request.
///
/// Request-level failures are not errors: they become HTTP responses with the network's status
/// codes and texts (see [`crate::Response`]). `Display` never contains keys, message data or whole
/// account IDs.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The SQLite database failed (open, query or commit).
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    /// Reading or writing a file or socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A testnet configuration or bootstrap file is malformed.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// JSON (de)serialisation of a configuration file failed.
    #[error("invalid json: {0}")]
    Json(#[from] serde_json::Error),
}
