//! Round trips (proptest), streaming equivalence and every refusal of the 'S' and legacy
//! decryptors, each with its typed error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_attachment::limits::{ENCRYPTED_CHUNK_TOTAL, PREFIX_SIZE};
use metaless_attachment::{
    AttachmentError, AttachmentKey, Decryptor, Domain, Encryptor, KeyDeriver, LegacyKey, decrypt,
    decrypt_in_place, decrypt_legacy, encrypt, encrypt_in_place, encrypt_legacy, encrypted_size,
    io,
};
use metaless_identity::Seed;
use proptest::prelude::*;

fn seed() -> Seed {
    Seed::from_bytes([0x42; 32])
}

fn streamed(data: &[u8], piece: usize) -> (Vec<u8>, AttachmentKey) {
    let mut d = KeyDeriver::new(&seed(), Domain::Attachment);
    for p in data.chunks(piece.max(1)) {
        d.update(p);
    }
    let keys = d.finish();
    let mut out = Vec::new();
    let mut enc = Encryptor::new(&keys, false, &mut out).unwrap();
    for p in data.chunks(piece.max(1)) {
        enc.update(p, &mut out).unwrap();
    }
    enc.finish().unwrap();
    (out, keys.key().clone())
}

fn stream_decrypt(
    blob: &[u8],
    key: &AttachmentKey,
    piece: usize,
) -> Result<Vec<u8>, AttachmentError> {
    let mut dec = Decryptor::new(key);
    let mut out = Vec::new();
    for p in blob.chunks(piece.max(1)) {
        dec.update(p, &mut out)?;
    }
    dec.finish(&mut out)?;
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn round_trip_every_api_agrees(data in proptest::collection::vec(any::<u8>(), 0..120_000), piece in 1usize..70_000) {
        let (blob, key) = encrypt(&seed(), &data, Domain::Attachment, false).unwrap();
        prop_assert_eq!(blob.len() as u64, encrypted_size(data.len() as u64));
        let (s, k2) = streamed(&data, piece);
        prop_assert_eq!(&s, &blob);
        prop_assert_eq!(&k2, &key);
        let mut inplace = data.clone();
        prop_assert_eq!(encrypt_in_place(&seed(), &mut inplace, Domain::Attachment, false).unwrap(), key.clone());
        prop_assert_eq!(&inplace, &blob);
        prop_assert_eq!(decrypt(&blob, &key).unwrap(), data.clone());
        prop_assert_eq!(stream_decrypt(&blob, &key, piece).unwrap(), data.clone());
        decrypt_in_place(&mut inplace, &key, false).unwrap();
        prop_assert_eq!(inplace, data);
    }

    #[test]
    fn any_single_bit_flip_is_refused(n in 0usize..80_000, pos in any::<proptest::sample::Index>(), bit in 0u8..8) {
        let data = vec![7u8; n];
        let (mut blob, key) = encrypt(&seed(), &data, Domain::Attachment, false).unwrap();
        let i = pos.index(blob.len());
        blob[i] ^= 1 << bit;
        prop_assert!(decrypt(&blob, &key).is_err());
        prop_assert!(stream_decrypt(&blob, &key, 5000).is_err());
        prop_assert!(decrypt_in_place(&mut blob.clone(), &key, false).is_err());
    }

    #[test]
    fn any_truncation_is_refused(n in 0usize..80_000, cut in any::<proptest::sample::Index>()) {
        let (blob, key) = encrypt(&seed(), &vec![1u8; n], Domain::Attachment, false).unwrap();
        let keep = cut.index(blob.len());
        prop_assert!(decrypt(&blob[..keep], &key).is_err());
        prop_assert!(stream_decrypt(&blob[..keep], &key, 777).is_err());
        prop_assert!(decrypt_in_place(&mut blob[..keep].to_vec(), &key, false).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let key = AttachmentKey::from_bytes([1; 32]);
        let _ = decrypt(&bytes, &key);
        let _ = decrypt_in_place(&mut bytes.clone(), &key, false);
        let _ = decrypt_legacy(&LegacyKey::from_bytes([1; 64]), &bytes, Some(&[0; 32]), Some(3));
    }
}

#[test]
fn typed_refusals() {
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let (blob, key) = encrypt(&seed(), &data, Domain::Attachment, false).unwrap();
    let chunk = |i: usize| PREFIX_SIZE + i * ENCRYPTED_CHUNK_TOTAL;

    // wrong key
    assert_eq!(
        decrypt(&blob, &AttachmentKey::from_bytes([9; 32])),
        Err(AttachmentError::WrongKey)
    );
    // the same data under the other domain has another key
    let (_, pic_key) = encrypt(&seed(), &data, Domain::ProfilePic, false).unwrap();
    assert_ne!(pic_key, key);
    assert_eq!(decrypt(&blob, &pic_key), Err(AttachmentError::WrongKey));
    // tampered header = wrong stream key
    let mut t = blob.clone();
    t[5] ^= 1;
    assert_eq!(decrypt(&t, &key), Err(AttachmentError::WrongKey));
    // tampered later chunk, named by index
    for i in 1..3 {
        let mut t = blob.clone();
        t[chunk(i) + 100] ^= 0x80;
        assert_eq!(
            decrypt(&t, &key),
            Err(AttachmentError::TamperedChunk { index: i as u64 })
        );
        assert_eq!(
            stream_decrypt(&t, &key, 4096),
            Err(AttachmentError::TamperedChunk { index: i as u64 })
        );
    }
    // swapped chunks
    let mut t = blob.clone();
    let (a, b) = (chunk(1), chunk(2));
    let c1 = t[a..b].to_vec();
    let c2 = t[b..b + ENCRYPTED_CHUNK_TOTAL].to_vec();
    t[a..b].copy_from_slice(&c2);
    t[b..b + ENCRYPTED_CHUNK_TOTAL].copy_from_slice(&c1);
    assert_eq!(
        decrypt(&t, &key),
        Err(AttachmentError::TamperedChunk { index: 1 })
    );
    // truncated: inside the header, at a chunk boundary (FINAL chunk dropped), 10 bytes short
    assert_eq!(decrypt(&blob[..10], &key), Err(AttachmentError::Truncated));
    assert_eq!(decrypt(&blob[..0], &key), Err(AttachmentError::Truncated));
    assert_eq!(
        decrypt(&blob[..chunk(3)], &key),
        Err(AttachmentError::Truncated)
    );
    assert_eq!(
        decrypt_in_place(&mut blob[..chunk(3)].to_vec(), &key, false),
        Err(AttachmentError::Truncated)
    );
    assert_eq!(
        decrypt(&blob[..blob.len() - 10], &key),
        Err(AttachmentError::TamperedChunk { index: 3 })
    );
    // not an 'S' attachment
    let mut t = blob.clone();
    t[0] = 0;
    assert_eq!(decrypt(&t, &key), Err(AttachmentError::UnknownFormat(0)));
    assert!(matches!(
        decrypt_in_place(&mut blob.clone(), &key, false),
        Ok(())
    ));
}

#[test]
fn oversize_is_refused() {
    let data = vec![0u8; 100_000];
    let (blob, key) = encrypt(&seed(), &data, Domain::Attachment, false).unwrap();
    let mut dec = Decryptor::new(&key).with_max_size(50_000);
    let mut out = Vec::new();
    let err = dec.update(&blob, &mut out).unwrap_err();
    assert!(
        matches!(err, AttachmentError::TooLarge { max: 50_000, len } if len > 50_000),
        "{err:?}"
    );
    assert!(out.len() <= 50_000);
    // the error sticks
    assert_eq!(dec.update(b"", &mut out).unwrap_err(), err);
}

#[test]
fn bytes_after_the_final_chunk_are_refused() {
    // Padding keeps every real FINAL chunk short of a full chunk, so appended bytes always
    // extend the last chunk (its tag no longer matches) rather than starting a new one; either
    // way nothing after FINAL is ever accepted, whatever its length.
    let (blob, key) = encrypt(&seed(), &vec![3u8; 70_000], Domain::Attachment, false).unwrap();
    assert!(stream_decrypt(&blob, &key, 1000).is_ok());
    for extra in [1usize, 17, ENCRYPTED_CHUNK_TOTAL, ENCRYPTED_CHUNK_TOTAL + 5] {
        let mut longer = blob.clone();
        longer.extend_from_slice(&vec![0u8; extra]);
        assert!(
            stream_decrypt(&longer, &key, 1000).is_err(),
            "{extra} bytes accepted"
        );
        assert!(
            decrypt_in_place(&mut longer, &key, false).is_err(),
            "{extra} bytes accepted"
        );
    }
}

#[test]
fn encryptor_refuses_other_lengths() {
    let mut d = KeyDeriver::new(&seed(), Domain::Attachment);
    d.update(b"abc");
    let keys = d.finish();
    let mut out = Vec::new();
    let mut enc = Encryptor::new(&keys, false, &mut out).unwrap();
    assert_eq!(
        enc.update(b"abcd", &mut out),
        Err(AttachmentError::LengthMismatch {
            expected: 3,
            got: 4
        })
    );
    enc.update(b"ab", &mut out).unwrap();
    assert_eq!(
        enc.finish(),
        Err(AttachmentError::LengthMismatch {
            expected: 3,
            got: 2
        })
    );
    // too large without allow_large
    assert!(matches!(
        encrypt(&seed(), &vec![0; 10_218_287], Domain::Attachment, false),
        Err(AttachmentError::TooLarge { .. })
    ));
}

#[test]
fn io_adapters_round_trip_and_refuse() {
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 13) as u8).collect();
    let mut src = std::io::Cursor::new(data.clone());
    let mut enc = Vec::new();
    let (key, n) =
        io::encrypt_file(&seed(), Domain::Attachment, &mut src, &mut enc, false).unwrap();
    assert_eq!(n as usize, enc.len());
    assert_eq!(
        enc,
        encrypt(&seed(), &data, Domain::Attachment, false)
            .unwrap()
            .0
    );
    let mut out = Vec::new();
    assert_eq!(
        io::decrypt_stream(&key, &mut &enc[..], &mut out, u64::MAX).unwrap(),
        data.len() as u64
    );
    assert_eq!(out, data);
    enc[70_000] ^= 1;
    assert_eq!(
        io::decrypt_stream(&key, &mut &enc[..], &mut Vec::new(), u64::MAX),
        Err(AttachmentError::TamperedChunk { index: 2 })
    );
}

