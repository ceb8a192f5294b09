//! AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 16-byte tag: libsodium's
//! `crypto_aead_aes256gcm_*` and RustCrypto's `aes_gcm::Aes256Gcm`, byte for byte. The onion
//! layer cipher Session Desktop and legacy servers use (`aes-gcm`, the wire default).
//!
//! What runs: on x86-64 CPUs with AES-NI and PCLMULQDQ, one `#[target_feature]` function per
//! seal or open (`x86` below; `x86_vaes` where VAES and VPCLMULQDQ handle two blocks per
//! 256-bit instruction): the key schedule per call (`aeskeygenassist`), eight CTR blocks
//! (sixteen with VAES) in flight through the 14 rounds, and GHASH over eight blocks per step
//! with the powers
//! H..H⁸ precomputed and one reduction per step (the aggregated method of Gueron and Kounavis'
//! Intel white paper), computed in the POLYVAL domain (RFC 8452 Appendix A: GHASH is POLYVAL
//! of the byte-reversed blocks under `H·x`), so each block is byte-reversed once (`pshufb`) and
//! no bit reflection is needed. Elsewhere RustCrypto's `aes-gcm` (its fixsliced AES is constant
//! time; a table AES would leak through the cache). The seal encrypts and authenticates each
//! 256-byte stretch in the same loop; the open authenticates the whole ciphertext first and
//! decrypts only if the tag matches, so a refused buffer is left exactly as it was given.
//!
//! ```
//! use metaless_cipher::aes256gcm::{open_in_place_detached, seal_in_place_detached};
//! let (key, nonce) = ([7u8; 32], [9u8; 12]);
//! let mut buf = *b"hello onion";
//! let tag = seal_in_place_detached(&key, &nonce, b"aad", &mut buf)?;
//! open_in_place_detached(&key, &nonce, b"aad", &mut buf, &tag)?;
//! assert_eq!(&buf, b"hello onion");
//! # Ok::<(), metaless_cipher::CipherError>(())
//! ```

use crate::CipherError;

/// Bytes of the key.
///
/// ```
/// assert_eq!(metaless_cipher::aes256gcm::KEY_LEN, 32);
/// ```
pub const KEY_LEN: usize = 32;
/// Bytes of the nonce (GCM's 96-bit IV: the counter block is `nonce ‖ be32(1)`).
///
/// ```
/// assert_eq!(metaless_cipher::aes256gcm::NONCE_LEN, 12);
/// ```
pub const NONCE_LEN: usize = 12;
/// Bytes of the tag.
///
/// ```
/// assert_eq!(metaless_cipher::aes256gcm::TAG_LEN, 16);
/// ```
pub const TAG_LEN: usize = 16;

/// Most plaintext bytes one nonce covers: 2³² − 2 counter blocks (SP 800-38D's 2³⁹ − 256 bits).
///
/// ```
/// assert_eq!(metaless_cipher::aes256gcm::MAX_PLAINTEXT, 64 * 1024 * 1024 * 1024 - 32);
/// ```
pub const MAX_PLAINTEXT: u64 = (1 << 36) - 32;

/// Most associated-data bytes (RustCrypto's limit, 2³⁶; GCM's own is 2⁶¹ − 1): every build
/// refuses the same inputs.
const MAX_AAD: u64 = 1 << 36;

/// Refuses lengths beyond what one nonce may encrypt or authenticate.
fn check_len(aad: usize, len: usize) -> Result<(), CipherError> {
    if len as u64 > MAX_PLAINTEXT {
        return Err(CipherError::TooLong { len: len as u64 });
    }
    if aad as u64 > MAX_AAD {
        return Err(CipherError::TooLong { len: aad as u64 });
    }
    Ok(())
}

/// Encrypts `buf` in place and returns the 16-byte tag over it and `aad`
/// (`crypto_aead_aes256gcm_encrypt_detached`). Refuses, untouched, more than
/// [`MAX_PLAINTEXT`] bytes (or more than 2³⁶ bytes of `aad`) with [`CipherError::TooLong`].
///
/// ```
/// use metaless_cipher::aes256gcm::seal_in_place_detached;
/// let mut buf = [0u8; 32];
/// let tag = seal_in_place_detached(&[1; 32], &[2; 12], &[], &mut buf)?;
/// assert_ne!(buf, [0u8; 32]);
/// assert_eq!(tag.len(), 16);
/// # Ok::<(), metaless_cipher::CipherError>(())
/// ```
pub fn seal_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], CipherError> {
    check_len(aad.len(), buf.len())?;
    let aes = crate::dispatch::aes::best();
    crate::dispatch::aes::seal(aes, key, nonce, aad, buf)
}

