//! Storage RPC requests as typed values: built and signed by clients, parsed and verified by
//! nodes ([`crate::server`]), and written as the JSON body `{"method": …, "params": {…}}` that
//! is POSTed to `/storage_rpc/v1` or sent as the payload of an onion request.

use alloc::string::String;
use alloc::vec::Vec;

use metaless_identity::{Keypair, hex};
use serde_json::{Map, Value, json};

use crate::json::envelope;
use crate::limits::{MAX_HASHES_PER_REQUEST, MAX_MESSAGE_BODY};
use crate::sig::{self, ExpireMode};
use crate::{MessageHash, Namespace, NamespaceOrAll, SwarmError, UserPubkey, b64, ttl};

pub use crate::subaccount::SUBACCOUNT_TOKEN_LEN;
use crate::subaccount::SubaccountToken;

/// A delegated signing key (`subaccount`/`subaccount_sig`): the token (layout in
/// [`crate::subaccount`]) and the account owner's signature of it. Nodes check it with
/// [`crate::server::verify_subaccount`].
///
/// ```
/// use metaless_swarm::Subaccount;
/// use metaless_swarm::subaccount::SubaccountAccess;
/// let mut token = [0u8; 36];
/// token[..2].copy_from_slice(&[0x03, 0x01]);
/// let sub = Subaccount { token, signature: [0; 64] };
/// assert_eq!(sub.token().access(), SubaccountAccess::READ);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subaccount {
    /// The token: network prefix, access flags, reserved bytes, the sub-account's Ed25519 key.
    pub token: [u8; SUBACCOUNT_TOKEN_LEN],
    /// The account owner's signature of the token.
    pub signature: [u8; 64],
}

impl Subaccount {
    /// The token's fields.
    pub fn token(&self) -> SubaccountToken {
        SubaccountToken::from_bytes(self.token)
    }
}

/// A request's authentication: the Ed25519 signature over the method's signed message, and for
/// `05` accounts the Ed25519 key whose X25519 form is the account key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// Detached Ed25519 signature.
    pub signature: [u8; 64],
    /// `pubkey_ed25519`: only for `05` accounts.
    pub pubkey_ed25519: Option<[u8; 32]>,
    /// `subaccount` and `subaccount_sig`, when signing with a delegated key.
    pub subaccount: Option<Subaccount>,
}

/// Signs storage-RPC requests for an account by some means other than holding its key: a
/// group member's sub-account key (`metaless-group`), a hardware key, a remote signer.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Auth, RequestSigner, Signer, UserPubkey};
/// struct Member(Keypair, UserPubkey);
/// impl RequestSigner for Member {
///     fn pubkey(&self) -> UserPubkey { self.1 }
///     fn auth(&self, message: &[u8]) -> Auth {
///         Auth { signature: self.0.sign(message), pubkey_ed25519: None, subaccount: None }
///     }
/// }
/// let keys = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let member = Member(keys, UserPubkey::new(0x03, [7u8; 32]));
/// assert_eq!(Signer::delegated(&member).pubkey().prefix(), 0x03);
/// ```
pub trait RequestSigner {
    /// The account the requests are made for.
    fn pubkey(&self) -> UserPubkey;
    /// Signs `message` (the method's signed string) and packages the authentication fields.
    fn auth(&self, message: &[u8]) -> Auth;
}

/// An account's keys together with the address they sign for, or a [`RequestSigner`].
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::Signer;
/// let keys = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// assert_eq!(Signer::session(&keys).pubkey().prefix(), 0x05);
/// assert_eq!(Signer::group(&keys).pubkey().key(), &keys.ed25519_public());
/// ```
pub struct Signer<'a> {
    inner: SignerKind<'a>,
}

enum SignerKind<'a> {
    Keys {
        keys: &'a Keypair,
        pubkey: UserPubkey,
        send_ed25519: bool,
    },
    Delegated(&'a dyn RequestSigner),
}

impl core::fmt::Debug for Signer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Signer")
            .field("pubkey", &self.pubkey())
            .finish_non_exhaustive()
    }
}

impl<'a> Signer<'a> {
    /// A standard account: address `05 ‖ X25519`, requests carry `pubkey_ed25519`.
    pub fn session(keys: &'a Keypair) -> Self {
        Self {
            inner: SignerKind::Keys {
                keys,
                pubkey: UserPubkey::new(0x05, keys.x25519_public()),
                send_ed25519: true,
            },
        }
    }

