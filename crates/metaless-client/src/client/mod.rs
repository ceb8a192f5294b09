//! The sans-IO client core: one state machine; time comes in as `now_ms`, randomness from a
//! seeded generator given at construction, and every network exchange leaves as a
//! [`Transmit`] and comes back through [`Client::handle_response`].
//!
//! One [`Client`], each subsystem in its own file:
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the `Client`, its public API, the turn that starts due work (`drive`) |
//! | `event.rs` | what the app is told: `Event`, `Incoming`, `Route`, `Stats` |
//! | `ops.rs` | the operation table (`OpId`, `OpKind`, `Op`): queue, attempt, finish |
//! | `requests.rs` | requests in flight: storage RPC bodies, swarm member choice, onion assembly |
//! | `replies.rs` | an answer back: onion reply opened, status dispatched, success per kind |
//! | `faults.rs` | failures: whom to blame (strikes, blacklist), back-off, 421 and 406 |
//! | `inbox.rs` | the own swarm: polls, de-duplication, last hashes, read timers, unsends |
//! | `nodes.rs` | the node list: bootstrap, refresh (majority of 3 sources), operations waiting for nodes |
//! | `verify.rs` | node signatures on store / expire / delete replies |
//! | `clock.rs` | the network clock estimate |
//! | `swarm_ops.rs` | generic store / retrieve / delete for any account, namespace and signer |
//! | `subscriptions.rs` | namespaces higher layers registered for polling |
//! | `server.rs` | onion v4 requests to HTTP servers |
//! | `groups.rs` | groups v2 beside the client: create, invite, accept, send, read, remove, leave |

use std::collections::VecDeque;

use metaless_envelope::{Content, Message, seal_message, storage_ttl_ms};
use metaless_identity::{Keypair, SessionId, SessionIdPrefix};
use metaless_swarm::{MessageHash, Namespace, NodeId, UserPubkey, ttl};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::directory::Directory;
use crate::persist::{MemoryStore, PendingSend, Persistence};
use crate::transport::{HttpResponse, RequestId, Transmit, TransportError};
use crate::{Bootstrap, ClientError, Config, limits};

mod attachments;
mod calls;
mod clock;
mod config_sync;
mod contacts;
mod conversation;
mod event;
mod faults;
mod groups;
mod inbox;
mod nodes;
mod ops;
mod push;
mod replies;
mod requests;
mod server;
mod subscriptions;
mod swarm_ops;
mod verify;

pub use attachments::{
    AttachmentDownload, AttachmentUpload, PROGRESS_THRESHOLD, TransferDirection, TransferProgress,
    TransferStage, UploadOptions,
};
pub use calls::{CallUpdate, Calls, CallsError, MAX_CALLS};
use clock::ClockEstimate;
pub use config_sync::{ConfigEvent, ConfigSync};
use conversation::Conversations;
pub use event::{Event, Incoming, Route, Stats};
pub use groups::{GroupEvent, GroupMessage, Groups, GroupsError};
use inbox::Inbox;
use nodes::NodeFetch;
pub use ops::OpId;
use ops::{OpKind, Ops};
pub use push::{OpenedPush, PushOpenError, push_reply, push_server};
use requests::Requests;
pub use server::{ServerRequest, ServerResponse};
pub use subscriptions::SubscriptionId;
use subscriptions::Subscriptions;
pub use swarm_ops::{KeySigner, RawMessage, SwarmAccount};

/// What a persistence hook held at start-up.
#[derive(Default)]
struct Saved {
    pending: Vec<PendingSend>,
    last_hashes: Vec<(NodeId, MessageHash)>,
    seen: Vec<(MessageHash, u64)>,
}

