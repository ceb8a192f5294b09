//! `metaless swarm …`: which swarm holds an account, and the TTL a namespace allows.

use clap::Subcommand;
use metaless_swarm::{Namespace, SwarmIds, UserPubkey, ttl};
use serde_json::{Value, json};

use crate::cli_error::CliError;

/// Swarm commands.
#[derive(Debug, Subcommand)]
pub enum SwarmCommand {
    /// An account's swarm-space position and, given the network's swarm ids, its swarm.
    Map {
        /// The account: a Session ID or any 66-hex-digit prefixed key.
        #[arg(long, value_name = "SESSIONID")]
        pubkey: String,
        /// The swarm ids, decimal, comma-separated (e.g. 1,2,3).
        #[arg(long = "swarm-ids", value_name = "IDS")]
        swarm_ids: Option<String>,
    },
    /// The TTL a store to this namespace gets: the one given, clamped to the namespace's
    /// range, or the namespace's default.
    Ttl {
        /// Namespace number (-32768..=32767).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        namespace: i64,
        /// Requested TTL in milliseconds.
        #[arg(long = "ttl-ms", value_name = "N")]
        ttl_ms: Option<u64>,
    },
}

/// Runs a swarm command.
pub fn run(cmd: SwarmCommand) -> Result<Value, CliError> {
    match cmd {
        SwarmCommand::Map { pubkey, swarm_ids } => map(&pubkey, swarm_ids.as_deref()),
        SwarmCommand::Ttl { namespace, ttl_ms } => {
            let ns = Namespace::try_from_i64(namespace)
                .map_err(|e| CliError::context("--namespace", e))?;
            let ttl_ms = match ttl_ms {
                Some(t) => ttl::clamp(ns, t),
                None => ttl::limits(ns).default_ms,
            };
            Ok(json!({ "ttl_ms": ttl_ms }))
        }
    }
}

fn map(pubkey: &str, swarm_ids: Option<&str>) -> Result<Value, CliError> {
    let pk: UserPubkey = pubkey
        .trim()
        .parse()
        .map_err(|e| CliError::context("--pubkey", e))?;
    let space = pk.swarm_space();
    let swarm_id = match swarm_ids {
        None => Value::Null,
        Some(list) => {
            let ids = list
                .split(',')
                .map(|s| s.trim().parse::<u64>())
                .collect::<Result<Vec<u64>, _>>()
                .map_err(|e| CliError::context("--swarm-ids", e))?;
            SwarmIds::new(ids)
                .nearest(space)
                .map_or(Value::Null, Value::from)
        }
    };
    Ok(json!({ "space": space, "swarm_id": swarm_id }))
}
