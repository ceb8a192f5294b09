//! Blinded community IDs (`15` and `25`) and blinded signing, compatible with libsession-util's
//! `blinding` functions; also the `07` version-check key.
//!
//! A community server (SOGS) sees an account only as a key blinded by a factor `k` that depends
//! on the server's public key, so two servers cannot link the same person. With `A` the account's
//! Ed25519 public key, `a` its secret scalar (the clamped first half of SHA-512(seed)) and `X` its
//! X25519 public key:
//!
//! * `15`: `k = BLAKE2b-512(server_pk) mod L`; blinded key `k·A`. From a Session ID alone only
//!   `±A` is known (the X25519 key loses the sign), so both `k·|A|` and `−k·|A|` are candidates.
//! * `25`: `k = BLAKE2b-512(0x05 ‖ X ‖ server_pk) mod L`; blinded key `k·|A|`, where `|A|` is
//!   `A` with its sign bit cleared — the same whichever sign `A` has.
//!
//! Blinded signatures are Ed25519 signatures under the blinded key (any Ed25519 verifier
//! accepts them) with a deterministic nonce, computed exactly as upstream so that they match its
//! vectors byte for byte.
//!
//! ```
//! use metaless_identity::{blinding, verify_ed25519, Keypair, Seed, SessionIdPrefix};
//!
//! let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
//! let server_pk = [0xab; 32];
//! let id25 = blinding::blind25_id(&keys.session_id(), &server_pk).unwrap();
//! assert_eq!(id25.prefix(), SessionIdPrefix::Blinded25);
//! let sig = blinding::blind25_sign(&keys, &server_pk, b"hello").unwrap();
//! assert!(verify_ed25519(id25.key(), b"hello", &sig).is_ok());
//! ```

use alloc::vec::Vec;
use core::fmt;

use blake2::Blake2b512;
use blake2::Blake2bMac;
use blake2::digest::consts::{U32, U64};
use blake2::digest::{KeyInit, Mac};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use sha2::{Digest, Sha512};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{IdentityError, Keypair, Seed, SessionId, SessionIdPrefix};

/// BLAKE2b key of the 25-blinded signing nonce's seed hash (upstream's `SessCommBlind25_seed`).
const BLIND25_SEED_KEY: &[u8] = b"SessCommBlind25_seed";
/// BLAKE2b key of the 25-blinded signing nonce (upstream's `SessCommBlind25_sig`).
const BLIND25_SIG_KEY: &[u8] = b"SessCommBlind25_sig";
/// BLAKE2b key deriving the version-check (`07`) seed (upstream's `VersionCheckKey_sig`).
const VERSION_KEY: &[u8] = b"VersionCheckKey_sig";

/// The 15-blinding factor `k = BLAKE2b-512(server_pk) mod L`.
///
/// ```
/// use metaless_identity::blinding;
/// let k = blinding::blind15_factor(&[1; 32]);
/// assert_ne!(k, blinding::blind15_factor(&[2; 32]));
/// ```
pub fn blind15_factor(server_pk: &[u8; 32]) -> Scalar {
    let hash: [u8; 64] = Blake2b512::new().chain_update(server_pk).finalize().into();
    Scalar::from_bytes_mod_order_wide(&hash)
}

/// The 25-blinding factor `k = BLAKE2b-512(0x05 ‖ x25519_pk ‖ server_pk) mod L`.
///
/// ```
/// use metaless_identity::blinding;
/// assert_ne!(blinding::blind25_factor(&[1; 32], &[9; 32]), blinding::blind25_factor(&[2; 32], &[9; 32]));
/// ```
pub fn blind25_factor(x25519_pk: &[u8; 32], server_pk: &[u8; 32]) -> Scalar {
    let hash: [u8; 64] = Blake2b512::new()
        .chain_update([SessionIdPrefix::Standard.byte()])
        .chain_update(x25519_pk)
        .chain_update(server_pk)
        .finalize()
        .into();
    Scalar::from_bytes_mod_order_wide(&hash)
}

