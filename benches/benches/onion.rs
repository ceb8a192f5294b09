//! Onion request benchmarks: a 3-hop build (1 KiB and 64 KiB payloads), one peel, opening the
//! reply, and, in the same run, the primitives those operations consist of (X25519 keygen and
//! agreement, the BLAKE2b / HMAC key derivations, the AEADs over the exact layer sizes).
//! Prints each operation's median against the sum of its primitives' medians, and heap
//! allocations per operation.

use metaless_benches::median_ns;
use std::hint::black_box;

use aes_gcm::Aes256Gcm;
use blake2::Blake2b;
use blake2::digest::Digest;
use blake2::digest::consts::U32;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use criterion::{BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use metaless_benches::{CountingAlloc, allocations_during};
use metaless_identity::X25519Secret;
use metaless_onion::{
    BuiltRequest, Destination, EncType, Hop, NodeKey, Peeled, build, decode_layer, peel, x25519,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use sha2::Sha256;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (64 * 1024, "64KiB")];
const ENCS: [EncType; 2] = [EncType::XChaCha20, EncType::AesGcm];

struct Net {
    secrets: Vec<X25519Secret>,
    path: Vec<Hop>,
    dest: Destination,
}

fn net() -> Net {
    let secrets: Vec<X25519Secret> = (1..=4u8)
        .map(|i| X25519Secret::from_bytes([i; 32]))
        .collect();
    let hops: Vec<Hop> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| Hop::new([i as u8 + 1; 32], s.public_key()))
        .collect();
    Net {
        dest: Destination::ServiceNode(hops[3].clone()),
        path: hops[..3].to_vec(),
        secrets,
    }
}

fn build_3hop(net: &Net, payload: &[u8], enc: EncType, rng: &mut ChaCha20Rng) -> BuiltRequest {
    build(&net.path, &net.dest, payload, enc, rng).unwrap()
}

/// Ciphertext length (nonce ‖ ct ‖ tag) of every layer of a built request, outermost first,
/// and the reply for the destination.
fn layer_sizes(net: &Net, built: &BuiltRequest) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut body = built.body.clone();
    for secret in &net.secrets {
        sizes.push(decode_layer(&body).unwrap().ciphertext.len());
        match peel(&NodeKey::new(secret), &body).unwrap() {
            Peeled::Forward { body: next, .. } => body = next,
            _ => break,
        }
    }
    sizes
}

fn operations(c: &mut Criterion) {
    let net = net();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let guard = NodeKey::new(&net.secrets[0]);
    let mut group = c.benchmark_group("onion");
    for enc in ENCS {
        for (size, label) in SIZES {
            let payload = vec![0x5au8; size];
            let id = format!("{enc}_{label}");
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::new("build_3hop", &id), &payload, |b, p| {
                b.iter(|| build_3hop(&net, black_box(p), enc, &mut rng))
            });
            let built = build_3hop(&net, &payload, enc, &mut rng);
            group.bench_with_input(BenchmarkId::new("peel", &id), &built.body, |b, body| {
                b.iter(|| peel(&guard, black_box(body)).unwrap())
            });
            let reply = metaless_onion::ReplyContext::new(
                &NodeKey::new(&net.secrets[3]),
                &built.pending.client_ephemeral_key(),
                enc,
            )
            .unwrap()
            .encrypt_response(&payload, &mut rng)
            .unwrap();
            group.bench_with_input(BenchmarkId::new("reply_open", &id), &reply, |b, r| {
                b.iter(|| built.pending.open(black_box(r)).unwrap())
            });
        }
    }
    group.finish();
}

fn seal(enc: EncType, buf: &mut [u8]) {
    let key = [9u8; 32];
    match enc {
        EncType::XChaCha20 => {
            XChaCha20Poly1305::new(&key.into())
                .encrypt_in_place_detached(&[1u8; 24].into(), b"", buf)
                .unwrap();
        }
        _ => {
            Aes256Gcm::new(&key.into())
                .encrypt_in_place_detached(&[1u8; 12].into(), b"", buf)
                .unwrap();
        }
    }
}

fn open(enc: EncType, buf: &mut [u8], tag: &[u8; 16]) {
    let key = [9u8; 32];
    match enc {
        EncType::XChaCha20 => XChaCha20Poly1305::new(&key.into())
            .decrypt_in_place_detached(&[1u8; 24].into(), b"", buf, &(*tag).into())
            .unwrap(),
        _ => Aes256Gcm::new(&key.into())
            .decrypt_in_place_detached(&[1u8; 12].into(), b"", buf, &(*tag).into())
            .unwrap(),
    }
}

