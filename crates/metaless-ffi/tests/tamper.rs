//! Through the C functions: every single-byte change and every truncation of a ciphertext is
//! refused, with a code and no output.
#![allow(clippy::unwrap_used)]

use std::ptr::null_mut;

use metaless_ffi::*;

fn empty() -> metaless_buffer {
    metaless_buffer {
        data: null_mut(),
        len: 0,
    }
}

/// Runs `open` on every one-byte flip inside `flips` and every truncation of `good`; none may
/// succeed.
fn every_change_fails(
    good: &[u8],
    flips: std::ops::Range<usize>,
    mut open: impl FnMut(&[u8]) -> metaless_result,
) {
    assert_eq!(open(good), metaless_result::METALESS_RESULT_OK);
    for i in flips {
        let mut bad = good.to_vec();
        bad[i] ^= 0x01;
        let r = open(&bad);
        assert_ne!(r, metaless_result::METALESS_RESULT_OK, "flip at {i}");
        assert_ne!(r, metaless_result::METALESS_RESULT_PANIC);
    }
    for len in 0..good.len() {
        let r = open(&good[..len]);
        assert_ne!(r, metaless_result::METALESS_RESULT_OK, "truncated to {len}");
        assert_ne!(r, metaless_result::METALESS_RESULT_PANIC);
    }
}

#[test]
fn raw_messages() {
    // SAFETY: valid pointers and lengths; everything freed.
    unsafe {
        let ctx = metaless_context_new();
        let (mut a, mut b) = (null_mut(), null_mut());
        metaless_identity_from_seed(ctx, [1u8; 32].as_ptr(), 32, &mut a);
        metaless_identity_from_seed(ctx, [2u8; 32].as_ptr(), 32, &mut b);
        let mut to = [0 as std::ffi::c_char; METALESS_SESSION_ID_STR_LEN];
        metaless_identity_session_id(ctx, b, to.as_mut_ptr(), to.len());
        let mut sealed = empty();
        metaless_msg_encrypt(ctx, a, to.as_ptr(), 66, b"secret".as_ptr(), 6, &mut sealed);
        let good = std::slice::from_raw_parts(sealed.data, sealed.len).to_vec();
        every_change_fails(&good, 0..good.len(), |bytes| {
            let mut out = empty();
            let mut from = [0 as std::ffi::c_char; METALESS_SESSION_ID_STR_LEN];
            let r = metaless_msg_decrypt(
                ctx,
                b,
                bytes.as_ptr(),
                bytes.len(),
                from.as_mut_ptr(),
                from.len(),
                &mut out,
            );
            if r != metaless_result::METALESS_RESULT_OK {
                assert!(out.data.is_null());
            }
            metaless_buffer_free(&mut out);
            r
        });
        metaless_buffer_free(&mut sealed);
        metaless_identity_free(a);
        metaless_identity_free(b);
        metaless_context_free(ctx);
    }
}

#[test]
fn onion_layers_and_replies() {
    // SAFETY: valid pointers and lengths; everything freed.
    unsafe {
        let ctx = metaless_context_new();
        let mut node = null_mut();
        metaless_node_key_new(ctx, [7u8; 32].as_ptr(), 32, &mut node);
        let mut hop = metaless_hop {
            ed25519: [9; 32],
            x25519: [0; 32],
        };
        metaless_node_key_public(ctx, node, hop.x25519.as_mut_ptr(), 32);
        for enc in [METALESS_ENC_XCHACHA20, METALESS_ENC_AES_GCM] {
            let mut body = empty();
            let mut pending = null_mut();
            // The node is both the hop and the destination.
            let r = metaless_onion_build(
                ctx,
                &hop,
                1,
                &hop,
                enc,
                b"{}".as_ptr(),
                2,
                &mut body,
                &mut pending,
            );
            assert_eq!(r, metaless_result::METALESS_RESULT_OK);
            let good = std::slice::from_raw_parts(body.data, body.len).to_vec();
            // The length prefix and the ciphertext. The routing JSON after them is not
            // authenticated (as upstream): renaming its `enc_type` key, say, makes the type
            // default to aes-gcm, which an aes-gcm layer then still opens with.
            let framed = 4 + u32::from_le_bytes(good[..4].try_into().unwrap()) as usize;
            every_change_fails(&good, 0..framed, |bytes| {
                let (mut plain, mut reply) = (empty(), null_mut());
                let r = metaless_onion_open_layer(
                    ctx,
                    node,
                    bytes.as_ptr(),
                    bytes.len(),
                    &mut plain,
                    &mut reply,
                );
                metaless_buffer_free(&mut plain);
                metaless_reply_context_free(reply);
                r
            });

            // The reply is keyed by the destination's (inner) layer: peel the outer one first.
            let mut peeled = null_mut();
            metaless_onion_peel(ctx, node, body.data, body.len, &mut peeled);
            let mut inner = empty();
            metaless_peeled_body(ctx, peeled, &mut inner);
            metaless_peeled_free(peeled);
            let (mut plain, mut reply) = (empty(), null_mut());
            let r =
                metaless_onion_open_layer(ctx, node, inner.data, inner.len, &mut plain, &mut reply);
            assert_eq!(r, metaless_result::METALESS_RESULT_OK);
            let mut answer = empty();
            metaless_reply_context_respond(ctx, reply, b"pong".as_ptr(), 4, &mut answer);
            let good = std::slice::from_raw_parts(answer.data, answer.len).to_vec();
            every_change_fails(&good, 0..good.len(), |bytes| {
                let mut out = empty();
                let r = metaless_pending_response_open(
                    ctx,
                    pending,
                    bytes.as_ptr(),
                    bytes.len(),
                    &mut out,
                );
                metaless_buffer_free(&mut out);
                r
            });
            for b in [&mut body, &mut inner, &mut plain, &mut answer] {
                metaless_buffer_free(b);
            }
            metaless_reply_context_free(reply);
            metaless_pending_response_free(pending);
        }
        metaless_node_key_free(node);
        metaless_context_free(ctx);
    }
}
