//! Named limits and sizes of the attachment formats, in one place.
//!
//! ```
//! use metaless_attachment::limits;
//! assert_eq!(limits::ENCRYPTED_CHUNK_TOTAL, limits::CHUNK_SIZE + limits::CHUNK_OVERHEAD);
//! ```

/// Plaintext bytes per secretstream chunk of the 'S' format (libsession-util `ENCRYPT_CHUNK_SIZE`).
pub const CHUNK_SIZE: usize = 32_768;

/// Bytes each chunk adds: one encrypted tag byte and a 16-byte Poly1305 MAC (libsodium
/// `crypto_secretstream_xchacha20poly1305_ABYTES`).
pub const CHUNK_OVERHEAD: usize = 17;

/// One full encrypted chunk.
pub const ENCRYPTED_CHUNK_TOTAL: usize = CHUNK_SIZE + CHUNK_OVERHEAD;

/// The secretstream header (libsodium `HEADERBYTES`), which is also the derived nonce.
pub const HEADER_SIZE: usize = 24;

/// `'S'` and the header: what precedes the first chunk.
pub const PREFIX_SIZE: usize = 1 + HEADER_SIZE;

/// The 'S' format's key, and the 32-byte key an `AttachmentPointer` carries for it.
pub const KEY_SIZE: usize = 32;

/// Largest plaintext encrypted without `allow_large` (libsession-util `MAX_REGULAR_SIZE`): its
/// encrypted size, 10 223 616 bytes, is the most an onion request carries.
pub const MAX_REGULAR_SIZE: u64 = 10_218_286;

/// Largest plaintext even with `allow_large` (1 TiB): far below the 2^32 chunks after which the
/// 32-bit secretstream counter would wrap, so libsodium's rekey-on-wrap path never runs.
pub const MAX_LARGE_SIZE: u64 = 1 << 40;

/// The legacy scheme's key: AES-256 key ‖ HMAC-SHA256 key.
pub const LEGACY_KEY_SIZE: usize = 64;

/// Legacy IV length (AES block).
pub const LEGACY_IV_SIZE: usize = 16;

/// Legacy MAC length (HMAC-SHA256).
pub const LEGACY_MAC_SIZE: usize = 32;

/// Smallest legacy blob: IV, one AES block, MAC (desktop refuses shorter than IV + MAC).
pub const LEGACY_MIN_BLOB: usize = LEGACY_IV_SIZE + 16 + LEGACY_MAC_SIZE;

/// Legacy padding never goes below this size (desktop `addAttachmentPadding`).
pub const LEGACY_MIN_PADDED: u64 = 541;

/// Desktop's `MAX_ATTACHMENT_FILESIZE_BYTES`: legacy padding is clamped to it, and clients cap
/// uploads there.
pub const MAX_ATTACHMENT_FILESIZE: u64 = 10_000_000;

/// Longest download URL accepted by [`crate::FileUrl::parse`].
pub const MAX_URL_LEN: usize = 2048;

/// Longest file id accepted in a URL or an upload reply.
pub const MAX_FILE_ID_LEN: usize = 128;

/// Largest JSON reply (upload/extend/info) parsed from a file server.
pub const MAX_REPLY_JSON: usize = 16 * 1024;

/// Legacy (AES-256-GCM) profile-picture IV length (desktop `PROFILE_IV_LENGTH`).
pub const PROFILE_IV_SIZE: usize = 12;

/// Legacy profile-picture GCM tag length (desktop `PROFILE_TAG_LENGTH`, 128 bits).
pub const PROFILE_TAG_SIZE: usize = 16;

/// Smallest legacy profile-picture blob desktop decrypts: IV, tag and one byte.
pub const PROFILE_MIN_BLOB: usize = PROFILE_IV_SIZE + PROFILE_TAG_SIZE + 1;
