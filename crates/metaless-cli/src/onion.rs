//! `metaless onion …`: build an onion request, peel one layer as a hop, answer as the
//! destination, open the answer — the whole path by hand, for research and interop testing.
//!
//! Binary inputs (`--payload-file`, `--in`) are raw bytes; binary outputs are base64. `build`
//! prints the reply secret (the innermost layer's ephemeral key) because taking the reply to
//! `open-response` by hand is the point of this command; nothing else prints secrets.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Subcommand;
use metaless_identity::{X25519Secret, hex};
use metaless_onion::{
    Destination, EncType, Hop, NodeKey, Peeled, PendingResponse, ReplyContext, ServerDestination,
    build, peel,
};
use serde_json::{Value, json};

use crate::cli_error::CliError;

/// Onion request commands.
#[derive(Subcommand)]
pub enum OnionCommand {
    /// Build a request through the given hops (first hop first) to a service node or a server.
    Build {
        /// A path hop as ED25519:X25519 (64 hex digits each); repeat, first hop first.
        #[arg(long = "hop", value_name = "ED:X", required = true)]
        hops: Vec<String>,
        /// Destination service node as ED25519:X25519.
        #[arg(
            long = "to-node",
            value_name = "ED:X",
            conflicts_with = "to_server",
            required_unless_present = "to_server"
        )]
        to_node: Option<String>,
        /// Destination HTTP server as `http(s)://host[:port][/target]`; the target defaults to /oxen/v4/lsrpc.
        #[arg(long = "to-server", value_name = "URL", requires = "server_x25519")]
        to_server: Option<String>,
        /// The server's X25519 public key (64 hex digits).
        #[arg(long = "server-x25519", value_name = "X")]
        server_x25519: Option<String>,
        /// Encryption type: xchacha20 (default) or aes-gcm.
        #[arg(long, value_name = "ENC", default_value = "xchacha20")]
        enc: String,
        /// File holding the payload (a JSON storage request for a node, a v4 request for a server).
        #[arg(long = "payload-file", value_name = "F")]
        payload_file: String,
    },
    /// Peel one layer as the node owning the X25519 secret.
    Peel {
        /// The node's X25519 secret key (64 hex digits); `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --x25519-secret-file or $METALESS_X25519_SECRET.
        #[arg(long = "x25519-secret", value_name = "HEX")]
        x25519_secret: Option<String>,
        /// File holding the X25519 secret key (`-`: stdin).
        #[arg(
            long = "x25519-secret-file",
            value_name = "FILE",
            conflicts_with = "x25519_secret"
        )]
        x25519_secret_file: Option<PathBuf>,
        /// File holding the body the node received.
        #[arg(long = "in", value_name = "F")]
        input: String,
    },
    /// Encrypt a reply as the destination.
    Respond {
        /// The destination's X25519 secret key (64 hex digits); `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --x25519-secret-file or $METALESS_X25519_SECRET.
        #[arg(long = "x25519-secret", value_name = "HEX")]
        x25519_secret: Option<String>,
        /// File holding the X25519 secret key (`-`: stdin).
        #[arg(
            long = "x25519-secret-file",
            value_name = "FILE",
            conflicts_with = "x25519_secret"
        )]
        x25519_secret_file: Option<PathBuf>,
        /// The client's ephemeral key the destination saw (from `peel`).
        #[arg(long = "ephemeral-key", value_name = "HEX")]
        ephemeral_key: String,
        /// Encryption type of the request.
        #[arg(long, value_name = "ENC")]
        enc: String,
        /// File holding the reply plaintext.
        #[arg(long = "in", value_name = "F")]
        input: String,
    },
    /// Open a reply with the secret `build` printed.
    OpenResponse {
        /// The reply secret from `build`; `-` reads stdin.
        /// On the command line it is visible to other local users (ps, /proc) and kept in shell history: prefer --reply-secret-file or $METALESS_REPLY_SECRET.
        #[arg(long = "reply-secret", value_name = "HEX")]
        reply_secret: Option<String>,
        /// File holding the reply secret (`-`: stdin).
        #[arg(
            long = "reply-secret-file",
            value_name = "FILE",
            conflicts_with = "reply_secret"
        )]
        reply_secret_file: Option<PathBuf>,
        /// The destination's X25519 public key.
        #[arg(long = "dest-x25519", value_name = "HEX")]
        dest_x25519: String,
        /// Encryption type of the request.
        #[arg(long, value_name = "ENC")]
        enc: String,
        /// File holding the reply: raw bytes or their base64 text.
        #[arg(long = "in", value_name = "F")]
        input: String,
    },
}

