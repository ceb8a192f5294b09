//! XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 §A.3.1 (typed from the draft), every
//! single-bit change refused, truncation and wrong key refused, and a differential test against
//! RustCrypto's `chacha20poly1305::XChaCha20Poly1305`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use metaless_cipher::CipherError;
use metaless_cipher::xchacha20poly1305::{
    open, open_in_place_detached, seal, seal_in_place_detached,
};
use proptest::prelude::*;

mod common;
use common::{arr, unhex};

const SUNSCREEN: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";

/// draft-irtf-cfrg-xchacha-03 Appendix A.3.1.
#[test]
fn xchacha_draft_a_3_1() {
    let key: [u8; 32] = arr("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce: [u8; 24] = arr("404142434445464748494a4b4c4d4e4f5051525354555657");
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let want_ct = unhex(
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
         731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
         2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
         21f9664c97637da9768812f615c68b13b52e",
    );
    let want_tag: [u8; 16] = arr("c0875924c1c7987947deafd8780acf49");

    let mut buf = SUNSCREEN.to_vec();
    let tag = seal_in_place_detached(&key, &nonce, &aad, &mut buf).unwrap();
    assert_eq!(buf, want_ct);
    assert_eq!(tag, want_tag);
    open_in_place_detached(&key, &nonce, &aad, &mut buf, &tag).unwrap();
    assert_eq!(buf, SUNSCREEN);

    let mut combined = want_ct.clone();
    combined.extend_from_slice(&want_tag);
    assert_eq!(seal(&key, &nonce, &aad, SUNSCREEN).unwrap(), combined);
    assert_eq!(open(&key, &nonce, &aad, &combined).unwrap(), SUNSCREEN);
}

/// Every single-bit change of ciphertext, tag, associated data and nonce is refused, and the
/// refused buffer is left as it was (nothing decrypted before the tag is checked).
#[test]
fn every_single_bit_flip_is_refused() {
    let key = [0x42u8; 32];
    let nonce = [0x24u8; 24];
    let aad = b"routing metadata".to_vec();
    let plain: Vec<u8> = (0..77u8).collect();
    let mut ct = plain.clone();
    let tag = seal_in_place_detached(&key, &nonce, &aad, &mut ct).unwrap();

    let refused = |n: &[u8; 24], a: &[u8], c: &[u8], t: &[u8; 16]| {
        let mut buf = c.to_vec();
        let r = open_in_place_detached(&key, n, a, &mut buf, t);
        assert_eq!(buf, c, "a refused buffer must be left as given");
        let mut combined = c.to_vec();
        combined.extend_from_slice(t);
        r == Err(CipherError::Forged) && open(&key, n, a, &combined) == Err(CipherError::Forged)
    };
    for bit in 0..ct.len() * 8 {
        let mut c = ct.clone();
        c[bit / 8] ^= 1 << (bit % 8);
        assert!(refused(&nonce, &aad, &c, &tag), "ciphertext bit {bit}");
    }
    for bit in 0..128 {
        let mut t = tag;
        t[bit / 8] ^= 1 << (bit % 8);
        assert!(refused(&nonce, &aad, &ct, &t), "tag bit {bit}");
    }
    for bit in 0..aad.len() * 8 {
        let mut a = aad.clone();
        a[bit / 8] ^= 1 << (bit % 8);
        assert!(refused(&nonce, &a, &ct, &tag), "aad bit {bit}");
    }
    for bit in 0..24 * 8 {
        let mut n = nonce;
        n[bit / 8] ^= 1 << (bit % 8);
        assert!(refused(&n, &aad, &ct, &tag), "nonce bit {bit}");
    }
    // and the honest input still opens
    let mut buf = ct.clone();
    open_in_place_detached(&key, &nonce, &aad, &mut buf, &tag).unwrap();
    assert_eq!(buf, plain);
}

#[test]
fn truncation_extension_and_wrong_key_are_refused() {
    let key = [1u8; 32];
    let nonce = [2u8; 24];
    let sealed = seal(&key, &nonce, b"", &[9u8; 100]).unwrap();
    for cut in 16..sealed.len() {
        assert_eq!(
            open(&key, &nonce, b"", &sealed[..cut]),
            Err(CipherError::Forged),
            "cut {cut}"
        );
    }
    for cut in 0..16 {
        assert_eq!(
            open(&key, &nonce, b"", &sealed[..cut]),
            Err(CipherError::TooShort { len: cut, tag: 16 })
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(open(&key, &nonce, b"", &longer), Err(CipherError::Forged));
    // associated data moved into the ciphertext, or dropped
    assert_eq!(open(&key, &nonce, b"x", &sealed), Err(CipherError::Forged));
    let mut wrong = key;
    wrong[31] ^= 0x80;
    assert_eq!(open(&wrong, &nonce, b"", &sealed), Err(CipherError::Forged));
    // the empty message has a tag too, and it is checked
    let empty = seal(&key, &nonce, b"ad", b"").unwrap();
    assert_eq!(empty.len(), 16);
    assert_eq!(open(&key, &nonce, b"ad", &empty).unwrap(), b"");
    assert_eq!(open(&key, &nonce, b"ae", &empty), Err(CipherError::Forged));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matches_rustcrypto(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 24]>(),
        aad in proptest::collection::vec(any::<u8>(), 0..80),
        data in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let rc = XChaCha20Poly1305::new((&key).into());
        let mut theirs = data.clone();
        let their_tag = rc.encrypt_in_place_detached((&nonce).into(), &aad, &mut theirs).unwrap();

        let mut ours = data.clone();
        let tag = seal_in_place_detached(&key, &nonce, &aad, &mut ours).unwrap();
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(tag.to_vec(), their_tag.to_vec());

        open_in_place_detached(&key, &nonce, &aad, &mut ours, &tag).unwrap();
        prop_assert_eq!(&ours, &data);

        let sealed = seal(&key, &nonce, &aad, &data).unwrap();
        prop_assert_eq!(&sealed[..data.len()], &theirs[..]);
        prop_assert_eq!(open(&key, &nonce, &aad, &sealed).unwrap(), data);
    }
}