fn tag_of(enc: EncType, plain: &[u8]) -> (Vec<u8>, [u8; 16]) {
    let mut buf = plain.to_vec();
    let key = [9u8; 32];
    let tag = match enc {
        EncType::XChaCha20 => XChaCha20Poly1305::new(&key.into()).encrypt_in_place_detached(
            &[1u8; 24].into(),
            b"",
            &mut buf,
        ),
        _ => {
            Aes256Gcm::new(&key.into()).encrypt_in_place_detached(&[1u8; 12].into(), b"", &mut buf)
        }
    }
    .unwrap();
    (buf, tag.into())
}

fn primitives(c: &mut Criterion) {
    let net = net();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut group = c.benchmark_group("onion_baseline");
    group.bench_function("x25519_keygen", |b| {
        b.iter(|| {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            x25519::scalarmult_base(&secret)
        })
    });
    let peer = net.secrets[0].public_key();
    group.bench_function("x25519_dh", |b| {
        b.iter(|| x25519::scalarmult(&[7u8; 32], black_box(&peer)))
    });
    group.bench_function("x25519_dh_ladder", |b| {
        b.iter(|| x25519::scalarmult_ladder(&[7u8; 32], black_box(&peer)))
    });
    // The agreement's parts (docs/performance.md, "X25519"): the map from u to an Edwards point
    // (an inversion and a square root), the multiplication, the map back (an inversion).
    let montgomery = curve25519_dalek::MontgomeryPoint(peer);
    group.bench_function("x25519_to_edwards", |b| {
        b.iter(|| black_box(montgomery).to_edwards(0))
    });
    let edwards = montgomery.to_edwards(0).unwrap();
    group.bench_function("edwards_mul_clamped", |b| {
        b.iter(|| black_box(edwards).mul_clamped([7u8; 32]))
    });
    let product = edwards.mul_clamped([7u8; 32]);
    group.bench_function("edwards_to_montgomery", |b| {
        b.iter(|| black_box(product).to_montgomery())
    });
    let shared = [3u8; 32];
    group.bench_function("blake2b_kdf", |b| {
        b.iter(|| {
            let mut h = Blake2b::<U32>::new();
            h.update(black_box(&shared));
            h.update(peer);
            h.update(peer);
            h.finalize()
        })
    });
    group.bench_function("hmac_sha256_kdf", |b| {
        b.iter(|| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"LOKI").unwrap();
            mac.update(black_box(&shared));
            mac.finalize().into_bytes()
        })
    });
    for enc in ENCS {
        for (size, _) in SIZES {
            let built = build_3hop(&net, &vec![0x5au8; size], enc, &mut rng);
            // Seal at every layer's plaintext size; open at the first hop's and at the reply's.
            let layers: Vec<usize> = layer_sizes(&net, &built)
                .iter()
                .map(|l| l - enc.overhead())
                .collect();
            for &plain in &layers {
                let mut buf = vec![0x5au8; plain];
                group.throughput(Throughput::Bytes(plain as u64));
                group.bench_function(BenchmarkId::new(format!("{enc}_seal"), plain), |b| {
                    b.iter(|| seal(enc, black_box(&mut buf)))
                });
            }
            for plain in [layers[0], size] {
                let (sealed, tag) = tag_of(enc, &vec![0x5au8; plain]);
                group.throughput(Throughput::Bytes(plain as u64));
                group.bench_function(BenchmarkId::new(format!("{enc}_open"), plain), |b| {
                    b.iter_batched_ref(
                        || sealed.clone(),
                        |buf| open(enc, buf, &tag),
                        criterion::BatchSize::SmallInput,
                    )
                });
            }
        }
    }
    group.finish();
}

