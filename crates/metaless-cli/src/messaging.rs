//! `metaless send` and `metaless inbox`: one-to-one messages for users and scripts, over a
//! local testnet (`--bootstrap bootstrap.json`) or the live network (`--network mainnet`).
//!
//! JSON goes to stdout (`send`: one object; `inbox`: one object per line per message), human
//! progress to stderr. Exit codes: 0 done; 1 the network did not deliver (no node list, not
//! stored before `--timeout-ms`, rejected; `inbox`: no poll completed); 2 bad input.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Args;
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Client, ClientError, Config, Driver, Event, MemoryStore, Persistence};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed, SessionId, hex};
use metaless_swarm::MessageHash;
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

/// Where the network is: exactly one of `--bootstrap` and `--network`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// A testnet's bootstrap.json (as `metaless testnet up` writes it).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "network",
        conflicts_with = "network"
    )]
    bootstrap: Option<PathBuf>,
    /// The live network, through its seed nodes: `mainnet`.
    #[arg(long, value_name = "NAME", value_parser = ["mainnet"])]
    network: Option<String>,
}

/// The account: a seed file, `METALESS_SEED`, or stdin.
#[derive(Args)]
pub struct AccountArgs {
    /// File holding the account seed (64 hex digits, or 32 for a legacy seed), as
    /// `metaless id new` prints it; `-` reads it from stdin. Without it: $METALESS_SEED.
    #[arg(long = "seed-file", value_name = "FILE")]
    seed_file: Option<PathBuf>,
}

impl std::fmt::Debug for AccountArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountArgs")
            .field("seed_file", &self.seed_file)
            .finish()
    }
}

/// Options of `metaless send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    account: AccountArgs,
    /// The recipient's Session ID (66 hex digits, `05…`).
    #[arg(long, value_name = "SESSION_ID")]
    to: String,
    /// The message text.
    #[arg(long, value_name = "T")]
    text: String,
    /// How long the swarm keeps the message (clamped to 14 days). Default: 14 days.
    #[arg(long = "ttl-ms", value_name = "N")]
    ttl_ms: Option<u64>,
    /// How long to wait for a swarm member to store it.
    #[arg(long = "timeout-ms", value_name = "N", default_value_t = 30_000)]
    timeout_ms: u64,
}

/// Options of `metaless inbox`.
#[derive(Debug, Args)]
pub struct InboxArgs {
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    account: AccountArgs,
    /// Keep polling up to N ms for a message when none is there yet (0: read once).
    #[arg(long = "wait-ms", value_name = "N", default_value_t = 0)]
    wait_ms: u64,
    /// Only messages no earlier run printed (from the state file next to the seed file).
    #[arg(long = "since-last")]
    since_last: bool,
    /// Neither read nor write the state file (SEED_FILE.inbox.json).
    #[arg(long = "no-state")]
    no_state: bool,
}

/// The longest a first poll may take before `inbox` gives up.
const FIRST_POLL_MS: u64 = 30_000;

type Peer = Driver<HttpTransport, TokioClock>;

/// A failure, with its exit code (1: the network, 2: the input).
struct Failure(u8, String);

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Self(2, e.to_string())
    }
}

fn network(msg: impl Into<String>) -> Failure {
    Failure(1, msg.into())
}

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, msg)) => {
            eprintln!("error: {}", msg.replace('\n', " "));
            ExitCode::from(code)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure(1, format!("runtime: {e}")))
}

/// Reads a testnet's `bootstrap.json`: the client configuration for its nodes (HTTPS when the
/// testnet was started with `--tls`, as its addresses then say), polling every
/// `poll_interval_ms` (`None`: only when asked), and the file as JSON for the servers it lists beside the nodes.
pub(crate) fn testnet_config(
    path: &Path,
    poll_interval_ms: Option<u64>,
) -> Result<(Config, Value), CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError(format!("--bootstrap {}: {e}", path.display())))?;
    let config = Config::from_testnet_file(&bytes)
        .map_err(|e| CliError::context("--bootstrap", e))?
        .with_poll_interval_ms(poll_interval_ms);
    let file: Value =
        serde_json::from_slice(&bytes).map_err(|e| CliError::context("--bootstrap", e))?;
    Ok((config, file))
}

