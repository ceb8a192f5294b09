//! The 'S' stream format: `'S' ‖ header(24) ‖ chunk… ` where the chunks are libsodium
//! secretstream pushes of `0x00 × (P−1) ‖ 0x01 ‖ data` in 32 768-byte pieces, the last one
//! tagged FINAL. See `docs/attachments.md` for the byte table and the padding rule.

use alloc::vec::Vec;

use metaless_identity::Seed;

use crate::AttachmentError;
use crate::key::{AttachmentKey, Domain, KeyDeriver, StreamKeys};
use crate::limits::{
    CHUNK_OVERHEAD, CHUNK_SIZE, ENCRYPTED_CHUNK_TOTAL, HEADER_SIZE, MAX_LARGE_SIZE,
    MAX_REGULAR_SIZE, PREFIX_SIZE,
};
use crate::secretstream::{SecretStream, TAG_FINAL, TAG_MESSAGE};

/// The format marker, first byte of every 'S' attachment.
pub const STREAM_MARKER: u8 = b'S';

const CHUNK: u64 = CHUNK_SIZE as u64;
const TOTAL: u64 = ENCRYPTED_CHUNK_TOTAL as u64;
const OVERHEAD: u64 = CHUNK_OVERHEAD as u64;

fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// Bytes of padding (including the `0x01` marker, so ≥ 1) added before `data_len` bytes,
/// chosen so the encrypted size lands on a coarse bucket (libsession-util `encrypted_padding`).
///
/// ```
/// use metaless_attachment::{encrypted_padding, encrypted_size};
/// assert_eq!(encrypted_padding(0), 4096 - 25 - 17);
/// assert_eq!(encrypted_size(100), 4096);
/// ```
pub fn encrypted_padding(data_len: u64) -> u64 {
    let chunks = div_ceil(data_len, CHUNK);
    let enc = data_len + PREFIX_SIZE as u64 + 1 + chunks * OVERHEAD;
    let factor = bit_floor(enc.max(131_072)) >> 5;
    let padded = div_ceil(enc, factor) * factor;
    let mut padding = padded - enc + 1;
    // Every full chunk of padding brings its own 17-byte tag, which counts as padding.
    let mut implicit = if padding >= TOTAL {
        (padding / TOTAL) * OVERHEAD
    } else {
        0
    };
    let free = chunks * CHUNK - data_len;
    if padding % TOTAL > free {
        implicit += OVERHEAD;
    }
    padding -= implicit;
    padding
}

fn bit_floor(x: u64) -> u64 {
    if x == 0 {
        0
    } else {
        1 << (63 - x.leading_zeros())
    }
}

/// Size of the 'S' encryption of `data_len` plaintext bytes.
///
/// ```
/// use metaless_attachment::{encrypted_size, limits::MAX_REGULAR_SIZE};
/// assert_eq!(encrypted_size(MAX_REGULAR_SIZE), 10_223_616);
/// ```
pub fn encrypted_size(data_len: u64) -> u64 {
    let padded = data_len + encrypted_padding(data_len);
    PREFIX_SIZE as u64 + padded + div_ceil(padded, CHUNK) * OVERHEAD
}

/// Upper bound of the plaintext inside `encrypted_len` bytes (None when too short to hold any
/// 'S' attachment), e.g. to pre-size a buffer.
///
/// ```
/// use metaless_attachment::decrypted_max_size;
/// assert_eq!(decrypted_max_size(4096), Some(4096 - 26 - 17));
/// assert_eq!(decrypted_max_size(10), None);
/// ```
pub fn decrypted_max_size(encrypted_len: u64) -> Option<u64> {
    let body = encrypted_len.checked_sub(PREFIX_SIZE as u64 + 1)?;
    let overhead = div_ceil(body, TOTAL) * OVERHEAD;
    body.checked_sub(overhead)
}

