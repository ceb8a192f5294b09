//! Session-compatible one-to-one messages: the SessionProtos protobuf, padding, and the
//! sign-then-seal encryption that libsession-util and every Session client use.
//!
//! A message is stored as `WebSocketMessage { request { body: Envelope { content } } }`, where
//! `content` is the sender's signed and sealed box of the padded protobuf `Content`.
//! [`seal_message`] builds exactly those bytes; [`open_message`] takes them apart again,
//! verifying the signature over the bytes as received. The layers below are public too:
//! [`encrypt_for_recipient`] / [`decrypt_incoming`] (raw sign-then-seal; [`SenderKeys`] remembers
//! the sender keys already checked, for receivers that open many messages), [`padding`], and (with
//! feature `proto`) the generated protobuf types in `proto`, which stay private otherwise. `docs/envelope.md` draws the byte layout.
//!
//! ```
//! use metaless_envelope::{open_message, seal_message, storage_ttl_ms, Content, DisappearMode, Disappearing};
//! use metaless_identity::{Keypair, Seed};
//!
//! let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
//! let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
//! let content = Content::text("hi Bob").disappearing(Disappearing::new(DisappearMode::AfterSend, 3600));
//! let stored = seal_message(&alice, &bob.session_id(), &content, 1_700_000_000_000, &mut rand_core::OsRng)?;
//! assert_eq!(storage_ttl_ms(&content), 3_600_000);
//!
//! let received = open_message(&bob, &stored)?;
//! assert_eq!(received.sender, alice.session_id());
//! assert_eq!(received.content, content);
//! assert_eq!(received.sent_at_ms, 1_700_000_000_000);
//! # Ok::<(), metaless_envelope::EnvelopeError>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod attachment;
mod call;
mod call_state;
mod content;
mod disappearing;
mod error;
mod group_update;
pub mod limits;
mod message;
pub mod padding;
#[cfg(feature = "proto")]
pub mod proto;
#[cfg(not(feature = "proto"))]
mod proto;
pub mod push;
mod sealed;
mod secret;
mod sender_keys;
mod visible;

pub use attachment::{ATTACHMENT_FLAG_VOICE_MESSAGE, AttachmentPointer};
pub use call::{CallError, CallMessage, CallSignal, IceCandidate};
pub use call_state::{CALL_TIMEOUT_MS, Call, CallDirection, CallEvent, CallState, CallTransmit};
pub use content::{Content, DataExtractionKind, Message, ReceiptKind, TypingAction};
pub use disappearing::{
    CALL_MESSAGE_TTL_MS, DEFAULT_MESSAGE_TTL_MS, DisappearMode, Disappearing,
    TYPING_MESSAGE_TTL_MS, storage_ttl_ms,
};
pub use error::EnvelopeError;
pub use group_update::{GroupUpdate, InfoChangeKind, MemberChangeKind};
#[cfg(feature = "proto")]
pub use message::seal_proto;
pub use message::{Received, open_envelope, open_message, seal_message};
pub use sealed::{
    Decrypted, OVERHEAD, PreparedRecipient, SEAL_OVERHEAD, SIGN_OVERHEAD, decrypt_incoming,
    encrypt_for_prepared, encrypt_for_recipient, encrypt_for_recipient_deterministic,
};
pub use secret::SecretBytes;
pub use sender_keys::SenderKeys;
pub use visible::{
    CommunityInvitation, LinkPreview, Profile, Quote, QuotedAttachment, Reaction, ReactionAction,
    VisibleMessage,
};
