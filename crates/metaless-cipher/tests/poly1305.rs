//! Poly1305: RFC 8439 vectors (typed from the RFC) and a differential test against the
//! RustCrypto `poly1305` crate over random keys, lengths and chunkings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use metaless_cipher::poly1305::{Poly1305, tag};
use poly1305::universal_hash::KeyInit;
use proptest::prelude::*;

mod common;
use common::{arr, unhex};

/// RFC 8439 §2.5.2: "Cryptographic Forum Research Group".
#[test]
fn rfc8439_2_5_2() {
    let key = arr("85d6be7857556d337f4452fe42d506a8 0103808afb0db2fd4abff6af4149f51b");
    let msg = b"Cryptographic Forum Research Group";
    assert_eq!(
        tag(&key, msg),
        arr::<16>("a8061dc1305136c6c22b8baf0c0127a9")
    );
}

const IETF_TEXT: &str = "Any submission to the IETF intended by the Contributor for publication as all or part of an IETF Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an \"IETF Contribution\". Such statements include oral statements in IETF sessions, as well as written and electronic communications made at any time or place, which are addressed to";

const JABBERWOCKY: &str = "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.";

/// RFC 8439 Appendix A.3, test vectors #1–#11 (key is r ‖ s).
#[test]
fn rfc8439_a_3() {
    assert_eq!(IETF_TEXT.len(), 375);
    let z16 = "00000000000000000000000000000000";
    let ff16 = "ffffffffffffffffffffffffffffffff";
    let m10 = "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000 00000000000000000000000000000000";
    let cases: Vec<(u32, String, Vec<u8>, &str)> = vec![
        (1, format!("{z16}{z16}"), vec![0u8; 64], z16),
        (
            2,
            format!("{z16}36e5f6b5c5e06070f0efca96227a863e"),
            IETF_TEXT.into(),
            "36e5f6b5c5e06070f0efca96227a863e",
        ),
        (
            3,
            format!("36e5f6b5c5e06070f0efca96227a863e{z16}"),
            IETF_TEXT.into(),
            "f3477e7cd95417af89a6b8794c310cf0",
        ),
        (
            4,
            "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0".into(),
            JABBERWOCKY.into(),
            "4541669a7eaaee61e708dc7cbcc5eb62",
        ),
        (
            5,
            format!("02000000000000000000000000000000{z16}"),
            unhex(ff16),
            "03000000000000000000000000000000",
        ),
        (
            6,
            format!("02000000000000000000000000000000{ff16}"),
            unhex("02000000000000000000000000000000"),
            "03000000000000000000000000000000",
        ),
        (
            7,
            format!("01000000000000000000000000000000{z16}"),
            unhex(&format!(
                "{ff16} f0ffffffffffffffffffffffffffffff 11000000000000000000000000000000"
            )),
            "05000000000000000000000000000000",
        ),
        (
            8,
            format!("01000000000000000000000000000000{z16}"),
            unhex(&format!(
                "{ff16} fbfefefefefefefefefefefefefefefe 01010101010101010101010101010101"
            )),
            z16,
        ),
        (
            9,
            format!("02000000000000000000000000000000{z16}"),
            unhex("fdffffffffffffffffffffffffffffff"),
            "faffffffffffffffffffffffffffffff",
        ),
        (
            10,
            format!("01000000000000000400000000000000{z16}"),
            unhex(&format!("{m10} 01000000000000000000000000000000")),
            "14000000000000005500000000000000",
        ),
        (
            11,
            format!("01000000000000000400000000000000{z16}"),
            unhex(m10),
            "13000000000000000000000000000000",
        ),
    ];
    for (n, key, msg, want) in cases {
        let key: [u8; 32] = arr(&key);
        let want: [u8; 16] = arr(want);
        assert_eq!(tag(&key, &msg), want, "A.3 #{n}");
        // each build: #2 and #3 (375 bytes) reach the AVX2 kernel
        every_build(&key, &[&msg], &want).unwrap();
        // the same message a byte at a time
        let mut mac = Poly1305::new(&key);
        for b in &msg {
            mac.update(core::slice::from_ref(b));
        }
        assert!(bool::from(mac.verify(&want)), "A.3 #{n} bytewise");
    }
}

/// RFC 8439 §2.8.2's AEAD computes its tag over the padded AAD and ciphertext; the one-time
/// key and tag from that section check `update_padded` and the length block.
#[test]
fn rfc8439_2_8_2_mac_data() {
    let key = arr("7bac2b252db447af09b67a55a4e955840ae1d6731075d9eb2a9375783ed553ff");
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let ct = unhex(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
         3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
         92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
         3ff4def08e4b7a9de576d26586cec64b6116",
    );
    let mut mac = Poly1305::new(&key);
    mac.update_padded(&aad);
    mac.update_padded(&ct);
    mac.update(&(aad.len() as u64).to_le_bytes());
    mac.update(&(ct.len() as u64).to_le_bytes());
    assert_eq!(
        mac.finalize(),
        arr::<16>("1ae10b594f09e26a7e902ecbd0600691")
    );
}

