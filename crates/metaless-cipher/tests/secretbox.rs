//! XSalsa20-Poly1305 (secretbox): NaCl's example, every build against the RustCrypto
//! `xsalsa20poly1305` crate, and every way a box can be wrong refused with the buffer untouched.

use metaless_cipher::CipherError;
use metaless_cipher::salsa20::Backend;
use metaless_cipher::secretbox::{
    self, TAG_LEN, open, open_in_place_detached, open_in_place_detached_with, seal,
    seal_in_place_detached, seal_in_place_detached_with,
};
use proptest::prelude::*;
use xsalsa20poly1305::XSalsa20Poly1305;
use xsalsa20poly1305::aead::{AeadInPlace, KeyInit};

const BACKENDS: [Backend; 4] = [
    Backend::Best,
    Backend::Avx2,
    Backend::Portable,
    Backend::Generic,
];

// NaCl's secretbox test (nacl-20110221/tests/secretbox.c and secretbox.out; libsodium
// test/default/secretbox.c and secretbox.exp), the example of D. J. Bernstein, "Cryptography in
// NaCl" (2009), § 10: key `firstkey`, the 24-byte nonce, the 131-byte message (after NaCl's 32
// zero bytes), and the output: the tag (bytes 16..32 of NaCl's `c`) and the ciphertext.
const FIRSTKEY: [u8; 32] = [
    0x1b, 0x27, 0x55, 0x64, 0x73, 0xe9, 0x85, 0xd4, 0x62, 0xcd, 0x51, 0x19, 0x7a, 0x9a, 0x46, 0xc7,
    0x60, 0x09, 0x54, 0x9e, 0xac, 0x64, 0x74, 0xf2, 0x06, 0xc4, 0xee, 0x08, 0x44, 0xf6, 0x83, 0x89,
];
const NONCE: [u8; 24] = [
    0x69, 0x69, 0x6e, 0xe9, 0x55, 0xb6, 0x2b, 0x73, 0xcd, 0x62, 0xbd, 0xa8, 0x75, 0xfc, 0x73, 0xd6,
    0x82, 0x19, 0xe0, 0x03, 0x6b, 0x7a, 0x0b, 0x37,
];
const MESSAGE: [u8; 131] = [
    0xbe, 0x07, 0x5f, 0xc5, 0x3c, 0x81, 0xf2, 0xd5, 0xcf, 0x14, 0x13, 0x16, 0xeb, 0xeb, 0x0c, 0x7b,
    0x52, 0x28, 0xc5, 0x2a, 0x4c, 0x62, 0xcb, 0xd4, 0x4b, 0x66, 0x84, 0x9b, 0x64, 0x24, 0x4f, 0xfc,
    0xe5, 0xec, 0xba, 0xaf, 0x33, 0xbd, 0x75, 0x1a, 0x1a, 0xc7, 0x28, 0xd4, 0x5e, 0x6c, 0x61, 0x29,
    0x6c, 0xdc, 0x3c, 0x01, 0x23, 0x35, 0x61, 0xf4, 0x1d, 0xb6, 0x6c, 0xce, 0x31, 0x4a, 0xdb, 0x31,
    0x0e, 0x3b, 0xe8, 0x25, 0x0c, 0x46, 0xf0, 0x6d, 0xce, 0xea, 0x3a, 0x7f, 0xa1, 0x34, 0x80, 0x57,
    0xe2, 0xf6, 0x55, 0x6a, 0xd6, 0xb1, 0x31, 0x8a, 0x02, 0x4a, 0x83, 0x8f, 0x21, 0xaf, 0x1f, 0xde,
    0x04, 0x89, 0x77, 0xeb, 0x48, 0xf5, 0x9f, 0xfd, 0x49, 0x24, 0xca, 0x1c, 0x60, 0x90, 0x2e, 0x52,
    0xf0, 0xa0, 0x89, 0xbc, 0x76, 0x89, 0x70, 0x40, 0xe0, 0x82, 0xf9, 0x37, 0x76, 0x38, 0x48, 0x64,
    0x5e, 0x07, 0x05,
];
const TAG: [u8; 16] = [
    0xf3, 0xff, 0xc7, 0x70, 0x3f, 0x94, 0x00, 0xe5, 0x2a, 0x7d, 0xfb, 0x4b, 0x3d, 0x33, 0x05, 0xd9,
];
const CIPHERTEXT: [u8; 131] = [
    0x8e, 0x99, 0x3b, 0x9f, 0x48, 0x68, 0x12, 0x73, 0xc2, 0x96, 0x50, 0xba, 0x32, 0xfc, 0x76, 0xce,
    0x48, 0x33, 0x2e, 0xa7, 0x16, 0x4d, 0x96, 0xa4, 0x47, 0x6f, 0xb8, 0xc5, 0x31, 0xa1, 0x18, 0x6a,
    0xc0, 0xdf, 0xc1, 0x7c, 0x98, 0xdc, 0xe8, 0x7b, 0x4d, 0xa7, 0xf0, 0x11, 0xec, 0x48, 0xc9, 0x72,
    0x71, 0xd2, 0xc2, 0x0f, 0x9b, 0x92, 0x8f, 0xe2, 0x27, 0x0d, 0x6f, 0xb8, 0x63, 0xd5, 0x17, 0x38,
    0xb4, 0x8e, 0xee, 0xe3, 0x14, 0xa7, 0xcc, 0x8a, 0xb9, 0x32, 0x16, 0x45, 0x48, 0xe5, 0x26, 0xae,
    0x90, 0x22, 0x43, 0x68, 0x51, 0x7a, 0xcf, 0xea, 0xbd, 0x6b, 0xb3, 0x73, 0x2b, 0xc0, 0xe9, 0xda,
    0x99, 0x83, 0x2b, 0x61, 0xca, 0x01, 0xb6, 0xde, 0x56, 0x24, 0x4a, 0x9e, 0x88, 0xd5, 0xf9, 0xb3,
    0x79, 0x73, 0xf6, 0x22, 0xa4, 0x3d, 0x14, 0xa6, 0x59, 0x9b, 0x1f, 0x65, 0x4c, 0xb4, 0x5a, 0x74,
    0xe3, 0x55, 0xa5,
];