#[test]
fn legacy_refusals() {
    let key = LegacyKey::from_bytes([7; 64]);
    let out = encrypt_legacy(&key, [1; 16], b"legacy file", true);
    let ok = decrypt_legacy(&key, &out.blob, Some(&out.digest), Some(11)).unwrap();
    assert_eq!(ok, b"legacy file");
    // wrong key (MAC half)
    assert_eq!(
        decrypt_legacy(
            &LegacyKey::from_bytes([8; 64]),
            &out.blob,
            Some(&out.digest),
            Some(11)
        ),
        Err(AttachmentError::BadMac)
    );
    // wrong AES half only: MAC passes, padding check fails (or garbage never returned)
    let mut k2 = [7u8; 64];
    k2[0] ^= 1;
    assert_eq!(
        decrypt_legacy(
            &LegacyKey::from_bytes(k2),
            &out.blob,
            Some(&out.digest),
            Some(11)
        ),
        Err(AttachmentError::BadCipherPadding)
    );
    // digest missing / different
    assert_eq!(
        decrypt_legacy(&key, &out.blob, None, Some(11)),
        Err(AttachmentError::BadDigest)
    );
    assert_eq!(
        decrypt_legacy(&key, &out.blob, Some(&[0; 32]), Some(11)),
        Err(AttachmentError::BadDigest)
    );
    // tampered ciphertext, IV, MAC; truncated
    for i in [0, 20, out.blob.len() - 1] {
        let mut t = out.blob.clone();
        t[i] ^= 1;
        assert_eq!(
            decrypt_legacy(&key, &t, Some(&out.digest), Some(11)),
            Err(AttachmentError::BadMac)
        );
    }
    assert_eq!(
        decrypt_legacy(&key, &out.blob[..47], Some(&out.digest), None),
        Err(AttachmentError::Truncated)
    );
    // declared size larger than the plaintext
    assert_eq!(
        decrypt_legacy(&key, &out.blob, Some(&out.digest), Some(10_000)),
        Err(AttachmentError::ShortPlaintext {
            len: 541,
            size: 10_000
        })
    );
    // 32-byte keys are not legacy keys
    assert!(LegacyKey::from_slice(&[0; 32]).is_err());
}
