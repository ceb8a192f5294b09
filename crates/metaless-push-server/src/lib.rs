//! A local stand-in for Session's push notification server, for end-to-end tests.
//!
//! [`MockPushServer`] is sans-IO: [`MockPushServer::handle`] answers `POST /subscribe` and
//! `POST /unsubscribe` bodies exactly as SPNS does (signature, timestamp window, canonical
//! namespaces; the request types are `metaless_envelope::push`'s), and
//! [`MockPushServer::message_stored`] is what the real server's swarm monitor does for each new
//! message: for every subscription that watches the account and namespace it encrypts a push
//! payload with the subscription's key and hands it to the delivery hook (where APNS / Firebase
//! would be). `docs/push.md` lists what a real push server learns — this one records the same.
//!
//! ```
//! use metaless_envelope::push::{PushKey, PushNotification, PushReply, PushService, Subscribe};
//! use metaless_identity::{Keypair, Seed};
//! use metaless_push_server::MockPushServer;
//! use std::sync::{Arc, Mutex};
//!
//! let delivered = Arc::new(Mutex::new(Vec::new()));
//! let sink = delivered.clone();
//! let mut server = MockPushServer::new(move |d| sink.lock().unwrap().push(d), rand_core::OsRng);
//! let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
//! let key = PushKey::from_bytes([7; 32]);
//! let now_ms = 1_700_000_000_000;
//! let sub = Subscribe::for_user(&bob, &[0], true, now_ms / 1000,
//!     PushService::new("apns", r#"{"token":"t"}"#)?, key.clone())?;
//! let (status, reply) = server.handle("/subscribe", sub.to_json().as_bytes(), now_ms);
//! assert_eq!((status, PushReply::from_json(&reply)?), (200, PushReply::Added));
//!
//! assert_eq!(server.message_stored(&bob.session_id(), 0, "hash1", b"ciphertext"), 1);
//! let push = delivered.lock().unwrap().pop().unwrap();
//! let note = PushNotification::open(&key, &push.payload)?;
//! assert_eq!((note.hash.as_str(), note.data.as_deref()), ("hash1", Some(&b"ciphertext"[..])));
//! # Ok::<(), metaless_envelope::push::PushError>(())
//! ```
//!
//! [`handle_onion`] / [`open_onion`] put it behind an onion v4 layer, as the real server sits at
//! `POST /oxen/v4/lsrpc`; [`server::spawn`] serves it on a socket (the testnet's push server),
//! with [`server::ServerHandle::watch`] standing in for SPNS's swarm monitoring.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod server;

use metaless_envelope::push::{
    PushError, PushNotification, PushReply, PushService, SUBSCRIBE_PATH, Subscribe,
    UNSUBSCRIBE_PATH, Unsubscribe, encrypt_payload, error_json,
};
use metaless_identity::SessionId;
use metaless_onion::{NodeKey, OnionError, open_layer, v4};
use rand_core::CryptoRngCore;

/// Largest message data included in a push; bigger messages are announced with `B: true` and
/// no data (SPNS's limit is "about 2.5 kB").
///
/// ```
/// assert_eq!(metaless_push_server::MAX_PUSH_DATA_LEN, 2500);
/// ```
pub const MAX_PUSH_DATA_LEN: usize = 2500;

/// One push, as the server would hand it to APNS / Firebase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The push service and the device's opaque service info (token).
    pub service: PushService,
    /// `enc_payload`: nonce ‖ XChaCha20-Poly1305 ciphertext, for the device to open with its
    /// `PushKey`.
    pub payload: Vec<u8>,
}

/// The mock push server.
pub struct MockPushServer<R> {
    subscriptions: Vec<Subscribe>,
    hook: Box<dyn FnMut(Delivery) + Send>,
    rng: R,
}

impl<R> core::fmt::Debug for MockPushServer<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MockPushServer")
            .field("subscriptions", &self.subscriptions.len())
            .finish_non_exhaustive()
    }
}

