//! Salsa20/20 with NaCl's 64-bit nonce and 64-bit block counter, XSalsa20 (24-byte nonce) and
//! HSalsa20, exactly as libsodium's `crypto_stream_salsa20_xor_ic`, `crypto_stream_xsalsa20_xor_ic`
//! and `crypto_core_hsalsa20`.
//!
//! The block function runs over *lanes*: the state is sixteen rows, row `j` holding word `j`
//! of `L` consecutive blocks, so every add-rotate-xor is one operation on all `L` blocks. On
//! x86-64 the rows are vector registers written with `core::arch` (module `x86`): an SSE2
//! build of 4 blocks per batch (the x86-64 baseline, so every CPU), an AVX2 build of 8 blocks
//! per batch, and the same 8-block build with AVX-512VL's one-instruction rotates;
//! [`dispatch`](crate) picks the best one the CPU has, once per call. A batch ends with a 4×4
//! transposition (per 128-bit half) so each block's words are contiguous again. Other targets
//! run the same layout as generic `[u32; L]` arrays, which LLVM (rustc 1.95) does *not*
//! vectorise (it keeps the twenty rounds as one loop over 16·L scalar words — the reason for
//! the x86-64 builds). The secretbox ([`crate::secretbox`]) uses each build for its whole seal
//! or open.
//! The stream is XORed into the caller's buffer in place, without allocating.
//!
//! ```
//! use metaless_cipher::salsa20;
//! let key = [7u8; 32];
//! let nonce = [1u8; 24];
//! let mut buf = *b"attack at dawn";
//! salsa20::xsalsa20_xor(&key, &nonce, 0, &mut buf);
//! assert_ne!(&buf, b"attack at dawn");
//! salsa20::xsalsa20_xor(&key, &nonce, 0, &mut buf);
//! assert_eq!(&buf, b"attack at dawn");
//! ```

use zeroize::Zeroize;

/// Bytes of a Salsa20, XSalsa20 or HSalsa20 key.
///
/// ```
/// assert_eq!(metaless_cipher::salsa20::KEY_LEN, 32);
/// ```
pub const KEY_LEN: usize = 32;
/// Bytes of a Salsa20 nonce (NaCl's 64-bit nonce; the other 64 bits of input are the counter).
///
/// ```
/// assert_eq!(metaless_cipher::salsa20::NONCE_LEN, 8);
/// ```
pub const NONCE_LEN: usize = 8;
/// Bytes of an XSalsa20 nonce: 16 for HSalsa20's subkey, 8 for the Salsa20 stream.
///
/// ```
/// assert_eq!(metaless_cipher::salsa20::XNONCE_LEN, 24);
/// ```
pub const XNONCE_LEN: usize = 24;
/// Bytes of one Salsa20 block: each 64-bit counter value gives this much keystream.
///
/// ```
/// assert_eq!(metaless_cipher::salsa20::BLOCK_LEN, 64);
/// ```
pub const BLOCK_LEN: usize = 64;

/// "expand 32-byte k", the Salsa20 constants for 256-bit keys, as four little-endian words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The key as eight little-endian words, wiped when dropped.
pub(crate) struct KeyWords([u32; 8]);

impl KeyWords {
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
        let mut words = [0u32; 8];
        for (word, bytes) in words.iter_mut().zip(key.chunks_exact(4)) {
            *word = le32(bytes);
        }
        Self(words)
    }
}

impl Drop for KeyWords {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[inline(always)]
fn le32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(bytes.get(..4).unwrap_or(&[0; 4]));
    u32::from_le_bytes(word)
}

/// One add-rotate-xor step on every lane: `t ^= (a + b) <<< r`.
#[inline(always)]
fn arx<const L: usize>(t: &mut [u32; L], a: &[u32; L], b: &[u32; L], r: u32) {
    for i in 0..L {
        t[i] ^= a[i].wrapping_add(b[i]).rotate_left(r);
    }
}

/// The Salsa20 quarter-round on four rows.
#[inline(always)]
fn quarter<const L: usize>(a: &mut [u32; L], b: &mut [u32; L], c: &mut [u32; L], d: &mut [u32; L]) {
    arx(b, a, d, 7);
    arx(c, b, a, 9);
    arx(d, c, b, 13);
    arx(a, d, c, 18);
}

