//! Attachment benchmarks: 'S' encrypt and decrypt of 1 MiB against, in the same run, the raw
//! cipher (libsodium-equivalent XChaCha20-Poly1305 AEAD over the same bytes) and the BLAKE2b
//! key-derivation pass; legacy AES-CBC+HMAC both ways. Prints MB/s and the ratio to the raw
//! cipher, and heap bytes allocated by each API for a 10 MB file.

use std::hint::black_box;

use blake2::Blake2bMac;
use blake2::digest::Mac;
use blake2::digest::consts::U56;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use criterion::{Criterion, Throughput};
use metaless_attachment::{
    Domain, LegacyKey, decrypt, decrypt_in_place, decrypt_legacy, encrypt, encrypt_in_place,
    encrypt_legacy, encrypted_size, io,
};
use metaless_benches::{CountingAlloc, allocations_during, median_ns};
use metaless_identity::Seed;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const MIB: usize = 1 << 20;

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

fn benches(c: &mut Criterion) {
    let seed = Seed::from_bytes([1; 32]);
    let plain = data(MIB);
    let (blob, key) = encrypt(&seed, &plain, Domain::Attachment, false).unwrap();
    let lkey = LegacyKey::from_bytes([2; 64]);
    let legacy = encrypt_legacy(&lkey, [3; 16], &plain, true);
    let aead = XChaCha20Poly1305::new(&[4u8; 32].into());
    let nonce = XNonce::from([5u8; 24]);

    let mut g = c.benchmark_group("attachment");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.sample_size(20);
    g.bench_function("s_encrypt_1MiB", |b| {
        b.iter(|| encrypt(&seed, black_box(&plain), Domain::Attachment, false).unwrap())
    });
    g.bench_function("s_decrypt_1MiB", |b| {
        b.iter(|| decrypt(black_box(&blob), &key).unwrap())
    });
    g.bench_function("raw_xchacha20poly1305_1MiB", |b| {
        b.iter(|| {
            let mut buf = plain.clone();
            aead.encrypt_in_place(&nonce, b"", &mut buf).unwrap();
            buf
        })
    });
    g.bench_function("blake2b56_keyed_1MiB", |b| {
        b.iter(|| {
            let mut m =
                Blake2bMac::<U56>::new_with_salt_and_personal(&[1; 32], &[], b"SessionAttachmnt")
                    .unwrap();
            m.update(black_box(&plain));
            m.finalize()
        })
    });
    g.bench_function("legacy_encrypt_1MiB", |b| {
        b.iter(|| encrypt_legacy(&lkey, [3; 16], black_box(&plain), true))
    });
    g.bench_function("legacy_decrypt_1MiB", |b| {
        b.iter(|| {
            decrypt_legacy(&lkey, black_box(&legacy.blob), Some(&legacy.digest), None).unwrap()
        })
    });
    g.finish();
}

fn report() {
    let mbps = |name: &str| median_ns("attachment", name).map(|ns| MIB as f64 / ns * 1e9 / 1e6);
    let raw = mbps("raw_xchacha20poly1305_1MiB");
    for name in [
        "s_encrypt_1MiB",
        "s_decrypt_1MiB",
        "raw_xchacha20poly1305_1MiB",
        "blake2b56_keyed_1MiB",
        "legacy_encrypt_1MiB",
        "legacy_decrypt_1MiB",
    ] {
        if let Some(v) = mbps(name) {
            let ratio = raw.map(|r| v / r).unwrap_or(f64::NAN);
            println!("{name:>28}: {v:8.1} MB/s  ({ratio:.2}x raw AEAD)");
        }
    }
    // Heap bytes each API allocates for a 10 MB file (the input itself already exists).
    let seed = Seed::from_bytes([1; 32]);
    let n = 10_000_000;
    let file = data(n);
    let ((blob, key), (_, one_shot)) =
        allocations_during(|| encrypt(&seed, &file, Domain::Attachment, false).unwrap());
    let mut buf = Vec::with_capacity(encrypted_size(n as u64) as usize);
    buf.extend_from_slice(&file);
    let (_, (_, in_place)) = allocations_during(|| {
        encrypt_in_place(&seed, &mut buf, Domain::Attachment, false).unwrap()
    });
    let (_, (_, streamed)) = allocations_during(|| {
        let mut src = std::io::Cursor::new(&file[..]);
        io::encrypt_file(
            &seed,
            Domain::Attachment,
            &mut src,
            &mut std::io::sink(),
            false,
        )
        .unwrap()
    });
    let (_, (_, dec_one)) = allocations_during(|| decrypt(&blob, &key).unwrap());
    let (_, (_, dec_in_place)) =
        allocations_during(|| decrypt_in_place(&mut buf, &key, false).unwrap());
    let (_, (_, dec_stream)) = allocations_during(|| {
        io::decrypt_stream(&key, &mut &blob[..], &mut std::io::sink(), u64::MAX).unwrap()
    });
    let mb = |b: usize| b as f64 / 1e6;
    println!(
        "10 MB file, heap allocated: encrypt {:.2} MB, encrypt_in_place {:.3} MB, io::encrypt_file {:.3} MB, decrypt {:.2} MB, decrypt_in_place {:.3} MB, io::decrypt_stream {:.3} MB",
        mb(one_shot),
        mb(in_place),
        mb(streamed),
        mb(dec_one),
        mb(dec_in_place),
        mb(dec_stream)
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    report();
}
