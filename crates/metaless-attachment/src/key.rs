//! The 'S' format's keys: the domain, the key derived from seed and content, the 32-byte
//! attachment key.

use core::fmt;

use blake2::Blake2bMac;
use blake2::digest::consts::U56;
use blake2::digest::{FixedOutput, Mac};
use metaless_identity::Seed;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::AttachmentError;
use crate::limits::{HEADER_SIZE, KEY_SIZE};

/// What the file is for; it personalises the key derivation so an avatar and an attachment
/// with the same bytes get unrelated keys.
///
/// ```
/// use metaless_attachment::Domain;
/// assert_eq!(Domain::Attachment.personalisation(), b"SessionAttachmnt");
/// assert_eq!(Domain::ProfilePic.personalisation(), b"Session_Prof_Pic");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// A message attachment (libsession-util `Domain::ATTACHMENT`).
    Attachment,
    /// A profile picture (libsession-util `Domain::PROFILE_PIC`); its key is the profile key.
    ProfilePic,
}

impl Domain {
    /// The 16-byte BLAKE2b personalisation.
    pub fn personalisation(self) -> &'static [u8; 16] {
        match self {
            Domain::Attachment => b"SessionAttachmnt",
            Domain::ProfilePic => b"Session_Prof_Pic",
        }
    }
}

/// The 32-byte key of an 'S' attachment (what `AttachmentPointer.key` carries).
///
/// Zeroized on drop, not `Copy`, compared in constant time, `Debug` prints nothing secret.
///
/// ```
/// use metaless_attachment::AttachmentKey;
/// let key = AttachmentKey::from_bytes([7; 32]);
/// assert_eq!(format!("{key:?}"), "AttachmentKey(<redacted>)");
/// assert!(AttachmentKey::from_slice(&[0; 64]).is_err());
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AttachmentKey([u8; KEY_SIZE]);

impl AttachmentKey {
    /// Wraps 32 key bytes.
    pub fn from_bytes(bytes: [u8; KEY_SIZE]) -> Self {
        Self(bytes)
    }

    /// Wraps a key received in a pointer; refuses any length but 32.
    ///
    /// ```
    /// # use metaless_attachment::AttachmentKey;
    /// assert!(AttachmentKey::from_slice(&[1; 32]).is_ok());
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Result<Self, AttachmentError> {
        let arr: [u8; KEY_SIZE] = bytes.try_into().map_err(|_| AttachmentError::KeyLength {
            expected: KEY_SIZE,
            got: bytes.len(),
        })?;
        Ok(Self(arr))
    }

    /// The key bytes, to put into an `AttachmentPointer` (or a profile key).
    ///
    /// ```
    /// # use metaless_attachment::AttachmentKey;
    /// assert_eq!(AttachmentKey::from_bytes([3; 32]).expose_secret(), &[3; 32]);
    /// ```
    pub fn expose_secret(&self) -> &[u8; KEY_SIZE] {
        &self.0
    }
}

impl PartialEq for AttachmentKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for AttachmentKey {}

impl fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttachmentKey(<redacted>)")
    }
}

/// Phase one of 'S' encryption: `BLAKE2b-56(plaintext; key = uploader seed, personal = domain)`.
/// Feed it the whole plaintext, then [`finish`](Self::finish) gives the stream key and nonce.
///
/// Deterministic by design (upstream: the same seed and file give the same upload, so the
/// server can de-duplicate), which means the key is a function of the content: whoever knows
/// the seed and guesses the file can confirm the guess.
///
/// ```
/// use metaless_attachment::{Domain, KeyDeriver};
/// use metaless_identity::Seed;
/// let seed = Seed::from_bytes([1; 32]);
/// let mut a = KeyDeriver::new(&seed, Domain::Attachment);
/// a.update(b"hello ");
/// a.update(b"world");
/// let mut b = KeyDeriver::new(&seed, Domain::Attachment);
/// b.update(b"hello world");
/// assert_eq!(a.finish().key(), b.finish().key());
/// ```
pub struct KeyDeriver {
    mac: Blake2bMac<U56>,
    len: u64,
}

impl KeyDeriver {
    /// Starts the hash for `seed` (the account's Ed25519 seed) and `domain`.
    pub fn new(seed: &Seed, domain: Domain) -> Self {
        // An empty salt is libsodium's NULL salt (zero bytes); key 32 and persona 16 bytes are
        // within BLAKE2b's limits, so this cannot fail.
        let mac = match Blake2bMac::<U56>::new_with_salt_and_personal(
            seed.expose_secret(),
            &[],
            domain.personalisation(),
        ) {
            Ok(mac) => mac,
            Err(_) => unreachable_blake2(),
        };
        Self { mac, len: 0 }
    }

    /// Absorbs the next plaintext bytes.
    pub fn update(&mut self, data: &[u8]) {
        Mac::update(&mut self.mac, data);
        self.len += data.len() as u64;
    }

    /// Plaintext bytes absorbed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was absorbed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Ends the hash: `nonce = h[0..24]` (the stream header), `key = h[24..56]`.
    pub fn finish(self) -> StreamKeys {
        let mut out = self.mac.finalize_fixed();
        let mut nonce = [0u8; HEADER_SIZE];
        let mut key = [0u8; KEY_SIZE];
        nonce.copy_from_slice(&out[..HEADER_SIZE]);
        key.copy_from_slice(&out[HEADER_SIZE..]);
        out.as_mut_slice().zeroize();
        let keys = StreamKeys {
            nonce,
            key: AttachmentKey(key),
            plaintext_len: self.len,
        };
        key.zeroize();
        keys
    }
}

#[cold]
fn unreachable_blake2() -> ! {
    // Key (32) and persona (16) lengths are constants within BLAKE2b's limits.
    #[allow(clippy::panic)]
    {
        panic!("BLAKE2b parameters are constant and valid")
    }
}

/// The result of [`KeyDeriver::finish`]: what the encryptor needs.
///
/// ```
/// # use metaless_attachment::{Domain, KeyDeriver};
/// # let seed = metaless_identity::Seed::from_bytes([1; 32]);
/// let keys = KeyDeriver::new(&seed, Domain::Attachment).finish();
/// assert_eq!(keys.plaintext_len(), 0);
/// assert_eq!(format!("{keys:?}"), "StreamKeys(<redacted>)");
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StreamKeys {
    pub(crate) nonce: [u8; HEADER_SIZE],
    pub(crate) key: AttachmentKey,
    #[zeroize(skip)]
    pub(crate) plaintext_len: u64,
}

impl StreamKeys {
    /// The attachment key (for the pointer).
    pub fn key(&self) -> &AttachmentKey {
        &self.key
    }

    /// How many plaintext bytes were hashed: the encryptor must be given exactly these.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }
}

impl fmt::Debug for StreamKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamKeys(<redacted>)")
    }
}
