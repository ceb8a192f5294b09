//! The host's I/O loop: the requests the client wants POSTed, their answers or transport
//! failures, and the timer.

use std::ffi::{CString, c_char};

use ::metaless_client::{HttpResponse, RequestId, Transmit, TransportError};

use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::ptr::{self, HandleOut, Out};
use crate::result::{FfiError, metaless_result};

use super::metaless_client;

/// Transport failure: connection refused, reset, DNS or TLS failure.
pub const METALESS_TRANSPORT_CONNECT: u32 = 1;
/// Transport failure: no answer before the deadline.
pub const METALESS_TRANSPORT_TIMEOUT: u32 = 2;
/// Transport failure: the answer was larger than the transport accepts.
pub const METALESS_TRANSPORT_TOO_LARGE: u32 = 3;

/// One request the client wants POSTed. Owned by the caller; its accessors return pointers
/// into it, valid until `metaless_transmit_free`. Threads: any, concurrently (immutable).
pub struct metaless_transmit {
    inner: Transmit,
    url: CString,
    path: CString,
}

/// Moves the next request the client wants sent into `*out`, or sets `*out` to NULL when there
/// is none (still `METALESS_RESULT_OK`).
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live and unshared; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_poll_transmit(
    ctx: *mut metaless_context,
    client: *mut metaless_client,
    out: *mut *mut metaless_transmit,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out` NULL or writable; `client` NULL or live and unshared (contract).
            let (out, client) = unsafe {
                (
                    HandleOut::new(out, "out")?,
                    ptr::handle_mut(client, "client")?,
                )
            };
            if let Some(inner) = client.inner.poll_transmit() {
                // URLs and paths are built by the client from node addresses: no NUL inside.
                let url = CString::new(inner.url()).unwrap_or_default();
                let path = CString::new(inner.to_node.path).unwrap_or_default();
                out.set(metaless_transmit { inner, url, path });
            }
            Ok(())
        })
    })
}

/// The request's id, to pass back with its answer (0 for NULL).
///
/// # Safety
/// `transmit` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_transmit_id(transmit: *const metaless_transmit) -> u64 {
    ffi_guard(|| {
        // SAFETY: `transmit` is NULL or live (contract).
        unsafe { ptr::handle_opt(transmit) }.map_or(0, |t| t.inner.id.get())
    })
}

/// The host's time (ms) after which the client counts the request as timed out.
///
/// # Safety
/// `transmit` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_transmit_deadline_ms(transmit: *const metaless_transmit) -> u64 {
    ffi_guard(|| {
        // SAFETY: `transmit` is NULL or live (contract).
        unsafe { ptr::handle_opt(transmit) }.map_or(0, |t| t.inner.deadline_ms)
    })
}

/// The full URL to POST to (`scheme://host:port/path`), NUL-terminated, owned by the transmit.
/// NULL for NULL.
///
/// # Safety
/// `transmit` is NULL or live; the result is valid until it is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_transmit_url(
    transmit: *const metaless_transmit,
) -> *const c_char {
    ffi_guard(|| {
        // SAFETY: `transmit` is NULL or live (contract).
        unsafe { ptr::handle_opt(transmit) }.map_or(std::ptr::null(), |t| t.url.as_ptr())
    })
}

/// The endpoint path alone (`/onion_req/v2`, `/storage_rpc/v1` or `/json_rpc`),
/// NUL-terminated, owned by the transmit. NULL for NULL.
///
/// # Safety
/// `transmit` is NULL or live; the result is valid until it is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_transmit_path(
    transmit: *const metaless_transmit,
) -> *const c_char {
    ffi_guard(|| {
        // SAFETY: `transmit` is NULL or live (contract).
        unsafe { ptr::handle_opt(transmit) }.map_or(std::ptr::null(), |t| t.path.as_ptr())
    })
}

/// The exact bytes to POST: returns a pointer owned by the transmit (valid until it is freed)
/// and writes their number to `*out_len`. NULL (and 0) for NULL or an empty body.
///
/// # Safety
/// `transmit` is NULL or live; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_transmit_body(
    transmit: *const metaless_transmit,
    out_len: *mut usize,
) -> *const u8 {
    ffi_guard(|| {
        // SAFETY: `transmit` NULL or live; `out_len` NULL or writable (contract).
        let (t, len) = unsafe { (ptr::handle_opt(transmit), Out::new(out_len, "out_len")) };
        let body = t.map_or(&[][..], |t| &t.inner.body[..]);
        if let Ok(mut len) = len {
            len.set(body.len());
        }
        if body.is_empty() {
            std::ptr::null()
        } else {
            body.as_ptr()
        }
    })
}