/// Both candidate 15-blinded IDs of a standard Session ID: `[k·|A|, −k·|A|]` (the second is the
/// first with the top bit of its last byte flipped). Which one the account really uses depends on
/// the sign of its Ed25519 key, which the Session ID does not carry; a verifier accepts either.
///
/// Fails with [`IdentityError::UnexpectedPrefix`] for anything but a `05` ID, and
/// [`IdentityError::InvalidPoint`] when the X25519 key maps to no prime-order Ed25519 point.
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let [pos, neg] = blinding::blind15_ids(&keys.session_id(), &[7; 32]).unwrap();
/// assert_eq!(pos.key()[..31], neg.key()[..31]);
/// assert_eq!(pos.key()[31] ^ 0x80, neg.key()[31]);
/// ```
pub fn blind15_ids(
    session_id: &SessionId,
    server_pk: &[u8; 32],
) -> Result<[SessionId; 2], IdentityError> {
    let x = standard_key(session_id)?;
    let positive = blind_point(&blind15_factor(server_pk), &xed25519_point(x)?)?;
    let mut negated = positive;
    negated[31] ^= 0x80;
    Ok([
        SessionId::new(SessionIdPrefix::Blinded15, positive)?,
        SessionId::new(SessionIdPrefix::Blinded15, negated)?,
    ])
}

/// The 25-blinded ID of a standard Session ID: `0x25 ‖ k·|A|`.
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed, SessionIdPrefix};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let id = blinding::blind25_id(&keys.session_id(), &[7; 32]).unwrap();
/// assert_eq!(id.prefix(), SessionIdPrefix::Blinded25);
/// ```
pub fn blind25_id(
    session_id: &SessionId,
    server_pk: &[u8; 32],
) -> Result<SessionId, IdentityError> {
    let x = standard_key(session_id)?;
    let blinded = blind_point(&blind25_factor(x, server_pk), &xed25519_point(x)?)?;
    SessionId::new(SessionIdPrefix::Blinded25, blinded)
}

/// The 15-blinded ID for a known Ed25519 key: `0x15 ‖ k·A`, with `A`'s own sign — the ID the
/// account actually presents to the server (one of the two [`blind15_ids`] candidates).
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let id = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &[7; 32]).unwrap();
/// assert!(blinding::blind15_ids(&keys.session_id(), &[7; 32]).unwrap().contains(&id));
/// ```
pub fn blind15_id_from_ed25519(
    ed25519_pk: &[u8; 32],
    server_pk: &[u8; 32],
) -> Result<SessionId, IdentityError> {
    let blinded = blind_point(&blind15_factor(server_pk), &checked_point(ed25519_pk)?)?;
    SessionId::new(SessionIdPrefix::Blinded15, blinded)
}

/// The 25-blinded ID for a known Ed25519 key (the same as [`blind25_id`] of its Session ID).
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// assert_eq!(
///     blinding::blind25_id_from_ed25519(&keys.ed25519_public(), &[7; 32]).unwrap(),
///     blinding::blind25_id(&keys.session_id(), &[7; 32]).unwrap(),
/// );
/// ```
pub fn blind25_id_from_ed25519(
    ed25519_pk: &[u8; 32],
    server_pk: &[u8; 32],
) -> Result<SessionId, IdentityError> {
    let point = checked_point(ed25519_pk)?;
    let x = point.to_montgomery().to_bytes();
    let mut positive = *ed25519_pk;
    positive[31] &= 0x7f;
    let blinded = blind_point(&blind25_factor(&x, server_pk), &checked_point(&positive)?)?;
    SessionId::new(SessionIdPrefix::Blinded25, blinded)
}

