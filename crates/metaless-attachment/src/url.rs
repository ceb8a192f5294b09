//! File-server download URLs: `scheme://host[:port]/file/<id>[#p=<ed25519 hex>][&d]`.
//!
//! Fragment flags (libsession-util `parse_download_url` / `generate_download_url`): `p=<64
//! hex>` names a non-default server's Ed25519 key, `d` marks 'S' stream encryption. Desktop
//! writes the flag as `d=` (URLSearchParams), which libsession reads as legacy; we write `#d`
//! and report both forms ([`StreamFlag`]) so a reader can fall back on the key length.

use alloc::format;
use alloc::string::{String, ToString};

use metaless_identity::hex;

use crate::AttachmentError;
use crate::file_server::FileServer;
use crate::limits::{MAX_FILE_ID_LEN, MAX_URL_LEN};

/// The `d` fragment as found in a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFlag {
    /// No `d`.
    Absent,
    /// `d` (libsession and us).
    Bare,
    /// `d=` (desktop's URLSearchParams form).
    Empty,
}

/// Which decryption a received attachment needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// The 'S' stream format (32-byte key).
    Stream,
    /// AES-256-CBC + HMAC (64-byte key, digest).
    Legacy,
}

/// A parsed download URL.
///
/// ```
/// use metaless_attachment::{FileUrl, Scheme, StreamFlag};
/// let url = FileUrl::parse("http://127.0.0.1:8080/file/abc#p=0123456789abcdef0123456789abcdef00000000000000000000000000000000&d").unwrap();
/// assert_eq!((url.host.as_str(), url.port, url.file_id.as_str()), ("127.0.0.1", Some(8080), "abc"));
/// assert_eq!(url.stream, StreamFlag::Bare);
/// assert_eq!(url.scheme_for_key(32), Scheme::Stream);
/// // Desktop's form: libsession says legacy, the 32-byte key says 'S'.
/// let desk = FileUrl::parse("http://filev2.getsession.org/file/abc#d=").unwrap();
/// assert!(!desk.is_stream());
/// assert_eq!(desk.scheme_for_key(32), Scheme::Stream);
/// assert_eq!(desk.scheme_for_key(64), Scheme::Legacy);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUrl {
    /// `http` or `https` (as written).
    pub scheme: String,
    /// Host, without the port (IPv6 literals keep their brackets).
    pub host: String,
    /// The explicit port, if any.
    pub port: Option<u16>,
    /// The file id (last path segment).
    pub file_id: String,
    /// The server's Ed25519 key from `p=`, when it is not the default server's.
    pub custom_ed25519: Option<[u8; 32]>,
    /// The `d` flag.
    pub stream: StreamFlag,
    /// Whether the legacy `/files/<id>` path was used.
    pub legacy_path: bool,
}