fn check_size(len: u64, allow_large: bool) -> Result<(), AttachmentError> {
    let max = if allow_large {
        MAX_LARGE_SIZE
    } else {
        MAX_REGULAR_SIZE
    };
    if len > max {
        return Err(AttachmentError::TooLarge { len, max });
    }
    Ok(())
}

/// Streaming 'S' encryption, phase two (phase one is [`KeyDeriver`]): push plaintext in any
/// pieces, get ciphertext appended to an output buffer one 32 KiB chunk at a time. Memory use
/// is one chunk, whatever the file size.
///
/// ```
/// use metaless_attachment::{decrypt, Domain, Encryptor, KeyDeriver};
/// let seed = metaless_identity::Seed::from_bytes([5; 32]);
/// let file = vec![42u8; 100_000];
/// let mut deriver = KeyDeriver::new(&seed, Domain::Attachment);
/// for piece in file.chunks(7000) { deriver.update(piece); }
/// let keys = deriver.finish();
///
/// let mut out = Vec::new();
/// let mut enc = Encryptor::new(&keys, false, &mut out).unwrap();
/// for piece in file.chunks(9000) {
///     enc.update(piece, &mut out).unwrap();
///     // `out` may be written away and cleared here.
/// }
/// enc.finish().unwrap();
/// assert_eq!(decrypt(&out, keys.key()).unwrap(), file);
/// ```
pub struct Encryptor {
    stream: SecretStream,
    buf: Vec<u8>,
    padding_left: u64,
    data_len: u64,
    data_seen: u64,
    done: bool,
}

impl Encryptor {
    /// Starts encrypting the `keys.plaintext_len()` bytes hashed into `keys`, writing `'S'` and
    /// the header into `out`. Refuses a plaintext over [`MAX_REGULAR_SIZE`] unless
    /// `allow_large` (then [`MAX_LARGE_SIZE`]).
    pub fn new(
        keys: &StreamKeys,
        allow_large: bool,
        out: &mut Vec<u8>,
    ) -> Result<Self, AttachmentError> {
        check_size(keys.plaintext_len, allow_large)?;
        let stream = SecretStream::new(keys.key.expose_secret(), &keys.nonce);
        out.push(STREAM_MARKER);
        out.extend_from_slice(&keys.nonce);
        let mut enc = Self {
            stream,
            buf: Vec::with_capacity(CHUNK_SIZE),
            padding_left: encrypted_padding(keys.plaintext_len),
            data_len: keys.plaintext_len,
            data_seen: 0,
            done: false,
        };
        enc.pad(out);
        Ok(enc)
    }

    fn remaining(&self) -> u64 {
        self.padding_left + (self.data_len - self.data_seen)
    }

    fn pad(&mut self, out: &mut Vec<u8>) {
        while self.padding_left > 0 {
            let room = (CHUNK_SIZE - self.buf.len()) as u64;
            let zeros = room.min(self.padding_left - 1);
            self.buf.resize(self.buf.len() + zeros as usize, 0);
            self.padding_left -= zeros;
            if self.padding_left == 1 && self.buf.len() < CHUNK_SIZE {
                self.buf.push(0x01);
                self.padding_left = 0;
            }
            self.flush_if_ready(out);
        }
    }

    fn flush_if_ready(&mut self, out: &mut Vec<u8>) {
        let last = self.remaining() == 0;
        if self.buf.len() == CHUNK_SIZE || (last && !self.buf.is_empty()) {
            let tag = if last { TAG_FINAL } else { TAG_MESSAGE };
            seal_chunk(&mut self.stream, &self.buf, tag, out);
            self.buf.clear();
            self.done = last;
        }
    }

