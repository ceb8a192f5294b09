//! Identity benchmarks: recovery phrase encode/decode, blinded IDs and blinded signatures, and,
//! in the same run, the primitives they consist of. Prints each operation's median against the
//! sum of its primitives' medians, and heap allocations per operation.

use metaless_benches::{median_ns, print_ratio_rows};
use std::hint::black_box;

use blake2::digest::consts::U64;
use blake2::digest::{KeyInit, Mac};
use blake2::{Blake2b512, Blake2bMac};
use criterion::Criterion;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::{EdwardsPoint, Scalar};
use metaless_benches::{CountingAlloc, allocations_during};
use metaless_identity::{Keypair, Seed, blinding, mnemonic};
use sha2::{Digest, Sha512};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const SERVER: [u8; 32] = [0xab; 32];
const MESSAGE: [u8; 32] = [0x5a; 32];

fn keys() -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([7; 32]))
}

fn operations(c: &mut Criterion) {
    let keys = keys();
    let legacy = Seed::from_legacy([9; 16]);
    let phrase13 = mnemonic::to_phrase(&legacy);
    let phrase25 = mnemonic::to_phrase(&Seed::from_bytes([9; 32]));
    let session_id = keys.session_id();
    let mut group = c.benchmark_group("identity");
    group.bench_function("phrase_encode_13", |b| {
        b.iter(|| mnemonic::to_phrase(black_box(&legacy)))
    });
    group.bench_function("phrase_decode_13", |b| {
        b.iter(|| mnemonic::to_seed(black_box(phrase13.expose_secret())).unwrap())
    });
    group.bench_function("phrase_decode_25", |b| {
        b.iter(|| mnemonic::to_seed(black_box(phrase25.expose_secret())).unwrap())
    });
    group.bench_function("blind15_ids", |b| {
        b.iter(|| blinding::blind15_ids(black_box(&session_id), &SERVER).unwrap())
    });
    group.bench_function("blind25_id", |b| {
        b.iter(|| blinding::blind25_id(black_box(&session_id), &SERVER).unwrap())
    });
    // Plain Ed25519 over a 100-byte message: on AVX-512 IFMA CPUs the nonce's point comes
    // from our four-lane table walk; against ed25519-dalek and libsodium in the same run.
    group.bench_function("sign_100", |b| {
        b.iter(|| keys.sign(black_box(&[0x5a; 100])))
    });
    group.bench_function("blind15_sign", |b| {
        b.iter(|| blinding::blind15_sign(&keys, &SERVER, black_box(&MESSAGE)))
    });
    group.bench_function("blind25_sign", |b| {
        b.iter(|| blinding::blind25_sign(&keys, &SERVER, black_box(&MESSAGE)).unwrap())
    });
    group.finish();
}

fn primitives(c: &mut Criterion) {
    let keys = keys();
    let phrase13 = mnemonic::to_phrase(&Seed::from_legacy([9; 16]));
    let words = mnemonic::word_list();
    let mut group = c.benchmark_group("baseline_identity");
    // The variable-time alternative to our constant-time word lookup: binary search by prefix.
    group.bench_function("binary_search_13_words", |b| {
        b.iter(|| {
            black_box(phrase13.expose_secret())
                .split_whitespace()
                .map(|w| {
                    words
                        .binary_search_by(|c| c.as_bytes()[..3].cmp(&w.as_bytes()[..3]))
                        .unwrap()
                })
                .sum::<usize>()
        })
    });
    group.bench_function("blake2b512_32", |b| {
        b.iter(|| Blake2b512::new().chain_update(black_box(SERVER)).finalize())
    });
    group.bench_function("blake2b512_keyed_96", |b| {
        b.iter(|| {
            let mut mac =
                <Blake2bMac<U64> as KeyInit>::new_from_slice(b"SessCommBlind25_sig").unwrap();
            Mac::update(&mut mac, black_box(&[0u8; 96]));
            mac.finalize().into_bytes()
        })
    });
    group.bench_function("sha512_96", |b| {
        b.iter(|| Sha512::digest(black_box([0u8; 96])))
    });
    let dalek = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    group.bench_function("dalek_sign_100", |b| {
        b.iter(|| ed25519_dalek::Signer::sign(&dalek, black_box(&[0x5a; 100])))
    });
    #[cfg(libsodium)]
    {
        let (_, secret) = metaless_benches::sodium::sign_seed_keypair(&[7; 32]);
        group.bench_function("sodium_sign_100", |b| {
            b.iter(|| metaless_benches::sodium::sign(black_box(&[0x5a; 100]), &secret))
        });
    }
    let scalar = Scalar::from_bytes_mod_order([7; 32]);
    group.bench_function("mul_base", |b| {
        b.iter(|| EdwardsPoint::mul_base(black_box(&scalar)).compress())
    });
    let x = MontgomeryPoint(keys.x25519_public());
    group.bench_function("to_edwards", |b| {
        b.iter(|| black_box(x).to_edwards(0).unwrap())
    });
    let point = x.to_edwards(0).unwrap();
    group.bench_function("torsion_check", |b| {
        b.iter(|| black_box(point).is_torsion_free())
    });
    group.bench_function("var_mul", |b| {
        b.iter(|| (black_box(scalar) * black_box(point)).compress())
    });
    group.finish();
}

