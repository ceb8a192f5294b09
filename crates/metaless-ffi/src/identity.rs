//! Accounts: create, restore, read public keys and IDs, blind, and — only when asked by name —
//! export the seed or its recovery phrase.
//!
//! ```
//! use metaless_ffi::*;
//! use std::ffi::CStr;
//! unsafe {
//!     let ctx = metaless_context_new();
//!     let mut id = std::ptr::null_mut();
//!     assert_eq!(metaless_identity_new(ctx, &mut id), metaless_result::METALESS_RESULT_OK);
//!     let mut sid = [0 as std::ffi::c_char; METALESS_SESSION_ID_STR_LEN];
//!     assert_eq!(metaless_identity_session_id(ctx, id, sid.as_mut_ptr(), sid.len()), metaless_result::METALESS_RESULT_OK);
//!     let text = CStr::from_ptr(sid.as_ptr()).to_str().unwrap();
//!     assert!(text.starts_with("05") && text.len() == 66);
//!
//!     // The phrase restores the same account.
//!     let mut phrase = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     metaless_identity_export_mnemonic(ctx, id, &mut phrase);
//!     let mut again = std::ptr::null_mut();
//!     assert_eq!(metaless_identity_restore(ctx, phrase.data.cast(), phrase.len, &mut again), metaless_result::METALESS_RESULT_OK);
//!     let mut sid2 = [0 as std::ffi::c_char; METALESS_SESSION_ID_STR_LEN];
//!     metaless_identity_session_id(ctx, again, sid2.as_mut_ptr(), sid2.len());
//!     assert_eq!(sid, sid2);
//!
//!     metaless_buffer_free(&mut phrase);
//!     metaless_identity_free(again);
//!     metaless_identity_free(id);
//!     metaless_context_free(ctx);
//! }
//! ```

use std::ffi::c_char;

use ::metaless_identity::{Keypair, Seed, blinding, mnemonic};

use crate::buffer::metaless_buffer;
use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::ptr::{self, BufferOut, HandleOut};
use crate::result::{FfiError, metaless_result};

/// An account: its seed and the keys derived from it. Opaque; immutable after creation.
///
/// Threads: any, concurrently (immutable). The seed is wiped when the identity is freed.
pub struct metaless_identity {
    seed: Seed,
    keys: Keypair,
}

impl metaless_identity {
    pub(crate) fn from_seed(seed: Seed) -> Self {
        let keys = Keypair::from_seed(&seed);
        Self { seed, keys }
    }

    pub(crate) fn keys(&self) -> &Keypair {
        &self.keys
    }

    /// A second key pair of the same account (`Keypair` is deliberately not `Clone`).
    pub(crate) fn keypair(&self) -> Keypair {
        Keypair::from_seed(&self.seed)
    }
}

/// Creates a new account the way the Session apps do: 16 random bytes from the context's
/// generator, zero-extended (its recovery phrase is 13 words).
///
/// # Safety
/// `ctx` is NULL or a live context; `out` is NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_new(
    ctx: *mut metaless_context,
    out: *mut *mut metaless_identity,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |c| {
            // SAFETY: `out` is NULL or writable (contract).
            let out = unsafe { HandleOut::new(out, "out") }?;
            out.set(metaless_identity::from_seed(Seed::generate(c.rng())));
            Ok(())
        })
    })
}

/// The account of a seed: 32 bytes, or 16 for a legacy (Session app) seed.
///
/// # Safety
/// `ctx` is NULL or a live context; `seed` is NULL or readable for `seed_len` bytes; `out` is
/// NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_from_seed(
    ctx: *mut metaless_context,
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut metaless_identity,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers are NULL or valid for the given lengths (contract).
            let (out, bytes) = unsafe {
                (
                    HandleOut::new(out, "out")?,
                    ptr::bytes_in(seed, seed_len, "seed")?,
                )
            };
            if seed.is_null() {
                return Err(FfiError::null("seed"));
            }
            let seed = Seed::from_slice(bytes).map_err(|e| FfiError::from(e).context("seed"))?;
            out.set(metaless_identity::from_seed(seed));
            Ok(())
        })
    })
}

