//! [`Messenger`]: the client in one handle (feature `http`). A builder picks the network, the
//! account and the store; the handle is `Clone + Send + Sync`, sends resolve when the message
//! is delivered, and every event arrives on a [`Stream`](futures_core::Stream).
//!
//! Underneath it is the same [`Client`] and [`Driver`] as everywhere else, run on a thread of
//! the messenger's own (a current-thread tokio runtime), so the handle works from any runtime
//! and any task.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use metaless_client::Messenger;
//! let net = metaless_node_server::local::start(8).await.unwrap();
//! let alice = Messenger::builder().testnet(net.bootstrap_path()).build().await.unwrap();
//! let bob = Messenger::builder().testnet(net.bootstrap_path()).build().await.unwrap();
//! let mut inbox = bob.events();
//! alice.send(&bob.session_id(), "Hello, Bob!").await.unwrap();
//! let text = inbox.next_message().await.unwrap().message.content.as_text().map(str::to_owned);
//! assert_eq!(text.as_deref(), Some("Hello, Bob!"));
//! alice.shutdown().await;
//! assert!(matches!(alice.send(&bob.session_id(), "again").await, Err(metaless_client::MessengerError::Closed)));
//! # bob.shutdown().await;
//! # net.shutdown().await;
//! # });
//! ```

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed, SessionId};
use metaless_swarm::MessageHash;
use rand_core::{OsRng, RngCore};
use tokio::sync::{mpsc, oneshot};

use crate::http::{HttpTransport, TokioClock, wall_clock_ms};
use crate::transport::{HttpResponse, RequestId, Transmit, Transport, TransportError};
use crate::{
    Bootstrap, Client, ClientError, Config, Driver, Event, Incoming, MemoryStore, OpId,
    PersistError, Persistence,
};

/// The `Stream` trait [`Events`] implements, re-exported so an app needs no matching
/// `futures-core` version.
pub use futures_core;

/// How long [`MessengerBuilder::build`] waits for the network by default.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a [`Messenger`] could not be built or a call on it failed. Each message says what to
/// do next.
///
/// ```
/// use metaless_client::MessengerError;
/// assert!(MessengerError::NoNetwork.to_string().contains(".testnet("));
/// assert!(MessengerError::Closed.to_string().contains("shut down"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessengerError {
    /// The builder was given no network.
    #[error(
        "no network chosen: call .testnet(path to bootstrap.json), .mainnet() or .config(..) on the builder"
    )]
    NoNetwork,
    /// The testnet's `bootstrap.json` could not be read.
    #[error(
        "cannot read the bootstrap file {}: {source} (start a testnet first, e.g. `metaless testnet up` or metaless_node_server::local::start, and pass the bootstrap.json it writes)",
        path.display()
    )]
    BootstrapUnreadable {
        /// The path given.
        path: PathBuf,
        /// What reading it said.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is no testnet `bootstrap.json`.
    #[error(
        "{} is not a usable testnet bootstrap.json ({source}): pass the file the testnet wrote, unedited",
        path.display()
    )]
    BootstrapInvalid {
        /// The path given.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: ClientError,
    },
    /// No seed node gave a node list before the ready timeout.
    #[error(
        "no seed node answered within {waited_ms} ms (tried {}): check the network connection and the seed URLs, or give a longer .ready_timeout(..)",
        seeds.join(", ")
    )]
    NoSeedReachable {
        /// The seed URLs tried.
        seeds: Vec<String>,
        /// How long the builder waited.
        waited_ms: u64,
    },
    /// A seed answered over TLS with a certificate the transport does not trust, and no seed
    /// gave a node list.
    #[error(
        "the TLS certificate of a seed was refused (seeds: {}): use the network's own seeds, or trust this seed's certificate with http::SeedTrust on .transport(..)",
        seeds.join(", ")
    )]
    CertificateRefused {
        /// The seed URLs tried.
        seeds: Vec<String>,
    },
    /// Service nodes are known but none answered before the ready timeout.
    #[error(
        "none of the {nodes} known service nodes answered within {waited_ms} ms: is the testnet still running? (a bootstrap.json outlives its testnet)"
    )]
    NoNodeReachable {
        /// Nodes known from the bootstrap.
        nodes: usize,
        /// How long the builder waited.
        waited_ms: u64,
    },
    /// Nodes answered, but the own swarm could not be polled through an onion path before
    /// the ready timeout.
    #[error(
        "the network answered but the own swarm was not reached within {waited_ms} ms ({failures} requests failed): give a longer .ready_timeout(..), or check that the node list is current"
    )]
    NotReady {
        /// How long the builder waited.
        waited_ms: u64,
        /// Requests that failed meanwhile.
        failures: u64,
    },
    /// The store could not be opened or read.
    #[error("store: {0} (check the path, its permissions and the store key)")]
    Store(#[source] PersistError),
    /// The store already holds the seed of another account than the one given to
    /// [`MessengerBuilder::seed`].
    #[error(
        "the store holds another account's seed: open another store file, or leave .seed(..) out to use the stored account"
    )]
    SeedMismatch,
    /// The text is not a Session ID.
    #[error("not a Session ID ({reason}): give the 66 hex characters starting with 05")]
    InvalidRecipient {
        /// Why it does not parse.
        reason: String,
    },
    /// The client refused the call, or the operation failed on the network.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The messenger's thread or runtime could not be started.
    #[error("could not start the messenger's thread: {0}")]
    Runtime(String),
    /// The messenger was shut down (or its thread ended).
    #[error("the messenger was shut down: build a new one to go on")]
    Closed,
}

