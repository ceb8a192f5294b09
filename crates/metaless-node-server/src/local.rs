//! A local testnet in one call, for examples, first programs and their tests: `nodes` service
//! nodes on 127.0.0.1 (ephemeral ports, plain HTTP) with their data in a temporary directory,
//! and the path of the `bootstrap.json` a client reads
//! (`metaless_client::Messenger::builder().testnet(path)`).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let net = metaless_node_server::local::start(4).await.unwrap();
//! assert!(net.bootstrap_path().ends_with("bootstrap.json"));
//! assert!(net.bootstrap_path().exists());
//! assert_eq!(net.handle().nodes().len(), 4);
//! net.shutdown().await;
//! # });
//! ```

use std::path::{Path, PathBuf};

use metaless_node::NodeError;
use rand_core::OsRng;

use crate::cli::DEFAULT_SWARMS;
use crate::config::{BOOTSTRAP_FILE, TestnetConfig};
use crate::testnet::{MAX_TESTNET_NODES, Testnet, TestnetHandle, TestnetOptions};

/// A running local testnet (see the [module docs](self)); stop it with
/// [`shutdown`](Self::shutdown). Dropping it without shutting down leaves the nodes' tasks to
/// the runtime and removes the temporary directory.
#[derive(Debug)]
pub struct LocalTestnet {
    handle: TestnetHandle,
    bootstrap: PathBuf,
}

/// Starts `nodes` service nodes (1 to [`MAX_TESTNET_NODES`]) on loopback, in
/// [`DEFAULT_SWARMS`] swarms when there are at least 4 nodes (else one), data in a temporary
/// directory. Call inside a tokio runtime.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// assert!(metaless_node_server::local::start(0).await.is_err());
/// # });
/// ```
pub async fn start(nodes: usize) -> Result<LocalTestnet, NodeError> {
    if nodes == 0 || nodes > MAX_TESTNET_NODES {
        return Err(NodeError::Config(format!(
            "a local testnet needs 1 to {MAX_TESTNET_NODES} nodes, not {nodes}"
        )));
    }
    let swarms = if nodes >= 4 { DEFAULT_SWARMS } else { 1 };
    let config = TestnetConfig::generate(nodes, swarms, 0, &mut OsRng);
    let handle = Testnet::start(config, TestnetOptions::default()).await?;
    let bootstrap = handle.data_dir().join(BOOTSTRAP_FILE);
    Ok(LocalTestnet { handle, bootstrap })
}

impl LocalTestnet {
    /// The `bootstrap.json` the testnet wrote: what a client is given to find the nodes.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let net = metaless_node_server::local::start(1).await.unwrap();
    /// let text = std::fs::read_to_string(net.bootstrap_path()).unwrap();
    /// assert!(text.contains("pubkey_ed25519"));
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn bootstrap_path(&self) -> &Path {
        &self.bootstrap
    }

    /// The running testnet, for everything else it offers (nodes, data directory, …).
    pub fn handle(&self) -> &TestnetHandle {
        &self.handle
    }

    /// Stops every node and removes the temporary directory.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}
