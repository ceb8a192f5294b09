//! `metaless_context`: where a thread's last error lives, and its random generator.
//!
//! There is no global state. Every fallible function takes a context first; on failure it
//! returns a code and leaves a log-safe message on that context, readable until the next call
//! with it. The context also owns the randomness every operation uses: the OS generator by
//! default, or a ChaCha20 stream from a caller-given seed for reproducible tests.
//!
//! ```
//! use metaless_ffi::*;
//! unsafe {
//!     let ctx = metaless_context_new();
//!     assert!(!ctx.is_null());
//!     // A failure leaves its message on the context.
//!     let mut out = std::ptr::null_mut();
//!     let r = metaless_identity_from_seed(ctx, [1u8; 5].as_ptr(), 5, &mut out);
//!     assert_eq!(r, metaless_result::METALESS_RESULT_INVALID_LENGTH);
//!     let msg = std::ffi::CStr::from_ptr(metaless_context_last_error(ctx));
//!     assert_eq!(msg.to_str(), Ok("seed: wrong length: expected 32, got 5"));
//!     metaless_context_free(ctx);
//! }
//! ```

use std::borrow::Cow;
use std::ffi::{CStr, CString, c_char};

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, OsRng, RngCore, SeedableRng};
use zeroize::Zeroize;

use crate::guard::ffi_guard;
use crate::ptr;
use crate::result::{FfiError, metaless_result};

/// The message left while a body runs: if it panics, this is what the caller reads.
const PANIC_MESSAGE: &CStr = c"internal error: a panic was caught at the FFI boundary";

/// The random source of a context.
pub(crate) enum ContextRng {
    Os(OsRng),
    Seeded(Box<ChaCha20Rng>),
}

impl RngCore for ContextRng {
    fn next_u32(&mut self) -> u32 {
        match self {
            Self::Os(r) => r.next_u32(),
            Self::Seeded(r) => r.next_u32(),
        }
    }

    fn next_u64(&mut self) -> u64 {
        match self {
            Self::Os(r) => r.next_u64(),
            Self::Seeded(r) => r.next_u64(),
        }
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        match self {
            Self::Os(r) => r.fill_bytes(dest),
            Self::Seeded(r) => r.fill_bytes(dest),
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        match self {
            Self::Os(r) => r.try_fill_bytes(dest),
            Self::Seeded(r) => r.try_fill_bytes(dest),
        }
    }
}

// Both variants are cryptographically secure generators.
impl CryptoRng for ContextRng {}

/// Per-thread state of a caller: the last error and the random generator. Opaque to C.
///
/// Threads: one thread at a time (it may move between threads; one context per thread is
/// simplest). Handles are independent of the context that created them.
pub struct metaless_context {
    rng: ContextRng,
    last_code: metaless_result,
    // Static texts (success, the panic note) are borrowed, so a successful call allocates
    // nothing for its bookkeeping.
    last_error: Cow<'static, CStr>,
}

impl metaless_context {
    fn with_rng(rng: ContextRng) -> Self {
        Self {
            rng,
            last_code: metaless_result::METALESS_RESULT_OK,
            last_error: Cow::Borrowed(c""),
        }
    }

    /// The context's random generator.
    pub(crate) fn rng(&mut self) -> &mut ContextRng {
        &mut self.rng
    }

    fn set_static(&mut self, code: metaless_result, message: &'static CStr) {
        self.last_code = code;
        self.last_error = Cow::Borrowed(message);
    }

    fn set(&mut self, code: metaless_result, message: &str) {
        self.last_code = code;
        // One line, no interior NUL: the message is printed and logged as is.
        let clean: Vec<u8> = message
            .bytes()
            .map(|b| match b {
                0 | b'\n' | b'\r' => b' ',
                other => other,
            })
            .collect();
        self.last_error = Cow::Owned(CString::new(clean).unwrap_or_default());
    }
}

/// Runs an export's body against its context: NULL context → `METALESS_RESULT_NULL_POINTER`;
/// otherwise the body's error (or, should it panic, the panic note) is left on the context.
pub(crate) fn run(
    ctx: Option<&mut metaless_context>,
    body: impl FnOnce(&mut metaless_context) -> Result<(), FfiError>,
) -> metaless_result {
    let Some(ctx) = ctx else {
        return metaless_result::METALESS_RESULT_NULL_POINTER;
    };
    // Pessimistic: overwritten below unless the body unwinds past us to the guard.
    ctx.set_static(metaless_result::METALESS_RESULT_PANIC, PANIC_MESSAGE);
    match body(ctx) {
        Ok(()) => {
            ctx.set_static(metaless_result::METALESS_RESULT_OK, c"");
            metaless_result::METALESS_RESULT_OK
        }
        Err(e) => {
            ctx.set(e.code, &e.message);
            e.code
        }
    }
}

/// A new context drawing randomness from the operating system. NULL only if allocation failed.
/// Free it with `metaless_context_free`.
#[unsafe(no_mangle)]
pub extern "C" fn metaless_context_new() -> *mut metaless_context {
    ffi_guard(|| ptr::into_handle(metaless_context::with_rng(ContextRng::Os(OsRng))))
}

/// A new context whose randomness is a ChaCha20 stream from `seed` (32 bytes): every key,
/// nonce and path choice made through it is reproducible. For tests only — a fixed seed
/// makes every secret it generates predictable. NULL if `seed` is NULL or `seed_len` is not 32.
///
/// # Safety
/// `seed` must be NULL or point to `seed_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_context_new_seeded(
    seed: *const u8,
    seed_len: usize,
) -> *mut metaless_context {
    ffi_guard(|| {
        // SAFETY: the caller guarantees `seed` is NULL or valid for `seed_len` bytes.
        let Ok(mut bytes) = (unsafe { ptr::key_in(seed, seed_len, "seed") }) else {
            return std::ptr::null_mut();
        };
        let rng = ChaCha20Rng::from_seed(bytes);
        bytes.zeroize();
        ptr::into_handle(metaless_context::with_rng(ContextRng::Seeded(Box::new(
            rng,
        ))))
    })
}

