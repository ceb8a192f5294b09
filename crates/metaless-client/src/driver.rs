//! The async driver: a thin loop that carries the core's [`Transmit`]s to a [`Transport`] and
//! time from a [`Clock`]. It spawns nothing: requests in flight are futures it polls itself,
//! on the caller's task, while the caller awaits one of its methods.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use crate::transport::{Clock, HttpResponse, RequestId, Transport, TransportError};
use crate::{Client, ClientError, Event, Incoming};

type Pending = Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>>>>;

/// A request handed to the transport: its id, deadline, future, and the byte counts last
/// passed to [`Client::report_transfer`].
struct InFlight {
    id: RequestId,
    deadline: u64,
    fut: Pending,
    reported: (u64, u64),
}

/// What ended one wait of [`Driver::turn`].
enum Woke {
    Answer(usize, Result<HttpResponse, TransportError>),
    Progress(Vec<(RequestId, (u64, u64))>),
    Timer,
}

/// Drives a [`Client`] over a transport and a clock.
///
/// The futures of the transport need not be `Send`, so neither is the driver: run it on the
/// task that owns it (a `current_thread` runtime, a `LocalSet`, or `main`).
///
/// ```
/// use metaless_testnet::{LoopbackClock, LoopbackTransport};
/// use metaless_client::{Bootstrap, Client, Config, Driver, Event};
/// use metaless_identity::{Keypair, Seed};
/// use metaless_testnet::{LoopbackConfig, LoopbackNet};
///
/// let net = LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap();
/// let transport = LoopbackTransport::new(net);
/// let clock = LoopbackClock::new(&transport);
/// let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
/// let keys = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
/// let mut alice = Driver::new(Client::new(keys(1), config.clone(), [1; 32], clock.now()), transport.clone(), clock.clone());
/// let mut bob = Driver::new(Client::new(keys(2), config, [2; 32], clock.now()), transport, clock);
///
/// let to = bob.client().session_id();
/// alice.send(&to, &metaless_envelope::Content::text("hi Bob")).unwrap();
/// let delivered = futures_lite_block_on(alice.wait_for(60_000, |e| matches!(e, Event::Delivered { .. })));
/// assert!(delivered.is_some());
/// let got = futures_lite_block_on(bob.wait_for(60_000, |e| matches!(e, Event::Received(_))));
/// let Some(Event::Received(m)) = got else { panic!("nothing received") };
/// assert_eq!(m.message.content.as_text(), Some("hi Bob"));
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
pub struct Driver<T, C> {
    client: Client,
    transport: Arc<T>,
    clock: C,
    inflight: Vec<InFlight>,
    /// Events seen by a call that waited for another one, kept in order for the next call.
    kept: VecDeque<Event>,
}

impl<T, C> core::fmt::Debug for Driver<T, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Driver")
            .field("client", &self.client)
            .field("in_flight", &self.inflight.len())
            .field("kept", &self.kept.len())
            .finish()
    }
}