/// Whether `blinded_id` (`15` or `25`) is the blinding of the standard `session_id` on the server
/// with public key `server_pk`. For `15` IDs both signs are accepted.
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let sid = keys.session_id();
/// let b25 = blinding::blind25_id(&sid, &[7; 32]).unwrap();
/// assert!(blinding::session_id_matches_blinded_id(&sid, &b25, &[7; 32]).unwrap());
/// assert!(!blinding::session_id_matches_blinded_id(&sid, &b25, &[8; 32]).unwrap());
/// assert!(blinding::session_id_matches_blinded_id(&sid, &sid, &[7; 32]).is_err());
/// ```
pub fn session_id_matches_blinded_id(
    session_id: &SessionId,
    blinded_id: &SessionId,
    server_pk: &[u8; 32],
) -> Result<bool, IdentityError> {
    match blinded_id.prefix() {
        SessionIdPrefix::Blinded15 => Ok(blind15_ids(session_id, server_pk)?.contains(blinded_id)),
        SessionIdPrefix::Blinded25 => Ok(blind25_id(session_id, server_pk)? == *blinded_id),
        other => Err(IdentityError::UnexpectedPrefix(other.byte())),
    }
}

/// A blinded key pair: the public key `A' = a'·B` and the secret scalar `a'`. The scalar is
/// zeroized on drop, never `Clone`, and `Debug` shows only the public key.
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let pair = blinding::blind25_keypair(&keys, &[7; 32]);
/// assert_eq!(&pair.public_key(), blinding::blind25_id(&keys.session_id(), &[7; 32]).unwrap().key());
/// assert!(!format!("{pair:?}").contains("secret"));
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct BlindedKeypair {
    #[zeroize(skip)]
    public: [u8; 32],
    secret: Scalar,
}

impl BlindedKeypair {
    fn from_secret(secret: Scalar) -> Self {
        let public = crate::x25519::mul_base_compressed(&secret);
        Self { public, secret }
    }

    /// The blinded Ed25519 public key (the 32 bytes after the `15`/`25` prefix).
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The blinded secret scalar `a'`, little-endian and reduced mod L (what libsodium's
    /// `crypto_core_ed25519_scalar_mul` returns), for protocols such as blinded-DM key agreement.
    ///
    /// ```
    /// use metaless_identity::{blinding, Keypair, Seed};
    /// let pair = blinding::blind15_keypair(&Keypair::from_seed(&Seed::from_bytes([3; 32])), &[7; 32]);
    /// assert_eq!(pair.expose_secret()[31] & 0xf0, 0); // < L < 2^253
    /// ```
    pub fn expose_secret(&self) -> &[u8; 32] {
        self.secret.as_bytes()
    }
}

impl fmt::Debug for BlindedKeypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindedKeypair")
            .field("public", &crate::hex::encode(&self.public))
            .finish_non_exhaustive()
    }
}

/// The account's 15-blinded key pair for a server: `a' = k·a`, `A' = a'·B = k·A`.
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let pair = blinding::blind15_keypair(&keys, &[7; 32]);
/// let id = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &[7; 32]).unwrap();
/// assert_eq!(&pair.public_key(), id.key());
/// ```
pub fn blind15_keypair(keys: &Keypair, server_pk: &[u8; 32]) -> BlindedKeypair {
    let a = secret_scalar(keys);
    BlindedKeypair::from_secret(blind15_factor(server_pk) * *a)
}

/// The account's 25-blinded key pair for a server: `a' = ±k·a` (negated when the Ed25519 key is
/// "negative", i.e. the top bit of its last byte is set), so that `A' = k·|A|` matches
/// [`blind25_id`].
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let pair = blinding::blind25_keypair(&keys, &[7; 32]);
/// assert_eq!(&pair.public_key(), blinding::blind25_id(&keys.session_id(), &[7; 32]).unwrap().key());
/// ```
pub fn blind25_keypair(keys: &Keypair, server_pk: &[u8; 32]) -> BlindedKeypair {
    let k = blind25_factor(&keys.x25519_public(), server_pk);
    let negative = subtle::Choice::from(keys.ed25519_public()[31] >> 7);
    let k = Scalar::conditional_select(&k, &-k, negative);
    let a = secret_scalar(keys);
    BlindedKeypair::from_secret(k * *a)
}

