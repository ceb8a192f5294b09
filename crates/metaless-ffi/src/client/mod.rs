//! The sans-IO client: the host owns the sockets and the clock. It creates a client, then
//! loops: POST every `metaless_client_poll_transmit` request and hand the answer to
//! `metaless_client_handle_response` (or a failure to `metaless_client_handle_transport_error`),
//! read `metaless_client_poll_event`, and call `metaless_client_handle_timeout` when
//! `metaless_client_poll_timeout` says.
//!
//! ```
//! use metaless_ffi::*;
//! unsafe {
//!     let ctx = metaless_context_new();
//!     let mut me = std::ptr::null_mut();
//!     metaless_identity_from_seed(ctx, [1u8; 32].as_ptr(), 32, &mut me);
//!     // No nodes known: a client with an empty node list waits for a node list.
//!     let mut client = std::ptr::null_mut();
//!     let r = metaless_client_new_testnet(ctx, me, std::ptr::null(), 0, 1_700_000_000_000, &mut client);
//!     assert_eq!(r, metaless_result::METALESS_RESULT_OK);
//!     let bob = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
//!     let mut id = 0u64;
//!     let r = metaless_client_send_text(ctx, client, 1_700_000_000_000, bob.as_ptr().cast(), bob.len(),
//!         b"hi".as_ptr().cast(), 2, METALESS_DISAPPEAR_OFF, 0, &mut id);
//!     assert_eq!(r, metaless_result::METALESS_RESULT_OK);
//!     assert!(id > 0);
//!     assert_eq!(metaless_client_pending_sends(client), 1);
//!     metaless_client_free(client);
//!     metaless_identity_free(me);
//!     metaless_context_free(ctx);
//! }
//! ```

use std::ffi::c_char;

use ::metaless_client::{Bootstrap, Client, ClientError, Config};
use metaless_swarm::{MessageHash, ServiceNode};

use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::identity::metaless_identity;
use crate::msg::{session_id, text_content};
use crate::ptr::{self, HandleOut, Out};
use crate::result::{FfiError, metaless_result};

/// A service node the client may start from.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct metaless_service_node {
    /// Ed25519 public key.
    pub ed25519: [u8; 32],
    /// IPv4 address, most significant byte first.
    pub ipv4: [u8; 4],
    /// Storage (HTTP/HTTPS) port.
    pub port: u16,
    /// The swarm the node serves.
    pub swarm_id: u64,
}

/// A client: one account's sending, receiving, paths and retries. Opaque.
///
/// Threads: one thread at a time (it may move between threads).
pub struct metaless_client {
    inner: Client,
}

/// Makes a client for `identity` with `config`, seeding its generator from the context.
///
/// # Safety
/// `ctx` NULL or live; `identity` NULL or live; `out` NULL or writable.
unsafe fn new_client(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    config: Result<Config, FfiError>,
    now_ms: u64,
    out: *mut *mut metaless_client,
) -> metaless_result {
    // SAFETY: `ctx` is NULL or a live context (this function's contract).
    let ctx = unsafe { ctx.as_mut() };
    run(ctx, |c| {
        // SAFETY: `out` NULL or writable; `identity` NULL or live (this function's contract).
        let (out, id) = unsafe {
            (
                HandleOut::new(out, "out")?,
                ptr::handle(identity, "identity")?,
            )
        };
        let config = config?;
        let mut rng_seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(c.rng(), &mut rng_seed);
        let inner = Client::new(id.keypair(), config, rng_seed, now_ms);
        zeroize::Zeroize::zeroize(&mut rng_seed);
        out.set(metaless_client { inner });
        Ok(())
    })
}

fn service_nodes(nodes: &[metaless_service_node]) -> Result<Vec<ServiceNode>, FfiError> {
    nodes
        .iter()
        .map(|n| {
            ServiceNode::new(n.ed25519, n.ipv4, n.port, n.swarm_id)
                .map_err(|e| FfiError::from(e).context("nodes"))
        })
        .collect()
}

/// A client for a local test network (plain HTTP, fast retries) starting from `nodes`
/// (`nodes_len` of them; none is allowed, but then nothing can be sent). `now_ms` is the
/// host's clock.
///
/// # Safety
/// `ctx` NULL or live; `identity` NULL or live; `nodes` NULL or readable for `nodes_len`
/// entries; `out` NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_new_testnet(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    nodes: *const metaless_service_node,
    nodes_len: usize,
    now_ms: u64,
    out: *mut *mut metaless_client,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `nodes` NULL or readable for `nodes_len` entries (contract).
        let nodes = unsafe { ptr::array_in(nodes, nodes_len, "nodes") };
        let config = nodes
            .and_then(service_nodes)
            .map(|n| Config::testnet(Bootstrap::Nodes(n)));
        // SAFETY: the remaining pointers are `new_client`'s contract, which this one includes.
        unsafe { new_client(ctx, identity, config, now_ms, out) }
    })
}

