//! Legacy (AES-256-GCM) profile pictures: NIST known answers in desktop's `iv ‖ ct ‖ tag`
//! layout, round trips, refusals, and the 'S'/legacy choice by the URL's `d` flag.
#![allow(clippy::unwrap_used)]

use metaless_attachment::{
    AttachmentError, AttachmentKey, Domain, FileUrl, StreamFlag, decrypt_profile_legacy,
    decrypt_profile_pic, encrypt, encrypt_profile_legacy, encrypt_profile_legacy_random,
};
use metaless_identity::hex;
use proptest::prelude::*;
use rand_core::SeedableRng;

fn key(h: &str) -> AttachmentKey {
    AttachmentKey::from_slice(&hex::decode(h).unwrap()).unwrap()
}

/// NIST GCM spec (McGrew/Viega) test cases 14 and 15: AES-256, 96-bit IV, no AAD.
const NIST: [(&str, &str, &str, &str, &str); 2] = [
    (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    (
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        "b094dac5d93471bdec1a502270e3cc6c",
    ),
];

#[test]
fn nist_known_answers_in_desktop_layout() {
    for (k, iv, p, c, t) in NIST {
        let key = key(k);
        let iv: [u8; 12] = hex::decode(iv).unwrap().try_into().unwrap();
        let plain = hex::decode(p).unwrap();
        let expected = [
            iv.to_vec(),
            hex::decode(c).unwrap(),
            hex::decode(t).unwrap(),
        ]
        .concat();
        assert_eq!(encrypt_profile_legacy(&key, iv, &plain), expected);
        assert_eq!(decrypt_profile_legacy(&key, &expected).unwrap(), plain);
        // Through the dispatcher: no `d` flag means legacy.
        assert_eq!(decrypt_profile_pic(&expected, &key, false).unwrap(), plain);
    }
}

#[test]
fn refusals_are_typed() {
    let k = key(NIST[1].0);
    let blob = encrypt_profile_legacy(&k, [5; 12], b"x");
    assert_eq!(blob.len(), 29);
    // Desktop's minimum: 12 + 16 + 1.
    assert_eq!(
        decrypt_profile_legacy(&k, &blob[..28]),
        Err(AttachmentError::Truncated)
    );
    assert_eq!(
        decrypt_profile_legacy(&k, &[]),
        Err(AttachmentError::Truncated)
    );
    let other = AttachmentKey::from_bytes([1; 32]);
    assert_eq!(
        decrypt_profile_legacy(&other, &blob),
        Err(AttachmentError::WrongKey)
    );
    for i in 0..blob.len() {
        let mut bad = blob.clone();
        bad[i] ^= 0x80;
        assert_eq!(
            decrypt_profile_legacy(&k, &bad),
            Err(AttachmentError::WrongKey),
            "byte {i}"
        );
    }
    // An extra byte at the end shifts the tag.
    let mut long = blob.clone();
    long.push(0);
    assert_eq!(
        decrypt_profile_legacy(&k, &long),
        Err(AttachmentError::WrongKey)
    );
}

#[test]
fn dispatch_follows_the_d_flag_and_falls_back() {
    let seed = metaless_identity::Seed::from_bytes([4; 32]);
    let picture = vec![0x89u8; 5000];
    let (s_blob, s_key) = encrypt(&seed, &picture, Domain::ProfilePic, false).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([8; 32]);
    let (g_key, g_blob) = encrypt_profile_legacy_random(&mut rng, &picture);

    for url in [
        "http://filev2.getsession.org/file/abc#d",
        "http://filev2.getsession.org/file/abc#d=",
    ] {
        let flag = FileUrl::parse(url).unwrap().stream != StreamFlag::Absent;
        assert!(flag);
        assert_eq!(decrypt_profile_pic(&s_blob, &s_key, flag).unwrap(), picture);
    }
    let flag = FileUrl::parse("http://filev2.getsession.org/file/abc")
        .unwrap()
        .stream
        != StreamFlag::Absent;
    assert!(!flag);
    assert_eq!(decrypt_profile_pic(&g_blob, &g_key, flag).unwrap(), picture);
    // Flag and format disagreeing (a pointer re-shared without its fragment): still opens.
    assert_eq!(
        decrypt_profile_pic(&s_blob, &s_key, false).unwrap(),
        picture
    );
    assert_eq!(decrypt_profile_pic(&g_blob, &g_key, true).unwrap(), picture);
    // Wrong key: the error of the format the flag named.
    assert_eq!(
        decrypt_profile_pic(&s_blob, &g_key, true),
        Err(AttachmentError::WrongKey)
    );
    assert_eq!(
        decrypt_profile_pic(&g_blob, &s_key, false),
        Err(AttachmentError::WrongKey)
    );
    // An attachment-domain 'S' key is not the profile key for the same bytes.
    let (_, a_key) = encrypt(&seed, &picture, Domain::Attachment, false).unwrap();
    assert_ne!(a_key, s_key);
    assert_eq!(
        decrypt_profile_pic(&s_blob, &a_key, true),
        Err(AttachmentError::WrongKey)
    );
}

proptest! {
    #[test]
    fn legacy_round_trip_and_any_flip_refused(
        picture in proptest::collection::vec(any::<u8>(), 1..3000),
        k in any::<[u8; 32]>(),
        iv in any::<[u8; 12]>(),
        pos in any::<proptest::sample::Index>(),
        bit in 0u8..8,
    ) {
        let k = AttachmentKey::from_bytes(k);
        let blob = encrypt_profile_legacy(&k, iv, &picture);
        prop_assert_eq!(blob.len(), picture.len() + 28);
        prop_assert_eq!(&decrypt_profile_legacy(&k, &blob).unwrap(), &picture);
        let mut bad = blob.clone();
        bad[pos.index(blob.len())] ^= 1 << bit;
        prop_assert_eq!(decrypt_profile_legacy(&k, &bad), Err(AttachmentError::WrongKey));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), d in any::<bool>()) {
        let k = AttachmentKey::from_bytes([2; 32]);
        prop_assert!(decrypt_profile_pic(&bytes, &k, d).is_err());
    }
}