/// A 15-blinded signature, as upstream's `blind15_sign`: nonce
/// `r = SHA-512(SHA-512(seed ‖ A)[32..64] ‖ A' ‖ message) mod L`, then the Ed25519 equations
/// `R = r·B`, `S = r + SHA-512(R ‖ A' ‖ message)·a'` under the blinded pair `(a', A')`.
///
/// ```
/// use metaless_identity::{blinding, verify_ed25519, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let sig = blinding::blind15_sign(&keys, &[7; 32], b"m");
/// let pair = blinding::blind15_keypair(&keys, &[7; 32]);
/// assert!(verify_ed25519(&pair.public_key(), b"m", &sig).is_ok());
/// ```
pub fn blind15_sign(keys: &Keypair, server_pk: &[u8; 32], message: &[u8]) -> [u8; 64] {
    let pair = blind15_keypair(keys, server_pk);
    let mut expanded: Zeroizing<[u8; 64]> = Zeroizing::new(
        Sha512::new()
            .chain_update(keys.signing_key().as_bytes())
            .chain_update(keys.ed25519_public())
            .finalize()
            .into(),
    );
    let mut nonce_hash: Zeroizing<[u8; 64]> = Zeroizing::new(
        Sha512::new()
            .chain_update(&expanded[32..])
            .chain_update(pair.public)
            .chain_update(message)
            .finalize()
            .into(),
    );
    expanded.zeroize();
    let r = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&nonce_hash));
    nonce_hash.zeroize();
    sign_with_nonce(&pair, &r, message)
}

/// A 25-blinded signature, as upstream's `blind25_sign`: nonce
/// `r = BLAKE2b-512(key "SessCommBlind25_sig"; BLAKE2b-256(key "SessCommBlind25_seed"; seed) ‖ A' ‖ message) mod L`,
/// then `R = r·B`, `S = r + SHA-512(R ‖ A' ‖ message)·a'` under the 25-blinded pair.
///
/// ```
/// use metaless_identity::{blinding, verify_ed25519, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let sig = blinding::blind25_sign(&keys, &[7; 32], b"m").unwrap();
/// let id = blinding::blind25_id(&keys.session_id(), &[7; 32]).unwrap();
/// assert!(verify_ed25519(id.key(), b"m", &sig).is_ok());
/// ```
pub fn blind25_sign(
    keys: &Keypair,
    server_pk: &[u8; 32],
    message: &[u8],
) -> Result<[u8; 64], IdentityError> {
    let pair = blind25_keypair(keys, server_pk);
    let seed_hash = keyed_blake2b::<U32, 32>(BLIND25_SEED_KEY, &[keys.signing_key().as_bytes()])?;
    let nonce_hash =
        keyed_blake2b::<U64, 64>(BLIND25_SIG_KEY, &[&seed_hash[..], &pair.public, message])?;
    let r = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&nonce_hash));
    Ok(sign_with_nonce(&pair, &r, message))
}

/// The client platform named in a version-check request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Platform {
    /// `android`
    Android,
    /// `desktop`
    Desktop,
    /// `ios`
    Ios,
}

impl Platform {
    /// The platform's name as it appears in the request path.
    ///
    /// ```
    /// assert_eq!(metaless_identity::blinding::Platform::Ios.name(), "ios");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Android => "android",
            Self::Desktop => "desktop",
            Self::Ios => "ios",
        }
    }
}

/// The version-check (`07`) key pair: an ordinary Ed25519 key pair from the seed
/// `BLAKE2b-256(key "VersionCheckKey_sig"; seed)`, so that the file server's version endpoint
/// cannot link requests to the account.
///
/// ```
/// use metaless_identity::{blinding, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let version = blinding::blind_version_keypair(&keys).unwrap();
/// assert_ne!(version.ed25519_public(), keys.ed25519_public());
/// ```
pub fn blind_version_keypair(keys: &Keypair) -> Result<Keypair, IdentityError> {
    let derived = keyed_blake2b::<U32, 32>(VERSION_KEY, &[keys.signing_key().as_bytes()])?;
    // `Seed` zeroizes its copy; `derived` zeroizes itself.
    let seed = Seed::from_bytes(*derived);
    Ok(Keypair::from_seed(&seed))
}

