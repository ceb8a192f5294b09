//! `metaless community …`: sign a community request, seal and open a blinded DM, post to and
//! read a room.
//!
//! The byte-level tools (no network): `auth` prints the four `X-SOGS-*` headers for a
//! request exactly as they would be sent, `dm-seal`/`dm-open` run the blinded-DM cipher of a
//! community inbox. For users, `post` and `read` talk to a room through onion paths over a
//! testnet's nodes (`--bootstrap`), with `metaless_client::community::CommunityClient`:
//! `post` prints `{"ok":true,"id":N,"seqno":S}`, `read` one line per message
//! `{"id","seqno","sender","text","posted"}`. Their exit codes: 0 done; 1 the network or the
//! server did not (no path got through, the server refused: its status is in the error line);
//! 2 bad input.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use clap::{Args, Subcommand};
use metaless_client::community::{CommunityClient, CommunityEvent, POLL_LIMIT, Post};
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Client, Driver};
use metaless_community::{AuthMode, CommunityUrl, auth, dm};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed, SessionId, hex};
use rand_core::RngCore;
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Community commands.
#[derive(Subcommand)]
pub enum CommunityCommand {
    /// Print the X-SOGS-* headers of one request:
    /// `{"X-SOGS-Pubkey","X-SOGS-Timestamp","X-SOGS-Nonce","X-SOGS-Signature"}` (values as sent).
    Auth {
        /// The account seed: 64 hex digits; `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --seed-file or $METALESS_SEED.
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// File holding the seed (`-`: stdin).
        #[arg(long = "seed-file", value_name = "FILE", conflicts_with = "seed")]
        seed_file: Option<PathBuf>,
        /// The server's X25519 public key (the URL's public_key): 64 hex digits.
        #[arg(long = "server-pubkey", value_name = "HEX")]
        server_pubkey: String,
        /// HTTP method (GET, POST, PUT, DELETE).
        #[arg(long, value_name = "M")]
        method: String,
        /// Path and query as sent, e.g. `/room/lobby/messages/recent?limit=10`.
        #[arg(long, value_name = "P")]
        path: String,
        /// Unix seconds.
        #[arg(long, value_name = "T")]
        timestamp: u64,
        /// The nonce: 32 hex digits (16 bytes).
        #[arg(long, value_name = "HEX")]
        nonce: String,
        /// File holding the request body (its BLAKE2b-512 is signed).
        #[arg(long = "body-file", value_name = "F")]
        body_file: Option<PathBuf>,
        /// Sign with the unblinded `00` key (servers without the `blind` capability).
        #[arg(long)]
        unblinded: bool,
    },
    /// Encrypt a blinded DM to a 15/25 id: `{"data_b64"}`.
    DmSeal {
        /// The sender's seed: 64 hex digits; `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --seed-file or $METALESS_SEED.
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// File holding the seed (`-`: stdin).
        #[arg(long = "seed-file", value_name = "FILE", conflicts_with = "seed")]
        seed_file: Option<PathBuf>,
        /// The server's X25519 public key: 64 hex digits.
        #[arg(long = "server-pubkey", value_name = "HEX")]
        server_pubkey: String,
        /// The recipient's blinded id (`15…` or `25…`).
        #[arg(long, value_name = "ID")]
        to: String,
        /// The message bytes in hex (normally a padded Content).
        #[arg(long = "plaintext-hex", value_name = "HEX")]
        plaintext_hex: String,
    },
    /// Decrypt a blinded DM from a 15/25 id: `{"plaintext_hex","sender":"05…"}`.
    DmOpen {
        /// The recipient's (or, for the outbox, the sender's) seed: 64 hex digits; `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --seed-file or $METALESS_SEED.
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// File holding the seed (`-`: stdin).
        #[arg(long = "seed-file", value_name = "FILE", conflicts_with = "seed")]
        seed_file: Option<PathBuf>,
        /// The server's X25519 public key: 64 hex digits.
        #[arg(long = "server-pubkey", value_name = "HEX")]
        server_pubkey: String,
        /// The sender's blinded id (`15…` or `25…`, as the server lists it).
        #[arg(long, value_name = "ID")]
        from: String,
        /// The ciphertext, base64 (the inbox's `message` field).
        #[arg(long = "data-b64", value_name = "B")]
        data_b64: String,
    },
    /// Post a text message to a room through onion paths: `{"ok":true,"id":N,"seqno":S}`.
    Post {
        #[command(flatten)]
        room: RoomArgs,
        /// The message text.
        #[arg(long, value_name = "T")]
        text: String,
    },
    /// Read a room's messages through onion paths: one line per message
    /// `{"id","seqno","sender","text","posted"}` (the latest version of each; deleted ones left out).
    Read {
        #[command(flatten)]
        room: RoomArgs,
        /// Only updates after this seqno (a line's `seqno`: pass the last one seen to read on).
        #[arg(long, value_name = "SEQNO", default_value_t = 0)]
        since: u64,
        /// At most N updates (1..=256), one poll. Without it: every update, polled a page of
        /// 256 at a time.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
        limit: Option<u32>,
    },
}

