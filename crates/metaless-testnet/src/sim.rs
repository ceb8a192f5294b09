//! Clients over the in-process [`LoopbackNet`]: a [`Transport`] and a virtual [`Clock`] for
//! metaless-client's async driver, and [`Sim`], a synchronous harness that runs many clients in
//! virtual time (thousands of messages in well under a second).

use std::sync::{Arc, Mutex, MutexGuard};

use metaless_client::{
    Client, Clock, Event, HttpResponse, Target, Transmit, Transport, TransportError,
};
use metaless_node::NodeInfo;
use metaless_swarm::ServiceNode;

use crate::loopback::{LoopbackError, LoopbackNet};

/// The node list of a loopback network, as a client bootstrap needs it.
///
/// ```
/// use metaless_testnet::loopback::{LoopbackConfig, LoopbackNet};
/// let net = LoopbackNet::new(LoopbackConfig::default()).unwrap();
/// assert_eq!(metaless_testnet::service_nodes(&net).len(), 6);
/// ```
pub fn service_nodes(net: &LoopbackNet) -> Vec<ServiceNode> {
    // `NodeInfo::service_node` is the one conversion; a node without an IPv4 address (never
    // in a loopback net) would come out as 0.0.0.0, which no client can reach.
    net.nodes()
        .iter()
        .map(NodeInfo::service_node)
        .filter(|n| n.ip != [0; 4])
        .collect()
}

/// One POST into the network, answered as a transport answers: a dropped transfer is a
/// timeout, an unknown or down node a failed connection.
fn carry(net: &mut LoopbackNet, to: &Target, body: &[u8]) -> Result<HttpResponse, TransportError> {
    let node = to.node.ok_or(TransportError::Connect)?;
    match net.post(node.as_bytes(), to.path, body) {
        Ok((status, body)) => Ok(HttpResponse { status, body }),
        Err(LoopbackError::Timeout) => Err(TransportError::Timeout),
        Err(_) => Err(TransportError::Connect),
    }
}

/// POSTs go straight into the shared [`LoopbackNet`] (which runs the whole onion path and the
/// swarm replication synchronously, in virtual time).
///
/// ```
/// use metaless_testnet::LoopbackTransport;
/// use metaless_testnet::loopback::{LoopbackConfig, LoopbackNet};
/// let t = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
/// assert_eq!(t.service_nodes().len(), 6);
/// ```
#[derive(Clone)]
pub struct LoopbackTransport {
    net: Arc<Mutex<LoopbackNet>>,
}

impl core::fmt::Debug for LoopbackTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LoopbackTransport")
    }
}

impl LoopbackTransport {
    /// Takes the network.
    ///
    /// ```
    /// use metaless_testnet::{LoopbackConfig, LoopbackNet, LoopbackTransport};
    /// let t = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// assert_eq!(t.net().nodes().len(), 6);
    /// ```
    pub fn new(net: LoopbackNet) -> Self {
        Self {
            net: Arc::new(Mutex::new(net)),
        }
    }

    /// Locks the network (to inject faults, read observations, move time).
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, LoopbackTransport};
    /// let t = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// t.net().advance(1_000);
    /// assert_eq!(t.net().now_ms(), LoopbackConfig::default().start_ms + 1_000);
    /// ```
    pub fn net(&self) -> MutexGuard<'_, LoopbackNet> {
        self.net
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The node list, for [`Bootstrap::Nodes`](metaless_client::Bootstrap::Nodes).
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, LoopbackTransport};
    /// let t = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let bootstrap = metaless_client::Bootstrap::Nodes(t.service_nodes());
    /// # assert!(matches!(bootstrap, metaless_client::Bootstrap::Nodes(n) if n.len() == 6));
    /// ```
    pub fn service_nodes(&self) -> Vec<ServiceNode> {
        service_nodes(&self.net())
    }
}

impl Transport for LoopbackTransport {
    async fn post(&self, request: &Transmit) -> Result<HttpResponse, TransportError> {
        carry(&mut self.net(), &request.to_node, &request.body)
    }
}

/// The loopback network's virtual time; sleeping moves it forward.
///
/// ```
/// use metaless_client::Clock;
/// use metaless_testnet::{LoopbackClock, LoopbackTransport};
/// use metaless_testnet::loopback::{LoopbackConfig, LoopbackNet};
/// let t = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
/// let clock = LoopbackClock::new(&t);
/// let start = clock.now();
/// tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(clock.sleep_until(start + 500));
/// assert_eq!(clock.now(), start + 500);
/// ```
#[derive(Clone)]
pub struct LoopbackClock {
    net: Arc<Mutex<LoopbackNet>>,
}