/// Twenty rounds (ten column rounds, ten row rounds) over `L` lanes, without the final addition.
#[inline(always)]
fn rounds<const L: usize>(x: &mut [[u32; L]; 16]) {
    let [
        x0,
        x1,
        x2,
        x3,
        x4,
        x5,
        x6,
        x7,
        x8,
        x9,
        x10,
        x11,
        x12,
        x13,
        x14,
        x15,
    ] = x;
    for _ in 0..10 {
        // columns
        quarter(x0, x4, x8, x12);
        quarter(x5, x9, x13, x1);
        quarter(x10, x14, x2, x6);
        quarter(x15, x3, x7, x11);
        // rows
        quarter(x0, x1, x2, x3);
        quarter(x5, x6, x7, x4);
        quarter(x10, x11, x8, x9);
        quarter(x15, x12, x13, x14);
    }
}

/// The input state of `L` consecutive blocks starting at `counter` (wrapping mod 2^64 as
/// libsodium's counter does).
#[inline(always)]
fn initial<const L: usize>(key: &KeyWords, nonce: &[u32; 2], counter: u64) -> [[u32; L]; 16] {
    let k = &key.0;
    let mut x = [[0u32; L]; 16];
    let words = [
        SIGMA[0], k[0], k[1], k[2], k[3], SIGMA[1], nonce[0], nonce[1], 0, 0, SIGMA[2], k[4], k[5],
        k[6], k[7], SIGMA[3],
    ];
    for (row, word) in x.iter_mut().zip(words) {
        *row = [word; L];
    }
    let (mut low, mut high) = ([0u32; L], [0u32; L]);
    for (lane, (low, high)) in low.iter_mut().zip(high.iter_mut()).enumerate() {
        let block = counter.wrapping_add(lane as u64);
        *low = block as u32;
        *high = (block >> 32) as u32;
    }
    x[8] = low;
    x[9] = high;
    x
}

/// XORs one 64-byte block of `data` with keystream words `words`.
#[inline(always)]
fn xor_block(data: &mut [u8; BLOCK_LEN], words: &[u32; 16]) {
    let (quads, _) = data.as_chunks_mut::<4>();
    for (bytes, word) in quads.iter_mut().zip(words) {
        *bytes = (u32::from_le_bytes(*bytes) ^ word).to_le_bytes();
    }
}

/// `L` blocks of keystream from `counter` XORed into `data`, which holds at most `64·L` bytes
/// (a short last block is XORed through a stack copy, wiped after).
///
/// The state and keystream words are not wiped here: a volatile wipe would pin them to memory
/// and keep LLVM from holding the rows in vector registers (it is the whole speed of this
/// code); they are overwritten by the next batch and die with the stack frame.
#[inline(always)]
fn xor_lanes<const L: usize>(key: &KeyWords, nonce: &[u32; 2], counter: u64, data: &mut [u8]) {
    let input = initial::<L>(key, nonce, counter);
    let mut x = input;
    rounds(&mut x);
    for (lane, block) in data.chunks_mut(BLOCK_LEN).enumerate().take(L) {
        let mut words = [0u32; 16];
        for (j, word) in words.iter_mut().enumerate() {
            *word = x[j][lane].wrapping_add(input[j][lane]);
        }
        match <&mut [u8; BLOCK_LEN]>::try_from(&mut *block) {
            Ok(block) => xor_block(block, &words),
            Err(_) => {
                let mut full = [0u8; BLOCK_LEN];
                full[..block.len()].copy_from_slice(block);
                xor_block(&mut full, &words);
                block.copy_from_slice(&full[..block.len()]);
                full.zeroize();
            }
        }
    }
}

