//! Swarms: where an account's messages live, and the TTL a namespace allows.
//!
//! ```
//! use metaless_ffi::*;
//! unsafe {
//!     let ctx = metaless_context_new();
//!     let pk = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
//!     let mut space = 0u64;
//!     assert_eq!(metaless_swarm_space(ctx, pk.as_ptr().cast(), pk.len(), &mut space), metaless_result::METALESS_RESULT_OK);
//!     let ids = [space, space.wrapping_add(1 << 40)];
//!     let mut swarm = 0u64;
//!     assert_eq!(metaless_swarm_map(ctx, pk.as_ptr().cast(), pk.len(), ids.as_ptr(), 2, &mut swarm), metaless_result::METALESS_RESULT_OK);
//!     assert_eq!(swarm, space);
//!     let mut ttl = 0u64;
//!     assert_eq!(metaless_swarm_ttl_clamp(ctx, 0, u64::MAX, &mut ttl), metaless_result::METALESS_RESULT_OK);
//!     assert_eq!(ttl, 14 * 24 * 3600 * 1000);
//!     metaless_context_free(ctx);
//! }
//! ```

use std::ffi::c_char;

use metaless_swarm::{Namespace, SwarmIds, UserPubkey, ttl};

use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::ptr::{self, Out};
use crate::result::{FfiError, metaless_result};

fn pubkey(text: &str) -> Result<UserPubkey, FfiError> {
    text.trim()
        .parse()
        .map_err(|e| FfiError::from(e).context("pubkey"))
}

fn namespace(value: i64) -> Result<Namespace, FfiError> {
    Namespace::try_from_i64(value).map_err(|e| FfiError::from(e).context("namespace"))
}

/// The swarm-space position of an account (`pubkey`: a Session ID or any 66-hex-digit
/// prefixed key, UTF-8).
///
/// # Safety
/// `ctx` NULL or live; `pubkey` NULL or readable for `pubkey_len` bytes; `out` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_swarm_space(
    ctx: *mut metaless_context,
    pubkey: *const c_char,
    pubkey_len: usize,
    out: *mut u64,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (mut out, text) = unsafe {
                (
                    Out::new(out, "out")?,
                    ptr::str_in(pubkey, pubkey_len, "pubkey")?,
                )
            };
            out.set(0);
            out.set(self::pubkey(text)?.swarm_space());
            Ok(())
        })
    })
}

/// The swarm (one of `swarm_ids`, `swarm_ids_len` of them) that holds an account's messages,
/// or `METALESS_INVALID_SWARM_ID` when the list is empty.
///
/// # Safety
/// `ctx` NULL or live; `pubkey` NULL or readable for `pubkey_len` bytes; `swarm_ids` NULL or
/// readable for `swarm_ids_len` values; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_swarm_map(
    ctx: *mut metaless_context,
    pubkey: *const c_char,
    pubkey_len: usize,
    swarm_ids: *const u64,
    swarm_ids_len: usize,
    out: *mut u64,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (mut out, text, ids) = unsafe {
                (
                    Out::new(out, "out")?,
                    ptr::str_in(pubkey, pubkey_len, "pubkey")?,
                    ptr::array_in(swarm_ids, swarm_ids_len, "swarm_ids")?,
                )
            };
            out.set(metaless_swarm::INVALID_SWARM_ID);
            let space = self::pubkey(text)?.swarm_space();
            let swarm = SwarmIds::new(ids.iter().copied()).nearest(space);
            out.set(swarm.unwrap_or(metaless_swarm::INVALID_SWARM_ID));
            Ok(())
        })
    })
}

/// The TTL a store of `ttl_ms` to `namespace` (-32768..=32767) gets: clamped to the
/// namespace's allowed range.
///
/// # Safety
/// `ctx` NULL or live; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_swarm_ttl_clamp(
    ctx: *mut metaless_context,
    namespace: i64,
    ttl_ms: u64,
    out: *mut u64,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out` NULL or writable (contract).
            let mut out = unsafe { Out::new(out, "out") }?;
            out.set(0);
            out.set(ttl::clamp(self::namespace(namespace)?, ttl_ms));
            Ok(())
        })
    })
}

/// The TTL a store to `namespace` gets when none is given.
///
/// # Safety
/// `ctx` NULL or live; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_swarm_ttl_default(
    ctx: *mut metaless_context,
    namespace: i64,
    out: *mut u64,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out` NULL or writable (contract).
            let mut out = unsafe { Out::new(out, "out") }?;
            out.set(0);
            out.set(ttl::limits(self::namespace(namespace)?).default_ms);
            Ok(())
        })
    })
}
