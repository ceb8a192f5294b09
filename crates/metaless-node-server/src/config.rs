//! Testnet configuration: every node's key seed, port and swarm id, as JSON.
//!
//! `config.json` holds node **secrets** (Ed25519 seeds) and is written with mode 0600;
//! `bootstrap.json` holds only public facts and is what clients read.

use std::path::Path;

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use metaless_identity::{Keypair, Seed, hex};
use metaless_node::NodeError;
use metaless_node::network::{NetworkMap, NodeInfo, generate_nodes};

pub use metaless_node::network::swarm_ids;

/// File name of the testnet configuration inside its directory.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the bootstrap file `testnet up` writes for clients.
pub const BOOTSTRAP_FILE: &str = "bootstrap.json";

/// The bind and advertised address of a node or server whose `config.json` entry names none
/// (every file written before private networks, and every single-machine testnet).
pub const DEFAULT_ADDRESS: &str = "127.0.0.1";

fn default_address() -> String {
    DEFAULT_ADDRESS.into()
}

/// One node of a testnet configuration. Its `Debug` form leaves the seed out.
///
/// ```
/// # use rand_core::SeedableRng;
/// let cfg = metaless_node_server::config::TestnetConfig::generate(1, 1, 0,
///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
/// let printed = format!("{cfg:?}");
/// assert!(!printed.contains(&cfg.nodes[0].seed));
/// assert!(printed.contains(&cfg.nodes[0].pubkey_ed25519));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// Hex Ed25519 seed (secret).
    pub seed: String,
    /// Hex Ed25519 public key (checked against the seed on load).
    pub pubkey_ed25519: String,
    /// Hex X25519 public key.
    pub pubkey_x25519: String,
    /// Swarm id.
    pub swarm_id: u64,
    /// Port; 0 = pick a free one when the node starts.
    pub port: u16,
    /// The IP address the node listens on ([`DEFAULT_ADDRESS`] when missing; `0.0.0.0`
    /// listens on every interface of its machine).
    #[serde(default = "default_address")]
    pub bind_address: String,
    /// The IPv4 address clients and the other nodes reach it at, listed in `bootstrap.json`
    /// and the network map ([`DEFAULT_ADDRESS`] when missing).
    #[serde(default = "default_address")]
    pub advertised_address: String,
}

impl core::fmt::Debug for NodeEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NodeEntry")
            .field("seed", &"<redacted>")
            .field("pubkey_ed25519", &self.pubkey_ed25519)
            .field("pubkey_x25519", &self.pubkey_x25519)
            .field("swarm_id", &self.swarm_id)
            .field("port", &self.port)
            .field("bind_address", &self.bind_address)
            .field("advertised_address", &self.advertised_address)
            .finish()
    }
}

impl NodeEntry {
    /// The node's keypair from its seed.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let cfg = metaless_node_server::config::TestnetConfig::generate(2, 1, 0,
    ///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let k = cfg.nodes[0].keypair().unwrap();
    /// assert_eq!(metaless_identity::hex::encode(&k.ed25519_public()), cfg.nodes[0].pubkey_ed25519);
    /// ```
    pub fn keypair(&self) -> Result<Keypair, NodeError> {
        let seed =
            Seed::from_hex(&self.seed).map_err(|_| NodeError::Config("bad node seed".into()))?;
        let k = Keypair::from_seed(&seed);
        if hex::encode(&k.ed25519_public()) != self.pubkey_ed25519 {
            return Err(NodeError::Config(
                "node seed does not match its pubkey_ed25519".into(),
            ));
        }
        Ok(k)
    }
}

/// One HTTP server of a testnet that clients reach through onion requests (the file server,
/// the community server, the push server): its key seed and port. `Debug` leaves the seed out.
///
/// ```
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
/// let s = metaless_node_server::config::ServiceEntry::generate(0, &mut rng);
/// assert_eq!(s.keypair().unwrap().ed25519_public().len(), 32);
/// assert!(!format!("{s:?}").contains(&s.seed));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    /// Hex Ed25519 seed (secret); its X25519 half opens the onion layers sent to the server.
    pub seed: String,
    /// Hex Ed25519 public key (checked against the seed on load; also the `--only` key).
    pub pubkey_ed25519: String,
    /// Hex X25519 public key.
    pub pubkey_x25519: String,
    /// Port; 0 = pick a free one when the server starts.
    pub port: u16,
    /// The IP address it listens on ([`DEFAULT_ADDRESS`] when missing).
    #[serde(default = "default_address")]
    pub bind_address: String,
    /// The IPv4 address clients reach it at ([`DEFAULT_ADDRESS`] when missing).
    #[serde(default = "default_address")]
    pub advertised_address: String,
}

