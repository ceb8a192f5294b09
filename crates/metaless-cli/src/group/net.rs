//! `metaless group create|invite|send|read`: groups v2 for users, over a local testnet
//! (`--bootstrap bootstrap.json`), with the account of `--seed-file` (or `$METALESS_SEED`).
//!
//! What a group needs between runs — the group seed for an admin, the sub-account auth data
//! for a member, the name — is kept in `SEED_FILE.groups.json` (mode 0600: it holds secrets,
//! like the seed file). `read` accepts an invitation to `--group` waiting in the own inbox.
//! Exit codes as `metaless send`: 0 done, 1 the network did not deliver, 2 bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Client, Config, Driver, GroupEvent, Groups};
use metaless_envelope::Content;
use metaless_group::{GroupId, MemberAuth};
use metaless_identity::{Keypair, Seed, SessionId, hex};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

/// The driver the network commands run.
pub(crate) type Peer = Driver<HttpTransport, TokioClock>;

/// The testnet and the account.
#[derive(Args)]
pub struct NetArgs {
    /// A testnet's bootstrap.json (as `metaless testnet up` writes it).
    #[arg(long, value_name = "FILE")]
    bootstrap: PathBuf,
    /// File holding the account seed (64 hex digits); `-` reads stdin. Without it:
    /// $METALESS_SEED (then no group state file is kept).
    #[arg(long = "seed-file", value_name = "FILE")]
    seed_file: Option<PathBuf>,
    /// How long to wait for the network (ms).
    #[arg(long = "timeout-ms", value_name = "N", default_value_t = 30_000)]
    timeout_ms: u64,
}

impl std::fmt::Debug for NetArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetArgs")
            .field("bootstrap", &self.bootstrap)
            .field("seed_file", &self.seed_file)
            .finish_non_exhaustive()
    }
}

/// A failure with its exit code (1: the network, 2: the input).
pub(crate) struct Failure(pub(crate) u8, pub(crate) String);

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Self(2, e.to_string())
    }
}

fn network(msg: impl Into<String>) -> Failure {
    Failure(1, msg.into())
}

/// Prints the result line or the error, with the exit code.
pub(crate) fn finish(result: Result<Value, Failure>) -> ExitCode {
    match result {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(Failure(code, msg)) => {
            eprintln!("error: {}", msg.replace('\n', " "));
            ExitCode::from(code)
        }
    }
}

/// Group state kept next to the seed file.
#[derive(Default)]
struct State {
    groups: BTreeMap<GroupId, Entry>,
}

enum Secret {
    Admin([u8; 32]),
    Member(MemberAuth),
}

struct Entry {
    name: String,
    secret: Secret,
}

fn state_path(seed_file: &Path) -> PathBuf {
    let mut name = seed_file.as_os_str().to_owned();
    name.push(".groups.json");
    PathBuf::from(name)
}

impl State {
    fn load(path: Option<&Path>) -> Result<Self, Failure> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(CliError(format!("state {}: {e}", path.display())).into()),
        };
        let bad = || CliError(format!("state {}: not a group state file", path.display()));
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let mut out = Self::default();
        for (id, e) in v.get("groups").and_then(Value::as_object).ok_or_else(bad)? {
            let id: GroupId = id.parse().map_err(|_| bad())?;
            let name = e
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let secret = match (
                e.get("seed").and_then(Value::as_str),
                e.get("auth").and_then(Value::as_str),
            ) {
                (Some(s), _) => Secret::Admin(hex::decode_array(s).map_err(|_| bad())?),
                (None, Some(a)) => Secret::Member(
                    MemberAuth::from_bytes(&hex::decode(a).map_err(|_| bad())?)
                        .map_err(|_| bad())?,
                ),
                _ => return Err(bad().into()),
            };
            out.groups.insert(id, Entry { name, secret });
        }
        Ok(out)
    }

    fn save(&self, path: Option<&Path>) -> Result<(), Failure> {
        let Some(path) = path else {
            return Ok(());
        };
        let mut groups = serde_json::Map::new();
        for (id, e) in &self.groups {
            let v = match &e.secret {
                Secret::Admin(s) => json!({"name": e.name, "seed": hex::encode(s)}),
                Secret::Member(a) => json!({"name": e.name, "auth": hex::encode(a.as_bytes())}),
            };
            groups.insert(id.to_string(), v);
        }
        let body = json!({"version": 1, "groups": groups}).to_string();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        write_private(&tmp, body.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| network(format!("state {}: {e}", path.display())))
    }
}

