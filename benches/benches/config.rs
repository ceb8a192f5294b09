//! Config sync cost for an account with 1,000 contacts: one push (serialize, zstd, pad,
//! encrypt, protobuf wrap) and one pull (unwrap, decrypt, inflate, parse, merge into a fresh
//! copy), each against the raw XChaCha20-Poly1305 AEAD over the same number of bytes in the same
//! run (the cipher libsession uses; its C++ itself is not linked here).

use std::hint::black_box;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use criterion::Criterion;
use metaless_benches::median_ns;
use metaless_config::views::Contact;
use metaless_config::{Config, Kind, push};
use metaless_identity::{Keypair, Seed, SessionId};

const CONTACTS: u32 = 1_000;

/// A Contacts config with `n` approved contacts, named, as a real address book would be.
fn address_book(n: u32) -> Config {
    let mut c = Config::new(Kind::Contacts);
    c.edit(|d| {
        for i in 0..n {
            let mut key = [0u8; 32];
            // Spread like real keys: every byte varies (zstd gains nothing on the ids).
            for (j, b) in key.iter_mut().enumerate() {
                *b = (i.wrapping_mul(2_654_435_761).rotate_left(j as u32) >> 3) as u8 ^ j as u8;
            }
            let mut contact = Contact::new(SessionId::standard(key));
            contact.name = Some(format!("Contact {i}"));
            contact.approved = true;
            contact.approved_me = true;
            contact.write(d);
        }
    });
    c
}

fn benches(c: &mut Criterion) -> usize {
    let seed = Seed::from_bytes([3; 32]);
    let me = Keypair::from_seed(&seed);
    let book = address_book(CONTACTS);
    let stored = push::seal_user(&me, &seed, Kind::Contacts, &book.push()).unwrap();
    let aead = XChaCha20Poly1305::new(&[4u8; 32].into());
    let nonce = XNonce::from([5u8; 24]);

    let mut g = c.benchmark_group("config");
    g.bench_function("push_1000_contacts", |b| {
        b.iter(|| push::seal_user(&me, &seed, Kind::Contacts, &black_box(&book).push()).unwrap())
    });
    g.bench_function("pull_1000_contacts", |b| {
        b.iter(|| {
            let plain = push::open_user(&me, &seed, Kind::Contacts, black_box(&stored)).unwrap();
            let mut fresh = Config::new(Kind::Contacts);
            fresh.merge(&[plain.as_slice()])
        })
    });
    g.bench_function("raw_aead_same_bytes", |b| {
        let mut buf = vec![0u8; stored.len()];
        b.iter(|| {
            let tag = aead
                .encrypt_in_place_detached(&nonce, b"", black_box(&mut buf))
                .unwrap();
            black_box(tag)
        })
    });
    g.finish();
    stored.len()
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let stored = benches(&mut criterion);
    criterion.final_summary();
    let us = |name: &str| median_ns("config", name).map(|ns| ns / 1e3);
    let raw = us("raw_aead_same_bytes");
    println!("1,000 contacts: {stored} bytes stored");
    for name in [
        "push_1000_contacts",
        "pull_1000_contacts",
        "raw_aead_same_bytes",
    ] {
        if let Some(v) = us(name) {
            let ratio = raw.map(|r| v / r).unwrap_or(f64::NAN);
            println!("{name:>24}: {v:9.1} µs  ({ratio:.1}x the raw AEAD)");
        }
    }
}
