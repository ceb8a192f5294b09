//! The X25519 Montgomery ladder (RFC 7748 §5) with its field arithmetic run four elements at a
//! time on AVX-512 IFMA (`vpmadd52luq` / `vpmadd52huq` on 256-bit vectors).
//!
//! A field element is five limbs in radix 2^51; an [`Fe4`] holds four elements, limb `i` of all
//! four in the four 64-bit lanes of vector `i`. IFMA multiplies the low 52 bits of two lanes and
//! adds the low or the high 52 bits of the 104-bit product to a 64-bit accumulator, so every
//! multiplication operand must have limbs below 2^52 (bits above are silently dropped).
//!
//! Bounds (each function restates its own):
//! * a carried element (the output of [`carry`], so of [`mul`]) has limbs below 2^51 + 2^15;
//! * a sum or `a + 2p − b` of carried elements has limbs below 2^53 and is carried before it is
//!   multiplied (two carried elements already sum to more than 2^52, so there is no lazy
//!   addition into a product here);
//! * inside [`mul`] every accumulator stays below 2^61.
//!
//! The state is `P = (x3, x3, x2, x2)`, `Z = (z3, z3, z2, z2)` (lanes 0–3), and one ladder step is
//! three 4-way multiplications:
//!
//! 1. `(D, C, A, B) · (A, B, A, B)` = `(DA, CB, AA, BB)`, where `(D, C, A, B)` is one blend of
//!    `P + Q` and `P − Q`;
//! 2. `(DA+CB, DA−CB, AA, E) · (DA+CB, DA−CB, BB, a24)` = `(x3', (DA−CB)², x2', a24·E)`, the
//!    operands built from round 1 with one in-lane swap and blends;
//! 3. `(0, x1, 0, E) · (·, (DA−CB)², ·, AA + a24·E)` = `(0, z3', 0, z2')`.
//!
//! The next state is then one in-lane broadcast of each product. The only cross-lane moves are
//! round 1's `(A, B, A, B)` and the conditional swap.
//!
//! Constant time: the conditional swap of `(x2, z2)` with `(x3, z3)` reverses the lanes of
//! `(D, C, A, B)` (to `(B, A, C, D)`, which is what the swapped state gives) under a mask; the
//! loop and every index are public and nothing branches on the scalar.

use core::arch::x86_64::*;

use super::fe51::Fe51;

/// Four field elements: vector `i` holds limb `i` (weight 2^(51 i)) of lanes 0–3.
type Fe4 = [__m256i; 5];

const MASK51: u64 = (1 << 51) - 1;

/// 2p in limbs (2^52 − 38, then 2^52 − 2): added before a subtraction so that no limb goes
/// negative; each limb is above any carried limb (< 2^51 + 2^15).
const TWO_P: [u64; 5] = [
    (1 << 52) - 38,
    (1 << 52) - 2,
    (1 << 52) - 2,
    (1 << 52) - 2,
    (1 << 52) - 2,
];

/// `19 · x` lane-wise (`x` below 2^59), by shifts: IFMA cannot take `x` (over 52 bits) and a
/// 64-bit multiply needs AVX-512DQ.
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn times19(x: __m256i) -> __m256i {
    _mm256_add_epi64(
        _mm256_add_epi64(x, _mm256_slli_epi64::<1>(x)),
        _mm256_slli_epi64::<4>(x),
    )
}

/// One parallel carry of limbs below 2^61: every limb keeps its low 51 bits and takes the
/// carry of the limb below (the top carry times 19 into limb 0, as 2^255 ≡ 19). Carries are
/// below 2^10, so the result has limbs below 2^51 + 2^15 (limb 0) and 2^51 + 2^10 (others).
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn carry(r: [__m256i; 5]) -> Fe4 {
    let mask = _mm256_set1_epi64x(MASK51 as i64);
    let c0 = _mm256_srli_epi64::<51>(r[0]);
    let c1 = _mm256_srli_epi64::<51>(r[1]);
    let c2 = _mm256_srli_epi64::<51>(r[2]);
    let c3 = _mm256_srli_epi64::<51>(r[3]);
    let c4 = _mm256_srli_epi64::<51>(r[4]);
    [
        _mm256_add_epi64(_mm256_and_si256(r[0], mask), times19(c4)),
        _mm256_add_epi64(_mm256_and_si256(r[1], mask), c0),
        _mm256_add_epi64(_mm256_and_si256(r[2], mask), c1),
        _mm256_add_epi64(_mm256_and_si256(r[3], mask), c2),
        _mm256_add_epi64(_mm256_and_si256(r[4], mask), c3),
    ]
}

