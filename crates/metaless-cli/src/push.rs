//! `metaless push subscribe|unsubscribe|open`: push-notification registration by hand.
//!
//! `subscribe` and `unsubscribe` send the signed request through an onion path to the push
//! server a testnet's `bootstrap.json` names (`"push_server": {"url", "pubkey_x25519"}`), or to
//! `--push-url` / `--push-x25519`; `open` decrypts a push payload an app received.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand};
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, Client, Config, Driver, push_reply};
use metaless_envelope::push::{PushKey, PushReply, PushService};
use metaless_identity::{Keypair, Seed, hex};
use metaless_onion::ServerDestination;
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

/// Push notifications: register a device with the push server, open what it sends.
#[derive(Debug, Subcommand)]
pub enum PushCommand {
    /// Subscribe this account's namespaces to pushes for one device. Prints `{"ok":true,"reply":"added"|"updated","enc_key":HEX}`; keep `enc_key`: pushes open with it (`metaless push open`).
    #[command(
        after_help = "Example:\n  metaless push subscribe --bootstrap net/bootstrap.json --seed-file bob.seed --service firebase --token DEVICE-TOKEN"
    )]
    Subscribe(SubscribeArgs),
    /// Unsubscribe one device. Prints `{"ok":true,"removed":true|false}`.
    #[command(
        after_help = "Example:\n  metaless push unsubscribe --bootstrap net/bootstrap.json --seed-file bob.seed --service firebase --token DEVICE-TOKEN"
    )]
    Unsubscribe(PushArgs),
    /// Decrypt a push payload (base64) with the subscription's key and open the message in it. Prints `{"account","hash","namespace","data_len","from"?,"text"?}`.
    #[command(
        after_help = "Example:\n  metaless push open --seed-file bob.seed --enc-key HEX --payload BASE64"
    )]
    Open(OpenArgs),
}

/// What subscribe and unsubscribe share.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// A testnet's bootstrap.json (nodes, and the push server under `push_server`).
    #[arg(long, value_name = "FILE")]
    bootstrap: PathBuf,
    /// File holding the account seed (hex); `-` reads stdin. Without it: $METALESS_SEED.
    #[arg(long = "seed-file", value_name = "FILE")]
    seed_file: Option<PathBuf>,
    /// The push service name (`apns`, `firebase`, …).
    #[arg(long, value_name = "S")]
    service: String,
    /// The device token, sent as service info `{"token": T}` (opaque to metaless).
    #[arg(long, value_name = "T")]
    token: String,
    /// The push server's URL, instead of bootstrap.json's.
    #[arg(long = "push-url", value_name = "URL", requires = "push_x25519")]
    push_url: Option<String>,
    /// The push server's X25519 key (hex), with --push-url.
    #[arg(long = "push-x25519", value_name = "HEX")]
    push_x25519: Option<String>,
    /// How long to wait for the server's answer.
    #[arg(long = "timeout-ms", value_name = "N", default_value_t = 30_000)]
    timeout_ms: u64,
}

/// Options of `push subscribe`.
#[derive(Debug, Args)]
pub struct SubscribeArgs {
    #[command(flatten)]
    common: PushArgs,
    /// Namespaces to watch (comma-separated).
    #[arg(
        long,
        value_name = "N,N",
        value_delimiter = ',',
        default_value = "0",
        allow_negative_numbers = true
    )]
    namespaces: Vec<i16>,
    /// Ask for pushes without the (encrypted) message data.
    #[arg(long = "no-data")]
    no_data: bool,
    /// The 32-byte push key (hex) instead of a fresh random one.
    #[arg(long = "enc-key", value_name = "HEX")]
    enc_key: Option<String>,
}

/// Options of `push open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// File holding the account seed (hex); `-` reads stdin. Without it: $METALESS_SEED.
    #[arg(long = "seed-file", value_name = "FILE")]
    seed_file: Option<PathBuf>,
    /// The subscription's push key (hex), as `push subscribe` printed it.
    #[arg(long = "enc-key", value_name = "HEX")]
    enc_key: String,
    /// The push payload, base64.
    #[arg(long, value_name = "BASE64")]
    payload: String,
}

fn keys(seed_file: Option<&std::path::Path>) -> Result<Keypair, CliError> {
    let text = secret::require("--seed", None, seed_file, "METALESS_SEED")?;
    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed-file", e))?;
    Ok(Keypair::from_seed(&seed))
}

fn push_key(text: &str) -> Result<PushKey, CliError> {
    let bytes = hex::decode(text.trim()).map_err(|e| CliError::context("--enc-key", e))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| CliError("--enc-key: 64 hex digits".into()))?;
    Ok(PushKey::from_bytes(bytes))
}

