//! The one way metaless reads and writes bytes.
//!
//! Every codec in the workspace goes through [`Reader`] and [`Writer`]: lengths are checked
//! against what is actually present before anything is allocated, and a short read says how
//! many bytes were missing.

use alloc::vec::Vec;
use thiserror::Error;

/// A decoding failure from [`Reader`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input ended early.
    #[error("truncated: {needed} more bytes needed")]
    Truncated {
        /// How many further bytes the read required.
        needed: usize,
    },
    /// A length field exceeds the limit for that field.
    #[error("{field} too large: {len} bytes, at most {max}")]
    TooLarge {
        /// Which field was too large.
        field: &'static str,
        /// The length that was claimed.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes were left over after a complete decode.
    #[error("{0} trailing bytes")]
    Trailing(usize),
}

/// A cursor over borrowed bytes that never reads past the end.
///
/// ```
/// use metaless_identity::wire::{Reader, WireError};
/// let mut r = Reader::new(&[3, 0, 0, 0, b'a', b'b', b'c', b'!']);
/// assert_eq!(r.u32_le_prefixed("blob", 16).unwrap(), b"abc");
/// assert_eq!(r.rest(), b"!");
/// let mut short = Reader::new(&[9, 0, 0, 0, 1]);
/// assert_eq!(short.u32_le_prefixed("blob", 16), Err(WireError::Truncated { needed: 8 }));
/// ```
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.input.len()
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.input.len() {
            return Err(WireError::Truncated {
                needed: n - self.input.len(),
            });
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads a little-endian `u32`.
    pub fn u32_le(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u32` length, checks it against `max`, then takes that many bytes.
    ///
    /// The limit is checked before the length is compared with the input, so a forged length
    /// is reported as [`WireError::TooLarge`] whatever follows it.
    pub fn u32_le_prefixed(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Result<&'a [u8], WireError> {
        let len = usize::try_from(self.u32_le()?).unwrap_or(usize::MAX);
        if len > max {
            return Err(WireError::TooLarge { field, len, max });
        }
        self.take(len)
    }

    /// Takes everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.input)
    }

    /// Succeeds only if the whole input has been consumed.
    pub fn finish(self) -> Result<(), WireError> {
        match self.input.len() {
            0 => Ok(()),
            n => Err(WireError::Trailing(n)),
        }
    }
}

/// An appending writer over a `Vec<u8>`, sized up front by the caller where it can be.
///
/// ```
/// use metaless_identity::wire::Writer;
/// let mut w = Writer::with_capacity(8);
/// w.u32_le_prefixed(b"abc");
/// w.bytes(b"!");
/// assert_eq!(w.into_vec(), [3, 0, 0, 0, b'a', b'b', b'c', b'!']);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
        }
    }

    /// Continues writing at the end of an existing buffer.
    pub fn from_vec(out: Vec<u8>) -> Self {
        Self { out }
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// Appends a little-endian `u32`.
    pub fn u32_le(&mut self, v: u32) -> &mut Self {
        self.out.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends `bytes` behind a little-endian `u32` length.
    ///
    /// Lengths above `u32::MAX` cannot be framed; callers enforce far smaller limits first,
    /// so such a length saturates rather than panicking (and the peer then rejects it).
    pub fn u32_le_prefixed(&mut self, bytes: &[u8]) -> &mut Self {
        self.u32_le(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
        self.bytes(bytes)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The finished buffer.
    pub fn into_vec(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prefixed_round_trip(blob in proptest::collection::vec(any::<u8>(), 0..512), tail in proptest::collection::vec(any::<u8>(), 0..16)) {
            let mut w = Writer::default();
            w.u32_le_prefixed(&blob).bytes(&tail);
            let bytes = w.into_vec();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.u32_le_prefixed("blob", 512).unwrap(), &blob[..]);
            prop_assert_eq!(r.rest(), &tail[..]);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn every_truncation_is_reported(blob in proptest::collection::vec(any::<u8>(), 1..64)) {
            let mut w = Writer::default();
            w.u32_le_prefixed(&blob);
            let bytes = w.into_vec();
            for cut in 0..bytes.len() {
                let mut r = Reader::new(&bytes[..cut]);
                let is_truncated = matches!(r.u32_le_prefixed("blob", 64), Err(WireError::Truncated { .. }));
                prop_assert!(is_truncated);
            }
        }
    }

    #[test]
    fn oversize_length_is_rejected_before_reading() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            r.u32_le_prefixed("blob", 10),
            Err(WireError::TooLarge {
                field: "blob",
                len: 0xffff_ffff,
                max: 10
            })
        );
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert!(r.take(1).is_ok());
        assert_eq!(r.finish(), Err(WireError::Trailing(2)));
    }
}
