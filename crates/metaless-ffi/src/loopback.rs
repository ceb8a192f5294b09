//! Feature `loopback`: metaless-testnet's in-process network behind a handle, so a host can
//! test its I/O loop — the same calls it makes with real sockets — without any. Each POST runs
//! the whole onion path and swarm replication synchronously in virtual time. Not for production
//! builds (it carries the node core: a test network).
//!
//! A full round trip, the way a C host drives it:
//!
//! ```
//! use metaless_ffi::*;
//! use std::ptr::null_mut;
//!
//! unsafe fn pump(ctx: *mut metaless_context, net: *mut metaless_loopback, c: *mut metaless_client) -> Vec<*mut metaless_event> {
//!     let mut events = Vec::new();
//!     loop {
//!         let mut t = null_mut();
//!         metaless_client_poll_transmit(ctx, c, &mut t);
//!         if t.is_null() { break; }
//!         let mut node = [0u8; 32];
//!         metaless_transmit_node(ctx, t, node.as_mut_ptr(), 32);
//!         let path = std::ffi::CStr::from_ptr(metaless_transmit_path(t)).to_bytes();
//!         let mut len = 0;
//!         let body = metaless_transmit_body(t, &mut len);
//!         let (mut status, mut answer) = (0u16, metaless_buffer { data: null_mut(), len: 0 });
//!         let r = metaless_loopback_post(ctx, net, node.as_ptr(), 32, path.as_ptr().cast(), path.len(), body, len, &mut status, &mut answer);
//!         let now = metaless_loopback_now_ms(net);
//!         if r == metaless_result::METALESS_RESULT_OK {
//!             metaless_client_handle_response(ctx, c, now, metaless_transmit_id(t), status, answer.data, answer.len);
//!         } else {
//!             metaless_client_handle_transport_error(ctx, c, now, metaless_transmit_id(t), METALESS_TRANSPORT_TIMEOUT);
//!         }
//!         metaless_buffer_free(&mut answer);
//!         metaless_transmit_free(t);
//!     }
//!     loop {
//!         let mut e = null_mut();
//!         metaless_client_poll_event(ctx, c, &mut e);
//!         if e.is_null() { break; }
//!         events.push(e);
//!     }
//!     events
//! }
//!
//! unsafe {
//!     let ctx = metaless_context_new_seeded([3u8; 32].as_ptr(), 32);
//!     let mut net = null_mut();
//!     assert_eq!(metaless_loopback_new(ctx, 8, 2, 1, &mut net), metaless_result::METALESS_RESULT_OK);
//!     let mut nodes = [std::mem::zeroed::<metaless_service_node>(); 8];
//!     let mut n = 0;
//!     metaless_loopback_service_nodes(ctx, net, nodes.as_mut_ptr(), nodes.len(), &mut n);
//!     assert_eq!(n, 8);
//!
//!     let (mut alice_id, mut bob_id) = (null_mut(), null_mut());
//!     metaless_identity_from_seed(ctx, [1u8; 32].as_ptr(), 32, &mut alice_id);
//!     metaless_identity_from_seed(ctx, [2u8; 32].as_ptr(), 32, &mut bob_id);
//!     let now = metaless_loopback_now_ms(net);
//!     let (mut alice, mut bob) = (null_mut(), null_mut());
//!     metaless_client_new_testnet(ctx, alice_id, nodes.as_ptr(), n, now, &mut alice);
//!     metaless_client_new_testnet(ctx, bob_id, nodes.as_ptr(), n, now, &mut bob);
//!
//!     let mut to = [0 as std::ffi::c_char; METALESS_SESSION_ID_STR_LEN];
//!     metaless_client_session_id(ctx, bob, to.as_mut_ptr(), to.len());
//!     let mut id = 0;
//!     assert_eq!(metaless_client_send_text(ctx, alice, now, to.as_ptr(), METALESS_SESSION_ID_HEX_LEN,
//!         b"hello".as_ptr().cast(), 5, METALESS_DISAPPEAR_OFF, 0, &mut id), metaless_result::METALESS_RESULT_OK);
//!
//!     let (mut delivered, mut received) = (false, false);
//!     for _ in 0..200 {
//!         for (c, mine) in [(alice, true), (bob, false)] {
//!             for e in pump(ctx, net, c) {
//!                 match metaless_event_get_kind(e) {
//!                     metaless_event_kind::METALESS_EVENT_DELIVERED if mine => delivered |= metaless_event_id(e) == id,
//!                     metaless_event_kind::METALESS_EVENT_RECEIVED if !mine => {
//!                         let mut info = std::mem::zeroed::<metaless_message_info>();
//!                         let mut text = metaless_buffer { data: null_mut(), len: 0 };
//!                         metaless_event_message(ctx, e, &mut info, &mut text);
//!                         received |= std::slice::from_raw_parts(text.data, text.len) == b"hello";
//!                         metaless_buffer_free(&mut text);
//!                     }
//!                     _ => {}
//!                 }
//!                 metaless_event_free(e);
//!             }
//!         }
//!         if delivered && received { break; }
//!         // Move virtual time to the earliest timer of either client.
//!         let mut next = u64::MAX;
//!         for c in [alice, bob] {
//!             let (mut at, mut has) = (0u64, false);
//!             metaless_client_poll_timeout(ctx, c, &mut at, &mut has);
//!             if has { next = next.min(at); }
//!         }
//!         let now = next.max(metaless_loopback_now_ms(net) + 1);
//!         metaless_loopback_set_time(ctx, net, now);
//!         for c in [alice, bob] { metaless_client_handle_timeout(ctx, c, now); }
//!     }
//!     assert!(delivered && received);
//!
//!     metaless_client_free(alice);
//!     metaless_client_free(bob);
//!     metaless_identity_free(alice_id);
//!     metaless_identity_free(bob_id);
//!     metaless_loopback_free(net);
//!     metaless_context_free(ctx);
//! }
//! ```

