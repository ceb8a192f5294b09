//! A local Session community server (SOGS), reached like a real one: onion requests v4 to
//! `POST /oxen/v4/lsrpc`, encrypted to the server's X25519 key (the URL's `public_key`).
//!
//! * [`CommunityCore`] — sans-IO routes (capabilities, rooms, pollInfo, messages since/recent/
//!   before, post/edit/delete, reactions, file upload/download, blinded inbox/outbox, batch and
//!   sequence) over in-memory state, with session-pysogs' authentication checks and error
//!   replies (`metaless_community::auth::verify`): tampered signature 401, replayed nonce 425,
//!   stale timestamp 425, no room permission 403, oversize upload 413.
//! * [`handle_onion`] / [`open_onion`] — the onion layer (metaless-onion's `open_layer`) and v4
//!   framing around it.
//! * [`Store`] — the rows the core keeps: [`MemoryStore`], [`SqliteStore`] (rooms, permissions,
//!   posts, reactions, files, nonces of the replay window, bans, DMs).
//! * [`server`] — the hyper/tokio front ([`server::spawn`]) and the `metaless-community-server`
//!   binary.
//!
//! ```
//! use metaless_community::{AuthMode, CommunityUrl, Reply, Request};
//! use metaless_community_server::{handle_onion, CommunityCore, Config, Perms};
//! use metaless_identity::{Keypair, Seed, X25519Secret};
//! use metaless_onion::{build, peel, EncType, Hop, NodeKey, Peeled};
//! # use rand_core::SeedableRng;
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//! let server_secret = X25519Secret::from_bytes([9; 32]);
//! let mut core = CommunityCore::new(server_secret.public_key(), Config::default());
//! core.add_room("lobby", "Lobby", Perms::ALL, 0).unwrap();
//! let url = CommunityUrl::new("http://127.0.0.1:3000", "lobby", server_secret.public_key()).unwrap();
//!
//! // A client signs and wraps a request through one hop; the hop peels its layer and posts the rest.
//! let alice = Keypair::from_seed(&Seed::from_bytes([1; 32]));
//! let now_ms = 1_700_000_000_000;
//! let payload = Request::rooms().to_v4_signed(&alice, url.server_pk(), AuthMode::Blinded15, now_ms, &mut rng);
//! let hop = X25519Secret::from_bytes([3; 32]);
//! let built = build(&[Hop::new([0xaa; 32], hop.public_key())], &metaless_onion::Destination::Server(url.destination().unwrap()), &payload, EncType::XChaCha20, &mut rng).unwrap();
//! let Ok(Peeled::Server { body, .. }) = peel(&NodeKey::new(&hop), &built.body) else { panic!() };
//! let sealed = handle_onion(&mut core, &NodeKey::new(&server_secret), now_ms, &body, &mut rng).unwrap();
//! let reply = Reply::from_v4(&built.pending.open(&sealed).unwrap()).unwrap();
//! assert_eq!(reply.rooms().unwrap()[0].token, "lobby");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod core;
pub mod server;
mod sqlite;
mod store;

pub use crate::core::{CommunityCore, Config, HttpReply, HttpRequest, Perms};
pub use crate::sqlite::SqliteStore;
pub use crate::store::{
    Counter, DmRow, FileRow, MemoryStore, MessageQuery, PostRow, RoomRow, Store, StoreError,
};

/// Why a server could not start or change its setup.
///
/// ```
/// use metaless_community_server::{CommunityCore, Config, Perms, ServerError};
/// let mut core = CommunityCore::new([7; 32], Config::default());
/// assert!(matches!(core.add_room("no spaces", "x", Perms::ALL, 0), Err(ServerError::Community(_))));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A room token or URL the protocol refuses.
    #[error(transparent)]
    Community(#[from] metaless_community::CommunityError),
    /// Binding or reading the listener.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

use metaless_onion::{NodeKey, OnionError, open_layer, v4};
use rand_core::CryptoRngCore;

/// Opens an onion layer addressed to the server and answers the v4 request inside; returns the
/// encrypted reply (the HTTP body). A layer that does not open is an error (the front answers
/// HTTP 400, as pysogs does); a v4 payload that does not parse gets `Invalid v4 onion request`.
pub fn handle_onion<S: Store>(
    core: &mut CommunityCore<S>,
    key: &NodeKey<'_>,
    now_ms: u64,
    body: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, OnionError> {
    let (plain, ctx) = open_layer(key, body)?;
    ctx.encrypt_response(&open_onion(core, now_ms, &plain), rng)
}

/// Answers a decrypted v4 request with a v4 response (`400 Invalid v4 onion request` when the
/// framing is broken, as pysogs).
///
/// ```
/// use metaless_community_server::{open_onion, CommunityCore, Config};
/// let mut core = CommunityCore::new([7; 32], Config::default());
/// let resp = open_onion(&mut core, 0, b"not bencode");
/// let r = metaless_onion::v4::decode_response(&resp).unwrap();
/// assert_eq!((r.code, r.body), (400, &b"Invalid v4 onion request"[..]));
/// ```
pub fn open_onion<S: Store>(
    core: &mut CommunityCore<S>,
    now_ms: u64,
    v4_request: &[u8],
) -> Vec<u8> {
    let Ok(req) = v4::decode_request(v4_request) else {
        return v4::encode_response(400, &[], b"Invalid v4 onion request");
    };
    let headers = req
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let reply = core.handle(
        now_ms,
        &HttpRequest {
            method: &req.method,
            path: &req.endpoint,
            headers,
            body: req.body.unwrap_or(&[]),
        },
    );
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    v4::encode_response(reply.status, &headers, &reply.body)
}
