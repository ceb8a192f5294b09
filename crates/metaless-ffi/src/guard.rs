//! The one panic boundary every export goes through.
//!
//! A Rust panic unwinding into C is undefined behaviour. Every `extern "C"` function of this
//! crate has `ffi_guard(|| …)` as its whole body (a test scans the sources to prove it), so a
//! panic — which the workspace lints already make a bug — becomes
//! [`metaless_result::METALESS_RESULT_PANIC`] (or the neutral value of the function's return
//! type) instead.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::result::metaless_result;

/// What an export returns when its body panicked.
pub(crate) trait OnPanic {
    /// The value handed to C instead of unwinding.
    fn on_panic() -> Self;
}

impl OnPanic for metaless_result {
    fn on_panic() -> Self {
        metaless_result::METALESS_RESULT_PANIC
    }
}

impl OnPanic for () {
    fn on_panic() -> Self {}
}

impl OnPanic for bool {
    fn on_panic() -> Self {
        false
    }
}

impl OnPanic for u16 {
    fn on_panic() -> Self {
        0
    }
}

impl OnPanic for u32 {
    fn on_panic() -> Self {
        0
    }
}

impl OnPanic for u64 {
    fn on_panic() -> Self {
        0
    }
}

impl OnPanic for usize {
    fn on_panic() -> Self {
        0
    }
}

impl<T> OnPanic for *const T {
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

impl<T> OnPanic for *mut T {
    fn on_panic() -> Self {
        std::ptr::null_mut()
    }
}

/// Runs an export's body, turning a panic into the return type's [`OnPanic`] value.
///
/// `AssertUnwindSafe`: after a panic a handle may hold half-updated state; the caller sees
/// `METALESS_RESULT_PANIC` and the documented rule is to free that handle, not to reuse it.
pub(crate) fn ffi_guard<R: OnPanic>(body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| R::on_panic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::c_char;

    #[test]
    #[allow(clippy::panic)]
    fn a_panic_becomes_the_panic_code() {
        let r: metaless_result = ffi_guard(|| panic!("boom"));
        assert_eq!(r, metaless_result::METALESS_RESULT_PANIC);
        let n: u64 = ffi_guard(|| panic!("boom"));
        assert_eq!(n, 0);
        let p: *const c_char = ffi_guard(|| panic!("boom"));
        assert!(p.is_null());
    }

    #[test]
    fn a_normal_return_passes_through() {
        assert_eq!(ffi_guard(|| 7u64), 7);
    }
}
