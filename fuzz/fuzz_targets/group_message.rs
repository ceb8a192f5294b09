//! Group messages (namespace 11): the stored bytes as received, and arbitrary plaintext
//! encrypted under a known key so the inner dict, signature, zstd and Envelope parsers behind
//! the AEAD are reached. Nothing panics.
#![no_main]

use chacha20poly1305::aead::{Aead, KeyInit};
use libfuzzer_sys::fuzz_target;
use metaless_group::{GroupKey, GroupKeyring, GroupKeys, decrypt_content, decrypt_payload};

const KEY: [u8; 32] = [0x5a; 32];

fuzz_target!(|data: &[u8]| {
    let group = GroupKeys::from_seed([0x42; 32]);
    let mut ring = GroupKeyring::new(group.group_id());
    ring.insert(&GroupKey::new(0, KEY, 0));
    let _ = decrypt_payload(&ring, data);
    let _ = decrypt_content(&ring, data);
    let nonce = [0u8; 24];
    if let Ok(ct) = chacha20poly1305::XChaCha20Poly1305::new(&KEY.into()).encrypt(&nonce.into(), data) {
        let wire = [&nonce[..], &ct].concat();
        if let Ok(p) = decrypt_payload(&ring, &wire) {
            assert!(p.data.len() <= metaless_group::limits::MAX_PLAINTEXT_MESSAGE_SIZE);
        }
        let _ = decrypt_content(&ring, &wire);
    }
});
