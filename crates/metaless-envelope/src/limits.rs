//! Resource limits, each checked before any allocation that grows with an input length.
//!
//! The storage servers refuse far smaller messages than these (their limit is the swarm crate's
//! business); the limits here only bound the memory one hostile message can make us use, while
//! leaving room for every message size the tests exercise (256 KiB of content).

/// Largest serialized `Content` [`crate::seal_message`] and [`crate::padding::pad`] accept (512 KiB).
///
/// ```
/// assert_eq!(metaless_envelope::limits::MAX_CONTENT_LEN, 512 * 1024);
/// ```
pub const MAX_CONTENT_LEN: usize = 512 * 1024;

/// Largest plaintext [`crate::encrypt_for_recipient`] seals: the largest padded content (one
/// padding block of slack).
///
/// ```
/// use metaless_envelope::limits::{MAX_CONTENT_LEN, MAX_PLAINTEXT_LEN};
/// assert!(MAX_PLAINTEXT_LEN > MAX_CONTENT_LEN);
/// ```
pub const MAX_PLAINTEXT_LEN: usize = MAX_CONTENT_LEN + crate::padding::PADDING_BLOCK;

/// Largest sign-then-seal ciphertext [`crate::decrypt_incoming`] opens.
///
/// ```
/// use metaless_envelope::limits::{MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN};
/// assert_eq!(MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN + metaless_envelope::OVERHEAD);
/// ```
pub const MAX_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + crate::sealed::OVERHEAD;

/// Largest stored message (the `WebSocketMessage` bytes) [`crate::open_message`] parses: the
/// largest ciphertext plus room for the two protobuf wrappers around it.
///
/// ```
/// use metaless_envelope::limits::{MAX_CIPHERTEXT_LEN, MAX_STORED_MESSAGE_LEN};
/// assert_eq!(MAX_STORED_MESSAGE_LEN, MAX_CIPHERTEXT_LEN + 1024);
/// ```
pub const MAX_STORED_MESSAGE_LEN: usize = MAX_CIPHERTEXT_LEN + 1024;
