//! Opening blinded DMs from arbitrary bytes (as the inbox delivers them) never panics, for 15
//! and 25 ids, as recipient and as sender.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_community::dm;
use metaless_identity::{Keypair, Seed, blinding};

fuzz_target!(|data: &[u8]| {
    let server = [0x1du8; 32];
    let me = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let peer = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    let (Ok(me15), Ok(peer15)) = (
        blinding::blind15_id_from_ed25519(&me.ed25519_public(), &server),
        blinding::blind15_id_from_ed25519(&peer.ed25519_public(), &server),
    ) else {
        return;
    };
    let (Ok(me25), Ok(peer25)) = (
        blinding::blind25_id(&me.session_id(), &server),
        blinding::blind25_id(&peer.session_id(), &server),
    ) else {
        return;
    };
    let _ = dm::decrypt(&me, &server, &peer15, &me15, data);
    let _ = dm::decrypt(&me, &server, &me15, &peer15, data);
    let _ = dm::decrypt(&me, &server, &peer25, &me25, data);
    let _ = dm::decrypt(&me, &server, &me25, &peer25, data);
});
