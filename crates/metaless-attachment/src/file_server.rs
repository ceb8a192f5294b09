//! Requests to a Session file server, as onion-request v4 values (`metaless_onion::v4`), and
//! the parsers of its replies. No I/O: the caller sends the bytes through an onion path to
//! [`FileServer::destination`].

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use metaless_identity::ed25519_to_x25519_public;
use metaless_onion::{Destination, ServerDestination, v4};
use serde_json::Value;

use crate::AttachmentError;
use crate::limits::MAX_REPLY_JSON;
use crate::url::{check_file_id, generate};

/// A file server: address and Ed25519 key (the onion layer is encrypted to its X25519 form).
///
/// ```
/// use metaless_attachment::FileServer;
/// let fs = FileServer::default_server();
/// assert_eq!(fs.host(), "filev2.getsession.org");
/// assert_eq!(metaless_identity::hex::encode(&fs.x25519().unwrap()),
///     "09324794aa9c11948189762d198c618148e9136ac9582068180661208927ef34");
/// assert_eq!(fs.download_url("abc", true), "http://filev2.getsession.org/file/abc#d");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileServer {
    scheme: String,
    host: String,
    port: u16,
    ed25519: [u8; 32],
}

const fn unhex32(s: &[u8; 64]) -> [u8; 32] {
    const fn nib(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => 0,
        }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nib(s[2 * i]) << 4) | nib(s[2 * i + 1]);
        i += 1;
    }
    out
}

impl FileServer {
    /// `filev2.getsession.org`'s Ed25519 key (session-desktop `FILE_SERVERS.DEFAULT`).
    pub const DEFAULT_ED25519: [u8; 32] =
        unhex32(b"b8eef9821445ae16e2e97ef8aa6fe782fd11ad5253cd6723b281341dba22e371");
    /// The default server's host.
    pub const DEFAULT_HOST: &'static str = "filev2.getsession.org";
    /// The X25519 key older clients used for the default server (superseded; kept so a
    /// reader can recognise it).
    pub const SUPERSEDED_DEFAULT_X25519: [u8; 32] =
        unhex32(b"da21e1d886c6fbaea313f75298bd64aab03a97ce985b46bb2dad9f2089c8ee59");
    /// The Session testnet file server's Ed25519 key (`superduperfiles.oxen.io`).
    pub const TESTNET_ED25519: [u8; 32] =
        unhex32(b"929e33ded05e653fec04b49645117f51851f102a947e04806791be416ed76602");
    /// The testnet server's host.
    pub const TESTNET_HOST: &'static str = "superduperfiles.oxen.io";
    /// Desktop's test server `potatofiles.getsession.org` (`FILE_SERVERS.POTATO`).
    pub const POTATO_ED25519: [u8; 32] =
        unhex32(b"ff86dcd4b26d1bfec944c59859494248626d6428efc12168749d65a1b92f5e28");
    /// The potato server's host.
    pub const POTATO_HOST: &'static str = "potatofiles.getsession.org";

    /// A server at `scheme://host:port` with Ed25519 key `ed25519`.
    ///
    /// ```
    /// # use metaless_attachment::FileServer;
    /// assert!(FileServer::new("ftp", "h", 1, FileServer::DEFAULT_ED25519).is_err());
    /// assert!(FileServer::new("http", "bad host", 1, FileServer::DEFAULT_ED25519).is_err());
    /// ```
    pub fn new(
        scheme: &str,
        host: &str,
        port: u16,
        ed25519: [u8; 32],
    ) -> Result<Self, AttachmentError> {
        // ServerDestination owns the host and scheme rules; check through it once here.
        ServerDestination::new(host, port, scheme, [0u8; 32])?;
        Ok(Self {
            scheme: scheme.into(),
            host: host.into(),
            port,
            ed25519,
        })
    }

    /// `http://filev2.getsession.org` (port 80).
    pub fn default_server() -> Self {
        Self::known_at(Self::DEFAULT_HOST, Self::DEFAULT_ED25519)
    }

    /// `http://superduperfiles.oxen.io` (Session's testnet).
    pub fn testnet() -> Self {
        Self::known_at(Self::TESTNET_HOST, Self::TESTNET_ED25519)
    }

