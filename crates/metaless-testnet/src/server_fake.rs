//! An in-process HTTP server behind the loopback network's last hop: what a community server,
//! the file server or a push server is to a client's `server_request`. It opens the onion's
//! last layer with its X25519 key, decodes the v4 request, asks a handler, and seals the v4
//! answer back — the server side of onion requests v4, without sockets.
//!
//! ```
//! use metaless_testnet::{LoopbackConfig, LoopbackNet};
//! use metaless_testnet::server_fake::{FakeResponse, FakeServer};
//! let mut net = LoopbackNet::new(LoopbackConfig { nodes: 6, swarms: 2, ..Default::default() }).unwrap();
//! let server = FakeServer::install(&mut net, [9; 32], |req| {
//!     Some(FakeResponse::json(200, format!(r#"{{"path":"{}"}}"#, req.endpoint)))
//! });
//! assert_eq!(server.x25519().len(), 32);
//! assert!(server.requests().is_empty());
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use metaless_identity::X25519Secret;
use metaless_onion::{NodeKey, open_layer, v4};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::LoopbackNet;

/// A request as the fake server decoded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRequest {
    /// The URL the last hop posted to (`protocol://host[:port]/oxen/v4/lsrpc`).
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Endpoint (path and query).
    pub endpoint: String,
    /// Headers.
    pub headers: BTreeMap<String, String>,
    /// Body, if the v4 list had one.
    pub body: Option<Vec<u8>>,
}

/// What the handler answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeResponse {
    /// HTTP status inside the v4 answer.
    pub status: u16,
    /// Headers inside the v4 answer.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl FakeResponse {
    /// A JSON answer.
    ///
    /// ```
    /// let r = metaless_testnet::server_fake::FakeResponse::json(200, "{}");
    /// assert_eq!(r.headers[0].1, "application/json");
    /// ```
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into().into_bytes(),
        }
    }
}

type Handler = dyn FnMut(&FakeRequest) -> Option<FakeResponse> + Send;

/// A fake server installed on a [`LoopbackNet`] (one per network: installing another replaces
/// it; route on [`FakeRequest::url`] to fake several).
#[derive(Debug, Clone)]
pub struct FakeServer {
    public: [u8; 32],
    log: Arc<Mutex<Vec<FakeRequest>>>,
}

impl FakeServer {
    /// Installs a server whose X25519 secret is `secret`; `handler` answers each decoded
    /// request, `None` meaning "connection failed" (the last hop then answers an error).
    /// Requests that do not open or decode get a 400 without the handler being asked.
    pub fn install(
        net: &mut LoopbackNet,
        secret: [u8; 32],
        handler: impl FnMut(&FakeRequest) -> Option<FakeResponse> + Send + 'static,
    ) -> Self {
        let secret = X25519Secret::from_bytes(secret);
        let public = secret.public_key();
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&log);
        let mut rng = ChaCha20Rng::from_seed(public);
        let mut handler: Box<Handler> = Box::new(handler);
        net.set_server(move |url, body| {
            let Ok((plain, reply)) = open_layer(&NodeKey::new(&secret), body) else {
                return Some((400, b"Invalid ciphertext".to_vec()));
            };
            let Ok(req) = v4::decode_request(&plain) else {
                return Some((400, b"Invalid v4 request".to_vec()));
            };
            let request = FakeRequest {
                url: url.into(),
                method: req.method,
                endpoint: req.endpoint,
                headers: req.headers,
                body: req.body.map(<[u8]>::to_vec),
            };
            seen.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(request.clone());
            let answer = handler(&request)?;
            let headers: Vec<(&str, &str)> = answer
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let framed = v4::encode_response(answer.status, &headers, &answer.body);
            reply
                .encrypt_response(&framed, &mut rng)
                .ok()
                .map(|sealed| (200, sealed))
        });
        Self { public, log }
    }

    /// The server's X25519 public key (what a client encrypts to).
    pub fn x25519(&self) -> [u8; 32] {
        self.public
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<FakeRequest> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