    /// A group (or any Ed25519-addressed account) signing with its own key: address
    /// `03 ‖ Ed25519`.
    pub fn group(keys: &'a Keypair) -> Self {
        Self {
            inner: SignerKind::Keys {
                keys,
                pubkey: UserPubkey::new(0x03, keys.ed25519_public()),
                send_ed25519: false,
            },
        }
    }

    /// Requests signed by a [`RequestSigner`] (e.g. a group member's sub-account key).
    pub fn delegated(signer: &'a dyn RequestSigner) -> Self {
        Self {
            inner: SignerKind::Delegated(signer),
        }
    }

    /// The address requests are made for.
    pub fn pubkey(&self) -> UserPubkey {
        match &self.inner {
            SignerKind::Keys { pubkey, .. } => *pubkey,
            SignerKind::Delegated(signer) => signer.pubkey(),
        }
    }

    /// Signs `message` and packages the authentication fields.
    pub fn auth(&self, message: &[u8]) -> Auth {
        match &self.inner {
            SignerKind::Keys {
                keys, send_ed25519, ..
            } => Auth {
                signature: keys.sign(message),
                pubkey_ed25519: send_ed25519.then(|| keys.ed25519_public()),
                subaccount: None,
            },
            SignerKind::Delegated(signer) => signer.auth(message),
        }
    }
}

/// `store`: deposit a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// The recipient.
    pub pubkey: UserPubkey,
    /// Where to store it.
    pub namespace: Namespace,
    /// The message timestamp.
    pub timestamp_ms: u64,
    /// When it expires (`timestamp + ttl` when given as a TTL).
    pub expiry_ms: u64,
    /// The payload (raw bytes; base64 on the wire).
    pub data: Vec<u8>,
    /// Present for stores to non-public namespaces.
    pub auth: Option<Auth>,
    /// `sig_timestamp`, when the signature was made at another time than `timestamp`.
    pub sig_timestamp_ms: Option<u64>,
}

fn check_data(data: &[u8]) -> Result<(), SwarmError> {
    if data.len() > MAX_MESSAGE_BODY {
        return Err(SwarmError::TooLarge {
            field: "data",
            len: data.len(),
            max: MAX_MESSAGE_BODY,
        });
    }
    Ok(())
}

fn checked_ttl(namespace: Namespace, ttl_ms: u64) -> Result<(), SwarmError> {
    ttl::check(namespace, i64::try_from(ttl_ms).unwrap_or(i64::MAX))
}

impl Store {
    /// An unsigned deposit into someone's public-inbox namespace (a multiple of 10, e.g. DMs
    /// in namespace 0).
    ///
    /// ```
    /// use metaless_swarm::{Namespace, SwarmError, UserPubkey, Store};
    /// let to = UserPubkey::new(5, [7u8; 32]);
    /// let s = Store::deposit(to, Namespace::Default, b"hi".to_vec(), 1_700_000_000_000, 86_400_000).unwrap();
    /// assert_eq!(s.expiry_ms, 1_700_086_400_000);
    /// assert_eq!(Store::deposit(to, Namespace::Contacts, vec![], 1, 86_400_000), Err(SwarmError::SignatureRequired));
    /// assert!(Store::deposit(to, Namespace::Default, vec![0; 76_801], 1, 86_400_000).is_err());
    /// ```
    pub fn deposit(
        pubkey: UserPubkey,
        namespace: Namespace,
        data: Vec<u8>,
        timestamp_ms: u64,
        ttl_ms: u64,
    ) -> Result<Self, SwarmError> {
        if !namespace.is_public_inbox() {
            return Err(SwarmError::SignatureRequired);
        }
        check_data(&data)?;
        checked_ttl(namespace, ttl_ms)?;
        Ok(Self {
            pubkey,
            namespace,
            timestamp_ms,
            expiry_ms: ttl::expiry(timestamp_ms, ttl_ms),
            data,
            auth: None,
            sig_timestamp_ms: None,
        })
    }

