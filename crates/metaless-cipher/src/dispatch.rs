//! Runtime CPU-feature dispatch: the crate's one `unsafe`.
//!
//! Each build below is a complete XChaCha20-Poly1305 seal / open / ChaCha20 stream: the generic
//! AEAD code (`xchacha20poly1305::{seal_with, open_with}`, `#[inline(always)]`) instantiated
//! over one ChaCha20 kernel, so the whole operation is compiled with that build's features and
//! nothing sits behind a non-inlined call per batch:
//!
//! * `generic`: the lane-array code (`chacha20::generic_stream`), every target's fallback and
//!   the baseline off x86-64 (LLVM vectorises it as it can: NEON on aarch64).
//! * `sse2` (x86-64): the SSE2 kernel (`chacha20::x86`, four blocks per batch), the x86-64
//!   baseline: what a default build runs on an x86-64 CPU without AVX2.
//! * `avx2` (x86-64): `#[target_feature(enable = "avx2")]`, eight blocks per batch.
//! * `avx512` (x86-64): the same kernel with AVX-512VL's one-instruction rotates
//!   (`#[target_feature(enable = "avx2,avx512f,avx512vl")]`, still 256-bit vectors).
//!
//! Detection is `cpufeatures` (cpuid and, for AVX/AVX-512, the OS's XSAVE support; cached in
//! an atomic after the first call; no std). The one `unsafe` operation is calling a
//! `#[target_feature]` function, which is sound exactly when the CPU has those features.
#![allow(unsafe_code)]

use crate::CipherError;
use crate::chacha20::State;
use crate::xchacha20poly1305::{open_with, seal_with};

#[cfg(target_arch = "x86_64")]
cpufeatures::new!(avx2_cpu, "avx2");
#[cfg(target_arch = "x86_64")]
cpufeatures::new!(avx512_cpu, "avx2", "avx512f", "avx512vl");

/// Which build the dispatched functions use on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The generic lane-array code: the baseline on every target but x86-64.
    Generic,
    /// The SSE2 kernel: the x86-64 baseline.
    Sse2,
    /// x86-64 with AVX2.
    Avx2,
    /// x86-64 with AVX2, AVX-512F and AVX-512VL.
    Avx512,
}

