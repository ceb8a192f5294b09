//! `metaless msg …`: one-to-one message encryption, raw and in the stored envelope form.
//!
//! `encrypt` / `decrypt` are the raw sign-then-seal layer (any bytes, no protobuf); `seal` /
//! `open` produce and read the exact bytes a Session client stores in a swarm for a text message.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Subcommand, ValueEnum};
use metaless_envelope::{Content, DisappearMode, Disappearing};
use metaless_identity::{Keypair, Seed, SessionId};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

/// Message commands.
#[derive(Subcommand)]
pub enum MsgCommand {
    /// Sign and seal the bytes of a file for a recipient (raw, no protobuf).
    Encrypt {
        /// The sender's seed: 64 hex digits (or 32 for a legacy seed); `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --sender-seed-file or $METALESS_SENDER_SEED.
        #[arg(long = "sender-seed", value_name = "HEX")]
        sender_seed: Option<String>,
        /// File holding the sender's seed (`-`: stdin).
        #[arg(
            long = "sender-seed-file",
            value_name = "FILE",
            conflicts_with = "sender_seed"
        )]
        sender_seed_file: Option<PathBuf>,
        /// The recipient's Session ID (05…).
        #[arg(long, value_name = "SESSIONID")]
        to: String,
        /// File holding the plaintext (`-` for standard input).
        #[arg(long = "in", value_name = "F")]
        input: String,
    },
    /// Open and verify a raw ciphertext addressed to this account.
    Decrypt {
        /// The recipient's seed: 64 hex digits (or 32 for a legacy seed); `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --seed-file or $METALESS_SEED.
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// File holding the recipient's seed (`-`: stdin).
        #[arg(long = "seed-file", value_name = "FILE", conflicts_with = "seed")]
        seed_file: Option<PathBuf>,
        /// File holding the ciphertext, as raw bytes or base64 text (`-` for standard input).
        #[arg(long = "in", value_name = "F")]
        input: String,
    },
    /// Build the stored form of a text message: the exact bytes a Session client keeps.
    Seal {
        /// The sender's seed: 64 hex digits (or 32 for a legacy seed); `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --sender-seed-file or $METALESS_SENDER_SEED.
        #[arg(long = "sender-seed", value_name = "HEX")]
        sender_seed: Option<String>,
        /// File holding the sender's seed (`-`: stdin).
        #[arg(
            long = "sender-seed-file",
            value_name = "FILE",
            conflicts_with = "sender_seed"
        )]
        sender_seed_file: Option<PathBuf>,
        /// The recipient's Session ID (05…).
        #[arg(long, value_name = "SESSIONID")]
        to: String,
        /// The message text.
        #[arg(long, value_name = "STR")]
        text: String,
        /// Sent timestamp in milliseconds since the Unix epoch (default: now).
        #[arg(long = "sent-at-ms", value_name = "N")]
        sent_at_ms: Option<u64>,
        /// Make the message disappear (needs --timer-s).
        #[arg(long, value_enum, requires = "timer_s")]
        disappear: Option<Mode>,
        /// Disappearing timer in seconds (needs --disappear).
        #[arg(long = "timer-s", value_name = "N", requires = "disappear")]
        timer_s: Option<u32>,
    },
    /// Open a stored message addressed to this account.
    Open {
        /// The recipient's seed: 64 hex digits (or 32 for a legacy seed); `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --seed-file or $METALESS_SEED.
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// File holding the recipient's seed (`-`: stdin).
        #[arg(long = "seed-file", value_name = "FILE", conflicts_with = "seed")]
        seed_file: Option<PathBuf>,
        /// The stored message bytes, base64.
        #[arg(long = "data-b64", value_name = "STR")]
        data_b64: String,
    },
}

/// When a disappearing message's timer starts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    /// From sending.
    AfterSend,
    /// From reading.
    AfterRead,
}

impl fmt::Debug for MsgCommand {
    // Arguments hold seeds and plaintext; only the command's name is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Encrypt { .. } => "Encrypt",
            Self::Decrypt { .. } => "Decrypt",
            Self::Seal { .. } => "Seal",
            Self::Open { .. } => "Open",
        };
        write!(f, "MsgCommand::{name}(<redacted>)")
    }
}

