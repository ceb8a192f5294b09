//! The sans-IO file server: `FileServerCore::handle(now_ms, request) -> Reply` over a
//! [`Store`]. Routes, status codes and JSON as session-file-server (`fileserver/routes.py`):
//!
//! | request | reply |
//! |---|---|
//! | `POST /file` (body = bytes, optional `X-FS-TTL: <s>`) | 200 `{"id","uploaded","expires","size"}`; 413 over the cap; 400 empty |
//! | `GET /file/<id>` (also legacy `/files/<id>`) | 200 bytes, `expires` header (HTTP date); 404 `{"status_code":404}` |
//! | `GET /file/<id>/info` | 200 `{"size","uploaded","expires"}` |
//! | `POST /file/<id>/extend` (optional `X-FS-TTL`) | 200 `{"size","uploaded","expires"}` |
//!
//! Ids are `base64url(BLAKE2b-33(body; salt "SessionFileSvr\0\0"))` (44 characters), so an
//! identical upload gets the same id back and is stored once; its expiry is extended.

use std::collections::BTreeMap;

use base64::Engine;
use blake2::Blake2bMac;
use blake2::digest::Mac;
use blake2::digest::consts::U33;
use metaless_attachment::format_http_date;
use serde_json::json;

/// Limits and defaults of one server.
///
/// ```
/// let c = metaless_file_server::Config::default();
/// assert_eq!(c.max_file_size, 10_223_616);
/// assert_eq!(c.default_ttl_s, 21 * 86_400);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest stored body (default: the encrypted size of the largest regular attachment).
    pub max_file_size: usize,
    /// Expiry when no `X-FS-TTL` is given (session-file-server: three weeks).
    pub default_ttl_s: u64,
    /// Largest accepted `X-FS-TTL` (larger values are clamped).
    pub max_ttl_s: u64,
    /// Smallest accepted `X-FS-TTL` (smaller values are raised).
    pub min_ttl_s: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_file_size: metaless_attachment::encrypted_size(
                metaless_attachment::limits::MAX_REGULAR_SIZE,
            ) as usize,
            default_ttl_s: 21 * 86_400,
            max_ttl_s: 21 * 86_400,
            min_ttl_s: 60,
        }
    }
}

/// A stored file's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Bytes stored.
    pub size: u64,
    /// Upload time, ms since the epoch.
    pub uploaded_ms: u64,
    /// Expiry, ms since the epoch.
    pub expires_ms: u64,
}

/// Where files live. The core never reads a clock: every call gets `now_ms` where it matters.
pub trait Store {
    /// Stores (or replaces) `id`.
    fn put(&mut self, id: &str, data: &[u8], meta: Meta) -> Result<(), StoreError>;
    /// The file and its metadata, if present (expired or not).
    fn get(&self, id: &str) -> Result<Option<(Vec<u8>, Meta)>, StoreError>;
    /// The metadata only.
    fn meta(&self, id: &str) -> Result<Option<Meta>, StoreError>;
    /// Replaces the metadata of an existing file.
    fn set_meta(&mut self, id: &str, meta: Meta) -> Result<(), StoreError>;
    /// Deletes every file expired at `now_ms`; returns how many.
    fn purge(&mut self, now_ms: u64) -> Result<usize, StoreError>;
}

/// A storage failure (the server answers 500 without detail).
#[derive(Debug, thiserror::Error)]
#[error("file store: {0}")]
pub struct StoreError(pub String);

/// Files in memory (tests, doc examples).
#[derive(Debug, Default)]
pub struct MemoryStore {
    files: BTreeMap<String, (Vec<u8>, Meta)>,
}

impl Store for MemoryStore {
    fn put(&mut self, id: &str, data: &[u8], meta: Meta) -> Result<(), StoreError> {
        self.files.insert(id.into(), (data.to_vec(), meta));
        Ok(())
    }
    fn get(&self, id: &str) -> Result<Option<(Vec<u8>, Meta)>, StoreError> {
        Ok(self.files.get(id).cloned())
    }
    fn meta(&self, id: &str) -> Result<Option<Meta>, StoreError> {
        Ok(self.files.get(id).map(|f| f.1))
    }
    fn set_meta(&mut self, id: &str, meta: Meta) -> Result<(), StoreError> {
        if let Some(f) = self.files.get_mut(id) {
            f.1 = meta;
        }
        Ok(())
    }
    fn purge(&mut self, now_ms: u64) -> Result<usize, StoreError> {
        let before = self.files.len();
        self.files.retain(|_, f| f.1.expires_ms > now_ms);
        Ok(before - self.files.len())
    }
}

/// One HTTP request as the core sees it (after the onion layer, or straight from HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// Method.
    pub method: &'a str,
    /// Path (a query is ignored).
    pub path: &'a str,
    /// Headers (names compared case-insensitively).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: &'a [u8],
}

/// The core's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Lower-case header names and values.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, value: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }
    fn error(status: u16) -> Self {
        Self::json(status, json!({ "status_code": status }))
    }
}

/// The file-id hash: `BLAKE2b-33(body; salt = "SessionFileSvr\0\0")`, base64url (44 chars).
///
/// ```
/// let id = metaless_file_server::file_id(b"hello");
/// assert_eq!(id.len(), 44);
/// assert_eq!(id, metaless_file_server::file_id(b"hello"));
/// ```
pub fn file_id(body: &[u8]) -> String {
    let mut mac =
        match Blake2bMac::<U33>::new_with_salt_and_personal(&[], b"SessionFileSvr\0\0", &[]) {
            Ok(m) => m,
            // empty key, 16-byte salt: valid constants
            Err(_) => return String::new(),
        };
    mac.update(body);
    let out = mac.finalize().into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
}

