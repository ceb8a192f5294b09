//! ChaCha20 (RFC 8439 §2.4: 96-bit nonce, 32-bit block counter), HChaCha20 and XChaCha20
//! (draft-irtf-cfrg-xchacha-03), as libsodium's `crypto_stream_chacha20_ietf_xor_ic`,
//! `crypto_core_hchacha20` and `crypto_stream_xchacha20_xor_ic`.
//!
//! The block function works on several blocks at once. On x86-64 (`x86` below) each row of a
//! block is one vector register and the diagonal round rotates words within each 128-bit lane
//! (`pshufd`): the SSE2 build (the x86-64 baseline) runs four blocks side by side in `xmm`
//! registers, the AVX2 build eight (two blocks per `ymm` row: block `2i` in the low lane), and
//! the AVX-512VL build the same with one-instruction rotates (`vprold`). Rotations by 16 and 8
//! are byte shuffles (`vpshufb`) on AVX2. Each block's output is four contiguous 16-byte rows,
//! so writing the keystream needs no transposition. Elsewhere the generic code below runs:
//! the same rows as `[u32; 4·K]` arrays (`xor_batch`), left to LLVM's vectoriser.
//!
//! ```
//! use metaless_cipher::chacha20::xor_in_place;
//! let (key, nonce) = ([1u8; 32], [2u8; 12]);
//! let mut buf = *b"attack at dawn";
//! xor_in_place(&key, &nonce, 1, &mut buf)?;
//! assert_ne!(&buf, b"attack at dawn");
//! xor_in_place(&key, &nonce, 1, &mut buf)?;
//! assert_eq!(&buf, b"attack at dawn");
//! # Ok::<(), metaless_cipher::CipherError>(())
//! ```

use zeroize::Zeroize;

use crate::CipherError;

/// Bytes of a ChaCha20 key.
pub const KEY_LEN: usize = 32;
/// Bytes of the IETF ChaCha20 nonce.
pub const NONCE_LEN: usize = 12;
/// Bytes of an XChaCha20 nonce.
pub const XNONCE_LEN: usize = 24;
/// Bytes of one ChaCha20 block.
pub const BLOCK_LEN: usize = 64;

/// "expand 32-byte k"
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// Blocks per batch in the largest instantiation (the AVX2 build): sizes the tail buffer.
pub(crate) const MAX_BLOCKS: usize = 8;

/// The input of the block function: key words, then counter and nonce words
/// (`[k0..k7, ctr, n0, n1, n2]`). Zeroized on drop.
#[derive(Clone, Zeroize, zeroize::ZeroizeOnDrop)]
pub(crate) struct State {
    pub(crate) w: [u32; 12],
}

impl State {
    pub(crate) fn new(key: &[u8; 32], counter: u32, nonce: &[u8; 12]) -> Self {
        let mut w = [0u32; 12];
        for (w, k) in w[..8].iter_mut().zip(key.as_chunks::<4>().0) {
            *w = u32::from_le_bytes(*k);
        }
        w[8] = counter;
        for (w, n) in w[9..].iter_mut().zip(nonce.as_chunks::<4>().0) {
            *w = u32::from_le_bytes(*n);
        }
        State { w }
    }
}

#[inline(always)]
fn add<const N: usize>(a: &mut [u32; N], b: &[u32; N]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.wrapping_add(*y);
    }
}

#[inline(always)]
fn xor_rot<const N: usize, const R: u32>(d: &mut [u32; N], a: &[u32; N]) {
    for (x, y) in d.iter_mut().zip(a) {
        *x = (*x ^ *y).rotate_left(R);
    }
}

/// Rotates the words within each block's four lanes: lane `i` takes lane `i + S` (mod 4).
#[inline(always)]
fn shuffle<const N: usize, const S: usize>(x: &[u32; N]) -> [u32; N] {
    let mut out = [0u32; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = x[(i & !3) | ((i + S) & 3)];
    }
    out
}

