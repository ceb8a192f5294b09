//! Generic swarm operations for any account and namespace: `store`, `retrieve` and `delete`,
//! signed by the client's own keys, by a [`RequestSigner`] the app hands in (a group's key, a
//! member's delegated sub-account key, a remote signer), or not at all (deposits into a public
//! inbox, retrieves of no-auth namespaces). Config sync (namespaces 2–5) and groups (11–14)
//! are built on these; namespace-0 one-to-one messages keep their own path (`send`, the inbox).
//!
//! Requests are rebuilt and re-signed on every attempt (with the network time then), so a retry
//! after a clock correction or a 421 is still valid. [`Client::swarm_request`] sends a request
//! the app signs itself (a group admin's `revoke_subaccount`), through a builder called with
//! the network time of each attempt for the same reason.

use std::sync::Arc;

use metaless_identity::Keypair;
use metaless_swarm::{
    Delete, MessageHash, Namespace, Request, RequestSigner, Retrieve, Signer, Store, StoredMessage,
    UserPubkey, ttl,
};

use super::Client;
use super::ops::OpKind;
use super::subscriptions::SubscriptionId;
use crate::{ClientError, FailureKind, OpId, limits};

/// Whose swarm an operation is for, and how its requests are authenticated.
///
/// ```
/// use std::sync::Arc;
/// use metaless_client::{KeySigner, SwarmAccount};
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::UserPubkey;
/// // The client's own 05 account, signed with its keys.
/// let own = SwarmAccount::Own;
/// // A group (03) account signed with the group's Ed25519 key.
/// let group = SwarmAccount::Signed(Arc::new(KeySigner::group(Keypair::from_seed(&Seed::from_bytes([3; 32])))));
/// assert_eq!(group.pubkey(&UserPubkey::new(5, [0; 32])).prefix(), 0x03);
/// // Someone else's public inbox: no signature.
/// let theirs = SwarmAccount::Public(UserPubkey::new(5, [9; 32]));
/// assert!(!theirs.is_signed() && own.is_signed());
/// ```
#[derive(Clone)]
pub enum SwarmAccount {
    /// This client's own `05` account, signed with its keys.
    Own,
    /// The account [`RequestSigner::pubkey`] names, every request signed by it.
    Signed(Arc<dyn RequestSigner + Send + Sync>),
    /// Another account, unsigned: only deposits into public-inbox namespaces (multiples of 10)
    /// and retrieves of no-auth namespaces are accepted by nodes.
    Public(UserPubkey),
}

impl core::fmt::Debug for SwarmAccount {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Own => f.write_str("Own"),
            // A signer may hold secrets: only its address is shown.
            Self::Signed(s) => f.debug_tuple("Signed").field(&s.pubkey()).finish(),
            Self::Public(p) => f.debug_tuple("Public").field(p).finish(),
        }
    }
}

impl SwarmAccount {
    /// The account address, given the client's own (`me`).
    ///
    /// ```
    /// use metaless_client::SwarmAccount;
    /// use metaless_swarm::UserPubkey;
    /// let me = UserPubkey::new(5, [1; 32]);
    /// assert_eq!(SwarmAccount::Own.pubkey(&me), me);
    /// ```
    pub fn pubkey(&self, me: &UserPubkey) -> UserPubkey {
        match self {
            Self::Own => *me,
            Self::Signed(s) => s.pubkey(),
            Self::Public(p) => *p,
        }
    }

    /// Whether requests are signed.
    ///
    /// ```
    /// assert!(metaless_client::SwarmAccount::Own.is_signed());
    /// ```
    pub fn is_signed(&self) -> bool {
        !matches!(self, Self::Public(_))
    }

