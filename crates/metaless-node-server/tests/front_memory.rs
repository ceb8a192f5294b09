//! 60 stalled 10 MiB uploads against the front's body budget, alone in this test process so
//! the RSS measured is theirs: it must grow by less than 50 MB and come back when they end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use metaless_node::node::doc_node;
use metaless_node_server::front::FrontLimits;
use metaless_node_server::server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

async fn connect_from(from: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::from((from, 0)))?;
    s.connect(to).await
}

/// The status of the first response on `s`, if one comes.
async fn status(s: &mut TcpStream) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf)
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

async fn info_status(addr: SocketAddr) -> Option<u16> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    let body = br#"{"method":"info","params":{}}"#;
    let head = format!(
        "POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.ok()?;
    s.write_all(body).await.ok()?;
    status(&mut s).await
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_stalled_ten_mib_uploads_stay_within_the_body_budget() {
    const BODY: usize = 10 * 1024 * 1024;
    let limits = FrontLimits {
        body_timeout: Duration::from_secs(4),
        idle_timeout: Duration::from_secs(10),
        ..FrontLimits::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let h = server::spawn_with(listener, doc_node(), None, limits).unwrap();
    let addr = h.addr();
    let data = Arc::new(vec![b'x'; BODY - 1]);
    let before = rss_kib();
    let mut tasks = Vec::new();
    for i in 0..60u8 {
        let data = Arc::clone(&data);
        tasks.push(tokio::spawn(async move {
            let from = [127, 0, 0, 2 + i % 4];
            let mut s = connect_from(from, addr).await.unwrap();
            let head = format!(
                "POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: {BODY}\r\n\r\n"
            );
            s.write_all(head.as_bytes()).await.unwrap();
            // Sends as much of the body as the server takes in 3 s, then stalls.
            let _ = tokio::time::timeout(Duration::from_secs(3), s.write_all(&data)).await;
            tokio::time::timeout(Duration::from_secs(8), status(&mut s))
                .await
                .ok()
                .flatten()
        }));
    }
    // While they stall.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let during = rss_kib();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib();
    println!(
        "60 stalled 10 MiB uploads: RSS before {} MiB, during +{} MiB, after +{} MiB; answers {:?}",
        before / 1024,
        during.saturating_sub(before) / 1024,
        after.saturating_sub(before) / 1024,
        {
            let mut c = std::collections::BTreeMap::new();
            for a in &answers {
                *c.entry(*a).or_insert(0) += 1;
            }
            c
        }
    );
    assert!(
        during.saturating_sub(before) < 50 * 1024,
        "RSS grew by {} KiB",
        during - before
    );
    assert!(after.saturating_sub(before) < 50 * 1024);
    // Every stalled upload was answered (408 body timeout or 503 budget) or closed.
    assert!(answers.iter().all(|a| matches!(a, Some(408 | 503) | None)));
    assert_eq!(info_status(addr).await, Some(200));
    h.shutdown().await;
}
