//! The node side of the storage RPC, as library functions for a node implementation:
//!
//! 1. [`parse_request`] turns a request body into a typed [`Request`] or the exact 400 reply;
//! 2. [`check_swarm`] answers 421 (with the right swarm) for accounts the node does not hold;
//! 3. [`verify`] applies the method's TTL, clock and signature rules (403/406/401)
//!    ([`verify_forwarded`] for a change a swarm peer replays);
//! 4. the node does the storage work and builds its reply with [`SwarmReply`] and the
//!    `*_reply`/`*_entry` functions, which produce the storage server's JSON shapes.
//!
//! Status codes and texts are the storage server's (`request_handler.cpp`,
//! `client_rpc_endpoints.cpp`).
//!
//! ```
//! use metaless_identity::{Keypair, Seed};
//! use metaless_swarm::{Namespace, Signer, Store, server};
//! let keys = Keypair::from_seed(&Seed::from_bytes([3u8; 32]));
//! let now = 1_700_000_000_000;
//! let body = metaless_swarm::Request::Store(
//!     Store::signed(&Signer::session(&keys), Namespace::UserProfile, b"x".to_vec(), now, 86_400_000).unwrap(),
//! ).to_body();
//! let request = server::parse_request(&body).unwrap();
//! assert!(server::verify(&request, now + 5_000).is_ok());
//! let stale = server::verify(&request, now + 120_000).unwrap_err();
//! assert_eq!((stale.status, stale.text.as_str()), (406, "store signature timestamp too far from current time"));
//! ```

mod parse;
mod reply;

use alloc::format;
use alloc::string::String;

use metaless_identity::{ed25519_to_x25519_public, verify_ed25519};
use serde_json::Value;
use thiserror::Error;

use crate::limits::{MAX_REQUEST_BODY, RETRIEVE_MAX_SIZE};
use crate::rpc::{Auth, NamespaceAction, Request, Retrieve};
use crate::ttl::{
    EXPIRE_PAST_TOLERANCE_MS, SIGNATURE_TOLERANCE_FORWARDED_MS, SIGNATURE_TOLERANCE_MS,
    STORE_TOLERANCE_MS, TTL_MAXIMUM_MS, TTL_MAXIMUM_PRIVATE_MS, TTL_MINIMUM_MS,
};
use crate::{UserPubkey, sig};

pub use reply::{
    Affected, NodeFailure, Reply, ReplyBody, SwarmReply, check_swarm, delete_entry, expire_entry,
    get_expiries_reply, get_swarm_reply, info_reply, namespace_action_entry, retrieve_reply,
    store_entry, wrong_swarm_reply,
};

/// An error reply: HTTP status and plain-text body, exactly as the storage server words it.
///
/// ```
/// let e = metaless_swarm::server::parse_request(b"{").unwrap_err();
/// assert_eq!((e.status, e.text.as_str()), (400, "invalid json"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{status} {text}")]
pub struct RpcError {
    /// HTTP status (400, 401, 403, 404, 406, 413, 421, 500, …).
    pub status: u16,
    /// The body text.
    pub text: String,
}

impl RpcError {
    /// An error with this status and text.
    pub fn new(status: u16, text: impl Into<String>) -> Self {
        Self {
            status,
            text: text.into(),
        }
    }

    fn bad_request(text: impl Into<String>) -> Self {
        Self::new(400, text)
    }
}