    /// Encrypts the next plaintext bytes; every completed chunk is appended to `out`.
    /// Refuses bytes beyond the hashed length.
    pub fn update(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), AttachmentError> {
        let left = self.data_len - self.data_seen;
        if data.len() as u64 > left {
            return Err(AttachmentError::LengthMismatch {
                expected: self.data_len,
                got: self.data_seen + data.len() as u64,
            });
        }
        while !data.is_empty() {
            let take = (CHUNK_SIZE - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            self.data_seen += take as u64;
            data = &data[take..];
            self.flush_if_ready(out);
        }
        Ok(())
    }

    /// Checks that every hashed byte was encrypted (the FINAL chunk is then already in `out`).
    pub fn finish(self) -> Result<(), AttachmentError> {
        if !self.done {
            return Err(AttachmentError::LengthMismatch {
                expected: self.data_len,
                got: self.data_seen,
            });
        }
        Ok(())
    }
}

fn seal_chunk(stream: &mut SecretStream, plain: &[u8], tag: u8, out: &mut Vec<u8>) {
    let start = out.len();
    out.reserve(plain.len() + CHUNK_OVERHEAD);
    out.push(0);
    out.extend_from_slice(plain);
    out.extend_from_slice(&[0u8; 16]);
    stream.push_in_place(&mut out[start..], tag);
}

/// One-shot 'S' encryption of `data` with the key derived from `seed` and the content.
/// Returns the encrypted bytes (exactly [`encrypted_size`]) and the key for the pointer.
///
/// ```
/// use metaless_attachment::{decrypt, encrypt, encrypted_size, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let (blob, key) = encrypt(&seed, b"a photo", Domain::Attachment, false).unwrap();
/// assert_eq!(blob.len() as u64, encrypted_size(7));
/// assert_eq!(blob[0], b'S');
/// assert_eq!(decrypt(&blob, &key).unwrap(), b"a photo");
/// // Deterministic: same seed, same content, same bytes.
/// assert_eq!(encrypt(&seed, b"a photo", Domain::Attachment, false).unwrap().0, blob);
/// ```
pub fn encrypt(
    seed: &Seed,
    data: &[u8],
    domain: Domain,
    allow_large: bool,
) -> Result<(Vec<u8>, AttachmentKey), AttachmentError> {
    check_size(data.len() as u64, allow_large)?;
    let mut deriver = KeyDeriver::new(seed, domain);
    deriver.update(data);
    let keys = deriver.finish();
    let mut out = Vec::with_capacity(encrypted_size(data.len() as u64) as usize);
    let mut enc = Encryptor::new(&keys, allow_large, &mut out)?;
    enc.update(data, &mut out)?;
    enc.finish()?;
    Ok((out, keys.key.clone()))
}

/// Encrypts `buf` in place: on return it holds the encrypted attachment. The only allocation
/// is growing `buf` to [`encrypted_size`] (about 0.05 % above the file for large files) and
/// one 32 KiB chunk, so a 10 MB file never exists twice.
///
/// ```
/// use metaless_attachment::{decrypt, encrypt, encrypt_in_place, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let data = vec![9u8; 70_000];
/// let mut buf = data.clone();
/// let key = encrypt_in_place(&seed, &mut buf, Domain::Attachment, false).unwrap();
/// assert_eq!(buf, encrypt(&seed, &data, Domain::Attachment, false).unwrap().0);
/// assert_eq!(decrypt(&buf, &key).unwrap(), data);
/// ```
pub fn encrypt_in_place(
    seed: &Seed,
    buf: &mut Vec<u8>,
    domain: Domain,
    allow_large: bool,
) -> Result<AttachmentKey, AttachmentError> {
    let n = buf.len() as u64;
    check_size(n, allow_large)?;
    let mut deriver = KeyDeriver::new(seed, domain);
    deriver.update(buf);
    let keys = deriver.finish();
    let pad = encrypted_padding(n);
    let total = encrypted_size(n) as usize;
    let n = n as usize;
    // Move the plaintext to the tail; chunk i's output then always ends at or before chunk
    // i+1's input starts (output grows by 17 per chunk, the tail starts 25 + P + 17·chunks in).
    buf.resize(total, 0);
    let data_at = total - n;
    buf.copy_within(0..n, data_at);
    buf[0] = STREAM_MARKER;
    buf[1..PREFIX_SIZE].copy_from_slice(&keys.nonce);
    let mut stream = SecretStream::new(keys.key.expose_secret(), &keys.nonce);
    let stream_len = pad as usize + n;
    let chunks = stream_len.div_ceil(CHUNK_SIZE);
    let mut scratch = Vec::new();
    for i in 0..chunks {
        let from = i * CHUNK_SIZE;
        let to = (from + CHUNK_SIZE).min(stream_len);
        let out_at = PREFIX_SIZE + i * ENCRYPTED_CHUNK_TOTAL;
        let len = to - from;
        let tag = if i + 1 == chunks {
            TAG_FINAL
        } else {
            TAG_MESSAGE
        };
        let pad = pad as usize;
        if from < pad {
            // A chunk holding padding: build its plaintext aside.
            scratch.clear();
            let zeros_end = (pad - 1).min(to);
            scratch.resize(zeros_end - from, 0);
            if to > pad - 1 {
                scratch.push(0x01);
                let data_to = to - pad;
                scratch.extend_from_slice(&buf[data_at..data_at + data_to]);
            }
            buf[out_at + 1..out_at + 1 + len].copy_from_slice(&scratch);
        } else {
            let src = data_at + (from - pad);
            buf.copy_within(src..src + len, out_at + 1);
        }
        stream.push_in_place(&mut buf[out_at..out_at + len + CHUNK_OVERHEAD], tag);
    }
    scratch.fill(0);
    Ok(keys.key.clone())
}

/// Streaming 'S' decryption: push ciphertext in any pieces, plaintext is appended to an output
/// buffer as each chunk authenticates. Nothing unauthenticated is ever output.
///
/// ```
/// use metaless_attachment::{encrypt, AttachmentError, Decryptor, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let (blob, key) = encrypt(&seed, &[7u8; 50_000], Domain::Attachment, false).unwrap();
/// let mut dec = Decryptor::new(&key);
/// let mut out = Vec::new();
/// for piece in blob.chunks(1000) { dec.update(piece, &mut out).unwrap(); }
/// assert_eq!(dec.finish(&mut out).unwrap(), 50_000);
/// assert_eq!(out, vec![7u8; 50_000]);
///
/// // Cut off the FINAL chunk: refused.
/// let mut dec = Decryptor::new(&key);
/// dec.update(&blob[..blob.len() - 100], &mut Vec::new()).unwrap();
/// assert_eq!(dec.finish(&mut Vec::new()), Err(AttachmentError::TamperedChunk { index: 1 }));
/// ```
pub struct Decryptor {
    key: AttachmentKey,
    stream: Option<SecretStream>,
    buf: Vec<u8>,
    chunk_index: u64,
    depadded: bool,
    final_seen: bool,
    written: u64,
    max: u64,
    failed: Option<AttachmentError>,
}

impl Decryptor {
    /// A decryptor for `key` that refuses more than [`MAX_REGULAR_SIZE`] plaintext bytes.
    pub fn new(key: &AttachmentKey) -> Self {
        Self {
            key: key.clone(),
            stream: None,
            buf: Vec::new(),
            chunk_index: 0,
            depadded: false,
            final_seen: false,
            written: 0,
            max: MAX_REGULAR_SIZE,
            failed: None,
        }
    }