/// Signs a version-check request, `timestamp ‖ method ‖ path ‖ body` (the timestamp in decimal
/// ASCII), with the [`blind_version_keypair`].
///
/// ```
/// use metaless_identity::{blinding, verify_ed25519, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let sig = blinding::blind_version_sign_request(&keys, 1_700_000_000, b"GET", b"/x", None).unwrap();
/// let version = blinding::blind_version_keypair(&keys).unwrap();
/// assert!(verify_ed25519(&version.ed25519_public(), b"1700000000GET/x", &sig).is_ok());
/// ```
pub fn blind_version_sign_request(
    keys: &Keypair,
    timestamp: u64,
    method: &[u8],
    path: &[u8],
    body: Option<&[u8]>,
) -> Result<[u8; 64], IdentityError> {
    let version = blind_version_keypair(keys)?;
    let body = body.unwrap_or_default();
    let mut digits = [0u8; 20];
    let timestamp = decimal(timestamp, &mut digits);
    let mut message = Vec::with_capacity(timestamp.len() + method.len() + path.len() + body.len());
    for part in [timestamp, method, path, body] {
        message.extend_from_slice(part);
    }
    Ok(version.sign(&message))
}

/// Signs the version check `GET /session_version?platform=<platform>` at `timestamp` (seconds),
/// as upstream's `blind_version_sign`.
///
/// ```
/// use metaless_identity::{blinding, blinding::Platform, verify_ed25519, Keypair, Seed};
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let sig = blinding::blind_version_sign(&keys, Platform::Android, 5).unwrap();
/// let pk = blinding::blind_version_keypair(&keys).unwrap().ed25519_public();
/// assert!(verify_ed25519(&pk, b"5GET/session_version?platform=android", &sig).is_ok());
/// ```
pub fn blind_version_sign(
    keys: &Keypair,
    platform: Platform,
    timestamp: u64,
) -> Result<[u8; 64], IdentityError> {
    let mut path = Vec::with_capacity(40);
    path.extend_from_slice(b"/session_version?platform=");
    path.extend_from_slice(platform.name().as_bytes());
    blind_version_sign_request(keys, timestamp, b"GET", &path, None)
}

