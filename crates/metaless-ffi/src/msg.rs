//! One-to-one messages: the raw sign-then-seal layer (`encrypt`/`decrypt`, any bytes) and the
//! stored form a Session client keeps in a swarm for a text message (`seal`/`open`).
//!
//! ```
//! use metaless_ffi::*;
//! unsafe {
//!     let ctx = metaless_context_new();
//!     let (mut alice, mut bob) = (std::ptr::null_mut(), std::ptr::null_mut());
//!     metaless_identity_from_seed(ctx, [1u8; 32].as_ptr(), 32, &mut alice);
//!     metaless_identity_from_seed(ctx, [2u8; 32].as_ptr(), 32, &mut bob);
//!     let mut bob_id = [0 as std::ffi::c_char; METALESS_SESSION_ID_STR_LEN];
//!     metaless_identity_session_id(ctx, bob, bob_id.as_mut_ptr(), bob_id.len());
//!
//!     let mut stored = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     let r = metaless_msg_seal(ctx, alice, bob_id.as_ptr(), METALESS_SESSION_ID_HEX_LEN,
//!         b"hi".as_ptr().cast(), 2, 1_700_000_000_000, METALESS_DISAPPEAR_OFF, 0, &mut stored);
//!     assert_eq!(r, metaless_result::METALESS_RESULT_OK);
//!
//!     let mut info = std::mem::zeroed::<metaless_message_info>();
//!     let mut text = metaless_buffer { data: std::ptr::null_mut(), len: 0 };
//!     assert_eq!(metaless_msg_open(ctx, bob, stored.data, stored.len, &mut info, &mut text), metaless_result::METALESS_RESULT_OK);
//!     assert_eq!(std::slice::from_raw_parts(text.data, text.len), b"hi");
//!     assert_eq!(info.kind, METALESS_MESSAGE_TEXT);
//!     assert_eq!(info.sent_at_ms, 1_700_000_000_000);
//!     // Alice cannot open a message addressed to Bob.
//!     assert_eq!(metaless_msg_open(ctx, alice, stored.data, stored.len, &mut info, &mut text), metaless_result::METALESS_RESULT_DECRYPT_FAILED);
//!
//!     metaless_buffer_free(&mut stored);
//!     metaless_buffer_free(&mut text);
//!     metaless_identity_free(alice);
//!     metaless_identity_free(bob);
//!     metaless_context_free(ctx);
//! }
//! ```

use std::ffi::c_char;

use ::metaless_identity::SessionId;
use metaless_envelope::{Content, DisappearMode, Disappearing, Message, Received};

use crate::buffer::metaless_buffer;
use crate::consts::{
    METALESS_DISAPPEAR_AFTER_READ, METALESS_DISAPPEAR_AFTER_SEND, METALESS_DISAPPEAR_OFF,
    METALESS_SESSION_ID_STR_LEN,
};
use crate::context::{metaless_context, run};
use crate::guard::ffi_guard;
use crate::identity::metaless_identity;
use crate::ptr::{self, BufferOut, Out};
use crate::result::{FfiError, metaless_result};

/// Content kind: a text message (its text is returned).
pub const METALESS_MESSAGE_TEXT: u32 = 1;
/// Content kind: a change of the conversation's disappearing setting.
pub const METALESS_MESSAGE_DISAPPEARING_UPDATE: u32 = 2;
/// Content kind: a delivery or read receipt.
pub const METALESS_MESSAGE_RECEIPT: u32 = 3;
/// Content kind: a typing indicator.
pub const METALESS_MESSAGE_TYPING: u32 = 4;
/// Content kind: a request to delete an earlier message.
pub const METALESS_MESSAGE_UNSEND: u32 = 5;
/// Content kind: a message request accepted or declined.
pub const METALESS_MESSAGE_REQUEST_RESPONSE: u32 = 6;
/// Content kind: a screenshot or media-saved notice.
pub const METALESS_MESSAGE_DATA_EXTRACTION: u32 = 7;
/// Content kind: anything else (kept whole inside the library, not exposed yet).
pub const METALESS_MESSAGE_OTHER: u32 = 8;

/// What an opened message says besides its text. Plain data, filled by the library.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct metaless_message_info {
    /// The verified sender's Session ID, 66 hex digits and a NUL.
    pub sender: [c_char; METALESS_SESSION_ID_STR_LEN],
    /// Sent timestamp (ms since the Unix epoch), as the sender stated it.
    pub sent_at_ms: u64,
    /// One of the `METALESS_MESSAGE_*` kinds.
    pub kind: u32,
    /// `METALESS_DISAPPEAR_OFF`, `_AFTER_SEND` or `_AFTER_READ`.
    pub disappear_mode: u32,
    /// Disappearing timer in seconds (0 when off).
    pub disappear_timer_s: u32,
    /// Whether the sender signed the timestamp.
    pub timestamp_signed: bool,
}

