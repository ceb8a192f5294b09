//! How a client finds the network and how patient it is.

use metaless_identity::hex;
use metaless_onion::EncType;
use metaless_swarm::ServiceNode;
use serde_json::Value;

use crate::ClientError;

/// Seed nodes of the live Session network: HTTPS `POST /json_rpc` with `get_n_service_nodes`
/// answers the service node list (session-android `SnodeAPI` seed pool). Their self-signed
/// certificates are shipped (`http::MAINNET_SEED_CERTIFICATES`) and pinned by the default
/// `http::HttpTransport`, so `Config::mainnet()` needs nothing else (see `docs/client.md`).
///
/// ```
/// assert!(metaless_client::MAINNET_SEEDS.iter().all(|s| s.starts_with("https://seed")));
/// ```
pub const MAINNET_SEEDS: [&str; 3] = [
    "https://seed1.getsession.org:4443",
    "https://seed2.getsession.org:4443",
    "https://seed3.getsession.org:4443",
];

/// Where the first node list comes from.
///
/// ```
/// use metaless_client::Bootstrap;
/// let file = br#"{"version":1,"nodes":[{"pubkey_ed25519":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
///   "swarm_id":7, "address":"http://127.0.0.1:4000","ip":"127.0.0.1","port":4000}]}"#;
/// let Bootstrap::Nodes(nodes) = Bootstrap::from_testnet_file(file).unwrap() else { unreachable!() };
/// assert_eq!((nodes[0].storage_port, nodes[0].swarm_id), (4000, 7));
/// assert!(Bootstrap::from_testnet_file(b"{}").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// A full node list known up front (a local testnet's `bootstrap.json`, a cache).
    Nodes(Vec<ServiceNode>),
    /// Seed URLs (`scheme://host:port`) answering `get_n_service_nodes` on `/json_rpc`.
    Seeds(Vec<String>),
}

impl Bootstrap {
    /// The live network's seeds, [`MAINNET_SEEDS`].
    pub fn mainnet() -> Self {
        Self::Seeds(MAINNET_SEEDS.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Reads a local testnet's `bootstrap.json` (`{"version": 1, "nodes": [{"pubkey_ed25519",
    /// "pubkey_x25519", "swarm_id", "ip", "port", …}]}`, as `metaless testnet up` writes it).
    /// Every X25519 key must be the one derived from its Ed25519 key.
    pub fn from_testnet_file(bytes: &[u8]) -> Result<Self, ClientError> {
        let bad = |what: &str| ClientError::Bootstrap(format!("bootstrap file: {what}"));
        let top: Value = serde_json::from_slice(bytes).map_err(|_| bad("not JSON"))?;
        let list = top
            .get("nodes")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no nodes"))?;
        if list.len() > crate::limits::MAX_NODES {
            return Err(bad("too many nodes"));
        }
        let mut nodes = Vec::with_capacity(list.len());
        for entry in list {
            let text = |k: &str| entry.get(k).and_then(Value::as_str).ok_or_else(|| bad(k));
            let ed: [u8; 32] =
                hex::decode_array(text("pubkey_ed25519")?).map_err(|_| bad("pubkey_ed25519"))?;
            let ip: std::net::Ipv4Addr = text("ip")?.parse().map_err(|_| bad("ip"))?;
            let port = entry
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| bad("port"))?;
            let swarm = entry
                .get("swarm_id")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("swarm_id"))?;
            let node = ServiceNode::new(ed, ip.octets(), port, swarm)
                .map_err(|_| bad("pubkey_ed25519"))?;
            if let Some(x) = entry.get("pubkey_x25519").and_then(Value::as_str) {
                let x: [u8; 32] = hex::decode_array(x).map_err(|_| bad("pubkey_x25519"))?;
                if x != node.x25519 {
                    return Err(bad("pubkey_x25519 does not match pubkey_ed25519"));
                }
            }
            nodes.push(node);
        }
        if nodes.is_empty() {
            return Err(bad("no nodes"));
        }
        Ok(Self::Nodes(nodes))
    }
}

