//! Every build of the dispatched code that this CPU can run, called directly and compared with
//! RustCrypto: the generic lane-array build (what non-x86 targets run) and, on x86-64, the
//! SSE2 baseline, AVX2 and AVX-512VL builds. `METALESS_EXPECT_AVX2=1` makes the test fail
//! rather than skip when AVX2 is missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use metaless_cipher::__paths as paths;
use metaless_cipher::CipherError;
use proptest::prelude::*;

#[test]
fn reports_which_builds_run() {
    for build in paths::ALL {
        eprintln!("{build:?}: available {}", paths::available(build));
    }
    eprintln!("dispatched to: {:?}", paths::best());
    assert!(paths::available(paths::Build::Generic));
    #[cfg(target_arch = "x86_64")]
    {
        assert!(paths::available(paths::Build::Sse2));
        if std::env::var_os("METALESS_EXPECT_AVX2").is_some() {
            assert!(paths::available(paths::Build::Avx2));
        }
    }
}

#[test]
fn forged_is_refused_by_every_build_and_the_buffer_kept() {
    let key = [8u8; 32];
    let nonce = [9u8; 24];
    for build in paths::ALL {
        let mut buf = vec![7u8; 1000];
        let Some(tag) = paths::seal(build, &key, &nonce, b"a", &mut buf) else {
            continue;
        };
        let sealed = buf.clone();
        let mut bad = tag;
        bad[0] ^= 1;
        assert_eq!(
            paths::open(build, &key, &nonce, b"a", &mut buf, &bad),
            Some(Err(CipherError::Forged)),
            "{build:?}"
        );
        assert_eq!(buf, sealed, "{build:?}");
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
        for build in paths::ALL {
            let mut ours = data.clone();
            if paths::chacha20(build, &key, &nonce, counter, &mut ours).is_some() {
                prop_assert_eq!(&ours, &theirs, "{:?}", build);
            }
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
        for build in paths::ALL {
            let mut ours = data.clone();
            let Some(tag) = paths::seal(build, &key, &nonce, &aad, &mut ours) else {
                continue;
            };
            prop_assert_eq!(&ours, &theirs, "{:?}", build);
            prop_assert_eq!(tag.to_vec(), their_tag.to_vec(), "{:?}", build);
            prop_assert_eq!(paths::open(build, &key, &nonce, &aad, &mut ours, &tag), Some(Ok(())));
            prop_assert_eq!(&ours, &data, "{:?}", build);
        }
    }
}