    /// A signed store into the signer's own account, signing `"store" ‖ namespace ‖ timestamp`.
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::{Namespace, Signer, Store};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
    /// let s = Store::signed(&Signer::session(&keys), Namespace::UserProfile, b"cfg".to_vec(), 1_700_000_000_000, 86_400_000).unwrap();
    /// assert!(s.auth.is_some());
    /// ```
    pub fn signed(
        signer: &Signer<'_>,
        namespace: Namespace,
        data: Vec<u8>,
        timestamp_ms: u64,
        ttl_ms: u64,
    ) -> Result<Self, SwarmError> {
        check_data(&data)?;
        checked_ttl(namespace, ttl_ms)?;
        Ok(Self {
            pubkey: signer.pubkey(),
            namespace,
            timestamp_ms,
            expiry_ms: ttl::expiry(timestamp_ms, ttl_ms),
            data,
            auth: Some(signer.auth(&sig::store(namespace, timestamp_ms))),
            sig_timestamp_ms: None,
        })
    }

    /// The hash the storage server will give this message.
    pub fn message_hash(&self) -> MessageHash {
        MessageHash::compute(&self.pubkey, self.namespace, &self.data)
    }

    /// The timestamp the signature covers (`sig_timestamp`, else `timestamp`).
    pub fn signed_timestamp_ms(&self) -> u64 {
        self.sig_timestamp_ms.unwrap_or(self.timestamp_ms)
    }

    /// The `params` object.
    pub fn to_params(&self) -> Value {
        let mut p = Map::new();
        p.insert("pubkey".into(), self.pubkey.to_hex().into());
        p.insert("timestamp".into(), self.timestamp_ms.into());
        match self.expiry_ms.checked_sub(self.timestamp_ms) {
            Some(ttl_ms) => p.insert("ttl".into(), ttl_ms.into()),
            None => p.insert("expiry".into(), self.expiry_ms.into()),
        };
        p.insert("data".into(), b64::encode(&self.data).into());
        put_namespace(&mut p, self.namespace);
        if let Some(auth) = &self.auth {
            put_auth(&mut p, auth);
        }
        if let Some(ts) = self.sig_timestamp_ms {
            p.insert("sig_timestamp".into(), ts.into());
        }
        Value::Object(p)
    }
}

/// `retrieve`: fetch messages newer than `last_hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieve {
    /// The account.
    pub pubkey: UserPubkey,
    /// The namespace.
    pub namespace: Namespace,
    /// Only messages stored after this one.
    pub last_hash: Option<MessageHash>,
    /// At most this many messages.
    pub max_count: Option<i32>,
    /// At most this many bytes; negative means a fraction (−n → 1/n) of the server maximum.
    pub max_size: Option<i32>,
    /// `reverse_direction`: newest first.
    pub reverse_direction: bool,
    /// Signature and its timestamp (required except for no-auth namespaces).
    pub auth: Option<(Auth, u64)>,
}

impl Retrieve {
    /// A signed retrieve, signing `"retrieve" ‖ namespace ‖ now`.
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::{Namespace, Retrieve, Signer};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
    /// let r = Retrieve::signed(&Signer::session(&keys), Namespace::Default, None, 1_700_000_000_000).with_max_size(-5);
    /// assert_eq!(r.to_params()["max_size"], -5);
    /// ```
    pub fn signed(
        signer: &Signer<'_>,
        namespace: Namespace,
        last_hash: Option<MessageHash>,
        now_ms: u64,
    ) -> Self {
        Self {
            pubkey: signer.pubkey(),
            namespace,
            last_hash,
            max_count: None,
            max_size: None,
            reverse_direction: false,
            auth: Some((signer.auth(&sig::retrieve(namespace, now_ms)), now_ms)),
        }
    }

    /// An unsigned retrieve (only namespace −10 and public outboxes allow it).
    pub fn unsigned(
        pubkey: UserPubkey,
        namespace: Namespace,
        last_hash: Option<MessageHash>,
    ) -> Self {
        Self {
            pubkey,
            namespace,
            last_hash,
            max_count: None,
            max_size: None,
            reverse_direction: false,
            auth: None,
        }
    }

    /// Sets `max_count`.
    pub fn with_max_count(mut self, n: i32) -> Self {
        self.max_count = Some(n);
        self
    }

    /// Sets `max_size`.
    pub fn with_max_size(mut self, n: i32) -> Self {
        self.max_size = Some(n);
        self
    }

