//! `metaless file`: attachment encryption by hand (the 'S' stream format and the legacy
//! AES-CBC + HMAC scheme) and uploads/downloads through onion requests to a testnet's file
//! server.
//!
//! `encrypt`/`decrypt` stream through files (a few 64 KiB buffers whatever the size); `put`
//! and `get` hold one file in memory, as the client's upload does. Keys are secrets: every
//! key flag has a file form and an environment variable (see `crate::secret`).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use metaless_attachment::io::{decrypt_stream, encrypt_file};
use metaless_attachment::limits::{LEGACY_IV_SIZE, LEGACY_KEY_SIZE, MAX_REGULAR_SIZE};
use metaless_attachment::{
    AttachmentKey, Domain, FileServer, FileUrl, LegacyKey, decrypt_legacy, encrypt_legacy,
};
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{
    Client, Driver, Event, OpId, TransferDirection, TransferProgress, TransferStage, UploadOptions,
};
use metaless_envelope::{AttachmentPointer, SecretBytes};
use metaless_identity::{Keypair, Seed, hex};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::secret;

/// `metaless file …`
#[derive(Debug, Subcommand)]
pub enum FileCommand {
    /// Encrypt a file: `{"key":hex,"size":N,"encrypted_size":M}` ('S' format, key derived from
    /// the seed and the content, so the same seed and file give the same output), or with
    /// `--legacy --key --iv`: `{"digest":hex,"size":N,"encrypted_size":M}`.
    Encrypt(EncryptArgs),
    /// Decrypt a file: `{"size":N}`. 'S' format with a 32-byte `--key`; `--legacy` with the
    /// 64-byte key and the pointer's `--digest`.
    Decrypt(DecryptArgs),
    /// Encrypt and upload a file to the testnet's file server through an onion path:
    /// `{"ok":true,"url":…,"key":hex,"size":N,"encrypted_size":M,"id":…}`; progress on stderr.
    Put(PutArgs),
    /// Download and decrypt a file a pointer names (`--url`, `--key`): `{"ok":true,"size":N}`;
    /// progress on stderr.
    Get(GetArgs),
}

/// Which key derivation the 'S' format uses.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DomainArg {
    /// Message attachments.
    Attachment,
    /// Profile pictures.
    ProfilePic,
}

impl From<DomainArg> for Domain {
    fn from(d: DomainArg) -> Self {
        match d {
            DomainArg::Attachment => Domain::Attachment,
            DomainArg::ProfilePic => Domain::ProfilePic,
        }
    }
}

/// Arguments of `metaless file encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// Account seed, 64 hex digits (visible to local users: prefer `--seed-file` or
    /// `METALESS_SEED`). Not used with `--legacy`.
    #[arg(long, value_name = "HEX")]
    seed: Option<String>,
    /// File holding the seed (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    seed_file: Option<PathBuf>,
    /// The plaintext file.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Where the encrypted file goes.
    #[arg(long = "out", value_name = "FILE")]
    output: PathBuf,
    /// Key derivation domain of the 'S' format.
    #[arg(long, value_enum, default_value = "attachment")]
    domain: DomainArg,
    /// Legacy AES-256-CBC + HMAC-SHA256 (needs `--key` and `--iv`; the data is padded as
    /// attachments are).
    #[arg(long)]
    legacy: bool,
    /// Legacy key, 64 bytes as 128 hex digits (or `--key-file`, `METALESS_FILE_KEY`).
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// File holding the legacy key.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Legacy IV, 16 bytes as 32 hex digits.
    #[arg(long, value_name = "HEX")]
    iv: Option<String>,
}

/// Arguments of `metaless file decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The key: 32 bytes ('S' format) or 64 with `--legacy`, hex (or `--key-file`,
    /// `METALESS_FILE_KEY`).
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// File holding the key (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// The encrypted file.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Where the plaintext goes (removed again if decryption fails).
    #[arg(long = "out", value_name = "FILE")]
    output: PathBuf,
    /// Legacy AES-256-CBC + HMAC-SHA256 (needs `--digest`).
    #[arg(long)]
    legacy: bool,
    /// Legacy: the pointer's digest, SHA-256 of the encrypted file, hex.
    #[arg(long, value_name = "HEX")]
    digest: Option<String>,
    /// Legacy: the pointer's size; the padding is cut to it.
    #[arg(long, value_name = "N")]
    size: Option<u64>,
}

