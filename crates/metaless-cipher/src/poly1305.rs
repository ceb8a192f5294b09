//! Poly1305, the one-time authenticator of RFC 8439 §2.5 (libsodium's `crypto_onetimeauth`).
//!
//! The accumulator is kept in radix 2⁶⁴ (two 64-bit limbs and a few bits above 2¹²⁸) and each
//! 16-byte block costs four 64×64→128-bit multiplies and two 64×64-bit ones: `r`'s clamping
//! makes its high limb a multiple of 4, so `r₁·2¹²⁸ ≡ (5·r₁/4)` mod 2¹³⁰−5 folds the top
//! product back without a division. The final reduction is branch-free (a mask chooses between
//! `h` and `h − p`) and [`Poly1305::verify`] compares tags with `subtle`.
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

/// The `r` half of a key after clamping, with the folded constant, and the running sum.
#[derive(Clone, Zeroize)]
struct State {
    r0: u64,
    r1: u64,
    /// `r1 + r1/4` (= 5·r1/4: `r1` is a multiple of 4 after clamping)
    s1: u64,
    h0: u64,
    h1: u64,
    h2: u64,
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
        }
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
        }
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
        self.state.blocks(blocks, 1);
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