/// Runs one `msg` subcommand.
pub fn run(command: MsgCommand) -> Result<Value, CliError> {
    match command {
        MsgCommand::Encrypt {
            sender_seed,
            sender_seed_file,
            to,
            input,
        } => {
            let sender = keypair(
                "--sender-seed",
                sender_seed.as_deref(),
                sender_seed_file.as_deref(),
                "METALESS_SENDER_SEED",
            )?;
            let to = recipient(&to)?;
            let plaintext = read_input(&input)?;
            let sealed = metaless_envelope::encrypt_for_recipient(
                &sender,
                &to,
                &plaintext,
                &mut rand_core::OsRng,
            )
            .map_err(|e| CliError::context("encrypt", e))?;
            Ok(json!({ "ciphertext_b64": BASE64.encode(sealed) }))
        }
        MsgCommand::Decrypt {
            seed,
            seed_file,
            input,
        } => {
            let me = keypair(
                "--seed",
                seed.as_deref(),
                seed_file.as_deref(),
                "METALESS_SEED",
            )?;
            let raw = read_input(&input)?;
            let ciphertext = base64_text(&raw).unwrap_or(raw);
            let opened = metaless_envelope::decrypt_incoming(&me, &ciphertext)
                .map_err(|e| CliError::context("decrypt", e))?;
            Ok(json!({
                "sender": opened.sender.to_string(),
                "plaintext_b64": BASE64.encode(opened.plaintext),
            }))
        }
        MsgCommand::Seal {
            sender_seed,
            sender_seed_file,
            to,
            text,
            sent_at_ms,
            disappear,
            timer_s,
        } => {
            let sender = keypair(
                "--sender-seed",
                sender_seed.as_deref(),
                sender_seed_file.as_deref(),
                "METALESS_SENDER_SEED",
            )?;
            let to = recipient(&to)?;
            let setting = match (disappear, timer_s) {
                (Some(mode), Some(timer)) => {
                    let mode = match mode {
                        Mode::AfterSend => DisappearMode::AfterSend,
                        Mode::AfterRead => DisappearMode::AfterRead,
                    };
                    Some(
                        Disappearing::new(mode, timer)
                            .ok_or_else(|| CliError("--timer-s: must be at least 1".into()))?,
                    )
                }
                _ => None,
            };
            let sent_at_ms = match sent_at_ms {
                Some(ms) => ms,
                None => now_ms()?,
            };
            let content = Content::text(text).disappearing(setting);
            let stored = metaless_envelope::seal_message(
                &sender,
                &to,
                &content,
                sent_at_ms,
                &mut rand_core::OsRng,
            )
            .map_err(|e| CliError::context("seal", e))?;
            Ok(json!({ "data_b64": BASE64.encode(stored) }))
        }
        MsgCommand::Open {
            seed,
            seed_file,
            data_b64,
        } => {
            let me = keypair(
                "--seed",
                seed.as_deref(),
                seed_file.as_deref(),
                "METALESS_SEED",
            )?;
            let data = BASE64
                .decode(data_b64.trim())
                .map_err(|e| CliError::context("--data-b64", e))?;
            let received = metaless_envelope::open_message(&me, &data)
                .map_err(|e| CliError::context("open", e))?;
            let disappear = match received.content.disappearing {
                Some(setting) => {
                    json!({ "type": setting.mode.as_str(), "timer_s": setting.timer_s })
                }
                None => Value::Null,
            };
            Ok(json!({
                "sender": received.sender.to_string(),
                "text": received.content.as_text(),
                "sent_at_ms": received.sent_at_ms,
                "disappear": disappear,
            }))
        }
    }
}

/// The keys of a seed given as `flag` (argv), `flag-file`, `env` or stdin.
fn keypair(
    flag: &str,
    value: Option<&str>,
    file: Option<&Path>,
    env: &str,
) -> Result<Keypair, CliError> {
    let hex = secret::require(flag, value, file, env)?;
    let seed = Seed::from_hex(&hex).map_err(|e| CliError::context(flag, e))?;
    Ok(Keypair::from_seed(&seed))
}

fn recipient(text: &str) -> Result<SessionId, CliError> {
    text.trim()
        .parse()
        .map_err(|e| CliError::context("--to", e))
}

fn read_input(path: &str) -> Result<Vec<u8>, CliError> {
    if path == "-" {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .map_err(|e| CliError::context("--in", e))?;
        return Ok(data);
    }
    std::fs::read(path).map_err(|e| CliError::context("--in", e))
}

/// The decoded bytes if `raw` is base64 text (a raw ciphertext practically never is: every
/// one of its 144+ bytes would have to be a base64 character).
fn base64_text(raw: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(raw).ok()?;
    BASE64.decode(text.trim()).ok()
}

fn now_ms() -> Result<u64, CliError> {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| CliError::context("clock", e))?;
    u64::try_from(elapsed.as_millis()).map_err(|e| CliError::context("clock", e))
}