    /// The `params` object.
    pub fn to_params(&self) -> Value {
        let mut p = Map::new();
        p.insert("pubkey".into(), self.pubkey.to_hex().into());
        put_namespace(&mut p, self.namespace);
        if let Some(h) = &self.last_hash {
            p.insert("last_hash".into(), h.as_str().into());
        }
        if let Some(n) = self.max_count {
            p.insert("max_count".into(), n.into());
        }
        if let Some(n) = self.max_size {
            p.insert("max_size".into(), n.into());
        }
        if self.reverse_direction {
            p.insert("reverse_direction".into(), true.into());
        }
        if let Some((auth, ts)) = &self.auth {
            p.insert("timestamp".into(), (*ts).into());
            put_auth(&mut p, auth);
        }
        Value::Object(p)
    }
}

fn check_hashes<T>(hashes: &[T]) -> Result<(), SwarmError> {
    if hashes.is_empty() {
        return Err(SwarmError::MissingField("messages"));
    }
    if hashes.len() > MAX_HASHES_PER_REQUEST {
        return Err(SwarmError::TooLarge {
            field: "messages",
            len: hashes.len(),
            max: MAX_HASHES_PER_REQUEST,
        });
    }
    Ok(())
}

/// `delete`: delete messages by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    /// The account.
    pub pubkey: UserPubkey,
    /// Signature over `"delete" ‖ hashes…`.
    pub auth: Auth,
    /// The hashes, in the order signed.
    pub messages: Vec<MessageHash>,
    /// `required`: reply 404 unless something was deleted.
    pub required: bool,
}

impl Delete {
    /// A signed delete.
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::{MessageHash, Namespace, Delete, Signer};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
    /// let signer = Signer::session(&keys);
    /// let h = MessageHash::compute(&signer.pubkey(), Namespace::Default, b"x");
    /// assert!(Delete::signed(&signer, vec![h], false).is_ok());
    /// assert!(Delete::signed(&signer, vec![], false).is_err());
    /// ```
    pub fn signed(
        signer: &Signer<'_>,
        messages: Vec<MessageHash>,
        required: bool,
    ) -> Result<Self, SwarmError> {
        check_hashes(&messages)?;
        Ok(Self {
            pubkey: signer.pubkey(),
            auth: signer.auth(&sig::delete(&messages)),
            messages,
            required,
        })
    }

    /// The `params` object.
    pub fn to_params(&self) -> Value {
        let mut p = Map::new();
        p.insert("pubkey".into(), self.pubkey.to_hex().into());
        p.insert("messages".into(), hash_list(&self.messages));
        if self.required {
            p.insert("required".into(), true.into());
        }
        put_auth(&mut p, &self.auth);
        Value::Object(p)
    }
}

/// `delete_all` (`timestamp`), `delete_before` (`before`) and `expire_all` (`expiry`): one
/// signed action over a whole namespace, or all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceAction {
    /// The account.
    pub pubkey: UserPubkey,
    /// Signature over `method ‖ namespace ‖ value`.
    pub auth: Auth,
    /// Which namespace(s).
    pub namespace: NamespaceOrAll,
    /// The timestamp, cut-off or new expiry, by method.
    pub value_ms: u64,
}

impl NamespaceAction {
    fn signed(
        signer: &Signer<'_>,
        message: Vec<u8>,
        namespace: NamespaceOrAll,
        value_ms: u64,
    ) -> Self {
        Self {
            pubkey: signer.pubkey(),
            auth: signer.auth(&message),
            namespace,
            value_ms,
        }
    }

    fn to_params(&self, value_name: &str) -> Value {
        let mut p = Map::new();
        p.insert("pubkey".into(), self.pubkey.to_hex().into());
        match self.namespace {
            NamespaceOrAll::All => {
                p.insert("namespace".into(), "all".into());
            }
            NamespaceOrAll::One(ns) => put_namespace(&mut p, ns),
        }
        p.insert(value_name.into(), self.value_ms.into());
        put_auth(&mut p, &self.auth);
        Value::Object(p)
    }
}

/// `expire`: change the expiry of messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expire {
    /// The account.
    pub pubkey: UserPubkey,
    /// Signature over `"expire" ‖ mode ‖ expiries ‖ hashes`.
    pub auth: Auth,
    /// The hashes.
    pub messages: Vec<MessageHash>,
    /// One expiry for all, or one per hash.
    pub expiries_ms: Vec<u64>,
    /// Set, shorten-only or extend-only.
    pub mode: ExpireMode,
}

