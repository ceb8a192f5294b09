//! `metaless demo`: a whole private conversation on one machine, in a few seconds.
//!
//! Starts an in-process testnet of real service nodes on loopback HTTP, creates Alice and Bob,
//! sends messages both ways through 3-hop onion paths, shows a disappear-after-read message
//! vanish from Bob's swarm, prints what each node on one message's path saw, sends a picture
//! through the testnet's file server, shows Alice's second device (restored from her
//! recovery phrase) picking up her profile and contacts, has both talk in the testnet's
//! community room (posts under blinded ids, one blinded DM), and runs a group of three whose
//! removed member cannot read what follows. The story is told on stderr as it happens; stdout
//! gets the usual single JSON object (a summary).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use metaless_attachment::FileServer;
use metaless_client::community::{CommunityClient, CommunityEvent};
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{
    Bootstrap, Client, Config, ConfigEvent, ConfigSync, Driver, Event, GroupEvent, Groups,
    Incoming, RequestId, Route, Target, Transmit, Transport, UploadOptions,
};
use metaless_config::views::Contact;
use metaless_envelope::{Content, DisappearMode, Disappearing};
use metaless_group::GroupId;
use metaless_identity::{Keypair, Seed, SessionId, hex};
use metaless_node::Observation;
use metaless_node_server::config::{BootstrapService, TestnetConfig};
use metaless_node_server::testnet::{Testnet, TestnetHandle, TestnetOptions};
use metaless_swarm::{Namespace, NodeList, ServiceNode, UserPubkey};
use metaless_swarm::{Request, Retrieve, Signer};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

use crate::cli_error::CliError;

/// Options of `metaless demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Service nodes in the testnet (6 to 64).
    #[arg(long, default_value_t = 12)]
    nodes: usize,
    /// Swarms the nodes are spread over (1 to nodes / 3).
    #[arg(long, default_value_t = 4)]
    swarms: usize,
    /// Seconds a disappear-after-read message lives once read (1 to 10).
    #[arg(long, default_value_t = 2)]
    disappear_after: u32,
}

/// Longest wait for any one step; the whole demo is bounded by `TOTAL`.
const STEP_MS: u64 = 20_000;
const TOTAL: Duration = Duration::from_secs(120);

type Peer = Driver<HttpTransport, TokioClock>;

fn say(line: impl AsRef<str>) {
    eprintln!("{}", line.as_ref());
}

