//! `metaless config`: the user config message pipeline by hand, for auditors — encrypt and
//! decrypt exactly as stored, and read a stored push (decrypt, unpad, inflate, parse).
//!
//! Only the account's own configs (namespaces 2–5): their key base is the account seed. Group
//! configs (13, 14) are encrypted with the group's keys and are not read here.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use metaless_config::bt::{Dict, Value as Bt};
use metaless_config::limits::MAX_MESSAGE_SIZE;
use metaless_config::{ConfigMessage, Kind, encrypt, push};
use metaless_identity::{Keypair, Seed, hex};
use serde_json::{Map, Value, json};

use crate::cli_error::CliError;
use crate::secret;

/// `metaless config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Encrypt a file's bytes exactly as given (already serialized and padded) with the
    /// namespace's key and domain: `{"data_hex":…}` (ciphertext then nonce, as stored).
    Encrypt(EncryptArgs),
    /// Decrypt stored bytes (ciphertext then nonce): `{"plaintext_hex":…}`, padding kept.
    Decrypt(DataArgs),
    /// Read a stored push (protobuf-wrapped or raw): decrypt, unpad, inflate and parse it:
    /// `{"kind":…,"seqno":N,"hash":hex,"data":{…}}`; bt strings are JSON strings when they are
    /// printable UTF-8, else `{"hex":…}`.
    Read(DataArgs),
}

/// The account and namespace every `config` subcommand needs.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Account seed, 64 hex digits (visible to local users: prefer `--seed-file` or
    /// `METALESS_SEED`).
    #[arg(long, value_name = "HEX")]
    seed: Option<String>,
    /// File holding the seed (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    seed_file: Option<PathBuf>,
    /// The config's namespace: 2 UserProfile, 3 Contacts, 4 ConvoInfoVolatile, 5 UserGroups.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    namespace: i16,
}

/// Arguments of `metaless config encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// The bytes to encrypt.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
}

/// Arguments of `metaless config decrypt` and `read`.
#[derive(Debug, Args)]
pub struct DataArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// The stored message, hex (`-` reads it from stdin: a full-size message is longer than
    /// one command-line argument may be).
    #[arg(long, value_name = "HEX")]
    data_hex: String,
}

fn seed_and_kind(args: &KeyArgs) -> Result<(Seed, Kind), CliError> {
    let kind = Kind::from_namespace(args.namespace)
        .filter(|k| Kind::USER.contains(k))
        .ok_or_else(|| {
            CliError(format!(
                "--namespace {}: not an account config (2 UserProfile, 3 Contacts, 4 ConvoInfoVolatile, 5 UserGroups)",
                args.namespace
            ))
        })?;
    let text = secret::require(
        "--seed",
        args.seed.as_deref(),
        args.seed_file.as_deref(),
        "METALESS_SEED",
    )?;
    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed", e))?;
    Ok((seed, kind))
}

fn data(text: &str) -> Result<Vec<u8>, CliError> {
    // A full-size message (153,600 hex digits) is longer than Linux lets one argument be.
    let text = if text == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .take(2 * MAX_MESSAGE_SIZE as u64 + 3)
            .read_to_string(&mut buf)
            .map_err(|e| CliError(format!("--data-hex from stdin: {e}")))?;
        buf
    } else {
        text.to_owned()
    };
    let bytes = hex::decode(text.trim()).map_err(|e| CliError::context("--data-hex", e))?;
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(CliError(format!(
            "--data-hex: {} bytes, over the {MAX_MESSAGE_SIZE} a config message may have",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// A bt value as JSON: printable UTF-8 strings stay strings, other bytes become `{"hex":…}`.
pub fn bt_json(v: &Bt) -> Value {
    match v {
        Bt::Int(i) => json!(i),
        Bt::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) if !s.chars().any(char::is_control) => json!(s),
            _ => json!({ "hex": hex::encode(b) }),
        },
        Bt::List(items) => Value::Array(items.iter().map(bt_json).collect()),
        Bt::Dict(d) => dict_json(d),
    }
}

fn dict_json(d: &Dict) -> Value {
    let mut out = Map::new();
    for (k, v) in d {
        // Keys are byte strings; hex-prefix the rare non-UTF-8 one so it cannot collide.
        let key = match std::str::from_utf8(k) {
            Ok(s) => s.to_owned(),
            Err(_) => format!("0x{}", hex::encode(k)),
        };
        out.insert(key, bt_json(v));
    }
    Value::Object(out)
}

/// Runs a `metaless config` subcommand.
pub fn run(cmd: ConfigCommand) -> Result<Value, CliError> {
    match cmd {
        ConfigCommand::Encrypt(args) => {
            let (seed, kind) = seed_and_kind(&args.key)?;
            let plain = std::fs::read(&args.input)
                .map_err(|e| CliError(format!("--in {}: {e}", args.input.display())))?;
            let out = encrypt::encrypt(&plain, seed.expose_secret(), kind.domain())
                .map_err(|e| CliError::context("encrypt", e))?;
            if out.len() > MAX_MESSAGE_SIZE {
                return Err(CliError(format!(
                    "--in: encrypts to {} bytes, over the {MAX_MESSAGE_SIZE} the network carries",
                    out.len()
                )));
            }
            Ok(json!({ "data_hex": hex::encode(&out) }))
        }
        ConfigCommand::Decrypt(args) => {
            let (seed, kind) = seed_and_kind(&args.key)?;
            let stored = data(&args.data_hex)?;
            let plain =
                encrypt::decrypt(&stored, seed.expose_secret(), kind.domain()).map_err(|e| {
                    CliError::context("decrypt (wrong seed or namespace, or altered data)", e)
                })?;
            Ok(json!({ "plaintext_hex": hex::encode(plain.as_slice()) }))
        }
        ConfigCommand::Read(args) => {
            let (seed, kind) = seed_and_kind(&args.key)?;
            let stored = data(&args.data_hex)?;
            let me = Keypair::from_seed(&seed);
            let serialized = push::open_user(&me, &seed, kind, &stored).map_err(|e| {
                CliError::context("read (wrong seed or namespace, or altered data)", e)
            })?;
            let message = ConfigMessage::parse(&serialized, None)
                .map_err(|e| CliError::context("read", e))?;
            Ok(json!({
                "kind": format!("{kind:?}"),
                "namespace": kind.namespace(),
                "seqno": message.seqno(),
                "hash": hex::encode(&message.hash()),
                "data": dict_json(message.data()),
            }))
        }
    }
}