/// Client settings. [`Config::testnet`] and [`Config::mainnet`] (also [`Config::default`]) are
/// the starting points; change a field with its `with_*` setter. The struct is
/// `#[non_exhaustive]`: fields may be read and assigned, but it is not built with a struct
/// expression, so a new field in a later version breaks no caller.
///
/// ```
/// use metaless_client::{Bootstrap, Config};
/// let c = Config::mainnet();
/// assert_eq!(c.hops, 3);
/// assert!(c.https);
/// assert!(matches!(c.bootstrap, Bootstrap::Seeds(_)));
/// let quick = Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(Some(250)).with_hops(2);
/// assert_eq!((quick.poll_interval_ms, quick.hops), (Some(250), 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Where the first node list comes from.
    pub bootstrap: Bootstrap,
    /// Reach nodes over HTTPS (the live network) rather than plain HTTP (a local testnet).
    pub https: bool,
    /// Onion hops per path (1 to [`MAX_HOPS`](crate::limits::MAX_HOPS)); the destination is
    /// not counted.
    pub hops: usize,
    /// Most onion paths kept at once.
    pub paths: usize,
    /// Encryption of the onion layers.
    pub enc: EncType,
    /// How long one request may take before it counts as failed.
    pub request_timeout_ms: u64,
    /// Interval between polls of the own swarm; `None` = poll only on
    /// [`Client::poll_now`](crate::Client::poll_now).
    pub poll_interval_ms: Option<u64>,
    /// Interval between node list refreshes.
    pub node_refresh_ms: u64,
    /// First retry delay; doubled per attempt up to `retry_max_ms`.
    pub retry_base_ms: u64,
    /// Longest retry delay.
    pub retry_max_ms: u64,
    /// Attempts before a non-send operation fails (sends retry until their TTL runs out).
    pub max_attempts: u32,
    /// Failures through one path before it is dropped and rebuilt.
    pub path_strikes: u32,
    /// Failures of one node before it is blacklisted.
    pub node_strikes: u32,
    /// How long a blacklisted node is avoided.
    pub blacklist_ms: u64,
    /// Most requests in flight at once.
    pub max_in_flight: usize,
    /// Swarm members that must show the message stored (each with a verified signature)
    /// before a send is [`Event::Delivered`](crate::Event::Delivered); all members when the
    /// swarm is smaller. Until then the send is retried on other members until its TTL.
    ///
    /// ```
    /// let c = metaless_client::Config::testnet(metaless_client::Bootstrap::Seeds(vec![]));
    /// assert_eq!(c.min_replicas, 2);
    /// ```
    pub min_replicas: usize,
}

impl Config {
    /// Defaults for a local testnet reached over plain HTTP on loopback.
    ///
    /// ```
    /// let c = metaless_client::Config::testnet(metaless_client::Bootstrap::Seeds(vec!["http://127.0.0.1:1".into()]));
    /// assert!(!c.https);
    /// ```
    pub fn testnet(bootstrap: Bootstrap) -> Self {
        Self {
            bootstrap,
            https: false,
            hops: 3,
            paths: 3,
            enc: EncType::XChaCha20,
            request_timeout_ms: 10_000,
            poll_interval_ms: Some(1_000),
            node_refresh_ms: 3_600_000,
            retry_base_ms: 200,
            retry_max_ms: 10_000,
            max_attempts: 8,
            path_strikes: 2,
            node_strikes: 2,
            blacklist_ms: 600_000,
            max_in_flight: 64,
            min_replicas: 2,
        }
    }

