//! What the client reports: events and their accessors.

use std::ffi::{CString, c_char};

use ::metaless_client::{Event, FailureKind};

use crate::buffer::metaless_buffer;
use crate::context::{metaless_context, run};
use crate::guard::{OnPanic, ffi_guard};
use crate::msg::metaless_message_info;
use crate::ptr::{self, BufferOut, HandleOut, Out};
use crate::result::{FfiError, metaless_result};

use super::metaless_client;

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
