//! `metaless_buffer`: bytes handed to C, owned by the caller until `metaless_buffer_free`.
//!
//! ```
//! use metaless_ffi::*;
//! unsafe {
//!     let ctx = metaless_context_new();
//!     let mut id = std::ptr::null_mut();
//!     assert_eq!(metaless_identity_from_seed(ctx, [7u8; 32].as_ptr(), 32, &mut id), metaless_result::METALESS_RESULT_OK);
//!     let mut phrase = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     assert_eq!(metaless_identity_export_mnemonic(ctx, id, &mut phrase), metaless_result::METALESS_RESULT_OK);
//!     assert!(phrase.len > 0);
//!     metaless_buffer_free(&mut phrase);
//!     // Freed buffers are emptied, so a second free is harmless.
//!     assert!(phrase.data.is_null() && phrase.len == 0);
//!     metaless_buffer_free(&mut phrase);
//!     metaless_identity_free(id);
//!     metaless_context_free(ctx);
//! }
//! ```

use zeroize::Zeroize;

use crate::guard::ffi_guard;

/// Bytes owned by the caller: `data` points to `len` bytes (NULL when `len` is 0). Free with
/// `metaless_buffer_free`, which wipes the bytes first (they may be plaintext). Do not free
/// `data` with `free()`, and do not change `data` or `len` before freeing.
#[repr(C)]
#[derive(Debug)]
pub struct metaless_buffer {
    /// The bytes; NULL when empty.
    pub data: *mut u8,
    /// Number of bytes.
    pub len: usize,
}

impl metaless_buffer {
    pub(crate) fn empty() -> Self {
        Self {
            data: std::ptr::null_mut(),
            len: 0,
        }
    }

    /// Hands `bytes` over (exact size: the allocation is a boxed slice of `len` bytes).
    pub(crate) fn from_vec(mut bytes: Vec<u8>) -> Self {
        if bytes.is_empty() {
            bytes.zeroize();
            return Self::empty();
        }
        let boxed: Box<[u8]> = if bytes.capacity() == bytes.len() {
            bytes.into_boxed_slice()
        } else {
            // Shrinking in place could move the bytes and free the old block unwiped (they
            // may be plaintext): copy them, then wipe the original.
            let exact = Box::<[u8]>::from(bytes.as_slice());
            bytes.zeroize();
            exact
        };
        let len = boxed.len();
        let data = Box::into_raw(boxed).cast::<u8>();
        Self { data, len }
    }
}

/// Wipes and frees the bytes of `buffer`, then sets it to `{NULL, 0}`. NULL `buffer` and empty
/// buffers are ignored, so freeing twice is harmless.
///
/// # Safety
/// `buffer` must be NULL or point to a `metaless_buffer` that is empty or was filled by this
/// library and not modified since.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_buffer_free(buffer: *mut metaless_buffer) {
    ffi_guard(|| {
        // SAFETY: the caller passes NULL or a valid, writable `metaless_buffer`.
        let Some(buffer) = (unsafe { buffer.as_mut() }) else {
            return;
        };
        if !buffer.data.is_null() && buffer.len > 0 {
            let raw = std::ptr::slice_from_raw_parts_mut(buffer.data, buffer.len);
            // SAFETY: `data`/`len` are exactly what `from_vec` produced from a boxed slice,
            // unmodified per the contract; ownership returns here once (emptied below).
            let mut boxed = unsafe { Box::from_raw(raw) };
            boxed.zeroize();
        }
        *buffer = metaless_buffer::empty();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_double_free() {
        let mut b = metaless_buffer::from_vec(vec![1, 2, 3]);
        assert_eq!(b.len, 3);
        // SAFETY: filled by this library.
        unsafe {
            assert_eq!(std::slice::from_raw_parts(b.data, b.len), &[1, 2, 3]);
            metaless_buffer_free(&mut b);
            assert!(b.data.is_null());
            metaless_buffer_free(&mut b);
            metaless_buffer_free(std::ptr::null_mut());
        }
        let mut spare = Vec::with_capacity(64);
        spare.extend_from_slice(b"abc");
        let mut b = metaless_buffer::from_vec(spare);
        assert_eq!(b.len, 3);
        // SAFETY: filled by this library.
        unsafe {
            assert_eq!(std::slice::from_raw_parts(b.data, b.len), b"abc");
            metaless_buffer_free(&mut b);
        }
        let mut e = metaless_buffer::from_vec(Vec::new());
        assert!(e.data.is_null());
        // SAFETY: empty buffer.
        unsafe { metaless_buffer_free(&mut e) };
    }
}
