//! Push registration (issue 17 item 4): subscribe and unsubscribe this account with a push
//! notification server through an onion request, and open the pushes it sends.
//!
//! The request bodies are `metaless_envelope::push`'s (the signed `MONITOR` / `UNSUBSCRIBE`
//! strings, the namespaces, the app's opaque service info and the device's [`PushKey`]); they
//! travel as `POST /subscribe` / `POST /unsubscribe` through [`Client::server_request`], so the
//! push server sees a service node's address, never the device's. The answer comes back as
//! [`Event::ServerResponse`](crate::Event::ServerResponse); [`push_reply`] reads it. A push
//! (what APNS / Firebase hand the app) opens with [`Client::open_push`]: the notification, and
//! for a namespace-0 message pushed with its data, the message itself, opened and verified.
//! `docs/push.md` lists what the push server learns.

use metaless_envelope::push::{
    PushError, PushKey, PushNotification, PushReply, PushService, SUBSCRIBE_PATH, Subscribe,
    UNSUBSCRIBE_PATH, Unsubscribe,
};
use metaless_envelope::{EnvelopeError, Received, open_message};
use metaless_onion::ServerDestination;

use super::Client;
use super::server::{ServerRequest, ServerResponse};
use crate::{ClientError, OpId};

/// A push, opened.
///
/// ```
/// # use metaless_client::{Bootstrap, Client, Config, OpenedPush};
/// # use metaless_envelope::push::{encrypt_payload, PushKey, PushNotification};
/// # use metaless_identity::{Keypair, Seed};
/// let bob = Client::new(Keypair::from_seed(&Seed::from_bytes([2; 32])),
///     Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
/// let key = PushKey::from_bytes([5; 32]);
/// // What the push server sends when the message was too big to include.
/// let note = PushNotification { account: bob.session_id(), hash: "h".into(), namespace: 0,
///     data_len: Some(9000), data_too_big: true, data: None };
/// let push: OpenedPush = bob.open_push(&key, &encrypt_payload(&key, &note.to_plaintext(), [1; 24]))?;
/// assert!(push.message.is_none()); // poll the swarm for it
/// # Ok::<(), metaless_client::PushOpenError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedPush {
    /// What the push server said: account, message hash, namespace, size, the data if any.
    pub notification: PushNotification,
    /// The one-to-one message the push carried (namespace 0, data included), opened and its
    /// sender's signature verified. `None` when the push came without data (too big, or
    /// subscribed without `data`) or for another namespace: fetch it from the swarm.
    pub message: Option<Received>,
}

/// Why a push did not open.
///
/// ```
/// let e = metaless_client::PushOpenError::WrongAccount;
/// assert_eq!(e.to_string(), "push is for another account");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushOpenError {
    /// The payload does not decrypt with the key, or is malformed.
    #[error("push: {0}")]
    Push(#[from] PushError),
    /// It names another account than this client's.
    #[error("push is for another account")]
    WrongAccount,
    /// The message inside does not open (not for us, tampered, malformed).
    #[error("pushed message: {0}")]
    Message(EnvelopeError),
}

/// The push server's answer to a subscribe or unsubscribe, from the
/// [`Event::ServerResponse`](crate::Event::ServerResponse) it came in.
///
/// ```
/// use metaless_client::{push_reply, ServerResponse};
/// use metaless_envelope::push::PushReply;
/// let r = ServerResponse { status: 200, headers: Default::default(), body: br#"{"success":true,"added":true}"#.to_vec() };
/// assert_eq!(push_reply(&r), Ok(PushReply::Added));
/// let refused = ServerResponse { status: 400, headers: Default::default(), body: br#"{"error":1,"message":"bad"}"#.to_vec() };
/// assert!(push_reply(&refused).is_err());
/// ```
pub fn push_reply(response: &ServerResponse) -> Result<PushReply, PushError> {
    PushReply::from_json(&response.body)
}

/// The push server at `url` (`http[s]://host[:port]`) whose Ed25519 key is `ed25519` (as a
/// testnet's `bootstrap.json` lists it under `"push_server"`): where onion requests go,
/// encrypted to the X25519 key converted from it.
///
/// ```
/// use metaless_client::push_server;
/// let key = metaless_identity::Keypair::from_seed(&metaless_identity::Seed::from_bytes([0x11; 32])).ed25519_public();
/// let dest = push_server("http://127.0.0.1:7070", &key).unwrap();
/// assert_eq!((dest.host(), dest.port(), dest.protocol()), ("127.0.0.1", 7070, "http"));
/// assert_eq!(push_server("https://push.example", &key).unwrap().port(), 443);
/// assert!(push_server("ftp://x", &key).is_err());
/// ```
pub fn push_server(url: &str, ed25519: &[u8; 32]) -> Result<ServerDestination, ClientError> {
    let bad = |what: &str| ClientError::InvalidRequest(format!("push server {what}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("url"))?;
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return Err(bad("scheme")),
    };
    let authority = rest.trim_end_matches('/');
    // `[v6]:port` and `host:port`; a colon inside brackets is no port separator.
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().map_err(|_| bad("port"))?),
        _ => (authority, default_port),
    };
    let x25519 = metaless_identity::ed25519_to_x25519_public(ed25519).map_err(|_| bad("key"))?;
    ServerDestination::new(host, port, scheme, x25519).map_err(|_| bad("url"))
}