/// The keystream from block `counter` XORed into `buf`: `L` blocks at a time, then the last
/// `< L` blocks in the narrowest lane width that covers them.
#[inline(always)]
pub(crate) fn xor_stream<const L: usize>(
    key: &KeyWords,
    nonce: &[u32; 2],
    counter: u64,
    buf: &mut [u8],
) {
    let mut counter = counter;
    let mut chunks = buf.chunks_exact_mut(BLOCK_LEN * L);
    for chunk in &mut chunks {
        xor_lanes::<L>(key, nonce, counter, chunk);
        counter = counter.wrapping_add(L as u64);
    }
    let mut rest = chunks.into_remainder();
    while !rest.is_empty() {
        let blocks = rest.len().div_ceil(BLOCK_LEN);
        let lanes = if blocks > 4 && L > 4 {
            8
        } else if blocks > 2 && L > 2 {
            4
        } else if blocks > 1 && L > 1 {
            2
        } else {
            1
        };
        let (now, later) = rest.split_at_mut(rest.len().min(BLOCK_LEN * lanes));
        match lanes {
            8 => xor_lanes::<8>(key, nonce, counter, now),
            4 => xor_lanes::<4>(key, nonce, counter, now),
            2 => xor_lanes::<2>(key, nonce, counter, now),
            _ => xor_lanes::<1>(key, nonce, counter, now),
        }
        counter = counter.wrapping_add(lanes as u64);
        rest = later;
    }
}

pub(crate) fn nonce_words(nonce: &[u8; NONCE_LEN]) -> [u32; 2] {
    [le32(&nonce[..4]), le32(&nonce[4..])]
}

/// Which build of the block function to run; [`Backend::Best`] is what every public function
/// uses. Exposed (hidden) so the tests can compare every build against the reference.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The best build the CPU supports, chosen at run time: AVX-512VL rotates, else AVX2,
    /// else the baseline.
    Best,
    /// The AVX2 build (without AVX-512) when the CPU has AVX2, else the baseline.
    Avx2,
    /// The baseline build: SSE2 on x86-64, the generic lane code elsewhere.
    Portable,
    /// The generic lane code (what non-x86-64 targets run), whatever the target.
    Generic,
}

/// [`salsa20_xor`] through a chosen [`Backend`] (for the tests).
#[doc(hidden)]
pub fn salsa20_xor_with(
    backend: Backend,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    counter: u64,
    buf: &mut [u8],
) {
    let key = KeyWords::new(key);
    let nonce = nonce_words(nonce);
    match backend {
        Backend::Generic => xor_stream::<4>(&key, &nonce, counter, buf),
        _ => crate::dispatch::salsa::xor(backend, &key, &nonce, counter, buf),
    }
}

/// XORs `buf` in place with the Salsa20/20 keystream of `key` and `nonce` starting at block
/// `counter` (byte `64·counter` of the stream); libsodium's `crypto_stream_salsa20_xor_ic`.
/// The counter wraps modulo 2^64, as libsodium's does. Encryption and decryption are the same
/// operation.
///
/// ```
/// use metaless_cipher::salsa20::salsa20_xor;
/// let (key, nonce) = ([3u8; 32], [4u8; 8]);
/// let mut whole = [0u8; 200];
/// salsa20_xor(&key, &nonce, 0, &mut whole);
/// // The stream from block 2 is the stream's bytes 128.. .
/// let mut later = [0u8; 72];
/// salsa20_xor(&key, &nonce, 2, &mut later);
/// assert_eq!(later[..], whole[128..]);
/// ```
pub fn salsa20_xor(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], counter: u64, buf: &mut [u8]) {
    salsa20_xor_with(Backend::Best, key, nonce, counter, buf);
}

