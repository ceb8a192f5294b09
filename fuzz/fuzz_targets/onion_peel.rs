//! Peeling arbitrary bodies with a fixed node key (the upstream parser test's node): never
//! panics; a forward is a well-formed next layer, a delivery's payload lies inside the layer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_identity::X25519Secret;
use metaless_onion::{NodeKey, Peeled, decode_layer, peel};

// libsession-util tests/test_onionreq.cpp "Onion request parser" node secret.
const NODE_SECRET: [u8; 32] = [
    0x2f, 0x4d, 0x1c, 0x0d, 0x28, 0xe1, 0x37, 0x77, 0x7e, 0xc0, 0xa3, 0x16, 0xe9, 0xf4, 0xf7, 0x63,
    0xe3, 0xe6, 0x66, 0x62, 0xa6, 0xc5, 0x19, 0x94, 0xc6, 0x31, 0x5c, 0x9e, 0xf3, 0x4b, 0x6d, 0xeb,
];

fuzz_target!(|data: &[u8]| {
    let secret = X25519Secret::from_bytes(NODE_SECRET);
    let node = NodeKey::new(&secret);
    match peel(&node, data) {
        Ok(Peeled::Forward {
            ephemeral_key,
            enc_type,
            body,
            ..
        }) => {
            let next = decode_layer(&body).expect("a forwarded body decodes");
            assert_eq!(
                (next.ephemeral_key, next.enc_type),
                (ephemeral_key, enc_type)
            );
        }
        Ok(Peeled::Deliver(delivery)) => {
            assert!(delivery.payload().len() < data.len());
        }
        Ok(Peeled::Server {
            protocol, target, ..
        }) => {
            assert!(protocol == "http" || protocol == "https");
            assert!(target.ends_with("/lsrpc"));
        }
        Ok(_) => {}
        Err(err) => {
            let hop = err.hop_error();
            assert!(matches!(hop.status(), 400 | 413));
        }
    }
});