fn report() {
    let net = net();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let base = |bench: &str| median_ns("onion_baseline", bench);
    let line = |op: &str, label: &str, ours: Option<f64>, parts: Option<f64>| match (ours, parts) {
        (Some(ours), Some(total)) => println!(
            "{op:>10} {label:>16}: {:9.2} µs   primitives {:9.2} µs   ratio {:.3}",
            ours / 1000.0,
            total / 1000.0,
            ours / total
        ),
        _ => println!("{op:>10} {label:>16}: (no estimates found; run the whole bench)"),
    };
    println!("\n== onion: medians against the sum of their primitives (same run)");
    if let (Some(to_edwards), Some(mul), Some(back)) = (
        base("x25519_to_edwards"),
        base("edwards_mul_clamped"),
        base("edwards_to_montgomery"),
    ) {
        let total = to_edwards + mul + back;
        println!(
            "x25519 agreement's parts: u → Edwards {:.2} µs ({:.0} %), multiplication {:.2} µs ({:.0} %), back to u {:.2} µs ({:.0} %)",
            to_edwards / 1000.0,
            100.0 * to_edwards / total,
            mul / 1000.0,
            100.0 * mul / total,
            back / 1000.0,
            100.0 * back / total
        );
    }
    if let (Some(edw), Some(ladder)) = (base("x25519_dh"), base("x25519_dh_ladder")) {
        println!(
            "x25519 agreement: Edwards form {:.2} µs, Montgomery ladder {:.2} µs",
            edw / 1000.0,
            ladder / 1000.0
        );
    }
    for enc in ENCS {
        let kdf = match enc {
            EncType::XChaCha20 => "blake2b_kdf",
            _ => "hmac_sha256_kdf",
        };
        for (size, label) in SIZES {
            let id = format!("{enc}_{label}");
            let built = build_3hop(&net, &vec![0x5au8; size], enc, &mut rng);
            let layers = layer_sizes(&net, &built);
            let seals: Option<f64> = layers
                .iter()
                .map(|l| base(&format!("{enc}_seal/{}", l - enc.overhead())))
                .sum();
            let n = layers.len() as f64;
            let build_parts =
                (|| Some(n * (base("x25519_keygen")? + base("x25519_dh")? + base(kdf)?) + seals?))(
                );
            line(
                "build_3hop",
                &id,
                median_ns("onion", &format!("build_3hop/{id}")),
                build_parts,
            );
            let first = layers[0] - enc.overhead();
            let peel_parts =
                (|| Some(base("x25519_dh")? + base(kdf)? + base(&format!("{enc}_open/{first}"))?))(
                );
            line(
                "peel",
                &id,
                median_ns("onion", &format!("peel/{id}")),
                peel_parts,
            );
            let open_parts = (|| Some(base(kdf)? + base(&format!("{enc}_open/{size}"))?))();
            line(
                "reply_open",
                &id,
                median_ns("onion", &format!("reply_open/{id}")),
                open_parts,
            );
        }
    }
}

/// Allocations one operation may make (issue 18 item 5: at most one per onion layer built or
/// peeled). Counts are deterministic, so the check is exact for every size and type.
const BUDGET: usize = 1;

fn check_budget(op: &str, (count, bytes): (usize, usize), budget: usize) {
    assert!(
        count <= budget,
        "allocation budget exceeded: {op} made {count} allocations ({bytes} bytes), budget {budget}"
    );
}

/// Heap allocations (count, bytes) of every onion operation, printed and checked against
/// [`BUDGET`] before anything is timed: a regression fails `cargo bench --bench onion` and
/// `cargo test -p metaless-benches --bench onion`.
fn allocation_budget() {
    let net = net();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    println!("\n== heap allocations per operation (count, bytes); budget {BUDGET} per operation");
    let dest = NodeKey::new(&net.secrets[3]);
    for enc in ENCS {
        for (size, label) in SIZES {
            let payload = vec![0x5au8; size];
            let (built, build_allocs) =
                allocations_during(|| build_3hop(&net, &payload, enc, &mut rng));
            check_budget("build_3hop", build_allocs, BUDGET);
            // The one allocation is the body itself, sized exactly by the counting pass.
            assert_eq!(
                build_allocs.1,
                built.body.len(),
                "build_3hop over-allocates"
            );
            let mut body = built.body.clone();
            let mut peels = Vec::new();
            for secret in &net.secrets[..3] {
                let key = NodeKey::new(secret);
                let (peeled, allocs) = allocations_during(|| peel(&key, &body).unwrap());
                check_budget("peel (forward)", allocs, BUDGET);
                let (next, rewrite) = match peeled {
                    Peeled::Forward { body: next, .. } => {
                        // What a relay node does next: no allocation of its own.
                        allocations_during(|| metaless_onion::with_hop_no(next, 1))
                    }
                    other => panic!("{other:?}"),
                };
                check_budget("with_hop_no", rewrite, 0);
                peels.push(allocs);
                body = next;
            }
            let (delivered, deliver_allocs) = allocations_during(|| peel(&dest, &body).unwrap());
            check_budget("peel (deliver)", deliver_allocs, BUDGET);
            let Peeled::Deliver(delivery) = delivered else {
                panic!()
            };
            let (reply, respond_allocs) = allocations_during(|| {
                delivery
                    .reply()
                    .encrypt_response(&payload, &mut rng)
                    .unwrap()
            });
            check_budget("respond", respond_allocs, BUDGET);
            let (_, open_allocs) = allocations_during(|| built.pending.open(&reply).unwrap());
            check_budget("reply_open", open_allocs, BUDGET);
            println!(
                "{enc:>9} {label:>6}: build_3hop {build_allocs:?} ({} layers)  peel(forward) {:?}  peel(deliver) {deliver_allocs:?}  respond {respond_allocs:?}  reply_open {open_allocs:?}",
                net.path.len() + 1,
                peels[0],
            );
        }
    }
    // The longest path a node accepts: still one allocation for all its layers.
    let long: Vec<Hop> = (0..metaless_onion::limits::MAX_HOPS)
        .map(|i| net.path[i % net.path.len()].clone())
        .collect();
    let (built, allocs) = allocations_during(|| {
        build(
            &long,
            &net.dest,
            &[0x5a; 1024],
            EncType::XChaCha20,
            &mut rng,
        )
        .unwrap()
    });
    check_budget("build (15 hops)", allocs, BUDGET);
    println!(
        "xchacha20   1KiB: build over {} hops {allocs:?} ({} layers, body {} bytes)",
        long.len(),
        long.len() + 1,
        built.body.len()
    );
}

