//! libsodium (the library the reference C++ client uses), called directly for same-run
//! baselines: the one FFI module of the benchmarks, each function a safe wrapper whose slices
//! carry the lengths libsodium reads and writes.
//!
//! Built only when `build.rs` found the library (`cfg(libsodium)`).

#![allow(unsafe_code)]

use core::ffi::{c_int, c_uchar, c_ulonglong};

#[allow(missing_docs)]
mod sys {
    use super::*;
    unsafe extern "C" {
        pub fn sodium_init() -> c_int;
        pub fn sodium_version_string() -> *const core::ffi::c_char;
        pub fn crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
            c: *mut c_uchar,
            mac: *mut c_uchar,
            maclen: *mut c_ulonglong,
            m: *const c_uchar,
            mlen: c_ulonglong,
            ad: *const c_uchar,
            adlen: c_ulonglong,
            nsec: *const c_uchar,
            npub: *const c_uchar,
            k: *const c_uchar,
        ) -> c_int;
        pub fn crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            m: *mut c_uchar,
            nsec: *mut c_uchar,
            c: *const c_uchar,
            clen: c_ulonglong,
            mac: *const c_uchar,
            ad: *const c_uchar,
            adlen: c_ulonglong,
            npub: *const c_uchar,
            k: *const c_uchar,
        ) -> c_int;
        pub fn crypto_aead_aes256gcm_is_available() -> c_int;
        pub fn crypto_aead_aes256gcm_encrypt_detached(
            c: *mut c_uchar,
            mac: *mut c_uchar,
            maclen: *mut c_ulonglong,
            m: *const c_uchar,
            mlen: c_ulonglong,
            ad: *const c_uchar,
            adlen: c_ulonglong,
            nsec: *const c_uchar,
            npub: *const c_uchar,
            k: *const c_uchar,
        ) -> c_int;
        pub fn crypto_aead_aes256gcm_decrypt_detached(
            m: *mut c_uchar,
            nsec: *mut c_uchar,
            c: *const c_uchar,
            clen: c_ulonglong,
            mac: *const c_uchar,
            ad: *const c_uchar,
            adlen: c_ulonglong,
            npub: *const c_uchar,
            k: *const c_uchar,
        ) -> c_int;
        pub fn crypto_secretbox_detached(
            c: *mut c_uchar,
            mac: *mut c_uchar,
            m: *const c_uchar,
            mlen: c_ulonglong,
            n: *const c_uchar,
            k: *const c_uchar,
        ) -> c_int;
        pub fn crypto_secretbox_open_detached(
            m: *mut c_uchar,
            c: *const c_uchar,
            mac: *const c_uchar,
            clen: c_ulonglong,
            n: *const c_uchar,
            k: *const c_uchar,
        ) -> c_int;
        pub fn crypto_box_seal(
            c: *mut c_uchar,
            m: *const c_uchar,
            mlen: c_ulonglong,
            pk: *const c_uchar,
        ) -> c_int;
        pub fn crypto_box_seal_open(
            m: *mut c_uchar,
            c: *const c_uchar,
            clen: c_ulonglong,
            pk: *const c_uchar,
            sk: *const c_uchar,
        ) -> c_int;
        pub fn crypto_scalarmult(q: *mut c_uchar, n: *const c_uchar, p: *const c_uchar) -> c_int;
        pub fn crypto_scalarmult_base(q: *mut c_uchar, n: *const c_uchar) -> c_int;
        pub fn crypto_generichash_statebytes() -> usize;
        pub fn crypto_generichash_init(
            state: *mut c_uchar,
            key: *const c_uchar,
            keylen: usize,
            outlen: usize,
        ) -> c_int;
        pub fn crypto_generichash_update(
            state: *mut c_uchar,
            input: *const c_uchar,
            inlen: c_ulonglong,
        ) -> c_int;
        pub fn crypto_generichash_final(
            state: *mut c_uchar,
            out: *mut c_uchar,
            outlen: usize,
        ) -> c_int;
        pub fn crypto_auth_hmacsha256_statebytes() -> usize;
        pub fn crypto_auth_hmacsha256_init(
            state: *mut c_uchar,
            key: *const c_uchar,
            keylen: usize,
        ) -> c_int;
        pub fn crypto_auth_hmacsha256_update(
            state: *mut c_uchar,
            input: *const c_uchar,
            inlen: c_ulonglong,
        ) -> c_int;
        pub fn crypto_auth_hmacsha256_final(state: *mut c_uchar, out: *mut c_uchar) -> c_int;
        pub fn crypto_sign_seed_keypair(
            pk: *mut c_uchar,
            sk: *mut c_uchar,
            seed: *const c_uchar,
        ) -> c_int;
        pub fn crypto_sign_detached(
            sig: *mut c_uchar,
            siglen: *mut c_ulonglong,
            m: *const c_uchar,
            mlen: c_ulonglong,
            sk: *const c_uchar,
        ) -> c_int;
        pub fn crypto_sign_verify_detached(
            sig: *const c_uchar,
            m: *const c_uchar,
            mlen: c_ulonglong,
            pk: *const c_uchar,
        ) -> c_int;
        pub fn crypto_sign_ed25519_pk_to_curve25519(
            curve: *mut c_uchar,
            ed: *const c_uchar,
        ) -> c_int;
        pub fn crypto_sign_ed25519_sk_to_curve25519(
            curve: *mut c_uchar,
            ed: *const c_uchar,
        ) -> c_int;
    }
}

