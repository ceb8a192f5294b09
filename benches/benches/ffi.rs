//! What the C boundary costs: FFI calls (panic guard, context, pointer checks, Session ID text,
//! output buffer) against, in the same run, the Rust calls they wrap. Prints each pair's
//! medians and ratio, measured interleaved, and heap allocations per call.
#![allow(unsafe_code)]

use std::ffi::c_char;
use std::hint::black_box;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use ::metaless_identity::{Keypair, Seed, SessionId};
use criterion::{Criterion, Throughput};
use metaless_benches::{CountingAlloc, allocations_during};
use metaless_envelope::{decrypt_incoming, encrypt_for_recipient};
use metaless_ffi::*;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const SIZE: usize = 1024;

/// The handles every FFI call below uses.
struct Ffi {
    ctx: *mut metaless_context,
    alice: *mut metaless_identity,
    bob: *mut metaless_identity,
    to: [c_char; METALESS_SESSION_ID_STR_LEN],
}

impl Ffi {
    fn new() -> Self {
        // SAFETY: valid seeds, lengths and output pointers; freed in Drop.
        unsafe {
            let ctx = metaless_context_new_seeded([1u8; 32].as_ptr(), 32);
            let (mut alice, mut bob) = (null_mut(), null_mut());
            metaless_identity_from_seed(ctx, [1u8; 32].as_ptr(), 32, &mut alice);
            metaless_identity_from_seed(ctx, [2u8; 32].as_ptr(), 32, &mut bob);
            let mut to = [0; METALESS_SESSION_ID_STR_LEN];
            metaless_identity_session_id(ctx, bob, to.as_mut_ptr(), to.len());
            Self {
                ctx,
                alice,
                bob,
                to,
            }
        }
    }

    fn encrypt(&self, plaintext: &[u8]) -> usize {
        let mut out = metaless_buffer {
            data: null_mut(),
            len: 0,
        };
        // SAFETY: live handles, valid input lengths, a fresh output buffer freed below.
        unsafe {
            let r = metaless_msg_encrypt(
                self.ctx,
                self.alice,
                self.to.as_ptr(),
                METALESS_SESSION_ID_HEX_LEN,
                plaintext.as_ptr(),
                plaintext.len(),
                &mut out,
            );
            assert_eq!(r, metaless_result::METALESS_RESULT_OK);
            let len = out.len;
            metaless_buffer_free(&mut out);
            len
        }
    }

    fn decrypt(&self, ciphertext: &[u8]) -> usize {
        let mut out = metaless_buffer {
            data: null_mut(),
            len: 0,
        };
        let mut from = [0 as c_char; METALESS_SESSION_ID_STR_LEN];
        // SAFETY: as in `encrypt`.
        unsafe {
            let r = metaless_msg_decrypt(
                self.ctx,
                self.bob,
                ciphertext.as_ptr(),
                ciphertext.len(),
                from.as_mut_ptr(),
                from.len(),
                &mut out,
            );
            assert_eq!(r, metaless_result::METALESS_RESULT_OK);
            let len = out.len;
            metaless_buffer_free(&mut out);
            len
        }
    }

    fn sealed(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut out = metaless_buffer {
            data: null_mut(),
            len: 0,
        };
        // SAFETY: as in `encrypt`; the bytes are copied before the buffer is freed.
        unsafe {
            metaless_msg_encrypt(
                self.ctx,
                self.alice,
                self.to.as_ptr(),
                METALESS_SESSION_ID_HEX_LEN,
                plaintext.as_ptr(),
                plaintext.len(),
                &mut out,
            );
            let bytes = std::slice::from_raw_parts(out.data, out.len).to_vec();
            metaless_buffer_free(&mut out);
            bytes
        }
    }
}

impl Drop for Ffi {
    fn drop(&mut self) {
        // SAFETY: handles made in `new`, freed once.
        unsafe {
            metaless_identity_free(self.alice);
            metaless_identity_free(self.bob);
            metaless_context_free(self.ctx);
        }
    }
}

/// The Rust calls one FFI call consists of.
struct Direct {
    alice: Keypair,
    bob: Keypair,
    to: String,
    rng: ChaCha20Rng,
}