impl Expire {
    /// A signed expire.
    ///
    /// ```
    /// use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::{MessageHash, Namespace, SwarmError, Expire, Signer, sig::ExpireMode};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
    /// let signer = Signer::session(&keys);
    /// let h = MessageHash::compute(&signer.pubkey(), Namespace::Default, b"x");
    /// let e = Expire::signed(&signer, vec![h.clone()], vec![1_700_000_060_000], ExpireMode::Shorten).unwrap();
    /// assert_eq!(e.to_params()["shorten"], true);
    /// assert_eq!(Expire::signed(&signer, vec![h], vec![1, 2], ExpireMode::Set), Err(SwarmError::ExpiryMismatch));
    /// ```
    pub fn signed(
        signer: &Signer<'_>,
        messages: Vec<MessageHash>,
        expiries_ms: Vec<u64>,
        mode: ExpireMode,
    ) -> Result<Self, SwarmError> {
        check_hashes(&messages)?;
        if expiries_ms.is_empty() || (expiries_ms.len() > 1 && expiries_ms.len() != messages.len())
        {
            return Err(SwarmError::ExpiryMismatch);
        }
        Ok(Self {
            pubkey: signer.pubkey(),
            auth: signer.auth(&sig::expire(mode, &expiries_ms, &messages)),
            messages,
            expiries_ms,
            mode,
        })
    }

    /// The `params` object.
    pub fn to_params(&self) -> Value {
        let mut p = Map::new();
        p.insert("pubkey".into(), self.pubkey.to_hex().into());
        p.insert("messages".into(), hash_list(&self.messages));
        let expiry: Value = match self.expiries_ms.as_slice() {
            [one] => (*one).into(),
            many => many.to_vec().into(),
        };
        p.insert("expiry".into(), expiry);
        match self.mode {
            ExpireMode::Set => {}
            ExpireMode::Shorten => {
                p.insert("shorten".into(), true.into());
            }
            ExpireMode::Extend => {
                p.insert("extend".into(), true.into());
            }
        }
        put_auth(&mut p, &self.auth);
        Value::Object(p)
    }
}

/// `get_expiries`: the current expiries of messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetExpiries {
    /// The account.
    pub pubkey: UserPubkey,
    /// Signature over `"get_expiries" ‖ timestamp ‖ hashes`.
    pub auth: Auth,
    /// Message hashes (not validated by nodes: any strings).
    pub messages: Vec<String>,
    /// The signature timestamp.
    pub timestamp_ms: u64,
}

impl GetExpiries {
    /// A signed request.
    pub fn signed(
        signer: &Signer<'_>,
        messages: Vec<MessageHash>,
        now_ms: u64,
    ) -> Result<Self, SwarmError> {
        check_hashes(&messages)?;
        let messages: Vec<String> = messages.iter().map(|h| String::from(h.as_str())).collect();
        Ok(Self {
            pubkey: signer.pubkey(),
            auth: signer.auth(&sig::get_expiries(now_ms, &messages)),
            messages,
            timestamp_ms: now_ms,
        })
    }

    /// The `params` object.
    pub fn to_params(&self) -> Value {
        let mut p = Map::new();
        p.insert("pubkey".into(), self.pubkey.to_hex().into());
        p.insert("messages".into(), self.messages.clone().into());
        p.insert("timestamp".into(), self.timestamp_ms.into());
        put_auth(&mut p, &self.auth);
        Value::Object(p)
    }
}

/// `revoke_subaccount` / `unrevoke_subaccount`: the account owner adds sub-account tokens to,
/// or removes them from, the account's revocation list (signed with the owner's key; a
/// sub-account cannot sign these).
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{Request, Signer, SubaccountRevocation};
/// let group = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let r = SubaccountRevocation::signed(&Signer::group(&group), vec![[3u8; 36]], 1_700_000_000_000).unwrap();
/// let body = String::from_utf8(Request::RevokeSubaccount(r.clone()).to_body()).unwrap();
/// assert!(body.contains(r#""revoke":["AwMD"#));
/// assert!(SubaccountRevocation::signed(&Signer::group(&group), vec![[3u8; 36]; 51], 1).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubaccountRevocation {
    /// The account.
    pub pubkey: UserPubkey,
    /// The owner's signature over `method ‖ timestamp ‖ token₀ ‖ token₁ ‖ …`.
    pub auth: Auth,
    /// The 36-byte tokens, in the order signed.
    pub tokens: Vec<[u8; SUBACCOUNT_TOKEN_LEN]>,
    /// The signature timestamp.
    pub timestamp_ms: u64,
}

