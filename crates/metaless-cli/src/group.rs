//! `metaless group …`: the byte-level group tools (no network).
//!
//! `subaccount` prints the 100-byte member auth data an admin hands a member, exactly as
//! upstream encodes it (flags header, blinding factor, group signature). `encrypt`/`decrypt`
//! run the group message cipher with an explicit key, for auditors checking bytes.
//! `create`/`invite`/`send`/`read` use groups over a testnet (see `group/net.rs`).

use std::path::PathBuf;

use clap::Subcommand;
use metaless_group::{
    GroupId, GroupKey, GroupKeyring, GroupKeys, MemberAuth, Permissions, SignatureForm,
    decrypt_payload, encrypt_payload,
};
use metaless_identity::{Keypair, Seed, SessionId, hex};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

pub(crate) mod net;

/// Group commands.
#[derive(Subcommand)]
pub enum GroupCommand {
    /// Make a member's sub-account auth data as the admin: `{"auth":hex}` (100 bytes: 03,
    /// flags, 00 00, factor k, group signature). Read is always granted.
    Subaccount {
        /// The group's 32-byte Ed25519 seed: 64 hex digits; `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --group-seed-file or $METALESS_GROUP_SEED.
        #[arg(long = "group-seed", value_name = "HEX")]
        group_seed: Option<String>,
        /// File holding the group seed (`-`: stdin).
        #[arg(
            long = "group-seed-file",
            value_name = "FILE",
            conflicts_with = "group_seed"
        )]
        group_seed_file: Option<PathBuf>,
        /// The member's `05` Session ID.
        #[arg(long, value_name = "SESSION_ID")]
        member: String,
        /// Grant store (flag 0x02).
        #[arg(long)]
        write: bool,
        /// Grant delete (flag 0x04).
        #[arg(long)]
        delete: bool,
    },
    /// Encrypt a group message payload: `{"ciphertext_hex"}` (nonce ‖ XChaCha20-Poly1305).
    Encrypt {
        /// The sender's account seed: 64 hex digits; `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --sender-seed-file or $METALESS_SEED.
        #[arg(long = "sender-seed", value_name = "HEX")]
        sender_seed: Option<String>,
        /// File holding the sender seed (`-`: stdin).
        #[arg(
            long = "sender-seed-file",
            value_name = "FILE",
            conflicts_with = "sender_seed"
        )]
        sender_seed_file: Option<PathBuf>,
        /// The group id (`03…`).
        #[arg(long, value_name = "ID")]
        group: String,
        /// The group encryption key: 64 hex digits.
        #[arg(long, value_name = "HEX")]
        key: String,
        /// The payload (normally an Envelope protobuf) in hex.
        #[arg(long = "plaintext-hex", value_name = "HEX")]
        plaintext_hex: String,
        /// The 24-byte nonce in hex (default: random).
        #[arg(long, value_name = "HEX")]
        nonce: Option<String>,
        /// Never zstd-compress (default: compress when smaller).
        #[arg(long = "no-compress")]
        no_compress: bool,
    },
    /// Decrypt a group message: `{"sender","sender_ed25519","plaintext_hex","signature","compressed","key_index"}`.
    Decrypt {
        /// The group id (`03…`).
        #[arg(long, value_name = "ID")]
        group: String,
        /// A group key to try: 64 hex digits (repeat for several; tried in order given).
        #[arg(long, value_name = "HEX", required = true)]
        key: Vec<String>,
        /// The stored message in hex (nonce ‖ ciphertext).
        #[arg(long = "ciphertext-hex", value_name = "HEX")]
        ciphertext_hex: String,
    },
    /// Create a group (this account its admin) and invite members one-to-one:
    /// `{"ok":true,"group":"03…","name","invited"}` once keys, info and members are stored.
    Create {
        #[command(flatten)]
        net: net::NetArgs,
        /// The group's name.
        #[arg(long)]
        name: String,
        /// A member to invite (`05…`; repeat for several).
        #[arg(long, value_name = "SESSION_ID")]
        member: Vec<String>,
    },
    /// Invite a member into a group this account administers (a new key generation).
    Invite {
        #[command(flatten)]
        net: net::NetArgs,
        /// The group (`03…`).
        #[arg(long, value_name = "ID")]
        group: String,
        /// The member (`05…`).
        #[arg(long, value_name = "SESSION_ID")]
        member: String,
    },
    /// Send a text to a group: `{"ok":true,"hash"}` once the group's swarm stored it.
    Send {
        #[command(flatten)]
        net: net::NetArgs,
        /// The group (`03…`).
        #[arg(long, value_name = "ID")]
        group: String,
        /// The message text.
        #[arg(long, value_name = "T")]
        text: String,
    },
    /// Read a group (accepting its invitation from the inbox first if needed): one
    /// `{"from","text","hash","timestamp_ms","generation"}` line per message, `{"undecryptable":hash}`
    /// per message no held key opens, then `{"ok":true,"messages":N,"removed"}`.
    Read {
        #[command(flatten)]
        net: net::NetArgs,
        /// The group (`03…`).
        #[arg(long, value_name = "ID")]
        group: String,
        /// Keep reading this long after the keys are in (ms).
        #[arg(long = "wait-ms", value_name = "N", default_value_t = 1_500)]
        wait_ms: u64,
    },
}