impl Direct {
    fn new() -> Self {
        let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
        Self {
            alice: Keypair::from_seed(&Seed::from_bytes([1u8; 32])),
            to: bob.session_id().to_string(),
            bob,
            rng: ChaCha20Rng::seed_from_u64(1),
        }
    }

    fn encrypt(&mut self, plaintext: &[u8]) -> usize {
        let to: SessionId = self.to.parse().unwrap();
        encrypt_for_recipient(&self.alice, &to, plaintext, &mut self.rng)
            .unwrap()
            .len()
    }

    fn decrypt(&self, ciphertext: &[u8]) -> usize {
        let opened = decrypt_incoming(&self.bob, ciphertext).unwrap();
        black_box(opened.sender.to_string());
        opened.plaintext.len()
    }
}

fn benches(c: &mut Criterion) {
    let ffi = Ffi::new();
    let mut direct = Direct::new();
    let message = vec![0x5au8; SIZE];
    let sealed = ffi.sealed(&message);

    let mut group = c.benchmark_group("ffi");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.bench_function("msg_encrypt_1KiB", |b| {
        b.iter(|| ffi.encrypt(black_box(&message)))
    });
    group.bench_function("msg_decrypt_1KiB", |b| {
        b.iter(|| ffi.decrypt(black_box(&sealed)))
    });
    group.finish();

    let mut group = c.benchmark_group("ffi_boundary");
    // The boundary alone: guard, NULL check, neutral return.
    // SAFETY: NULL is an accepted argument.
    group.bench_function("guard_only", |b| {
        b.iter(|| unsafe { metaless_transmit_id(black_box(std::ptr::null())) })
    });
    group.finish();

    let mut group = c.benchmark_group("baseline");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.bench_function("encrypt_for_recipient_1KiB", |b| {
        b.iter(|| direct.encrypt(black_box(&message)))
    });
    group.bench_function("decrypt_incoming_1KiB", |b| {
        b.iter(|| direct.decrypt(black_box(&sealed)))
    });
    group.finish();
}

/// Medians of per-round times of `a` and `b`, run alternately so other load hits both alike.
fn interleaved(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let time = |f: &mut dyn FnMut()| -> Duration {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        xs.push(time(&mut a).as_nanos() as f64);
        ys.push(time(&mut b).as_nanos() as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut xs), median(&mut ys))
}

fn report() {
    let ffi = Ffi::new();
    let mut direct = Direct::new();
    let message = vec![0x5au8; SIZE];
    let sealed = ffi.sealed(&message);

    println!("\n== ffi against the Rust calls it wraps (interleaved medians, same run)");
    let (ours, theirs) = interleaved(
        3000,
        || {
            black_box(ffi.encrypt(&message));
        },
        || {
            black_box(direct.encrypt(&message));
        },
    );
    println!(
        "  msg_encrypt 1KiB: ffi {:8.2} µs   rust {:8.2} µs   ratio {:.3}",
        ours / 1000.0,
        theirs / 1000.0,
        ours / theirs
    );
    let (ours, theirs) = interleaved(
        3000,
        || {
            black_box(ffi.decrypt(&sealed));
        },
        || {
            black_box(direct.decrypt(&sealed));
        },
    );
    println!(
        "  msg_decrypt 1KiB: ffi {:8.2} µs   rust {:8.2} µs   ratio {:.3}",
        ours / 1000.0,
        theirs / 1000.0,
        ours / theirs
    );

    println!("\n== heap allocations per call (count, bytes)");
    let (_, a) = allocations_during(|| ffi.encrypt(&message));
    let (_, b) = allocations_during(|| direct.encrypt(&message));
    println!("  msg_encrypt 1KiB: ffi {a:?}   rust {b:?}");
    let (_, a) = allocations_during(|| ffi.decrypt(&sealed));
    let (_, b) = allocations_during(|| direct.decrypt(&sealed));
    println!("  msg_decrypt 1KiB: ffi {a:?}   rust {b:?}");
    // SAFETY: NULL is an accepted argument.
    let (_, g) = allocations_during(|| unsafe { metaless_transmit_id(std::ptr::null()) });
    println!("  guard_only:       ffi {g:?}");
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    report();
}
