//! `metaless testnet`: generate and run a local testnet of real service nodes on loopback.
//!
//! The commands, their flags, defaults and JSON are metaless-node-server's [`cli`], shared with
//! the `metaless-node` binary.

use clap::Subcommand;
use metaless_node_server::cli::{self, InitArgs, UpArgs};
use serde_json::Value;

use crate::cli_error::CliError;

/// Local testnet commands.
#[derive(Debug, Subcommand)]
pub enum TestnetCommand {
    /// Write DIR/config.json: every node's key seed, port and swarm id.
    Init(InitArgs),
    /// Start every node of DIR/config.json on 127.0.0.1 (or only those named by `--only KEY`,
    /// one process per node), write DIR/bootstrap.json (always every node), and run until
    /// Ctrl-C / SIGTERM.
    Up(UpArgs),
}

/// Runs one testnet command.
pub fn run(cmd: TestnetCommand) -> Result<Value, CliError> {
    Ok(match cmd {
        TestnetCommand::Init(args) => cli::init(&args)?,
        TestnetCommand::Up(args) => cli::up(&args)?,
    })
}