/// `a + b`, not carried (inputs carried: sums below 2^53).
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn add_raw(a: &Fe4, b: &Fe4) -> [__m256i; 5] {
    let mut out = *a;
    for (o, b) in out.iter_mut().zip(b) {
        *o = _mm256_add_epi64(*o, *b);
    }
    out
}

/// `a + 2p − b`, not carried (`b` carried, so below 2p limb-wise; result below 2^53).
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn sub_raw(a: &Fe4, b: &Fe4) -> [__m256i; 5] {
    let mut out = *a;
    for ((o, b), two_p) in out.iter_mut().zip(b).zip(TWO_P) {
        *o = _mm256_sub_epi64(_mm256_add_epi64(*o, _mm256_set1_epi64x(two_p as i64)), *b);
    }
    out
}

/// Lanes of `b` where `IMM` (32-bit element mask, as `vpblendd`) is set, of `a` elsewhere.
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn blend<const IMM: i32>(a: &Fe4, b: &Fe4) -> Fe4 {
    let mut out = *a;
    for (o, b) in out.iter_mut().zip(b) {
        *o = _mm256_blend_epi32::<IMM>(*o, *b);
    }
    out
}

/// `vpshufd` with `IMM` on every limb (moves 64-bit lanes within each 128-bit half).
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn shuffle<const IMM: i32>(a: &Fe4) -> Fe4 {
    let mut out = *a;
    for o in out.iter_mut() {
        *o = _mm256_shuffle_epi32::<IMM>(*o);
    }
    out
}

/// `vpermq` with `IMM` on every limb (any lane to any lane).
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn permute<const IMM: i32>(a: &Fe4) -> Fe4 {
    let mut out = *a;
    for o in out.iter_mut() {
        *o = _mm256_permute4x64_epi64::<IMM>(*o);
    }
    out
}

/// `a · b` lane-wise, carried. Operands' limbs below 2^52 (IFMA's input width).
///
/// With `lo`/`hi` the low/high 52 bits of `a_i b_j`, the product is
/// `Σ_k (L_k + 2 H_{k−1}) 2^(51 k)` (`L_k` the sum of `lo` over `i + j = k`, `H_k` of `hi`; the high
/// half has weight 2^52 = 2 · 2^51), each `z_k = L_k + 2 H_{k−1}` below 15 · 2^52; then
/// `r_k = z_k + 19 z_{k+5}` (2^255 ≡ 19) is below 267 · 2^52 < 2^61, and [`carry`] takes it from there.
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn mul(a: &Fe4, b: &Fe4) -> Fe4 {
    let zero = _mm256_setzero_si256();
    let mut lo = [zero; 9];
    let mut hi = [zero; 9];
    for (i, a) in a.iter().enumerate() {
        for (j, b) in b.iter().enumerate() {
            lo[i + j] = _mm256_madd52lo_epu64(lo[i + j], *a, *b);
            hi[i + j] = _mm256_madd52hi_epu64(hi[i + j], *a, *b);
        }
    }
    let mut z = [zero; 10];
    z[0] = lo[0];
    for k in 1..9 {
        z[k] = _mm256_add_epi64(lo[k], _mm256_slli_epi64::<1>(hi[k - 1]));
    }
    z[9] = _mm256_slli_epi64::<1>(hi[8]);
    carry([
        _mm256_add_epi64(z[0], times19(z[5])),
        _mm256_add_epi64(z[1], times19(z[6])),
        _mm256_add_epi64(z[2], times19(z[7])),
        _mm256_add_epi64(z[3], times19(z[8])),
        _mm256_add_epi64(z[4], times19(z[9])),
    ])
}

/// Four lanes of one limb.
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn lanes(l0: u64, l1: u64, l2: u64, l3: u64) -> __m256i {
    _mm256_setr_epi64x(l0 as i64, l1 as i64, l2 as i64, l3 as i64)
}

/// Lane `L` of `f` as a serial element (limbs below 2^52, as [`Fe51`] wants).
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn lane<const L: i32>(f: &Fe4) -> Fe51 {
    let mut out = [0u64; 5];
    for (o, v) in out.iter_mut().zip(f) {
        *o = _mm256_extract_epi64::<L>(*v) as u64;
    }
    Fe51(out)
}

