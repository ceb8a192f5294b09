//! The one error type of this crate.

/// Why an attachment operation was refused.
///
/// Decryption failures say *where* (which chunk, which check) but never carry key or plaintext
/// bytes, so `Display` is safe to log.
///
/// ```
/// use metaless_attachment::AttachmentError;
/// let e = AttachmentError::TamperedChunk { index: 3 };
/// assert_eq!(e.to_string(), "attachment chunk 3 failed authentication (tampered or truncated)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentError {
    /// The plaintext is larger than the limit that applies.
    #[error("attachment of {len} bytes is over the {max}-byte limit")]
    TooLarge {
        /// Offered length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The first byte is not the 'S' stream marker.
    #[error("unknown attachment encryption type 0x{0:02x} (expected 0x53 'S')")]
    UnknownFormat(u8),
    /// The data ended early: inside the header, inside a chunk, inside the padding or before
    /// the FINAL chunk.
    #[error("encrypted attachment is truncated")]
    Truncated,
    /// The first chunk does not authenticate: the key is not this attachment's (or the header
    /// or first chunk was altered — the two cannot be told apart).
    #[error("attachment key does not open this data (wrong key or tampered start)")]
    WrongKey,
    /// A later chunk does not authenticate.
    #[error("attachment chunk {index} failed authentication (tampered or truncated)")]
    TamperedChunk {
        /// Zero-based chunk index.
        index: u64,
    },
    /// A chunk carried the FINAL tag but more data follows.
    #[error("attachment has data after its FINAL chunk")]
    DataAfterFinal,
    /// The padding is not `0x00…0x01`.
    #[error("attachment padding is invalid")]
    BadPadding,
    /// The encryptor was given more or fewer bytes than it was told to expect.
    #[error("encryptor expected {expected} plaintext bytes, got {got}")]
    LengthMismatch {
        /// Declared length.
        expected: u64,
        /// Bytes given so far.
        got: u64,
    },
    /// A key of the wrong length.
    #[error("attachment key must be {expected} bytes, got {got}")]
    KeyLength {
        /// Required length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// Legacy blob: HMAC mismatch (wrong key or tampered).
    #[error("legacy attachment MAC mismatch (wrong key or tampered)")]
    BadMac,
    /// Legacy blob: SHA-256 digest missing or different from the pointer's.
    #[error("legacy attachment digest missing or mismatched")]
    BadDigest,
    /// Legacy blob: AES-CBC padding invalid after a valid MAC.
    #[error("legacy attachment cipher padding invalid")]
    BadCipherPadding,
    /// Legacy plaintext shorter than the pointer's declared size.
    #[error("legacy attachment shorter ({len}) than its declared size ({size})")]
    ShortPlaintext {
        /// Decrypted length.
        len: u64,
        /// Declared size.
        size: u64,
    },
    /// A download URL that is not a file-server file URL.
    #[error("invalid file URL: {0}")]
    InvalidUrl(&'static str),
    /// A file server's reply that cannot be used.
    #[error("invalid file server reply: {0}")]
    InvalidReply(&'static str),
    /// The file server answered with an HTTP error status.
    #[error("file server answered {status}")]
    Status {
        /// HTTP status code (404 = gone or expired, 413 = too large).
        status: u16,
    },
    /// The onion layer refused the request or reply.
    #[error("onion: {0}")]
    Onion(#[from] metaless_onion::OnionError),
    /// An I/O error from a `std::io` adapter (its kind only).
    #[error("i/o error: {0:?}")]
    Io(IoKind),
}

/// The kind of an I/O failure (`std::io::ErrorKind` without `std`, so the error stays `Eq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IoKind {
    /// Reading the source failed.
    Read,
    /// Writing the destination failed.
    Write,
    /// Seeking the source back for the second pass failed.
    Seek,
}