#[test]
fn nacl_secretbox_example() {
    for backend in BACKENDS {
        let mut buf = MESSAGE;
        let tag = seal_in_place_detached_with(backend, &FIRSTKEY, &NONCE, &mut buf);
        assert_eq!(tag, TAG, "{backend:?}");
        assert_eq!(buf, CIPHERTEXT, "{backend:?}");
        open_in_place_detached_with(backend, &FIRSTKEY, &NONCE, &mut buf, &TAG).unwrap();
        assert_eq!(buf, MESSAGE, "{backend:?}");
    }
    // The combined layout is NaCl's output from byte 16 on: tag ‖ ciphertext.
    let boxed = seal(&FIRSTKEY, &NONCE, &MESSAGE);
    assert_eq!(boxed[..16], TAG);
    assert_eq!(boxed[16..], CIPHERTEXT);
    assert_eq!(open(&FIRSTKEY, &NONCE, &boxed).unwrap(), MESSAGE);
}

#[test]
fn every_single_bit_flip_is_refused_and_leaves_the_buffer_untouched() {
    for len in [0usize, 1, 31, 32, 33, 131, 600] {
        let message: Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8).collect();
        let boxed = seal(&FIRSTKEY, &NONCE, &message);
        for bit in 0..boxed.len() * 8 {
            let mut tampered = boxed.clone();
            tampered[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                open(&FIRSTKEY, &NONCE, &tampered),
                Err(CipherError::Forged),
                "len {len} bit {bit}"
            );
            // Detached, in place: the refused buffer is exactly what was given.
            let mut tag = [0u8; TAG_LEN];
            tag.copy_from_slice(&tampered[..TAG_LEN]);
            let mut body = tampered[TAG_LEN..].to_vec();
            for backend in BACKENDS {
                assert_eq!(
                    open_in_place_detached_with(backend, &FIRSTKEY, &NONCE, &mut body, &tag),
                    Err(CipherError::Forged)
                );
                assert_eq!(body, tampered[TAG_LEN..]);
            }
        }
    }
}