/// The same operations done with libsodium alone, as the reference C++ client does them: per
/// layer an ephemeral key, the agreement, the key derivation and the AEAD over exactly our layer
/// sizes, in one buffer with no framing or JSON — a lower bound on the reference's work, so the
/// ratio is conservative. Interleaved with ours, round by round (`metaless_benches::compare`).
#[cfg(libsodium)]
mod against_sodium {
    use super::*;
    use metaless_benches::sodium;

    fn kdf(enc: EncType, shared: &[u8; 32], client: &[u8; 32], node: &[u8; 32]) -> [u8; 32] {
        match enc {
            EncType::XChaCha20 => sodium::blake2b::<32>(&[shared, client, node]),
            _ => sodium::hmac_sha256(b"LOKI", shared),
        }
    }

    fn seal(enc: EncType, buf: &mut [u8], nonce: &[u8; 24], key: &[u8; 32]) -> [u8; 16] {
        match enc {
            EncType::XChaCha20 => sodium::xchacha_seal(buf, nonce, key),
            _ => sodium::aes_gcm_seal(buf, nonce[..12].try_into().unwrap(), key),
        }
    }

    fn open(enc: EncType, buf: &mut [u8], tag: &[u8; 16], nonce: &[u8; 24], key: &[u8; 32]) {
        let ok = match enc {
            EncType::XChaCha20 => sodium::xchacha_open(buf, tag, nonce, key),
            _ => sodium::aes_gcm_open(buf, tag, nonce[..12].try_into().unwrap(), key),
        };
        assert!(ok);
    }

    /// Every layer of a 3-hop request, innermost first, each sealed in place.
    fn build(net: &Net, plain_sizes: &[usize], enc: EncType, rng: &mut ChaCha20Rng) -> Vec<u8> {
        let mut body = vec![0x5au8; plain_sizes[0] + enc.overhead()];
        for (i, &plain) in plain_sizes.iter().enumerate().rev() {
            let node = net.secrets[i].public_key();
            let mut ephemeral = [0u8; 32];
            rng.fill_bytes(&mut ephemeral);
            let client = sodium::scalarmult_base(&ephemeral);
            let shared = sodium::scalarmult(&ephemeral, &node).unwrap();
            let key = kdf(enc, &shared, &client, &node);
            let mut nonce = [0u8; 24];
            rng.fill_bytes(&mut nonce);
            let tag = seal(enc, &mut body[..plain], &nonce, &key);
            black_box(tag);
        }
        body
    }

