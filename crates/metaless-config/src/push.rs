//! The whole push and receive pipeline for one stored config message.
//!
//! Push: `serialized` → compress (level 1, when smaller) → prefix zero-pad → encrypt
//! (`key_base`, the kind's domain) → for user kinds the legacy protobuf wrap. The result is
//! what goes (base64) into a storage-RPC `store` at [`Kind::namespace`].
//!
//! Receive: unwrap (once or twice, else raw) → decrypt with each key given → unpad → inflate
//! → a serialized message for [`Config::merge`](crate::Config::merge).
//!
//! ```
//! use metaless_config::{push, Config, Kind};
//! use metaless_identity::{Keypair, Seed};
//! let seed = Seed::from_bytes([1; 32]);
//! let me = Keypair::from_seed(&seed);
//! let c = Config::new(Kind::UserProfile);
//! let stored = push::seal_user(&me, &seed, Kind::UserProfile, &c.push()).unwrap();
//! assert_eq!(stored.len(), 432);
//! assert_eq!(push::open_user(&me, &seed, Kind::UserProfile, &stored).unwrap(), c.push().serialized);
//! ```

use alloc::vec::Vec;

use metaless_identity::{Keypair, Seed};

use crate::{ConfigError, Kind, Push, encrypt, limits, wrap};

/// Compression level pushes use (upstream's default).
pub const COMPRESSION_LEVEL: i32 = 1;

/// Encrypts `push` with `key_base` for `kind`, without the protobuf wrap (group configs, or
/// user configs for clients that read raw pushes).
///
/// ```
/// use metaless_config::{push, Config, Kind};
/// let stored = push::seal(&[2; 32], Kind::GroupInfo, &Config::new(Kind::GroupInfo).push()).unwrap();
/// assert_eq!(stored.len(), 256);
/// ```
pub fn seal(key_base: &[u8; 32], kind: Kind, push: &Push) -> Result<Vec<u8>, ConfigError> {
    encrypt::seal(
        &push.serialized,
        key_base,
        kind.domain(),
        Some(COMPRESSION_LEVEL),
    )
}

/// Decrypts a raw (unwrapped) stored message with the first of `keys` that opens it.
///
/// ```
/// use metaless_config::{push, Config, ConfigError, Kind};
/// let stored = push::seal(&[2; 32], Kind::GroupInfo, &Config::new(Kind::GroupInfo).push()).unwrap();
/// assert!(push::open(&[[9; 32], [2; 32]], Kind::GroupInfo, &stored).is_ok());
/// assert_eq!(push::open(&[[9; 32]], Kind::GroupInfo, &stored).unwrap_err(), ConfigError::Decrypt);
/// ```
pub fn open(keys: &[[u8; 32]], kind: Kind, stored: &[u8]) -> Result<Vec<u8>, ConfigError> {
    if stored.len() > limits::MAX_MESSAGE_SIZE {
        return Err(ConfigError::TooLarge {
            len: stored.len(),
            max: limits::MAX_MESSAGE_SIZE,
        });
    }
    let mut last = ConfigError::Decrypt;
    for k in keys {
        match encrypt::open(stored, k, kind.domain()) {
            Ok(plain) => return Ok(plain),
            // A wrong key is expected while trying keys; a bad plaintext is the answer.
            Err(ConfigError::Decrypt) => {}
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A user config push as stored: encrypted with the account seed, then protobuf-wrapped.
///
/// ```
/// # use metaless_config::{push, Config, Kind, ConfigError};
/// # use metaless_identity::{Keypair, Seed};
/// let seed = Seed::from_bytes([1; 32]);
/// let me = Keypair::from_seed(&seed);
/// let p = Config::new(Kind::GroupInfo).push();
/// assert_eq!(push::seal_user(&me, &seed, Kind::GroupInfo, &p).unwrap_err(), ConfigError::BadWrapper);
/// ```
pub fn seal_user(
    me: &Keypair,
    seed: &Seed,
    kind: Kind,
    push: &Push,
) -> Result<Vec<u8>, ConfigError> {
    let inner = seal(seed.expose_secret(), kind, push)?;
    wrap::wrap(me, &inner, push.seqno, kind)
}

/// Opens a stored user config message (wrapped or raw) with the account seed.
///
/// ```
/// # use metaless_config::{push, ConfigError, Kind};
/// # use metaless_identity::{Keypair, Seed};
/// let seed = Seed::from_bytes([1; 32]);
/// let me = Keypair::from_seed(&seed);
/// assert_eq!(push::open_user(&me, &seed, Kind::Contacts, b"garbage").unwrap_err(), ConfigError::Decrypt);
/// ```
pub fn open_user(
    me: &Keypair,
    seed: &Seed,
    kind: Kind,
    stored: &[u8],
) -> Result<Vec<u8>, ConfigError> {
    if stored.len() > limits::MAX_MESSAGE_SIZE {
        return Err(ConfigError::TooLarge {
            len: stored.len(),
            max: limits::MAX_MESSAGE_SIZE,
        });
    }
    let inner = wrap::unwrap_all(me, stored, kind);
    open(&[*seed.expose_secret()], kind, &inner)
}