/// Writes a file only its owner can read (it holds group seeds and auth data).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)?.write_all(bytes)
}

/// A running account: driver, groups layer, state file.
pub(crate) struct Session {
    pub(crate) peer: Peer,
    pub(crate) groups: Groups,
    /// Group events seen so far, in order.
    pub(crate) seen: Vec<GroupEvent>,
}

impl Session {
    /// A client for `keys` over `config`, with its groups layer.
    pub(crate) fn new(keys: Keypair, seed: &Seed, config: Config) -> Self {
        let client = Client::new(keys, config, random32(), wall_clock_ms());
        Session {
            peer: Driver::new(client, HttpTransport::default(), TokioClock),
            groups: Groups::new(seed, random32()),
            seen: Vec::new(),
        }
    }

    /// Runs the network, feeding client events to the groups layer, until `done` holds (true)
    /// or `within_ms` pass (false).
    pub(crate) async fn run_until(
        &mut self,
        within_ms: u64,
        mut done: impl FnMut(&Groups, &[GroupEvent]) -> bool,
    ) -> bool {
        let deadline = self.peer.now().saturating_add(within_ms);
        loop {
            if done(&self.groups, &self.seen) {
                return true;
            }
            let Some(event) = self.peer.next_event_until(deadline).await else {
                return done(&self.groups, &self.seen);
            };
            let now = self.peer.now();
            self.groups.handle_event(self.peer.client(), now, &event);
            while let Some(e) = self.groups.poll_event() {
                self.seen.push(e);
            }
        }
    }

    /// Whether every store this session queued is acknowledged (or failed).
    pub(crate) fn idle(&mut self) -> bool {
        self.peer.client().pending_ops() == 0
    }
}

fn random32() -> [u8; 32] {
    let mut s = [0u8; 32];
    OsRng.fill_bytes(&mut s);
    s
}

/// The client configuration of a testnet bootstrap file (fast polling, as `metaless send`).
pub(crate) fn testnet_config(path: &Path) -> Result<Config, Failure> {
    Ok(crate::messaging::testnet_config(path, Some(300))?.0)
}

struct Ctx {
    session: Session,
    state: State,
    state_path: Option<PathBuf>,
    timeout_ms: u64,
}

