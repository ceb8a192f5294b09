//! The node's error type.

use thiserror::Error;

/// Everything that can go wrong inside a node outside of answering a request.
///
/// Request-level failures are not errors: they become HTTP responses with the network's status
/// codes and texts (see [`crate::Response`]). `Display` never contains keys, message data or whole
/// account IDs.
///
/// ```
/// use metaless_node::NodeError;
/// let e = NodeError::storage(std::io::Error::other("disk full"));
/// assert_eq!(e.to_string(), "storage error: disk full");
/// assert!(std::error::Error::source(&e).is_some());
/// ```
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The message store failed (open, query or commit); the backend's own error (SQLite's in
    /// metaless-node-server) is the source.
    #[error("storage error: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Reading or writing a file or socket failed (the server and testnet files).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A testnet configuration or bootstrap file is malformed.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// JSON (de)serialisation of a configuration file failed.
    #[error("invalid json: {0}")]
    Json(#[from] serde_json::Error),
    /// The storage backend does not implement this part of the [`Storage`](crate::storage::Storage)
    /// trait (a trait method left at its default).
    #[error("storage does not support {0}")]
    Unsupported(&'static str),
}

impl NodeError {
    /// A storage backend's error.
    ///
    /// ```
    /// let e = metaless_node::NodeError::storage(std::io::Error::other("locked"));
    /// assert!(matches!(e, metaless_node::NodeError::Storage(_)));
    /// ```
    pub fn storage(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Storage(Box::new(err))
    }
}