    /// The same with another plaintext limit (e.g. [`MAX_LARGE_SIZE`] for large files).
    ///
    /// ```
    /// # use metaless_attachment::{encrypt, AttachmentError, Decryptor, Domain};
    /// # let seed = metaless_identity::Seed::from_bytes([1; 32]);
    /// let (blob, key) = encrypt(&seed, &[0u8; 100], Domain::Attachment, false).unwrap();
    /// let mut dec = Decryptor::new(&key).with_max_size(10);
    /// dec.update(&blob, &mut Vec::new()).unwrap(); // one short chunk: held until finish
    /// assert_eq!(dec.finish(&mut Vec::new()), Err(AttachmentError::TooLarge { len: 100, max: 10 }));
    /// ```
    pub fn with_max_size(mut self, max: u64) -> Self {
        self.max = max;
        self
    }

    /// Plaintext bytes output so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Decrypts the next ciphertext bytes. After an error every later call returns it again.
    pub fn update(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), AttachmentError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = (|| {
            if self.stream.is_none() {
                let take = (PREFIX_SIZE - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.buf.first().is_some_and(|b| *b != STREAM_MARKER) {
                    return Err(AttachmentError::UnknownFormat(self.buf[0]));
                }
                if self.buf.len() < PREFIX_SIZE {
                    return Ok(());
                }
                let mut header = [0u8; HEADER_SIZE];
                header.copy_from_slice(&self.buf[1..PREFIX_SIZE]);
                self.stream = Some(SecretStream::new(self.key.expose_secret(), &header));
                self.buf.clear();
                self.buf.reserve(ENCRYPTED_CHUNK_TOTAL);
            }
            while !data.is_empty() {
                if self.final_seen {
                    return Err(AttachmentError::DataAfterFinal);
                }
                let take = (ENCRYPTED_CHUNK_TOTAL - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.buf.len() == ENCRYPTED_CHUNK_TOTAL {
                    self.open_buffered(out)?;
                }
            }
            Ok(())
        })();
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    fn open_buffered(&mut self, out: &mut Vec<u8>) -> Result<(), AttachmentError> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(AttachmentError::Truncated);
        };
        let tag = stream.pull_in_place(&mut self.buf).map_err(|_| {
            if self.chunk_index == 0 {
                AttachmentError::WrongKey
            } else {
                AttachmentError::TamperedChunk {
                    index: self.chunk_index,
                }
            }
        })?;
        self.chunk_index += 1;
        let end = self.buf.len() - 16;
        let mut plain = &self.buf[1..end];
        if plain.is_empty() {
            // upstream's encryptor never emits an empty chunk and its decrypt refuses one
            return Err(AttachmentError::Truncated);
        }
        if !self.depadded {
            match plain.iter().position(|b| *b != 0) {
                None => plain = &[],
                Some(i) if plain[i] == 0x01 => {
                    self.depadded = true;
                    plain = &plain[i + 1..];
                }
                Some(_) => return Err(AttachmentError::BadPadding),
            }
        }
        let len = self.written + plain.len() as u64;
        if len > self.max {
            return Err(AttachmentError::TooLarge { len, max: self.max });
        }
        out.extend_from_slice(plain);
        self.written = len;
        self.buf.fill(0);
        self.buf.clear();
        if tag == TAG_FINAL {
            self.final_seen = true;
        }
        Ok(())
    }