fn report() {
    println!("\n== identity: medians against the sum of their primitives (same run)");
    let rows: [(&str, &[(&str, f64)]); 5] = [
        // 13 prefix lookups (plus CRC and triple arithmetic, which have no separate baseline).
        ("phrase_decode_13", &[("binary_search_13_words", 1.0)]),
        // k, |A| from X, the subgroup check, k·|A|.
        (
            "blind15_ids",
            &[
                ("blake2b512_32", 1.0),
                ("to_edwards", 1.0),
                ("torsion_check", 1.0),
                ("var_mul", 1.0),
            ],
        ),
        (
            "blind25_id",
            &[
                ("blake2b512_32", 1.0),
                ("to_edwards", 1.0),
                ("torsion_check", 1.0),
                ("var_mul", 1.0),
            ],
        ),
        // k, A' = a'·B, SHA-512(sk64), nonce hash, R = r·B, H(R‖A'‖M).
        (
            "blind15_sign",
            &[
                ("blake2b512_32", 1.0),
                ("mul_base", 2.0),
                ("sha512_96", 3.0),
            ],
        ),
        // k, A', seed hash, nonce hash (keyed BLAKE2b), R, H(R‖A'‖M).
        (
            "blind25_sign",
            &[
                ("blake2b512_32", 1.0),
                ("mul_base", 2.0),
                ("blake2b512_keyed_96", 2.0),
                ("sha512_96", 1.0),
            ],
        ),
    ];
    print_ratio_rows("identity", "baseline_identity", &rows);
    if let Some(ours) = median_ns("identity", "sign_100") {
        for base in ["dalek_sign_100", "sodium_sign_100"] {
            if let Some(theirs) = median_ns("baseline_identity", base) {
                println!(
                    "{:>18}: {:9.3} µs vs {base} {:9.3} µs: ratio {:.3}",
                    "sign_100",
                    ours / 1000.0,
                    theirs / 1000.0,
                    ours / theirs
                );
            }
        }
    }
    for op in ["phrase_encode_13", "phrase_decode_25"] {
        if let Some(ours) = median_ns("identity", op) {
            println!("{op:>18}: {:9.3} µs", ours / 1000.0);
        }
    }

    println!("\n== heap allocations per operation (count, bytes)");
    let keys = keys();
    let legacy = Seed::from_legacy([9; 16]);
    let (phrase, encode) = allocations_during(|| mnemonic::to_phrase(&legacy));
    let (_, decode) = allocations_during(|| mnemonic::to_seed(phrase.expose_secret()).unwrap());
    let (_, ids) =
        allocations_during(|| blinding::blind25_id(&keys.session_id(), &SERVER).unwrap());
    let (_, sign15) = allocations_during(|| blinding::blind15_sign(&keys, &SERVER, &MESSAGE));
    let (_, sign25) =
        allocations_during(|| blinding::blind25_sign(&keys, &SERVER, &MESSAGE).unwrap());
    println!(
        "phrase_encode_13 {encode:?}  phrase_decode_13 {decode:?}  blind25_id {ids:?}  blind15_sign {sign15:?}  blind25_sign {sign25:?}"
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    primitives(&mut c);
    operations(&mut c);
    c.final_summary();
    report();
}