/// Restores an account from its recovery phrase (UTF-8, words separated by whitespace: 13 or
/// 25 words, or 12 or 24 without the checksum word).
///
/// # Safety
/// `ctx` is NULL or a live context; `phrase` is NULL or readable for `phrase_len` bytes; `out`
/// is NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_restore(
    ctx: *mut metaless_context,
    phrase: *const c_char,
    phrase_len: usize,
    out: *mut *mut metaless_identity,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers are NULL or valid for the given lengths (contract).
            let (out, text) = unsafe {
                (
                    HandleOut::new(out, "out")?,
                    ptr::str_in(phrase, phrase_len, "phrase")?,
                )
            };
            let seed = mnemonic::to_seed(text).map_err(|e| FfiError::from(e).context("phrase"))?;
            out.set(metaless_identity::from_seed(seed));
            Ok(())
        })
    })
}

/// Frees an identity and wipes its seed. NULL is ignored.
///
/// # Safety
/// `identity` is NULL or a live identity, not used afterwards (by any thread).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_free(identity: *mut metaless_identity) {
    // SAFETY: the caller passes NULL or a live identity it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(identity) })
}

/// Writes the account's Session ID (66 hex digits, `05…`) and a NUL into `out`, which must
/// hold `METALESS_SESSION_ID_STR_LEN` (67) bytes.
///
/// # Safety
/// `ctx` is NULL or a live context; `identity` is NULL or live; `out` is NULL or writable for
/// `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_session_id(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    out: *mut c_char,
    out_len: usize,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `identity` is NULL or live (contract).
            let id = unsafe { ptr::handle(identity, "identity") }?;
            let text = id.keys.session_id().to_string();
            // SAFETY: `out` is NULL or writable for `out_len` bytes (contract).
            unsafe { ptr::text_out(out, out_len, &text, "out") }
        })
    })
}

/// Copies a 32-byte public key into `out` (`out_len` ≥ 32).
///
/// # Safety
/// As `metaless_identity_ed25519_public`.
unsafe fn public_key(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    out: *mut u8,
    out_len: usize,
    key: impl FnOnce(&Keypair) -> [u8; 32],
) -> metaless_result {
    // SAFETY: `ctx` is NULL or a live context (this function's contract).
    let ctx = unsafe { ctx.as_mut() };
    run(ctx, |_| {
        // SAFETY: `identity` NULL or live, `out` NULL or writable (this function's contract).
        let (id, dst) = unsafe {
            (
                ptr::handle(identity, "identity")?,
                ptr::fixed_out(out, out_len, 32, "out")?,
            )
        };
        dst.copy_from_slice(&key(&id.keys));
        Ok(())
    })
}

/// Writes the account's Ed25519 public key (32 bytes) into `out` (`out_len` ≥ 32).
///
/// # Safety
/// `ctx` is NULL or a live context; `identity` is NULL or live; `out` is NULL or writable for
/// `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_ed25519_public(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    out: *mut u8,
    out_len: usize,
) -> metaless_result {
    // SAFETY: this export's contract is `public_key`'s.
    ffi_guard(|| unsafe { public_key(ctx, identity, out, out_len, Keypair::ed25519_public) })
}

/// Writes the account's X25519 public key (32 bytes) into `out` (`out_len` ≥ 32).
///
/// # Safety
/// As `metaless_identity_ed25519_public`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_x25519_public(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    out: *mut u8,
    out_len: usize,
) -> metaless_result {
    // SAFETY: this export's contract is `public_key`'s.
    ffi_guard(|| unsafe { public_key(ctx, identity, out, out_len, Keypair::x25519_public) })
}

