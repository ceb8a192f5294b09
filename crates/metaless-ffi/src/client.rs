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

use std::ffi::{CString, c_char};

use ::metaless_client::{
    Bootstrap, Client, Config, Event, FailureKind, HttpResponse, RequestId, Transmit,
    TransportError,
};
use metaless_swarm::ServiceNode;

use crate::buffer::metaless_buffer;
use crate::context::{metaless_context, run};
use crate::guard::{OnPanic, ffi_guard};
use crate::identity::metaless_identity;
use crate::msg::{metaless_message_info, session_id, text_content};
use crate::ptr::{self, BufferOut, HandleOut, Out};
use crate::result::{FfiError, metaless_result};

/// Transport failure: connection refused, reset, DNS or TLS failure.
pub const METALESS_TRANSPORT_CONNECT: u32 = 1;
/// Transport failure: no answer before the deadline.
pub const METALESS_TRANSPORT_TIMEOUT: u32 = 2;
/// Transport failure: the answer was larger than the transport accepts.
pub const METALESS_TRANSPORT_TOO_LARGE: u32 = 3;

/// Why an operation failed (`METALESS_EVENT_FAILED`): its TTL ran out.
pub const METALESS_FAILURE_EXPIRED: u32 = 1;
/// Why an operation failed: a node refused it (`metaless_event_failure_status` has the status).
pub const METALESS_FAILURE_REJECTED: u32 = 2;
/// Why an operation failed: no node could be reached.
pub const METALESS_FAILURE_UNREACHABLE: u32 = 3;
/// Why an operation failed: no node list could be had.
pub const METALESS_FAILURE_NO_NODES: u32 = 4;
/// Why an operation failed: the clocks disagree beyond repair.
pub const METALESS_FAILURE_CLOCK: u32 = 5;
/// Why an operation failed: a reason this library version does not name.
pub const METALESS_FAILURE_OTHER: u32 = 6;

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

/// One request the client wants POSTed. Owned by the caller; its accessors return pointers
/// into it, valid until `metaless_transmit_free`. Threads: any, concurrently (immutable).
pub struct metaless_transmit {
    inner: Transmit,
    url: CString,
    path: CString,
}

/// Something the client reports. Owned by the caller; accessors return pointers into it,
/// valid until `metaless_event_free`. Threads: any, concurrently (immutable).
pub struct metaless_event {
    inner: Event,
    hash: Option<CString>,
}

/// The kind of an event.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum metaless_event_kind {
    /// NULL handle.
    METALESS_EVENT_INVALID = 0,
    /// A swarm member of the recipient stored a message: `metaless_event_id` (what send
    /// returned) and `metaless_event_hash`.
    METALESS_EVENT_DELIVERED = 1,
    /// A message arrived: `metaless_event_message`, `metaless_event_hash`,
    /// `metaless_event_expiry_ms`.
    METALESS_EVENT_RECEIVED = 2,
    /// An expiry change (mark read) completed: `metaless_event_id`.
    METALESS_EVENT_DONE = 3,
    /// An operation failed: `metaless_event_id`, `metaless_event_failure_kind`,
    /// `metaless_event_failure_status`.
    METALESS_EVENT_FAILED = 4,
    /// A node moved an account to another swarm: `metaless_event_swarm_id`.
    METALESS_EVENT_SWARM_CHANGED = 5,
    /// A new onion path is in use.
    METALESS_EVENT_PATH_REBUILT = 6,
    /// A sender deleted a message it had sent: `metaless_event_hash`.
    METALESS_EVENT_UNSENT = 7,
    /// The node list was fetched: `metaless_event_count`.
    METALESS_EVENT_NODES_UPDATED = 8,
    /// No node list could be fetched; operations wait.
    METALESS_EVENT_NO_NODES = 9,
    /// An event this library version does not name.
    METALESS_EVENT_OTHER = 10,
}

