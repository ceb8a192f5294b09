//! libsodium's `crypto_secretstream_xchacha20poly1305`, push and pull, over metaless-cipher's
//! ChaCha20, HChaCha20 and Poly1305 (whose `update` takes input that is not block-aligned and
//! pads the last partial block with Poly1305's own `0x01`, as libsodium's incremental
//! `onetimeauth` does).
//!
//! State: a 32-byte subkey `k = HChaCha20(key, header[0..16])` and a 12-byte IETF nonce
//! `counter(4, LE, starts at 1) ‖ inonce(8) = header[16..24]`. Per message: Poly1305 key =
//! ChaCha20 block 0; the tag byte is XORed with block 1's first byte and the MAC covers all
//! 64 bytes of that block; the message is XORed from block 2; then libsodium's quirk: the MAC
//! input gets `(0x10 − 64 + mlen) & 0xf` = `mlen mod 16` zero bytes (not the AEAD pad), then
//! `le64(0) ‖ le64(64 + mlen)`, so the Poly1305 input is usually not block-aligned. Afterwards `inonce ^= mac[0..8]` and the counter
//! increments. No associated data is used by attachments.

use metaless_cipher::chacha20;
use metaless_cipher::poly1305::Poly1305;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::limits::{CHUNK_OVERHEAD, HEADER_SIZE, KEY_SIZE};

/// Tag of every chunk but the last.
pub(crate) const TAG_MESSAGE: u8 = 0;
/// Tag of the last chunk.
pub(crate) const TAG_FINAL: u8 = 3;
/// libsodium's REKEY bit (never produced by attachments; honoured on pull).
const TAG_REKEY: u8 = 2;
const MAC_LEN: usize = 16;

#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct SecretStream {
    k: [u8; KEY_SIZE],
    nonce: [u8; 12],
}

/// A chunk failed authentication.
pub(crate) struct Forged;

impl SecretStream {
    /// The state `init_pull(header, key)` produces (and upstream's seeded `init_push`).
    pub(crate) fn new(key: &[u8; KEY_SIZE], header: &[u8; HEADER_SIZE]) -> Self {
        let mut input = [0u8; 16];
        input.copy_from_slice(&header[..16]);
        let k = chacha20::hchacha20(key, &input);
        let mut nonce = [0u8; 12];
        nonce[0] = 1;
        nonce[4..].copy_from_slice(&header[16..]);
        Self { k, nonce }
    }

    /// Poly1305 keyed by block 0; `block` becomes block 1's keystream XOR `first`.
    fn start(&self, first: u8) -> (Poly1305, [u8; 64]) {
        let mut block = chacha20::block(&self.k, &self.nonce, 0);
        let mut mac_key = [0u8; 32];
        mac_key.copy_from_slice(&block[..32]);
        let mac = Poly1305::new(&mac_key);
        mac_key.zeroize();
        block.zeroize();
        let mut block = chacha20::block(&self.k, &self.nonce, 1);
        block[0] ^= first;
        (mac, block)
    }

    /// The message keystream from block 2. It cannot run out for a chunk (at most
    /// `ENCRYPTED_CHUNK_TOTAL` bytes against the counter's 256 GiB); were it to, the body is
    /// zeroed rather than left in plaintext.
    fn xor_body(&self, body: &mut [u8]) {
        if chacha20::xor_in_place(&self.k, &self.nonce, 2, body).is_err() {
            body.zeroize();
        }
    }

    fn lengths(mlen: usize) -> [u8; 16] {
        let mut lens = [0u8; 16];
        lens[8..].copy_from_slice(&(64u64 + mlen as u64).to_le_bytes());
        lens
    }

    fn advance(&mut self, mac: &[u8; MAC_LEN], tag: u8) {
        for (n, m) in self.nonce[4..].iter_mut().zip(mac.iter()) {
            *n ^= m;
        }
        let counter =
            u32::from_le_bytes([self.nonce[0], self.nonce[1], self.nonce[2], self.nonce[3]])
                .wrapping_add(1);
        self.nonce[..4].copy_from_slice(&counter.to_le_bytes());
        if tag & TAG_REKEY != 0 || counter == 0 {
            self.rekey();
        }
    }

    fn rekey(&mut self) {
        let mut buf = [0u8; 40];
        buf[..32].copy_from_slice(&self.k);
        buf[32..].copy_from_slice(&self.nonce[4..]);
        let mut ks = chacha20::block(&self.k, &self.nonce, 0);
        for (b, k) in buf.iter_mut().zip(ks.iter()) {
            *b ^= k;
        }
        ks.zeroize();
        self.k.copy_from_slice(&buf[..32]);
        self.nonce[4..].copy_from_slice(&buf[32..]);
        self.nonce[..4].copy_from_slice(&1u32.to_le_bytes());
        buf.zeroize();
    }

    /// Encrypts in place. `chunk` is `[_ ‖ message ‖ 16 spare bytes]`; on return it is the
    /// encrypted chunk `[tag ‖ ciphertext ‖ mac]`.
    pub(crate) fn push_in_place(&mut self, chunk: &mut [u8], tag: u8) {
        debug_assert!(chunk.len() >= CHUNK_OVERHEAD);
        let mlen = chunk.len() - CHUNK_OVERHEAD;
        let (mut mac, mut block) = self.start(tag);
        mac.update(&block);
        chunk[0] = block[0];
        block.zeroize();
        let (body, tail) = chunk[1..].split_at_mut(mlen);
        self.xor_body(body);
        mac.update(body);
        mac.update(&[0u8; 16][..mlen % 16]);
        mac.update(&Self::lengths(mlen));
        let out = mac.finalize();
        tail.copy_from_slice(&out);
        self.advance(&out, tag);
    }

    /// Authenticates and decrypts in place; on success `chunk[1..len-16]` is the plaintext and
    /// the tag is returned. On failure the state and `chunk` are unchanged.
    pub(crate) fn pull_in_place(&mut self, chunk: &mut [u8]) -> Result<u8, Forged> {
        if chunk.len() < CHUNK_OVERHEAD {
            return Err(Forged);
        }
        let mlen = chunk.len() - CHUNK_OVERHEAD;
        let (mut mac, mut block) = self.start(chunk[0]);
        let tag = block[0];
        block[0] = chunk[0];
        mac.update(&block);
        block.zeroize();
        let (body, tail) = chunk[1..].split_at_mut(mlen);
        mac.update(body);
        mac.update(&[0u8; 16][..mlen % 16]);
        mac.update(&Self::lengths(mlen));
        let expected = mac.finalize();
        if !bool::from(expected.ct_eq(&tail[..])) {
            return Err(Forged);
        }
        self.xor_body(body);
        self.advance(&expected, tag);
        Ok(tag)
    }
}
