//! Poly1305, the one-time authenticator of RFC 8439 §2.5 (libsodium's `crypto_onetimeauth`).
//!
//! The accumulator is kept in radix 2⁶⁴ (two 64-bit limbs and a few bits above 2¹²⁸) and each
//! 16-byte block costs four 64×64→128-bit multiplies and two 64×64-bit ones: `r`'s clamping
//! makes its high limb a multiple of 4, so `r₁·2¹²⁸ ≡ (5·r₁/4)` mod 2¹³⁰−5 folds the top
//! product back without a division. The final reduction is branch-free (a mask chooses between
//! `h` and `h − p`) and [`Poly1305::verify`] compares tags with `subtle`.
//!
//! On x86-64 CPUs with AVX2, runs of at least 16 whole blocks passed to [`Poly1305::update`]
//! go to a 4-way vector kernel (radix 2²⁶, four blocks per step, r⁴ … r made once per key):
//! about 2× the scalar speed on long inputs. It takes and returns the same radix-2⁶⁴
//! accumulator, so the scalar code absorbs the last blocks and finishes.
//!
//! A key must authenticate one message only (the AEADs derive it from the cipher's first block).
//!
//! ```
//! use metaless_cipher::poly1305::{tag, Poly1305};
//! let key = [7u8; 32];
//! let mut mac = Poly1305::new(&key);
//! mac.update(b"split ");
//! mac.update(b"anywhere");
//! assert_eq!(mac.finalize(), tag(&key, b"split anywhere"));
//! ```

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes of a Poly1305 key (`r` then `s`).
pub const KEY_LEN: usize = 32;
/// Bytes of a Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Bytes of one Poly1305 block.
pub const BLOCK_LEN: usize = 16;

/// Whole blocks from which [`Poly1305::update`] hands them to the 4-way vector kernel (when the
/// CPU has AVX2): below this the scalar code is as fast, counting the one-time r² … r⁴.
#[cfg(target_arch = "x86_64")]
const VECTOR_MIN_BLOCKS: usize = 16;

/// The `r` half of a key after clamping, with the folded constant, and the running sum.
#[derive(Clone)]
pub(crate) struct State {
    r0: u64,
    r1: u64,
    /// `r1 + r1/4` (= 5·r1/4: `r1` is a multiple of 4 after clamping)
    s1: u64,
    h0: u64,
    h1: u64,
    h2: u64,
    /// r⁴, r³, r², r in radix 2²⁶ (limbs < 2²⁶ + 2¹²) for the vector kernel, made on its
    /// first use (`powers_ready`).
    powers: [[u64; 5]; 4],
    powers_ready: bool,
}

impl Zeroize for State {
    fn zeroize(&mut self) {
        self.r0.zeroize();
        self.r1.zeroize();
        self.s1.zeroize();
        self.h0.zeroize();
        self.h1.zeroize();
        self.h2.zeroize();
        // the powers are still zero unless the vector kernel ran: short messages (most of
        // them) skip wiping 160 bytes they never wrote
        if self.powers_ready {
            self.powers.zeroize();
            self.powers_ready = false;
        }
    }
}

#[inline(always)]
fn le64(b: &[u8; 8]) -> u64 {
    u64::from_le_bytes(*b)
}

#[inline(always)]
fn mul(a: u64, b: u64) -> u128 {
    u128::from(a) * u128::from(b)
}

impl State {
    fn new(r: &[u8; 16]) -> Self {
        let (lo, hi) = split16(r);
        let r0 = le64(lo) & 0x0fff_fffc_0fff_ffff;
        let r1 = le64(hi) & 0x0fff_fffc_0fff_fffc;
        State {
            r0,
            r1,
            s1: r1 + (r1 >> 2),
            h0: 0,
            h1: 0,
            h2: 0,
            powers: [[0; 5]; 4],
            powers_ready: false,
        }
    }

    /// Absorbs whole blocks (with the 2¹²⁸ bit): through the vector kernel when `vector`, the
    /// run is long enough and the CPU has it, the scalar code for the rest (the last < 4
    /// blocks) and otherwise.
    #[inline(always)]
    fn absorb(&mut self, blocks: &[[u8; 16]], vector: bool) {
        #[cfg(target_arch = "x86_64")]
        if vector && blocks.len() >= VECTOR_MIN_BLOCKS {
            let n = blocks.len() & !3;
            let (four, rest) = blocks.split_at(n);
            if crate::dispatch::poly1305_blocks4(self, four) {
                self.blocks(rest, 1);
                return;
            }
        }
        let _ = vector;
        self.blocks(blocks, 1);
    }

