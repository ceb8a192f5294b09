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
//! The state is `P = (x3, x3, x2, x2)`, `Q = (z3, z3, z2, z2)` (lanes 0–3), and one ladder step is
//! three 4-way multiplications:
//!
//! 1. `(D, C, A, B) · (A, B, A, B)` = `(DA, CB, AA, BB)`, where `(D, C, A, B)` is one blend of
//!    `P + Q` and `P − Q`;
//! 2. `(DA+CB, DA−CB, AA, E) · (DA+CB, DA−CB, BB, a24) + (0, 0, 0, AA)` =
//!    `(x3', (DA−CB)², x2', AA + a24·E)`, the operands built from round 1 with one in-lane swap
//!    and blends, the addend folded into the product's accumulators ([`mul_add`]);
//! 3. `(0, x1, 0, E)` times round 2's product = `(0, z3', 0, z2')`.
//!
//! The next state is then one in-lane broadcast of each product. The final `x2 / z2` inverts on
//! the same vectors ([`invert`], with a dedicated [`square`]). The only cross-lane moves are
//! round 1's `(A, B, A, B)` and the conditional swap.
//!
//! The same ladder, by the public group order ℓ (253 bits, unclamped) and without the final
//! inversion, decides prime-order subgroup membership ([`times_order_is_infinity`]).
//!
//! [`edwards`] (with `std`) runs Ed25519's fixed-base multiplication on the same field, one
//! extended point per vector, for signing.
//!
//! Constant time: the conditional swap of `(x2, z2)` with `(x3, z3)` reverses the lanes of
//! `(D, C, A, B)` (to `(B, A, C, D)`, which is what the swapped state gives) under a mask; the
//! loop and every index are public and nothing branches on the scalar.

use core::arch::x86_64::*;

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
    mul_add(a, b, &[_mm256_setzero_si256(); 5])
}

/// `a · b + c` lane-wise, carried: `c` (carried, limbs below 2^52) starts the low accumulators,
/// so the sum costs no extra step on the ladder's critical path. Bounds as in [`mul`], plus
/// 2^52 on each `z_k`, `k < 5`: `r_k` below 268 · 2^52 < 2^61.
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn mul_add(a: &Fe4, b: &Fe4, c: &Fe4) -> Fe4 {
    let zero = _mm256_setzero_si256();
    let mut lo = [c[0], c[1], c[2], c[3], c[4], zero, zero, zero, zero];
    let mut hi = [zero; 9];
    for (i, a) in a.iter().enumerate() {
        for (j, b) in b.iter().enumerate() {
            lo[i + j] = _mm256_madd52lo_epu64(lo[i + j], *a, *b);
            hi[i + j] = _mm256_madd52hi_epu64(hi[i + j], *a, *b);
        }
    }
    reduce(&lo, &hi)
}

