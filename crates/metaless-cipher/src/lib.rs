//! The symmetric ciphers of the Session protocol, at libsodium's speed in a default build.
//!
//! Every construction here is byte-identical to libsodium's (and to the RustCrypto crates the
//! tests compare against): [`xchacha20poly1305`] is `crypto_aead_xchacha20poly1305_ietf_*`,
//! [`secretbox`] is `crypto_secretbox_*` (XSalsa20-Poly1305), [`chacha20`] is the IETF ChaCha20
//! stream (RFC 8439, 96-bit nonce, 32-bit counter) and HChaCha20, [`salsa20`] is Salsa20/XSalsa20
//! and HSalsa20, [`poly1305`] is the one-time authenticator, [`aes256gcm`] is
//! `crypto_aead_aes256gcm_*` (AES-NI + PCLMULQDQ on x86-64, RustCrypto's `aes-gcm` elsewhere).
//!
//! Why our own code: the RustCrypto crates reach their SIMD backends through a non-inlined
//! `#[target_feature]` call per block batch (chacha20, poly1305) or have none (salsa20), and at
//! the 1 KiB a message or onion layer usually is they ran 2.0–2.4× libsodium's time
//! (docs/performance.md). Here the block functions work on several independent blocks at
//! once, written with `core::arch` intrinsics inside `#[target_feature]` functions (safe code:
//! intrinsics are safe to call where their feature is enabled) — an SSE2 build (the x86-64
//! baseline), AVX2 and AVX-512VL builds — and each whole seal or open is one function per
//! build, so nothing sits behind a non-inlined call per batch. `dispatch` picks the best build
//! once per call (cpuid via `cpufeatures`); other targets run generic lane-array code. (The
//! generic form compiled for AVX2 was *not* vectorised by LLVM: the rounds stayed scalar.)
//! The dispatch module is the crate's only `unsafe` (the calls into `#[target_feature]` code).
//!
//! Constant time: ChaCha20 and Salsa20 are add-rotate-xor; Poly1305 uses 64×64→128-bit
//! multiplies and a branch-free final reduction; tags are compared with `subtle`.

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod aes256gcm;
pub mod chacha20;
#[cfg(feature = "alloc")]
mod combined;
mod dispatch;
pub mod poly1305;
pub mod salsa20;
pub mod secretbox;
pub mod xchacha20poly1305;

/// Both builds of the dispatched code, for the tests that compare them (not a stable API).
#[doc(hidden)]
pub use dispatch::paths as __paths;

/// Why an authenticated decryption refused its input.
///
/// ```
/// use metaless_cipher::CipherError;
/// assert_eq!(CipherError::Forged.to_string(), "the authentication tag does not match");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CipherError {
    /// The tag does not match the ciphertext, key, nonce and associated data: tampered,
    /// truncated, or encrypted under another key. Nothing of the plaintext is released.
    #[error("the authentication tag does not match")]
    Forged,
    /// The ciphertext is shorter than the tag it must carry.
    #[error("ciphertext of {len} bytes is shorter than its {tag}-byte tag")]
    TooShort {
        /// bytes given
        len: usize,
        /// bytes of tag required
        tag: usize,
    },
    /// More bytes than the stream cipher can encrypt under one nonce (ChaCha20's 32-bit block
    /// counter: 256 GiB; AES-256-GCM's: 64 GiB, or 64 GiB of associated data).
    #[error("{len} bytes is more than one nonce can encrypt")]
    TooLong {
        /// bytes given
        len: u64,
    },
}
