//! Push-notification registration with Session's push server (SPNS) and the pushes it sends.
//!
//! Sans-IO: this module builds and checks the JSON bodies of `POST /subscribe` and
//! `POST /unsubscribe` (which the client sends through an onion request to the push server,
//! [`PUSH_SERVER_URL`] / [`PUSH_SERVER_X25519`]) and opens a received push payload. Layouts follow
//! session-push-notification-server (DOCUMENTATION.md, `spns/hive/subscription.cpp`) and
//! libsession-util `decrypt_push_notification`; `docs/push.md` lists what the server learns.
//!
//! Signed strings (Ed25519 by the account key, or the sub-account key for a group):
//! * subscribe: `"MONITOR" ‖ hex(account, 33 B) ‖ ascii(sig_ts) ‖ ("1"|"0") ‖ join(",", namespaces)`
//! * unsubscribe: `"UNSUBSCRIBE" ‖ hex(account) ‖ ascii(sig_ts)`
//!
//! Payload: `nonce(24) ‖ XChaCha20-Poly1305(enc_key, nonce, bt list [meta JSON, data?])`, zero
//! padding after the list.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use metaless_cipher::xchacha20poly1305;
use metaless_identity::{Keypair, SessionId, SessionIdPrefix, hex};
use serde_json::{Map, Value};
use thiserror::Error;
use zeroize::Zeroizing;

/// The push server's URL.
///
/// ```
/// assert_eq!(metaless_envelope::push::PUSH_SERVER_URL, "https://push.getsession.org");
/// ```
pub const PUSH_SERVER_URL: &str = "https://push.getsession.org";

/// The push server's X25519 key (onion requests are encrypted to it).
///
/// ```
/// assert_eq!(metaless_envelope::push::PUSH_SERVER_X25519[0], 0xd7);
/// ```
pub const PUSH_SERVER_X25519: [u8; 32] = [
    0xd7, 0x55, 0x7f, 0xe5, 0x63, 0xe2, 0x61, 0x0d, 0xe8, 0x76, 0xc0, 0xac, 0x73, 0x41, 0xb6, 0x2f,
    0x3c, 0x82, 0xd5, 0xee, 0xa4, 0xb6, 0x2c, 0x70, 0x23, 0x92, 0xea, 0x43, 0x68, 0xf5, 0x1b, 0x3b,
];

/// Path of the subscribe endpoint.
pub const SUBSCRIBE_PATH: &str = "/subscribe";
/// Path of the unsubscribe endpoint.
pub const UNSUBSCRIBE_PATH: &str = "/unsubscribe";

/// How far in the past a subscription's `sig_ts` may be: 14 days (the server refuses older).
pub const SUBSCRIBE_MAX_AGE_S: u64 = 14 * 24 * 3600;
/// How far in the future a `sig_ts` may be (subscribe), and in either direction (unsubscribe): 24 h.
pub const SIG_TS_SKEW_S: u64 = 24 * 3600;
/// Largest push payload [`decrypt_payload`] opens, and largest request body the mock server
/// parses (the server's own limit for unsubscribe bodies): 100 000 bytes.
pub const MAX_PUSH_BODY_LEN: usize = 100_000;

/// Everything that can go wrong with push registration or a push payload. `Display` never
/// contains keys, tokens or whole account ids.
///
/// ```
/// assert_eq!(metaless_envelope::push::PushError::NoNamespaces.to_string(), "a subscription needs at least one namespace");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PushError {
    /// The namespace list is empty.
    #[error("a subscription needs at least one namespace")]
    NoNamespaces,
    /// `service_info` is not a JSON object, or `service` is empty.
    #[error("service and service_info must be a name and a JSON object")]
    BadService,
    /// The account is neither an `05` user nor an `03` group.
    #[error("push subscriptions are for 05 or 03 accounts")]
    BadAccount,
    /// A request body is not the expected JSON (field named).
    #[error("push request field `{0}` is missing or malformed")]
    BadField(&'static str),
    /// `sig_ts` is outside the accepted window.
    #[error("signature timestamp is outside the accepted window")]
    StaleSignature,
    /// The signature (or the sub-account's admin signature) does not verify.
    #[error("push request signature is invalid")]
    BadSignature,
    /// The payload does not open with this key (or was altered). No detail on purpose.
    #[error("push payload does not decrypt")]
    Decrypt,
    /// The payload opened but is not `l <meta JSON> [<data>] e`, or its metadata lacks a field.
    #[error("push payload is malformed")]
    BadPayload,
    /// An input exceeds [`MAX_PUSH_BODY_LEN`].
    #[error("push input too large: {len} bytes, at most {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The server answered with an error (`{"error": code, "message": …}`).
    #[error("push server error {code}")]
    Server {
        /// 1 bad input, 2 service not available, 3 service timeout, 4 error, 5 internal error.
        code: i64,
        /// The server's message.
        message: String,
    },
}