/// Room for libsodium's opaque hash states (BLAKE2b: 384 bytes, HMAC-SHA256: 208), aligned as
/// its headers declare them (64).
#[repr(C, align(64))]
struct State([u8; 512]);

/// `sodium_init()`; true when the library is ready (call once before anything else).
pub fn init() -> bool {
    // SAFETY: no arguments; idempotent and thread-safe per libsodium's documentation.
    unsafe { sys::sodium_init() >= 0 }
}

/// The library's version text, e.g. `"1.0.18"`.
pub fn version() -> String {
    // SAFETY: returns a pointer to a static NUL-terminated string.
    unsafe { core::ffi::CStr::from_ptr(sys::sodium_version_string()) }
        .to_string_lossy()
        .into_owned()
}

/// XChaCha20-Poly1305 (IETF) in place, no associated data; returns the tag.
pub fn xchacha_seal(buf: &mut [u8], nonce: &[u8; 24], key: &[u8; 32]) -> [u8; 16] {
    let mut tag = [0u8; 16];
    // SAFETY: c and m are the same buffer of buf.len() bytes (libsodium allows c == m);
    // tag holds 16 bytes; nonce and key have the sizes the function reads.
    unsafe {
        sys::crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
            buf.as_mut_ptr(),
            tag.as_mut_ptr(),
            core::ptr::null_mut(),
            buf.as_ptr(),
            buf.len() as c_ulonglong,
            core::ptr::null(),
            0,
            core::ptr::null(),
            nonce.as_ptr(),
            key.as_ptr(),
        );
    }
    tag
}

/// XChaCha20-Poly1305 (IETF) open in place; false when the tag does not verify.
pub fn xchacha_open(buf: &mut [u8], tag: &[u8; 16], nonce: &[u8; 24], key: &[u8; 32]) -> bool {
    // SAFETY: as for `xchacha_seal`; m == c is allowed.
    unsafe {
        sys::crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            buf.as_mut_ptr(),
            core::ptr::null_mut(),
            buf.as_ptr(),
            buf.len() as c_ulonglong,
            tag.as_ptr(),
            core::ptr::null(),
            0,
            nonce.as_ptr(),
            key.as_ptr(),
        ) == 0
    }
}

/// Whether this CPU runs libsodium's AES-256-GCM (AES-NI and PCLMUL).
pub fn aes_gcm_available() -> bool {
    // SAFETY: no arguments.
    init() && unsafe { sys::crypto_aead_aes256gcm_is_available() == 1 }
}