impl SubaccountRevocation {
    /// A signed `revoke_subaccount` (wrap it in [`Request::RevokeSubaccount`]). At most
    /// [`MAX_SUBACCOUNT_TOKENS`](crate::limits::MAX_SUBACCOUNT_TOKENS) tokens, upstream's cap.
    pub fn signed(
        signer: &Signer<'_>,
        tokens: Vec<[u8; SUBACCOUNT_TOKEN_LEN]>,
        now_ms: u64,
    ) -> Result<Self, SwarmError> {
        Self::make(signer, tokens, now_ms, sig::revoke_subaccount)
    }

    /// A signed `unrevoke_subaccount` (wrap it in [`Request::UnrevokeSubaccount`]); same cap.
    pub fn signed_unrevoke(
        signer: &Signer<'_>,
        tokens: Vec<[u8; SUBACCOUNT_TOKEN_LEN]>,
        now_ms: u64,
    ) -> Result<Self, SwarmError> {
        Self::make(signer, tokens, now_ms, sig::unrevoke_subaccount)
    }

    fn make(
        signer: &Signer<'_>,
        tokens: Vec<[u8; SUBACCOUNT_TOKEN_LEN]>,
        now_ms: u64,
        message: fn(u64, &[[u8; SUBACCOUNT_TOKEN_LEN]]) -> Vec<u8>,
    ) -> Result<Self, SwarmError> {
        if tokens.len() > crate::limits::MAX_SUBACCOUNT_TOKENS {
            return Err(SwarmError::TooLarge {
                field: "tokens",
                len: tokens.len(),
                max: crate::limits::MAX_SUBACCOUNT_TOKENS,
            });
        }
        Ok(Self {
            pubkey: signer.pubkey(),
            auth: signer.auth(&message(now_ms, &tokens)),
            tokens,
            timestamp_ms: now_ms,
        })
    }

    fn to_params(&self, list_name: &str) -> Value {
        let mut p = Map::new();
        p.insert("pubkey".into(), self.pubkey.to_hex().into());
        let list: Vec<Value> = self
            .tokens
            .iter()
            .map(|t| Value::from(b64::encode(t)))
            .collect();
        p.insert(list_name.into(), Value::Array(list));
        p.insert("timestamp".into(), self.timestamp_ms.into());
        put_auth(&mut p, &self.auth);
        Value::Object(p)
    }
}

/// `revoked_subaccounts`: the account owner lists the account's revoked tokens.
///
/// ```
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::{RevokedSubaccounts, Signer};
/// let group = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let r = RevokedSubaccounts::signed(&Signer::group(&group), 1_700_000_000_000);
/// assert_eq!(r.to_params()["timestamp"], 1_700_000_000_000u64);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSubaccounts {
    /// The account.
    pub pubkey: UserPubkey,
    /// The owner's signature over `"revoked_subaccounts" ‖ timestamp`.
    pub auth: Auth,
    /// The signature timestamp.
    pub timestamp_ms: u64,
}

impl RevokedSubaccounts {
    /// A signed request.
    pub fn signed(signer: &Signer<'_>, now_ms: u64) -> Self {
        Self {
            pubkey: signer.pubkey(),
            auth: signer.auth(&sig::revoked_subaccounts(now_ms)),
            timestamp_ms: now_ms,
        }
    }

    /// The `params` object.
    pub fn to_params(&self) -> Value {
        let mut p = Map::new();
        p.insert("pubkey".into(), self.pubkey.to_hex().into());
        p.insert("timestamp".into(), self.timestamp_ms.into());
        put_auth(&mut p, &self.auth);
        Value::Object(p)
    }
}

/// The oxend endpoints a storage server forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OxendEndpoint {
    /// `get_service_nodes`.
    GetServiceNodes,
    /// `ons_resolve`.
    OnsResolve,
}

impl OxendEndpoint {
    /// The endpoint name.
    pub fn name(self) -> &'static str {
        match self {
            Self::GetServiceNodes => "get_service_nodes",
            Self::OnsResolve => "ons_resolve",
        }
    }
}

/// `oxend_request`: a forwarded oxend RPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OxendRequest {
    /// Which endpoint.
    pub endpoint: OxendEndpoint,
    /// Its parameters.
    pub params: Option<Value>,
}