fn open(net: &NetArgs) -> Result<Ctx, Failure> {
    let text = secret::require("--seed", None, net.seed_file.as_deref(), "METALESS_SEED")?;
    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed-file", e))?;
    let config = testnet_config(&net.bootstrap)?;
    let state_path = net
        .seed_file
        .as_deref()
        .filter(|p| p.as_os_str() != "-")
        .map(state_path);
    let state = State::load(state_path.as_deref())?;
    Ok(Ctx {
        session: Session::new(Keypair::from_seed(&seed), &seed, config),
        state,
        state_path,
        timeout_ms: net.timeout_ms,
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| network(format!("runtime: {e}")))
}

fn parse_group(text: &str) -> Result<GroupId, Failure> {
    Ok(text
        .trim()
        .parse()
        .map_err(|e| CliError::context("--group", e))?)
}

fn parse_member(text: &str) -> Result<SessionId, Failure> {
    Ok(text
        .trim()
        .parse()
        .map_err(|e| CliError::context("--member", e))?)
}

impl Ctx {
    /// Takes up `group` from the state file (admin or member).
    fn take_up(&mut self, group: &GroupId) -> Result<bool, Failure> {
        let Some(e) = self.state.groups.get(group) else {
            return Ok(false);
        };
        let now = self.session.peer.now();
        let client = self.session.peer.client();
        match &e.secret {
            Secret::Admin(seed) => {
                self.session
                    .groups
                    .restore_admin(client, now, *seed, &e.name)
                    .map_err(|e| CliError::context("group", e))?;
            }
            Secret::Member(auth) => self
                .session
                .groups
                .restore_member(client, now, *group, auth, &e.name)
                .map_err(|e| CliError::context("group", e))?,
        }
        Ok(true)
    }

    /// Keeps what the groups layer holds for `group` in the state file.
    fn remember(&mut self, group: &GroupId) -> Result<(), Failure> {
        if let Some(entry) = self.session.groups.entry(group, 0) {
            let secret = match (entry.secret_seed, entry.auth_data) {
                (Some(s), _) => Secret::Admin(s),
                (None, Some(a)) => Secret::Member(
                    MemberAuth::from_bytes(&a).map_err(|e| CliError::context("auth", e))?,
                ),
                _ => return Ok(()),
            };
            let name = entry.name.unwrap_or_default();
            self.state.groups.insert(*group, Entry { name, secret });
        }
        self.state.save(self.state_path.as_deref())
    }

    /// Waits until the group's keys (and, for an admin, its members list) are read back.
    async fn synced(&mut self, group: &GroupId) -> Result<(), Failure> {
        let g = *group;
        let admin = self.session.groups.is_admin(&g);
        let ok = self
            .session
            .run_until(self.timeout_ms, |gs, seen| {
                gs.is_synced(&g)
                    && (!admin
                        || seen.iter().any(
                            |e| matches!(e, GroupEvent::MembersChanged { group } if *group == g),
                        ))
            })
            .await;
        if ok {
            Ok(())
        } else {
            Err(network("the group's keys could not be read from its swarm"))
        }
    }

    /// Waits until every queued store is acknowledged; a failure is an error.
    async fn flushed(&mut self) -> Result<(), Failure> {
        let deadline = self.timeout_ms;
        let s = &mut self.session;
        let mut done = false;
        let start = s.peer.now();
        while !done && s.peer.now().saturating_sub(start) < deadline {
            s.run_until(200, |_, _| false).await;
            done = s.idle();
        }
        if let Some(GroupEvent::Failed { failure, .. }) = s
            .seen
            .iter()
            .find(|e| matches!(e, GroupEvent::Failed { .. }))
        {
            return Err(network(format!("a store failed: {failure}")));
        }
        if done {
            Ok(())
        } else {
            Err(network(
                "the group's swarm did not store everything in time",
            ))
        }
    }
}

/// `metaless group create`.
pub fn create(net: &NetArgs, name: &str, members: &[String]) -> ExitCode {
    finish((|| {
        let members = members
            .iter()
            .map(|m| parse_member(m))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ctx = open(net)?;
        runtime()?.block_on(async {
            let now = ctx.session.peer.now();
            let g = ctx
                .session
                .groups
                .create(ctx.session.peer.client(), now, name, &members)
                .map_err(|e| CliError::context("create", e))?;
            ctx.remember(&g)?;
            eprintln!("created {g}; storing keys, info and members, sending invitations …");
            ctx.flushed().await?;
            Ok(json!({
                "ok": true,
                "group": g.to_string(),
                "name": name,
                "invited": members.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }))
        })
    })())
}

/// `metaless group invite`.
pub fn invite(net: &NetArgs, group: &str, member: &str) -> ExitCode {
    finish((|| {
        let g = parse_group(group)?;
        let member = parse_member(member)?;
        let mut ctx = open(net)?;
        if !matches!(
            ctx.state.groups.get(&g),
            Some(Entry {
                secret: Secret::Admin(_),
                ..
            })
        ) {
            return Err(CliError("--group: not a group this account administers".into()).into());
        }
        runtime()?.block_on(async {
            ctx.take_up(&g)?;
            ctx.synced(&g).await?;
            let now = ctx.session.peer.now();
            ctx.session
                .groups
                .invite(ctx.session.peer.client(), now, &g, &member)
                .map_err(|e| CliError::context("invite", e))?;
            ctx.flushed().await?;
            Ok(json!({
                "ok": true,
                "group": g.to_string(),
                "member": member.to_string(),
                "generation": ctx.session.groups.generation(&g),
            }))
        })
    })())
}

/// `metaless group send`.
pub fn send(net: &NetArgs, group: &str, text: &str) -> ExitCode {
    finish((|| {
        let g = parse_group(group)?;
        let mut ctx = open(net)?;
        runtime()?.block_on(async {
            if !ctx.take_up(&g)? {
                return Err(CliError(
                    "--group: unknown here (create it, or `group read` to accept its invitation)"
                        .into(),
                )
                .into());
            }
            ctx.synced(&g).await?;
            let now = ctx.session.peer.now();
            let id = ctx
                .session
                .groups
                .send(ctx.session.peer.client(), now, &g, &Content::text(text))
                .map_err(|e| CliError::context("send", e))?;
            let ok = ctx
                .session
                .run_until(ctx.timeout_ms, |_, seen| {
                    seen.iter().any(|e| {
                        matches!(e, GroupEvent::Sent { id: i, .. } | GroupEvent::Failed { id: i, .. } if *i == id)
                    })
                })
                .await;
            let hash = ctx.session.seen.iter().find_map(|e| match e {
                GroupEvent::Sent { id: i, hash, .. } if *i == id => Some(hash.to_string()),
                _ => None,
            });
            match (ok, hash) {
                (true, Some(hash)) => Ok(json!({"ok": true, "group": g.to_string(), "hash": hash})),
                (true, None) => Err(network("not stored: the group's swarm refused it")),
                _ => Err(network("not stored in time")),
            }
        })
    })())
}

/// `metaless group read`: one JSON line per message (and per message it cannot open), then
/// `{"ok":true,…}`.
pub fn read(net: &NetArgs, group: &str, wait_ms: u64) -> ExitCode {
    let r = (|| {
        let g = parse_group(group)?;
        let mut ctx = open(net)?;
        runtime()?.block_on(async {
            if !ctx.take_up(&g)? {
                eprintln!("looking for an invitation to {g} in the inbox …");
                let found = ctx
                    .session
                    .run_until(ctx.timeout_ms, |gs, _| {
                        gs.invitations().iter().any(|(id, _)| *id == g)
                    })
                    .await;
                if !found {
                    return Err(network("no invitation to this group arrived"));
                }
                let now = ctx.session.peer.now();
                ctx.session
                    .groups
                    .accept(ctx.session.peer.client(), now, &g)
                    .map_err(|e| CliError::context("accept", e))?;
                ctx.remember(&g)?;
                eprintln!("accepted the invitation");
            }
            ctx.synced(&g).await?;
            // Messages of the polls that follow the keys; then whatever comes within --wait-ms.
            ctx.session
                .run_until(wait_ms.max(1_500), |_, _| false)
                .await;
            ctx.flushed().await.ok();
            let mut out = Vec::new();
            for e in &ctx.session.seen {
                match e {
                    GroupEvent::Message(m) if m.group == g => out.push(json!({
                        "from": m.sender.to_string(),
                        "text": m.content.as_text(),
                        "hash": m.hash.to_string(),
                        "timestamp_ms": m.sent_at_ms,
                        "generation": m.generation,
                    })),
                    GroupEvent::Undecryptable { group, hash } if *group == g => {
                        out.push(json!({"undecryptable": hash.to_string()}));
                    }
                    _ => {}
                }
            }
            for line in &out {
                println!("{line}");
            }
            Ok(json!({
                "ok": true,
                "group": g.to_string(),
                "name": ctx.session.groups.name(&g),
                "messages": out.len(),
                "removed": ctx.session.groups.is_removed(&g),
                "generation": ctx.session.groups.generation(&g),
            }))
        })
    })();
    finish(r)
}
