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
mod subaccount;

use alloc::format;
use alloc::string::String;

use metaless_identity::{ed25519_to_x25519_public, verify_ed25519};
use serde_json::Value;
use thiserror::Error;

use crate::limits::{MAX_REQUEST_BODY, RETRIEVE_MAX_SIZE};
use crate::rpc::{Auth, Request, Retrieve, SUBACCOUNT_TOKEN_LEN};
use crate::sig::ExpireMode;
use crate::subaccount::SubaccountAccess;
use crate::ttl::{
    EXPIRE_PAST_TOLERANCE_MS, SIGNATURE_TOLERANCE_FORWARDED_MS, SIGNATURE_TOLERANCE_MS,
    STORE_TOLERANCE_MS, TTL_MAXIMUM_MS, TTL_MAXIMUM_PRIVATE_MS, TTL_MINIMUM_MS,
};
use crate::{UserPubkey, sig};

pub use subaccount::{SubaccountError, verify_subaccount, verify_token};

pub use reply::{
    Affected, NodeFailure, Reply, ReplyBody, SwarmReply, check_swarm, delete_entry, expire_entry,
    get_expiries_reply, get_swarm_reply, info_reply, namespace_action_entry, retrieve_reply,
    revocation_entry, revoked_subaccounts_reply, store_entry, wrong_swarm_reply,
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
/// ``invalid json: no `params` field``, `no method <name>` (also for `ifelse`, which this
/// crate does not model), `invalid request: <reason>` with the storage
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

/// Why an authentication fails (every case is the method's 401 on the wire).
///
/// ```
/// use metaless_swarm::server::{AuthError, SubaccountError};
/// assert_eq!(AuthError::BadSignature.to_string(), "signature verification failed");
/// assert_eq!(AuthError::from(SubaccountError::Revoked).to_string(), "subaccount is revoked");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `pubkey_ed25519` does not convert to the `05` account's X25519 key.
    #[error("pubkey_ed25519 does not match the account")]
    KeyMismatch,
    /// The request signature does not verify under the account key.
    #[error("signature verification failed")]
    BadSignature,
    /// The sub-account is refused.
    #[error(transparent)]
    Subaccount(#[from] SubaccountError),
}

/// Checks an authentication against the signed message as the storage server's
/// `verify_signature` does: for `05` addresses with `pubkey_ed25519`, that key must convert to
/// the address's X25519 key and is the owner key; otherwise the address's own 32 bytes are.
/// With a sub-account: refused when `revoked`, then the token is checked against the owner key
/// for `required` access ([`verify_token`]), and the request signature is verified under the
/// token's key instead of the owner's.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Auth, Signer, Subaccount, server::{check_auth, AuthError, SubaccountError}};
/// use metaless_swarm::subaccount::{SubaccountAccess as A, SubaccountToken};
/// let group = Keypair::from_seed(&Seed::from_bytes([4u8; 32]));
/// let member = Keypair::from_seed(&Seed::from_bytes([5u8; 32]));
/// let pubkey = Signer::group(&group).pubkey();
/// let token = SubaccountToken::new(3, A::READ | A::WRITE, member.ed25519_public()).to_bytes();
/// let auth = Auth {
///     signature: member.sign(b"msg"),
///     pubkey_ed25519: None,
///     subaccount: Some(Subaccount { token, signature: group.sign(&token) }),
/// };
/// assert_eq!(check_auth(&pubkey, &auth, A::WRITE, false, b"msg"), Ok(()));
/// assert_eq!(check_auth(&pubkey, &auth, A::WRITE, true, b"msg"),
///            Err(AuthError::Subaccount(SubaccountError::Revoked)));
/// assert!(check_auth(&pubkey, &auth, A::DELETE, false, b"msg").is_err());
/// ```
pub fn check_auth(
    pubkey: &UserPubkey,
    auth: &Auth,
    required: SubaccountAccess,
    revoked: bool,
    message: &[u8],
) -> Result<(), AuthError> {
    let owner = match auth.pubkey_ed25519 {
        Some(ed) if pubkey.prefix() == 5 => match ed25519_to_x25519_public(&ed) {
            Ok(x) if &x == pubkey.key() => ed,
            _ => return Err(AuthError::KeyMismatch),
        },
        _ => *pubkey.key(),
    };
    match &auth.subaccount {
        None => {
            verify_ed25519(&owner, message, &auth.signature).map_err(|_| AuthError::BadSignature)
        }
        Some(sub) => {
            if revoked {
                return Err(SubaccountError::Revoked.into());
            }
            Ok(verify_subaccount(
                pubkey.prefix(),
                &owner,
                sub,
                required,
                message,
                &auth.signature,
            )?)
        }
    }
}

/// [`check_auth`] as a yes/no with no access flags required and nothing revoked: the
/// signature checks alone. A node uses [`verify`] (which applies each method's access rule
/// and the revocation list) rather than this.
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
    check_auth(pubkey, auth, SubaccountAccess::NONE, false, message).is_ok()
}

