//! The X25519 Montgomery ladder with its field arithmetic run two elements at a time.
//!
//! Field elements are ten unsigned limbs in radix 2^25.5 (26, 25, 26, 25, … bits at bit offsets
//! 0, 26, 51, 77, …, 230), the representation of the ref10/sandy2x code, so that a limb product
//! fits a 32×32→64-bit multiply. An [`Fe2`] holds two elements, lane 0 and lane 1 of each limb's
//! [`U2`], and every multiplication or squaring below computes both (one `pmuludq` stream when
//! the lanes are SSE2 registers).
//! RFC 7748's ladder step (5 multiplications, 4 squarings, 1 multiplication by a24) is arranged
//! as five such 2-way operations:
//!
//! 1. `(D·A, C·B)` and `(A², B²)` — the state is kept as `X = (x2, x3)`, `Z = (z2, z3)`, so
//!    `X + Z = (A, C)` and `X − Z = (B, D)` need only lane shuffles;
//! 2. `((DA + CB)², (DA − CB)²)` and `(AA · BB, E · (AA + a24 · E))`;
//! 3. `x1 · (DA − CB)²` (lane 1; lane 0 is discarded).
//!
//! Bounds (checked by the generator of the term lists and restated here): every carried element
//! has limbs below 2^26 (even) and 2^25 + 2^12 (odd); a sum or `a + 2p − b` has limbs below
//! 3·2^26 / 3·2^25 + 2^12, so doubled or 19-fold operands stay below 2^32 and every 64-bit
//! accumulator below 2^62.2.
//!
//! Constant time: the conditional swap is a mask, the loop and every index are public, and
//! nothing branches on the scalar.
//!
//! Speed (x25519 bench, same run as libsodium 1.0.18's sandy2x `crypto_scalarmult`): over the
//! plain-Rust lanes of `lanes.rs` LLVM emits scalar `imul`s, not `pmuludq` (its cost model
//! prices the vector multiply as a full 64×64 one), 2.47× libsodium; over explicit SSE2 lanes
//! (the bench's `lanes_sse2.rs`, which needs `unsafe` this crate forbids) 1.34×. Neither
//! beats the Edwards path of [`super::scalarmult`], so it is a checked alternative only.

use super::fe51::Fe51;
use super::lanes::{U2, V2};

/// Two field elements, limb-wise in the lanes of [`U2`].
type Fe2 = [U2; 10];

const M26: u64 = (1 << 26) - 1;
const M25: u64 = (1 << 25) - 1;

/// 2p in limbs: added before a subtraction so that limbs never go negative.
const TWO_P: [u32; 10] = [
    2 * ((1 << 26) - 19),
    2 * ((1 << 25) - 1),
    2 * ((1 << 26) - 1),
    2 * ((1 << 25) - 1),
    2 * ((1 << 26) - 1),
    2 * ((1 << 25) - 1),
    2 * ((1 << 26) - 1),
    2 * ((1 << 25) - 1),
    2 * ((1 << 26) - 1),
    2 * ((1 << 25) - 1),
];

#[inline(always)]
fn add(a: &Fe2, b: &Fe2) -> Fe2 {
    core::array::from_fn(|i| a[i].add(b[i]))
}

/// `a + 2p − b`.
#[inline(always)]
fn sub(a: &Fe2, b: &Fe2) -> Fe2 {
    core::array::from_fn(|i| a[i].add(U2::splat(TWO_P[i])).sub(b[i]))
}

#[inline(always)]
fn map2(a: &Fe2, b: &Fe2, f: impl Fn(U2, U2) -> U2) -> Fe2 {
    core::array::from_fn(|i| f(a[i], b[i]))
}

#[inline(always)]
fn map1(a: &Fe2, f: impl Fn(U2) -> U2) -> Fe2 {
    core::array::from_fn(|i| f(a[i]))
}

