//! `metaless profile set|show`: the account's display name and avatar as every device of the
//! account sees them, through its config messages (namespaces 2–5) on a testnet.
//!
//! Both first pull what the swarm holds — a one-off retrieve per namespace says which
//! messages exist, and the config subscriptions must have merged all of them — so an edit is
//! made on top of the other devices' state, never beside it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use metaless_client::http::{HttpTransport, TokioClock};
use metaless_client::{ConfigEvent, ConfigSync, Driver, Event, OpId, SwarmAccount, UploadOptions};
use metaless_config::Kind;
use metaless_config::views::{Avatar, UserProfile};
use metaless_identity::{Keypair, Seed, hex};
use metaless_swarm::{MessageHash, Namespace};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::file;
use crate::secret;

/// `metaless profile …`
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Set the display name (and avatar) every device of the account shows:
    /// `{"ok":true,"name":…,"seqno":N,"hash":…,"avatar_url":…}` once a swarm member stored it.
    Set(SetArgs),
    /// Show the account's profile, contacts and groups as its config messages say:
    /// `{"ok":true,"session_id":…,"name":…,"avatar":…,"contacts":[…],"groups":[…],"communities":[…],"seqnos":{…}}`.
    Show(ShowArgs),
}

/// What both subcommands need.
#[derive(Debug, Args)]
pub struct AccountArgs {
    /// A testnet's `bootstrap.json`.
    #[arg(long, value_name = "FILE")]
    bootstrap: PathBuf,
    /// The account's seed file (`-` for stdin; or `METALESS_SEED`).
    #[arg(long, value_name = "FILE")]
    seed_file: Option<PathBuf>,
    /// How long to wait for the network, milliseconds.
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
}

/// Arguments of `metaless profile set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// The display name.
    #[arg(long, value_name = "NAME")]
    name: String,
    /// An image to upload (encrypted, profile-picture domain) to the testnet's file server and
    /// use as the avatar.
    #[arg(long, value_name = "FILE")]
    avatar: Option<PathBuf>,
}

/// Arguments of `metaless profile show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    account: AccountArgs,
}

/// Longest display name Session clients accept (libsession `contact_info::MAX_NAME_LENGTH`).
const MAX_NAME_LENGTH: usize = 100;

/// How often the config subscriptions poll while the command runs.
const POLL_MS: u64 = 250;

struct Session {
    driver: Driver<HttpTransport, TokioClock>,
    sync: ConfigSync,
    deadline: u64,
    timeout_ms: u64,
}

impl Session {
    fn open(args: &AccountArgs) -> Result<(Self, Seed), CliError> {
        let text = secret::require("--seed", None, args.seed_file.as_deref(), "METALESS_SEED")?;
        let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed-file", e))?;
        let (config, _) = crate::messaging::testnet_config(&args.bootstrap, Some(POLL_MS))?;
        let mut driver = file::driver(Keypair::from_seed(&seed), config);
        let mut sync = ConfigSync::new(&seed);
        let now = driver.now();
        sync.start(driver.client(), now)
            .map_err(|e| CliError::context("config sync", e))?;
        let deadline = now.saturating_add(args.timeout_ms);
        let session = Self {
            driver,
            sync,
            deadline,
            timeout_ms: args.timeout_ms,
        };
        Ok((session, seed))
    }

    /// The next event, already shown to config sync; `None` at the deadline. Config sync's
    /// retry timer (a push that failed) runs meanwhile.
    async fn next(&mut self) -> Option<Event> {
        loop {
            let wake = self
                .sync
                .poll_timeout()
                .map_or(self.deadline, |t| t.min(self.deadline));
            if let Some(event) = self.driver.next_event_until(wake).await {
                let now = self.driver.now();
                self.sync.handle_event(self.driver.client(), now, &event);
                return Some(event);
            }
            let now = self.driver.now();
            if now >= self.deadline {
                return None;
            }
            self.sync.handle_timeout(self.driver.client(), now);
        }
    }

    fn timed_out(&self, what: &str) -> CliError {
        CliError(format!(
            "{what}: no answer within {} ms (is the testnet up? try a larger --timeout-ms)",
            self.timeout_ms
        ))
    }

    /// Runs until the subscriptions have merged every message a one-off retrieve lists in
    /// each of the four namespaces.
    async fn pull(&mut self) -> Result<(), CliError> {
        let now = self.driver.now();
        let mut asked: BTreeMap<OpId, Kind> = BTreeMap::new();
        for kind in Kind::USER {
            let id = self
                .driver
                .client()
                .swarm_retrieve(
                    now,
                    SwarmAccount::Own,
                    Namespace::from_i16(kind.namespace()),
                    None,
                    None,
                )
                .map_err(|e| CliError::context("retrieve", e))?;
            asked.insert(id, kind);
        }
        let mut listed: BTreeMap<i16, BTreeSet<MessageHash>> = BTreeMap::new();
        let mut merged: BTreeMap<i16, BTreeSet<MessageHash>> = BTreeMap::new();
        loop {
            let done = asked.is_empty()
                && listed.iter().all(|(ns, want)| {
                    want.iter()
                        .all(|h| merged.get(ns).is_some_and(|got| got.contains(h)))
                });
            if done {
                return Ok(());
            }
            match self.next().await {
                Some(Event::Retrieved {
                    id,
                    namespace,
                    messages,
                    more,
                    ..
                }) if asked.contains_key(&id) => {
                    let Some(kind) = asked.remove(&id) else {
                        continue;
                    };
                    let hashes = listed.entry(namespace.value()).or_default();
                    hashes.extend(messages.iter().map(|m| m.hash.clone()));
                    if more && let Some(last) = messages.last() {
                        let now = self.driver.now();
                        let id = self
                            .driver
                            .client()
                            .swarm_retrieve(
                                now,
                                SwarmAccount::Own,
                                namespace,
                                Some(last.hash.clone()),
                                None,
                            )
                            .map_err(|e| CliError::context("retrieve", e))?;
                        asked.insert(id, kind);
                    }
                }
                Some(Event::SwarmMessages {
                    namespace,
                    messages,
                    ..
                }) => {
                    merged
                        .entry(namespace.value())
                        .or_default()
                        .extend(messages.iter().map(|m| m.hash.clone()));
                }
                Some(Event::Failed { id, kind }) if asked.contains_key(&id) => {
                    return Err(CliError(format!(
                        "reading the account's configs failed: {kind:?}"
                    )));
                }
                Some(_) => {}
                None => return Err(self.timed_out("reading the account's configs")),
            }
        }
    }
}