    /// `http://potatofiles.getsession.org`.
    pub fn potato() -> Self {
        Self::known_at(Self::POTATO_HOST, Self::POTATO_ED25519)
    }

    fn known_at(host: &str, ed25519: [u8; 32]) -> Self {
        Self {
            scheme: "http".into(),
            host: host.into(),
            port: 80,
            ed25519,
        }
    }

    /// The well-known servers (default, testnet, potato).
    ///
    /// ```
    /// assert_eq!(metaless_attachment::FileServer::known().len(), 3);
    /// ```
    pub fn known() -> [Self; 3] {
        [Self::default_server(), Self::testnet(), Self::potato()]
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }
    /// Host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// Port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Ed25519 key (what `#p=` carries).
    pub fn ed25519(&self) -> &[u8; 32] {
        &self.ed25519
    }

    /// The X25519 key onion layers are encrypted to (`ed25519` converted).
    pub fn x25519(&self) -> Result<[u8; 32], AttachmentError> {
        ed25519_to_x25519_public(&self.ed25519)
            .map_err(|_| AttachmentError::InvalidUrl("server key is not an Ed25519 point"))
    }

    /// The onion destination (v4 target `/oxen/v4/lsrpc`).
    ///
    /// ```
    /// # use metaless_attachment::FileServer;
    /// let dest = FileServer::default_server().destination().unwrap();
    /// assert!(matches!(dest, metaless_onion::Destination::Server(_)));
    /// ```
    pub fn destination(&self) -> Result<Destination, AttachmentError> {
        Ok(Destination::Server(ServerDestination::new(
            &self.host,
            self.port,
            &self.scheme,
            self.x25519()?,
        )?))
    }

    /// The download URL of `file_id` (see [`crate::FileUrl`] for the fragment rules).
    pub fn download_url(&self, file_id: &str, stream: bool) -> String {
        generate(self, file_id, stream)
    }
}

/// One HTTP request to a file server, before v4 encoding.
///
/// ```
/// use metaless_attachment::FileRequest;
/// let req = FileRequest::upload(b"blob".to_vec(), Some("cat.png"), Some(3600)).unwrap();
/// assert_eq!((req.method, req.endpoint.as_str()), ("POST", "/file"));
/// assert!(req.headers.contains(&("Content-Disposition".into(), "attachment; filename=\"cat.png\"".into())));
/// assert!(req.headers.contains(&("X-FS-TTL".into(), "3600".into())));
/// let v4 = req.to_v4();
/// let back = metaless_onion::v4::decode_request(&v4).unwrap();
/// assert_eq!(back.body, Some(&b"blob"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path, starting with `/`.
    pub endpoint: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Body (upload only).
    pub body: Option<Vec<u8>>,
}

impl FileRequest {
    /// `POST /file` with the encrypted bytes; `file_name` goes into `Content-Disposition`
    /// (quotes, backslashes and control characters dropped), `ttl_s` into `X-FS-TTL`.
    /// Refuses an empty body (upstream: "No data to upload").
    pub fn upload(
        body: Vec<u8>,
        file_name: Option<&str>,
        ttl_s: Option<u64>,
    ) -> Result<Self, AttachmentError> {
        if body.is_empty() {
            return Err(AttachmentError::Truncated);
        }
        let disposition = match file_name {
            Some(name) => {
                let clean: String = name
                    .chars()
                    .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
                    .collect();
                alloc::format!("attachment; filename=\"{clean}\"")
            }
            None => "attachment".into(),
        };
        let mut headers = vec![
            (
                "Content-Type".to_string(),
                "application/octet-stream".to_string(),
            ),
            ("Content-Disposition".to_string(), disposition),
        ];
        if let Some(ttl) = ttl_s {
            headers.push(("X-FS-TTL".into(), ttl.to_string()));
        }
        Ok(Self {
            method: "POST",
            endpoint: "/file".into(),
            headers,
            body: Some(body),
        })
    }

    /// `GET /file/<id>`.
    ///
    /// ```
    /// # use metaless_attachment::FileRequest;
    /// assert_eq!(FileRequest::download("abc").unwrap().endpoint, "/file/abc");
    /// assert!(FileRequest::download("../etc").is_err());
    /// ```
    pub fn download(file_id: &str) -> Result<Self, AttachmentError> {
        check_file_id(file_id)?;
        Ok(Self::bare("GET", alloc::format!("/file/{file_id}")))
    }