/// Carries 64-bit accumulators (each below 2^63) into a carried element, two chains
/// interleaved as in ref10.
#[inline(always)]
fn carry(h: [V2; 10]) -> Fe2 {
    let [
        mut h0,
        mut h1,
        mut h2,
        mut h3,
        mut h4,
        mut h5,
        mut h6,
        mut h7,
        mut h8,
        mut h9,
    ] = h;
    h1 = h1.add(h0.shr::<26>());
    h0 = V2::and(h0, M26);
    h5 = h5.add(h4.shr::<26>());
    h4 = V2::and(h4, M26);
    h2 = h2.add(h1.shr::<25>());
    h1 = V2::and(h1, M25);
    h6 = h6.add(h5.shr::<25>());
    h5 = V2::and(h5, M25);
    h3 = h3.add(h2.shr::<26>());
    h2 = V2::and(h2, M26);
    h7 = h7.add(h6.shr::<26>());
    h6 = V2::and(h6, M26);
    h4 = h4.add(h3.shr::<25>());
    h3 = V2::and(h3, M25);
    h8 = h8.add(h7.shr::<25>());
    h7 = V2::and(h7, M25);
    h5 = h5.add(h4.shr::<26>());
    h4 = V2::and(h4, M26);
    h9 = h9.add(h8.shr::<26>());
    h8 = V2::and(h8, M26);
    h0 = h0.add(h9.shr::<25>().times19());
    h9 = V2::and(h9, M25);
    h1 = h1.add(h0.shr::<26>());
    h0 = V2::and(h0, M26);
    [h0, h1, h2, h3, h4, h5, h6, h7, h8, h9].map(V2::low::<32>)
}

/// `f · g` with `g19 = 19 g` given.
#[inline(always)]
fn mul_with(f: &Fe2, g: &Fe2, g19: &Fe2) -> Fe2 {
    let f2: Fe2 = core::array::from_fn(|i| if i % 2 == 1 { f[i].add(f[i]) } else { f[i] });
    let h0 = f[0]
        .mul(g[0])
        .add(f2[1].mul(g19[9]))
        .add(f[2].mul(g19[8]))
        .add(f2[3].mul(g19[7]))
        .add(f[4].mul(g19[6]))
        .add(f2[5].mul(g19[5]))
        .add(f[6].mul(g19[4]))
        .add(f2[7].mul(g19[3]))
        .add(f[8].mul(g19[2]))
        .add(f2[9].mul(g19[1]));
    let h1 = f[0]
        .mul(g[1])
        .add(f[1].mul(g[0]))
        .add(f[2].mul(g19[9]))
        .add(f[3].mul(g19[8]))
        .add(f[4].mul(g19[7]))
        .add(f[5].mul(g19[6]))
        .add(f[6].mul(g19[5]))
        .add(f[7].mul(g19[4]))
        .add(f[8].mul(g19[3]))
        .add(f[9].mul(g19[2]));
    let h2 = f[0]
        .mul(g[2])
        .add(f2[1].mul(g[1]))
        .add(f[2].mul(g[0]))
        .add(f2[3].mul(g19[9]))
        .add(f[4].mul(g19[8]))
        .add(f2[5].mul(g19[7]))
        .add(f[6].mul(g19[6]))
        .add(f2[7].mul(g19[5]))
        .add(f[8].mul(g19[4]))
        .add(f2[9].mul(g19[3]));
    let h3 = f[0]
        .mul(g[3])
        .add(f[1].mul(g[2]))
        .add(f[2].mul(g[1]))
        .add(f[3].mul(g[0]))
        .add(f[4].mul(g19[9]))
        .add(f[5].mul(g19[8]))
        .add(f[6].mul(g19[7]))
        .add(f[7].mul(g19[6]))
        .add(f[8].mul(g19[5]))
        .add(f[9].mul(g19[4]));
    let h4 = f[0]
        .mul(g[4])
        .add(f2[1].mul(g[3]))
        .add(f[2].mul(g[2]))
        .add(f2[3].mul(g[1]))
        .add(f[4].mul(g[0]))
        .add(f2[5].mul(g19[9]))
        .add(f[6].mul(g19[8]))
        .add(f2[7].mul(g19[7]))
        .add(f[8].mul(g19[6]))
        .add(f2[9].mul(g19[5]));
    let h5 = f[0]
        .mul(g[5])
        .add(f[1].mul(g[4]))
        .add(f[2].mul(g[3]))
        .add(f[3].mul(g[2]))
        .add(f[4].mul(g[1]))
        .add(f[5].mul(g[0]))
        .add(f[6].mul(g19[9]))
        .add(f[7].mul(g19[8]))
        .add(f[8].mul(g19[7]))
        .add(f[9].mul(g19[6]));
    let h6 = f[0]
        .mul(g[6])
        .add(f2[1].mul(g[5]))
        .add(f[2].mul(g[4]))
        .add(f2[3].mul(g[3]))
        .add(f[4].mul(g[2]))
        .add(f2[5].mul(g[1]))
        .add(f[6].mul(g[0]))
        .add(f2[7].mul(g19[9]))
        .add(f[8].mul(g19[8]))
        .add(f2[9].mul(g19[7]));
    let h7 = f[0]
        .mul(g[7])
        .add(f[1].mul(g[6]))
        .add(f[2].mul(g[5]))
        .add(f[3].mul(g[4]))
        .add(f[4].mul(g[3]))
        .add(f[5].mul(g[2]))
        .add(f[6].mul(g[1]))
        .add(f[7].mul(g[0]))
        .add(f[8].mul(g19[9]))
        .add(f[9].mul(g19[8]));
    let h8 = f[0]
        .mul(g[8])
        .add(f2[1].mul(g[7]))
        .add(f[2].mul(g[6]))
        .add(f2[3].mul(g[5]))
        .add(f[4].mul(g[4]))
        .add(f2[5].mul(g[3]))
        .add(f[6].mul(g[2]))
        .add(f2[7].mul(g[1]))
        .add(f[8].mul(g[0]))
        .add(f2[9].mul(g19[9]));
    let h9 = f[0]
        .mul(g[9])
        .add(f[1].mul(g[8]))
        .add(f[2].mul(g[7]))
        .add(f[3].mul(g[6]))
        .add(f[4].mul(g[5]))
        .add(f[5].mul(g[4]))
        .add(f[6].mul(g[3]))
        .add(f[7].mul(g[2]))
        .add(f[8].mul(g[1]))
        .add(f[9].mul(g[0]));
    carry([h0, h1, h2, h3, h4, h5, h6, h7, h8, h9])
}