/// A client for a local test network read from its `bootstrap.json` (the bytes of the file
/// `metaless testnet up` writes).
///
/// # Safety
/// `ctx` NULL or live; `identity` NULL or live; `file` NULL or readable for `file_len` bytes;
/// `out` NULL or writable. On failure `*out` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_new_testnet_file(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    file: *const u8,
    file_len: usize,
    now_ms: u64,
    out: *mut *mut metaless_client,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `file` NULL or readable for `file_len` bytes (contract).
        let file = unsafe { ptr::bytes_in(file, file_len, "file") };
        let config = file.and_then(|bytes| {
            Bootstrap::from_testnet_file(bytes)
                .map(Config::testnet)
                .map_err(FfiError::from)
        });
        // SAFETY: the remaining pointers are `new_client`'s contract, which this one includes.
        unsafe { new_client(ctx, identity, config, now_ms, out) }
    })
}

/// A client for the live Session network (HTTPS, the network's seed nodes).
///
/// # Safety
/// `ctx` NULL or live; `identity` NULL or live; `out` NULL or writable. On failure `*out` is
/// NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_new_mainnet(
    ctx: *mut metaless_context,
    identity: *const metaless_identity,
    now_ms: u64,
    out: *mut *mut metaless_client,
) -> metaless_result {
    // SAFETY: this export's contract is `new_client`'s.
    ffi_guard(|| unsafe { new_client(ctx, identity, Ok(Config::mainnet()), now_ms, out) })
}

/// Frees a client (unsent messages are dropped with it). NULL is ignored.
///
/// # Safety
/// `client` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_free(client: *mut metaless_client) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(client) })
}

/// Writes the client's Session ID and a NUL into `out` (`out_len` ≥ 67).
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live; `out` NULL or writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_session_id(
    ctx: *mut metaless_context,
    client: *const metaless_client,
    out: *mut c_char,
    out_len: usize,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: `client` NULL or live (contract).
            let client = unsafe { ptr::handle(client, "client") }?;
            let text = client.inner.session_id().to_string();
            // SAFETY: `out` NULL or writable for `out_len` bytes (contract).
            unsafe { ptr::text_out(out, out_len, &text, "out") }
        })
    })
}

/// Seals a text message for `to` (Session ID text) and queues it; `*out_id` (never 0) is what
/// the `DELIVERED` or `FAILED` event for it will carry. `disappear_mode`/`timer_s` as in
/// `metaless_msg_seal`.
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live and not used by another thread; `to` and `text`
/// NULL or readable for their lengths; `out_id` NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn metaless_client_send_text(
    ctx: *mut metaless_context,
    client: *mut metaless_client,
    now_ms: u64,
    to: *const c_char,
    to_len: usize,
    text: *const c_char,
    text_len: usize,
    disappear_mode: u32,
    timer_s: u32,
    out_id: *mut u64,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths; `client` unshared (contract).
            let (mut out_id, client, to, text) = unsafe {
                (
                    Out::new(out_id, "out_id")?,
                    ptr::handle_mut(client, "client")?,
                    ptr::str_in(to, to_len, "to")?,
                    ptr::str_in(text, text_len, "text")?,
                )
            };
            out_id.set(0);
            let to = session_id(to, "to")?;
            let content = text_content(text, disappear_mode, timer_s)?;
            let id = client.inner.send(now_ms, &to, &content)?;
            out_id.set(id.get());
            Ok(())
        })
    })
}

/// Marks a received message (by its hash) read. For a disappear-after-read message this
/// shortens its expiry in the own swarm; `*out_id` is then the id the `DONE` event will carry,
/// or 0 when nothing needed changing.
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live and unshared; `hash` NULL or readable for
/// `hash_len` bytes; `out_id` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_mark_read(
    ctx: *mut metaless_context,
    client: *mut metaless_client,
    now_ms: u64,
    hash: *const c_char,
    hash_len: usize,
    out_id: *mut u64,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths; `client` unshared (contract).
            let (mut out_id, client, hash) = unsafe {
                (
                    Out::new(out_id, "out_id")?,
                    ptr::handle_mut(client, "client")?,
                    ptr::str_in(hash, hash_len, "hash")?,
                )
            };
            out_id.set(0);
            // Text that is no storage hash names no received message.
            let hash = MessageHash::parse(hash).map_err(|_| ClientError::UnknownMessage)?;
            let id = client.inner.mark_read(now_ms, &hash)?;
            out_id.set(id.map_or(0, |i| i.get()));
            Ok(())
        })
    })
}

/// Polls the own swarm now rather than at the next interval.
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live and unshared.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_poll_now(
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
            client.inner.poll_now(now_ms);
            Ok(())
        })
    })
}

/// Messages sent but not yet stored by the recipient's swarm (0 for NULL).
///
/// # Safety
/// `client` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_pending_sends(client: *const metaless_client) -> usize {
    ffi_guard(|| {
        // SAFETY: `client` is NULL or live (contract).
        unsafe { ptr::handle_opt(client) }.map_or(0, |c| c.inner.pending_sends())
    })
}

mod event;
mod io;

pub use event::*;
pub use io::*;