    /// Ends the stream: opens the last partial chunk and requires the FINAL tag exactly there.
    /// Returns the plaintext length.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<u64, AttachmentError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.stream.is_none() {
            return Err(AttachmentError::Truncated);
        }
        if !self.buf.is_empty() {
            if self.final_seen {
                return Err(AttachmentError::DataAfterFinal);
            }
            if self.buf.len() < CHUNK_OVERHEAD {
                return Err(AttachmentError::Truncated);
            }
            self.open_buffered(out)?;
        }
        if !self.final_seen || !self.depadded {
            return Err(AttachmentError::Truncated);
        }
        Ok(self.written)
    }
}

/// One-shot 'S' decryption (plaintext up to [`MAX_REGULAR_SIZE`]; use [`Decryptor`] with
/// [`Decryptor::with_max_size`] for large files).
///
/// ```
/// use metaless_attachment::{decrypt, encrypt, AttachmentError, AttachmentKey, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let (mut blob, key) = encrypt(&seed, b"hi", Domain::Attachment, false).unwrap();
/// assert_eq!(decrypt(&blob, &AttachmentKey::from_bytes([0; 32])), Err(AttachmentError::WrongKey));
/// blob[0] = b'X';
/// assert_eq!(decrypt(&blob, &key), Err(AttachmentError::UnknownFormat(b'X')));
/// ```
pub fn decrypt(data: &[u8], key: &AttachmentKey) -> Result<Vec<u8>, AttachmentError> {
    let cap = decrypted_max_size(data.len() as u64)
        .unwrap_or(0)
        .min(MAX_REGULAR_SIZE);
    let mut out = Vec::with_capacity(cap as usize);
    let mut dec = Decryptor::new(key);
    dec.update(data, &mut out)?;
    dec.finish(&mut out)?;
    Ok(out)
}

