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
#![forbid(unsafe_code)]

use metaless_envelope::push::{
    PushError, PushNotification, PushReply, PushService, SUBSCRIBE_PATH, Subscribe,
    UNSUBSCRIBE_PATH, Unsubscribe, encrypt_payload, error_json,
};
use metaless_identity::SessionId;
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