    /// The swarm signer for this account (`None` when unsigned).
    fn with_signer<R>(&self, keys: &Keypair, f: impl FnOnce(Option<&Signer<'_>>) -> R) -> R {
        match self {
            Self::Own => f(Some(&Signer::session(keys))),
            Self::Signed(s) => {
                let signer: &dyn RequestSigner = &**s;
                f(Some(&Signer::delegated(signer)))
            }
            Self::Public(_) => f(None),
        }
    }
}

/// A [`RequestSigner`] that owns a keypair: a standard `05` account (signed with its keys,
/// `pubkey_ed25519` sent) or an Ed25519-addressed `03` account such as a group whose secret
/// key this app holds (an admin).
///
/// ```
/// use metaless_client::KeySigner;
/// use metaless_identity::{Keypair, Seed};
/// use metaless_swarm::RequestSigner;
/// let keys = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let ed = keys.ed25519_public();
/// let group = KeySigner::group(keys);
/// assert_eq!(group.pubkey().key(), &ed);
/// assert!(group.auth(b"retrieve111").pubkey_ed25519.is_none());
/// ```
pub struct KeySigner {
    keys: Keypair,
    group: bool,
}

impl core::fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeySigner")
            .field("pubkey", &self.pubkey())
            .finish_non_exhaustive()
    }
}

impl KeySigner {
    /// Signs for the `05` account of `keys`.
    ///
    /// ```
    /// # use metaless_client::KeySigner;
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::RequestSigner;
    /// let s = KeySigner::session(Keypair::from_seed(&Seed::from_bytes([1; 32])));
    /// assert_eq!(s.pubkey().prefix(), 0x05);
    /// ```
    pub fn session(keys: Keypair) -> Self {
        Self { keys, group: false }
    }

    /// Signs for the `03` account `03 ‖ Ed25519(keys)`.
    ///
    /// ```
    /// # use metaless_client::KeySigner;
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::RequestSigner;
    /// let s = KeySigner::group(Keypair::from_seed(&Seed::from_bytes([1; 32])));
    /// assert_eq!(s.pubkey().prefix(), 0x03);
    /// ```
    pub fn group(keys: Keypair) -> Self {
        Self { keys, group: true }
    }

    fn signer(&self) -> Signer<'_> {
        if self.group {
            Signer::group(&self.keys)
        } else {
            Signer::session(&self.keys)
        }
    }
}

impl RequestSigner for KeySigner {
    fn pubkey(&self) -> UserPubkey {
        self.signer().pubkey()
    }

    fn auth(&self, message: &[u8]) -> metaless_swarm::Auth {
        self.signer().auth(message)
    }
}

/// A message as a swarm member listed it, not opened: what generic retrieves and
/// subscriptions report (config messages, group messages, anything not namespace 0).
///
/// ```
/// use metaless_client::RawMessage;
/// let m = RawMessage { hash: "A".repeat(43).parse().unwrap(), timestamp_ms: 1, expiry_ms: 2, data: vec![7] };
/// assert_eq!(m.data, [7]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The storage hash.
    pub hash: MessageHash,
    /// When it was stored (the store's `timestamp`, network ms).
    pub timestamp_ms: u64,
    /// When the swarm drops it (network ms).
    pub expiry_ms: u64,
    /// The payload as stored.
    pub data: Vec<u8>,
}

impl RawMessage {
    /// Entries whose hash parses (the tolerant retrieve reader already dropped malformed ones).
    pub(super) fn from_stored(messages: Vec<StoredMessage>) -> Vec<RawMessage> {
        messages
            .into_iter()
            .filter_map(|m| {
                Some(RawMessage {
                    hash: MessageHash::parse(&m.hash).ok()?,
                    timestamp_ms: m.timestamp_ms,
                    expiry_ms: m.expiry_ms,
                    data: m.data,
                })
            })
            .collect()
    }
}

/// A generic `store` in the operation table: absolute expiry, so a retry stores with what is
/// left of the TTL.
#[derive(Debug)]
pub(super) struct StoreOp {
    pub(super) account: SwarmAccount,
    pub(super) namespace: Namespace,
    pub(super) data: Vec<u8>,
    pub(super) expiry_ms: u64,
}

