//! Onion requests: build one through a path (client), peel a layer (hop), answer (destination),
//! open the answer (client). The client's reply secret stays inside its
//! `metaless_pending_response`; a node's X25519 secret, once given, stays inside its
//! `metaless_node_key`.
//!
//! ```
//! use metaless_ffi::*;
//! unsafe {
//!     let ctx = metaless_context_new();
//!     // One node, which is both the only hop and the destination.
//!     let secret = [5u8; 32];
//!     let mut node = std::ptr::null_mut();
//!     assert_eq!(metaless_node_key_new(ctx, secret.as_ptr(), 32, &mut node), metaless_result::METALESS_RESULT_OK);
//!     let mut hop = metaless_hop { ed25519: [1; 32], x25519: [0; 32] };
//!     metaless_node_key_public(ctx, node, hop.x25519.as_mut_ptr(), 32);
//!
//!     let mut body = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     let mut pending = std::ptr::null_mut();
//!     let r = metaless_onion_build(ctx, std::ptr::null(), 0, &hop, METALESS_ENC_XCHACHA20,
//!         b"ping".as_ptr(), 4, &mut body, &mut pending);
//!     assert_eq!(r, metaless_result::METALESS_RESULT_INVALID_PATH);
//!     let r = metaless_onion_build(ctx, &hop, 1, &hop, METALESS_ENC_XCHACHA20,
//!         b"ping".as_ptr(), 4, &mut body, &mut pending);
//!     assert_eq!(r, metaless_result::METALESS_RESULT_OK);
//!
//!     // The hop peels its layer: forward to the destination (itself, here)…
//!     let mut peeled = std::ptr::null_mut();
//!     assert_eq!(metaless_onion_peel(ctx, node, body.data, body.len, &mut peeled), metaless_result::METALESS_RESULT_OK);
//!     assert_eq!(metaless_peeled_kind(peeled), metaless_peel_kind::METALESS_PEEL_FORWARD);
//!     let mut next = [0u8; 32];
//!     metaless_peeled_next_hop(ctx, peeled, next.as_mut_ptr(), 32);
//!     assert_eq!(next, hop.ed25519);
//!     let mut inner = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     metaless_peeled_body(ctx, peeled, &mut inner);
//!     metaless_peeled_free(peeled);
//!     // …which peels the inner layer: the payload is delivered.
//!     assert_eq!(metaless_onion_peel(ctx, node, inner.data, inner.len, &mut peeled), metaless_result::METALESS_RESULT_OK);
//!     assert_eq!(metaless_peeled_kind(peeled), metaless_peel_kind::METALESS_PEEL_DELIVER);
//!     let mut payload = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     metaless_peeled_body(ctx, peeled, &mut payload);
//!     assert_eq!(std::slice::from_raw_parts(payload.data, payload.len), b"ping");
//!     let mut reply = std::ptr::null_mut();
//!     assert_eq!(metaless_peeled_take_reply(ctx, peeled, &mut reply), metaless_result::METALESS_RESULT_OK);
//!     let mut answer = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     assert_eq!(metaless_reply_context_respond(ctx, reply, b"pong".as_ptr(), 4, &mut answer), metaless_result::METALESS_RESULT_OK);
//!
//!     // The client opens the answer.
//!     let mut opened = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     assert_eq!(metaless_pending_response_open(ctx, pending, answer.data, answer.len, &mut opened), metaless_result::METALESS_RESULT_OK);
//!     assert_eq!(std::slice::from_raw_parts(opened.data, opened.len), b"pong");
//!
//!     for b in [&mut body, &mut inner, &mut payload, &mut answer, &mut opened] { metaless_buffer_free(b); }
//!     metaless_reply_context_free(reply);
//!     metaless_peeled_free(peeled);
//!     metaless_pending_response_free(pending);
//!     metaless_node_key_free(node);
//!     metaless_context_free(ctx);
//! }
//! ```

use std::ffi::c_char;

use metaless_onion::{Destination, EncType, Hop, PendingResponse, ServerDestination};

use crate::buffer::metaless_buffer;
use crate::consts::{METALESS_ENC_AES_GCM, METALESS_ENC_XCHACHA20};
use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::ptr::{self, BufferOut, HandleOut};
use crate::result::{FfiError, metaless_result};

/// A service node as an onion hop or destination: its Ed25519 key (its name) and the X25519
/// key layers are encrypted to.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct metaless_hop {
    /// Ed25519 public key.
    pub ed25519: [u8; 32],
    /// X25519 public key.
    pub x25519: [u8; 32],
}

/// What a client keeps to open the reply of one onion request (holds the reply secret, which
/// never leaves it). Threads: any, concurrently (immutable).
pub struct metaless_pending_response {
    inner: PendingResponse,
}

fn enc_type(enc: u32) -> Result<EncType, FfiError> {
    match enc {
        METALESS_ENC_AES_GCM => Ok(EncType::AesGcm),
        METALESS_ENC_XCHACHA20 => Ok(EncType::XChaCha20),
        _ => Err(FfiError::argument(
            "enc",
            "not METALESS_ENC_AES_GCM or METALESS_ENC_XCHACHA20",
        )),
    }
}

