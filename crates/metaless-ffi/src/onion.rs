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

use metaless_identity::X25519Secret;
use metaless_onion::{
    Destination, EncType, Hop, NodeKey, Peeled, PendingResponse, ReplyContext, ServerDestination,
};

use crate::buffer::metaless_buffer;
use crate::consts::{METALESS_ENC_AES_GCM, METALESS_ENC_XCHACHA20};
use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::ptr::{self, BufferOut, HandleOut, Out};
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

/// A node's X25519 secret key, given once and wiped on free. Threads: any, concurrently
/// (immutable).
pub struct metaless_node_key {
    secret: X25519Secret,
}

/// The reply key of one peeled layer, for the destination's answer. Threads: any,
/// concurrently (immutable).
pub struct metaless_reply_context {
    inner: ReplyContext,
}

/// What peeling one layer gave. Owned by the caller. Threads: any, concurrently, for the
/// read-only accessors; `metaless_peeled_take_reply` needs it to itself.
pub struct metaless_peeled {
    outcome: Outcome,
}

enum Outcome {
    Forward {
        next: [u8; 32],
        body: Vec<u8>,
    },
    Server {
        host: String,
        target: String,
        port: u16,
        protocol: String,
        body: Vec<u8>,
    },
    Deliver {
        payload: Vec<u8>,
        reply: Option<ReplyContext>,
    },
    Reject {
        status: u16,
        body: String,
        reply: Option<ReplyContext>,
    },
}

/// The kind of a peeled layer.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum metaless_peel_kind {
    /// NULL handle.
    METALESS_PEEL_INVALID = 0,
    /// POST the body to the next hop (`metaless_peeled_next_hop`, `metaless_peeled_body`).
    METALESS_PEEL_FORWARD = 1,
    /// POST the body to an HTTP server (`metaless_peeled_server`, `metaless_peeled_body`).
    METALESS_PEEL_SERVER = 2,
    /// This node is the destination: `metaless_peeled_body` is the request payload,
    /// `metaless_peeled_take_reply` the key to answer with.
    METALESS_PEEL_DELIVER = 3,
    /// The layer decrypted but is invalid: answer `metaless_peeled_reject_status` with the
    /// text `metaless_peeled_body`, encrypted with `metaless_reply_context_respond_error`.
    METALESS_PEEL_REJECT = 4,
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

