//! XChaCha20-Poly1305 seal and open at 64 B, 1 KiB, 16 KiB and 64 KiB: metaless-cipher,
//! RustCrypto's `chacha20poly1305`, and libsodium's `crypto_aead_xchacha20poly1305_ietf_*`,
//! each in criterion and then interleaved against libsodium in the same run (ratio of medians,
//! with the per-block spread), plus metaless-cipher's portable build against its AVX2 build.
//!
//! `cargo bench -p metaless-benches --bench cipher -- --warm-up-time 0.3 --measurement-time 1`
//! (a criterion filter that matches nothing, e.g. `-- interleaved-only`, runs only the
//! interleaved part; `PARTS=1` times the ChaCha20 stream against Poly1305 alone).

use std::hint::black_box;

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use criterion::{BenchmarkId, Criterion, Throughput};
use metaless_cipher::xchacha20poly1305::{open_in_place_detached, seal_in_place_detached};

const SIZES: [(usize, &str); 4] = [
    (64, "64B"),
    (1024, "1KiB"),
    (16 * 1024, "16KiB"),
    (64 * 1024, "64KiB"),
];
const KEY: [u8; 32] = [9u8; 32];
const NONCE: [u8; 24] = [1u8; 24];

fn criterion_rows(c: &mut Criterion) {
    let rust_crypto = XChaCha20Poly1305::new(&KEY.into());
    let mut group = c.benchmark_group("xchacha20poly1305");
    for (size, label) in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0x5au8; size];
        group.bench_function(BenchmarkId::new("seal_metaless", label), |b| {
            b.iter(|| seal_in_place_detached(&KEY, &NONCE, b"", black_box(&mut buf)).unwrap())
        });
        group.bench_function(BenchmarkId::new("seal_rustcrypto", label), |b| {
            b.iter(|| {
                rust_crypto
                    .encrypt_in_place_detached(&NONCE.into(), b"", black_box(&mut buf))
                    .unwrap()
            })
        });
        #[cfg(libsodium)]
        group.bench_function(BenchmarkId::new("seal_libsodium", label), |b| {
            assert!(metaless_benches::sodium::init());
            b.iter(|| metaless_benches::sodium::xchacha_seal(black_box(&mut buf), &NONCE, &KEY))
        });
        // Opening in place destroys the input: each iteration gets a fresh copy of the sealed
        // buffer, made outside the timed part.
        let mut sealed = vec![0x5au8; size];
        let tag = seal_in_place_detached(&KEY, &NONCE, b"", &mut sealed).unwrap();
        group.bench_function(BenchmarkId::new("open_metaless", label), |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |buf| open_in_place_detached(&KEY, &NONCE, b"", buf, &tag).unwrap(),
                criterion::BatchSize::SmallInput,
            )
        });
        group.bench_function(BenchmarkId::new("open_rustcrypto", label), |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |buf| {
                    rust_crypto
                        .decrypt_in_place_detached(&NONCE.into(), b"", buf, &tag.into())
                        .unwrap()
                },
                criterion::BatchSize::SmallInput,
            )
        });
        #[cfg(libsodium)]
        group.bench_function(BenchmarkId::new("open_libsodium", label), |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |buf| {
                    assert!(metaless_benches::sodium::xchacha_open(
                        buf, &tag, &NONCE, &KEY
                    ))
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// Each implementation against libsodium, alternately in one loop (`metaless_benches::compare`).
/// Opening includes restoring the sealed bytes (one copy, the same on both sides).
#[cfg(libsodium)]
fn interleaved() {
    use metaless_benches::{compare, sodium};
    assert!(sodium::init());
    let rust_crypto = XChaCha20Poly1305::new(&KEY.into());
    println!(
        "\n== XChaCha20-Poly1305 against libsodium {} (interleaved, medians; blocks = spread; dispatched build: {:?})",
        sodium::version(),
        metaless_cipher::__paths::best()
    );
    for (size, label) in SIZES {
        let rounds = if size > 4096 { 300 } else { 3000 };
        let mut ours_buf = vec![0x5au8; size];
        let mut their_buf = vec![0x5au8; size];
        let seal_ours = compare(
            5,
            rounds,
            || {
                black_box(seal_in_place_detached(&KEY, &NONCE, b"", &mut ours_buf).unwrap());
            },
            || {
                black_box(sodium::xchacha_seal(&mut their_buf, &NONCE, &KEY));
            },
        );
        let seal_rc = compare(
            5,
            rounds,
            || {
                black_box(
                    rust_crypto
                        .encrypt_in_place_detached(&NONCE.into(), b"", &mut ours_buf)
                        .unwrap(),
                );
            },
            || {
                black_box(sodium::xchacha_seal(&mut their_buf, &NONCE, &KEY));
            },
        );
        let mut sealed = vec![0x5au8; size];
        let tag = sodium::xchacha_seal(&mut sealed, &NONCE, &KEY);
        let open_ours = compare(
            5,
            rounds,
            || {
                ours_buf.copy_from_slice(&sealed);
                open_in_place_detached(&KEY, &NONCE, b"", &mut ours_buf, &tag).unwrap();
            },
            || {
                their_buf.copy_from_slice(&sealed);
                assert!(sodium::xchacha_open(&mut their_buf, &tag, &NONCE, &KEY));
            },
        );
        let open_rc = compare(
            5,
            rounds,
            || {
                ours_buf.copy_from_slice(&sealed);
                rust_crypto
                    .decrypt_in_place_detached(&NONCE.into(), b"", &mut ours_buf, &tag.into())
                    .unwrap();
            },
            || {
                their_buf.copy_from_slice(&sealed);
                assert!(sodium::xchacha_open(&mut their_buf, &tag, &NONCE, &KEY));
            },
        );
        println!("  seal {label:>6} metaless   {seal_ours}");
        println!("  seal {label:>6} RustCrypto {seal_rc}");
        println!("  open {label:>6} metaless   {open_ours}");
        println!("  open {label:>6} RustCrypto {open_rc}");
    }
}

/// metaless-cipher's builds against its best one here, interleaved (seal).
fn builds() {
    use metaless_cipher::__paths as paths;
    let best = paths::best();
    println!("\n== metaless-cipher seal: each build / the dispatched one ({best:?}), interleaved");
    for (size, label) in SIZES {
        let rounds = if size > 4096 { 300 } else { 3000 };
        for build in paths::ALL {
            if build == best || !paths::available(build) {
                continue;
            }
            let mut a = vec![0x5au8; size];
            let mut b = vec![0x5au8; size];
            let c = metaless_benches::compare(
                5,
                rounds,
                || {
                    black_box(paths::seal(build, &KEY, &NONCE, b"", &mut a));
                },
                || {
                    black_box(paths::seal(best, &KEY, &NONCE, b"", &mut b));
                },
            );
            println!("  seal {label:>6} {:<8} {c}", format!("{build:?}"));
        }
    }
}

/// `PARTS=1`: the two halves of the AEAD alone, interleaved (the ChaCha20 stream of the
/// dispatched build as "ours", Poly1305 as the baseline), to see which one a change moved.
fn parts() {
    for (size, label) in SIZES {
        let rounds = if size > 4096 { 300 } else { 3000 };
        let mut a = vec![0x5au8; size];
        let b = vec![0x5au8; size];
        let c = metaless_benches::compare(
            3,
            rounds,
            || {
                metaless_cipher::chacha20::xor_in_place(&KEY, &[0; 12], 0, &mut a).unwrap();
            },
            || {
                black_box(metaless_cipher::poly1305::tag(&KEY, black_box(&b)));
            },
        );
        println!("  PARTS {label:>6} chacha / poly   {c}");
    }
}

fn main() {
    if std::env::var_os("PARTS").is_some() {
        parts();
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    criterion_rows(&mut criterion);
    criterion.final_summary();
    #[cfg(libsodium)]
    interleaved();
    #[cfg(not(libsodium))]
    println!("libsodium not found: no same-run baseline (see benches/build.rs)");
    builds();
}
