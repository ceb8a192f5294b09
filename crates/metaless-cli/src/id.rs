//! `metaless id …`: create, restore and blind account identities.
//!
//! The seed and recovery phrase are printed because showing them is the point of these commands
//! (an account that is not written down is lost); nothing else in the CLI prints secrets.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use metaless_identity::{Keypair, Seed, blinding, hex, mnemonic};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

/// Account identity commands.
#[derive(Subcommand)]
pub enum IdCommand {
    /// Create a new account: 16 bytes of fresh entropy as the Session apps do (13-word phrase),
    /// or the account of a given seed.
    New {
        /// Use this seed instead of a random one: 64 hex digits, or 32 for a legacy 16-byte
        /// seed; `-` reads stdin. On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --seed-file or $METALESS_SEED.
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// File holding the seed (`-`: stdin).
        #[arg(long = "seed-file", value_name = "FILE", conflicts_with = "seed")]
        seed_file: Option<PathBuf>,
    },
    /// Restore an account from its recovery phrase (13 or 25 words; 12 or 24 without checksum).
    Restore {
        /// The phrase, words separated by spaces (quote it); `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --mnemonic-file or $METALESS_MNEMONIC.
        #[arg(long, value_name = "WORDS")]
        mnemonic: Option<String>,
        /// File holding the phrase (`-`: stdin).
        #[arg(
            long = "mnemonic-file",
            value_name = "FILE",
            conflicts_with = "mnemonic"
        )]
        mnemonic_file: Option<PathBuf>,
    },
    /// Show the account's 15- and 25-blinded IDs on a community server.
    Blind {
        /// The account seed: 64 hex digits (or 32 for a legacy seed); `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --seed-file or $METALESS_SEED.
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// File holding the seed (`-`: stdin).
        #[arg(long = "seed-file", value_name = "FILE", conflicts_with = "seed")]
        seed_file: Option<PathBuf>,
        /// The community server's Ed25519 public key: 64 hex digits.
        #[arg(long = "server-pk", value_name = "HEX")]
        server_pk: String,
    },
}

impl fmt::Debug for IdCommand {
    // Arguments hold secrets; only the command's name is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::New { .. } => "New",
            Self::Restore { .. } => "Restore",
            Self::Blind { .. } => "Blind",
        };
        write!(f, "IdCommand::{name}(<redacted>)")
    }
}

/// Runs one `id` subcommand.
pub fn run(command: IdCommand) -> Result<Value, CliError> {
    match command {
        IdCommand::New { seed, seed_file } => {
            match secret::read(
                "--seed",
                seed.as_deref(),
                seed_file.as_deref(),
                "METALESS_SEED",
            )? {
                None => Ok(describe(&Seed::generate(&mut rand_core::OsRng))),
                Some(text) => {
                    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed", e))?;
                    Ok(describe(&seed))
                }
            }
        }
        IdCommand::Restore {
            mnemonic,
            mnemonic_file,
        } => {
            let phrase = secret::require(
                "--mnemonic",
                mnemonic.as_deref(),
                mnemonic_file.as_deref(),
                "METALESS_MNEMONIC",
            )?;
            let seed =
                mnemonic::to_seed(&phrase).map_err(|e| CliError::context("--mnemonic", e))?;
            Ok(describe(&seed))
        }
        IdCommand::Blind {
            seed,
            seed_file,
            server_pk,
        } => {
            let seed = seed_from(seed.as_deref(), seed_file.as_deref())?;
            let server_pk: [u8; 32] = hex::decode_array(server_pk.trim())
                .map_err(|e| CliError::context("--server-pk", e))?;
            let keys = Keypair::from_seed(&seed);
            // The 15 ID the account actually presents (its Ed25519 key's own sign), not the
            // sign-less candidate pair a Session ID alone gives.
            let blinded15 = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &server_pk)
                .map_err(|e| CliError::context("--server-pk", e))?;
            let blinded25 = blinding::blind25_id(&keys.session_id(), &server_pk)
                .map_err(|e| CliError::context("--server-pk", e))?;
            Ok(json!({
                "blinded15": blinded15.to_string(),
                "blinded25": blinded25.to_string(),
            }))
        }
    }
}

/// A required seed: `--seed`, `--seed-file`, `METALESS_SEED` or stdin.
fn seed_from(value: Option<&str>, file: Option<&Path>) -> Result<Seed, CliError> {
    let text = secret::require("--seed", value, file, "METALESS_SEED")?;
    Seed::from_hex(&text).map_err(|e| CliError::context("--seed", e))
}

/// The account a seed gives, as printed by `id new` and `id restore`.
fn describe(seed: &Seed) -> Value {
    let keys = Keypair::from_seed(seed);
    let phrase = mnemonic::to_phrase(seed);
    json!({
        "seed": hex::encode(seed.expose_secret()),
        "ed25519_pk": hex::encode(&keys.ed25519_public()),
        "x25519_pk": hex::encode(&keys.x25519_public()),
        "session_id": keys.session_id().to_string(),
        "mnemonic": phrase.expose_secret(),
    })
}