/// The client configuration for the chosen network, and whether it polls fast.
fn config(net: &NetworkArgs) -> Result<Config, Failure> {
    match (&net.bootstrap, net.network.as_deref()) {
        (Some(path), None) => Ok(testnet_config(path, Some(200))?.0),
        (None, Some("mainnet")) => Ok(Config::mainnet().with_poll_interval_ms(Some(2_000))),
        _ => Err(CliError("give --bootstrap FILE or --network mainnet".into()).into()),
    }
}

fn keys(account: &AccountArgs) -> Result<Keypair, Failure> {
    let text = secret::require(
        "--seed",
        None,
        account.seed_file.as_deref(),
        "METALESS_SEED",
    )?;
    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed-file", e))?;
    Ok(Keypair::from_seed(&seed))
}

fn rng_seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    OsRng.fill_bytes(&mut s);
    s
}

/// Runs `metaless send`.
pub fn send(args: SendArgs) -> ExitCode {
    finish(send_inner(&args))
}

fn send_inner(args: &SendArgs) -> Result<(), Failure> {
    let to: SessionId = args
        .to
        .trim()
        .parse()
        .map_err(|e| CliError::context("--to", e))?;
    let config = config(&args.network)?;
    let keys = keys(&args.account)?;
    let content = Content::text(args.text.clone());
    let rt = runtime()?;
    rt.block_on(async {
        let client = Client::new(keys, config, rng_seed(), wall_clock_ms());
        let mut peer: Peer = Driver::new(client, HttpTransport::default(), TokioClock);
        let now = peer.now();
        let id = match args.ttl_ms {
            Some(ttl) => peer.client().send_with_ttl(now, &to, &content, ttl),
            None => peer.client().send(now, &to, &content),
        }
        .map_err(|e| CliError::context("send", e))?;
        eprintln!("sending to {to} …");
        let done = |e: &Event| {
            matches!(e, Event::Delivered { id: d, .. } | Event::Failed { id: d, .. } if *d == id)
        };
        let deadline = peer.now().saturating_add(args.timeout_ms);
        loop {
            let left = deadline.saturating_sub(peer.now());
            match peer.wait_for(left, |e| done(e) || matches!(e, Event::NoNodes)).await {
                Some(Event::Delivered {
                    hash,
                    via,
                    stored_on,
                    ..
                }) => {
                    eprintln!("stored by {} …", short(via.destination.as_bytes()));
                    let line =
                        json!({"ok": true, "hash": hash.to_string(), "stored_on": stored_on});
                    println!("{line}");
                    return Ok(());
                }
                Some(Event::Failed { kind, .. }) => {
                    return Err(network(format!("not delivered: {}", ClientError::Failed(kind))));
                }
                Some(Event::NoNodes) => {
                    eprintln!("no node list yet; retrying …");
                }
                _ => {
                    return Err(network(format!(
                        "not delivered within {} ms (no swarm member stored it)",
                        args.timeout_ms
                    )));
                }
            }
        }
    })
}

/// `ab12…ef34` of a node key.
fn short(key: &[u8; 32]) -> String {
    let h = hex::encode(key);
    format!("{}…{}", &h[..4], &h[h.len() - 4..])
}

/// The inbox state next to a seed file: `SEED_FILE.inbox.json`.
fn state_path(seed_file: &Path) -> PathBuf {
    let mut name = seed_file.as_os_str().to_owned();
    name.push(".inbox.json");
    PathBuf::from(name)
}