/// The client state machine. See the crate docs for the loop that drives it.
///
/// ```
/// use metaless_client::{Bootstrap, Client, Config};
/// use metaless_identity::{Keypair, Seed};
/// let client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
///     Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_000);
/// assert_eq!((client.known_nodes(), client.in_flight()), (0, 0));
/// ```
pub struct Client {
    keys: Keypair,
    /// The own account, as storage RPC names it.
    me: UserPubkey,
    config: Config,
    rng: ChaCha20Rng,
    /// Nodes, swarms, guards, paths, strikes and bans.
    dir: Directory,
    clock: ClockEstimate,
    store: Box<dyn Persistence>,
    ops: Ops,
    requests: Requests,
    events: VecDeque<Event>,
    inbox: Inbox,
    fetch: NodeFetch,
    /// Namespaces polled for higher layers.
    subs: Subscriptions,
    /// Receipts, typing and message-request settings and state.
    conv: Conversations,
    /// Attachment transfers reporting progress.
    transfers: attachments::Transfers,
    stats: Stats,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("nodes", &self.dir.len())
            .field("ops", &self.ops.len())
            .field("in_flight", &self.requests.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `keys` with in-memory persistence. `rng_seed` seeds every random choice
    /// (ephemeral keys, nonces, path hops): give it 32 bytes from the OS generator, or a fixed
    /// value in tests for reproducible runs. `now_ms` is the local clock.
    ///
    /// ```
    /// use metaless_client::{Bootstrap, Client, Config};
    /// use metaless_identity::{Keypair, Seed};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    /// let mut client = Client::new(keys, Config::testnet(Bootstrap::Seeds(vec!["http://127.0.0.1:9".into()])), [0; 32], 1_000);
    /// // Nothing known yet: the first thing it wants is the node list from the seed.
    /// let t = client.poll_transmit().unwrap();
    /// assert_eq!(t.url(), "http://127.0.0.1:9/json_rpc");
    /// ```
    pub fn new(keys: Keypair, config: Config, rng_seed: [u8; 32], now_ms: u64) -> Self {
        Self::assemble(
            keys,
            config,
            rng_seed,
            now_ms,
            Box::new(MemoryStore::default()),
            Saved::default(),
        )
    }

    /// A client that keeps its state in `store`, resuming whatever it holds: pending sends are
    /// retried, last hashes and seen hashes carry on.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, MemoryStore};
    /// # use metaless_identity::{Keypair, Seed};
    /// use std::sync::{Arc, Mutex};
    /// let store = Arc::new(Mutex::new(MemoryStore::default()));
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// let config = Config::testnet(Bootstrap::Seeds(vec![]));
    /// let mut alice = Client::with_persistence(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     config.clone(), [0; 32], 1_700_000_000_000, Box::new(store.clone())).unwrap();
    /// alice.send(1_700_000_000_000, &bob, &metaless_envelope::Content::text("hi")).unwrap();
    /// drop(alice);
    /// // A restart picks the unacknowledged message up again.
    /// let again = Client::with_persistence(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     config, [1; 32], 1_700_000_001_000, Box::new(store)).unwrap();
    /// assert_eq!(again.pending_sends(), 1);
    /// ```
    pub fn with_persistence(
        keys: Keypair,
        config: Config,
        rng_seed: [u8; 32],
        now_ms: u64,
        store: Box<dyn Persistence>,
    ) -> Result<Self, ClientError> {
        let perr = |e: crate::PersistError| ClientError::Persistence(e.0);
        let saved = Saved {
            pending: store.pending().map_err(perr)?,
            last_hashes: store.last_hashes().map_err(perr)?,
            seen: store.seen().map_err(perr)?,
        };
        let mut client = Self::assemble(keys, config, rng_seed, now_ms, store, saved);
        client.restore_contacts()?;
        Ok(client)
    }

    fn assemble(
        keys: Keypair,
        mut config: Config,
        rng_seed: [u8; 32],
        now_ms: u64,
        store: Box<dyn Persistence>,
        saved: Saved,
    ) -> Self {
        config.hops = config.hops.clamp(1, limits::MAX_HOPS);
        let mut dir = Directory::default();
        if let Bootstrap::Nodes(nodes) = &config.bootstrap {
            dir.add_nodes(nodes.clone());
        }
        // Without a node list the first fetch is due at once.
        let refresh_due = if dir.len() > 0 {
            now_ms.saturating_add(config.node_refresh_ms)
        } else {
            now_ms
        };
        let mut ops = Ops::default();
        for pending in saved.pending {
            ops.resume(pending, now_ms);
        }
        let mut client = Self {
            me: UserPubkey::new(0x05, keys.x25519_public()),
            keys,
            rng: ChaCha20Rng::from_seed(rng_seed),
            dir,
            clock: ClockEstimate::default(),
            ops,
            requests: Requests::default(),
            events: VecDeque::new(),
            inbox: Inbox::new(
                saved.last_hashes,
                saved.seen,
                config.poll_interval_ms.map(|_| now_ms),
                now_ms,
            ),
            fetch: NodeFetch::new(refresh_due),
            subs: Subscriptions::default(),
            conv: Conversations::default(),
            transfers: attachments::Transfers::default(),
            stats: Stats::default(),
            store,
            config,
        };
        client.drive(now_ms);
        client
    }

    /// This account's Session ID.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
    /// let id = keys.session_id();
    /// let client = Client::new(keys, Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 0);
    /// assert_eq!(client.session_id(), id);
    /// ```
    pub fn session_id(&self) -> SessionId {
        self.keys.session_id()
    }

    /// Seals `content` for `to` now and queues it for storing in `to`'s swarm (namespace 0,
    /// TTL from the content's disappearing setting). The message is recorded in the
    /// persistence hook before the id is returned, and retried until it is stored or its TTL
    /// runs out: [`Event::Delivered`] or [`Event::Failed`] follows.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_envelope::Content;
    /// let mut alice = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_700_000_000_000);
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// let id = alice.send(1_700_000_000_000, &bob, &Content::text("hi")).unwrap();
    /// assert_eq!(alice.pending_sends(), 1);
    /// # let _ = id;
    /// ```
    pub fn send(
        &mut self,
        now_ms: u64,
        to: &SessionId,
        content: &Content,
    ) -> Result<OpId, ClientError> {
        self.send_with_ttl(now_ms, to, content, storage_ttl_ms(content))
    }

    /// [`send`](Self::send) with the message kept in the swarm for `ttl_ms` (clamped to what
    /// namespace 0 allows: 14 days at most) instead of the TTL its content implies.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_envelope::Content;
    /// let mut alice = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])), [0; 32], 1_700_000_000_000);
    /// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// alice.send_with_ttl(1_700_000_000_000, &bob, &Content::text("soon gone"), 60_000).unwrap();
    /// assert_eq!(alice.pending_sends(), 1);
    /// ```
    pub fn send_with_ttl(
        &mut self,
        now_ms: u64,
        to: &SessionId,
        content: &Content,
        ttl_ms: u64,
    ) -> Result<OpId, ClientError> {
        self.send_inner(now_ms, to, content, ttl_ms, true)
    }

    /// A send, recorded in the persistence hook only when `persist` (typing indicators are
    /// not: they mean nothing after a restart).
    fn send_inner(
        &mut self,
        now_ms: u64,
        to: &SessionId,
        content: &Content,
        ttl_ms: u64,
        persist: bool,
    ) -> Result<OpId, ClientError> {
        if to.prefix() != SessionIdPrefix::Standard {
            return Err(ClientError::InvalidRecipient);
        }
        if self.ops.len() >= limits::MAX_PENDING_OPS {
            return Err(ClientError::Busy {
                max: limits::MAX_PENDING_OPS,
            });
        }
        let sent_at = self.clock.now(now_ms);
        let data = seal_message(&self.keys, to, content, sent_at, &mut self.rng)
            .map_err(|_| ClientError::Seal)?;
        let max = metaless_swarm::limits::MAX_MESSAGE_BODY;
        if data.len() > max {
            return Err(ClientError::TooLarge {
                len: data.len(),
                max,
            });
        }
        let ttl = ttl::clamp(Namespace::Default, ttl_ms);
        let id = self.ops.new_id();
        let pending = PendingSend {
            id,
            to: *to,
            data,
            expiry_ms: sent_at.saturating_add(ttl),
        };
        if persist {
            self.store
                .save_pending(&pending)
                .map_err(|e| ClientError::Persistence(e.0))?;
        }
        if self.conv.on_send(to, content) {
            self.persist_contact(to);
        }
        self.ops.insert_app(id, OpKind::Send(pending), now_ms);
        self.drive(now_ms);
        Ok(id)
    }

    /// Asks `to` to delete the message this account sent them at `sent_at_ms` (an unsend
    /// request: a message of its own, so [`Event::Delivered`] follows as for `send`).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// let id = client.unsend(1_000, &bob, 999).unwrap();
    /// assert_eq!(client.pending_sends(), 1);
    /// # let _ = id;
    /// ```
    pub fn unsend(
        &mut self,
        now_ms: u64,
        to: &SessionId,
        sent_at_ms: u64,
    ) -> Result<OpId, ClientError> {
        let content = Content::new(Message::Unsend {
            timestamp_ms: sent_at_ms,
            author: self.session_id(),
        });
        self.send(now_ms, to, &content)
    }

    /// Marks a received message read. For a disappear-after-read message this shortens its
    /// expiry in the own swarm to now + its timer (an `expire` request); [`Event::Done`] follows
    /// for the returned id. `Ok(None)` when the expiry is already that short.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// // Only messages received with a disappear-after-read timer can be marked read.
    /// let hash: metaless_swarm::MessageHash = "A".repeat(43).parse().unwrap();
    /// assert!(client.mark_read(1_000, &hash).is_err());
    /// ```
    pub fn mark_read(
        &mut self,
        now_ms: u64,
        hash: &MessageHash,
    ) -> Result<Option<OpId>, ClientError> {
        let network_now = self.clock.now(now_ms);
        let Some((hash, expiry_ms)) = self.inbox.mark_read(hash, network_now)? else {
            return Ok(None);
        };
        let id = self.queue(
            OpKind::Expire {
                hashes: vec![hash],
                expiry_ms,
            },
            now_ms,
        )?;
        Ok(Some(id))
    }

    /// Deletes messages from the own swarm ([`Event::Done`] follows).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// use metaless_swarm::MessageHash;
    /// let hash: MessageHash = "A".repeat(43).parse().unwrap();
    /// assert!(client.delete(1_000, &[hash]).is_ok());
    /// assert!("not a hash".parse::<MessageHash>().is_err());
    /// ```
    pub fn delete(&mut self, now_ms: u64, hashes: &[MessageHash]) -> Result<OpId, ClientError> {
        let hashes = hashes.to_vec();
        self.queue(OpKind::Delete { hashes }, now_ms)
    }

    /// Polls the own swarm (and every subscription) now instead of at the next interval.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let before = client.pending_ops();
    /// client.poll_now(1_000);
    /// assert!(client.pending_ops() > before);
    /// ```
    pub fn poll_now(&mut self, now_ms: u64) {
        if !self.ops.any(|kind| matches!(kind, OpKind::Retrieve)) {
            self.inbox.poll_due = Some(now_ms);
        }
        self.poll_subs_now(now_ms);
        self.drive(now_ms);
    }

    /// The next request to send, if any.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// // No node is known and no seed is configured: nothing to send.
    /// assert!(client.poll_transmit().is_none());
    /// ```
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.requests.pop_transmit()?;
        self.transfer_on_transmit(&t);
        Some(t)
    }