impl<R: CryptoRngCore> MockPushServer<R> {
    /// A server delivering every push to `hook`, drawing payload nonces from `rng`.
    pub fn new(hook: impl FnMut(Delivery) + Send + 'static, rng: R) -> Self {
        Self {
            subscriptions: Vec::new(),
            hook: Box::new(hook),
            rng,
        }
    }

    /// The current subscriptions (what the server knows about its users).
    pub fn subscriptions(&self) -> &[Subscribe] {
        &self.subscriptions
    }

    /// Which accounts and namespaces some subscription watches (what SPNS asks the swarm to
    /// monitor), each account once with the union of its namespaces.
    ///
    /// ```
    /// # use metaless_envelope::push::{PushKey, PushService, Subscribe};
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_push_server::MockPushServer;
    /// let mut server = MockPushServer::new(|_| {}, rand_core::OsRng);
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
    /// let sub = Subscribe::for_user(&bob, &[0, 5], false, 1_700_000_000,
    ///     PushService::new("apns", "{}")?, PushKey::from_bytes([7; 32]))?;
    /// server.handle("/subscribe", sub.to_json().as_bytes(), 1_700_000_000_000);
    /// assert_eq!(server.watched(), vec![(bob.session_id(), vec![0, 5])]);
    /// # Ok::<(), metaless_envelope::push::PushError>(())
    /// ```
    pub fn watched(&self) -> Vec<(SessionId, Vec<i16>)> {
        let mut out: Vec<(SessionId, Vec<i16>)> = Vec::new();
        for sub in &self.subscriptions {
            let id = *sub.account.id();
            match out.iter_mut().find(|(a, _)| *a == id) {
                Some((_, namespaces)) => {
                    namespaces.extend(&sub.namespaces);
                    namespaces.sort_unstable();
                    namespaces.dedup();
                }
                None => out.push((id, sub.namespaces.clone())),
            }
        }
        out
    }

    /// Answers one request: `path` is `/subscribe` or `/unsubscribe`, `body` its JSON; returns
    /// the HTTP status and the JSON reply SPNS would send.
    pub fn handle(&mut self, path: &str, body: &[u8], now_ms: u64) -> (u16, Vec<u8>) {
        let now_s = now_ms / 1000;
        let outcome = match path {
            SUBSCRIBE_PATH => self.subscribe(body, now_s),
            UNSUBSCRIBE_PATH => self.unsubscribe(body, now_s),
            _ => return (404, error_json(1, "no such endpoint").into_bytes()),
        };
        match outcome {
            Ok(reply) => (200, reply.to_json().into_bytes()),
            Err(err) => (400, error_json(1, &err.to_string()).into_bytes()),
        }
    }

    fn subscribe(&mut self, body: &[u8], now_s: u64) -> Result<PushReply, PushError> {
        let request = Subscribe::from_json(body)?;
        request.verify(now_s)?;
        // One subscription per (account, device): a new one replaces the old.
        match self
            .subscriptions
            .iter_mut()
            .find(|s| s.account.id() == request.account.id() && s.service == request.service)
        {
            Some(existing) => {
                *existing = request;
                Ok(PushReply::Updated)
            }
            None => {
                self.subscriptions.push(request);
                Ok(PushReply::Added)
            }
        }
    }

    fn unsubscribe(&mut self, body: &[u8], now_s: u64) -> Result<PushReply, PushError> {
        let request = Unsubscribe::from_json(body)?;
        request.verify(now_s)?;
        let before = self.subscriptions.len();
        self.subscriptions
            .retain(|s| !(s.account.id() == request.account.id() && s.service == request.service));
        Ok(PushReply::Removed(self.subscriptions.len() < before))
    }

