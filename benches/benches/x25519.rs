//! X25519 variable-base scalar multiplication: the AVX-512 IFMA Montgomery ladder
//! (`x25519::scalarmult_ifma`), the dispatched `x25519::scalarmult`, the Edwards-form path
//! (u → Edwards, dalek's variable-base multiplication, back to u: `x25519::scalarmult_edwards`),
//! the prepared-peer agreement (`x25519::agree_prepared`), curve25519-dalek's serial ladder and
//! libsodium's `crypto_scalarmult`, each row timed interleaved with libsodium in the same run
//! (`metaless_benches::compare`). Criterion rows only: the prime-order subgroup check of a
//! public key by the IFMA ladder (`x25519::in_prime_subgroup`) and by dalek's Edwards
//! `[ℓ−1]P` (what metaless-envelope runs without IFMA).
//!
//! `cargo bench -p metaless-benches --bench x25519 -- --warm-up-time 0.3 --measurement-time 1`
//! (criterion rows, then the libsodium table); `-- nomatch` skips the criterion rows.

use std::hint::black_box;

use criterion::Criterion;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use metaless_identity::x25519::{self, PreparedPeer};

/// A fixed peer key (an honest public key: on the curve) and secret.
fn inputs() -> ([u8; 32], [u8; 32]) {
    let secret = [0x42u8; 32];
    let peer = x25519::scalarmult_base(&[0x17u8; 32]);
    (secret, peer)
}

/// The IFMA ladder, or the dispatched function on a CPU without it (the row says which).
fn ifma_or_dispatched(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    x25519::scalarmult_ifma(secret, peer).unwrap_or_else(|| x25519::scalarmult(secret, peer))
}

/// `[ℓ]P = O` by `[ℓ−1]P = −P` (dalek's variable-time multiplication): the check without IFMA.
fn subgroup_edwards(point: &EdwardsPoint) -> bool {
    (EdwardsPoint::vartime_double_scalar_mul_basepoint(&(-Scalar::ONE), point, &Scalar::ZERO)
        + point)
        .is_identity()
}

fn operations(c: &mut Criterion) {
    let (secret, peer) = inputs();
    let prepared = PreparedPeer::new(peer);
    let mut g = c.benchmark_group("x25519");
    if x25519::scalarmult_ifma(&secret, &peer).is_some() {
        g.bench_function("ifma_ladder", |b| {
            b.iter(|| ifma_or_dispatched(black_box(&secret), black_box(&peer)))
        });
    }
    g.bench_function("scalarmult", |b| {
        b.iter(|| x25519::scalarmult(black_box(&secret), black_box(&peer)))
    });
    g.bench_function("edwards_path", |b| {
        b.iter(|| x25519::scalarmult_edwards(black_box(&secret), black_box(&peer)))
    });
    g.bench_function("agree_prepared", |b| {
        b.iter(|| x25519::agree_prepared(black_box(&secret), black_box(&prepared)))
    });
    g.bench_function("dalek_ladder", |b| {
        b.iter(|| MontgomeryPoint(*black_box(&peer)).mul_clamped(*black_box(&secret)))
    });
    // The sender-key subgroup check: the IFMA ladder by ℓ, and the Edwards `[ℓ−1]P = −P` it
    // replaces in metaless-envelope.
    if x25519::in_prime_subgroup(&peer).is_some() {
        g.bench_function("subgroup_ifma", |b| {
            b.iter(|| x25519::in_prime_subgroup(black_box(&peer)))
        });
    }
    if let Some(point) = MontgomeryPoint(peer).to_edwards(0) {
        g.bench_function("subgroup_edwards_vartime", |b| {
            b.iter(|| subgroup_edwards(black_box(&point)))
        });
    }
    g.finish();
}

#[cfg(libsodium)]
fn against_sodium() {
    use metaless_benches::{compare, sodium};
    let (secret, peer) = inputs();
    let prepared = PreparedPeer::new(peer);
    let has_ifma = x25519::scalarmult_ifma(&secret, &peer).is_some();
    println!(
        "\nX25519 against libsodium {} crypto_scalarmult (same run, interleaved; 5 blocks × 400 rounds){}",
        sodium::version(),
        if has_ifma {
            ""
        } else {
            "; no IFMA on this CPU"
        }
    );
    let rounds = 400;
    let row = |name: &str, mut f: Box<dyn FnMut()>| {
        let c = compare(5, rounds, &mut f, || {
            black_box(sodium::scalarmult(black_box(&secret), black_box(&peer)));
        });
        println!("{name:>18}  {c}");
    };
    if has_ifma {
        row(
            "ifma_ladder",
            Box::new(|| {
                black_box(ifma_or_dispatched(black_box(&secret), black_box(&peer)));
            }),
        );
    }
    row(
        "scalarmult",
        Box::new(|| {
            black_box(x25519::scalarmult(black_box(&secret), black_box(&peer)));
        }),
    );
    row(
        "edwards_path",
        Box::new(|| {
            black_box(x25519::scalarmult_edwards(
                black_box(&secret),
                black_box(&peer),
            ));
        }),
    );
    row(
        "agree_prepared",
        Box::new(|| {
            let _ = black_box(x25519::agree_prepared(
                black_box(&secret),
                black_box(&prepared),
            ));
        }),
    );
    row(
        "dalek_ladder",
        Box::new(|| {
            black_box(MontgomeryPoint(*black_box(&peer)).mul_clamped(*black_box(&secret)));
        }),
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    operations(&mut criterion);
    criterion.final_summary();
    #[cfg(libsodium)]
    against_sodium();
}
