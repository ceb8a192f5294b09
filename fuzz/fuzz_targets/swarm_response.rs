//! A client reading node replies and node lists: arbitrary bytes never panic, the tolerant
//! retrieve reader agrees with the strict one, and member signatures are checked without
//! panicking whatever the entries hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_swarm::sig::ExpireMode;
use metaless_swarm::{
    InfoResponse, RetrieveResponse, SwarmResults, parse_get_expiries, verify_delete_entry,
    verify_expire_entry, verify_namespace_action_entry, verify_store_entry,
};
use metaless_swarm::{NodeList, SwarmResponse, UserPubkey};

fuzz_target!(|data: &[u8]| {
    // The tolerant reader refuses only what the strict one refuses at the top level, and
    // accounts for every entry the strict one accepts.
    let strict = RetrieveResponse::parse(data);
    match RetrieveResponse::parse_tolerant(data) {
        Ok(t) => {
            if let Ok(s) = &strict {
                assert_eq!(t.response.messages.len() + t.skipped, s.messages.len());
            }
        }
        Err(_) => assert!(strict.is_err()),
    }
    let _ = InfoResponse::parse(data);
    let _ = parse_get_expiries(data);
    let _ = SwarmResponse::parse(data);
    let _ = NodeList::from_get_service_nodes(data);
    let _ = NodeList::from_active_nodes_bin(data);
    if let Ok(results) = SwarmResults::parse(data) {
        let pk = UserPubkey::new(5, [1; 32]);
        for (node, entry) in results.successes() {
            let _ = verify_store_entry(node, entry);
            let _ = verify_delete_entry(node, entry, &pk, &[]);
            let _ = verify_namespace_action_entry(node, entry, "deleted", &pk, 1);
            let _ = verify_expire_entry(node, entry, &pk, &[], ExpireMode::Shorten);
        }
    }
});
