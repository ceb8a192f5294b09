//! The legacy protobuf wrap of user config pushes (libsession `config/protos.cpp`), still
//! emitted for old clients.
//!
//! ```text
//! content = Content{ sharedConfigMessage(11) = { kind(1), seqno(2), data(3) = encrypted config } }
//! inner   = deterministic sign-then-seal to our own Session ID of (content ‖ 0x80)
//! wrapped = WebSocketMessage{ type(1) = REQUEST, request(2) = { verb(1) = "", path(2) = "",
//!             body(3) = Envelope{ type(1) = 6, timestamp(5) = 1, content(8) = inner },
//!             requestId(4) = 0 } }
//! ```
//!
//! On receive, [`unwrap`] undoes it (the sealed box must be from our own key); [`unwrap_all`]
//! also tries a second unwrap (one client release double-wrapped) and falls back to the raw
//! bytes.
//!
//! ```
//! use metaless_config::{wrap, Kind};
//! use metaless_identity::{Keypair, Seed};
//! let me = Keypair::from_seed(&Seed::from_bytes([4; 32]));
//! let w = wrap::wrap(&me, b"ciphertext", 3, Kind::Contacts).unwrap();
//! assert_eq!(wrap::unwrap(&me, &w, Kind::Contacts).unwrap(), (b"ciphertext".to_vec(), 3));
//! assert_eq!(wrap::unwrap_all(&me, b"raw bytes", Kind::Contacts), b"raw bytes");
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use metaless_envelope::proto::session::{Content, Envelope, SharedConfigMessage};
use metaless_envelope::proto::websocket::{WebSocketMessage, WebSocketRequestMessage};
use metaless_envelope::{decrypt_incoming, encrypt_for_recipient_deterministic};
use metaless_identity::Keypair;
use prost::Message;

use crate::{ConfigError, Kind};

const WS_REQUEST: i32 = 1;
const ENVELOPE_SESSION_MESSAGE: i32 = 6;

/// Wraps an encrypted config (`ct ‖ nonce`) for storage in a user namespace.
///
/// ```
/// use metaless_config::{wrap, ConfigError, Kind};
/// use metaless_identity::{Keypair, Seed};
/// let me = Keypair::from_seed(&Seed::from_bytes([4; 32]));
/// assert_eq!(wrap::wrap(&me, b"x", 0, Kind::GroupInfo).unwrap_err(), ConfigError::BadWrapper);
/// ```
pub fn wrap(me: &Keypair, data: &[u8], seqno: i64, kind: Kind) -> Result<Vec<u8>, ConfigError> {
    let legacy = kind.legacy_kind().ok_or(ConfigError::BadWrapper)?;
    let content = Content {
        shared_config_message: Some(SharedConfigMessage {
            kind: legacy,
            seqno,
            data: data.to_vec(),
        }),
        ..Default::default()
    };
    let mut plain = content.encode_to_vec();
    // Already padded to 256-byte chunks: only the one mandatory 0x80, no zeros.
    plain.push(0x80);
    let inner = encrypt_for_recipient_deterministic(me, &me.session_id(), &plain)
        .map_err(|_| ConfigError::BadWrapper)?;
    let envelope = Envelope {
        r#type: ENVELOPE_SESSION_MESSAGE,
        timestamp: 1,
        content: Some(inner),
        ..Default::default()
    };
    let msg = WebSocketMessage {
        r#type: Some(WS_REQUEST),
        request: Some(WebSocketRequestMessage {
            verb: Some(String::new()),
            path: Some(String::new()),
            body: Some(envelope.encode_to_vec()),
            headers: Vec::new(),
            request_id: Some(0),
        }),
        response: None,
    };
    Ok(msg.encode_to_vec())
}

/// Undoes [`wrap`]: the inner config and the seqno the wrapper claims. Refused
/// ([`ConfigError::BadWrapper`]) unless the sealed box opens for us, was sealed by our own key,
/// ends in 0x80 padding and holds a `sharedConfigMessage` of `kind`.
///
/// ```
/// use metaless_config::{wrap, ConfigError, Kind};
/// use metaless_identity::{Keypair, Seed};
/// let me = Keypair::from_seed(&Seed::from_bytes([4; 32]));
/// let w = wrap::wrap(&me, b"x", 1, Kind::Contacts).unwrap();
/// assert_eq!(wrap::unwrap(&me, &w, Kind::UserProfile).unwrap_err(), ConfigError::BadWrapper);
/// ```
pub fn unwrap(me: &Keypair, data: &[u8], kind: Kind) -> Result<(Vec<u8>, i64), ConfigError> {
    let bad = ConfigError::BadWrapper;
    let legacy = kind.legacy_kind().ok_or(bad.clone())?;
    let msg = WebSocketMessage::decode(data).map_err(|_| bad.clone())?;
    if msg.r#type != Some(WS_REQUEST) {
        return Err(bad);
    }
    let body = msg.request.and_then(|r| r.body).ok_or(bad.clone())?;
    let envelope = Envelope::decode(body.as_slice()).map_err(|_| bad.clone())?;
    let inner = envelope.content.ok_or(bad.clone())?;
    let opened = decrypt_incoming(me, &inner).map_err(|_| bad.clone())?;
    if opened.sender_ed25519 != me.ed25519_public() {
        return Err(bad);
    }
    let mut plain = opened.plaintext;
    while plain.last() == Some(&0) {
        plain.pop();
    }
    if plain.pop() != Some(0x80) {
        return Err(bad);
    }
    let content = Content::decode(plain.as_slice()).map_err(|_| bad.clone())?;
    let shared = content.shared_config_message.ok_or(bad.clone())?;
    if shared.kind != legacy {
        return Err(bad);
    }
    Ok((shared.data, shared.seqno))
}

/// What a stored user-config message holds once unwrapped: tries [`unwrap`], then a second
/// unwrap, else returns `data` unchanged (a raw, unwrapped push).
///
/// ```
/// use metaless_config::{wrap, Kind};
/// use metaless_identity::{Keypair, Seed};
/// let me = Keypair::from_seed(&Seed::from_bytes([4; 32]));
/// let twice = wrap::wrap(&me, &wrap::wrap(&me, b"ct", 2, Kind::UserGroups).unwrap(), 2, Kind::UserGroups).unwrap();
/// assert_eq!(wrap::unwrap_all(&me, &twice, Kind::UserGroups), b"ct");
/// ```
pub fn unwrap_all(me: &Keypair, data: &[u8], kind: Kind) -> Vec<u8> {
    match unwrap(me, data, kind) {
        Ok((once, _)) => match unwrap(me, &once, kind) {
            Ok((twice, _)) => twice,
            Err(_) => once,
        },
        Err(_) => data.to_vec(),
    }
}
