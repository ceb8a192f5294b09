//! Recovery phrases, compatible with the Session apps and libsession-util's `mnemonics`.
//!
//! Every 4 bytes, read as a little-endian `u32` `v`, become three words of the 1626-word English
//! list (`n = 1626`):
//!
//! ```text
//! w1 = v mod n
//! w2 = (v / n + w1) mod n
//! w3 = (v / n² + w2) mod n
//! ```
//!
//! With a checksum, one more word follows: a repeat of the data word at index
//! `crc32(prefixes) mod data_word_count`, where `prefixes` is the concatenation of each data
//! word's first three letters and `crc32` is the zlib CRC-32. A 16-byte legacy seed thus gives
//! the 13 words the Session apps show; a full 32-byte seed gives 25.
//!
//! Decoding splits on whitespace, ignores ASCII case, and looks only at the first three letters of
//! each word (`"amazing"` reads as `amaze`), so a typo past the third letter is harmless. Phrases
//! without the checksum word (12 or 24 words) are accepted too, as upstream accepts them.
//!
//! ```
//! use metaless_identity::{mnemonic, Seed};
//!
//! let seed = Seed::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
//! let phrase = mnemonic::to_phrase(&seed);
//! assert_eq!(
//!     phrase.expose_secret(),
//!     "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed"
//! );
//! let restored = mnemonic::to_seed("AMAZING buf cake entrance symptoms tiger lamb maze nestle python dusted faxed fax").unwrap();
//! assert_eq!(restored, seed);
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::limits::{MAX_PHRASE_BYTES, MAX_PHRASE_WORDS};
use crate::{IdentityError, Seed};

/// Number of words in the list.
pub const WORD_COUNT: usize = 1626;

/// Number of leading letters that identify a word (every word's first three letters are unique).
pub const PREFIX_LEN: usize = 3;

// `n` of the encoding, as the integer type the arithmetic is done in.
const N: u32 = WORD_COUNT as u32;

const LIST_TEXT: &str = include_str!("wordlist/english.txt");

/// Splits the list file into words at compile time, counting lines so that a list of the wrong
/// length fails the build (see the assertion below) rather than misbehaving at run time.
const fn parse_list(text: &'static str) -> ([&'static str; WORD_COUNT], usize) {
    let mut words = [""; WORD_COUNT];
    let mut rest = text.as_bytes();
    let mut count = 0;
    while !rest.is_empty() {
        let mut end = 0;
        while end < rest.len() && rest[end] != b'\n' {
            end += 1;
        }
        let (line, tail) = rest.split_at(end);
        if count < WORD_COUNT {
            words[count] = match core::str::from_utf8(line) {
                Ok(word) => word,
                Err(_) => "",
            };
        }
        count += 1;
        rest = if tail.is_empty() {
            tail
        } else {
            tail.split_at(1).1
        };
    }
    (words, count)
}

const fn prefix_key(word: &str) -> u32 {
    let b = word.as_bytes();
    if b.len() < PREFIX_LEN {
        return 0;
    }
    u32::from_le_bytes([b[0], b[1], b[2], 0])
}