impl core::fmt::Debug for LoopbackClock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LoopbackClock")
    }
}

impl LoopbackClock {
    /// The clock of `transport`'s network.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackConfig, LoopbackNet, LoopbackTransport};
    /// let t = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// assert_eq!(LoopbackClock::new(&t).now(), 1_700_000_000_000);
    /// ```
    pub fn new(transport: &LoopbackTransport) -> Self {
        Self {
            net: Arc::clone(&transport.net),
        }
    }

    /// Virtual time now.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackClock, LoopbackConfig, LoopbackNet, LoopbackTransport};
    /// let t = LoopbackTransport::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// t.net().set_time(5);
    /// assert_eq!(LoopbackClock::new(&t).now(), 5);
    /// ```
    pub fn now(&self) -> u64 {
        Clock::now_ms(self)
    }
}

impl Clock for LoopbackClock {
    fn now_ms(&self) -> u64 {
        let net = self
            .net
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        net.now_ms()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        let mut net = self
            .net
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if deadline_ms > net.now_ms() {
            net.set_time(deadline_ms);
        }
    }
}

/// Many clients on one [`LoopbackNet`], run synchronously in virtual time: the `Pair` harness
/// of this crate. Each client may have its own clock skew. Clients are named by the index
/// [`Sim::add`] returns; the accessors panic on an index it never returned (test code).
///
/// ```
/// use metaless_testnet::Sim;
/// use metaless_client::{Bootstrap, Client, Config, Event};
/// use metaless_identity::{Keypair, Seed};
/// use metaless_testnet::loopback::{LoopbackConfig, LoopbackNet};
///
/// let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig { nodes: 8, swarms: 2, ..Default::default() }).unwrap());
/// let a = sim.add(|nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
///     Config::testnet(Bootstrap::Nodes(nodes)), [1; 32], now));
/// let b = sim.add(|nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([2; 32])),
///     Config::testnet(Bootstrap::Nodes(nodes)), [2; 32], now));
/// let to = sim.client(b).session_id();
/// let now = sim.client_now(a);
/// sim.client_mut(a).send(now, &to, &metaless_envelope::Content::text("hi")).unwrap();
/// assert!(sim.run_until(30_000, |s| s.events(b).iter().any(|e| matches!(e, Event::Received(_)))));
/// ```
pub struct Sim {
    /// The network.
    pub net: LoopbackNet,
    clients: Vec<Client>,
    skews: Vec<i64>,
    events: Vec<Vec<Event>>,
}

