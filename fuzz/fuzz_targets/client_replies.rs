//! The client core fed arbitrary answers, in arbitrary order, to its requests: node lists from
//! a seed, onion replies, hop errors, time passing — for sends, generic swarm retrieves,
//! subscriptions and server requests. Nothing panics, and the client's bookkeeping stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_client::{Bootstrap, Client, Config, HttpResponse, ServerRequest, SwarmAccount, TransportError};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use metaless_swarm::{Namespace, ServiceNode};

const T0: u64 = 1_700_000_000_000;

fn nodes() -> Vec<ServiceNode> {
    (1..=8u8)
        .filter_map(|i| {
            let k = Keypair::from_seed(&Seed::from_bytes([i; 32]));
            ServiceNode::new(k.ed25519_public(), [127, 0, 0, 1], 4000 + u16::from(i), u64::from(i % 2) << 62).ok()
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let keys = |b: u8| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    let seeded = Config::testnet(Bootstrap::Seeds(vec!["http://127.0.0.1:1".into()]));
    let known = Config::testnet(Bootstrap::Nodes(nodes()));
    let mut clients = [Client::new(keys(1), seeded, [1; 32], T0), Client::new(keys(2), known, [2; 32], T0)];
    let bob = keys(3).session_id();
    let server = metaless_onion::ServerDestination::new("fuzz.test", 80, "http", [9; 32]).ok();
    for c in &mut clients {
        let _ = c.send(T0, &bob, &Content::text("fuzz"));
        c.set_message_requests(true);
        let _ = c.swarm_retrieve(T0, SwarmAccount::Own, Namespace::Contacts, None, Some(10));
        let _ = c.subscribe(T0, SwarmAccount::Own, Namespace::UserProfile);
        if let Some(server) = server.clone() {
            let _ = c.server_request(T0, ServerRequest::get(server, "/fuzz"));
        }
    }
    let mut now = T0;
    let mut rest = data;
    while let [sel, s1, s2, l1, l2, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*l1, *l2])).min(tail.len());
        let (body, after) = tail.split_at(len);
        rest = after;
        let c = &mut clients[usize::from(sel & 1)];
        now += u64::from(sel >> 4) * 250;
        match c.poll_transmit() {
            Some(t) if sel & 2 == 0 => {
                let answer = if sel & 4 == 0 {
                    Ok(HttpResponse { status: u16::from_le_bytes([*s1, *s2]), body: body.to_vec() })
                } else {
                    Err(TransportError::Timeout)
                };
                c.handle_response(now, t.id, answer);
            }
            _ => c.handle_timeout(now),
        }
        while c.poll_event().is_some() {}
        assert!(c.in_flight() <= 64);
        assert!(c.paths().len() <= 3);
    }
});
