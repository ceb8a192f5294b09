//! `metaless`: the command line for users and researchers.
//!
//! Every subcommand prints exactly one JSON object on stdout. Bad input prints one line on
//! stderr, nothing on stdout, and exits with code 2 (the same code clap uses for usage errors).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::Value;

mod cli_error;
mod demo;
mod id;
mod msg;
mod onion;
mod swarm;
mod testnet;

use cli_error::CliError;

/// Send messages, not metadata.
#[derive(Debug, Parser)]
#[command(name = "metaless", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a local network, let Alice and Bob talk through onion paths, and show what each node saw.
    Demo(demo::DemoArgs),
    /// Account identities: create, restore, blind.
    #[command(subcommand)]
    Id(id::IdCommand),
    /// One-to-one messages: sign-and-seal, open-and-verify, the stored envelope form.
    #[command(subcommand)]
    Msg(msg::MsgCommand),
    /// Onion requests by hand: build, peel a layer, respond, open the response.
    #[command(subcommand)]
    Onion(onion::OnionCommand),
    /// Swarms: which swarm holds an account, the TTL a namespace allows.
    #[command(subcommand)]
    Swarm(swarm::SwarmCommand),
    /// A local testnet of real service nodes on loopback: init, up.
    #[command(subcommand)]
    Testnet(testnet::TestnetCommand),
}

fn run(command: Command) -> Result<Value, CliError> {
    match command {
        Command::Demo(args) => demo::run(args),
        Command::Id(cmd) => id::run(cmd),
        Command::Msg(cmd) => msg::run(cmd),
        Command::Onion(cmd) => onion::run(cmd),
        Command::Swarm(cmd) => swarm::run(cmd),
        Command::Testnet(cmd) => testnet::run(cmd),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version: clap's own output, success.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // Scripts get one line, like every other error of ours: clap's message up to its
            // usage block, folded.
            let text = err.to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|line| !line.is_empty() && !line.starts_with("Usage:"))
                .collect();
            eprintln!("{}", message.join(" "));
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