/// `Σ_k (lo_k + 2 hi_{k−1}) 2^(51 k)` reduced mod p and carried (each `lo_k + 2 hi_{k−1}` below
/// 15 · 2^52; see [`mul`]).
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn reduce(lo: &[__m256i; 9], hi: &[__m256i; 9]) -> Fe4 {
    let zero = _mm256_setzero_si256();
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

/// `a²` lane-wise, carried, with 15 limb products instead of [`mul`]'s 25: for the inversion's
/// chain of 254 squarings (it saved ~3% of a whole X25519). Operands' limbs below 2^52.
///
/// The products `a_i a_j`, `i < j`, are accumulated once (`O`) and doubled afterwards, not from
/// doubled operands (`2 a_i` may exceed IFMA's 52 bits); with `D` the squares `a_i²`,
/// `z_k = D^lo_k + 2 O^lo_k + 2 (D^hi_{k−1} + 2 O^hi_{k−1})`, below 15 · 2^52 as in [`mul`].
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn square(a: &Fe4) -> Fe4 {
    let zero = _mm256_setzero_si256();
    let mut dlo = [zero; 9];
    let mut dhi = [zero; 9];
    let mut olo = [zero; 9];
    let mut ohi = [zero; 9];
    for (i, x) in a.iter().enumerate() {
        dlo[2 * i] = _mm256_madd52lo_epu64(dlo[2 * i], *x, *x);
        dhi[2 * i] = _mm256_madd52hi_epu64(dhi[2 * i], *x, *x);
        for (j, y) in a.iter().enumerate().skip(i + 1) {
            olo[i + j] = _mm256_madd52lo_epu64(olo[i + j], *x, *y);
            ohi[i + j] = _mm256_madd52hi_epu64(ohi[i + j], *x, *y);
        }
    }
    // lo_k = D^lo_k + 2 O^lo_k, hi_k = D^hi_k + 2 O^hi_k; then as in `mul`.
    let mut lo = [zero; 9];
    let mut hi = [zero; 9];
    for k in 0..9 {
        lo[k] = _mm256_add_epi64(dlo[k], _mm256_slli_epi64::<1>(olo[k]));
        hi[k] = _mm256_add_epi64(dhi[k], _mm256_slli_epi64::<1>(ohi[k]));
    }
    reduce(&lo, &hi)
}

/// `z^(2^k)`, `k ≥ 1`, lane-wise.
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn square_times(z: &Fe4, k: u32) -> Fe4 {
    let mut x = *z;
    for _ in 0..k {
        x = square(&x);
    }
    x
}

/// `z^(p − 2)` lane-wise: the inverse, and 0 for 0 (254 squarings, 11 multiplications). Only
/// one lane matters at the end of the ladder; the vector chain measured a little faster than
/// serial radix-2^51 arithmetic on 64×64-bit multiplies (and needs no second field).
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn invert(z: &Fe4) -> Fe4 {
    let z2 = square_times(z, 1);
    let z9 = mul(&square_times(&z2, 2), z);
    let z11 = mul(&z9, &z2);
    let z_5_0 = mul(&square_times(&z11, 1), &z9); // 2^5 − 1
    let z_10_0 = mul(&square_times(&z_5_0, 5), &z_5_0);
    let z_20_0 = mul(&square_times(&z_10_0, 10), &z_10_0);
    let z_40_0 = mul(&square_times(&z_20_0, 20), &z_20_0);
    let z_50_0 = mul(&square_times(&z_40_0, 10), &z_10_0);
    let z_100_0 = mul(&square_times(&z_50_0, 50), &z_50_0);
    let z_200_0 = mul(&square_times(&z_100_0, 100), &z_100_0);
    let z_250_0 = mul(&square_times(&z_200_0, 50), &z_50_0);
    mul(&square_times(&z_250_0, 5), &z11) // 2^255 − 32 + 11
}

/// The canonical little-endian encoding of lane `L` of `f` (limbs below 2^52): fully reduced
/// mod p.
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn encode_lane<const L: i32>(f: &Fe4) -> [u8; 32] {
    let mut h = [0u64; 5];
    for (h, v) in h.iter_mut().zip(f) {
        *h = _mm256_extract_epi64::<L>(*v) as u64;
    }
    // Two serial carries: limbs below 2^51, value below 2^255 + 19 (so at most p + 37).
    for _ in 0..2 {
        let mut carry = 0u64;
        for limb in h.iter_mut() {
            *limb += carry;
            carry = *limb >> 51;
            *limb &= MASK51;
        }
        h[0] += carry * 19;
    }
    // q = 1 exactly when h ≥ p; then h + 19 − 2^255 is the reduced value.
    let mut q = (h[0] + 19) >> 51;
    for limb in &h[1..] {
        q = (limb + q) >> 51;
    }
    h[0] += 19 * q;
    let mut carry = 0u64;
    for limb in h.iter_mut() {
        *limb += carry;
        carry = *limb >> 51;
        *limb &= MASK51;
    }
    let words = [
        h[0] | (h[1] << 51),
        (h[1] >> 13) | (h[2] << 38),
        (h[2] >> 26) | (h[3] << 25),
        (h[3] >> 39) | (h[4] << 12),
    ];
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
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

/// The group order ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian: 253 bits.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The Montgomery ladder over bits `BITS − 1 … 0` of `k` (taken as given, not clamped) on
/// `x1`, ending with the last conditional swap: lane 2 of the returned `(P, Q)` is `(x2, z2)`,
/// `[k]u` in projective form (`z2 = 0` for the point at infinity). `BITS` is a constant, so the
/// loop's trip count says nothing about `k`; the swaps are masked as described in the module
/// doc.
#[inline]
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
fn ladder<const BITS: usize>(k: &[u8; 32], x1: &[u64; 5]) -> (Fe4, Fe4) {
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
    let zero5 = [zero; 5];
    let mut swap = 0u64;
    for t in (0..BITS).rev() {
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
        let aa_lane3 = blend::<0xC0>(&zero5, &shuffle::<0x4E>(&l2)); // (0, 0, 0, AA)
        let m2 = mul_add(&l2, &r2, &aa_lane3); // (x3', (DA−CB)², x2', AA + a24 E)

        // Round 3.
        let l3 = blend::<0xC0>(&x1_lane1, &l2); // (0, x1, 0, E)
        let m3 = mul(&l3, &m2); // (0, z3', 0, z2')

        p = shuffle::<0x44>(&m2); // (x3', x3', x2', x2')
        q = shuffle::<0xEE>(&m3); // (z3', z3', z2', z2')
    }
    // The last swap (always 0 for a clamped scalar, kept for the RFC's form; ℓ is odd, so the
    // subgroup check needs it): lanes 2–3 of `P`, `Q` take lanes 0–1 under the mask.
    let mask = _mm256_set1_epi64x(0u64.wrapping_sub(swap) as i64);
    for x in p.iter_mut().chain(q.iter_mut()) {
        let t = _mm256_and_si256(
            _mm256_xor_si256(*x, _mm256_permute4x64_epi64::<0x4E>(*x)),
            mask,
        );
        *x = _mm256_xor_si256(*x, t);
    }
    (p, q)
}

/// `X25519(scalar, u)` of RFC 7748 §5: clamps `scalar`, runs the ladder on `u`, encodes `x2/z2`
/// (all zeros when `z2 = 0`, as the RFC's `z2^(p−2)`).
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
pub(super) fn scalarmult(scalar: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    // The clamped copy of the secret is wiped when it goes out of scope.
    let mut k = zeroize::Zeroizing::new(*scalar);
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    let (p, q) = ladder::<255>(&k, &decode(u));
    encode_lane::<2>(&mul(&p, &invert(&q))) // x2 / z2
}

/// Whether `[ℓ]u` is the point at infinity: the ladder by the unclamped, public ℓ, then
/// `z2 = 0` tested on its canonical encoding (no inversion). Not `x2 / z2 = 0`, which the
/// 2-torsion point `(0, 0)` gives too. Meaningful for `u ≠ 0` on the curve (see
/// `super::in_prime_subgroup`).
#[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
pub(super) fn times_order_is_infinity(u: &[u8; 32]) -> bool {
    let (_, q) = ladder::<253>(&ELL, &decode(u));
    encode_lane::<2>(&q) == [0u8; 32]
}

// Ed25519's fixed-base multiplication `[k]B`, for signing: the same four-lane field, one
// twisted-Edwards point per `Fe4` (lanes X, Y, Z, T of extended coordinates), so a point
// addition is two 4-way multiplications (Hisil–Wong–Carter–Dawson's parallel form, as
// curve25519-dalek's AVX2 backend has it for variable-base multiplication). The table and the
// signed radix-16 walk are those of ref10 / curve25519-dalek's basepoint table: 32 rows of
// `[1..8]·256^j·B`, 64 constant-time row lookups and four doublings.
#[cfg(feature = "std")]
pub(super) mod edwards {
    use super::*;

    /// 2d, d = −121665/121666 the curve constant, radix 2^51.
    const EDWARDS_2D: [u64; 5] = [
        1_859_910_466_990_425,
        932_731_440_258_426,
        1_072_319_116_312_658,
        1_815_898_335_770_999,
        633_789_495_995_903,
    ];

    /// The base point's affine x (the even root) and y = 4/5 (RFC 8032 §5.1), radix 2^51.
    const BASE_X: [u64; 5] = [
        1_738_742_601_995_546,
        1_146_398_526_822_698,
        2_070_867_633_025_821,
        562_264_141_797_630,
        587_772_402_128_613,
    ];
    const BASE_Y: [u64; 5] = [
        1_801_439_850_948_184,
        1_351_079_888_211_148,
        450_359_962_737_049,
        900_719_925_474_099,
        1_801_439_850_948_198,
    ];

    /// Four elements given limb by limb, one per lane.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
    fn fe4(a: &[u64; 5], b: &[u64; 5], c: &[u64; 5], d: &[u64; 5]) -> Fe4 {
        core::array::from_fn(|i| lanes(a[i], b[i], c[i], d[i]))
    }

    /// The small constant `n` as a field element.
    const fn small(n: u64) -> [u64; 5] {
        [n, 0, 0, 0, 0]
    }

    /// `(Y − X, Y + X, Z, T)` of an extended point `p` (carried), carried.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
    fn diff_sum(p: &Fe4) -> Fe4 {
        let swapped = shuffle::<0x4E>(p); // (Y, X, T, Z)
        let minus = sub_raw(&swapped, p); // lane 0: Y − X
        let plus = add_raw(&swapped, p); // lane 1: Y + X
        carry(blend::<0xF0>(&blend::<0x0C>(&minus, &plus), p))
    }

    /// The form [`add`] takes a point in, `(Y − X, Y + X, 2Z, 2d·T)`, carried.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
    fn to_cached(p: &Fe4) -> Fe4 {
        let factors = fe4(&small(1), &small(1), &small(2), &EDWARDS_2D);
        mul(&diff_sum(p), &factors)
    }

    /// `p + q`, `p` extended (carried), `q` in [`to_cached`]'s form (limbs below 2^52). The
    /// formulas (a = −1, d not a square) are complete: they hold for `p = q` and the identity.
    ///
    /// `(A, B, D, C) = (Y1−X1, Y1+X1, Z1, T1) · (Y2−X2, Y2+X2, 2Z2, 2dT2)`; with `E = B − A`,
    /// `F = D − C`, `G = D + C`, `H = B + A` the sum is `(E, G, F, E) · (F, H, G, H)` =
    /// `(EF, GH, FG, EH)`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
    fn add(p: &Fe4, q: &Fe4) -> Fe4 {
        let m = mul(&diff_sum(p), q);
        let swapped = shuffle::<0x4E>(&m); // (B, A, C, D)
        let sum = add_raw(&m, &swapped); // lane 1: H, lane 2: G
        let diff = sub_raw(&swapped, &m); // lane 0: E, lane 3: F
        let efgh = carry(blend::<0x3C>(&diff, &sum)); // (E, H, G, F)
        mul(&permute::<0x38>(&efgh), &permute::<0x67>(&efgh))
    }

    /// `2p`, by the complete addition.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
    fn double(p: &Fe4) -> Fe4 {
        add(p, &to_cached(p))
    }

    /// Row `j` of the table: `[k]·256^j·B` for `k = 1..8`, in [`to_cached`]'s form.
    type Row = [Fe4; 8];

    /// The 32 rows, built once (~0.5 ms of vector arithmetic, no secret involved) and kept.
    static BASE_TABLE: std::sync::OnceLock<alloc::boxed::Box<[Row; 32]>> =
        std::sync::OnceLock::new();

    #[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
    fn base_table() -> &'static [Row; 32] {
        if let Some(table) = BASE_TABLE.get() {
            return table;
        }
        let zero = [_mm256_setzero_si256(); 5];
        let mut table = alloc::boxed::Box::new([[zero; 8]; 32]);
        // (x, y, 1, x·y): the base point in extended coordinates.
        let mut row_base = mul(
            &fe4(&BASE_X, &BASE_Y, &small(1), &BASE_X),
            &fe4(&small(1), &small(1), &small(1), &BASE_Y),
        );
        for row in table.iter_mut() {
            let cached = to_cached(&row_base);
            let mut multiple = row_base;
            row[0] = cached;
            for entry in row.iter_mut().skip(1) {
                multiple = add(&multiple, &cached);
                *entry = to_cached(&multiple);
            }
            for _ in 0..8 {
                row_base = double(&row_base);
            }
        }
        // A racing thread may have set it first; both built the same table.
        BASE_TABLE.get_or_init(|| table)
    }

    /// `digit · row`, `digit` in −8..=8, without branching on or indexing by it: every entry is
    /// read, the one wanted kept under a mask, then negated under a mask (`−(x, y)` = `(−x, y)`:
    /// lanes 0 and 1 swap and `2d·T` changes sign).
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
    fn select(row: &Row, digit: i8) -> Fe4 {
        use subtle::ConstantTimeEq;
        let negative = (digit as u8) >> 7;
        let magnitude = ((digit as u8) ^ 0u8.wrapping_sub(negative)).wrapping_add(negative);
        let mut out = fe4(&small(1), &small(1), &small(2), &small(0)); // the identity
        for (k, entry) in (1u8..).zip(row) {
            let keep = u64::from(magnitude.ct_eq(&k).unwrap_u8()).wrapping_neg();
            let mask = _mm256_set1_epi64x(keep as i64);
            for (o, e) in out.iter_mut().zip(entry) {
                *o = _mm256_xor_si256(*o, _mm256_and_si256(_mm256_xor_si256(*o, *e), mask));
            }
        }
        let zero = [_mm256_setzero_si256(); 5];
        // Lanes (1, 0, 2, 3), then lane 3 from 2p − 2dT (below 2^52: no carry needed).
        let negated = blend::<0xC0>(&permute::<0xE1>(&out), &sub_raw(&zero, &out));
        let mask = _mm256_set1_epi64x(u64::from(negative).wrapping_neg() as i64);
        for (o, n) in out.iter_mut().zip(negated) {
            *o = _mm256_xor_si256(*o, _mm256_and_si256(_mm256_xor_si256(*o, n), mask));
        }
        out
    }

    /// `[k]B` compressed (RFC 8032 §5.1.2: y, and x's parity in the top bit), for `k` below 2^255
    /// (a reduced scalar). `k` is secret (a signature's nonce): its signed radix-16 digits are
    /// computed without branches and wiped afterwards, and each picks its table entry by
    /// [`select`].
    #[target_feature(enable = "avx512f,avx512vl,avx512ifma")]
    pub(in crate::x25519) fn mul_base(k: &[u8; 32]) -> [u8; 32] {
        // Digits in 0..16, then carried into −8..8 (the last one takes the carry: k < 2^255
        // keeps it at most 8).
        let mut digits = zeroize::Zeroizing::new([0i8; 64]);
        for (i, byte) in k.iter().enumerate() {
            digits[2 * i] = (byte & 15) as i8;
            digits[2 * i + 1] = (byte >> 4) as i8;
        }
        for i in 0..63 {
            let carry = (digits[i] + 8) >> 4;
            digits[i] -= carry << 4;
            digits[i + 1] += carry;
        }
        let table = base_table();
        let mut p = fe4(&small(0), &small(1), &small(1), &small(0)); // the identity
        // Σ odd digits · 16^(i−1) · B, times 16, plus Σ even digits · 16^i · B: row i/2 either way.
        for i in (1..64).step_by(2) {
            p = add(&p, &select(&table[i / 2], digits[i]));
        }
        for _ in 0..4 {
            p = double(&p);
        }
        for i in (0..64).step_by(2) {
            p = add(&p, &select(&table[i / 2], digits[i]));
        }
        // (x, y, 1, t) = p / Z: Z's inverse (lane 2 of the lane-wise inverse) in every lane.
        let affine = mul(&p, &permute::<0xAA>(&invert(&p)));
        let mut out = encode_lane::<1>(&affine);
        out[31] |= (encode_lane::<0>(&affine)[0] & 1) << 7;
        out
    }
}