/// HSalsa20: the 32-byte subkey of `key` and a 16-byte `input` (libsodium's
/// `crypto_core_hsalsa20` with the standard constants). Used by XSalsa20 for its subkey and by
/// `crypto_box_beforenm` to turn an X25519 shared secret into a key (with a zero input).
///
/// ```
/// // NaCl's core1 test ("Cryptography in NaCl", §7): HSalsa20 of the shared secret, zero input.
/// use metaless_cipher::salsa20::hsalsa20;
/// let shared = [
///     0x4a, 0x5d, 0x9d, 0x5b, 0xa4, 0xce, 0x2d, 0xe1, 0x72, 0x8e, 0x3b, 0xf4, 0x80, 0x35, 0x0f,
///     0x25, 0xe0, 0x7e, 0x21, 0xc9, 0x47, 0xd1, 0x9e, 0x33, 0x76, 0xf0, 0x9b, 0x3c, 0x1e, 0x16,
///     0x17, 0x42,
/// ];
/// let key = hsalsa20(&shared, &[0u8; 16]);
/// assert_eq!(key[..4], [0x1b, 0x27, 0x55, 0x64]);
/// ```
pub fn hsalsa20(key: &[u8; KEY_LEN], input: &[u8; 16]) -> [u8; 32] {
    let key = KeyWords::new(key);
    let k = &key.0;
    let i = [
        le32(&input[..4]),
        le32(&input[4..8]),
        le32(&input[8..12]),
        le32(&input[12..]),
    ];
    let mut x: [[u32; 1]; 16] = [
        [SIGMA[0]],
        [k[0]],
        [k[1]],
        [k[2]],
        [k[3]],
        [SIGMA[1]],
        [i[0]],
        [i[1]],
        [i[2]],
        [i[3]],
        [SIGMA[2]],
        [k[4]],
        [k[5]],
        [k[6]],
        [k[7]],
        [SIGMA[3]],
    ];
    rounds(&mut x);
    let mut out = [0u8; 32];
    for (bytes, j) in out.chunks_exact_mut(4).zip([0, 5, 10, 15, 6, 7, 8, 9]) {
        bytes.copy_from_slice(&x[j][0].to_le_bytes());
    }
    x.zeroize();
    out
}

/// XSalsa20: XORs `buf` in place with the keystream of `key` and the 24-byte `nonce` from
/// block `counter` — Salsa20 under the subkey `HSalsa20(key, nonce[..16])` with the nonce
/// `nonce[16..]`; libsodium's `crypto_stream_xsalsa20_xor_ic`.
///
/// ```
/// // NaCl's stream3 test ("Cryptography in NaCl", §9): the first 32 bytes of the stream.
/// use metaless_cipher::salsa20::xsalsa20_xor;
/// let key = [
///     0x1b, 0x27, 0x55, 0x64, 0x73, 0xe9, 0x85, 0xd4, 0x62, 0xcd, 0x51, 0x19, 0x7a, 0x9a, 0x46,
///     0xc7, 0x60, 0x09, 0x54, 0x9e, 0xac, 0x64, 0x74, 0xf2, 0x06, 0xc4, 0xee, 0x08, 0x44, 0xf6,
///     0x83, 0x89,
/// ];
/// let nonce = [
///     0x69, 0x69, 0x6e, 0xe9, 0x55, 0xb6, 0x2b, 0x73, 0xcd, 0x62, 0xbd, 0xa8, 0x75, 0xfc, 0x73,
///     0xd6, 0x82, 0x19, 0xe0, 0x03, 0x6b, 0x7a, 0x0b, 0x37,
/// ];
/// let mut stream = [0u8; 32];
/// xsalsa20_xor(&key, &nonce, 0, &mut stream);
/// assert_eq!(stream[..4], [0xee, 0xa6, 0xa7, 0x25]);
/// ```
pub fn xsalsa20_xor(key: &[u8; KEY_LEN], nonce: &[u8; XNONCE_LEN], counter: u64, buf: &mut [u8]) {
    xsalsa20_xor_with(Backend::Best, key, nonce, counter, buf);
}

/// [`xsalsa20_xor`] through a chosen [`Backend`] (for the tests).
#[doc(hidden)]
pub fn xsalsa20_xor_with(
    backend: Backend,
    key: &[u8; KEY_LEN],
    nonce: &[u8; XNONCE_LEN],
    counter: u64,
    buf: &mut [u8],
) {
    let (prefix, suffix) = split_xnonce(nonce);
    let mut subkey = hsalsa20(key, &prefix);
    salsa20_xor_with(backend, &subkey, &suffix, counter, buf);
    subkey.zeroize();
}

/// The 24-byte nonce as HSalsa20's 16-byte input and Salsa20's 8-byte nonce.
pub(crate) fn split_xnonce(nonce: &[u8; XNONCE_LEN]) -> ([u8; 16], [u8; NONCE_LEN]) {
    let mut prefix = [0u8; 16];
    let mut suffix = [0u8; NONCE_LEN];
    prefix.copy_from_slice(&nonce[..16]);
    suffix.copy_from_slice(&nonce[16..]);
    (prefix, suffix)
}

