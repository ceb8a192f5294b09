//! The testnet commands, written once for both command lines: `metaless testnet init|up`
//! (metaless-cli) and `metaless-node init|up` (this crate's binary) take these arguments, with
//! these defaults, and print these JSON objects.
//!
//! ```
//! use clap::Parser;
//! use metaless_node_server::cli::{self, InitArgs};
//!
//! #[derive(Parser)]
//! struct Cmd {
//!     #[command(flatten)]
//!     init: InitArgs,
//! }
//! let dir = tempfile::tempdir().unwrap();
//! let cmd = Cmd::parse_from(["x", "--dir", dir.path().to_str().unwrap()]);
//! assert_eq!((cmd.init.nodes, cmd.init.swarms), (cli::DEFAULT_NODES, cli::DEFAULT_SWARMS));
//! let out = cli::init(&cmd.init).unwrap();
//! assert_eq!(out["nodes"], 6);
//! assert_eq!(out["swarms"].as_array().unwrap().len(), 2);
//! ```

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use metaless_node::NodeError;

use crate::config::{BOOTSTRAP_FILE, CONFIG_FILE, swarm_ids};

/// Nodes `init` configures when `--nodes` is not given.
pub const DEFAULT_NODES: usize = 6;
/// Swarms `init` spreads the nodes over when `--swarms` is not given.
pub const DEFAULT_SWARMS: usize = 2;
/// `init`'s first port when `--base-port` is not given: 0, a free port at every start.
pub const DEFAULT_BASE_PORT: u16 = 0;

/// `init`: write DIR/config.json, every node's key seed, port and swarm id.
///
/// ```
/// use clap::Parser;
/// #[derive(Parser)]
/// struct Cmd { #[command(flatten)] init: metaless_node_server::cli::InitArgs }
/// let cmd = Cmd::parse_from(["x", "--nodes", "4", "--swarms", "1", "--dir", "/tmp/n", "--base-port", "5000"]);
/// assert_eq!((cmd.init.nodes, cmd.init.swarms, cmd.init.base_port), (4, 1, 5000));
/// assert!(cmd.init.hosts.is_empty());
/// let cmd = Cmd::parse_from(["x", "--dir", "/tmp/n", "--hosts", "10.0.0.1,10.0.0.2"]);
/// assert_eq!(cmd.init.hosts.len(), 2);
/// ```
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = DEFAULT_NODES)]
    pub nodes: usize,
    /// Number of swarms (nodes are spread round-robin).
    #[arg(long, default_value_t = DEFAULT_SWARMS)]
    pub swarms: usize,
    /// Testnet directory (created if missing).
    #[arg(long)]
    pub dir: PathBuf,
    /// First port; 0 (default) picks free ports at every start.
    #[arg(long, default_value_t = DEFAULT_BASE_PORT)]
    pub base_port: u16,
    /// Spread the nodes over these hosts (IPv4 addresses, comma-separated) for a private
    /// network across machines: each node binds to and advertises its host's address; the
    /// servers beside the nodes go to the first host. Each host then runs
    /// `up --only ITS_ADDRESS`. Default: every node on 127.0.0.1.
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub hosts: Vec<std::net::Ipv4Addr>,
}