#[inline(always)]
fn quarter<const N: usize>(a: &mut [u32; N], b: &mut [u32; N], c: &mut [u32; N], d: &mut [u32; N]) {
    add(a, b);
    xor_rot::<N, 16>(d, a);
    add(c, d);
    xor_rot::<N, 12>(b, c);
    add(a, b);
    xor_rot::<N, 8>(d, a);
    add(c, d);
    xor_rot::<N, 7>(b, c);
}

/// The 20 rounds over rows `a`–`d` of `N / 4` blocks.
#[inline(always)]
fn rounds<const N: usize>(a: &mut [u32; N], b: &mut [u32; N], c: &mut [u32; N], d: &mut [u32; N]) {
    for _ in 0..10 {
        quarter(a, b, c, d);
        *b = shuffle::<N, 1>(b);
        *c = shuffle::<N, 2>(c);
        *d = shuffle::<N, 3>(d);
        quarter(a, b, c, d);
        *b = shuffle::<N, 3>(b);
        *c = shuffle::<N, 2>(c);
        *d = shuffle::<N, 1>(d);
    }
}

/// The initial rows for `N / 4` consecutive blocks from `state`'s counter (wrapping: blocks
/// past the counter's end are computed only to be thrown away by the callers).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // four rows filled from one index
fn init<const N: usize>(s: &State) -> [[u32; N]; 4] {
    let mut r = [[0u32; N]; 4];
    for i in 0..N {
        let j = i & 3;
        r[0][i] = SIGMA[j];
        r[1][i] = s.w[j];
        r[2][i] = s.w[4 + j];
        r[3][i] = if j == 0 {
            s.w[8].wrapping_add((i / 4) as u32)
        } else {
            s.w[8 + j]
        };
    }
    r
}

/// XORs the keystream of `N / 4` blocks from `state`'s counter into `buf` (exactly
/// `16·N` bytes), without advancing the counter.
#[inline(always)]
fn xor_batch<const N: usize>(s: &State, buf: &mut [[u8; 4]]) {
    let r0 = init::<N>(s);
    let [mut a, mut b, mut c, mut d] = r0;
    rounds(&mut a, &mut b, &mut c, &mut d);
    add(&mut a, &r0[0]);
    add(&mut b, &r0[1]);
    add(&mut c, &r0[2]);
    add(&mut d, &r0[3]);
    let rows = [a, b, c, d];
    for (k, block) in buf.chunks_exact_mut(16).enumerate().take(N / 4) {
        for (row, quad) in rows.iter().zip(block.chunks_exact_mut(4)) {
            for (j, word) in quad.iter_mut().enumerate() {
                *word = (u32::from_le_bytes(*word) ^ row[4 * k + j]).to_le_bytes();
            }
        }
    }
}

/// The generic build's stream: batches of 4 blocks (`[u32; 16]` rows), the tail in batches
/// of 1, 2 or 4. What non-x86 targets run (LLVM vectorises the lane arrays as it can, e.g.
/// NEON on aarch64); tested on x86-64 too (`tests/dispatch.rs`).
#[inline(always)]
pub(crate) fn generic_stream(s: &mut State, buf: &mut [u8]) {
    drive::<4>(s, buf, xor_batch::<16>, |st, tmp, blocks| match blocks {
        1 => {
            xor_batch::<4>(st, tmp);
            1
        }
        2 => {
            xor_batch::<8>(st, tmp);
            2
        }
        _ => {
            xor_batch::<16>(st, tmp);
            4
        }
    });
}