impl GroupCommand {
    /// The network subcommands, which print their own output and pick their exit code
    /// (1 when the network did not deliver); `None` for the offline ones.
    pub fn run_network(&self) -> Option<std::process::ExitCode> {
        Some(match self {
            Self::Create { net, name, member } => net::create(net, name, member),
            Self::Invite { net, group, member } => net::invite(net, group, member),
            Self::Send { net, group, text } => net::send(net, group, text),
            Self::Read {
                net,
                group,
                wait_ms,
            } => net::read(net, group, *wait_ms),
            _ => return None,
        })
    }
}

/// Runs one group command.
pub fn run(cmd: GroupCommand) -> Result<Value, CliError> {
    match cmd {
        GroupCommand::Subaccount {
            group_seed,
            group_seed_file,
            member,
            write,
            delete,
        } => {
            let text = secret::require(
                "--group-seed",
                group_seed.as_deref(),
                group_seed_file.as_deref(),
                "METALESS_GROUP_SEED",
            )?;
            let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--group-seed", e))?;
            let group = GroupKeys::from_seed(*seed.expose_secret());
            let member: SessionId = member
                .parse()
                .map_err(|e| CliError::context("--member", e))?;
            let perms = Permissions {
                read: true,
                write,
                delete,
            };
            let auth = MemberAuth::issue(&group, &member, perms)
                .map_err(|e| CliError::context("--member", e))?;
            Ok(json!({ "auth": hex::encode(auth.as_bytes()) }))
        }
        GroupCommand::Encrypt {
            sender_seed,
            sender_seed_file,
            group,
            key,
            plaintext_hex,
            nonce,
            no_compress,
        } => {
            let text = secret::require(
                "--sender-seed",
                sender_seed.as_deref(),
                sender_seed_file.as_deref(),
                "METALESS_SEED",
            )?;
            let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--sender-seed", e))?;
            let sender = Keypair::from_seed(&seed);
            let group: GroupId = group.parse().map_err(|e| CliError::context("--group", e))?;
            let key = parse_key(&key)?;
            let plain =
                hex::decode(&plaintext_hex).map_err(|e| CliError::context("--plaintext-hex", e))?;
            let nonce = match nonce {
                Some(n) => hex::decode_array(&n).map_err(|e| CliError::context("--nonce", e))?,
                None => {
                    let mut n = [0u8; 24];
                    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut n);
                    n
                }
            };
            let wire = encrypt_payload(&sender, &group, &key, &plain, !no_compress, nonce)?;
            Ok(json!({ "ciphertext_hex": hex::encode(&wire) }))
        }
        GroupCommand::Decrypt {
            group,
            key,
            ciphertext_hex,
        } => {
            let group: GroupId = group.parse().map_err(|e| CliError::context("--group", e))?;
            let wire = hex::decode(&ciphertext_hex)
                .map_err(|e| CliError::context("--ciphertext-hex", e))?;
            // One key at a time, in the order given, so the output can say which one opened it.
            let mut last = None;
            for (i, k) in key.iter().enumerate() {
                let mut ring = GroupKeyring::new(group);
                ring.insert(&parse_key(k)?);
                match decrypt_payload(&ring, &wire) {
                    Ok(p) => {
                        return Ok(json!({
                            "sender": p.sender.to_string(),
                            "sender_ed25519": hex::encode(&p.sender_ed25519),
                            "plaintext_hex": hex::encode(&p.data),
                            "signature": match p.signature_form {
                                SignatureForm::Current => "current",
                                _ => "legacy",
                            },
                            "compressed": p.compressed,
                            "key_index": i,
                        }));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(CliError::context(
                "decrypt",
                last.map_or_else(|| "no key".to_owned(), |e| e.to_string()),
            ))
        }
        GroupCommand::Create { .. }
        | GroupCommand::Invite { .. }
        | GroupCommand::Send { .. }
        | GroupCommand::Read { .. } => Err(CliError("network command: see run_network".into())),
    }
}

fn parse_key(text: &str) -> Result<GroupKey, CliError> {
    let k: [u8; 32] = hex::decode_array(text).map_err(|e| CliError::context("--key", e))?;
    Ok(GroupKey::new(0, k, 0))
}

/// Prints the subcommand's name only: its arguments can hold seeds and keys.
impl std::fmt::Debug for GroupCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Subaccount { .. } => "Subaccount",
            Self::Encrypt { .. } => "Encrypt",
            Self::Decrypt { .. } => "Decrypt",
            Self::Create { .. } => "Create",
            Self::Invite { .. } => "Invite",
            Self::Send { .. } => "Send",
            Self::Read { .. } => "Read",
        })
    }
}