/// `05ab12…ef34`: enough to tell accounts and nodes apart, never a full key.
fn short(bytes: &[u8]) -> String {
    let h = hex::encode(bytes);
    match (h.get(..6), h.get(h.len().saturating_sub(4)..)) {
        (Some(a), Some(b)) => format!("{a}…{b}"),
        _ => h,
    }
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<Value, CliError> {
    if !(6..=64).contains(&args.nodes) {
        return Err(CliError("--nodes must be between 6 and 64".into()));
    }
    if args.swarms == 0 || args.swarms > args.nodes / 3 {
        return Err(CliError("--swarms must be between 1 and nodes / 3".into()));
    }
    if !(1..=10).contains(&args.disappear_after) {
        return Err(CliError(
            "--disappear-after must be between 1 and 10 seconds".into(),
        ));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::context("runtime", e))?;
    rt.block_on(async {
        match tokio::time::timeout(TOTAL, demo(&args)).await {
            Ok(result) => result,
            Err(_) => Err(CliError("demo did not finish in time".into())),
        }
    })
}

struct Net {
    handle: TestnetHandle,
    nodes: Vec<ServiceNode>,
    names: BTreeMap<[u8; 32], String>,
}

impl Net {
    fn name(&self, key: &[u8; 32]) -> String {
        self.names.get(key).cloned().unwrap_or_else(|| short(key))
    }

    fn name_hex(&self, key_hex: &str) -> String {
        hex::decode_array::<32>(key_hex).map_or_else(|_| key_hex.to_owned(), |k| self.name(&k))
    }

    fn route(&self, route: &Route) -> String {
        let mut parts: Vec<String> = route.path.iter().map(|k| self.name(k.as_bytes())).collect();
        parts.push(format!(
            "{} (swarm member)",
            self.name(route.destination.as_bytes())
        ));
        parts.join(" → ")
    }
}

async fn start(args: &DemoArgs) -> Result<Net, CliError> {
    say(format!(
        "▶ starting a local network: {} service nodes in {} swarms on 127.0.0.1 (temporary data directory)…",
        args.nodes, args.swarms
    ));
    // With the servers beside the nodes: the attachment step uses the file server.
    let config = TestnetConfig::generate(args.nodes, args.swarms, 0, &mut OsRng)
        .with_services(0, &mut OsRng);
    let options = TestnetOptions {
        observe: true,
        ..Default::default()
    };
    let handle = Testnet::start(config, options)
        .await
        .map_err(|e| CliError::context("testnet", e))?;
    let mut nodes = Vec::new();
    let mut names = BTreeMap::new();
    for (i, info) in handle.nodes().iter().enumerate() {
        let name = format!("n{:02}", i + 1);
        say(format!(
            "  {name} ready  {}  swarm {:016x}  key {}",
            info.url(),
            info.swarm_id,
            short(&info.pubkey_ed25519)
        ));
        names.insert(info.pubkey_ed25519, name);
        let ip: std::net::Ipv4Addr = info
            .ip
            .parse()
            .map_err(|e| CliError::context("node address", e))?;
        let node = ServiceNode::new(info.pubkey_ed25519, ip.octets(), info.port, info.swarm_id)
            .map_err(|e| CliError::context("node", e))?;
        nodes.push(node);
    }
    Ok(Net {
        handle,
        nodes,
        names,
    })
}

fn peer(keys: Keypair, nodes: &[ServiceNode]) -> Peer {
    let config = Config::testnet(Bootstrap::Nodes(nodes.to_vec()))
        .with_poll_interval_ms(Some(250))
        .with_request_timeout_ms(5_000);
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    Driver::new(
        Client::new(keys, config, seed, wall_clock_ms()),
        HttpTransport::default(),
        TokioClock,
    )
}

/// Sends and waits for a swarm member to store it: (hash, route, milliseconds).
async fn send(
    from: &mut Peer,
    to: &SessionId,
    content: &Content,
) -> Result<(String, Route, u64), CliError> {
    let start = from.now();
    let id = from
        .send(to, content)
        .map_err(|e| CliError::context("send", e))?;
    match from.wait_for(STEP_MS, |e| matches!(e, Event::Delivered { id: d, .. } | Event::Failed { id: d, .. } if *d == id)).await {
        Some(Event::Delivered { hash, via, .. }) => Ok((hash.to_string(), via, from.now().saturating_sub(start))),
        Some(Event::Failed { kind, .. }) => Err(CliError(format!("send failed: {kind}"))),
        _ => Err(CliError("send: no swarm member stored the message in time".into())),
    }
}

/// Polls until a message arrives: (message, ms since `sent_at`, local clock).
async fn receive(at: &mut Peer, sent_at: u64) -> Result<(Incoming, u64), CliError> {
    let start = sent_at;
    match at
        .wait_for(STEP_MS, |e| matches!(e, Event::Received(_)))
        .await
    {
        Some(Event::Received(m)) => Ok((*m, at.now().saturating_sub(start))),
        _ => Err(CliError("receive: nothing arrived in time".into())),
    }
}

/// What each swarm member of `keys` holds right now (a direct signed retrieve from scratch).
async fn holdings(keys: &Keypair, net: &Net) -> Result<Vec<Vec<String>>, CliError> {
    let account = UserPubkey::new(0x05, keys.x25519_public());
    let list = NodeList {
        nodes: net.nodes.clone(),
        skipped: 0,
    };
    let (_, members) = list
        .swarm_for(&account)
        .ok_or_else(|| CliError("no swarm".into()))?;
    let transport = HttpTransport::default();
    let mut out = Vec::new();
    for member in members {
        let retrieve = Retrieve::signed(
            &Signer::session(keys),
            Namespace::Default,
            None,
            wall_clock_ms(),
        );
        let transmit = Transmit {
            id: RequestId::from(0),
            to_node: Target {
                node: Some(member.id()),
                base_url: format!("http://{}:{}", member.ip_string(), member.storage_port),
                path: metaless_swarm::RPC_PATH,
            },
            body: Request::Retrieve(retrieve).to_body(),
            deadline_ms: wall_clock_ms().saturating_add(5_000),
        };
        let resp = transport
            .post(&transmit)
            .await
            .map_err(|e| CliError::context("retrieve", e))?;
        let body: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| CliError::context("retrieve reply", e))?;
        let hashes = body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|x| x["hash"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        out.push(hashes);
    }
    Ok(out)
}

/// The table of what each node on `route` saw for one `store`.
fn path_view(
    net: &Net,
    route: &Route,
    sender: &str,
    recipient: &str,
    obs: &[Observation],
) -> Vec<Value> {
    let mut rows = Vec::new();
    let hops: Vec<[u8; 32]> = route
        .path
        .iter()
        .copied()
        .chain([route.destination])
        .map(metaless_swarm::NodeId::to_bytes)
        .collect();
    for (i, hop) in hops.iter().enumerate() {
        let me = hex::encode(hop);
        let last = i + 1 == hops.len();
        let next = hops.get(i + 1).map(|k| hex::encode(k));
        let found = obs.iter().rev().find(|o| {
            o.node == me
                && o.path == metaless_onion::ONION_PATH
                && if last {
                    o.kind == "deliver" && o.method.as_deref() == Some("store")
                } else {
                    o.kind == "relay" && o.next_hop == next
                }
        });
        let Some(o) = found else { continue };
        let role = match i {
            0 => "guard",
            _ if last => "destination",
            _ => "relay",
        };
        let from_who = match i.checked_sub(1).and_then(|p| hops.get(p)) {
            Some(prev) => net.name(prev),
            None => format!("{sender}'s device"),
        };
        let next_text = if last {
            format!(
                "stores a sealed message for {}",
                o.account.clone().unwrap_or_else(|| recipient.to_owned())
            )
        } else {
            o.next_hop
                .as_deref()
                .map(|h| net.name_hex(h))
                .unwrap_or_default()
        };
        rows.push(json!({
            "role": role,
            "node": net.name(hop),
            "saw_from": o.from.clone().unwrap_or_default(),
            "which_is": from_who,
            "next": next_text,
            "bytes_in": o.bytes_in,
            "bytes_out": o.bytes_out,
        }));
    }
    rows
}

fn print_view(rows: &[Value]) {
    say(
        "  role         node  connection seen from            (who that is)      then                                   bytes in → out",
    );
    for r in rows {
        say(format!(
            "  {:<12} {:<5} {:<31} {:<18} {:<38} {} → {}",
            r["role"].as_str().unwrap_or(""),
            r["node"].as_str().unwrap_or(""),
            r["saw_from"].as_str().unwrap_or(""),
            format!("({})", r["which_is"].as_str().unwrap_or("")),
            r["next"].as_str().unwrap_or(""),
            r["bytes_in"],
            r["bytes_out"],
        ));
    }
}

async fn demo(args: &DemoArgs) -> Result<Value, CliError> {
    let began = Instant::now();
    let net = start(args).await?;
    let (alice_seed, bob_seed) = (Seed::generate(&mut OsRng), Seed::generate(&mut OsRng));
    let bob_keys = Keypair::from_seed(&bob_seed);
    let alice_id = Keypair::from_seed(&alice_seed).session_id();
    let bob_id = bob_keys.session_id();
    say(format!("▶ Alice is {alice_id}"));
    say(format!("  Bob   is {bob_id}"));
    say("  (each gets a client with 3-hop onion paths; no node is told who is talking to whom)");
    let mut alice = peer(Keypair::from_seed(&alice_seed), &net.nodes);
    let mut bob = peer(Keypair::from_seed(&bob_seed), &net.nodes);
    let mut messages = Vec::new();

    // 1. Alice → Bob, and the view from every node on that path.
    net.handle.take_observations();
    let text = "Hi Bob! This went through three onion hops.";
    let sent_1 = alice.now();
    let (hash, route, ms) = send(&mut alice, &bob_id, &Content::text(text)).await?;
    let seen = net.handle.take_observations();
    say(format!("▶ Alice → Bob: \"{text}\""));
    say(format!(
        "  stored in Bob's swarm in {ms} ms via {}",
        net.route(&route)
    ));
    let (got, rms) = receive(&mut bob, sent_1).await?;
    check_text(&got, text, &alice_id)?;
    say(format!(
        "  Bob polled his swarm through {} and had it {rms} ms after Alice sent it; sender verified: Alice",
        net.route(&got.via)
    ));
    messages.push(json!({"from": "alice", "to": "bob", "text": text, "hash": hash, "store_ms": ms, "receive_ms": rms,
        "path": route.path.iter().map(|k| net.name(k.as_bytes())).collect::<Vec<_>>(), "destination": net.name(route.destination.as_bytes())}));
    let rows = path_view(&net, &route, "Alice", &short(&bob_id.to_bytes()), &seen);
    say("▶ what each node on that path saw (from its own observation log):");
    print_view(&rows);
    say("  → the guard saw Alice's connection but only the next relay; the destination saw Bob's");
    say(
        "    mailbox but only the last relay. No node saw both ends, and none could read the message.",
    );

    // 2. Bob → Alice.
    let reply = "Hi Alice, got it. Nobody in between knows we talked.";
    let sent_2 = bob.now();
    let (hash2, route2, ms2) = send(&mut bob, &alice_id, &Content::text(reply)).await?;
    say(format!("▶ Bob → Alice: \"{reply}\""));
    say(format!("  stored in {ms2} ms via {}", net.route(&route2)));
    let (got2, rms2) = receive(&mut alice, sent_2).await?;
    check_text(&got2, reply, &bob_id)?;
    say(format!(
        "  Alice had it {rms2} ms after Bob sent it; sender verified: Bob"
    ));
    messages.push(json!({"from": "bob", "to": "alice", "text": reply, "hash": hash2, "store_ms": ms2, "receive_ms": rms2,
        "path": route2.path.iter().map(|k| net.name(k.as_bytes())).collect::<Vec<_>>(), "destination": net.name(route2.destination.as_bytes())}));

    // 3. A disappear-after-read message.
    let secs = args.disappear_after;
    let secret = format!("This message disappears {secs} s after Bob reads it.");
    let content = Content::text(secret.clone())
        .disappearing(Disappearing::new(DisappearMode::AfterRead, secs));
    let (hash3, _, _) = send(&mut alice, &bob_id, &content).await?;
    say(format!(
        "▶ Alice → Bob (disappear {secs} s after read): \"{secret}\""
    ));
    let (got3, _) = receive(&mut bob, 0).await?;
    check_text(&got3, &secret, &alice_id)?;
    let before = holdings(&bob_keys, &net).await?;
    let held = before.iter().filter(|h| h.contains(&hash3)).count();
    say(format!(
        "  Bob reads it; his swarm holds it on {held}/{} members",
        before.len()
    ));
    let now = bob.now();
    let read = bob
        .client()
        .mark_read(now, &got3.hash)
        .map_err(|e| CliError::context("mark read", e))?;
    if let Some(id) = read {
        match bob
            .wait_for(
                STEP_MS,
                |e| matches!(e, Event::Done { id: d } | Event::Failed { id: d, .. } if *d == id),
            )
            .await
        {
            Some(Event::Done { .. }) => say(format!(
                "  reading it shortened its expiry on the swarm to {secs} s from now"
            )),
            _ => return Err(CliError("expire request did not complete".into())),
        }
    }
    tokio::time::sleep(Duration::from_millis(u64::from(secs) * 1000 + 300)).await;
    let after = holdings(&bob_keys, &net).await?;
    let left = after.iter().filter(|h| h.contains(&hash3)).count();
    if left != 0 {
        return Err(CliError(format!(
            "the disappearing message is still held by {left} swarm members"
        )));
    }
    let kept = after
        .iter()
        .filter(|h| h.contains(&got.hash.to_string()))
        .count();
    say(format!(
        "  {secs} s later: gone from all {} members (the first message is still on {kept})",
        after.len()
    ));

    // 4. An attachment: encrypted, uploaded to the file server through an onion path, sent
    // as a pointer; Bob downloads and decrypts it.
    let attachment = attachment_step(&net, &mut alice, &mut bob, &alice_id, &bob_id).await?;

    // 5. Alice's second device, restored from her recovery phrase, picks up her display name
    // and her contact Bob from the config messages in her own swarm.
    let config = config_step(&net, &mut alice, &alice_seed, &bob_id).await?;

    // 6. The community room beside the nodes: both join, post and read through onion paths
    // under blinded ids, and Bob sends Alice one blinded DM.
    let community = community_step(&net, &mut alice, &mut bob, &alice_seed, &bob_seed).await?;

    // 7. A group of three: Alice creates it and invites Bob and Carol, one message each way,
    // then she removes Carol, and Carol cannot read what follows.
    let group = group_step(&net, &alice_seed, &bob_seed).await?;

    let elapsed = began.elapsed().as_millis();
    let stats = (alice.client().stats(), bob.client().stats());
    drop((alice, bob));
    net.handle.shutdown().await;
    say(format!(
        "✔ demo finished in {:.1} s; network shut down",
        elapsed as f64 / 1000.0
    ));
    Ok(json!({
        "ok": true,
        "nodes": args.nodes,
        "swarms": args.swarms,
        "alice": alice_id.to_string(),
        "bob": bob_id.to_string(),
        "messages": messages,
        "path_view": rows,
        "disappearing": {"hash": hash3, "held_before": held, "held_after": left, "after_s": secs},
        "attachment": attachment,
        "config": config,
        "community": community,
        "group": group,
        "requests": stats.0.requests + stats.1.requests,
        "elapsed_ms": elapsed,
    }))
}

/// One group member: its client, its groups layer and the group events it has seen.
struct Member {
    peer: Peer,
    groups: Groups,
    seen: Vec<GroupEvent>,
}

impl Member {
    fn new(seed: &Seed, net: &Net) -> Self {
        let mut rng = [0u8; 32];
        OsRng.fill_bytes(&mut rng);
        Self {
            peer: peer(Keypair::from_seed(seed), &net.nodes),
            groups: Groups::new(seed, rng),
            seen: Vec::new(),
        }
    }

    fn texts(&self) -> Vec<&str> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                GroupEvent::Message(m) => m.content.as_text(),
                _ => None,
            })
            .collect()
    }

    fn send(&mut self, group: &GroupId, text: &str) -> Result<(), CliError> {
        let now = self.peer.now();
        self.groups
            .send(self.peer.client(), now, group, &Content::text(text))
            .map(|_| ())
            .map_err(|e| CliError::context("group send", e))
    }
}

