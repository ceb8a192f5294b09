//! The node side of onion requests: a node's key, peeling one layer, and the destination's
//! encrypted answer.

use std::ffi::c_char;

use metaless_identity::X25519Secret;
use metaless_onion::{NodeKey, Peeled, ReplyContext};

use crate::buffer::metaless_buffer;
use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::ptr::{self, BufferOut, HandleOut, Out};
use crate::result::{FfiError, metaless_result};

use super::enc_type;

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
