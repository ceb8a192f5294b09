//! The `X-SOGS-*` request authentication: what a client signs and sends, and what a server checks.
//!
//! ```text
//! to_sign = server_x25519_pk(32) ‖ nonce(16) ‖ ascii(timestamp) ‖ METHOD ‖ PATH ‖ [BLAKE2b-512(body)]
//! ```
//!
//! PATH is the URL-decoded path plus `?` and the query string as sent (no `?` without a query);
//! the hash term is present only for a non-empty body (session-pysogs `sogs/routes/auth.py`).
//! The signature is a 15-blinded signature under the `15` key, or (servers without the `blind`
//! capability) plain Ed25519 under the `00`-prefixed Ed25519 key.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine;
use blake2::{Blake2b512, Digest};
use metaless_identity::{Keypair, SessionId, SessionIdPrefix, blinding, hex, verify_ed25519};
use rand_core::CryptoRngCore;

use crate::limits::{MAX_CLOCK_SKEW_S, NONCE_LEN};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Which key a request is signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// The `15`-blinded key for this server (the default; required when the server lists the
    /// `blind` capability).
    #[default]
    Blinded15,
    /// The account's Ed25519 key with the `00` prefix (only for servers without `blind`).
    Unblinded,
}

impl AuthMode {
    /// The mode a server's capability list asks for: blinded unless `blind` is absent.
    ///
    /// ```
    /// use metaless_community::AuthMode;
    /// assert_eq!(AuthMode::for_capabilities(&["sogs", "blind"]), AuthMode::Blinded15);
    /// assert_eq!(AuthMode::for_capabilities(&["sogs"]), AuthMode::Unblinded);
    /// ```
    pub fn for_capabilities<S: AsRef<str>>(caps: &[S]) -> Self {
        if caps.iter().any(|c| c.as_ref() == "blind") {
            Self::Blinded15
        } else {
            Self::Unblinded
        }
    }
}

/// The four authentication headers of one request.
///
/// ```
/// use metaless_community::{auth, AuthMode};
/// use metaless_identity::{Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let h = auth::sign(&keys, &[2; 32], AuthMode::Blinded15, "GET", "/capabilities", b"", 1_700_000_000, [3; 16]);
/// assert!(h.pubkey().starts_with("15"));
/// assert_eq!(h.pairs()[1], ("X-SOGS-Timestamp", "1700000000".to_string()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AuthHeaders {
    pubkey: [u8; 33],
    timestamp: u64,
    nonce: [u8; NONCE_LEN],
    signature: [u8; 64],
}

impl AuthHeaders {
    /// `X-SOGS-Pubkey`: 66 hex characters (`15…` or `00…`).
    pub fn pubkey(&self) -> String {
        hex::encode(&self.pubkey)
    }

    /// `X-SOGS-Timestamp`: unix seconds.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The nonce bytes (sent base64-encoded).
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The signature bytes (sent base64-encoded).
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The headers as sent, in the order Pubkey, Timestamp, Nonce, Signature.
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            ("X-SOGS-Pubkey", self.pubkey()),
            ("X-SOGS-Timestamp", alloc::format!("{}", self.timestamp)),
            ("X-SOGS-Nonce", B64.encode(self.nonce)),
            ("X-SOGS-Signature", B64.encode(self.signature)),
        ]
    }
}

impl fmt::Debug for AuthHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pubkey is a blinded id the server sees anyway; shortened so logs do not carry it whole.
        f.debug_struct("AuthHeaders")
            .field("pubkey", &alloc::format!("{}…", &self.pubkey()[..8]))
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// The bytes a request signature covers.
///
/// ```
/// let m = metaless_community::auth::to_sign(&[0; 32], &[1; 16], 5, "GET", "/x", b"");
/// assert_eq!(&m[48..], b"5GET/x");
/// assert_eq!(metaless_community::auth::to_sign(&[0; 32], &[1; 16], 5, "POST", "/x", b"{}").len(), 48 + 7 + 64);
/// ```
pub fn to_sign(
    server_pk: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    timestamp: u64,
    method: &str,
    path: &str,
    body: &[u8],
) -> Vec<u8> {
    let ts = alloc::format!("{timestamp}");
    let mut out = Vec::with_capacity(48 + ts.len() + method.len() + path.len() + 64);
    out.extend_from_slice(server_pk);
    out.extend_from_slice(nonce);
    out.extend_from_slice(ts.as_bytes());
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(path.as_bytes());
    if !body.is_empty() {
        out.extend_from_slice(&Blake2b512::digest(body));
    }
    out
}