/// AES-256-GCM in place, no associated data; returns the tag. Only if [`aes_gcm_available`].
pub fn aes_gcm_seal(buf: &mut [u8], nonce: &[u8; 12], key: &[u8; 32]) -> [u8; 16] {
    assert!(aes_gcm_available());
    let mut tag = [0u8; 16];
    // SAFETY: as for `xchacha_seal` with a 12-byte nonce.
    unsafe {
        sys::crypto_aead_aes256gcm_encrypt_detached(
            buf.as_mut_ptr(),
            tag.as_mut_ptr(),
            core::ptr::null_mut(),
            buf.as_ptr(),
            buf.len() as c_ulonglong,
            core::ptr::null(),
            0,
            core::ptr::null(),
            nonce.as_ptr(),
            key.as_ptr(),
        );
    }
    tag
}

/// AES-256-GCM open in place; false when the tag does not verify.
pub fn aes_gcm_open(buf: &mut [u8], tag: &[u8; 16], nonce: &[u8; 12], key: &[u8; 32]) -> bool {
    assert!(aes_gcm_available());
    // SAFETY: as for `xchacha_open` with a 12-byte nonce.
    unsafe {
        sys::crypto_aead_aes256gcm_decrypt_detached(
            buf.as_mut_ptr(),
            core::ptr::null_mut(),
            buf.as_ptr(),
            buf.len() as c_ulonglong,
            tag.as_ptr(),
            core::ptr::null(),
            0,
            nonce.as_ptr(),
            key.as_ptr(),
        ) == 0
    }
}

/// `crypto_secretbox` (XSalsa20-Poly1305) in place; returns the tag.
pub fn secretbox_seal(buf: &mut [u8], nonce: &[u8; 24], key: &[u8; 32]) -> [u8; 16] {
    let mut tag = [0u8; 16];
    // SAFETY: c == m is allowed by crypto_secretbox_detached; sizes as declared.
    unsafe {
        sys::crypto_secretbox_detached(
            buf.as_mut_ptr(),
            tag.as_mut_ptr(),
            buf.as_ptr(),
            buf.len() as c_ulonglong,
            nonce.as_ptr(),
            key.as_ptr(),
        );
    }
    tag
}

/// `crypto_secretbox_open` in place; false when the tag does not verify.
pub fn secretbox_open(buf: &mut [u8], tag: &[u8; 16], nonce: &[u8; 24], key: &[u8; 32]) -> bool {
    // SAFETY: m == c is allowed; sizes as declared.
    unsafe {
        sys::crypto_secretbox_open_detached(
            buf.as_mut_ptr(),
            buf.as_ptr(),
            tag.as_ptr(),
            buf.len() as c_ulonglong,
            nonce.as_ptr(),
            key.as_ptr(),
        ) == 0
    }
}

/// `crypto_box_seal`: `E ‖ tag ‖ ciphertext` of `message` to `public`.
pub fn box_seal(message: &[u8], public: &[u8; 32]) -> Vec<u8> {
    let mut out = vec![0u8; message.len() + 48];
    // SAFETY: out holds mlen + crypto_box_SEALBYTES (48) bytes.
    unsafe {
        sys::crypto_box_seal(
            out.as_mut_ptr(),
            message.as_ptr(),
            message.len() as c_ulonglong,
            public.as_ptr(),
        );
    }
    out
}

/// `crypto_box_seal_open`; `None` when it does not open.
pub fn box_seal_open(sealed: &[u8], public: &[u8; 32], secret: &[u8; 32]) -> Option<Vec<u8>> {
    let len = sealed.len().checked_sub(48)?;
    let mut out = vec![0u8; len];
    // SAFETY: out holds clen - 48 bytes, what the function writes.
    let rc = unsafe {
        sys::crypto_box_seal_open(
            out.as_mut_ptr(),
            sealed.as_ptr(),
            sealed.len() as c_ulonglong,
            public.as_ptr(),
            secret.as_ptr(),
        )
    };
    (rc == 0).then_some(out)
}

/// `crypto_scalarmult` (X25519); `None` for an all-zero result.
pub fn scalarmult(secret: &[u8; 32], public: &[u8; 32]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    // SAFETY: three 32-byte buffers.
    let rc = unsafe { sys::crypto_scalarmult(out.as_mut_ptr(), secret.as_ptr(), public.as_ptr()) };
    (rc == 0).then_some(out)
}

