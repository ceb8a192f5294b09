//! Catch-up on outside bytes: a signed forward's inner body asking a node for its listing
//! (`metaless_node::sync::answer_sync`), and a peer's answer to a catch-up request
//! (`Node::catch_up_answer`): never a panic, and a peer's answer never plants a message whose
//! hash is not its content's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_node::replication::ReplicaOutcome;
use metaless_node::storage::MemoryStorage;
use metaless_node::sync::{CatchUpProgress, answer_sync};
use metaless_node::{NetworkMap, Node, NodeConfig};

#[path = "common/member.rs"]
mod member;
use member::info;

fuzz_target!(|data: &[u8]| {
    let db = MemoryStorage::new();
    let _ = answer_sync(&db, 0, data);

    let (keypair, me) = info(1);
    let (_, peer) = info(2);
    let node = Node::new(NodeConfig {
        keypair,
        network: NetworkMap::new(vec![me.clone(), peer]),
        info: me,
        storage: Box::new(MemoryStorage::new()),
        rng_seed: [0; 32],
        observe: false,
    });
    let mut step = node.catch_up_start(1_000).remove(0);
    // The same bytes as every answer of a short chain (listing, then fetches).
    for _ in 0..4 {
        let outcome = ReplicaOutcome::Answered {
            status: 200,
            body: data.to_vec(),
        };
        match node.catch_up_answer(1_000, step, &outcome) {
            CatchUpProgress::Next(next) => step = next,
            _ => break,
        }
    }
    // Whatever was stored carries its own hash (checked on the way in).
    let _ = node.storage().count();
});
