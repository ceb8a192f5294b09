//! Salsa20 / XSalsa20 / HSalsa20: NaCl's known answers, and every build of the lane-parallel
//! block function against the RustCrypto `salsa20` crate for random keys, nonces, counters and
//! lengths.

use ::salsa20::cipher::consts::U10;
use ::salsa20::cipher::{
    KeyIvInit, StreamCipher, StreamCipherCore, StreamCipherSeek, StreamCipherSeekCore,
};
use metaless_cipher::salsa20::{
    BLOCK_LEN, Backend, hsalsa20, salsa20_xor, salsa20_xor_with, xsalsa20_xor, xsalsa20_xor_with,
};
use proptest::prelude::*;

const BACKENDS: [Backend; 4] = [
    Backend::Best,
    Backend::Avx2,
    Backend::Portable,
    Backend::Generic,
];

// The inputs of NaCl's tests (nacl-20110221/tests/core1.c, core2.c, stream3.c; libsodium
// test/default/core1.c, core2.c, stream3.c), the same numbers as in D. J. Bernstein,
// "Cryptography in NaCl" (2009), §§ 7–9: Alice and Bob's shared secret, its HSalsa20 key
// `firstkey`, the nonce, and the subkey `secondkey`.
const SHARED: [u8; 32] = [
    0x4a, 0x5d, 0x9d, 0x5b, 0xa4, 0xce, 0x2d, 0xe1, 0x72, 0x8e, 0x3b, 0xf4, 0x80, 0x35, 0x0f, 0x25,
    0xe0, 0x7e, 0x21, 0xc9, 0x47, 0xd1, 0x9e, 0x33, 0x76, 0xf0, 0x9b, 0x3c, 0x1e, 0x16, 0x17, 0x42,
];
const FIRSTKEY: [u8; 32] = [
    0x1b, 0x27, 0x55, 0x64, 0x73, 0xe9, 0x85, 0xd4, 0x62, 0xcd, 0x51, 0x19, 0x7a, 0x9a, 0x46, 0xc7,
    0x60, 0x09, 0x54, 0x9e, 0xac, 0x64, 0x74, 0xf2, 0x06, 0xc4, 0xee, 0x08, 0x44, 0xf6, 0x83, 0x89,
];
const NONCE: [u8; 24] = [
    0x69, 0x69, 0x6e, 0xe9, 0x55, 0xb6, 0x2b, 0x73, 0xcd, 0x62, 0xbd, 0xa8, 0x75, 0xfc, 0x73, 0xd6,
    0x82, 0x19, 0xe0, 0x03, 0x6b, 0x7a, 0x0b, 0x37,
];
// core2.out
const SECONDKEY: [u8; 32] = [
    0xdc, 0x90, 0x8d, 0xda, 0x0b, 0x93, 0x44, 0xa9, 0x53, 0x62, 0x9b, 0x73, 0x38, 0x20, 0x77, 0x88,
    0x80, 0xf3, 0xce, 0xb4, 0x21, 0xbb, 0x61, 0xb9, 0x1c, 0xbd, 0x4c, 0x3e, 0x66, 0x25, 0x6c, 0xe4,
];
// stream3.out: the first 32 bytes of XSalsa20(firstkey, nonce), the secretbox's Poly1305 key
// (`rs` in the paper's onetimeauth example).
const RS: [u8; 32] = [
    0xee, 0xa6, 0xa7, 0x25, 0x1c, 0x1e, 0x72, 0x91, 0x6d, 0x11, 0xc2, 0xcb, 0x21, 0x4d, 0x3c, 0x25,
    0x25, 0x39, 0x12, 0x1d, 0x8e, 0x23, 0x4e, 0x65, 0x2d, 0x65, 0x1f, 0xa4, 0xc8, 0xcf, 0xf8, 0x80,
];

#[test]
fn hsalsa20_nacl_core1_and_core2() {
    assert_eq!(hsalsa20(&SHARED, &[0u8; 16]), FIRSTKEY);
    let mut prefix = [0u8; 16];
    prefix.copy_from_slice(&NONCE[..16]);
    assert_eq!(hsalsa20(&FIRSTKEY, &prefix), SECONDKEY);
}

#[test]
fn xsalsa20_nacl_stream3() {
    for backend in BACKENDS {
        let mut stream = [0u8; 32];
        xsalsa20_xor_with(backend, &FIRSTKEY, &NONCE, 0, &mut stream);
        assert_eq!(stream, RS, "{backend:?}");
        // The same bytes as Salsa20 under the subkey with the nonce's last 8 bytes (stream4).
        let mut stream = [0u8; 32];
        let suffix: [u8; 8] = NONCE[16..].try_into().unwrap();
        salsa20_xor_with(backend, &SECONDKEY, &suffix, 0, &mut stream);
        assert_eq!(stream, RS, "{backend:?}");
    }
}