/// `auth` without its sub-account fields: what upstream verifies for the methods that take
/// none (`revoke_subaccount` & co. ignore them), optionally without `pubkey_ed25519` too
/// (`revoked_subaccounts` ignores it).
fn owner_only(auth: &Auth, keep_ed25519: bool) -> Auth {
    Auth {
        signature: auth.signature,
        pubkey_ed25519: auth.pubkey_ed25519.filter(|_| keep_ed25519),
        subaccount: None,
    }
}

fn within(ts: u64, now: u64, tolerance: u64) -> bool {
    ts >= now.saturating_sub(tolerance) && ts <= now.saturating_add(tolerance)
}

/// A lookup of the account's revocation list: is this token revoked for this account?
pub type RevokedLookup<'a> = &'a dyn Fn(&UserPubkey, &[u8; SUBACCOUNT_TOKEN_LEN]) -> bool;

/// What one verification needs besides the request.
struct Checks<'a> {
    now_ms: u64,
    /// The window of the checks upstream widens for forwarded requests.
    recursive_tolerance_ms: u64,
    revoked: RevokedLookup<'a>,
}

impl Checks<'_> {
    /// The signature check of one method (upstream `verify_signature`), as its 401 text.
    fn signed(
        &self,
        pubkey: &UserPubkey,
        auth: &Auth,
        required: SubaccountAccess,
        skip_revoke_check: bool,
        message: &[u8],
        bad_sig_text: &str,
    ) -> Result<(), RpcError> {
        let revoked = !skip_revoke_check
            && auth
                .subaccount
                .as_ref()
                .is_some_and(|s| (self.revoked)(pubkey, &s.token));
        check_auth(pubkey, auth, required, revoked, message)
            .map_err(|_| RpcError::new(401, bad_sig_text))
    }

    #[allow(clippy::too_many_arguments)]
    fn signed_within(
        &self,
        pubkey: &UserPubkey,
        auth: &Auth,
        required: SubaccountAccess,
        message: &[u8],
        ts: u64,
        tolerance_ms: u64,
        stale_text: &str,
        bad_sig_text: &str,
    ) -> Result<(), RpcError> {
        if !within(ts, self.now_ms, tolerance_ms) {
            return Err(RpcError::new(406, stale_text));
        }
        self.signed(pubkey, auth, required, false, message, bad_sig_text)
    }
}

/// Applies the checks the storage server makes after the swarm check and before doing any
/// work: for `store` the TTL (403), clock (406) and, for non-public namespaces, the signature
/// and its timestamp (401/406); for the signed methods their timestamp window and signature,
/// including a sub-account's access flags for the method (read: `retrieve`, `get_expiries`;
/// write: `store`, `expire`; delete: the deletes, `expire_all`, shortening, and with write a
/// public-outbox `store`). Nothing counts as revoked here; a node with a revocation list uses
/// [`verify_with_revocations`]. `batch`/`sequence` pass (their sub-requests are checked one by
/// one).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Namespace, UserPubkey, Request, Retrieve, server::verify};
/// let unsigned = Request::Retrieve(Retrieve::unsigned(UserPubkey::new(5, [1; 32]), Namespace::Default, None));
/// let e = verify(&unsigned, 1_700_000_000_000).unwrap_err();
/// assert_eq!((e.status, e.text.as_str()), (401, "retrieve: request signature required"));
/// ```
pub fn verify(request: &Request, now_ms: u64) -> Result<(), RpcError> {
    verify_with_revocations(request, now_ms, false, &|_, _| false)
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
    verify_with_revocations(request, now_ms, true, &|_, _| false)
}