    /// Defaults for the live network: HTTPS, seed bootstrap, slower polling.
    pub fn mainnet() -> Self {
        Self {
            https: true,
            request_timeout_ms: 30_000,
            poll_interval_ms: Some(3_000),
            retry_base_ms: 1_000,
            retry_max_ms: 60_000,
            node_strikes: 3,
            path_strikes: 3,
            ..Self::testnet(Bootstrap::mainnet())
        }
    }

    /// The settings for a local testnet's `bootstrap.json` (as `metaless testnet up` or
    /// `metaless_node_server::local::start` write it): [`Config::testnet`] with the file's
    /// nodes ([`Bootstrap::from_testnet_file`]), over HTTPS when its node addresses are
    /// `https://` (a testnet started with TLS).
    ///
    /// ```
    /// use metaless_client::Config;
    /// let file = br#"{"version":1,"nodes":[{"pubkey_ed25519":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    ///   "swarm_id":7, "address":"https://127.0.0.1:4000","ip":"127.0.0.1","port":4000}]}"#;
    /// let c = Config::from_testnet_file(file).unwrap();
    /// assert!(c.https);
    /// let plain = String::from_utf8_lossy(file).replace("https://", "http://");
    /// assert!(!Config::from_testnet_file(plain.as_bytes()).unwrap().https);
    /// assert!(Config::from_testnet_file(b"[]").is_err());
    /// ```
    pub fn from_testnet_file(bytes: &[u8]) -> Result<Self, ClientError> {
        let bootstrap = Bootstrap::from_testnet_file(bytes)?;
        let https = serde_json::from_slice::<Value>(bytes)
            .ok()
            .as_ref()
            .and_then(|top| {
                top.get("nodes")?
                    .get(0)?
                    .get("address")?
                    .as_str()
                    .map(str::to_owned)
            })
            .is_some_and(|a| a.starts_with("https://"));
        Ok(Self::testnet(bootstrap).with_https(https))
    }

    // One setter per field, for callers outside the crate (the struct is `#[non_exhaustive]`).

    /// Sets `bootstrap`: Where the first node list comes from.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_bootstrap(Bootstrap::Seeds(vec!["http://127.0.0.1:22000".into()]));
    /// assert_eq!(c.bootstrap, Bootstrap::Seeds(vec!["http://127.0.0.1:22000".into()]));
    /// ```
    #[must_use]
    pub fn with_bootstrap(mut self, bootstrap: Bootstrap) -> Self {
        self.bootstrap = bootstrap;
        self
    }

    /// Sets `https`: Reach nodes over HTTPS (`true`) or plain HTTP.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_https(true);
    /// assert_eq!(c.https, true);
    /// ```
    #[must_use]
    pub fn with_https(mut self, https: bool) -> Self {
        self.https = https;
        self
    }

    /// Sets `hops`: Onion hops per path (clamped to 1 ..= [`MAX_HOPS`](crate::limits::MAX_HOPS) when the client starts).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_hops(2);
    /// assert_eq!(c.hops, 2);
    /// ```
    #[must_use]
    pub fn with_hops(mut self, hops: usize) -> Self {
        self.hops = hops;
        self
    }

    /// Sets `paths`: Most onion paths kept at once.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_paths(5);
    /// assert_eq!(c.paths, 5);
    /// ```
    #[must_use]
    pub fn with_paths(mut self, paths: usize) -> Self {
        self.paths = paths;
        self
    }

    /// Sets `enc`: Encryption of the onion layers.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_enc(metaless_onion::EncType::AesGcm);
    /// assert_eq!(c.enc, metaless_onion::EncType::AesGcm);
    /// ```
    #[must_use]
    pub fn with_enc(mut self, enc: EncType) -> Self {
        self.enc = enc;
        self
    }

    /// Sets `request_timeout_ms`: How long one request may take before it counts as failed.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_request_timeout_ms(5_000);
    /// assert_eq!(c.request_timeout_ms, 5_000);
    /// ```
    #[must_use]
    pub fn with_request_timeout_ms(mut self, request_timeout_ms: u64) -> Self {
        self.request_timeout_ms = request_timeout_ms;
        self
    }

