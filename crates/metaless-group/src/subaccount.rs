//! Member sub-account auth data and the storage-RPC signatures it authorises.
//!
//! An admin gives each member 100 bytes of auth data: a 4-byte header (`0x03`, permission
//! flags, two zero bytes), a blinding factor `k` derived from the group seed and the member's
//! X25519 key, and the group's signature over `header ‖ k·T` (T = the member's Ed25519 key
//! with the sign bit cleared). The member signs storage RPC with the secret `k·t`; the storage
//! server checks the group's signature over the token `header ‖ k·T` and the request
//! signature under `k·T`. A node learns that *some* authorised member made the request, not
//! which one (`k·T` is unlinkable to the member without the group seed).

use core::fmt;

use curve25519_dalek::constants::ED25519_BASEPOINT_TABLE;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use metaless_identity::{Keypair, SessionId, verify_ed25519};
use metaless_swarm::server::{self, SubaccountError};
use metaless_swarm::subaccount::{SubaccountAccess, SubaccountToken};
use metaless_swarm::{
    Auth, RequestSigner, SUBACCOUNT_TOKEN_LEN, Signer, Subaccount, SubaccountRevocation, UserPubkey,
};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::hash::{h32, h64};
use crate::identity::member_x25519;
use crate::{GroupError, GroupId, GroupKeys};

/// Length of the member auth data (header 4, factor 32, admin signature 64).
pub const AUTH_DATA_LEN: usize = 100;

const MASK_KEY: &[u8] = b"SessionGroupSubaccountMask";
const SEED_KEY: &[u8] = b"SubaccountSeed";
const SIG_KEY: &[u8] = b"SubaccountSig";

/// What a sub-account may do: the flags byte of the token.
///
/// ```
/// use metaless_group::Permissions;
/// assert_eq!(Permissions::default().to_byte(), 0x03); // read + write
/// assert_eq!(Permissions { read: true, write: true, delete: true }.to_byte(), 0x07);
/// assert!(!Permissions::from_byte(0x01).write);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    /// 0x01: retrieve from the group's namespaces.
    pub read: bool,
    /// 0x02: store.
    pub write: bool,
    /// 0x04: delete (and store into public-outbox namespaces).
    pub delete: bool,
}

impl Default for Permissions {
    /// Read and write, no delete (upstream's default for members).
    fn default() -> Self {
        Self {
            read: true,
            write: true,
            delete: false,
        }
    }
}

impl Permissions {
    /// The flags byte (the bits are the storage server's, [`SubaccountAccess`]).
    pub fn to_byte(self) -> u8 {
        self.access().bits()
    }

    /// Reads the flags byte (unknown bits ignored).
    pub fn from_byte(b: u8) -> Self {
        let a = SubaccountAccess::from_bits(b);
        Self {
            read: a.contains(SubaccountAccess::READ),
            write: a.contains(SubaccountAccess::WRITE),
            delete: a.contains(SubaccountAccess::DELETE),
        }
    }

    /// As the storage server's access flags.
    ///
    /// ```
    /// use metaless_group::Permissions;
    /// use metaless_swarm::subaccount::SubaccountAccess;
    /// assert_eq!(Permissions::default().access(), SubaccountAccess::READ | SubaccountAccess::WRITE);
    /// ```
    pub fn access(self) -> SubaccountAccess {
        let flag = |on: bool, f: SubaccountAccess| if on { f } else { SubaccountAccess::NONE };
        flag(self.read, SubaccountAccess::READ)
            | flag(self.write, SubaccountAccess::WRITE)
            | flag(self.delete, SubaccountAccess::DELETE)
    }
}

/// The 100-byte member auth data an admin hands to a member (in the invite and in the
/// member's user-groups config).
///
/// ```
/// use metaless_group::{GroupKeys, MemberAuth, Permissions};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let member = Keypair::from_seed(&Seed::from_bytes([2; 32]));
/// let auth = MemberAuth::issue(&group, &member.session_id(), Permissions::default())?;
/// assert_eq!(auth.as_bytes().len(), 100);
/// assert_eq!(MemberAuth::from_bytes(auth.as_bytes())?, auth);
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MemberAuth([u8; AUTH_DATA_LEN]);