impl OnPanic for metaless_event_kind {
    fn on_panic() -> Self {
        Self::METALESS_EVENT_INVALID
    }
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
            let id = client.inner.mark_read(now_ms, hash)?;
            out_id.set(id.map_or(0, |i| i.get()));
            Ok(())
        })
    })
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
            dst.copy_from_slice(&node);
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

/// Moves the next event into `*out`, or sets `*out` to NULL when there is none (still
/// `METALESS_RESULT_OK`).
///
/// # Safety
/// `ctx` NULL or live; `client` NULL or live and unshared; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_client_poll_event(
    ctx: *mut metaless_context,
    client: *mut metaless_client,
    out: *mut *mut metaless_event,
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
            if let Some(inner) = client.inner.poll_event() {
                let hash = match &inner {
                    Event::Delivered { hash, .. } | Event::Unsent { hash } => Some(hash.as_str()),
                    Event::Received(incoming) => Some(incoming.hash.as_str()),
                    _ => None,
                };
                // Storage hashes are base64 text: no NUL inside.
                let hash = hash.and_then(|h| CString::new(h).ok());
                out.set(metaless_event { inner, hash });
            }
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

/// Borrows an event for the accessors below.
///
/// # Safety
/// `event` is NULL or live.
unsafe fn event<'a>(event: *const metaless_event) -> Option<&'a metaless_event> {
    // SAFETY: this function's contract.
    unsafe { ptr::handle_opt(event) }
}

/// The kind of an event; `METALESS_EVENT_INVALID` for NULL.
///
/// # Safety
/// `event` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_get_kind(
    event: *const metaless_event,
) -> metaless_event_kind {
    ffi_guard(|| {
        use metaless_event_kind::*;
        // SAFETY: `event` is NULL or live (contract).
        match unsafe { self::event(event) }.map(|e| &e.inner) {
            None => METALESS_EVENT_INVALID,
            Some(Event::Delivered { .. }) => METALESS_EVENT_DELIVERED,
            Some(Event::Received(_)) => METALESS_EVENT_RECEIVED,
            Some(Event::Done { .. }) => METALESS_EVENT_DONE,
            Some(Event::Failed { .. }) => METALESS_EVENT_FAILED,
            Some(Event::SwarmChanged { .. }) => METALESS_EVENT_SWARM_CHANGED,
            Some(Event::PathRebuilt { .. }) => METALESS_EVENT_PATH_REBUILT,
            Some(Event::Unsent { .. }) => METALESS_EVENT_UNSENT,
            Some(Event::NodesUpdated { .. }) => METALESS_EVENT_NODES_UPDATED,
            Some(Event::NoNodes) => METALESS_EVENT_NO_NODES,
            Some(_) => METALESS_EVENT_OTHER,
        }
    })
}

/// The operation id of a `DELIVERED`, `DONE` or `FAILED` event (0 otherwise).
///
/// # Safety
/// `event` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_id(event: *const metaless_event) -> u64 {
    ffi_guard(|| {
        // SAFETY: `event` is NULL or live (contract).
        match unsafe { self::event(event) }.map(|e| &e.inner) {
            Some(Event::Delivered { id, .. } | Event::Done { id } | Event::Failed { id, .. }) => {
                id.get()
            }
            _ => 0,
        }
    })
}

/// The storage hash of a `DELIVERED`, `RECEIVED` or `UNSENT` event, NUL-terminated, owned by
/// the event; NULL otherwise.
///
/// # Safety
/// `event` is NULL or live; the result is valid until it is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_hash(event: *const metaless_event) -> *const c_char {
    ffi_guard(|| {
        // SAFETY: `event` is NULL or live (contract).
        unsafe { self::event(event) }
            .and_then(|e| e.hash.as_ref())
            .map_or(std::ptr::null(), |h| h.as_ptr())
    })
}

/// When a `RECEIVED` message expires from the swarm (network ms; 0 otherwise).
///
/// # Safety
/// `event` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_expiry_ms(event: *const metaless_event) -> u64 {
    ffi_guard(|| {
        // SAFETY: `event` is NULL or live (contract).
        match unsafe { self::event(event) }.map(|e| &e.inner) {
            Some(Event::Received(incoming)) => incoming.expiry_ms,
            _ => 0,
        }
    })
}

