//! `metaless community …`: sign a community request, seal and open a blinded DM.
//!
//! These are the byte-level tools (no network): `auth` prints the four `X-SOGS-*` headers for a
//! request exactly as they would be sent, `dm-seal`/`dm-open` run the blinded-DM cipher of a
//! community inbox.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use clap::Subcommand;
use metaless_community::{AuthMode, auth, dm};
use metaless_identity::{Keypair, Seed, SessionId, hex};
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
}

impl fmt::Debug for CommunityCommand {
    // Arguments hold secrets; only the command's name is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Auth { .. } => "Auth",
            Self::DmSeal { .. } => "DmSeal",
            Self::DmOpen { .. } => "DmOpen",
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
    }
}