/// Checks `tag` against `buf` (the ciphertext) and `aad` in constant time, then decrypts
/// `buf` in place (`crypto_aead_aes256gcm_decrypt_detached`). On [`CipherError::Forged`]
/// `buf` is left as given: nothing is decrypted before the tag is verified.
///
/// ```
/// use metaless_cipher::{CipherError, aes256gcm::*};
/// let mut buf = *b"secret";
/// let tag = seal_in_place_detached(&[1; 32], &[2; 12], &[], &mut buf)?;
/// let sealed = buf;
/// assert_eq!(open_in_place_detached(&[3; 32], &[2; 12], &[], &mut buf, &tag), Err(CipherError::Forged));
/// assert_eq!(buf, sealed);
/// open_in_place_detached(&[1; 32], &[2; 12], &[], &mut buf, &tag)?;
/// assert_eq!(&buf, b"secret");
/// # Ok::<(), CipherError>(())
/// ```
pub fn open_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CipherError> {
    // longer than any seal produces: no tag can match
    if check_len(aad.len(), buf.len()).is_err() {
        return Err(CipherError::Forged);
    }
    let aes = crate::dispatch::aes::best();
    crate::dispatch::aes::open(aes, key, nonce, aad, buf, tag)
}

/// `ciphertext ‖ tag` of `plaintext` (libsodium's combined `crypto_aead_aes256gcm_encrypt`);
/// one allocation, of exactly that length.
///
/// ```
/// use metaless_cipher::aes256gcm::{open, seal};
/// let sealed = seal(&[1; 32], &[2; 12], b"ad", b"message")?;
/// assert_eq!(sealed.len(), 7 + 16);
/// assert_eq!(open(&[1; 32], &[2; 12], b"ad", &sealed)?, b"message");
/// # Ok::<(), metaless_cipher::CipherError>(())
/// ```
#[cfg(feature = "alloc")]
pub fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<alloc::vec::Vec<u8>, CipherError> {
    check_len(aad.len(), plaintext.len())?;
    crate::combined::seal(plaintext, |buf| {
        seal_in_place_detached(key, nonce, aad, buf)
    })
}

/// The plaintext of `ciphertext ‖ tag` (libsodium's combined `crypto_aead_aes256gcm_decrypt`):
/// [`CipherError::TooShort`] below 16 bytes, [`CipherError::Forged`] when the tag does not
/// match; one allocation (the copy that is decrypted in place once the tag has been verified).
///
/// ```
/// use metaless_cipher::{CipherError, aes256gcm::{open, seal}};
/// let mut sealed = seal(&[1; 32], &[2; 12], &[], b"message")?;
/// sealed[0] ^= 1;
/// assert_eq!(open(&[1; 32], &[2; 12], &[], &sealed), Err(CipherError::Forged));
/// assert_eq!(open(&[1; 32], &[2; 12], &[], &sealed[..15]), Err(CipherError::TooShort { len: 15, tag: 16 }));
/// # Ok::<(), CipherError>(())
/// ```
#[cfg(feature = "alloc")]
pub fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<alloc::vec::Vec<u8>, CipherError> {
    crate::combined::open(sealed, |buf, tag| {
        open_in_place_detached(key, nonce, aad, buf, tag)
    })
}

/// The portable build: RustCrypto's `aes-gcm` (constant-time fixsliced AES where the CPU has no
/// AES instructions; it verifies before it decrypts).
pub(crate) mod soft {
    use aes_gcm::Aes256Gcm;
    use aes_gcm::aead::{AeadInPlace, KeyInit};

    use crate::CipherError;

