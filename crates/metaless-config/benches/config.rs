//! Push and pull cost of a 1,000-contact Contacts config: serialize + compress + pad + encrypt +
//! wrap, and unwrap + decrypt + inflate + parse + merge.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use metaless_config::views::Contact;
use metaless_config::{Config, Kind, push};
use metaless_identity::{Keypair, Seed, SessionId};

fn contacts(n: u32) -> Config {
    let mut c = Config::new(Kind::Contacts);
    c.edit(|d| {
        for i in 0..n {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&i.to_be_bytes());
            key[4] = 0x55;
            let mut ct = Contact::new(SessionId::standard(key));
            ct.name = Some(format!("Contact number {i}"));
            ct.approved = true;
            ct.approved_me = i % 3 != 0;
            ct.created_s = 1_700_000_000 + i64::from(i);
            ct.write(d);
        }
    });
    c
}

fn bench(c: &mut Criterion) {
    let seed = Seed::from_bytes([1; 32]);
    let me = Keypair::from_seed(&seed);
    let cfg = contacts(1000);
    let p = cfg.push();
    let stored = push::seal_user(&me, &seed, Kind::Contacts, &p).unwrap();
    eprintln!(
        "1000 contacts: serialized {} bytes, stored {} bytes (compressed, padded, encrypted, wrapped)",
        p.serialized.len(),
        stored.len()
    );
    c.bench_function("contacts_1000_push", |b| {
        b.iter(|| {
            let p = cfg.push();
            push::seal_user(&me, &seed, Kind::Contacts, &p).unwrap()
        })
    });
    c.bench_function("contacts_1000_pull_merge", |b| {
        b.iter(|| {
            let plain = push::open_user(&me, &seed, Kind::Contacts, &stored).unwrap();
            let mut fresh = Config::new(Kind::Contacts);
            fresh.merge(&[&plain]);
            fresh
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
