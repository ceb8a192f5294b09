//! Communities (SOGS, "open groups") through the client's onion paths: join a room, poll it,
//! post, edit and delete text and attachments, react, and exchange blinded DMs.
//!
//! [`CommunityClient`] is sans-IO like [`Client`]: it builds the requests
//! ([`metaless_community::Request`]), signs them (15-blinded `X-SOGS-*` headers), and hands them
//! to a [`Client`] with [`Client::server_request`]; the app gives it every [`Event`] the client
//! reports ([`CommunityClient::handle_event`] takes the ones that answer its operations) and
//! takes [`CommunityEvent`]s back. Every operation returns the [`OpId`] its outcome carries.
//!
//! What it keeps per room (the seqno of the last update seen, the room's `info_updates`, which
//! message ids it has seen and whether edited) and per server (capabilities, the last inbox and
//! outbox ids) is exported with [`CommunityClient::export_state`] and restored with
//! [`CommunityClient::import_state`], so an app polls on from where it stopped.
//!
//! Posts are checked before they are reported: the poster's blinded signature over exactly the
//! posted bytes, then the padding and the `Content` protobuf; a post that fails either is a
//! [`CommunityEvent::Rejected`], never a [`CommunityEvent::Post`].
//!
//! ```
//! use metaless_client::community::{CommunityClient, CommunityEvent};
//! use metaless_client::{Bootstrap, Client, Config};
//! use metaless_community::CommunityUrl;
//! use metaless_identity::{Keypair, Seed};
//!
//! let seed = Seed::from_bytes([1; 32]);
//! let mut client = Client::new(Keypair::from_seed(&seed),
//!     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
//! let mut rooms = CommunityClient::new(Keypair::from_seed(&seed), [1; 32]);
//! let url = CommunityUrl::parse(&format!("http://127.0.0.1:3000/lobby?public_key={}", "ab".repeat(32))).unwrap();
//! let join = rooms.join(&mut client, 1_000, &url).unwrap();
//! // … drive `client` (transmits, timeouts); hand each of its events to `rooms`:
//! while let Some(event) = client.poll_event() {
//!     rooms.handle_event(&event);
//! }
//! while let Some(event) = rooms.poll_event() {
//!     if let CommunityEvent::Joined { id, info, .. } = event {
//!         assert_eq!(id, join);
//!         println!("joined {}", info.name);
//!     }
//! }
//! assert_eq!(rooms.pending(), 1); // nothing answered yet: no transport in this example
//! ```

use std::collections::{BTreeMap, VecDeque};

use metaless_community::{
    AuthMode, Body, CommunityError, CommunityUrl, DirectMessage, Message as RoomMessage, PollInfo,
    PostMessage, Reaction, Reply, Request, Room, dm,
};
use metaless_envelope::{AttachmentPointer, Content, EnvelopeError, Message, padding};
use metaless_identity::{Keypair, SessionId, blinding};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};

use crate::{
    Client, ClientError, Clock, Driver, Event, FailureKind, OpId, ServerRequest, ServerResponse,
    Transport,
};

/// How many message ids a room remembers (to tell a new post from an update of one it saw).
pub const MAX_KNOWN_PER_ROOM: usize = 10_000;

/// How many messages one poll asks for (the server's largest page).
pub const POLL_LIMIT: u32 = 256;

/// A joined room: the server's base URL and the room token.
///
/// ```
/// use metaless_client::community::RoomRef;
/// use metaless_community::CommunityUrl;
/// let url = CommunityUrl::parse(&format!("http://127.0.0.1:3000/lobby?public_key={}", "ab".repeat(32))).unwrap();
/// let room = RoomRef::of(&url);
/// assert_eq!((room.server.as_str(), room.token.as_str()), ("http://127.0.0.1:3000", "lobby"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoomRef {
    /// The server's base URL (`http://host:port`).
    pub server: String,
    /// The room token.
    pub token: String,
}

impl RoomRef {
    /// The room a community URL names.
    pub fn of(url: &CommunityUrl) -> Self {
        Self {
            server: url.base_url(),
            token: url.room().to_owned(),
        }
    }
}

/// A post as a room member sees it, its signature checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// Message id (room-unique).
    pub id: u64,
    /// The room's update counter at this version.
    pub seqno: u64,
    /// The poster's blinded (`15`) id on this server.
    pub sender: SessionId,
    /// Posting time (unix seconds, the server's clock).
    pub posted: f64,
    /// Last edit time.
    pub edited: Option<f64>,
    /// The message.
    pub content: Content,
    /// Reactions by emoji.
    pub reactions: BTreeMap<String, Reaction>,
}