/// Runs every member's client in turn, feeding its events to its groups layer, until `done`
/// holds for all of them (or the step's time is up).
async fn run_group(
    members: &mut [&mut Member],
    what: &str,
    mut done: impl FnMut(&[&mut Member]) -> bool,
) -> Result<(), CliError> {
    let began = Instant::now();
    while !done(members) {
        if began.elapsed() > Duration::from_millis(STEP_MS) {
            return Err(CliError(format!("group: {what} did not happen in time")));
        }
        for m in members.iter_mut() {
            let deadline = m.peer.now().saturating_add(20);
            while let Some(event) = m.peer.next_event_until(deadline).await {
                let now = m.peer.now();
                m.groups.handle_event(m.peer.client(), now, &event);
            }
            while let Some(e) = m.groups.poll_event() {
                m.seen.push(e);
            }
        }
    }
    Ok(())
}

async fn group_step(net: &Net, alice_seed: &Seed, bob_seed: &Seed) -> Result<Value, CliError> {
    let began = Instant::now();
    let carol_seed = Seed::generate(&mut OsRng);
    let mut alice = Member::new(alice_seed, net);
    let mut bob = Member::new(bob_seed, net);
    let mut carol = Member::new(&carol_seed, net);
    let bob_id = Keypair::from_seed(bob_seed).session_id();
    let carol_id = Keypair::from_seed(&carol_seed).session_id();
    let now = alice.peer.now();
    let name = "Demo group";
    let group = alice
        .groups
        .create(alice.peer.client(), now, name, &[bob_id, carol_id])
        .map_err(|e| CliError::context("group create", e))?;
    say(format!(
        "▶ Alice creates the group \"{name}\" ({}…, its own key and swarm) and invites Bob and Carol one-to-one",
        &group.to_string()[..10]
    ));
    run_group(
        &mut [&mut alice, &mut bob, &mut carol],
        "the invitations",
        |m| m[1].groups.invitations().len() == 1 && m[2].groups.invitations().len() == 1,
    )
    .await?;
    for m in [&mut bob, &mut carol] {
        let now = m.peer.now();
        m.groups
            .accept(m.peer.client(), now, &group)
            .map_err(|e| CliError::context("group accept", e))?;
    }
    run_group(&mut [&mut alice, &mut bob, &mut carol], "joining", |m| {
        m[1].groups.is_synced(&group) && m[2].groups.is_synced(&group)
    })
    .await?;
    say(
        "  Bob and Carol accept: each reads the group key with the sub-account token the invite carried",
    );

    alice.send(&group, "Hello group, from Alice")?;
    bob.send(&group, "Hi both, from Bob")?;
    run_group(
        &mut [&mut alice, &mut bob, &mut carol],
        "the first messages",
        |m| {
            m[0].texts().contains(&"Hi both, from Bob")
                && m[1].texts().contains(&"Hello group, from Alice")
                && m[2].texts().contains(&"Hello group, from Alice")
                && m[2].texts().contains(&"Hi both, from Bob")
        },
    )
    .await?;
    say("  Alice → group and Bob → group: all three read both messages");

    let now = alice.peer.now();
    alice
        .groups
        .remove(alice.peer.client(), now, &group, &carol_id)
        .map_err(|e| CliError::context("group remove", e))?;
    run_group(
        &mut [&mut alice, &mut bob, &mut carol],
        "the removal",
        |m| m[1].groups.generation(&group) == Some(1) && m[2].groups.is_removed(&group),
    )
    .await?;
    say(
        "  Alice removes Carol: new group key (generation 1) for Alice and Bob; Carol gets the kick notice",
    );

    let after = "Carol cannot read this one";
    alice.send(&group, after)?;
    run_group(
        &mut [&mut alice, &mut bob],
        "the message after the removal",
        |m| m[1].texts().contains(&after),
    )
    .await?;
    // Carol keeps polling for a while: nothing she receives may open.
    let quiet = Instant::now();
    let _ = run_group(&mut [&mut carol], "", |_| {
        quiet.elapsed() > Duration::from_millis(1_000)
    })
    .await;
    let carol_read = carol.texts().contains(&after);
    if carol_read {
        return Err(CliError(
            "Carol read a message sent after her removal".into(),
        ));
    }
    say(format!(
        "  Alice → group: \"{after}\" — Bob reads it, Carol (removed) cannot"
    ));
    Ok(json!({
        "ok": true,
        "group": group.to_string(),
        "name": name,
        "members_before": 3,
        "members_after": alice.groups.members(&group).len(),
        "generation_after_removal": bob.groups.generation(&group),
        "bob_read_after_removal": true,
        "carol_read_after_removal": carol_read,
        "ms": began.elapsed().as_millis(),
    }))
}

