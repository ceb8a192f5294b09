//! Strict bencode ("bt"), the encoding of every config message.
//!
//! A [`Value`] is an integer (`i<dec>e`, signed 64-bit), a byte string (`<len>:<bytes>`), a list
//! (`l…e`) or a dict (`d…e`) with byte-string keys. Dicts are [`BTreeMap`]s, so the writer emits
//! keys in byte order without being told. The reader accepts only the one canonical encoding of a
//! value: keys strictly increasing (no duplicates), no leading zeros or `-0` in integers, no
//! leading zeros in string lengths, nothing after the value. Because of that,
//! `encode(decode(b)?) == b` for every accepted `b`: a signature or hash computed over received
//! bytes and one computed over our re-encoding agree.
//!
//! Limits ([`Limits`]) bound the input size and nesting depth before anything is allocated; a
//! string's length is checked against what remains of the input before it is copied.
//!
//! Config *sets* are lists holding integers first (numeric order), then strings (byte order), no
//! duplicates; [`Value::set`] builds one and [`Value::is_canonical_set`] checks one.
//!
//! ```
//! use metaless_config::bt::{self, Value};
//!
//! let v = Value::dict([
//!     (b"b".to_vec(), Value::Int(-3)),
//!     (b"a".to_vec(), Value::bytes("hi")),
//! ]);
//! let bytes = bt::encode(&v);
//! assert_eq!(bytes, b"d1:a2:hi1:bi-3ee");
//! assert_eq!(bt::decode(&bytes).unwrap(), v);
//! // Keys out of order are refused:
//! assert!(bt::decode(b"d1:bi1e1:ai2ee").is_err());
//! ```

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::limits;

/// A bencoded dict: byte-string keys in byte order.
pub type Dict = BTreeMap<Vec<u8>, Value>;

/// One bencoded value.
///
/// ```
/// use metaless_config::bt::Value;
/// let v = Value::List(vec![Value::Int(1), Value::bytes("x")]);
/// assert_eq!(metaless_config::bt::encode(&v), b"li1e1:xe");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// `i<dec>e`, signed 64-bit (what libsession stores).
    Int(i64),
    /// `<len>:<bytes>`.
    Bytes(Vec<u8>),
    /// `l…e`.
    List(Vec<Value>),
    /// `d…e`, keys in byte order.
    Dict(Dict),
}

impl core::fmt::Debug for Value {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Bytes(b) => match core::str::from_utf8(b) {
                Ok(s) if s.chars().all(|c| !c.is_control()) => write!(f, "{s:?}"),
                _ => write!(f, "0x{}", metaless_identity::hex::encode(b)),
            },
            Value::List(l) => f.debug_list().entries(l).finish(),
            Value::Dict(d) => {
                let mut m = f.debug_map();
                for (k, v) in d {
                    m.entry(&Value::Bytes(k.clone()), v);
                }
                m.finish()
            }
        }
    }
}

/// Why bytes were refused as bencode. Offsets count from the start of the input.
///
/// ```
/// use metaless_config::bt::{self, BtError};
/// assert_eq!(bt::decode(b"i1ex"), Err(BtError::TrailingData { at: 3 }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BtError {
    /// The input ended inside a value.
    #[error("bencode truncated at byte {at}")]
    Truncated {
        /// Offset where more bytes were needed.
        at: usize,
    },
    /// A byte that cannot start (or continue) a value.
    #[error("unexpected byte 0x{byte:02x} at {at}")]
    Unexpected {
        /// Offset of the byte.
        at: usize,
        /// The byte.
        byte: u8,
    },
    /// An integer with a leading zero, `-0`, no digits, or outside i64.
    #[error("non-canonical or out-of-range integer at {at}")]
    BadInt {
        /// Offset of the `i` (or the length's first digit).
        at: usize,
    },
    /// A string length with a leading zero, or one longer than the rest of the input.
    #[error("bad string length at {at}")]
    BadLength {
        /// Offset of the length's first digit.
        at: usize,
    },
    /// A dict key not strictly greater than the one before it (out of order or duplicate).
    #[error("dict key out of order or duplicated at {at}")]
    KeyOrder {
        /// Offset of the key.
        at: usize,
    },
    /// Bytes after the value.
    #[error("trailing data at {at}")]
    TrailingData {
        /// Offset of the first extra byte.
        at: usize,
    },
    /// Lists/dicts nested deeper than the limit.
    #[error("nesting deeper than {max}")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The input is longer than the limit.
    #[error("input of {len} bytes exceeds {max}")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Size and depth limits for [`decode_with`].
