//! Blinding arbitrary X25519 keys and Ed25519 keys: never panics, and every ID produced is
//! recognised by the matching check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_identity::{SessionId, blinding};

fuzz_target!(|data: &[u8]| {
    let Some((key, rest)) = data.split_first_chunk::<32>() else { return };
    let Some((server_pk, _)) = rest.split_first_chunk::<32>() else { return };
    let id = SessionId::standard(*key);
    if let Ok(b25) = blinding::blind25_id(&id, server_pk) {
        assert_eq!(blinding::session_id_matches_blinded_id(&id, &b25, server_pk), Ok(true));
    }
    if let Ok([pos, neg]) = blinding::blind15_ids(&id, server_pk) {
        assert_eq!(blinding::session_id_matches_blinded_id(&id, &pos, server_pk), Ok(true));
        assert_eq!(blinding::session_id_matches_blinded_id(&id, &neg, server_pk), Ok(true));
    }
    let _ = blinding::blind15_id_from_ed25519(key, server_pk);
    let _ = blinding::blind25_id_from_ed25519(key, server_pk);
});