/// Frees a context. NULL is ignored.
///
/// # Safety
/// `ctx` must be NULL or a context from `metaless_context_new*` not yet freed; it must not be
/// used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_context_free(ctx: *mut metaless_context) {
    // SAFETY: the caller passes NULL or a live context it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(ctx) })
}

/// The log-safe, one-line message of the last failure on this context, or `""` after a
/// success. The pointer is owned by the context and valid until the next call that takes this
/// context (or its free); copy it to keep it. NULL if `ctx` is NULL.
///
/// # Safety
/// `ctx` must be NULL or a live context not used concurrently by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_context_last_error(
    ctx: *const metaless_context,
) -> *const c_char {
    ffi_guard(|| {
        // SAFETY: the caller passes NULL or a live context.
        match unsafe { ptr::handle_opt(ctx) } {
            Some(ctx) => ctx.last_error.as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The code the last call on this context returned (`METALESS_RESULT_OK` after a success),
/// as the number of a `metaless_result`. `METALESS_RESULT_NULL_POINTER` if `ctx` is NULL.
///
/// # Safety
/// `ctx` must be NULL or a live context not used concurrently by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_context_last_result(ctx: *const metaless_context) -> u32 {
    ffi_guard(|| {
        // SAFETY: the caller passes NULL or a live context.
        match unsafe { ptr::handle_opt(ctx) } {
            Some(ctx) => ctx.last_code as u32,
            None => metaless_result::METALESS_RESULT_NULL_POINTER as u32,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_contexts_repeat_and_os_contexts_do_not() {
        let seed = [9u8; 32];
        // SAFETY: valid seed pointer and length; contexts freed below.
        unsafe {
            let a = metaless_context_new_seeded(seed.as_ptr(), 32);
            let b = metaless_context_new_seeded(seed.as_ptr(), 32);
            assert_eq!((*a).rng().next_u64(), (*b).rng().next_u64());
            let c = metaless_context_new();
            let d = metaless_context_new();
            assert_ne!((*c).rng().next_u64(), (*d).rng().next_u64());
            assert!(metaless_context_new_seeded(seed.as_ptr(), 31).is_null());
            assert!(metaless_context_new_seeded(std::ptr::null(), 32).is_null());
            for ctx in [a, b, c, d] {
                metaless_context_free(ctx);
            }
        }
    }

    #[test]
    #[allow(clippy::panic)]
    fn a_panicking_body_leaves_the_panic_note() {
        let mut ctx = metaless_context::with_rng(ContextRng::Os(OsRng));
        let r = crate::guard::ffi_guard(|| run(Some(&mut ctx), |_| panic!("bug")));
        assert_eq!(r, metaless_result::METALESS_RESULT_PANIC);
        assert_eq!(ctx.last_code, metaless_result::METALESS_RESULT_PANIC);
        assert_eq!(&*ctx.last_error, PANIC_MESSAGE);
        // The next call clears it.
        assert_eq!(
            run(Some(&mut ctx), |_| Ok(())),
            metaless_result::METALESS_RESULT_OK
        );
        assert_eq!(ctx.last_error.to_str(), Ok(""));
    }

    #[test]
    fn messages_are_one_line() {
        let mut ctx = metaless_context::with_rng(ContextRng::Os(OsRng));
        let r = run(Some(&mut ctx), |_| {
            Err(FfiError::new(
                metaless_result::METALESS_RESULT_FAILED,
                "a\nb\0c",
            ))
        });
        assert_eq!(r, metaless_result::METALESS_RESULT_FAILED);
        assert_eq!(ctx.last_error.to_str(), Ok("a b c"));
    }
}