/// Writes the target node's Ed25519 key (32 bytes) into `out` (`out_len` ≥ 32);
/// `METALESS_RESULT_NOT_AVAILABLE` when the target is a seed URL rather than a node.
///
/// # Safety
/// `ctx` NULL or live; `transmit` NULL or live; `out` NULL or writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_transmit_node(
    ctx: *mut metaless_context,
    transmit: *const metaless_transmit,
    out: *mut u8,
    out_len: usize,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `transmit` NULL or live; `out` NULL or writable for `out_len` (contract).
            let (t, dst) = unsafe {
                (
                    ptr::handle(transmit, "transmit")?,
                    ptr::fixed_out(out, out_len, 32, "out")?,
                )
            };
            let node = t
                .inner
                .to_node
                .node
                .ok_or_else(|| FfiError::not_available("node"))?;
            dst.copy_from_slice(node.as_bytes());
            Ok(())
        })
    })
}

/// Frees a transmit. NULL is ignored.
///
/// # Safety
/// `transmit` is NULL or live, and not used afterwards (nor pointers obtained from it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_transmit_free(transmit: *mut metaless_transmit) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(transmit) })
}

/// The HTTP answer (`status`, `body`) to the request with id `request_id`, received at
/// `now_ms`. Answers to unknown or timed-out requests are ignored.
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live and unshared; `body` NULL or readable for
/// `body_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_handle_response(
    ctx: *mut metaless_context,
    client: *mut metaless_client,
    now_ms: u64,
    request_id: u64,
    status: u16,
    body: *const u8,
    body_len: usize,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `client` NULL or live and unshared; `body` NULL or readable (contract).
            let (client, body) = unsafe {
                (
                    ptr::handle_mut(client, "client")?,
                    ptr::bytes_in(body, body_len, "body")?,
                )
            };
            let answer = HttpResponse {
                status,
                body: body.to_vec(),
            };
            client
                .inner
                .handle_response(now_ms, RequestId::from(request_id), Ok(answer));
            Ok(())
        })
    })
}

/// The request with id `request_id` got no HTTP answer: `kind` is a `METALESS_TRANSPORT_*`
/// value.
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live and unshared.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_handle_transport_error(
    ctx: *mut metaless_context,
    client: *mut metaless_client,
    now_ms: u64,
    request_id: u64,
    kind: u32,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `client` NULL or live and unshared (contract).
            let client = unsafe { ptr::handle_mut(client, "client") }?;
            let error = match kind {
                METALESS_TRANSPORT_CONNECT => TransportError::Connect,
                METALESS_TRANSPORT_TIMEOUT => TransportError::Timeout,
                METALESS_TRANSPORT_TOO_LARGE => TransportError::TooLarge,
                _ => {
                    return Err(FfiError::argument(
                        "kind",
                        "not a METALESS_TRANSPORT_* value",
                    ));
                }
            };
            client
                .inner
                .handle_response(now_ms, RequestId::from(request_id), Err(error));
            Ok(())
        })
    })
}

/// When `metaless_client_handle_timeout` next wants calling (host ms): sets `*out_has` and,
/// if true, `*out_ms`.
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live; `out_ms` and `out_has` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_poll_timeout(
    ctx: *mut metaless_context,
    client: *const metaless_client,
    out_ms: *mut u64,
    out_has: *mut bool,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: outputs NULL or writable; `client` NULL or live (contract).
            let (mut out_ms, mut out_has, client) = unsafe {
                (
                    Out::new(out_ms, "out_ms")?,
                    Out::new(out_has, "out_has")?,
                    ptr::handle(client, "client")?,
                )
            };
            let next = client.inner.poll_timeout();
            out_ms.set(next.unwrap_or(0));
            out_has.set(next.is_some());
            Ok(())
        })
    })
}

/// Time has reached `now_ms` (host clock): requests past their deadline fail, due retries and
/// polls start.
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live and unshared.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_handle_timeout(
    ctx: *mut metaless_context,
    client: *mut metaless_client,
    now_ms: u64,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `client` NULL or live and unshared (contract).
            let client = unsafe { ptr::handle_mut(client, "client") }?;
            client.inner.handle_timeout(now_ms);
            Ok(())
        })
    })
}
