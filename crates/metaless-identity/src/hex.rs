//! Lowercase hexadecimal, the text form of every key and ID on the Session network.
//!
//! Kept here rather than pulled in as a dependency: it is a few lines, and errors come back as
//! [`IdentityError`] with the offending position.

use alloc::string::String;
use alloc::vec::Vec;

use crate::IdentityError;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Encodes bytes as lowercase hex.
///
/// ```
/// assert_eq!(metaless_identity::hex::encode(&[0x05, 0xab]), "05ab");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn nibble(c: u8, position: usize) -> Result<u8, IdentityError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(IdentityError::NotHex { position }),
    }
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
    let mut out = Vec::with_capacity(raw.len() / 2);
    for (i, pair) in raw.chunks_exact(2).enumerate() {
        out.push(nibble(pair[0], 2 * i)? << 4 | nibble(pair[1], 2 * i + 1)?);
    }
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
    for (i, pair) in raw.chunks_exact(2).enumerate() {
        out[i] = nibble(pair[0], 2 * i)? << 4 | nibble(pair[1], 2 * i + 1)?;
    }
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

    #[test]
    fn odd_length_is_rejected() {
        assert!(matches!(
            decode("abc"),
            Err(IdentityError::WrongLength { .. })
        ));
    }
}