/// A generic `retrieve`: for the app (an [`OpId`]) or for a subscription.
#[derive(Debug)]
pub(super) struct RetrieveOp {
    pub(super) account: SwarmAccount,
    pub(super) namespace: Namespace,
    pub(super) last_hash: Option<MessageHash>,
    pub(super) max_count: Option<u32>,
    pub(super) sub: Option<SubscriptionId>,
}

/// Builds a signed swarm request at a network time (ms): what [`Client::swarm_request`] calls
/// on every attempt, so that the signature timestamp is always fresh (nodes refuse requests
/// signed too far from their clock). `None` when it cannot be built.
pub(super) type RequestBuilder = Arc<dyn Fn(u64) -> Option<Request> + Send + Sync>;

/// A request the app signs ([`Client::swarm_request`]): the account, its builder, and the
/// request last sent (what the reply's signatures are checked against).
pub(super) struct RequestOp {
    pub(super) account: UserPubkey,
    pub(super) build: RequestBuilder,
    pub(super) sent: Option<Request>,
}

impl core::fmt::Debug for RequestOp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RequestOp")
            .field("account", &self.account)
            .field("sent", &self.sent.as_ref().map(Request::method))
            .finish_non_exhaustive()
    }
}

/// Whether [`Client::swarm_request`] takes requests of this kind (those whose replies the
/// client verifies).
fn request_supported(request: &Request) -> bool {
    matches!(
        request,
        Request::RevokeSubaccount(_) | Request::UnrevokeSubaccount(_)
    )
}

/// The body of a generic store at `network_now`, and the account.
pub(super) fn store_body(
    keys: &Keypair,
    me: &UserPubkey,
    op: &StoreOp,
    network_now: u64,
) -> Result<(Vec<u8>, UserPubkey), FailureKind> {
    let left = op.expiry_ms.saturating_sub(network_now);
    let ttl_ms = ttl::clamp(op.namespace, left).min(left);
    let account = op.account.pubkey(me);
    let built = op.account.with_signer(keys, |signer| match signer {
        Some(s) => Store::signed(s, op.namespace, op.data.clone(), network_now, ttl_ms),
        None => Store::deposit(account, op.namespace, op.data.clone(), network_now, ttl_ms),
    });
    match built {
        Ok(store) => Ok((Request::Store(store).to_body(), account)),
        // The only thing that changes between attempts is the TTL left.
        Err(_) => Err(FailureKind::Expired),
    }
}

/// The body of a generic retrieve at `network_now`, and the account.
pub(super) fn retrieve_body(
    keys: &Keypair,
    me: &UserPubkey,
    op: &RetrieveOp,
    last_hash: Option<MessageHash>,
    network_now: u64,
) -> (Vec<u8>, UserPubkey) {
    let account = op.account.pubkey(me);
    let mut r = op.account.with_signer(keys, |signer| match signer {
        Some(s) => Retrieve::signed(s, op.namespace, last_hash, network_now),
        None => Retrieve::unsigned(account, op.namespace, last_hash),
    });
    if let Some(n) = op.max_count {
        r = r.with_max_count(i32::try_from(n).unwrap_or(i32::MAX));
    }
    (Request::Retrieve(r).to_body(), account)
}

/// The body of a generic delete, and the account.
pub(super) fn delete_body(
    keys: &Keypair,
    me: &UserPubkey,
    account: &SwarmAccount,
    hashes: &[MessageHash],
) -> Result<(Vec<u8>, UserPubkey), FailureKind> {
    let pubkey = account.pubkey(me);
    account
        .with_signer(keys, |signer| {
            signer.map(|s| Delete::signed(s, hashes.to_vec(), false))
        })
        .and_then(Result::ok)
        .map(|d| (Request::Delete(d).to_body(), pubkey))
        .ok_or(FailureKind::Rejected { status: 400 })
}

impl Client {
    fn check_room(&self) -> Result<(), ClientError> {
        if self.ops.len() >= limits::MAX_PENDING_OPS {
            return Err(ClientError::Busy {
                max: limits::MAX_PENDING_OPS,
            });
        }
        Ok(())
    }