/// Signs a request with a given timestamp (unix seconds) and nonce.
#[allow(clippy::too_many_arguments)] // the eight inputs are exactly the signed fields
pub fn sign(
    keys: &Keypair,
    server_pk: &[u8; 32],
    mode: AuthMode,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: u64,
    nonce: [u8; NONCE_LEN],
) -> AuthHeaders {
    let message = to_sign(server_pk, &nonce, timestamp, method, path, body);
    let mut pubkey = [0u8; 33];
    let signature = match mode {
        AuthMode::Blinded15 => {
            let pair = blinding::blind15_keypair(keys, server_pk);
            pubkey[0] = SessionIdPrefix::Blinded15.byte();
            pubkey[1..].copy_from_slice(&pair.public_key());
            blinding::blind15_sign(keys, server_pk, &message)
        }
        AuthMode::Unblinded => {
            pubkey[0] = 0x00;
            pubkey[1..].copy_from_slice(&keys.ed25519_public());
            keys.sign(&message)
        }
    };
    AuthHeaders {
        pubkey,
        timestamp,
        nonce,
        signature,
    }
}

/// Signs a request now: the timestamp from `now_ms`, a fresh nonce from `rng`.
///
/// ```
/// use metaless_community::{auth, AuthMode};
/// use metaless_identity::{Keypair, Seed};
/// use rand_core::SeedableRng;
/// let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([0; 32]);
/// let h = auth::sign_now(&keys, &[2; 32], AuthMode::Unblinded, "GET", "/rooms", b"", 1_700_000_000_123, &mut rng);
/// assert_eq!(h.timestamp(), 1_700_000_000);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn sign_now(
    keys: &Keypair,
    server_pk: &[u8; 32],
    mode: AuthMode,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: u64,
    rng: &mut impl CryptoRngCore,
) -> AuthHeaders {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    sign(
        keys,
        server_pk,
        mode,
        method,
        path,
        body,
        now_ms / 1000,
        nonce,
    )
}

/// Why a server refuses a request's authentication, with session-pysogs' status and text.
///
/// ```
/// use metaless_community::AuthRejection;
/// assert_eq!(AuthRejection::NonceReused.status(), 425);
/// assert_eq!(AuthRejection::Missing(2).to_string(), "Invalid authentication headers: missing 2/4 required X-SOGS-* headers");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthRejection {
    /// Some but not all of the four headers (the count missing).
    #[error("Invalid authentication headers: missing {0}/4 required X-SOGS-* headers")]
    Missing(u8),
    /// The pubkey is not 33 bytes of hex/base64.
    #[error("Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id")]
    PubkeyFormat,
    /// The pubkey prefix is neither `00` nor `15`.
    #[error("Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed")]
    PubkeyPrefix,
    /// The pubkey is not an Ed25519 point.
    #[error("Invalid authentication: given X-SOGS-Pubkey is not a valid Ed25519 pubkey")]
    PubkeyPoint,
    /// A `00` key on a server that requires blinding.
    #[error("Invalid authentication: this server requires the use of blinded ids")]
    BlindingRequired,
    /// The nonce is not 16 bytes of hex/base64.
    #[error("Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)")]
    NonceFormat,
    /// The signature is not 64 bytes of hex/base64.
    #[error("Invalid authentication: X-SOGS-Signature is not base64[88]")]
    SignatureFormat,
    /// The timestamp is not an integer.
    #[error("Invalid authentication: X-SOGS-Timestamp is not a valid timestamp")]
    TimestampFormat,
    /// The timestamp is more than 24 h from the server's clock.
    #[error("Invalid authentication: X-SOGS-Timestamp is too far from current time")]
    Stale,
    /// The user is banned from the server.
    #[error("Banned")]
    Banned,
    /// The nonce was used before by this user.
    #[error("Invalid authentication: X-SOGS-Nonce cannot be reused")]
    NonceReused,
    /// The signature does not verify.
    #[error("Invalid authentication: X-SOGS-Signature verification failed")]
    BadSignature,
}

impl AuthRejection {
    /// The HTTP status pysogs answers with.
    pub fn status(self) -> u16 {
        match self {
            Self::Stale | Self::NonceReused => 425,
            Self::Banned => 403,
            Self::BadSignature => 401,
            _ => 400,
        }
    }
}

/// What a server's checks need besides the request: its key, its clock and its state.
pub trait AuthContext {
    /// Whether the server refuses `00` (unblinded) keys (pysogs `REQUIRE_BLIND_KEYS`).
    fn require_blind(&self) -> bool;
    /// Whether the user (as `05`/`15` id) is banned server-wide.
    fn is_banned(&mut self, user: &SessionId) -> bool;
    /// Records `nonce` for `user`; `false` when it was recorded before.
    fn record_nonce(&mut self, user: &SessionId, nonce: &[u8; NONCE_LEN]) -> bool;
}

/// The four header values as received (any may be absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReceivedAuth<'a> {
    /// `X-SOGS-Pubkey`.
    pub pubkey: Option<&'a str>,
    /// `X-SOGS-Nonce`.
    pub nonce: Option<&'a str>,
    /// `X-SOGS-Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `X-SOGS-Signature`.
    pub signature: Option<&'a str>,
}