impl fmt::Debug for OnionCommand {
    // Arguments hold secrets; only the command's name is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Build { .. } => "Build",
            Self::Peel { .. } => "Peel",
            Self::Respond { .. } => "Respond",
            Self::OpenResponse { .. } => "OpenResponse",
        };
        write!(f, "OnionCommand::{name}(<redacted>)")
    }
}

fn key(what: &str, text: &str) -> Result<[u8; 32], CliError> {
    hex::decode_array(text.trim()).map_err(|e| CliError::context(what, e))
}

/// An X25519 secret given as `what` (argv), `what-file`, `env` or stdin.
fn secret(
    what: &str,
    value: Option<&str>,
    file: Option<&Path>,
    env: &str,
) -> Result<X25519Secret, CliError> {
    let text = crate::secret::require(what, value, file, env)?;
    X25519Secret::from_hex(&text).map_err(|e| CliError::context(what, e))
}

fn hop(what: &str, text: &str) -> Result<Hop, CliError> {
    let (ed, x) = text
        .split_once(':')
        .ok_or_else(|| CliError(format!("{what}: expected ED25519:X25519")))?;
    Ok(Hop::new(key(what, ed)?, key(what, x)?))
}

fn enc(text: &str) -> Result<EncType, CliError> {
    text.parse().map_err(|e| CliError::context("--enc", e))
}

fn read(what: &str, path: &str) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::context(what, e))
}

/// The parts of `http(s)://host[:port][/target]`: protocol, host, port (80 / 443 when absent)
/// and target (`""` when absent). `flag` names the input in errors.
pub(crate) fn server_url<'a>(
    flag: &str,
    url: &'a str,
) -> Result<(&'a str, &'a str, u16, &'a str), CliError> {
    let bad = |why: &str| CliError(format!("{flag}: {why}"));
    let (protocol, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected http(s)://host[:port][/target]"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        (addr, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().map_err(|_| bad("invalid port"))?,
        None if protocol == "https" => 443,
        None => 80,
    };
    Ok((protocol, host, port, if path == "/" { "" } else { path }))
}

/// `http(s)://host[:port][/target]` as a server destination with X25519 key `x25519`.
pub(crate) fn server(
    flag: &str,
    url: &str,
    x25519: [u8; 32],
) -> Result<ServerDestination, CliError> {
    let (protocol, host, port, path) = server_url(flag, url)?;
    let dest = ServerDestination::new(host, port, protocol, x25519)
        .map_err(|e| CliError::context(flag, e))?;
    if path.is_empty() {
        Ok(dest)
    } else {
        dest.with_target(path)
            .map_err(|e| CliError::context(flag, e))
    }
}