/// A long stream, well past every lane batch, against RustCrypto; and in pieces that start at
/// every block offset, each equal to the corresponding slice of the whole.
#[test]
fn long_stream_and_counter_offsets() {
    let mut reference = vec![0u8; 1 << 16];
    let mut cipher = ::salsa20::XSalsa20::new(&FIRSTKEY.into(), &NONCE.into());
    cipher.apply_keystream(&mut reference);
    for backend in BACKENDS {
        let mut ours = vec![0u8; 1 << 16];
        xsalsa20_xor_with(backend, &FIRSTKEY, &NONCE, 0, &mut ours);
        assert!(ours == reference, "{backend:?}");
        for block in 0..40u64 {
            for len in [1usize, 63, 64, 65, 500, 1000] {
                let start = block as usize * 64;
                let mut piece = vec![0u8; len];
                xsalsa20_xor_with(backend, &FIRSTKEY, &NONCE, block, &mut piece);
                assert_eq!(
                    piece[..],
                    reference[start..start + len],
                    "{backend:?} {block} {len}"
                );
            }
        }
    }
}

/// The counter's high word is used: a stream starting just below 2^32 blocks crosses into the
/// high word exactly as RustCrypto's 64-bit counter does.
#[test]
fn counter_crosses_32_bits() {
    let key = [0x42u8; 32];
    let nonce = [0x17u8; 8];
    let start = (1u64 << 32) - 5;
    let mut reference = vec![0u8; 64 * 20];
    let mut cipher = ::salsa20::Salsa20::new(&key.into(), &nonce.into());
    cipher.seek(start * 64);
    cipher.apply_keystream(&mut reference);
    for backend in BACKENDS {
        let mut ours = vec![0u8; 64 * 20];
        salsa20_xor_with(backend, &key, &nonce, start, &mut ours);
        assert!(ours == reference, "{backend:?}");
    }
}

/// Wrapping at 2^64 blocks, as libsodium's `_xor_ic` counter wraps: the block after
/// `u64::MAX` is block 0. RustCrypto's stream computes every block but the last one (its
/// position would overflow), so that one is our single-block path.
#[test]
fn counter_wraps_at_64_bits() {
    let key = [5u8; 32];
    let nonce = [6u8; 8];
    let mut expected = vec![0u8; 64 * 10];
    let mut core = ::salsa20::SalsaCore::<U10>::new(&key.into(), &nonce.into());
    core.set_block_pos(u64::MAX - 6);
    for block in expected[..6 * 64].chunks_exact_mut(64) {
        let mut out = Default::default();
        core.write_keystream_block(&mut out);
        block.copy_from_slice(&out);
    }
    salsa20_xor(&key, &nonce, u64::MAX, &mut expected[6 * 64..7 * 64]);
    ::salsa20::Salsa20::new(&key.into(), &nonce.into()).apply_keystream(&mut expected[7 * 64..]);
    for backend in BACKENDS {
        let mut wrapped = vec![0u8; 64 * 10];
        salsa20_xor_with(backend, &key, &nonce, u64::MAX - 6, &mut wrapped);
        assert!(wrapped == expected, "{backend:?}");
    }
}

#[test]
fn xor_twice_is_identity_and_changes_every_input() {
    let message: Vec<u8> = (0..777u32).map(|i| (i * 7) as u8).collect();
    let mut buf = message.clone();
    xsalsa20_xor(&[1; 32], &[2; 24], 0, &mut buf);
    assert_ne!(buf, message);
    let mut other = message.clone();
    xsalsa20_xor(&[1; 32], &[3; 24], 0, &mut other);
    assert_ne!(other, buf, "nonce matters");
    let mut other = message.clone();
    xsalsa20_xor(&[9; 32], &[2; 24], 0, &mut other);
    assert_ne!(other, buf, "key matters");
    xsalsa20_xor(&[1; 32], &[2; 24], 0, &mut buf);
    assert_eq!(buf, message);
    assert_eq!(BLOCK_LEN, 64);
}

proptest! {
    #[test]
    fn xsalsa20_matches_rustcrypto(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 24]>(),
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        counter in 0u64..1000,
    ) {
        let mut reference = data.clone();
        let mut cipher = ::salsa20::XSalsa20::new(&key.into(), &nonce.into());
        cipher.seek(counter * 64);
        cipher.apply_keystream(&mut reference);
        for backend in BACKENDS {
            let mut ours = data.clone();
            xsalsa20_xor_with(backend, &key, &nonce, counter, &mut ours);
            prop_assert_eq!(&ours, &reference, "{:?}", backend);
        }
    }

    #[test]
    fn salsa20_matches_rustcrypto(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 8]>(),
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        counter in any::<u32>(),
    ) {
        let counter = u64::from(counter) << 8;
        let mut reference = data.clone();
        let mut cipher = ::salsa20::Salsa20::new(&key.into(), &nonce.into());
        cipher.seek(counter * 64);
        cipher.apply_keystream(&mut reference);
        for backend in BACKENDS {
            let mut ours = data.clone();
            salsa20_xor_with(backend, &key, &nonce, counter, &mut ours);
            prop_assert_eq!(&ours, &reference, "{:?}", backend);
        }
    }

    #[test]
    fn hsalsa20_matches_rustcrypto(key in any::<[u8; 32]>(), input in any::<[u8; 16]>()) {
        let reference = ::salsa20::hsalsa::<U10>(&key.into(), &input.into());
        prop_assert_eq!(&hsalsa20(&key, &input)[..], &reference[..]);
    }
}
