//! Optional HTTPS for a node: a self-signed certificate made at start; nodes forward to each
//! other with metaless-client's service-node TLS configuration, which accepts any peer's
//! certificate.
//!
//! Real service nodes serve HTTPS with self-signed certificates that nobody can check against a
//! CA; what protects an onion request is that each layer is encrypted to the X25519 key the
//! sender took from the node list, so a TLS man in the middle learns nothing and cannot forge a
//! reply. The testnet's TLS mode reproduces that: each node makes a fresh P-256 certificate for
//! `localhost` / `127.0.0.1` when it starts (nothing is persisted: no client can pin it anyway,
//! so a new one per start costs nothing and leaves no key material on disk), and nodes forward
//! to each other over HTTPS without verifying certificates.

use std::sync::Arc;

use metaless_node::NodeError;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, ServerConfig};

/// The one crypto provider: ring (aws-lc-rs needs a C toolchain with cmake/nasm).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_err(e: impl core::fmt::Display) -> NodeError {
    NodeError::Config(format!("TLS setup failed: {e}"))
}

/// A node's TLS server side: a self-signed certificate for `localhost` and `127.0.0.1`,
/// generated when this value is made.
///
/// ```
/// let tls = metaless_node_server::tls::ServerTls::self_signed().unwrap();
/// assert!(!tls.certificate_der().is_empty());
/// ```
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    cert: CertificateDer<'static>,
}

impl core::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The private key stays out of logs.
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Generates a fresh key pair and self-signed certificate (P-256, SANs `localhost` and
    /// `127.0.0.1`) and the rustls server configuration serving it (TLS 1.2 and 1.3, HTTP/1.1).
    ///
    /// ```
    /// let a = metaless_node_server::tls::ServerTls::self_signed().unwrap();
    /// let b = metaless_node_server::tls::ServerTls::self_signed().unwrap();
    /// assert_ne!(a.certificate_der(), b.certificate_der()); // a new key every start
    /// ```
    pub fn self_signed() -> Result<Self, NodeError> {
        let rcgen::CertifiedKey { cert, key_pair } =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .map_err(tls_err)?;
        let cert = cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(tls_err)?
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .map_err(tls_err)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            cert,
        })
    }

    /// The certificate (DER), e.g. for a client that wants to pin this one node.
    ///
    /// ```
    /// let tls = metaless_node_server::tls::ServerTls::self_signed().unwrap();
    /// assert_eq!(tls.certificate_der()[0], 0x30); // a DER SEQUENCE
    /// ```
    pub fn certificate_der(&self) -> &[u8] {
        self.cert.as_ref()
    }

    /// The rustls server configuration.
    ///
    /// ```
    /// let tls = metaless_node_server::tls::ServerTls::self_signed().unwrap();
    /// assert_eq!(tls.server_config().alpn_protocols, vec![b"http/1.1".to_vec()]);
    /// ```
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }
}

/// The client side of node-to-node HTTPS: metaless-client's
/// [`node_client_tls_config`](metaless_client::http::node_client_tls_config), the one
/// configuration that accepts a service node's self-signed certificate (a node forwarding an
/// onion request or replicating a change is a client of its peers; the module docs say why
/// accepting any certificate is sound there).
pub(crate) fn node_client_config() -> Result<Arc<ClientConfig>, NodeError> {
    metaless_client::http::node_client_tls_config().map_err(tls_err)
}