/// Runs one `onion` subcommand.
pub fn run(command: OnionCommand) -> Result<Value, CliError> {
    match command {
        OnionCommand::Build {
            hops,
            to_node,
            to_server,
            server_x25519,
            enc: enc_name,
            payload_file,
        } => {
            let path = hops
                .iter()
                .map(|h| hop("--hop", h))
                .collect::<Result<Vec<_>, _>>()?;
            let destination = match (to_node, to_server, server_x25519) {
                (Some(node), None, _) => Destination::ServiceNode(hop("--to-node", &node)?),
                (None, Some(url), Some(x)) => {
                    Destination::Server(server("--to-server", &url, key("--server-x25519", &x)?)?)
                }
                _ => {
                    return Err(CliError(
                        "give --to-node, or --to-server with --server-x25519".into(),
                    ));
                }
            };
            let payload = read("--payload-file", &payload_file)?;
            let built = build(
                &path,
                &destination,
                &payload,
                enc(&enc_name)?,
                &mut rand_core::OsRng,
            )
            .map_err(|e| CliError::context("build", e))?;
            let reply_secret = built.pending.into_reply_secret();
            Ok(json!({
                "first_hop": hex::encode(&built.first_hop),
                "body_b64": STANDARD.encode(&built.body),
                "reply_secret_hex": hex::encode(reply_secret.expose_secret()),
            }))
        }
        OnionCommand::Peel {
            x25519_secret,
            x25519_secret_file,
            input,
        } => {
            let node_secret = secret(
                "--x25519-secret",
                x25519_secret.as_deref(),
                x25519_secret_file.as_deref(),
                "METALESS_X25519_SECRET",
            )?;
            let body = read("--in", &input)?;
            match peel(&NodeKey::new(&node_secret), &body) {
                Ok(Peeled::Forward {
                    next_ed25519, body, ..
                }) => Ok(json!({
                    "kind": "forward",
                    "next": hex::encode(&next_ed25519),
                    "body_b64": STANDARD.encode(&body),
                })),
                Ok(Peeled::Server {
                    host,
                    target,
                    port,
                    protocol,
                    body,
                }) => Ok(json!({
                    "kind": "server",
                    "host": host,
                    "target": target,
                    "port": port,
                    "protocol": protocol,
                    "body_b64": STANDARD.encode(&body),
                })),
                Ok(Peeled::Deliver(delivery)) => Ok(json!({
                    "kind": "deliver",
                    "payload_b64": STANDARD.encode(delivery.payload()),
                    "ephemeral_key": hex::encode(&delivery.reply().client_ephemeral_key()),
                    "enc_type": delivery.reply().enc_type().as_str(),
                })),
                Ok(Peeled::Reject { error, .. }) => Err(CliError(format!(
                    "peel: layer rejected: {} {}",
                    error.status(),
                    error.body()
                ))),
                Ok(_) => Err(CliError("peel: unsupported outcome".into())),
                Err(e) => {
                    let hop = e.hop_error();
                    Err(CliError(format!(
                        "peel: {e} (a hop answers {} {})",
                        hop.status(),
                        hop.body()
                    )))
                }
            }
        }
        OnionCommand::Respond {
            x25519_secret,
            x25519_secret_file,
            ephemeral_key,
            enc: enc_name,
            input,
        } => {
            let node_secret = secret(
                "--x25519-secret",
                x25519_secret.as_deref(),
                x25519_secret_file.as_deref(),
                "METALESS_X25519_SECRET",
            )?;
            let client = key("--ephemeral-key", &ephemeral_key)?;
            let ctx = ReplyContext::new(&NodeKey::new(&node_secret), &client, enc(&enc_name)?)
                .map_err(|e| CliError::context("--ephemeral-key", e))?;
            let payload = read("--in", &input)?;
            let sealed = ctx
                .encrypt_response(&payload, &mut rand_core::OsRng)
                .map_err(|e| CliError::context("respond", e))?;
            Ok(json!({ "response_b64": STANDARD.encode(&sealed) }))
        }
        OnionCommand::OpenResponse {
            reply_secret,
            reply_secret_file,
            dest_x25519,
            enc: enc_name,
            input,
        } => {
            let reply_secret = secret(
                "--reply-secret",
                reply_secret.as_deref(),
                reply_secret_file.as_deref(),
                "METALESS_REPLY_SECRET",
            )?;
            let pending = PendingResponse::from_parts(
                reply_secret,
                key("--dest-x25519", &dest_x25519)?,
                enc(&enc_name)?,
            )
            .map_err(|e| CliError::context("--dest-x25519", e))?;
            let response = read("--in", &input)?;
            let payload = pending
                .open(&response)
                .map_err(|e| CliError::context("open-response", e))?;
            Ok(json!({ "payload_b64": STANDARD.encode(&payload) }))
        }
    }
}
