//! `metaless call offer|answer|ice|end|listen`: call signalling by hand (no media).
//!
//! Each sending subcommand sends the call messages of one step as one-to-one messages with
//! the call TTL (5 minutes) and prints `{"ok":true,"uuid":…,"sent":[types]}`; `listen` prints
//! one JSON line per call message that arrives. An SDP comes from a file (`-` for stdin), as
//! a WebRTC stack writes it. A call's media exposes IP addresses to the peer: see
//! docs/calls.md.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Client, Driver, Event};
use metaless_envelope::{
    CALL_MESSAGE_TTL_MS, CallMessage, CallSignal, Content, IceCandidate, Message,
};
use metaless_identity::{Keypair, Seed, SessionId};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

/// Call signalling by hand.
#[derive(Debug, Subcommand)]
pub enum CallCommand {
    /// Start a call: PRE_OFFER then OFFER with the SDP. Prints the call's uuid.
    #[command(
        after_help = "Example:\n  metaless call offer --bootstrap net/bootstrap.json --seed-file alice.seed --to 05… --sdp-file offer.sdp"
    )]
    Offer(SdpArgs),
    /// Answer a call: ANSWER with the SDP, to the caller and to the own swarm.
    #[command(
        after_help = "Example:\n  metaless call answer --bootstrap net/bootstrap.json --seed-file bob.seed --to 05… --uuid UUID --sdp-file answer.sdp"
    )]
    Answer(SdpArgs),
    /// Send one ICE candidate.
    #[command(
        after_help = "Example:\n  metaless call ice --bootstrap net/bootstrap.json --seed-file bob.seed --to 05… --uuid UUID --candidate \"candidate:1 1 udp 1 192.0.2.7 5000 typ host\" --mid 0 --index 0"
    )]
    Ice(IceArgs),
    /// Hang up or reject: END_CALL.
    #[command(
        after_help = "Example:\n  metaless call end --bootstrap net/bootstrap.json --seed-file alice.seed --to 05… --uuid UUID"
    )]
    End(PeerArgs),
    /// Print call messages as they arrive, one JSON line each (`{"from","uuid","type","sdp"?,"candidates"?,"timestamp_ms"}`), for --wait-ms.
    #[command(
        after_help = "Example:\n  metaless call listen --bootstrap net/bootstrap.json --seed-file bob.seed --wait-ms 30000"
    )]
    Listen(ListenArgs),
}

/// The network and the account.
#[derive(Debug, Args)]
pub struct Account {
    /// A testnet's bootstrap.json.
    #[arg(long, value_name = "FILE")]
    bootstrap: PathBuf,
    /// File holding the account seed (hex); `-` reads stdin. Without it: $METALESS_SEED.
    #[arg(long = "seed-file", value_name = "FILE")]
    seed_file: Option<PathBuf>,
}

/// Who, and which call.
#[derive(Debug, Args)]
pub struct PeerArgs {
    #[command(flatten)]
    account: Account,
    /// The other party's Session ID.
    #[arg(long, value_name = "SESSION_ID")]
    to: String,
    /// The call's uuid (offer: a fresh one when not given).
    #[arg(long, value_name = "UUID")]
    uuid: Option<String>,
    /// How long to wait for the messages to be stored.
    #[arg(long = "timeout-ms", value_name = "N", default_value_t = 30_000)]
    timeout_ms: u64,
}

/// A step carrying an SDP.
#[derive(Debug, Args)]
pub struct SdpArgs {
    #[command(flatten)]
    peer: PeerArgs,
    /// File holding the SDP; `-` reads stdin.
    #[arg(long = "sdp-file", value_name = "FILE")]
    sdp_file: PathBuf,
}

/// One ICE candidate.
#[derive(Debug, Args)]
pub struct IceArgs {
    #[command(flatten)]
    peer: PeerArgs,
    /// The candidate line.
    #[arg(long, value_name = "LINE")]
    candidate: String,
    /// Its sdpMid.
    #[arg(long, value_name = "MID", default_value = "0")]
    mid: String,
    /// Its sdpMLineIndex.
    #[arg(long, value_name = "N", default_value_t = 0)]
    index: u32,
}

/// Options of `call listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    #[command(flatten)]
    account: Account,
    /// How long to listen.
    #[arg(long = "wait-ms", value_name = "N", default_value_t = 30_000)]
    wait_ms: u64,
}

fn client(account: &Account) -> Result<Client, CliError> {
    let (config, _) = crate::messaging::testnet_config(&account.bootstrap, Some(500))?;
    let text = secret::require(
        "--seed",
        None,
        account.seed_file.as_deref(),
        "METALESS_SEED",
    )?;
    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed-file", e))?;
    let mut rng = [0u8; 32];
    OsRng.fill_bytes(&mut rng);
    Ok(Client::new(
        Keypair::from_seed(&seed),
        config,
        rng,
        wall_clock_ms(),
    ))
}