/// Who a message goes to: a [`SessionId`], or its text (`05…`).
///
/// ```
/// use metaless_client::Recipient;
/// let text = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
/// let id = text.to_session_id().unwrap();
/// assert_eq!(id.to_session_id().unwrap(), id);
/// assert!("05zz".to_session_id().is_err());
/// ```
pub trait Recipient {
    /// The Session ID, or why the text is none.
    fn to_session_id(&self) -> Result<SessionId, MessengerError>;
}

impl Recipient for SessionId {
    fn to_session_id(&self) -> Result<SessionId, MessengerError> {
        Ok(*self)
    }
}

impl Recipient for str {
    fn to_session_id(&self) -> Result<SessionId, MessengerError> {
        self.trim()
            .parse()
            .map_err(
                |e: metaless_identity::IdentityError| MessengerError::InvalidRecipient {
                    reason: e.to_string(),
                },
            )
    }
}

impl Recipient for String {
    fn to_session_id(&self) -> Result<SessionId, MessengerError> {
        self.as_str().to_session_id()
    }
}

/// What a message says: text, or a whole [`Content`].
///
/// ```
/// use metaless_client::IntoContent;
/// assert_eq!("hi".into_content().as_text(), Some("hi"));
/// assert_eq!(metaless_envelope::Content::text("yo").into_content().as_text(), Some("yo"));
/// ```
pub trait IntoContent {
    /// The content to seal.
    fn into_content(self) -> Content;
}

impl IntoContent for Content {
    fn into_content(self) -> Content {
        self
    }
}

impl IntoContent for &str {
    fn into_content(self) -> Content {
        Content::text(self)
    }
}

impl IntoContent for String {
    fn into_content(self) -> Content {
        Content::text(self)
    }
}

impl IntoContent for &String {
    fn into_content(self) -> Content {
        Content::text(self.as_str())
    }
}

/// A transport with its type erased, so the builder can take any.
trait ErasedTransport: Send {
    fn post_boxed<'a>(
        &'a self,
        request: &'a Transmit,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + 'a>>;

    fn progress_of(&self, id: RequestId) -> Option<(u64, u64)>;
}

