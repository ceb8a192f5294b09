//! Onion requests v4: what travels inside the innermost layer to an HTTP server
//! (`/oxen/v4/lsrpc`), and what comes back.
//!
//! Both directions are a bencoded list of byte strings (`l`, then `<decimal length>:<bytes>`
//! per string, then `e`):
//!
//! * request: `[request-info JSON {"endpoint", "headers", "method"}, optional body]`
//!   (libsession-util `Builder::_generate_payload`, session-pysogs `handle_v4_onionreq_plaintext`);
//! * response: `[response-info JSON {"code", "headers"}, body]` (body always present).
//!
//! ```
//! use metaless_onion::v4;
//! let req = v4::encode_request("GET", "room/x", &[], None);
//! let info = r#"{"endpoint":"/room/x","headers":{},"method":"GET"}"#;
//! assert_eq!(req, format!("l{}:{info}e", info.len()).as_bytes());
//! let decoded = v4::decode_request(&req).unwrap();
//! assert_eq!(decoded.endpoint, "/room/x");
//! assert_eq!(decoded.body, None);
//! ```

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::OnionError;
use crate::limits::{MAX_RESPONSE_SIZE, MAX_V4_INFO_SIZE};

/// A decoded v4 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: String,
    /// Endpoint path (and query), starting with `/`.
    pub endpoint: String,
    /// Request headers (non-string JSON values as their JSON text).
    pub headers: BTreeMap<String, String>,
    /// The body, when the list has a second string.
    pub body: Option<&'a [u8]>,
}

/// A decoded v4 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    /// HTTP status code.
    pub code: u16,
    /// Response headers (servers send lower-case names).
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: &'a [u8],
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(bytes);
}

fn list(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + parts.iter().map(|p| p.len() + 12).sum::<usize>());
    out.push(b'l');
    for part in parts {
        put_string(&mut out, part);
    }
    out.push(b'e');
    out
}

fn header_map(headers: &[(&str, &str)]) -> Map<String, Value> {
    headers
        .iter()
        .map(|(k, v)| (String::from(*k), Value::String(String::from(*v))))
        .collect()
}

/// Encodes a request as libsession-util does: a leading `/` is added to the endpoint, a
/// `User-Agent` header is dropped, and `Content-Type: application/json` is added when there is
/// a body and no content type.
///
/// ```
/// let req = metaless_onion::v4::encode_request("POST", "/x", &[("User-Agent", "me")], Some(b"{}"));
/// let info = r#"{"endpoint":"/x","headers":{"Content-Type":"application/json"},"method":"POST"}"#;
/// assert_eq!(req, format!("l{}:{info}2:{{}}e", info.len()).as_bytes());
/// ```
pub fn encode_request(
    method: &str,
    endpoint: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut header_json = header_map(headers);
    header_json.remove("User-Agent");
    if body.is_some() && !header_json.contains_key("Content-Type") {
        header_json.insert(
            "Content-Type".into(),
            Value::String("application/json".into()),
        );
    }
    let endpoint = if endpoint.is_empty() || endpoint.starts_with('/') {
        String::from(endpoint)
    } else {
        alloc::format!("/{endpoint}")
    };
    let mut info = Map::new();
    info.insert("endpoint".into(), Value::String(endpoint));
    info.insert("headers".into(), Value::Object(header_json));
    info.insert("method".into(), Value::String(method.into()));
    let info = serde_json::to_vec(&Value::Object(info)).unwrap_or_default();
    match body {
        Some(body) => list(&[&info, body]),
        None => list(&[&info]),
    }
}

/// Encodes a response (what a server returns inside the encrypted reply).
///
/// ```
/// use metaless_onion::v4;
/// // The example response of session-pysogs' v4 documentation.
/// let bytes = v4::encode_response(200, &[("content-type", "application/json")], br#"{"id": 123}"#);
/// assert_eq!(bytes, br#"l58:{"code":200,"headers":{"content-type":"application/json"}}11:{"id": 123}e"#);
/// let resp = v4::decode_response(&bytes).unwrap();
/// assert_eq!((resp.code, resp.body), (200, &br#"{"id": 123}"#[..]));
/// ```
pub fn encode_response(code: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut info = Map::new();
    info.insert("code".into(), Value::from(code));
    info.insert("headers".into(), Value::Object(header_map(headers)));
    let info = serde_json::to_vec(&Value::Object(info)).unwrap_or_default();
    list(&[&info, body])
}

