//! Which library a program is linked against: the release version (text) and the ABI version
//! (a number that changes whenever the header changes incompatibly; it is the `N` of the
//! shared library's SONAME `libmetaless.so.N`).
//!
//! ```
//! use metaless_ffi::*;
//! let text = unsafe { std::ffi::CStr::from_ptr(metaless_version()) };
//! assert_eq!(text.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
//! assert_eq!(metaless_abi_version(), METALESS_ABI_VERSION);
//! ```

use std::ffi::c_char;

use crate::guard::ffi_guard;

/// The ABI version of the header this library was built from. A program compiled against one
/// header can check at start that `metaless_abi_version()` equals this constant; the shared
/// library's SONAME is `libmetaless.so.<this>`, so the loader refuses a mismatched one.
pub const METALESS_ABI_VERSION: u32 = 1;

const VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's release version as NUL-terminated text (e.g. `"0.1.0"`). The string is
/// static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn metaless_version() -> *const c_char {
    ffi_guard(|| VERSION_NUL.as_ptr().cast::<c_char>())
}

/// The ABI version the library implements ([`METALESS_ABI_VERSION`] of its own header).
#[unsafe(no_mangle)]
pub extern "C" fn metaless_abi_version() -> u32 {
    ffi_guard(|| METALESS_ABI_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_text_is_the_package_version_and_nul_terminated() {
        // SAFETY: the pointer is to a static NUL-terminated string.
        let text = unsafe { std::ffi::CStr::from_ptr(metaless_version()) };
        assert_eq!(text.to_str().ok(), Some(env!("CARGO_PKG_VERSION")));
        // Three dot-separated numbers, as pkg-config and package managers expect.
        let parts: Vec<&str> = text.to_str().unwrap_or("").split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()));
    }

    #[test]
    fn soname_in_build_script_matches_the_abi_version() {
        let script = include_str!("../build.rs");
        let line = format!("const ABI_VERSION: u32 = {METALESS_ABI_VERSION};");
        assert!(script.contains(&line), "build.rs must say `{line}`");
    }
}
