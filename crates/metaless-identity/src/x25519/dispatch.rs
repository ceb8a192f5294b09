//! Runtime CPU-feature dispatch to the AVX-512 IFMA ladder: the crate's one `unsafe`.
//!
//! `super::ifma::scalarmult` (and `times_order_is_infinity`) are safe functions compiled with
//! `#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]`; calling them is `unsafe` only
//! because running those instructions on a CPU without them is undefined. Detection is
//! `cpufeatures` (cpuid, and for AVX-512 the OS's XSAVE support of the ZMM/opmask state; the
//! answer is cached in an atomic after the first call; no std).
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
cpufeatures::new!(ifma_cpu, "avx512f", "avx512vl", "avx512ifma");

/// Whether this CPU runs the IFMA ladder.
pub(super) fn has_ifma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        ifma_cpu::get()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `X25519(secret, peer)` by the IFMA ladder, or `None` when this CPU lacks AVX-512 IFMA/VL.
#[inline]
pub(super) fn ladder_ifma(secret: &[u8; 32], peer: &[u8; 32]) -> Option<[u8; 32]> {
    #[cfg(target_arch = "x86_64")]
    {
        if ifma_cpu::get() {
            // SAFETY: `ifma_cpu::get()` has just confirmed (cpuid + XSAVE state) that this CPU
            // executes AVX-512F, AVX-512VL and AVX-512 IFMA instructions, the only requirement
            // of the `#[target_feature]` function called, which is otherwise safe Rust (no raw
            // pointers: vectors are built with `_mm256_setr_epi64x` and read back with
            // `_mm256_extract_epi64`).
            return Some(unsafe { super::ifma::scalarmult(secret, peer) });
        }
    }
    let _ = (secret, peer);
    None
}

/// Whether `[ℓ]u` is the point at infinity, by the IFMA ladder, or `None` when this CPU lacks
/// AVX-512 IFMA/VL (`u` as `super::in_prime_subgroup` requires it).
#[inline]
pub(super) fn order_ladder_ifma(u: &[u8; 32]) -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    {
        if ifma_cpu::get() {
            // SAFETY: as in `ladder_ifma`: the CPU has just been confirmed to execute
            // AVX-512F/VL/IFMA, the called function's only requirement.
            return Some(unsafe { super::ifma::times_order_is_infinity(u) });
        }
    }
    let _ = u;
    None
}

/// `[k]B` compressed (Ed25519's base point, `k` below 2^255) by the IFMA table walk, or `None`
/// when this CPU lacks AVX-512 IFMA/VL.
#[cfg(feature = "std")]
#[inline]
pub(super) fn mul_base_ifma(k: &[u8; 32]) -> Option<[u8; 32]> {
    #[cfg(target_arch = "x86_64")]
    {
        if ifma_cpu::get() {
            // SAFETY: as in `ladder_ifma`: the CPU has just been confirmed to execute
            // AVX-512F/VL/IFMA, the called function's only requirement.
            return Some(unsafe { super::ifma::edwards::mul_base(k) });
        }
    }
    let _ = k;
    None
}