impl metaless_message_info {
    /// The info of a received message, and its text if it is a text message.
    pub(crate) fn of(received: &Received) -> (Self, Option<&str>) {
        let mut sender = [0 as c_char; METALESS_SESSION_ID_STR_LEN];
        for (dst, src) in sender.iter_mut().zip(received.sender.to_string().bytes()) {
            *dst = src as c_char;
        }
        let kind = match &received.content.message {
            Message::Text { .. } => METALESS_MESSAGE_TEXT,
            Message::DisappearingSettingsUpdate => METALESS_MESSAGE_DISAPPEARING_UPDATE,
            Message::Receipt { .. } => METALESS_MESSAGE_RECEIPT,
            Message::Typing { .. } => METALESS_MESSAGE_TYPING,
            Message::Unsend { .. } => METALESS_MESSAGE_UNSEND,
            Message::MessageRequestResponse { .. } => METALESS_MESSAGE_REQUEST_RESPONSE,
            Message::DataExtraction { .. } => METALESS_MESSAGE_DATA_EXTRACTION,
            _ => METALESS_MESSAGE_OTHER,
        };
        let (disappear_mode, disappear_timer_s) = match received.content.disappearing {
            Some(Disappearing {
                mode: DisappearMode::AfterSend,
                timer_s,
            }) => (METALESS_DISAPPEAR_AFTER_SEND, timer_s),
            Some(Disappearing {
                mode: DisappearMode::AfterRead,
                timer_s,
            }) => (METALESS_DISAPPEAR_AFTER_READ, timer_s),
            _ => (METALESS_DISAPPEAR_OFF, 0),
        };
        let info = Self {
            sender,
            sent_at_ms: received.sent_at_ms,
            kind,
            disappear_mode,
            disappear_timer_s,
            timestamp_signed: received.timestamp_is_signed(),
        };
        (info, received.content.as_text())
    }

    pub(crate) fn empty() -> Self {
        Self {
            sender: [0; METALESS_SESSION_ID_STR_LEN],
            sent_at_ms: 0,
            kind: 0,
            disappear_mode: METALESS_DISAPPEAR_OFF,
            disappear_timer_s: 0,
            timestamp_signed: false,
        }
    }
}

/// A recipient given as Session ID text.
pub(crate) fn session_id(text: &str, what: &str) -> Result<SessionId, FfiError> {
    text.trim()
        .parse()
        .map_err(|e: ::metaless_identity::IdentityError| {
            // Whatever is wrong with the text (length, digits, prefix), it is not a Session ID.
            FfiError::new(
                metaless_result::METALESS_RESULT_INVALID_SESSION_ID,
                e.to_string(),
            )
            .context(what)
        })
}

/// The text content with an optional disappearing setting.
pub(crate) fn text_content(text: &str, mode: u32, timer_s: u32) -> Result<Content, FfiError> {
    let mode = match mode {
        METALESS_DISAPPEAR_OFF => None,
        METALESS_DISAPPEAR_AFTER_SEND => Some(DisappearMode::AfterSend),
        METALESS_DISAPPEAR_AFTER_READ => Some(DisappearMode::AfterRead),
        _ => {
            return Err(FfiError::argument(
                "disappear_mode",
                "not a METALESS_DISAPPEAR_* value",
            ));
        }
    };
    let setting = match mode {
        None => None,
        Some(mode) => Some(
            Disappearing::new(mode, timer_s)
                .ok_or_else(|| FfiError::argument("timer_s", "must be at least 1"))?,
        ),
    };
    Ok(Content::text(text).disappearing(setting))
}

/// Signs `plaintext` as `sender` and seals it to the Session ID `to` (UTF-8 text, 66 hex
/// digits): the raw layer, any bytes, `METALESS_MSG_OVERHEAD` bytes longer.
///
/// # Safety
/// `ctx` NULL or live; `sender` NULL or live; `to` and `plaintext` NULL or readable for their
/// lengths; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_msg_encrypt(
    ctx: *mut metaless_context,
    sender: *const metaless_identity,
    to: *const c_char,
    to_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |c| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out, sender, to, plaintext) = unsafe {
                (
                    BufferOut::new(out, "out")?,
                    ptr::handle(sender, "sender")?,
                    ptr::str_in(to, to_len, "to")?,
                    ptr::bytes_in(plaintext, plaintext_len, "plaintext")?,
                )
            };
            let to = session_id(to, "to")?;
            let sealed =
                metaless_envelope::encrypt_for_recipient(sender.keys(), &to, plaintext, c.rng())?;
            out.set(sealed);
            Ok(())
        })
    })
}