/// Where the room is and who we are, for `post` and `read`.
#[derive(Args)]
pub struct RoomArgs {
    /// The room's community URL: `http://host:port/ROOM?public_key=HEX`. Default: the
    /// testnet's room (`community.url` in the bootstrap file).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// File holding the account seed (64 hex digits); `-` reads stdin. Without it: $METALESS_SEED.
    #[arg(long = "seed-file", value_name = "F")]
    seed_file: Option<PathBuf>,
    /// A testnet's bootstrap.json (its nodes carry the onion paths).
    #[arg(long, value_name = "FILE")]
    bootstrap: PathBuf,
    /// How long to wait for the server's answer.
    #[arg(long = "timeout-ms", value_name = "N", default_value_t = 30_000)]
    timeout_ms: u64,
}

impl fmt::Debug for CommunityCommand {
    // Arguments hold secrets; only the command's name is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Auth { .. } => "Auth",
            Self::DmSeal { .. } => "DmSeal",
            Self::DmOpen { .. } => "DmOpen",
            Self::Post { .. } => "Post",
            Self::Read { .. } => "Read",
        };
        write!(f, "CommunityCommand::{name}(<redacted>)")
    }
}

fn keys_from(value: Option<&str>, file: Option<&Path>) -> Result<Keypair, CliError> {
    let text = secret::require("--seed", value, file, "METALESS_SEED")?;
    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed", e))?;
    Ok(Keypair::from_seed(&seed))
}

fn server_key(text: &str) -> Result<[u8; 32], CliError> {
    hex::decode_array(text.trim()).map_err(|e| CliError::context("--server-pubkey", e))
}

fn blinded_id(flag: &str, text: &str) -> Result<SessionId, CliError> {
    text.trim().parse().map_err(|e| CliError::context(flag, e))
}

/// The `auth` subcommand's output line: the four headers as a JSON object in the order the
/// server reads them (`X-SOGS-Pubkey`, `-Timestamp`, `-Nonce`, `-Signature`).
pub fn auth_text(command: CommunityCommand) -> Result<String, CliError> {
    match command {
        CommunityCommand::Auth {
            seed,
            seed_file,
            server_pubkey,
            method,
            path,
            timestamp,
            nonce,
            body_file,
            unblinded,
        } => {
            let keys = keys_from(seed.as_deref(), seed_file.as_deref())?;
            let server = server_key(&server_pubkey)?;
            let nonce: [u8; 16] =
                hex::decode_array(nonce.trim()).map_err(|e| CliError::context("--nonce", e))?;
            let body = match body_file {
                Some(p) => std::fs::read(&p)
                    .map_err(|e| CliError(format!("--body-file {}: {e}", p.display())))?,
                None => Vec::new(),
            };
            let mode = if unblinded {
                AuthMode::Unblinded
            } else {
                AuthMode::Blinded15
            };
            let headers = auth::sign(
                &keys,
                &server,
                mode,
                method.trim(),
                &path,
                &body,
                timestamp,
                nonce,
            );
            // Written by hand: the issue fixes the key order (Pubkey, Timestamp, Nonce,
            // Signature) and a serde_json map would sort the keys.
            let fields: Vec<String> = headers
                .pairs()
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k), Value::from(v)))
                .collect();
            Ok(format!("{{{}}}", fields.join(",")))
        }
        _ => Err(CliError("not an auth command".into())),
    }
}