    /// Sets `poll_interval_ms`: Interval between polls of the own swarm (`None`: only on [`Client::poll_now`](crate::Client::poll_now)).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None);
    /// assert_eq!(c.poll_interval_ms, None);
    /// ```
    #[must_use]
    pub fn with_poll_interval_ms(mut self, poll_interval_ms: Option<u64>) -> Self {
        self.poll_interval_ms = poll_interval_ms;
        self
    }

    /// Sets `node_refresh_ms`: Interval between node list refreshes.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_node_refresh_ms(60_000);
    /// assert_eq!(c.node_refresh_ms, 60_000);
    /// ```
    #[must_use]
    pub fn with_node_refresh_ms(mut self, node_refresh_ms: u64) -> Self {
        self.node_refresh_ms = node_refresh_ms;
        self
    }

    /// Sets `retry_base_ms`: First retry delay (doubled per attempt up to `retry_max_ms`).
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_retry_base_ms(50);
    /// assert_eq!(c.retry_base_ms, 50);
    /// ```
    #[must_use]
    pub fn with_retry_base_ms(mut self, retry_base_ms: u64) -> Self {
        self.retry_base_ms = retry_base_ms;
        self
    }

    /// Sets `retry_max_ms`: Longest retry delay.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_retry_max_ms(2_000);
    /// assert_eq!(c.retry_max_ms, 2_000);
    /// ```
    #[must_use]
    pub fn with_retry_max_ms(mut self, retry_max_ms: u64) -> Self {
        self.retry_max_ms = retry_max_ms;
        self
    }

    /// Sets `max_attempts`: Attempts before a non-send operation fails.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_max_attempts(3);
    /// assert_eq!(c.max_attempts, 3);
    /// ```
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets `path_strikes`: Failures through one path before it is dropped and rebuilt.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_path_strikes(1);
    /// assert_eq!(c.path_strikes, 1);
    /// ```
    #[must_use]
    pub fn with_path_strikes(mut self, path_strikes: u32) -> Self {
        self.path_strikes = path_strikes;
        self
    }

    /// Sets `node_strikes`: Failures of one node before it is blacklisted.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_node_strikes(4);
    /// assert_eq!(c.node_strikes, 4);
    /// ```
    #[must_use]
    pub fn with_node_strikes(mut self, node_strikes: u32) -> Self {
        self.node_strikes = node_strikes;
        self
    }

    /// Sets `blacklist_ms`: How long a blacklisted node is avoided.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_blacklist_ms(5_000);
    /// assert_eq!(c.blacklist_ms, 5_000);
    /// ```
    #[must_use]
    pub fn with_blacklist_ms(mut self, blacklist_ms: u64) -> Self {
        self.blacklist_ms = blacklist_ms;
        self
    }

    /// Sets `max_in_flight`: Most requests in flight at once.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_max_in_flight(8);
    /// assert_eq!(c.max_in_flight, 8);
    /// ```
    #[must_use]
    pub fn with_max_in_flight(mut self, max_in_flight: usize) -> Self {
        self.max_in_flight = max_in_flight;
        self
    }

    /// Sets `min_replicas`: Swarm members that must show a message stored before it is delivered.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Config};
    /// let c = Config::testnet(Bootstrap::Seeds(vec![])).with_min_replicas(1);
    /// assert_eq!(c.min_replicas, 1);
    /// ```
    #[must_use]
    pub fn with_min_replicas(mut self, min_replicas: usize) -> Self {
        self.min_replicas = min_replicas;
        self
    }
}

impl Default for Config {
    /// [`Config::mainnet`]: the live network.
    ///
    /// ```
    /// assert_eq!(metaless_client::Config::default(), metaless_client::Config::mainnet());
    /// ```
    fn default() -> Self {
        Self::mainnet()
    }
}
