//! A whole testnet in one process: every node of a [`TestnetConfig`] served on loopback, data in
//! a directory (a temporary one unless given), `bootstrap.json` written for clients.

use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore};

use metaless_node::{NetworkMap, Node, NodeConfig, NodeError, NodeInfo, Observation};

use crate::config::{Bootstrap, BootstrapService, ServiceEntry, TestnetConfig};
use crate::front::FrontLimits;
use crate::server::{self, ServerHandle};
use crate::storage::{DEFAULT_SIZE_LIMIT, Durability, SqliteStorage};
use crate::tls::ServerTls;

/// Most nodes `testnet init` will configure (one process, one machine).
pub const MAX_TESTNET_NODES: usize = 1000;

/// Ports `testnet init --base-port` keeps after the nodes' for the servers beside them (file,
/// community and push server).
pub const SERVICE_PORTS: usize = 3;

/// How to start a testnet.
#[derive(Debug, Clone, Default)]
pub struct TestnetOptions {
    /// Data directory (one SQLite database per node under `<dir>/nodes/<ed25519 hex>/`, and
    /// `bootstrap.json`); `None` = a temporary directory removed on shutdown.
    pub data_dir: Option<PathBuf>,
    /// Record per-request observations on every node (demo / research only).
    pub observe: bool,
    /// SQLite durability.
    pub durability: Durability,
    /// Serve HTTPS, each node with a self-signed certificate generated at start (not
    /// persisted), and forward between nodes over HTTPS; `bootstrap.json` then lists
    /// `https://` addresses. Plain HTTP when false (the default).
    pub tls: bool,
    /// Start only these nodes (Ed25519 keys), for one process per node: every node must then
    /// have a fixed port in the configuration (`init --base-port`), so the network map and
    /// `bootstrap.json` list all nodes, running here or not. Empty (the default) = all nodes.
    pub only: Vec<[u8; 32]>,
    /// Cap on each node's database in bytes; `None` = [`DEFAULT_SIZE_LIMIT`] (3.5 GB).
    pub db_size_limit: Option<u64>,
    /// The HTTP front's hostile-load limits ([`FrontLimits::default`] unless set).
    pub front: FrontLimits,
}

/// Entry point for in-process testnets.
#[derive(Debug)]
pub struct Testnet;

/// A running testnet.
#[derive(Debug)]
pub struct TestnetHandle {
    nodes: Vec<NodeInfo>,
    servers: Vec<ServerHandle>,
    /// The servers beside the nodes as `bootstrap.json` lists them (running here or not).
    services: Services,
    /// Those this process runs.
    running_services: Vec<RunningService>,
    tls: bool,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

/// The servers beside the nodes, as clients see them.
#[derive(Debug, Clone, Default)]
struct Services {
    file_server: Option<BootstrapService>,
    community: Option<BootstrapService>,
    push_server: Option<BootstrapService>,
}

/// The room the testnet's community server opens at start when it is missing (open to all:
/// read, write, upload); `bootstrap.json`'s `community.url` names it.
pub const COMMUNITY_ROOM: &str = "lobby";

/// Where the community server keeps its SQLite database, under the data directory.
pub const COMMUNITY_DB: &str = "community/sogs.db";

/// Directory of the push server's files under the data directory.
pub const PUSH_DIR: &str = "push-server";

/// The push server's delivery log inside [`PUSH_DIR`]: one JSON object a line, each push as
/// APNS / Firebase would receive it — `{"service", "service_info", "enc_payload"}`, the payload
/// in base64 (nonce ‖ XChaCha20-Poly1305 ciphertext, opened with the subscription's key).
pub const DELIVERIES_FILE: &str = "deliveries.jsonl";

/// How often the push server looks at this process's nodes for new messages of the accounts
/// it watches.
pub const PUSH_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// A server beside the nodes that this process runs.
enum RunningService {
    FileServer(metaless_file_server::server::ServerHandle),
    Community(metaless_community_server::server::ServerHandle),
    Push(metaless_push_server::server::ServerHandle),
}

impl core::fmt::Debug for RunningService {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::FileServer(h) => write!(f, "FileServer({})", h.addr()),
            Self::Community(h) => write!(f, "Community({})", h.addr()),
            Self::Push(h) => write!(f, "Push({})", h.addr()),
        }
    }
}