///
/// ```
/// use metaless_config::bt::{self, Limits};
/// let tight = Limits { max_len: 16, max_depth: 1 };
/// assert!(bt::decode_with(b"lli1eee", tight).is_err());
/// assert!(bt::decode_with(b"li1ee", tight).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest input accepted, in bytes.
    pub max_len: usize,
    /// Deepest list/dict nesting accepted (a top-level dict is depth 1).
    pub max_depth: usize,
}

impl Default for Limits {
    /// [`limits::BT_MAX_LEN`] and [`limits::BT_MAX_DEPTH`].
    ///
    /// ```
    /// assert_eq!(metaless_config::bt::Limits::default().max_depth, metaless_config::limits::BT_MAX_DEPTH);
    /// ```
    fn default() -> Self {
        Limits {
            max_len: limits::BT_MAX_LEN,
            max_depth: limits::BT_MAX_DEPTH,
        }
    }
}

impl Value {
    /// A byte-string value.
    ///
    /// ```
    /// assert_eq!(metaless_config::bt::Value::bytes("ab"), metaless_config::bt::Value::Bytes(b"ab".to_vec()));
    /// ```
    pub fn bytes(b: impl AsRef<[u8]>) -> Value {
        Value::Bytes(b.as_ref().to_vec())
    }

    /// A dict from key/value pairs (a later duplicate key wins).
    ///
    /// ```
    /// use metaless_config::bt::{encode, Value};
    /// assert_eq!(encode(&Value::dict([(b"k".to_vec(), Value::Int(1))])), b"d1:ki1ee");
    /// ```
    pub fn dict(items: impl IntoIterator<Item = (Vec<u8>, Value)>) -> Value {
        Value::Dict(items.into_iter().collect())
    }

    /// A config set: integers first in numeric order, then strings in byte order, duplicates
    /// removed. Other kinds of value (lists, dicts) are dropped: upstream sets hold only scalars.
    ///
    /// ```
    /// use metaless_config::bt::{encode, Value};
    /// let s = Value::set([Value::bytes("b"), Value::Int(2), Value::bytes("a"), Value::Int(-1), Value::Int(2)]);
    /// assert_eq!(encode(&s), b"li-1ei2e1:a1:be");
    /// ```
    pub fn set(items: impl IntoIterator<Item = Value>) -> Value {
        let mut v: Vec<Value> = items
            .into_iter()
            .filter(|x| matches!(x, Value::Int(_) | Value::Bytes(_)))
            .collect();
        v.sort_by(set_order);
        v.dedup();
        Value::List(v)
    }

    /// True when this is a list in config-set order (scalars only, strictly increasing).
    ///
    /// ```
    /// use metaless_config::bt::Value;
    /// assert!(Value::List(vec![Value::Int(1), Value::bytes("a")]).is_canonical_set());
    /// assert!(!Value::List(vec![Value::bytes("a"), Value::Int(1)]).is_canonical_set());
    /// ```
    pub fn is_canonical_set(&self) -> bool {
        match self {
            Value::List(l) => {
                l.iter()
                    .all(|x| matches!(x, Value::Int(_) | Value::Bytes(_)))
                    && l.windows(2)
                        .all(|w| set_order(&w[0], &w[1]) == Ordering::Less)
            }
            _ => false,
        }
    }

    /// The integer, if this is one.
    ///
    /// ```
    /// assert_eq!(metaless_config::bt::Value::Int(5).as_int(), Some(5));
    /// ```
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The byte string, if this is one.
    ///
    /// ```
    /// assert_eq!(metaless_config::bt::Value::bytes("x").as_bytes(), Some(&b"x"[..]));
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The list, if this is one.
    ///
    /// ```
    /// assert!(metaless_config::bt::Value::List(vec![]).as_list().is_some());
    /// ```
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The dict, if this is one.
    ///
    /// ```
    /// assert!(metaless_config::bt::Value::Dict(Default::default()).as_dict().is_some());
    /// ```
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// The dict, mutably, if this is one.
    ///
    /// ```
    /// let mut v = metaless_config::bt::Value::Dict(Default::default());
    /// v.as_dict_mut().unwrap().insert(b"a".to_vec(), metaless_config::bt::Value::Int(1));
    /// ```
    pub fn as_dict_mut(&mut self) -> Option<&mut Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }
}