/// The build this CPU gets.
pub(crate) fn best() -> Build {
    #[cfg(target_arch = "x86_64")]
    {
        if avx512_cpu::get() {
            return Build::Avx512;
        }
        if avx2_cpu::get() {
            return Build::Avx2;
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        Build::Sse2
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Build::Generic
    }
}

/// Whether this CPU can run `build`.
fn available(build: Build) -> bool {
    match build {
        Build::Generic => true,
        #[cfg(target_arch = "x86_64")]
        Build::Sse2 => true,
        #[cfg(target_arch = "x86_64")]
        Build::Avx2 => avx2_cpu::get(),
        #[cfg(target_arch = "x86_64")]
        Build::Avx512 => avx512_cpu::get(),
        #[cfg(not(target_arch = "x86_64"))]
        _ => false,
    }
}

/// Runs the named function of the build `$build` (checked available by the caller).
macro_rules! call {
    ($build:expr, $f:ident ( $($arg:expr),* )) => {{
        match $build {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Build::Avx512` is only ever passed once `avx512_cpu::get()` (cpuid +
            // XSAVE state) has confirmed AVX2, AVX-512F and AVX-512VL: the only requirement of
            // the `#[target_feature]` functions in `avx512`, which are otherwise safe Rust.
            Build::Avx512 => unsafe { avx512::$f($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: likewise, `Build::Avx2` only after `avx2_cpu::get()` confirmed AVX2.
            Build::Avx2 => unsafe { avx2::$f($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the SSE2 build's only target feature is part of the x86-64 baseline
            // (`target_feature = "sse2"` is on for every x86-64 target; asserted at compile
            // time below).
            Build::Sse2 => unsafe { sse2::$f($($arg),*) },
            _ => generic::$f($($arg),*),
        }
    }};
}

/// ChaCha20 keystream XOR from `s`'s counter (length checked by the caller).
pub(crate) fn chacha20_xor(s: &mut State, buf: &mut [u8]) {
    call!(best(), chacha20_xor(s, buf))
}

/// XChaCha20-Poly1305 seal in place (length checked by the caller).
pub(crate) fn xchacha_seal(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; 16] {
    call!(best(), xchacha_seal(key, nonce, aad, buf))
}

/// XChaCha20-Poly1305 verify-then-decrypt in place.
pub(crate) fn xchacha_open(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), CipherError> {
    call!(best(), xchacha_open(key, nonce, aad, buf, tag))
}

/// Poly1305 over `blocks` (a multiple of 4) in the AVX2 vector kernel, if this CPU has AVX2;
/// `false` (nothing absorbed) otherwise. One cached cpuid check and one call per
/// [`Poly1305::update`](crate::poly1305::Poly1305::update) of at least 256 bytes, so every
/// caller gets it: the AEADs of every build, secretbox, the public incremental API.
#[cfg(target_arch = "x86_64")]
pub(crate) fn poly1305_blocks4(st: &mut crate::poly1305::State, blocks: &[[u8; 16]]) -> bool {
    if avx2_cpu::get() {
        // SAFETY: `avx2_cpu::get()` (cpuid + XSAVE state) confirmed AVX2, the only requirement
        // of the `#[target_feature(enable = "avx2")]` kernel, which is otherwise safe Rust.
        unsafe { crate::poly1305::x86::blocks4(st, blocks) };
        true
    } else {
        false
    }
}

/// HChaCha20: SSE2 on x86-64 (every build there has it), the generic code elsewhere.
pub(crate) fn hchacha20(key: &[u8; 32], input: &[u8; 16]) -> [u8; 32] {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86-64 baseline (asserted at compile time below).
        unsafe { crate::chacha20::x86::hchacha_sse2(key, input) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        crate::chacha20::hchacha20_generic(key, input)
    }
}

/// The entry points of one build, over its ChaCha20 stream kernel `$stream` and HChaCha20
/// `$hchacha`.
macro_rules! build {
    ($(#[$attr:meta])* $name:ident, $stream:path, $hchacha:path) => {
        pub(crate) mod $name {
            use super::*;

            $(#[$attr])*
            pub(crate) fn chacha20_xor(s: &mut State, buf: &mut [u8]) {
                $stream(s, buf)
            }

            $(#[$attr])*
            pub(crate) fn xchacha_seal(
                key: &[u8; 32],
                nonce: &[u8; 24],
                aad: &[u8],
                buf: &mut [u8],
            ) -> [u8; 16] {
                seal_with(key, nonce, aad, buf, |s, b| $stream(s, b), |k, i| $hchacha(k, i))
            }

            $(#[$attr])*
            pub(crate) fn xchacha_open(
                key: &[u8; 32],
                nonce: &[u8; 24],
                aad: &[u8],
                buf: &mut [u8],
                tag: &[u8; 16],
            ) -> Result<(), CipherError> {
                open_with(key, nonce, aad, buf, tag, |s, b| $stream(s, b), |k, i| $hchacha(k, i))
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
const _: () = assert!(cfg!(target_feature = "sse2"), "x86-64 without SSE2");
build!(
    generic,
    crate::chacha20::generic_stream,
    crate::chacha20::hchacha20_generic
);
#[cfg(target_arch = "x86_64")]
build!(
    #[target_feature(enable = "sse2")]
    sse2,
    crate::chacha20::x86::sse2_stream,
    crate::chacha20::x86::hchacha_sse2
);
#[cfg(target_arch = "x86_64")]
build!(
    #[target_feature(enable = "avx2")]
    avx2,
    crate::chacha20::x86::avx2_stream,
    crate::chacha20::x86::hchacha_sse2
);
#[cfg(target_arch = "x86_64")]
build!(
    #[target_feature(enable = "avx2,avx512f,avx512vl")]
    avx512,
    crate::chacha20::x86::avx512_stream,
    crate::chacha20::x86::hchacha_sse2
);

/// Every build side by side for the tests and benches that compare them (`tests/dispatch.rs`,
/// `benches/benches/cipher.rs`); not a stable API. Each function returns `None` when this CPU
/// cannot run the build asked for.
pub mod paths {
    pub use super::Build;
    use super::*;

    /// Every build, baseline first.
    pub const ALL: [Build; 4] = [Build::Generic, Build::Sse2, Build::Avx2, Build::Avx512];

    /// The build the dispatched functions use here.
    pub fn best() -> Build {
        super::best()
    }

    /// Whether this CPU can run `build`.
    pub fn available(build: Build) -> bool {
        super::available(build)
    }

    /// ChaCha20 XOR (IETF nonce, counter from `counter`; no length check) in `build`.
    pub fn chacha20(
        build: Build,
        key: &[u8; 32],
        nonce: &[u8; 12],
        counter: u32,
        buf: &mut [u8],
    ) -> Option<()> {
        if !available(build) {
            return None;
        }
        let mut s = State::new(key, counter, nonce);
        call!(build, chacha20_xor(&mut s, buf));
        Some(())
    }

    /// XChaCha20-Poly1305 seal in `build`.
    pub fn seal(
        build: Build,
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Option<[u8; 16]> {
        if !available(build) {
            return None;
        }
        Some(call!(build, xchacha_seal(key, nonce, aad, buf)))
    }

    /// The Poly1305 tag of `pieces` (fed to `update` one by one) in `build`: the scalar code
    /// alone for `Generic` and `Sse2`, the AVX2 vector kernel for long runs in `Avx2` and
    /// `Avx512` (the same kernel; the AEADs of every build use it when the CPU has AVX2).
    ///
    /// ```
    /// use metaless_cipher::__paths::{poly1305, Build};
    /// let data = [5u8; 1000];
    /// let t = poly1305(Build::Generic, &[1u8; 32], &[&data[..3], &data[3..]]);
    /// assert_eq!(t, Some(metaless_cipher::poly1305::tag(&[1u8; 32], &data)));
    /// ```
    pub fn poly1305(build: Build, key: &[u8; 32], pieces: &[&[u8]]) -> Option<[u8; 16]> {
        if !available(build) {
            return None;
        }
        let mac = crate::poly1305::Poly1305::new(key);
        let mut mac = match build {
            Build::Generic | Build::Sse2 => mac.scalar_only(),
            Build::Avx2 | Build::Avx512 => mac,
        };
        for p in pieces {
            mac.update(p);
        }
        Some(mac.finalize())
    }

    pub use super::aes::AesBuild;

    /// Every AES-256-GCM build, the portable one first.
    pub const AES_ALL: [AesBuild; 3] = [AesBuild::Soft, AesBuild::AesNi, AesBuild::Vaes];

    /// The AES-256-GCM build the dispatched functions use here.
    pub fn aes_best() -> AesBuild {
        super::aes::best()
    }

    /// Whether this CPU can run the AES-256-GCM `build`.
    pub fn aes_available(build: AesBuild) -> bool {
        super::aes::available(build)
    }

    /// AES-256-GCM seal in `build` (no length check).
    pub fn aes_seal(
        build: AesBuild,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Option<Result<[u8; 16], CipherError>> {
        if !super::aes::available(build) {
            return None;
        }
        Some(super::aes::seal(build, key, nonce, aad, buf))
    }

    /// AES-256-GCM open in `build` (no length check).
    pub fn aes_open(
        build: AesBuild,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Option<Result<(), CipherError>> {
        if !super::aes::available(build) {
            return None;
        }
        Some(super::aes::open(build, key, nonce, aad, buf, tag))
    }

    /// XChaCha20-Poly1305 open in `build`.
    pub fn open(
        build: Build,
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Option<Result<(), CipherError>> {
        if !available(build) {
            return None;
        }
        Some(call!(build, xchacha_open(key, nonce, aad, buf, tag)))
    }
}

// ─── Salsa20 and XSalsa20-Poly1305 (salsa20.rs, secretbox.rs) ─────────────────────────────────

/// The Salsa20 stream and the whole secretbox seal/open in the build this CPU runs: on x86-64
/// the AVX-512VL build (8 blocks per batch in 256-bit vectors, one-instruction rotates) when the
/// CPU has AVX2, AVX-512F and AVX-512VL, else the AVX2 build (8 blocks), else the SSE2 build (4
/// blocks); elsewhere the generic lane code. [`Backend`] can ask for a narrower build (tests).
///
/// The x86-64 builds (`salsa20::x86`) are written with `core::arch` vector operations inside
/// `#[target_feature]` functions; calling those is the `unsafe` here.
pub(crate) mod salsa {
    use crate::CipherError;
    use crate::salsa20::{Backend, KeyWords};

    #[cfg(target_arch = "x86_64")]
    cpufeatures::new!(salsa_avx2_cpu, "avx2");
    #[cfg(target_arch = "x86_64")]
    cpufeatures::new!(salsa_avx512_cpu, "avx2", "avx512f", "avx512vl");

    /// The x86-64 build to run for `backend` on this CPU.
    #[cfg(target_arch = "x86_64")]
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Build {
        Sse2,
        Avx2,
        Avx512,
    }

    #[cfg(target_arch = "x86_64")]
    fn build(backend: Backend) -> Build {
        match backend {
            Backend::Best if salsa_avx512_cpu::get() => Build::Avx512,
            Backend::Best | Backend::Avx2 if salsa_avx2_cpu::get() => Build::Avx2,
            _ => Build::Sse2,
        }
    }

    /// Salsa20 keystream from block `counter` XORed into `buf`.
    pub(crate) fn xor(
        backend: Backend,
        key: &KeyWords,
        nonce: &[u32; 2],
        counter: u64,
        buf: &mut [u8],
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::salsa20::x86;
            // SAFETY (all three): `build` returns `Avx512` only after `salsa_avx512_cpu::get()`
            // and `Avx2` only after `salsa_avx2_cpu::get()` confirmed (cpuid) that this CPU
            // executes those instructions, the only requirement of the `#[target_feature]`
            // functions called; SSE2 is part of the x86-64 baseline, so every x86-64 CPU has it.
            match build(backend) {
                Build::Avx512 => unsafe { x86::stream8_rol(key, nonce, counter, buf) },
                Build::Avx2 => unsafe { x86::stream8(key, nonce, counter, buf) },
                Build::Sse2 => unsafe { x86::stream4(key, nonce, counter, buf) },
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = backend;
            crate::salsa20::xor_stream::<4>(key, nonce, counter, buf)
        }
    }

    /// XSalsa20-Poly1305 seal in place.
    pub(crate) fn seal(
        backend: Backend,
        key: &[u8; 32],
        nonce: &[u8; 24],
        buf: &mut [u8],
    ) -> [u8; 16] {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::salsa20::x86;
            // SAFETY: as in `xor`: each build only after its cpuid check; SSE2 is baseline.
            match build(backend) {
                Build::Avx512 => unsafe { x86::seal8_rol(key, nonce, buf) },
                Build::Avx2 => unsafe { x86::seal8(key, nonce, buf) },
                Build::Sse2 => unsafe { x86::seal4(key, nonce, buf) },
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = backend;
            crate::secretbox::seal_portable(key, nonce, buf)
        }
    }

    /// XSalsa20-Poly1305 verify-then-decrypt in place.
    pub(crate) fn open(
        backend: Backend,
        key: &[u8; 32],
        nonce: &[u8; 24],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::salsa20::x86;
            // SAFETY: as in `xor`: each build only after its cpuid check; SSE2 is baseline.
            match build(backend) {
                Build::Avx512 => unsafe { x86::open8_rol(key, nonce, buf, tag) },
                Build::Avx2 => unsafe { x86::open8(key, nonce, buf, tag) },
                Build::Sse2 => unsafe { x86::open4(key, nonce, buf, tag) },
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = backend;
            crate::secretbox::open_portable(key, nonce, buf, tag)
        }
    }
}

// ─── AES-256-GCM (aes256gcm.rs) ───────────────────────────────────────────────────────────────

/// AES-256-GCM seal/open in a chosen build: on x86-64 with VAES and VPCLMULQDQ the
/// `aes256gcm::x86_vaes` build, else with AES-NI, PCLMULQDQ, SSSE3 and SSE4.1 the
/// `aes256gcm::x86` build (one `#[target_feature]` function per seal or open), otherwise
/// RustCrypto's `aes-gcm` (`aes256gcm::soft`). Calling the `#[target_feature]`
/// functions is the `unsafe` here.
pub(crate) mod aes {
    use crate::CipherError;
    use crate::aes256gcm::soft;

    #[cfg(target_arch = "x86_64")]
    cpufeatures::new!(aesni_cpu, "aes", "pclmulqdq", "sse2", "ssse3", "sse4.1");
    #[cfg(target_arch = "x86_64")]
    cpufeatures::new!(
        vaes_cpu,
        "aes",
        "pclmulqdq",
        "sse2",
        "ssse3",
        "sse4.1",
        "avx",
        "avx2",
        "vaes",
        "vpclmulqdq"
    );

    /// An AES-256-GCM build.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum AesBuild {
        /// RustCrypto's `aes-gcm`: every target's fallback.
        Soft,
        /// x86-64 AES-NI + PCLMULQDQ: eight CTR blocks in flight, GHASH over eight blocks
        /// per reduction.
        AesNi,
        /// The same with VAES and VPCLMULQDQ: two CTR blocks per 256-bit `vaesenc`, two
        /// GHASH blocks per 256-bit `vpclmulqdq` (needs AVX2 and the OS's AVX-512 state).
        Vaes,
    }

    /// The build this CPU gets.
    pub(crate) fn best() -> AesBuild {
        #[cfg(target_arch = "x86_64")]
        {
            if vaes_cpu::get() {
                return AesBuild::Vaes;
            }
            if aesni_cpu::get() {
                return AesBuild::AesNi;
            }
        }
        AesBuild::Soft
    }

    /// Whether this CPU can run `build`.
    pub(crate) fn available(build: AesBuild) -> bool {
        match build {
            AesBuild::Soft => true,
            #[cfg(target_arch = "x86_64")]
            AesBuild::AesNi => aesni_cpu::get(),
            #[cfg(target_arch = "x86_64")]
            AesBuild::Vaes => vaes_cpu::get(),
            #[cfg(not(target_arch = "x86_64"))]
            AesBuild::AesNi | AesBuild::Vaes => false,
        }
    }

    /// Seal in place in `build` (lengths checked by the caller; `build` available).
    pub(crate) fn seal(
        build: AesBuild,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CipherError> {
        match build {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `AesNi` is only passed once `aesni_cpu::get()` (cpuid) confirmed AES-NI,
            // PCLMULQDQ, SSE2, SSSE3 and SSE4.1: the only requirement of the
            // `#[target_feature]` function, which is otherwise safe Rust.
            AesBuild::AesNi if aesni_cpu::get() => {
                Ok(unsafe { crate::aes256gcm::x86::seal(key, nonce, aad, buf) })
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: likewise, `Vaes` only after `vaes_cpu::get()` confirmed those and AVX,
            // AVX2, VAES and VPCLMULQDQ (with the OS's XSAVE support).
            AesBuild::Vaes if vaes_cpu::get() => {
                Ok(unsafe { crate::aes256gcm::x86_vaes::seal(key, nonce, aad, buf) })
            }
            _ => soft::seal(key, nonce, aad, buf),
        }
    }

    /// Verify, then decrypt in place, in `build` (as `seal`).
    pub(crate) fn open(
        build: AesBuild,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        match build {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `seal`: only after `aesni_cpu::get()` confirmed every feature.
            AesBuild::AesNi if aesni_cpu::get() => unsafe {
                crate::aes256gcm::x86::open(key, nonce, aad, buf, tag)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `seal`: only after `vaes_cpu::get()` confirmed every feature.
            AesBuild::Vaes if vaes_cpu::get() => unsafe {
                crate::aes256gcm::x86_vaes::open(key, nonce, aad, buf, tag)
            },
            _ => soft::open(key, nonce, aad, buf, tag),
        }
    }
}