impl RunningService {
    async fn shutdown(self) {
        match self {
            Self::FileServer(h) => h.shutdown().await,
            Self::Community(h) => h.shutdown().await,
            Self::Push(h) => h.shutdown().await,
        }
    }
}

fn service_info(entry: &ServiceEntry, port: u16) -> BootstrapService {
    BootstrapService {
        url: format!("http://{}:{port}", entry.advertised_address),
        pubkey_ed25519: entry.pubkey_ed25519.clone(),
        pubkey_x25519: entry.pubkey_x25519.clone(),
    }
}

/// The community server as clients see it: the URL of [`COMMUNITY_ROOM`] with the server's
/// X25519 key, as Session's community links read (`http://HOST:PORT/ROOM?public_key=HEX`).
fn community_url(base: &str, entry: &ServiceEntry) -> String {
    format!("{base}/{COMMUNITY_ROOM}?public_key={}", entry.pubkey_x25519)
}

/// Binds a service's port (or an ephemeral one) when this process runs it, and says where it
/// is either way.
async fn bind_service(
    entry: &ServiceEntry,
    runs: bool,
) -> Result<(Option<tokio::net::TcpListener>, BootstrapService), NodeError> {
    if !runs {
        return Ok((None, service_info(entry, entry.port)));
    }
    let listener = bind(&entry.bind_address, entry.port).await?;
    let port = listener.local_addr()?.port();
    Ok((Some(listener), service_info(entry, port)))
}

/// Binds `address:port`, saying which address failed.
async fn bind(address: &str, port: u16) -> Result<tokio::net::TcpListener, NodeError> {
    let ip: std::net::IpAddr = address
        .parse()
        .map_err(|_| NodeError::Config(format!("bind address {address:?} is not an IP address")))?;
    tokio::net::TcpListener::bind((ip, port))
        .await
        .map_err(|e| {
            NodeError::Io(std::io::Error::new(
                e.kind(),
                format!("cannot listen on {address}:{port}: {e}"),
            ))
        })
}

/// Starts the file server of `entry` on `listener`, files under `data_dir/file-server/`.
fn spawn_file_server(
    entry: &ServiceEntry,
    listener: tokio::net::TcpListener,
    data_dir: &Path,
) -> Result<RunningService, NodeError> {
    use metaless_file_server::{Config, DiskStore, FileServerCore, server};
    let store = DiskStore::open(&data_dir.join("file-server"))
        .map_err(|e| NodeError::Config(format!("file server store: {}", e.0)))?;
    let handle = server::spawn(
        listener,
        FileServerCore::new(store, Config::default()),
        entry.keypair()?,
    )?;
    tracing::info!(url = %format!("http://{}", handle.addr()), "file server listening");
    Ok(RunningService::FileServer(handle))
}

/// Starts the community server of `entry` on `listener`: SQLite at `data_dir/`[`COMMUNITY_DB`],
/// [`COMMUNITY_ROOM`] created if missing.
fn spawn_community(
    entry: &ServiceEntry,
    listener: tokio::net::TcpListener,
    data_dir: &Path,
) -> Result<RunningService, NodeError> {
    use metaless_community_server::{Perms, server};
    let db = data_dir.join(COMMUNITY_DB);
    if let Some(parent) = db.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut config = server::ServerConfig::new(entry.keypair()?);
    config.db = Some(db);
    config.rooms = vec![(COMMUNITY_ROOM.into(), "Lobby".into(), Perms::ALL)];
    let handle = server::spawn(listener, config)
        .map_err(|e| NodeError::Config(format!("community server: {e}")))?;
    tracing::info!(url = %handle.url(COMMUNITY_ROOM), "community server listening");
    Ok(RunningService::Community(handle))
}

/// Starts the push server of `entry` on `listener`, watching `nodes` (this process's) every
/// [`PUSH_POLL_INTERVAL`] and appending each push to `data_dir/`[`PUSH_DIR`]`/`[`DELIVERIES_FILE`].
fn spawn_push_server(
    entry: &ServiceEntry,
    listener: tokio::net::TcpListener,
    data_dir: &Path,
    nodes: Vec<Node>,
) -> Result<RunningService, NodeError> {
    use metaless_push_server::server;
    let dir = data_dir.join(PUSH_DIR);
    std::fs::create_dir_all(&dir)?;
    let log = dir.join(DELIVERIES_FILE);
    let handle = server::spawn(listener, entry.keypair()?, move |d| {
        if let Err(e) = append_delivery(&log, &d) {
            tracing::warn!(%e, file = %log.display(), "push delivery not recorded");
        }
    })?;
    handle.watch(PUSH_POLL_INTERVAL, NodeWatch::new(nodes));
    tracing::info!(url = %handle.url(), "push server listening");
    Ok(RunningService::Push(handle))
}

