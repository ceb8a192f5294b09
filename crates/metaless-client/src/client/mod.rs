//! The sans-IO client core: one state machine; time comes in as `now_ms`, randomness from a
//! seeded generator given at construction, and every network exchange leaves as a
//! [`Transmit`] and comes back through [`Client::handle_response`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use metaless_envelope::{
    Content, DisappearMode, Message, Received, open_message, seal_message, storage_ttl_ms,
};
use metaless_identity::{Keypair, SessionId, SessionIdPrefix};
use metaless_onion::{Destination, HopError, PendingResponse, SnodeReply};
use metaless_swarm::rpc::{Delete, Expire, OxendRequest, Request, Retrieve, Signer, Store};
use metaless_swarm::sig::ExpireMode;
use metaless_swarm::{
    MessageHash, Namespace, NetworkClock, NodeList, SwarmResponse, UserPubkey, ttl,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::directory::{Directory, choose};
use crate::persist::{MemoryStore, PendingSend, Persistence};
use crate::transport::{HttpResponse, RequestId, Target, Transmit, TransportError};
use crate::{Bootstrap, ClientError, Config, FailureKind, limits, reply};

/// Endpoint of onion requests on a service node.
pub const ONION_PATH: &str = "/onion_req/v2";
/// Endpoint of direct storage RPC on a service node.
pub const RPC_PATH: &str = "/storage_rpc/v1";
/// Endpoint of a seed node's JSON-RPC.
pub const SEED_PATH: &str = "/json_rpc";

/// Id of an operation the app started (a send, an expiry change, a delete).
///
/// ```
/// assert!(metaless_client::Id(1) < metaless_client::Id(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(pub u64);

/// The nodes a request went through: the path (guard first) and the destination.
///
/// ```
/// let r = metaless_client::Route { path: vec![[1; 32], [2; 32], [3; 32]], destination: [4; 32] };
/// assert_eq!(r.path.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Onion hops, the guard first.
    pub path: Vec<[u8; 32]>,
    /// The swarm member that answered.
    pub destination: [u8; 32],
}

/// A message that arrived: opened, its signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The storage hash (what `mark_read` and `delete` take).
    pub hash: String,
    /// When the swarm will drop it (network time, ms).
    pub expiry_ms: u64,
    /// Sender (verified), content and timestamps.
    pub message: Received,
    /// How it was fetched.
    pub via: Route,
}

/// Something the app should know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A swarm member of the recipient stored the message.
    Delivered {
        /// What `send` returned.
        id: Id,
        /// The storage hash.
        hash: String,
        /// Path and swarm member used.
        via: Route,
    },
    /// A message arrived.
    Received(Box<Incoming>),
    /// An expiry change or delete completed.
    Done {
        /// What `mark_read` / `delete` returned.
        id: Id,
    },
    /// An operation ended without success.
    Failed {
        /// The operation.
        id: Id,
        /// Why, as a stable kind.
        kind: FailureKind,
    },
    /// A node said an account lives in another swarm (421); the client now uses that swarm for
    /// that account only.
    SwarmChanged {
        /// The account the request was for.
        account: UserPubkey,
        /// Its swarm now.
        swarm_id: u64,
    },
    /// A new onion path is in use (the first ones included).
    PathRebuilt {
        /// Its hops, the guard first.
        hops: Vec<[u8; 32]>,
    },
    /// The sender of a message asked to delete it; the client deleted it from the own swarm.
    Unsent {
        /// Hash of the deleted message.
        hash: String,
    },
    /// The node list was fetched or refreshed.
    NodesUpdated {
        /// Usable nodes now known.
        count: usize,
    },
    /// No node list could be fetched from any source; operations wait and the fetch is retried.
    NoNodes,
}

/// Counters, for diagnostics and benchmarks.
///
/// ```
/// assert_eq!(metaless_client::Stats::default().requests, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Requests handed to the transport.
    pub requests: u64,
    /// Requests that failed (no answer, path error, node error).
    pub failures: u64,
    /// Paths built.
    pub paths_built: u64,
    /// Paths dropped after failures.
    pub paths_dropped: u64,
    /// Retrieved entries that did not open for this account.
    pub undecryptable: u64,
    /// Retrieved entries already seen.
    pub duplicates: u64,
    /// Persistence calls that failed (other than accepting a send).
    pub persist_errors: u64,
}

#[derive(Debug)]
enum OpKind {
    Send(PendingSend),
    Retrieve,
    Expire {
        hashes: Vec<MessageHash>,
        expiry_ms: u64,
    },
    Delete {
        hashes: Vec<MessageHash>,
    },
    FetchNodes,
    ClockSync {
        node: [u8; 32],
    },
}

#[derive(Debug)]
struct Op {
    kind: OpKind,
    user: Option<Id>,
    attempts: u32,
    not_before: u64,
    in_flight: bool,
    /// Waiting for the node list (too few nodes for a path).
    stalled: bool,
    /// Waiting for this clock sync to finish.
    waiting: Option<u64>,
    clock_retries: u32,
    tried: Vec<[u8; 32]>,
}

impl Op {
    fn new(kind: OpKind, user: Option<Id>, now: u64) -> Self {
        Self {
            kind,
            user,
            attempts: 0,
            not_before: now,
            in_flight: false,
            stalled: false,
            waiting: None,
            clock_retries: 0,
            tried: Vec::new(),
        }
    }