/// The 32-byte key the push server encrypts pushes to this device with. Secret; app-chosen
/// (random) and kept with the subscription.
///
/// ```
/// let key = metaless_envelope::push::PushKey::from_bytes([1; 32]);
/// assert_eq!(format!("{key:?}"), "PushKey(..)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PushKey(Zeroizing<[u8; 32]>);

impl PushKey {
    /// Wraps key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key.
    pub fn random(rng: &mut impl rand_core::CryptoRngCore) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// The bytes (they go, hex, into the subscribe request).
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for PushKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PushKey(..)")
    }
}

/// Whose messages a subscription watches, and how its requests are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushAccount {
    /// An `05` account; requests carry `session_ed25519` and are signed by the account key.
    User {
        /// The `05` id.
        id: SessionId,
        /// The Ed25519 key behind it.
        ed25519: [u8; 32],
    },
    /// An `03` group, authenticated by a member's sub-account token (`metaless-group`); requests
    /// are signed with the sub-account key.
    Group {
        /// The `03` id.
        id: SessionId,
        /// The 36-byte sub-account token.
        subaccount: [u8; 36],
        /// The admin's signature over it.
        subaccount_sig: [u8; 64],
    },
}

impl PushAccount {
    /// The account of `keys`.
    pub fn user(keys: &Keypair) -> Self {
        Self::User {
            id: keys.session_id(),
            ed25519: keys.ed25519_public(),
        }
    }

    /// The account id.
    pub fn id(&self) -> &SessionId {
        match self {
            Self::User { id, .. } | Self::Group { id, .. } => id,
        }
    }

    fn write(&self, object: &mut Map<String, Value>) {
        object.insert("pubkey".into(), self.id().to_string().into());
        match self {
            Self::User { ed25519, .. } => {
                object.insert("session_ed25519".into(), hex::encode(ed25519).into());
            }
            Self::Group {
                subaccount,
                subaccount_sig,
                ..
            } => {
                object.insert("subaccount".into(), B64.encode(subaccount).into());
                object.insert("subaccount_sig".into(), B64.encode(subaccount_sig).into());
            }
        }
    }

    fn read(object: &Map<String, Value>) -> Result<Self, PushError> {
        let id: SessionId = text(object, "pubkey")?
            .parse()
            .map_err(|_| PushError::BadField("pubkey"))?;
        match id.prefix() {
            SessionIdPrefix::Standard => Ok(Self::User {
                id,
                ed25519: bytes_field(object, "session_ed25519")?,
            }),
            SessionIdPrefix::Group => Ok(Self::Group {
                id,
                subaccount: bytes_field(object, "subaccount")?,
                subaccount_sig: bytes_field(object, "subaccount_sig")?,
            }),
            _ => Err(PushError::BadAccount),
        }
    }

    /// Checks `signature` over `message` for this account: the Ed25519 key must be the one the
    /// `05` id names; for a group, the admin signature over the token must verify under the
    /// group key and the request signature under the token's sub-account key.
    fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), PushError> {
        let bad = |_| PushError::BadSignature;
        match self {
            Self::User { id, ed25519 } => {
                let x = metaless_identity::ed25519_to_x25519_public(ed25519).map_err(bad)?;
                if &x != id.key() {
                    return Err(PushError::BadSignature);
                }
                metaless_identity::verify_ed25519(ed25519, message, signature).map_err(bad)
            }
            Self::Group {
                id,
                subaccount,
                subaccount_sig,
            } => {
                metaless_identity::verify_ed25519(id.key(), subaccount, subaccount_sig)
                    .map_err(bad)?;
                let mut sub_key = [0u8; 32];
                sub_key.copy_from_slice(&subaccount[4..]);
                metaless_identity::verify_ed25519(&sub_key, message, signature).map_err(bad)
            }
        }
    }
}