impl MemberAuth {
    /// Makes the auth data for `member` (a `05` Session ID) as the group's admin.
    pub fn issue(
        group: &GroupKeys,
        member: &SessionId,
        permissions: Permissions,
    ) -> Result<Self, GroupError> {
        let (k, token) = member_token(group, member, permissions)?;
        let sig = group.sign(&token);
        let mut out = [0u8; AUTH_DATA_LEN];
        out[..4].copy_from_slice(&token[..4]);
        out[4..36].copy_from_slice(k.as_bytes());
        out[36..].copy_from_slice(&sig);
        Ok(Self(out))
    }

    /// Reads auth data (length and header checked; the signature is checked when a member
    /// binds it to its key with [`MemberSigner::new`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GroupError> {
        let arr: [u8; AUTH_DATA_LEN] = bytes.try_into().map_err(|_| GroupError::WrongLength {
            field: "member auth data",
            len: bytes.len(),
            expected: AUTH_DATA_LEN,
        })?;
        if arr[0] != GROUP_PREFIX || arr[2] != 0 || arr[3] != 0 {
            return Err(GroupError::Malformed("member auth data header"));
        }
        Ok(Self(arr))
    }

    /// The 100 bytes.
    pub fn as_bytes(&self) -> &[u8; AUTH_DATA_LEN] {
        &self.0
    }

    /// The permissions the token grants.
    pub fn permissions(&self) -> Permissions {
        Permissions::from_byte(self.0[1])
    }

    fn factor(&self) -> Result<Scalar, GroupError> {
        let mut k = [0u8; 32];
        k.copy_from_slice(&self.0[4..36]);
        Option::<Scalar>::from(Scalar::from_canonical_bytes(k))
            .filter(|k| *k != Scalar::ZERO)
            .ok_or(GroupError::InvalidKey)
    }

    fn admin_signature(&self) -> [u8; 64] {
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&self.0[36..]);
        sig
    }
}

impl fmt::Debug for MemberAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemberAuth")
            .field("permissions", &self.permissions())
            .finish_non_exhaustive()
    }
}

/// The blinding factor `k` and the token `03 ‖ flags ‖ 00 00 ‖ k·T` the group issues to
/// `member` (the layout is metaless-swarm's [`SubaccountToken`]); `T` is the positive Ed25519
/// point whose Montgomery form is the member's X25519 key.
fn member_token(
    group: &GroupKeys,
    member: &SessionId,
    permissions: Permissions,
) -> Result<(Scalar, [u8; SUBACCOUNT_TOKEN_LEN]), GroupError> {
    let x = member_x25519(member)?;
    let k = blind_factor(group.expose_seed(), &x, &group.group_id().ed25519());
    let t = MontgomeryPoint(x)
        .to_edwards(0)
        .ok_or(GroupError::InvalidMemberId)?;
    if t.is_small_order() || !t.is_torsion_free() {
        return Err(GroupError::InvalidMemberId);
    }
    let kt = (k * t).compress().to_bytes();
    let token = SubaccountToken::new(GROUP_PREFIX, permissions.access(), kt).to_bytes();
    Ok((k, token))
}

/// The network prefix of group accounts and of the tokens issued for them.
const GROUP_PREFIX: u8 = 0x03;