/// Parses a request body `{"method": …, "params": {…}}`.
///
/// Errors (all 400 unless noted): `invalid json`, ``invalid json: no `method` field``,
/// ``invalid json: no `params` field``, `no method <name>` (also for the subaccount methods and
/// `ifelse`, which this crate does not model), `invalid request: <reason>` with the storage
/// server's reason; a body over [`MAX_REQUEST_BODY`] gets 413 `Request body too large` (the
/// text the storage server's HTTP layer answers before the RPC handler sees such a body).
///
/// ```
/// use metaless_swarm::server::parse_request;
/// assert_eq!(parse_request(br#"{"params": {}}"#).unwrap_err().text, "invalid json: no `method` field");
/// assert_eq!(parse_request(br#"{"method": "info"}"#).unwrap_err().text, "invalid json: no `params` field");
/// assert_eq!(parse_request(br#"{"method": "nope", "params": {}}"#).unwrap_err().text, "no method nope");
/// assert_eq!(
///     parse_request(br#"{"method": "store", "params": {"pubkey": 5}}"#).unwrap_err().text,
///     "invalid request: Invalid value given for 'pubkey': expected string"
/// );
/// assert!(matches!(parse_request(br#"{"method": "info", "params": {}}"#), Ok(metaless_swarm::Request::Info)));
/// ```
pub fn parse_request(body: &[u8]) -> Result<Request, RpcError> {
    if body.len() > MAX_REQUEST_BODY {
        return Err(RpcError::new(413, "Request body too large"));
    }
    let top: Value =
        serde_json::from_slice(body).map_err(|_| RpcError::bad_request("invalid json"))?;
    let method = match top.get("method") {
        Some(Value::String(m)) => m.as_str(),
        _ => return Err(RpcError::bad_request("invalid json: no `method` field")),
    };
    let params = match top.get("params") {
        Some(Value::Object(p)) => p,
        _ => return Err(RpcError::bad_request("invalid json: no `params` field")),
    };
    parse_params(method, params)
}

/// Parses the `params` of `method` (for transports that carry them separately, e.g. OMQ/QUIC
/// requests with JSON params).
pub fn parse_params(
    method: &str,
    params: &serde_json::Map<String, Value>,
) -> Result<Request, RpcError> {
    match parse::by_method(method, params) {
        None => Err(RpcError::bad_request(format!("no method {method}"))),
        Some(Ok(r)) => Ok(r),
        Some(Err(parse::Failure::Parse(reason))) => {
            Err(RpcError::bad_request(format!("invalid request: {reason}")))
        }
        Some(Err(parse::Failure::Reply(e))) => Err(e),
    }
}

/// Checks an authentication against the signed message, as the storage server does: for `05`
/// addresses with `pubkey_ed25519`, that key must convert to the address's X25519 key and is
/// the verifying key; otherwise the address's own 32 bytes are. Subaccount signatures are not
/// supported (always refused).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Signer, server::verify_auth};
/// let keys = Keypair::from_seed(&Seed::from_bytes([4u8; 32]));
/// let signer = Signer::session(&keys);
/// let auth = signer.auth(b"msg");
/// assert!(verify_auth(&signer.pubkey(), &auth, b"msg"));
/// assert!(!verify_auth(&signer.pubkey(), &auth, b"msG"));
/// ```
pub fn verify_auth(pubkey: &UserPubkey, auth: &Auth, message: &[u8]) -> bool {
    if auth.subaccount.is_some() {
        return false;
    }
    let key = match auth.pubkey_ed25519 {
        Some(ed) if pubkey.prefix() == 5 => match ed25519_to_x25519_public(&ed) {
            Ok(x) if &x == pubkey.key() => ed,
            _ => return false,
        },
        _ => *pubkey.key(),
    };
    verify_ed25519(&key, message, &auth.signature).is_ok()
}

fn within(ts: u64, now: u64, tolerance: u64) -> bool {
    ts >= now.saturating_sub(tolerance) && ts <= now.saturating_add(tolerance)
}

#[allow(clippy::too_many_arguments)]
fn check_signed_within(
    pubkey: &UserPubkey,
    auth: &Auth,
    message: &[u8],
    ts: u64,
    now_ms: u64,
    tolerance_ms: u64,
    stale_text: &str,
    bad_sig_text: &str,
) -> Result<(), RpcError> {
    if !within(ts, now_ms, tolerance_ms) {
        return Err(RpcError::new(406, stale_text));
    }
    if !verify_auth(pubkey, auth, message) {
        return Err(RpcError::new(401, bad_sig_text));
    }
    Ok(())
}

fn check_signed(
    pubkey: &UserPubkey,
    auth: &Auth,
    message: &[u8],
    ts: u64,
    now_ms: u64,
    stale_text: &str,
    bad_sig_text: &str,
) -> Result<(), RpcError> {
    check_signed_within(
        pubkey,
        auth,
        message,
        ts,
        now_ms,
        SIGNATURE_TOLERANCE_MS,
        stale_text,
        bad_sig_text,
    )
}

fn sig_only(
    pubkey: &UserPubkey,
    auth: &Auth,
    message: &[u8],
    bad_sig_text: &str,
) -> Result<(), RpcError> {
    if verify_auth(pubkey, auth, message) {
        Ok(())
    } else {
        Err(RpcError::new(401, bad_sig_text))
    }
}

