//! `metaless testnet`: generate and run a local testnet of real service nodes on loopback.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Value, json};

use crate::cli_error::CliError;

/// Local testnet commands.
#[derive(Debug, Subcommand)]
pub enum TestnetCommand {
    /// Write DIR/config.json: every node's key seed, port and swarm id.
    Init {
        /// Number of nodes.
        #[arg(long)]
        nodes: usize,
        /// Number of swarms (nodes are spread round-robin).
        #[arg(long)]
        swarms: usize,
        /// Testnet directory (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// First port; 0 (default) picks free ports at every start.
        #[arg(long, default_value_t = 0)]
        base_port: u16,
    },
    /// Start every node of DIR/config.json on 127.0.0.1, write DIR/bootstrap.json, and run
    /// until Ctrl-C / SIGTERM.
    Up {
        /// Testnet directory made by `testnet init`.
        #[arg(long)]
        dir: PathBuf,
        /// Record what each node saw per request (research / demo only).
        #[arg(long)]
        observe: bool,
        /// Serve HTTPS, each node with a self-signed certificate made at start; bootstrap.json
        /// then lists https:// addresses. Plain HTTP without it.
        #[arg(long)]
        tls: bool,
    },
}

/// Runs one testnet command.
pub fn run(cmd: TestnetCommand) -> Result<Value, CliError> {
    match cmd {
        TestnetCommand::Init {
            nodes,
            swarms,
            dir,
            base_port,
        } => {
            let cfg = metaless_node::testnet::init(&dir, nodes, swarms, base_port)?;
            let swarm_ids: Vec<String> = metaless_node::config::swarm_ids(swarms)
                .iter()
                .map(|s| format!("{s:x}"))
                .collect();
            Ok(json!({
                "dir": dir.display().to_string(),
                "config": dir.join(metaless_node::config::CONFIG_FILE).display().to_string(),
                "nodes": cfg.nodes.len(),
                "swarms": swarm_ids,
            }))
        }
        TestnetCommand::Up { dir, observe, tls } => {
            // Logs go to stderr; stdout keeps the one JSON object printed at exit.
            let _ = tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .with_writer(std::io::stderr)
                .try_init();
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let nodes =
                rt.block_on(metaless_node::testnet::run_until_signal(&dir, observe, tls))?;
            Ok(json!({
                "stopped": true,
                "nodes": nodes,
                "bootstrap": dir.join(metaless_node::config::BOOTSTRAP_FILE).display().to_string(),
            }))
        }
    }
}
