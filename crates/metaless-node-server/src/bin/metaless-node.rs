//! `metaless-node`: the local testnet without the rest of the CLI (the same commands as
//! `metaless testnet`, from [`metaless_node_server::cli`]).
//!
//! ```text
//! metaless-node init --nodes 6 --swarms 2 --dir ./testnet
//! metaless-node up --dir ./testnet          # until Ctrl-C / SIGTERM
//! metaless-node up --dir ./testnet --tls    # the same over HTTPS (self-signed certificates)
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use metaless_node_server::cli::{self, InitArgs, UpArgs};

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
    Init(InitArgs),
    /// Run every node of DIR/config.json until interrupted.
    Up(UpArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Cmd::Init(args) => cli::init(&args),
        Cmd::Up(args) => cli::up(&args),
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
