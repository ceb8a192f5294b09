//! Runtime CPU-feature dispatch: the crate's one `unsafe`.
//!
//! The generic lane-parallel code (`chacha20::xor_stream`, `xchacha20poly1305::{seal_with,
//! open_with}`) is `#[inline(always)]`, so each function below is a complete build of it: the
//! portable one for the target's baseline (SSE2 on x86-64, NEON on aarch64: 4 ChaCha20 blocks
//! per batch) and, on x86/x86-64, one inside `#[target_feature(enable = "avx2")]` (8 blocks per
//! batch). The whole operation is compiled for AVX2, not only an inner block function, so
//! nothing is left behind a non-inlined call per batch.
//!
//! Detection is `cpufeatures` (cpuid, cached in an atomic after the first call; no std). The
//! one `unsafe` is calling an `avx2` function, which is sound exactly when the CPU has AVX2.
#![allow(unsafe_code)]

use crate::CipherError;
use crate::chacha20::{State, xor_stream};
use crate::xchacha20poly1305::{open_with, seal_with};

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
cpufeatures::new!(avx2_cpu, "avx2");

/// Whether the AVX2 build is used on this CPU.
pub(crate) fn has_avx2() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        avx2_cpu::get()
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        false
    }
}

/// Runs `$avx2` when the CPU has AVX2, else `$portable`.
macro_rules! pick {
    ($avx2:expr, $portable:expr) => {{
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if avx2_cpu::get() {
            // SAFETY: `avx2_cpu::get()` has just confirmed (cpuid) that this CPU executes AVX2
            // instructions, the only requirement of the `#[target_feature(enable = "avx2")]`
            // functions in `avx2`; they are otherwise ordinary safe Rust.
            return unsafe { $avx2 };
        }
        $portable
    }};
}

/// ChaCha20 keystream XOR from `s`'s counter (length checked by the caller).
pub(crate) fn chacha20_xor(s: &mut State, buf: &mut [u8]) {
    pick!(avx2::chacha20_xor(s, buf), portable::chacha20_xor(s, buf))
}

/// XChaCha20-Poly1305 seal in place (length checked by the caller).
pub(crate) fn xchacha_seal(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; 16] {
    pick!(
        avx2::xchacha_seal(key, nonce, aad, buf),
        portable::xchacha_seal(key, nonce, aad, buf)
    )
}

/// XChaCha20-Poly1305 verify-then-decrypt in place.
pub(crate) fn xchacha_open(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), CipherError> {
    pick!(
        avx2::xchacha_open(key, nonce, aad, buf, tag),
        portable::xchacha_open(key, nonce, aad, buf, tag)
    )
}

/// The baseline build (also what the tests compare the AVX2 build with).
pub(crate) mod portable {
    use super::*;

    /// Blocks per batch × 4.
    const N: usize = 16;

    pub(crate) fn chacha20_xor(s: &mut State, buf: &mut [u8]) {
        xor_stream::<N>(s, buf)
    }

    pub(crate) fn xchacha_seal(
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; 16] {
        seal_with::<N>(key, nonce, aad, buf)
    }

    pub(crate) fn xchacha_open(
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        open_with::<N>(key, nonce, aad, buf, tag)
    }
}

/// The AVX2 build: the same generic code, 8 blocks per batch, compiled with AVX2 enabled.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub(crate) mod avx2 {
    use super::*;

    const N: usize = 32;

    #[target_feature(enable = "avx2")]
    pub(crate) fn chacha20_xor(s: &mut State, buf: &mut [u8]) {
        xor_stream::<N>(s, buf)
    }

    #[target_feature(enable = "avx2")]
    pub(crate) fn xchacha_seal(
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; 16] {
        seal_with::<N>(key, nonce, aad, buf)
    }

    #[target_feature(enable = "avx2")]
    pub(crate) fn xchacha_open(
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        open_with::<N>(key, nonce, aad, buf, tag)
    }
}

/// Both builds side by side for the tests (`tests/dispatch.rs`): each entry point of the
/// portable build, and of the AVX2 build when this CPU has AVX2 (`None` otherwise).
pub mod paths {
    use super::*;

    /// Whether [`avx2_xchacha_seal`] and friends run here (the CPU has AVX2).
    pub fn avx2_available() -> bool {
        has_avx2()
    }

    /// The portable build's ChaCha20 XOR (IETF nonce, counter from `counter`; no length check).
    pub fn portable_chacha20(key: &[u8; 32], nonce: &[u8; 12], counter: u32, buf: &mut [u8]) {
        portable::chacha20_xor(&mut State::new(key, counter, nonce), buf)
    }

