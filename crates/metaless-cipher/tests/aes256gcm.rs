//! AES-256-GCM: the AES-256 test cases of McGrew and Viega's GCM specification (the ones NIST's
//! GCM page carries: cases 13–16, 96-bit IV, typed from the paper) on every build this CPU runs,
//! every single-bit change refused with the buffer untouched, truncation, wrong key and wrong
//! nonce refused, and a differential test against RustCrypto's `aes_gcm::Aes256Gcm` on every
//! build.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use metaless_cipher::__paths as paths;
use metaless_cipher::CipherError;
use metaless_cipher::aes256gcm::{open, open_in_place_detached, seal, seal_in_place_detached};
use proptest::prelude::*;

mod common;
use common::{arr, unhex};

/// The builds this CPU can run (the portable one always; AES-NI where cpuid says so).
/// `METALESS_EXPECT_AESNI=1` makes a missing AES-NI build a failure instead of a skip.
fn builds() -> Vec<paths::AesBuild> {
    if std::env::var_os("METALESS_EXPECT_AESNI").is_some() {
        assert!(paths::aes_available(paths::AesBuild::AesNi));
    }
    paths::AES_ALL
        .into_iter()
        .filter(|b| paths::aes_available(*b))
        .collect()
}

/// Seals with `build` and checks the known answer, then opens it back (also through the public
/// functions, which use the best build).
fn known_answer(key: &str, iv: &str, plain: &str, aad: &str, want_ct: &str, want_tag: &str) {
    let key: [u8; 32] = arr(key);
    let iv: [u8; 12] = arr(iv);
    let (plain, aad, want_ct) = (unhex(plain), unhex(aad), unhex(want_ct));
    let want_tag: [u8; 16] = arr(want_tag);
    for build in builds() {
        let mut buf = plain.clone();
        let tag = paths::aes_seal(build, &key, &iv, &aad, &mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(buf, want_ct, "{build:?} ciphertext");
        assert_eq!(tag, want_tag, "{build:?} tag");
        paths::aes_open(build, &key, &iv, &aad, &mut buf, &tag)
            .unwrap()
            .unwrap();
        assert_eq!(buf, plain, "{build:?} open");
    }
    let mut buf = plain.clone();
    assert_eq!(
        seal_in_place_detached(&key, &iv, &aad, &mut buf).unwrap(),
        want_tag
    );
    assert_eq!(buf, want_ct);
    open_in_place_detached(&key, &iv, &aad, &mut buf, &want_tag).unwrap();
    assert_eq!(buf, plain);
    let mut combined = want_ct.clone();
    combined.extend_from_slice(&want_tag);
    assert_eq!(seal(&key, &iv, &aad, &plain).unwrap(), combined);
    assert_eq!(open(&key, &iv, &aad, &combined).unwrap(), plain);
}

const K0: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const K15: &str = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const P15: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                   1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const C15: &str = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
                   8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";

/// Test case 13: all-zero key and IV, empty plaintext (the tag is `E(J0) ⊕ GHASH(len)`).
#[test]
fn mcgrew_viega_13_empty() {
    known_answer(
        K0,
        "000000000000000000000000",
        "",
        "",
        "",
        "530f8afbc74536b9a963b4f1c4cb738b",
    );
}

/// Test case 14: one zero block.
#[test]
fn mcgrew_viega_14_one_block() {
    known_answer(
        K0,
        "000000000000000000000000",
        "00000000000000000000000000000000",
        "",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    );
}

/// Test case 15: four blocks, no associated data.
#[test]
fn mcgrew_viega_15_four_blocks() {
    known_answer(
        K15,
        "cafebabefacedbaddecaf888",
        P15,
        "",
        C15,
        "b094dac5d93471bdec1a502270e3cc6c",
    );
}

/// Test case 16: 60 bytes (not a block multiple) with 20 bytes of associated data.
#[test]
fn mcgrew_viega_16_aad_and_partial_block() {
    known_answer(
        K15,
        "cafebabefacedbaddecaf888",
        &P15.replace(char::is_whitespace, "")[..120],
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        &C15.replace(char::is_whitespace, "")[..120],
        "76fc6ece0f4e1768cddf8853bb2d551b",
    );
}

/// Refused by every build and by the public functions, the buffer left as given.
fn refused(key: &[u8; 32], n: &[u8; 12], a: &[u8], c: &[u8], t: &[u8; 16]) -> bool {
    let mut all = true;
    for build in builds() {
        let mut buf = c.to_vec();
        let r = paths::aes_open(build, key, n, a, &mut buf, t).unwrap();
        assert_eq!(buf, c, "{build:?}: a refused buffer must be left as given");
        all &= r == Err(CipherError::Forged);
    }
    let mut buf = c.to_vec();
    all &= open_in_place_detached(key, n, a, &mut buf, t) == Err(CipherError::Forged);
    assert_eq!(buf, c, "a refused buffer must be left as given");
    let mut combined = c.to_vec();
    combined.extend_from_slice(t);
    all && open(key, n, a, &combined) == Err(CipherError::Forged)
}

/// Every single-bit change of ciphertext, tag, associated data and nonce is refused, and the
/// refused buffer is left as it was (nothing decrypted before the tag is checked). 141 bytes:
/// eight-block batch, a short batch and a partial block.
#[test]
fn every_single_bit_flip_is_refused() {
    let key = [0x42u8; 32];
    let nonce = [0x24u8; 12];
    let aad = b"routing metadata, more than one block".to_vec();
    let plain: Vec<u8> = (0..141u8).collect();
    let mut ct = plain.clone();
    let tag = seal_in_place_detached(&key, &nonce, &aad, &mut ct).unwrap();
    let mut honest = ct.clone();
    open_in_place_detached(&key, &nonce, &aad, &mut honest, &tag).unwrap();
    assert_eq!(honest, plain);
    for bit in 0..ct.len() * 8 {
        let mut c = ct.clone();
        c[bit / 8] ^= 1 << (bit % 8);
        assert!(
            refused(&key, &nonce, &aad, &c, &tag),
            "ciphertext bit {bit}"
        );
    }
    for bit in 0..128 {
        let mut t = tag;
        t[bit / 8] ^= 1 << (bit % 8);
        assert!(refused(&key, &nonce, &aad, &ct, &t), "tag bit {bit}");
    }
    for bit in 0..aad.len() * 8 {
        let mut a = aad.clone();
        a[bit / 8] ^= 1 << (bit % 8);
        assert!(refused(&key, &nonce, &a, &ct, &tag), "aad bit {bit}");
    }
    for bit in 0..96 {
        let mut n = nonce;
        n[bit / 8] ^= 1 << (bit % 8);
        assert!(refused(&key, &n, &aad, &ct, &tag), "nonce bit {bit}");
    }
}

#[test]
fn truncation_extension_wrong_key_and_wrong_nonce_are_refused() {
    let key = [5u8; 32];
    let nonce = [6u8; 12];
    let plain = vec![0xa5u8; 300];
    let sealed = seal(&key, &nonce, b"ad", &plain).unwrap();
    assert_eq!(open(&key, &nonce, b"ad", &sealed).unwrap(), plain);
    for cut in 1..=sealed.len() {
        let short = &sealed[..sealed.len() - cut];
        let want = if short.len() < 16 {
            Err(CipherError::TooShort {
                len: short.len(),
                tag: 16,
            })
        } else {
            Err(CipherError::Forged)
        };
        assert_eq!(open(&key, &nonce, b"ad", short), want, "cut {cut}");
        // the front of the box too (drops ciphertext, keeps the tag)
        assert!(
            open(&key, &nonce, b"ad", &sealed[cut..]).is_err(),
            "front cut {cut}"
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(open(&key, &nonce, b"ad", &longer), Err(CipherError::Forged));
    let (ct, tag) = sealed.split_at(300);
    let tag: [u8; 16] = tag.try_into().unwrap();
    let mut other = key;
    other[31] ^= 0x80;
    assert!(refused(&other, &nonce, b"ad", ct, &tag));
    assert!(refused(&key, &[7u8; 12], b"ad", ct, &tag));
    assert!(refused(&key, &nonce, b"", ct, &tag));
    assert!(refused(&key, &nonce, b"ad\0", ct, &tag));
}

/// Every length 0..=300 (all batch shapes and partial blocks), with associated data of every
/// length 0..=40 alongside, against RustCrypto, on every build.
#[test]
fn every_short_length_matches_rustcrypto() {
    let key = [0x3cu8; 32];
    let nonce = [0xc3u8; 12];
    let rc = Aes256Gcm::new(&key.into());
    for len in 0..=300usize {
        let plain: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        let aad: Vec<u8> = (0..len % 41).map(|i| i as u8).collect();
        let mut want = plain.clone();
        let want_tag: [u8; 16] = rc
            .encrypt_in_place_detached(&nonce.into(), &aad, &mut want)
            .unwrap()
            .into();
        for build in builds() {
            let mut buf = plain.clone();
            let tag = paths::aes_seal(build, &key, &nonce, &aad, &mut buf)
                .unwrap()
                .unwrap();
            assert_eq!((&buf, tag), (&want, want_tag), "{build:?} len {len}");
            paths::aes_open(build, &key, &nonce, &aad, &mut buf, &tag)
                .unwrap()
                .unwrap();
            assert_eq!(buf, plain, "{build:?} len {len}");
        }
    }
}

#[test]
fn reports_the_aes_build() {
    for build in paths::AES_ALL {
        eprintln!("{build:?}: available {}", paths::aes_available(build));
    }
    eprintln!("dispatched to: {:?}", paths::aes_best());
    assert!(paths::aes_available(paths::AesBuild::Soft));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Seal and open equal RustCrypto's on every build for random keys, nonces, associated
    /// data and lengths 0..3000; RustCrypto opens ours.
    #[test]
    fn matches_rustcrypto(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        aad in proptest::collection::vec(any::<u8>(), 0..300),
        plain in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let rc = Aes256Gcm::new(&key.into());
        let mut want = plain.clone();
        let want_tag: [u8; 16] =
            rc.encrypt_in_place_detached(&nonce.into(), &aad, &mut want).unwrap().into();
        for build in builds() {
            let mut buf = plain.clone();
            let tag = paths::aes_seal(build, &key, &nonce, &aad, &mut buf).unwrap().unwrap();
            prop_assert_eq!(&buf, &want, "{:?}", build);
            prop_assert_eq!(tag, want_tag, "{:?}", build);
            paths::aes_open(build, &key, &nonce, &aad, &mut buf, &tag).unwrap().unwrap();
            prop_assert_eq!(&buf, &plain, "{:?}", build);
        }
        let mut buf = plain.clone();
        let tag = seal_in_place_detached(&key, &nonce, &aad, &mut buf).unwrap();
        rc.decrypt_in_place_detached(&nonce.into(), &aad, &mut buf, &tag.into()).unwrap();
        prop_assert_eq!(&buf, &plain);
    }

    /// A random tag (or a random change of a sealed box) is refused by every build, the buffer
    /// untouched, as RustCrypto refuses it.
    #[test]
    fn forgeries_are_refused_like_rustcrypto(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        plain in proptest::collection::vec(any::<u8>(), 0..600),
        flip in any::<(usize, u8)>(),
    ) {
        let mut ct = plain.clone();
        let tag = seal_in_place_detached(&key, &nonce, b"", &mut ct).unwrap();
        let mut forged = ct.clone();
        forged.extend_from_slice(&tag);
        let at = flip.0 % forged.len();
        forged[at] ^= flip.1.max(1);
        let (c, t) = forged.split_at(ct.len());
        let t: [u8; 16] = t.try_into().unwrap();
        prop_assert!(refused(&key, &nonce, b"", c, &t));
        let mut buf = c.to_vec();
        prop_assert!(Aes256Gcm::new(&key.into())
            .decrypt_in_place_detached(&nonce.into(), b"", &mut buf, &t.into())
            .is_err());
    }
}
