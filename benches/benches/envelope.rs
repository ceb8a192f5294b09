//! Envelope benchmarks: sign+seal and open+verify at 1 KiB and 64 KiB, the full stored form,
//! and, in the same run, the primitives those operations consist of. Prints each operation's
//! median against the sum of its primitives' medians, and heap allocations per operation.

use metaless_benches::median_ns;
use std::hint::black_box;
use std::time::{Duration, Instant};

use blake2::Blake2b;
use blake2::digest::Digest;
use blake2::digest::consts::U24;
use criterion::{BenchmarkId, Criterion, Throughput};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::traits::IsIdentity;
use curve25519_dalek::{EdwardsPoint, Scalar};
use metaless_benches::{CountingAlloc, allocations_during};
use metaless_cipher::{salsa20::hsalsa20, secretbox};
use metaless_envelope::{
    Content, PreparedRecipient, SenderKeys, decrypt_incoming, encrypt_for_prepared,
    encrypt_for_recipient, open_message, seal_message,
};
use metaless_identity::{Keypair, Seed, X25519Secret, ed25519_to_x25519_public, verify_ed25519};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (64 * 1024, "64KiB")];

fn keys(byte: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([byte; 32]))
}

/// X25519 by the fastest correct route for curve points (Edwards-form multiplication).
fn x25519_edwards(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    let u = MontgomeryPoint(*peer);
    match u.to_edwards(0) {
        Some(point) => point.mul_clamped(*secret).to_montgomery().to_bytes(),
        None => u.mul_clamped(*secret).to_bytes(),
    }
}

/// libsodium's `crypto_sign_ed25519_pk_to_curve25519` checks with a variable-time torsion test.
fn ed25519_to_x25519_vartime(key: &[u8; 32]) -> Option<[u8; 32]> {
    let point = CompressedEdwardsY(*key).decompress()?;
    if point.is_small_order() {
        return None;
    }
    let check =
        EdwardsPoint::vartime_double_scalar_mul_basepoint(&(-Scalar::ONE), &point, &Scalar::ZERO);
    (check + point)
        .is_identity()
        .then(|| point.to_montgomery().to_bytes())
}

/// Median of the per-round times of `op` and of `primitives`, run alternately so that the load
/// other processes put on the machine hits both alike.
fn interleaved(
    rounds: usize,
    mut op: impl FnMut(),
    mut primitives: impl FnMut() -> Duration,
) -> (f64, f64) {
    let mut ours = Vec::with_capacity(rounds);
    let mut theirs = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        op();
        ours.push(start.elapsed().as_nanos() as f64);
        theirs.push(primitives().as_nanos() as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ours), median(&mut theirs))
}

fn operations(c: &mut Criterion) {
    let (alice, bob) = (keys(1), keys(2));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut group = c.benchmark_group("envelope");
    for (size, label) in SIZES {
        let message = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("sign_seal", label), &message, |b, m| {
            b.iter(|| {
                encrypt_for_recipient(&alice, &bob.session_id(), black_box(m), &mut rng).unwrap()
            })
        });
        // A repeat recipient: the recipient key's Edwards form cached (issue 18 item 2).
        let to_bob = PreparedRecipient::new(&bob.session_id()).unwrap();
        group.bench_with_input(
            BenchmarkId::new("sign_seal_prepared", label),
            &message,
            |b, m| {
                b.iter(|| encrypt_for_prepared(&alice, &to_bob, black_box(m), &mut rng).unwrap())
            },
        );
        let sealed = encrypt_for_recipient(&alice, &bob.session_id(), &message, &mut rng).unwrap();
        group.bench_with_input(BenchmarkId::new("open_verify", label), &sealed, |b, s| {
            b.iter(|| decrypt_incoming(&bob, black_box(s)).unwrap())
        });
        // A repeat sender: the key's checks remembered by `SenderKeys` (issue 18 item 2).
        let mut cache = SenderKeys::default();
        group.bench_with_input(
            BenchmarkId::new("open_verify_cached", label),
            &sealed,
            |b, s| b.iter(|| cache.decrypt_incoming(&bob, black_box(s)).unwrap()),
        );
        // The whole stored form: protobuf, padding, sign+seal, decoy Pro signature, wrappers.
        let content = Content::text("a".repeat(size));
        group.bench_with_input(
            BenchmarkId::new("seal_message", label),
            &content,
            |b, content| {
                b.iter(|| {
                    seal_message(&alice, &bob.session_id(), black_box(content), 1, &mut rng)
                        .unwrap()
                })
            },
        );
        let stored = seal_message(&alice, &bob.session_id(), &content, 1, &mut rng).unwrap();
        group.bench_with_input(BenchmarkId::new("open_message", label), &stored, |b, s| {
            b.iter(|| open_message(&bob, black_box(s)).unwrap())
        });
    }
    group.finish();
}