/// Builds and hands out a request to `destination`.
///
/// # Safety
/// As `metaless_onion_build`.
#[allow(clippy::too_many_arguments)]
unsafe fn build_to(
    ctx: *mut metaless_context,
    path: *const metaless_hop,
    path_len: usize,
    destination: Result<Destination, FfiError>,
    enc: u32,
    payload: *const u8,
    payload_len: usize,
    out_body: *mut metaless_buffer,
    out_pending: *mut *mut metaless_pending_response,
) -> metaless_result {
    // SAFETY: `ctx` is NULL or a live context (this function's contract).
    let ctx = unsafe { ctx.as_mut() };
    run(ctx, |c| {
        // SAFETY: outputs NULL or writable, inputs NULL or readable for their lengths
        // (this function's contract).
        let (out_body, out_pending, hops, payload) = unsafe {
            (
                BufferOut::new(out_body, "out_body")?,
                HandleOut::new(out_pending, "out_pending")?,
                ptr::array_in(path, path_len, "path")?,
                ptr::bytes_in(payload, payload_len, "payload")?,
            )
        };
        let hops: Vec<Hop> = hops.iter().map(|h| Hop::new(h.ed25519, h.x25519)).collect();
        let destination = destination?;
        let built = metaless_onion::build(&hops, &destination, payload, enc_type(enc)?, c.rng())?;
        out_body.set(built.body);
        out_pending.set(metaless_pending_response {
            inner: built.pending,
        });
        Ok(())
    })
}

/// Builds an onion request through `path` (`path_len` hops, first hop first, 1 to
/// `METALESS_MAX_HOPS`) to the service node `destination`, carrying `payload` (a storage RPC
/// JSON request). `enc` is `METALESS_ENC_XCHACHA20` or `METALESS_ENC_AES_GCM`.
///
/// On success `*out_body` holds the bytes to POST to `path[0]` at `/onion_req/v2`, and
/// `*out_pending` the state that opens the reply. On failure both are empty/NULL.
///
/// # Safety
/// `ctx` NULL or live; `path` NULL or readable for `path_len` hops; `destination` NULL or
/// readable; `payload` NULL or readable for `payload_len` bytes; `out_body` and `out_pending`
/// NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn metaless_onion_build(
    ctx: *mut metaless_context,
    path: *const metaless_hop,
    path_len: usize,
    destination: *const metaless_hop,
    enc: u32,
    payload: *const u8,
    payload_len: usize,
    out_body: *mut metaless_buffer,
    out_pending: *mut *mut metaless_pending_response,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `destination` is NULL or readable (contract).
        let destination = unsafe { ptr::handle(destination, "destination") }
            .map(|d| Destination::ServiceNode(Hop::new(d.ed25519, d.x25519)));
        // SAFETY: this export's contract is `build_to`'s.
        unsafe {
            build_to(
                ctx,
                path,
                path_len,
                destination,
                enc,
                payload,
                payload_len,
                out_body,
                out_pending,
            )
        }
    })
}

/// Builds an onion request through `path` to an HTTP server: `protocol` (`http` or `https`)
/// `://host:port` + `target` (empty for the default `/oxen/v4/lsrpc`), whose X25519 key is
/// `server_x25519` (32 bytes). Strings are UTF-8 `(ptr, len)`. Otherwise as
/// `metaless_onion_build`.
///
/// # Safety
/// As `metaless_onion_build`, and every string and key NULL or readable for its length.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn metaless_onion_build_to_server(
    ctx: *mut metaless_context,
    path: *const metaless_hop,
    path_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
    host: *const c_char,
    host_len: usize,
    port: u16,
    target: *const c_char,
    target_len: usize,
    server_x25519: *const u8,
    server_x25519_len: usize,
    enc: u32,
    payload: *const u8,
    payload_len: usize,
    out_body: *mut metaless_buffer,
    out_pending: *mut *mut metaless_pending_response,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: strings and key NULL or readable for their lengths (contract).
        let parts = unsafe {
            (
                ptr::str_in(protocol, protocol_len, "protocol"),
                ptr::str_in(host, host_len, "host"),
                ptr::str_in(target, target_len, "target"),
                ptr::key_in(server_x25519, server_x25519_len, "server_x25519"),
            )
        };
        let destination = server_destination(parts.0, parts.1, port, parts.2, parts.3);
        // SAFETY: this export's contract covers `build_to`'s.
        unsafe {
            build_to(
                ctx,
                path,
                path_len,
                destination,
                enc,
                payload,
                payload_len,
                out_body,
                out_pending,
            )
        }
    })
}

fn server_destination(
    protocol: Result<&str, FfiError>,
    host: Result<&str, FfiError>,
    port: u16,
    target: Result<&str, FfiError>,
    key: Result<[u8; 32], FfiError>,
) -> Result<Destination, FfiError> {
    let dest = ServerDestination::new(host?, port, protocol?, key?)?;
    let target = target?;
    Ok(Destination::Server(if target.is_empty() {
        dest
    } else {
        dest.with_target(target)?
    }))
}

/// Opens the reply to the request `pending` was built with: raw bytes or their base64 text (a
/// service node's default). The plaintext goes to `*out`.
///
/// # Safety
/// `ctx` NULL or live; `pending` NULL or live; `response` NULL or readable for
/// `response_len` bytes; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_pending_response_open(
    ctx: *mut metaless_context,
    pending: *const metaless_pending_response,
    response: *const u8,
    response_len: usize,
    out: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out, pending, response) = unsafe {
                (
                    BufferOut::new(out, "out")?,
                    ptr::handle(pending, "pending")?,
                    ptr::bytes_in(response, response_len, "response")?,
                )
            };
            out.set(pending.inner.open(response)?);
            Ok(())
        })
    })
}

/// Frees the reply state (wiping its secret). NULL is ignored.
///
/// # Safety
/// `pending` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_pending_response_free(pending: *mut metaless_pending_response) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(pending) })
}

mod node;

pub use node::*;