    pub(super) fn report() {
        if !sodium::init() {
            println!("libsodium did not initialise; no libsodium comparison");
            return;
        }
        let net = net();
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut sodium_rng = ChaCha20Rng::seed_from_u64(5);
        let guard = NodeKey::new(&net.secrets[0]);
        let guard_secret = [1u8; 32];
        println!(
            "\n== onion against libsodium {} (same run, interleaved; 5 blocks)",
            sodium::version()
        );
        // The curve operations a layer consists of, each against libsodium's.
        let peer = net.secrets[0].public_key();
        let secret = [7u8; 32];
        let c = metaless_benches::compare(
            5,
            300,
            || {
                black_box(x25519::scalarmult(black_box(&secret), &peer));
            },
            || {
                black_box(sodium::scalarmult(black_box(&secret), &peer));
            },
        );
        println!("x25519 agreement (Edwards form)  {c}");
        let c = metaless_benches::compare(
            5,
            300,
            || {
                black_box(x25519::scalarmult_ladder(black_box(&secret), &peer));
            },
            || {
                black_box(sodium::scalarmult(black_box(&secret), &peer));
            },
        );
        println!("x25519 agreement (ladder)        {c}");
        let c = metaless_benches::compare(
            5,
            300,
            || {
                black_box(x25519::scalarmult_base(black_box(&secret)));
            },
            || {
                black_box(sodium::scalarmult_base(black_box(&secret)));
            },
        );
        println!("x25519 public key from secret    {c}");
        for enc in ENCS {
            if enc == EncType::AesGcm && !sodium::aes_gcm_available() {
                println!("libsodium has no AES-256-GCM on this CPU: skipped");
                continue;
            }
            for (size, label) in SIZES {
                let rounds = if size > 4096 { 40 } else { 300 };
                let payload = vec![0x5au8; size];
                let built = build_3hop(&net, &payload, enc, &mut rng);
                let plain: Vec<usize> = layer_sizes(&net, &built)
                    .iter()
                    .map(|l| l - enc.overhead())
                    .collect();
                let c = metaless_benches::compare(
                    5,
                    rounds,
                    || {
                        black_box(build_3hop(&net, black_box(&payload), enc, &mut rng));
                    },
                    || {
                        black_box(build(&net, &plain, enc, &mut sodium_rng));
                    },
                );
                println!("{enc:>9} {label:>6} build_3hop  {c}");

                // The guard's layer, sealed by libsodium to the guard's key.
                let mut ephemeral = [0u8; 32];
                sodium_rng.fill_bytes(&mut ephemeral);
                let client = sodium::scalarmult_base(&ephemeral);
                let guard_public = net.secrets[0].public_key();
                let mut layer = vec![0x5au8; plain[0]];
                let nonce = [6u8; 24];
                let key = kdf(
                    enc,
                    &sodium::scalarmult(&ephemeral, &guard_public).unwrap(),
                    &client,
                    &guard_public,
                );
                let tag = seal(enc, &mut layer, &nonce, &key);
                let c = metaless_benches::compare(
                    5,
                    rounds,
                    || {
                        black_box(peel(&guard, black_box(&built.body)).unwrap());
                    },
                    || {
                        let shared = sodium::scalarmult(&guard_secret, &client).unwrap();
                        let key = kdf(enc, &shared, &client, &guard_public);
                        let mut buf = layer.clone();
                        open(enc, &mut buf, &tag, &nonce, &key);
                        black_box(buf);
                    },
                );
                println!("{enc:>9} {label:>6} peel        {c}");

                let reply_context = metaless_onion::ReplyContext::new(
                    &NodeKey::new(&net.secrets[3]),
                    &built.pending.client_ephemeral_key(),
                    enc,
                )
                .unwrap();
                let key = [9u8; 32];
                let c = metaless_benches::compare(
                    5,
                    rounds,
                    || {
                        black_box(
                            reply_context
                                .encrypt_response(black_box(&payload), &mut rng)
                                .unwrap(),
                        );
                    },
                    || {
                        let mut nonce = [0u8; 24];
                        sodium_rng.fill_bytes(&mut nonce);
                        let n = enc.nonce_len();
                        let mut out = Vec::with_capacity(n + payload.len() + 16);
                        out.extend_from_slice(&nonce[..n]);
                        out.extend_from_slice(&payload);
                        let tag = seal(enc, &mut out[n..], &nonce, &key);
                        out.extend_from_slice(&tag);
                        black_box(out);
                    },
                );
                println!("{enc:>9} {label:>6} respond     {c}");

                let reply = reply_context.encrypt_response(&payload, &mut rng).unwrap();
                let mut sealed = payload.clone();
                let tag = seal(enc, &mut sealed, &nonce, &key);
                let c = metaless_benches::compare(
                    5,
                    rounds,
                    || {
                        black_box(built.pending.open(black_box(&reply)).unwrap());
                    },
                    || {
                        let mut buf = sealed.clone();
                        open(enc, &mut buf, &tag, &nonce, &key);
                        black_box(buf);
                    },
                );
                println!("{enc:>9} {label:>6} reply_open  {c}");
            }
        }
    }
}

fn main() {
    allocation_budget();
    let mut criterion = Criterion::default().configure_from_args();
    operations(&mut criterion);
    primitives(&mut criterion);
    criterion.final_summary();
    report();
    #[cfg(libsodium)]
    against_sodium::report();
}