/// Appends one push to the delivery log (one JSON line).
fn append_delivery(log: &Path, d: &metaless_push_server::Delivery) -> Result<(), NodeError> {
    use std::io::Write;
    let line = serde_json::json!({
        "service": d.service.service,
        "service_info": d.service.service_info,
        "enc_payload": metaless_swarm::b64::encode(&d.payload),
    });
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    f.write_all(format!("{line}\n").as_bytes())?;
    Ok(())
}

/// What the push server learns from the nodes this process runs: each watched account's new
/// messages, read from the nodes' storage after the last hash seen per node, account and
/// namespace (a vanished last hash reads from the start; the watcher drops repeats by hash).
struct NodeWatch {
    nodes: Vec<Node>,
    last: std::collections::BTreeMap<(usize, metaless_identity::SessionId, i16), String>,
}

/// Pages read per node, account and namespace at one tick (the rest waits for the next).
const WATCH_MAX_PAGES: usize = 16;

impl NodeWatch {
    fn new(nodes: Vec<Node>) -> Self {
        Self {
            nodes,
            last: Default::default(),
        }
    }
}

impl metaless_push_server::server::SwarmSource for NodeWatch {
    fn fetch(
        &mut self,
        watched: &[(metaless_identity::SessionId, Vec<i16>)],
    ) -> Vec<metaless_push_server::server::StoredMessage> {
        let now = i64::try_from(metaless_push_server::server::wall_ms()).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            for (account, namespaces) in watched {
                let owner = account.to_bytes();
                for &ns in namespaces {
                    let key = (i, *account, ns);
                    for _ in 0..WATCH_MAX_PAGES {
                        let after = self.last.get(&key).map(String::as_str);
                        // The store's lock only for one page: the node answers requests in
                        // between.
                        let read = node.storage().retrieve(&owner, ns, after, None, None, now);
                        let Ok((page, more)) = read else {
                            break;
                        };
                        if let Some(m) = page.last() {
                            self.last.insert(key, m.hash.clone());
                        }
                        out.extend(page.into_iter().map(|m| {
                            metaless_push_server::server::StoredMessage {
                                account: *account,
                                namespace: ns,
                                hash: m.hash,
                                data: m.data,
                            }
                        }));
                        if !more {
                            break;
                        }
                    }
                }
            }
        }
        out
    }
}