impl core::fmt::Debug for ServiceEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServiceEntry")
            .field("seed", &"<redacted>")
            .field("pubkey_ed25519", &self.pubkey_ed25519)
            .field("port", &self.port)
            .field("advertised_address", &self.advertised_address)
            .finish()
    }
}

impl ServiceEntry {
    /// A fresh key seed from `rng`, on `port`.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let s = metaless_node_server::config::ServiceEntry::generate(4100,
    ///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// assert_eq!(s.port, 4100);
    /// ```
    pub fn generate(port: u16, rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let seed = Seed::generate(rng);
        let k = Keypair::from_seed(&seed);
        Self {
            seed: hex::encode(seed.expose_secret()),
            pubkey_ed25519: hex::encode(&k.ed25519_public()),
            pubkey_x25519: hex::encode(&k.x25519_public()),
            port,
            bind_address: default_address(),
            advertised_address: default_address(),
        }
    }

    /// The server's keypair from its seed.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let s = metaless_node_server::config::ServiceEntry::generate(0,
    ///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// let k = s.keypair().unwrap();
    /// assert_eq!(metaless_identity::hex::encode(&k.x25519_public()), s.pubkey_x25519);
    /// ```
    pub fn keypair(&self) -> Result<Keypair, NodeError> {
        let seed =
            Seed::from_hex(&self.seed).map_err(|_| NodeError::Config("bad service seed".into()))?;
        let k = Keypair::from_seed(&seed);
        if hex::encode(&k.ed25519_public()) != self.pubkey_ed25519 {
            return Err(NodeError::Config(
                "service seed does not match its pubkey_ed25519".into(),
            ));
        }
        Ok(k)
    }
}

/// A whole testnet: every node, its keys, port and swarm, and the HTTP servers beside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestnetConfig {
    /// Format version (1).
    pub version: u32,
    /// The nodes.
    pub nodes: Vec<NodeEntry>,
    /// The local file server (attachments), if this testnet runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_server: Option<ServiceEntry>,
    /// The local community server, if this testnet runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<ServiceEntry>,
    /// The local (mock) push notification server, if this testnet runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_server: Option<ServiceEntry>,
}

impl TestnetConfig {
    /// `nodes` nodes in `swarms` swarms ([`generate_nodes`]: keys from `rng`,
    /// swarms round-robin), ports `base_port + i` (or all 0 when `base_port` is 0: ephemeral
    /// ports).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let cfg = metaless_node_server::config::TestnetConfig::generate(6, 2, 0,
    ///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// assert_eq!(cfg.nodes.len(), 6);
    /// assert_eq!(cfg.network().unwrap().swarm_ids().len(), 2);
    /// ```
    pub fn generate(
        nodes: usize,
        swarms: usize,
        base_port: u16,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let nodes = generate_nodes(nodes, swarms, rng)
            .into_iter()
            .enumerate()
            .map(|(i, node)| {
                let k = Keypair::from_seed(&node.seed);
                NodeEntry {
                    seed: hex::encode(node.seed.expose_secret()),
                    pubkey_ed25519: hex::encode(&k.ed25519_public()),
                    pubkey_x25519: hex::encode(&k.x25519_public()),
                    swarm_id: node.swarm_id,
                    port: if base_port == 0 {
                        0
                    } else {
                        base_port.saturating_add(u16::try_from(i).unwrap_or(u16::MAX))
                    },
                    bind_address: default_address(),
                    advertised_address: default_address(),
                }
            })
            .collect();
        Self {
            version: 1,
            nodes,
            file_server: None,
            community: None,
            push_server: None,
        }
    }