/// [`verify`] (or, with `forwarded`, [`verify_forwarded`]) with the node's revocation list:
/// a sub-account whose token `revoked` reports is refused like a bad signature (401), except
/// for `retrieve` from the namespaces revoked members may still read
/// ([`Namespace::is_unrevocable`](crate::Namespace::is_unrevocable), −11: the kick notices).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Auth, Namespace, Request, Retrieve, Signer, Subaccount, server};
/// use metaless_swarm::subaccount::{SubaccountAccess as A, SubaccountToken};
/// struct Member<'a>(&'a Keypair, &'a Keypair);
/// impl metaless_swarm::RequestSigner for Member<'_> {
///     fn pubkey(&self) -> metaless_swarm::UserPubkey { Signer::group(self.0).pubkey() }
///     fn auth(&self, m: &[u8]) -> Auth {
///         let token = SubaccountToken::new(3, A::READ, self.1.ed25519_public()).to_bytes();
///         Auth { signature: self.1.sign(m), pubkey_ed25519: None,
///                subaccount: Some(Subaccount { token, signature: self.0.sign(&token) }) }
///     }
/// }
/// let (group, bob) = (Keypair::from_seed(&Seed::from_bytes([1; 32])), Keypair::from_seed(&Seed::from_bytes([2; 32])));
/// let member = Member(&group, &bob);
/// let now = 1_700_000_000_000;
/// let read = |ns| Request::Retrieve(Retrieve::signed(&Signer::delegated(&member), ns, None, now));
/// let all_revoked = |_: &_, _: &_| true;
/// assert!(server::verify(&read(Namespace::GroupMessages), now).is_ok());
/// let e = server::verify_with_revocations(&read(Namespace::GroupMessages), now, false, &all_revoked).unwrap_err();
/// assert_eq!((e.status, e.text.as_str()), (401, "retrieve signature verification failed"));
/// // Kick notices (−11) stay readable.
/// assert!(server::verify_with_revocations(&read(Namespace::Other(-11)), now, false, &all_revoked).is_ok());
/// ```
pub fn verify_with_revocations(
    request: &Request,
    now_ms: u64,
    forwarded: bool,
    revoked: RevokedLookup<'_>,
) -> Result<(), RpcError> {
    let checks = Checks {
        now_ms,
        recursive_tolerance_ms: if forwarded {
            SIGNATURE_TOLERANCE_FORWARDED_MS
        } else {
            SIGNATURE_TOLERANCE_MS
        },
        revoked,
    };
    verify_checks(request, &checks)
}