/// `k = reduce(H_64(0x05 ‖ X ‖ 0x03 ‖ group_pk ; key = H_32(group_seed ; key = "SessionGroupSubaccountMask")))`.
fn blind_factor(group_seed: &[u8; 32], x: &[u8; 32], group_pk: &[u8; 32]) -> Scalar {
    let mask = h32(MASK_KEY, &[group_seed]);
    let wide = h64(&mask[..], &[&[0x05], x, &[0x03], group_pk]);
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// A group member's storage-RPC signer: signs requests for the group's account with the
/// member's sub-account key and sends the admin-signed token beside the signature.
///
/// ```
/// use metaless_group::{GroupKeys, MemberAuth, MemberSigner, Permissions, verify_subaccount_request};
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Namespace, Retrieve, Signer};
/// let group = GroupKeys::from_seed([1; 32]);
/// let alice = Keypair::from_seed(&Seed::from_bytes([2; 32]));
/// let auth = MemberAuth::issue(&group, &alice.session_id(), Permissions::default())?;
/// let signer = MemberSigner::new(&alice, group.group_id(), &auth)?;
/// let req = Retrieve::signed(&Signer::delegated(&signer), Namespace::GroupMessages, None, 1_700_000_000_000);
/// let (a, _) = req.auth.as_ref().unwrap();
/// let sub = a.subaccount.as_ref().unwrap();
/// let m = metaless_swarm::sig::retrieve(Namespace::GroupMessages, 1_700_000_000_000);
/// verify_subaccount_request(&group.group_id(), &sub.token, &sub.signature, &m, &a.signature)?;
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub struct MemberSigner {
    group: GroupId,
    token: [u8; SUBACCOUNT_TOKEN_LEN],
    token_sig: [u8; 64],
    /// `k·t`: the sub-account secret scalar.
    secret: Zeroizing<Scalar>,
    /// `H_32(seed ; key = "SubaccountSeed")`: the deterministic-nonce key.
    nonce_key: Zeroizing<[u8; 32]>,
}

impl MemberSigner {
    /// Binds `auth` to the member's keys, checking the admin signature over the token this
    /// member's key yields ([`GroupError::BadTokenSignature`] for auth data made for another
    /// member or group, or forged).
    pub fn new(member: &Keypair, group: GroupId, auth: &MemberAuth) -> Result<Self, GroupError> {
        let k = auth.factor()?;
        let mut ed = member.ed25519_public();
        let negative = ed[31] & 0x80 != 0;
        ed[31] &= 0x7f;
        let t_point = CompressedEdwardsY(ed)
            .decompress()
            .ok_or(GroupError::InvalidKey)?;
        let kt_point = k * t_point;
        if kt_point.is_identity() {
            return Err(GroupError::InvalidKey);
        }
        let mut token = [0u8; SUBACCOUNT_TOKEN_LEN];
        token[..4].copy_from_slice(&auth.as_bytes()[..4]);
        token[4..].copy_from_slice(&kt_point.compress().to_bytes());
        let token_sig = auth.admin_signature();
        verify_ed25519(&group.ed25519(), &token, &token_sig)
            .map_err(|_| GroupError::BadTokenSignature)?;
        // The Ed25519 secret scalar (= the X25519 secret), negated when the public key's sign
        // bit was set so that k·t matches k·T with T's sign bit cleared.
        let s = Zeroizing::new(Scalar::from_bytes_mod_order(
            *member.x25519_secret().expose_secret(),
        ));
        let t = Zeroizing::new(if negative { -*s } else { *s });
        let secret = Zeroizing::new(k * *t);
        let nonce_key = h32(SEED_KEY, &[member.signing_key().as_bytes()]);
        Ok(Self {
            group,
            token,
            token_sig,
            secret,
            nonce_key,
        })
    }

    /// The token sent as `subaccount`: header ‖ `k·T`.
    pub fn token(&self) -> &[u8; SUBACCOUNT_TOKEN_LEN] {
        &self.token
    }

    /// The permissions the token grants.
    pub fn permissions(&self) -> Permissions {
        Permissions::from_byte(self.token[1])
    }

    /// The group this signer signs for.
    pub fn group(&self) -> GroupId {
        self.group
    }

    /// Signs `message` with the sub-account key, exactly as upstream's `swarm_subaccount_sign`
    /// (deterministic nonce, so the upstream known answer is reproducible).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let public = &self.token[4..];
        let wide = h64(SIG_KEY, &[&self.nonce_key[..], public, message]);
        let r = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide));
        let big_r = (&*r * ED25519_BASEPOINT_TABLE).compress().to_bytes();
        let hram: [u8; 64] = Sha512::new()
            .chain_update(big_r)
            .chain_update(public)
            .chain_update(message)
            .finalize()
            .into();
        let s = Scalar::from_bytes_mod_order_wide(&hram) * *self.secret + *r;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&big_r);
        sig[32..].copy_from_slice(s.as_bytes());
        sig
    }
}