/// Drives a kernel over `buf`: whole batches of `BATCH` blocks in place through `full`, the
/// tail (fewer than `BATCH` blocks) through a zero-padded stack copy and `tail`, which is given
/// the number of blocks it must cover. Advances the counter past `buf`.
#[inline(always)]
pub(crate) fn drive<const BATCH: usize>(
    s: &mut State,
    buf: &mut [u8],
    mut full: impl FnMut(&State, &mut [[u8; 4]]),
    mut tail: impl FnMut(&State, &mut [[u8; 4]], usize) -> usize,
) {
    let (words, rest) = buf.as_chunks_mut::<4>();
    let mut batches = words.chunks_exact_mut(16 * BATCH);
    for batch in &mut batches {
        full(s, batch);
        s.w[8] = s.w[8].wrapping_add(BATCH as u32);
    }
    let rest_words = batches.into_remainder();
    let rest_len = rest_words.len() * 4 + rest.len();
    if rest_len == 0 {
        return;
    }
    let mut tmp = [[0u8; 4]; 16 * MAX_BLOCKS];
    let split = rest_words.len() * 4;
    {
        let bytes = tmp.as_flattened_mut();
        bytes[..split].copy_from_slice(rest_words.as_flattened());
        bytes[split..rest_len].copy_from_slice(rest);
    }
    let blocks = rest_len.div_ceil(BLOCK_LEN);
    let written = tail(s, &mut tmp, blocks).min(MAX_BLOCKS);
    s.w[8] = s.w[8].wrapping_add(blocks as u32);
    {
        let bytes = tmp.as_flattened();
        rest_words
            .as_flattened_mut()
            .copy_from_slice(&bytes[..split]);
        rest.copy_from_slice(&bytes[split..rest_len]);
    }
    // Past the data the kernel wrote bare keystream (its batch may cover more blocks than
    // the tail): wiped. Before it, the copy holds what `buf` now holds.
    if let Some(extra) = tmp.as_flattened_mut().get_mut(rest_len..64 * written) {
        extra.zeroize();
    }
}