impl core::fmt::Debug for Sim {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sim")
            .field("clients", &self.clients.len())
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// A harness over `net`, with no clients yet.
    ///
    /// ```
    /// use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// assert_eq!(sim.pump(), 0);
    /// ```
    pub fn new(net: LoopbackNet) -> Self {
        Self {
            net,
            clients: Vec::new(),
            skews: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Adds a client built by `make(node list, local now)`; returns its index.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// assert_eq!((sim.add(new(1)), sim.add(new(2))), (0, 1));
    /// ```
    pub fn add(&mut self, make: impl FnOnce(Vec<ServiceNode>, u64) -> Client) -> usize {
        self.add_skewed(0, make)
    }

    /// Adds a client whose local clock is `skew_ms` off the network's.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let a = sim.add_skewed(-5_000, new(1));
    /// assert_eq!(sim.client_now(a), sim.net.now_ms() - 5_000);
    /// ```
    pub fn add_skewed(
        &mut self,
        skew_ms: i64,
        make: impl FnOnce(Vec<ServiceNode>, u64) -> Client,
    ) -> usize {
        let now = self.local(skew_ms);
        self.clients.push(make(service_nodes(&self.net), now));
        self.skews.push(skew_ms);
        self.events.push(Vec::new());
        self.clients.len() - 1
    }

    fn local(&self, skew: i64) -> u64 {
        self.net.now_ms().saturating_add_signed(skew)
    }

    /// Local time of client `i`.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let a = sim.add(new(1));
    /// assert_eq!(sim.client_now(a), sim.net.now_ms());
    /// ```
    pub fn client_now(&self, i: usize) -> u64 {
        self.local(self.skews.get(i).copied().unwrap_or(0))
    }

    /// Client `i`.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let a = sim.add(new(1));
    /// assert_eq!(sim.client(a).known_nodes(), 6);
    /// ```
    pub fn client(&self, i: usize) -> &Client {
        &self.clients[i]
    }

    /// Client `i`, mutably (to send, mark read, …; use [`Sim::client_now`] for its time).
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let (a, b) = (sim.add(new(1)), sim.add(new(2)));
    /// let (to, now) = (sim.client(b).session_id(), sim.client_now(a));
    /// sim.client_mut(a).send(now, &to, &metaless_envelope::Content::text("hi")).unwrap();
    /// assert_eq!(sim.client(a).pending_sends(), 1);
    /// ```
    pub fn client_mut(&mut self, i: usize) -> &mut Client {
        &mut self.clients[i]
    }

    /// Replaces client `i` (a restart), keeping its event log.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let a = sim.add(new(1));
    /// let before = sim.client(a).session_id();
    /// sim.replace(a, new(1));
    /// assert_eq!(sim.client(a).session_id(), before);
    /// ```
    pub fn replace(&mut self, i: usize, make: impl FnOnce(Vec<ServiceNode>, u64) -> Client) {
        let now = self.client_now(i);
        self.clients[i] = make(service_nodes(&self.net), now);
    }

    /// Events client `i` produced so far.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let a = sim.add(new(1));
    /// assert!(sim.events(a).is_empty());
    /// ```
    pub fn events(&self, i: usize) -> &[Event] {
        &self.events[i]
    }

    /// Takes client `i`'s events.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let a = sim.add(new(1));
    /// sim.pump();
    /// let _ = sim.take_events(a);
    /// assert!(sim.events(a).is_empty());
    /// ```
    pub fn take_events(&mut self, i: usize) -> Vec<Event> {
        core::mem::take(&mut self.events[i])
    }

    /// Delivers every queued request of every client (repeatedly, until none is left) and
    /// collects events. Returns the number of requests carried.
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let (a, b) = (sim.add(new(1)), sim.add(new(2)));
    /// let (to, now) = (sim.client(b).session_id(), sim.client_now(a));
    /// sim.client_mut(a).send(now, &to, &metaless_envelope::Content::text("hi")).unwrap();
    /// assert!(sim.pump() > 0);
    /// ```
    pub fn pump(&mut self) -> usize {
        let mut carried = 0;
        loop {
            let mut any = false;
            for i in 0..self.clients.len() {
                while let Some(t) = self.clients[i].poll_transmit() {
                    any = true;
                    carried += 1;
                    let result = carry(&mut self.net, &t.to_node, &t.body);
                    let now = self.client_now(i);
                    self.clients[i].handle_response(now, t.id, result);
                }
                while let Some(e) = self.clients[i].poll_event() {
                    self.events[i].push(e);
                }
            }
            if !any {
                return carried;
            }
        }
    }

    /// Pumps, then moves virtual time to the earliest client timer, until `done(self)` holds
    /// (`true`) or `max_ms` of virtual time pass (`false`).
    ///
    /// ```
    /// # use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};
    /// # use metaless_client::{Bootstrap, Client, Config};
    /// # use metaless_identity::{Keypair, Seed};
    /// # let new = |b: u8| move |nodes, now| Client::new(Keypair::from_seed(&Seed::from_bytes([b; 32])),
    /// #     Config::testnet(Bootstrap::Nodes(nodes)), [b; 32], now);
    /// # let mut sim = Sim::new(LoopbackNet::new(LoopbackConfig::default()).unwrap());
    /// let a = sim.add(new(1));
    /// let start = sim.net.now_ms();
    /// assert!(!sim.run_until(10_000, |_| false));
    /// assert_eq!(sim.net.now_ms(), start + 10_000);
    /// ```
    pub fn run_until(&mut self, max_ms: u64, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = self.net.now_ms().saturating_add(max_ms);
        loop {
            self.pump();
            if done(self) {
                return true;
            }
            let next = (0..self.clients.len())
                .filter_map(|i| {
                    let t = self.clients[i].poll_timeout()?;
                    // Client time = network time + skew.
                    Some(t.saturating_add_signed(self.skews[i].saturating_neg()))
                })
                .min();
            let at = next.unwrap_or(end).min(end).max(self.net.now_ms());
            if at >= end && self.net.now_ms() >= end {
                return false;
            }
            // Time moves at least 1 ms per round, so nothing spins in place.
            let at = if at <= self.net.now_ms() {
                self.net.now_ms() + 1
            } else {
                at
            };
            self.net.set_time(at.min(end));
            for i in 0..self.clients.len() {
                let now = self.client_now(i);
                if self.clients[i].poll_timeout().is_some_and(|t| t <= now) {
                    self.clients[i].handle_timeout(now);
                }
            }
        }
    }
}
