//! metaless-cipher against the RustCrypto implementations on arbitrary input: the same plaintext
//! seals to the same bytes, and an arbitrary ciphertext is accepted (with the same plaintext) or
//! refused by both alike. Layout: selector, key (32), nonce (24; AES-256-GCM takes the first
//! 12), aad length, aad, message.
#![no_main]

use aes_gcm::Aes256Gcm;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use libfuzzer_sys::fuzz_target;
use metaless_cipher::{aes256gcm, poly1305, secretbox, xchacha20poly1305};
use xsalsa20poly1305::XSalsa20Poly1305;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if rest.len() < 57 {
        return;
    }
    let key: [u8; 32] = rest[..32].try_into().unwrap();
    let nonce: [u8; 24] = rest[32..56].try_into().unwrap();
    let aad_len = usize::from(rest[56]).min(rest.len() - 57);
    let aad = &rest[57..57 + aad_len];
    let message = &rest[57 + aad_len..];
    match selector % 4 {
        0 => {
            let theirs = XChaCha20Poly1305::new(&key.into());
            let payload = |msg| Payload { msg, aad };
            // seal: identical bytes
            let ours = xchacha20poly1305::seal(&key, &nonce, aad, message).unwrap();
            assert_eq!(
                ours,
                theirs.encrypt(&nonce.into(), payload(message)).unwrap()
            );
            assert_eq!(
                xchacha20poly1305::open(&key, &nonce, aad, &ours).unwrap(),
                message
            );
            // open of arbitrary bytes: same verdict, same plaintext
            let opened = xchacha20poly1305::open(&key, &nonce, aad, message);
            let reference = theirs.decrypt(&nonce.into(), payload(message));
            assert_eq!(opened.ok(), reference.ok());
            // in place: a refused buffer is left exactly as given
            if message.len() >= 16 {
                let (ct, tag) = message.split_at(message.len() - 16);
                let mut buf = ct.to_vec();
                let tag: [u8; 16] = tag.try_into().unwrap();
                if xchacha20poly1305::open_in_place_detached(&key, &nonce, aad, &mut buf, &tag)
                    .is_err()
                {
                    assert_eq!(buf, ct);
                }
            }
        }
        1 => {
            let theirs = XSalsa20Poly1305::new(&key.into());
            // Both use NaCl's combined layout, tag ‖ ciphertext.
            let ours = secretbox::seal(&key, &nonce, message);
            assert_eq!(ours, theirs.encrypt(&nonce.into(), message).unwrap());
            assert_eq!(secretbox::open(&key, &nonce, &ours).unwrap(), message);
            let opened = secretbox::open(&key, &nonce, message);
            assert_eq!(opened.ok(), theirs.decrypt(&nonce.into(), message).ok());
            if message.len() >= 16 {
                let (tag, ct) = message.split_at(16);
                let mut buf = ct.to_vec();
                let tag: [u8; 16] = tag.try_into().unwrap();
                if secretbox::open_in_place_detached(&key, &nonce, &mut buf, &tag).is_err() {
                    assert_eq!(buf, ct);
                }
            }
        }
        3 => {
            let nonce: [u8; 12] = nonce[..12].try_into().unwrap();
            let theirs = Aes256Gcm::new(&key.into());
            let payload = |msg| Payload { msg, aad };
            // seal: identical bytes (ciphertext ‖ tag on both sides)
            let ours = aes256gcm::seal(&key, &nonce, aad, message).unwrap();
            assert_eq!(
                ours,
                theirs.encrypt(&nonce.into(), payload(message)).unwrap()
            );
            assert_eq!(aes256gcm::open(&key, &nonce, aad, &ours).unwrap(), message);
            // open of arbitrary bytes: same verdict, same plaintext
            let opened = aes256gcm::open(&key, &nonce, aad, message);
            let reference = theirs.decrypt(&nonce.into(), payload(message));
            assert_eq!(opened.ok(), reference.ok());
            // in place: a refused buffer is left exactly as given
            if message.len() >= 16 {
                let (ct, tag) = message.split_at(message.len() - 16);
                let mut buf = ct.to_vec();
                let tag: [u8; 16] = tag.try_into().unwrap();
                if aes256gcm::open_in_place_detached(&key, &nonce, aad, &mut buf, &tag).is_err() {
                    assert_eq!(buf, ct);
                }
            }
        }
        _ => {
            // Poly1305 fed in two arbitrary pieces equals the one-shot reference.
            use poly1305_ref::universal_hash::KeyInit as _;
            let cut = aad_len.min(message.len());
            let mut ours = poly1305::Poly1305::new(&key);
            ours.update(&message[..cut]);
            ours.update(&message[cut..]);
            let reference = poly1305_ref::Poly1305::new(&key.into()).compute_unpadded(message);
            assert_eq!(ours.finalize(), <[u8; 16]>::from(reference));
        }
    }
});