/// The x86-64 builds: the same lane layout written with `core::arch` vector operations, because
/// LLVM does not vectorise the generic code above (it keeps the ten double rounds as one loop
/// of 16·L scalar words; checked in the bench binary's disassembly). Every operation used here
/// is a safe intrinsic: SSE2 is part of the x86-64 baseline, and the AVX2 functions carry
/// `#[target_feature(enable = "avx2")]` (called only through [`dispatch`](crate) after the CPU
/// check). No pointer is read or written by an intrinsic: vectors are built from and taken
/// apart into words (the keystream XOR compiles to vector `vpxor`s with memory operands).
///
/// The state and keystream of a batch are not wiped (as in `xor_lanes`: a volatile wipe would
/// pin them to memory); only the stack copy of a short last block is.
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use core::arch::x86_64::{
        __m128i, __m256i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_or_si128, _mm_rol_epi32,
        _mm_set_epi32, _mm_set1_epi32, _mm_shuffle_epi32, _mm_slli_epi32, _mm_srli_epi32,
        _mm_unpackhi_epi32, _mm_unpackhi_epi64, _mm_unpacklo_epi32, _mm_unpacklo_epi64,
        _mm_xor_si128, _mm256_add_epi32, _mm256_castsi256_si128, _mm256_extracti128_si256,
        _mm256_or_si256, _mm256_rol_epi32, _mm256_set_epi32, _mm256_set1_epi32, _mm256_slli_epi32,
        _mm256_srli_epi32, _mm256_unpackhi_epi32, _mm256_unpackhi_epi64, _mm256_unpacklo_epi32,
        _mm256_unpacklo_epi64, _mm256_xor_si256,
    };

    use super::{BLOCK_LEN, KeyWords, SIGMA, xor_block};

    /// `t ^= (a + b) <<< l` on a vector of lanes (`r = 32 − l`).
    macro_rules! arx {
        ($x:ident, $t:literal, $a:literal, $b:literal, $l:literal, $r:literal;
         $add:ident, $xor:ident, $or:ident, $shl:ident, $shr:ident) => {{
            let sum = $add($x[$a], $x[$b]);
            $x[$t] = $xor($x[$t], $or($shl::<$l>(sum), $shr::<$r>(sum)));
        }};
    }

    /// One Salsa20 quarter-round on rows `a, b, c, d`.
    macro_rules! quarter {
        ($x:ident, $a:literal, $b:literal, $c:literal, $d:literal; $($ops:ident),*) => {{
            arx!($x, $b, $a, $d, 7, 25; $($ops),*);
            arx!($x, $c, $b, $a, 9, 23; $($ops),*);
            arx!($x, $d, $c, $b, 13, 19; $($ops),*);
            arx!($x, $a, $d, $c, 18, 14; $($ops),*);
        }};
    }

    /// Twenty rounds on sixteen rows.
    macro_rules! rounds {
        ($x:ident; $($ops:ident),*) => {
            for _ in 0..10 {
                quarter!($x, 0, 4, 8, 12; $($ops),*);
                quarter!($x, 5, 9, 13, 1; $($ops),*);
                quarter!($x, 10, 14, 2, 6; $($ops),*);
                quarter!($x, 15, 3, 7, 11; $($ops),*);
                quarter!($x, 0, 1, 2, 3; $($ops),*);
                quarter!($x, 5, 6, 7, 4; $($ops),*);
                quarter!($x, 10, 11, 8, 9; $($ops),*);
                quarter!($x, 15, 12, 13, 14; $($ops),*);
            }
        };
    }

    /// `t ^= (a + b) <<< l` with a one-instruction rotate (AVX-512VL).
    macro_rules! arx_rol {
        ($x:ident, $t:literal, $a:literal, $b:literal, $l:literal; $add:ident, $xor:ident, $rol:ident) => {{
            $x[$t] = $xor($x[$t], $rol::<$l>($add($x[$a], $x[$b])));
        }};
    }

    /// One quarter-round with native rotates.
    macro_rules! quarter_rol {
        ($x:ident, $a:literal, $b:literal, $c:literal, $d:literal; $($ops:ident),*) => {{
            arx_rol!($x, $b, $a, $d, 7; $($ops),*);
            arx_rol!($x, $c, $b, $a, 9; $($ops),*);
            arx_rol!($x, $d, $c, $b, 13; $($ops),*);
            arx_rol!($x, $a, $d, $c, 18; $($ops),*);
        }};
    }

    /// `rounds!` with native rotates.
    macro_rules! rounds_rol {
        ($x:ident; $($ops:ident),*) => {
            for _ in 0..10 {
                quarter_rol!($x, 0, 4, 8, 12; $($ops),*);
                quarter_rol!($x, 5, 9, 13, 1; $($ops),*);
                quarter_rol!($x, 10, 14, 2, 6; $($ops),*);
                quarter_rol!($x, 15, 3, 7, 11; $($ops),*);
                quarter_rol!($x, 0, 1, 2, 3; $($ops),*);
                quarter_rol!($x, 5, 6, 7, 4; $($ops),*);
                quarter_rol!($x, 10, 11, 8, 9; $($ops),*);
                quarter_rol!($x, 15, 12, 13, 14; $($ops),*);
            }
        };
    }

    /// The four 32-bit lanes of `v`.
    #[target_feature(enable = "sse2")]
    #[inline]
    fn words(v: __m128i) -> [u32; 4] {
        [
            _mm_cvtsi128_si32(v) as u32,
            _mm_cvtsi128_si32(_mm_shuffle_epi32::<0x55>(v)) as u32,
            _mm_cvtsi128_si32(_mm_shuffle_epi32::<0xaa>(v)) as u32,
            _mm_cvtsi128_si32(_mm_shuffle_epi32::<0xff>(v)) as u32,
        ]
    }

    /// XORs the keystream blocks `ks` into `data` (at most `64·ks.len()` bytes; a short block
    /// through a stack copy).
    #[inline(always)]
    fn xor_out<const B: usize>(ks: &[[u32; 16]; B], data: &mut [u8]) {
        for (words, block) in ks.iter().zip(data.chunks_mut(BLOCK_LEN)) {
            match <&mut [u8; BLOCK_LEN]>::try_from(&mut *block) {
                Ok(block) => xor_block(block, words),
                Err(_) => {
                    let mut full = [0u8; BLOCK_LEN];
                    full[..block.len()].copy_from_slice(block);
                    xor_block(&mut full, words);
                    block.copy_from_slice(&full[..block.len()]);
                    zeroize::Zeroize::zeroize(&mut full);
                }
            }
        }
    }

    /// Four blocks from `counter` XORed into `data` (at most 256 bytes) in 128-bit vectors:
    /// `$name` compiled for `$feature`, the rounds by `$rounds!` over `$ops`.
    macro_rules! batch4 {
        ($name:ident, $feature:literal, $rounds:ident, $($ops:ident),*) => {
    #[target_feature(enable = $feature)]
    #[inline]
    fn $name(key: &KeyWords, nonce: &[u32; 2], counter: u64, data: &mut [u8]) {
        let k = &key.0;
        let c = |i: u64| counter.wrapping_add(i);
        let s = |w: u32| _mm_set1_epi32(w as i32);
        let low = _mm_set_epi32(c(3) as i32, c(2) as i32, c(1) as i32, c(0) as i32);
        let high = _mm_set_epi32(
            (c(3) >> 32) as i32,
            (c(2) >> 32) as i32,
            (c(1) >> 32) as i32,
            (c(0) >> 32) as i32,
        );
        let input: [__m128i; 16] = [
            s(SIGMA[0]),
            s(k[0]),
            s(k[1]),
            s(k[2]),
            s(k[3]),
            s(SIGMA[1]),
            s(nonce[0]),
            s(nonce[1]),
            low,
            high,
            s(SIGMA[2]),
            s(k[4]),
            s(k[5]),
            s(k[6]),
            s(k[7]),
            s(SIGMA[3]),
        ];
        let mut x = input;
        $rounds!(x; $($ops),*);
        let mut ks = [[0u32; 16]; 4];
        for g in 0..4 {
            let r = [0, 1, 2, 3].map(|i| _mm_add_epi32(x[4 * g + i], input[4 * g + i]));
            let t0 = _mm_unpacklo_epi32(r[0], r[1]);
            let t1 = _mm_unpacklo_epi32(r[2], r[3]);
            let t2 = _mm_unpackhi_epi32(r[0], r[1]);
            let t3 = _mm_unpackhi_epi32(r[2], r[3]);
            let lanes = [
                _mm_unpacklo_epi64(t0, t1),
                _mm_unpackhi_epi64(t0, t1),
                _mm_unpacklo_epi64(t2, t3),
                _mm_unpackhi_epi64(t2, t3),
            ];
            for (block, lane) in ks.iter_mut().zip(lanes) {
                block[4 * g..4 * g + 4].copy_from_slice(&words(lane));
            }
        }
        xor_out(&ks, data);
    }
        };
    }

    batch4!(
        batch4,
        "sse2",
        rounds,
        _mm_add_epi32,
        _mm_xor_si128,
        _mm_or_si128,
        _mm_slli_epi32,
        _mm_srli_epi32
    );
    batch4!(
        batch4_rol,
        "avx2,avx512f,avx512vl",
        rounds_rol,
        _mm_add_epi32,
        _mm_xor_si128,
        _mm_rol_epi32
    );

    /// Eight blocks from `counter` XORed into `data` (at most 512 bytes) in 256-bit vectors:
    /// `$name` compiled for `$feature`, the rounds by `$rounds!` over `$ops`.
    macro_rules! batch8 {
        ($name:ident, $feature:literal, $rounds:ident, $($ops:ident),*) => {
    #[target_feature(enable = $feature)]
    #[inline]
    fn $name(key: &KeyWords, nonce: &[u32; 2], counter: u64, data: &mut [u8]) {
        let k = &key.0;
        let c = |i: u64| counter.wrapping_add(i);
        let s = |w: u32| _mm256_set1_epi32(w as i32);
        let low = _mm256_set_epi32(
            c(7) as i32,
            c(6) as i32,
            c(5) as i32,
            c(4) as i32,
            c(3) as i32,
            c(2) as i32,
            c(1) as i32,
            c(0) as i32,
        );
        let high = _mm256_set_epi32(
            (c(7) >> 32) as i32,
            (c(6) >> 32) as i32,
            (c(5) >> 32) as i32,
            (c(4) >> 32) as i32,
            (c(3) >> 32) as i32,
            (c(2) >> 32) as i32,
            (c(1) >> 32) as i32,
            (c(0) >> 32) as i32,
        );
        let input: [__m256i; 16] = [
            s(SIGMA[0]),
            s(k[0]),
            s(k[1]),
            s(k[2]),
            s(k[3]),
            s(SIGMA[1]),
            s(nonce[0]),
            s(nonce[1]),
            low,
            high,
            s(SIGMA[2]),
            s(k[4]),
            s(k[5]),
            s(k[6]),
            s(k[7]),
            s(SIGMA[3]),
        ];
        let mut x = input;
        $rounds!(x; $($ops),*);
        let mut ks = [[0u32; 16]; 8];
        for g in 0..4 {
            let r = [0, 1, 2, 3].map(|i| _mm256_add_epi32(x[4 * g + i], input[4 * g + i]));
            // The 4×4 transposition works within each 128-bit half: the low half holds
            // blocks 0–3, the high half blocks 4–7.
            let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
            let t1 = _mm256_unpacklo_epi32(r[2], r[3]);
            let t2 = _mm256_unpackhi_epi32(r[0], r[1]);
            let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
            let lanes = [
                _mm256_unpacklo_epi64(t0, t1),
                _mm256_unpackhi_epi64(t0, t1),
                _mm256_unpacklo_epi64(t2, t3),
                _mm256_unpackhi_epi64(t2, t3),
            ];
            for (i, lane) in lanes.into_iter().enumerate() {
                ks[i][4 * g..4 * g + 4].copy_from_slice(&words(_mm256_castsi256_si128(lane)));
                ks[i + 4][4 * g..4 * g + 4]
                    .copy_from_slice(&words(_mm256_extracti128_si256::<1>(lane)));
            }
        }
        xor_out(&ks, data);
    }
        };
    }

    batch8!(
        batch8,
        "avx2",
        rounds,
        _mm256_add_epi32,
        _mm256_xor_si256,
        _mm256_or_si256,
        _mm256_slli_epi32,
        _mm256_srli_epi32
    );
    batch8!(
        batch8_rol,
        "avx2,avx512f,avx512vl",
        rounds_rol,
        _mm256_add_epi32,
        _mm256_xor_si256,
        _mm256_rol_epi32
    );

    /// The SSE2 stream: four blocks per batch.
    #[target_feature(enable = "sse2")]
    #[inline]
    pub(crate) fn stream4(key: &KeyWords, nonce: &[u32; 2], counter: u64, buf: &mut [u8]) {
        let mut counter = counter;
        for chunk in buf.chunks_mut(4 * BLOCK_LEN) {
            batch4(key, nonce, counter, chunk);
            counter = counter.wrapping_add(4);
        }
    }

    /// The 8-block streams: eight blocks per batch, a tail of up to four blocks in one SSE2
    /// batch (with the same rotates); `stream8` (AVX2) and `stream8_rol` (AVX-512VL rotates,
    /// still 256-bit vectors).
    macro_rules! stream8 {
        ($name:ident, $feature:literal, $batch:ident, $tail:ident) => {
            #[target_feature(enable = $feature)]
            #[inline]
            pub(crate) fn $name(key: &KeyWords, nonce: &[u32; 2], counter: u64, buf: &mut [u8]) {
                let mut counter = counter;
                for chunk in buf.chunks_mut(8 * BLOCK_LEN) {
                    if chunk.len() <= 4 * BLOCK_LEN {
                        $tail(key, nonce, counter, chunk);
                    } else {
                        $batch(key, nonce, counter, chunk);
                    }
                    counter = counter.wrapping_add(8);
                }
            }
        };
    }

    stream8!(stream8, "avx2", batch8, batch4);
    stream8!(stream8_rol, "avx2,avx512f,avx512vl", batch8_rol, batch4_rol);

    /// The whole secretbox seal, SSE2 build.
    #[target_feature(enable = "sse2")]
    pub(crate) fn seal4(key: &[u8; 32], nonce: &[u8; 24], buf: &mut [u8]) -> [u8; 16] {
        crate::secretbox::seal_with(key, nonce, buf, 4 * BLOCK_LEN, |k, n, c, b| {
            stream4(k, n, c, b)
        })
    }

    /// The whole secretbox open, SSE2 build.
    #[target_feature(enable = "sse2")]
    pub(crate) fn open4(
        key: &[u8; 32],
        nonce: &[u8; 24],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), crate::CipherError> {
        crate::secretbox::open_with(key, nonce, buf, tag, 4 * BLOCK_LEN, |k, n, c, b| {
            stream4(k, n, c, b)
        })
    }

    /// The whole secretbox seal and open in one 8-block build (`$stream`, for `$feature`).
    macro_rules! secretbox8 {
        ($seal:ident, $open:ident, $feature:literal, $stream:ident) => {
            /// The whole secretbox seal in this 8-block build.
            #[target_feature(enable = $feature)]
            pub(crate) fn $seal(key: &[u8; 32], nonce: &[u8; 24], buf: &mut [u8]) -> [u8; 16] {
                crate::secretbox::seal_with(key, nonce, buf, 8 * BLOCK_LEN, |k, n, c, b| {
                    $stream(k, n, c, b)
                })
            }

            /// The whole secretbox open in this 8-block build.
            #[target_feature(enable = $feature)]
            pub(crate) fn $open(
                key: &[u8; 32],
                nonce: &[u8; 24],
                buf: &mut [u8],
                tag: &[u8; 16],
            ) -> Result<(), crate::CipherError> {
                crate::secretbox::open_with(key, nonce, buf, tag, 8 * BLOCK_LEN, |k, n, c, b| {
                    $stream(k, n, c, b)
                })
            }
        };
    }

    secretbox8!(seal8, open8, "avx2", stream8);
    secretbox8!(seal8_rol, open8_rol, "avx2,avx512f,avx512vl", stream8_rol);
}