impl<T: Transport + Send> ErasedTransport for T {
    fn post_boxed<'a>(
        &'a self,
        request: &'a Transmit,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + 'a>> {
        Box::pin(self.post(request))
    }

    fn progress_of(&self, id: RequestId) -> Option<(u64, u64)> {
        self.progress(id)
    }
}

/// What the transport saw while the messenger got ready, to say why it did not.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    seed_answers: u64,
    seed_certificate: u64,
    node_answers: u64,
}

/// The messenger's transport: the one given (or [`HttpTransport`]), counting answers.
struct Watched {
    inner: Box<dyn ErasedTransport>,
    seen: Arc<Mutex<Seen>>,
}

impl Transport for Watched {
    async fn post(&self, request: &Transmit) -> Result<HttpResponse, TransportError> {
        let result = self.inner.post_boxed(request).await;
        if let Ok(mut seen) = self.seen.lock() {
            let seed = request.to_node.node.is_none();
            match (&result, seed) {
                (Ok(_), true) => seen.seed_answers += 1,
                (Ok(_), false) => seen.node_answers += 1,
                (Err(TransportError::Certificate), true) => seen.seed_certificate += 1,
                _ => {}
            }
        }
        result
    }

    fn progress(&self, id: RequestId) -> Option<(u64, u64)> {
        self.inner.progress_of(id)
    }
}

/// Where the messenger keeps its state.
enum StoreChoice {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite(PathBuf, crate::SeedProtection),
    Custom(Box<dyn Persistence>),
}

/// Settings of a [`Messenger`], from [`Messenger::builder`].
///
/// ```
/// use std::time::Duration;
/// use metaless_client::{Messenger, MessengerError};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// // No network chosen: refused before anything starts.
/// let e = Messenger::builder().ready_timeout(Duration::from_secs(1)).build().await.unwrap_err();
/// assert!(matches!(e, MessengerError::NoNetwork));
/// # });
/// ```
pub struct MessengerBuilder {
    network: Option<Result<Config, MessengerError>>,
    seed: Option<Seed>,
    store: StoreChoice,
    transport: Option<Box<dyn ErasedTransport>>,
    poll_interval_ms: Option<u64>,
    ready_timeout: Duration,
}

impl core::fmt::Debug for MessengerBuilder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MessengerBuilder")
            .field("network", &self.network.as_ref().map(|n| n.is_ok()))
            .field("seed", &self.seed.is_some())
            .field("custom_transport", &self.transport.is_some())
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("ready_timeout", &self.ready_timeout)
            .finish_non_exhaustive()
    }
}

impl MessengerBuilder {
    /// A local testnet: reads its `bootstrap.json` (nodes, and HTTPS when its addresses are
    /// `https://`), as [`Config::from_testnet_file`]. An unreadable or invalid file is
    /// reported by [`build`](Self::build).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let e = metaless_client::Messenger::builder().testnet("/nonexistent/bootstrap.json").build().await.unwrap_err();
    /// assert!(matches!(e, metaless_client::MessengerError::BootstrapUnreadable { .. }));
    /// # });
    /// ```
    #[must_use]
    pub fn testnet(mut self, bootstrap_json: impl AsRef<Path>) -> Self {
        let path = bootstrap_json.as_ref().to_path_buf();
        let config = match std::fs::read(&path) {
            Err(source) => Err(MessengerError::BootstrapUnreadable { path, source }),
            Ok(bytes) => match Config::from_testnet_file(&bytes) {
                Ok(config) => {
                    if let Bootstrap::Nodes(nodes) = &config.bootstrap {
                        tracing::info!(path = %path.display(), nodes = nodes.len(), https = config.https, "bootstrap loaded");
                    }
                    Ok(config)
                }
                Err(source) => Err(MessengerError::BootstrapInvalid { path, source }),
            },
        };
        self.network = Some(config);
        self
    }

