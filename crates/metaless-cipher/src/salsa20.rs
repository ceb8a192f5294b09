//! Salsa20/20 with NaCl's 64-bit nonce and 64-bit block counter, XSalsa20 (24-byte nonce) and
//! HSalsa20, exactly as libsodium's `crypto_stream_salsa20_xor_ic`, `crypto_stream_xsalsa20_xor_ic`
//! and `crypto_core_hsalsa20`.
//!
//! The block function runs over *lanes*: the state is sixteen rows of `L` words, row `j` holding
//! word `j` of `L` consecutive blocks, so every add-rotate-xor is one operation on an `L`-wide
//! integer array. The code is plain safe Rust marked `#[inline(always)]`; LLVM turns each row
//! into a vector register (4 lanes: one SSE2/NEON register, the baseline of x86-64 and aarch64;
//! 8 lanes: one AVX2 register, in the build the crate's dispatch picks when the CPU has AVX2).
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
fn xor_block(data: &mut [u8], words: &[u32; 16]) {
    for (bytes, word) in data.chunks_exact_mut(4).zip(words) {
        let value = le32(bytes) ^ word;
        bytes.copy_from_slice(&value.to_le_bytes());
    }
}

/// `L` blocks of keystream from `counter` XORed into `data`, which holds at most `64·L` bytes
/// (a short last block is XORed through a stack copy).
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
        if block.len() == BLOCK_LEN {
            xor_block(block, &words);
        } else {
            let mut full = [0u8; BLOCK_LEN];
            full[..block.len()].copy_from_slice(block);
            xor_block(&mut full, &words);
            block.copy_from_slice(&full[..block.len()]);
            full.zeroize();
        }
        words.zeroize();
    }
    x.zeroize();
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

/// The entry points in the widest build this CPU runs. Until the AVX2 build is wired through
/// [`dispatch`](crate) these are the portable build.
pub(crate) mod best {
    use crate::CipherError;

    use super::KeyWords;

    pub(crate) fn salsa20_xor(key: &KeyWords, nonce: &[u32; 2], counter: u64, buf: &mut [u8]) {
        super::xor_stream::<4>(key, nonce, counter, buf)
    }

    pub(crate) fn secretbox_seal(key: &[u8; 32], nonce: &[u8; 24], buf: &mut [u8]) -> [u8; 16] {
        crate::secretbox::seal_lanes::<4>(key, nonce, buf)
    }

    pub(crate) fn secretbox_open(
        key: &[u8; 32],
        nonce: &[u8; 24],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        crate::secretbox::open_lanes::<4>(key, nonce, buf, tag)
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
    /// The widest build the CPU supports (AVX2 when present), chosen at run time.
    Best,
    /// The baseline build (SSE2 on x86-64, NEON on aarch64, scalar elsewhere).
    Portable,
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
        Backend::Best => best::salsa20_xor(&key, &nonce, counter, buf),
        Backend::Portable => xor_stream::<4>(&key, &nonce, counter, buf),
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
