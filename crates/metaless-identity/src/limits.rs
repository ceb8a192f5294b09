//! Resource limits of the identity crate, enforced before any allocation that grows with input.

/// The longest byte string [`crate::mnemonic::encode_bytes`] encodes, and so the most
/// [`crate::mnemonic::decode_bytes`] returns: 64 bytes (48 words). A seed needs at most 32.
///
/// ```
/// assert_eq!(metaless_identity::limits::MAX_PHRASE_BYTES, 64);
/// ```
pub const MAX_PHRASE_BYTES: usize = 64;

/// The most words a phrase may have: the words for [`MAX_PHRASE_BYTES`] plus one checksum word.
/// Longer input is refused as [`crate::IdentityError::WrongWordCount`] before anything is
/// allocated.
///
/// ```
/// assert_eq!(metaless_identity::limits::MAX_PHRASE_WORDS, 49);
/// ```
pub const MAX_PHRASE_WORDS: usize = MAX_PHRASE_BYTES / 4 * 3 + 1;