impl OxendRequest {
    /// `get_service_nodes` for active nodes with the fields clients use (the field list
    /// libsession sends).
    ///
    /// ```
    /// let r = metaless_swarm::OxendRequest::get_service_nodes();
    /// assert_eq!(r.to_params()["endpoint"], "get_service_nodes");
    /// assert_eq!(r.to_params()["params"]["fields"]["swarm_id"], true);
    /// ```
    pub fn get_service_nodes() -> Self {
        Self {
            endpoint: OxendEndpoint::GetServiceNodes,
            params: Some(json!({
                "active_only": true,
                "fields": {
                    "pubkey_ed25519": true,
                    "public_ip": true,
                    "storage_port": true,
                    "storage_lmq_port": true,
                    "storage_server_version": true,
                    "swarm_id": true,
                }
            })),
        }
    }

    /// The `params` object.
    pub fn to_params(&self) -> Value {
        let mut p = Map::new();
        p.insert("endpoint".into(), self.endpoint.name().into());
        if let Some(params) = &self.params {
            p.insert("params".into(), params.clone());
        }
        Value::Object(p)
    }
}

/// A storage RPC request of any supported method.
///
/// ```
/// use metaless_swarm::{UserPubkey, Request};
/// let body = Request::GetSwarm(UserPubkey::new(5, [1; 32])).to_body();
/// let text = String::from_utf8(body).unwrap();
/// assert!(text.starts_with(r#"{"method":"get_swarm","params":{"pubkey":"05"#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `store`.
    Store(Store),
    /// `retrieve`.
    Retrieve(Retrieve),
    /// `delete`.
    Delete(Delete),
    /// `delete_all`.
    DeleteAll(NamespaceAction),
    /// `delete_before`.
    DeleteBefore(NamespaceAction),
    /// `expire`.
    Expire(Expire),
    /// `expire_all`.
    ExpireAll(NamespaceAction),
    /// `get_expiries`.
    GetExpiries(GetExpiries),
    /// `revoke_subaccount`.
    RevokeSubaccount(SubaccountRevocation),
    /// `unrevoke_subaccount`.
    UnrevokeSubaccount(SubaccountRevocation),
    /// `revoked_subaccounts`.
    RevokedSubaccounts(RevokedSubaccounts),
    /// `get_swarm` (alias `get_snodes_for_pubkey`).
    GetSwarm(UserPubkey),
    /// `info`.
    Info,
    /// `oxend_request`.
    OxendRequest(OxendRequest),
    /// `active_nodes_bin`.
    ActiveNodesBin,
    /// `batch`: sub-requests processed independently.
    Batch(Vec<Request>),
    /// `sequence`: sub-requests processed in order, stopping at the first failure.
    Sequence(Vec<Request>),
}

impl Request {
    /// A signed `delete_all`.
    pub fn delete_all(signer: &Signer<'_>, namespace: NamespaceOrAll, now_ms: u64) -> Self {
        Self::DeleteAll(NamespaceAction::signed(
            signer,
            sig::delete_all(namespace, now_ms),
            namespace,
            now_ms,
        ))
    }

    /// A signed `delete_before`.
    pub fn delete_before(signer: &Signer<'_>, namespace: NamespaceOrAll, before_ms: u64) -> Self {
        Self::DeleteBefore(NamespaceAction::signed(
            signer,
            sig::delete_before(namespace, before_ms),
            namespace,
            before_ms,
        ))
    }

    /// A signed `expire_all`.
    pub fn expire_all(signer: &Signer<'_>, namespace: NamespaceOrAll, expiry_ms: u64) -> Self {
        Self::ExpireAll(NamespaceAction::signed(
            signer,
            sig::expire_all(namespace, expiry_ms),
            namespace,
            expiry_ms,
        ))
    }