    pub(crate) fn seal(
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CipherError> {
        Aes256Gcm::new(key.into())
            .encrypt_in_place_detached(nonce.into(), aad, buf)
            .map(Into::into)
            .map_err(|_| CipherError::TooLong {
                len: buf.len() as u64,
            })
    }

    pub(crate) fn open(
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        Aes256Gcm::new(key.into())
            .decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
            .map_err(|_| CipherError::Forged)
    }
}

/// The x86-64 builds: the whole seal or open with one `target_feature` set (`$feat`) on every
/// function, so the helpers inline into the two entry points; `$ks8` makes eight blocks of
/// keystream (AES-NI's `ni8`, or VAES's two blocks per instruction).
#[cfg(target_arch = "x86_64")]
macro_rules! x86_build {
    ($(#[$doc:meta])* $name:ident, $feat:literal, $ks8:path, $ks16:path, $gh8:path) => {
$(#[$doc])*
pub(crate) mod $name {
    use core::arch::x86_64::*;

    use subtle::ConstantTimeEq;
    use zeroize::Zeroize;

    use crate::CipherError;

    /// `[u8; 16]` as a vector, little-endian (no pointer load: the crate has no `unsafe` here).
    #[inline]
    #[target_feature(enable = $feat)]
    fn load(b: &[u8; 16]) -> __m128i {
        let x = u128::from_le_bytes(*b);
        _mm_set_epi64x((x >> 64) as i64, x as i64)
    }

    #[inline]
    #[target_feature(enable = $feat)]
    fn store(v: __m128i) -> [u8; 16] {
        let lo = _mm_cvtsi128_si64(v) as u64 as u128;
        let hi = _mm_extract_epi64::<1>(v) as u64 as u128;
        (lo | hi << 64).to_le_bytes()
    }

    /// Reverses the 16 bytes: GCM's blocks are big-endian polynomials, POLYVAL's little-endian.
    #[inline]
    #[target_feature(enable = $feat)]
    fn bswap(v: __m128i) -> __m128i {
        _mm_shuffle_epi8(
            v,
            _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        )
    }

    // ---- AES-256 ----

    /// `x ⊕ x≪32 ⊕ x≪64 ⊕ x≪96`: the running XOR of a key-schedule row's words.
    #[inline]
    #[target_feature(enable = $feat)]
    fn spread(x: __m128i) -> __m128i {
        let x = _mm_xor_si128(x, _mm_slli_si128::<4>(x));
        let x = _mm_xor_si128(x, _mm_slli_si128::<4>(x));
        _mm_xor_si128(x, _mm_slli_si128::<4>(x))
    }

    /// The next even round key: `RotWord(SubWord(w₇)) ⊕ rcon` spread over the previous one.
    #[inline]
    #[target_feature(enable = $feat)]
    fn even<const RCON: i32>(a: __m128i, b: __m128i) -> __m128i {
        let t = _mm_shuffle_epi32::<0xff>(_mm_aeskeygenassist_si128::<RCON>(b));
        _mm_xor_si128(spread(a), t)
    }

    /// The next odd round key: `SubWord(w₃)` (no rotation, no rcon) spread over the previous.
    #[inline]
    #[target_feature(enable = $feat)]
    fn odd(a: __m128i, b: __m128i) -> __m128i {
        let t = _mm_shuffle_epi32::<0xaa>(_mm_aeskeygenassist_si128::<0>(a));
        _mm_xor_si128(spread(b), t)
    }

    /// The 15 round keys of AES-256 (FIPS 197 §5.2).
    #[inline]
    #[target_feature(enable = $feat)]
    fn expand(key: &[u8; 32]) -> [__m128i; 15] {
        let (halves, _) = key.as_chunks::<16>();
        let mut k = [_mm_setzero_si128(); 15];
        k[0] = load(&halves[0]);
        k[1] = load(&halves[1]);
        k[2] = even::<0x01>(k[0], k[1]);
        k[3] = odd(k[2], k[1]);
        k[4] = even::<0x02>(k[2], k[3]);
        k[5] = odd(k[4], k[3]);
        k[6] = even::<0x04>(k[4], k[5]);
        k[7] = odd(k[6], k[5]);
        k[8] = even::<0x08>(k[6], k[7]);
        k[9] = odd(k[8], k[7]);
        k[10] = even::<0x10>(k[8], k[9]);
        k[11] = odd(k[10], k[9]);
        k[12] = even::<0x20>(k[10], k[11]);
        k[13] = odd(k[12], k[11]);
        k[14] = even::<0x40>(k[12], k[13]);
        k
    }

    /// Encrypts `N` independent blocks, round by round, so the AES units always have `N`
    /// instructions in flight (their latency is 4 cycles, their throughput 1–2 per cycle).
    #[inline]
    #[target_feature(enable = $feat)]
    fn encrypt<const N: usize>(rk: &[__m128i; 15], b: &mut [__m128i; N]) {
        for x in b.iter_mut() {
            *x = _mm_xor_si128(*x, rk[0]);
        }
        for k in &rk[1..14] {
            for x in b.iter_mut() {
                *x = _mm_aesenc_si128(*x, *k);
            }
        }
        for x in b.iter_mut() {
            *x = _mm_aesenclast_si128(*x, rk[14]);
        }
    }

    /// Counter block `nonce ‖ be32(ctr)` from `base` = `nonce ‖ 0⁴`.
    #[inline]
    #[target_feature(enable = $feat)]
    fn counter(base: __m128i, ctr: u32) -> __m128i {
        _mm_insert_epi32::<3>(base, ctr.swap_bytes() as i32)
    }

    #[inline]
    #[target_feature(enable = $feat)]
    fn counters<const N: usize>(base: __m128i, ctr: u32) -> [__m128i; N] {
        let mut b = [base; N];
        for (i, x) in b.iter_mut().enumerate() {
            *x = counter(base, ctr.wrapping_add(i as u32));
        }
        b
    }

    /// The keystream from counter `ctr` XORed into `N` whole blocks, counter advanced. Fixed
    /// size on purpose: with a slice of unknown length LLVM sank each block's rounds into its
    /// own length check, and the blocks past the fourth ran one dependent chain at a time.
    #[inline]
    #[target_feature(enable = $feat)]
    fn xor_blocks<const N: usize>(
        rk: &[__m128i; 15],
        base: __m128i,
        ctr: &mut u32,
        blocks: &mut [[u8; 16]; N],
    ) {
        let mut ks = counters::<N>(base, *ctr);
        encrypt(rk, &mut ks);
        for (b, k) in blocks.iter_mut().zip(ks) {
            *b = store(_mm_xor_si128(load(b), k));
        }
        *ctr = ctr.wrapping_add(N as u32);
    }

    /// `Σ x[i]·h[7−i]` unreduced (`lo`, `mid`, `hi`) with 128-bit carry-less multiplies.
    #[allow(dead_code)] // the VAES build multiplies two blocks per instruction instead
    #[inline]
    #[target_feature(enable = $feat)]
    fn clmul8(x: &[__m128i; 8], h: &[__m128i; 8]) -> (__m128i, __m128i, __m128i) {
        let mut w = zero();
        for (i, x) in x.iter().enumerate() {
            mul_add(&mut w, *x, h[7 - i]);
        }
        (w.lo, w.mid, w.hi)
    }

    /// Eight blocks of keystream with this build's AES instructions.
    #[allow(dead_code)] // the VAES build makes its keystream two blocks per instruction
    #[inline]
    #[target_feature(enable = $feat)]
    fn ni8(rk: &[__m128i; 15], base: __m128i, ctr: u32) -> [__m128i; 8] {
        let mut ks = counters::<8>(base, ctr);
        encrypt(rk, &mut ks);
        ks
    }

    /// `xor_blocks::<8>` with the build's eight-block keystream (`$ks8`).
    #[inline]
    #[target_feature(enable = $feat)]
    fn xor8(rk: &[__m128i; 15], base: __m128i, ctr: &mut u32, blocks: &mut [[u8; 16]; 8]) {
        let ks = $ks8(rk, base, *ctr);
        for (b, k) in blocks.iter_mut().zip(ks) {
            *b = store(_mm_xor_si128(load(b), k));
        }
        *ctr = ctr.wrapping_add(8);
    }

    /// Sixteen blocks of keystream: two eight-block batches (the AES-NI build's sixteen
    /// 128-bit states would not fit the sixteen `xmm` registers).
    #[allow(dead_code)] // the VAES build makes its sixteen blocks in eight 256-bit registers
    #[inline]
    #[target_feature(enable = $feat)]
    fn ni16(rk: &[__m128i; 15], base: __m128i, ctr: u32) -> [__m128i; 16] {
        let (a, b) = (ni8(rk, base, ctr), ni8(rk, base, ctr.wrapping_add(8)));
        let mut ks = [a[0]; 16];
        ks[..8].copy_from_slice(&a);
        ks[8..].copy_from_slice(&b);
        ks
    }

    /// `xor8` over sixteen blocks with the build's sixteen-block keystream (`$ks16`).
    #[inline]
    #[target_feature(enable = $feat)]
    fn xor16(rk: &[__m128i; 15], base: __m128i, ctr: &mut u32, blocks: &mut [[u8; 16]; 16]) {
        let ks = $ks16(rk, base, *ctr);
        for (b, k) in blocks.iter_mut().zip(ks) {
            *b = store(_mm_xor_si128(load(b), k));
        }
        *ctr = ctr.wrapping_add(16);
    }

    /// The last `< 128` bytes (whole blocks and a partial one) in one zero-padded stack batch of
    /// four or eight blocks: XORed with the keystream, copied back; returns the batch and how
    /// many blocks of it hold data. In `seal` the padding is wiped again before it is hashed.
    #[inline]
    #[target_feature(enable = $feat)]
    fn xor_tail(
        rk: &[__m128i; 15],
        base: __m128i,
        ctr: &mut u32,
        tail: &mut [u8],
    ) -> ([[u8; 16]; 8], usize) {
        let mut batch = [[0u8; 16]; 8];
        let n = tail.len().div_ceil(16);
        {
            let (flat, _) = batch.as_flattened_mut().split_at_mut(tail.len());
            flat.copy_from_slice(tail);
        }
        if n > 4 {
            xor8(rk, base, ctr, &mut batch);
        } else if n > 0 {
            let (four, _) = batch.split_at_mut(4);
            if let Ok(four) = <&mut [[u8; 16]; 4]>::try_from(four) {
                xor_blocks::<4>(rk, base, ctr, four);
            }
        }
        let flat = batch.as_flattened_mut();
        tail.copy_from_slice(&flat[..tail.len()]);
        flat[tail.len()..].fill(0);
        (batch, n)
    }

    // ---- GHASH, computed as POLYVAL (RFC 8452): x^-128-scaled products mod
    //      x^128 + x^127 + x^126 + x^121 + 1 on little-endian blocks ----

    /// An unreduced 256-bit product sum: `lo ⊕ mid·x⁶⁴ ⊕ hi·x¹²⁸`.
    #[derive(Clone, Copy)]
    struct Wide {
        lo: __m128i,
        mid: __m128i,
        hi: __m128i,
    }

    #[inline]
    #[target_feature(enable = $feat)]
    fn zero() -> Wide {
        Wide {
            lo: _mm_setzero_si128(),
            mid: _mm_setzero_si128(),
            hi: _mm_setzero_si128(),
        }
    }

    /// `w += x·h` (carry-less, schoolbook: four 64×64 products).
    #[inline]
    #[target_feature(enable = $feat)]
    fn mul_add(w: &mut Wide, x: __m128i, h: __m128i) {
        w.lo = _mm_xor_si128(w.lo, _mm_clmulepi64_si128::<0x00>(x, h));
        w.hi = _mm_xor_si128(w.hi, _mm_clmulepi64_si128::<0x11>(x, h));
        w.mid = _mm_xor_si128(w.mid, _mm_clmulepi64_si128::<0x01>(x, h));
        w.mid = _mm_xor_si128(w.mid, _mm_clmulepi64_si128::<0x10>(x, h));
    }

    /// `w·x⁻¹²⁸ mod P` (Montgomery reduction, 64 bits per step): with `P = x¹²⁸ + c·x⁶⁴ + 1`,
    /// `c = x⁶³ + x⁶² + x⁵⁷` (`0xc2 ≪ 56`), a low half `a + b·x⁶⁴` times `x⁻⁶⁴` is
    /// `b + a·x⁶⁴ + a·c`: swap the halves, add one carry-less product.
    #[inline]
    #[target_feature(enable = $feat)]
    fn reduce(w: Wide) -> __m128i {
        let poly = _mm_set_epi64x(0xc200_0000_0000_0000_u64 as i64, 1);
        let mut lo = _mm_xor_si128(w.lo, _mm_slli_si128::<8>(w.mid));
        let hi = _mm_xor_si128(w.hi, _mm_srli_si128::<8>(w.mid));
        for _ in 0..2 {
            let fold = _mm_clmulepi64_si128::<0x10>(lo, poly);
            lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), fold);
        }
        _mm_xor_si128(hi, lo)
    }

    #[inline]
    #[target_feature(enable = $feat)]
    fn dot(a: __m128i, b: __m128i) -> __m128i {
        let mut w = zero();
        mul_add(&mut w, a, b);
        reduce(w)
    }

    /// `a·x mod P`: turns GHASH's key into POLYVAL's (RFC 8452 Appendix A), branch-free.
    #[inline]
    #[target_feature(enable = $feat)]
    fn mul_x(a: __m128i) -> __m128i {
        let carry = _mm_slli_si128::<8>(_mm_srli_epi64::<63>(a));
        let shifted = _mm_or_si128(_mm_slli_epi64::<1>(a), carry);
        let top = _mm_shuffle_epi32::<0xff>(_mm_srai_epi32::<31>(a));
        let poly = _mm_set_epi64x(0xc200_0000_0000_0000_u64 as i64, 1);
        _mm_xor_si128(shifted, _mm_and_si128(top, poly))
    }

    /// The authenticator's state: the hash so far and the key's powers `h[i] = H^(i+1)`.
    struct Ghash {
        acc: __m128i,
        h: [__m128i; 8],
    }

    impl Ghash {
        /// `n` (1..=8) powers of the POLYVAL key `h1`: a tree, three products deep.
        #[inline]
        #[target_feature(enable = $feat)]
        fn new(h1: __m128i, n: usize) -> Self {
            let mut h = [h1; 8];
            if n > 1 {
                h[1] = dot(h1, h1);
            }
            if n > 2 {
                h[2] = dot(h[1], h1);
                h[3] = dot(h[1], h[1]);
            }
            if n > 4 {
                h[4] = dot(h[3], h1);
                h[5] = dot(h[3], h[1]);
                h[6] = dot(h[3], h[2]);
                h[7] = dot(h[3], h[3]);
            }
            Ghash {
                acc: _mm_setzero_si128(),
                h,
            }
        }

        /// Absorbs `blocks` (at most as many as powers were made): the first is added to the
        /// hash so far and everything multiplied by its power of H, then one reduction.
        #[inline]
        #[target_feature(enable = $feat)]
        fn blocks(&mut self, blocks: &[[u8; 16]]) {
            let n = blocks.len();
            if n == 0 {
                return;
            }
            let mut w = zero();
            for (i, b) in blocks.iter().enumerate() {
                let mut x = bswap(load(b));
                if i == 0 {
                    x = _mm_xor_si128(x, self.acc);
                }
                mul_add(&mut w, x, self.h[n - 1 - i]);
            }
            self.acc = reduce(w);
        }

        /// Eight blocks at once (the unrolled form of `blocks` for the main loops).
        #[inline]
        #[target_feature(enable = $feat)]
        fn eight(&mut self, blocks: &[[u8; 16]; 8]) {
            let mut x = [_mm_setzero_si128(); 8];
            for (x, b) in x.iter_mut().zip(blocks) {
                *x = bswap(load(b));
            }
            x[0] = _mm_xor_si128(x[0], self.acc);
            let (lo, mid, hi) = $gh8(&x, &self.h);
            self.acc = reduce(Wide { lo, mid, hi });
        }

        /// `data` zero-padded to whole blocks (the associated data, or a whole ciphertext).
        #[inline]
        #[target_feature(enable = $feat)]
        fn padded(&mut self, data: &[u8]) {
            let (blocks, tail) = data.as_chunks::<16>();
            let (eights, rest) = blocks.as_chunks::<8>();
            for e in eights {
                self.eight(e);
            }
            self.blocks(rest);
            if !tail.is_empty() {
                let mut last = [0u8; 16];
                last[..tail.len()].copy_from_slice(tail);
                self.blocks(&[last]);
            }
        }

        /// The tag before its mask: the length block absorbed, the result byte-reversed back.
        #[inline]
        #[target_feature(enable = $feat)]
        fn finish(mut self, aad: usize, ct: usize) -> __m128i {
            let mut len = [0u8; 16];
            len[..8].copy_from_slice(&((aad as u64) * 8).to_be_bytes());
            len[8..].copy_from_slice(&((ct as u64) * 8).to_be_bytes());
            self.blocks(&[len]);
            let out = bswap(self.acc);
            self.h.zeroize();
            self.acc.zeroize();
            out
        }
    }

    /// Round keys, the hash key's powers, the tag mask `E(J0)` and the counter base.
    #[inline]
    #[target_feature(enable = $feat)]
    fn start(
        key: &[u8; 32],
        nonce: &[u8; 12],
        longest: usize,
    ) -> ([__m128i; 15], Ghash, __m128i, __m128i) {
        let rk = expand(key);
        let mut iv = [0u8; 16];
        iv[..12].copy_from_slice(nonce);
        let base = load(&iv);
        // H = E(0⁹⁶) and the mask E(nonce ‖ 1) share one pass through the rounds
        let mut two = [_mm_setzero_si128(), counter(base, 1)];
        encrypt(&rk, &mut two);
        let powers = longest.div_ceil(16).clamp(1, 8);
        let ghash = Ghash::new(mul_x(bswap(two[0])), powers);
        two[0].zeroize();
        (rk, ghash, two[1], base)
    }

    #[target_feature(enable = $feat)]
    pub(crate) fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let (mut rk, mut ghash, mask, base) = start(key, nonce, aad.len().max(buf.len()));
        ghash.padded(aad);
        let len = buf.len();
        let mut ctr = 2u32;
        let (sixteens, rest) = buf.as_chunks_mut::<256>();
        for b in sixteens {
            let (b, _) = b.as_chunks_mut::<16>();
            if let Ok(b) = <&mut [[u8; 16]; 16]>::try_from(b) {
                // encrypted, then hashed while in L1; the next batch's rounds overlap this
                // batch's multiplications in the out-of-order window
                xor16(&rk, base, &mut ctr, b);
                let (halves, _) = b.as_chunks::<8>();
                for h in halves {
                    ghash.eight(h);
                }
            }
        }
        let (eights, tail) = rest.as_chunks_mut::<128>();
        for e in eights {
            let (e, _) = e.as_chunks_mut::<16>();
            if let Ok(e) = <&mut [[u8; 16]; 8]>::try_from(e) {
                xor8(&rk, base, &mut ctr, e);
                ghash.eight(e);
            }
        }
        // the stack batch holds ciphertext (public) and zeros: not wiped (a volatile wipe of
        // 128 bytes cost a sixth of a 64-byte seal)
        let (last, n) = xor_tail(&rk, base, &mut ctr, tail);
        ghash.blocks(&last[..n]);
        let tag = store(_mm_xor_si128(ghash.finish(aad.len(), len), mask));
        rk.zeroize();
        tag
    }

    #[target_feature(enable = $feat)]
    pub(crate) fn open(
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CipherError> {
        let (mut rk, mut ghash, mask, base) = start(key, nonce, aad.len().max(buf.len()));
        ghash.padded(aad);
        ghash.padded(buf);
        let want = store(_mm_xor_si128(ghash.finish(aad.len(), buf.len()), mask));
        if !bool::from(want.ct_eq(tag)) {
            rk.zeroize();
            return Err(CipherError::Forged);
        }
        let mut ctr = 2u32;
        let (sixteens, rest) = buf.as_chunks_mut::<256>();
        for b in sixteens {
            let (b, _) = b.as_chunks_mut::<16>();
            if let Ok(b) = <&mut [[u8; 16]; 16]>::try_from(b) {
                xor16(&rk, base, &mut ctr, b);
            }
        }
        let (eights, tail) = rest.as_chunks_mut::<128>();
        for e in eights {
            let (e, _) = e.as_chunks_mut::<16>();
            if let Ok(e) = <&mut [[u8; 16]; 8]>::try_from(e) {
                xor8(&rk, base, &mut ctr, e);
            }
        }
        // the stack batch holds the tail's plaintext, which `buf` now holds too (the tag has
        // verified, it is released): not wiped, as the XChaCha20 open does not
        xor_tail(&rk, base, &mut ctr, tail);
        rk.zeroize();
        Ok(())
    }
}
    };
}

#[cfg(target_arch = "x86_64")]
x86_build!(
    /// AES-NI + PCLMULQDQ: eight CTR blocks in flight (one 128-bit `aesenc` per block and round).
    x86,
    "aes,pclmulqdq,sse2,ssse3,sse4.1",
    ni8,
    ni16,
    clmul8
);

#[cfg(target_arch = "x86_64")]
x86_build!(
    /// The same with VAES for the CTR keystream (two blocks per 256-bit `vaesenc`, doubling
    /// the AES throughput, which bounded the AES-NI build) and VPCLMULQDQ for the eight-block
    /// GHASH products (two blocks per instruction); the single-block work stays 128-bit.
    x86_vaes,
    "aes,pclmulqdq,sse2,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq",
    super::vaes::keystream8,
    super::vaes::keystream16,
    super::vaes::clmul8
);

/// VAES's eight-block keystream for `x86_vaes`.
#[cfg(target_arch = "x86_64")]
pub(crate) mod vaes {
    use core::arch::x86_64::*;