    /// The next event, if any.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.poll_event(), Some(Event::NoNodes));
    /// ```
    pub fn poll_event(&mut self) -> Option<Event> {
        self.transfer_before_event()
            .or_else(|| self.events.pop_front())
    }

    /// When [`handle_timeout`](Self::handle_timeout) next wants calling (local ms), if ever.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// client.poll_now(1_000);
    /// assert!(client.poll_timeout().is_some_and(|t| t > 1_000));
    /// ```
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut next = self.requests.next_deadline();
        let mut at = |t: u64| next = Some(next.map_or(t, |n| n.min(t)));
        if self.requests.len() < self.config.max_in_flight
            && let Some(t) = self.ops.next_ready()
        {
            at(t);
        }
        if let Some(t) = self.inbox.poll_due {
            at(t);
        }
        if let Some(t) = self.subs.next_due() {
            at(t);
        }
        at(self.fetch.refresh_due);
        next
    }

    /// Time has reached `now_ms`: requests past their deadline fail, due retries and polls
    /// start.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// client.handle_timeout(2_000);
    /// assert_eq!(client.in_flight(), 0);
    /// ```
    pub fn handle_timeout(&mut self, now_ms: u64) {
        for id in self.requests.expired(now_ms) {
            self.on_response(now_ms, id, Err(TransportError::Timeout));
        }
        self.drive(now_ms);
    }

    /// The transport's answer to the [`Transmit`] with this id (late answers to requests that
    /// already timed out are ignored).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// // An answer to a request the client does not know is ignored.
    /// client.handle_response(1_000, RequestId::from(99), Err(TransportError::Timeout));
    /// assert_eq!(client.in_flight(), 0);
    /// ```
    pub fn handle_response(
        &mut self,
        now_ms: u64,
        id: RequestId,
        result: Result<HttpResponse, TransportError>,
    ) {
        self.on_response(now_ms, id, result);
        self.drive(now_ms);
    }

    /// Sends not yet acknowledged by a swarm member.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// client.send(1_000, &bob, &metaless_envelope::Content::text("hi")).unwrap();
    /// assert_eq!(client.pending_sends(), 1);
    /// ```
    pub fn pending_sends(&self) -> usize {
        self.ops.count(|kind| matches!(kind, OpKind::Send(_)))
    }

    /// Operations not yet finished (sends, polls, expiries, deletes, node fetches).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.pending_ops(), 0);
    /// ```
    pub fn pending_ops(&self) -> usize {
        self.ops.len()
    }

    /// The current onion paths, guard first.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert!(client.paths().is_empty());
    /// ```
    pub fn paths(&self) -> Vec<Vec<NodeId>> {
        self.dir
            .paths()
            .iter()
            .map(|p| p.hops.iter().copied().map(NodeId::from).collect())
            .collect()
    }

    /// The guard node every path starts with (while it works).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.guard(), None);
    /// ```
    pub fn guard(&self) -> Option<NodeId> {
        self.dir.guards().first().copied().map(NodeId::from)
    }

    /// Network time minus local time, as learned from node replies.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.clock_offset_ms(), 0);
    /// ```
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock.offset()
    }

    /// Network time at local time `now_ms`.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.network_now(5_000), 5_000);
    /// ```
    pub fn network_now(&self, now_ms: u64) -> u64 {
        self.clock.now(now_ms)
    }

    /// Service nodes known.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.known_nodes(), 0);
    /// ```
    pub fn known_nodes(&self) -> usize {
        self.dir.len()
    }

    /// Counters.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.stats().requests, 0);
    /// ```
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Requests handed out and not yet answered.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// assert_eq!(client.in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.requests.len()
    }

    /// One turn: start a node fetch or a poll that is due, prune old hashes, then attempt the
    /// operations that are ready while request slots are free.
    fn drive(&mut self, now: u64) {
        self.fetch_if_due(now);
        self.poll_if_due(now);
        self.poll_subs_if_due(now);
        self.prune_if_due(now);
        for key in self.ops.ready(now) {
            if self.requests.len() >= self.config.max_in_flight {
                break;
            }
            self.attempt(key, now);
        }
    }
}