fn avatar_json(a: &Option<Avatar>) -> Value {
    match a {
        Some(a) => json!({ "url": a.url, "key": hex::encode(&a.key) }),
        None => Value::Null,
    }
}

async fn set(args: SetArgs) -> Result<Value, CliError> {
    if args.name.trim().is_empty() || args.name.len() > MAX_NAME_LENGTH {
        return Err(CliError(format!(
            "--name: 1 to {MAX_NAME_LENGTH} bytes, not blank"
        )));
    }
    let avatar_data = match &args.avatar {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| CliError(format!("--avatar {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let file_server = match avatar_data {
        Some(_) => Some(file::network_file_server(&args.account.bootstrap)?),
        None => None,
    };
    let (mut s, _seed) = Session::open(&args.account)?;
    s.pull().await?;

    let avatar = match (avatar_data, file_server) {
        (Some(data), Some(server)) => {
            let now = s.driver.now();
            let options = UploadOptions {
                profile_pic: true,
                content_type: Some("image/*".into()),
                ..UploadOptions::default()
            };
            let upload = s
                .driver
                .client()
                .upload_attachment(now, &server, &data, options)
                .map_err(|e| CliError::context("--avatar", e))?;
            let response =
                file::finish_op(&mut s.driver, upload.op(), args.account.timeout_ms).await?;
            let pointer = upload
                .finish(&response)
                .map_err(|e| CliError::context("file server", e))?;
            let url = pointer.url.clone().unwrap_or_default();
            let key: [u8; 32] = pointer
                .key
                .as_ref()
                .and_then(|k| k.expose_secret().try_into().ok())
                .ok_or_else(|| CliError("the upload returned no 32-byte key".into()))?;
            Some(Avatar { url, key })
        }
        _ => None,
    };

    let now = s.driver.now();
    let name = args.name.clone();
    let new_avatar = avatar.clone();
    s.sync
        .edit(s.driver.client(), now, Kind::UserProfile, move |d| {
            let mut p = UserProfile::read(d);
            p.name = Some(name);
            if let Some(a) = new_avatar {
                p.avatar = Some(a);
            }
            p.write(d);
        })
        .map_err(|e| CliError::context("profile", e))?;
    loop {
        while let Some(e) = s.sync.poll_event() {
            match e {
                ConfigEvent::Pushed {
                    kind: Kind::UserProfile,
                    seqno,
                    hash,
                } => {
                    let p = s.sync.profile();
                    return Ok(json!({
                        "ok": true,
                        "name": p.name,
                        "seqno": seqno,
                        "hash": hash.to_string(),
                        "avatar_url": p.avatar.map(|a| a.url),
                    }));
                }
                ConfigEvent::PushFailed {
                    kind: Kind::UserProfile,
                    failure,
                } => {
                    return Err(CliError(format!("the profile was not stored: {failure:?}")));
                }
                _ => {}
            }
        }
        if s.next().await.is_none() {
            return Err(s.timed_out("storing the profile"));
        }
    }
}

async fn show(args: ShowArgs) -> Result<Value, CliError> {
    let (mut s, seed) = Session::open(&args.account)?;
    s.pull().await?;
    let p = s.sync.profile();
    let contacts: Vec<Value> = s
        .sync
        .contacts()
        .iter()
        .map(|c| {
            json!({
                "session_id": c.session_id.to_string(),
                "name": c.name,
                "nickname": c.nickname,
                "approved": c.approved,
                "approved_me": c.approved_me,
                "blocked": c.blocked,
            })
        })
        .collect();
    let groups = s.sync.user_groups();
    let seqnos: serde_json::Map<String, Value> = Kind::USER
        .iter()
        .map(|k| {
            let n = s.sync.config(*k).map_or(0, |c| c.seqno());
            (format!("{k:?}"), json!(n))
        })
        .collect();
    Ok(json!({
        "ok": true,
        "session_id": Keypair::from_seed(&seed).session_id().to_string(),
        "name": p.name,
        "avatar": avatar_json(&p.avatar),
        "contacts": contacts,
        "groups": groups.groups.iter().map(|g| json!({"id": hex::encode(&g.id), "name": g.name})).collect::<Vec<_>>(),
        "communities": groups.communities.iter().map(|c| json!({"base_url": c.room.base_url, "room": c.room.room})).collect::<Vec<_>>(),
        "seqnos": seqnos,
    }))
}

/// Runs a `metaless profile` subcommand.
pub fn run(cmd: ProfileCommand) -> Result<Value, CliError> {
    let rt = file::runtime()?;
    match cmd {
        ProfileCommand::Set(args) => rt.block_on(set(args)),
        ProfileCommand::Show(args) => rt.block_on(show(args)),
    }
}