    /// A message was stored for `account` in `namespace` (what the real server learns from
    /// monitoring the swarm): pushes it to every matching subscription; returns how many.
    pub fn message_stored(
        &mut self,
        account: &SessionId,
        namespace: i16,
        hash: &str,
        data: &[u8],
    ) -> usize {
        let mut delivered = 0;
        for sub in &self.subscriptions {
            if sub.account.id() != account || !sub.namespaces.contains(&namespace) {
                continue;
            }
            let too_big = data.len() > MAX_PUSH_DATA_LEN;
            let note = PushNotification {
                account: *account,
                hash: hash.into(),
                namespace,
                data_len: Some(data.len() as u64),
                data_too_big: sub.data && too_big,
                data: (sub.data && !too_big).then(|| data.to_vec()),
            };
            let mut nonce = [0u8; 24];
            self.rng.fill_bytes(&mut nonce);
            (self.hook)(Delivery {
                service: sub.service.clone(),
                payload: encrypt_payload(&sub.enc_key, &note.to_plaintext(), nonce),
            });
            delivered += 1;
        }
        delivered
    }
}

/// Opens an onion layer addressed to the push server (its X25519 key) and answers the v4
/// request inside; returns the encrypted reply (the HTTP body that goes back along the path).
/// A layer that does not open is an error (the front answers 400 without detail); a v4 request
/// that does not parse gets an encrypted 400.
///
/// ```
/// use metaless_identity::{Keypair, Seed, X25519Secret};
/// use metaless_onion::{build, peel, Destination, EncType, Hop, NodeKey, Peeled, ServerDestination, v4};
/// use metaless_push_server::{handle_onion, MockPushServer};
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
/// let keys = Keypair::from_seed(&Seed::from_bytes([9; 32]));
/// let mut server = MockPushServer::new(|_| {}, rand_core::OsRng);
/// let dest = Destination::Server(ServerDestination::new("127.0.0.1", 8080, "http", keys.x25519_public()).unwrap());
/// // A client wraps its request through one hop; the hop peels its layer and posts the rest.
/// let hop = X25519Secret::from_bytes([3; 32]);
/// let request = v4::encode_request("POST", "/unsubscribe", &[], Some(b"{}"));
/// let built = build(&[Hop::new([0xaa; 32], hop.public_key())], &dest, &request, EncType::XChaCha20, &mut rng).unwrap();
/// let Ok(Peeled::Server { body, .. }) = peel(&NodeKey::new(&hop), &built.body) else { panic!() };
/// let reply = handle_onion(&mut server, &NodeKey::from_keypair(&keys), 1_000, &body, &mut rng).unwrap();
/// let opened = built.pending.open(&reply).unwrap();
/// assert_eq!(v4::decode_response(&opened).unwrap().code, 400); // `{}` is no unsubscribe body
/// ```
pub fn handle_onion<R: CryptoRngCore>(
    server: &mut MockPushServer<R>,
    key: &NodeKey<'_>,
    now_ms: u64,
    body: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, OnionError> {
    let (plain, ctx) = open_layer(key, body)?;
    let out = open_onion(server, now_ms, &plain).unwrap_or_else(|_| {
        v4::encode_response(400, &JSON, error_json(1, "bad request").as_bytes())
    });
    ctx.encrypt_response(&out, rng)
}

const JSON: [(&str, &str); 1] = [("content-type", "application/json")];

/// Answers a decrypted v4 request (`POST /subscribe` or `POST /unsubscribe`) with a v4
/// response; other methods get 405, unknown paths 404.
///
/// ```
/// use metaless_onion::v4;
/// use metaless_push_server::{open_onion, MockPushServer};
/// let mut server = MockPushServer::new(|_| {}, rand_core::OsRng);
/// let get = v4::encode_request("GET", "/subscribe", &[], None);
/// assert_eq!(v4::decode_response(&open_onion(&mut server, 0, &get).unwrap()).unwrap().code, 405);
/// ```
pub fn open_onion<R: CryptoRngCore>(
    server: &mut MockPushServer<R>,
    now_ms: u64,
    v4_request: &[u8],
) -> Result<Vec<u8>, OnionError> {
    let req = v4::decode_request(v4_request)?;
    if req.method != "POST" {
        let body = error_json(1, "method not allowed");
        return Ok(v4::encode_response(405, &JSON, body.as_bytes()));
    }
    let (status, body) = server.handle(&req.endpoint, req.body.unwrap_or(&[]), now_ms);
    Ok(v4::encode_response(status, &JSON, &body))
}