/// Where the file server is, for `put` and `get`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// A testnet's `bootstrap.json` (its nodes and its `file_server`).
    #[arg(long, value_name = "FILE")]
    bootstrap: PathBuf,
    /// How long to wait for the server, milliseconds.
    #[arg(long, default_value_t = 60_000)]
    timeout_ms: u64,
}

/// Arguments of `metaless file put`.
#[derive(Debug, Args)]
pub struct PutArgs {
    #[command(flatten)]
    net: NetworkArgs,
    /// Account seed file (`-` for stdin; or `METALESS_SEED`): the key derives from it. A fresh
    /// account when none is given.
    #[arg(long, value_name = "FILE")]
    seed_file: Option<PathBuf>,
    /// The file to upload (at most 10,218,286 bytes).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Lifetime on the server, seconds (the server's default when absent).
    #[arg(long, value_name = "S")]
    ttl: Option<u64>,
}

/// Arguments of `metaless file get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    net: NetworkArgs,
    /// The pointer's URL (`http://host:port/file/ID`, with its `#…` fragment if any).
    #[arg(long, value_name = "URL")]
    url: String,
    /// The pointer's key, hex (or `--key-file`, `METALESS_FILE_KEY`).
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// File holding the key.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Legacy pointers: the digest, hex.
    #[arg(long, value_name = "HEX")]
    digest: Option<String>,
    /// The pointer's size (checked against the plaintext).
    #[arg(long, value_name = "N")]
    size: Option<u32>,
    /// Where the plaintext goes.
    #[arg(long = "out", value_name = "FILE")]
    output: PathBuf,
}

const KEY_ENV: &str = "METALESS_FILE_KEY";

fn hex_bytes(flag: &str, text: &str, len: usize) -> Result<Vec<u8>, CliError> {
    let bytes = hex::decode(text.trim()).map_err(|e| CliError::context(flag, e))?;
    if bytes.len() != len {
        return Err(CliError(format!(
            "{flag}: {} hex digits expected, got {}",
            2 * len,
            2 * bytes.len()
        )));
    }
    Ok(bytes)
}

fn key_bytes(
    value: Option<&str>,
    file: Option<&Path>,
    len: usize,
) -> Result<SecretBytes, CliError> {
    let text = secret::require("--key", value, file, KEY_ENV)?;
    Ok(SecretBytes::new(hex_bytes("--key", &text, len)?))
}

fn open(flag: &str, path: &Path) -> Result<File, CliError> {
    File::open(path).map_err(|e| CliError(format!("{flag} {}: {e}", path.display())))
}

fn create(path: &Path) -> Result<File, CliError> {
    File::create(path).map_err(|e| CliError(format!("--out {}: {e}", path.display())))
}

fn read_all(flag: &str, path: &Path, max: u64) -> Result<Vec<u8>, CliError> {
    let file = open(flag, path)?;
    let mut data = Vec::new();
    // One byte past the cap tells "too large" from "exactly the cap".
    file.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| CliError(format!("{flag} {}: {e}", path.display())))?;
    if data.len() as u64 > max {
        return Err(CliError(format!(
            "{flag} {}: larger than {max} bytes, the most a file server takes",
            path.display()
        )));
    }
    Ok(data)
}

