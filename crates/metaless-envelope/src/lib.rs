//! Session-compatible one-to-one messages: the SessionProtos protobuf, padding, and the
//! sign-then-seal encryption that libsession-util and every Session client use.
//!
//! The sign-then-seal layer is [`encrypt_for_recipient`] / [`decrypt_incoming`]; [`padding`]
//! pads the protobuf `Content` and the generated protobuf types live in [`proto`].
//! `docs/envelope.md` draws the byte layout.
//!
//! ```
//! use metaless_envelope::{decrypt_incoming, encrypt_for_recipient};
//! use metaless_identity::{Keypair, Seed};
//!
//! let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
//! let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
//! let sealed = encrypt_for_recipient(&alice, &bob.session_id(), b"hi Bob", &mut rand_core::OsRng)?;
//! let opened = decrypt_incoming(&bob, &sealed)?;
//! assert_eq!(opened.sender, alice.session_id());
//! assert_eq!(opened.plaintext, b"hi Bob");
//! # Ok::<(), metaless_envelope::EnvelopeError>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
pub mod limits;
pub mod padding;
pub mod proto;
mod sealed;

pub use error::EnvelopeError;
pub use sealed::{
    Decrypted, OVERHEAD, SEAL_OVERHEAD, SIGN_OVERHEAD, decrypt_incoming, encrypt_for_recipient,
    encrypt_for_recipient_deterministic,
};