/// Writes `value` in decimal into the end of `buf`, returning the digits.
fn decimal(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(slot) = buf.get_mut(start) {
            // `value % 10` is below 10, so the cast cannot truncate.
            *slot = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || start == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

/// The X25519 key of a standard (`05`) Session ID.
fn standard_key(session_id: &SessionId) -> Result<&[u8; 32], IdentityError> {
    match session_id.prefix() {
        SessionIdPrefix::Standard => Ok(session_id.key()),
        other => Err(IdentityError::UnexpectedPrefix(other.byte())),
    }
}

/// The "positive" Ed25519 point `|A|` whose Montgomery form is `x` (XEd25519's conversion, as
/// upstream's `xed25519::pubkey`), checked as libsodium checks a point before multiplying.
fn xed25519_point(x: &[u8; 32]) -> Result<EdwardsPoint, IdentityError> {
    let point = MontgomeryPoint(*x)
        .to_edwards(0)
        .ok_or(IdentityError::InvalidPoint)?;
    checked_point(&point.compress().to_bytes())
}

/// Decodes a point as libsodium's `crypto_scalarmult_ed25519_noclamp` accepts it: canonical, on
/// the curve, not of small order, and in the prime-order subgroup.
fn checked_point(bytes: &[u8; 32]) -> Result<EdwardsPoint, IdentityError> {
    let point = CompressedEdwardsY(*bytes)
        .decompress()
        .ok_or(IdentityError::InvalidPoint)?;
    if point.compress().to_bytes() != *bytes || point.is_small_order() || !point.is_torsion_free() {
        return Err(IdentityError::InvalidPoint);
    }
    Ok(point)
}

/// `k·P`, refusing a zero factor or an identity result as libsodium does.
fn blind_point(k: &Scalar, point: &EdwardsPoint) -> Result<[u8; 32], IdentityError> {
    let blinded = k * point;
    if bool::from(k.ct_eq(&Scalar::ZERO)) || blinded.is_identity() {
        return Err(IdentityError::BlindingFailed);
    }
    Ok(blinded.compress().to_bytes())
}

/// The account's Ed25519 secret scalar `a` (= the X25519 secret), reduced mod L.
fn secret_scalar(keys: &Keypair) -> Zeroizing<Scalar> {
    Zeroizing::new(Scalar::from_bytes_mod_order(
        *keys.x25519_secret().expose_secret(),
    ))
}

/// `R ‖ S` with `R = r·B`, `S = r + SHA-512(R ‖ A' ‖ message)·a'`.
fn sign_with_nonce(pair: &BlindedKeypair, r: &Scalar, message: &[u8]) -> [u8; 64] {
    let big_r = crate::x25519::mul_base_compressed(r);
    let hram: [u8; 64] = Sha512::new()
        .chain_update(big_r)
        .chain_update(pair.public)
        .chain_update(message)
        .finalize()
        .into();
    let s = Scalar::from_bytes_mod_order_wide(&hram) * pair.secret + r;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&big_r);
    signature[32..].copy_from_slice(s.as_bytes());
    signature
}

/// Keyed BLAKE2b (libsodium's `crypto_generichash` with a key) over the concatenated parts,
/// with an output of `LEN` bytes (`N` is the same length as a type).
fn keyed_blake2b<N, const LEN: usize>(
    key: &[u8],
    parts: &[&[u8]],
) -> Result<Zeroizing<[u8; LEN]>, IdentityError>
where
    N: blake2::digest::generic_array::ArrayLength<u8> + blake2::digest::typenum::IsLessOrEqual<U64>,
    blake2::digest::typenum::LeEq<N, U64>: blake2::digest::typenum::NonZero,
{
    let mut mac = <Blake2bMac<N> as KeyInit>::new_from_slice(key)
        .map_err(|_| IdentityError::BlindingFailed)?;
    for part in parts {
        Mac::update(&mut mac, part);
    }
    let mut digest = mac.finalize().into_bytes();
    if digest.len() != LEN {
        return Err(IdentityError::BlindingFailed);
    }
    let mut out = Zeroizing::new([0u8; LEN]);
    for (o, d) in out.iter_mut().zip(digest.iter()) {
        *o = *d;
    }
    digest.zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(1_234_567_890, &mut buf), b"1234567890");
        assert_eq!(decimal(u64::MAX, &mut buf), b"18446744073709551615");
    }

    #[test]
    fn blinding_by_zero_is_refused() {
        let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
        let point = checked_point(&keys.ed25519_public()).unwrap();
        assert_eq!(
            blind_point(&Scalar::ZERO, &point),
            Err(IdentityError::BlindingFailed)
        );
    }

    #[test]
    fn non_canonical_and_small_order_points_are_refused() {
        // The identity (y = 1) has small order; y = p (≡ 0 mod p) is a non-canonical encoding.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            checked_point(&identity).err(),
            Some(IdentityError::InvalidPoint)
        );
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert_eq!(checked_point(&p).err(), Some(IdentityError::InvalidPoint));
        // A point with a torsion component: a valid key plus a point of order 2 (y = −1).
        let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
        let a = checked_point(&keys.ed25519_public()).unwrap();
        let mut minus_one = [0xff; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        let order2 = CompressedEdwardsY(minus_one).decompress().unwrap();
        let mixed = (a + order2).compress().to_bytes();
        assert_eq!(
            checked_point(&mixed).err(),
            Some(IdentityError::InvalidPoint)
        );
    }

    #[test]
    fn blinded_keypair_zeroizes() {
        let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
        let mut pair = blind15_keypair(&keys, &[2; 32]);
        assert_ne!(pair.expose_secret(), &[0u8; 32]);
        pair.zeroize();
        assert_eq!(pair.expose_secret(), &[0u8; 32]);
    }
}