/// Writes a new file at `path` through `write`, or leaves no file behind: a failed decryption
/// may already have written a prefix of authenticated plaintext.
fn write_into<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let mut dst = BufWriter::new(create(path)?);
    let result = write(&mut dst).and_then(|done| {
        dst.flush()
            .map_err(|e| CliError(format!("--out {}: {e}", path.display())))?;
        Ok(done)
    });
    if result.is_err() {
        drop(dst);
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Writes `data` to `path`, or leaves no file behind.
fn write_file(path: &Path, data: &[u8]) -> Result<(), CliError> {
    write_into(path, |f| {
        f.write_all(data)
            .map_err(|e| CliError(format!("--out {}: {e}", path.display())))
    })
}

fn encrypt(args: EncryptArgs) -> Result<Value, CliError> {
    if args.legacy {
        let key = key_bytes(
            args.key.as_deref(),
            args.key_file.as_deref(),
            LEGACY_KEY_SIZE,
        )?;
        let key = LegacyKey::from_slice(key.expose_secret())
            .map_err(|e| CliError::context("--key", e))?;
        let iv = args
            .iv
            .as_deref()
            .ok_or_else(|| CliError("--legacy needs --iv HEX (16 bytes)".into()))?;
        let iv: [u8; LEGACY_IV_SIZE] = hex_bytes("--iv", iv, LEGACY_IV_SIZE)?
            .try_into()
            .map_err(|_| CliError("--iv: 32 hex digits".into()))?;
        let data = read_all("--in", &args.input, MAX_REGULAR_SIZE)?;
        let out = encrypt_legacy(&key, iv, &data, true);
        write_file(&args.output, &out.blob)?;
        return Ok(json!({
            "digest": hex::encode(&out.digest),
            "size": data.len(),
            "encrypted_size": out.blob.len(),
        }));
    }
    if args.key.is_some() || args.key_file.is_some() || args.iv.is_some() {
        return Err(CliError(
            "--key and --iv are for --legacy; the 'S' format derives its key from --seed".into(),
        ));
    }
    let text = secret::require(
        "--seed",
        args.seed.as_deref(),
        args.seed_file.as_deref(),
        "METALESS_SEED",
    )?;
    let seed = Seed::from_hex(&text).map_err(|e| CliError::context("--seed", e))?;
    let mut src = open("--in", &args.input)?;
    let size = src
        .metadata()
        .map_err(|e| CliError(format!("--in {}: {e}", args.input.display())))?
        .len();
    let (key, written) = write_into(&args.output, |dst| {
        encrypt_file(&seed, args.domain.into(), &mut src, dst, false)
            .map_err(|e| CliError::context("encrypt", e))
    })?;
    Ok(json!({
        "key": hex::encode(key.expose_secret()),
        "size": size,
        "encrypted_size": written,
    }))
}

fn decrypt(args: DecryptArgs) -> Result<Value, CliError> {
    if args.legacy {
        let key = key_bytes(
            args.key.as_deref(),
            args.key_file.as_deref(),
            LEGACY_KEY_SIZE,
        )?;
        let key = LegacyKey::from_slice(key.expose_secret())
            .map_err(|e| CliError::context("--key", e))?;
        let digest = args
            .digest
            .as_deref()
            .ok_or_else(|| CliError("--legacy needs --digest HEX (the pointer's digest)".into()))?;
        let digest = hex_bytes("--digest", digest, 32)?;
        // A legacy blob is the padded plaintext plus IV, one AES block and the MAC.
        let blob = read_all("--in", &args.input, MAX_REGULAR_SIZE + 64)?;
        let plain = decrypt_legacy(&key, &blob, Some(&digest), args.size)
            .map_err(|e| CliError::context("decrypt", e))?;
        write_file(&args.output, &plain)?;
        return Ok(json!({ "size": plain.len() }));
    }
    let key = key_bytes(args.key.as_deref(), args.key_file.as_deref(), 32)?;
    let key = AttachmentKey::from_slice(key.expose_secret())
        .map_err(|e| CliError::context("--key", e))?;
    let mut src = open("--in", &args.input)?;
    let size = write_into(&args.output, |dst| {
        decrypt_stream(&key, &mut src, dst, MAX_REGULAR_SIZE)
            .map_err(|e| CliError::context("decrypt", e))
    })?;
    Ok(json!({ "size": size }))
}

/// The testnet's nodes and its file server, from `bootstrap.json`.
fn network(args: &NetworkArgs) -> Result<(metaless_client::Config, FileServer), CliError> {
    let (config, file) = crate::messaging::testnet_config(&args.bootstrap, None)?;
    Ok((config, file_server_of(&file)?))
}

/// The file server a testnet's `bootstrap.json` at `path` lists.
pub(crate) fn network_file_server(path: &Path) -> Result<FileServer, CliError> {
    let (_, file) = crate::messaging::testnet_config(path, None)?;
    file_server_of(&file)
}

fn file_server_of(file: &Value) -> Result<FileServer, CliError> {
    let entry = file
        .get("file_server")
        .ok_or_else(|| CliError("--bootstrap has no file_server: is it a testnet's bootstrap.json (`metaless testnet init` writes one)?".into()))?;
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| CliError(format!("--bootstrap file_server.{name} missing")))
    };
    let url = field("url")?;
    let ed25519: [u8; 32] = hex::decode(field("pubkey_ed25519")?)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| CliError("--bootstrap file_server.pubkey_ed25519: 64 hex digits".into()))?;
    let (scheme, host, port, _) = crate::onion::server_url("file server url", url)?;
    FileServer::new(scheme, host, port, ed25519).map_err(|e| CliError::context("file server", e))
}