/// Config-set order: integers (numeric) before strings (byte order); other kinds last.
fn set_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Int(_) => 0,
            Value::Bytes(_) => 1,
            Value::List(_) => 2,
            Value::Dict(_) => 3,
        }
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Encodes `v` canonically.
///
/// ```
/// use metaless_config::bt::{encode, Value};
/// assert_eq!(encode(&Value::Int(-7)), b"i-7e");
/// ```
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(v, &mut out);
    out
}

/// Appends the canonical encoding of `v` to `out`.
///
/// ```
/// let mut out = b"x".to_vec();
/// metaless_config::bt::encode_into(&metaless_config::bt::Value::bytes("ab"), &mut out);
/// assert_eq!(out, b"x2:ab");
/// ```
pub fn encode_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Int(i) => {
            out.push(b'i');
            push_decimal_i64(*i, out);
            out.push(b'e');
        }
        Value::Bytes(b) => encode_bytes(b, out),
        Value::List(l) => {
            out.push(b'l');
            for x in l {
                encode_into(x, out);
            }
            out.push(b'e');
        }
        Value::Dict(d) => {
            out.push(b'd');
            for (k, x) in d {
                encode_bytes(k, out);
                encode_into(x, out);
            }
            out.push(b'e');
        }
    }
}

/// Appends `<len>:<bytes>`.
///
/// ```
/// let mut out = Vec::new();
/// metaless_config::bt::encode_bytes(b"abc", &mut out);
/// assert_eq!(out, b"3:abc");
/// ```
pub fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    push_decimal_u64(b.len() as u64, out);
    out.push(b':');
    out.extend_from_slice(b);
}

fn push_decimal_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_decimal_i64(n: i64, out: &mut Vec<u8>) {
    if n < 0 {
        out.push(b'-');
    }
    push_decimal_u64(n.unsigned_abs(), out);
}

/// Decodes exactly one canonical value filling all of `input`, with the default [`Limits`].
///
/// ```
/// use metaless_config::bt::{decode, Value};
/// assert_eq!(decode(b"li1e1:ae").unwrap(), Value::List(vec![Value::Int(1), Value::bytes("a")]));
/// assert!(decode(b"i01e").is_err()); // leading zero
/// ```
pub fn decode(input: &[u8]) -> Result<Value, BtError> {
    decode_with(input, Limits::default())
}

