//! Base64 as the storage server reads and writes it.
//!
//! Output is standard padded base64 (`oxenc::to_base64`). Input is read the way
//! `oxenc::is_base64`/`from_base64` read it: the standard alphabet only, `=` padding optional
//! (at most two, only when it completes a multiple of four), a length of 4n+1 refused, and
//! unused trailing bits ignored (oxen-encoding `tests/test_encoding.cpp`).

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD, STANDARD_NO_PAD,
};

/// Decodes digits whose padding [`unpadded`] already removed, ignoring unused trailing bits as
/// oxenc does.
const DIGITS: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Standard base64 with padding.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Standard base64 without padding (message hashes).
pub fn encode_unpadded(bytes: &[u8]) -> String {
    STANDARD_NO_PAD.encode(bytes)
}

/// Whether each byte is a digit of the standard alphabet (one lookup per byte: this check
/// runs over every message body a node stores).
const IS_DIGIT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = matches!(c as u8, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/');
        c += 1;
    }
    t
};

/// `text` with any valid padding removed, or `None` if its length or padding rules it out (the
/// digits themselves are not checked).
fn unpadded(text: &[u8]) -> Option<&[u8]> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut body = text;
    if !body.is_empty() && body.len().is_multiple_of(4) {
        for _ in 0..2 {
            if let Some((b'=', rest)) = body.split_last() {
                body = rest;
            }
        }
    }
    Some(body)
}

/// Whether `text` is base64 by the storage server's rules.
pub fn is_base64(text: &[u8]) -> bool {
    unpadded(text).is_some_and(|body| body.iter().all(|&c| IS_DIGIT[usize::from(c)]))
}

/// Decodes by the storage server's rules; `None` if `text` is not base64. The decoder refuses
/// any byte outside the alphabet (a stray `=` included), so the digits are looked at once.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    DIGITS.decode(unpadded(text)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn server_rules() {
        assert!(is_base64(b""));
        assert!(is_base64(b"YWJj"));
        assert!(is_base64(b"YWI="));
        assert!(is_base64(b"YWI"));
        assert!(!is_base64(b"YWJjZ")); // 4n+1
        assert!(!is_base64(b"YW=I"));
        assert!(!is_base64(b"Y==="));
        assert!(!is_base64(b"YWI=="));
        assert!(!is_base64(b"_YWJ") && !is_base64(b"-YWJ")); // no URL-safe alphabet
        assert_eq!(decode(b"YWI").unwrap(), b"ab");
        assert_eq!(decode(b"YWJ=").unwrap(), b"ab"); // trailing bits ignored
    }

    /// The rules written out bit by bit: the reference the table and the engine are held to.
    fn reference(text: &[u8]) -> Option<Vec<u8>> {
        let sextet = |c: u8| match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        };
        if text.len() % 4 == 1 {
            return None;
        }
        let mut body = text;
        if !body.is_empty() && body.len().is_multiple_of(4) {
            for _ in 0..2 {
                if let Some((b'=', rest)) = body.split_last() {
                    body = rest;
                }
            }
        }
        let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
        for &c in body {
            acc = (acc << 6) | u32::from(sextet(c)?);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push(((acc >> bits) & 0xff) as u8);
            }
        }
        Some(out)
    }

    fn base64ish() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                8 => proptest::sample::select(
                    b"ABCXYZabcxyz0189+/=".to_vec()
                ),
                1 => any::<u8>(),
            ],
            0..80,
        )
    }

    proptest! {
        #[test]
        fn decode_matches_the_rules_bit_by_bit(text in base64ish()) {
            prop_assert_eq!(decode(&text), reference(&text));
            prop_assert_eq!(is_base64(&text), reference(&text).is_some());
        }

        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(decode(encode(&bytes).as_bytes()).unwrap(), bytes.clone());
            prop_assert_eq!(decode(encode_unpadded(&bytes).as_bytes()).unwrap(), bytes);
        }

        #[test]
        fn never_panics(text in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&text);
        }
    }
}
