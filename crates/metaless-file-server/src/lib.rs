//! A local Session file server, reached like `filev2.getsession.org`: onion requests v4 to
//! `POST /oxen/v4/lsrpc`, encrypted to the server's X25519 key (the Ed25519 key a download
//! URL's `#p=` names, converted). Plain HTTP to the same routes works too, as on the real one.
//!
//! * [`FileServerCore`] — sans-IO routes (upload, download, info, extend), expiry and size cap
//!   over a [`Store`] ([`MemoryStore`], [`DiskStore`]); [`open_onion`] / [`handle_onion`] add the
//!   onion layer with metaless-onion's [`metaless_onion::open_layer`] and v4 framing.
//! * [`server`] — the hyper/tokio front ([`server::spawn`]) and the `metaless-file-server` binary.
//!
//! ```
//! use metaless_attachment::{FileRequest, FileServer, parse_upload_reply};
//! use metaless_file_server::{handle_onion, Config, FileServerCore, MemoryStore};
//! use metaless_identity::{Keypair, Seed};
//! use metaless_identity::X25519Secret;
//! use metaless_onion::{build, peel, EncType, Hop, NodeKey, Peeled};
//! # use rand_core::SeedableRng;
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//! let keys = Keypair::from_seed(&Seed::from_bytes([9; 32]));
//! let fs = FileServer::new("http", "127.0.0.1", 8080, keys.ed25519_public()).unwrap();
//! let mut core = FileServerCore::new(MemoryStore::default(), Config::default());
//!
//! // A client wraps the v4 upload for the server through one hop; the hop peels its layer
//! // and POSTs the rest to the server.
//! let hop = X25519Secret::from_bytes([3; 32]);
//! let path = [Hop::new([0xaa; 32], hop.public_key())];
//! let req = FileRequest::upload(b"S-encrypted bytes".to_vec(), None, None).unwrap();
//! let built = build(&path, &fs.destination().unwrap(), &req.to_v4(), EncType::XChaCha20, &mut rng).unwrap();
//! let Ok(Peeled::Server { body, .. }) = peel(&NodeKey::new(&hop), &built.body) else { panic!() };
//! let reply = handle_onion(&mut core, &NodeKey::from_keypair(&keys), 1_000, &body, &mut rng).unwrap();
//! let meta = parse_upload_reply(&built.pending.open(&reply).unwrap()).unwrap();
//! assert_eq!(meta.id.len(), 44);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod core;
mod disk;
pub mod server;

pub use crate::core::{
    Config, FileServerCore, MemoryStore, Meta, Reply, Request, Store, StoreError, file_id, valid_id,
};
pub use disk::DiskStore;

use metaless_onion::{NodeKey, OnionError, open_layer, v4};
use rand_core::CryptoRngCore;

/// Opens an onion layer addressed to the server and answers the v4 request inside; returns
/// the encrypted reply (what goes back as the HTTP body). A layer that does not open is an
/// error (the front answers 400 without detail, as a real server does).
pub fn handle_onion<S: Store>(
    core: &mut FileServerCore<S>,
    key: &NodeKey<'_>,
    now_ms: u64,
    body: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, OnionError> {
    let (plain, ctx) = open_layer(key, body)?;
    let out = match open_onion(core, now_ms, &plain) {
        Ok(reply) => reply,
        Err(_) => v4::encode_response(400, &[], br#"{"status_code":400}"#),
    };
    ctx.encrypt_response(&out, rng)
}

/// Answers a decrypted v4 request (bencoded) with a v4 response.
///
/// ```
/// use metaless_file_server::{open_onion, Config, FileServerCore, MemoryStore};
/// let mut core = FileServerCore::new(MemoryStore::default(), Config::default());
/// let req = metaless_onion::v4::encode_request("GET", "/file/nope", &[], None);
/// let resp = open_onion(&mut core, 0, &req).unwrap();
/// assert_eq!(metaless_onion::v4::decode_response(&resp).unwrap().code, 404);
/// ```
pub fn open_onion<S: Store>(
    core: &mut FileServerCore<S>,
    now_ms: u64,
    v4_request: &[u8],
) -> Result<Vec<u8>, OnionError> {
    let req = v4::decode_request(v4_request)?;
    let headers = req
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let reply = core.handle(
        now_ms,
        &Request {
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
    Ok(v4::encode_response(reply.status, &headers, &reply.body))
}
