//! Opening arbitrary replies (raw or base64 text) with fixed keys: never panics. The first byte
//! picks the encryption type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_identity::X25519Secret;
use metaless_onion::{EncType, PendingResponse, SnodeReply, v4};

// libsession-util tests/test_onionreq.cpp "Onion request parser": client ephemeral secret and
// node public key.
const CLIENT_SECRET: [u8; 32] = [
    0xd2, 0xee, 0x09, 0xe1, 0xa5, 0x57, 0xa0, 0x77, 0xd3, 0x85, 0xfc, 0xb6, 0x9a, 0x11, 0xff, 0xb6,
    0x90, 0x9e, 0xcd, 0xcc, 0x83, 0x48, 0xde, 0xf3, 0xe0, 0xe4, 0x17, 0x2c, 0x8a, 0x14, 0x31, 0xc1,
];
const NODE_PUBLIC: [u8; 32] = [
    0x83, 0x88, 0xde, 0x69, 0xbc, 0x0d, 0x4b, 0x61, 0x96, 0x13, 0x32, 0x33, 0xad, 0x9a, 0x46, 0xba,
    0x04, 0x73, 0x47, 0x4b, 0xc6, 0x77, 0x18, 0xaa, 0xd9, 0x6a, 0x3a, 0x33, 0xc2, 0x57, 0xf7, 0x26,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, response)) = data.split_first() else {
        return;
    };
    let enc = if selector & 1 == 0 {
        EncType::XChaCha20
    } else {
        EncType::AesGcm
    };
    let pending =
        PendingResponse::from_parts(X25519Secret::from_bytes(CLIENT_SECRET), NODE_PUBLIC, enc)
            .expect("valid keys");
    if let Ok(plaintext) = pending.open(response) {
        assert!(plaintext.len() < response.len());
        let _ = SnodeReply::parse(&plaintext);
        let _ = v4::decode_response(&plaintext);
    }
});
