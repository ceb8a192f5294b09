//! Sizes and limits, as C constants. Written as literals (cbindgen copies only literals into
//! the header) and checked against the crates that own them at compile time.
//!
//! ```
//! assert_eq!(metaless_ffi::METALESS_SESSION_ID_STR_LEN, 67);
//! assert_eq!(metaless_ffi::METALESS_MAX_HOPS, metaless_onion::limits::MAX_HOPS);
//! ```

/// Bytes of an Ed25519 or X25519 public key.
pub const METALESS_PUBLIC_KEY_LEN: usize = 32;
/// Bytes of a full seed (a legacy seed is 16 bytes, zero-extended to 32 on export).
pub const METALESS_SEED_LEN: usize = 32;
/// Hex digits of a Session ID (`05…`, `15…`, `25…`).
pub const METALESS_SESSION_ID_HEX_LEN: usize = 66;
/// Bytes a Session ID output needs: the hex digits and a NUL.
pub const METALESS_SESSION_ID_STR_LEN: usize = 67;
/// Most onion hops on a path (the destination not counted).
pub const METALESS_MAX_HOPS: usize = 15;
/// Largest onion layer accepted, in bytes.
pub const METALESS_MAX_LAYER_SIZE: usize = 10_485_760;
/// Largest onion reply accepted, in bytes.
pub const METALESS_MAX_RESPONSE_SIZE: usize = 16_777_216;
/// Largest message content (the protobuf before padding), in bytes.
pub const METALESS_MAX_CONTENT_LEN: usize = 524_288;
/// Bytes a raw `metaless_msg_encrypt` ciphertext adds to its plaintext.
pub const METALESS_MSG_OVERHEAD: usize = 144;
/// Swarm id meaning "no swarm" (`metaless_swarm_map` with no swarm ids).
pub const METALESS_INVALID_SWARM_ID: u64 = u64::MAX;

/// Onion encryption: AES-256-GCM.
pub const METALESS_ENC_AES_GCM: u32 = 1;
/// Onion encryption: XChaCha20-Poly1305 (the default of current clients).
pub const METALESS_ENC_XCHACHA20: u32 = 2;

/// Message does not disappear.
pub const METALESS_DISAPPEAR_OFF: u32 = 0;
/// Message disappears `timer_s` seconds after sending.
pub const METALESS_DISAPPEAR_AFTER_SEND: u32 = 1;
/// Message disappears `timer_s` seconds after being read.
pub const METALESS_DISAPPEAR_AFTER_READ: u32 = 2;

const _: () = {
    assert!(METALESS_PUBLIC_KEY_LEN == ::metaless_identity::PUBLIC_KEY_LEN);
    assert!(METALESS_SEED_LEN == ::metaless_identity::Seed::LEN);
    assert!(METALESS_SESSION_ID_HEX_LEN == ::metaless_identity::SessionId::HEX_LEN);
    assert!(METALESS_SESSION_ID_STR_LEN == METALESS_SESSION_ID_HEX_LEN + 1);
    assert!(METALESS_MAX_HOPS == metaless_onion::limits::MAX_HOPS);
    assert!(METALESS_MAX_LAYER_SIZE == metaless_onion::limits::MAX_LAYER_SIZE);
    assert!(METALESS_MAX_RESPONSE_SIZE == metaless_onion::limits::MAX_RESPONSE_SIZE);
    assert!(METALESS_MAX_CONTENT_LEN == metaless_envelope::limits::MAX_CONTENT_LEN);
    assert!(METALESS_MSG_OVERHEAD == metaless_envelope::OVERHEAD);
    assert!(METALESS_INVALID_SWARM_ID == metaless_swarm::INVALID_SWARM_ID);
};