/// [`decode`] with explicit limits.
///
/// ```
/// use metaless_config::bt::{decode_with, BtError, Limits};
/// let l = Limits { max_len: 3, max_depth: 8 };
/// assert_eq!(decode_with(b"i10e", l), Err(BtError::TooLarge { len: 4, max: 3 }));
/// ```
pub fn decode_with(input: &[u8], limits: Limits) -> Result<Value, BtError> {
    if input.len() > limits.max_len {
        return Err(BtError::TooLarge {
            len: input.len(),
            max: limits.max_len,
        });
    }
    let mut p = Parser {
        input,
        pos: 0,
        max_depth: limits.max_depth,
    };
    let v = p.value(0)?;
    if p.pos != input.len() {
        return Err(BtError::TrailingData { at: p.pos });
    }
    Ok(v)
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Result<u8, BtError> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or(BtError::Truncated { at: self.pos })
    }

    fn value(&mut self, depth: usize) -> Result<Value, BtError> {
        match self.peek()? {
            b'i' => self.int().map(Value::Int),
            b'0'..=b'9' => self.string().map(|s| Value::Bytes(s.to_vec())),
            b'l' => {
                let depth = self.enter(depth)?;
                self.pos += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth)?);
                }
                self.pos += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                let depth = self.enter(depth)?;
                self.pos += 1;
                let mut map = Dict::new();
                let mut last: Option<&'a [u8]> = None;
                while self.peek()? != b'e' {
                    let at = self.pos;
                    match self.peek()? {
                        b'0'..=b'9' => {}
                        byte => return Err(BtError::Unexpected { at, byte }),
                    }
                    let key = self.string()?;
                    if last.is_some_and(|l| l >= key) {
                        return Err(BtError::KeyOrder { at });
                    }
                    last = Some(key);
                    let v = self.value(depth)?;
                    map.insert(key.to_vec(), v);
                }
                self.pos += 1;
                Ok(Value::Dict(map))
            }
            byte => Err(BtError::Unexpected { at: self.pos, byte }),
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, BtError> {
        if depth >= self.max_depth {
            return Err(BtError::TooDeep {
                max: self.max_depth,
            });
        }
        Ok(depth + 1)
    }

    /// `i<dec>e`: optional `-`, digits, no leading zero, no `-0`, fits i64.
    fn int(&mut self) -> Result<i64, BtError> {
        let at = self.pos;
        self.pos += 1; // 'i'
        let neg = self.peek()? == b'-';
        if neg {
            self.pos += 1;
        }
        let start = self.pos;
        while self.peek()?.is_ascii_digit() {
            self.pos += 1;
        }
        let digits = &self.input[start..self.pos];
        match self.peek()? {
            b'e' => {}
            byte => return Err(BtError::Unexpected { at: self.pos, byte }),
        }
        self.pos += 1;
        let bad = BtError::BadInt { at };
        if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
            return Err(bad);
        }
        // Accumulate negatively so i64::MIN parses.
        let mut n: i64 = 0;
        for d in digits {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_sub(i64::from(d - b'0')))
                .ok_or(bad.clone())?;
        }
        if neg {
            Ok(n)
        } else {
            n.checked_neg().ok_or(bad)
        }
    }

    /// `<len>:<bytes>`, no leading zero in len, len within the input.
    fn string(&mut self) -> Result<&'a [u8], BtError> {
        let at = self.pos;
        let mut len: usize = 0;
        let start = self.pos;
        while self.peek()?.is_ascii_digit() {
            let d = usize::from(self.input[self.pos] - b'0');
            len = len
                .checked_mul(10)
                .and_then(|l| l.checked_add(d))
                .ok_or(BtError::BadLength { at })?;
            self.pos += 1;
        }
        if self.pos - start > 1 && self.input[start] == b'0' {
            return Err(BtError::BadLength { at });
        }
        match self.peek()? {
            b':' => {}
            byte => return Err(BtError::Unexpected { at: self.pos, byte }),
        }
        self.pos += 1;
        // Checked against what remains before anything is copied.
        if len > self.input.len() - self.pos {
            return Err(BtError::BadLength { at });
        }
        let input: &'a [u8] = self.input;
        let s = &input[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn ints_round_trip_at_the_edges() {
        for i in [0, 1, -1, 9, 10, i64::MAX, i64::MIN] {
            let e = encode(&Value::Int(i));
            assert_eq!(decode(&e), Ok(Value::Int(i)));
        }
        assert_eq!(encode(&Value::Int(i64::MIN)), b"i-9223372036854775808e");
    }

    #[test]
    fn refuses_non_canonical_ints() {
        for bad in [
            &b"i-0e"[..],
            b"i00e",
            b"i01e",
            b"ie",
            b"i-e",
            b"i9223372036854775808e",
        ] {
            assert!(
                matches!(decode(bad), Err(BtError::BadInt { at: 0 })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            decode(b"i1x"),
            Err(BtError::Unexpected { at: 2, .. })
        ));
    }

    #[test]
    fn refuses_bad_strings() {
        assert_eq!(decode(b"01:a"), Err(BtError::BadLength { at: 0 }));
        assert_eq!(decode(b"5:abc"), Err(BtError::BadLength { at: 0 }));
        assert_eq!(
            decode(b"99999999999999999999999:a"),
            Err(BtError::BadLength { at: 0 })
        );
        assert_eq!(decode(b"3"), Err(BtError::Truncated { at: 1 }));
    }

    #[test]
    fn refuses_unordered_and_duplicate_keys() {
        assert_eq!(decode(b"d1:bi1e1:ai1ee"), Err(BtError::KeyOrder { at: 7 }));
        assert_eq!(decode(b"d1:ai1e1:ai1ee"), Err(BtError::KeyOrder { at: 7 }));
        assert!(matches!(
            decode(b"di1ei1ee"),
            Err(BtError::Unexpected { at: 1, .. })
        ));
    }

    #[test]
    fn depth_and_size_limits() {
        let deep: Vec<u8> = [vec![b'l'; 65], vec![b'e'; 65]].concat();
        assert_eq!(decode(&deep), Err(BtError::TooDeep { max: 64 }));
        let ok: Vec<u8> = [vec![b'l'; 64], vec![b'e'; 64]].concat();
        assert!(decode(&ok).is_ok());
        let big = vec![b'0'; limits::BT_MAX_LEN + 1];
        assert!(matches!(decode(&big), Err(BtError::TooLarge { .. })));
    }

    #[test]
    fn truncation_everywhere_is_an_error() {
        let full = b"d1:ali1e2:xyd1:qi-5eee1:bi0ee";
        assert!(decode(full).is_ok());
        for n in 0..full.len() {
            assert!(decode(&full[..n]).is_err(), "prefix {n}");
        }
        assert_eq!(decode(b"lee"), Err(BtError::TrailingData { at: 2 }));
    }
}