impl Testnet {
    /// Binds every node (configured port, or an ephemeral one for port 0) on its bind address
    /// (127.0.0.1 unless `config.json` names another) — or only the nodes of
    /// [`TestnetOptions::only`] —, opens its database, writes the complete
    /// `bootstrap.json` into the data directory and starts serving. Must be called inside a
    /// tokio runtime.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(3, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// assert_eq!(net.bootstrap().nodes.len(), 3);
    /// assert!(net.nodes()[0].url().starts_with("http://127.0.0.1:"));
    /// net.shutdown().await;
    /// # });
    /// ```
    pub async fn start(
        config: TestnetConfig,
        options: TestnetOptions,
    ) -> Result<TestnetHandle, NodeError> {
        let (data_dir, temp) = match options.data_dir {
            Some(d) => (d, None),
            None => {
                let t = tempfile::tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let run = selected(&config, &options.only)?;
        let mut listeners = Vec::with_capacity(config.nodes.len());
        for (n, &on) in config.nodes.iter().zip(&run) {
            listeners.push(if on {
                Some(bind(&n.bind_address, n.port).await?)
            } else {
                None
            });
        }
        let ports: Vec<u16> = listeners
            .iter()
            .zip(&config.nodes)
            .map(|(l, n)| {
                l.as_ref()
                    .map_or(Ok(n.port), |l| l.local_addr().map(|a| a.port()))
            })
            .collect::<Result<_, _>>()?;
        let infos = config.infos(&ports)?;
        let network = NetworkMap::new(infos.clone());
        let mut servers = Vec::with_capacity(infos.len());
        for ((entry, info), listener) in config.nodes.iter().zip(&infos).zip(listeners) {
            let Some(listener) = listener else { continue };
            let dir = node_dir(&data_dir, info);
            let mut storage = SqliteStorage::open(&dir, options.durability)?;
            storage.set_size_limit(options.db_size_limit.unwrap_or(DEFAULT_SIZE_LIMIT))?;
            let mut rng_seed = [0u8; 32];
            OsRng.fill_bytes(&mut rng_seed);
            let node = Node::new(NodeConfig {
                keypair: entry.keypair()?,
                info: info.clone(),
                network: network.clone(),
                storage: Box::new(storage),
                rng_seed,
                observe: options.observe,
            });
            let tls = if options.tls {
                Some(ServerTls::self_signed()?)
            } else {
                None
            };
            let handle = server::spawn_with(listener, node, tls, options.front.clone())?;
            tracing::info!(url = %info.base_url(options.tls), swarm = format!("{:x}", info.swarm_id), "node listening");
            servers.push(handle);
        }
        let mut services = Services::default();
        let mut running_services = Vec::new();
        if let Some(entry) = &config.file_server {
            let (listener, info) = bind_service(entry, runs_service(entry, &options.only)).await?;
            if let Some(listener) = listener {
                running_services.push(spawn_file_server(entry, listener, &data_dir)?);
            }
            services.file_server = Some(info);
        }
        if let Some(entry) = &config.community {
            let (listener, info) = bind_service(entry, runs_service(entry, &options.only)).await?;
            if let Some(listener) = listener {
                running_services.push(spawn_community(entry, listener, &data_dir)?);
            }
            services.community = Some(BootstrapService {
                url: community_url(&info.url, entry),
                ..info
            });
        }
        if let Some(entry) = &config.push_server {
            let (listener, info) = bind_service(entry, runs_service(entry, &options.only)).await?;
            if let Some(listener) = listener {
                let nodes = servers.iter().map(|s| s.core().clone()).collect();
                running_services.push(spawn_push_server(entry, listener, &data_dir, nodes)?);
            }
            services.push_server = Some(info);
        }
        let handle = TestnetHandle {
            nodes: infos,
            servers,
            services,
            running_services,
            tls: options.tls,
            data_dir,
            _temp: temp,
        };
        handle.bootstrap().save(&handle.data_dir)?;
        Ok(handle)
    }
}

/// Turns `up --only` values into the keys of [`TestnetOptions::only`]: a 64-hex-digit key
/// stands for itself; an IP address for every node and server whose advertised or bind
/// address it is (one host's share of a private network). Anything else is an error.
///
/// ```
/// # use rand_core::SeedableRng;
/// use metaless_node_server::{config::TestnetConfig, testnet::only_keys};
/// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
/// let hosts = ["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()];
/// let cfg = TestnetConfig::generate(4, 1, 6000, &mut rng).with_services(6000, &mut rng).on_hosts(&hosts);
/// assert_eq!(only_keys(&cfg, &["127.0.0.3".into()]).unwrap().len(), 2); // two nodes
/// assert_eq!(only_keys(&cfg, &["127.0.0.2".into()]).unwrap().len(), 5); // two nodes, three servers
/// let key = cfg.nodes[0].pubkey_ed25519.clone();
/// assert_eq!(only_keys(&cfg, &[key]).unwrap().len(), 1);
/// assert!(only_keys(&cfg, &["127.0.0.9".into()]).is_err()); // no node there
/// assert!(only_keys(&cfg, &["zz".into()]).is_err());
/// ```
pub fn only_keys(config: &TestnetConfig, only: &[String]) -> Result<Vec<[u8; 32]>, NodeError> {
    let mut keys: Vec<[u8; 32]> = Vec::new();
    let mut add = |k: [u8; 32]| {
        if !keys.contains(&k) {
            keys.push(k);
        }
    };
    for value in only {
        if let Ok(k) = metaless_identity::hex::decode_array::<32>(value) {
            add(k);
            continue;
        }
        let Ok(ip) = value.parse::<std::net::IpAddr>() else {
            return Err(NodeError::Config(format!(
                "--only {value}: neither a 64-hex-digit key nor an IP address"
            )));
        };
        let on = |bind: &str, advertised: &str| {
            [bind, advertised]
                .iter()
                .any(|a| a.parse::<std::net::IpAddr>().is_ok_and(|a| a == ip))
        };
        let here: Vec<&String> = config
            .nodes
            .iter()
            .filter(|n| on(&n.bind_address, &n.advertised_address))
            .map(|n| &n.pubkey_ed25519)
            .chain(
                config
                    .services()
                    .filter(|(_, s)| on(&s.bind_address, &s.advertised_address))
                    .map(|(_, s)| &s.pubkey_ed25519),
            )
            .collect();
        if here.is_empty() {
            return Err(NodeError::Config(format!(
                "--only {value}: no node or server of config.json is on that address"
            )));
        }
        for k in here {
            add(metaless_identity::hex::decode_array::<32>(k)
                .map_err(|_| NodeError::Config("bad key in config.json".into()))?);
        }
    }
    Ok(keys)
}

/// Whether this process runs the server `entry`: always without `--only`, else when its key
/// is listed.
fn runs_service(entry: &ServiceEntry, only: &[[u8; 32]]) -> bool {
    only.is_empty()
        || only
            .iter()
            .any(|k| metaless_identity::hex::encode(k) == entry.pubkey_ed25519)
}

/// Which nodes of `config` to run: all, or those named in `only` (every one must exist, and
/// with a subset every port must be fixed: another process serves the others).
fn selected(config: &TestnetConfig, only: &[[u8; 32]]) -> Result<Vec<bool>, NodeError> {
    if only.is_empty() {
        return Ok(vec![true; config.nodes.len()]);
    }
    let keys: Vec<String> = config
        .nodes
        .iter()
        .map(|n| n.pubkey_ed25519.clone())
        .collect();
    let service_keys: Vec<&String> = config.services().map(|(_, s)| &s.pubkey_ed25519).collect();
    for k in only {
        let k = metaless_identity::hex::encode(k);
        if !keys.contains(&k) && !service_keys.contains(&&k) {
            return Err(NodeError::Config(format!(
                "--only {k}: no such node or server in config.json"
            )));
        }
    }
    if config.nodes.iter().any(|n| n.port == 0) || config.services().any(|(_, s)| s.port == 0) {
        return Err(NodeError::Config(
            "--only needs fixed ports: run init with --base-port".into(),
        ));
    }
    Ok(keys
        .iter()
        .map(|k| only.iter().any(|o| metaless_identity::hex::encode(o) == *k))
        .collect())
}

fn node_dir(data_dir: &Path, info: &NodeInfo) -> PathBuf {
    data_dir
        .join("nodes")
        .join(metaless_identity::hex::encode(&info.pubkey_ed25519))
}

impl TestnetHandle {
    /// Every node's public facts with its real address (all nodes of the configuration, also
    /// those another process runs under [`TestnetOptions::only`]).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(2, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions { observe: true, ..Default::default() }).await.unwrap();
    /// assert!(net.nodes().iter().all(|n| n.port != 0));
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// How many nodes this process serves.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(3, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// assert_eq!(net.running(), 3);
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn running(&self) -> usize {
        self.servers.len()
    }

    /// What `bootstrap.json` holds.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(2, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions { observe: true, ..Default::default() }).await.unwrap();
    /// let on_disk = metaless_node_server::config::Bootstrap::load(net.data_dir()).unwrap();
    /// assert_eq!(net.bootstrap(), on_disk);
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn bootstrap(&self) -> Bootstrap {
        let mut b = Bootstrap::from_infos_tls(&self.nodes, self.tls);
        b.file_server = self.services.file_server.clone();
        b.community = self.services.community.clone();
        b.push_server = self.services.push_server.clone();
        b
    }

    /// The file server as `bootstrap.json` lists it (`None` unless the configuration has one:
    /// [`TestnetConfig::with_services`]).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    /// let cfg = TestnetConfig::generate(1, 1, 0, &mut rng).with_services(0, &mut rng);
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// let fs = net.file_server().unwrap();
    /// assert!(fs.url.starts_with("http://127.0.0.1:"));
    /// assert_eq!(metaless_node_server::config::Bootstrap::load(net.data_dir()).unwrap().file_server.as_ref(), Some(fs));
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn file_server(&self) -> Option<&BootstrapService> {
        self.services.file_server.as_ref()
    }

    /// The community server as `bootstrap.json` lists it: `url` is the [`COMMUNITY_ROOM`]'s
    /// URL with the server's X25519 key, `http://127.0.0.1:PORT/lobby?public_key=HEX` (`None`
    /// unless the configuration has one: [`TestnetConfig::with_services`]).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    /// let cfg = TestnetConfig::generate(1, 1, 0, &mut rng).with_services(0, &mut rng);
    /// let key = cfg.community.as_ref().unwrap().pubkey_x25519.clone();
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// let c = net.community().unwrap();
    /// assert!(c.url.starts_with("http://127.0.0.1:"));
    /// assert!(c.url.ends_with(&format!("/lobby?public_key={key}")));
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn community(&self) -> Option<&BootstrapService> {
        self.services.community.as_ref()
    }

    /// The push server as `bootstrap.json` lists it (`url` its base URL; `None` unless the
    /// configuration has one). It records each push in [`TestnetHandle::deliveries_file`].
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    /// let cfg = TestnetConfig::generate(1, 1, 0, &mut rng).with_services(0, &mut rng);
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// let push = net.push_server().unwrap();
    /// assert!(push.url.starts_with("http://127.0.0.1:"));
    /// assert_eq!(metaless_node_server::config::Bootstrap::load(net.data_dir()).unwrap().push_server.as_ref(), Some(push));
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn push_server(&self) -> Option<&BootstrapService> {
        self.services.push_server.as_ref()
    }

    /// The push server's delivery log, `DIR/`[`PUSH_DIR`]`/`[`DELIVERIES_FILE`] (it exists
    /// once a push was delivered).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(1, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// assert!(net.deliveries_file().ends_with("push-server/deliveries.jsonl"));
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn deliveries_file(&self) -> PathBuf {
        self.data_dir.join(PUSH_DIR).join(DELIVERIES_FILE)
    }

    /// Whether the nodes serve HTTPS ([`TestnetOptions::tls`]).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(1, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions { tls: true, ..Default::default() }).await.unwrap();
    /// assert!(net.is_tls());
    /// assert!(net.url(0).unwrap().starts_with("https://127.0.0.1:"));
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The base URL of node `index` (`https://` in TLS mode).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(1, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// assert_eq!(net.url(0), Some(net.nodes()[0].url()));
    /// assert_eq!(net.url(1), None);
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn url(&self, index: usize) -> Option<String> {
        self.nodes.get(index).map(|n| n.base_url(self.tls))
    }

    /// The data directory (databases and `bootstrap.json`).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(2, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions { observe: true, ..Default::default() }).await.unwrap();
    /// assert!(net.data_dir().join("bootstrap.json").exists());
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Takes the observation records of every node, oldest first (empty unless started with
    /// `observe`; with it, the nodes' catch-up requests to each other are recorded too).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(2, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// // Without `observe` nothing is recorded, even the nodes' own catch-up traffic.
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// assert!(net.take_observations().is_empty());
    /// net.shutdown().await;
    /// # });
    /// ```
    pub fn take_observations(&self) -> Vec<Observation> {
        let mut all: Vec<Observation> = self
            .servers
            .iter()
            .flat_map(|s| s.core().take_observations())
            .collect();
        all.sort_by(|a, b| (a.at_ms, &a.node, a.seq).cmp(&(b.at_ms, &b.node, b.seq)));
        all
    }

    /// Stops every node: no new connections, in-flight requests drained, databases closed.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use metaless_node_server::{config::TestnetConfig, testnet::{Testnet, TestnetOptions}};
    /// let cfg = TestnetConfig::generate(1, 1, 0, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let net = Testnet::start(cfg, TestnetOptions::default()).await.unwrap();
    /// let port = net.nodes()[0].port;
    /// net.shutdown().await;
    /// assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err());
    /// # });
    /// ```
    pub async fn shutdown(self) {
        for s in self.servers {
            s.shutdown().await;
        }
        for s in self.running_services {
            s.shutdown().await;
        }
    }
}

/// Writes `dir/config.json` for `nodes` nodes in `swarms` swarms (ports from `base_port`, or
/// ephemeral when 0), all on 127.0.0.1. Refuses to overwrite an existing configuration.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let cfg = metaless_node_server::testnet::init(dir.path(), 4, 2, 0).unwrap();
/// assert_eq!(cfg.nodes.len(), 4);
/// assert!(metaless_node_server::testnet::init(dir.path(), 4, 2, 0).is_err());
/// ```
pub fn init(
    dir: &Path,
    nodes: usize,
    swarms: usize,
    base_port: u16,
) -> Result<TestnetConfig, NodeError> {
    init_on(dir, nodes, swarms, base_port, &[])
}

/// [`init`] for a private network over several machines: the nodes spread over `hosts`
/// ([`TestnetConfig::on_hosts`]; none = all on 127.0.0.1). Each host then runs its share with
/// `up --only HOST`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let hosts = ["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()];
/// let cfg = metaless_node_server::testnet::init_on(dir.path(), 4, 1, 6000, &hosts).unwrap();
/// assert_eq!(cfg.nodes[1].advertised_address, "127.0.0.3");
/// // The same host twice is refused.
/// let other = tempfile::tempdir().unwrap();
/// assert!(metaless_node_server::testnet::init_on(other.path(), 4, 1, 6000, &[hosts[0], hosts[0]]).is_err());
/// ```
pub fn init_on(
    dir: &Path,
    nodes: usize,
    swarms: usize,
    base_port: u16,
    hosts: &[std::net::Ipv4Addr],
) -> Result<TestnetConfig, NodeError> {
    for (i, h) in hosts.iter().enumerate() {
        if hosts[..i].contains(h) {
            return Err(NodeError::Config(format!("--hosts names {h} twice")));
        }
        if h.is_unspecified() {
            return Err(NodeError::Config(
                "--hosts: 0.0.0.0 is no address to advertise".into(),
            ));
        }
    }
    if nodes == 0 || nodes > MAX_TESTNET_NODES {
        return Err(NodeError::Config(format!(
            "--nodes must be between 1 and {MAX_TESTNET_NODES}"
        )));
    }
    if swarms == 0 || swarms > nodes {
        return Err(NodeError::Config(
            "--swarms must be between 1 and --nodes".into(),
        ));
    }
    // The servers beside the nodes take the ports after them.
    if base_port != 0 && usize::from(base_port) + nodes + SERVICE_PORTS > usize::from(u16::MAX) {
        return Err(NodeError::Config("--base-port leaves too few ports".into()));
    }
    if dir.join(crate::config::CONFIG_FILE).exists() {
        return Err(NodeError::Config(
            "a testnet configuration already exists in that directory".into(),
        ));
    }
    let cfg = TestnetConfig::generate(nodes, swarms, base_port, &mut OsRng)
        .with_services(base_port, &mut OsRng)
        .on_hosts(hosts);
    cfg.save(dir)?;
    Ok(cfg)
}

/// Loads `dir/config.json`, starts every node (or those of `only`, [`TestnetOptions::only`])
/// with data under `dir`, writes `dir/bootstrap.json`, and runs until Ctrl-C or SIGTERM, then
/// shuts down cleanly. Returns the number of nodes that ran. `tls`: serve HTTPS
/// ([`TestnetOptions::tls`]).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// // No config.json: an error before any node starts (a real run waits for a signal).
/// assert!(metaless_node_server::testnet::run_until_signal(dir.path(), false, false, &[], None).await.is_err());
/// # });
/// ```
pub async fn run_until_signal(
    dir: &Path,
    observe: bool,
    tls: bool,
    only: &[[u8; 32]],
    db_size_limit: Option<u64>,
) -> Result<usize, NodeError> {
    let cfg = TestnetConfig::load(dir)?;
    let options = TestnetOptions {
        data_dir: Some(dir.to_path_buf()),
        observe,
        durability: Durability::Normal,
        tls,
        only: only.to_vec(),
        db_size_limit,
        front: FrontLimits::default(),
    };
    let net = Testnet::start(cfg, options).await?;
    let count = net.running();
    tracing::info!(nodes = count, bootstrap = %dir.join(crate::config::BOOTSTRAP_FILE).display(), "testnet up; Ctrl-C to stop");
    wait_for_signal().await;
    tracing::info!("shutting down");
    net.shutdown().await;
    Ok(count)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
