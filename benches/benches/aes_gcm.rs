//! AES-256-GCM seal and open at 64 B, 1 KiB, 16 KiB and 64 KiB: metaless-cipher, RustCrypto's
//! `aes-gcm` and libsodium's `crypto_aead_aes256gcm_*`, each in criterion and then interleaved
//! against libsodium in the same run (ratio of medians, with the per-block spread), plus
//! metaless-cipher's portable build (RustCrypto behind the dispatch) against its AES-NI build.
//! Every call takes the key afresh (key schedule and hash key included), as an onion layer
//! does and as libsodium's one-shot functions do.
//!
//! `cargo bench -p metaless-benches --bench aes_gcm -- --warm-up-time 0.3 --measurement-time 1`
//! (a criterion filter that matches nothing, e.g. `-- interleaved-only`, runs only the
//! interleaved part).

use std::hint::black_box;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use criterion::{BenchmarkId, Criterion, Throughput};
use metaless_cipher::aes256gcm::{open_in_place_detached, seal_in_place_detached};

const SIZES: [(usize, &str); 4] = [
    (64, "64B"),
    (1024, "1KiB"),
    (16 * 1024, "16KiB"),
    (64 * 1024, "64KiB"),
];
const KEY: [u8; 32] = [9u8; 32];
const NONCE: [u8; 12] = [1u8; 12];

fn rc_seal(buf: &mut [u8]) -> [u8; 16] {
    Aes256Gcm::new(&KEY.into())
        .encrypt_in_place_detached(&NONCE.into(), b"", buf)
        .unwrap()
        .into()
}

fn rc_open(buf: &mut [u8], tag: &[u8; 16]) {
    Aes256Gcm::new(&KEY.into())
        .decrypt_in_place_detached(&NONCE.into(), b"", buf, tag.into())
        .unwrap()
}

fn criterion_rows(c: &mut Criterion) {
    let mut group = c.benchmark_group("aes256gcm");
    for (size, label) in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0x5au8; size];
        group.bench_function(BenchmarkId::new("seal_metaless", label), |b| {
            b.iter(|| seal_in_place_detached(&KEY, &NONCE, b"", black_box(&mut buf)).unwrap())
        });
        group.bench_function(BenchmarkId::new("seal_rustcrypto", label), |b| {
            b.iter(|| rc_seal(black_box(&mut buf)))
        });
        #[cfg(libsodium)]
        if metaless_benches::sodium::aes_gcm_available() {
            group.bench_function(BenchmarkId::new("seal_libsodium", label), |b| {
                b.iter(|| metaless_benches::sodium::aes_gcm_seal(black_box(&mut buf), &NONCE, &KEY))
            });
        }
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
                |buf| rc_open(buf, &tag),
                criterion::BatchSize::SmallInput,
            )
        });
        #[cfg(libsodium)]
        if metaless_benches::sodium::aes_gcm_available() {
            group.bench_function(BenchmarkId::new("open_libsodium", label), |b| {
                b.iter_batched_ref(
                    || sealed.clone(),
                    |buf| {
                        assert!(metaless_benches::sodium::aes_gcm_open(
                            buf, &tag, &NONCE, &KEY
                        ))
                    },
                    criterion::BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

/// Each implementation against libsodium, alternately in one loop (`metaless_benches::compare`).
/// Opening includes restoring the sealed bytes (one copy, the same on both sides).
#[cfg(libsodium)]
fn interleaved() {
    use metaless_benches::{compare, sodium};
    if !sodium::aes_gcm_available() {
        println!("libsodium has no AES-256-GCM on this CPU: no same-run baseline");
        return;
    }
    println!(
        "\n== AES-256-GCM against libsodium {} (interleaved, medians; blocks = spread; dispatched build: {:?})",
        sodium::version(),
        metaless_cipher::__paths::aes_best()
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
                black_box(sodium::aes_gcm_seal(&mut their_buf, &NONCE, &KEY));
            },
        );
        let seal_rc = compare(
            5,
            rounds,
            || {
                black_box(rc_seal(&mut ours_buf));
            },
            || {
                black_box(sodium::aes_gcm_seal(&mut their_buf, &NONCE, &KEY));
            },
        );
        let mut sealed = vec![0x5au8; size];
        let tag = sodium::aes_gcm_seal(&mut sealed, &NONCE, &KEY);
        let open_ours = compare(
            5,
            rounds,
            || {
                ours_buf.copy_from_slice(&sealed);
                open_in_place_detached(&KEY, &NONCE, b"", &mut ours_buf, &tag).unwrap();
            },
            || {
                their_buf.copy_from_slice(&sealed);
                assert!(sodium::aes_gcm_open(&mut their_buf, &tag, &NONCE, &KEY));
            },
        );
        let open_rc = compare(
            5,
            rounds,
            || {
                ours_buf.copy_from_slice(&sealed);
                rc_open(&mut ours_buf, &tag);
            },
            || {
                their_buf.copy_from_slice(&sealed);
                assert!(sodium::aes_gcm_open(&mut their_buf, &tag, &NONCE, &KEY));
            },
        );
        println!("  seal {label:>6} metaless   {seal_ours}");
        println!("  seal {label:>6} RustCrypto {seal_rc}");
        println!("  open {label:>6} metaless   {open_ours}");
        println!("  open {label:>6} RustCrypto {open_rc}");
    }
}

/// metaless-cipher's AES-256-GCM builds against its dispatched one, interleaved (seal).
fn builds() {
    use metaless_cipher::__paths as paths;
    let best = paths::aes_best();
    println!(
        "\n== metaless-cipher AES-256-GCM seal: each build / the dispatched one ({best:?}), interleaved"
    );
    for (size, label) in SIZES {
        let rounds = if size > 4096 { 300 } else { 3000 };
        for build in paths::AES_ALL {
            if build == best || !paths::aes_available(build) {
                continue;
            }
            let mut a = vec![0x5au8; size];
            let mut b = vec![0x5au8; size];
            let c = metaless_benches::compare(
                5,
                rounds,
                || {
                    black_box(paths::aes_seal(build, &KEY, &NONCE, b"", &mut a));
                },
                || {
                    black_box(paths::aes_seal(best, &KEY, &NONCE, b"", &mut b));
                },
            );
            println!("  seal {label:>6} {:<8} {c}", format!("{build:?}"));
        }
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    criterion_rows(&mut criterion);
    criterion.final_summary();
    #[cfg(libsodium)]
    interleaved();
    #[cfg(not(libsodium))]
    println!("libsodium not found: no same-run baseline (see benches/build.rs)");
    builds();
}