    fn idle(&self) -> bool {
        !self.in_flight && self.waiting.is_none()
    }
}

struct InFlight {
    op: u64,
    reply: Option<PendingResponse>,
    path: Option<u64>,
    hops: Vec<[u8; 32]>,
    dest: Option<[u8; 32]>,
    started: u64,
    deadline: u64,
}

/// Network clock offset: the median of the last few samples, so one node with a wrong clock
/// does not move it.
#[derive(Debug, Default)]
struct ClockEstimate {
    samples: VecDeque<i64>,
    offset: i64,
}

impl ClockEstimate {
    fn sample(&mut self, network_ms: u64, local_ms: u64) {
        if self.samples.len() >= limits::CLOCK_SAMPLES {
            self.samples.pop_front();
        }
        self.samples
            .push_back(NetworkClock::from_observation(network_ms, local_ms).offset_ms());
        let mut sorted: Vec<i64> = self.samples.iter().copied().collect();
        sorted.sort_unstable();
        self.offset = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    }

    fn now(&self, local_ms: u64) -> u64 {
        NetworkClock::with_offset(self.offset).now_ms(local_ms)
    }
}

/// What a persistence hook held at start-up.
#[derive(Default)]
struct Saved {
    pending: Vec<PendingSend>,
    last_hashes: Vec<([u8; 32], String)>,
    seen: Vec<(String, u64)>,
}

/// Failure of one exchange, by where it happened.
enum Fault {
    /// No HTTP answer from the first hop (or the direct target).
    Transport,
    /// A hop on the path answered with an error.
    Hop(HopError),
    /// The reply did not decrypt or parse.
    BadReply,
    /// The destination answered with a server error.
    Destination,
}