impl Client {
    /// Subscribes this account to pushes of new messages in `namespaces` (`[0]` for one-to-one
    /// messages), delivered to `service` (the push service name and the app's opaque service
    /// info, e.g. the device token) and encrypted with `key` (keep it: pushes open with it).
    /// With `data`, pushes carry the stored (still end-to-end encrypted) message when it fits.
    /// Signed now (network time) with the account key; sent to `server` through an onion path.
    /// [`Event::ServerResponse`](crate::Event::ServerResponse) follows for the returned id
    /// ([`push_reply`] reads it: `Added` or `Updated`).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, push_server};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_envelope::push::{PushKey, PushService};
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let key = metaless_identity::Keypair::from_seed(&metaless_identity::Seed::from_bytes([0x11; 32])).ed25519_public();
    /// let server = push_server("http://127.0.0.1:7070", &key).unwrap();
    /// let service = PushService::new("firebase", r#"{"token":"device-token"}"#).unwrap();
    /// client.push_subscribe(1_700_000_000_000, &server, &[0], true, service, PushKey::from_bytes([9; 32])).unwrap();
    /// assert_eq!(client.pending_ops(), 1);
    /// ```
    #[allow(clippy::too_many_arguments)] // each is one field of the subscription
    pub fn push_subscribe(
        &mut self,
        now_ms: u64,
        server: &ServerDestination,
        namespaces: &[i16],
        data: bool,
        service: PushService,
        key: PushKey,
    ) -> Result<OpId, ClientError> {
        let sig_ts = self.clock.now(now_ms) / 1000;
        let request = Subscribe::for_user(&self.keys, namespaces, data, sig_ts, service, key)
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let body = request.to_json().into_bytes();
        self.server_request(
            now_ms,
            ServerRequest::post(server.clone(), SUBSCRIBE_PATH, body),
        )
    }

    /// Unsubscribes the device `service` of this account ([`push_reply`] reads the answer:
    /// `Removed(true)`, or `Removed(false)` when there was nothing to remove).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, push_server};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_envelope::push::PushService;
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// let key = metaless_identity::Keypair::from_seed(&metaless_identity::Seed::from_bytes([0x11; 32])).ed25519_public();
    /// let server = push_server("http://127.0.0.1:7070", &key).unwrap();
    /// let service = PushService::new("firebase", r#"{"token":"device-token"}"#).unwrap();
    /// client.push_unsubscribe(1_700_000_000_000, &server, service).unwrap();
    /// assert_eq!(client.pending_ops(), 1);
    /// ```
    pub fn push_unsubscribe(
        &mut self,
        now_ms: u64,
        server: &ServerDestination,
        service: PushService,
    ) -> Result<OpId, ClientError> {
        let sig_ts = self.clock.now(now_ms) / 1000;
        let body = Unsubscribe::for_user(&self.keys, sig_ts, service)
            .to_json()
            .into_bytes();
        self.server_request(
            now_ms,
            ServerRequest::post(server.clone(), UNSUBSCRIBE_PATH, body),
        )
    }

    /// Opens a push payload with the subscription's `key`: it must name this account; a
    /// namespace-0 push with data is also opened as a one-to-one message.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, PushOpenError};
    /// # use metaless_envelope::push::{PushError, PushKey};
    /// # use metaless_identity::{Keypair, Seed};
    /// let client = Client::new(Keypair::from_seed(&Seed::from_bytes([2; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
    /// assert_eq!(client.open_push(&PushKey::from_bytes([5; 32]), &[0; 64]),
    ///     Err(PushOpenError::Push(PushError::Decrypt)));
    /// ```
    pub fn open_push(&self, key: &PushKey, payload: &[u8]) -> Result<OpenedPush, PushOpenError> {
        let notification = PushNotification::open(key, payload)?;
        if notification.account != self.keys.session_id() {
            return Err(PushOpenError::WrongAccount);
        }
        let message = match (&notification.data, notification.namespace) {
            (Some(data), 0) => {
                Some(open_message(&self.keys, data).map_err(PushOpenError::Message)?)
            }
            _ => None,
        };
        Ok(OpenedPush {
            notification,
            message,
        })
    }
}