/// Decrypts `buf` in place (no second copy): on success it holds the plaintext; on failure its
/// contents are unspecified (partly decrypted, never unauthenticated plaintext beyond the
/// failing chunk's predecessors).
///
/// ```
/// use metaless_attachment::{decrypt_in_place, encrypt, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let (mut blob, key) = encrypt(&seed, &[3u8; 40_000], Domain::Attachment, false).unwrap();
/// decrypt_in_place(&mut blob, &key, false).unwrap();
/// assert_eq!(blob, vec![3u8; 40_000]);
/// ```
pub fn decrypt_in_place(
    buf: &mut Vec<u8>,
    key: &AttachmentKey,
    allow_large: bool,
) -> Result<(), AttachmentError> {
    let max = if allow_large {
        MAX_LARGE_SIZE
    } else {
        MAX_REGULAR_SIZE
    };
    let Some(&first) = buf.first() else {
        return Err(AttachmentError::Truncated);
    };
    if first != STREAM_MARKER {
        return Err(AttachmentError::UnknownFormat(first));
    }
    if buf.len() < PREFIX_SIZE {
        return Err(AttachmentError::Truncated);
    }
    let mut header = [0u8; HEADER_SIZE];
    header.copy_from_slice(&buf[1..PREFIX_SIZE]);
    let mut stream = SecretStream::new(key.expose_secret(), &header);
    let mut read = PREFIX_SIZE;
    let mut written = 0usize;
    let mut depadded = false;
    let mut index = 0u64;
    loop {
        let left = buf.len() - read;
        if left == 0 {
            // Every chunk so far was MESSAGE-tagged.
            return Err(AttachmentError::Truncated);
        }
        if left <= CHUNK_OVERHEAD {
            return Err(AttachmentError::Truncated);
        }
        let len = left.min(ENCRYPTED_CHUNK_TOTAL);
        let chunk = &mut buf[read..read + len];
        let tag = stream.pull_in_place(chunk).map_err(|_| {
            if index == 0 {
                AttachmentError::WrongKey
            } else {
                AttachmentError::TamperedChunk { index }
            }
        })?;
        index += 1;
        let mut from = read + 1;
        let to = read + len - 16;
        if !depadded {
            match buf[from..to].iter().position(|b| *b != 0) {
                None => from = to,
                Some(i) if buf[from + i] == 0x01 => {
                    depadded = true;
                    from += i + 1;
                }
                Some(_) => return Err(AttachmentError::BadPadding),
            }
        }
        let n = to - from;
        if (written + n) as u64 > max {
            return Err(AttachmentError::TooLarge {
                len: (written + n) as u64,
                max,
            });
        }
        buf.copy_within(from..to, written);
        written += n;
        read += len;
        if tag == TAG_FINAL {
            if read != buf.len() {
                return Err(AttachmentError::DataAfterFinal);
            }
            if !depadded {
                return Err(AttachmentError::Truncated);
            }
            buf.truncate(written);
            return Ok(());
        }
    }
}