/// x86-64 kernels over real vector registers (`core::arch` intrinsics, which are safe to call
/// inside functions compiled with their target feature; nothing here is `unsafe`). The rows
/// of a block are four vectors; the diagonal round rotates words within each 128-bit lane.
/// SSE2 (the x86-64 baseline): one block per `__m128i` row, four blocks interleaved. AVX2: two
/// blocks per `__m256i` row (block `2i` in the low lane), four pairs interleaved.
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use core::arch::x86_64::*;

    use super::{MAX_BLOCKS, SIGMA, State, drive};

    #[inline(always)]
    fn i(x: u32) -> i32 {
        x as i32
    }

    #[inline(always)]
    fn word(b: &[[u8; 4]], k: usize) -> i32 {
        i32::from_le_bytes(b[k])
    }

    // ---- SSE2 ----

    #[inline]
    #[target_feature(enable = "sse2")]
    fn rot_sse<const L: i32, const R: i32>(x: __m128i) -> __m128i {
        _mm_or_si128(_mm_slli_epi32::<L>(x), _mm_srli_epi32::<R>(x))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn rot16_sse(x: __m128i) -> __m128i {
        _mm_shufflehi_epi16::<0xb1>(_mm_shufflelo_epi16::<0xb1>(x))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn xor16_sse(b: &mut [[u8; 4]], v: __m128i) {
        let x = _mm_xor_si128(
            _mm_setr_epi32(word(b, 0), word(b, 1), word(b, 2), word(b, 3)),
            v,
        );
        let lo = _mm_cvtsi128_si64(x) as u64;
        let hi = _mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x)) as u64;
        let (l, h) = (lo.to_le_bytes(), hi.to_le_bytes());
        b[0] = [l[0], l[1], l[2], l[3]];
        b[1] = [l[4], l[5], l[6], l[7]];
        b[2] = [h[0], h[1], h[2], h[3]];
        b[3] = [h[4], h[5], h[6], h[7]];
    }

    /// `S` blocks from `s`'s counter XORed into `buf` (`16·S` words).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn sse2_batch<const S: usize>(st: &State, buf: &mut [[u8; 4]]) {
        let w = &st.w;
        let a0 = _mm_setr_epi32(i(SIGMA[0]), i(SIGMA[1]), i(SIGMA[2]), i(SIGMA[3]));
        let b0 = _mm_setr_epi32(i(w[0]), i(w[1]), i(w[2]), i(w[3]));
        let c0 = _mm_setr_epi32(i(w[4]), i(w[5]), i(w[6]), i(w[7]));
        let mut d0 = [_mm_setzero_si128(); S];
        for (k, d) in d0.iter_mut().enumerate() {
            let ctr = w[8].wrapping_add(k as u32);
            *d = _mm_setr_epi32(i(ctr), i(w[9]), i(w[10]), i(w[11]));
        }
        let (mut a, mut b, mut c, mut d) = ([a0; S], [b0; S], [c0; S], d0);
        for _ in 0..10 {
            for k in 0..S {
                a[k] = _mm_add_epi32(a[k], b[k]);
                d[k] = rot16_sse(_mm_xor_si128(d[k], a[k]));
                c[k] = _mm_add_epi32(c[k], d[k]);
                b[k] = rot_sse::<12, 20>(_mm_xor_si128(b[k], c[k]));
                a[k] = _mm_add_epi32(a[k], b[k]);
                d[k] = rot_sse::<8, 24>(_mm_xor_si128(d[k], a[k]));
                c[k] = _mm_add_epi32(c[k], d[k]);
                b[k] = rot_sse::<7, 25>(_mm_xor_si128(b[k], c[k]));
                b[k] = _mm_shuffle_epi32::<0x39>(b[k]);
                c[k] = _mm_shuffle_epi32::<0x4e>(c[k]);
                d[k] = _mm_shuffle_epi32::<0x93>(d[k]);
                a[k] = _mm_add_epi32(a[k], b[k]);
                d[k] = rot16_sse(_mm_xor_si128(d[k], a[k]));
                c[k] = _mm_add_epi32(c[k], d[k]);
                b[k] = rot_sse::<12, 20>(_mm_xor_si128(b[k], c[k]));
                a[k] = _mm_add_epi32(a[k], b[k]);
                d[k] = rot_sse::<8, 24>(_mm_xor_si128(d[k], a[k]));
                c[k] = _mm_add_epi32(c[k], d[k]);
                b[k] = rot_sse::<7, 25>(_mm_xor_si128(b[k], c[k]));
                b[k] = _mm_shuffle_epi32::<0x93>(b[k]);
                c[k] = _mm_shuffle_epi32::<0x4e>(c[k]);
                d[k] = _mm_shuffle_epi32::<0x39>(d[k]);
            }
        }
        for (k, block) in buf.chunks_exact_mut(16).enumerate().take(S) {
            let (r0, rest) = block.split_at_mut(4);
            let (r1, rest) = rest.split_at_mut(4);
            let (r2, r3) = rest.split_at_mut(4);
            xor16_sse(r0, _mm_add_epi32(a[k], a0));
            xor16_sse(r1, _mm_add_epi32(b[k], b0));
            xor16_sse(r2, _mm_add_epi32(c[k], c0));
            xor16_sse(r3, _mm_add_epi32(d[k], d0[k]));
        }
    }

    /// HChaCha20 on one block of SSE2 rows (words 0–3 and 12–15 after the rounds); every
    /// x86-64 build uses it (an AVX-512VL variant with `vprold` measured no faster).
    macro_rules! hchacha {
        ($feature:literal, $name:ident, $rot16:ident, $rot:ident) => {
            #[inline]
            #[target_feature(enable = $feature)]
            pub(crate) fn $name(key: &[u8; 32], input: &[u8; 16]) -> [u8; 32] {
                let (kw, _) = key.as_chunks::<4>();
                let (nw, _) = input.as_chunks::<4>();
                let mut a = _mm_setr_epi32(i(SIGMA[0]), i(SIGMA[1]), i(SIGMA[2]), i(SIGMA[3]));
                let mut b = _mm_setr_epi32(word(kw, 0), word(kw, 1), word(kw, 2), word(kw, 3));
                let mut c = _mm_setr_epi32(word(kw, 4), word(kw, 5), word(kw, 6), word(kw, 7));
                let mut d = _mm_setr_epi32(word(nw, 0), word(nw, 1), word(nw, 2), word(nw, 3));
                for _ in 0..10 {
                    a = _mm_add_epi32(a, b);
                    d = $rot16(_mm_xor_si128(d, a));
                    c = _mm_add_epi32(c, d);
                    b = $rot::<12, 20>(_mm_xor_si128(b, c));
                    a = _mm_add_epi32(a, b);
                    d = $rot::<8, 24>(_mm_xor_si128(d, a));
                    c = _mm_add_epi32(c, d);
                    b = $rot::<7, 25>(_mm_xor_si128(b, c));
                    b = _mm_shuffle_epi32::<0x39>(b);
                    c = _mm_shuffle_epi32::<0x4e>(c);
                    d = _mm_shuffle_epi32::<0x93>(d);
                    a = _mm_add_epi32(a, b);
                    d = $rot16(_mm_xor_si128(d, a));
                    c = _mm_add_epi32(c, d);
                    b = $rot::<12, 20>(_mm_xor_si128(b, c));
                    a = _mm_add_epi32(a, b);
                    d = $rot::<8, 24>(_mm_xor_si128(d, a));
                    c = _mm_add_epi32(c, d);
                    b = $rot::<7, 25>(_mm_xor_si128(b, c));
                    b = _mm_shuffle_epi32::<0x93>(b);
                    c = _mm_shuffle_epi32::<0x4e>(c);
                    d = _mm_shuffle_epi32::<0x39>(d);
                }
                let mut out = [0u8; 32];
                for (half, v) in out.chunks_exact_mut(16).zip([a, d]) {
                    let lo = _mm_cvtsi128_si64(v) as u64;
                    let hi = _mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)) as u64;
                    half[..8].copy_from_slice(&lo.to_le_bytes());
                    half[8..].copy_from_slice(&hi.to_le_bytes());
                }
                out
            }
        };
    }

    hchacha!("sse2", hchacha_sse2, rot16_sse, rot_sse);

    /// The SSE2 stream (the x86-64 baseline: every x86-64 CPU has SSE2).
    #[target_feature(enable = "sse2")]
    pub(crate) fn sse2_stream(s: &mut State, buf: &mut [u8]) {
        drive::<4>(
            s,
            buf,
            |st, b| sse2_batch::<4>(st, b),
            |st, tmp, blocks| match blocks {
                1 => {
                    sse2_batch::<1>(st, tmp);
                    1
                }
                2 => {
                    sse2_batch::<2>(st, tmp);
                    2
                }
                _ => {
                    sse2_batch::<4>(st, tmp);
                    4
                }
            },
        );
    }

    // ---- AVX2 (and AVX-512VL, the same code with one-instruction rotates) ----

    macro_rules! wide {
        ($feature:literal, $batch:ident, $stream:ident, $rot:ident, $rot16:ident, $rot8:ident) => {
            /// `2·S` blocks from `st`'s counter XORed into `buf` (`32·S` words).
            #[inline]
            #[target_feature(enable = $feature)]
            fn $batch<const S: usize>(st: &State, buf: &mut [[u8; 4]]) {
                let w = &st.w;
                let a0 = _mm256_setr_epi32(
                    i(SIGMA[0]),
                    i(SIGMA[1]),
                    i(SIGMA[2]),
                    i(SIGMA[3]),
                    i(SIGMA[0]),
                    i(SIGMA[1]),
                    i(SIGMA[2]),
                    i(SIGMA[3]),
                );
                let b0 = _mm256_setr_epi32(
                    i(w[0]),
                    i(w[1]),
                    i(w[2]),
                    i(w[3]),
                    i(w[0]),
                    i(w[1]),
                    i(w[2]),
                    i(w[3]),
                );
                let c0 = _mm256_setr_epi32(
                    i(w[4]),
                    i(w[5]),
                    i(w[6]),
                    i(w[7]),
                    i(w[4]),
                    i(w[5]),
                    i(w[6]),
                    i(w[7]),
                );
                let mut d0 = [_mm256_setzero_si256(); S];
                for (k, d) in d0.iter_mut().enumerate() {
                    let ctr = w[8].wrapping_add(2 * k as u32);
                    *d = _mm256_setr_epi32(
                        i(ctr),
                        i(w[9]),
                        i(w[10]),
                        i(w[11]),
                        i(ctr.wrapping_add(1)),
                        i(w[9]),
                        i(w[10]),
                        i(w[11]),
                    );
                }
                let (mut a, mut b, mut c, mut d) = ([a0; S], [b0; S], [c0; S], d0);
                for _ in 0..10 {
                    for k in 0..S {
                        a[k] = _mm256_add_epi32(a[k], b[k]);
                        d[k] = $rot16(_mm256_xor_si256(d[k], a[k]));
                    }
                    for k in 0..S {
                        c[k] = _mm256_add_epi32(c[k], d[k]);
                        b[k] = $rot::<12, 20>(_mm256_xor_si256(b[k], c[k]));
                    }
                    for k in 0..S {
                        a[k] = _mm256_add_epi32(a[k], b[k]);
                        d[k] = $rot8(_mm256_xor_si256(d[k], a[k]));
                    }
                    for k in 0..S {
                        c[k] = _mm256_add_epi32(c[k], d[k]);
                        b[k] = $rot::<7, 25>(_mm256_xor_si256(b[k], c[k]));
                        b[k] = _mm256_shuffle_epi32::<0x39>(b[k]);
                        c[k] = _mm256_shuffle_epi32::<0x4e>(c[k]);
                        d[k] = _mm256_shuffle_epi32::<0x93>(d[k]);
                    }
                    for k in 0..S {
                        a[k] = _mm256_add_epi32(a[k], b[k]);
                        d[k] = $rot16(_mm256_xor_si256(d[k], a[k]));
                    }
                    for k in 0..S {
                        c[k] = _mm256_add_epi32(c[k], d[k]);
                        b[k] = $rot::<12, 20>(_mm256_xor_si256(b[k], c[k]));
                    }
                    for k in 0..S {
                        a[k] = _mm256_add_epi32(a[k], b[k]);
                        d[k] = $rot8(_mm256_xor_si256(d[k], a[k]));
                    }
                    for k in 0..S {
                        c[k] = _mm256_add_epi32(c[k], d[k]);
                        b[k] = $rot::<7, 25>(_mm256_xor_si256(b[k], c[k]));
                        b[k] = _mm256_shuffle_epi32::<0x93>(b[k]);
                        c[k] = _mm256_shuffle_epi32::<0x4e>(c[k]);
                        d[k] = _mm256_shuffle_epi32::<0x39>(d[k]);
                    }
                }
                for (k, pair) in buf.chunks_exact_mut(32).enumerate().take(S) {
                    let a = _mm256_add_epi32(a[k], a0);
                    let b = _mm256_add_epi32(b[k], b0);
                    let c = _mm256_add_epi32(c[k], c0);
                    let d = _mm256_add_epi32(d[k], d0[k]);
                    let (q0, rest) = pair.split_at_mut(8);
                    let (q1, rest) = rest.split_at_mut(8);
                    let (q2, q3) = rest.split_at_mut(8);
                    xor32(q0, _mm256_permute2x128_si256::<0x20>(a, b));
                    xor32(q1, _mm256_permute2x128_si256::<0x20>(c, d));
                    xor32(q2, _mm256_permute2x128_si256::<0x31>(a, b));
                    xor32(q3, _mm256_permute2x128_si256::<0x31>(c, d));
                }
            }

            /// The stream over 8-block batches; the tail with the fewest pairs covering it.
            #[target_feature(enable = $feature)]
            pub(crate) fn $stream(s: &mut State, buf: &mut [u8]) {
                const _: () = assert!(MAX_BLOCKS == 8);
                drive::<8>(
                    s,
                    buf,
                    |st, b| $batch::<4>(st, b),
                    |st, tmp, blocks| match blocks {
                        0..=2 => {
                            $batch::<1>(st, tmp);
                            2
                        }
                        3..=4 => {
                            $batch::<2>(st, tmp);
                            4
                        }
                        _ => {
                            $batch::<4>(st, tmp);
                            8
                        }
                    },
                );
            }
        };
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn xor32(b: &mut [[u8; 4]], v: __m256i) {
        let x = _mm256_xor_si256(
            _mm256_setr_epi32(
                word(b, 0),
                word(b, 1),
                word(b, 2),
                word(b, 3),
                word(b, 4),
                word(b, 5),
                word(b, 6),
                word(b, 7),
            ),
            v,
        );
        b[0] = _mm256_extract_epi32::<0>(x).to_le_bytes();
        b[1] = _mm256_extract_epi32::<1>(x).to_le_bytes();
        b[2] = _mm256_extract_epi32::<2>(x).to_le_bytes();
        b[3] = _mm256_extract_epi32::<3>(x).to_le_bytes();
        b[4] = _mm256_extract_epi32::<4>(x).to_le_bytes();
        b[5] = _mm256_extract_epi32::<5>(x).to_le_bytes();
        b[6] = _mm256_extract_epi32::<6>(x).to_le_bytes();
        b[7] = _mm256_extract_epi32::<7>(x).to_le_bytes();
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn rot_avx2<const L: i32, const R: i32>(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi32::<L>(x), _mm256_srli_epi32::<R>(x))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn rot16_avx2(x: __m256i) -> __m256i {
        let m = _mm256_setr_epi8(
            2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, //
            2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
        );
        _mm256_shuffle_epi8(x, m)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn rot8_avx2(x: __m256i) -> __m256i {
        let m = _mm256_setr_epi8(
            3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14, //
            3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
        );
        _mm256_shuffle_epi8(x, m)
    }

    wide!(
        "avx2",
        avx2_batch,
        avx2_stream,
        rot_avx2,
        rot16_avx2,
        rot8_avx2
    );

    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl")]
    fn rot_512<const L: i32, const R: i32>(x: __m256i) -> __m256i {
        _mm256_rol_epi32::<L>(x)
    }

    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl")]
    fn rot16_512(x: __m256i) -> __m256i {
        _mm256_rol_epi32::<16>(x)
    }

    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl")]
    fn rot8_512(x: __m256i) -> __m256i {
        _mm256_rol_epi32::<8>(x)
    }

    wide!(
        "avx2,avx512f,avx512vl",
        avx512_batch,
        avx512_stream,
        rot_512,
        rot16_512,
        rot8_512
    );
}

/// Refuses a `len`-byte stream from block `counter` that would run past block 2³² − 1.
pub(crate) fn check_len(counter: u32, len: usize) -> Result<(), CipherError> {
    let blocks = (len as u64).div_ceil(BLOCK_LEN as u64);
    if blocks > (1u64 << 32) - u64::from(counter) {
        return Err(CipherError::TooLong { len: len as u64 });
    }
    Ok(())
}

/// The 20 rounds over one block with no feed-forward; returns words 0–3 and 12–15.
#[inline(always)]
pub(crate) fn hchacha_words(key: &[u8; 32], input: &[u8; 16]) -> [u32; 8] {
    let mut s = State::new(key, 0, &[0; 12]);
    for (w, n) in s.w[8..].iter_mut().zip(input.as_chunks::<4>().0) {
        *w = u32::from_le_bytes(*n);
    }
    let [mut a, mut b, mut c, mut d] = init::<4>(&s);
    rounds(&mut a, &mut b, &mut c, &mut d);
    let mut out = [0u32; 8];
    out[..4].copy_from_slice(&a);
    out[4..].copy_from_slice(&d);
    b.zeroize();
    c.zeroize();
    out
}

/// HChaCha20: a 32-byte subkey from a key and a 16-byte input (draft-irtf-cfrg-xchacha-03
/// §2.2), libsodium's `crypto_core_hchacha20`.
///
/// ```
/// let sub = metaless_cipher::chacha20::hchacha20(&[0u8; 32], &[0u8; 16]);
/// assert_ne!(sub, [0u8; 32]);
/// ```
pub fn hchacha20(key: &[u8; KEY_LEN], input: &[u8; 16]) -> [u8; 32] {
    crate::dispatch::hchacha20(key, input)
}

/// HChaCha20 in the generic lane-array code (the fallback off x86-64).
pub(crate) fn hchacha20_generic(key: &[u8; 32], input: &[u8; 16]) -> [u8; 32] {
    let mut w = hchacha_words(key, input);
    let mut out = [0u8; 32];
    for (o, w) in out.as_chunks_mut::<4>().0.iter_mut().zip(&w) {
        *o = w.to_le_bytes();
    }
    w.zeroize();
    out
}

/// XORs the ChaCha20 keystream (IETF: 96-bit nonce, 32-bit block counter starting at
/// `counter`) into `buf` in place: encryption and decryption alike. Refuses with
/// [`CipherError::TooLong`] a buffer that would run the counter past 2³² − 1, before touching it.
///
/// ```
/// use metaless_cipher::{chacha20::xor_in_place, CipherError};
/// let mut one_block = [0u8; 64];
/// assert!(xor_in_place(&[0; 32], &[0; 12], u32::MAX, &mut one_block).is_ok());
/// let mut two = [0u8; 65];
/// assert!(matches!(xor_in_place(&[0; 32], &[0; 12], u32::MAX, &mut two), Err(CipherError::TooLong { .. })));
/// ```
pub fn xor_in_place(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    counter: u32,
    buf: &mut [u8],
) -> Result<(), CipherError> {
    check_len(counter, buf.len())?;
    let mut s = State::new(key, counter, nonce);
    crate::dispatch::chacha20_xor(&mut s, buf);
    Ok(())
}

/// The XChaCha20 state for a 24-byte nonce: HChaCha20 of the key and the nonce's first 16
/// bytes, and the IETF nonce `0⁴ ‖ nonce[16..24]`.
#[inline(always)]
pub(crate) fn xstate_with(
    key: &[u8; 32],
    nonce: &[u8; 24],
    counter: u32,
    hchacha: impl FnOnce(&[u8; 32], &[u8; 16]) -> [u8; 32],
) -> State {
    let (head, tail) = nonce.split_at(16);
    let head: &[u8; 16] = head.try_into().unwrap_or(&[0; 16]);
    let mut sub = hchacha(key, head);
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(tail);
    let s = State::new(&sub, counter, &n);
    sub.zeroize();
    s
}

/// [`xstate_with`] through the dispatched HChaCha20.
pub(crate) fn xstate(key: &[u8; 32], nonce: &[u8; 24], counter: u32) -> State {
    xstate_with(key, nonce, counter, hchacha20)
}

/// XORs the XChaCha20 keystream (libsodium's `crypto_stream_xchacha20_xor_ic`: HChaCha20
/// subkey, 64-bit nonce tail, block counter from `counter`) into `buf` in place.
///
/// ```
/// use metaless_cipher::chacha20::xchacha20_xor_in_place;
/// let mut buf = [0u8; 100];
/// xchacha20_xor_in_place(&[1; 32], &[2; 24], 0, &mut buf)?;
/// xchacha20_xor_in_place(&[1; 32], &[2; 24], 0, &mut buf)?;
/// assert_eq!(buf, [0u8; 100]);
/// # Ok::<(), metaless_cipher::CipherError>(())
/// ```
pub fn xchacha20_xor_in_place(
    key: &[u8; KEY_LEN],
    nonce: &[u8; XNONCE_LEN],
    counter: u32,
    buf: &mut [u8],
) -> Result<(), CipherError> {
    check_len(counter, buf.len())?;
    let mut s = xstate(key, nonce, counter);
    crate::dispatch::chacha20_xor(&mut s, buf);
    Ok(())
}

/// The 64-byte ChaCha20 keystream block number `counter` (e.g. block 0, whose first 32 bytes
/// are the AEAD's Poly1305 key, RFC 8439 §2.6).
///
/// ```
/// use metaless_cipher::chacha20::{block, xor_in_place};
/// let mut zeros = [0u8; 64];
/// xor_in_place(&[5; 32], &[6; 12], 7, &mut zeros)?;
/// assert_eq!(block(&[5; 32], &[6; 12], 7), zeros);
/// # Ok::<(), metaless_cipher::CipherError>(())
/// ```
pub fn block(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], counter: u32) -> [u8; BLOCK_LEN] {
    let s = State::new(key, counter, nonce);
    let mut out = [[0u8; 4]; 16];
    xor_batch::<4>(&s, &mut out);
    let mut bytes = [0u8; 64];
    bytes.copy_from_slice(out.as_flattened());
    out.as_flattened_mut().zeroize();
    bytes
}
