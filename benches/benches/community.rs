//! Community benchmarks: signing a request's X-SOGS-* headers and opening a blinded DM, and, in
//! the same run, the primitives they consist of. Prints each operation's median against the sum
//! of its primitives' medians.

use std::hint::black_box;

use blake2::{Blake2b512, Digest};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use criterion::Criterion;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::{EdwardsPoint, Scalar};
use metaless_benches::{median_ns, print_ratio_rows};
use metaless_community::{AuthMode, auth, dm};
use metaless_identity::{Keypair, Seed, blinding};

const SERVER: [u8; 32] = [0x1d; 32];
const PATH: &str = "/room/lobby/messages/since/12345?t=r&reactors=4";

fn parties() -> (Keypair, Keypair) {
    (
        Keypair::from_seed(&Seed::from_bytes([1; 32])),
        Keypair::from_seed(&Seed::from_bytes([2; 32])),
    )
}

fn operations(c: &mut Criterion) {
    let (alice, bob) = parties();
    let a15 = blinding::blind15_id_from_ed25519(&alice.ed25519_public(), &SERVER).unwrap();
    let b15 = blinding::blind15_id_from_ed25519(&bob.ed25519_public(), &SERVER).unwrap();
    let a25 = blinding::blind25_id(&alice.session_id(), &SERVER).unwrap();
    let b25 = blinding::blind25_id(&bob.session_id(), &SERVER).unwrap();
    // A padded Content of one 160-byte block, as Session sends.
    let msg = [0x42u8; 160];
    let w15 = dm::encrypt_with_nonce(&alice, &SERVER, &b15, &msg, &[7; 24]).unwrap();
    let w25 = dm::encrypt_with_nonce(&alice, &SERVER, &b25, &msg, &[7; 24]).unwrap();
    let mut group = c.benchmark_group("community");
    group.bench_function("sign_request_get", |b| {
        b.iter(|| {
            auth::sign(
                &alice,
                &SERVER,
                AuthMode::Blinded15,
                "GET",
                black_box(PATH),
                b"",
                1_700_000_000,
                [3; 16],
            )
            .pairs()
        })
    });
    group.bench_function("dm_open_15", |b| {
        b.iter(|| dm::decrypt(&bob, &SERVER, &a15, &b15, black_box(&w15)).unwrap())
    });
    group.bench_function("dm_open_25", |b| {
        b.iter(|| dm::decrypt(&bob, &SERVER, &a25, &b25, black_box(&w25)).unwrap())
    });
    group.bench_function("dm_seal_15", |b| {
        b.iter(|| dm::encrypt_with_nonce(&alice, &SERVER, &b15, black_box(&msg), &[7; 24]).unwrap())
    });
    group.finish();
}

fn primitives(c: &mut Criterion) {
    let (alice, _) = parties();
    let to_sign = auth::to_sign(&SERVER, &[3; 16], 1_700_000_000, "GET", PATH, b"");
    let mut group = c.benchmark_group("baseline_community");
    group.bench_function("blind15_sign", |b| {
        b.iter(|| blinding::blind15_sign(&alice, &SERVER, black_box(&to_sign)))
    });
    group.bench_function("blind25_keypair", |b| {
        b.iter(|| blinding::blind25_keypair(&alice, black_box(&SERVER)).public_key())
    });
    group.bench_function("blake2b512_32", |b| {
        b.iter(|| Blake2b512::new().chain_update(black_box(SERVER)).finalize())
    });
    let scalar = Scalar::from_bytes_mod_order([7; 32]);
    group.bench_function("mul_base", |b| {
        b.iter(|| EdwardsPoint::mul_base(black_box(&scalar)).compress())
    });
    let point = EdwardsPoint::mul_base(&scalar);
    let compressed = point.compress();
    group.bench_function("decompress_checked", |b| {
        b.iter(|| {
            let p = CompressedEdwardsY(black_box(compressed.to_bytes()))
                .decompress()
                .unwrap();
            p.is_torsion_free()
        })
    });
    group.bench_function("var_mul", |b| {
        b.iter(|| (black_box(scalar) * black_box(point)).compress())
    });
    let cipher = XChaCha20Poly1305::new(&[9u8; 32].into());
    let sealed = cipher
        .encrypt(XNonce::from_slice(&[7; 24]), &[0x42u8; 192][..])
        .unwrap();
    group.bench_function("xchacha_open_192", |b| {
        b.iter(|| {
            cipher
                .decrypt(XNonce::from_slice(&[7; 24]), black_box(&sealed[..]))
                .unwrap()
        })
    });
    group.finish();
}

fn report() {
    println!("\n== community: medians against the sum of their primitives (same run)");
    let rows: [(&str, &[(&str, f64)]); 3] = [
        // The signature over the signed bytes is the whole cost; the rest is formatting.
        ("sign_request_get", &[("blind15_sign", 1.0)]),
        // Own 15 id (k, a·B·k), the peer point check, a·jB, the key hash, XChaCha open, the
        // inner sender key check and its blinding (k, k·A).
        (
            "dm_open_15",
            &[
                ("blake2b512_32", 3.0),
                ("mul_base", 1.0),
                ("decompress_checked", 2.0),
                ("var_mul", 2.0),
                ("xchacha_open_192", 1.0),
            ],
        ),
        // As 15, plus the 25 key pair (its factor hash and a'·B) in place of the own id.
        (
            "dm_open_25",
            &[
                ("blind25_keypair", 2.0),
                ("blake2b512_32", 2.0),
                ("decompress_checked", 2.0),
                ("var_mul", 2.0),
                ("xchacha_open_192", 1.0),
            ],
        ),
    ];
    print_ratio_rows("community", "baseline_community", &rows);
    if let Some(ns) = median_ns("community", "dm_seal_15") {
        println!("{:>18}: {:9.3} µs", "dm_seal_15", ns / 1000.0);
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    primitives(&mut c);
    operations(&mut c);
    c.final_summary();
    report();
}