    /// `GET /file/<id>/info`.
    pub fn info(file_id: &str) -> Result<Self, AttachmentError> {
        check_file_id(file_id)?;
        Ok(Self::bare("GET", alloc::format!("/file/{file_id}/info")))
    }

    /// `POST /file/<id>/extend` with an optional `X-FS-TTL`.
    pub fn extend(file_id: &str, ttl_s: Option<u64>) -> Result<Self, AttachmentError> {
        check_file_id(file_id)?;
        let mut req = Self::bare("POST", alloc::format!("/file/{file_id}/extend"));
        if let Some(ttl) = ttl_s {
            req.headers.push(("X-FS-TTL".into(), ttl.to_string()));
        }
        Ok(req)
    }

    fn bare(method: &'static str, endpoint: String) -> Self {
        Self {
            method,
            endpoint,
            headers: Vec::new(),
            body: None,
        }
    }

    /// The onion v4 payload (what [`metaless_onion::build`] wraps for the server).
    pub fn to_v4(&self) -> Vec<u8> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        v4::encode_request(self.method, &self.endpoint, &headers, self.body.as_deref())
    }
}

/// What the server says about a stored file (upload, extend and info replies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The file id (empty for extend/info replies, which do not repeat it).
    pub id: String,
    /// Stored size, when the server says.
    pub size: Option<u64>,
    /// Upload time, ms since the epoch.
    pub uploaded_ms: Option<u64>,
    /// Expiry time, ms since the epoch.
    pub expires_ms: Option<u64>,
}

fn check_status(code: u16) -> Result<(), AttachmentError> {
    if code == 200 || code == 201 {
        Ok(())
    } else {
        Err(AttachmentError::Status { status: code })
    }
}

fn seconds_to_ms(v: &Value) -> Option<u64> {
    let s = v.as_f64()?;
    (0.0..1e13).contains(&s).then_some((s * 1000.0) as u64)
}

/// Parses an upload reply (v4 response bytes): `{"id": "<id>" | <number>, "expires"?, "uploaded"?, "size"?}`.
///
/// ```
/// use metaless_attachment::{parse_upload_reply, AttachmentError};
/// use metaless_onion::v4;
/// let ok = v4::encode_response(200, &[], br#"{"id":"abc","expires":1700000000.5}"#);
/// let meta = parse_upload_reply(&ok).unwrap();
/// assert_eq!((meta.id.as_str(), meta.expires_ms), ("abc", Some(1_700_000_000_500)));
/// let big = v4::encode_response(413, &[], b"");
/// assert_eq!(parse_upload_reply(&big), Err(AttachmentError::Status { status: 413 }));
/// ```
pub fn parse_upload_reply(v4_response: &[u8]) -> Result<FileMeta, AttachmentError> {
    let resp = v4::decode_response(v4_response)?;
    upload_reply_parts(resp.code, resp.body)
}

/// [`parse_upload_reply`] for a reply already split into status and body (what a client's
/// server-request event carries).
///
/// ```
/// # use metaless_attachment::upload_reply_parts;
/// assert_eq!(upload_reply_parts(200, br#"{"id":"x1"}"#).unwrap().id, "x1");
/// assert!(upload_reply_parts(200, br#"{"size":1}"#).is_err());
/// ```
pub fn upload_reply_parts(status: u16, body: &[u8]) -> Result<FileMeta, AttachmentError> {
    check_status(status)?;
    let meta = parse_meta(body)?;
    if meta.id.is_empty() {
        return Err(AttachmentError::InvalidReply("upload reply without id"));
    }
    Ok(meta)
}

/// Parses an extend or info reply.
///
/// ```
/// # use metaless_attachment::parse_meta_reply;
/// let r = metaless_onion::v4::encode_response(200, &[], br#"{"size":10,"uploaded":1,"expires":2}"#);
/// assert_eq!(parse_meta_reply(&r).unwrap().size, Some(10));
/// ```
pub fn parse_meta_reply(v4_response: &[u8]) -> Result<FileMeta, AttachmentError> {
    let resp = v4::decode_response(v4_response)?;
    check_status(resp.code)?;
    parse_meta(resp.body)
}

