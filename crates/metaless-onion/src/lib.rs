//! Session onion requests, byte-exact with the live network (onion requests as built by
//! libsession-util and peeled by oxen-storage-server, encryption types `xchacha20` and
//! `aes-gcm`).
//!
//! * Client: [`build`] wraps a payload in one layer per [`Hop`] of a path plus one for the
//!   [`Destination`] (a service node or an HTTP server), giving the body to post to the first
//!   hop and a [`PendingResponse`] — the only thing that can open the reply.
//! * Hop: [`peel`] removes one layer and says what to do: [`Peeled::Forward`] to the next node,
//!   [`Peeled::Server`] to proxy to an HTTP server, [`Peeled::Deliver`] here (with the
//!   [`ReplyContext`] that encrypts the answer), or [`Peeled::Reject`]. Hop failures map to
//!   upstream's status and text through [`HopError`]; [`hop_no`] and [`with_hop_no`] read and
//!   rewrite the hop count a relay carries in the routing JSON it forwards.
//! * HTTP server destination: [`open_layer`], then [`v4`] framing.
//!
//! No I/O, no clock, no global RNG: randomness comes from the caller. Format and limits:
//! `docs/onion-format.md` and [`limits`].
//!
//! ```
//! use metaless_identity::X25519Secret;
//! use metaless_onion::{build, peel, Destination, EncType, Hop, NodeKey, Peeled};
//! # use rand_core::SeedableRng;
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([7u8; 32]);
//! let guard = X25519Secret::from_bytes([1u8; 32]);
//! let dest = X25519Secret::from_bytes([2u8; 32]);
//! let path = [Hop::new([0xaa; 32], guard.public_key())];
//! let to = Destination::ServiceNode(Hop::new([0xbb; 32], dest.public_key()));
//!
//! let request = build(&path, &to, br#"{"method":"info","params":{}}"#, EncType::XChaCha20, &mut rng).unwrap();
//! let Peeled::Forward { next_ed25519, body, .. } = peel(&NodeKey::new(&guard), &request.body).unwrap() else { panic!() };
//! assert_eq!(next_ed25519, [0xbb; 32]);
//! let Peeled::Deliver(delivery) = peel(&NodeKey::new(&dest), &body).unwrap() else { panic!() };
//! let reply = delivery.reply().encrypt_response(b"{}", &mut rng).unwrap();
//! assert_eq!(request.pending.open(&reply).unwrap(), b"{}");
//! ```
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod build;
mod enc;
mod error;
mod hop;
mod hop_error;
mod json;
pub mod limits;
mod peel;
mod reply;
mod routing;
pub mod v4;
pub mod x25519;

/// HTTP path a service node accepts onion requests on (upstream storage server
/// `/onion_req/v2`): the one place this endpoint is spelled.
///
/// ```
/// assert_eq!(metaless_onion::ONION_PATH, "/onion_req/v2");
/// ```
pub const ONION_PATH: &str = "/onion_req/v2";

pub use build::{BuiltRequest, Destination, Hop, ServerDestination, build};
pub use enc::{EncType, TAG_LEN};
pub use error::OnionError;
pub use hop_error::HopError;
pub use peel::{Delivery, Layer, NodeKey, Peeled, decode_layer, open_layer, peel};
pub use reply::{PendingResponse, ReplyContext, SnodeReply};
pub use routing::{hop_no, with_hop_no};