/// Applies the checks the storage server makes after the swarm check and before doing any
/// work: for `store` the TTL (403), clock (406) and, for non-public namespaces, the signature
/// and its timestamp (401/406); for the signed methods their timestamp window and signature.
/// `batch`/`sequence` pass (their sub-requests are checked one by one).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Namespace, UserPubkey, Request, Retrieve, server::verify};
/// let unsigned = Request::Retrieve(Retrieve::unsigned(UserPubkey::new(5, [1; 32]), Namespace::Default, None));
/// let e = verify(&unsigned, 1_700_000_000_000).unwrap_err();
/// assert_eq!((e.status, e.text.as_str()), (401, "retrieve: request signature required"));
/// ```
pub fn verify(request: &Request, now_ms: u64) -> Result<(), RpcError> {
    verify_with(request, now_ms, SIGNATURE_TOLERANCE_MS)
}

/// [`verify`] for a request a swarm peer forwarded (upstream `recurse == false`): the
/// `delete_all` timestamp window and the `expire_all` lower bound are ±70 s
/// ([`SIGNATURE_TOLERANCE_FORWARDED_MS`]) instead of ±60 s, so that a change accepted by the
/// entry node near the edge of its window is not refused by the peers it replays it on.
/// Every other check is the same as for a client.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{NamespaceOrAll, Request, Signer, server::{verify, verify_forwarded}};
/// let keys = Keypair::from_seed(&Seed::from_bytes([6u8; 32]));
/// let now = 1_700_000_000_000;
/// let r = Request::delete_all(&Signer::session(&keys), NamespaceOrAll::All, now - 65_000);
/// assert_eq!(verify(&r, now).unwrap_err().status, 406);
/// assert!(verify_forwarded(&r, now).is_ok());
/// ```
pub fn verify_forwarded(request: &Request, now_ms: u64) -> Result<(), RpcError> {
    verify_with(request, now_ms, SIGNATURE_TOLERANCE_FORWARDED_MS)
}

/// `recursive_tolerance_ms`: the window of the checks upstream widens for forwarded requests.
fn verify_with(
    request: &Request,
    now_ms: u64,
    recursive_tolerance_ms: u64,
) -> Result<(), RpcError> {
    match request {
        Request::Store(s) => {
            let public = s.namespace.is_public_inbox();
            let ttl = i128::from(s.expiry_ms) - i128::from(s.timestamp_ms);
            let max = if public {
                TTL_MAXIMUM_MS
            } else {
                TTL_MAXIMUM_PRIVATE_MS
            };
            if ttl < i128::from(TTL_MINIMUM_MS) || ttl > i128::from(max) {
                return Err(RpcError::new(403, "Provided expiry/TTL is not valid."));
            }
            if s.timestamp_ms > now_ms.saturating_add(STORE_TOLERANCE_MS)
                || s.expiry_ms < now_ms.saturating_sub(STORE_TOLERANCE_MS)
            {
                return Err(RpcError::new(406, "Timestamp error: check your clock"));
            }
            if !public {
                let Some(auth) = &s.auth else {
                    return Err(RpcError::new(
                        401,
                        format!(
                            "store: signature required to store to namespace {}",
                            s.namespace.value()
                        ),
                    ));
                };
                let ts = s.signed_timestamp_ms();
                check_signed(
                    &s.pubkey,
                    auth,
                    &sig::store(s.namespace, ts),
                    ts,
                    now_ms,
                    "store signature timestamp too far from current time",
                    "store signature verification failed",
                )?;
            }
            Ok(())
        }
        Request::Retrieve(r) => match &r.auth {
            None if !r.namespace.is_noauth_retrieve() => {
                Err(RpcError::new(401, "retrieve: request signature required"))
            }
            None => Ok(()),
            Some((auth, ts)) => check_signed(
                &r.pubkey,
                auth,
                &sig::retrieve(r.namespace, *ts),
                *ts,
                now_ms,
                "retrieve timestamp too far from current time",
                "retrieve signature verification failed",
            ),
        },
        Request::Delete(d) => sig_only(
            &d.pubkey,
            &d.auth,
            &sig::delete(&d.messages),
            "delete_msgs signature verification failed",
        ),
        Request::DeleteAll(a) => check_signed_within(
            &a.pubkey,
            &a.auth,
            &sig::delete_all(a.namespace, a.value_ms),
            a.value_ms,
            now_ms,
            recursive_tolerance_ms,
            "delete_all timestamp too far from current time",
            "delete_all signature verification failed",
        ),
        Request::DeleteBefore(a) => {
            if a.value_ms > now_ms.saturating_add(SIGNATURE_TOLERANCE_MS) {
                return Err(RpcError::new(
                    401,
                    "delete_before timestamp too far in the future",
                ));
            }
            sig_only(
                &a.pubkey,
                &a.auth,
                &sig::delete_before(a.namespace, a.value_ms),
                "delete_before signature verification failed",
            )
        }
        Request::ExpireAll(a) => verify_expire_all(a, now_ms, recursive_tolerance_ms),
        Request::Expire(e) => {
            if e.expiries_ms
                .iter()
                .any(|&x| x < now_ms.saturating_sub(EXPIRE_PAST_TOLERANCE_MS))
            {
                return Err(RpcError::new(
                    401,
                    "expire: timestamp should be >= current time",
                ));
            }
            sig_only(
                &e.pubkey,
                &e.auth,
                &sig::expire(e.mode, &e.expiries_ms, &e.messages),
                "expire: signature verification failed",
            )
        }
        Request::GetExpiries(g) => check_signed(
            &g.pubkey,
            &g.auth,
            &sig::get_expiries(g.timestamp_ms, &g.messages),
            g.timestamp_ms,
            now_ms,
            "get_expiries timestamp too far from current time",
            "get_expiries signature verification failed",
        ),
        Request::GetSwarm(_)
        | Request::Info
        | Request::OxendRequest(_)
        | Request::ActiveNodesBin
        | Request::Batch(_)
        | Request::Sequence(_) => Ok(()),
    }
}