    /// Stores `data` in `namespace` of `account`'s swarm for `ttl_ms` (clamped to what the
    /// namespace allows), retried on other members and paths like a send (up to
    /// `max_attempts`). [`Event::Delivered`](crate::Event::Delivered) carries the storage
    /// hash, or [`Event::Failed`](crate::Event::Failed) follows. Not persisted: after a
    /// restart the app stores again.
    ///
    /// Refused at once ([`ClientError::InvalidRequest`]) when the request could never be
    /// accepted: an unsigned store outside a public inbox, too large data, a TTL the namespace
    /// refuses.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, SwarmAccount, ClientError};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::{Namespace, UserPubkey};
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_700_000_000_000);
    /// // A config message into the own account (namespace 2), signed with the own keys.
    /// client.swarm_store(1_700_000_000_000, SwarmAccount::Own, Namespace::UserProfile, b"cfg".to_vec(), 86_400_000).unwrap();
    /// // Someone else's private namespace cannot be written without their key.
    /// let theirs = SwarmAccount::Public(UserPubkey::new(5, [9; 32]));
    /// assert!(matches!(client.swarm_store(1_700_000_000_000, theirs, Namespace::UserProfile, vec![], 86_400_000),
    ///     Err(ClientError::InvalidRequest(_))));
    /// ```
    pub fn swarm_store(
        &mut self,
        now_ms: u64,
        account: SwarmAccount,
        namespace: Namespace,
        data: Vec<u8>,
        ttl_ms: u64,
    ) -> Result<OpId, ClientError> {
        self.check_room()?;
        let network_now = self.clock.now(now_ms);
        let ttl_ms = ttl::clamp(namespace, ttl_ms);
        // Built once now so that what can never succeed is refused here, not after retries.
        let check = account.with_signer(&self.keys, |signer| match signer {
            Some(s) => Store::signed(s, namespace, Vec::new(), network_now, ttl_ms).map(|_| ()),
            None => Store::deposit(
                account.pubkey(&self.me),
                namespace,
                Vec::new(),
                network_now,
                ttl_ms,
            )
            .map(|_| ()),
        });
        check.map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let max = metaless_swarm::limits::MAX_MESSAGE_BODY;
        if data.len() > max {
            return Err(ClientError::TooLarge {
                len: data.len(),
                max,
            });
        }
        let op = StoreOp {
            account,
            namespace,
            data,
            expiry_ms: network_now.saturating_add(ttl_ms),
        };
        self.queue(OpKind::SwarmStore(op), now_ms)
    }

    /// Retrieves messages of `namespace` in `account`'s swarm stored after `last_hash` (all
    /// when `None`), at most `max_count` (the node's own limit when `None`).
    /// [`Event::Retrieved`](crate::Event::Retrieved) carries them, unopened, with `more` set
    /// when the member holds further ones: page on by calling again with the last hash.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, SwarmAccount};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::Namespace;
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let id = client.swarm_retrieve(1_000, SwarmAccount::Own, Namespace::Contacts, None, Some(100)).unwrap();
    /// assert_eq!(client.pending_ops(), 1);
    /// # let _ = id;
    /// ```
    pub fn swarm_retrieve(
        &mut self,
        now_ms: u64,
        account: SwarmAccount,
        namespace: Namespace,
        last_hash: Option<MessageHash>,
        max_count: Option<u32>,
    ) -> Result<OpId, ClientError> {
        self.check_room()?;
        if !account.is_signed() && !namespace.is_noauth_retrieve() {
            return Err(ClientError::InvalidRequest(
                "this namespace needs a signed retrieve".into(),
            ));
        }
        let op = RetrieveOp {
            account,
            namespace,
            last_hash,
            max_count,
            sub: None,
        };
        self.queue(OpKind::SwarmRetrieve(op), now_ms)
    }

    /// Deletes messages by hash from `account`'s swarm (a signed account only);
    /// [`Event::Done`](crate::Event::Done) follows once a member's signed reply confirms it.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, SwarmAccount, ClientError};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::{MessageHash, UserPubkey};
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let hash: MessageHash = "A".repeat(43).parse().unwrap();
    /// assert!(client.swarm_delete(1_000, SwarmAccount::Own, &[hash.clone()]).is_ok());
    /// let theirs = SwarmAccount::Public(UserPubkey::new(5, [9; 32]));
    /// assert!(client.swarm_delete(1_000, theirs, &[hash]).is_err());
    /// assert!(client.swarm_delete(1_000, SwarmAccount::Own, &[]).is_err());
    /// ```
    pub fn swarm_delete(
        &mut self,
        now_ms: u64,
        account: SwarmAccount,
        hashes: &[MessageHash],
    ) -> Result<OpId, ClientError> {
        self.check_room()?;
        delete_body(&self.keys, &self.me, &account, hashes).map_err(|_| {
            ClientError::InvalidRequest("delete needs a signed account and 1 to 1000 hashes".into())
        })?;
        let hashes = hashes.to_vec();
        self.queue(OpKind::SwarmDelete { account, hashes }, now_ms)
    }

    /// Sends a request the app signs itself to the swarm of the account it names, retried on
    /// other members and paths like a store. `build` is called with the network time of each
    /// attempt and signs with it (so a retry after a wait or a clock correction is not stale).
    /// [`Event::Done`](crate::Event::Done) follows once a member's signed reply confirms it
    /// (every listed member's signature is checked), or [`Event::Failed`](crate::Event::Failed).
    ///
    /// Only `revoke_subaccount` and `unrevoke_subaccount` for now (the requests the other
    /// methods do not cover, and whose replies the client can verify); anything else, or a
    /// builder that returns `None` now, is refused with [`ClientError::InvalidRequest`].
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, ClientError};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_swarm::{Request, Signer, SubaccountRevocation};
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let group = Keypair::from_seed(&Seed::from_bytes([3; 32]));
    /// let revoke = move |at| SubaccountRevocation::signed(&Signer::group(&group), vec![[3; 36]], at)
    ///     .ok().map(Request::RevokeSubaccount);
    /// client.swarm_request(1_000, revoke).unwrap();
    /// assert_eq!(client.pending_ops(), 1);
    /// assert!(matches!(client.swarm_request(1_000, |_| Some(Request::Info)), Err(ClientError::InvalidRequest(_))));
    /// ```
    pub fn swarm_request(
        &mut self,
        now_ms: u64,
        build: impl Fn(u64) -> Option<Request> + Send + Sync + 'static,
    ) -> Result<OpId, ClientError> {
        self.check_room()?;
        let first = build(self.clock.now(now_ms))
            .ok_or_else(|| ClientError::InvalidRequest("the request could not be built".into()))?;
        if !request_supported(&first) {
            return Err(ClientError::InvalidRequest(format!(
                "{} is not sent by swarm_request",
                first.method()
            )));
        }
        let account = *first
            .swarm_pubkey()
            .ok_or_else(|| ClientError::InvalidRequest("the request names no account".into()))?;
        let op = RequestOp {
            account,
            build: Arc::new(build),
            sent: None,
        };
        self.queue(OpKind::SwarmRequest(Box::new(op)), now_ms)
    }

    /// Builds and sends an app-signed request (re-signed at this attempt's network time).
    pub(super) fn attempt_request(&mut self, key: super::ops::OpKey, now: u64) {
        let network_now = self.clock.now(now);
        let Some(OpKind::SwarmRequest(r)) = self.ops.get_mut(key).map(|op| &mut op.kind) else {
            return;
        };
        // The same account every time: a builder that changes it is refused.
        let built = (r.build)(network_now)
            .filter(|req| request_supported(req) && req.swarm_pubkey() == Some(&r.account));
        let Some(request) = built else {
            return self.finish(key, now, Some(FailureKind::Rejected { status: 400 }));
        };
        let (body, account) = (request.to_body(), r.account);
        r.sent = Some(request);
        self.send_to_swarm(key, account, body, now);
    }
}
