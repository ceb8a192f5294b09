//! Routing-JSON edits a relaying hop makes to a first-hop-framed body
//! (`u32 LE length ‖ blob ‖ routing JSON`) before it forwards it.
//!
//! Between our nodes the outer routing JSON carries `hop_no`, the number of hops the request
//! has taken (upstream: a fake starting hop number a client may send, and OxenMQ's `nh` field
//! node to node). A hop reads it with [`hop_no`], refuses the request past
//! [`limits::MAX_HOPS`](crate::limits::MAX_HOPS) ([`HopError::MaxPathLength`](crate::HopError::MaxPathLength)),
//! and writes the next number into the body it forwards with [`with_hop_no`]. Malformed bodies
//! are left to [`peel`](crate::peel) to report: they read as hop 0 and are not rewritten.
//!
//! Both are allocation-free on a relay's path: [`hop_no`] reads only the one key, and
//! [`with_hop_no`] appends the number in place when the JSON is the metadata
//! [`peel`](crate::peel) writes (the same bytes the general re-serialisation gives).

use alloc::vec::Vec;
use core::fmt;

use metaless_identity::wire::Reader;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::EncType;
use crate::json::{self, JsonStr};
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
        .and_then(|(_, j)| serde_json::from_slice::<HopNo<'_>>(j).ok())
        .and_then(|h| h.0)
        // A value that is not an unsigned integer reads as absent, as `Value::as_u64` has it.
        .and_then(|raw| serde_json::from_str::<u64>(raw.get()).ok())
        .unwrap_or(0)
}

/// A JSON object's raw `hop_no` value (the last one when the key repeats), every other key
/// skipped unread: borrowed from the input, so reading it allocates nothing.
struct HopNo<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for HopNo<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(core::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = HopNo<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<JsonStr<'de>>()? {
                    if key.0 == "hop_no" {
                        found = Some(map.next_value::<&'de RawValue>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(HopNo(found))
            }
        }
        deserializer.deserialize_map(V(core::marker::PhantomData))
    }
}