/// `up`: start every node of DIR/config.json (or the `--only` ones) on its address
/// (127.0.0.1 unless `init --hosts`), write DIR/bootstrap.json, and run until Ctrl-C /
/// SIGTERM.
///
/// ```
/// use clap::Parser;
/// #[derive(Parser)]
/// struct Cmd { #[command(flatten)] up: metaless_node_server::cli::UpArgs }
/// let cmd = Cmd::parse_from(["x", "--dir", "/tmp/n", "--tls", "--only", "ab", "--only", "cd"]);
/// assert!(cmd.up.tls && !cmd.up.observe);
/// assert_eq!(cmd.up.only, ["ab", "cd"]);
/// ```
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Testnet directory made by `init`.
    #[arg(long)]
    pub dir: PathBuf,
    /// Record what each node saw per request (research / demo only).
    #[arg(long)]
    pub observe: bool,
    /// Serve HTTPS, each node with a self-signed certificate made at start; bootstrap.json
    /// then lists https:// addresses. Plain HTTP without it.
    #[arg(long)]
    pub tls: bool,
    /// Start only this node or server (its `pubkey_ed25519` from config.json), or every node
    /// and server on this host (an IP address of `init --hosts`); repeatable. Needs the fixed
    /// ports of `init --base-port`; bootstrap.json still lists every node.
    #[arg(long = "only", value_name = "KEY|HOST")]
    pub only: Vec<String>,
    /// Cap on each node's database, in bytes (a store past it fails as upstream's
    /// "database full" does). Default 3.5 GB.
    #[arg(long = "db-size-limit", value_name = "BYTES")]
    pub db_size_limit: Option<u64>,
}

/// Runs `init` ([`crate::testnet::init_on`]) and returns its JSON:
/// `{"dir","config","nodes","swarms","hosts"}` (swarm ids as hex; hosts `["127.0.0.1"]`
/// without `--hosts`).
///
/// ```
/// use metaless_node_server::cli::{InitArgs, init};
/// let dir = tempfile::tempdir().unwrap();
/// let args = InitArgs { nodes: 3, swarms: 1, dir: dir.path().into(), base_port: 0, hosts: vec![] };
/// assert_eq!(init(&args).unwrap()["nodes"], 3);
/// assert!(init(&args).is_err()); // never overwrites a configuration
/// ```
pub fn init(args: &InitArgs) -> Result<Value, NodeError> {
    let cfg = crate::testnet::init_on(
        &args.dir,
        args.nodes,
        args.swarms,
        args.base_port,
        &args.hosts,
    )?;
    let mut hosts: Vec<&str> = Vec::new();
    for n in &cfg.nodes {
        if !hosts.contains(&n.advertised_address.as_str()) {
            hosts.push(&n.advertised_address);
        }
    }
    let swarm_ids: Vec<String> = swarm_ids(args.swarms)
        .iter()
        .map(|s| format!("{s:x}"))
        .collect();
    Ok(json!({
        "dir": args.dir.display().to_string(),
        "config": args.dir.join(CONFIG_FILE).display().to_string(),
        "nodes": cfg.nodes.len(),
        "swarms": swarm_ids,
        "hosts": hosts,
    }))
}

/// Runs `up`: logs with `tracing` on stderr (`RUST_LOG` honoured, `info` by default), serves
/// the testnet on a tokio runtime until Ctrl-C or SIGTERM ([`crate::testnet::run_until_signal`]),
/// and returns `{"stopped":true,"nodes","bootstrap"}`.
///
/// ```
/// use metaless_node_server::cli::{UpArgs, up};
/// let dir = tempfile::tempdir().unwrap();
/// // No config.json there: an error, before anything starts.
/// assert!(up(&UpArgs { dir: dir.path().into(), observe: false, tls: false, only: vec![],
///     db_size_limit: None }).is_err());
/// // A key that is not hex: an error too.
/// assert!(up(&UpArgs { dir: dir.path().into(), observe: false, tls: false,
///     only: vec!["zz".into()], db_size_limit: None }).is_err());
/// ```
pub fn up(args: &UpArgs) -> Result<Value, NodeError> {
    let only = if args.only.is_empty() {
        Vec::new()
    } else {
        crate::testnet::only_keys(&crate::config::TestnetConfig::load(&args.dir)?, &args.only)?
    };
    // Logs go to stderr; stdout keeps the one JSON object printed at exit. Colour only on a
    // terminal, and never with NO_COLOR set (https://no-color.org): log files stay plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let nodes = rt.block_on(crate::testnet::run_until_signal(
        &args.dir,
        args.observe,
        args.tls,
        &only,
        args.db_size_limit,
    ))?;
    Ok(json!({
        "stopped": true,
        "nodes": nodes,
        "bootstrap": args.dir.join(BOOTSTRAP_FILE).display().to_string(),
    }))
}