    /// The method name.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Store(_) => "store",
            Self::Retrieve(_) => "retrieve",
            Self::Delete(_) => "delete",
            Self::DeleteAll(_) => "delete_all",
            Self::DeleteBefore(_) => "delete_before",
            Self::Expire(_) => "expire",
            Self::ExpireAll(_) => "expire_all",
            Self::GetExpiries(_) => "get_expiries",
            Self::RevokeSubaccount(_) => "revoke_subaccount",
            Self::UnrevokeSubaccount(_) => "unrevoke_subaccount",
            Self::RevokedSubaccounts(_) => "revoked_subaccounts",
            Self::GetSwarm(_) => "get_swarm",
            Self::Info => "info",
            Self::OxendRequest(_) => "oxend_request",
            Self::ActiveNodesBin => "active_nodes_bin",
            Self::Batch(_) => "batch",
            Self::Sequence(_) => "sequence",
        }
    }

    /// The account a node must hold to serve this request (nodes reply 421 otherwise);
    /// `None` for requests any node answers.
    pub fn swarm_pubkey(&self) -> Option<&UserPubkey> {
        match self {
            Self::Store(r) => Some(&r.pubkey),
            Self::Retrieve(r) => Some(&r.pubkey),
            Self::Delete(r) => Some(&r.pubkey),
            Self::DeleteAll(r) | Self::DeleteBefore(r) | Self::ExpireAll(r) => Some(&r.pubkey),
            Self::Expire(r) => Some(&r.pubkey),
            Self::GetExpiries(r) => Some(&r.pubkey),
            Self::RevokeSubaccount(r) | Self::UnrevokeSubaccount(r) => Some(&r.pubkey),
            Self::RevokedSubaccounts(r) => Some(&r.pubkey),
            _ => None,
        }
    }

    /// The sub-account a request is signed with, if any.
    ///
    /// ```
    /// use metaless_swarm::{Request, UserPubkey};
    /// assert!(Request::GetSwarm(UserPubkey::new(5, [1; 32])).subaccount().is_none());
    /// ```
    pub fn subaccount(&self) -> Option<&Subaccount> {
        let auth = match self {
            Self::Store(s) => s.auth.as_ref(),
            Self::Retrieve(r) => r.auth.as_ref().map(|(a, _)| a),
            Self::Delete(d) => Some(&d.auth),
            Self::DeleteAll(a) | Self::DeleteBefore(a) | Self::ExpireAll(a) => Some(&a.auth),
            Self::Expire(e) => Some(&e.auth),
            Self::GetExpiries(g) => Some(&g.auth),
            _ => None,
        };
        auth.and_then(|a| a.subaccount.as_ref())
    }

    /// The `params` object.
    pub fn to_params(&self) -> Value {
        match self {
            Self::Store(r) => r.to_params(),
            Self::Retrieve(r) => r.to_params(),
            Self::Delete(r) => r.to_params(),
            Self::DeleteAll(r) => r.to_params("timestamp"),
            Self::DeleteBefore(r) => r.to_params("before"),
            Self::Expire(r) => r.to_params(),
            Self::ExpireAll(r) => r.to_params("expiry"),
            Self::GetExpiries(r) => r.to_params(),
            Self::RevokeSubaccount(r) => r.to_params("revoke"),
            Self::UnrevokeSubaccount(r) => r.to_params("unrevoke"),
            Self::RevokedSubaccounts(r) => r.to_params(),
            Self::GetSwarm(pk) => json!({ "pubkey": pk.to_hex() }),
            Self::Info | Self::ActiveNodesBin => Value::Object(Map::new()),
            Self::OxendRequest(r) => r.to_params(),
            Self::Batch(reqs) | Self::Sequence(reqs) => {
                let list: Vec<Value> = reqs
                    .iter()
                    .map(|r| json!({"method": r.method(), "params": r.to_params()}))
                    .collect();
                json!({ "requests": list })
            }
        }
    }

    /// The request body: `{"method": …, "params": {…}}` as UTF-8 JSON bytes.
    pub fn to_body(&self) -> Vec<u8> {
        envelope(self.method(), self.to_params())
    }
}

fn put_namespace(p: &mut Map<String, Value>, ns: Namespace) {
    if ns != Namespace::Default {
        p.insert("namespace".into(), ns.value().into());
    }
}

fn put_auth(p: &mut Map<String, Value>, auth: &Auth) {
    p.insert("signature".into(), b64::encode(&auth.signature).into());
    if let Some(ed) = auth.pubkey_ed25519 {
        p.insert("pubkey_ed25519".into(), hex::encode(&ed).into());
    }
    if let Some(sub) = &auth.subaccount {
        p.insert("subaccount".into(), b64::encode(&sub.token).into());
        p.insert("subaccount_sig".into(), b64::encode(&sub.signature).into());
    }
}

fn hash_list(hashes: &[MessageHash]) -> Value {
    Value::Array(hashes.iter().map(|h| Value::from(h.as_str())).collect())
}