/// What the lookup relies on: exactly 1626 words of at least three lowercase ASCII letters, in
/// strictly increasing order of their three-letter prefixes (hence unique prefixes).
const fn list_is_well_formed(parsed: &([&'static str; WORD_COUNT], usize)) -> bool {
    if parsed.1 != WORD_COUNT {
        return false;
    }
    let mut i = 0;
    while i < WORD_COUNT {
        let word = parsed.0[i].as_bytes();
        if word.len() < PREFIX_LEN {
            return false;
        }
        let mut j = 0;
        while j < word.len() {
            if !word[j].is_ascii_lowercase() {
                return false;
            }
            j += 1;
        }
        if i > 0 {
            let prev = parsed.0[i - 1].as_bytes();
            // Compare the prefixes as big-endian numbers, i.e. alphabetically.
            let p = ((prev[0] as u32) << 16) | ((prev[1] as u32) << 8) | prev[2] as u32;
            let c = ((word[0] as u32) << 16) | ((word[1] as u32) << 8) | word[2] as u32;
            if p >= c {
                return false;
            }
        }
        i += 1;
    }
    true
}

const PARSED: ([&str; WORD_COUNT], usize) = parse_list(LIST_TEXT);
const _: () = assert!(
    list_is_well_formed(&PARSED),
    "wordlist/english.txt is malformed"
);

static WORDS: [&str; WORD_COUNT] = PARSED.0;

const fn prefix_keys() -> [u32; WORD_COUNT] {
    let mut keys = [0u32; WORD_COUNT];
    let mut i = 0;
    while i < WORD_COUNT {
        keys[i] = prefix_key(PARSED.0[i]);
        i += 1;
    }
    keys
}

static PREFIX_KEYS: [u32; WORD_COUNT] = prefix_keys();

/// The English word list, in encoding order.
///
/// ```
/// let words = metaless_identity::mnemonic::word_list();
/// assert_eq!(words.len(), 1626);
/// assert_eq!((words[0], words[1625]), ("abbey", "zoom"));
/// ```
pub fn word_list() -> &'static [&'static str; WORD_COUNT] {
    &WORDS
}

/// A recovery phrase: lowercase words separated by single spaces. It is the account's secret,
/// so it is zeroized on drop, is neither `Clone` nor `Display`, compares in constant time, and
/// its `Debug` output is `RecoveryPhrase(<redacted>)`.
///
/// ```
/// use metaless_identity::{mnemonic, Seed};
/// let phrase = mnemonic::to_phrase(&Seed::from_bytes([0x42; 32]));
/// assert_eq!(phrase.word_count(), 25);
/// assert_eq!(format!("{phrase:?}"), "RecoveryPhrase(<redacted>)");
/// assert_eq!(phrase.to_seed().unwrap(), Seed::from_bytes([0x42; 32]));
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RecoveryPhrase(String);

impl RecoveryPhrase {
    /// The phrase for a seed: 13 words for a legacy (16-byte) seed, 25 for a full one.
    ///
    /// ```
    /// use metaless_identity::{RecoveryPhrase, Seed};
    /// assert_eq!(RecoveryPhrase::from_seed(&Seed::from_legacy([7; 16])).word_count(), 13);
    /// ```
    pub fn from_seed(seed: &Seed) -> Self {
        to_phrase(seed)
    }

    /// Decodes this phrase back to its seed.
    ///
    /// ```
    /// use metaless_identity::{RecoveryPhrase, Seed};
    /// let seed = Seed::from_legacy([9; 16]);
    /// assert_eq!(RecoveryPhrase::from_seed(&seed).to_seed().unwrap(), seed);
    /// ```
    pub fn to_seed(&self) -> Result<Seed, IdentityError> {
        to_seed(&self.0)
    }

    /// The words, in order.
    ///
    /// ```
    /// use metaless_identity::{RecoveryPhrase, Seed};
    /// let phrase = RecoveryPhrase::from_seed(&Seed::from_legacy([0; 16]));
    /// assert!(phrase.words().all(|w| w == "abbey"));
    /// ```
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ')
    }

    /// How many words the phrase has (checksum word included).
    ///
    /// ```
    /// use metaless_identity::{mnemonic, Seed};
    /// assert_eq!(mnemonic::to_phrase(&Seed::from_legacy([1; 16])).word_count(), 13);
    /// ```
    pub fn word_count(&self) -> usize {
        self.words().count()
    }

    /// The phrase text. Named so that every place the secret leaves its type stands out.
    ///
    /// ```
    /// use metaless_identity::{mnemonic, Seed};
    /// let phrase = mnemonic::to_phrase(&Seed::from_legacy([0; 16]));
    /// assert!(phrase.expose_secret().starts_with("abbey abbey"));
    /// ```
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl ConstantTimeEq for RecoveryPhrase {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.as_bytes().ct_eq(other.0.as_bytes())
    }
}

impl PartialEq for RecoveryPhrase {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for RecoveryPhrase {}

impl fmt::Debug for RecoveryPhrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryPhrase(<redacted>)")
    }
}

