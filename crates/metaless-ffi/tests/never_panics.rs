//! Arbitrary bytes into every parsing entry point come back as a result code — never
//! `METALESS_RESULT_PANIC` — and failed calls leave their outputs empty.
#![allow(clippy::unwrap_used)]

use std::ptr::null_mut;

use metaless_ffi::*;
use proptest::prelude::*;

struct Fixture {
    ctx: *mut metaless_context,
    me: *mut metaless_identity,
    node: *mut metaless_node_key,
    pending: *mut metaless_pending_response,
}

impl Fixture {
    fn new() -> Self {
        // SAFETY: valid pointers and lengths throughout; freed in Drop.
        unsafe {
            let ctx = metaless_context_new_seeded([8u8; 32].as_ptr(), 32);
            let mut me = null_mut();
            metaless_identity_from_seed(ctx, [1u8; 32].as_ptr(), 32, &mut me);
            let mut node = null_mut();
            metaless_node_key_new(ctx, [2u8; 32].as_ptr(), 32, &mut node);
            let mut hop = metaless_hop {
                ed25519: [3; 32],
                x25519: [0; 32],
            };
            metaless_node_key_public(ctx, node, hop.x25519.as_mut_ptr(), 32);
            let mut body = metaless_buffer {
                data: null_mut(),
                len: 0,
            };
            let mut pending = null_mut();
            let r = metaless_onion_build(
                ctx,
                &hop,
                1,
                &hop,
                METALESS_ENC_XCHACHA20,
                b"{}".as_ptr(),
                2,
                &mut body,
                &mut pending,
            );
            assert_eq!(r, metaless_result::METALESS_RESULT_OK);
            metaless_buffer_free(&mut body);
            Self {
                ctx,
                me,
                node,
                pending,
            }
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: handles made in `new`, freed once.
        unsafe {
            metaless_pending_response_free(self.pending);
            metaless_node_key_free(self.node);
            metaless_identity_free(self.me);
            metaless_context_free(self.ctx);
        }
    }
}

fn empty() -> metaless_buffer {
    metaless_buffer {
        data: null_mut(),
        len: 0,
    }
}

fn check(r: metaless_result, out: &metaless_buffer) {
    assert_ne!(r, metaless_result::METALESS_RESULT_PANIC);
    if r != metaless_result::METALESS_RESULT_OK {
        assert!(out.data.is_null() && out.len == 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_return_codes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let f = Fixture::new();
        // SAFETY: every pointer is valid for its length; outputs are freed.
        unsafe {
            let mut out = empty();
            let mut peeled = null_mut();
            let r = metaless_onion_peel(f.ctx, f.node, bytes.as_ptr(), bytes.len(), &mut peeled);
            assert_ne!(r, metaless_result::METALESS_RESULT_PANIC);
            metaless_peeled_free(peeled);

            let mut reply = null_mut();
            let r = metaless_onion_open_layer(f.ctx, f.node, bytes.as_ptr(), bytes.len(), &mut out, &mut reply);
            check(r, &out);
            metaless_buffer_free(&mut out);
            metaless_reply_context_free(reply);

            let r = metaless_pending_response_open(f.ctx, f.pending, bytes.as_ptr(), bytes.len(), &mut out);
            check(r, &out);
            metaless_buffer_free(&mut out);

            let mut sender = [0 as std::ffi::c_char; METALESS_SESSION_ID_STR_LEN];
            let r = metaless_msg_decrypt(f.ctx, f.me, bytes.as_ptr(), bytes.len(), sender.as_mut_ptr(), sender.len(), &mut out);
            check(r, &out);
            metaless_buffer_free(&mut out);

            let mut info = std::mem::zeroed::<metaless_message_info>();
            let r = metaless_msg_open(f.ctx, f.me, bytes.as_ptr(), bytes.len(), &mut info, &mut out);
            check(r, &out);
            metaless_buffer_free(&mut out);

            let mut id = null_mut();
            let r = metaless_identity_restore(f.ctx, bytes.as_ptr().cast(), bytes.len(), &mut id);
            assert_ne!(r, metaless_result::METALESS_RESULT_PANIC);
            metaless_identity_free(id);

            let mut space = 0u64;
            let r = metaless_swarm_space(f.ctx, bytes.as_ptr().cast(), bytes.len(), &mut space);
            assert_ne!(r, metaless_result::METALESS_RESULT_PANIC);
        }
    }

    #[test]
    fn phrases_of_words_return_codes(words in proptest::collection::vec("[a-z]{1,8}", 0..30)) {
        let f = Fixture::new();
        let phrase = words.join(" ");
        // SAFETY: valid pointer and length.
        unsafe {
            let mut id = null_mut();
            let r = metaless_identity_restore(f.ctx, phrase.as_ptr().cast(), phrase.len(), &mut id);
            assert!(matches!(r, metaless_result::METALESS_RESULT_OK | metaless_result::METALESS_RESULT_INVALID_MNEMONIC));
            metaless_identity_free(id);
        }
    }
}