/// Splits a bencoded list of 1 or 2 byte strings, borrowing them. Lengths are canonical
/// decimals (no sign, no leading zero) checked against the input before use.
fn parts(bytes: &[u8]) -> Result<(&[u8], Option<&[u8]>), OnionError> {
    if bytes.len() > MAX_RESPONSE_SIZE {
        return Err(OnionError::TooLarge {
            what: "v4 message",
            len: bytes.len(),
            max: MAX_RESPONSE_SIZE,
        });
    }
    let inner = bytes
        .strip_prefix(b"l")
        .and_then(|b| b.strip_suffix(b"e"))
        .ok_or(OnionError::InvalidV4("not a bencoded list"))?;
    let (first, rest) = string(inner)?;
    if rest.is_empty() {
        return Ok((first, None));
    }
    let (second, rest) = string(rest)?;
    if !rest.is_empty() {
        return Err(OnionError::InvalidV4("more than two parts"));
    }
    Ok((first, Some(second)))
}

fn string(input: &[u8]) -> Result<(&[u8], &[u8]), OnionError> {
    let colon = input
        .iter()
        .take(9)
        .position(|&c| c == b':')
        .ok_or(OnionError::InvalidV4("string length"))?;
    let (digits, rest) = input.split_at(colon);
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits == b"0" || digits.first() != Some(&b'0'));
    if !canonical {
        return Err(OnionError::InvalidV4("string length"));
    }
    let len = digits
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    let rest = rest.get(1..).unwrap_or_default();
    if len > rest.len() {
        return Err(OnionError::InvalidV4("string longer than input"));
    }
    Ok(rest.split_at(len))
}

fn info(json: &[u8]) -> Result<Map<String, Value>, OnionError> {
    if json.len() > MAX_V4_INFO_SIZE {
        return Err(OnionError::TooLarge {
            what: "v4 info",
            len: json.len(),
            max: MAX_V4_INFO_SIZE,
        });
    }
    match serde_json::from_slice(json) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(OnionError::InvalidV4("info is not a JSON object")),
    }
}

fn headers_of(map: &Map<String, Value>) -> Result<BTreeMap<String, String>, OnionError> {
    match map.get("headers") {
        None => Ok(BTreeMap::new()),
        Some(Value::Object(h)) => Ok(h
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect()),
        Some(_) => Err(OnionError::InvalidV4("headers is not an object")),
    }
}

fn text(map: &Map<String, Value>, key: &'static str) -> Result<String, OnionError> {
    match map.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(OnionError::InvalidV4(key)),
    }
}

/// Decodes a request (server side); the endpoint must start with `/`, as servers require.
///
/// ```
/// use metaless_onion::v4;
/// assert!(v4::decode_request(b"l2:{}e").is_err());
/// assert!(v4::decode_request(b"l999:{}e").is_err());
/// ```
pub fn decode_request(bytes: &[u8]) -> Result<Request<'_>, OnionError> {
    let (meta, body) = parts(bytes)?;
    let map = info(meta)?;
    let endpoint = text(&map, "endpoint")?;
    if !endpoint.starts_with('/') {
        return Err(OnionError::InvalidV4("endpoint must start with /"));
    }
    Ok(Request {
        method: text(&map, "method")?,
        endpoint,
        headers: headers_of(&map)?,
        body,
    })
}

/// Decodes a response (client side, after [`crate::PendingResponse::open`]).
///
/// ```
/// assert!(metaless_onion::v4::decode_response(br#"l10:{"code":1}e"#).is_err()); // no body part
/// ```
pub fn decode_response(bytes: &[u8]) -> Result<Response<'_>, OnionError> {
    let (meta, body) = parts(bytes)?;
    let body = body.ok_or(OnionError::InvalidV4("response without body"))?;
    let map = info(meta)?;
    let code = map
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .ok_or(OnionError::InvalidV4("code"))?;
    Ok(Response {
        code,
        headers: headers_of(&map)?,
        body,
    })
}