/// Runs one `community` subcommand.
pub fn run(command: CommunityCommand) -> Result<Value, CliError> {
    match command {
        auth @ CommunityCommand::Auth { .. } => {
            let text = auth_text(auth)?;
            serde_json::from_str(&text).map_err(|e| CliError(format!("auth output: {e}")))
        }
        CommunityCommand::DmSeal {
            seed,
            seed_file,
            server_pubkey,
            to,
            plaintext_hex,
        } => {
            let keys = keys_from(seed.as_deref(), seed_file.as_deref())?;
            let server = server_key(&server_pubkey)?;
            let to = blinded_id("--to", &to)?;
            let plaintext = hex::decode(plaintext_hex.trim())
                .map_err(|e| CliError::context("--plaintext-hex", e))?;
            let data = dm::encrypt(&keys, &server, &to, &plaintext, &mut rand_core::OsRng)
                .map_err(|e| CliError::context("dm-seal", e))?;
            Ok(json!({ "data_b64": B64.encode(data) }))
        }
        CommunityCommand::DmOpen {
            seed,
            seed_file,
            server_pubkey,
            from,
            data_b64,
        } => {
            let keys = keys_from(seed.as_deref(), seed_file.as_deref())?;
            let server = server_key(&server_pubkey)?;
            let from = blinded_id("--from", &from)?;
            let data = B64
                .decode(data_b64.trim())
                .map_err(|e| CliError::context("--data-b64", e))?;
            // We are the recipient unless `from` is our own id (reading the outbox); the
            // recipient id is then unknown to this command, so only inbox DMs open here.
            let me = dm::own_blinded_id(&keys, &server, &from)
                .map_err(|e| CliError::context("--from", e))?;
            let opened = dm::decrypt(&keys, &server, &from, &me, &data)
                .map_err(|e| CliError::context("dm-open", e))?;
            Ok(json!({
                "plaintext_hex": hex::encode(&opened.message),
                "sender": opened.sender.to_string(),
            }))
        }
        CommunityCommand::Post { .. } | CommunityCommand::Read { .. } => {
            Err(CliError("a network command (see run_network)".into()))
        }
    }
}

impl CommunityCommand {
    /// Whether this is `post` or `read` (run by [`CommunityCommand::run_network`]).
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Post { .. } | Self::Read { .. })
    }

    /// Runs `post` and `read` (they print their own lines and choose the exit code: 1 when the
    /// network or the server did not); `None` for the other subcommands.
    pub fn run_network(&self) -> Option<ExitCode> {
        let result = match self {
            Self::Post { room, text } => post(room, text),
            Self::Read { room, since, limit } => read(room, *since, *limit),
            _ => return None,
        };
        Some(match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure(code, msg)) => {
                eprintln!("error: {}", msg.replace('\n', " "));
                ExitCode::from(code)
            }
        })
    }
}

/// A failure and its exit code (1: network or server, 2: input).
struct Failure(u8, String);

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Self(2, e.to_string())
    }
}

type Peer = Driver<HttpTransport, TokioClock>;