/// A 32×32 24-bit BMP colour gradient: a real image file, made here, 3,126 bytes.
fn gradient_bmp() -> Vec<u8> {
    const SIDE: u32 = 32;
    let pixels = SIDE * SIDE * 3;
    let mut bmp = Vec::with_capacity(54 + pixels as usize);
    bmp.extend_from_slice(b"BM");
    bmp.extend_from_slice(&(54 + pixels).to_le_bytes());
    bmp.extend_from_slice(&[0; 4]);
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
    bmp.extend_from_slice(&SIDE.to_le_bytes());
    bmp.extend_from_slice(&SIDE.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes()); // planes
    bmp.extend_from_slice(&24u16.to_le_bytes()); // bits per pixel
    bmp.extend_from_slice(&[0; 24]); // no compression, default sizes and palette
    for y in 0..SIDE {
        for x in 0..SIDE {
            // Rows of 96 bytes need no padding to 4.
            bmp.extend_from_slice(&[(x * 8) as u8, (y * 8) as u8, 160]);
        }
    }
    bmp
}

/// Runs `peer` until a server answers op `id`.
async fn server_answer(
    peer: &mut Peer,
    id: metaless_client::OpId,
    what: &str,
) -> Result<metaless_client::ServerResponse, CliError> {
    match peer
        .wait_for(STEP_MS, |e| matches!(e, Event::ServerResponse { id: d, .. } | Event::Failed { id: d, .. } if *d == id))
        .await
    {
        Some(Event::ServerResponse { response, .. }) => Ok(response),
        Some(Event::Failed { kind, .. }) => Err(CliError(format!("{what} failed: {kind}"))),
        _ => Err(CliError(format!("{what}: no answer in time"))),
    }
}