    /// r⁴, r³, r², r in radix 2²⁶, computed once per key.
    #[cfg(target_arch = "x86_64")]
    fn powers(&mut self) -> [[u64; 5]; 4] {
        if !self.powers_ready {
            let r = x86::to26(self.r0, self.r1, 0);
            let r2 = x86::mul26(&r, &r);
            let r3 = x86::mul26(&r2, &r);
            let r4 = x86::mul26(&r2, &r2);
            self.powers = [r4, r3, r2, r];
            self.powers_ready = true;
        }
        self.powers
    }

    /// Absorbs whole 16-byte blocks, each with the 2¹²⁸ bit (`hibit` = 1) or, for the
    /// zero-padded final partial block of the raw algorithm, without it (`hibit` = 0).
    #[inline(always)]
    fn blocks(&mut self, blocks: &[[u8; 16]], hibit: u64) {
        let (r0, r1, s1) = (self.r0, self.r1, self.s1);
        let (mut h0, mut h1, mut h2) = (self.h0, self.h1, self.h2);
        for block in blocks {
            let (lo, hi) = split16(block);
            // h += m (+ 2^128)
            let (t0, c) = h0.overflowing_add(le64(lo));
            let (t1, c1) = h1.overflowing_add(le64(hi));
            let (t1, c2) = t1.overflowing_add(u64::from(c));
            h0 = t0;
            h1 = t1;
            h2 = h2 + u64::from(c1) + u64::from(c2) + hibit;
            // h *= r  (h2 ≤ 7, r0, r1 < 2^60, s1 < 2^61)
            let d0 = mul(h0, r0) + mul(h1, s1);
            let d1 = mul(h0, r1) + mul(h1, r0) + u128::from(h2 * s1) + (d0 >> 64);
            let d2 = h2 * r0 + (d1 >> 64) as u64;
            h0 = d0 as u64;
            h1 = d1 as u64;
            // partial reduction: 2^130 ≡ 5, keep the two bits above 2^128
            let c = (d2 >> 2) + (d2 & !3);
            h2 = d2 & 3;
            let (t0, c0) = h0.overflowing_add(c);
            let (t1, c1) = h1.overflowing_add(u64::from(c0));
            h0 = t0;
            h1 = t1;
            h2 += u64::from(c1);
        }
        self.h0 = h0;
        self.h1 = h1;
        self.h2 = h2;
    }

    /// `(h mod p) + s mod 2^128`, branch-free.
    fn finish(&self, s: &[u8; 16]) -> [u8; 16] {
        let (mut h0, mut h1, mut h2) = (self.h0, self.h1, self.h2);
        // one more fold: h < 2^130 + 5 afterwards, so at most one p is left to subtract
        let c = (h2 >> 2) + (h2 & !3);
        h2 &= 3;
        let (t0, c0) = h0.overflowing_add(c);
        let (t1, c1) = h1.overflowing_add(u64::from(c0));
        h0 = t0;
        h1 = t1;
        h2 += u64::from(c1);
        // g = h + 5 - 2^130; h ≥ p exactly when g does not borrow
        let (g0, c0) = h0.overflowing_add(5);
        let (g1, c1) = h1.overflowing_add(u64::from(c0));
        let g2 = h2.wrapping_add(u64::from(c1)).wrapping_sub(4);
        // all ones when g2 did not borrow (top bit clear), else zero
        let take_g = (g2 >> 63).wrapping_sub(1);
        h0 = (h0 & !take_g) | (g0 & take_g);
        h1 = (h1 & !take_g) | (g1 & take_g);
        let (lo, hi) = split16(s);
        let (t0, c) = h0.overflowing_add(le64(lo));
        let t1 = h1.wrapping_add(le64(hi)).wrapping_add(u64::from(c));
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&t0.to_le_bytes());
        out[8..].copy_from_slice(&t1.to_le_bytes());
        out
    }
}

