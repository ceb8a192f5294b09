//! Both builds of the dispatched code, run on this machine and compared: the portable
//! (baseline SSE2/NEON) build always, the AVX2 build where the CPU has it, and both against
//! RustCrypto. On a CPU without AVX2 the test says so and checks the portable build alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use metaless_cipher::__paths as paths;
use metaless_cipher::CipherError;
use proptest::prelude::*;

#[test]
fn reports_which_builds_run() {
    eprintln!(
        "AVX2 build available on this CPU: {}",
        paths::avx2_available()
    );
    #[cfg(target_arch = "x86_64")]
    if std::env::var_os("METALESS_EXPECT_AVX2").is_some() {
        assert!(paths::avx2_available());
    }
}

#[test]
fn forged_is_refused_by_both_builds_and_the_buffer_kept() {
    let key = [8u8; 32];
    let nonce = [9u8; 24];
    let mut buf = vec![7u8; 1000];
    let tag = paths::portable_seal(&key, &nonce, b"a", &mut buf);
    let sealed = buf.clone();
    let mut bad = tag;
    bad[0] ^= 1;
    assert_eq!(
        paths::portable_open(&key, &nonce, b"a", &mut buf, &bad),
        Err(CipherError::Forged)
    );
    assert_eq!(buf, sealed);
    if let Some(r) = paths::avx2_open(&key, &nonce, b"a", &mut buf, &bad) {
        assert_eq!(r, Err(CipherError::Forged));
        assert_eq!(buf, sealed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn chacha20_builds_agree(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        counter in 0u32..1_000_000,
        data in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut theirs = data.clone();
        let mut c = chacha20::ChaCha20::new((&key).into(), (&nonce).into());
        c.seek(u64::from(counter) * 64);
        c.apply_keystream(&mut theirs);

        let mut portable = data.clone();
        paths::portable_chacha20(&key, &nonce, counter, &mut portable);
        prop_assert_eq!(&portable, &theirs);
        let mut avx2 = data.clone();
        if paths::avx2_chacha20(&key, &nonce, counter, &mut avx2).is_some() {
            prop_assert_eq!(&avx2, &theirs);
        }
    }

    #[test]
    fn aead_builds_agree(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 24]>(),
        aad in proptest::collection::vec(any::<u8>(), 0..40),
        data in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut theirs = data.clone();
        let their_tag = XChaCha20Poly1305::new((&key).into())
            .encrypt_in_place_detached((&nonce).into(), &aad, &mut theirs)
            .unwrap();

        let mut portable = data.clone();
        let tag = paths::portable_seal(&key, &nonce, &aad, &mut portable);
        prop_assert_eq!(&portable, &theirs);
        prop_assert_eq!(tag.to_vec(), their_tag.to_vec());
        paths::portable_open(&key, &nonce, &aad, &mut portable, &tag).unwrap();
        prop_assert_eq!(&portable, &data);

        let mut avx2 = data.clone();
        if let Some(tag) = paths::avx2_seal(&key, &nonce, &aad, &mut avx2) {
            prop_assert_eq!(&avx2, &theirs);
            prop_assert_eq!(tag.to_vec(), their_tag.to_vec());
            prop_assert_eq!(paths::avx2_open(&key, &nonce, &aad, &mut avx2, &tag), Some(Ok(())));
            prop_assert_eq!(&avx2, &data);
        }
    }
}
