//! Every raw-pointer conversion in one place, each checking NULL and lengths before it touches
//! memory. Exports call these inside `unsafe` blocks whose SAFETY comment points at the
//! export's documented contract: what C promises about a pointer cannot be checked, only NULL
//! and sizes can.

use std::ffi::c_char;

use crate::buffer::metaless_buffer;
use crate::result::{FfiError, metaless_result};

/// Moves a value to the heap and hands its pointer to C (freed by [`free_handle`]).
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees a handle made by [`into_handle`]; NULL is ignored.
///
/// # Safety
/// `p` is NULL or came from `into_handle::<T>` and is not used again.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: `p` came from `Box::into_raw` for this `T` and ownership returns here once.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Borrows a handle.
///
/// # Safety
/// `p` is NULL or points to a live `T` not mutated elsewhere during `'a`.
pub(crate) unsafe fn handle<'a, T>(p: *const T, what: &str) -> Result<&'a T, FfiError> {
    // SAFETY: per this function's contract, a non-NULL `p` is a live `T`.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(what))
}

/// Borrows a handle for an accessor that answers NULL with a neutral value (no error built).
///
/// # Safety
/// As [`handle`].
pub(crate) unsafe fn handle_opt<'a, T>(p: *const T) -> Option<&'a T> {
    // SAFETY: per this function's contract, a non-NULL `p` is a live `T`.
    unsafe { p.as_ref() }
}

/// Borrows a handle mutably.
///
/// # Safety
/// `p` is NULL or points to a live `T` not accessed elsewhere during `'a`.
pub(crate) unsafe fn handle_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, FfiError> {
    // SAFETY: per this function's contract, a non-NULL `p` is a live, unaliased `T`.
    unsafe { p.as_mut() }.ok_or_else(|| FfiError::null(what))
}

/// Input bytes `(ptr, len)`: NULL is allowed only with `len == 0`.
///
/// # Safety
/// A non-NULL `ptr` is valid for reads of `len` bytes, unchanged during `'a`.
pub(crate) unsafe fn bytes_in<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], FfiError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::null(what));
    }
    if isize::try_from(len).is_err() {
        return Err(FfiError::new(
            metaless_result::METALESS_RESULT_INVALID_LENGTH,
            format!("{what}: length exceeds isize::MAX"),
        ));
    }
    // SAFETY: non-NULL, `len` ≤ isize::MAX, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Input UTF-8 text `(ptr, len)` (no NUL terminator needed; NUL bytes are just bytes).
///
/// # Safety
/// As [`bytes_in`].
pub(crate) unsafe fn str_in<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, FfiError> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { bytes_in(ptr.cast::<u8>(), len, what) }?;
    std::str::from_utf8(bytes).map_err(|_| {
        FfiError::new(
            metaless_result::METALESS_RESULT_INVALID_UTF8,
            format!("{what}: not UTF-8"),
        )
    })
}

/// Input of exactly 32 bytes (a key or a seed), copied out.
///
/// # Safety
/// As [`bytes_in`].
pub(crate) unsafe fn key_in(ptr: *const u8, len: usize, what: &str) -> Result<[u8; 32], FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: forwarded contract.
    let bytes = unsafe { bytes_in(ptr, len, what) }?;
    bytes
        .try_into()
        .map_err(|_| FfiError::length(what, 32, len))
}

/// An array `(ptr, len)` of C structs; NULL allowed only with `len == 0`.
///
/// # Safety
/// A non-NULL `ptr` is valid for reads of `len` properly aligned, initialised `T`s.
pub(crate) unsafe fn array_in<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<&'a [T], FfiError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::null(what));
    }
    if len
        .checked_mul(size_of::<T>())
        .and_then(|n| isize::try_from(n).ok())
        .is_none()
    {
        return Err(FfiError::new(
            metaless_result::METALESS_RESULT_INVALID_LENGTH,
            format!("{what}: length exceeds isize::MAX bytes"),
        ));
    }
    // SAFETY: non-NULL, size checked, and the caller guarantees `len` valid elements.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A caller-provided output region `(ptr, len)` that must hold at least `need` bytes. The