    /// Adds the servers `metaless testnet up` runs beside the nodes — the file server, the
    /// community server and the push server, in that order — on the ports after the nodes'
    /// (`base_port + nodes + i`, or 0 when `base_port` is 0).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    /// let cfg = metaless_node_server::config::TestnetConfig::generate(4, 1, 5000, &mut rng)
    ///     .with_services(5000, &mut rng);
    /// assert_eq!(cfg.file_server.as_ref().unwrap().port, 5004);
    /// assert_eq!(cfg.community.as_ref().unwrap().port, 5005);
    /// assert_eq!(cfg.push_server.as_ref().unwrap().port, 5006);
    /// ```
    pub fn with_services(mut self, base_port: u16, rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let port = |i: usize| {
            if base_port == 0 {
                0
            } else {
                let offset = u16::try_from(self.nodes.len() + i).unwrap_or(u16::MAX);
                base_port.saturating_add(offset)
            }
        };
        let (file, community, push) = (port(0), port(1), port(2));
        self.file_server = Some(ServiceEntry::generate(file, rng));
        self.community = Some(ServiceEntry::generate(community, rng));
        self.push_server = Some(ServiceEntry::generate(push, rng));
        self
    }

    /// Spreads the nodes over `hosts` for a private network across machines: each node binds
    /// to and advertises its host's address, round-robin within each swarm (member `j` of the
    /// `s`-th swarm on host `(s + j) mod hosts`), so every swarm spans as many hosts as it has
    /// members; the servers beside the nodes go to the first host. No hosts: unchanged.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    /// let hosts = ["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()];
    /// let cfg = metaless_node_server::config::TestnetConfig::generate(4, 2, 5000, &mut rng)
    ///     .with_services(5000, &mut rng)
    ///     .on_hosts(&hosts);
    /// let at: Vec<&str> = cfg.nodes.iter().map(|n| n.advertised_address.as_str()).collect();
    /// // Nodes 0 and 2 are swarm 0, nodes 1 and 3 swarm 1: each swarm on both hosts.
    /// assert_eq!(at, ["127.0.0.2", "127.0.0.3", "127.0.0.3", "127.0.0.2"]);
    /// assert_eq!(cfg.file_server.unwrap().bind_address, "127.0.0.2");
    /// ```
    pub fn on_hosts(mut self, hosts: &[std::net::Ipv4Addr]) -> Self {
        if hosts.is_empty() {
            return self;
        }
        let mut swarms: Vec<(u64, usize)> = Vec::new(); // (swarm id, members placed so far)
        for n in &mut self.nodes {
            let s = match swarms.iter().position(|(id, _)| *id == n.swarm_id) {
                Some(s) => s,
                None => {
                    swarms.push((n.swarm_id, 0));
                    swarms.len() - 1
                }
            };
            let j = swarms.get(s).map_or(0, |(_, j)| *j);
            if let Some(entry) = swarms.get_mut(s) {
                entry.1 += 1;
            }
            let host = hosts[(s + j) % hosts.len()].to_string();
            n.bind_address.clone_from(&host);
            n.advertised_address = host;
        }
        let first = hosts[0].to_string();
        for s in [
            &mut self.file_server,
            &mut self.community,
            &mut self.push_server,
        ]
        .into_iter()
        .flatten()
        {
            s.bind_address.clone_from(&first);
            s.advertised_address.clone_from(&first);
        }
        self
    }

    /// The configured servers beside the nodes, each with its role name.
    pub(crate) fn services(&self) -> impl Iterator<Item = (&'static str, &ServiceEntry)> {
        [
            ("file_server", &self.file_server),
            ("community", &self.community),
            ("push_server", &self.push_server),
        ]
        .into_iter()
        .filter_map(|(name, s)| s.as_ref().map(|s| (name, s)))
    }