/// The string a subscribe signature covers.
///
/// ```
/// use metaless_envelope::push::monitor_message;
/// let id = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72".parse().unwrap();
/// assert_eq!(monitor_message(&id, 1677520760, true, &[-400, 0, 1, 2, 17]),
///     b"MONITOR05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a7216775207601-400,0,1,2,17");
/// ```
pub fn monitor_message(
    account: &SessionId,
    sig_ts_s: u64,
    data: bool,
    namespaces: &[i16],
) -> Vec<u8> {
    let joined: Vec<String> = namespaces.iter().map(ToString::to_string).collect();
    format!(
        "MONITOR{account}{sig_ts_s}{}{}",
        if data { "1" } else { "0" },
        joined.join(",")
    )
    .into_bytes()
}

/// The string an unsubscribe signature covers.
///
/// ```
/// use metaless_envelope::push::unsubscribe_message;
/// let id = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72".parse().unwrap();
/// assert!(unsubscribe_message(&id, 5).starts_with(b"UNSUBSCRIBE05d2ad"));
/// ```
pub fn unsubscribe_message(account: &SessionId, sig_ts_s: u64) -> Vec<u8> {
    format!("UNSUBSCRIBE{account}{sig_ts_s}").into_bytes()
}

/// The device a subscription delivers to: the push service name (`"apns"`, `"firebase"`, …) and
/// the app-supplied `service_info` JSON object (e.g. `{"token": "<device token>"}`), kept opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushService {
    /// Service name.
    pub service: String,
    /// Service info, a JSON object (opaque to us).
    pub service_info: Map<String, Value>,
}

impl PushService {
    /// `service` with the JSON object text `service_info_json`.
    ///
    /// ```
    /// use metaless_envelope::push::{PushError, PushService};
    /// assert!(PushService::new("apns", r#"{"token":"abc"}"#).is_ok());
    /// assert_eq!(PushService::new("apns", "[1]"), Err(PushError::BadService));
    /// ```
    pub fn new(service: impl Into<String>, service_info_json: &str) -> Result<Self, PushError> {
        let service = service.into();
        let info: Value =
            serde_json::from_str(service_info_json).map_err(|_| PushError::BadService)?;
        match info {
            Value::Object(service_info) if !service.is_empty() => Ok(Self {
                service,
                service_info,
            }),
            _ => Err(PushError::BadService),
        }
    }

    fn write(&self, object: &mut Map<String, Value>) {
        object.insert("service".into(), self.service.clone().into());
        object.insert(
            "service_info".into(),
            Value::Object(self.service_info.clone()),
        );
    }

    fn read(object: &Map<String, Value>) -> Result<Self, PushError> {
        let service = text(object, "service")?.to_string();
        match object.get("service_info") {
            Some(Value::Object(info)) if !service.is_empty() => Ok(Self {
                service,
                service_info: info.clone(),
            }),
            _ => Err(PushError::BadField("service_info")),
        }
    }
}

/// A signed `POST /subscribe` body.
///
/// ```
/// use metaless_envelope::push::{PushKey, PushService, Subscribe};
/// use metaless_identity::{Keypair, Seed};
/// let me = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let service = PushService::new("firebase", r#"{"token":"t"}"#)?;
/// let request = Subscribe::for_user(&me, &[0, -10, 0], true, 1_700_000_000, service, PushKey::from_bytes([9; 32]))?;
/// assert_eq!(request.namespaces, vec![-10, 0]); // sorted, de-duplicated
/// let body = request.to_json();
/// let parsed = Subscribe::from_json(body.as_bytes())?;
/// parsed.verify(1_700_000_100)?;
/// assert_eq!(parsed, request);
/// # Ok::<(), metaless_envelope::push::PushError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Whose messages.
    pub account: PushAccount,
    /// Which namespaces (sorted, no duplicates, non-empty).
    pub namespaces: Vec<i16>,
    /// Whether pushes include the (encrypted) message bytes.
    pub data: bool,
    /// When signed, unix seconds.
    pub sig_ts_s: u64,
    /// Ed25519 signature over [`monitor_message`].
    pub signature: [u8; 64],
    /// Where to deliver.
    pub service: PushService,
    /// The key pushes are encrypted with.
    pub enc_key: PushKey,
}