/// `crypto_scalarmult_base`.
pub fn scalarmult_base(secret: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: two 32-byte buffers.
    unsafe { sys::crypto_scalarmult_base(out.as_mut_ptr(), secret.as_ptr()) };
    out
}

/// Unkeyed BLAKE2b (`crypto_generichash`) of the concatenated `parts`, `N` bytes out (16..=64).
pub fn blake2b<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut state = State([0u8; 512]);
    let mut out = [0u8; N];
    // SAFETY: the state buffer is checked to be large enough and is 64-byte aligned; each part is
    // read for its own length; out holds N bytes.
    unsafe {
        assert!(sys::crypto_generichash_statebytes() <= state.0.len());
        sys::crypto_generichash_init(state.0.as_mut_ptr(), core::ptr::null(), 0, N);
        for part in parts {
            sys::crypto_generichash_update(
                state.0.as_mut_ptr(),
                part.as_ptr(),
                part.len() as c_ulonglong,
            );
        }
        sys::crypto_generichash_final(state.0.as_mut_ptr(), out.as_mut_ptr(), N);
    }
    out
}

/// HMAC-SHA256 with a key of any length.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut state = State([0u8; 512]);
    let mut out = [0u8; 32];
    // SAFETY: as for `blake2b`; out holds 32 bytes.
    unsafe {
        assert!(sys::crypto_auth_hmacsha256_statebytes() <= state.0.len());
        sys::crypto_auth_hmacsha256_init(state.0.as_mut_ptr(), key.as_ptr(), key.len());
        sys::crypto_auth_hmacsha256_update(
            state.0.as_mut_ptr(),
            message.as_ptr(),
            message.len() as c_ulonglong,
        );
        sys::crypto_auth_hmacsha256_final(state.0.as_mut_ptr(), out.as_mut_ptr());
    }
    out
}

/// An Ed25519 keypair from a 32-byte seed: (public, 64-byte secret).
pub fn sign_seed_keypair(seed: &[u8; 32]) -> ([u8; 32], [u8; 64]) {
    let mut public = [0u8; 32];
    let mut secret = [0u8; 64];
    // SAFETY: 32-, 64- and 32-byte buffers as declared.
    unsafe {
        sys::crypto_sign_seed_keypair(public.as_mut_ptr(), secret.as_mut_ptr(), seed.as_ptr())
    };
    (public, secret)
}

/// `crypto_sign_detached`.
pub fn sign(message: &[u8], secret: &[u8; 64]) -> [u8; 64] {
    let mut sig = [0u8; 64];
    // SAFETY: sig holds 64 bytes; message read for its length; secret is 64 bytes.
    unsafe {
        sys::crypto_sign_detached(
            sig.as_mut_ptr(),
            core::ptr::null_mut(),
            message.as_ptr(),
            message.len() as c_ulonglong,
            secret.as_ptr(),
        );
    }
    sig
}

/// `crypto_sign_verify_detached`.
pub fn verify(sig: &[u8; 64], message: &[u8], public: &[u8; 32]) -> bool {
    // SAFETY: sizes as declared.
    unsafe {
        sys::crypto_sign_verify_detached(
            sig.as_ptr(),
            message.as_ptr(),
            message.len() as c_ulonglong,
            public.as_ptr(),
        ) == 0
    }
}

/// `crypto_sign_ed25519_pk_to_curve25519`; `None` when libsodium refuses the key.
pub fn ed25519_pk_to_x25519(public: &[u8; 32]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    // SAFETY: two 32-byte buffers.
    let rc =
        unsafe { sys::crypto_sign_ed25519_pk_to_curve25519(out.as_mut_ptr(), public.as_ptr()) };
    (rc == 0).then_some(out)
}

/// `crypto_sign_ed25519_sk_to_curve25519` of a 64-byte Ed25519 secret.
pub fn ed25519_sk_to_x25519(secret: &[u8; 64]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: 32-byte output, 64-byte input.
    unsafe { sys::crypto_sign_ed25519_sk_to_curve25519(out.as_mut_ptr(), secret.as_ptr()) };
    out
}
