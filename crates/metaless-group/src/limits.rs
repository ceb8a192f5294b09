//! Named limits of the group formats (upstream values where upstream has one).

/// Largest group message plaintext accepted or produced, and the decompression cap
/// (libsession `MAX_PLAINTEXT_MESSAGE_SIZE`).
pub const MAX_PLAINTEXT_MESSAGE_SIZE: usize = 1_000_000;

/// Group message ciphertexts are padded so that `nonce ‖ ciphertext` is a multiple of this.
pub const MESSAGE_PADDING: usize = 256;

/// Member entries in a full keys message come in multiples of this (junk entries fill the
/// rest, so the list length hides the member count up to this granularity).
pub const MESSAGE_KEY_MULTIPLE: usize = 75;

/// Keys superseded for longer than this are dropped (libsession `KEY_EXPIRY`, 60 days).
pub const KEY_EXPIRY_MS: u64 = 60 * 24 * 60 * 60 * 1000;

/// Largest keys message parsed (a full rekey for 100 members is about 8 kB; the storage
/// server refuses bodies above 76 800 bytes anyway).
pub const MAX_KEYS_MESSAGE: usize = 76_800;

/// Most member entries read from one keys message.
pub const MAX_KEY_ENTRIES: usize = 1_500;

/// Most keys kept in the key history.
pub const MAX_KEY_HISTORY: usize = 1_000;

/// Largest stored (encrypted) group message parsed.
pub const MAX_GROUP_MESSAGE: usize = 76_800 * 4 / 3 + 4;