/// The server logic.
///
/// ```
/// use metaless_file_server::{Config, FileServerCore, MemoryStore, Request};
/// let mut core = FileServerCore::new(MemoryStore::default(), Config::default());
/// let up = core.handle(1_000, &Request { method: "POST", path: "/file", headers: vec![], body: b"S..." });
/// assert_eq!(up.status, 200);
/// let id: serde_json::Value = serde_json::from_slice(&up.body).unwrap();
/// let path = format!("/file/{}", id["id"].as_str().unwrap());
/// let down = core.handle(2_000, &Request { method: "GET", path: &path, headers: vec![], body: b"" });
/// assert_eq!((down.status, &down.body[..]), (200, &b"S..."[..]));
/// // three weeks later it is gone
/// let gone = core.handle(1_000 + 21 * 86_400_000, &Request { method: "GET", path: &path, headers: vec![], body: b"" });
/// assert_eq!(gone.status, 404);
/// ```
#[derive(Debug)]
pub struct FileServerCore<S: Store> {
    store: S,
    config: Config,
}

impl<S: Store> FileServerCore<S> {
    /// A server over `store`.
    pub fn new(store: S, config: Config) -> Self {
        Self { store, config }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Deletes expired files.
    pub fn purge(&mut self, now_ms: u64) -> usize {
        self.store.purge(now_ms).unwrap_or(0)
    }

    fn ttl_ms(&self, req: &Request<'_>) -> Result<u64, Reply> {
        let ttl = match header(req, "x-fs-ttl") {
            None => self.config.default_ttl_s,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| Reply::error(400))?
                .clamp(self.config.min_ttl_s, self.config.max_ttl_s),
        };
        Ok(ttl * 1000)
    }

    /// Answers one request at `now_ms`.
    pub fn handle(&mut self, now_ms: u64, req: &Request<'_>) -> Reply {
        match self.route(now_ms, req) {
            Ok(r) | Err(r) => r,
        }
    }

    fn route(&mut self, now_ms: u64, req: &Request<'_>) -> Result<Reply, Reply> {
        let path = req.path.split('?').next().unwrap_or("");
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        // Ids reach the store (a file name on disk): only the id alphabet gets that far.
        if let Some(id) = segments.get(1)
            && !valid_id(id)
        {
            return Err(Reply::error(404));
        }
        match (req.method, segments.as_slice()) {
            ("POST", ["file"]) => self.upload(now_ms, req),
            ("GET", ["file" | "files", id]) => self.download(now_ms, id),
            ("GET", ["file", id, "info"]) => {
                let meta = self.live(now_ms, id)?;
                Ok(meta_reply(&meta, None))
            }
            ("POST", ["file", id, "extend"]) => {
                let mut meta = self.live(now_ms, id)?;
                meta.expires_ms = meta.expires_ms.max(now_ms + self.ttl_ms(req)?);
                self.store
                    .set_meta(id, meta)
                    .map_err(|_| Reply::error(500))?;
                Ok(meta_reply(&meta, None))
            }
            _ => Err(Reply::error(404)),
        }
    }

    fn live(&self, now_ms: u64, id: &str) -> Result<Meta, Reply> {
        match self.store.meta(id) {
            Ok(Some(m)) if m.expires_ms > now_ms => Ok(m),
            Ok(_) => Err(Reply::error(404)),
            Err(_) => Err(Reply::error(500)),
        }
    }

    fn upload(&mut self, now_ms: u64, req: &Request<'_>) -> Result<Reply, Reply> {
        if req.body.is_empty() {
            return Err(Reply::error(400));
        }
        if req.body.len() > self.config.max_file_size {
            return Err(Reply::error(413));
        }
        let ttl = self.ttl_ms(req)?;
        let id = file_id(req.body);
        let expires_ms = now_ms + ttl;
        let meta = match self.store.meta(&id) {
            // Same bytes again: keep them, extend the expiry.
            Ok(Some(m)) if m.expires_ms > now_ms => {
                let m = Meta {
                    expires_ms: m.expires_ms.max(expires_ms),
                    ..m
                };
                self.store.set_meta(&id, m).map_err(|_| Reply::error(500))?;
                m
            }
            Ok(_) => {
                let m = Meta {
                    size: req.body.len() as u64,
                    uploaded_ms: now_ms,
                    expires_ms,
                };
                self.store
                    .put(&id, req.body, m)
                    .map_err(|_| Reply::error(500))?;
                m
            }
            Err(_) => return Err(Reply::error(500)),
        };
        Ok(meta_reply(&meta, Some(&id)))
    }

    fn download(&self, now_ms: u64, id: &str) -> Result<Reply, Reply> {
        match self.store.get(id) {
            Ok(Some((data, m))) if m.expires_ms > now_ms => Ok(Reply {
                status: 200,
                headers: vec![
                    ("content-type".into(), "application/octet-stream".into()),
                    ("expires".into(), format_http_date(m.expires_ms / 1000)),
                ],
                body: data,
            }),
            Ok(_) => Err(Reply::error(404)),
            Err(_) => Err(Reply::error(500)),
        }
    }
}

/// Whether `id` could be a file id (`[A-Za-z0-9_-]`, 1–128 characters): what a [`Store`] may
/// use as a file name.
///
/// ```
/// assert!(metaless_file_server::valid_id("abc-_1"));
/// assert!(!metaless_file_server::valid_id("../x"));
/// ```
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

fn header<'a>(req: &'a Request<'_>, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn meta_reply(m: &Meta, id: Option<&str>) -> Reply {
    let mut v = json!({
        "size": m.size,
        "uploaded": m.uploaded_ms as f64 / 1000.0,
        "expires": m.expires_ms as f64 / 1000.0,
    });
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    Reply::json(200, v)
}
