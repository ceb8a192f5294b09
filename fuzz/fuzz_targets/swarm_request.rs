//! A node parsing storage RPC requests: arbitrary bodies never panic, every check can be run on
//! whatever parses, and a parsed request survives its own re-encoding unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_swarm::server;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = server::parse_request(data) else {
        return;
    };
    for now in [0, 1_700_000_000_000, u64::MAX] {
        let _ = server::verify(&request, now);
    }
    if let metaless_swarm::Request::Retrieve(r) = &request {
        let _ = server::retrieve_limits(r);
    }
    let again = server::parse_request(&request.to_body()).expect("our own encoding parses");
    assert_eq!(again, request);
});
