//! ChaCha20 / HChaCha20 / XChaCha20: RFC 8439 and draft-irtf-cfrg-xchacha-03 vectors (typed
//! from the documents, sections cited), and a differential test against RustCrypto's
//! `chacha20` over random keys, nonces, counters (also near the 32-bit wrap) and lengths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use metaless_cipher::CipherError;
use metaless_cipher::chacha20::{block, hchacha20, xchacha20_xor_in_place, xor_in_place};
use proptest::prelude::*;

mod common;
use common::{arr, unhex};

const KEY_SEQ: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SUNSCREEN: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";

/// RFC 8439 §2.3.2: the block function, counter 1.
#[test]
fn rfc8439_2_3_2_block() {
    let want = unhex(
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e
         d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
    );
    let got = block(&arr(KEY_SEQ), &arr("000000090000004a00000000"), 1);
    assert_eq!(got.to_vec(), want);
}

/// RFC 8439 §2.4.2: encrypting the sunscreen text from counter 1.
#[test]
fn rfc8439_2_4_2_encryption() {
    let want = unhex(
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b
         f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8
         07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736
         5af90bbf74a35be6b40b8eedf2785e42874d",
    );
    let mut buf = SUNSCREEN.to_vec();
    xor_in_place(&arr(KEY_SEQ), &arr("000000000000004a00000000"), 1, &mut buf).unwrap();
    assert_eq!(buf, want);
}

/// RFC 8439 Appendix A.1: block function test vectors #1–#5.
#[test]
fn rfc8439_a_1_blocks() {
    let z = "0000000000000000000000000000000000000000000000000000000000000000";
    let cases = [
        (
            1,
            z,
            "000000000000000000000000",
            0u32,
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
        ),
        (
            2,
            z,
            "000000000000000000000000",
            1,
            "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f",
        ),
        (
            3,
            "0000000000000000000000000000000000000000000000000000000000000001",
            "000000000000000000000000",
            1,
            "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0",
        ),
        (
            4,
            "00ff000000000000000000000000000000000000000000000000000000000000",
            "000000000000000000000000",
            2,
            "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096",
        ),
        (
            5,
            z,
            "000000000000000000000002",
            0,
            "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c78a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d",
        ),
    ];
    for (n, key, nonce, counter, want) in cases {
        assert_eq!(
            block(&arr(key), &arr(nonce), counter).to_vec(),
            unhex(want),
            "A.1 #{n}"
        );
        // the same block through the stream, alone and inside a longer run
        let mut zeros = [0u8; 64];
        xor_in_place(&arr(key), &arr(nonce), counter, &mut zeros).unwrap();
        assert_eq!(zeros.to_vec(), unhex(want), "A.1 #{n} stream");
        if counter > 0 {
            let mut run = vec![0u8; 64 * 9];
            xor_in_place(&arr(key), &arr(nonce), counter - 1, &mut run).unwrap();
            assert_eq!(run[64..128].to_vec(), unhex(want), "A.1 #{n} in a run");
        }
    }
}

const IETF_TEXT: &str = "Any submission to the IETF intended by the Contributor for publication as all or part of an IETF Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an \"IETF Contribution\". Such statements include oral statements in IETF sessions, as well as written and electronic communications made at any time or place, which are addressed to";

const JABBERWOCKY: &str = "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.";