fn normalise(namespaces: &[i16]) -> Result<Vec<i16>, PushError> {
    let mut sorted = namespaces.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.is_empty() {
        return Err(PushError::NoNamespaces);
    }
    Ok(sorted)
}

impl Subscribe {
    /// A subscription for `keys`' own account, signed with it.
    pub fn for_user(
        keys: &Keypair,
        namespaces: &[i16],
        data: bool,
        sig_ts_s: u64,
        service: PushService,
        enc_key: PushKey,
    ) -> Result<Self, PushError> {
        Self::signed_by(
            PushAccount::user(keys),
            namespaces,
            data,
            sig_ts_s,
            service,
            enc_key,
            |m| keys.sign(m),
        )
    }

    /// A subscription for `account` signed by `sign` (for a group: the member's sub-account
    /// signer from `metaless-group`, which signs with the sub-account key).
    pub fn signed_by(
        account: PushAccount,
        namespaces: &[i16],
        data: bool,
        sig_ts_s: u64,
        service: PushService,
        enc_key: PushKey,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<Self, PushError> {
        let namespaces = normalise(namespaces)?;
        let signature = sign(&monitor_message(account.id(), sig_ts_s, data, &namespaces));
        Ok(Self {
            account,
            namespaces,
            data,
            sig_ts_s,
            signature,
            service,
            enc_key,
        })
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        let mut object = Map::new();
        self.account.write(&mut object);
        object.insert(
            "namespaces".into(),
            Value::Array(self.namespaces.iter().map(|&n| n.into()).collect()),
        );
        object.insert("data".into(), self.data.into());
        object.insert("sig_ts".into(), self.sig_ts_s.into());
        object.insert("signature".into(), B64.encode(self.signature).into());
        self.service.write(&mut object);
        object.insert(
            "enc_key".into(),
            hex::encode(self.enc_key.expose_secret()).into(),
        );
        Value::Object(object).to_string()
    }

    /// Parses a subscribe body (the server side; hex or base64 bytes accepted, as SPNS does).
    /// Does not check the signature: see [`Subscribe::verify`].
    pub fn from_json(body: &[u8]) -> Result<Self, PushError> {
        let object = parse_object(body)?;
        let namespaces: Vec<i16> = match object.get("namespaces") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|n| n.as_i64().and_then(|n| i16::try_from(n).ok()))
                .collect::<Option<_>>()
                .ok_or(PushError::BadField("namespaces"))?,
            _ => return Err(PushError::BadField("namespaces")),
        };
        // The server insists on the canonical order the signature covers.
        if namespaces.is_empty() || namespaces.windows(2).any(|w| w[0] >= w[1]) {
            return Err(PushError::BadField("namespaces"));
        }
        Ok(Self {
            account: PushAccount::read(&object)?,
            namespaces,
            data: object
                .get("data")
                .map_or(Some(false), Value::as_bool)
                .ok_or(PushError::BadField("data"))?,
            sig_ts_s: object
                .get("sig_ts")
                .and_then(Value::as_u64)
                .ok_or(PushError::BadField("sig_ts"))?,
            signature: bytes_field(&object, "signature")?,
            service: PushService::read(&object)?,
            enc_key: PushKey::from_bytes(bytes_field(&object, "enc_key")?),
        })
    }

    /// Checks the timestamp window (older than 14 days or more than 24 h ahead of `now_s` is
    /// refused) and the signature.
    pub fn verify(&self, now_s: u64) -> Result<(), PushError> {
        if self.sig_ts_s.saturating_add(SUBSCRIBE_MAX_AGE_S) <= now_s
            || self.sig_ts_s >= now_s.saturating_add(SIG_TS_SKEW_S)
        {
            return Err(PushError::StaleSignature);
        }
        let message = monitor_message(
            self.account.id(),
            self.sig_ts_s,
            self.data,
            &self.namespaces,
        );
        self.account.verify(&message, &self.signature)
    }
}

