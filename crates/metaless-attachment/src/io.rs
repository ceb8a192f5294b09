//! `std::io` adapters over the sans-IO [`Encryptor`] / [`Decryptor`]: memory stays at a few
//! chunks (64 KiB reads, one 32 KiB chunk buffered) whatever the file size.

use std::io::{self, Read, Seek, SeekFrom, Write};

use metaless_identity::Seed;

use crate::key::{AttachmentKey, Domain, KeyDeriver};
use crate::stream::{Decryptor, Encryptor};
use crate::{AttachmentError, IoKind};

const READ_SIZE: usize = 64 * 1024;

fn read_some(src: &mut impl Read, buf: &mut [u8]) -> Result<usize, AttachmentError> {
    loop {
        match src.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(AttachmentError::Io(IoKind::Read)),
        }
    }
}

/// Encrypts `src` (read twice: once to derive the key, once to encrypt) into `dst`.
/// Returns the key and the number of bytes written.
///
/// ```
/// use metaless_attachment::{decrypt, io::encrypt_file, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let mut src = std::io::Cursor::new(vec![5u8; 100_000]);
/// let mut dst = Vec::new();
/// let (key, written) = encrypt_file(&seed, Domain::Attachment, &mut src, &mut dst, false).unwrap();
/// assert_eq!(written as usize, dst.len());
/// assert_eq!(decrypt(&dst, &key).unwrap(), vec![5u8; 100_000]);
/// ```
pub fn encrypt_file<R: Read + Seek, W: Write>(
    seed: &Seed,
    domain: Domain,
    src: &mut R,
    dst: &mut W,
    allow_large: bool,
) -> Result<(AttachmentKey, u64), AttachmentError> {
    let start = src
        .stream_position()
        .map_err(|_| AttachmentError::Io(IoKind::Seek))?;
    let mut buf = vec![0u8; READ_SIZE];
    let mut deriver = KeyDeriver::new(seed, domain);
    loop {
        let n = read_some(src, &mut buf)?;
        if n == 0 {
            break;
        }
        deriver.update(&buf[..n]);
    }
    let keys = deriver.finish();
    src.seek(SeekFrom::Start(start))
        .map_err(|_| AttachmentError::Io(IoKind::Seek))?;
    let mut out = Vec::with_capacity(READ_SIZE + 2 * crate::limits::ENCRYPTED_CHUNK_TOTAL);
    let mut enc = Encryptor::new(&keys, allow_large, &mut out)?;
    let mut written = 0u64;
    loop {
        let n = read_some(src, &mut buf)?;
        if n == 0 {
            break;
        }
        // A file that grew between the passes is refused by the encryptor.
        enc.update(&buf[..n], &mut out)?;
        dst.write_all(&out)
            .map_err(|_| AttachmentError::Io(IoKind::Write))?;
        written += out.len() as u64;
        out.clear();
    }
    if !out.is_empty() {
        dst.write_all(&out)
            .map_err(|_| AttachmentError::Io(IoKind::Write))?;
        written += out.len() as u64;
    }
    enc.finish()?;
    Ok((keys.key().clone(), written))
}

/// Decrypts everything `src` yields into `dst`; returns the plaintext length. `max` bounds the
/// plaintext (e.g. [`crate::limits::MAX_REGULAR_SIZE`]). On error, `dst` may hold a prefix of
/// authenticated plaintext: delete it.
///
/// ```
/// use metaless_attachment::{encrypt, io::decrypt_stream, limits::MAX_REGULAR_SIZE, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let (blob, key) = encrypt(&seed, b"data", Domain::Attachment, false).unwrap();
/// let mut out = Vec::new();
/// assert_eq!(decrypt_stream(&key, &mut &blob[..], &mut out, MAX_REGULAR_SIZE).unwrap(), 4);
/// assert_eq!(out, b"data");
/// ```
pub fn decrypt_stream<R: Read, W: Write>(
    key: &AttachmentKey,
    src: &mut R,
    dst: &mut W,
    max: u64,
) -> Result<u64, AttachmentError> {
    let mut w = DecryptWriter::new(key, dst).with_max_size(max);
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let n = read_some(src, &mut buf)?;
        if n == 0 {
            break;
        }
        w.feed(&buf[..n])?;
    }
    w.finish().map(|(_, n)| n)
}

/// A `Write` that decrypts what is written to it and writes the plaintext to an inner writer.
/// Call [`finish`](Self::finish): only it checks the FINAL chunk.
///
/// ```
/// use std::io::Write;
/// use metaless_attachment::{encrypt, io::DecryptWriter, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let (blob, key) = encrypt(&seed, &[1u8; 40_000], Domain::Attachment, false).unwrap();
/// let mut w = DecryptWriter::new(&key, Vec::new());
/// for piece in blob.chunks(4096) { w.write_all(piece).unwrap(); }
/// let (plain, n) = w.finish().unwrap();
/// assert_eq!((plain.len(), n), (40_000, 40_000));
/// ```
pub struct DecryptWriter<W: Write> {
    dec: Decryptor,
    inner: W,
    out: Vec<u8>,
}

impl<W: Write> DecryptWriter<W> {
    /// Wraps `inner` (plaintext limit [`crate::limits::MAX_REGULAR_SIZE`]).
    pub fn new(key: &AttachmentKey, inner: W) -> Self {
        Self {
            dec: Decryptor::new(key),
            inner,
            out: Vec::new(),
        }
    }

    /// Another plaintext limit.
    pub fn with_max_size(mut self, max: u64) -> Self {
        self.dec = self.dec.with_max_size(max);
        self
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), AttachmentError> {
        self.dec.update(data, &mut self.out)?;
        self.drain()
    }

    fn drain(&mut self) -> Result<(), AttachmentError> {
        if !self.out.is_empty() {
            self.inner
                .write_all(&self.out)
                .map_err(|_| AttachmentError::Io(IoKind::Write))?;
            self.out.clear();
        }
        Ok(())
    }

    /// Ends the stream; returns the inner writer and the plaintext length.
    pub fn finish(mut self) -> Result<(W, u64), AttachmentError> {
        let dec = core::mem::replace(
            &mut self.dec,
            Decryptor::new(&AttachmentKey::from_bytes([0; 32])),
        );
        let n = dec.finish(&mut self.out)?;
        self.drain()?;
        self.inner
            .flush()
            .map_err(|_| AttachmentError::Io(IoKind::Write))?;
        Ok((self.inner, n))
    }
}

impl<W: Write> Write for DecryptWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.feed(buf)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