/// Why a `FAILED` event's operation failed: a `METALESS_FAILURE_*` value (0 otherwise).
///
/// # Safety
/// `event` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_failure_kind(event: *const metaless_event) -> u32 {
    ffi_guard(|| {
        // SAFETY: `event` is NULL or live (contract).
        match unsafe { self::event(event) }.map(|e| &e.inner) {
            Some(Event::Failed { kind, .. }) => match kind {
                FailureKind::Expired => METALESS_FAILURE_EXPIRED,
                FailureKind::Rejected { .. } => METALESS_FAILURE_REJECTED,
                FailureKind::Unreachable => METALESS_FAILURE_UNREACHABLE,
                FailureKind::NoNodes => METALESS_FAILURE_NO_NODES,
                FailureKind::Clock => METALESS_FAILURE_CLOCK,
                _ => METALESS_FAILURE_OTHER,
            },
            _ => 0,
        }
    })
}

/// The HTTP status of a `METALESS_FAILURE_REJECTED` failure (0 otherwise).
///
/// # Safety
/// `event` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_failure_status(event: *const metaless_event) -> u16 {
    ffi_guard(|| {
        // SAFETY: `event` is NULL or live (contract).
        match unsafe { self::event(event) }.map(|e| &e.inner) {
            Some(Event::Failed {
                kind: FailureKind::Rejected { status },
                ..
            }) => *status,
            _ => 0,
        }
    })
}

/// The new swarm of a `SWARM_CHANGED` event (0 otherwise).
///
/// # Safety
/// `event` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_swarm_id(event: *const metaless_event) -> u64 {
    ffi_guard(|| {
        // SAFETY: `event` is NULL or live (contract).
        match unsafe { self::event(event) }.map(|e| &e.inner) {
            Some(Event::SwarmChanged { swarm_id, .. }) => *swarm_id,
            _ => 0,
        }
    })
}

/// The node count of a `NODES_UPDATED` event, the hop count of a `PATH_REBUILT` one (0
/// otherwise).
///
/// # Safety
/// `event` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_count(event: *const metaless_event) -> usize {
    ffi_guard(|| {
        // SAFETY: `event` is NULL or live (contract).
        match unsafe { self::event(event) }.map(|e| &e.inner) {
            Some(Event::NodesUpdated { count }) => *count,
            Some(Event::PathRebuilt { hops }) => hops.len(),
            _ => 0,
        }
    })
}

/// The message of a `RECEIVED` event: sender (verified), timestamps, kind and disappearing
/// setting to `*info`, the text (for `METALESS_MESSAGE_TEXT`) to `*text`.
/// `METALESS_RESULT_NOT_AVAILABLE` for other kinds.
///
/// # Safety
/// `ctx` NULL or live; `event` NULL or live; `info` and `text` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_message(
    ctx: *mut metaless_context,
    event: *const metaless_event,
    info: *mut metaless_message_info,
    text: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: outputs NULL or writable; `event` NULL or live (contract).
            let (text_out, mut info_out, e) = unsafe {
                (
                    BufferOut::new(text, "text")?,
                    Out::new(info, "info")?,
                    ptr::handle(event, "event")?,
                )
            };
            info_out.set(metaless_message_info::empty());
            let Event::Received(incoming) = &e.inner else {
                return Err(FfiError::not_available("message"));
            };
            let (info, body) = metaless_message_info::of(&incoming.message);
            info_out.set(info);
            text_out.set(body.unwrap_or_default().as_bytes().to_vec());
            Ok(())
        })
    })
}

/// Frees an event. NULL is ignored.
///
/// # Safety
/// `event` is NULL or live, and not used afterwards (nor pointers obtained from it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_event_free(event: *mut metaless_event) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_guard(|| unsafe { ptr::free_handle(event) })
}
