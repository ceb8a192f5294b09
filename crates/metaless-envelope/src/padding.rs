//! Message padding, as Session pads a one-to-one `Content` before encrypting it.
//!
//! Padded = content ‖ `0x80` ‖ zero bytes, up to the next multiple of [`PADDING_BLOCK`] (160)
//! bytes. As libsession-util does it, a content whose length plus the terminator is already a
//! multiple of 160 still gets a whole block of zeros more (159 bytes of content → 320 bytes), so
//! there is always at least one zero byte after the terminator.
//!
//! Unpadding is tolerant, like every Session client: trailing zero bytes, then one `0x80`, are
//! removed; a plaintext whose last byte is neither is taken as unpadded and returned whole. What
//! we refuse ([`EnvelopeError::BadPadding`]) is padding without its terminator: trailing zero
//! bytes that reach a byte other than `0x80`, or the start (also an empty plaintext).
//!
//! ```
//! use metaless_envelope::padding::{pad, unpad};
//! let padded = pad(b"hi").unwrap();
//! assert_eq!(padded.len(), 160);
//! assert_eq!(&padded[..3], b"hi\x80");
//! assert_eq!(unpad(&padded).unwrap(), b"hi");
//! ```

use alloc::vec::Vec;

use crate::EnvelopeError;
use crate::limits::MAX_CONTENT_LEN;

/// The padding block size in bytes.
pub const PADDING_BLOCK: usize = 160;

/// The byte that ends the content and starts the padding.
pub const TERMINATOR: u8 = 0x80;

/// Length of the padded form of `len` content bytes.
///
/// ```
/// use metaless_envelope::padding::padded_len;
/// assert_eq!(padded_len(0), 160);
/// assert_eq!(padded_len(158), 160);
/// assert_eq!(padded_len(159), 320); // terminator lands on the boundary: one more block
/// assert_eq!(padded_len(160), 320);
/// ```
pub const fn padded_len(len: usize) -> usize {
    let with_terminator = len + 1;
    with_terminator + (PADDING_BLOCK - with_terminator % PADDING_BLOCK)
}

/// Pads `content` into a new buffer.
///
/// ```
/// use metaless_envelope::{EnvelopeError, limits::MAX_CONTENT_LEN, padding::pad};
/// assert_eq!(pad(&[1u8; 200]).unwrap().len(), 320);
/// assert!(matches!(pad(&vec![0u8; MAX_CONTENT_LEN + 1]), Err(EnvelopeError::TooLarge { .. })));
/// ```
pub fn pad(content: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let mut out = Vec::new();
    pad_into(content, &mut out)?;
    Ok(out)
}

/// Appends the padded form of `content` to `out` (so a caller can pad straight into the buffer
/// it will encrypt).
///
/// ```
/// let mut out = b"prefix".to_vec();
/// metaless_envelope::padding::pad_into(b"x", &mut out).unwrap();
/// assert_eq!(out.len(), 6 + 160);
/// assert_eq!(&out[6..8], b"x\x80");
/// ```
pub fn pad_into(content: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
    check_content_len(content.len())?;
    let total = padded_len(content.len());
    out.reserve(total);
    out.extend_from_slice(content);
    append_padding(content.len(), out);
    Ok(())
}

/// Appends the terminator and zeros that follow `content_len` bytes already written.
pub(crate) fn append_padding(content_len: usize, out: &mut Vec<u8>) {
    let total = padded_len(content_len);
    out.push(TERMINATOR);
    out.resize(out.len() + (total - content_len - 1), 0);
}

pub(crate) fn check_content_len(len: usize) -> Result<(), EnvelopeError> {
    if len > MAX_CONTENT_LEN {
        return Err(EnvelopeError::TooLarge {
            what: "content",
            len,
            max: MAX_CONTENT_LEN,
        });
    }
    Ok(())
}

/// The content inside a padded plaintext (see the module docs for what is tolerated).
///
/// ```
/// use metaless_envelope::{EnvelopeError, padding::unpad};
/// assert_eq!(unpad(b"abc\x80\0\0").unwrap(), b"abc");
/// assert_eq!(unpad(b"abc").unwrap(), b"abc"); // unpadded: let through, as clients do
/// assert_eq!(unpad(b"abc\0\0"), Err(EnvelopeError::BadPadding)); // no terminator
/// assert_eq!(unpad(b"\0\0"), Err(EnvelopeError::BadPadding));
/// assert_eq!(unpad(b""), Err(EnvelopeError::BadPadding));
/// ```
pub fn unpad(padded: &[u8]) -> Result<&[u8], EnvelopeError> {
    let len = unpadded_len(padded)?;
    padded.get(..len).ok_or(EnvelopeError::BadPadding)
}

/// Length of the content inside `padded`.
pub(crate) fn unpadded_len(padded: &[u8]) -> Result<usize, EnvelopeError> {
    match padded.iter().rposition(|&byte| byte != 0) {
        // All zeros, or nothing at all.
        None => Err(EnvelopeError::BadPadding),
        Some(last) => match padded.get(last) {
            Some(&TERMINATOR) => Ok(last),
            // Zeros after a byte that is not the terminator: padding lost its terminator.
            Some(_) if last + 1 < padded.len() => Err(EnvelopeError::BadPadding),
            // Last byte is content: an unpadded plaintext.
            _ => Ok(padded.len()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(content in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let padded = pad(&content).unwrap();
            prop_assert_eq!(padded.len() % PADDING_BLOCK, 0);
            prop_assert!(padded.len() > content.len());
            prop_assert_eq!(unpad(&padded).unwrap(), &content[..]);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(content) = unpad(&data) {
                prop_assert!(content.len() <= data.len());
            }
        }
    }

    #[test]
    fn every_length_pads_to_a_block_multiple_with_a_zero_after_the_terminator() {
        for len in 0..=3 * PADDING_BLOCK {
            let padded = pad(&alloc::vec![0xAAu8; len]).unwrap();
            assert_eq!(padded.len() % PADDING_BLOCK, 0, "len {len}");
            assert_eq!(padded[len], TERMINATOR);
            assert!(padded[len + 1..].iter().all(|&b| b == 0));
            assert!(
                padded.len() >= len + 2,
                "len {len}: always at least one zero"
            );
            assert!(padded.len() <= len + 1 + PADDING_BLOCK);
        }
    }

    #[test]
    fn session_desktop_padding_is_accepted() {
        // Older session-desktop padded to one byte short of a 160 multiple (no trailing zero
        // when the terminator lands last); the tolerant unpad still reads it.
        let mut legacy = alloc::vec![7u8; 157];
        legacy.push(TERMINATOR);
        legacy.push(0);
        assert_eq!(legacy.len(), 159);
        assert_eq!(unpad(&legacy).unwrap(), &[7u8; 157][..]);
        let mut exact = alloc::vec![7u8; 158];
        exact.push(TERMINATOR);
        assert_eq!(unpad(&exact).unwrap(), &[7u8; 158][..]);
    }

    #[test]
    fn content_may_itself_end_in_the_terminator_byte() {
        let content = [1u8, TERMINATOR];
        assert_eq!(unpad(&pad(&content).unwrap()).unwrap(), &content[..]);
    }
}
