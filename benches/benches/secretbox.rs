//! XSalsa20-Poly1305 (secretbox) seal and open at 64 B, 1 KiB, 16 KiB and 64 KiB: metaless-cipher,
//! RustCrypto's `xsalsa20poly1305`, and libsodium's `crypto_secretbox_detached`, each in
//! criterion and then interleaved against libsodium in the same run (ratio of medians, with
//! the per-block spread).
//!
//! `cargo bench -p metaless-benches --bench secretbox -- --warm-up-time 0.3 --measurement-time 1`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use xsalsa20poly1305::XSalsa20Poly1305;
use xsalsa20poly1305::aead::{AeadInPlace, KeyInit};

const SIZES: [(usize, &str); 4] = [
    (64, "64B"),
    (1024, "1KiB"),
    (16 * 1024, "16KiB"),
    (64 * 1024, "64KiB"),
];
const KEY: [u8; 32] = [9u8; 32];
const NONCE: [u8; 24] = [1u8; 24];

fn criterion_rows(c: &mut Criterion) {
    let rust_crypto = XSalsa20Poly1305::new(&KEY.into());
    let mut group = c.benchmark_group("secretbox");
    for (size, label) in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0x5au8; size];
        group.bench_function(BenchmarkId::new("seal_metaless", label), |b| {
            b.iter(|| {
                metaless_cipher::secretbox::seal_in_place_detached(
                    &KEY,
                    &NONCE,
                    black_box(&mut buf),
                )
            })
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
            b.iter(|| metaless_benches::sodium::secretbox_seal(black_box(&mut buf), &NONCE, &KEY))
        });
        // The two halves of ours: the stream alone, the authenticator alone.
        group.bench_function(BenchmarkId::new("xsalsa20_metaless", label), |b| {
            b.iter(|| metaless_cipher::salsa20::xsalsa20_xor(&KEY, &NONCE, 0, black_box(&mut buf)))
        });
        group.bench_function(BenchmarkId::new("poly1305_metaless", label), |b| {
            b.iter(|| metaless_cipher::poly1305::tag(&KEY, black_box(&buf)))
        });
        // Opening in place destroys the input: each iteration gets a fresh copy of the sealed
        // buffer, made outside the timed part.
        let mut sealed = vec![0x5au8; size];
        let tag = metaless_cipher::secretbox::seal_in_place_detached(&KEY, &NONCE, &mut sealed);
        group.bench_function(BenchmarkId::new("open_metaless", label), |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |buf| {
                    metaless_cipher::secretbox::open_in_place_detached(&KEY, &NONCE, buf, &tag)
                        .unwrap()
                },
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
                    assert!(metaless_benches::sodium::secretbox_open(
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
    let rust_crypto = XSalsa20Poly1305::new(&KEY.into());
    println!(
        "\n== secretbox against libsodium {} (interleaved, medians; blocks = spread)",
        sodium::version()
    );
    for (size, label) in SIZES {
        let rounds = if size > 4096 { 300 } else { 3000 };
        let mut ours_buf = vec![0x5au8; size];
        let mut their_buf = vec![0x5au8; size];
        let seal_ours = compare(
            5,
            rounds,
            || {
                black_box(metaless_cipher::secretbox::seal_in_place_detached(
                    &KEY,
                    &NONCE,
                    &mut ours_buf,
                ));
            },
            || {
                black_box(sodium::secretbox_seal(&mut their_buf, &NONCE, &KEY));
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
                black_box(sodium::secretbox_seal(&mut their_buf, &NONCE, &KEY));
            },
        );
        let mut sealed = vec![0x5au8; size];
        let tag = sodium::secretbox_seal(&mut sealed, &NONCE, &KEY);
        let open_ours = compare(
            5,
            rounds,
            || {
                ours_buf.copy_from_slice(&sealed);
                metaless_cipher::secretbox::open_in_place_detached(
                    &KEY,
                    &NONCE,
                    &mut ours_buf,
                    &tag,
                )
                .unwrap();
            },
            || {
                their_buf.copy_from_slice(&sealed);
                assert!(sodium::secretbox_open(&mut their_buf, &tag, &NONCE, &KEY));
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
                assert!(sodium::secretbox_open(&mut their_buf, &tag, &NONCE, &KEY));
            },
        );
        println!("  seal {label:>6} metaless   {seal_ours}");
        println!("  seal {label:>6} RustCrypto {seal_rc}");
        println!("  open {label:>6} metaless   {open_ours}");
        println!("  open {label:>6} RustCrypto {open_rc}");
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
}
