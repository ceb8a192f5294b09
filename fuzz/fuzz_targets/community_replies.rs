//! A client reading a community server's replies: arbitrary v4 reply bytes, and arbitrary
//! bodies under each success status, never panic in any parser (batch sub-replies included),
//! and a URL of any text parses or fails cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_community::{CommunityUrl, Reply};

fn all_parsers(reply: &Reply, depth: u8) {
    let _ = reply.capabilities();
    let _ = reply.rooms();
    let _ = reply.room();
    let _ = reply.poll_info();
    if let Ok(list) = reply.messages() {
        for m in &list {
            let _ = m.verified_data();
        }
    }
    let _ = reply.message();
    let _ = reply.posted();
    let _ = reply.empty_ok();
    let _ = reply.reaction_added();
    let _ = reply.reaction_removed();
    let _ = reply.reactions_cleared();
    let _ = reply.reactors();
    let _ = reply.uploaded();
    let _ = reply.file();
    let _ = reply.dm_sent();
    if let Ok(list) = reply.dms() {
        for d in &list {
            let _ = d.data();
        }
    }
    let _ = reply.inbox_cleared();
    if depth == 0 {
        if let Ok(subs) = reply.batch() {
            for s in &subs {
                all_parsers(s, 1);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(reply) = Reply::from_v4(data) {
        all_parsers(&reply, 0);
    }
    for code in [200u16, 201, 304, 412] {
        let reply = Reply {
            code,
            headers: Default::default(),
            body: data.to_vec(),
        };
        all_parsers(&reply, 0);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(url) = CommunityUrl::parse(text) {
            // What parses re-parses to itself from its canonical form.
            assert_eq!(CommunityUrl::parse(&url.full_url()).ok(), Some(url));
        }
    }
});