fn primitives(c: &mut Criterion) {
    let (alice, bob) = (keys(1), keys(2));
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut group = c.benchmark_group("baseline");
    group.bench_function("x25519_keygen", |b| {
        b.iter(|| {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            X25519Secret::from_bytes(secret).public_key()
        })
    });
    let ephemeral = X25519Secret::from_bytes([3u8; 32]);
    let ephemeral_public = ephemeral.public_key();
    group.bench_function("x25519_dh", |b| {
        b.iter(|| {
            ephemeral
                .diffie_hellman(black_box(&bob.x25519_public()))
                .unwrap()
        })
    });
    let shared = ephemeral.diffie_hellman(&bob.x25519_public()).unwrap();
    group.bench_function("hsalsa20", |b| {
        b.iter(|| hsalsa20(black_box(&shared), &[0u8; 16]))
    });
    group.bench_function("blake2b_nonce", |b| {
        b.iter(|| {
            let mut hash = Blake2b::<U24>::new();
            hash.update(black_box(&ephemeral_public));
            hash.update(bob.x25519_public());
            hash.finalize()
        })
    });
    group.bench_function("ed25519_to_x25519", |b| {
        b.iter(|| ed25519_to_x25519_vartime(black_box(&alice.ed25519_public())))
    });
    // For reference only: identity's constant-time conversion (libsodium's checks, ct torsion).
    group.bench_function("ed25519_to_x25519_ct", |b| {
        b.iter(|| ed25519_to_x25519_public(black_box(&alice.ed25519_public())).unwrap())
    });
    group.bench_function("decoy_base_mul", |b| {
        b.iter(|| {
            EdwardsPoint::mul_base(black_box(&Scalar::from_bytes_mod_order([7u8; 32]))).compress()
        })
    });
    let key = [9u8; 32];
    let nonce = [1u8; 24];
    for (size, label) in SIZES {
        // What is signed is M ‖ A ‖ Y; what is boxed is M ‖ A ‖ SIG.
        let signed = vec![0x5au8; size + 64];
        group.bench_with_input(BenchmarkId::new("ed25519_sign", label), &signed, |b, m| {
            b.iter(|| alice.sign(black_box(m)))
        });
        let signature = alice.sign(&signed);
        group.bench_with_input(
            BenchmarkId::new("ed25519_verify", label),
            &signed,
            |b, m| {
                b.iter(|| {
                    verify_ed25519(&alice.ed25519_public(), black_box(m), &signature).unwrap()
                })
            },
        );
        let mut boxed = vec![0x5au8; size + 96];
        group.bench_function(BenchmarkId::new("xsalsa20poly1305_seal", label), |b| {
            b.iter(|| secretbox::seal_in_place_detached(&key, &nonce, black_box(&mut boxed)))
        });
        let mut sealed = vec![0x5au8; size + 96];
        let tag = secretbox::seal_in_place_detached(&key, &nonce, &mut sealed);
        group.bench_function(BenchmarkId::new("xsalsa20poly1305_open", label), |b| {
            // Decrypting in place destroys the input: each iteration gets a fresh copy, made
            // outside the timed part.
            b.iter_batched_ref(
                || sealed.clone(),
                |buf| secretbox::open_in_place_detached(&key, &nonce, buf, &tag).unwrap(),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn report() {
    let us = |ns: f64| ns / 1000.0;
    println!("\n== envelope: medians against the sum of their primitives (same run)");
    for (_, label) in SIZES {
        let get = |group: &str, bench: &str| median_ns(group, bench);
        let sum = |parts: &[(&str, &str)]| -> Option<f64> {
            parts.iter().map(|(g, b)| get(g, b)).sum::<Option<f64>>()
        };
        let sign = format!("ed25519_sign/{label}");
        let verify = format!("ed25519_verify/{label}");
        let seal = format!("xsalsa20poly1305_seal/{label}");
        let open = format!("xsalsa20poly1305_open/{label}");
        let seal_parts = [
            ("baseline", sign.as_str()),
            ("baseline", "x25519_keygen"),
            ("baseline", "x25519_dh"),
            ("baseline", "hsalsa20"),
            ("baseline", "blake2b_nonce"),
            ("baseline", seal.as_str()),
        ];
        let open_parts = [
            ("baseline", "x25519_dh"),
            ("baseline", "hsalsa20"),
            ("baseline", "blake2b_nonce"),
            ("baseline", open.as_str()),
            ("baseline", verify.as_str()),
            ("baseline", "ed25519_to_x25519"),
        ];
        for (op, parts) in [
            ("sign_seal", &seal_parts[..]),
            ("open_verify", &open_parts[..]),
        ] {
            match (get("envelope", &format!("{op}/{label}")), sum(parts)) {
                (Some(ours), Some(total)) => println!(
                    "{op:>12} {label:>6}: {:9.2} µs   primitives {:9.2} µs   ratio {:.3}",
                    us(ours),
                    us(total),
                    ours / total
                ),
                _ => println!("{op:>12} {label:>6}: (no estimates found; run the whole bench)"),
            }
        }
        for op in ["seal_message", "open_message"] {
            if let Some(ours) = get("envelope", &format!("{op}/{label}")) {
                println!("{op:>12} {label:>6}: {:9.2} µs", us(ours));
            }
        }
    }

    println!("\n== interleaved (op and its primitives alternately, medians of per-round times;");
    println!(
        "   against libsodium: ratio of medians over 5 blocks, blocks = per-block ratio range)"
    );
    let (alice, bob) = (keys(1), keys(2));
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut prim_rng = ChaCha20Rng::seed_from_u64(5);
    let key = [9u8; 32];
    let nonce = [1u8; 24];
    for (size, label) in SIZES {
        let rounds = if size > 4096 { 300 } else { 2000 };
        let message = vec![0x5au8; size];
        let signed = vec![0x5au8; size + 64];
        let mut boxed = vec![0x5au8; size + 96];
        let (ours, prims) = interleaved(
            rounds,
            || {
                black_box(
                    encrypt_for_recipient(&alice, &bob.session_id(), &message, &mut rng).unwrap(),
                );
            },
            || {
                let start = Instant::now();
                let mut secret = [0u8; 32];
                prim_rng.fill_bytes(&mut secret);
                let public = X25519Secret::from_bytes(secret).public_key();
                let shared = x25519_edwards(&secret, &bob.x25519_public());
                black_box(hsalsa20(&shared, &[0u8; 16]));
                let mut hash = Blake2b::<U24>::new();
                hash.update(public);
                hash.update(bob.x25519_public());
                black_box(hash.finalize());
                black_box(alice.sign(&signed));
                black_box(secretbox::seal_in_place_detached(&key, &nonce, &mut boxed));
                start.elapsed()
            },
        );
        println!(
            "   sign_seal {label:>6}: {:9.2} µs   primitives {:9.2} µs   ratio {:.3}",
            us(ours),
            us(prims),
            ours / prims
        );

        let sealed = encrypt_for_recipient(&alice, &bob.session_id(), &message, &mut rng).unwrap();
        let mut encrypted = vec![0x5au8; size + 96];
        let tag = secretbox::seal_in_place_detached(&key, &nonce, &mut encrypted);
        let signature = alice.sign(&signed);
        let ephemeral: [u8; 32] = sealed[..32].try_into().unwrap();
        let mut scratch = encrypted.clone();
        let (ours, prims) = interleaved(
            rounds,
            || {
                black_box(decrypt_incoming(&bob, &sealed).unwrap());
            },
            || {
                scratch.copy_from_slice(&encrypted);
                let start = Instant::now();
                let shared = x25519_edwards(bob.x25519_secret().expose_secret(), &ephemeral);
                black_box(hsalsa20(&shared, &[0u8; 16]));
                let mut hash = Blake2b::<U24>::new();
                hash.update(ephemeral);
                hash.update(bob.x25519_public());
                black_box(hash.finalize());
                secretbox::open_in_place_detached(&key, &nonce, &mut scratch, &tag).unwrap();
                verify_ed25519(&alice.ed25519_public(), &signed, &signature).unwrap();
                black_box(ed25519_to_x25519_vartime(&alice.ed25519_public()));
                start.elapsed()
            },
        );
        println!(
            " open_verify {label:>6}: {:9.2} µs   primitives {:9.2} µs   ratio {:.3}",
            us(ours),
            us(prims),
            ours / prims
        );

        // The same open with the sender key remembered, against the plain one, alternately.
        let mut cache = SenderKeys::default();
        let (cached, plain) = interleaved(
            rounds,
            || {
                black_box(cache.decrypt_incoming(&bob, &sealed).unwrap());
            },
            || {
                let start = Instant::now();
                black_box(decrypt_incoming(&bob, &sealed).unwrap());
                start.elapsed()
            },
        );
        println!(
            " open_verify {label:>6}: repeat sender (SenderKeys) {:9.2} µs   plain {:9.2} µs   ratio {:.3}",
            us(cached),
            us(plain),
            cached / plain
        );
        #[cfg(libsodium)]
        {
            use metaless_benches::{compare, sodium};
            assert!(sodium::init());
            // libsession-util's encrypt_for_recipient on libsodium: crypto_sign_detached over
            // M ‖ A ‖ Y, then crypto_box_seal of M ‖ A ‖ SIG (one buffer each, as libsession).
            let (sodium_pk, sodium_sk) = sodium::sign_seed_keypair(&[1u8; 32]);
            assert_eq!(sodium_pk, alice.ed25519_public());
            let bob_x = bob.x25519_public();
            let sodium_seal = || {
                let mut signed = Vec::with_capacity(size + 64);
                signed.extend_from_slice(&message);
                signed.extend_from_slice(&sodium_pk);
                signed.extend_from_slice(&bob_x);
                let sig = sodium::sign(&signed, &sodium_sk);
                signed.truncate(size + 32);
                signed.extend_from_slice(&sig);
                black_box(sodium::box_seal(&signed, &bob_x));
            };
            // libsession-util's decrypt_incoming on libsodium: crypto_box_seal_open, then
            // crypto_sign_verify_detached over M ‖ A ‖ Y, then the sender key's conversion.
            let sodium_open = || {
                let inner =
                    sodium::box_seal_open(&sealed, &bob_x, bob.x25519_secret().expose_secret())
                        .unwrap();
                let m = inner.len() - 96;
                let key: [u8; 32] = inner[m..m + 32].try_into().unwrap();
                let sig: [u8; 64] = inner[m + 32..].try_into().unwrap();
                let mut signed = Vec::with_capacity(m + 64);
                signed.extend_from_slice(&inner[..m + 32]);
                signed.extend_from_slice(&bob_x);
                assert!(sodium::verify(&sig, &signed, &key));
                black_box(sodium::ed25519_pk_to_x25519(&key).unwrap());
            };
            sodium_open();
            // The libsodium box opens with our open, and ours with libsodium's.
            let mut sodium_rng = ChaCha20Rng::seed_from_u64(6);
            assert!(
                sodium::box_seal_open(
                    &encrypt_for_recipient(&alice, &bob.session_id(), &message, &mut sodium_rng)
                        .unwrap(),
                    &bob_x,
                    bob.x25519_secret().expose_secret()
                )
                .is_some()
            );
            let blocks = 5;
            let per_block = rounds / blocks;
            let to_bob = PreparedRecipient::new(&bob.session_id()).unwrap();
            let plain = compare(
                blocks,
                per_block,
                || {
                    black_box(
                        encrypt_for_recipient(&alice, &bob.session_id(), &message, &mut sodium_rng)
                            .unwrap(),
                    );
                },
                sodium_seal,
            );
            println!("   sign_seal {label:>6}: {:>13} {plain}", "plain");
            let prepared = compare(
                blocks,
                per_block,
                || {
                    black_box(
                        encrypt_for_prepared(&alice, &to_bob, &message, &mut sodium_rng).unwrap(),
                    );
                },
                sodium_seal,
            );
            println!("   sign_seal {label:>6}: {:>13} {prepared}", "prepared");
            for (name, cache) in [
                ("plain", None),
                ("repeat sender", Some(SenderKeys::default())),
            ] {
                let mut cache = cache;
                let result = compare(
                    blocks,
                    per_block,
                    || {
                        black_box(match cache.as_mut() {
                            Some(keys) => keys.decrypt_incoming(&bob, &sealed).unwrap(),
                            None => decrypt_incoming(&bob, &sealed).unwrap(),
                        });
                    },
                    sodium_open,
                );
                println!(" open_verify {label:>6}: {name:>13} {result}");
            }
        }
    }

    println!("\n== heap allocations per operation (count, bytes)");
    for (size, label) in SIZES {
        let message = vec![0x5au8; size];
        let (sealed, seal_allocs) = allocations_during(|| {
            encrypt_for_recipient(&alice, &bob.session_id(), &message, &mut rng).unwrap()
        });
        let (_, open_allocs) = allocations_during(|| decrypt_incoming(&bob, &sealed).unwrap());
        let mut cache = SenderKeys::default();
        let (_, first_allocs) =
            allocations_during(|| cache.decrypt_incoming(&bob, &sealed).unwrap());
        let (_, hit_allocs) = allocations_during(|| cache.decrypt_incoming(&bob, &sealed).unwrap());
        let content = Content::text("a".repeat(size));
        let (stored, seal_message_allocs) = allocations_during(|| {
            seal_message(&alice, &bob.session_id(), &content, 1, &mut rng).unwrap()
        });
        let (_, open_message_allocs) = allocations_during(|| open_message(&bob, &stored).unwrap());
        println!(
            "{label:>6}: sign_seal {seal_allocs:?}  open_verify {open_allocs:?} (SenderKeys: first {first_allocs:?}, repeat {hit_allocs:?})  seal_message {seal_message_allocs:?}  open_message {open_message_allocs:?}"
        );
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    operations(&mut criterion);
    primitives(&mut criterion);
    criterion.final_summary();
    report();
}