use std::ffi::c_char;

use metaless_testnet::{LoopbackConfig, LoopbackError, LoopbackNet};

use crate::buffer::metaless_buffer;
use crate::client::metaless_service_node;
use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::ptr::{self, BufferOut, HandleOut, Out};
use crate::result::{FfiError, metaless_result};

/// Most nodes a loopback network may have (each is a full node core with its own database).
pub const METALESS_LOOPBACK_MAX_NODES: usize = 256;

/// An in-process network of service nodes in virtual time. Opaque.
///
/// Threads: one thread at a time (it may move between threads).
pub struct metaless_loopback {
    net: LoopbackNet,
}

/// A network of `nodes` nodes (1 to `METALESS_LOOPBACK_MAX_NODES`) in `swarms` swarms (1 to
/// `nodes`), every key and random choice following from `seed`. Virtual time starts at
/// 1 700 000 000 000 ms.
///
/// # Safety
/// `ctx` NULL or live; `out` NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_loopback_new(
    ctx: *mut metaless_context,
    nodes: usize,
    swarms: usize,
    seed: u64,
    out: *mut *mut metaless_loopback,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out` NULL or writable (contract).
            let out = unsafe { HandleOut::new(out, "out") }?;
            if nodes == 0 || nodes > METALESS_LOOPBACK_MAX_NODES {
                return Err(FfiError::argument("nodes", "must be 1 to 256"));
            }
            if swarms == 0 || swarms > nodes {
                return Err(FfiError::argument("swarms", "must be 1 to nodes"));
            }
            let net = LoopbackNet::new(LoopbackConfig {
                nodes,
                swarms,
                seed,
                ..LoopbackConfig::default()
            })
            .map_err(|e| FfiError::new(metaless_result::METALESS_RESULT_FAILED, e.to_string()))?;
            out.set(metaless_loopback { net });
            Ok(())
        })
    })
}

/// Frees the network. NULL is ignored.
///
/// # Safety
/// `net` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_loopback_free(net: *mut metaless_loopback) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(net) })
}

/// Virtual time now (ms since the epoch; 0 for NULL).
///
/// # Safety
/// `net` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_loopback_now_ms(net: *const metaless_loopback) -> u64 {
    ffi_guard(|| {
        // SAFETY: `net` is NULL or live (contract).
        unsafe { ptr::handle_opt(net) }.map_or(0, |n| n.net.now_ms())
    })
}

/// Moves virtual time to `now_ms` (never backwards).
///
/// # Safety
/// `ctx` NULL or live; `net` NULL or live and unshared.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_loopback_set_time(
    ctx: *mut metaless_context,
    net: *mut metaless_loopback,
    now_ms: u64,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `net` NULL or live and unshared (contract).
            let net = unsafe { ptr::handle_mut(net, "net") }?;
            if now_ms > net.net.now_ms() {
                net.net.set_time(now_ms);
            }
            Ok(())
        })
    })
}

/// Writes the network's nodes (for `metaless_client_new_testnet`) into `out`, which has room
/// for `out_cap`, and their number to `*out_len`. `METALESS_RESULT_INVALID_LENGTH` if they do
/// not fit (`*out_len` still says how many there are).
///
/// # Safety
/// `ctx` NULL or live; `net` NULL or live; `out` NULL or writable for `out_cap` entries;
/// `out_len` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_loopback_service_nodes(
    ctx: *mut metaless_context,
    net: *const metaless_loopback,
    out: *mut metaless_service_node,
    out_cap: usize,
    out_len: *mut usize,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `out_len` NULL or writable; `net` NULL or live (contract).
            let (mut out_len, net) =
                unsafe { (Out::new(out_len, "out_len")?, ptr::handle(net, "net")?) };
            let nodes = metaless_testnet::service_nodes(&net.net);
            out_len.set(nodes.len());
            if out_cap < nodes.len() {
                return Err(FfiError::new(
                    metaless_result::METALESS_RESULT_INVALID_LENGTH,
                    format!("out: room for {out_cap} nodes, {} needed", nodes.len()),
                ));
            }
            if out.is_null() {
                return Err(FfiError::null("out"));
            }
            for (i, n) in nodes.iter().enumerate() {
                let entry = metaless_service_node {
                    ed25519: n.ed25519,
                    ipv4: n.ip,
                    port: n.storage_port,
                    swarm_id: n.swarm_id,
                };
                // SAFETY: `out` is non-NULL and writable for `out_cap` ≥ `nodes.len()` > `i`
                // entries (contract); `write` needs no initialised target.
                unsafe { out.add(i).write(entry) };
            }
            Ok(())
        })
    })
}

/// POSTs `body` to `path` (`/onion_req/v2`, `/storage_rpc/v1`, …) on the node with Ed25519
/// key `node` (32 bytes), as a host's HTTP stack would: the status to `*out_status`, the
/// answer to `*out_body`. A lost request is `METALESS_RESULT_TRANSPORT_TIMEOUT`; an unknown or
/// stopped node `METALESS_RESULT_TRANSPORT_UNREACHABLE`.
///
/// # Safety
/// `ctx` NULL or live; `net` NULL or live and unshared; `node`, `path` and `body` NULL or
/// readable for their lengths; `out_status` and `out_body` NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn metaless_loopback_post(
    ctx: *mut metaless_context,
    net: *mut metaless_loopback,
    node: *const u8,
    node_len: usize,
    path: *const c_char,
    path_len: usize,
    body: *const u8,
    body_len: usize,
    out_status: *mut u16,
    out_body: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths; `net` unshared (contract).
            let (out_body, mut out_status, net, node, path, body) = unsafe {
                (
                    BufferOut::new(out_body, "out_body")?,
                    Out::new(out_status, "out_status")?,
                    ptr::handle_mut(net, "net")?,
                    ptr::key_in(node, node_len, "node")?,
                    ptr::str_in(path, path_len, "path")?,
                    ptr::bytes_in(body, body_len, "body")?,
                )
            };
            out_status.set(0);
            match net.net.post(&node, path, body) {
                Ok((status, answer)) => {
                    out_status.set(status);
                    out_body.set(answer);
                    Ok(())
                }
                Err(LoopbackError::Timeout) => Err(FfiError::new(
                    metaless_result::METALESS_RESULT_TRANSPORT_TIMEOUT,
                    "post: request lost",
                )),
                Err(e) => Err(FfiError::new(
                    metaless_result::METALESS_RESULT_TRANSPORT_UNREACHABLE,
                    format!("post: {e}"),
                )),
            }
        })
    })
}