/// A node key from the node's X25519 secret (32 bytes; the caller should wipe its copy).
///
/// # Safety
/// `ctx` NULL or live; `secret` NULL or readable for `secret_len` bytes; `out` NULL or
/// writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_node_key_new(
    ctx: *mut metaless_context,
    secret: *const u8,
    secret_len: usize,
    out: *mut *mut metaless_node_key,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out` NULL or writable; `secret` NULL or readable (contract).
            let (out, bytes) = unsafe {
                (
                    HandleOut::new(out, "out")?,
                    ptr::key_in(secret, secret_len, "secret")?,
                )
            };
            out.set(metaless_node_key {
                secret: X25519Secret::from_bytes(bytes),
            });
            Ok(())
        })
    })
}

/// Writes the node's X25519 public key (32 bytes) into `out` (`out_len` ≥ 32).
///
/// # Safety
/// `ctx` NULL or live; `key` NULL or live; `out` NULL or writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_node_key_public(
    ctx: *mut metaless_context,
    key: *const metaless_node_key,
    out: *mut u8,
    out_len: usize,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `key` NULL or live; `out` NULL or writable for `out_len` (contract).
            let (key, dst) = unsafe {
                (
                    ptr::handle(key, "key")?,
                    ptr::fixed_out(out, out_len, 32, "out")?,
                )
            };
            dst.copy_from_slice(&key.secret.public_key());
            Ok(())
        })
    })
}

/// Frees a node key, wiping the secret. NULL is ignored.
///
/// # Safety
/// `key` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_node_key_free(key: *mut metaless_node_key) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(key) })
}

/// Peels one layer of `body` (what the node received at `/onion_req/v2`, or what the previous
/// hop forwarded) as the node owning `key`. Decryption failures and malformed layers are
/// errors (`METALESS_RESULT_DECRYPT_FAILED`, `METALESS_RESULT_MALFORMED`, …; a node answers
/// them with HTTP 400); a layer that decrypts but is invalid is `METALESS_PEEL_REJECT`.
///
/// # Safety
/// `ctx` NULL or live; `key` NULL or live; `body` NULL or readable for `body_len` bytes;
/// `out` NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_onion_peel(
    ctx: *mut metaless_context,
    key: *const metaless_node_key,
    body: *const u8,
    body_len: usize,
    out: *mut *mut metaless_peeled,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out, key, body) = unsafe {
                (
                    HandleOut::new(out, "out")?,
                    ptr::handle(key, "key")?,
                    ptr::bytes_in(body, body_len, "body")?,
                )
            };
            let outcome = match metaless_onion::peel(&NodeKey::new(&key.secret), body)? {
                Peeled::Forward {
                    next_ed25519, body, ..
                } => Outcome::Forward {
                    next: next_ed25519,
                    body,
                },
                Peeled::Server {
                    host,
                    target,
                    port,
                    protocol,
                    body,
                } => Outcome::Server {
                    host,
                    target,
                    port,
                    protocol,
                    body,
                },
                Peeled::Deliver(delivery) => {
                    let (payload, reply) = delivery.into_parts();
                    Outcome::Deliver {
                        payload,
                        reply: Some(reply),
                    }
                }
                Peeled::Reject { error, reply } => Outcome::Reject {
                    status: error.status(),
                    body: error.body(),
                    reply: Some(reply),
                },
                _ => {
                    return Err(FfiError::new(
                        metaless_result::METALESS_RESULT_FAILED,
                        "peel: an outcome this library version does not expose",
                    ));
                }
            };
            out.set(metaless_peeled { outcome });
            Ok(())
        })
    })
}

/// Decrypts one layer addressed to `key` without interpreting its contents: what a
/// destination that is not a service node (a server answering onion requests) does. The
/// decrypted bytes go to `*out_plaintext`, the key to answer with to `*out_reply`.
///
/// # Safety
/// `ctx` NULL or live; `key` NULL or live; `body` NULL or readable for `body_len` bytes;
/// `out_plaintext` and `out_reply` NULL or writable. On failure both are empty/NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_onion_open_layer(
    ctx: *mut metaless_context,
    key: *const metaless_node_key,
    body: *const u8,
    body_len: usize,
    out_plaintext: *mut metaless_buffer,
    out_reply: *mut *mut metaless_reply_context,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out_plaintext, out_reply, key, body) = unsafe {
                (
                    BufferOut::new(out_plaintext, "out_plaintext")?,
                    HandleOut::new(out_reply, "out_reply")?,
                    ptr::handle(key, "key")?,
                    ptr::bytes_in(body, body_len, "body")?,
                )
            };
            let (plaintext, inner) = metaless_onion::open_layer(&NodeKey::new(&key.secret), body)?;
            out_plaintext.set(plaintext);
            out_reply.set(metaless_reply_context { inner });
            Ok(())
        })
    })
}

/// The kind of a peeled layer; `METALESS_PEEL_INVALID` for NULL.
///
/// # Safety
/// `peeled` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_peeled_kind(
    peeled: *const metaless_peeled,
) -> metaless_peel_kind {
    ffi_guard(|| {
        // SAFETY: `peeled` is NULL or live (contract).
        match unsafe { ptr::handle_opt(peeled) } {
            None => metaless_peel_kind::METALESS_PEEL_INVALID,
            Some(p) => match p.outcome {
                Outcome::Forward { .. } => metaless_peel_kind::METALESS_PEEL_FORWARD,
                Outcome::Server { .. } => metaless_peel_kind::METALESS_PEEL_SERVER,
                Outcome::Deliver { .. } => metaless_peel_kind::METALESS_PEEL_DELIVER,
                Outcome::Reject { .. } => metaless_peel_kind::METALESS_PEEL_REJECT,
            },
        }
    })
}

/// Copies the layer's bytes into `*out`: the body to forward (`FORWARD`, `SERVER`), the
/// request payload (`DELIVER`), or the error text (`REJECT`).
///
/// # Safety
/// `ctx` NULL or live; `peeled` NULL or live; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_peeled_body(
    ctx: *mut metaless_context,
    peeled: *const metaless_peeled,
    out: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out` NULL or writable; `peeled` NULL or live (contract).
            let (out, p) = unsafe { (BufferOut::new(out, "out")?, ptr::handle(peeled, "peeled")?) };
            let bytes = match &p.outcome {
                Outcome::Forward { body, .. } | Outcome::Server { body, .. } => body.clone(),
                Outcome::Deliver { payload, .. } => payload.clone(),
                Outcome::Reject { body, .. } => body.as_bytes().to_vec(),
            };
            out.set(bytes);
            Ok(())
        })
    })
}