/// The room, the driver over the testnet's nodes and the community client of one account.
fn open(args: &RoomArgs) -> Result<(CommunityUrl, Peer, CommunityClient), Failure> {
    let (config, file) = crate::messaging::testnet_config(&args.bootstrap, None)?;
    let url_text = match (&args.url, file["community"]["url"].as_str()) {
        (Some(u), _) => u.clone(),
        (None, Some(u)) => u.to_owned(),
        (None, None) => {
            return Err(
                CliError("give --url (the bootstrap file lists no community)".into()).into(),
            );
        }
    };
    let url = CommunityUrl::parse(url_text.trim()).map_err(|e| CliError::context("--url", e))?;
    let text = secret::require("--seed", None, args.seed_file.as_deref(), "METALESS_SEED")?;
    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed-file", e))?;
    let mut rng_seed = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut rng_seed);
    let client = Client::new(Keypair::from_seed(&seed), config, rng_seed, wall_clock_ms());
    rand_core::OsRng.fill_bytes(&mut rng_seed);
    let community = CommunityClient::new(Keypair::from_seed(&seed), rng_seed);
    let peer = Driver::new(client, HttpTransport::default(), TokioClock);
    Ok((url, peer, community))
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure(1, format!("runtime: {e}")))
}

/// Runs `op` to its outcome; a failure (the server's status, or no path) is exit 1.
async fn outcome(
    peer: &mut Peer,
    community: &mut CommunityClient,
    timeout_ms: u64,
    op: Result<metaless_client::OpId, metaless_client::community::CommunityClientError>,
) -> Result<CommunityEvent, Failure> {
    let op = op.map_err(|e| Failure(2, e.to_string()))?;
    match community.wait_op(peer, timeout_ms, op).await {
        Some(CommunityEvent::Failed { error, .. }) => Err(Failure(1, error.to_string())),
        Some(event) => Ok(event),
        None => Err(Failure(
            1,
            format!("no answer from the community server within {timeout_ms} ms"),
        )),
    }
}

fn post(args: &RoomArgs, text: &str) -> Result<(), Failure> {
    let (url, mut peer, mut community) = open(args)?;
    runtime()?.block_on(async {
        let now = peer.now();
        let op = community.post(peer.client(), now, &url, &Content::text(text), Vec::new());
        match outcome(&mut peer, &mut community, args.timeout_ms, op).await? {
            CommunityEvent::Posted { message, seqno, .. } => {
                println!("{}", json!({"ok": true, "id": message, "seqno": seqno}));
                Ok(())
            }
            other => Err(Failure(1, format!("unexpected answer: {other:?}"))),
        }
    })
}

/// One `read` output line.
fn post_line(post: &Post) -> Value {
    json!({
        "id": post.id,
        "seqno": post.seqno,
        "sender": post.sender.to_string(),
        "text": post.text(),
        "posted": post.posted,
    })
}

/// The most pages `read` without `--limit` asks for (64 × 256 updates).
const MAX_READ_PAGES: usize = 64;

fn read(args: &RoomArgs, since: u64, limit: Option<u32>) -> Result<(), Failure> {
    let (url, mut peer, mut community) = open(args)?;
    community.resume(&url, since);
    runtime()?.block_on(async {
        for _ in 0..MAX_READ_PAGES {
            let now = peer.now();
            let op = community.poll_up_to(peer.client(), now, &url, limit.unwrap_or(POLL_LIMIT));
            let done = outcome(&mut peer, &mut community, args.timeout_ms, op).await?;
            print_updates(&mut community);
            if limit.is_some() || !matches!(done, CommunityEvent::Polled { more: true, .. }) {
                return Ok(());
            }
        }
        eprintln!("stopped after {MAX_READ_PAGES} pages: read on with --since the last seqno");
        Ok(())
    })
}

/// Prints the posts (new or edited) a poll reported; rejected ones are named on stderr.
fn print_updates(community: &mut CommunityClient) {
    while let Some(event) = community.poll_event() {
        match event {
            CommunityEvent::Post { post, .. } | CommunityEvent::Edited { post, .. } => {
                println!("{}", post_line(&post));
            }
            CommunityEvent::Rejected {
                message, reason, ..
            } => {
                eprintln!("message {message} left out: {reason}");
            }
            _ => {}
        }
    }
}