#[inline(always)]
fn split16(b: &[u8; 16]) -> (&[u8; 8], &[u8; 8]) {
    let (lo, hi) = b.split_at(8);
    // Both halves are 8 bytes by construction; the fallback is never taken.
    let lo: &[u8; 8] = lo.try_into().unwrap_or(&[0; 8]);
    let hi: &[u8; 8] = hi.try_into().unwrap_or(&[0; 8]);
    (lo, hi)
}

/// An incremental Poly1305 computation: feed bytes in any pieces, then take the tag.
///
/// Secret state (the key's halves, the sum, buffered bytes) is zeroized on drop.
///
/// ```
/// use metaless_cipher::poly1305::Poly1305;
/// let mut mac = Poly1305::new(&[1u8; 32]);
/// mac.update(&[0u8; 100]);
/// let t = mac.clone().finalize();
/// assert!(bool::from(mac.verify(&t)));
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Poly1305 {
    state: State,
    s: [u8; 16],
    buf: [u8; 16],
    buf_len: usize,
    /// Whether long runs may use the vector kernel (off only to test the scalar code alone).
    vector: bool,
}

impl core::fmt::Debug for Poly1305 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Poly1305 { .. }")
    }
}

impl Poly1305 {
    /// A computation under a one-time 32-byte key (`r` ‖ `s`; `r` is clamped here).
    ///
    /// ```
    /// let mac = metaless_cipher::poly1305::Poly1305::new(&[0u8; 32]);
    /// assert_eq!(mac.finalize(), [0u8; 16]);
    /// ```
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        let (r, s) = key.split_at(16);
        let r: &[u8; 16] = r.try_into().unwrap_or(&[0; 16]);
        let s: [u8; 16] = s.try_into().unwrap_or([0; 16]);
        Poly1305 {
            state: State::new(r),
            s,
            buf: [0; 16],
            buf_len: 0,
            vector: true,
        }
    }

    /// The same computation restricted to the scalar code (`dispatch::paths::poly1305`).
    pub(crate) fn scalar_only(mut self) -> Self {
        self.vector = false;
        self
    }

    /// Absorbs `data`; pieces of any length are joined as one message.
    ///
    /// ```
    /// use metaless_cipher::poly1305::{tag, Poly1305};
    /// let mut mac = Poly1305::new(&[2u8; 32]);
    /// for b in b"one byte at a time" { mac.update(&[*b]); }
    /// assert_eq!(mac.finalize(), tag(&[2u8; 32], b"one byte at a time"));
    /// ```
    pub fn update(&mut self, mut data: &[u8]) {
        if self.buf_len > 0 {
            let take = (16 - self.buf_len).min(data.len());
            let (head, rest) = data.split_at(take);
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(head);
            self.buf_len += take;
            data = rest;
            if self.buf_len < 16 {
                return;
            }
            let block = self.buf;
            self.state.blocks(&[block], 1);
            self.buf_len = 0;
        }
        let (blocks, rest) = data.as_chunks::<16>();
        self.state.absorb(blocks, self.vector);
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// Absorbs `data` and then zeros up to the next 16-byte boundary, as the RFC 8439 AEAD
    /// lays out its associated data and ciphertext. Same as `update(data)` followed by
    /// `update` of the padding, when the computation was at a block boundary before.
    ///
    /// ```
    /// use metaless_cipher::poly1305::Poly1305;
    /// let (mut a, mut b) = (Poly1305::new(&[3u8; 32]), Poly1305::new(&[3u8; 32]));
    /// a.update_padded(b"abc");
    /// b.update(b"abc");
    /// b.update(&[0u8; 13]);
    /// assert_eq!(a.finalize(), b.finalize());
    /// ```
    pub fn update_padded(&mut self, data: &[u8]) {
        self.update(data);
        if self.buf_len > 0 {
            self.buf[self.buf_len..].fill(0);
            let block = self.buf;
            self.state.blocks(&[block], 1);
            self.buf_len = 0;
        }
    }

    /// The 16-byte tag of everything absorbed.
    ///
    /// ```
    /// use metaless_cipher::poly1305::{tag, Poly1305};
    /// let mut mac = Poly1305::new(&[9u8; 32]);
    /// mac.update(b"msg");
    /// assert_eq!(mac.finalize(), tag(&[9u8; 32], b"msg"));
    /// ```
    pub fn finalize(mut self) -> [u8; TAG_LEN] {
        if self.buf_len > 0 {
            // the raw algorithm's last partial block: a 1 byte after the data, no 2^128 bit
            let mut block = [0u8; 16];
            block[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
            block[self.buf_len] = 1;
            self.state.blocks(&[block], 0);
            block.zeroize();
        }
        self.state.finish(&self.s)
    }

    /// Whether the tag of everything absorbed equals `expected`, compared in constant time.
    ///
    /// ```
    /// use metaless_cipher::poly1305::{tag, Poly1305};
    /// let t = tag(&[4u8; 32], b"m");
    /// let mut mac = Poly1305::new(&[4u8; 32]);
    /// mac.update(b"m");
    /// assert!(bool::from(mac.verify(&t)));
    /// ```
    pub fn verify(self, expected: &[u8; TAG_LEN]) -> subtle::Choice {
        self.finalize().ct_eq(expected)
    }
}

/// The Poly1305 tag of `data` under the one-time `key`.
///
/// ```
/// // RFC 8439 §2.5.2
/// let key: [u8; 32] = [
///     0x85, 0xd6, 0xbe, 0x78, 0x57, 0x55, 0x6d, 0x33, 0x7f, 0x44, 0x52, 0xfe, 0x42, 0xd5, 0x06, 0xa8,
///     0x01, 0x03, 0x80, 0x8a, 0xfb, 0x0d, 0xb2, 0xfd, 0x4a, 0xbf, 0xf6, 0xaf, 0x41, 0x49, 0xf5, 0x1b,
/// ];
/// let t = metaless_cipher::poly1305::tag(&key, b"Cryptographic Forum Research Group");
/// assert_eq!(t, [0xa8, 0x06, 0x1d, 0xc1, 0x30, 0x51, 0x36, 0xc6,
///                0xc2, 0x2b, 0x8b, 0xaf, 0x0c, 0x01, 0x27, 0xa9]);
/// ```
pub fn tag(key: &[u8; KEY_LEN], data: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = Poly1305::new(key);
    mac.update(data);
    mac.finalize()
}

/// The AVX2 kernel: four blocks per step in radix 2²⁶ (five 26-bit limbs per 64-bit lane,
/// `vpmuludq`), the 4-way Horner method: lane j keeps the sum of blocks j, j+4, j+8, … each
/// step multiplied by r⁴, and the last step multiplies lane j by r⁴⁻ʲ instead, so the lanes
/// add up to the scalar Horner result. The state enters from and returns to the scalar radix
/// 2⁶⁴ accumulator exactly (same value, not reduced mod p), so the scalar code finishes.
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use super::{State, le64, split16};
    use core::arch::x86_64::*;

    const M26: u64 = (1 << 26) - 1;

    /// `h0 + h1·2⁶⁴ + h2·2¹²⁸` in five 26-bit limbs (the top one keeps `h2`'s bits: < 2²⁷
    /// for the scalar code's h2 ≤ 7).
    #[inline(always)]
    pub(super) fn to26(h0: u64, h1: u64, h2: u64) -> [u64; 5] {
        [
            h0 & M26,
            (h0 >> 26) & M26,
            ((h0 >> 52) | (h1 << 12)) & M26,
            (h1 >> 14) & M26,
            (h1 >> 40) | (h2 << 24),
        ]
    }

    /// One carry pass with the top carry folded ×5 (2¹³⁰ ≡ 5): limbs < 2²⁶ afterwards
    /// except the second, < 2²⁶ + 2¹² (inputs < 2⁶⁰).
    #[inline(always)]
    fn carry26(mut d: [u64; 5]) -> [u64; 5] {
        for i in 0..4 {
            d[i + 1] += d[i] >> 26;
            d[i] &= M26;
        }
        let c = d[4] >> 26;
        d[4] &= M26;
        d[0] += c * 5;
        d[1] += d[0] >> 26;
        d[0] &= M26;
        d
    }

    /// `a·b` mod 2¹³⁰ − 5 (not fully reduced), scalar; limbs < 2²⁷ in: products < 2⁵⁴, the
    /// ×5-folded sums < 2⁵⁹.
    pub(super) fn mul26(a: &[u64; 5], b: &[u64; 5]) -> [u64; 5] {
        let s = [0, b[1] * 5, b[2] * 5, b[3] * 5, b[4] * 5];
        carry26([
            a[0] * b[0] + a[1] * s[4] + a[2] * s[3] + a[3] * s[2] + a[4] * s[1],
            a[0] * b[1] + a[1] * b[0] + a[2] * s[4] + a[3] * s[3] + a[4] * s[2],
            a[0] * b[2] + a[1] * b[1] + a[2] * b[0] + a[3] * s[4] + a[4] * s[3],
            a[0] * b[3] + a[1] * b[2] + a[2] * b[1] + a[3] * b[0] + a[4] * s[4],
            a[0] * b[4] + a[1] * b[3] + a[2] * b[2] + a[3] * b[1] + a[4] * b[0],
        ])
    }

    /// Four blocks' limbs, each with the 2¹²⁸ bit (2²⁴ in the top limb), in the lane order
    /// [`LANES`]: two 32-byte vectors as they lie in memory, split into low and high halves
    /// by unpacking within 128-bit lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn load(b: &[[u8; 16]; 4]) -> [__m256i; 5] {
        let q = |k: usize| {
            let (l, h) = split16(&b[k]);
            (le64(l) as i64, le64(h) as i64)
        };
        let ((l0, h0), (l1, h1), (l2, h2), (l3, h3)) = (q(0), q(1), q(2), q(3));
        let x = _mm256_setr_epi64x(l0, h0, l1, h1);
        let y = _mm256_setr_epi64x(l2, h2, l3, h3);
        let lo = _mm256_unpacklo_epi64(x, y);
        let hi = _mm256_unpackhi_epi64(x, y);
        let m = _mm256_set1_epi64x(M26 as i64);
        [
            _mm256_and_si256(lo, m),
            _mm256_and_si256(_mm256_srli_epi64::<26>(lo), m),
            _mm256_and_si256(
                _mm256_or_si256(_mm256_srli_epi64::<52>(lo), _mm256_slli_epi64::<12>(hi)),
                m,
            ),
            _mm256_and_si256(_mm256_srli_epi64::<14>(hi), m),
            _mm256_or_si256(_mm256_srli_epi64::<40>(hi), _mm256_set1_epi64x(1 << 24)),
        ]
    }

    /// Which block of a group of four each lane holds (the unpack in [`load`] interleaves
    /// them); block k's last multiplier is r⁴⁻ᵏ.
    const LANES: [usize; 4] = [0, 2, 1, 3];

    /// `a·r + add` per lane, uncarried. In: a's limbs < 2²⁸, r's < 2²⁶ + 2¹², s = 5r < 2²⁹,
    /// add < 2²⁶: each sum of five products < 2⁵⁹.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn mul_add(
        a: &[__m256i; 5],
        r: &[__m256i; 5],
        s: &[__m256i; 5],
        add: &[__m256i; 5],
    ) -> [__m256i; 5] {
        use core::arch::x86_64::_mm256_mul_epu32 as mul;
        let sum5 = |p: [__m256i; 5]| {
            _mm256_add_epi64(
                _mm256_add_epi64(_mm256_add_epi64(p[0], p[1]), _mm256_add_epi64(p[2], p[3])),
                p[4],
            )
        };
        let mut d = [
            sum5([
                mul(a[0], r[0]),
                mul(a[1], s[4]),
                mul(a[2], s[3]),
                mul(a[3], s[2]),
                mul(a[4], s[1]),
            ]),
            sum5([
                mul(a[0], r[1]),
                mul(a[1], r[0]),
                mul(a[2], s[4]),
                mul(a[3], s[3]),
                mul(a[4], s[2]),
            ]),
            sum5([
                mul(a[0], r[2]),
                mul(a[1], r[1]),
                mul(a[2], r[0]),
                mul(a[3], s[4]),
                mul(a[4], s[3]),
            ]),
            sum5([
                mul(a[0], r[3]),
                mul(a[1], r[2]),
                mul(a[2], r[1]),
                mul(a[3], r[0]),
                mul(a[4], s[4]),
            ]),
            sum5([
                mul(a[0], r[4]),
                mul(a[1], r[3]),
                mul(a[2], r[2]),
                mul(a[3], r[1]),
                mul(a[4], r[0]),
            ]),
        ];
        for i in 0..5 {
            d[i] = _mm256_add_epi64(d[i], add[i]);
        }
        d
    }

    /// One carry pass per lane (two chains interleaved), top carry ×5 into the bottom limb.
    /// In: limbs < 2⁶⁰. Out: limbs < 2²⁶ except the second and the fifth, < 2²⁶ + 2¹².
    /// Done at the top of each step (not the end) so LLVM sees, in the loop's own block, that
    /// the multiplier inputs fit 32 bits and emits one `vpmuludq` per product.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn carry(mut d: [__m256i; 5]) -> [__m256i; 5] {
        let m = _mm256_set1_epi64x(M26 as i64);
        let step = |d: &mut [__m256i; 5], i: usize, j: usize| {
            let c = _mm256_srli_epi64::<26>(d[i]);
            d[i] = _mm256_and_si256(d[i], m);
            d[j] = _mm256_add_epi64(d[j], c);
        };
        step(&mut d, 0, 1);
        step(&mut d, 3, 4);
        step(&mut d, 1, 2);
        // the top carry (< 2³⁴) re-enters the bottom limb ×5
        let c = _mm256_srli_epi64::<26>(d[4]);
        d[4] = _mm256_and_si256(d[4], m);
        d[0] = _mm256_add_epi64(d[0], _mm256_add_epi64(c, _mm256_slli_epi64::<2>(c)));
        step(&mut d, 2, 3);
        step(&mut d, 0, 1);
        step(&mut d, 3, 4);
        d
    }

    /// Absorbs `blocks` (a multiple of 4, at least 4) into `st`, each with the 2¹²⁸ bit.
    #[target_feature(enable = "avx2")]
    pub(crate) fn blocks4(st: &mut State, blocks: &[[u8; 16]]) {
        let (groups, _) = blocks.as_chunks::<4>();
        let Some((first, rest)) = groups.split_first() else {
            return;
        };
        let pw = st.powers();
        let splat = |p: &[u64; 5]| -> [[__m256i; 5]; 2] {
            let r = [0, 1, 2, 3, 4].map(|i| _mm256_set1_epi64x(p[i] as i64));
            let s = [0, 1, 2, 3, 4].map(|i| _mm256_set1_epi64x((p[i] * 5) as i64));
            [r, s]
        };
        let [r4, s4] = splat(&pw[0]);
        // each lane's last multiplier: r⁴⁻ᵏ for its block k (pw[k] = r⁴⁻ᵏ)
        let lanes = |k: u64| {
            [0, 1, 2, 3, 4].map(|i| {
                _mm256_setr_epi64x(
                    (pw[LANES[0]][i] * k) as i64,
                    (pw[LANES[1]][i] * k) as i64,
                    (pw[LANES[2]][i] * k) as i64,
                    (pw[LANES[3]][i] * k) as i64,
                )
            })
        };
        let (rl, sl) = (lanes(1), lanes(5));
        // the running sum joins block 0, in lane 0 (limbs < 2²⁷ + 2²⁵ together)
        let h = to26(st.h0, st.h1, st.h2);
        let m = load(first);
        let mut d = [0, 1, 2, 3, 4]
            .map(|i| _mm256_add_epi64(m[i], _mm256_setr_epi64x(h[i] as i64, 0, 0, 0)));
        for group in rest {
            // Through memory each step: otherwise LLVM proves r's limbs < 2³² before the loop
            // but not inside it, and emits a full 64×64 multiply (three vpmuludq) per product.
            let (r4, s4) = core::hint::black_box((r4, s4));
            d = mul_add(&carry(d), &r4, &s4, &load(group));
        }
        let zero = [_mm256_setzero_si256(); 5];
        let a = carry(mul_add(&carry(d), &rl, &sl, &zero));
        let mut l = [0u64; 5];
        for i in 0..5 {
            // four lanes < 2²⁷ each
            let v = a[i];
            l[i] = (_mm256_extract_epi64::<0>(v) as u64)
                + (_mm256_extract_epi64::<1>(v) as u64)
                + (_mm256_extract_epi64::<2>(v) as u64)
                + (_mm256_extract_epi64::<3>(v) as u64);
        }
        // < 2¹³⁰ + 2⁶⁴ afterwards: h2 ≤ 4, as the scalar code expects
        let l = carry26(l);
        let t = u128::from(l[0]) + (u128::from(l[1]) << 26) + (u128::from(l[2]) << 52);
        st.h0 = t as u64;
        let t = (t >> 64) + (u128::from(l[3]) << 14) + (u128::from(l[4]) << 40);
        st.h1 = t as u64;
        st.h2 = (t >> 64) as u64;
    }
}