/// Writes the next hop's Ed25519 key (32 bytes) into `out` (`out_len` ≥ 32).
/// `METALESS_RESULT_NOT_AVAILABLE` unless the kind is `FORWARD`.
///
/// # Safety
/// `ctx` NULL or live; `peeled` NULL or live; `out` NULL or writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_peeled_next_hop(
    ctx: *mut metaless_context,
    peeled: *const metaless_peeled,
    out: *mut u8,
    out_len: usize,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `peeled` NULL or live; `out` NULL or writable for `out_len` (contract).
            let (p, dst) = unsafe {
                (
                    ptr::handle(peeled, "peeled")?,
                    ptr::fixed_out(out, out_len, 32, "out")?,
                )
            };
            match &p.outcome {
                Outcome::Forward { next, .. } => {
                    dst.copy_from_slice(next);
                    Ok(())
                }
                _ => Err(FfiError::not_available("next hop")),
            }
        })
    })
}

/// The server a `SERVER` layer goes to: host, target and protocol as text buffers (not
/// NUL-terminated) and the port. `METALESS_RESULT_NOT_AVAILABLE` for other kinds.
///
/// # Safety
/// `ctx` NULL or live; `peeled` NULL or live; every output NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_peeled_server(
    ctx: *mut metaless_context,
    peeled: *const metaless_peeled,
    out_protocol: *mut metaless_buffer,
    out_host: *mut metaless_buffer,
    out_port: *mut u16,
    out_target: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: outputs NULL or writable; `peeled` NULL or live (contract).
            let (out_protocol, out_host, mut out_port, out_target, p) = unsafe {
                (
                    BufferOut::new(out_protocol, "out_protocol")?,
                    BufferOut::new(out_host, "out_host")?,
                    Out::new(out_port, "out_port")?,
                    BufferOut::new(out_target, "out_target")?,
                    ptr::handle(peeled, "peeled")?,
                )
            };
            out_port.set(0);
            let Outcome::Server {
                host,
                target,
                port,
                protocol,
                ..
            } = &p.outcome
            else {
                return Err(FfiError::not_available("server"));
            };
            out_protocol.set(protocol.as_bytes().to_vec());
            out_host.set(host.as_bytes().to_vec());
            out_port.set(*port);
            out_target.set(target.as_bytes().to_vec());
            Ok(())
        })
    })
}

/// The HTTP status a `REJECT` layer is answered with (0 for other kinds or NULL).
///
/// # Safety
/// `peeled` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_peeled_reject_status(peeled: *const metaless_peeled) -> u16 {
    ffi_guard(|| {
        // SAFETY: `peeled` is NULL or live (contract).
        match unsafe { ptr::handle_opt(peeled) } {
            Some(metaless_peeled {
                outcome: Outcome::Reject { status, .. },
            }) => *status,
            _ => 0,
        }
    })
}