    /// The live Session network ([`Config::mainnet`]: its seed nodes over HTTPS, their
    /// certificates pinned).
    #[must_use]
    pub fn mainnet(mut self) -> Self {
        self.network = Some(Ok(Config::mainnet()));
        self
    }

    /// Any [`Config`] (its bootstrap says where the nodes are).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.network = Some(Ok(config));
        self
    }

    /// The account. Default: the seed kept in the store, else a fresh one from the OS
    /// generator (saved in the store).
    #[must_use]
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Keeps the account seed, pending sends and what was already received in a SQLite file
    /// (feature `sqlite`), so a restart neither loses nor repeats a message. The seed is
    /// sealed under the app's key ([`SeedProtection::Key`](crate::SeedProtection::Key)) unless
    /// the app chooses [`SeedProtection::Plaintext`](crate::SeedProtection::Plaintext).
    /// Default: in memory.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    #[must_use]
    pub fn store(mut self, path: impl AsRef<Path>, protection: crate::SeedProtection) -> Self {
        self.store = StoreChoice::Sqlite(path.as_ref().to_path_buf(), protection);
        self
    }

    /// Keeps the state in the app's own [`Persistence`].
    #[must_use]
    pub fn persistence(mut self, store: Box<dyn Persistence>) -> Self {
        self.store = StoreChoice::Custom(store);
        self
    }

    /// The transport. Default: [`HttpTransport::default`] (service nodes' certificates
    /// accepted, seeds verified). Its futures need not be `Send`: they run on the
    /// messenger's thread.
    #[must_use]
    pub fn transport(mut self, transport: impl Transport + Send + 'static) -> Self {
        self.transport = Some(Box::new(transport));
        self
    }

    /// How often the own swarm is polled for new messages (ms). Default: the config's.
    #[must_use]
    pub fn poll_interval_ms(mut self, ms: u64) -> Self {
        self.poll_interval_ms = Some(ms);
        self
    }

    /// How long [`build`](Self::build) waits for the network: until the own swarm was
    /// polled once through an onion path. Default [`DEFAULT_READY_TIMEOUT`] (30 s).
    #[must_use]
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Opens the store, starts the messenger's thread and waits until the network works
    /// (the own swarm answered through an onion path), or says why not.
    pub async fn build(self) -> Result<Messenger, MessengerError> {
        let mut config = self.network.ok_or(MessengerError::NoNetwork)??;
        if let Some(ms) = self.poll_interval_ms {
            config.poll_interval_ms = Some(ms);
        }
        let mut store: Box<dyn Persistence> = match self.store {
            StoreChoice::Memory => Box::new(MemoryStore::default()),
            #[cfg(feature = "sqlite")]
            StoreChoice::Sqlite(path, protection) => Box::new(
                crate::SqliteStore::open(&path, protection).map_err(MessengerError::Store)?,
            ),
            StoreChoice::Custom(store) => store,
        };
        let seed = match (store.seed().map_err(MessengerError::Store)?, self.seed) {
            (Some(stored), Some(given)) if stored != given => {
                return Err(MessengerError::SeedMismatch);
            }
            (Some(stored), _) => stored,
            (None, given) => {
                let seed = given.unwrap_or_else(|| Seed::generate(&mut OsRng));
                store.save_seed(&seed).map_err(MessengerError::Store)?;
                seed
            }
        };
        let keys = Keypair::from_seed(&seed);
        let session_id = keys.session_id();
        let bootstrap = config.bootstrap.clone();
        let polls = config.poll_interval_ms.is_some();
        if let Bootstrap::Seeds(seeds) = &bootstrap {
            tracing::info!(
                seeds = seeds.len(),
                https = config.https,
                "bootstrap from seeds"
            );
        }
        let mut rng_seed = [0u8; 32];
        OsRng.fill_bytes(&mut rng_seed);
        let client = Client::with_persistence(keys, config, rng_seed, wall_clock_ms(), store)?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let transport = Watched {
            inner: self
                .transport
                .unwrap_or_else(|| Box::new(HttpTransport::default())),
            seen: Arc::clone(&seen),
        };
        let (commands, receiver) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let timeout_ms = u64::try_from(self.ready_timeout.as_millis()).unwrap_or(u64::MAX);
        let task = Setup {
            client,
            polls,
            transport,
            commands: receiver,
            bootstrap,
            seen,
            started_ms: wall_clock_ms(),
            timeout_ms,
        };
        std::thread::Builder::new()
            .name("metaless-messenger".into())
            .spawn(move || task.run_on_own_runtime(ready_tx))
            .map_err(|e| MessengerError::Runtime(e.to_string()))?;
        match ready_rx.await {
            Ok(Ok(())) => Ok(Messenger {
                inner: Arc::new(Inner {
                    session_id,
                    commands,
                    closed: AtomicBool::new(false),
                }),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(MessengerError::Closed),
        }
    }
}

/// A running client: send with [`send`](Self::send), receive with [`events`](Self::events),
/// stop with [`shutdown`](Self::shutdown). Cheap to clone (every clone is the same
/// messenger), `Send` and `Sync`: move it into spawned tasks freely. When the last clone is
/// dropped the messenger stops as if shut down.
#[derive(Debug, Clone)]
pub struct Messenger {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    session_id: SessionId,
    commands: mpsc::UnboundedSender<Command>,
    closed: AtomicBool,
}

enum Command {
    Send {
        to: SessionId,
        content: Box<Content>,
        done: oneshot::Sender<Result<MessageHash, MessengerError>>,
    },
    Subscribe(mpsc::UnboundedSender<Event>),
    Shutdown(oneshot::Sender<()>),
}

impl Messenger {
    /// Starts the settings: pick a network (`testnet`, `mainnet` or `config`), then
    /// [`build`](MessengerBuilder::build).
    pub fn builder() -> MessengerBuilder {
        MessengerBuilder {
            network: None,
            seed: None,
            store: StoreChoice::Memory,
            transport: None,
            poll_interval_ms: None,
            ready_timeout: DEFAULT_READY_TIMEOUT,
        }
    }

    /// This account's Session ID.
    pub fn session_id(&self) -> SessionId {
        self.inner.session_id
    }

    /// Seals `content` for `to` and resolves when a swarm member of the recipient stored it
    /// (and as many replicas as [`Config::min_replicas`] asks showed it): its hash. Errors:
    /// refused at once ([`MessengerError::Client`], [`MessengerError::InvalidRecipient`]),
    /// failed on the network (`Client(ClientError::Failed(kind))`, e.g. its TTL ran out), or
    /// [`MessengerError::Closed`]. Dropping the future does not cancel the send: the message
    /// stays pending and is retried while the messenger runs (and after a restart, with a
    /// store). Bound the wait with `tokio::time::timeout` if needed.
    pub async fn send(
        &self,
        to: &(impl Recipient + ?Sized),
        content: impl IntoContent,
    ) -> Result<MessageHash, MessengerError> {
        let to = to.to_session_id()?;
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(MessengerError::Closed);
        }
        let (done, result) = oneshot::channel();
        let content = Box::new(content.into_content());
        self.inner
            .commands
            .send(Command::Send { to, content, done })
            .map_err(|_| MessengerError::Closed)?;
        result.await.map_err(|_| MessengerError::Closed)?
    }

    /// Every event from now on, in order, over an unbounded channel: nothing is dropped.
    /// Events that happened while no stream was open (those since the messenger was built,
    /// for the first call) come first. Each call opens another stream; each gets every later
    /// event. The stream ends when the messenger stops.
    pub fn events(&self) -> Events {
        let (tx, rx) = mpsc::unbounded_channel();
        // If the messenger stopped, the channel is dropped and the stream ends at once.
        let _ = self.inner.commands.send(Command::Subscribe(tx));
        Events { rx }
    }

    /// Stops the messenger: the network loop ends, the store is closed (every write is
    /// already on disk: what is pending is retried by the next messenger on the same store).
    /// Sends still waiting, and every later call, fail with [`MessengerError::Closed`].
    pub async fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let (done, finished) = oneshot::channel();
        if self.inner.commands.send(Command::Shutdown(done)).is_ok() {
            let _ = finished.await;
        }
    }
}

