//! Small helpers over `serde_json::Value` shared by the request, response and node parsers.

use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::SwarmError;
use crate::limits::MAX_RESPONSE_BODY;

/// Parses a JSON body after checking its size.
pub(crate) fn parse_body(body: &[u8], max: usize) -> Result<Value, SwarmError> {
    if body.len() > max {
        return Err(SwarmError::TooLarge {
            field: "body",
            len: body.len(),
            max,
        });
    }
    serde_json::from_slice(body).map_err(|_| SwarmError::InvalidJson)
}

/// Parses a response body (size-checked) that must be a JSON object.
/// Parses a node's reply body as one JSON object, refusing bodies over
/// [`MAX_RESPONSE_BODY`](crate::limits::MAX_RESPONSE_BODY): the one reader every reply parser
/// starts from, public so a client that needs several views of one reply parses it once.
///
/// ```
/// assert!(metaless_swarm::parse_reply_object(br#"{"t":1}"#).is_ok());
/// assert!(metaless_swarm::parse_reply_object(b"[1]").is_err());
/// assert!(metaless_swarm::parse_reply_object(b"not json").is_err());
/// ```
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, SwarmError> {
    match parse_body(body, MAX_RESPONSE_BODY)? {
        Value::Object(map) => Ok(map),
        _ => Err(SwarmError::InvalidJson),
    }
}

use alloc::string::String;

/// A present, non-null field.
pub(crate) fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

pub(crate) fn req_str<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, SwarmError> {
    field(obj, name)
        .ok_or(SwarmError::MissingField(name))?
        .as_str()
        .ok_or(SwarmError::InvalidField(name))
}

pub(crate) fn opt_u64(
    obj: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, SwarmError> {
    field(obj, name)
        .map(|v| v.as_u64().ok_or(SwarmError::InvalidField(name)))
        .transpose()
}

pub(crate) fn req_u64(obj: &Map<String, Value>, name: &'static str) -> Result<u64, SwarmError> {
    opt_u64(obj, name)?.ok_or(SwarmError::MissingField(name))
}

pub(crate) fn opt_bool(obj: &Map<String, Value>, name: &'static str) -> Result<bool, SwarmError> {
    field(obj, name)
        .map(|v| v.as_bool().ok_or(SwarmError::InvalidField(name)))
        .transpose()
        .map(|b| b.unwrap_or(false))
}

pub(crate) fn req_object<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a Map<String, Value>, SwarmError> {
    field(obj, name)
        .ok_or(SwarmError::MissingField(name))?
        .as_object()
        .ok_or(SwarmError::InvalidField(name))
}

pub(crate) fn req_array<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a Vec<Value>, SwarmError> {
    field(obj, name)
        .ok_or(SwarmError::MissingField(name))?
        .as_array()
        .ok_or(SwarmError::InvalidField(name))
}

/// A list of strings (each must be a string).
pub(crate) fn req_str_list<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Vec<&'a str>, SwarmError> {
    req_array(obj, name)?
        .iter()
        .map(|v| v.as_str().ok_or(SwarmError::InvalidField(name)))
        .collect()
}

/// The storage server's `[major, minor]` hard fork pair.
pub(crate) fn opt_hf(obj: &Map<String, Value>) -> Result<Option<[u16; 2]>, SwarmError> {
    let Some(v) = field(obj, "hf") else {
        return Ok(None);
    };
    let arr = v.as_array().ok_or(SwarmError::InvalidField("hf"))?;
    let mut out = [0u16; 2];
    for (slot, item) in out.iter_mut().zip(arr) {
        *slot = item
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or(SwarmError::InvalidField("hf"))?;
    }
    Ok(Some(out))
}

/// `{"method": m, "params": p}` as bytes.
pub(crate) fn envelope(method: &str, params: Value) -> Vec<u8> {
    let mut map = Map::new();
    map.insert(String::from("method"), Value::from(method));
    map.insert(String::from("params"), params);
    serde_json::to_vec(&Value::Object(map)).unwrap_or_default()
}