    #[inline]
    #[target_feature(enable = "aes,pclmulqdq,sse2,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    fn pair(base: __m128i, ctr: u32) -> __m256i {
        let lo = _mm_insert_epi32::<3>(base, ctr.swap_bytes() as i32);
        let hi = _mm_insert_epi32::<3>(base, ctr.wrapping_add(1).swap_bytes() as i32);
        _mm256_set_m128i(hi, lo)
    }

    /// `Σ x[i]·h[7−i]` unreduced (`lo`, `mid`, `hi`), two blocks per 256-bit `vpclmulqdq`;
    /// the two lanes' sums are added at the end.
    #[inline]
    #[target_feature(enable = "aes,pclmulqdq,sse2,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    pub(crate) fn clmul8(x: &[__m128i; 8], h: &[__m128i; 8]) -> (__m128i, __m128i, __m128i) {
        let mut lo = _mm256_setzero_si256();
        let mut mid = _mm256_setzero_si256();
        let mut hi = _mm256_setzero_si256();
        for i in (0..8).step_by(2) {
            let xs = _mm256_set_m128i(x[i + 1], x[i]);
            let hs = _mm256_set_m128i(h[6 - i], h[7 - i]);
            lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128::<0x00>(xs, hs));
            hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128::<0x11>(xs, hs));
            mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128::<0x01>(xs, hs));
            mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128::<0x10>(xs, hs));
        }
        (halves(lo), halves(mid), halves(hi))
    }

    #[inline]
    #[target_feature(enable = "aes,pclmulqdq,sse2,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    fn halves(v: __m256i) -> __m128i {
        _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v))
    }

    /// Counter blocks `ctr..ctr+16` encrypted, two per 256-bit register: eight registers in
    /// flight, as many as `vaesenc`'s latency × throughput keeps busy.
    #[inline]
    #[target_feature(enable = "aes,pclmulqdq,sse2,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    pub(crate) fn keystream16(rk: &[__m128i; 15], base: __m128i, ctr: u32) -> [__m128i; 16] {
        let mut v = [_mm256_setzero_si256(); 8];
        for (i, x) in v.iter_mut().enumerate() {
            *x = pair(base, ctr.wrapping_add(2 * i as u32));
        }
        let k = _mm256_broadcastsi128_si256(rk[0]);
        for x in v.iter_mut() {
            *x = _mm256_xor_si256(*x, k);
        }
        for r in &rk[1..14] {
            let k = _mm256_broadcastsi128_si256(*r);
            for x in v.iter_mut() {
                *x = _mm256_aesenc_epi128(*x, k);
            }
        }
        let k = _mm256_broadcastsi128_si256(rk[14]);
        let mut out = [_mm_setzero_si128(); 16];
        for (i, x) in v.iter().enumerate() {
            let x = _mm256_aesenclast_epi128(*x, k);
            out[2 * i] = _mm256_castsi256_si128(x);
            out[2 * i + 1] = _mm256_extracti128_si256::<1>(x);
        }
        out
    }

    /// Counter blocks `ctr..ctr+8` encrypted, two per 256-bit register.
    #[inline]
    #[target_feature(enable = "aes,pclmulqdq,sse2,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    pub(crate) fn keystream8(rk: &[__m128i; 15], base: __m128i, ctr: u32) -> [__m128i; 8] {
        let mut v = [
            pair(base, ctr),
            pair(base, ctr.wrapping_add(2)),
            pair(base, ctr.wrapping_add(4)),
            pair(base, ctr.wrapping_add(6)),
        ];
        let k = _mm256_broadcastsi128_si256(rk[0]);
        for x in v.iter_mut() {
            *x = _mm256_xor_si256(*x, k);
        }
        for r in &rk[1..14] {
            let k = _mm256_broadcastsi128_si256(*r);
            for x in v.iter_mut() {
                *x = _mm256_aesenc_epi128(*x, k);
            }
        }
        let k = _mm256_broadcastsi128_si256(rk[14]);
        for x in v.iter_mut() {
            *x = _mm256_aesenclast_epi128(*x, k);
        }
        [
            _mm256_castsi256_si128(v[0]),
            _mm256_extracti128_si256::<1>(v[0]),
            _mm256_castsi256_si128(v[1]),
            _mm256_extracti128_si256::<1>(v[1]),
            _mm256_castsi256_si128(v[2]),
            _mm256_extracti128_si256::<1>(v[2]),
            _mm256_castsi256_si128(v[3]),
            _mm256_extracti128_si256::<1>(v[3]),
        ]
    }
}
