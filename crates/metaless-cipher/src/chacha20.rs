//! ChaCha20 (RFC 8439 §2.4: 96-bit nonce, 32-bit block counter), HChaCha20 and XChaCha20
//! (draft-irtf-cfrg-xchacha-03), as libsodium's `crypto_stream_chacha20_ietf_xor_ic`,
//! `crypto_core_hchacha20` and `crypto_stream_xchacha20_xor_ic`.
//!
//! The block function works on several blocks at once: the state is four rows, each an array
//! holding that row of `K` independent blocks side by side (`[u32; 4·K]`), so every step of a
//! quarter round is one lane-wise add, xor or rotate over the whole array, and the diagonal
//! round is a rotation of the words *within* each block's four lanes. Written over plain
//! arrays in `#[inline(always)]` code, LLVM turns this into SSE2/NEON vector code in the
//! default build (4 blocks per call), and [`dispatch`](crate) runs an AVX2 build of the same
//! code (8 blocks per call) where the CPU has AVX2. Each block's output is four contiguous
//! words of each row, so writing the keystream needs no transposition.
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
    for (k, block) in buf.chunks_exact_mut(16).enumerate() {
        for (row, quad) in rows.iter().zip(block.chunks_exact_mut(4)) {
            for (j, word) in quad.iter_mut().enumerate() {
                *word = (u32::from_le_bytes(*word) ^ row[4 * k + j]).to_le_bytes();
            }
        }
    }
}

/// XORs the keystream from `state`'s counter into `buf` and advances the counter past it,
/// `N / 4` blocks per step, the tail through smaller batches. The caller has checked that the
/// counter does not pass 2³² (see [`check_len`]).
#[inline(always)]
pub(crate) fn xor_stream<const N: usize>(s: &mut State, buf: &mut [u8]) {
    let (words, tail) = buf.as_chunks_mut::<4>();
    let mut batches = words.chunks_exact_mut(4 * N);
    for batch in &mut batches {
        xor_batch::<N>(s, batch);
        s.w[8] = s.w[8].wrapping_add((N / 4) as u32);
    }
    let rest_words = batches.into_remainder();
    let rest_len = rest_words.len() * 4 + tail.len();
    if rest_len == 0 {
        return;
    }
    // the tail: through a stack copy, with the smallest batch that covers it
    let mut tmp = [[0u8; 4]; 16 * MAX_BLOCKS];
    let (tmp_bytes, _) = tmp.as_flattened_mut().split_at_mut(rest_len);
    tmp_bytes[..rest_words.len() * 4].copy_from_slice(rest_words.as_flattened());
    tmp_bytes[rest_words.len() * 4..].copy_from_slice(tail);
    let blocks = rest_len.div_ceil(BLOCK_LEN);
    if blocks <= 1 || N <= 4 {
        xor_all_small::<4>(s, &mut tmp, blocks);
    } else if blocks <= 2 || N <= 8 {
        xor_all_small::<8>(s, &mut tmp, blocks);
    } else if blocks <= 4 || N <= 16 {
        xor_all_small::<16>(s, &mut tmp, blocks);
    } else {
        xor_all_small::<32>(s, &mut tmp, blocks);
    }
    let out = &tmp.as_flattened()[..rest_len];
    let (a, b) = out.split_at(rest_words.len() * 4);
    rest_words.as_flattened_mut().copy_from_slice(a);
    tail.copy_from_slice(b);
    tmp.as_flattened_mut().zeroize();
}

/// `blocks` blocks of `tmp` (at most `MAX_BLOCKS`) in batches of `M / 4`; advances the counter
/// by `blocks`.
#[inline(always)]
fn xor_all_small<const M: usize>(s: &mut State, tmp: &mut [[u8; 4]], blocks: usize) {
    let per = M / 4;
    let mut done = 0;
    while done < blocks {
        let at = done * 16;
        if let Some(chunk) = tmp.get_mut(at..at + 4 * M) {
            xor_batch::<M>(s, chunk);
        }
        done += per;
        s.w[8] = s.w[8].wrapping_add(per as u32);
    }
    // the batch may have run past the data: the counter moves by the blocks used
    s.w[8] = s.w[8].wrapping_sub((done - blocks) as u32);
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
pub(crate) fn xstate(key: &[u8; 32], nonce: &[u8; 24], counter: u32) -> State {
    let (head, tail) = nonce.split_at(16);
    let head: &[u8; 16] = head.try_into().unwrap_or(&[0; 16]);
    let mut sub = hchacha20(key, head);
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(tail);
    let s = State::new(&sub, counter, &n);
    sub.zeroize();
    s
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
