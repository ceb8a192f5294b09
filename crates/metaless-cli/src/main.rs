//! `metaless`: the command line for users and researchers.
//!
//! Every subcommand prints exactly one JSON object on stdout (`inbox`: one per line per
//! message). Bad input prints one line on stderr, nothing on stdout, and exits with code 2
//! (the same code clap uses for usage errors); `send` and `inbox` exit with 1 when the
//! network did not deliver.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::Value;

mod call;
mod cli_error;
mod community;
mod config;
mod demo;
mod examples;
mod file;
mod group;
mod id;
mod messaging;
mod msg;
mod onion;
mod profile;
mod push;
mod secret;
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
    /// Call signalling by hand (no media): offer, answer, ICE, end, listen.
    #[command(subcommand)]
    Call(call::CallCommand),
    /// Start a local network, let Alice and Bob talk through onion paths, and show what each node saw.
    Demo(demo::DemoArgs),
    /// Send a text message: `{"ok":true,"hash":…,"stored_on":N}` once a swarm member stored it.
    Send(messaging::SendArgs),
    /// Read the own inbox: one `{"from","text","hash","timestamp_ms"}` line per message.
    Inbox(messaging::InboxArgs),
    /// Attachments: encrypt / decrypt files ('S' format and legacy), put / get them on a
    /// testnet's file server.
    #[command(subcommand)]
    File(file::FileCommand),
    /// Config messages by hand (namespaces 2–5): encrypt, decrypt, read a stored push.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// The account's profile as all its devices see it: set the name and avatar, show it.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Communities (SOGS): sign a request's X-SOGS-* headers, seal and open blinded DMs, post to
    /// and read a room through onion paths.
    #[command(subcommand)]
    Community(community::CommunityCommand),
    /// Groups v2 (03 groups): member sub-account auth data, the group message cipher.
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Account identities: create, restore, blind.
    #[command(subcommand)]
    Id(id::IdCommand),
    /// One-to-one messages: sign-and-seal, open-and-verify, the stored envelope form.
    #[command(subcommand)]
    Msg(msg::MsgCommand),
    /// Onion requests by hand: build, peel a layer, respond, open the response.
    #[command(subcommand)]
    Onion(onion::OnionCommand),
    /// Push notifications: subscribe / unsubscribe a device through an onion request, open a push.
    #[command(subcommand)]
    Push(push::PushCommand),
    /// Swarms: which swarm holds an account, the TTL a namespace allows.
    #[command(subcommand)]
    Swarm(swarm::SwarmCommand),
    /// A local testnet of real service nodes on loopback: init, up.
    #[command(subcommand)]
    Testnet(testnet::TestnetCommand),
}

fn run(command: Command) -> Result<Value, CliError> {
    match command {
        Command::Call(cmd) => call::run(cmd),
        Command::Demo(args) => demo::run(args),
        Command::Community(cmd) => community::run(cmd),
        Command::File(cmd) => file::run(cmd),
        Command::Config(cmd) => config::run(cmd),
        Command::Profile(cmd) => profile::run(cmd),
        Command::Group(cmd) => group::run(cmd),
        Command::Id(cmd) => id::run(cmd),
        Command::Msg(cmd) => msg::run(cmd),
        Command::Onion(cmd) => onion::run(cmd),
        Command::Push(cmd) => push::run(cmd),
        Command::Swarm(cmd) => swarm::run(cmd),
        Command::Testnet(cmd) => testnet::run(cmd),
        // These print their own output and pick their exit code (see `main`).
        Command::Send(_) | Command::Inbox(_) => Err(CliError("unreachable".into())),
    }
}

/// One line for a command given without its subcommand, from clap's help text for it.
fn missing_subcommand(help: &str) -> String {
    let command = help
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .and_then(|u| u.split(" <COMMAND>").next())
        .map_or_else(
            || "metaless".to_owned(),
            |c| c.trim_end_matches(" [OPTIONS]").to_owned(),
        );
    let names: Vec<&str> = help
        .lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .collect();
    format!(
        "error: `{command}` needs a subcommand: {}; `{command} <SUBCOMMAND> --help` shows each",
        names.join(", ")
    )
}

fn main() -> ExitCode {
    let parsed = examples::attach(<Cli as clap::CommandFactory>::command())
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err)
            if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            // `metaless id` alone: clap's answer is the whole help; scripts get one line that
            // names the subcommands and where to read about them.
            eprintln!("{}", missing_subcommand(&err.to_string()));
            return ExitCode::from(2);
        }
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
    let command = match cli.command {
        Command::Send(args) => return messaging::send(args),
        Command::Inbox(args) => return messaging::inbox(args),
        // Group network commands exit with 1 when the network did not deliver, like `send`.
        Command::Group(cmd) => match cmd.run_network() {
            Some(code) => return code,
            None => Command::Group(cmd),
        },
        // Community post/read print their own lines and exit 1 when the network did not deliver.
        Command::Community(ref cmd) if cmd.is_network() => {
            return cmd.run_network().unwrap_or(ExitCode::from(2));
        }
        // Printed as written, keeping the header order the issue fixes.
        Command::Community(auth @ community::CommunityCommand::Auth { .. }) => {
            return match community::auth_text(auth) {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::from(2)
                }
            };
        }
        other => other,
    };
    match run(command) {
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
