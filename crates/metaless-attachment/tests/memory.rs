//! Memory for a 10 MB attachment: the streaming and in-place APIs never hold the file twice.
//!
//! Measured as the process's peak resident set (Linux `VmHWM`, reset through
//! `/proc/self/clear_refs`) over what was resident before the step. One test in this binary on
//! purpose: a second test running in parallel would add its own memory to the peak.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Write};

use metaless_attachment::io::{decrypt_stream, encrypt_file};
use metaless_attachment::limits::MAX_REGULAR_SIZE;
use metaless_attachment::{Domain, decrypt_in_place, encrypt_in_place};
use metaless_identity::Seed;

const FILE: usize = 10_000_000;
const MIB: u64 = 1024 * 1024;

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak to the current resident size and returns that size, bytes.
fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    Some(status_kib("VmRSS:")? * 1024)
}

fn peak() -> u64 {
    status_kib("VmHWM:").unwrap() * 1024
}

/// A `Write` that counts and drops: the output's own size stays out of the measurement.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_10_mb_file_is_never_held_twice() {
    if reset_peak().is_none() {
        eprintln!("skipped: no /proc/self/clear_refs (not Linux, or not permitted)");
        return;
    }
    let seed = Seed::from_bytes([7; 32]);
    // Pseudo-random content, every page touched, so the file itself is resident.
    let data: Vec<u8> = (0..FILE as u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
        .collect();

    // Streaming encryption, source in memory, output counted: a few 64 KiB buffers.
    let before = reset_peak().unwrap();
    let mut out = Count(0);
    let (key, written) = encrypt_file(
        &seed,
        Domain::Attachment,
        &mut Cursor::new(&data[..]),
        &mut out,
        false,
    )
    .unwrap();
    let streaming = peak().saturating_sub(before);
    assert_eq!(written, out.0);
    assert!(
        streaming < 2 * MIB,
        "streaming encryption of 10 MB used {streaming} bytes over the file"
    );

    // In place: the buffer grows by the padding and chunk tags only.
    let mut buf = data.clone();
    let before = reset_peak().unwrap();
    let key2 = encrypt_in_place(&seed, &mut buf, Domain::Attachment, false).unwrap();
    let in_place = peak().saturating_sub(before);
    assert_eq!(key2.expose_secret(), key.expose_secret());
    assert_eq!(buf.len() as u64, written);
    assert!(
        in_place < (FILE as u64) / 2,
        "in-place encryption of 10 MB used {in_place} bytes over the buffer"
    );

    // Streaming decryption of the blob into a counter, then in place.
    let before = reset_peak().unwrap();
    let mut plain = Count(0);
    let n = decrypt_stream(&key, &mut &buf[..], &mut plain, MAX_REGULAR_SIZE).unwrap();
    let stream_dec = peak().saturating_sub(before);
    assert_eq!(n, FILE as u64);
    assert!(
        stream_dec < 2 * MIB,
        "streaming decryption of 10 MB used {stream_dec} bytes over the blob"
    );

    // Control: the one-shot decrypt returns a second full copy, and the measurement must see it
    // (otherwise the bounds above would prove nothing).
    let before = reset_peak().unwrap();
    let copy = metaless_attachment::decrypt(&buf, &key).unwrap();
    let one_shot = peak().saturating_sub(before);
    assert_eq!(copy.len(), FILE);
    drop(copy);
    assert!(
        one_shot > (FILE as u64) * 9 / 10,
        "the measurement missed a 10 MB allocation ({one_shot} bytes)"
    );

    let before = reset_peak().unwrap();
    decrypt_in_place(&mut buf, &key, false).unwrap();
    let dec_in_place = peak().saturating_sub(before);
    assert!(buf == data, "in-place decryption changed the content");
    assert!(
        dec_in_place < (FILE as u64) / 2,
        "in-place decryption of 10 MB used {dec_in_place} bytes over the blob"
    );
    eprintln!(
        "over the 10 MB file: streaming encrypt {streaming} B, in-place encrypt {in_place} B, streaming decrypt {stream_dec} B, in-place decrypt {dec_in_place} B (one-shot decrypt, the control: {one_shot} B)"
    );
}
