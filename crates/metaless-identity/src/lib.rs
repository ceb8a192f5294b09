//! Account identity for metaless, wire-compatible with the Session network.
//!
//! A 32-byte Ed25519 [`Seed`] is the whole account. From it follow the Ed25519 signing key,
//! the X25519 key the network encrypts to (derived exactly as libsodium's
//! `crypto_sign_ed25519_sk_to_curve25519` / `_pk_to_curve25519` do) and the 66-character
//! [`SessionId`]. The seed is written down as a [`RecoveryPhrase`] ([`mnemonic`]), and community
//! servers see the account only through per-server blinded keys ([`blinding`]). The byte-level
//! derivations are in `docs/identity.md`.
//!
//! ```
//! use metaless_identity::{Keypair, Seed, SessionId};
//!
//! let seed = Seed::from_bytes([7u8; 32]);
//! let keys = Keypair::from_seed(&seed);
//! let id: SessionId = keys.session_id();
//! assert_eq!(id.to_string().len(), 66);
//! assert!(id.to_string().starts_with("05"));
//! ```
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod blinding;
mod error;
pub mod hex;
mod keypair;
pub mod limits;
pub mod mnemonic;
mod seed;
mod session_id;
pub mod wire;
pub mod x25519;

/// The `rand_core` version this crate's APIs take generators from ([`Seed::generate`] and the
/// key-making functions), re-exported so an app names the traits and `OsRng` through us and
/// never needs to match our `rand_core` version with its own (`rand` 0.9 uses another one).
/// `OsRng` needs the `getrandom` feature.
///
/// ```
/// use metaless_identity::rand_core::OsRng;
/// let seed = metaless_identity::Seed::generate(&mut OsRng);
/// assert!(seed.is_legacy());
/// ```
pub use rand_core;

pub use error::IdentityError;
pub use keypair::{Keypair, X25519Secret, ed25519_to_x25519_public, verify_ed25519};
pub use mnemonic::RecoveryPhrase;
pub use seed::Seed;
pub use session_id::{SessionId, SessionIdPrefix};

/// Length in bytes of an Ed25519 or X25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length in bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