/// The nodes and the push server of `args`.
fn network(args: &PushArgs) -> Result<(Config, ServerDestination), CliError> {
    let (config, file) = crate::messaging::testnet_config(&args.bootstrap, None)?;
    let (url, x25519) = match (&args.push_url, &args.push_x25519) {
        (Some(url), Some(key)) => (url.clone(), key.clone()),
        _ => {
            let entry = file.get("push_server").ok_or_else(|| {
                CliError("--bootstrap has no push_server: give --push-url and --push-x25519".into())
            })?;
            let field = |name: &str| {
                entry
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| CliError(format!("--bootstrap push_server.{name} missing")))
            };
            (field("url")?, field("pubkey_x25519")?)
        }
    };
    let key: [u8; 32] = hex::decode(&x25519)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| CliError("push server key: 64 hex digits".into()))?;
    let dest = crate::onion::server("push server url", &url, key)?;
    Ok((config, dest))
}

fn service(args: &PushArgs) -> Result<PushService, CliError> {
    let info = json!({ "token": args.token }).to_string();
    PushService::new(args.service.clone(), &info).map_err(|e| CliError::context("--service", e))
}

/// Runs one request built by `make` and waits for the server's answer.
fn request(
    args: &PushArgs,
    make: impl FnOnce(
        &mut Client,
        u64,
        &ServerDestination,
    ) -> Result<metaless_client::OpId, metaless_client::ClientError>,
) -> Result<PushReply, CliError> {
    let (config, dest) = network(args)?;
    let keys = keys(args.seed_file.as_deref())?;
    let mut rng = [0u8; 32];
    OsRng.fill_bytes(&mut rng);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = Client::new(keys, config, rng, wall_clock_ms());
        let mut peer = Driver::new(client, HttpTransport::default(), TokioClock);
        let now = peer.now();
        let id = make(peer.client(), now, &dest).map_err(|e| CliError::context("push", e))?;
        let answer = peer
            .wait_for(args.timeout_ms, |e| {
                matches!(e, metaless_client::Event::ServerResponse { id: d, .. }
                    | metaless_client::Event::Failed { id: d, .. } if *d == id)
            })
            .await;
        match answer {
            Some(metaless_client::Event::ServerResponse { response, .. }) => {
                push_reply(&response).map_err(|e| CliError::context("push server", e))
            }
            Some(metaless_client::Event::Failed { kind, .. }) => {
                Err(CliError(format!("push server not reached: {kind:?}")))
            }
            _ => Err(CliError(format!(
                "no answer from the push server within {} ms",
                args.timeout_ms
            ))),
        }
    })
}

/// Runs a `metaless push` subcommand.
pub fn run(cmd: PushCommand) -> Result<Value, CliError> {
    match cmd {
        PushCommand::Subscribe(args) => {
            let key = match &args.enc_key {
                Some(hex) => push_key(hex)?,
                None => PushKey::random(&mut OsRng),
            };
            let service = service(&args.common)?;
            let (namespaces, data, k) = (args.namespaces.clone(), !args.no_data, key.clone());
            let reply = request(&args.common, move |c, now, dest| {
                c.push_subscribe(now, dest, &namespaces, data, service, k)
            })?;
            let reply = match reply {
                PushReply::Added => "added",
                PushReply::Updated => "updated",
                PushReply::Removed(_) => return Err(CliError("unexpected reply".into())),
            };
            Ok(json!({"ok": true, "reply": reply, "enc_key": hex::encode(key.expose_secret())}))
        }
        PushCommand::Unsubscribe(args) => {
            let service = service(&args)?;
            match request(&args, move |c, now, dest| {
                c.push_unsubscribe(now, dest, service)
            })? {
                PushReply::Removed(removed) => Ok(json!({"ok": true, "removed": removed})),
                _ => Err(CliError("unexpected reply".into())),
            }
        }
        PushCommand::Open(args) => {
            let keys = keys(args.seed_file.as_deref())?;
            let key = push_key(&args.enc_key)?;
            let payload = B64
                .decode(args.payload.trim())
                .map_err(|e| CliError::context("--payload", e))?;
            let client = Client::new(
                keys,
                Config::testnet(Bootstrap::Seeds(vec![])),
                [0; 32],
                wall_clock_ms(),
            );
            let opened = client
                .open_push(&key, &payload)
                .map_err(|e| CliError::context("push", e))?;
            let n = &opened.notification;
            let mut out = json!({
                "account": n.account.to_string(),
                "hash": n.hash,
                "namespace": n.namespace,
                "data_len": n.data_len,
                "data_too_big": n.data_too_big,
            });
            if let Some(m) = &opened.message {
                out["from"] = m.sender.to_string().into();
                out["timestamp_ms"] = m.sent_at_ms.into();
                if let Some(text) = m.content.as_text() {
                    out["text"] = text.into();
                }
            }
            Ok(out)
        }
    }
}