fn parse_meta(body: &[u8]) -> Result<FileMeta, AttachmentError> {
    if body.len() > MAX_REPLY_JSON {
        return Err(AttachmentError::InvalidReply("reply too large"));
    }
    let json: Value =
        serde_json::from_slice(body).map_err(|_| AttachmentError::InvalidReply("not JSON"))?;
    let obj = json
        .as_object()
        .ok_or(AttachmentError::InvalidReply("not a JSON object"))?;
    let id = match obj.get("id") {
        Some(Value::String(s)) => {
            check_file_id(s).map_err(|_| AttachmentError::InvalidReply("bad id"))?;
            s.clone()
        }
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(_) => return Err(AttachmentError::InvalidReply("bad id")),
        None => String::new(),
    };
    Ok(FileMeta {
        id,
        size: obj.get("size").and_then(Value::as_u64),
        uploaded_ms: obj.get("uploaded").and_then(seconds_to_ms),
        expires_ms: obj.get("expires").and_then(seconds_to_ms),
    })
}

/// A downloaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download<'a> {
    /// The stored (encrypted) bytes.
    pub data: &'a [u8],
    /// Expiry from the `expires` header (HTTP date), ms since the epoch.
    pub expires_ms: Option<u64>,
}

/// Parses a download reply (v4 response bytes). 404 means gone or expired.
///
/// ```
/// use metaless_attachment::{parse_download_reply, AttachmentError};
/// use metaless_onion::v4;
/// let r = v4::encode_response(200, &[("expires", "Thu, 03 Dec 2026 05:00:00 GMT")], b"S...");
/// let d = parse_download_reply(&r).unwrap();
/// assert_eq!((d.data, d.expires_ms), (&b"S..."[..], Some(1_796_274_000_000)));
/// let gone = v4::encode_response(404, &[], br#"{"status_code":404}"#);
/// assert_eq!(parse_download_reply(&gone), Err(AttachmentError::Status { status: 404 }));
/// ```
pub fn parse_download_reply(v4_response: &[u8]) -> Result<Download<'_>, AttachmentError> {
    let resp = v4::decode_response(v4_response)?;
    download_reply_parts(resp.code, &resp.headers, resp.body)
}

/// [`parse_download_reply`] for a reply already split into status, headers and body.
///
/// ```
/// # use metaless_attachment::{download_reply_parts, AttachmentError};
/// let h = std::collections::BTreeMap::new();
/// assert_eq!(download_reply_parts(200, &h, b"S").unwrap().data, b"S");
/// assert_eq!(download_reply_parts(404, &h, b""), Err(AttachmentError::Status { status: 404 }));
/// ```
pub fn download_reply_parts<'a>(
    status: u16,
    headers: &alloc::collections::BTreeMap<String, String>,
    body: &'a [u8],
) -> Result<Download<'a>, AttachmentError> {
    check_status(status)?;
    let expires_ms = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("expires"))
        .and_then(|(_, v)| parse_http_date(v))
        .map(|s| s * 1000);
    Ok(Download {
        data: body,
        expires_ms,
    })
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) into seconds since the epoch.
///
/// ```
/// use metaless_attachment::{format_http_date, parse_http_date};
/// assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
/// assert_eq!(format_http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(parse_http_date("yesterday"), None);
/// ```
pub fn parse_http_date(text: &str) -> Option<u64> {
    let rest = text.get(5..)?;
    let mut parts = rest.split(' ');
    let day: u64 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as u64 + 1;
    let year: u64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let mi: u64 = hms.next()?.parse().ok()?;
    let s: u64 = hms.next()?.parse().ok()?;
    if parts.next()? != "GMT" || parts.next().is_some() || !(1970..=9999).contains(&year) {
        return None;
    }
    if day == 0 || day > 31 || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + mi * 60 + s)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

// Howard Hinnant's days-from-civil, for years ≥ 1970.
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats seconds since the epoch as an IMF-fixdate (the `expires` header).
pub fn format_http_date(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // civil-from-days
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    alloc::format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