impl Post {
    /// The message text: a plain text message's, or a visible message's body (one with
    /// attachments or a quote).
    ///
    /// ```
    /// use metaless_client::community::Post;
    /// use metaless_envelope::{AttachmentPointer, Content};
    /// let sender = format!("15{}", "11".repeat(32)).parse().unwrap();
    /// let mut post = Post { id: 1, seqno: 1, sender, posted: 0.0, edited: None,
    ///     content: Content::text("hi"), reactions: Default::default() };
    /// assert_eq!(post.text(), Some("hi"));
    /// post.content = Content::text("photo").with_attachment(AttachmentPointer::default());
    /// assert_eq!(post.text(), Some("photo"));
    /// ```
    pub fn text(&self) -> Option<&str> {
        match &self.content.message {
            Message::Text { body } => Some(body),
            Message::Visible(v) => v.body.as_deref(),
            _ => None,
        }
    }
}

/// A blinded DM, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityDm {
    /// The server's base URL.
    pub server: String,
    /// Message id (server-wide).
    pub id: u64,
    /// `true` for our own copy from the outbox.
    pub outgoing: bool,
    /// The sender's blinded id.
    pub from: SessionId,
    /// The recipient's blinded id.
    pub to: SessionId,
    /// The sender's real (`05`) Session ID, recovered from the message.
    pub sender: SessionId,
    /// When the server got it (unix seconds).
    pub posted: f64,
    /// The message.
    pub content: Content,
}

/// Why an operation did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommunityFailure {
    /// The server refused it: its status and the text it sent (pysogs sends a short reason).
    #[error("server replied {code}: {body}")]
    Status {
        /// HTTP status.
        code: u16,
        /// The body as text (lossy UTF-8).
        body: String,
    },
    /// The reply is not what the endpoint answers.
    #[error("{0}")]
    Reply(CommunityError),
    /// No onion path got the request through.
    #[error("not delivered: {0}")]
    Network(FailureKind),
}

impl From<CommunityError> for CommunityFailure {
    fn from(e: CommunityError) -> Self {
        match e {
            CommunityError::Status { code, body } => Self::Status {
                code,
                body: String::from_utf8_lossy(&body).into_owned(),
            },
            other => Self::Reply(other),
        }
    }
}

/// What a [`CommunityClient`] reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CommunityEvent {
    /// [`CommunityClient::join`] succeeded: the room is polled from now on.
    Joined {
        /// The operation.
        id: OpId,
        /// The room.
        room: RoomRef,
        /// The room's details and our permissions.
        info: Room,
        /// The server's capabilities.
        capabilities: Vec<String>,
    },
    /// A poll completed (its new posts, edits, deletions and reactions were reported before).
    Polled {
        /// The operation.
        id: OpId,
        /// The room.
        room: RoomRef,
        /// The room's seqno now.
        seqno: u64,
        /// Our permissions; the room details when they changed.
        info: PollInfo,
        /// The poll got as many updates as it asked for: more may be waiting, poll again.
        more: bool,
    },
    /// A post not seen before.
    Post {
        /// The room.
        room: RoomRef,
        /// The post.
        post: Box<Post>,
    },
    /// A post seen before, edited.
    Edited {
        /// The room.
        room: RoomRef,
        /// The post as it is now.
        post: Box<Post>,
    },
    /// A post was deleted (by its author or a moderator).
    Deleted {
        /// The room.
        room: RoomRef,
        /// The message id.
        message: u64,
        /// The update's seqno.
        seqno: u64,
    },
    /// The reactions on a post changed.
    Reactions {
        /// The room.
        room: RoomRef,
        /// The message id.
        message: u64,
        /// The update's seqno.
        seqno: u64,
        /// Reactions by emoji, as they are now.
        reactions: BTreeMap<String, Reaction>,
    },
    /// An update that failed its checks (signature, padding, content) and was dropped.
    Rejected {
        /// The room.
        room: RoomRef,
        /// The message id.
        message: u64,
        /// Why.
        reason: CommunityError,
    },
    /// [`CommunityClient::post`] stored the message.
    Posted {
        /// The operation.
        id: OpId,
        /// The room.
        room: RoomRef,
        /// The new message id.
        message: u64,
        /// Its seqno.
        seqno: u64,
    },
    /// An edit or delete succeeded.
    Done {
        /// The operation.
        id: OpId,
    },
    /// A reaction was added or removed.
    Reacted {
        /// The operation.
        id: OpId,
        /// `false` when nothing changed (already reacted / had not reacted).
        changed: bool,
        /// The message's new seqno.
        seqno: u64,
    },
    /// [`CommunityClient::upload`] stored the file.
    Uploaded {
        /// The operation.
        id: OpId,
        /// The room.
        room: RoomRef,
        /// The file id (what [`CommunityClient::post`] lists in `files`).
        file: u64,
        /// Its URL (`<server>/room/<r>/file/<id>`).
        url: String,
        /// An attachment pointer to it (no key: room files are plain), for
        /// `Content::with_attachment`; post it with `files: vec![file]`.
        pointer: Box<AttachmentPointer>,
    },
    /// [`CommunityClient::download`] got the file.
    Downloaded {
        /// The operation.
        id: OpId,
        /// Its bytes.
        bytes: Vec<u8>,
        /// Its name, when the uploader gave one.
        filename: Option<String>,
    },
    /// A blinded DM arrived (or our own outbox copy was read).
    Dm(Box<CommunityDm>),
    /// A blinded DM that does not open or decode, dropped.
    DmRejected {
        /// The server's base URL.
        server: String,
        /// The message id.
        message: u64,
        /// Why.
        reason: CommunityError,
    },
    /// [`CommunityClient::send_dm`] stored the DM in the recipient's inbox.
    DmSent {
        /// The operation.
        id: OpId,
        /// The message id.
        message: u64,
    },
    /// [`CommunityClient::poll_dms`] completed.
    DmsPolled {
        /// The operation.
        id: OpId,
        /// The server's base URL.
        server: String,
    },
    /// An operation failed.
    Failed {
        /// The operation.
        id: OpId,
        /// Why.
        error: CommunityFailure,
    },
}