async fn attachment_step(
    net: &Net,
    alice: &mut Peer,
    bob: &mut Peer,
    alice_id: &SessionId,
    bob_id: &SessionId,
) -> Result<Value, CliError> {
    let entry = net
        .handle
        .file_server()
        .ok_or_else(|| CliError("the testnet runs no file server".into()))?;
    let server = file_server(entry)?;
    let image = gradient_bmp();
    let began = alice.now();
    let options = UploadOptions {
        file_name: Some("gradient.bmp".into()),
        content_type: Some("image/bmp".into()),
        ..UploadOptions::default()
    };
    let upload = alice
        .client()
        .upload_attachment(began, &server, &image, options)
        .map_err(|e| CliError::context("attachment", e))?;
    let encrypted = upload.encrypted_len();
    let answer = server_answer(alice, upload.op(), "upload").await?;
    let pointer = upload
        .finish(&answer)
        .map_err(|e| CliError::context("upload", e))?;
    let upload_ms = alice.now().saturating_sub(began);
    say(format!(
        "▶ Alice → Bob: a picture ({} bytes, {encrypted} encrypted), uploaded to the file server in {upload_ms} ms",
        image.len()
    ));
    say("  through an onion path: the file server saw neither Alice nor the key, only the blob");
    let sent = alice.now();
    let content = Content::text("A picture for you").with_attachment(pointer);
    send(alice, bob_id, &content).await?;
    let (got, _) = receive(bob, sent).await?;
    if got.message.sender != *alice_id {
        return Err(CliError("the picture came from someone else".into()));
    }
    let pointer = match &got.message.content.message {
        metaless_envelope::Message::Visible(v) => v.attachments.first().cloned(),
        _ => None,
    }
    .ok_or_else(|| CliError("Bob's message has no attachment".into()))?;
    let began = bob.now();
    let download = bob
        .client()
        .download_attachment(began, &pointer)
        .map_err(|e| CliError::context("download", e))?;
    let answer = server_answer(bob, download.op(), "download").await?;
    let plain = download
        .finish(&answer)
        .map_err(|e| CliError::context("download", e))?;
    let download_ms = bob.now().saturating_sub(began);
    if plain != image {
        return Err(CliError("Bob's picture differs from Alice's".into()));
    }
    say(format!(
        "  Bob downloaded and decrypted it in {download_ms} ms: byte for byte Alice's picture"
    ));
    Ok(json!({
        "ok": true,
        "file_name": pointer.file_name,
        "content_type": pointer.content_type,
        "size": plain.len(),
        "encrypted_size": encrypted,
        "upload_ms": upload_ms,
        "download_ms": download_ms,
    }))
}