fn sdp(path: &PathBuf) -> Result<String, CliError> {
    let mut s = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().take(1 << 20).read_to_string(&mut s)?;
    } else {
        s = std::fs::read_to_string(path)
            .map_err(|e| CliError(format!("--sdp-file {}: {e}", path.display())))?;
    }
    Ok(s)
}

/// A fresh UUID v4 text.
fn new_uuid() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = metaless_identity::hex::encode(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn type_name(signal: &CallSignal) -> &'static str {
    match signal {
        CallSignal::PreOffer => "pre_offer",
        CallSignal::Offer { .. } => "offer",
        CallSignal::Answer { .. } => "answer",
        CallSignal::ProvisionalAnswer { .. } => "provisional_answer",
        CallSignal::IceCandidates(_) => "ice_candidates",
        CallSignal::EndCall => "end_call",
    }
}

/// Sends `signals` for call `uuid` to `peer.to` (and to the own swarm when `sync`), waits
/// until each is stored.
fn send(
    peer: &PeerArgs,
    uuid: String,
    signals: Vec<CallSignal>,
    sync: bool,
) -> Result<Value, CliError> {
    let to: SessionId = peer
        .to
        .trim()
        .parse()
        .map_err(|e| CliError::context("--to", e))?;
    let client = client(&peer.account)?;
    let me = client.session_id();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut d = Driver::new(client, HttpTransport::default(), TokioClock);
        let mut sent = Vec::new();
        for signal in signals {
            let name = type_name(&signal);
            let content = Content::new(Message::Call(CallMessage::new(uuid.clone(), signal)));
            let mut targets = vec![to];
            if sync && to != me {
                targets.push(me);
            }
            for target in targets {
                let now = d.now();
                let id = d
                    .client()
                    .send_with_ttl(now, &target, &content, CALL_MESSAGE_TTL_MS)
                    .map_err(|e| CliError::context("send", e))?;
                let done = d
                    .wait_for(peer.timeout_ms, |e| {
                        matches!(e, Event::Delivered { id: x, .. } | Event::Failed { id: x, .. } if *x == id)
                    })
                    .await;
                if !matches!(done, Some(Event::Delivered { .. })) {
                    return Err(CliError(format!("{name} not stored within {} ms", peer.timeout_ms)));
                }
            }
            sent.push(name);
        }
        Ok(json!({"ok": true, "uuid": uuid, "sent": sent}))
    })
}

fn uuid_of(peer: &PeerArgs) -> Result<String, CliError> {
    peer.uuid
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| CliError("--uuid is required".into()))
}

/// Runs a `metaless call` subcommand (`listen` prints its own lines).
pub fn run(cmd: CallCommand) -> Result<Value, CliError> {
    match cmd {
        CallCommand::Offer(args) => {
            let sdp = sdp(&args.sdp_file)?;
            let uuid = args.peer.uuid.clone().unwrap_or_else(new_uuid);
            send(
                &args.peer,
                uuid,
                vec![CallSignal::PreOffer, CallSignal::Offer { sdp }],
                false,
            )
        }
        CallCommand::Answer(args) => {
            let sdp = sdp(&args.sdp_file)?;
            let uuid = uuid_of(&args.peer)?;
            send(&args.peer, uuid, vec![CallSignal::Answer { sdp }], true)
        }
        CallCommand::Ice(args) => {
            let uuid = uuid_of(&args.peer)?;
            let c = IceCandidate {
                candidate: args.candidate.clone(),
                sdp_m_line_index: args.index,
                sdp_mid: args.mid.clone(),
            };
            send(
                &args.peer,
                uuid,
                vec![CallSignal::IceCandidates(vec![c])],
                false,
            )
        }
        CallCommand::End(args) => {
            let uuid = uuid_of(&args)?;
            send(&args, uuid, vec![CallSignal::EndCall], false)
        }
        CallCommand::Listen(args) => listen(&args),
    }
}

fn listen(args: &ListenArgs) -> Result<Value, CliError> {
    let client = client(&args.account)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let count = rt.block_on(async {
        let mut d = Driver::new(client, HttpTransport::default(), TokioClock);
        let deadline = d.now().saturating_add(args.wait_ms);
        let mut count = 0u64;
        while let Some(event) = d.next_event_until(deadline).await {
            let Event::Received(m) = event else { continue };
            let Message::Call(call) = &m.message.content.message else { continue };
            let mut line = json!({
                "from": m.message.sender.to_string(),
                "uuid": call.uuid,
                "type": type_name(&call.signal),
                "timestamp_ms": m.message.sent_at_ms,
            });
            match &call.signal {
                CallSignal::Offer { sdp } | CallSignal::Answer { sdp } | CallSignal::ProvisionalAnswer { sdp } => {
                    line["sdp"] = sdp.clone().into();
                }
                CallSignal::IceCandidates(list) => {
                    line["candidates"] = list
                        .iter()
                        .map(|c| json!({"candidate": c.candidate, "mid": c.sdp_mid, "index": c.sdp_m_line_index}))
                        .collect();
                }
                _ => {}
            }
            println!("{line}");
            count += 1;
        }
        count
    });
    Ok(json!({"ok": true, "messages": count}))
}
