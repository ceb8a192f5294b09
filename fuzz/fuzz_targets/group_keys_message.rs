//! Keys messages (namespace 12) from anywhere: loaded raw (signature check first), and re-signed
//! with a known group key so the parser behind the signature is reached too. Loaded as a
//! member and as an admin; nothing panics and the keyring stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_group::{GroupKeyring, GroupKeys};
use metaless_identity::{Keypair, Seed};

fuzz_target!(|data: &[u8]| {
    let group = GroupKeys::from_seed([0x42; 32]);
    let me = Keypair::from_seed(&Seed::from_bytes([0x07; 32]));
    let mut ring = GroupKeyring::new(group.group_id());
    let _ = ring.load_as_member(&me, data, 1);
    let _ = ring.load_as_admin(&group, data, 1);
    // Treat the input as a dict body without its signature: sign it as the group would.
    if let [body @ .., b'e'] = data {
        let sig = group.sign(body);
        let mut signed = body.to_vec();
        signed.extend_from_slice(b"1:~64:");
        signed.extend_from_slice(&sig);
        signed.push(b'e');
        let _ = ring.load_as_member(&me, &signed, 2);
        let _ = ring.load_as_admin(&group, &signed, 2);
    }
    assert!(ring.len() <= metaless_group::limits::MAX_KEY_HISTORY);
    let _ = ring.current();
});