fn file_server(entry: &BootstrapService) -> Result<FileServer, CliError> {
    let ed25519 = hex::decode_array::<32>(&entry.pubkey_ed25519)
        .map_err(|e| CliError::context("file server key", e))?;
    let (scheme, host, port, _) = crate::onion::server_url("file server url", &entry.url)?;
    FileServer::new(scheme, host, port, ed25519).map_err(|e| CliError::context("file server", e))
}

/// Runs `peer` with `sync` until `done` holds for the sync's state.
async fn run_sync(
    peer: &mut Peer,
    sync: &mut ConfigSync,
    what: &str,
    mut done: impl FnMut(&mut ConfigSync, ConfigEvent) -> Result<bool, CliError>,
) -> Result<(), CliError> {
    let deadline = peer.now().saturating_add(STEP_MS);
    loop {
        while let Some(e) = sync.poll_event() {
            if done(sync, e)? {
                return Ok(());
            }
        }
        // Wake for config sync's retry timer too (a push that failed is retried on it).
        let wake = sync.poll_timeout().map_or(deadline, |t| t.min(deadline));
        let Some(event) = peer.next_event_until(wake).await else {
            let now = peer.now();
            if now >= deadline {
                return Err(CliError(format!("{what}: not done in time")));
            }
            sync.handle_timeout(peer.client(), now);
            continue;
        };
        let now = peer.now();
        sync.handle_event(peer.client(), now, &event);
    }
}