/// Moves the reply key of a `DELIVER` or `REJECT` layer out into `*out` (once; afterwards
/// `METALESS_RESULT_NOT_AVAILABLE`, as for other kinds).
///
/// # Safety
/// `ctx` NULL or live; `peeled` NULL or live and not used by another thread during the call;
/// `out` NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_peeled_take_reply(
    ctx: *mut metaless_context,
    peeled: *mut metaless_peeled,
    out: *mut *mut metaless_reply_context,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out` NULL or writable; `peeled` NULL or live and unshared (contract).
            let (out, p) = unsafe {
                (
                    HandleOut::new(out, "out")?,
                    ptr::handle_mut(peeled, "peeled")?,
                )
            };
            let reply = match &mut p.outcome {
                Outcome::Deliver { reply, .. } | Outcome::Reject { reply, .. } => reply.take(),
                _ => None,
            };
            let inner = reply.ok_or_else(|| FfiError::not_available("reply"))?;
            out.set(metaless_reply_context { inner });
            Ok(())
        })
    })
}

/// Frees a peeled layer. NULL is ignored.
///
/// # Safety
/// `peeled` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_peeled_free(peeled: *mut metaless_peeled) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(peeled) })
}

/// The reply key for a request peeled elsewhere: from the node's key, the client's ephemeral
/// public key (32 bytes) and the request's `enc` type.
///
/// # Safety
/// `ctx` NULL or live; `key` NULL or live; `client_ephemeral` NULL or readable for
/// `client_ephemeral_len` bytes; `out` NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_reply_context_new(
    ctx: *mut metaless_context,
    key: *const metaless_node_key,
    client_ephemeral: *const u8,
    client_ephemeral_len: usize,
    enc: u32,
    out: *mut *mut metaless_reply_context,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out, key, eph) = unsafe {
                (
                    HandleOut::new(out, "out")?,
                    ptr::handle(key, "key")?,
                    ptr::key_in(client_ephemeral, client_ephemeral_len, "client_ephemeral")?,
                )
            };
            let inner = ReplyContext::new(&NodeKey::new(&key.secret), &eph, enc_type(enc)?)
                .map_err(|e| FfiError::from(e).context("client_ephemeral"))?;
            out.set(metaless_reply_context { inner });
            Ok(())
        })
    })
}

/// Encrypts the destination's answer `payload` (raw `nonce ‖ ciphertext ‖ tag` in `*out`; a
/// service node sends the base64 text of it).
///
/// # Safety
/// `ctx` NULL or live; `reply` NULL or live; `payload` NULL or readable for `payload_len`
/// bytes; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_reply_context_respond(
    ctx: *mut metaless_context,
    reply: *const metaless_reply_context,
    payload: *const u8,
    payload_len: usize,
    out: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |c| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out, reply, payload) = unsafe {
                (
                    BufferOut::new(out, "out")?,
                    ptr::handle(reply, "reply")?,
                    ptr::bytes_in(payload, payload_len, "payload")?,
                )
            };
            out.set(reply.inner.encrypt_response(payload, c.rng())?);
            Ok(())
        })
    })
}

/// Encrypts a service node's error answer `{"body": <body>, "status": <status>}` (what a node
/// sends for a `REJECT` layer), `body` being UTF-8 text.
///
/// # Safety
/// As `metaless_reply_context_respond`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_reply_context_respond_error(
    ctx: *mut metaless_context,
    reply: *const metaless_reply_context,
    status: u16,
    body: *const c_char,
    body_len: usize,
    out: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |c| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out, reply, body) = unsafe {
                (
                    BufferOut::new(out, "out")?,
                    ptr::handle(reply, "reply")?,
                    ptr::str_in(body, body_len, "body")?,
                )
            };
            out.set(reply.inner.encrypt_snode_reply(status, body, c.rng())?);
            Ok(())
        })
    })
}

/// Frees a reply key (wiping it). NULL is ignored.
///
/// # Safety
/// `reply` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_reply_context_free(reply: *mut metaless_reply_context) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(reply) })
}

impl crate::guard::OnPanic for metaless_peel_kind {
    fn on_panic() -> Self {
        Self::METALESS_PEEL_INVALID
    }
}