/// The recovery phrase of a seed, with its checksum word: the 13-word form of the first 16 bytes
/// when the seed is a legacy one (its second half is zero), else the 25-word form of all 32.
///
/// ```
/// use metaless_identity::{mnemonic, Seed};
/// let phrase = mnemonic::to_phrase(&Seed::from_legacy([0; 16]));
/// assert_eq!(phrase.expose_secret(), ["abbey"; 13].join(" "));
/// ```
pub fn to_phrase(seed: &Seed) -> RecoveryPhrase {
    let bytes = seed.expose_secret();
    let data = if seed.is_legacy() {
        &bytes[..Seed::LEGACY_LEN]
    } else {
        &bytes[..]
    };
    encode_chunks(data, true)
}

/// Restores a seed from its phrase: 13 or 25 words with the checksum word, or 12 or 24 without.
/// A 12/13-word phrase gives a legacy seed (16 bytes, zero-extended).
///
/// ```
/// use metaless_identity::{mnemonic, IdentityError};
/// assert_eq!(mnemonic::to_seed("abbey abbey").err(), Some(IdentityError::WrongWordCount(2)));
/// let twelve = ["abbey"; 12].join(" ");
/// assert!(mnemonic::to_seed(&twelve).unwrap().is_legacy());
/// ```
pub fn to_seed(phrase: &str) -> Result<Seed, IdentityError> {
    let count = phrase.split_whitespace().count();
    if !matches!(count, 12 | 13 | 24 | 25) {
        return Err(IdentityError::WrongWordCount(count));
    }
    let bytes = decode_bytes(phrase)?;
    Seed::from_slice(&bytes)
}

/// Encodes any byte string whose length is a non-zero multiple of 4, at most
/// [`MAX_PHRASE_BYTES`], as upstream's `bytes_to_words` does (3 words per 4 bytes, plus the
/// checksum word if asked for).
///
/// Any other length is refused as [`IdentityError::WrongLength`], whose `expected` is the
/// nearest length that would be accepted.
///
/// ```
/// use metaless_identity::{mnemonic, IdentityError};
/// let phrase = mnemonic::encode_bytes(&[1, 2, 3, 4], false).unwrap();
/// let words = mnemonic::word_list();
/// // 0x04030201 = 67305985 → 67305985 mod 1626 = 967, (41393 + 967) mod 1626 = 84, (25 + 84) mod 1626 = 109
/// assert_eq!(phrase.expose_secret(), [words[967], words[84], words[109]].join(" "));
/// assert_eq!(mnemonic::encode_bytes(&[0; 15], true).err(), Some(IdentityError::WrongLength { expected: 16, actual: 15 }));
/// ```
pub fn encode_bytes(bytes: &[u8], checksum: bool) -> Result<RecoveryPhrase, IdentityError> {
    let len = bytes.len();
    if len == 0 || !len.is_multiple_of(4) || len > MAX_PHRASE_BYTES {
        let expected = len.div_ceil(4).clamp(1, MAX_PHRASE_BYTES / 4) * 4;
        return Err(IdentityError::WrongLength {
            expected,
            actual: len,
        });
    }
    Ok(encode_chunks(bytes, checksum))
}