async fn config_step(
    net: &Net,
    alice: &mut Peer,
    alice_seed: &Seed,
    bob_id: &SessionId,
) -> Result<Value, CliError> {
    let mut first = ConfigSync::new(alice_seed);
    let now = alice.now();
    first
        .start(alice.client(), now)
        .map_err(|e| CliError::context("config sync", e))?;
    first
        .set_display_name(alice.client(), now, "Alice")
        .map_err(|e| CliError::context("profile", e))?;
    let mut bob = Contact::new(*bob_id);
    bob.name = Some("Bob".into());
    bob.approved = true;
    bob.approved_me = true;
    first
        .set_contact(alice.client(), now, &bob)
        .map_err(|e| CliError::context("contacts", e))?;
    let mut stored = BTreeMap::new();
    run_sync(
        alice,
        &mut first,
        "storing Alice's configs",
        |_, e| match e {
            ConfigEvent::Pushed { kind, seqno, .. } => {
                stored.insert(format!("{kind:?}"), seqno);
                Ok(stored.contains_key("UserProfile") && stored.contains_key("Contacts"))
            }
            ConfigEvent::PushFailed { kind, failure } => {
                Err(CliError(format!("storing {kind:?} failed: {failure:?}")))
            }
            _ => Ok(false),
        },
    )
    .await?;
    say(format!(
        "▶ Alice sets her display name and adds Bob as a contact: config messages stored in her own swarm (seqnos {stored:?})"
    ));

    let phrase = metaless_identity::mnemonic::to_phrase(alice_seed);
    let restored = metaless_identity::mnemonic::to_seed(phrase.expose_secret())
        .map_err(|e| CliError::context("recovery phrase", e))?;
    let began = alice.now();
    let mut device = peer(Keypair::from_seed(&restored), &net.nodes);
    let mut second = ConfigSync::new(&restored);
    let now = device.now();
    second
        .start(device.client(), now)
        .map_err(|e| CliError::context("config sync", e))?;
    run_sync(
        &mut device,
        &mut second,
        "the second device's sync",
        |s, _| {
            Ok(s.profile().name.as_deref() == Some("Alice")
                && s.contacts()
                    .iter()
                    .any(|c| c.session_id == *bob_id && c.approved))
        },
    )
    .await?;
    let ms = device.now().saturating_sub(began);
    say(format!(
        "▶ Alice's second device, restored from her {}-word recovery phrase, shows \"Alice\" and her contact Bob after {ms} ms",
        phrase.word_count()
    ));
    Ok(json!({
        "ok": true,
        "name": second.profile().name,
        "contacts": second.contacts().len(),
        "phrase_words": phrase.word_count(),
        "seqnos": stored,
        "sync_ms": ms,
    }))
}

fn check_text(got: &Incoming, want: &str, from: &SessionId) -> Result<(), CliError> {
    if got.message.content.as_text() != Some(want) || got.message.sender != *from {
        return Err(CliError(
            "received a different message than was sent".into(),
        ));
    }
    Ok(())
}

/// `15ab12…ef34`: a Session ID's prefix and the ends of its key.
fn short_id(id: &SessionId) -> String {
    let text = id.to_string();
    match (text.get(..8), text.get(text.len().saturating_sub(4)..)) {
        (Some(a), Some(b)) => format!("{a}…{b}"),
        _ => text,
    }
}

/// Runs `op` of `community` on `peer` to its success event.
async fn community_op(
    peer: &mut Peer,
    community: &mut CommunityClient,
    op: Result<metaless_client::OpId, metaless_client::community::CommunityClientError>,
    what: &str,
) -> Result<CommunityEvent, CliError> {
    let op = op.map_err(|e| CliError::context(what, e))?;
    match community.wait_op(peer, STEP_MS, op).await {
        Some(CommunityEvent::Failed { error, .. }) => Err(CliError(format!("{what}: {error}"))),
        Some(event) => Ok(event),
        None => Err(CliError(format!("{what}: no answer in time"))),
    }
}

/// The first post `community` reported since its last poll.
fn first_post(community: &mut CommunityClient) -> Option<Box<metaless_client::community::Post>> {
    let mut found = None;
    while let Some(event) = community.poll_event() {
        if let (None, CommunityEvent::Post { post, .. }) = (&found, event) {
            found = Some(post);
        }
    }
    found
}

