//! `metaless-node`: the local testnet without the rest of the CLI.
//!
//! ```text
//! metaless-node init --nodes 6 --swarms 2 --dir ./testnet
//! metaless-node up --dir ./testnet          # until Ctrl-C / SIGTERM
//! metaless-node up --dir ./testnet --tls    # the same over HTTPS (self-signed certificates)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A real local Session-compatible service node network.
#[derive(Debug, Parser)]
#[command(name = "metaless-node", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write DIR/config.json: node keys, ports and swarms.
    Init {
        /// Number of nodes.
        #[arg(long, default_value_t = 6)]
        nodes: usize,
        /// Number of swarms.
        #[arg(long, default_value_t = 2)]
        swarms: usize,
        /// Testnet directory.
        #[arg(long)]
        dir: PathBuf,
        /// First port (0 = ephemeral ports at every start).
        #[arg(long, default_value_t = 0)]
        base_port: u16,
    },
    /// Run every node of DIR/config.json until interrupted.
    Up {
        /// Testnet directory.
        #[arg(long)]
        dir: PathBuf,
        /// Record per-request observations (research/demo only).
        #[arg(long)]
        observe: bool,
        /// Serve HTTPS with self-signed certificates made at start (plain HTTP otherwise).
        #[arg(long)]
        tls: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Cmd::Init {
            nodes,
            swarms,
            dir,
            base_port,
        } => metaless_node::testnet::init(&dir, nodes, swarms, base_port).map(|cfg| {
            format!(
                "{{\"dir\":{:?},\"nodes\":{}}}",
                dir.display().to_string(),
                cfg.nodes.len()
            )
        }),
        Cmd::Up { dir, observe, tls } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(metaless_node::NodeError::from)
            .and_then(|rt| {
                rt.block_on(metaless_node::testnet::run_until_signal(&dir, observe, tls))
            })
            .map(|n| format!("{{\"stopped\":true,\"nodes\":{n}}}")),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