#[test]
fn wrong_key_and_wrong_nonce_are_refused() {
    let boxed = seal(&FIRSTKEY, &NONCE, &MESSAGE);
    for byte in 0..32 {
        let mut key = FIRSTKEY;
        key[byte] ^= 0x80;
        assert_eq!(open(&key, &NONCE, &boxed), Err(CipherError::Forged));
    }
    for byte in 0..24 {
        let mut nonce = NONCE;
        nonce[byte] ^= 1;
        assert_eq!(open(&FIRSTKEY, &nonce, &boxed), Err(CipherError::Forged));
    }
}

#[test]
fn truncated_and_extended_boxes_are_refused() {
    let boxed = seal(&FIRSTKEY, &NONCE, &MESSAGE);
    for len in 0..TAG_LEN {
        assert_eq!(
            open(&FIRSTKEY, &NONCE, &boxed[..len]),
            Err(CipherError::TooShort { len, tag: TAG_LEN })
        );
    }
    for len in TAG_LEN..boxed.len() {
        assert_eq!(
            open(&FIRSTKEY, &NONCE, &boxed[..len]),
            Err(CipherError::Forged),
            "{len}"
        );
    }
    let mut longer = boxed.clone();
    longer.push(0);
    assert_eq!(open(&FIRSTKEY, &NONCE, &longer), Err(CipherError::Forged));
    // The empty message has a box of exactly one tag, and it opens.
    let empty = seal(&FIRSTKEY, &NONCE, b"");
    assert_eq!(empty.len(), TAG_LEN);
    assert_eq!(open(&FIRSTKEY, &NONCE, &empty).unwrap(), b"");
}

#[test]
fn public_functions_use_the_best_build() {
    let mut a = [7u8; 1000];
    let mut b = [7u8; 1000];
    let ta = seal_in_place_detached(&FIRSTKEY, &NONCE, &mut a);
    let tb = seal_in_place_detached_with(Backend::Portable, &FIRSTKEY, &NONCE, &mut b);
    assert_eq!((ta, a), (tb, b));
    open_in_place_detached(&FIRSTKEY, &NONCE, &mut a, &ta).unwrap();
    assert_eq!(a, [7u8; 1000]);
    assert_eq!(secretbox::KEY_LEN + secretbox::NONCE_LEN, 56);
}

proptest! {
    #[test]
    fn matches_rustcrypto(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 24]>(),
        message in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let cipher = XSalsa20Poly1305::new(&key.into());
        let mut reference = message.clone();
        let reference_tag = cipher
            .encrypt_in_place_detached(&nonce.into(), b"", &mut reference)
            .unwrap();
        for backend in BACKENDS {
            let mut ours = message.clone();
            let tag = seal_in_place_detached_with(backend, &key, &nonce, &mut ours);
            prop_assert_eq!(&tag[..], &reference_tag[..]);
            prop_assert_eq!(&ours, &reference);
            open_in_place_detached_with(backend, &key, &nonce, &mut ours, &tag).unwrap();
            prop_assert_eq!(&ours, &message);
        }
        // And RustCrypto opens what we seal (combined layout = its tag ‖ ciphertext).
        let boxed = seal(&key, &nonce, &message);
        let mut body = boxed[TAG_LEN..].to_vec();
        cipher
            .decrypt_in_place_detached(&nonce.into(), b"", &mut body, boxed[..TAG_LEN].into())
            .unwrap();
        prop_assert_eq!(body, message);
    }
}