impl CommunityEvent {
    /// The operation this event ends (`None` for updates: posts, edits, deletions, reactions,
    /// DMs, rejections).
    ///
    /// ```
    /// use metaless_client::{OpId, community::CommunityEvent};
    /// assert_eq!(CommunityEvent::Done { id: OpId::from(4) }.op(), Some(OpId::from(4)));
    /// ```
    pub fn op(&self) -> Option<OpId> {
        match self {
            Self::Joined { id, .. }
            | Self::Polled { id, .. }
            | Self::Posted { id, .. }
            | Self::Done { id }
            | Self::Reacted { id, .. }
            | Self::Uploaded { id, .. }
            | Self::Downloaded { id, .. }
            | Self::DmSent { id, .. }
            | Self::DmsPolled { id, .. }
            | Self::Failed { id, .. } => Some(*id),
            Self::Post { .. }
            | Self::Edited { .. }
            | Self::Deleted { .. }
            | Self::Reactions { .. }
            | Self::Rejected { .. }
            | Self::Dm(_)
            | Self::DmRejected { .. } => None,
        }
    }
}

/// Why a [`CommunityClient`] call was refused before anything was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommunityClientError {
    /// The request itself is invalid (room token, limit, emoji, size, recipient kind).
    #[error(transparent)]
    Community(#[from] CommunityError),
    /// The client refused to queue it.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The message does not pad (too large).
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The room was not joined (polling needs the state a join creates).
    #[error("room not joined")]
    NotJoined,
    /// An exported state that does not parse.
    #[error("community state: {0}")]
    State(&'static str),
}

#[derive(Debug, Clone, Default)]
struct RoomState {
    seqno: u64,
    info_updates: u64,
    /// Message id → its last edit time (f64 bits, 0 = never edited).
    known: BTreeMap<u64, u64>,
}

#[derive(Debug, Clone)]
struct ServerState {
    pk: [u8; 32],
    capabilities: Option<Vec<String>>,
    inbox_since: Option<u64>,
    outbox_since: Option<u64>,
}

#[derive(Debug, Clone)]
enum Pending {
    Join(RoomRef),
    Poll(RoomRef, u32),
    Post(RoomRef),
    Done,
    React(bool),
    Upload(RoomRef, usize, Option<String>),
    Download,
    SendDm,
    PollDms(String),
}

/// Communities over a [`Client`]'s onion paths (see the [module docs](self)).
pub struct CommunityClient {
    keys: Keypair,
    rng: ChaCha20Rng,
    servers: BTreeMap<String, ServerState>,
    rooms: BTreeMap<RoomRef, RoomState>,
    pending: BTreeMap<OpId, (Pending, bool)>,
    events: VecDeque<CommunityEvent>,
}

impl std::fmt::Debug for CommunityClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommunityClient")
            .field("rooms", &self.rooms.keys().collect::<Vec<_>>())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl CommunityClient {
    /// A community client for the account `keys` (the same account as the [`Client`] it
    /// drives); `rng_seed` seeds the request nonces and DM nonces.
    ///
    /// ```
    /// use metaless_client::community::CommunityClient;
    /// use metaless_identity::{Keypair, Seed};
    /// let c = CommunityClient::new(Keypair::from_seed(&Seed::from_bytes([1; 32])), [2; 32]);
    /// assert!(c.rooms().is_empty());
    /// ```
    pub fn new(keys: Keypair, rng_seed: [u8; 32]) -> Self {
        Self {
            keys,
            rng: ChaCha20Rng::from_seed(rng_seed),
            servers: BTreeMap::new(),
            rooms: BTreeMap::new(),
            pending: BTreeMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Our 15-blinded id on the server of `url` (what other members see as the poster).
    ///
    /// ```
    /// use metaless_client::community::CommunityClient;
    /// use metaless_community::CommunityUrl;
    /// use metaless_identity::{Keypair, Seed, SessionIdPrefix};
    /// let c = CommunityClient::new(Keypair::from_seed(&Seed::from_bytes([1; 32])), [2; 32]);
    /// let url = CommunityUrl::parse(&format!("http://h:1/r?public_key={}", "ab".repeat(32))).unwrap();
    /// assert_eq!(c.blinded_id(&url).unwrap().prefix(), SessionIdPrefix::Blinded15);
    /// ```
    pub fn blinded_id(&self, url: &CommunityUrl) -> Result<SessionId, CommunityClientError> {
        Ok(
            blinding::blind15_id_from_ed25519(&self.keys.ed25519_public(), url.server_pk())
                .map_err(CommunityError::from)?,
        )
    }

    /// The rooms joined (or imported).
    pub fn rooms(&self) -> Vec<RoomRef> {
        self.rooms.keys().cloned().collect()
    }

    /// The seqno of the last update seen in a room (`None`: not joined).
    pub fn seqno(&self, url: &CommunityUrl) -> Option<u64> {
        self.rooms.get(&RoomRef::of(url)).map(|r| r.seqno)
    }

    /// Operations sent and not answered yet.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<CommunityEvent> {
        self.events.pop_front()
    }

    /// Forgets a room (no request: a community has no membership to leave).
    pub fn leave(&mut self, url: &CommunityUrl) -> bool {
        self.rooms.remove(&RoomRef::of(url)).is_some()
    }

    fn server(&mut self, url: &CommunityUrl) -> &mut ServerState {
        self.servers
            .entry(url.base_url())
            .or_insert_with(|| ServerState {
                pk: *url.server_pk(),
                capabilities: None,
                inbox_since: None,
                outbox_since: None,
            })
    }

    /// Signs `req` and hands it to the client. A path the client cannot carry as it is (not
    /// ASCII: a reaction's emoji) goes inside a one-element `/batch`, whose sub-request paths
    /// are JSON strings, signed as the server reads them.
    fn send(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        req: &Request,
        pending: Pending,
    ) -> Result<OpId, CommunityClientError> {
        let wrapped = !req.path().is_ascii();
        let outer;
        let req = if wrapped {
            outer = Request::batch(std::slice::from_ref(req))?;
            &outer
        } else {
            req
        };
        let mode = match &self.server(url).capabilities {
            Some(caps) if !caps.iter().any(|c| c == "blind") => AuthMode::Unblinded,
            _ => AuthMode::Blinded15,
        };
        let net_now = client.network_now(now_ms);
        let auth = req.sign(&self.keys, url.server_pk(), mode, net_now, &mut self.rng);
        let mut sr = ServerRequest::new(url.destination()?, req.method(), req.path());
        for (k, v) in req.headers() {
            sr = sr.with_header(k, v);
        }
        for (k, v) in auth.pairs() {
            sr = sr.with_header(k, &v);
        }
        match req.body() {
            Body::None => {}
            Body::Json(b) | Body::Bytes(b) => sr = sr.with_body(b.clone()),
        }
        let id = client.server_request(now_ms, sr)?;
        self.pending.insert(id, (pending, wrapped));
        Ok(id)
    }

    /// Joins a room: asks for the server's capabilities and the room's details (one `/batch`).
    /// [`CommunityEvent::Joined`] follows, or [`CommunityEvent::Failed`] (a room we may not read
    /// is the server's 403/404). Joining again keeps the room's seqno.
    pub fn join(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
    ) -> Result<OpId, CommunityClientError> {
        let req = Request::batch(&[Request::capabilities(&[]), Request::room(url.room())?])?;
        self.send(client, now_ms, url, &req, Pending::Join(RoomRef::of(url)))
    }

    /// Polls a joined room: `pollInfo` and the updates since the last seqno seen (posts, edits,
    /// deletions, reaction changes; up to [`POLL_LIMIT`] per poll, so poll again while a poll
    /// says `more`). Each update is an event, then [`CommunityEvent::Polled`].
    pub fn poll(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
    ) -> Result<OpId, CommunityClientError> {
        self.poll_up_to(client, now_ms, url, POLL_LIMIT)
    }

    /// [`CommunityClient::poll`] asking for at most `limit` updates (1..=256).
    pub fn poll_up_to(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        limit: u32,
    ) -> Result<OpId, CommunityClientError> {
        let room = RoomRef::of(url);
        let state = self
            .rooms
            .get(&room)
            .ok_or(CommunityClientError::NotJoined)?;
        let req = Request::batch(&[
            Request::poll_info(url.room(), state.info_updates)?,
            Request::messages_since(url.room(), state.seqno, Some(limit), true)?,
        ])?;
        self.send(client, now_ms, url, &req, Pending::Poll(room, limit))
    }

    /// Tracks a room from `seqno` on without a join request (a reader that knows where it
    /// stopped, or wants a room's history from the start with `0`); a room already tracked
    /// keeps what it has seen and only moves its seqno.
    ///
    /// ```
    /// use metaless_client::community::CommunityClient;
    /// use metaless_community::CommunityUrl;
    /// use metaless_identity::{Keypair, Seed};
    /// let mut c = CommunityClient::new(Keypair::from_seed(&Seed::from_bytes([1; 32])), [2; 32]);
    /// let url = CommunityUrl::parse(&format!("http://h:1/r?public_key={}", "ab".repeat(32))).unwrap();
    /// c.resume(&url, 41);
    /// assert_eq!(c.seqno(&url), Some(41));
    /// ```
    pub fn resume(&mut self, url: &CommunityUrl, seqno: u64) {
        self.server(url);
        self.rooms.entry(RoomRef::of(url)).or_default().seqno = seqno;
    }

    fn signed_post(
        &self,
        client: &Client,
        now_ms: u64,
        url: &CommunityUrl,
        content: &Content,
        files: Vec<u64>,
    ) -> Result<PostMessage, CommunityClientError> {
        let data = padding::pad(&content.encode(client.network_now(now_ms)))?;
        Ok(PostMessage::signed(
            &self.keys,
            url.server_pk(),
            data,
            files,
        ))
    }

    /// Posts `content` (padded and signed with our blinded key), referencing uploaded `files`
    /// (their ids from [`CommunityEvent::Uploaded`]). [`CommunityEvent::Posted`] follows; a room
    /// we may not write to is [`CommunityEvent::Failed`] with the server's 403.
    pub fn post(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        content: &Content,
        files: Vec<u64>,
    ) -> Result<OpId, CommunityClientError> {
        let post = self.signed_post(client, now_ms, url, content, files)?;
        let req = Request::post_message(url.room(), &post)?;
        self.send(client, now_ms, url, &req, Pending::Post(RoomRef::of(url)))
    }

    /// Replaces the content of our own post `message`. [`CommunityEvent::Done`] follows.
    pub fn edit(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        message: u64,
        content: &Content,
    ) -> Result<OpId, CommunityClientError> {
        let post = self.signed_post(client, now_ms, url, content, Vec::new())?;
        let req = Request::edit_message(url.room(), message, &post)?;
        self.send(client, now_ms, url, &req, Pending::Done)
    }

    /// Deletes our own post `message` (moderators: any post). [`CommunityEvent::Done`] follows.
    pub fn delete(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        message: u64,
    ) -> Result<OpId, CommunityClientError> {
        let req = Request::delete_message(url.room(), message)?;
        self.send(client, now_ms, url, &req, Pending::Done)
    }

    /// Adds (`add`) or removes our reaction `emoji` on `message`.
    /// [`CommunityEvent::Reacted`] follows.
    pub fn react(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        message: u64,
        emoji: &str,
        add: bool,
    ) -> Result<OpId, CommunityClientError> {
        let req = if add {
            Request::add_reaction(url.room(), message, emoji)?
        } else {
            Request::remove_reaction(url.room(), message, emoji)?
        };
        self.send(client, now_ms, url, &req, Pending::React(add))
    }

    /// Uploads a file to the room (community files are not encrypted: every member may fetch
    /// them). [`CommunityEvent::Uploaded`] follows with its id and URL.
    pub fn upload(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        bytes: Vec<u8>,
        filename: Option<&str>,
    ) -> Result<OpId, CommunityClientError> {
        let len = bytes.len();
        let req = Request::upload_file(url.room(), bytes, filename)?;
        let pending = Pending::Upload(RoomRef::of(url), len, filename.map(str::to_owned));
        self.send(client, now_ms, url, &req, pending)
    }

    /// Fetches a room file. [`CommunityEvent::Downloaded`] follows.
    pub fn download(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        file: u64,
    ) -> Result<OpId, CommunityClientError> {
        let req = Request::download_file(url.room(), file)?;
        self.send(client, now_ms, url, &req, Pending::Download)
    }

    /// Sends a blinded DM to `to` (a `15` or `25` id, normally a poster's) through the server's
    /// inbox. [`CommunityEvent::DmSent`] follows.
    pub fn send_dm(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
        to: &SessionId,
        content: &Content,
    ) -> Result<OpId, CommunityClientError> {
        let plain = padding::pad(&content.encode(client.network_now(now_ms)))?;
        let data = dm::encrypt(&self.keys, url.server_pk(), to, &plain, &mut self.rng)?;
        let req = Request::send_dm(to, &data)?;
        self.send(client, now_ms, url, &req, Pending::SendDm)
    }

    /// Reads the server's inbox and outbox since the last ids seen: each DM is a
    /// [`CommunityEvent::Dm`], then [`CommunityEvent::DmsPolled`].
    pub fn poll_dms(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        url: &CommunityUrl,
    ) -> Result<OpId, CommunityClientError> {
        let s = self.server(url);
        let req = Request::batch(&[
            Request::inbox(s.inbox_since),
            Request::outbox(s.outbox_since),
        ])?;
        self.send(client, now_ms, url, &req, Pending::PollDms(url.base_url()))
    }

    /// Takes an event of the [`Client`]: `true` when it answered one of our operations (its
    /// outcome is then queued as [`CommunityEvent`]s), `false` for any other event.
    pub fn handle_event(&mut self, event: &Event) -> bool {
        match event {
            Event::ServerResponse { id, response } => {
                let Some((op, wrapped)) = self.pending.remove(id) else {
                    return false;
                };
                self.on_response(*id, op, wrapped, response);
                true
            }
            Event::Failed { id, kind } => {
                if self.pending.remove(id).is_none() {
                    return false;
                }
                self.fail(*id, CommunityFailure::Network(*kind));
                true
            }
            _ => false,
        }
    }

    fn fail(&mut self, id: OpId, error: CommunityFailure) {
        self.events.push_back(CommunityEvent::Failed { id, error });
    }

    fn on_response(&mut self, id: OpId, op: Pending, wrapped: bool, response: &ServerResponse) {
        let mut reply = Reply {
            code: response.status,
            headers: response.headers.clone(),
            body: response.body.clone(),
        };
        if wrapped {
            match reply.batch().map(|mut subs| subs.pop()) {
                Ok(Some(sub)) => reply = sub,
                Ok(None) => {
                    return self.fail(
                        id,
                        CommunityFailure::Reply(CommunityError::MalformedReply {
                            what: "empty batch",
                        }),
                    );
                }
                Err(e) => return self.fail(id, e.into()),
            }
        }
        if let Err(e) = self.outcome(id, op, &reply) {
            self.fail(id, e.into());
        }
    }

    fn outcome(&mut self, id: OpId, op: Pending, reply: &Reply) -> Result<(), CommunityError> {
        match op {
            Pending::Join(room) => {
                let [caps, info] = two(reply)?;
                let caps = caps.capabilities()?;
                let info = info.room()?;
                if let Some(s) = self.servers.get_mut(&room.server) {
                    s.capabilities = Some(caps.capabilities.clone());
                }
                let state = self.rooms.entry(room.clone()).or_default();
                state.info_updates = info.info_updates;
                self.events.push_back(CommunityEvent::Joined {
                    id,
                    room,
                    info,
                    capabilities: caps.capabilities,
                });
            }
            Pending::Poll(room, limit) => {
                let [info, messages] = two(reply)?;
                let info = info.poll_info()?;
                let messages = messages.messages()?;
                let more = u32::try_from(messages.len()).is_ok_and(|n| n >= limit);
                // A room left while the poll was out: its answer is dropped.
                let Some(mut state) = self.rooms.remove(&room) else {
                    return Ok(());
                };
                if let Some(d) = &info.details {
                    state.info_updates = d.info_updates;
                }
                for m in messages {
                    self.update(&room, &mut state, m);
                }
                let seqno = state.seqno;
                self.rooms.insert(room.clone(), state);
                self.events.push_back(CommunityEvent::Polled {
                    id,
                    room,
                    seqno,
                    info,
                    more,
                });
            }
            Pending::Post(room) => {
                let m = reply.posted()?;
                if let Some(state) = self.rooms.get_mut(&room) {
                    remember(state, m.id, m.edited);
                }
                self.events.push_back(CommunityEvent::Posted {
                    id,
                    room,
                    message: m.id,
                    seqno: m.seqno,
                });
            }
            Pending::Done => {
                reply.empty_ok()?;
                self.events.push_back(CommunityEvent::Done { id });
            }
            Pending::React(add) => {
                let (changed, seqno) = if add {
                    let r = reply.reaction_added()?;
                    (r.added, r.seqno)
                } else {
                    let r = reply.reaction_removed()?;
                    (r.removed, r.seqno)
                };
                self.events
                    .push_back(CommunityEvent::Reacted { id, changed, seqno });
            }
            Pending::Upload(room, len, file_name) => {
                let file = reply.uploaded()?;
                let url = format!("{}/room/{}/file/{file}", room.server, room.token);
                // Room files are not encrypted: a pointer with the URL and no key, as Session
                // apps attach community files.
                let pointer = AttachmentPointer {
                    id: file,
                    size: u32::try_from(len).ok(),
                    file_name,
                    url: Some(url.clone()),
                    ..AttachmentPointer::default()
                };
                self.events.push_back(CommunityEvent::Uploaded {
                    id,
                    room,
                    file,
                    url,
                    pointer: Box::new(pointer),
                });
            }
            Pending::Download => {
                let (bytes, filename) = reply.file()?;
                self.events.push_back(CommunityEvent::Downloaded {
                    id,
                    bytes,
                    filename,
                });
            }
            Pending::SendDm => {
                let m = reply.dm_sent()?;
                self.events
                    .push_back(CommunityEvent::DmSent { id, message: m.id });
            }
            Pending::PollDms(server) => {
                let [inbox, outbox] = two(reply)?;
                let inbox = inbox.dms()?;
                let outbox = outbox.dms()?;
                for (list, outgoing) in [(inbox, false), (outbox, true)] {
                    for m in list {
                        self.dm(&server, m, outgoing);
                    }
                }
                self.events
                    .push_back(CommunityEvent::DmsPolled { id, server });
            }
        }
        Ok(())
    }

    /// One update of a room: classified against the ids seen before.
    fn update(&mut self, room: &RoomRef, state: &mut RoomState, m: RoomMessage) {
        state.seqno = state.seqno.max(m.seqno);
        if m.deleted {
            state.known.remove(&m.id);
            self.events.push_back(CommunityEvent::Deleted {
                room: room.clone(),
                message: m.id,
                seqno: m.seqno,
            });
            return;
        }
        let seen = state.known.get(&m.id).copied();
        let edited = m.edited.map_or(0, f64::to_bits);
        if m.data.is_none() || seen == Some(edited) {
            // Known and not edited since (or a reaction-only update): the reactions changed.
            self.events.push_back(CommunityEvent::Reactions {
                room: room.clone(),
                message: m.id,
                seqno: m.seqno,
                reactions: m.reactions,
            });
            return;
        }
        let content = m.verified_data().and_then(|data| {
            let data = data.ok_or(CommunityError::MalformedReply {
                what: "message data",
            })?;
            let inner = padding::unpad(&data).map_err(|_| CommunityError::MalformedReply {
                what: "message padding",
            })?;
            Content::decode(inner).map_err(|_| CommunityError::MalformedReply {
                what: "message content",
            })
        });
        let content = match content {
            Ok(c) => c,
            Err(reason) => {
                self.events.push_back(CommunityEvent::Rejected {
                    room: room.clone(),
                    message: m.id,
                    reason,
                });
                return;
            }
        };
        remember(state, m.id, m.edited);
        let post = Box::new(Post {
            id: m.id,
            seqno: m.seqno,
            sender: m.session_id,
            posted: m.posted,
            edited: m.edited,
            content,
            reactions: m.reactions,
        });
        let room = room.clone();
        self.events.push_back(if seen.is_some() {
            CommunityEvent::Edited { room, post }
        } else {
            CommunityEvent::Post { room, post }
        });
    }

    fn dm(&mut self, server: &str, m: DirectMessage, outgoing: bool) {
        let Some(s) = self.servers.get_mut(server) else {
            return;
        };
        let since = if outgoing {
            &mut s.outbox_since
        } else {
            &mut s.inbox_since
        };
        *since = Some(since.map_or(m.id, |v| v.max(m.id)));
        let pk = s.pk;
        let opened = m.data().and_then(|data| {
            let o = dm::decrypt(&self.keys, &pk, &m.sender, &m.recipient, &data)?;
            let inner = padding::unpad(&o.message).map_err(|_| CommunityError::Decrypt)?;
            let content = Content::decode(inner)
                .map_err(|_| CommunityError::MalformedReply { what: "DM content" })?;
            Ok((o.sender, content))
        });
        match opened {
            Ok((sender, content)) => {
                self.events
                    .push_back(CommunityEvent::Dm(Box::new(CommunityDm {
                        server: server.to_owned(),
                        id: m.id,
                        outgoing,
                        from: m.sender,
                        to: m.recipient,
                        sender,
                        posted: m.posted_at,
                        content,
                    })))
            }
            Err(reason) => self.events.push_back(CommunityEvent::DmRejected {
                server: server.to_owned(),
                message: m.id,
                reason,
            }),
        }
    }

    /// Runs `driver` until an event matching `want` is reported (returned) or `within_ms` pass
    /// (`None`). Community events seen meanwhile stay queued for [`CommunityClient::poll_event`];
    /// the driver's other events (messages, paths) are dropped — an app that needs them runs its
    /// own loop around [`CommunityClient::handle_event`].
    pub async fn wait_for<T: Transport + 'static, C: Clock>(
        &mut self,
        driver: &mut Driver<T, C>,
        within_ms: u64,
        mut want: impl FnMut(&CommunityEvent) -> bool,
    ) -> Option<CommunityEvent> {
        let deadline = driver.now().saturating_add(within_ms);
        loop {
            if let Some(i) = self.events.iter().position(&mut want) {
                return self.events.remove(i);
            }
            let event = driver.next_event_until(deadline).await?;
            self.handle_event(&event);
        }
    }

    /// [`CommunityClient::wait_for`] the outcome of operation `op`: its success event or its
    /// [`CommunityEvent::Failed`].
    pub async fn wait_op<T: Transport + 'static, C: Clock>(
        &mut self,
        driver: &mut Driver<T, C>,
        within_ms: u64,
        op: OpId,
    ) -> Option<CommunityEvent> {
        self.wait_for(driver, within_ms, |e| e.op() == Some(op))
            .await
    }

    /// The per-room and per-server state as JSON, for an app to persist:
    /// `{"servers":[{"url","pubkey","capabilities","inbox_since","outbox_since"}],
    /// "rooms":[{"server","room","seqno","info_updates","known":[[id,edited],…]}]}`.
    ///
    /// ```
    /// use metaless_client::community::CommunityClient;
    /// use metaless_identity::{Keypair, Seed};
    /// let c = CommunityClient::new(Keypair::from_seed(&Seed::from_bytes([1; 32])), [2; 32]);
    /// let saved = c.export_state();
    /// let mut d = CommunityClient::new(Keypair::from_seed(&Seed::from_bytes([1; 32])), [3; 32]);
    /// d.import_state(&saved).unwrap();
    /// assert!(d.import_state(b"{\"rooms\":7}").is_err());
    /// ```
    pub fn export_state(&self) -> Vec<u8> {
        let servers: Vec<Value> = self
            .servers
            .iter()
            .map(|(url, s)| {
                json!({
                    "url": url,
                    "pubkey": metaless_identity::hex::encode(&s.pk),
                    "capabilities": s.capabilities,
                    "inbox_since": s.inbox_since,
                    "outbox_since": s.outbox_since,
                })
            })
            .collect();
        let rooms: Vec<Value> = self
            .rooms
            .iter()
            .map(|(r, s)| {
                let known: Vec<Value> = s
                    .known
                    .iter()
                    .map(|(id, e)| {
                        let edited = (*e != 0).then(|| f64::from_bits(*e));
                        json!([id, edited])
                    })
                    .collect();
                json!({
                    "server": r.server,
                    "room": r.token,
                    "seqno": s.seqno,
                    "info_updates": s.info_updates,
                    "known": known,
                })
            })
            .collect();
        serde_json::to_vec(&json!({ "servers": servers, "rooms": rooms })).unwrap_or_default()
    }

    /// Restores what [`CommunityClient::export_state`] wrote (replacing the rooms and servers
    /// with the same names). Refused whole when any part does not parse.
    pub fn import_state(&mut self, bytes: &[u8]) -> Result<(), CommunityClientError> {
        let bad = CommunityClientError::State;
        let v: Value = serde_json::from_slice(bytes).map_err(|_| bad("not JSON"))?;
        let list = |key: &'static str| -> Result<Vec<Value>, CommunityClientError> {
            match v.get(key) {
                None => Ok(Vec::new()),
                Some(Value::Array(a)) => Ok(a.clone()),
                Some(_) => Err(bad(key)),
            }
        };
        let opt_u64 = |v: &Value, key: &'static str| -> Result<Option<u64>, CommunityClientError> {
            match v.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(n) => n.as_u64().map(Some).ok_or(bad(key)),
            }
        };
        let mut servers = Vec::new();
        for s in list("servers")? {
            let url = s["url"].as_str().ok_or(bad("server url"))?.to_owned();
            let pk = s["pubkey"]
                .as_str()
                .and_then(|h| metaless_identity::hex::decode_array::<32>(h).ok())
                .ok_or(bad("server pubkey"))?;
            let capabilities = match &s["capabilities"] {
                Value::Null => None,
                Value::Array(a) => Some(
                    a.iter()
                        .map(|c| c.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or(bad("capabilities"))?,
                ),
                _ => return Err(bad("capabilities")),
            };
            servers.push((
                url,
                ServerState {
                    pk,
                    capabilities,
                    inbox_since: opt_u64(&s, "inbox_since")?,
                    outbox_since: opt_u64(&s, "outbox_since")?,
                },
            ));
        }
        let mut rooms = Vec::new();
        for r in list("rooms")? {
            let room = RoomRef {
                server: r["server"].as_str().ok_or(bad("room server"))?.to_owned(),
                token: r["room"].as_str().ok_or(bad("room token"))?.to_owned(),
            };
            metaless_community::check_room(&room.token).map_err(|_| bad("room token"))?;
            let mut known = BTreeMap::new();
            if let Some(k) = r.get("known") {
                let k = k.as_array().ok_or(bad("known"))?;
                // What `remember` would never have kept: a state file larger is not ours.
                if k.len() > MAX_KNOWN_PER_ROOM {
                    return Err(bad("known: more ids than MAX_KNOWN_PER_ROOM"));
                }
                for pair in k {
                    let id = pair[0].as_u64().ok_or(bad("known id"))?;
                    let edited = match &pair[1] {
                        Value::Null => 0,
                        e => e.as_f64().ok_or(bad("known edited"))?.to_bits(),
                    };
                    known.insert(id, edited);
                }
            }
            rooms.push((
                room,
                RoomState {
                    seqno: opt_u64(&r, "seqno")?.unwrap_or(0),
                    info_updates: opt_u64(&r, "info_updates")?.unwrap_or(0),
                    known,
                },
            ));
        }
        for (room, _) in &rooms {
            if !servers.iter().any(|(u, _)| *u == room.server)
                && !self.servers.contains_key(&room.server)
            {
                return Err(bad("room on an unknown server"));
            }
        }
        self.servers.extend(servers);
        self.rooms.extend(rooms);
        Ok(())
    }
}

/// A batch reply of exactly two sub-replies.
fn two(reply: &Reply) -> Result<[Reply; 2], CommunityError> {
    let subs = reply.batch()?;
    <[Reply; 2]>::try_from(subs).map_err(|_| CommunityError::MalformedReply {
        what: "batch length",
    })
}

fn remember(state: &mut RoomState, id: u64, edited: Option<f64>) {
    state.known.insert(id, edited.map_or(0, f64::to_bits));
    while state.known.len() > MAX_KNOWN_PER_ROOM {
        if state.known.pop_first().is_none() {
            break;
        }
    }
}
