//! Group send cost against a one-to-one send in the same run: encrypting one text message for
//! a group (Envelope, zstd attempt, signature, padding, XChaCha20-Poly1305) vs
//! `metaless_envelope::seal_message` (sign-then-seal to one recipient). Plus the receive side
//! and a 100-member rekey.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a benchmark harness

use criterion::{Criterion, criterion_group, criterion_main};
use metaless_envelope::{Content, open_message, seal_message};
use metaless_group::{GroupKeyring, GroupKeys, decrypt_content, encrypt_content, rekey};
use metaless_identity::{Keypair, Seed, SessionId};

fn bench(c: &mut Criterion) {
    let mut rng = rand_core::OsRng;
    let alice = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    let group = GroupKeys::from_seed([3; 32]);
    let (_, key) = rekey(&group, &[alice.session_id(), bob.session_id()], 0, 1).unwrap();
    let mut ring = GroupKeyring::new(group.group_id());
    ring.insert(&key);
    let content = Content::text("hello, this is a typical short chat message");
    let t = 1_700_000_000_000;

    c.bench_function("send/one_to_one_seal", |b| {
        b.iter(|| seal_message(&alice, &bob.session_id(), &content, t, &mut rng).unwrap())
    });
    c.bench_function("send/group_encrypt", |b| {
        b.iter(|| encrypt_content(&alice, &ring, &content, t, &mut rng).unwrap())
    });
    let sealed = seal_message(&alice, &bob.session_id(), &content, t, &mut rng).unwrap();
    let wire = encrypt_content(&alice, &ring, &content, t, &mut rng).unwrap();
    c.bench_function("receive/one_to_one_open", |b| {
        b.iter(|| open_message(&bob, &sealed).unwrap())
    });
    c.bench_function("receive/group_decrypt", |b| {
        b.iter(|| decrypt_content(&ring, &wire).unwrap())
    });
    let members: Vec<SessionId> = (0u8..100)
        .map(|i| Keypair::from_seed(&Seed::from_bytes([i; 32])).session_id())
        .collect();
    c.bench_function("rekey/100_members", |b| {
        b.iter(|| rekey(&group, &members, 1, t).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
