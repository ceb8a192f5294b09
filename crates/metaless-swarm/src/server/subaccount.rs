//! The node's checks of a sub-account (upstream `signed_subaccount_token::verify` and the
//! sub-account branch of `verify_signature` in `request_handler.cpp`).

use metaless_identity::verify_ed25519;
use thiserror::Error;

use crate::rpc::Subaccount;
use crate::subaccount::{SubaccountAccess, SubaccountToken};

/// Why a node refuses a sub-account. On the wire every one of these is the method's 401
/// `"<method> signature verification failed"` (upstream logs the reason and answers the same
/// text); the typed reason is for callers and logs.
///
/// ```
/// use metaless_swarm::server::SubaccountError;
/// assert_eq!(SubaccountError::Revoked.to_string(), "subaccount is revoked");
/// assert_eq!(SubaccountError::BadNetwork { token: 5, account: 3 }.to_string(),
///            "subaccount network prefix mismatch: token for 05, account 03");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SubaccountError {
    /// The token is for another network prefix and lacks [`SubaccountAccess::ANY_PREFIX`].
    #[error("subaccount network prefix mismatch: token for {token:02x}, account {account:02x}")]
    BadNetwork {
        /// The token's prefix byte.
        token: u8,
        /// The account's prefix byte.
        account: u8,
    },
    /// The token lacks a flag the method needs.
    #[error("subaccount is missing the required permissions: needs {required:?}, has {granted:?}")]
    MissingPermissions {
        /// What the method needs.
        required: SubaccountAccess,
        /// What the token grants.
        granted: SubaccountAccess,
    },
    /// The owner's signature of the token does not verify under the account key (forged, or
    /// issued by another account).
    #[error("subaccount token signature verification failed")]
    BadTokenSignature,
    /// The request signature does not verify under the token's key.
    #[error("subaccount request signature verification failed")]
    BadRequestSignature,
    /// The account owner revoked this token (`revoke_subaccount`).
    #[error("subaccount is revoked")]
    Revoked,
}

/// Checks a sub-account for an account with network prefix `account_prefix` whose owner key
/// (the Ed25519 key that signs tokens) is `owner_ed25519`, in upstream's order: prefix,
/// access flags, the owner's token signature, then the request `signature` over `message`
/// under the token's key. Revocation is the caller's lookup (it needs the node's storage); see
/// [`super::verify_with_revocations`].
///
/// Reserved bytes 2..4 are not interpreted (upstream reserves them for future capabilities);
/// they are covered by the owner's signature, so they cannot be altered.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::Subaccount;
/// use metaless_swarm::server::{verify_subaccount, SubaccountError};
/// use metaless_swarm::subaccount::{SubaccountAccess as A, SubaccountToken};
/// let owner = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let member = Keypair::from_seed(&Seed::from_bytes([2; 32]));
/// let token = SubaccountToken::new(0x03, A::READ, member.ed25519_public()).to_bytes();
/// let sub = Subaccount { token, signature: owner.sign(&token) };
/// let sig = member.sign(b"retrieve111700000000000");
/// let ok = verify_subaccount(0x03, &owner.ed25519_public(), &sub, A::READ, b"retrieve111700000000000", &sig);
/// assert_eq!(ok, Ok(()));
/// let e = verify_subaccount(0x03, &owner.ed25519_public(), &sub, A::WRITE, b"retrieve111700000000000", &sig);
/// assert!(matches!(e, Err(SubaccountError::MissingPermissions { .. })));
/// let e = verify_subaccount(0x03, &owner.ed25519_public(), &sub, A::READ, b"retrieve111700000000001", &sig);
/// assert_eq!(e, Err(SubaccountError::BadRequestSignature));
/// ```
pub fn verify_subaccount(
    account_prefix: u8,
    owner_ed25519: &[u8; 32],
    sub: &Subaccount,
    required: SubaccountAccess,
    message: &[u8],
    signature: &[u8; 64],
) -> Result<(), SubaccountError> {
    verify_token(account_prefix, owner_ed25519, sub, required)?;
    verify_ed25519(&sub.token().key(), message, signature)
        .map_err(|_| SubaccountError::BadRequestSignature)
}

/// The token half of [`verify_subaccount`] (upstream `signed_subaccount_token::verify`):
/// prefix, flags and the owner's signature, not the request signature.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::Subaccount;
/// use metaless_swarm::server::{verify_token, SubaccountError};
/// use metaless_swarm::subaccount::{SubaccountAccess as A, SubaccountToken};
/// let owner = Keypair::from_seed(&Seed::from_bytes([1; 32]));
/// let token = SubaccountToken::new(0x03, A::READ, [9; 32]).to_bytes();
/// let sub = Subaccount { token, signature: owner.sign(&token) };
/// assert_eq!(verify_token(0x03, &owner.ed25519_public(), &sub, A::READ), Ok(()));
/// assert_eq!(verify_token(0x05, &owner.ed25519_public(), &sub, A::READ),
///            Err(SubaccountError::BadNetwork { token: 3, account: 5 }));
/// ```
pub fn verify_token(
    account_prefix: u8,
    owner_ed25519: &[u8; 32],
    sub: &Subaccount,
    required: SubaccountAccess,
) -> Result<(), SubaccountError> {
    let token: SubaccountToken = sub.token();
    if !token.prefix_allowed(account_prefix) {
        return Err(SubaccountError::BadNetwork {
            token: token.prefix(),
            account: account_prefix,
        });
    }
    if !token.access().contains(required) {
        return Err(SubaccountError::MissingPermissions {
            required,
            granted: token.access(),
        });
    }
    verify_ed25519(owner_ed25519, &sub.token, &sub.signature)
        .map_err(|_| SubaccountError::BadTokenSignature)
}