impl RequestSigner for MemberSigner {
    fn pubkey(&self) -> UserPubkey {
        self.group.swarm_pubkey()
    }

    fn auth(&self, message: &[u8]) -> Auth {
        Auth {
            signature: self.sign(message),
            pubkey_ed25519: None,
            subaccount: Some(Subaccount {
                token: self.token,
                signature: self.token_sig,
            }),
        }
    }
}

impl fmt::Debug for MemberSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemberSigner")
            .field("group", &self.group)
            .field("permissions", &self.permissions())
            .finish_non_exhaustive()
    }
}

/// An admin's storage-RPC signer for the group's account: signs with the group key itself
/// (no `pubkey_ed25519`, no sub-account). Same as `metaless_swarm::Signer::group`, as a
/// [`RequestSigner`] value that can be stored next to a [`MemberSigner`].
///
/// ```
/// use metaless_group::{AdminSigner, GroupKeys};
/// use metaless_swarm::RequestSigner;
/// let group = GroupKeys::from_seed([1; 32]);
/// let signer = AdminSigner::new(&group);
/// let auth = signer.auth(b"retrieve111700000000000");
/// assert!(auth.subaccount.is_none() && auth.pubkey_ed25519.is_none());
/// assert!(metaless_identity::verify_ed25519(&group.group_id().ed25519(), b"retrieve111700000000000", &auth.signature).is_ok());
/// ```
pub struct AdminSigner<'a> {
    group: &'a GroupKeys,
}

impl<'a> AdminSigner<'a> {
    /// Signs as `group`.
    pub fn new(group: &'a GroupKeys) -> Self {
        Self { group }
    }
}

impl RequestSigner for AdminSigner<'_> {
    fn pubkey(&self) -> UserPubkey {
        self.group.group_id().swarm_pubkey()
    }

    fn auth(&self, message: &[u8]) -> Auth {
        Auth {
            signature: self.group.sign(message),
            pubkey_ed25519: None,
            subaccount: None,
        }
    }
}

impl fmt::Debug for AdminSigner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminSigner")
            .field("group", &self.group.group_id())
            .finish()
    }
}

/// What the storage server checks for a sub-account request, by the node's own verifier
/// ([`metaless_swarm::server::verify_subaccount`], the one implementation): the token is for a
/// `03` account (or carries the any-prefix flag), the group signed it, and the request
/// signature verifies under the token's key. No access flag is required here (see
/// [`require_permission`]); revocation is the node's list.
///
/// Errors: [`GroupError::Malformed`] for a token for another network prefix,
/// [`GroupError::BadTokenSignature`] for a forged or other-group token (also one whose
/// flags or reserved bytes were altered), [`GroupError::BadRequestSignature`] for a bad
/// request signature.
///
/// ```
/// use metaless_group::{verify_subaccount_request, GroupError, GroupKeys};
/// let group = GroupKeys::from_seed([1; 32]);
/// let mut token = [3u8; 36];
/// assert_eq!(
///     verify_subaccount_request(&group.group_id(), &token, &[0; 64], b"m", &[0; 64]),
///     Err(GroupError::BadTokenSignature),
/// );
/// token[0] = 0x05;
/// assert_eq!(
///     verify_subaccount_request(&group.group_id(), &token, &[0; 64], b"m", &[0; 64]),
///     Err(GroupError::Malformed("sub-account token network prefix")),
/// );
/// ```
pub fn verify_subaccount_request(
    group: &GroupId,
    token: &[u8; SUBACCOUNT_TOKEN_LEN],
    token_sig: &[u8; 64],
    message: &[u8],
    signature: &[u8; 64],
) -> Result<(), GroupError> {
    let sub = Subaccount {
        token: *token,
        signature: *token_sig,
    };
    server::verify_subaccount(
        GROUP_PREFIX,
        &group.ed25519(),
        &sub,
        SubaccountAccess::NONE,
        message,
        signature,
    )
    .map_err(|e| match e {
        SubaccountError::BadNetwork { .. } => {
            GroupError::Malformed("sub-account token network prefix")
        }
        SubaccountError::BadRequestSignature => GroupError::BadRequestSignature,
        _ => GroupError::BadTokenSignature,
    })
}

