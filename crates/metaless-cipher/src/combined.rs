//! The combined `ciphertext ‖ tag` layout of the two IETF-style AEADs (XChaCha20-Poly1305 and
//! AES-256-GCM), built from their detached in-place forms so the layout and the "verify before
//! decrypting a copy" rule are written once.

use alloc::vec::Vec;

use crate::CipherError;

const TAG_LEN: usize = 16;

/// `plaintext` sealed by `seal_in_place`, then the tag: one allocation of exactly that length.
/// Length checks are the caller's, before this is called, so nothing is allocated for an
/// input the cipher refuses.
pub(crate) fn seal(
    plaintext: &[u8],
    seal_in_place: impl FnOnce(&mut [u8]) -> Result<[u8; TAG_LEN], CipherError>,
) -> Result<Vec<u8>, CipherError> {
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = seal_in_place(&mut out)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Splits `sealed` into ciphertext and tag and opens a copy of the ciphertext with
/// `open_in_place`, which verifies before it decrypts: a forgery drops the copy unread.
pub(crate) fn open(
    sealed: &[u8],
    open_in_place: impl FnOnce(&mut [u8], &[u8; TAG_LEN]) -> Result<(), CipherError>,
) -> Result<Vec<u8>, CipherError> {
    let Some(split) = sealed.len().checked_sub(TAG_LEN) else {
        return Err(CipherError::TooShort {
            len: sealed.len(),
            tag: TAG_LEN,
        });
    };
    let (ct, tag) = sealed.split_at(split);
    let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| CipherError::Forged)?;
    let mut out = ct.to_vec();
    open_in_place(&mut out, tag)?;
    Ok(out)
}
