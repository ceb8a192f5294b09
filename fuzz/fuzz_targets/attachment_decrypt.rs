//! The attachment decryptors on arbitrary bytes: one-shot, streaming (split where the first
//! byte says), in place, legacy and profile pictures (AES-GCM, either `d` flag) — never a
//! panic, and the three 'S' paths agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_attachment::{
    AttachmentKey, Decryptor, LegacyKey, decrypt, decrypt_in_place, decrypt_legacy,
    decrypt_profile_pic,
};

fuzz_target!(|data: &[u8]| {
    // The key of the vector `attachment_encrypt_derived_0`, so its seed ciphertext opens.
    let key = AttachmentKey::from_bytes([
        0xc8, 0x11, 0xe8, 0x2f, 0xa9, 0xa3, 0x53, 0xe0, 0xe9, 0x81, 0x4f, 0xaa, 0xa3, 0x62, 0xe3,
        0x56, 0x3a, 0xf2, 0xba, 0x33, 0x00, 0xd3, 0x1d, 0x6e, 0x7e, 0xa8, 0x31, 0x9b, 0x4b, 0x17,
        0xb8, 0xd5,
    ]);
    let one = decrypt(data, &key);
    let split = data.first().map_or(1, |b| *b as usize + 1);
    let mut dec = Decryptor::new(&key);
    let mut out = Vec::new();
    let streamed = data
        .chunks(split)
        .try_for_each(|p| dec.update(p, &mut out))
        .and_then(|()| dec.finish(&mut out))
        .map(|_| out);
    let mut buf = data.to_vec();
    let inplace = decrypt_in_place(&mut buf, &key, false).map(|()| buf);
    assert_eq!(one.is_ok(), streamed.is_ok());
    assert_eq!(one.is_ok(), inplace.is_ok());
    if let (Ok(a), Ok(b), Ok(c)) = (&one, &streamed, &inplace) {
        assert_eq!(a, b);
        assert_eq!(a, c);
    }
    let _ = decrypt_legacy(
        &LegacyKey::from_bytes([1; 64]),
        data,
        Some(&[0; 32]),
        Some(10),
    );
    // The all-zero key of the `gcm_nist14` seed (NIST GCM case 14 in desktop's layout).
    let zero = AttachmentKey::from_bytes([0; 32]);
    let _ = decrypt_profile_pic(data, &zero, false);
    let _ = decrypt_profile_pic(data, &key, true);
});