/// Server side: checks a request's headers in pysogs' order (format, timestamp, ban, nonce,
/// signature — the nonce is spent even when the signature then fails). `Ok(None)` when no header
/// is present (an anonymous request); otherwise the user's id (`15…`, or `05…` for a `00` key).
///
/// ```
/// use metaless_community::{auth, AuthMode, AuthRejection, ReceivedAuth};
/// use metaless_identity::{Keypair, Seed, SessionId};
/// struct Ctx(Vec<[u8; 16]>);
/// impl auth::AuthContext for Ctx {
///     fn require_blind(&self) -> bool { true }
///     fn is_banned(&mut self, _: &SessionId) -> bool { false }
///     fn record_nonce(&mut self, _: &SessionId, n: &[u8; 16]) -> bool {
///         if self.0.contains(n) { false } else { self.0.push(*n); true }
///     }
/// }
/// let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let h = auth::sign(&keys, &[2; 32], AuthMode::Blinded15, "GET", "/rooms", b"", 1000, [3; 16]);
/// let p = h.pairs();
/// let got = ReceivedAuth { pubkey: Some(&p[0].1), timestamp: Some(&p[1].1), nonce: Some(&p[2].1), signature: Some(&p[3].1) };
/// let mut ctx = Ctx(vec![]);
/// let user = auth::verify(&[2; 32], &got, "GET", "/rooms", b"", 1000, &mut ctx).unwrap().unwrap();
/// assert_eq!(user.to_string(), h.pubkey());
/// assert_eq!(auth::verify(&[2; 32], &got, "GET", "/rooms", b"", 1000, &mut ctx), Err(AuthRejection::NonceReused));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn verify(
    server_pk: &[u8; 32],
    got: &ReceivedAuth<'_>,
    method: &str,
    path: &str,
    body: &[u8],
    now_s: u64,
    ctx: &mut impl AuthContext,
) -> Result<Option<SessionId>, AuthRejection> {
    let fields = [got.pubkey, got.nonce, got.timestamp, got.signature];
    let missing = fields
        .iter()
        .filter(|f| f.is_none_or(str::is_empty))
        .count() as u8;
    if missing == 4 {
        return Ok(None);
    }
    if missing > 0 {
        return Err(AuthRejection::Missing(missing));
    }
    let (pk, nonce, ts, sig) = (
        got.pubkey.unwrap_or_default(),
        got.nonce.unwrap_or_default(),
        got.timestamp.unwrap_or_default(),
        got.signature.unwrap_or_default(),
    );
    let pk: [u8; 33] = decode_hex_or_b64(pk).ok_or(AuthRejection::PubkeyFormat)?;
    if pk[0] != 0x00 && pk[0] != 0x15 {
        return Err(AuthRejection::PubkeyPrefix);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&pk[1..]);
    // pysogs' crypto_core_ed25519_is_valid_point: on the curve, canonical, prime order, not small.
    let x25519 = metaless_identity::ed25519_to_x25519_public(&key)
        .map_err(|_| AuthRejection::PubkeyPoint)?;
    let user = if pk[0] == 0x15 {
        SessionId::new(SessionIdPrefix::Blinded15, key)
    } else if ctx.require_blind() {
        return Err(AuthRejection::BlindingRequired);
    } else {
        SessionId::new(SessionIdPrefix::Standard, x25519)
    }
    .map_err(|_| AuthRejection::PubkeyPoint)?;
    let nonce: [u8; NONCE_LEN] = decode_hex_or_b64(nonce).ok_or(AuthRejection::NonceFormat)?;
    let sig: [u8; 64] = decode_hex_or_b64(sig).ok_or(AuthRejection::SignatureFormat)?;
    // pysogs: int(ts_str) accepts surrounding whitespace and a sign; the signed text is ts_str as sent.
    let ts_value: i64 = ts
        .trim()
        .parse()
        .map_err(|_| AuthRejection::TimestampFormat)?;
    let now = i64::try_from(now_s).unwrap_or(i64::MAX);
    let skew = MAX_CLOCK_SKEW_S as i64;
    if ts_value < now.saturating_sub(skew) || ts_value > now.saturating_add(skew) {
        return Err(AuthRejection::Stale);
    }
    if ctx.is_banned(&user) {
        return Err(AuthRejection::Banned);
    }
    if !ctx.record_nonce(&user, &nonce) {
        return Err(AuthRejection::NonceReused);
    }
    let mut message = Vec::with_capacity(48 + ts.len() + method.len() + path.len() + 64);
    message.extend_from_slice(server_pk);
    message.extend_from_slice(&nonce);
    message.extend_from_slice(ts.as_bytes());
    message.extend_from_slice(method.as_bytes());
    message.extend_from_slice(path.as_bytes());
    if !body.is_empty() {
        message.extend_from_slice(&Blake2b512::digest(body));
    }
    verify_ed25519(&key, &message, &sig).map_err(|_| AuthRejection::BadSignature)?;
    Ok(Some(user))
}

/// pysogs `decode_hex_or_b64`: `2N` hex digits, or base64 (padded or not) of exactly `N` bytes.
pub(crate) fn decode_hex_or_b64<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() == 2 * N
        && let Ok(bytes) = hex::decode_array::<N>(text)
    {
        return Some(bytes);
    }
    let padded = N.div_ceil(3) * 4;
    let unpadded = (4 * N).div_ceil(3);
    if text.len() != padded && text.len() != unpadded {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
        .ok()?;
    bytes.try_into().ok()
}