    /// Node infos with the given actual ports (same order as `nodes`).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let cfg = metaless_node_server::config::TestnetConfig::generate(1, 1, 5000,
    ///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// assert_eq!(cfg.infos(&[5000]).unwrap()[0].port, 5000);
    /// ```
    pub fn infos(&self, ports: &[u16]) -> Result<Vec<NodeInfo>, NodeError> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let k = n.keypair()?;
                Ok(NodeInfo {
                    pubkey_ed25519: k.ed25519_public(),
                    pubkey_x25519: k.x25519_public(),
                    swarm_id: n.swarm_id,
                    ip: n.advertised_address.clone(),
                    port: ports.get(i).copied().unwrap_or(n.port),
                })
            })
            .collect()
    }

    /// The network map with the configured ports.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let cfg = metaless_node_server::config::TestnetConfig::generate(3, 3, 0,
    ///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// assert_eq!(cfg.network().unwrap().nodes().len(), 3);
    /// ```
    pub fn network(&self) -> Result<NetworkMap, NodeError> {
        Ok(NetworkMap::new(self.infos(&[])?))
    }

    /// Reads `dir/config.json`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(metaless_node_server::config::TestnetConfig::load(dir.path()).is_err());
    /// ```
    pub fn load(dir: &Path) -> Result<Self, NodeError> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            // The usual mistake (`up` before `init`): say what to run.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(NodeError::Config(format!(
                    "no testnet in {} (no {CONFIG_FILE}): run `metaless testnet init --dir {}` first",
                    dir.display(),
                    dir.display()
                )));
            }
            Err(e) => {
                return Err(NodeError::Config(format!("{}: {e}", path.display())));
            }
        };
        let cfg: Self = serde_json::from_str(&text)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
        if cfg.version != 1 {
            return Err(NodeError::Config(format!(
                "unsupported config version {}",
                cfg.version
            )));
        }
        if cfg.nodes.is_empty() {
            return Err(NodeError::Config("no nodes".into()));
        }
        for n in &cfg.nodes {
            n.keypair()?;
            check_addresses(&n.pubkey_ed25519, &n.bind_address, &n.advertised_address)?;
        }
        for (_, service) in cfg.services() {
            service.keypair()?;
            check_addresses(
                &service.pubkey_ed25519,
                &service.bind_address,
                &service.advertised_address,
            )?;
        }
        Ok(cfg)
    }

    /// Writes `dir/config.json` (mode 0600: it holds node secrets).
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// let dir = tempfile::tempdir().unwrap();
    /// let cfg = metaless_node_server::config::TestnetConfig::generate(2, 1, 0,
    ///     &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    /// cfg.save(dir.path()).unwrap();
    /// assert_eq!(metaless_node_server::config::TestnetConfig::load(dir.path()).unwrap(), cfg);
    /// ```
    pub fn save(&self, dir: &Path) -> Result<(), NodeError> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(CONFIG_FILE);
        write_private(&path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// A bind address is an IP address; an advertised one an IPv4 address (the network map and the
/// service-node records clients read carry IPv4 only).
fn check_addresses(key: &str, bind: &str, advertised: &str) -> Result<(), NodeError> {
    if bind.parse::<std::net::IpAddr>().is_err() {
        return Err(NodeError::Config(format!(
            "{key}: bind_address {bind:?} is not an IP address"
        )));
    }
    if advertised.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(NodeError::Config(format!(
            "{key}: advertised_address {advertised:?} is not an IPv4 address"
        )));
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// What clients read: every node's public keys, swarm and URL, and the servers beside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    /// Format version (1).
    pub version: u32,
    /// The nodes.
    pub nodes: Vec<BootstrapNode>,
    /// The local file server: `url` is its base URL (`http://127.0.0.1:PORT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_server: Option<BootstrapService>,
    /// The local community server: `url` is a room's URL with the server's public key
    /// (`http://127.0.0.1:PORT/ROOM?public_key=HEX`), as users share them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<BootstrapService>,
    /// The local push server: `url` is its base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_server: Option<BootstrapService>,
}

/// A server in `bootstrap.json` that clients reach with onion requests to its X25519 key.
///
/// ```
/// let json = r#"{"version":1,"nodes":[],"file_server":{"url":"http://127.0.0.1:4100",
///   "pubkey_ed25519":"aa","pubkey_x25519":"bb"}}"#;
/// let b: metaless_node_server::config::Bootstrap = serde_json::from_str(json).unwrap();
/// assert_eq!(b.file_server.unwrap().url, "http://127.0.0.1:4100");
/// assert!(b.community.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapService {
    /// Where it listens (see the field of [`Bootstrap`] for each server's form).
    pub url: String,
    /// Hex Ed25519 public key (what a file URL's `#p=` carries).
    pub pubkey_ed25519: String,
    /// Hex X25519 public key (what onion requests are encrypted to).
    pub pubkey_x25519: String,
}