/// Progress of one transfer on stderr: a redrawn line on a terminal, a line per stage otherwise.
struct Progress {
    tty: bool,
    started: Instant,
    last_percent: Option<u8>,
}

impl Progress {
    fn new() -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last_percent: None,
        }
    }

    fn show(&mut self, p: &TransferProgress) {
        let verb = match p.direction {
            TransferDirection::Upload => "upload",
            TransferDirection::Download => "download",
        };
        let total = p.total.map(mib).unwrap_or_else(|| "?".into());
        let line = match p.stage {
            TransferStage::Started => format!("{verb}: {total} MiB, building the request"),
            TransferStage::Sent { attempt } => {
                format!("{verb}: sent through an onion path (attempt {attempt})")
            }
            TransferStage::Bytes => {
                let percent = p.percent();
                if percent == self.last_percent {
                    return;
                }
                self.last_percent = percent;
                let bar = bar(percent.unwrap_or(0));
                format!("{verb}: [{bar}] {} / {total} MiB", mib(p.bytes))
            }
            TransferStage::Finished => {
                let secs = self.started.elapsed().as_secs_f64().max(1e-3);
                format!(
                    "{verb}: [{}] {} MiB in {secs:.2} s ({:.1} MiB/s)",
                    bar(100),
                    mib(p.bytes),
                    p.bytes as f64 / 1_048_576.0 / secs
                )
            }
            _ => return,
        };
        let mut err = std::io::stderr().lock();
        if self.tty {
            let end = if p.stage == TransferStage::Finished {
                "\n"
            } else {
                ""
            };
            let _ = write!(err, "\r\x1b[2K{line}{end}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.2}", bytes as f64 / 1_048_576.0)
}

fn bar(percent: u8) -> String {
    let filled = usize::from(percent.min(100)) / 5;
    format!("{}{}", "#".repeat(filled), ".".repeat(20 - filled))
}

/// Runs `driver` until the server answers op `id` (its response), showing the op's progress.
pub(crate) async fn finish_op(
    driver: &mut Driver<HttpTransport, TokioClock>,
    id: OpId,
    within_ms: u64,
) -> Result<metaless_client::ServerResponse, CliError> {
    let mut progress = Progress::new();
    let deadline = driver.now().saturating_add(within_ms);
    loop {
        let left = deadline.saturating_sub(driver.now());
        let mine = |e: &Event| match e {
            Event::Transfer(p) => p.id == id,
            Event::ServerResponse { id: d, .. } | Event::Failed { id: d, .. } => *d == id,
            _ => false,
        };
        match driver.wait_for(left, mine).await {
            Some(Event::Transfer(p)) => progress.show(&p),
            Some(Event::ServerResponse { response, .. }) => return Ok(response),
            Some(Event::Failed { kind, .. }) => {
                return Err(CliError(format!(
                    "file server not reached: {kind:?} (is the testnet up?)"
                )));
            }
            _ => {
                return Err(CliError(format!(
                    "no answer from the file server within {within_ms} ms (is the testnet up? try a larger --timeout-ms)"
                )));
            }
        }
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub(crate) fn driver(
    keys: Keypair,
    config: metaless_client::Config,
) -> Driver<HttpTransport, TokioClock> {
    let mut rng = [0u8; 32];
    OsRng.fill_bytes(&mut rng);
    let client = Client::new(keys, config, rng, wall_clock_ms());
    Driver::new(client, HttpTransport::default(), TokioClock)
}

fn put(args: PutArgs) -> Result<Value, CliError> {
    let (config, server) = network(&args.net)?;
    let seed = match secret::read("--seed", None, args.seed_file.as_deref(), "METALESS_SEED")? {
        Some(text) => Seed::from_hex(&text).map_err(|e| CliError::context("--seed-file", e))?,
        None => Seed::generate(&mut OsRng),
    };
    let data = read_all("--in", &args.input, MAX_REGULAR_SIZE)?;
    let file_name = args
        .input
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned);
    runtime()?.block_on(async {
        let mut d = driver(Keypair::from_seed(&seed), config);
        let now = d.now();
        let options = UploadOptions {
            file_name,
            ttl_s: args.ttl,
            ..UploadOptions::default()
        };
        let upload = d
            .client()
            .upload_attachment(now, &server, &data, options)
            .map_err(|e| CliError::context("--in", e))?;
        let encrypted_size = upload.encrypted_len();
        let response = finish_op(&mut d, upload.op(), args.net.timeout_ms).await?;
        let pointer = upload
            .finish(&response)
            .map_err(|e| CliError::context("file server", e))?;
        let key = pointer.key.as_ref().map(|k| hex::encode(k.expose_secret()));
        let id = pointer
            .url
            .as_deref()
            .and_then(|u| FileUrl::parse(u).ok())
            .map(|u| u.file_id);
        Ok(json!({
            "ok": true,
            "url": pointer.url,
            "key": key,
            "size": data.len(),
            "encrypted_size": encrypted_size,
            "id": id,
        }))
    })
}

fn get(args: GetArgs) -> Result<Value, CliError> {
    let (config, _server) = network(&args.net)?;
    let text = secret::require(
        "--key",
        args.key.as_deref(),
        args.key_file.as_deref(),
        KEY_ENV,
    )?;
    let key = hex::decode(text.trim()).map_err(|e| CliError::context("--key", e))?;
    if key.len() != 32 && key.len() != LEGACY_KEY_SIZE {
        return Err(CliError(format!(
            "--key: 64 hex digits (or 128 for a legacy pointer), got {}",
            2 * key.len()
        )));
    }
    let digest = match args.digest.as_deref() {
        Some(d) => Some(hex_bytes("--digest", d, 32)?),
        None => None,
    };
    let pointer = AttachmentPointer {
        key: Some(SecretBytes::new(key)),
        size: args.size,
        digest,
        url: Some(args.url.clone()),
        ..AttachmentPointer::default()
    };
    runtime()?.block_on(async {
        // Downloads need no account: a throwaway one builds the onion path.
        let mut d = driver(Keypair::from_seed(&Seed::generate(&mut OsRng)), config);
        let now = d.now();
        let download = d
            .client()
            .download_attachment(now, &pointer)
            .map_err(|e| CliError::context("--url", e))?;
        let response = finish_op(&mut d, download.op(), args.net.timeout_ms).await?;
        let plain = download
            .finish(&response)
            .map_err(|e| CliError::context("download", e))?;
        write_file(&args.output, &plain)?;
        Ok(json!({ "ok": true, "size": plain.len() }))
    })
}

/// Runs a `metaless file` subcommand.
pub fn run(cmd: FileCommand) -> Result<Value, CliError> {
    match cmd {
        FileCommand::Encrypt(args) => encrypt(args),
        FileCommand::Decrypt(args) => decrypt(args),
        FileCommand::Put(args) => put(args),
        FileCommand::Get(args) => get(args),
    }
}