/// The events of a [`Messenger`]: a [`Stream`](futures_core::Stream), or call
/// [`next`](Self::next) in a loop.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl Events {
    /// The next event; `None` once the messenger stopped.
    pub async fn next(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// The next message received (other events before it are skipped); `None` once the
    /// messenger stopped.
    pub async fn next_message(&mut self) -> Option<Box<Incoming>> {
        loop {
            if let Event::Received(m) = self.rx.recv().await? {
                return Some(m);
            }
        }
    }
}

impl futures_core::Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_recv(cx)
    }
}

/// What the messenger's thread starts from (the driver is made there: its request futures
/// are not `Send`).
struct Setup {
    client: Client,
    /// Whether the client polls on its own (else one poll is asked for, to get ready).
    polls: bool,
    transport: Watched,
    commands: mpsc::UnboundedReceiver<Command>,
    bootstrap: Bootstrap,
    seen: Arc<Mutex<Seen>>,
    started_ms: u64,
    timeout_ms: u64,
}

impl Setup {
    fn run_on_own_runtime(self, ready: oneshot::Sender<Result<(), MessengerError>>) {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => {
                let mut client = self.client;
                if !self.polls {
                    client.poll_now(wall_clock_ms());
                }
                let task = Task {
                    driver: Driver::new(client, self.transport, TokioClock),
                    commands: self.commands,
                    bootstrap: self.bootstrap,
                    seen: self.seen,
                    started_ms: self.started_ms,
                    timeout_ms: self.timeout_ms,
                    waiting: HashMap::new(),
                    subscribers: Vec::new(),
                    backlog: VecDeque::new(),
                };
                rt.block_on(task.run(ready));
            }
            Err(e) => {
                let _ = ready.send(Err(MessengerError::Runtime(e.to_string())));
            }
        }
    }
}