/// `f · g`.
#[inline(never)]
fn mul(f: &Fe2, g: &Fe2) -> Fe2 {
    mul_with(f, g, &map1(g, U2::times19))
}

/// `f · g` with `g19 = 19 g` given (the base point's multiple, computed once).
#[inline(never)]
fn mul_pre(f: &Fe2, g: &Fe2, g19: &Fe2) -> Fe2 {
    mul_with(f, g, g19)
}

/// `f²`.
#[inline(never)]
fn square(f: &Fe2) -> Fe2 {
    let f2: Fe2 = core::array::from_fn(|i| f[i].add(f[i]));
    let f4: Fe2 = core::array::from_fn(|i| f2[i].add(f2[i]));
    let f19 = map1(f, U2::times19);
    let h0 = f[0]
        .mul(f[0])
        .add(f4[1].mul(f19[9]))
        .add(f2[2].mul(f19[8]))
        .add(f4[3].mul(f19[7]))
        .add(f2[4].mul(f19[6]))
        .add(f2[5].mul(f19[5]));
    let h1 = f2[0]
        .mul(f[1])
        .add(f2[2].mul(f19[9]))
        .add(f2[3].mul(f19[8]))
        .add(f2[4].mul(f19[7]))
        .add(f2[5].mul(f19[6]));
    let h2 = f2[0]
        .mul(f[2])
        .add(f2[1].mul(f[1]))
        .add(f4[3].mul(f19[9]))
        .add(f2[4].mul(f19[8]))
        .add(f4[5].mul(f19[7]))
        .add(f[6].mul(f19[6]));
    let h3 = f2[0]
        .mul(f[3])
        .add(f2[1].mul(f[2]))
        .add(f2[4].mul(f19[9]))
        .add(f2[5].mul(f19[8]))
        .add(f2[6].mul(f19[7]));
    let h4 = f2[0]
        .mul(f[4])
        .add(f4[1].mul(f[3]))
        .add(f[2].mul(f[2]))
        .add(f4[5].mul(f19[9]))
        .add(f2[6].mul(f19[8]))
        .add(f2[7].mul(f19[7]));
    let h5 = f2[0]
        .mul(f[5])
        .add(f2[1].mul(f[4]))
        .add(f2[2].mul(f[3]))
        .add(f2[6].mul(f19[9]))
        .add(f2[7].mul(f19[8]));
    let h6 = f2[0]
        .mul(f[6])
        .add(f4[1].mul(f[5]))
        .add(f2[2].mul(f[4]))
        .add(f2[3].mul(f[3]))
        .add(f4[7].mul(f19[9]))
        .add(f[8].mul(f19[8]));
    let h7 = f2[0]
        .mul(f[7])
        .add(f2[1].mul(f[6]))
        .add(f2[2].mul(f[5]))
        .add(f2[3].mul(f[4]))
        .add(f2[8].mul(f19[9]));
    let h8 = f2[0]
        .mul(f[8])
        .add(f4[1].mul(f[7]))
        .add(f2[2].mul(f[6]))
        .add(f4[3].mul(f[5]))
        .add(f[4].mul(f[4]))
        .add(f2[9].mul(f19[9]));
    let h9 = f2[0]
        .mul(f[9])
        .add(f2[1].mul(f[8]))
        .add(f2[2].mul(f[7]))
        .add(f2[3].mul(f[6]))
        .add(f2[4].mul(f[5]));
    carry([h0, h1, h2, h3, h4, h5, h6, h7, h8, h9])
}