impl FileUrl {
    /// Parses a download URL; refuses anything that is not `…/file/<id>` or `…/files/<id>`
    /// (one trailing `/` allowed), ids outside `[A-Za-z0-9_-]`, over-long input.
    ///
    /// ```
    /// use metaless_attachment::FileUrl;
    /// assert!(FileUrl::parse("https://example.com/test/test2").is_err());
    /// assert_eq!(FileUrl::parse("http://filev2.getsession.org/files/2478430809375318").unwrap().file_id, "2478430809375318");
    /// ```
    pub fn parse(url: &str) -> Result<Self, AttachmentError> {
        if url.len() > MAX_URL_LEN {
            return Err(AttachmentError::InvalidUrl("too long"));
        }
        let (main, fragment) = match url.split_once('#') {
            Some((m, f)) => (m, Some(f)),
            None => (url, None),
        };
        let (scheme, rest) = main
            .split_once("://")
            .ok_or(AttachmentError::InvalidUrl("no scheme"))?;
        if scheme != "http" && scheme != "https" {
            return Err(AttachmentError::InvalidUrl("scheme must be http or https"));
        }
        let (authority, path) = rest
            .split_once('/')
            .ok_or(AttachmentError::InvalidUrl("no path"))?;
        let (host, port) = split_port(authority)?;
        let path = path.strip_suffix('/').unwrap_or(path);
        let (legacy_path, id) = if let Some(id) = path.strip_prefix("file/") {
            (false, id)
        } else if let Some(id) = path.strip_prefix("files/") {
            (true, id)
        } else {
            return Err(AttachmentError::InvalidUrl("not a /file/<id> URL"));
        };
        check_file_id(id)?;
        let mut out = Self {
            scheme: scheme.into(),
            host: host.into(),
            port,
            file_id: id.into(),
            custom_ed25519: None,
            stream: StreamFlag::Absent,
            legacy_path,
        };
        for part in fragment.unwrap_or("").split('&') {
            match part {
                "d" => out.stream = StreamFlag::Bare,
                "d=" if out.stream == StreamFlag::Absent => out.stream = StreamFlag::Empty,
                _ => {
                    if let Some(key) = part.strip_prefix("p=") {
                        // Like upstream: a malformed or default key is ignored, not an error.
                        if let Ok(k) = hex::decode_array::<32>(key)
                            && k != FileServer::DEFAULT_ED25519
                        {
                            out.custom_ed25519 = Some(k);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// libsession's reading of the flag: only a bare `d` means 'S'.
    pub fn is_stream(&self) -> bool {
        self.stream == StreamFlag::Bare
    }

    /// The decryption to use for a pointer key of `key_len` bytes: a bare `d` means 'S';
    /// otherwise (desktop's `d=` or no flag) the key length decides, 32 ⇒ 'S', else legacy.
    pub fn scheme_for_key(&self, key_len: usize) -> Scheme {
        match (self.stream, key_len) {
            (StreamFlag::Bare, _) | (_, 32) => Scheme::Stream,
            _ => Scheme::Legacy,
        }
    }

    /// Desktop's legacy numeric id for `AttachmentPointer.deprecated_id`: the id as a `u64`,
    /// else 0.
    ///
    /// ```
    /// # use metaless_attachment::FileUrl;
    /// assert_eq!(FileUrl::parse("http://h/file/123").unwrap().deprecated_id(), 123);
    /// assert_eq!(FileUrl::parse("http://h/file/abc").unwrap().deprecated_id(), 0);
    /// ```
    pub fn deprecated_id(&self) -> u64 {
        self.file_id.parse().unwrap_or(0)
    }

    /// The server to download from: the `p=` key when present, else the well-known server of
    /// that host, else the default server's key at this URL's address.
    ///
    /// ```
    /// # use metaless_attachment::{FileServer, FileUrl};
    /// let url = FileUrl::parse("http://filev2.getsession.org/file/1").unwrap();
    /// assert_eq!(url.server().unwrap(), FileServer::default_server());
    /// ```
    pub fn server(&self) -> Result<FileServer, AttachmentError> {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        let port = self.port.unwrap_or(default_port);
        let ed = match self.custom_ed25519 {
            Some(k) => k,
            None => FileServer::known()
                .into_iter()
                .find(|s| s.host() == self.host)
                .map(|s| *s.ed25519())
                .unwrap_or(FileServer::DEFAULT_ED25519),
        };
        FileServer::new(&self.scheme, &self.host, port, ed)
    }
}

fn split_port(authority: &str) -> Result<(&str, Option<u16>), AttachmentError> {
    if authority.is_empty() {
        return Err(AttachmentError::InvalidUrl("no host"));
    }
    // A colon is a port separator only when digits follow it and it is not inside an IPv6
    // literal.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => {
            let digits = &authority[i + 1..];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AttachmentError::InvalidUrl("bad port"));
            }
            let port: u16 = digits
                .parse()
                .map_err(|_| AttachmentError::InvalidUrl("bad port"))?;
            (&authority[..i], Some(port))
        }
        _ => (authority, None),
    };
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        });
    if !ok {
        return Err(AttachmentError::InvalidUrl("bad host"));
    }
    Ok((host, port))
}

pub(crate) fn check_file_id(id: &str) -> Result<(), AttachmentError> {
    if id.is_empty() || id.len() > MAX_FILE_ID_LEN {
        return Err(AttachmentError::InvalidUrl("bad file id length"));
    }
    if !id
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        return Err(AttachmentError::InvalidUrl("bad file id character"));
    }
    Ok(())
}

/// Builds a download URL the way libsession does: port only when not the scheme's default,
/// `#p=<ed25519>` only for a non-default server, `d` (bare, never `d=`) for 'S' encryption.
pub(crate) fn generate(server: &FileServer, file_id: &str, stream: bool) -> String {
    let default_port = if server.scheme() == "https" { 443 } else { 80 };
    let mut url = if server.port() == default_port {
        format!("{}://{}/file/{file_id}", server.scheme(), server.host())
    } else {
        format!(
            "{}://{}:{}/file/{file_id}",
            server.scheme(),
            server.host(),
            server.port()
        )
    };
    let custom = *server.ed25519() != FileServer::DEFAULT_ED25519;
    if custom {
        url.push_str("#p=");
        url.push_str(&hex::encode(server.ed25519()));
    }
    if stream {
        url.push_str(if custom { "&d" } else { "#d" });
    }
    url.to_string()
}