/// A signed `POST /unsubscribe` body.
///
/// ```
/// use metaless_envelope::push::{PushService, Unsubscribe};
/// use metaless_identity::{Keypair, Seed};
/// let me = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let request = Unsubscribe::for_user(&me, 1_700_000_000, PushService::new("apns", r#"{"token":"t"}"#)?);
/// let parsed = Unsubscribe::from_json(request.to_json().as_bytes())?;
/// parsed.verify(1_700_000_000)?;
/// # Ok::<(), metaless_envelope::push::PushError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Whose subscription.
    pub account: PushAccount,
    /// When signed, unix seconds.
    pub sig_ts_s: u64,
    /// Ed25519 signature over [`unsubscribe_message`].
    pub signature: [u8; 64],
    /// Which device.
    pub service: PushService,
}

impl Unsubscribe {
    /// An unsubscribe for `keys`' own account.
    pub fn for_user(keys: &Keypair, sig_ts_s: u64, service: PushService) -> Self {
        Self::signed_by(PushAccount::user(keys), sig_ts_s, service, |m| keys.sign(m))
    }

    /// An unsubscribe for `account` signed by `sign`.
    pub fn signed_by(
        account: PushAccount,
        sig_ts_s: u64,
        service: PushService,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Self {
        let signature = sign(&unsubscribe_message(account.id(), sig_ts_s));
        Self {
            account,
            sig_ts_s,
            signature,
            service,
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        let mut object = Map::new();
        self.account.write(&mut object);
        object.insert("sig_ts".into(), self.sig_ts_s.into());
        object.insert("signature".into(), B64.encode(self.signature).into());
        self.service.write(&mut object);
        Value::Object(object).to_string()
    }

    /// Parses an unsubscribe body (server side). Does not check the signature.
    pub fn from_json(body: &[u8]) -> Result<Self, PushError> {
        let object = parse_object(body)?;
        Ok(Self {
            account: PushAccount::read(&object)?,
            sig_ts_s: object
                .get("sig_ts")
                .and_then(Value::as_u64)
                .ok_or(PushError::BadField("sig_ts"))?,
            signature: bytes_field(&object, "signature")?,
            service: PushService::read(&object)?,
        })
    }

    /// Checks the ±24 h window around `now_s` and the signature.
    pub fn verify(&self, now_s: u64) -> Result<(), PushError> {
        if self.sig_ts_s.abs_diff(now_s) >= SIG_TS_SKEW_S {
            return Err(PushError::StaleSignature);
        }
        self.account.verify(
            &unsubscribe_message(self.account.id(), self.sig_ts_s),
            &self.signature,
        )
    }
}

/// What the server answered a subscribe / unsubscribe with.
///
/// ```
/// use metaless_envelope::push::{PushError, PushReply};
/// assert_eq!(PushReply::from_json(br#"{"success":true,"added":true}"#), Ok(PushReply::Added));
/// assert!(matches!(PushReply::from_json(br#"{"error":1,"message":"bad"}"#), Err(PushError::Server { code: 1, .. })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushReply {
    /// A new subscription.
    Added,
    /// An existing subscription was refreshed.
    Updated,
    /// Unsubscribed (`removed: true`), or there was nothing to remove (`false`).
    Removed(bool),
}

impl PushReply {
    /// Parses the server's JSON reply.
    pub fn from_json(body: &[u8]) -> Result<Self, PushError> {
        let object = parse_object(body)?;
        if let Some(code) = object.get("error").and_then(Value::as_i64) {
            let message = object
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into();
            return Err(PushError::Server { code, message });
        }
        let flag = |name| object.get(name).and_then(Value::as_bool);
        if object.get("success").and_then(Value::as_bool) != Some(true) {
            return Err(PushError::BadField("success"));
        }
        match (flag("added"), flag("updated"), flag("removed")) {
            (Some(true), _, _) => Ok(Self::Added),
            (_, Some(true), _) => Ok(Self::Updated),
            (_, _, Some(removed)) => Ok(Self::Removed(removed)),
            _ => Err(PushError::BadField("added")),
        }
    }