/// The loop on the messenger's thread.
struct Task {
    driver: Driver<Watched, TokioClock>,
    commands: mpsc::UnboundedReceiver<Command>,
    bootstrap: Bootstrap,
    seen: Arc<Mutex<Seen>>,
    started_ms: u64,
    timeout_ms: u64,
    waiting: HashMap<OpId, oneshot::Sender<Result<MessageHash, MessengerError>>>,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
    /// Events while no stream is open.
    backlog: VecDeque<Event>,
}

enum Step {
    Command(Option<Command>),
    Event(Option<Event>),
}

/// Longest the loop waits for an event before looking at its state again.
const IDLE_TURN_MS: u64 = 60_000;
/// How often the loop looks whether the messenger is ready while it waits for that.
const READY_CHECK_MS: u64 = 20;

impl Task {
    async fn run(mut self, ready: oneshot::Sender<Result<(), MessengerError>>) {
        let mut ready = Some(ready);
        let ready_deadline = self.started_ms.saturating_add(self.timeout_ms);
        loop {
            if let Some(tx) = ready.take() {
                let now = wall_clock_ms();
                if tx.is_closed() {
                    // The build was abandoned.
                    return;
                }
                if self.driver.client().stats().inbox_polls > 0 {
                    tracing::info!(
                        waited_ms = now.saturating_sub(self.started_ms),
                        "messenger ready"
                    );
                    let _ = tx.send(Ok(()));
                } else if now >= ready_deadline {
                    let e = self.why_not_ready(now);
                    tracing::warn!(error = %e, "messenger not ready");
                    let _ = tx.send(Err(e));
                    return;
                } else {
                    ready = Some(tx);
                }
            }
            let until = if ready.is_some() {
                // Readiness shows in the counters, not as an event: look again soon.
                wall_clock_ms()
                    .saturating_add(READY_CHECK_MS)
                    .min(ready_deadline)
            } else {
                wall_clock_ms().saturating_add(IDLE_TURN_MS)
            };
            let step = tokio::select! {
                biased;
                command = self.commands.recv() => Step::Command(command),
                event = self.driver.next_event_until(until) => Step::Event(event),
            };
            match step {
                Step::Event(Some(event)) => self.on_event(event),
                Step::Event(None) => {}
                Step::Command(Some(Command::Send { to, content, done })) => {
                    match self.driver.send(&to, &content) {
                        Ok(id) => {
                            self.waiting.insert(id, done);
                        }
                        Err(e) => {
                            let _ = done.send(Err(MessengerError::Client(e)));
                        }
                    }
                }
                Step::Command(Some(Command::Subscribe(tx))) => {
                    while let Some(event) = self.backlog.pop_front() {
                        let _ = tx.send(event);
                    }
                    self.subscribers.push(tx);
                }
                Step::Command(Some(Command::Shutdown(done))) => {
                    tracing::info!(
                        pending = self.driver.client().pending_sends(),
                        "messenger shut down"
                    );
                    // Closes the store and fails the waiting sends (Closed).
                    drop(self);
                    let _ = done.send(());
                    return;
                }
                // Every handle is gone.
                Step::Command(None) => return,
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match &event {
            Event::Delivered {
                id,
                hash,
                stored_on,
                ..
            } => {
                tracing::info!(%hash, stored_on, "send delivered");
                if let Some(done) = self.waiting.remove(id) {
                    let _ = done.send(Ok(hash.clone()));
                }
            }
            Event::Failed { id, kind } => {
                tracing::warn!(op = id.get(), %kind, "operation failed");
                if let Some(done) = self.waiting.remove(id) {
                    let _ = done.send(Err(MessengerError::Client(ClientError::Failed(*kind))));
                }
            }
            Event::PathRebuilt { hops } => {
                if let Some(guard) = hops.first() {
                    tracing::info!(%guard, hops = hops.len(), "path built");
                }
            }
            Event::NodesUpdated { count } => tracing::info!(count, "node list updated"),
            Event::NoNodes => tracing::warn!("no node list could be fetched; retrying"),
            _ => {}
        }
        self.subscribers.retain(|s| !s.is_closed());
        match self.subscribers.as_slice() {
            [] => self.backlog.push_back(event),
            [only] => {
                let _ = only.send(event);
            }
            many => {
                for s in many {
                    let _ = s.send(event.clone());
                }
            }
        }
    }

    /// Why the network did not become ready, from what the transport saw.
    fn why_not_ready(&mut self, now: u64) -> MessengerError {
        let waited_ms = now.saturating_sub(self.started_ms);
        let seen = self.seen.lock().map(|s| *s).unwrap_or_default();
        let client = self.driver.client();
        match &self.bootstrap {
            Bootstrap::Seeds(seeds) if seen.seed_answers == 0 => {
                if seen.seed_certificate > 0 {
                    MessengerError::CertificateRefused {
                        seeds: seeds.clone(),
                    }
                } else {
                    MessengerError::NoSeedReachable {
                        seeds: seeds.clone(),
                        waited_ms,
                    }
                }
            }
            bootstrap if seen.node_answers == 0 => MessengerError::NoNodeReachable {
                nodes: match bootstrap {
                    Bootstrap::Nodes(n) => n.len(),
                    Bootstrap::Seeds(_) => client.known_nodes(),
                },
                waited_ms,
            },
            _ => MessengerError::NotReady {
                waited_ms,
                failures: client.stats().failures,
            },
        }
    }
}