/// The storage server's permission rule for a verified token: `"read"` for retrieve, `"write"`
/// for store, `"delete"` for deletes ([`GroupError::NotPermitted`] otherwise).
///
/// ```
/// use metaless_group::{require_permission, GroupError, Permissions};
/// let ro = Permissions { read: true, write: false, delete: false };
/// assert!(require_permission(ro, "read").is_ok());
/// assert_eq!(require_permission(ro, "write"), Err(GroupError::NotPermitted("write")));
/// ```
pub fn require_permission(permissions: Permissions, what: &'static str) -> Result<(), GroupError> {
    let ok = match what {
        "read" => permissions.read,
        "write" => permissions.write,
        "delete" => permissions.delete,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(GroupError::NotPermitted(what))
    }
}

/// The revocation token for a member: `0x03 ‖ flags ‖ 00 00 ‖ k·T`, what an admin sends in
/// `revoke_subaccount` (the flags byte is the one the member was issued with).
///
/// ```
/// use metaless_group::{revocation_token, GroupKeys, MemberAuth, MemberSigner, Permissions};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let bob = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let auth = MemberAuth::issue(&group, &bob.session_id(), Permissions::default())?;
/// let signer = MemberSigner::new(&bob, group.group_id(), &auth)?;
/// assert_eq!(&revocation_token(&group, &bob.session_id(), Permissions::default())?, signer.token());
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn revocation_token(
    group: &GroupKeys,
    member: &SessionId,
    permissions: Permissions,
) -> Result<[u8; SUBACCOUNT_TOKEN_LEN], GroupError> {
    Ok(member_token(group, member, permissions)?.1)
}

/// The admin's `revoke_subaccount` for removed members (each with the permissions it was
/// issued, since nodes compare the whole token): once a node applies it, their sub-account
/// requests are refused except for reading the kick notices (namespace −11). At most
/// [`MAX_SUBACCOUNT_TOKENS`](metaless_swarm::limits::MAX_SUBACCOUNT_TOKENS) members per request
/// ([`GroupError::TooLarge`]).
///
/// ```
/// use metaless_group::{revoke_members, GroupKeys, MemberAuth, MemberSigner, Permissions};
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Namespace, Request, Retrieve, Signer, server};
/// let group = GroupKeys::from_seed([1; 32]);
/// let carol = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let auth = MemberAuth::issue(&group, &carol.session_id(), Permissions::default())?;
/// let signer = MemberSigner::new(&carol, group.group_id(), &auth)?;
/// let now = 1_700_000_000_000;
/// let revoke = revoke_members(&group, &[(carol.session_id(), Permissions::default())], now)?;
/// server::verify(&Request::RevokeSubaccount(revoke.clone()), now).unwrap();
/// // A node holding that list refuses Carol's reads of the group's messages.
/// let read = Request::Retrieve(Retrieve::signed(&Signer::delegated(&signer), Namespace::GroupMessages, None, now));
/// let listed = |_: &_, t: &[u8; 36]| revoke.tokens.contains(t);
/// assert_eq!(server::verify_with_revocations(&read, now, false, &listed).unwrap_err().status, 401);
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn revoke_members(
    group: &GroupKeys,
    members: &[(SessionId, Permissions)],
    now_ms: u64,
) -> Result<SubaccountRevocation, GroupError> {
    let max = metaless_swarm::limits::MAX_SUBACCOUNT_TOKENS;
    if members.len() > max {
        return Err(GroupError::TooLarge {
            field: "revoked members",
            len: members.len(),
            max,
        });
    }
    let tokens = members
        .iter()
        .map(|(m, p)| revocation_token(group, m, *p))
        .collect::<Result<Vec<_>, _>>()?;
    SubaccountRevocation::signed(&Signer::delegated(&AdminSigner::new(group)), tokens, now_ms)
        .map_err(|_| GroupError::TooLarge {
            field: "revoked members",
            len: members.len(),
            max,
        })
}