/// The 255 low bits of `u` (RFC 7748 ignores the top bit) as radix-2^51 limbs; values from p to
/// 2^255 − 1 stay unreduced, which the arithmetic tolerates (it works on any limbs below 2^52).
fn decode(u: &[u8; 32]) -> [u64; 5] {
    let (words, _) = u.as_chunks::<8>();
    let w: [u64; 4] = core::array::from_fn(|i| u64::from_le_bytes(words[i]));
    [
        w[0] & MASK51,
        ((w[0] >> 51) | (w[1] << 13)) & MASK51,
        ((w[1] >> 38) | (w[2] << 26)) & MASK51,
        ((w[2] >> 25) | (w[3] << 39)) & MASK51,
        (w[3] >> 12) & MASK51,
    ]
}

/// Swaps `(x2, z2)` with `(x3, z3)` in the serial result when `swap` is 1 (masked, not branched).
fn cswap(a: &mut Fe51, b: &mut Fe51, swap: u64) {
    let mask = 0u64.wrapping_sub(swap);
    for (a, b) in a.0.iter_mut().zip(b.0.iter_mut()) {
        let t = (*a ^ *b) & mask;
        *a ^= t;
        *b ^= t;
    }
}

/// `X25519(scalar, u)` of RFC 7748 §5: clamps `scalar`, runs the ladder on `u`, encodes `x2/z2`
/// (all zeros when `z2 = 0`, as the RFC's `z2^(p−2)`).
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
pub(super) fn scalarmult(scalar: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    let mut k = *scalar;
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    let x1 = decode(u);
    let zero = _mm256_setzero_si256();
    let (mut x1_lane1, mut a24_lane3, mut p, mut q) = ([zero; 5], [zero; 5], [zero; 5], [zero; 5]);
    for i in 0..5 {
        let one = u64::from(i == 0);
        x1_lane1[i] = lanes(0, x1[i], 0, 0);
        a24_lane3[i] = lanes(0, 0, 0, 121_665 * one);
        // (x2, z2) = (1, 0), (x3, z3) = (u, 1).
        p[i] = lanes(x1[i], x1[i], one, one);
        q[i] = lanes(one, one, 0, 0);
    }
    let mut swap = 0u64;
    for t in (0..255).rev() {
        let bit = u64::from((k[t / 8] >> (t % 8)) & 1);
        swap ^= bit;
        let mask = _mm256_set1_epi64x(0u64.wrapping_sub(swap) as i64);
        swap = bit;

        // Round 1. (D, C, A, B): lanes 1, 2 of P + Q, lanes 0, 3 of P − Q.
        let s = add_raw(&p, &q);
        let d = sub_raw(&p, &q);
        let mut l1 = carry(blend::<0x3C>(&d, &s));
        // The swapped state's (D, C, A, B) is (B, A, C, D): this one reversed.
        let reversed = permute::<0x1B>(&l1);
        for (x, r) in l1.iter_mut().zip(reversed) {
            let t = _mm256_and_si256(_mm256_xor_si256(*x, r), mask);
            *x = _mm256_xor_si256(*x, t);
        }
        let r1 = permute::<0xEE>(&l1); // (A, B, A, B)
        let m1 = mul(&l1, &r1); // (DA, CB, AA, BB)

        // Round 2.
        let m1s = shuffle::<0x4E>(&m1); // (CB, DA, BB, AA)
        let sum = add_raw(&m1, &m1s); // lane 0: DA + CB
        let diff = sub_raw(&m1s, &m1); // lane 1: DA − CB, lane 3: E = AA − BB
        let l2 = carry(blend::<0x30>(&blend::<0xCC>(&sum, &diff), &m1)); // (DA+CB, DA−CB, AA, E)
        let r2 = blend::<0xC0>(&blend::<0x30>(&l2, &m1s), &a24_lane3); // (DA+CB, DA−CB, BB, a24)
        let m2 = mul(&l2, &r2); // (x3', (DA−CB)², x2', a24 E)

        // Round 3.
        let l2s = shuffle::<0x4E>(&l2); // (DA−CB, DA+CB, E, AA)
        let r3 = carry(blend::<0xC0>(&m2, &add_raw(&l2s, &m2))); // lane 1: (DA−CB)², lane 3: AA + a24 E
        let l3 = blend::<0xC0>(&x1_lane1, &l2); // (0, x1, 0, E)
        let m3 = mul(&l3, &r3); // (0, z3', 0, z2')

        p = shuffle::<0x44>(&m2); // (x3', x3', x2', x2')
        q = shuffle::<0xEE>(&m3); // (z3', z3', z2', z2')
    }
    let (mut x2, mut z2) = (lane::<2>(&p), lane::<2>(&q));
    let (mut x3, mut z3) = (lane::<0>(&p), lane::<0>(&q));
    cswap(&mut x2, &mut x3, swap);
    cswap(&mut z2, &mut z3, swap);
    x2.mul(&z2.invert()).to_bytes()
}
