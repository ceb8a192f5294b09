//! Profile pictures. Two formats are in use upstream:
//!
//! * **'S' stream, domain [`crate::Domain::ProfilePic`]**: the deterministic format, produced by
//!   libsession-util and by session-desktop behind its `useDeterministicEncryption` flag; the
//!   avatar URL carries the `d` fragment.
//! * **Legacy AES-256-GCM**, still desktop's default producer (`encryptProfile` in
//!   `ts/util/crypto/profileEncrypter.ts`, used by `uploadAndSetOurAvatarShared`): `blob = iv(12)
//!   ‖ AES-256-GCM(profile key, iv, picture) ‖ tag(16)`, no associated data, the profile key
//!   (32 bytes) random per upload. Desktop's `decryptProfile` refuses blobs under 29 bytes.
//!
//! Both use a 32-byte key (the profile key a `Profile` / `UserProfile` config carries), so the
//! key length cannot tell them apart: [`decrypt_profile_pic`] follows the URL's `d` flag.

use alloc::vec::Vec;

use metaless_cipher::aes256gcm;
use rand_core::CryptoRngCore;

use crate::AttachmentError;
use crate::key::AttachmentKey;
use crate::limits::{PROFILE_IV_SIZE, PROFILE_MIN_BLOB, PROFILE_TAG_SIZE};
use crate::stream::{STREAM_MARKER, decrypt};

/// Legacy (AES-256-GCM) profile-picture encryption with a given IV: `iv ‖ ct ‖ tag`. The key is
/// the 32-byte profile key; desktop draws a fresh random key per upload (reuploads reuse it),
/// so give a fresh IV every time ([`encrypt_profile_legacy_random`] does).
///
/// ```
/// use metaless_attachment::{decrypt_profile_legacy, encrypt_profile_legacy, AttachmentKey};
/// let key = AttachmentKey::from_bytes([7; 32]);
/// let blob = encrypt_profile_legacy(&key, [1; 12], b"png bytes");
/// assert_eq!(blob.len(), 12 + 9 + 16);
/// assert_eq!(decrypt_profile_legacy(&key, &blob).unwrap(), b"png bytes");
/// ```
pub fn encrypt_profile_legacy(
    key: &AttachmentKey,
    iv: [u8; PROFILE_IV_SIZE],
    picture: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(PROFILE_IV_SIZE + picture.len() + PROFILE_TAG_SIZE);
    out.extend_from_slice(&iv);
    out.extend_from_slice(picture);
    let tag = match aes256gcm::seal_in_place_detached(
        key.expose_secret(),
        &iv,
        &[],
        &mut out[PROFILE_IV_SIZE..],
    ) {
        Ok(tag) => tag,
        // Only plaintexts over 64 GiB fail; a picture is a Vec in memory.
        Err(_) => unreachable_gcm(),
    };
    out.extend_from_slice(&tag);
    out
}

#[cold]
fn unreachable_gcm() -> ! {
    #[allow(clippy::panic)]
    {
        panic!("AES-GCM refuses only inputs over 64 GiB")
    }
}

/// [`encrypt_profile_legacy`] with a random profile key and IV (what desktop does for a new
/// avatar). Returns the key for the profile and the blob to upload.
///
/// ```
/// use metaless_attachment::{decrypt_profile_legacy, encrypt_profile_legacy_random};
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
/// let (key, blob) = encrypt_profile_legacy_random(&mut rng, b"avatar");
/// assert_eq!(decrypt_profile_legacy(&key, &blob).unwrap(), b"avatar");
/// ```
pub fn encrypt_profile_legacy_random(
    rng: &mut impl CryptoRngCore,
    picture: &[u8],
) -> (AttachmentKey, Vec<u8>) {
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let key = AttachmentKey::from_bytes(key);
    let mut iv = [0u8; PROFILE_IV_SIZE];
    rng.fill_bytes(&mut iv);
    let blob = encrypt_profile_legacy(&key, iv, picture);
    (key, blob)
}

/// Legacy (AES-256-GCM) profile-picture decryption, as desktop's `decryptProfile`: refuses a
/// blob under 29 bytes ([`AttachmentError::Truncated`]) and one whose tag does not verify
/// ([`AttachmentError::WrongKey`]: a changed profile key and tampering look the same).
///
/// ```
/// use metaless_attachment::{decrypt_profile_legacy, encrypt_profile_legacy, AttachmentError, AttachmentKey};
/// let key = AttachmentKey::from_bytes([7; 32]);
/// let mut blob = encrypt_profile_legacy(&key, [1; 12], b"png bytes");
/// blob[13] ^= 1;
/// assert_eq!(decrypt_profile_legacy(&key, &blob), Err(AttachmentError::WrongKey));
/// assert_eq!(decrypt_profile_legacy(&key, &blob[..28]), Err(AttachmentError::Truncated));
/// ```
pub fn decrypt_profile_legacy(
    key: &AttachmentKey,
    blob: &[u8],
) -> Result<Vec<u8>, AttachmentError> {
    if blob.len() < PROFILE_MIN_BLOB {
        return Err(AttachmentError::Truncated);
    }
    let (iv, sealed) = blob.split_at(PROFILE_IV_SIZE);
    let iv: &[u8; PROFILE_IV_SIZE] = iv.try_into().map_err(|_| AttachmentError::Truncated)?;
    aes256gcm::open(key.expose_secret(), iv, &[], sealed).map_err(|_| AttachmentError::WrongKey)
}

/// Decrypts a downloaded profile picture with its 32-byte profile key. `stream` says whether
/// the avatar URL carries a `d` flag (`url.stream != StreamFlag::Absent`, see
/// [`crate::StreamFlag`]): set, the 'S' format (encrypted under [`crate::Domain::ProfilePic`]); unset,
/// legacy AES-GCM. A blob that fails its format's
/// authentication is tried in the other (both authenticate, so this is no oracle: a desktop
/// `d=` URL or a re-shared pointer without the flag still opens); the first error is returned.
///
/// ```
/// use metaless_attachment::{decrypt_profile_pic, encrypt, encrypt_profile_legacy, AttachmentKey, Domain};
/// let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let (blob, key) = encrypt(&seed, b"new avatar", Domain::ProfilePic, false).unwrap();
/// assert_eq!(decrypt_profile_pic(&blob, &key, true).unwrap(), b"new avatar");
/// let old_key = AttachmentKey::from_bytes([9; 32]);
/// let old = encrypt_profile_legacy(&old_key, [2; 12], b"old avatar");
/// assert_eq!(decrypt_profile_pic(&old, &old_key, false).unwrap(), b"old avatar");
/// ```
pub fn decrypt_profile_pic(
    blob: &[u8],
    key: &AttachmentKey,
    stream: bool,
) -> Result<Vec<u8>, AttachmentError> {
    let looks_stream = blob.first() == Some(&STREAM_MARKER);
    if stream {
        match decrypt(blob, key) {
            Ok(plain) => Ok(plain),
            Err(e) => decrypt_profile_legacy(key, blob).map_err(|_| e),
        }
    } else {
        match decrypt_profile_legacy(key, blob) {
            Ok(plain) => Ok(plain),
            Err(e) if looks_stream => decrypt(blob, key).map_err(|_| e),
            Err(e) => Err(e),
        }
    }
}
