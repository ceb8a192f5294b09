//! Group message cost against a one-to-one message in the same run: what a group send and a
//! group receive cost (Content encoded, signed, padded, compressed when smaller, encrypted with
//! the group key) beside sign+seal and open+verify of the same Content to one recipient.

use std::hint::black_box;

use criterion::Criterion;
use metaless_benches::median_ns;
use metaless_envelope::{Content, open_message, seal_message};
use metaless_group::{GroupKeyring, GroupKeys, decrypt_content, encrypt_content, rekey};
use metaless_identity::{Keypair, Seed};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// A typical chat line, as both benchmarks send it.
const TEXT: &str = "Are we still on for Thursday? I can bring the projector and the cables.";

fn benches(c: &mut Criterion) {
    let alice = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    let content = Content::text(TEXT);
    let group = GroupKeys::from_seed([3; 32]);
    let (_, key) = rekey(&group, &[], 0, 1).unwrap();
    let mut ring = GroupKeyring::new(group.group_id());
    ring.insert(&key);
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let wire = encrypt_content(&alice, &ring, &content, 1, &mut rng).unwrap();
    let stored = seal_message(&alice, &bob.session_id(), &content, 1, &mut rng).unwrap();

    let mut g = c.benchmark_group("group");
    g.bench_function("group_send", |b| {
        b.iter(|| encrypt_content(&alice, &ring, black_box(&content), 1, &mut rng).unwrap())
    });
    g.bench_function("one_to_one_send", |b| {
        b.iter(|| {
            seal_message(&alice, &bob.session_id(), black_box(&content), 1, &mut rng).unwrap()
        })
    });
    g.bench_function("group_receive", |b| {
        b.iter(|| decrypt_content(&ring, black_box(&wire)).unwrap())
    });
    g.bench_function("one_to_one_receive", |b| {
        b.iter(|| open_message(&bob, black_box(&stored)).unwrap())
    });
    g.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    let us = |name: &str| median_ns("group", name).map(|ns| ns / 1e3);
    for (group, one) in [
        ("group_send", "one_to_one_send"),
        ("group_receive", "one_to_one_receive"),
    ] {
        if let (Some(g), Some(o)) = (us(group), us(one)) {
            println!(
                "{group:>14}: {g:7.1} µs   {one}: {o:7.1} µs   ratio {:.2}",
                g / o
            );
        }
    }
}