/// Decodes a phrase of `3k` words, or `3k + 1` words whose last is the checksum word, into
/// `4k` bytes, as upstream's `words_to_bytes` does (1 ≤ k ≤ [`MAX_PHRASE_BYTES`]` / 4`).
///
/// Errors, in the order upstream reports them: [`IdentityError::WrongWordCount`];
/// [`IdentityError::UnknownWord`] for the first word not in the list; [`IdentityError::InvalidPhrase`]
/// for a word triple whose value does not fit 32 bits (no encoder produces one);
/// [`IdentityError::BadChecksum`].
///
/// ```
/// use metaless_identity::{mnemonic, IdentityError};
/// assert_eq!(&mnemonic::decode_bytes("abbey abbey abbey").unwrap()[..], &[0, 0, 0, 0]);
/// assert_eq!(mnemonic::decode_bytes("abbey abbey zoom").err(), Some(IdentityError::InvalidPhrase));
/// assert_eq!(mnemonic::decode_bytes("abbey qqq abbey").err(), Some(IdentityError::UnknownWord { position: 1 }));
/// ```
pub fn decode_bytes(phrase: &str) -> Result<Zeroizing<Vec<u8>>, IdentityError> {
    // Counting walks the input without allocating; the limit is checked before any buffer exists.
    let count = phrase.split_whitespace().count();
    if !(3..=MAX_PHRASE_WORDS).contains(&count) || count % 3 == 2 {
        return Err(IdentityError::WrongWordCount(count));
    }
    let has_checksum = count % 3 == 1;
    let data_words = count - usize::from(has_checksum);

    let mut out = Zeroizing::new(Vec::with_capacity(data_words / 3 * 4));
    let mut indices: Zeroizing<Vec<u32>> = Zeroizing::new(Vec::with_capacity(data_words));
    let mut crc = Crc32::new();
    let mut words = phrase.split_whitespace().enumerate();
    for _ in 0..data_words / 3 {
        let mut triple = Zeroizing::new([0u32; 3]);
        for slot in triple.iter_mut() {
            let (position, word) = words.next().ok_or(IdentityError::WrongWordCount(count))?;
            *slot = lookup(word).ok_or(IdentityError::UnknownWord { position })?;
        }
        let chunk = Zeroizing::new(triple_to_chunk(&triple).ok_or(IdentityError::InvalidPhrase)?);
        out.extend_from_slice(&chunk[..]);
        for &index in triple.iter() {
            crc.update_word(index);
            indices.push(index);
        }
    }
    if has_checksum {
        let (position, word) = words.next().ok_or(IdentityError::WrongWordCount(count))?;
        let given = lookup(word).ok_or(IdentityError::UnknownWord { position })?;
        // Compared by index, so a checksum word mistyped past its prefix still matches.
        let expected = checksum_word(&indices, crc.finish());
        if !bool::from(given.ct_eq(&expected)) {
            return Err(IdentityError::BadChecksum);
        }
    }
    Ok(out)
}

/// Encodes the whole 4-byte chunks of `bytes` (callers check the length).
fn encode_chunks(bytes: &[u8], checksum: bool) -> RecoveryPhrase {
    let data_words = bytes.len() / 4 * 3;
    let mut indices: Zeroizing<Vec<u32>> =
        Zeroizing::new(Vec::with_capacity(data_words + usize::from(checksum)));
    let mut crc = Crc32::new();
    for chunk in bytes.chunks_exact(4) {
        let mut value = [0u8; 4];
        value.copy_from_slice(chunk);
        let triple = Zeroizing::new(chunk_to_triple(u32::from_le_bytes(value)));
        value.zeroize();
        for &index in triple.iter() {
            crc.update_word(index);
            indices.push(index);
        }
    }
    if checksum && data_words > 0 {
        let extra = checksum_word(&indices, crc.finish());
        indices.push(extra);
    }

    // Sized exactly, so that the secret text is never reallocated and left behind in freed memory.
    let len =
        indices.iter().map(|&i| word(i).len()).sum::<usize>() + indices.len().saturating_sub(1);
    let mut text = String::with_capacity(len);
    for (n, &index) in indices.iter().enumerate() {
        if n > 0 {
            text.push(' ');
        }
        text.push_str(word(index));
    }
    RecoveryPhrase(text)
}

fn chunk_to_triple(v: u32) -> [u32; 3] {
    let w1 = v % N;
    let w2 = (v / N + w1) % N;
    let w3 = (v / N / N + w2) % N;
    [w1, w2, w3]
}

/// The inverse of [`chunk_to_triple`]; `None` when the words encode a value above `u32::MAX`
/// (upstream detects the same case through 32-bit wrap-around: the wrapped value never has
/// `w1` as its remainder, because 2³² mod 1626 ≠ 0).
fn triple_to_chunk(triple: &[u32; 3]) -> Option<[u8; 4]> {
    let n = u64::from(N);
    let [w1, w2, w3] = triple.map(u64::from);
    let value = w1 + ((n - w1 + w2) % n) * n + ((n - w2 + w3) % n) * n * n;
    u32::try_from(value).ok().map(u32::to_le_bytes)
}

/// The checksum word: the data word at `crc mod data_word_count` (callers ensure non-empty).
fn checksum_word(indices: &[u32], crc: u32) -> u32 {
    let len = u32::try_from(indices.len()).unwrap_or(u32::MAX).max(1);
    let at = usize::try_from(crc % len).unwrap_or(0);
    indices.get(at).copied().unwrap_or(0)
}