/// RFC 8439 Appendix A.2: encryption test vectors #1–#3.
#[test]
fn rfc8439_a_2_encryption() {
    type Case = (u32, &'static str, &'static str, u32, Vec<u8>, &'static str);
    let cases: [Case; 3] = [
        (1, "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", 0, vec![0u8; 64],
         "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
        (2, "0000000000000000000000000000000000000000000000000000000000000001", "000000000000000000000002", 1, IETF_TEXT.into(),
         "a3fbf07df3fa2fde4f376ca23e82737041605d9f4f4f57bd8cff2c1d4b7955ec2a97948bd3722915c8f3d337f7d370050e9e96d647b7c39f56e031ca5eb6250d
          4042e02785ececfa4b4bb5e8ead0440e20b6e8db09d881a7c6132f420e52795042bdfa7773d8a9051447b3291ce1411c680465552aa6c405b7764d5e87bea85ad00f8
          449ed8f72d0d662ab052691ca66424bc86d2df80ea41f43abf937d3259dc4b2d0dfb48a6c9139ddd7f76966e928e635553ba76c5c879d7b35d49eb2e62b0871cdac638939e25e8a1e0ef9d5280fa8ca328b351c3c765989cbcf3daa8b6ccc3aaf9f3979c92b3720fc88dc95ed84a1be059c6499b9fda236e7e818b04b0bc39c1e876b
          193bfe5569753f88128cc08aaa9b63d1a16f80ef2554d7189c411f5869ca52c5b83fa36ff216b9c1d30062bebcfd2dc5bce0911934fda79a86f6e698ced759c3ff9b6477338f3da4f9cd8514ea9982ccafb341b2384dd902f3d1ab7ac61dd29c6f21ba5b862f3730e37cfdc4fd806c22f221"),
        (3, "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", "000000000000000000000002", 42, JABBERWOCKY.into(),
         "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553ebf39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f7704c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1"),
    ];
    for (n, key, nonce, counter, plain, want) in cases {
        let mut buf = plain.clone();
        xor_in_place(&arr(key), &arr(nonce), counter, &mut buf).unwrap();
        assert_eq!(buf, unhex(want), "A.2 #{n}");
        xor_in_place(&arr(key), &arr(nonce), counter, &mut buf).unwrap();
        assert_eq!(buf, plain, "A.2 #{n} back");
    }
}

/// draft-irtf-cfrg-xchacha-03 §2.2.1: the HChaCha20 subkey.
#[test]
fn xchacha_draft_2_2_1_hchacha20() {
    let got = hchacha20(&arr(KEY_SEQ), &arr("000000090000004a0000000031415927"));
    assert_eq!(
        got,
        arr::<32>("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")
    );
}

#[test]
fn too_long_is_refused_before_touching_the_buffer() {
    let key = [3u8; 32];
    let nonce = [4u8; 12];
    // counter 2^32 - 2 leaves two blocks: 128 bytes fit, 129 do not
    let mut fits = vec![0u8; 128];
    xor_in_place(&key, &nonce, u32::MAX - 1, &mut fits).unwrap();
    assert_eq!(fits[64..].to_vec(), block(&key, &nonce, u32::MAX).to_vec());
    let mut over = vec![0u8; 129];
    assert_eq!(
        xor_in_place(&key, &nonce, u32::MAX - 1, &mut over),
        Err(CipherError::TooLong { len: 129 })
    );
    assert_eq!(over, vec![0u8; 129]);
    let mut empty = [0u8; 0];
    xor_in_place(&key, &nonce, u32::MAX, &mut empty).unwrap();
}

/// RFC 8439 §2.3's block function written out plainly, one block, for the last counter value.
fn rfc_block(key: &[u8; 32], nonce: &[u8; 12], counter: u32) -> [u8; 64] {
    let le = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap());
    let mut x = [0u32; 16];
    x[..4].copy_from_slice(&[0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
    for i in 0..8 {
        x[4 + i] = le(&key[4 * i..4 * i + 4]);
    }
    x[12] = counter;
    for i in 0..3 {
        x[13 + i] = le(&nonce[4 * i..4 * i + 4]);
    }
    let init = x;
    fn qr(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(16);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(12);
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(8);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(7);
    }
    for _ in 0..10 {
        qr(&mut x, 0, 4, 8, 12);
        qr(&mut x, 1, 5, 9, 13);
        qr(&mut x, 2, 6, 10, 14);
        qr(&mut x, 3, 7, 11, 15);
        qr(&mut x, 0, 5, 10, 15);
        qr(&mut x, 1, 6, 11, 12);
        qr(&mut x, 2, 7, 8, 13);
        qr(&mut x, 3, 4, 9, 14);
    }
    let mut out = [0u8; 64];
    for i in 0..16 {
        out[4 * i..4 * i + 4].copy_from_slice(&x[i].wrapping_add(init[i]).to_le_bytes());
    }
    out
}

#[test]
fn the_plain_reference_block_matches_rfc8439_2_3_2() {
    let want = unhex(
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e
         d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
    );
    assert_eq!(
        rfc_block(&arr(KEY_SEQ), &arr("000000090000004a00000000"), 1).to_vec(),
        want
    );
}

fn reference(key: &[u8; 32], nonce: &[u8; 12], counter: u32, buf: &mut [u8]) {
    let mut c = chacha20::ChaCha20::new(key.into(), nonce.into());
    c.seek(u64::from(counter) * 64);
    c.apply_keystream(buf);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn matches_rustcrypto(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        counter in any::<u32>(),
        data in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut ours = data.clone();
        let room = (1u64 << 32) - u64::from(counter);
        let fits = (data.len() as u64).div_ceil(64) <= room;
        let res = xor_in_place(&key, &nonce, counter, &mut ours);
        if fits {
            prop_assert!(res.is_ok());
            let mut theirs = data.clone();
            reference(&key, &nonce, counter, &mut theirs);
            prop_assert_eq!(ours, theirs);
        } else {
            prop_assert_eq!(res, Err(CipherError::TooLong { len: data.len() as u64 }));
            prop_assert_eq!(ours, data);
        }
    }

    /// Counters within 48 blocks of the wrap, lengths up to what still fits.
    #[test]
    fn matches_rustcrypto_near_the_counter_wrap(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        back in 1u32..48,
        len in 0usize..3000,
    ) {
        let counter = u32::MAX - (back - 1);
        let len = len.min(back as usize * 64);
        let mut ours = vec![0x5au8; len];
        xor_in_place(&key, &nonce, counter, &mut ours).unwrap();
        // RustCrypto's IETF cipher refuses to produce the counter's very last block (its
        // `remaining_blocks` is `u32::MAX - pos`), so it is the reference up to there and the
        // test's own one-block RFC 8439 §2.3 function for block 2³² − 1.
        let before = len.min((back as usize - 1) * 64);
        let mut theirs = vec![0x5au8; before];
        reference(&key, &nonce, counter, &mut theirs);
        for b in rfc_block(&key, &nonce, u32::MAX).iter().take(len - before) {
            theirs.push(0x5a ^ b);
        }
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn xchacha20_matches_rustcrypto(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 24]>(),
        counter in 0u32..1000,
        data in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut ours = data.clone();
        xchacha20_xor_in_place(&key, &nonce, counter, &mut ours).unwrap();
        let mut theirs = data.clone();
        let mut c = chacha20::XChaCha20::new((&key).into(), (&nonce).into());
        c.seek(u64::from(counter) * 64);
        c.apply_keystream(&mut theirs);
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn hchacha20_matches_rustcrypto(key in any::<[u8; 32]>(), input in any::<[u8; 16]>()) {
        let theirs = chacha20::hchacha::<chacha20::cipher::consts::U10>((&key).into(), (&input).into());
        prop_assert_eq!(hchacha20(&key, &input).to_vec(), theirs.to_vec());
    }
}