fn verify_expire_all(a: &NamespaceAction, now_ms: u64, tolerance_ms: u64) -> Result<(), RpcError> {
    if a.value_ms < now_ms.saturating_sub(tolerance_ms) {
        return Err(RpcError::new(
            406,
            "expire_all timestamp should be >= current time",
        ));
    }
    sig_only(
        &a.pubkey,
        &a.auth,
        &sig::expire_all(a.namespace, a.value_ms),
        "expire_all signature verification failed",
    )
}

/// The expiries a node applies for an `expire` (each capped at `now + 30 days`), in request
/// order; call after [`verify`].
pub fn expire_targets(request: &crate::rpc::Expire, now_ms: u64) -> alloc::vec::Vec<u64> {
    let cap = now_ms.saturating_add(TTL_MAXIMUM_PRIVATE_MS);
    request.expiries_ms.iter().map(|&e| e.min(cap)).collect()
}

/// The limits a node applies to a `retrieve`: `(max_count, max_size_bytes)`. A 0 count or
/// size means unspecified; with neither given the size is 1/5 of the maximum; a negative size
/// −n means 1/n of the maximum; sizes above the maximum (7 800 000 bytes) are capped. At least
/// one message is always returned.
///
/// ```
/// use metaless_swarm::{Namespace, UserPubkey, Retrieve, server::retrieve_limits};
/// let r = Retrieve::unsigned(UserPubkey::new(5, [1; 32]), Namespace::LegacyClosed, None);
/// assert_eq!(retrieve_limits(&r), (None, 1_560_000));
/// assert_eq!(retrieve_limits(&r.clone().with_max_count(10)), (Some(10), 7_800_000));
/// assert_eq!(retrieve_limits(&r.with_max_size(-2)), (None, 3_900_000));
/// ```
pub fn retrieve_limits(request: &Retrieve) -> (Option<u32>, u64) {
    let count = request.max_count.filter(|&c| c != 0);
    let mut size = request.max_size.filter(|&s| s != 0).map(i64::from);
    if count.is_none() && size.is_none() {
        size = Some(-5);
    }
    let size = match size {
        Some(s) if s < 0 => RETRIEVE_MAX_SIZE / -s,
        Some(s) if s <= RETRIEVE_MAX_SIZE => s,
        _ => RETRIEVE_MAX_SIZE,
    };
    // A negative count returns nothing useful upstream either; treat it as "one message".
    let count = count.map(|c| u32::try_from(c).unwrap_or(1));
    (count, u64::try_from(size).unwrap_or(0))
}