/// Whether `json` is exactly the metadata [`peel`](crate::peel) writes for the next hop,
/// `{"enc_type":…,"ephemeral_key":…}` with a canonical name and lowercase hex: already
/// sorted, compact and escape-free, so adding `hop_no` (which sorts last) is an append.
fn is_peel_metadata(json: &[u8]) -> bool {
    let Some(rest) = json.strip_prefix(br#"{"enc_type":""#) else {
        return false;
    };
    let Some(rest) = [EncType::XChaCha20, EncType::AesGcm]
        .iter()
        .find_map(|enc| rest.strip_prefix(enc.as_str().as_bytes()))
    else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(br#"","ephemeral_key":""#) else {
        return false;
    };
    match rest.split_at_checked(64) {
        Some((hex, tail)) => {
            tail == br#""}"# && hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        }
        None => false,
    }
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
    if let Some(end) = routing_json(&body)
        .filter(|(_, routing)| is_peel_metadata(routing))
        .map(|(split, routing)| split + routing.len() - 1)
    {
        // `…"}` → `…","hop_no":N}`: what the re-serialisation below writes, in place
        // (peel leaves room after the metadata, so this does not reallocate).
        let mut out = body;
        out.truncate(end);
        out.extend_from_slice(br#","hop_no":"#);
        json::put_u64(&mut out, hop_no);
        out.push(b'}');
        return out;
    }
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
    use alloc::borrow::ToOwned;
    use alloc::format;
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

    /// What the rewrite must produce: the routing JSON parsed, `hop_no` set, re-serialised by
    /// serde_json (sorted keys, compact) — the relay's bytes before the in-place path existed.
    fn reserialised(json: &str, hop: u64) -> Vec<u8> {
        let mut v: Value = serde_json::from_str(json).unwrap();
        v.as_object_mut()
            .unwrap()
            .insert("hop_no".into(), Value::from(hop));
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn in_place_rewrite_writes_the_reserialised_bytes() {
        let keys = [
            [0u8; 32],
            [0xff; 32],
            core::array::from_fn(|i| (i as u8).wrapping_mul(37)),
        ];
        for enc in [EncType::XChaCha20, EncType::AesGcm] {
            for key in &keys {
                let mut meta = Vec::new();
                json::outer(&mut meta, key, enc);
                let meta = core::str::from_utf8(&meta).unwrap().to_owned();
                assert!(is_peel_metadata(meta.as_bytes()), "{meta}");
                for hop in [0, 1, 9, 10, 15, 16, 12345, u64::MAX] {
                    let out = with_hop_no(body(b"\x01\x02blob", &meta), hop);
                    assert_eq!(out.get(..10), Some(&b"\x06\0\0\0\x01\x02blob"[..]));
                    assert_eq!(
                        out.get(10..),
                        Some(&reserialised(&meta, hop)[..]),
                        "{meta} {hop}"
                    );
                    assert_eq!(hop_no(&out), hop);
                }
            }
        }
    }

    #[test]
    fn other_shapes_take_the_general_path_with_the_same_result() {
        let hex = "ab".repeat(32);
        let upper = "AB".repeat(32);
        let shapes = [
            format!(r#"{{"enc_type":"xchacha20","ephemeral_key":"{upper}"}}"#),
            format!(r#"{{ "enc_type":"xchacha20","ephemeral_key":"{hex}"}}"#),
            format!(r#"{{"enc_type":"gcm","ephemeral_key":"{hex}"}}"#),
            format!(r#"{{"ephemeral_key":"{hex}","enc_type":"aes-gcm"}}"#),
            format!(r#"{{"enc_type":"aes-gcm","ephemeral_key":"{hex}","hop_no":3}}"#),
            format!(r#"{{"enc_type":"aes-gcm","ephemeral_key":"{hex}","zz":1}}"#),
            format!(r#"{{"enc_type":"aes-gcm","ephemeral_key":"{hex}0"}}"#),
            format!(
                r#"{{"enc_type":"aes-gcm","ephemeral_key":"{}"}}"#,
                &hex[..62]
            ),
            format!(r#"{{"enc_type":"aes\u002dgcm","ephemeral_key":"{hex}"}}"#),
        ];
        for meta in &shapes {
            assert!(!is_peel_metadata(meta.as_bytes()), "{meta}");
            let out = with_hop_no(body(b"blob", meta), 4);
            assert_eq!(out.get(8..), Some(&reserialised(meta, 4)[..]), "{meta}");
        }
        // A trailing `}` alone is not the shape either (no panic on short input).
        assert!(!is_peel_metadata(b"}"));
        assert!(!is_peel_metadata(b""));
    }

    #[test]
    fn hop_no_reads_what_a_json_value_reads() {
        let by_value = |json: &str| -> u64 {
            serde_json::from_str::<Value>(json)
                .ok()
                .and_then(|v| v.get("hop_no").and_then(Value::as_u64))
                .unwrap_or(0)
        };
        let cases = [
            r#"{"hop_no":5}"#,
            r#"{"hop_no":-1}"#,
            r#"{"hop_no":-0}"#,
            r#"{"hop_no":1.0}"#,
            r#"{"hop_no":1e2}"#,
            r#"{"hop_no":"3"}"#,
            r#"{"hop_no":null}"#,
            r#"{"hop_no":[1]}"#,
            r#"{"hop_no":18446744073709551615}"#,
            r#"{"hop_no":18446744073709551616}"#,
            r#"{"hop_no":2,"hop_no":7}"#,
            r#"{"hop_no":7,"hop_no":"x"}"#,
            r#"{"hop\u005fno":6}"#,
            r#"{"a":{"hop_no":9},"b":[1,{"c":2}],"hop_no":8}"#,
            r#" { "hop_no" : 11 } "#,
            r#"{"hop_no":4} x"#,
            r#"{"hop_no":4"#,
            r#"[{"hop_no":4}]"#,
            r#""hop_no""#,
            r#"{}"#,
        ];
        for json in cases {
            assert_eq!(hop_no(&body(b"", json)), by_value(json), "{json}");
        }
    }

    /// The functions as they were before the allocation-free paths: a `Value` round trip.
    fn reference_hop_no(body: &[u8]) -> u64 {
        routing_json(body)
            .and_then(|(_, j)| serde_json::from_slice::<Value>(j).ok())
            .and_then(|v| v.get("hop_no").and_then(Value::as_u64))
            .unwrap_or(0)
    }

    fn reference_with_hop_no(body: Vec<u8>, hop: u64) -> Vec<u8> {
        let Some((split, mut routing)) = routing_json(&body)
            .and_then(|(at, j)| Some((at, serde_json::from_slice::<Value>(j).ok()?)))
        else {
            return body;
        };
        if let Value::Object(m) = &mut routing {
            m.insert("hop_no".into(), Value::from(hop));
        }
        let mut out = body;
        out.truncate(split);
        out.extend_from_slice(&serde_json::to_vec(&routing).unwrap());
        out
    }

    proptest::proptest! {
        /// Any peel metadata, and any one- or two-byte corruption of it: both functions give
        /// exactly what the `Value` round trip gave.
        #[test]
        fn same_bytes_as_the_value_round_trip(
            key in proptest::array::uniform32(0u8..),
            aes in proptest::bool::ANY,
            hop in 0u64..40,
            edits in proptest::collection::vec((0usize..200, 0u8..128), 0..3),
        ) {
            let enc = if aes { EncType::AesGcm } else { EncType::XChaCha20 };
            let mut meta = Vec::new();
            json::outer(&mut meta, &key, enc);
            meta.extend_from_slice(format!(r#","hop_no":{hop}}}"#).as_bytes());
            for (at, byte) in &edits {
                let len = meta.len();
                if let Some(b) = meta.get_mut(at % len) {
                    *b = *byte;
                }
            }
            // Either with the hop number written by the previous relay, or without it.
            let bare = {
                let mut m = Vec::new();
                json::outer(&mut m, &key, enc);
                m
            };
            for meta in [meta, bare] {
                let mut b = alloc::vec![3, 0, 0, 0, 1, 2, 3];
                b.extend_from_slice(&meta);
                proptest::prop_assert_eq!(hop_no(&b), reference_hop_no(&b));
                proptest::prop_assert_eq!(
                    with_hop_no(b.clone(), hop + 1),
                    reference_with_hop_no(b, hop + 1)
                );
            }
        }
    }
}
