//! The hostile-load limits of a node's HTTP front ([`FrontLimits`]): timeouts, connection caps
//! per node and per peer address, a memory budget for buffered bodies, a per-client-IP token
//! bucket, and the accept loop's back-off. Upstream (session-storage-server
//! `oxenss/rpc/rate_limiter.h`): 300 requests/s per client IP, 600 for service nodes, buckets
//! of 600, at most 10,000 client buckets.
//!
//! ```
//! let limits = metaless_node_server::front::FrontLimits::default();
//! assert_eq!((limits.rate_per_s, limits.rate_bucket), (300, 600));
//! ```

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a client over its request budget is told (upstream's text), with status 429.
pub const RATE_LIMITED_TEXT: &str = "Too many requests, try again later";

/// Limits of one node's HTTP front. The defaults hold on one machine with many nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontLimits {
    /// Longest a client may take to send a request's headers (hyper's header-read timeout;
    /// also after a TLS handshake). Slowloris connections are closed by it.
    pub header_timeout: Duration,
    /// Longest a client may take to send a request body, once its headers are in (408 after).
    pub body_timeout: Duration,
    /// A connection with no bytes in either direction for this long is closed (between
    /// requests, or a stalled request).
    pub idle_timeout: Duration,
    /// Most open connections per node; one past it is closed at once.
    pub max_connections: usize,
    /// Most open connections from one peer IP address.
    pub max_connections_per_ip: usize,
    /// Most bytes of request bodies buffered at once across the node: a body larger than
    /// [`FrontLimits::small_body`] waits (at most `body_timeout`) for its declared size of this
    /// budget before a byte is read, so stalled uploads pin at most this much memory.
    pub body_budget: usize,
    /// Bodies up to this size are read without waiting for the budget.
    pub small_body: usize,
    /// Requests per second a client IP may make (token refill rate).
    pub rate_per_s: u32,
    /// Requests per second for the address of a node in the network map (upstream's
    /// `TOKEN_RATE_SN`).
    pub rate_per_s_node: u32,
    /// Token bucket size (burst).
    pub rate_bucket: u32,
    /// How long a pooled connection to another node may sit idle before it is closed.
    pub peer_pool_idle: Duration,
}

impl Default for FrontLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 2_048,
            max_connections_per_ip: 512,
            body_budget: 32 * 1024 * 1024,
            small_body: 64 * 1024,
            rate_per_s: 300,
            rate_per_s_node: 600,
            rate_bucket: 600,
            peer_pool_idle: Duration::from_secs(30),
        }
    }
}

/// Open connections, per node and per peer address.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; its drop frees the slot.
#[derive(Debug)]
pub(crate) struct Slot {
    conns: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    /// Admits a connection from `ip`, or `None` when a cap is reached.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr, limits: &FrontLimits) -> Option<Slot> {
        let mut per_ip = self.per_ip.lock().ok()?;
        let n = per_ip.get(&ip).copied().unwrap_or(0);
        if n >= limits.max_connections_per_ip
            || self.total.load(Ordering::Relaxed) >= limits.max_connections
        {
            return None;
        }
        per_ip.insert(ip, n + 1);
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            conns: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.conns.total.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut per_ip) = self.conns.per_ip.lock()
            && let Some(n) = per_ip.get_mut(&self.ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// Most client buckets kept (upstream `MAX_CLIENTS`); full ones are dropped first beyond it.
const MAX_BUCKETS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Per-IP token buckets.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    nodes: HashSet<IpAddr>,
}

impl RateLimiter {
    /// `nodes`: the addresses of the network map's nodes (they get the node rate).
    pub(crate) fn new(nodes: HashSet<IpAddr>) -> Self {
        Self {
            buckets: Mutex::new(HashMap::new()),
            nodes,
        }
    }

    /// Takes one token for `ip` at `now`; false = over the limit.
    pub(crate) fn allow(&self, ip: IpAddr, now: Instant, limits: &FrontLimits) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let rate = if self.nodes.contains(&ip) {
            limits.rate_per_s_node
        } else {
            limits.rate_per_s
        };
        let cap = f64::from(limits.rate_bucket);
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&ip) {
            // Buckets that refilled completely carry no state worth keeping.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * f64::from(rate) < cap
            });
            if buckets.len() >= MAX_BUCKETS {
                return false;
            }
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let refill = now.duration_since(b.at).as_secs_f64() * f64::from(rate);
        b.tokens = (b.tokens + refill).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A stream that remembers when bytes last moved (for the idle timeout).
pub(crate) struct Watched<S> {
    pub(crate) inner: S,
    pub(crate) last: Arc<AtomicU64>,
    pub(crate) epoch: Instant,
}

impl<S> Watched<S> {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The accept loop's back-off after an error (EMFILE, ENFILE …): 10 ms doubling to 1 s,
/// reset by the next success; logged at most once a second.
#[derive(Debug)]
pub(crate) struct AcceptBackoff {
    delay: Duration,
    last_log: Option<Instant>,
    suppressed: u64,
}

impl AcceptBackoff {
    pub(crate) fn new() -> Self {
        Self {
            delay: Duration::ZERO,
            last_log: None,
            suppressed: 0,
        }
    }

    /// An accept failed: how long to pause (and log, rate-limited).
    pub(crate) fn failed(&mut self, e: &std::io::Error, addr: std::net::SocketAddr) -> Duration {
        self.delay = (self.delay * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let now = Instant::now();
        if self
            .last_log
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
        {
            tracing::warn!(%addr, error = %e, suppressed = self.suppressed,
                pause_ms = u64::try_from(self.delay.as_millis()).unwrap_or(u64::MAX),
                "accept failed (out of file descriptors?); backing off");
            self.last_log = Some(now);
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
        self.delay
    }

    /// An accept succeeded.
    pub(crate) fn ok(&mut self) {
        self.delay = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_a_burst_then_the_rate() {
        let limits = FrontLimits::default();
        let rl = RateLimiter::new(HashSet::new());
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        let t0 = Instant::now();
        let burst = (0..700).filter(|_| rl.allow(ip, t0, &limits)).count();
        assert_eq!(burst, 600);
        // 100 ms later: 30 more tokens at 300/s.
        let t1 = t0 + Duration::from_millis(100);
        let more = (0..100).filter(|_| rl.allow(ip, t1, &limits)).count();
        assert_eq!(more, 30);
        // Another address has its own bucket.
        assert!(rl.allow("127.0.0.8".parse().unwrap(), t1, &limits));
    }

    #[test]
    fn node_addresses_refill_faster() {
        let limits = FrontLimits::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let rl = RateLimiter::new([ip].into_iter().collect());
        let t0 = Instant::now();
        assert_eq!((0..600).filter(|_| rl.allow(ip, t0, &limits)).count(), 600);
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!((0..100).filter(|_| rl.allow(ip, t1, &limits)).count(), 60);
    }

    #[test]
    fn connection_caps_per_ip_and_total() {
        let limits = FrontLimits {
            max_connections: 3,
            max_connections_per_ip: 2,
            ..FrontLimits::default()
        };
        let c = Arc::new(Connections::default());
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let s1 = c.admit(a, &limits).unwrap();
        let _s2 = c.admit(a, &limits).unwrap();
        assert!(c.admit(a, &limits).is_none());
        let _s3 = c.admit(b, &limits).unwrap();
        assert!(c.admit(b, &limits).is_none()); // total
        drop(s1);
        assert!(c.admit(a, &limits).is_some());
    }
}