/// One node in `bootstrap.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapNode {
    /// Hex Ed25519 public key.
    pub pubkey_ed25519: String,
    /// Hex X25519 public key.
    pub pubkey_x25519: String,
    /// Swarm id.
    pub swarm_id: u64,
    /// `http://IP:PORT` (the node's advertised address), or `https://IP:PORT` for a testnet
    /// in TLS mode.
    pub address: String,
    /// Advertised IP address.
    pub ip: String,
    /// Port.
    pub port: u16,
}

impl Bootstrap {
    /// From node infos.
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// let b = metaless_node_server::config::Bootstrap::from_infos(&[n]);
    /// assert_eq!(b.nodes[0].address, "http://127.0.0.1:4000");
    /// ```
    pub fn from_infos(infos: &[NodeInfo]) -> Self {
        Self::from_infos_tls(infos, false)
    }

    /// From node infos, with `https://` addresses when `tls`.
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// let b = metaless_node_server::config::Bootstrap::from_infos_tls(&[n], true);
    /// assert_eq!(b.nodes[0].address, "https://127.0.0.1:4000");
    /// ```
    pub fn from_infos_tls(infos: &[NodeInfo], tls: bool) -> Self {
        Self {
            version: 1,
            nodes: infos
                .iter()
                .map(|n| BootstrapNode {
                    pubkey_ed25519: hex::encode(&n.pubkey_ed25519),
                    pubkey_x25519: hex::encode(&n.pubkey_x25519),
                    swarm_id: n.swarm_id,
                    address: n.base_url(tls),
                    ip: n.ip.clone(),
                    port: n.port,
                })
                .collect(),
            file_server: None,
            community: None,
            push_server: None,
        }
    }

    /// Back to node infos (errors on malformed keys).
    ///
    /// ```
    /// let n = metaless_node::NodeInfo { pubkey_ed25519: [1; 32], pubkey_x25519: [2; 32],
    ///     swarm_id: 7, ip: "127.0.0.1".into(), port: 4000 };
    /// let b = metaless_node_server::config::Bootstrap::from_infos(&[n.clone()]);
    /// assert_eq!(b.infos().unwrap(), vec![n]);
    /// ```
    pub fn infos(&self) -> Result<Vec<NodeInfo>, NodeError> {
        self.nodes
            .iter()
            .map(|n| {
                let key = |s: &str| {
                    hex::decode_array::<32>(s)
                        .map_err(|_| NodeError::Config("bad key in bootstrap".into()))
                };
                Ok(NodeInfo {
                    pubkey_ed25519: key(&n.pubkey_ed25519)?,
                    pubkey_x25519: key(&n.pubkey_x25519)?,
                    swarm_id: n.swarm_id,
                    ip: n.ip.clone(),
                    port: n.port,
                })
            })
            .collect()
    }

    /// Reads `dir/bootstrap.json`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(metaless_node_server::config::Bootstrap::load(dir.path()).is_err());
    /// ```
    pub fn load(dir: &Path) -> Result<Self, NodeError> {
        Ok(serde_json::from_str(&std::fs::read_to_string(
            dir.join(BOOTSTRAP_FILE),
        )?)?)
    }

    /// Writes `dir/bootstrap.json`, atomically (a temporary file renamed over it): several
    /// processes of one testnet (`up --only`) write it, and a reader never sees half a file.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let b = metaless_node_server::config::Bootstrap::from_infos(&[]);
    /// b.save(dir.path()).unwrap();
    /// assert_eq!(metaless_node_server::config::Bootstrap::load(dir.path()).unwrap(), b);
    /// ```
    pub fn save(&self, dir: &Path) -> Result<(), NodeError> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{BOOTSTRAP_FILE}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?)?;
        std::fs::rename(&tmp, dir.join(BOOTSTRAP_FILE))?;
        Ok(())
    }
}