/// Opens and verifies a raw ciphertext addressed to `me`: the plaintext goes to `*out`, the
/// verified sender's Session ID (and a NUL) to `sender_out` (`sender_out_len` ≥ 67). Wrong
/// recipient or altered bytes: `METALESS_RESULT_DECRYPT_FAILED`, no detail.
///
/// # Safety
/// `ctx` NULL or live; `me` NULL or live; `ciphertext` NULL or readable for its length;
/// `sender_out` NULL or writable for `sender_out_len` bytes; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_msg_decrypt(
    ctx: *mut metaless_context,
    me: *const metaless_identity,
    ciphertext: *const u8,
    ciphertext_len: usize,
    sender_out: *mut c_char,
    sender_out_len: usize,
    out: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out, me, ciphertext) = unsafe {
                (
                    BufferOut::new(out, "out")?,
                    ptr::handle(me, "me")?,
                    ptr::bytes_in(ciphertext, ciphertext_len, "ciphertext")?,
                )
            };
            let opened = metaless_envelope::decrypt_incoming(me.keys(), ciphertext)?;
            // SAFETY: `sender_out` NULL or writable for `sender_out_len` bytes (contract).
            unsafe {
                ptr::text_out(
                    sender_out,
                    sender_out_len,
                    &opened.sender.to_string(),
                    "sender_out",
                )
            }?;
            out.set(opened.plaintext);
            Ok(())
        })
    })
}

/// Builds the stored form of a text message from `sender` to `to` (Session ID text): the
/// exact bytes a Session client stores in the recipient's swarm. `text` is UTF-8;
/// `sent_at_ms` the sent timestamp; `disappear_mode` a `METALESS_DISAPPEAR_*` value with
/// `timer_s` ≥ 1 unless off.
///
/// # Safety
/// `ctx` NULL or live; `sender` NULL or live; `to` and `text` NULL or readable for their
/// lengths; `out` NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn metaless_msg_seal(
    ctx: *mut metaless_context,
    sender: *const metaless_identity,
    to: *const c_char,
    to_len: usize,
    text: *const c_char,
    text_len: usize,
    sent_at_ms: u64,
    disappear_mode: u32,
    timer_s: u32,
    out: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |c| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (out, sender, to, text) = unsafe {
                (
                    BufferOut::new(out, "out")?,
                    ptr::handle(sender, "sender")?,
                    ptr::str_in(to, to_len, "to")?,
                    ptr::str_in(text, text_len, "text")?,
                )
            };
            let to = session_id(to, "to")?;
            let content = text_content(text, disappear_mode, timer_s)?;
            let stored =
                metaless_envelope::seal_message(sender.keys(), &to, &content, sent_at_ms, c.rng())?;
            out.set(stored);
            Ok(())
        })
    })
}

/// Opens a stored message addressed to `me`: sender, timestamps, kind and disappearing
/// setting go to `*info`; the text (for `METALESS_MESSAGE_TEXT`, else empty) to `*text`.
///
/// # Safety
/// `ctx` NULL or live; `me` NULL or live; `data` NULL or readable for `data_len` bytes;
/// `info` and `text` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn metaless_msg_open(
    ctx: *mut metaless_context,
    me: *const metaless_identity,
    data: *const u8,
    data_len: usize,
    info: *mut metaless_message_info,
    text: *mut metaless_buffer,
) -> metaless_result {
    ffi_guard(|| {
        // SAFETY: `ctx` is NULL or a live context used by this thread only (contract).
        let ctx = unsafe { ctx.as_mut() };
        run(ctx, |_| {
            // SAFETY: pointers NULL or valid for their lengths (contract).
            let (text_out, mut info_out, me, data) = unsafe {
                (
                    BufferOut::new(text, "text")?,
                    Out::new(info, "info")?,
                    ptr::handle(me, "me")?,
                    ptr::bytes_in(data, data_len, "data")?,
                )
            };
            info_out.set(metaless_message_info::empty());
            let received = metaless_envelope::open_message(me.keys(), data)?;
            let (info, body) = metaless_message_info::of(&received);
            info_out.set(info);
            text_out.set(body.unwrap_or_default().as_bytes().to_vec());
            Ok(())
        })
    })
}
