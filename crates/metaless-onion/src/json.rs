//! Routing JSON: a fixed-shape writer for what the builder emits, typed serde structs for what
//! hops parse.
//!
//! The builder writes its few object shapes directly into the output buffer (keys in the sorted
//! order upstream's nlohmann `dump()` produces, no whitespace), after a counting pass sizes the
//! buffer — so a whole onion is built with one allocation. Every string written is hex, an
//! [`EncType`] name, or a server field validated to need no escaping. Parsing uses serde_json
//! reading only the keys a hop uses; unknown keys are ignored as upstream ignores them.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

use metaless_identity::wire::Writer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::{EncType, OnionError};

/// Where JSON bytes go: counted, or written.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

/// Counts bytes (the sizing pass).
#[derive(Default)]
pub(crate) struct Count(pub usize);

impl Sink for Count {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

impl Sink for alloc::vec::Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Writer {
    fn put(&mut self, bytes: &[u8]) {
        self.bytes(bytes);
    }
}

/// The byte count `f` would write.
pub(crate) fn measure(f: impl FnOnce(&mut Count)) -> usize {
    let mut count = Count::default();
    f(&mut count);
    count.0
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn put_hex(out: &mut impl Sink, bytes: &[u8; 32]) {
    let mut text = [0u8; 64];
    for (pair, b) in text.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0x0f)];
    }
    out.put(&text);
}

/// `value` in decimal.
pub(crate) fn put_u64(out: &mut impl Sink, value: u64) {
    let mut digits = [0u8; 20];
    let mut v = value;
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || start == 0 {
            break;
        }
    }
    out.put(digits.get(start..).unwrap_or_default());
}

/// `{"headers":""}`: tells the final service node it is the destination.
pub(crate) const CONTROL: &[u8] = br#"{"headers":""}"#;

/// The first hop's metadata: `{"enc_type":…,"ephemeral_key":…}`.
pub(crate) fn outer(out: &mut impl Sink, ephemeral: &[u8; 32], enc: EncType) {
    out.put(br#"{"enc_type":""#);
    out.put(enc.as_str().as_bytes());
    out.put(br#"","ephemeral_key":""#);
    put_hex(out, ephemeral);
    out.put(br#""}"#);
}

/// Routing to the next node: `{"destination":…,"enc_type":…,"ephemeral_key":…}`.
pub(crate) fn to_node(
    out: &mut impl Sink,
    next_ed25519: &[u8; 32],
    ephemeral: &[u8; 32],
    enc: EncType,
) {
    out.put(br#"{"destination":""#);
    put_hex(out, next_ed25519);
    out.put(br#"","enc_type":""#);
    out.put(enc.as_str().as_bytes());
    out.put(br#"","ephemeral_key":""#);
    put_hex(out, ephemeral);
    out.put(br#""}"#);
}

/// Routing to an HTTP server (`method` is always `POST`, as upstream builds it).
pub(crate) fn to_server(
    out: &mut impl Sink,
    host: &str,
    target: &str,
    port: u16,
    protocol: &str,
    ephemeral: &[u8; 32],
    enc: EncType,
) {
    out.put(br#"{"enc_type":""#);
    out.put(enc.as_str().as_bytes());
    out.put(br#"","ephemeral_key":""#);
    put_hex(out, ephemeral);
    out.put(br#"","host":""#);
    out.put(host.as_bytes());
    out.put(br#"","method":"POST","port":"#);
    put_u64(out, u64::from(port));
    out.put(br#","protocol":""#);
    out.put(protocol.as_bytes());
    out.put(br#"","target":""#);
    out.put(target.as_bytes());
    out.put(br#""}"#);
}

/// A JSON string, borrowed from the input unless it contained escapes.
pub(crate) struct JsonStr<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for JsonStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Owned(String::from(v))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// The keys any layer's JSON can carry that a hop reads.
const KEYS: [&str; 10] = [
    "headers",
    "json",
    "base64",
    "host",
    "target",
    "port",
    "protocol",
    "destination",
    "ephemeral_key",
    "enc_type",
];

/// A JSON object as upstream's nlohmann parse leaves it for the hop: every known key's raw value
/// (borrowed, not yet interpreted), the last one winning when a key repeats; other keys ignored.
/// Values are interpreted only when the branch that reads them is taken, so junk under a key
/// that branch does not read is ignored, as upstream ignores it.
pub(crate) struct Object<'a> {
    values: [Option<&'a RawValue>; KEYS.len()],
}

impl<'a> Object<'a> {
    /// Parses `bytes` as one JSON object (trailing non-whitespace refused).
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, OnionError> {
        serde_json::from_slice(bytes).map_err(|_| OnionError::InvalidJson("not a JSON object"))
    }

    fn raw(&self, key: &str) -> Option<&'a RawValue> {
        KEYS.iter()
            .position(|k| *k == key)
            .and_then(|i| self.values.get(i).copied().flatten())
    }

    /// Whether `key` is present, with any value (even `null`), as upstream's `count()` tests.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// `key`'s value as a `T`, if present; a value of another type is invalid.
    pub(crate) fn get<T: Deserialize<'a>>(
        &self,
        key: &'static str,
    ) -> Result<Option<T>, OnionError> {
        self.raw(key)
            .map(|raw| serde_json::from_str(raw.get()).map_err(|_| OnionError::InvalidJson(key)))
            .transpose()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Object<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(core::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Object<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut object = Object {
                    values: [None; KEYS.len()],
                };
                while let Some(key) = map.next_key::<JsonStr<'de>>()? {
                    match KEYS.iter().position(|k| *k == key.0) {
                        Some(i) => {
                            let value: &'de RawValue = map.next_value()?;
                            if let Some(slot) = object.values.get_mut(i) {
                                *slot = Some(value);
                            }
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(object)
            }
        }
        deserializer.deserialize_map(V(core::marker::PhantomData))
    }
}

impl Object<'_> {
    /// `enc_type` if present (unknown names refused), else the absent default.
    pub(crate) fn enc_type(&self) -> Result<EncType, OnionError> {
        self.get::<JsonStr<'_>>("enc_type")?
            .map_or(Ok(EncType::ABSENT_DEFAULT), |name| EncType::parse(&name.0))
    }

    /// A required 32-byte key written as 64 hex characters (either case, as upstream's
    /// `from_hex`); `missing` is the error when it is absent.
    pub(crate) fn key(
        &self,
        name: &'static str,
        missing: OnionError,
    ) -> Result<[u8; 32], OnionError> {
        let text = self.get::<JsonStr<'_>>(name)?.ok_or(missing)?;
        metaless_identity::hex::decode_array(&text.0).map_err(|_| OnionError::InvalidKey)
    }
}
