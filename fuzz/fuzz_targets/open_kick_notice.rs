//! Kick notices (namespace −11) read by a removed member: the stored bytes as received, an
//! arbitrary entry plaintext sealed for the member so the member-id and generation parser
//! behind the AEAD is reached, and a real notice with one byte flipped. Nothing panics; a
//! notice only ever opens to the generation it was made for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_group::{
    GroupError, GroupKeys, KICKED_DOMAIN, encrypt_for_recipients, kick_notice, open_kick_notice,
};
use metaless_identity::{Keypair, Seed};

/// `{"#": nonce, "e": [entry]}` in bencode (keys sorted).
fn notice(nonce: &[u8; 24], entry: &[u8]) -> Vec<u8> {
    let mut out = b"d1:#24:".to_vec();
    out.extend_from_slice(nonce);
    out.extend_from_slice(b"1:el");
    out.extend_from_slice(format!("{}:", entry.len()).as_bytes());
    out.extend_from_slice(entry);
    out.extend_from_slice(b"ee");
    out
}

fuzz_target!(|data: &[u8]| {
    let group = GroupKeys::from_seed([0x42; 32]);
    let gid = group.group_id();
    let carol = Keypair::from_seed(&Seed::from_bytes([0xc3; 32]));
    let bob = Keypair::from_seed(&Seed::from_bytes([0xb2; 32]));

    // 1. The bytes as a node returns them.
    let _ = open_kick_notice(&carol, &gid, data);

    // 2. An entry for Carol whose plaintext is the input.
    let nonce = [7u8; 24];
    if let Ok(entries) = encrypt_for_recipients(
        group.keypair().x25519_secret(),
        &[carol.x25519_public()],
        &[data],
        &nonce,
        KICKED_DOMAIN,
    ) {
        let n = notice(&nonce, &entries[0]);
        match open_kick_notice(&carol, &gid, &n) {
            Ok(generation) => {
                let id = carol.session_id();
                assert!(data.len() >= 34 && data[0] == 0x05 && &data[1..33] == id.key());
                assert_eq!(
                    core::str::from_utf8(&data[33..])
                        .ok()
                        .and_then(|s| s.parse().ok()),
                    Some(generation)
                );
            }
            Err(e) => assert!(
                matches!(e, GroupError::Malformed(_) | GroupError::TooLarge { .. }),
                "{e:?}"
            ),
        }
        // Not for Bob.
        assert_eq!(
            open_kick_notice(&bob, &gid, &n),
            Err(GroupError::DecryptFailed)
        );
    }

    // 3. A real notice with one byte changed: it opens to its generation or not at all.
    let Some((&pos, rest)) = data.split_first() else {
        return;
    };
    let mut g = [0u8; 8];
    for (d, s) in g.iter_mut().zip(rest) {
        *d = *s;
    }
    let generation = u64::from_le_bytes(g);
    let Ok(mut real) = kick_notice(
        &group,
        &[bob.session_id(), carol.session_id()],
        generation,
        nonce,
    ) else {
        return;
    };
    assert_eq!(open_kick_notice(&carol, &gid, &real), Ok(generation));
    let i = usize::from(pos) * real.len() / 256;
    real[i] ^= rest.get(8).copied().unwrap_or(1) | 1;
    if let Ok(got) = open_kick_notice(&carol, &gid, &real) {
        assert_eq!(got, generation);
    }
});