fn word(index: u32) -> &'static str {
    usize::try_from(index)
        .ok()
        .and_then(|i| WORDS.get(i))
        .copied()
        .unwrap_or("")
}

/// The index of the word whose prefix `input` starts with (ASCII case ignored). Every list entry
/// is compared with branch-free mask arithmetic (no early exit, no secret-dependent branch or
/// memory access), so the time taken does not depend on which (secret) word it was.
fn lookup(input: &str) -> Option<u32> {
    let mut prefix = [0u8; 4];
    let mut chars = input.chars();
    for slot in prefix.iter_mut().take(PREFIX_LEN) {
        let c = chars.next()?;
        // A non-ASCII letter can never match an English word.
        *slot = u8::try_from(c)
            .ok()
            .filter(u8::is_ascii)?
            .to_ascii_lowercase();
    }
    let key = u32::from_le_bytes(prefix);
    prefix.zeroize();
    // Keys are at most 24 bits, so `diff - 1` underflows into bit 31 exactly when diff == 0.
    // Indices are stored plus one, so that 0 means "no match" and at most one entry matches.
    let mut found: u32 = 0;
    for (i, candidate) in (1u32..).zip(PREFIX_KEYS.iter()) {
        let diff = candidate ^ key;
        let hit = 0u32.wrapping_sub(diff.wrapping_sub(1) >> 31);
        found |= i & hit;
    }
    let index = subtle::CtOption::new(found.wrapping_sub(1), !found.ct_eq(&0));
    found.zeroize();
    Option::from(index)
}

/// CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, initial and final XOR all ones),
/// bit by bit: the input is a few dozen bytes, and no table means no secret-dependent lookups.
struct Crc32(u32);

impl Crc32 {
    fn new() -> Self {
        Self(!0)
    }

    fn update(&mut self, data: &[u8]) {
        for &byte in data {
            self.0 ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (self.0 & 1).wrapping_neg();
                self.0 = (self.0 >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
    }

    /// Feeds a word's three-letter prefix.
    fn update_word(&mut self, index: u32) {
        let key = usize::try_from(index)
            .ok()
            .and_then(|i| PREFIX_KEYS.get(i))
            .copied()
            .unwrap_or(0);
        let bytes = key.to_le_bytes();
        self.update(&bytes[..PREFIX_LEN]);
    }

    fn finish(&self) -> u32 {
        !self.0
    }
}

impl Drop for Crc32 {
    fn drop(&mut self) {
        // The running CRC is a function of the secret words.
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        let mut crc = Crc32::new();
        crc.update(b"123456789");
        assert_eq!(crc.finish(), 0xCBF4_3926);
        assert_eq!(Crc32::new().finish(), 0);
    }

    #[test]
    fn every_word_is_found_by_itself_its_prefix_and_in_capitals() {
        for (i, w) in (0u32..).zip(WORDS.iter()) {
            assert_eq!(lookup(w), Some(i));
            assert_eq!(lookup(&w[..PREFIX_LEN]), Some(i));
            assert_eq!(lookup(&w.to_ascii_uppercase()), Some(i));
        }
        assert_eq!(lookup(""), None);
        assert_eq!(lookup("ab"), None);
        assert_eq!(lookup("äbbey"), None);
        assert_eq!(lookup("zzz"), None);
    }

    #[test]
    fn triples_invert_chunks_at_the_edges() {
        for v in [0u32, 1, 1625, 1626, 1626 * 1626, u32::MAX - 1, u32::MAX] {
            assert_eq!(triple_to_chunk(&chunk_to_triple(v)), Some(v.to_le_bytes()));
        }
        // 0 + 0·1626 + 1625·1626² > u32::MAX: the case upstream's test names "overflow word triplet".
        assert_eq!(triple_to_chunk(&[0, 0, 1625]), None);
    }

    #[test]
    fn phrase_zeroizes() {
        let mut phrase = to_phrase(&Seed::from_bytes([3; 32]));
        phrase.zeroize();
        assert!(phrase.expose_secret().is_empty());
    }
}