    /// The AVX2 build's ChaCha20 XOR, or `None` without AVX2.
    pub fn avx2_chacha20(
        key: &[u8; 32],
        nonce: &[u8; 12],
        counter: u32,
        buf: &mut [u8],
    ) -> Option<()> {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if avx2_cpu::get() {
            // SAFETY: AVX2 confirmed by cpuid just above (see `pick!`).
            unsafe { avx2::chacha20_xor(&mut State::new(key, counter, nonce), buf) };
            return Some(());
        }
        let _ = (key, nonce, counter, buf);
        None
    }

    /// The portable build's XChaCha20-Poly1305 seal.
    pub fn portable_seal(key: &[u8; 32], nonce: &[u8; 24], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        portable::xchacha_seal(key, nonce, aad, buf)
    }

    /// The AVX2 build's XChaCha20-Poly1305 seal, or `None` without AVX2.
    pub fn avx2_seal(
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Option<[u8; 16]> {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if avx2_cpu::get() {
            // SAFETY: AVX2 confirmed by cpuid just above (see `pick!`).
            return Some(unsafe { avx2::xchacha_seal(key, nonce, aad, buf) });
        }
        let _ = (key, nonce, aad, buf);
        None
    }

    /// The portable build's XChaCha20-Poly1305 open.
    pub fn portable_open(
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        portable::xchacha_open(key, nonce, aad, buf, tag)
    }

    /// The AVX2 build's XChaCha20-Poly1305 open, or `None` without AVX2.
    pub fn avx2_open(
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Option<Result<(), CipherError>> {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if avx2_cpu::get() {
            // SAFETY: AVX2 confirmed by cpuid just above (see `pick!`).
            return Some(unsafe { avx2::xchacha_open(key, nonce, aad, buf, tag) });
        }
        let _ = (key, nonce, aad, buf, tag);
        None
    }
}

// ─── Salsa20 and XSalsa20-Poly1305 (salsa20.rs, secretbox.rs) ─────────────────────────────────

/// The Salsa20 stream and the whole secretbox seal/open in the build this CPU runs: on x86-64
/// the AVX2 build (8 blocks per batch) when the CPU has AVX2, else the SSE2 build (4 blocks);
/// elsewhere the generic lane code. `wide = false` forces the SSE2 build (for the tests).
///
/// The x86-64 builds (`salsa20::x86`) are written with `core::arch` vector operations inside
/// `#[target_feature]` functions; calling those is the `unsafe` here.
pub(crate) mod salsa {
    use crate::CipherError;
    use crate::salsa20::KeyWords;

    #[cfg(target_arch = "x86_64")]
    cpufeatures::new!(salsa_avx2_cpu, "avx2");

    /// Whether the AVX2 build is used (`wide`, and the CPU has AVX2).
    #[cfg(target_arch = "x86_64")]
    fn avx2(wide: bool) -> bool {
        wide && salsa_avx2_cpu::get()
    }

    /// Salsa20 keystream from block `counter` XORed into `buf`.
    pub(crate) fn xor(wide: bool, key: &KeyWords, nonce: &[u32; 2], counter: u64, buf: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        {
            if avx2(wide) {
                // SAFETY: `salsa_avx2_cpu::get()` confirmed (cpuid) that this CPU executes
                // AVX2, the only requirement of the `avx2` target-feature function.
                return unsafe { crate::salsa20::x86::stream8(key, nonce, counter, buf) };
            }
            // SAFETY: SSE2 is part of the x86-64 baseline: every x86-64 CPU executes it.
            unsafe { crate::salsa20::x86::stream4(key, nonce, counter, buf) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = wide;
            crate::salsa20::xor_stream::<4>(key, nonce, counter, buf)
        }
    }

    /// XSalsa20-Poly1305 seal in place.
    pub(crate) fn seal(wide: bool, key: &[u8; 32], nonce: &[u8; 24], buf: &mut [u8]) -> [u8; 16] {
        #[cfg(target_arch = "x86_64")]
        {
            if avx2(wide) {
                // SAFETY: AVX2 confirmed by cpuid just above (see `xor`).
                return unsafe { crate::salsa20::x86::seal8(key, nonce, buf) };
            }
            // SAFETY: SSE2 is part of the x86-64 baseline.
            unsafe { crate::salsa20::x86::seal4(key, nonce, buf) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = wide;
            crate::secretbox::seal_portable(key, nonce, buf)
        }
    }

    /// XSalsa20-Poly1305 verify-then-decrypt in place.
    pub(crate) fn open(
        wide: bool,
        key: &[u8; 32],
        nonce: &[u8; 24],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        #[cfg(target_arch = "x86_64")]
        {
            if avx2(wide) {
                // SAFETY: AVX2 confirmed by cpuid just above (see `xor`).
                return unsafe { crate::salsa20::x86::open8(key, nonce, buf, tag) };
            }
            // SAFETY: SSE2 is part of the x86-64 baseline.
            unsafe { crate::salsa20::x86::open4(key, nonce, buf, tag) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = wide;
            crate::secretbox::open_portable(key, nonce, buf, tag)
        }
    }
}
