//! Lowercase hexadecimal, the text form of every key and ID on the Session network.
//!
//! Kept here rather than pulled in as a dependency: it is a few lines, and errors come back as
//! [`IdentityError`] with the offending position.
//!
//! Seeds travel as hex too (CLI arguments, files, the C ABI), so both directions run in constant
//! time: no table lookup indexed by a secret nibble, no branch on a digit's value, no early exit
//! on a valid input. Only an *invalid* input takes a second, variable-time pass to name the
//! offending position — such text is not a secret anyone can use.

use alloc::string::String;
use alloc::vec::Vec;

use crate::IdentityError;

/// The lowercase hex digit of a nibble (0..=15), without a table or a branch: `n + '0'`, plus
/// the gap from `'9' + 1` to `'a'` when `n > 9` (`(9 - n) >> 8` is all ones exactly then).
fn digit_of(nibble: u8) -> char {
    let n = i16::from(nibble);
    let c = n + 0x30 + (((9 - n) >> 8) & (0x61 - 0x3a));
    // `c` is in '0'..='9' or 'a'..='f' for every nibble, so the cast keeps it.
    char::from(c as u8)
}

/// Encodes bytes as lowercase hex (in constant time, see the module docs).
///
/// ```
/// assert_eq!(metaless_identity::hex::encode(&[0x05, 0xab]), "05ab");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digit_of(b >> 4));
        out.push(digit_of(b & 0x0f));
    }
    out
}

/// The value of one hex digit (either case) and a mask that is `0xff` when `c` is a digit and
/// `0` otherwise, computed with arithmetic only: `((lo - 1 - c) & (c - hi - 1)) >> 8` is all ones
/// exactly when `lo <= c <= hi`.
fn value_of(c: u8) -> (u8, u8) {
    let c = i16::from(c);
    let digit = ((0x2f - c) & (c - 0x3a)) >> 8;
    let lower = ((0x60 - c) & (c - 0x67)) >> 8;
    let upper = ((0x40 - c) & (c - 0x47)) >> 8;
    let value = (digit & (c - 0x30)) | (lower & (c - 0x57)) | (upper & (c - 0x37));
    let valid = digit | lower | upper;
    // Both are in 0..=15 and {0, -1}; the casts keep the low byte.
    (value as u8, valid as u8)
}

/// Decodes `raw` (even length, checked by the caller) into `out` (`raw.len() / 2` bytes),
/// touching every character whatever it is; on a bad digit, names the first one.
fn decode_into(raw: &[u8], out: &mut [u8]) -> Result<(), IdentityError> {
    let mut all_valid = 0xffu8;
    for (byte, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
        let (hi, hi_ok) = value_of(pair[0]);
        let (lo, lo_ok) = value_of(pair[1]);
        *byte = hi << 4 | lo;
        all_valid &= hi_ok & lo_ok;
    }
    if all_valid == 0xff {
        return Ok(());
    }
    out.fill(0);
    let position = raw.iter().position(|&c| value_of(c).1 != 0xff).unwrap_or(0);
    Err(IdentityError::NotHex { position })
}

/// Decodes hex (either case) of any even length.
///
/// ```
/// use metaless_identity::{hex, IdentityError};
/// assert_eq!(hex::decode("05AB").unwrap(), vec![0x05, 0xab]);
/// assert_eq!(hex::decode("0g"), Err(IdentityError::NotHex { position: 1 }));
/// ```
pub fn decode(text: &str) -> Result<Vec<u8>, IdentityError> {
    let raw = text.as_bytes();
    if !raw.len().is_multiple_of(2) {
        return Err(IdentityError::WrongLength {
            expected: raw.len() + 1,
            actual: raw.len(),
        });
    }
    let mut out = alloc::vec![0u8; raw.len() / 2];
    decode_into(raw, &mut out)?;
    Ok(out)
}

/// Decodes exactly `N` bytes of hex (`2 * N` characters).
///
/// ```
/// use metaless_identity::{hex, IdentityError};
/// let key: [u8; 2] = hex::decode_array("beef").unwrap();
/// assert_eq!(key, [0xbe, 0xef]);
/// assert_eq!(hex::decode_array::<2>("bee"), Err(IdentityError::WrongLength { expected: 4, actual: 3 }));
/// ```
pub fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], IdentityError> {
    let raw = text.as_bytes();
    if raw.len() != 2 * N {
        return Err(IdentityError::WrongLength {
            expected: 2 * N,
            actual: raw.len(),
        });
    }
    let mut out = [0u8; N];
    decode_into(raw, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }
    }

    /// The textbook (branching) digit value, to check the arithmetic one against.
    fn reference_value(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }

    #[test]
    fn arithmetic_digit_value_matches_the_textbook_one_for_every_byte() {
        for c in 0..=255u8 {
            let (value, valid) = value_of(c);
            match reference_value(c) {
                Some(v) => assert_eq!((value, valid), (v, 0xff), "byte {c:#04x}"),
                None => assert_eq!(valid, 0, "byte {c:#04x}"),
            }
        }
    }

    #[test]
    fn arithmetic_digits_are_the_lowercase_alphabet() {
        let digits: String = (0..16u8).map(digit_of).collect();
        assert_eq!(digits, "0123456789abcdef");
    }

    #[test]
    fn first_bad_digit_is_named_even_after_good_ones() {
        assert_eq!(decode("00zz"), Err(IdentityError::NotHex { position: 2 }));
        assert_eq!(decode("0:"), Err(IdentityError::NotHex { position: 1 }));
        assert_eq!(
            decode_array::<2>("ab@0"),
            Err(IdentityError::NotHex { position: 2 })
        );
        // Neighbours of each range's ends.
        for bad in ["/0", ":0", "`0", "g0", "@0", "G0"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn odd_length_is_rejected() {
        assert!(matches!(
            decode("abc"),
            Err(IdentityError::WrongLength { .. })
        ));
    }
}