/// `a + k · e` lane-wise, carried.
#[inline(never)]
fn add_mul_small(a: &Fe2, e: &Fe2, k: U2) -> Fe2 {
    carry(core::array::from_fn(|i| V2::from_u2(a[i]).add(e[i].mul(k))))
}

/// Limb `i`'s bit offset and width.
const OFFSETS: [u32; 10] = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230];

/// The 255 low bits of `u` (the top bit is ignored, as RFC 7748 says) as limbs; values from p
/// to 2^255 − 1 are left unreduced, which the arithmetic tolerates.
fn decode(u: &[u8; 32]) -> [u32; 10] {
    let mut words = [0u64; 4];
    for (word, chunk) in words.iter_mut().zip(u.chunks_exact(8)) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        *word = u64::from_le_bytes(bytes);
    }
    words[3] &= (1 << 63) - 1;
    core::array::from_fn(|i| {
        let offset = OFFSETS[i];
        let index = (offset / 64) as usize;
        let pair = u128::from(words[index])
            | (u128::from(words.get(index + 1).copied().unwrap_or(0)) << 64);
        let width = if i % 2 == 0 { 26 } else { 25 };
        ((pair >> (offset % 64)) as u32) & ((1 << width) - 1)
    })
}

/// Lane `hi` (or lane 0) of `f` in radix 2^51.
fn to_fe51(f: &Fe2, hi: bool) -> Fe51 {
    let lane = |v: U2| u64::from(if hi { v.hi() } else { v.lo() });
    Fe51(core::array::from_fn(|i| {
        lane(f[2 * i]) + (lane(f[2 * i + 1]) << 26)
    }))
}

/// Swaps the two lanes of `x` and `z` when `mask` is all ones (and not when it is zero).
#[inline(always)]
fn cswap(x: &mut Fe2, z: &mut Fe2, mask: U2) {
    for limb in x.iter_mut().chain(z.iter_mut()) {
        let t = limb.xor(limb.swap()).and(mask);
        *limb = limb.xor(t);
    }
}

/// `X25519(scalar, u)` of RFC 7748 §5: clamps `scalar`, runs the ladder on `u` and encodes `x2/z2`.
pub(crate) fn scalarmult(scalar: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    let mut k = *scalar;
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    let u = decode(u);
    let x1: Fe2 = core::array::from_fn(|i| U2::splat(u[i]));
    let x1_19 = map1(&x1, U2::times19);
    // X = (x2, x3) = (1, u), Z = (z2, z3) = (0, 1).
    let mut x: Fe2 = core::array::from_fn(|i| U2::new(u32::from(i == 0), u[i]));
    let mut z: Fe2 = core::array::from_fn(|i| U2::new(0, u32::from(i == 0)));
    let a24 = U2::new(0, 121_665);
    let mut swap = 0u32;
    for t in (0..255).rev() {
        let bit = u32::from((k[t / 8] >> (t % 8)) & 1);
        swap ^= bit;
        cswap(&mut x, &mut z, U2::splat(0u32.wrapping_sub(swap)));
        swap = bit;

        let s = add(&x, &z); // (A, C)
        let d = sub(&x, &z); // (B, D)
        let d_swapped = map1(&d, U2::swap); // (D, B)
        let p = mul(&s, &d_swapped); // (DA, CB)
        let ab = map2(&s, &d, U2::lo_lo); // (A, B)
        let q = square(&ab); // (AA, BB)

        let p_swapped = map1(&p, U2::swap); // (CB, DA)
        let sum = add(&p, &p_swapped); // lane 0: DA + CB
        let diff = sub(&p_swapped, &p); // lane 1: DA − CB
        let r = map2(&sum, &diff, U2::lo_hi);
        let sq2 = square(&r); // (x3', (DA − CB)²)

        let q_swapped = map1(&q, U2::swap); // (BB, AA)
        let e = sub(&q_swapped, &q); // lane 1: E = AA − BB
        let left = map2(&q, &e, U2::lo_hi); // (AA, E)
        let right = add_mul_small(&q_swapped, &e, a24); // (BB, AA + a24 E)
        let m2 = mul(&left, &right); // (x2', z2')
        let z3 = mul_pre(&sq2, &x1, &x1_19); // lane 1: x1 (DA − CB)²

        x = map2(&m2, &sq2, U2::lo_lo);
        z = map2(&m2, &z3, U2::hi_hi);
    }
    cswap(&mut x, &mut z, U2::splat(0u32.wrapping_sub(swap)));
    let x2 = to_fe51(&x, false);
    let z2 = to_fe51(&z, false);
    x2.mul(&z2.invert()).to_bytes()
}
