//! Session communities (SOGS, "open groups") without I/O: community URLs, the `X-SOGS-*`
//! request signer (and the server's check of it), typed requests and reply parsers for the
//! endpoints a client uses, `/batch` and `/sequence`, and blinded DMs through the inbox.
//!
//! Requests travel as onion v4 payloads to the server's X25519 key (from the URL); this crate
//! builds the payload ([`Request::to_v4`]) and the destination ([`CommunityUrl::destination`]),
//! and parses the opened reply ([`Reply::from_v4`]). The transport is the caller's.
//!
//! ```
//! use metaless_community::{AuthMode, CommunityUrl, Reply, Request};
//! use metaless_identity::{Keypair, Seed};
//! use rand_core::SeedableRng;
//!
//! let url = CommunityUrl::parse(&format!("http://127.0.0.1:3000/lobby?public_key={}", "ab".repeat(32))).unwrap();
//! let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([0; 32]);
//! let req = Request::messages_recent(url.room(), Some(50)).unwrap();
//! let payload = req.to_v4_signed(&keys, url.server_pk(), AuthMode::Blinded15, 1_700_000_000_000, &mut rng);
//! // … onion-encrypt `payload` to url.destination(), send, open the reply …
//! let reply = Reply::from_v4(&metaless_onion::v4::encode_response(200, &[], b"[]")).unwrap();
//! assert!(reply.messages().unwrap().is_empty());
//! # let _ = payload;
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod auth;
pub mod dm;
mod error;
pub mod limits;
mod reply;
mod request;
mod url;

pub use auth::{AuthHeaders, AuthMode, AuthRejection, ReceivedAuth};
pub use error::CommunityError;
pub use reply::{
    Capabilities, DirectMessage, Message, PinnedMessage, PollInfo, Reaction, ReactionAdded,
    ReactionRemoved, Reply, Room, UserPermissions,
};
pub use request::{Body, PostMessage, Request};
pub use url::{CommunityUrl, check_room};