impl<T: Transport + 'static, C: Clock> Driver<T, C> {
    /// Wraps a client.
    pub fn new(client: Client, transport: T, clock: C) -> Self {
        Self::with_shared(client, Arc::new(transport), clock)
    }

    /// Wraps a client with a transport the caller keeps a handle on (to read its counters,
    /// say); requests in flight share it.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackTransport};
    /// # use metaless_client::{Bootstrap, Client, Config, Driver, Event};
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet};
    /// # let transport = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap());
    /// # let clock = LoopbackClock::new(&transport);
    /// # let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
    /// # let keys = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// let shared = std::sync::Arc::new(transport.clone());
    /// let mut d = Driver::with_shared(Client::new(keys(1), config, [1; 32], clock.now()), shared.clone(), clock);
    /// assert_eq!(d.client().pending_sends(), 0);
    /// assert!(std::sync::Arc::strong_count(&shared) >= 2);
    /// ```
    pub fn with_shared(client: Client, transport: Arc<T>, clock: C) -> Self {
        Self {
            client,
            transport,
            clock,
            inflight: Vec::new(),
            kept: VecDeque::new(),
        }
    }

    /// The core, for calls that take no network (and for inspection).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Local time now.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackTransport};
    /// # use metaless_client::{Bootstrap, Client, Config, Driver, Event};
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet};
    /// # let transport = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap());
    /// # let clock = LoopbackClock::new(&transport);
    /// # let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
    /// # let keys = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// let d = Driver::new(Client::new(keys(1), config, [1; 32], clock.now()), transport, clock.clone());
    /// assert_eq!(d.now(), clock.now());
    /// ```
    pub fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// [`Client::send`] at the clock's time.
    pub fn send(
        &mut self,
        to: &metaless_identity::SessionId,
        content: &metaless_envelope::Content,
    ) -> Result<crate::OpId, crate::ClientError> {
        let now = self.clock.now_ms();
        self.client.send(now, to, content)
    }

    /// The next event: one kept from an earlier [`wait_for`](Self::wait_for),
    /// [`send_confirmed`](Self::send_confirmed) or [`recv`](Self::recv) first, else runs the
    /// network until the core has one, or until local time `deadline_ms`.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackTransport};
    /// # use metaless_client::{Bootstrap, Client, Config, Driver, Event};
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet};
    /// # let transport = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap());
    /// # let clock = LoopbackClock::new(&transport);
    /// # let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
    /// # let keys = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// let mut d = Driver::new(Client::new(keys(1), config, [1; 32], clock.now()), transport, clock.clone());
    /// let deadline = clock.now() + 5_000;
    /// // The first paths are built while polling the own swarm.
    /// let first = block_on(d.next_event_until(deadline));
    /// assert!(matches!(first, Some(Event::PathRebuilt { .. })));
    /// ```
    pub async fn next_event_until(&mut self, deadline_ms: u64) -> Option<Event> {
        if let Some(event) = self.kept.pop_front() {
            return Some(event);
        }
        self.next_new_event(deadline_ms).await
    }

    /// Runs the network until the core has an event, or until `deadline_ms`.
    async fn next_new_event(&mut self, deadline_ms: u64) -> Option<Event> {
        loop {
            if let Some(event) = self.client.poll_event() {
                return Some(event);
            }
            if self.clock.now_ms() >= deadline_ms {
                return None;
            }
            self.turn(deadline_ms).await;
        }
    }

    /// Runs until an event matching `want` arrives (returned) or `within_ms` pass (`None`).
    /// A matching event kept from an earlier call is returned at once. Nothing is dropped:
    /// the other events seen meanwhile are kept, in order, for the next call
    /// ([`next_event_until`](Self::next_event_until), [`take_events`](Self::take_events) or
    /// another `wait_for`).
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackTransport};
    /// # use metaless_client::{Bootstrap, Client, Config, Driver, Event};
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet};
    /// # let transport = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap());
    /// # let clock = LoopbackClock::new(&transport);
    /// # let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
    /// # let keys = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// let mut d = Driver::new(Client::new(keys(1), config, [1; 32], clock.now()), transport, clock);
    /// // Nothing matches: every event of these 5 s is kept.
    /// assert!(block_on(d.wait_for(5_000, |_| false)).is_none());
    /// assert!(d.take_events().iter().any(|e| matches!(e, Event::PathRebuilt { .. })));
    /// ```
    pub async fn wait_for(
        &mut self,
        within_ms: u64,
        mut want: impl FnMut(&Event) -> bool,
    ) -> Option<Event> {
        if let Some(i) = self.kept.iter().position(&mut want) {
            return self.kept.remove(i);
        }
        let deadline = self.clock.now_ms().saturating_add(within_ms);
        while let Some(event) = self.next_new_event(deadline).await {
            if want(&event) {
                return Some(event);
            }
            self.kept.push_back(event);
        }
        None
    }

    /// The events kept by earlier calls, oldest first (the driver holds them until taken or
    /// returned by [`next_event_until`](Self::next_event_until)).
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackTransport};
    /// # use metaless_client::{Bootstrap, Client, Config, Driver};
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet};
    /// # let transport = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap());
    /// # let clock = LoopbackClock::new(&transport);
    /// # let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
    /// # let keys = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    /// let mut d = Driver::new(Client::new(keys(1), config, [1; 32], clock.now()), transport, clock);
    /// assert!(d.take_events().is_empty());
    /// ```
    pub fn take_events(&mut self) -> Vec<Event> {
        self.kept.drain(..).collect()
    }

    /// Sends and waits until a swarm member of the recipient stored the message: its hash, or
    /// why not ([`ClientError::Failed`], or [`ClientError::TimedOut`] after `within_ms` — the
    /// message then stays pending and keeps being retried while the driver runs).
    /// Other events that arrive meanwhile are kept for the next call.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackTransport};
    /// # use metaless_client::{Bootstrap, Client, Config, Driver, Event};
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet};
    /// # let transport = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap());
    /// # let clock = LoopbackClock::new(&transport);
    /// # let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
    /// # let keys = |b| Keypair::from_seed(&Seed::from_bytes([b; 32]));
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// let mut alice = Driver::new(Client::new(keys(1), config.clone(), [1; 32], clock.now()), transport.clone(), clock.clone());
    /// let mut bob = Driver::new(Client::new(keys(2), config, [2; 32], clock.now()), transport, clock);
    /// let to = bob.client().session_id();
    /// let hash = block_on(alice.send_confirmed(&to, &metaless_envelope::Content::text("hi"), 30_000)).unwrap();
    /// let got = block_on(bob.recv(30_000)).unwrap();
    /// assert_eq!(got.hash, hash);
    /// assert_eq!(got.message.content.as_text(), Some("hi"));
    /// ```
    pub async fn send_confirmed(
        &mut self,
        to: &metaless_identity::SessionId,
        content: &metaless_envelope::Content,
        within_ms: u64,
    ) -> Result<metaless_swarm::MessageHash, ClientError> {
        let id = self.send(to, content)?;
        let done = |e: &Event| matches!(e, Event::Delivered { id: d, .. } | Event::Failed { id: d, .. } if *d == id);
        match self.wait_for(within_ms, done).await {
            Some(Event::Delivered { hash, .. }) => Ok(hash),
            Some(Event::Failed { kind, .. }) => Err(ClientError::Failed(kind)),
            _ => Err(ClientError::TimedOut),
        }
    }

    /// Sends `request` to its HTTP server through an onion path and waits for the answer
    /// (whatever its status), or why not ([`ClientError::Failed`], [`ClientError::TimedOut`]
    /// after `within_ms`). Other events are kept for the next call.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackTransport};
    /// # use metaless_client::{Bootstrap, Client, Config, Driver, ServerRequest};
    /// # use metaless_identity::{Keypair, Seed};
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet};
    /// use metaless_testnet::server_fake::{FakeResponse, FakeServer};
    /// let mut net = LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap();
    /// let server = FakeServer::install(&mut net, [5; 32], |req| Some(FakeResponse::json(200, format!("{:?}", req.endpoint))));
    /// # let transport = LoopbackTransport::new(net);
    /// # let clock = LoopbackClock::new(&transport);
    /// # let config = Config::testnet(Bootstrap::Nodes(transport.service_nodes()));
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// let mut d = Driver::new(Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])), config, [1; 32], clock.now()), transport, clock);
    /// let dest = metaless_onion::ServerDestination::new("files.test", 80, "http", server.x25519()).unwrap();
    /// let answer = block_on(d.server_request(ServerRequest::get(dest, "/file/7"), 30_000)).unwrap();
    /// assert_eq!((answer.status, answer.body.as_slice()), (200, &br#""/file/7""#[..]));
    /// ```
    pub async fn server_request(
        &mut self,
        request: crate::ServerRequest,
        within_ms: u64,
    ) -> Result<crate::ServerResponse, ClientError> {
        let now = self.clock.now_ms();
        let id = self.client.server_request(now, request)?;
        let done = |e: &Event| matches!(e, Event::ServerResponse { id: d, .. } | Event::Failed { id: d, .. } if *d == id);
        match self.wait_for(within_ms, done).await {
            Some(Event::ServerResponse { response, .. }) => Ok(response),
            Some(Event::Failed { kind, .. }) => Err(ClientError::Failed(kind)),
            _ => Err(ClientError::TimedOut),
        }
    }

    /// Runs until a message arrives (returned; one kept from an earlier call first) or
    /// `within_ms` pass. Other events are kept for the next call.
    pub async fn recv(&mut self, within_ms: u64) -> Option<Box<Incoming>> {
        match self
            .wait_for(within_ms, |e| matches!(e, Event::Received(_)))
            .await
        {
            Some(Event::Received(m)) => Some(m),
            _ => None,
        }
    }

    /// One turn: hand out new requests, then wait for one answer, a transport's byte counts
    /// moving ([`Transport::progress`]) or the next timer (bounded by `deadline_ms`), and feed
    /// it to the core.
    async fn turn(&mut self, deadline_ms: u64) {
        while let Some(transmit) = self.client.poll_transmit() {
            let transport = Arc::clone(&self.transport);
            let (id, deadline) = (transmit.id, transmit.deadline_ms);
            let fut: Pending = Box::pin(async move { transport.post(&transmit).await });
            self.inflight.push(InFlight {
                id,
                deadline,
                fut,
                reported: (0, 0),
            });
        }
        let wake = self
            .client
            .poll_timeout()
            .map_or(deadline_ms, |t| t.min(deadline_ms));
        let outcome = {
            let Self {
                clock,
                inflight,
                transport,
                client,
                ..
            } = &mut *self;
            let mut sleep = std::pin::pin!(clock.sleep_until(wake));
            poll_fn(|cx| {
                for (i, f) in inflight.iter_mut().enumerate() {
                    if let Poll::Ready(result) = f.fut.as_mut().poll(cx) {
                        return Poll::Ready(Woke::Answer(i, result));
                    }
                }
                // The futures moved bytes while polled just now: report what changed, for
                // the transfers the core reports (other requests need no extra turn).
                let moved: Vec<_> = inflight
                    .iter_mut()
                    .filter(|f| client.reports_transfer(f.id))
                    .filter_map(|f| {
                        let now = transport.progress(f.id)?;
                        (now != f.reported).then(|| {
                            f.reported = now;
                            (f.id, now)
                        })
                    })
                    .collect();
                if !moved.is_empty() {
                    return Poll::Ready(Woke::Progress(moved));
                }
                sleep.as_mut().poll(cx).map(|()| Woke::Timer)
            })
            .await
        };
        let now = self.clock.now_ms();
        match outcome {
            Woke::Answer(i, result) => {
                let f = self.inflight.swap_remove(i);
                self.client.handle_response(now, f.id, result);
            }
            Woke::Progress(moved) => {
                for (id, (sent, received)) in moved {
                    self.client.report_transfer(id, sent, received);
                }
                // A transfer that keeps moving must not hold the timers back.
                if now >= wake {
                    self.inflight.retain(|f| f.deadline > now);
                    self.client.handle_timeout(now);
                }
            }
            Woke::Timer => {
                // The core fails requests past their deadline; stop waiting for them too.
                self.inflight.retain(|f| f.deadline > now);
                self.client.handle_timeout(now);
            }
        }
    }
}