fn verify_checks(request: &Request, c: &Checks<'_>) -> Result<(), RpcError> {
    let now_ms = c.now_ms;
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
                // Storing to a public outbox replaces what is there: a sub-account needs
                // delete as well as write.
                let required = if s.namespace.is_public_outbox() {
                    SubaccountAccess::WRITE | SubaccountAccess::DELETE
                } else {
                    SubaccountAccess::WRITE
                };
                let ts = s.signed_timestamp_ms();
                c.signed_within(
                    &s.pubkey,
                    auth,
                    required,
                    &sig::store(s.namespace, ts),
                    ts,
                    SIGNATURE_TOLERANCE_MS,
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
            Some((auth, ts)) => {
                if !within(*ts, now_ms, SIGNATURE_TOLERANCE_MS) {
                    return Err(RpcError::new(
                        406,
                        "retrieve timestamp too far from current time",
                    ));
                }
                c.signed(
                    &r.pubkey,
                    auth,
                    SubaccountAccess::READ,
                    r.namespace.is_unrevocable(),
                    &sig::retrieve(r.namespace, *ts),
                    "retrieve signature verification failed",
                )
            }
        },
        Request::Delete(d) => c.signed(
            &d.pubkey,
            &d.auth,
            SubaccountAccess::DELETE,
            false,
            &sig::delete(&d.messages),
            "delete_msgs signature verification failed",
        ),
        Request::DeleteAll(a) => c.signed_within(
            &a.pubkey,
            &a.auth,
            SubaccountAccess::DELETE,
            &sig::delete_all(a.namespace, a.value_ms),
            a.value_ms,
            c.recursive_tolerance_ms,
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
            c.signed(
                &a.pubkey,
                &a.auth,
                SubaccountAccess::DELETE,
                false,
                &sig::delete_before(a.namespace, a.value_ms),
                "delete_before signature verification failed",
            )
        }
        Request::ExpireAll(a) => {
            if a.value_ms < now_ms.saturating_sub(c.recursive_tolerance_ms) {
                return Err(RpcError::new(
                    406,
                    "expire_all timestamp should be >= current time",
                ));
            }
            c.signed(
                &a.pubkey,
                &a.auth,
                SubaccountAccess::DELETE,
                false,
                &sig::expire_all(a.namespace, a.value_ms),
                "expire_all signature verification failed",
            )
        }
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
            c.signed(
                &e.pubkey,
                &e.auth,
                SubaccountAccess::WRITE,
                false,
                &sig::expire(e.mode, &e.expiries_ms, &e.messages),
                "expire: signature verification failed",
            )?;
            if e.mode == ExpireMode::Shorten && !can_delete(&e.auth) {
                return Err(RpcError::new(
                    400,
                    "expire: shorten parameter cannot be used with this subaccount token (missing delete access)",
                ));
            }
            Ok(())
        }
        Request::GetExpiries(g) => c.signed_within(
            &g.pubkey,
            &g.auth,
            SubaccountAccess::READ,
            &sig::get_expiries(g.timestamp_ms, &g.messages),
            g.timestamp_ms,
            SIGNATURE_TOLERANCE_MS,
            "get_expiries timestamp too far from current time",
            "get_expiries signature verification failed",
        ),
        Request::RevokeSubaccount(r) => c.signed_within(
            &r.pubkey,
            &owner_only(&r.auth, true),
            SubaccountAccess::NONE,
            &sig::revoke_subaccount(r.timestamp_ms, &r.tokens),
            r.timestamp_ms,
            SIGNATURE_TOLERANCE_MS,
            "revoke_subaccount timestamp too far from current time",
            "revoke_subaccount signature verification failed",
        ),
        Request::UnrevokeSubaccount(r) => c.signed_within(
            &r.pubkey,
            &owner_only(&r.auth, true),
            SubaccountAccess::NONE,
            &sig::unrevoke_subaccount(r.timestamp_ms, &r.tokens),
            r.timestamp_ms,
            SIGNATURE_TOLERANCE_MS,
            "unrevoke_subaccount timestamp too far from current time",
            "unrevoke_subaccount signature verification failed",
        ),
        Request::RevokedSubaccounts(r) => c.signed_within(
            &r.pubkey,
            &owner_only(&r.auth, false),
            SubaccountAccess::NONE,
            &sig::revoked_subaccounts(r.timestamp_ms),
            r.timestamp_ms,
            SIGNATURE_TOLERANCE_MS,
            "revoked_subaccounts timestamp too far from current time",
            "revoked_subaccounts signature verification failed",
        ),
        Request::GetSwarm(_)
        | Request::Info
        | Request::OxendRequest(_)
        | Request::ActiveNodesBin
        | Request::Batch(_)
        | Request::Sequence(_) => Ok(()),
    }
}

/// Signed by the owner, or by a sub-account with delete access.
fn can_delete(auth: &Auth) -> bool {
    auth.subaccount
        .as_ref()
        .is_none_or(|s| s.token().access().contains(SubaccountAccess::DELETE))
}

/// How a node applies an `expire` it has verified: as asked, except that a sub-account without
/// delete access may only extend (upstream forces extend-only for it; the request keeps its own
/// mode for the signature and the reply's `unchanged` list).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Expire, MessageHash, Namespace, Signer, server::expire_mode, sig::ExpireMode};
/// let keys = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let signer = Signer::session(&keys);
/// let h = MessageHash::compute(&signer.pubkey(), Namespace::Default, b"x");
/// let e = Expire::signed(&signer, vec![h], vec![1_700_000_060_000], ExpireMode::Set).unwrap();
/// assert_eq!(expire_mode(&e), ExpireMode::Set); // the owner may shorten
/// ```
pub fn expire_mode(request: &crate::rpc::Expire) -> ExpireMode {
    if request.mode == ExpireMode::Set && !can_delete(&request.auth) {
        ExpireMode::Extend
    } else {
        request.mode
    }
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