/// **Exports the secret seed** (32 bytes; a legacy seed is its 16 bytes and 16 zeros) into
/// `out` (`out_len` ≥ 32), for the caller to store. The only call besides
/// `metaless_identity_export_mnemonic` through which a secret leaves the library. Wipe `out`
/// after use.
///
/// # Safety
/// As `metaless_identity_ed25519_public`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_export_seed(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    out: *mut u8,
    out_len: usize,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `identity` NULL or live; `out` NULL or writable for `out_len` (contract).
            let (id, dst) = unsafe {
                (
                    ptr::handle(identity, "identity")?,
                    ptr::fixed_out(out, out_len, 32, "out")?,
                )
            };
            dst.copy_from_slice(id.seed.expose_secret());
            Ok(())
        })
    })
}

/// **Exports the recovery phrase** (the seed in words: 13 words for a legacy seed, else 25)
/// as UTF-8 text, not NUL-terminated, in a new buffer. `metaless_buffer_free` wipes it.
///
/// # Safety
/// `ctx` is NULL or a live context; `identity` is NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_export_mnemonic(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    out: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out` NULL or writable; `identity` NULL or live (contract).
            let (out, id) = unsafe {
                (
                    BufferOut::new(out, "out")?,
                    ptr::handle(identity, "identity")?,
                )
            };
            let phrase = mnemonic::to_phrase(&id.seed);
            out.set(phrase.expose_secret().as_bytes().to_vec());
            Ok(())
        })
    })
}

/// Which blinded ID to compute.
#[derive(Clone, Copy)]
enum Blind {
    B15,
    B25,
}

/// # Safety
/// As `metaless_identity_blinded15_id`.
unsafe fn blinded_id(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    server_pk: *const u8,
    server_pk_len: usize,
    out: *mut c_char,
    out_len: usize,
    which: Blind,
) -> metaless_result {
    // SAFETY: `ctx` is NULL or a live context (this function's contract).
    let ctx = unsafe { ctx.as_mut() };
    run(ctx, |_| {
        // SAFETY: `identity` NULL or live, `server_pk` NULL or readable (this function's contract).
        let (id, server) = unsafe {
            (
                ptr::handle(identity, "identity")?,
                ptr::key_in(server_pk, server_pk_len, "server_pk")?,
            )
        };
        let ed = id.keys.ed25519_public();
        let blinded = match which {
            // The 15 ID the account presents (its Ed25519 key's own sign).
            Blind::B15 => blinding::blind15_id_from_ed25519(&ed, &server),
            Blind::B25 => blinding::blind25_id_from_ed25519(&ed, &server),
        }
        .map_err(|e| FfiError::from(e).context("server_pk"))?;
        // SAFETY: `out` NULL or writable for `out_len` bytes (contract).
        unsafe { ptr::text_out(out, out_len, &blinded.to_string(), "out") }
    })
}

/// Writes the account's 15-blinded ID on the community server with Ed25519 key `server_pk`
/// (32 bytes) — `15…`, 66 hex digits and a NUL — into `out` (`out_len` ≥ 67).
///
/// # Safety
/// `ctx` is NULL or a live context; `identity` is NULL or live; `server_pk` is NULL or
/// readable for `server_pk_len` bytes; `out` is NULL or writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_blinded15_id(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    server_pk: *const u8,
    server_pk_len: usize,
    out: *mut c_char,
    out_len: usize,
) -> metaless_result {
    // SAFETY: this export's contract is `blinded_id`'s.
    ffi_guard(|| unsafe {
        blinded_id(
            ctx,
            identity,
            server_pk,
            server_pk_len,
            out,
            out_len,
            Blind::B15,
        )
    })
}

/// Writes the account's 25-blinded ID on the community server with Ed25519 key `server_pk`
/// (32 bytes) — `25…`, 66 hex digits and a NUL — into `out` (`out_len` ≥ 67).
///
/// # Safety
/// As `metaless_identity_blinded15_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_identity_blinded25_id(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    server_pk: *const u8,
    server_pk_len: usize,
    out: *mut c_char,
    out_len: usize,
) -> metaless_result {
    // SAFETY: this export's contract is `blinded_id`'s.
    ffi_guard(|| unsafe {
        blinded_id(
            ctx,
            identity,
            server_pk,
            server_pk_len,
            out,
            out_len,
            Blind::B25,
        )
    })
}