    /// The JSON the server sends for this reply (what the mock server answers).
    pub fn to_json(self) -> String {
        match self {
            Self::Added => r#"{"success":true,"added":true}"#.into(),
            Self::Updated => r#"{"success":true,"updated":true}"#.into(),
            Self::Removed(removed) => format!(r#"{{"success":true,"removed":{removed}}}"#),
        }
    }
}

/// The JSON error body the server sends (`code`: 1 bad input, 2 service not available, 3 service
/// timeout, 4 error, 5 internal error).
///
/// ```
/// assert_eq!(metaless_envelope::push::error_json(1, "bad"), r#"{"error":1,"message":"bad"}"#);
/// ```
pub fn error_json(code: i64, message: &str) -> String {
    let mut object = Map::new();
    object.insert("error".into(), code.into());
    object.insert("message".into(), message.into());
    Value::Object(object).to_string()
}

/// A push, opened: which account, which message, and (if the subscription asked for `data` and
/// it fitted) the stored message bytes.
///
/// ```
/// use metaless_envelope::push::{decrypt_payload, encrypt_payload, PushKey, PushNotification};
/// let key = PushKey::from_bytes([5; 32]);
/// let note = PushNotification {
///     account: "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72".parse().unwrap(),
///     hash: "abc".into(), namespace: 0, data_len: Some(3), data_too_big: false, data: Some(vec![1, 2, 3]),
/// };
/// let payload = encrypt_payload(&key, &note.to_plaintext(), [7; 24]);
/// assert_eq!(PushNotification::open(&key, &payload)?, note);
/// # Ok::<(), metaless_envelope::push::PushError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushNotification {
    /// `@`: the account the message was stored for.
    pub account: SessionId,
    /// `#`: the message's storage hash.
    pub hash: String,
    /// `n`: its namespace.
    pub namespace: i16,
    /// `l`: length of the message data.
    pub data_len: Option<u64>,
    /// `B`: the data was too big to include.
    pub data_too_big: bool,
    /// The message data (the stored bytes, end-to-end encrypted), if included.
    pub data: Option<Vec<u8>>,
}

impl PushNotification {
    /// Decrypts and parses a push payload.
    pub fn open(key: &PushKey, payload: &[u8]) -> Result<Self, PushError> {
        let plaintext = decrypt_payload(key, payload)?;
        Self::parse(&plaintext)
    }

    /// Parses a decrypted payload: the bt list `l <len>:<meta JSON> [<len>:<data>] e`.
    pub fn parse(plaintext: &[u8]) -> Result<Self, PushError> {
        let rest = plaintext.strip_prefix(b"l").ok_or(PushError::BadPayload)?;
        let (meta, mut rest) = bt_string(rest)?;
        let data = if rest.first() == Some(&b'e') {
            None
        } else {
            let (data, after) = bt_string(rest)?;
            rest = after;
            Some(data.to_vec())
        };
        if rest != b"e" {
            return Err(PushError::BadPayload);
        }
        let meta: Map<String, Value> =
            serde_json::from_slice(meta).map_err(|_| PushError::BadPayload)?;
        let field = |name: &str| meta.get(name).ok_or(PushError::BadPayload);
        Ok(Self {
            account: field("@")?
                .as_str()
                .and_then(|id| id.parse().ok())
                .ok_or(PushError::BadPayload)?,
            hash: field("#")?.as_str().ok_or(PushError::BadPayload)?.into(),
            namespace: field("n")?
                .as_i64()
                .and_then(|n| i16::try_from(n).ok())
                .ok_or(PushError::BadPayload)?,
            data_len: meta.get("l").and_then(Value::as_u64),
            data_too_big: meta.get("B").and_then(Value::as_bool).unwrap_or(false),
            data,
        })
    }

