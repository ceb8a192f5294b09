//! Routing-JSON edits a relaying hop makes to a first-hop-framed body
//! (`u32 LE length ‖ blob ‖ routing JSON`) before it forwards it.
//!
//! Between our nodes the outer routing JSON carries `hop_no`, the number of hops the request
//! has taken (upstream: a fake starting hop number a client may send, and OxenMQ's `nh` field
//! node to node). A hop reads it with [`hop_no`], refuses the request past
//! [`limits::MAX_HOPS`](crate::limits::MAX_HOPS) ([`HopError::MaxPathLength`](crate::HopError::MaxPathLength)),
//! and writes the next number into the body it forwards with [`with_hop_no`]. Malformed bodies
//! are left to [`peel`](crate::peel) to report: they read as hop 0 and are not rewritten.

use alloc::vec::Vec;

use metaless_identity::wire::Reader;
use serde_json::Value;

use crate::limits::MAX_LAYER_SIZE;

/// The routing JSON after a body's length-prefixed blob, with the offset it starts at.
fn routing_json(body: &[u8]) -> Option<(usize, &[u8])> {
    let mut reader = Reader::new(body);
    reader.u32_le_prefixed("onion blob", MAX_LAYER_SIZE).ok()?;
    let json = reader.rest();
    Some((body.len().saturating_sub(json.len()), json))
}

/// `hop_no` from a body's routing JSON: 0 when absent or unreadable.
///
/// ```
/// let mut body = vec![2, 0, 0, 0, 0xaa, 0xbb];
/// body.extend_from_slice(br#"{"ephemeral_key":"00","hop_no":4}"#);
/// assert_eq!(metaless_onion::hop_no(&body), 4);
/// assert_eq!(metaless_onion::hop_no(b"\x01"), 0);
/// ```
pub fn hop_no(body: &[u8]) -> u64 {
    routing_json(body)
        .and_then(|(_, j)| serde_json::from_slice::<Value>(j).ok())
        .and_then(|v| v.get("hop_no").and_then(Value::as_u64))
        .unwrap_or(0)
}

/// Rewrites a body's routing JSON to carry `hop_no` (other keys kept, re-serialised with sorted
/// keys and no whitespace); the blob is untouched. A body whose frame or JSON object does not
/// parse is returned unchanged.
///
/// ```
/// let mut body = vec![2, 0, 0, 0, 0xaa, 0xbb];
/// body.extend_from_slice(br#"{"enc_type":"aes-gcm"}"#);
/// let body = metaless_onion::with_hop_no(body, 7);
/// assert_eq!(&body[6..], br#"{"enc_type":"aes-gcm","hop_no":7}"#);
/// assert_eq!(metaless_onion::hop_no(&body), 7);
/// ```
pub fn with_hop_no(body: Vec<u8>, hop_no: u64) -> Vec<u8> {
    let Some((split, mut routing)) = routing_json(&body)
        .and_then(|(at, j)| Some((at, serde_json::from_slice::<Value>(j).ok()?)))
    else {
        return body;
    };
    if let Value::Object(m) = &mut routing {
        m.insert("hop_no".into(), Value::from(hop_no));
    }
    let Ok(json) = serde_json::to_vec(&routing) else {
        return body;
    };
    let mut out = body;
    out.truncate(split);
    out.extend_from_slice(&json);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use metaless_identity::wire::Writer;

    fn body(blob: &[u8], json: &str) -> Vec<u8> {
        let mut w = Writer::with_capacity(blob.len() + json.len() + 4);
        w.u32_le_prefixed(blob).bytes(json.as_bytes());
        w.into_vec()
    }

    #[test]
    fn hop_no_is_read_and_rewritten_in_the_routing_json() {
        let b = body(b"blob", r#"{"ephemeral_key":"aa","enc_type":"aes-gcm"}"#);
        assert_eq!(hop_no(&b), 0);
        let b = with_hop_no(b, 7);
        assert_eq!(hop_no(&b), 7);
        let (at, json) = routing_json(&b).unwrap();
        assert_eq!(b.get(4..at), Some(&b"blob"[..]));
        let v: Value = serde_json::from_slice(json).unwrap();
        assert_eq!(
            (v["hop_no"].as_u64(), v["enc_type"].as_str()),
            (Some(7), Some("aes-gcm"))
        );
        // Malformed bodies are left to `peel`: no hop number, no rewrite.
        for bad in [&b"\x01"[..], b"\xff\xff\xff\xffxx", b"\x02\0\0\0ab{nope"] {
            assert_eq!(hop_no(bad), 0);
            assert_eq!(with_hop_no(bad.to_vec(), 3), bad);
        }
    }
}
