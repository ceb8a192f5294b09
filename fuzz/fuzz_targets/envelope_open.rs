//! Opening stored messages with a fixed account key: never panics on any input.
//!
//! The fuzzer cannot forge a Poly1305 tag, so an input whose first byte is odd is instead taken
//! as a plaintext that a fixed sender seals to the fixed key and wraps in the stored form: that
//! drives the unpad / protobuf path behind a valid signature, and anything that opens must say
//! the fixed sender sent it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_envelope::proto::{session as pb, websocket as ws};
use metaless_envelope::{decrypt_incoming, encrypt_for_recipient_deterministic, open_envelope, open_message};
use metaless_identity::{Keypair, Seed};
use prost::Message as _;

// The upstream vector's recipient (session_encrypt.json), so seeds built from it decrypt.
const RECIPIENT_SEED: [u8; 32] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fuzz_target!(|data: &[u8]| {
    let me = Keypair::from_seed(&Seed::from_bytes(RECIPIENT_SEED));
    let _ = open_message(&me, data);
    let _ = open_envelope(&me, data);
    let _ = decrypt_incoming(&me, data);

    if let Some((&mode, plaintext)) = data.split_first() {
        if mode & 1 == 1 {
            let sender = Keypair::from_seed(&Seed::from_bytes([mode; 32]));
            let Ok(ciphertext) = encrypt_for_recipient_deterministic(&sender, &me.session_id(), plaintext) else {
                return;
            };
            let envelope = pb::Envelope { r#type: 6, timestamp: 1, content: Some(ciphertext), ..Default::default() };
            let stored = ws::WebSocketMessage {
                r#type: Some(1),
                request: Some(ws::WebSocketRequestMessage {
                    body: Some(envelope.encode_to_vec()),
                    ..Default::default()
                }),
                response: None,
            }
            .encode_to_vec();
            if let Ok(received) = open_message(&me, &stored) {
                assert_eq!(received.sender, sender.session_id());
                assert_eq!(received.sent_at_ms, 1);
            }
        }
    }
});