async fn community_step(
    net: &Net,
    alice: &mut Peer,
    bob: &mut Peer,
    alice_seed: &Seed,
    bob_seed: &Seed,
) -> Result<Value, CliError> {
    let entry = net
        .handle
        .community()
        .ok_or_else(|| CliError("the testnet runs no community server".into()))?;
    let url = metaless_community::CommunityUrl::parse(&entry.url)
        .map_err(|e| CliError::context("community url", e))?;
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let mut ca = CommunityClient::new(Keypair::from_seed(alice_seed), seed);
    OsRng.fill_bytes(&mut seed);
    let mut cb = CommunityClient::new(Keypair::from_seed(bob_seed), seed);
    let (alice15, bob15) = (
        ca.blinded_id(&url)
            .map_err(|e| CliError::context("blinded id", e))?,
        cb.blinded_id(&url)
            .map_err(|e| CliError::context("blinded id", e))?,
    );
    say(format!(
        "▶ Alice and Bob join the community room \"{}\" at {} (through onion paths: the server sees a node, not them)",
        url.room(),
        url.base_url()
    ));
    let mut room_name = String::new();
    for (peer, cc) in [(&mut *alice, &mut ca), (&mut *bob, &mut cb)] {
        let now = peer.now();
        let op = cc.join(peer.client(), now, &url);
        if let CommunityEvent::Joined { info, .. } = community_op(peer, cc, op, "join").await? {
            room_name = info.name;
        }
    }
    say(format!(
        "  there they are {} (Alice) and {} (Bob): ids blinded to this server, not their Session IDs",
        short_id(&alice15),
        short_id(&bob15)
    ));

    let text = "Hello, lobby!";
    let began = alice.now();
    let now = alice.now();
    let op = ca.post(alice.client(), now, &url, &Content::text(text), Vec::new());
    let posted = community_op(alice, &mut ca, op, "post").await?;
    let post_ms = alice.now().saturating_sub(began);
    let CommunityEvent::Posted { message, .. } = posted else {
        return Err(CliError("post: unexpected answer".into()));
    };
    let began = bob.now();
    let now = bob.now();
    let op = cb.poll(bob.client(), now, &url);
    community_op(bob, &mut cb, op, "poll").await?;
    let read_ms = bob.now().saturating_sub(began);
    let post = first_post(&mut cb).ok_or_else(|| CliError("Bob's poll found no post".into()))?;
    if post.id != message || post.content.as_text() != Some(text) || post.sender != alice15 {
        return Err(CliError("Bob read another post than Alice's".into()));
    }
    say(format!(
        "  Alice posted \"{text}\" in {post_ms} ms; Bob polled the room in {read_ms} ms and read it, signature checked against {}",
        short_id(&alice15)
    ));
    let reply = "Hi! Nice to meet you here.";
    let now = bob.now();
    let op = cb.post(bob.client(), now, &url, &Content::text(reply), Vec::new());
    community_op(bob, &mut cb, op, "post").await?;
    let now = alice.now();
    let op = ca.poll(alice.client(), now, &url);
    community_op(alice, &mut ca, op, "poll").await?;
    let read = first_post(&mut ca).ok_or_else(|| CliError("Alice's poll found no post".into()))?;
    if read.content.as_text() != Some(reply) || read.sender != bob15 {
        return Err(CliError("Alice read another post than Bob's".into()));
    }
    say(format!("  Bob replied \"{reply}\"; Alice read it"));

    let dm_text = "Psst, Alice — Bob here.";
    let began = bob.now();
    let now = bob.now();
    let op = cb.send_dm(bob.client(), now, &url, &alice15, &Content::text(dm_text));
    community_op(bob, &mut cb, op, "dm").await?;
    let now = alice.now();
    let op = ca.poll_dms(alice.client(), now, &url);
    community_op(alice, &mut ca, op, "inbox").await?;
    let dm_ms = alice.now().saturating_sub(began);
    let mut dm = None;
    while let Some(event) = ca.poll_event() {
        if let CommunityEvent::Dm(d) = event
            && !d.outgoing
        {
            dm = Some(d);
        }
    }
    let dm = dm.ok_or_else(|| CliError("Alice's inbox is empty".into()))?;
    let bob_id = Keypair::from_seed(bob_seed).session_id();
    if dm.content.as_text() != Some(dm_text) || dm.sender != bob_id || dm.from != bob15 {
        return Err(CliError("Alice's DM is not Bob's".into()));
    }
    say(format!(
        "  Bob → Alice, a blinded DM through the server's inbox: \"{dm_text}\" ({dm_ms} ms); the server stored it from {} to {}; only Alice, opening it, learns it is Bob ({})",
        short_id(&bob15),
        short_id(&alice15),
        short_id(&bob_id)
    ));
    Ok(json!({
        "ok": true,
        "url": entry.url,
        "room": url.room(),
        "room_name": room_name,
        "alice_blinded": alice15.to_string(),
        "bob_blinded": bob15.to_string(),
        "posts": 2,
        "post_ms": post_ms,
        "read_ms": read_ms,
        "dm": {"text": dm_text, "sender": dm.sender.to_string(), "ms": dm_ms},
    }))
}