/// The client state machine. See the crate docs for the loop that drives it.
pub struct Client {
    keys: Keypair,
    me: UserPubkey,
    config: Config,
    rng: ChaCha20Rng,
    dir: Directory,
    clock: ClockEstimate,
    store: Box<dyn Persistence>,
    next_id: u64,
    next_request: u64,
    ops: BTreeMap<u64, Op>,
    inflight: BTreeMap<RequestId, InFlight>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    last_hash: BTreeMap<[u8; 32], String>,
    seen: BTreeMap<String, u64>,
    read_timers: BTreeMap<String, u64>,
    by_sent_at: BTreeMap<([u8; 32], u64), String>,
    poll_due: Option<u64>,
    refresh_due: u64,
    last_fetch: u64,
    prune_due: u64,
    poll_node: Option<[u8; 32]>,
    seed_cursor: usize,
    stats: Stats,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("nodes", &self.dir.len())
            .field("ops", &self.ops.len())
            .field("in_flight", &self.inflight.len())
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
        Ok(Self::assemble(keys, config, rng_seed, now_ms, store, saved))
    }

    fn assemble(
        keys: Keypair,
        config: Config,
        rng_seed: [u8; 32],
        now_ms: u64,
        store: Box<dyn Persistence>,
        saved: Saved,
    ) -> Self {
        let me = UserPubkey::new(0x05, keys.x25519_public());
        let mut client = Self {
            keys,
            me,
            rng: ChaCha20Rng::from_seed(rng_seed),
            dir: Directory::default(),
            clock: ClockEstimate::default(),
            next_id: 1,
            next_request: 1,
            ops: BTreeMap::new(),
            inflight: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            last_hash: saved.last_hashes.into_iter().collect(),
            seen: saved.seen.into_iter().collect(),
            read_timers: BTreeMap::new(),
            by_sent_at: BTreeMap::new(),
            poll_due: config.poll_interval_ms.map(|_| now_ms),
            // Without a node list the first fetch is due at once (see `assemble` below).
            refresh_due: now_ms,
            last_fetch: 0,
            prune_due: now_ms,
            poll_node: None,
            seed_cursor: 0,
            stats: Stats::default(),
            store,
            config,
        };
        client.config.hops = client.config.hops.clamp(1, limits::MAX_HOPS);
        if let Bootstrap::Nodes(nodes) = &client.config.bootstrap {
            client.dir.add_nodes(nodes.clone());
        }
        if client.dir.len() > 0 {
            client.refresh_due = now_ms.saturating_add(client.config.node_refresh_ms);
        }
        for pending in saved.pending {
            client.next_id = client.next_id.max(pending.id.0.saturating_add(1));
            let user = Some(pending.id);
            client
                .ops
                .insert(pending.id.0, Op::new(OpKind::Send(pending), user, now_ms));
        }
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
    ) -> Result<Id, ClientError> {
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
        let ttl = ttl::clamp(Namespace::Default, storage_ttl_ms(content));
        let id = self.new_id();
        let pending = PendingSend {
            id,
            to: *to,
            data,
            expiry_ms: sent_at.saturating_add(ttl),
        };
        self.store
            .save_pending(&pending)
            .map_err(|e| ClientError::Persistence(e.0))?;
        self.ops
            .insert(id.0, Op::new(OpKind::Send(pending), Some(id), now_ms));
        self.drive(now_ms);
        Ok(id)
    }

    /// Asks `to` to delete the message this account sent them at `sent_at_ms` (an unsend
    /// request: a message of its own, so [`Event::Delivered`] follows as for `send`).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
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
    ) -> Result<Id, ClientError> {
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
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// // Only messages received with a disappear-after-read timer can be marked read.
    /// assert!(client.mark_read(1_000, &"A".repeat(43)).is_err());
    /// ```
    pub fn mark_read(&mut self, now_ms: u64, hash: &str) -> Result<Option<Id>, ClientError> {
        let timer = *self
            .read_timers
            .get(hash)
            .ok_or(ClientError::UnknownMessage)?;
        let current = self.seen.get(hash).copied().unwrap_or(u64::MAX);
        let parsed = MessageHash::parse(hash).map_err(|_| ClientError::UnknownMessage)?;
        self.read_timers.remove(hash);
        let Some(expiry_ms) = ttl::after_read_expiry(self.clock.now(now_ms), timer, current) else {
            return Ok(None);
        };
        self.seen.insert(hash.to_owned(), expiry_ms);
        let id = self.queue(
            OpKind::Expire {
                hashes: vec![parsed],
                expiry_ms,
            },
            now_ms,
        )?;
        Ok(Some(id))
    }

    /// Deletes messages from the own swarm ([`Event::Done`] follows).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// let hash = "A".repeat(43);
    /// assert!(client.delete(1_000, &[hash.as_str()]).is_ok());
    /// assert!(client.delete(1_000, &["not a hash"]).is_err());
    /// ```
    pub fn delete(&mut self, now_ms: u64, hashes: &[&str]) -> Result<Id, ClientError> {
        let hashes = hashes
            .iter()
            .map(|h| MessageHash::parse(h).map_err(|_| ClientError::UnknownMessage))
            .collect::<Result<Vec<_>, _>>()?;
        self.queue(OpKind::Delete { hashes }, now_ms)
    }

    /// Polls the own swarm now instead of at the next interval.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// let before = client.pending_ops();
    /// client.poll_now(1_000);
    /// assert!(client.pending_ops() > before);
    /// ```
    pub fn poll_now(&mut self, now_ms: u64) {
        if !self
            .ops
            .values()
            .any(|op| matches!(op.kind, OpKind::Retrieve))
        {
            self.poll_due = Some(now_ms);
        }
        self.drive(now_ms);
    }

    /// The next request to send, if any.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// // No node is known and no seed is configured: nothing to send.
    /// assert!(client.poll_transmit().is_none());
    /// ```
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event, if any.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.poll_event(), Some(Event::NoNodes));
    /// ```
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) next wants calling (local ms), if ever.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// client.poll_now(1_000);
    /// assert!(client.poll_timeout().is_some_and(|t| t > 1_000));
    /// ```
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut next = self.inflight.values().map(|f| f.deadline).min();
        let mut at = |t: u64| next = Some(next.map_or(t, |n| n.min(t)));
        if self.inflight.len() < self.config.max_in_flight
            && let Some(t) = self
                .ops
                .values()
                .filter(|op| op.idle())
                .map(|op| op.not_before)
                .min()
        {
            at(t);
        }
        if let Some(t) = self.poll_due {
            at(t);
        }
        at(self.refresh_due);
        next
    }

    /// Time has reached `now_ms`: requests past their deadline fail, due retries and polls
    /// start.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// client.handle_timeout(2_000);
    /// assert_eq!(client.in_flight(), 0);
    /// ```
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let expired: Vec<RequestId> = self
            .inflight
            .iter()
            .filter(|(_, f)| f.deadline <= now_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.on_response(now_ms, id, Err(TransportError::Timeout));
        }
        self.drive(now_ms);
    }

    /// The transport's answer to the [`Transmit`] with this id (late answers to requests that
    /// already timed out are ignored).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// // An answer to a request the client does not know is ignored.
    /// client.handle_response(1_000, RequestId(99), Err(TransportError::Timeout));
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
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// client.send(1_000, &bob, &metaless_envelope::Content::text("hi")).unwrap();
    /// assert_eq!(client.pending_sends(), 1);
    /// ```
    pub fn pending_sends(&self) -> usize {
        self.ops
            .values()
            .filter(|op| matches!(op.kind, OpKind::Send(_)))
            .count()
    }

    /// Operations not yet finished (sends, polls, expiries, deletes, node fetches).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.pending_ops(), 0);
    /// ```
    pub fn pending_ops(&self) -> usize {
        self.ops.len()
    }

    /// The current onion paths, guard first.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert!(client.paths().is_empty());
    /// ```
    pub fn paths(&self) -> Vec<Vec<[u8; 32]>> {
        self.dir.paths().iter().map(|p| p.hops.clone()).collect()
    }

    /// The guard node every path starts with (while it works).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.guard(), None);
    /// ```
    pub fn guard(&self) -> Option<[u8; 32]> {
        self.dir.guards().first().copied()
    }

    /// Network time minus local time, as learned from node replies.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.clock_offset_ms(), 0);
    /// ```
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock.offset
    }

    /// Network time at local time `now_ms`.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.network_now(5_000), 5_000);
    /// ```
    pub fn network_now(&self, now_ms: u64) -> u64 {
        self.clock.now(now_ms)
    }

    /// Service nodes known.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.known_nodes(), 0);
    /// ```
    pub fn known_nodes(&self) -> usize {
        self.dir.len()
    }

    /// Counters.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.stats().requests, 0);
    /// ```
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Requests handed out and not yet answered.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, RequestId, TransportError};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    /// #     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
    /// # let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
    /// assert_eq!(client.in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    // ----- internals -----

    fn new_id(&mut self) -> Id {
        let id = Id(self.next_id);
        self.next_id += 1;
        id
    }

    fn queue(&mut self, kind: OpKind, now: u64) -> Result<Id, ClientError> {
        if self.ops.len() >= limits::MAX_PENDING_OPS {
            return Err(ClientError::Busy {
                max: limits::MAX_PENDING_OPS,
            });
        }
        let id = self.new_id();
        self.ops.insert(id.0, Op::new(kind, Some(id), now));
        self.drive(now);
        Ok(id)
    }

    fn internal(&mut self, kind: OpKind, now: u64) -> u64 {
        let key = self.new_id().0;
        self.ops.insert(key, Op::new(kind, None, now));
        key
    }

    fn drive(&mut self, now: u64) {
        if now >= self.refresh_due
            && !self
                .ops
                .values()
                .any(|op| matches!(op.kind, OpKind::FetchNodes))
        {
            self.refresh_due = now.saturating_add(self.config.node_refresh_ms);
            self.last_fetch = now;
            self.internal(OpKind::FetchNodes, now);
        }
        if let Some(due) = self.poll_due
            && now >= due
        {
            self.poll_due = None;
            self.internal(OpKind::Retrieve, now);
        }
        if now >= self.prune_due {
            self.prune(now);
        }
        let ready: Vec<u64> = self
            .ops
            .iter()
            .filter(|(_, op)| op.idle() && op.not_before <= now)
            .map(|(k, _)| *k)
            .collect();
        for key in ready {
            if self.inflight.len() >= self.config.max_in_flight {
                break;
            }
            self.attempt(key, now);
        }
    }

    fn prune(&mut self, now: u64) {
        self.prune_due = now.saturating_add(60_000);
        // Keep a margin: a node may still list a message shortly after it expired.
        let cutoff = self.clock.now(now).saturating_sub(120_000);
        self.seen.retain(|_, exp| *exp >= cutoff);
        if self.seen.len() > limits::MAX_SEEN_HASHES {
            let mut by_expiry: Vec<(u64, String)> =
                self.seen.iter().map(|(h, e)| (*e, h.clone())).collect();
            by_expiry.sort_unstable();
            let excess = self.seen.len() - limits::MAX_SEEN_HASHES;
            for (_, h) in by_expiry.into_iter().take(excess) {
                self.seen.remove(&h);
            }
        }
        let seen = &self.seen;
        self.read_timers.retain(|h, _| seen.contains_key(h));
        self.by_sent_at.retain(|_, h| seen.contains_key(h));
        if self.store.prune_seen(cutoff).is_err() {
            self.stats.persist_errors += 1;
        }
    }

    fn op_account(&self, kind: &OpKind) -> Option<UserPubkey> {
        match kind {
            OpKind::Send(p) => Some(UserPubkey::new(0x05, *p.to.key())),
            OpKind::Retrieve | OpKind::Expire { .. } | OpKind::Delete { .. } => Some(self.me),
            OpKind::FetchNodes | OpKind::ClockSync { .. } => None,
        }
    }

    fn attempt(&mut self, key: u64, now: u64) {
        let Some(op) = self.ops.get_mut(&key) else {
            return;
        };
        op.stalled = false;
        let network_now = self.clock.now(now);
        // The request body and the destination, per kind.
        let (payload, account) = match &op.kind {
            OpKind::FetchNodes => return self.attempt_fetch(key, now),
            OpKind::ClockSync { node } => {
                let node = *node;
                let avoid = BTreeSet::from([node]);
                if self
                    .send_onion(key, node, &avoid, &Request::Info.to_body(), now)
                    .is_err()
                {
                    self.finish(key, now, None);
                }
                return;
            }
            OpKind::Send(p) => {
                let account = UserPubkey::new(0x05, *p.to.key());
                // A clock corrected since sealing may leave more than the namespace allows.
                let left = p.expiry_ms.saturating_sub(network_now);
                let remaining = ttl::clamp(Namespace::Default, left).min(left);
                match Store::deposit(
                    account,
                    Namespace::Default,
                    p.data.clone(),
                    network_now,
                    remaining,
                ) {
                    Ok(store) => (Request::Store(store).to_body(), account),
                    Err(_) => return self.finish(key, now, Some(FailureKind::Expired)),
                }
            }
            OpKind::Retrieve => {
                // Keep polling the same member (fewer repeats); its last hash goes with it.
                let signer = Signer::session(&self.keys);
                let dest = self.poll_node;
                let last = dest
                    .and_then(|d| self.last_hash.get(&d))
                    .and_then(|h| MessageHash::parse(h).ok());
                (
                    Request::Retrieve(Retrieve::signed(
                        &signer,
                        Namespace::Default,
                        last,
                        network_now,
                    ))
                    .to_body(),
                    self.me,
                )
            }
            OpKind::Expire { hashes, expiry_ms } => {
                let signer = Signer::session(&self.keys);
                match Expire::signed(
                    &signer,
                    hashes.clone(),
                    vec![*expiry_ms],
                    ExpireMode::Shorten,
                ) {
                    Ok(e) => (Request::Expire(e).to_body(), self.me),
                    Err(_) => {
                        return self.finish(key, now, Some(FailureKind::Rejected { status: 400 }));
                    }
                }
            }
            OpKind::Delete { hashes } => {
                let signer = Signer::session(&self.keys);
                match Delete::signed(&signer, hashes.clone(), false) {
                    Ok(d) => (Request::Delete(d).to_body(), self.me),
                    Err(_) => {
                        return self.finish(key, now, Some(FailureKind::Rejected { status: 400 }));
                    }
                }
            }
        };
        let tried = op.tried.clone();
        let is_retrieve = matches!(op.kind, OpKind::Retrieve);
        let Some((members, dest)) = self.pick_member(&account, &tried, now) else {
            return self.stall(key, now);
        };
        // The retrieve was signed for `poll_node`'s last hash; if another member was picked,
        // rebuild it without one.
        let payload = if is_retrieve && Some(dest) != self.poll_node {
            self.poll_node = Some(dest);
            let signer = Signer::session(&self.keys);
            let last = self
                .last_hash
                .get(&dest)
                .and_then(|h| MessageHash::parse(h).ok());
            Request::Retrieve(Retrieve::signed(
                &signer,
                Namespace::Default,
                last,
                network_now,
            ))
            .to_body()
        } else {
            payload
        };
        let avoid: BTreeSet<[u8; 32]> = members.into_iter().chain([dest]).collect();
        if self.send_onion(key, dest, &avoid, &payload, now).is_err() {
            self.stall(key, now);
        }
    }

    /// A swarm member of `account` to talk to (untried ones first), and all members.
    fn pick_member(
        &mut self,
        account: &UserPubkey,
        tried: &[[u8; 32]],
        now: u64,
    ) -> Option<(Vec<[u8; 32]>, [u8; 32])> {
        let (_, members) = self.dir.swarm_of(account)?;
        let mut usable: Vec<[u8; 32]> = members
            .iter()
            .filter(|m| self.dir.usable(m, now))
            .copied()
            .collect();
        if usable.is_empty() {
            // Every member is blacklisted: better to try one again than to give up.
            usable = members
                .iter()
                .filter(|m| self.dir.get(m).is_some())
                .copied()
                .collect();
        }
        let fresh: Vec<[u8; 32]> = usable
            .iter()
            .filter(|m| !tried.contains(m))
            .copied()
            .collect();
        let pool = if fresh.is_empty() { &usable } else { &fresh };
        let prefer = if *account == self.me {
            self.poll_node.filter(|p| pool.contains(p))
        } else {
            None
        };
        let dest = match prefer {
            Some(p) => p,
            None => *choose(pool, &mut self.rng)?,
        };
        Some((members, dest))
    }

    /// No path or swarm can be formed now: wait for the node list (fetching it) and retry.
    fn stall(&mut self, key: u64, now: u64) {
        if let Some(op) = self.ops.get_mut(&key) {
            op.stalled = true;
            op.not_before = now.saturating_add(self.config.retry_max_ms);
        }
        // Fetch the node list again, at most once per `retry_max_ms`.
        let soonest = self
            .last_fetch
            .saturating_add(self.config.retry_max_ms)
            .max(now);
        self.refresh_due = self.refresh_due.min(soonest);
    }

    fn base_url(&self, node: &metaless_swarm::ServiceNode) -> String {
        let scheme = if self.config.https { "https" } else { "http" };
        format!("{scheme}://{}:{}", node.ip_string(), node.storage_port)
    }

    /// Builds an onion request to `dest` through a path avoiding `avoid` and queues it.
    fn send_onion(
        &mut self,
        key: u64,
        dest: [u8; 32],
        avoid: &BTreeSet<[u8; 32]>,
        payload: &[u8],
        now: u64,
    ) -> Result<(), ()> {
        let (hops, paths) = (self.config.hops, self.config.paths);
        let found = match self.dir.path_for(avoid, hops, paths, now, &mut self.rng) {
            Some(found) => Some(found),
            // A small network may not have enough nodes outside the destination's swarm.
            None => self
                .dir
                .path_for(&BTreeSet::from([dest]), hops, paths, now, &mut self.rng),
        };
        let (pid, fresh) = found.ok_or(())?;
        let path = self.dir.path(pid).ok_or(())?.hops.clone();
        if fresh {
            self.stats.paths_built += 1;
            self.events
                .push_back(Event::PathRebuilt { hops: path.clone() });
        }
        let hops: Vec<metaless_onion::Hop> = path
            .iter()
            .filter_map(|k| self.dir.get(k).map(|e| e.hop.clone()))
            .collect();
        let dest_hop = self.dir.get(&dest).ok_or(())?.hop.clone();
        let built = metaless_onion::build(
            &hops,
            &Destination::ServiceNode(dest_hop),
            payload,
            self.config.enc,
            &mut self.rng,
        )
        .map_err(|_| ())?;
        let guard = self.dir.get(&built.first_hop).ok_or(())?;
        let target = Target {
            node: Some(built.first_hop),
            base_url: self.base_url(&guard.node),
            path: ONION_PATH,
        };
        self.push(
            key,
            target,
            built.body,
            Some(built.pending),
            Some(pid),
            path,
            Some(dest),
            now,
        );
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        key: u64,
        to_node: Target,
        body: Vec<u8>,
        reply: Option<PendingResponse>,
        path: Option<u64>,
        hops: Vec<[u8; 32]>,
        dest: Option<[u8; 32]>,
        now: u64,
    ) {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        let deadline = now.saturating_add(self.config.request_timeout_ms);
        if let Some(op) = self.ops.get_mut(&key) {
            op.in_flight = true;
        }
        self.inflight.insert(
            id,
            InFlight {
                op: key,
                reply,
                path,
                hops,
                dest,
                started: now,
                deadline,
            },
        );
        self.stats.requests += 1;
        self.transmits.push_back(Transmit {
            id,
            to_node,
            body,
            deadline_ms: deadline,
        });
    }

    fn attempt_fetch(&mut self, key: u64, now: u64) {
        let usable = self.dir.usable_nodes(now);
        if let Some(node) = choose(&usable, &mut self.rng).copied()
            && let Some(entry) = self.dir.get(&node)
        {
            // The node list is public: ask a known node directly.
            let target = Target {
                node: Some(node),
                base_url: self.base_url(&entry.node),
                path: RPC_PATH,
            };
            let body = Request::OxendRequest(OxendRequest::get_service_nodes()).to_body();
            self.push(key, target, body, None, None, Vec::new(), Some(node), now);
            return;
        }
        match &self.config.bootstrap {
            Bootstrap::Nodes(nodes) if !nodes.is_empty() => {
                let nodes = nodes.clone();
                self.dir.add_nodes(nodes);
                self.nodes_updated(now);
                self.finish(key, now, None);
            }
            Bootstrap::Seeds(seeds) if !seeds.is_empty() => {
                let base = seeds
                    .get(self.seed_cursor % seeds.len())
                    .cloned()
                    .unwrap_or_default();
                self.seed_cursor = self.seed_cursor.wrapping_add(1);
                let fields = OxendRequest::get_service_nodes().params.unwrap_or_default();
                let body = serde_json::json!({"jsonrpc": "2.0", "id": "0", "method": "get_n_service_nodes", "params": fields});
                let target = Target {
                    node: None,
                    base_url: base.trim_end_matches('/').to_owned(),
                    path: SEED_PATH,
                };
                self.push(
                    key,
                    target,
                    body.to_string().into_bytes(),
                    None,
                    None,
                    Vec::new(),
                    None,
                    now,
                );
            }
            _ => self.finish(key, now, Some(FailureKind::NoNodes)),
        }
    }

    fn nodes_updated(&mut self, now: u64) {
        self.events.push_back(Event::NodesUpdated {
            count: self.dir.usable_count(now),
        });
        for op in self.ops.values_mut() {
            if op.stalled {
                op.stalled = false;
                op.not_before = now;
            }
        }
    }

    /// Ends an operation: removes it, reports failure or completion as its kind requires.
    fn finish(&mut self, key: u64, now: u64, failure: Option<FailureKind>) {
        let Some(op) = self.ops.remove(&key) else {
            return;
        };
        match &op.kind {
            OpKind::Send(p) => {
                let failed = self.store.remove_pending(p.id).is_err();
                self.stats.persist_errors += u64::from(failed);
            }
            OpKind::Retrieve => self.schedule_poll(now, false),
            OpKind::FetchNodes if failure.is_some() => {
                if self.dir.len() == 0 {
                    self.events.push_back(Event::NoNodes);
                }
                // Try again later rather than never.
                self.refresh_due = now.saturating_add(self.config.retry_max_ms);
            }
            OpKind::ClockSync { .. } => {
                for other in self.ops.values_mut() {
                    if other.waiting == Some(key) {
                        other.waiting = None;
                        other.not_before = now;
                    }
                }
            }
            _ => {}
        }
        if let (Some(kind), Some(id)) = (failure, op.user) {
            self.events.push_back(Event::Failed { id, kind });
        }
    }

    fn schedule_poll(&mut self, now: u64, more: bool) {
        self.poll_due = if more {
            Some(now)
        } else {
            self.config.poll_interval_ms.map(|i| now.saturating_add(i))
        };
    }

    /// A failed exchange: blame the right nodes, then retry the operation after a delay.
    fn fail(&mut self, now: u64, fl: &InFlight, fault: Fault) {
        self.stats.failures += 1;
        let cfg = (
            self.config.node_strikes,
            self.config.path_strikes,
            self.config.blacklist_ms,
        );
        let (node_limit, path_limit, ban) = cfg;
        let mut dropped = Vec::new();
        match fault {
            Fault::Transport => match (fl.path, fl.hops.first()) {
                (Some(pid), Some(guard)) => {
                    dropped.extend(self.dir.strike(guard, now, node_limit, ban));
                    dropped.extend(self.dir.strike_path(pid, now, path_limit, node_limit, ban));
                }
                _ => {
                    if let Some(node) = fl.dest {
                        dropped.extend(self.dir.strike(&node, now, node_limit, ban));
                    }
                }
            },
            Fault::Hop(err) => {
                let named = match err {
                    HopError::NextNodeNotFound(k)
                    | HopError::NextNodeUnreachable(k)
                    | HopError::SnodeNotReady(Some(k)) => Some(k),
                    _ => None,
                };
                match named {
                    // The destination is down: another swarm member will do, the path is fine.
                    Some(k) if Some(k) == fl.dest => dropped.extend(self.dir.ban(&k, now, ban)),
                    Some(k) => dropped.extend(self.dir.ban(&k, now, ban)),
                    None => {
                        if let Some(pid) = fl.path {
                            dropped.extend(
                                self.dir.strike_path(pid, now, path_limit, node_limit, ban),
                            );
                        }
                        // Unnamed failures (time-outs) may be the destination's fault too.
                        if let Some(d) = fl.dest {
                            dropped.extend(self.dir.strike(&d, now, node_limit, ban));
                        }
                    }
                }
            }
            Fault::BadReply => {
                if let Some(pid) = fl.path {
                    dropped.extend(self.dir.strike_path(pid, now, path_limit, node_limit, ban));
                }
            }
            Fault::Destination => {
                if let Some(d) = fl.dest {
                    dropped.extend(self.dir.strike(&d, now, node_limit, ban));
                }
            }
        }
        self.stats.paths_dropped += dropped.len() as u64;
        if let Some(d) = fl.dest
            && let Some(op) = self.ops.get_mut(&fl.op)
            && !op.tried.contains(&d)
        {
            op.tried.push(d);
        }
        if matches!(
            self.ops.get(&fl.op).map(|o| &o.kind),
            Some(OpKind::Retrieve)
        ) && fl.dest == self.poll_node
        {
            self.poll_node = None;
        }
        self.retry(fl.op, now, true);
    }

    fn retry(&mut self, key: u64, now: u64, backoff: bool) {
        let (base, max, limit) = (
            self.config.retry_base_ms,
            self.config.retry_max_ms,
            self.config.max_attempts,
        );
        let Some(op) = self.ops.get_mut(&key) else {
            return;
        };
        op.attempts = op.attempts.saturating_add(1);
        let unlimited = matches!(op.kind, OpKind::Send(_));
        if !unlimited && op.attempts >= limit {
            return self.finish(key, now, Some(FailureKind::Unreachable));
        }
        let shift = op.attempts.saturating_sub(1).min(20);
        let wait = if backoff {
            base.saturating_mul(1u64 << shift).min(max)
        } else {
            0
        };
        op.not_before = now.saturating_add(wait);
    }

    fn on_response(
        &mut self,
        now: u64,
        id: RequestId,
        result: Result<HttpResponse, TransportError>,
    ) {
        let Some(fl) = self.inflight.remove(&id) else {
            return;
        };
        let Some(op) = self.ops.get_mut(&fl.op) else {
            return;
        };
        op.in_flight = false;
        let resp = match result {
            Ok(resp) if resp.body.len() <= limits::MAX_REPLY_SIZE => resp,
            Ok(_) => return self.fail(now, &fl, Fault::BadReply),
            Err(_) => return self.fail(now, &fl, Fault::Transport),
        };
        match &fl.reply {
            Some(pending) => {
                if resp.status != 200 {
                    let text = String::from_utf8_lossy(&resp.body);
                    return self.fail(
                        now,
                        &fl,
                        Fault::Hop(HopError::from_response(resp.status, &text)),
                    );
                }
                match pending
                    .open(&resp.body)
                    .ok()
                    .and_then(|plain| SnodeReply::parse(&plain).ok())
                {
                    Some(reply) => self.on_rpc(now, &fl, reply.status, &reply.body),
                    None => self.fail(now, &fl, Fault::BadReply),
                }
            }
            None => {
                let text = String::from_utf8_lossy(&resp.body).into_owned();
                self.on_rpc(now, &fl, resp.status, &text);
            }
        }
    }

    /// The destination's answer: status and body as the storage RPC gave them.
    fn on_rpc(&mut self, now: u64, fl: &InFlight, status: u16, body: &str) {
        if let Some(pid) = fl.path {
            self.dir.path_ok(pid);
            for hop in &fl.hops {
                self.dir.clear_strikes(hop);
            }
        }
        let obj = reply::parse_object(body);
        if let Some(t) = obj.as_ref().and_then(reply::network_time) {
            // The node's clock was read somewhere between sending and receiving.
            let mid = fl.started + now.saturating_sub(fl.started) / 2;
            self.clock.sample(t, mid);
        }
        match status {
            200 => self.on_success(now, fl, obj.as_ref(), body),
            421 => self.on_misdirected(now, fl, body),
            406 => self.on_clock_error(now, fl),
            400 | 401 | 403 | 404 | 413 => {
                self.finish(fl.op, now, Some(FailureKind::Rejected { status }))
            }
            _ => self.fail(now, fl, Fault::Destination),
        }
    }

    fn on_misdirected(&mut self, now: u64, fl: &InFlight, body: &str) {
        let Some(account) = self
            .ops
            .get(&fl.op)
            .and_then(|op| self.op_account(&op.kind))
        else {
            return self.fail(now, fl, Fault::Destination);
        };
        match SwarmResponse::parse(body.as_bytes()) {
            Ok(swarm) if !swarm.nodes.is_empty() => {
                let swarm_id = swarm
                    .swarm_id
                    .or_else(|| swarm.nodes.first().map(|n| n.swarm_id))
                    .unwrap_or(u64::MAX);
                // Only the account this request was for moves; the body is not trusted to name it.
                self.dir.set_swarm(account, swarm_id, swarm.nodes);
                self.events
                    .push_back(Event::SwarmChanged { account, swarm_id });
                if account == self.me {
                    self.poll_node = None;
                }
                if let Some(op) = self.ops.get_mut(&fl.op) {
                    op.tried.clear();
                }
                self.retry(fl.op, now, false);
            }
            _ => self.fail(now, fl, Fault::Destination),
        }
    }

    fn on_clock_error(&mut self, now: u64, fl: &InFlight) {
        let Some(op) = self.ops.get(&fl.op) else {
            return;
        };
        let (Some(node), false) = (fl.dest, matches!(op.kind, OpKind::ClockSync { .. })) else {
            return self.finish(fl.op, now, Some(FailureKind::Clock));
        };
        if op.clock_retries >= 2 {
            return self.finish(fl.op, now, Some(FailureKind::Clock));
        }
        let existing = self
            .ops
            .iter()
            .find(|(_, o)| matches!(o.kind, OpKind::ClockSync { node: n } if n == node))
            .map(|(k, _)| *k);
        let sync = match existing {
            Some(k) => k,
            None => self.internal(OpKind::ClockSync { node }, now),
        };
        if let Some(op) = self.ops.get_mut(&fl.op) {
            op.clock_retries += 1;
            op.waiting = Some(sync);
            op.not_before = now;
        }
    }

    fn on_success(
        &mut self,
        now: u64,
        fl: &InFlight,
        obj: Option<&serde_json::Map<String, serde_json::Value>>,
        body: &str,
    ) {
        let Some(op) = self.ops.get(&fl.op) else {
            return;
        };
        let via = Route {
            path: fl.hops.clone(),
            destination: fl.dest.unwrap_or_default(),
        };
        match &op.kind {
            OpKind::Send(p) => {
                let hash = obj.and_then(reply::store_hash).unwrap_or_else(|| {
                    MessageHash::compute(
                        &UserPubkey::new(0x05, *p.to.key()),
                        Namespace::Default,
                        &p.data,
                    )
                    .to_string()
                });
                let id = p.id;
                self.events.push_back(Event::Delivered { id, hash, via });
                self.finish(fl.op, now, None);
            }
            OpKind::Retrieve => {
                let Some(got) = obj.and_then(reply::retrieve) else {
                    return self.fail(now, fl, Fault::Destination);
                };
                self.take_messages(now, got.messages, via);
                self.ops.remove(&fl.op);
                self.schedule_poll(now, got.more);
            }
            OpKind::Expire { .. } | OpKind::Delete { .. } => {
                if let Some(id) = op.user {
                    self.events.push_back(Event::Done { id });
                }
                self.finish(fl.op, now, None);
            }
            OpKind::FetchNodes => match NodeList::from_get_service_nodes(body.as_bytes()) {
                Ok(list) if list.nodes.len() > self.config.hops => {
                    let dropped = self.dir.replace_nodes(list.nodes);
                    self.stats.paths_dropped += dropped.len() as u64;
                    self.nodes_updated(now);
                    self.refresh_due = now.saturating_add(self.config.node_refresh_ms);
                    self.finish(fl.op, now, None);
                }
                _ => self.fail(now, fl, Fault::Destination),
            },
            OpKind::ClockSync { .. } => self.finish(fl.op, now, None),
        }
    }

    /// Retrieved messages: remember the last hash, drop repeats, open and verify the rest.
    fn take_messages(&mut self, now: u64, messages: Vec<reply::Retrieved>, via: Route) {
        let Some(last) = messages.last().map(|m| m.hash.clone()) else {
            return;
        };
        let mut fresh = Vec::new();
        for m in messages {
            if self.seen.contains_key(&m.hash) {
                self.stats.duplicates += 1;
                continue;
            }
            self.seen.insert(m.hash.clone(), m.expiry_ms);
            fresh.push((m.hash.clone(), m.expiry_ms));
            let Ok(message) = open_message(&self.keys, &m.data) else {
                self.stats.undecryptable += 1;
                continue;
            };
            if let Some(d) = message.content.disappearing
                && d.mode == DisappearMode::AfterRead
            {
                self.read_timers
                    .insert(m.hash.clone(), u64::from(d.timer_s) * 1000);
            }
            if let Message::Unsend {
                timestamp_ms,
                author,
            } = &message.content.message
            {
                // Only the author may unsend, and only what was received before.
                if *author == message.sender
                    && let Some(target) = self.by_sent_at.remove(&(*author.key(), *timestamp_ms))
                    && let Ok(hash) = MessageHash::parse(&target)
                {
                    self.internal(OpKind::Delete { hashes: vec![hash] }, now);
                    self.events.push_back(Event::Unsent { hash: target });
                }
            } else {
                self.by_sent_at
                    .insert((*message.sender.key(), message.sent_at_ms), m.hash.clone());
            }
            self.events.push_back(Event::Received(Box::new(Incoming {
                hash: m.hash,
                expiry_ms: m.expiry_ms,
                message,
                via: via.clone(),
            })));
        }
        let errors = u64::from(self.store.save_last_hash(&via.destination, &last).is_err())
            + u64::from(!fresh.is_empty() && self.store.save_seen(&fresh).is_err());
        self.stats.persist_errors += errors;
        self.last_hash.insert(via.destination, last);
    }
}