    /// The plaintext the server encrypts (meta keys `@`, `#`, `n`, `l`, `B` when set, and
    /// `"spns": 1`).
    pub fn to_plaintext(&self) -> Vec<u8> {
        let mut meta = Map::new();
        meta.insert("@".into(), self.account.to_string().into());
        meta.insert("#".into(), self.hash.clone().into());
        meta.insert("n".into(), self.namespace.into());
        if let Some(len) = self.data_len {
            meta.insert("l".into(), len.into());
        }
        if self.data_too_big {
            meta.insert("B".into(), true.into());
        }
        meta.insert("spns".into(), 1.into());
        let meta = Value::Object(meta).to_string();
        let mut out = Vec::with_capacity(meta.len() + 16);
        out.push(b'l');
        bt_write(meta.as_bytes(), &mut out);
        if let Some(data) = &self.data {
            bt_write(data, &mut out);
        }
        out.push(b'e');
        out
    }
}

/// Encrypts a push plaintext with `nonce` (the server's side; the mock server uses it).
///
/// ```
/// use metaless_envelope::push::{decrypt_payload, encrypt_payload, PushKey};
/// let key = PushKey::from_bytes([1; 32]);
/// assert_eq!(decrypt_payload(&key, &encrypt_payload(&key, b"hi", [0; 24]))?, b"hi");
/// # Ok::<(), metaless_envelope::push::PushError>(())
/// ```
pub fn encrypt_payload(key: &PushKey, plaintext: &[u8], nonce: [u8; 24]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + plaintext.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    // Encryption of an in-memory buffer cannot fail below the cipher's 256 GiB bound; were it
    // to, the output is the bare nonce, which every decryption refuses.
    match xchacha20poly1305::seal_in_place_detached(
        key.expose_secret(),
        &nonce,
        &[],
        &mut out[24..],
    ) {
        Ok(tag) => out.extend_from_slice(&tag),
        Err(_) => out.truncate(24),
    }
    out
}

/// Decrypts a push payload (`nonce(24) ‖ ciphertext`) and strips the zero padding after it, as
/// libsession's `decrypt_push_notification` does.
///
/// ```
/// use metaless_envelope::push::{decrypt_payload, PushError, PushKey};
/// assert_eq!(decrypt_payload(&PushKey::from_bytes([0; 32]), b"invalid"), Err(PushError::Decrypt));
/// ```
pub fn decrypt_payload(key: &PushKey, payload: &[u8]) -> Result<Vec<u8>, PushError> {
    if payload.len() > MAX_PUSH_BODY_LEN {
        return Err(PushError::TooLarge {
            len: payload.len(),
            max: MAX_PUSH_BODY_LEN,
        });
    }
    if payload.len() < 24 + 16 {
        return Err(PushError::Decrypt);
    }
    let (nonce, sealed) = payload.split_at(24);
    let nonce: &[u8; 24] = nonce.try_into().map_err(|_| PushError::Decrypt)?;
    let (ciphertext, tag) = sealed.split_at(sealed.len() - 16);
    let tag: &[u8; 16] = tag.try_into().map_err(|_| PushError::Decrypt)?;
    let mut plaintext = ciphertext.to_vec();
    xchacha20poly1305::open_in_place_detached(key.expose_secret(), nonce, &[], &mut plaintext, tag)
        .map_err(|_| PushError::Decrypt)?;
    while plaintext.last() == Some(&0) {
        plaintext.pop();
    }
    Ok(plaintext)
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, PushError> {
    if body.len() > MAX_PUSH_BODY_LEN {
        return Err(PushError::TooLarge {
            len: body.len(),
            max: MAX_PUSH_BODY_LEN,
        });
    }
    serde_json::from_slice(body).map_err(|_| PushError::BadField("body"))
}

fn text<'a>(object: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, PushError> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or(PushError::BadField(name))
}

/// A fixed-size byte field given as hex or base64 (SPNS accepts both).
fn bytes_field<const N: usize>(
    object: &Map<String, Value>,
    name: &'static str,
) -> Result<[u8; N], PushError> {
    let value = text(object, name)?;
    let decoded = if value.len() == 2 * N {
        hex::decode(value).ok()
    } else {
        B64.decode(value).ok()
    };
    decoded
        .and_then(|bytes| <[u8; N]>::try_from(bytes.as_slice()).ok())
        .ok_or(PushError::BadField(name))
}

/// One bencoded string `<len>:<bytes>` at the start of `input`, and what follows.
fn bt_string(input: &[u8]) -> Result<(&[u8], &[u8]), PushError> {
    let colon = input
        .iter()
        .take(8)
        .position(|&b| b == b':')
        .ok_or(PushError::BadPayload)?;
    let digits = &input[..colon];
    // Canonical lengths only: digits, no leading zero (except "0").
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits.len() > 1 && digits[0] == b'0')
    {
        return Err(PushError::BadPayload);
    }
    let len: usize = core::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or(PushError::BadPayload)?;
    let rest = &input[colon + 1..];
    if rest.len() < len {
        return Err(PushError::BadPayload);
    }
    Ok(rest.split_at(len))
}

fn bt_write(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(bytes);
}