/// first `need` bytes are zeroed (so no reference to uninitialised memory is ever made) and
/// returned for writing.
///
/// # Safety
/// A non-NULL `ptr` is valid for writes of `len` bytes and not accessed elsewhere during `'a`.
pub(crate) unsafe fn fixed_out<'a>(
    ptr: *mut u8,
    len: usize,
    need: usize,
    what: &str,
) -> Result<&'a mut [u8], FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(what));
    }
    if len < need {
        return Err(FfiError::new(
            metaless_result::METALESS_RESULT_INVALID_LENGTH,
            format!("{what}: needs {need} bytes, got {len}"),
        ));
    }
    // SAFETY: `need` ≤ `len` writable bytes per the contract; zeroing initialises them.
    unsafe {
        ptr.write_bytes(0, need);
        Ok(std::slice::from_raw_parts_mut(ptr, need))
    }
}

/// An output slot `*mut T` for a plain value, checked for NULL.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// # Safety
    /// A non-NULL `p` is valid for writes of a `T` until the export returns.
    pub(crate) unsafe fn new(p: *mut T, what: &str) -> Result<Self, FfiError> {
        if p.is_null() {
            Err(FfiError::null(what))
        } else {
            Ok(Self(p))
        }
    }

    pub(crate) fn set(&mut self, value: T) {
        // SAFETY: non-NULL and writable per `new`'s contract; `write` drops nothing old (the
        // slot may be uninitialised, and the types written here own no resources).
        unsafe { self.0.write(value) }
    }
}

/// An output slot `T **` for a new handle: set to NULL at once, so every failure path leaves
/// the caller a NULL it may pass to `_free`.
pub(crate) struct HandleOut<T>(*mut *mut T);

impl<T> HandleOut<T> {
    /// # Safety
    /// A non-NULL `p` is valid for writes of a pointer until the export returns.
    pub(crate) unsafe fn new(p: *mut *mut T, what: &str) -> Result<Self, FfiError> {
        if p.is_null() {
            return Err(FfiError::null(what));
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { p.write(std::ptr::null_mut()) };
        Ok(Self(p))
    }

    pub(crate) fn set(self, value: T) {
        // SAFETY: as in `new`; the previous content is the NULL written there.
        unsafe { self.0.write(into_handle(value)) }
    }
}

/// An output `metaless_buffer *`: emptied at once (NULL, 0), filled on success.
pub(crate) struct BufferOut(*mut metaless_buffer);

impl BufferOut {
    /// # Safety
    /// A non-NULL `p` is valid for writes of a `metaless_buffer` until the export returns.
    /// Whatever it held before is overwritten, not freed.
    pub(crate) unsafe fn new(p: *mut metaless_buffer, what: &str) -> Result<Self, FfiError> {
        if p.is_null() {
            return Err(FfiError::null(what));
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { p.write(metaless_buffer::empty()) };
        Ok(Self(p))
    }

    pub(crate) fn set(self, bytes: Vec<u8>) {
        // SAFETY: as in `new`; the previous content is the empty buffer written there.
        unsafe { self.0.write(metaless_buffer::from_vec(bytes)) }
    }
}

/// Writes `text` and a NUL into a caller's `char` buffer of `len` bytes.
///
/// # Safety
/// As [`fixed_out`].
pub(crate) unsafe fn text_out(
    ptr: *mut c_char,
    len: usize,
    text: &str,
    what: &str,
) -> Result<(), FfiError> {
    // SAFETY: forwarded contract.
    let out = unsafe { fixed_out(ptr.cast::<u8>(), len, text.len() + 1, what) }?;
    if let Some(dst) = out.get_mut(..text.len()) {
        dst.copy_from_slice(text.as_bytes());
    }
    // The last byte stays the zero `fixed_out` wrote.
    Ok(())
}