#[test]
fn verify_refuses_every_single_bit_flip() {
    let key = [0x5au8; 32];
    let t = tag(&key, b"message");
    for bit in 0..128 {
        let mut bad = t;
        bad[bit / 8] ^= 1 << (bit % 8);
        let mut mac = Poly1305::new(&key);
        mac.update(b"message");
        assert!(!bool::from(mac.verify(&bad)), "bit {bit}");
    }
}

fn reference(key: &[u8; 32], data: &[u8]) -> [u8; 16] {
    poly1305::Poly1305::new(key.into())
        .compute_unpadded(data)
        .into()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn matches_rustcrypto_in_random_chunks(
        key in any::<[u8; 32]>(),
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        cuts in proptest::collection::vec(0usize..2000, 0..8),
    ) {
        let want = reference(&key, &data);
        prop_assert_eq!(tag(&key, &data), want);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort_unstable();
        let mut mac = Poly1305::new(&key);
        let mut at = 0;
        for c in cuts {
            mac.update(&data[at..c]);
            at = c;
        }
        mac.update(&data[at..]);
        prop_assert_eq!(mac.finalize(), want);
    }

    /// Keys whose `r` and accumulator sit near the limb boundaries (all-ones bytes) exercise
    /// the carries the random keys rarely reach.
    #[test]
    fn matches_rustcrypto_with_extreme_bytes(
        key_ones in any::<u32>(),
        len in 0usize..600,
        fill in prop_oneof![Just(0xffu8), Just(0x00u8), Just(0xfeu8)],
    ) {
        let mut key = [0xffu8; 32];
        key[..4].copy_from_slice(&key_ones.to_le_bytes());
        let data = vec![fill; len];
        prop_assert_eq!(tag(&key, &data), reference(&key, &data));
    }
}

// ─── every build: the scalar code alone, and the AVX2 4-way kernel for long runs ─────────────

use metaless_cipher::__paths as paths;

/// The tag of `data` in every build this CPU runs, each asserted equal to `want`.
fn every_build(key: &[u8; 32], pieces: &[&[u8]], want: &[u8; 16]) -> Result<(), TestCaseError> {
    for build in paths::ALL {
        if let Some(t) = paths::poly1305(build, key, pieces) {
            prop_assert_eq!(&t, want, "{:?}", build);
        }
    }
    Ok(())
}

#[test]
fn rfc_vectors_in_every_build_and_long() {
    // §2.5.2 in every build, and the same key over a long message (the vector path) against
    // RustCrypto
    let key: [u8; 32] = arr("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
    let want: [u8; 16] = arr("a8061dc1305136c6c22b8baf0c0127a9");
    every_build(&key, &[b"Cryptographic Forum Research Group"], &want).unwrap();
    let long: Vec<u8> = (0..4099u32).map(|i| (i * 7 + 3) as u8).collect();
    every_build(&key, &[&long], &reference(&key, &long)).unwrap();
    // A.3 #11-style wrap: r = 1-ish key, all-ones blocks (h crosses 2^130 - 5 repeatedly)
    let mut k = [0u8; 32];
    k[0] = 1;
    let ones = vec![0xffu8; 4096];
    every_build(&k, &[&ones], &reference(&k, &ones)).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Random keys, lengths 0..5000, random cuts: the scalar ↔ vector hand-over at every offset.
    #[test]
    fn every_build_matches_rustcrypto_in_pieces(
        key in any::<[u8; 32]>(),
        data in proptest::collection::vec(any::<u8>(), 0..5000),
        cuts in proptest::collection::vec(0usize..5000, 0..6),
    ) {
        let want = reference(&key, &data);
        every_build(&key, &[&data], &want)?;
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut at = 0;
        for c in cuts {
            pieces.push(&data[at..c]);
            at = c;
        }
        pieces.push(&data[at..]);
        every_build(&key, &pieces, &want)?;
    }

    /// r at its clamped maximum (every key byte 0xff) and accumulators near 2¹³⁰ − 5
    /// (all-0xff messages), lengths across the vector threshold, in every build.
    #[test]
    fn every_build_with_extreme_bytes(
        low in any::<u32>(),
        len in 0usize..5000,
        fill in prop_oneof![Just(0xffu8), Just(0x00u8), Just(0xfeu8)],
        head in 0usize..80,
    ) {
        let mut key = [0xffu8; 32];
        key[..4].copy_from_slice(&low.to_le_bytes());
        let data = vec![fill; len];
        let want = reference(&key, &data);
        let head = head.min(len);
        every_build(&key, &[&data], &want)?;
        every_build(&key, &[&data[..head], &data[head..]], &want)?;
        let full = [0xffu8; 32];
        every_build(&full, &[&data], &reference(&full, &data))?;
    }
}