/// Loads `{"version":1,"last_hashes":{node hex: hash},"seen":{hash: expiry_ms}}` into `store`.
fn load_state(path: &Path, store: &mut MemoryStore) -> Result<(), Failure> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(CliError(format!("state {}: {e}", path.display())).into()),
    };
    let bad = || CliError(format!("state {}: not an inbox state file", path.display()));
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let last = v
        .get("last_hashes")
        .and_then(Value::as_object)
        .ok_or_else(bad)?;
    for (node, hash) in last {
        let node: metaless_swarm::NodeId = node.parse().map_err(|_| bad())?;
        let hash = hash
            .as_str()
            .and_then(|h| MessageHash::parse(h).ok())
            .ok_or_else(bad)?;
        store.save_last_hash(&node, &hash).map_err(|_| bad())?;
    }
    let seen = v.get("seen").and_then(Value::as_object).ok_or_else(bad)?;
    let seen: Vec<(MessageHash, u64)> = seen
        .iter()
        .map(|(h, e)| Some((MessageHash::parse(h).ok()?, e.as_u64()?)))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    store.save_seen(&seen).map_err(|_| bad())?;
    Ok(())
}

fn save_state(path: &Path, store: &MemoryStore) -> Result<(), Failure> {
    let last: BTreeMap<String, String> = store
        .last_hashes()
        .unwrap_or_default()
        .into_iter()
        .map(|(n, h)| (n.to_hex(), h.to_string()))
        .collect();
    let seen: BTreeMap<String, u64> = store
        .seen()
        .unwrap_or_default()
        .into_iter()
        .map(|(h, e)| (h.to_string(), e))
        .collect();
    let body = json!({"version": 1, "last_hashes": last, "seen": seen}).to_string();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, body)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| network(format!("state {}: {e}", path.display())))
}

/// Runs `metaless inbox`.
pub fn inbox(args: InboxArgs) -> ExitCode {
    finish(inbox_inner(&args))
}

fn inbox_inner(args: &InboxArgs) -> Result<(), Failure> {
    let config = config(&args.network)?;
    let keys = keys(&args.account)?;
    let state = match (&args.account.seed_file, args.no_state) {
        (Some(f), false) if f.as_os_str() != "-" => Some(state_path(f)),
        _ => None,
    };
    let store = Arc::new(Mutex::new(MemoryStore::default()));
    if args.since_last
        && let Some(path) = &state
    {
        let mut s = store.lock().map_err(|_| network("state lock"))?;
        load_state(path, &mut s)?;
    }
    let rt = runtime()?;
    let printed = rt.block_on(async {
        let client = Client::with_persistence(
            keys,
            config,
            rng_seed(),
            wall_clock_ms(),
            Box::new(store.clone()),
        )
        .map_err(|e| network(format!("state: {e}")))?;
        let mut peer: Peer = Driver::new(client, HttpTransport::default(), TokioClock);
        let start = peer.now();
        let wait_until = start.saturating_add(args.wait_ms);
        let give_up = start.saturating_add(args.wait_ms.max(FIRST_POLL_MS));
        let mut printed = 0usize;
        let mut out = std::io::stdout().lock();
        eprintln!("reading the inbox of {} …", peer.client().session_id());
        let mut print = |event: Event, printed: &mut usize| -> Result<(), Failure> {
            match event {
                Event::Received(m) => {
                    let line = json!({
                        "from": m.message.sender.to_string(),
                        "text": m.message.content.as_text(),
                        "hash": m.hash.to_string(),
                        "timestamp_ms": m.message.sent_at_ms,
                    });
                    *printed += 1;
                    writeln!(out, "{line}")
                        .and_then(|()| out.flush())
                        .map_err(|e| network(format!("stdout: {e}")))
                }
                Event::NoNodes => {
                    eprintln!("no node list yet; retrying …");
                    Ok(())
                }
                _ => Ok(()),
            }
        };
        loop {
            let now = peer.now();
            let read = peer.client().stats().inbox_polls > 0;
            if read && (printed > 0 || now >= wait_until) {
                // What that poll brought is all queued already: print it, no more network.
                while let Some(event) = peer.next_event_until(0).await {
                    print(event, &mut printed)?;
                }
                return Ok(printed);
            }
            if now >= give_up {
                return Err(network(
                    "the own swarm could not be read (no poll completed)",
                ));
            }
            let until = if read { wait_until } else { give_up };
            if let Some(event) = peer.next_event_until(until).await {
                print(event, &mut printed)?;
            }
        }
    })?;
    eprintln!("{printed} message(s)");
    if let Some(path) = &state {
        let s = store.lock().map_err(|_| network("state lock"))?;
        save_state(path, &s)?;
    }
    Ok(())
}
