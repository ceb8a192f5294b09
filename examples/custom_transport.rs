//! Bring your own HTTP stack: the client needs one method, "POST these bytes, give me the status
//! and the body". Here a deliberately tiny HTTP/1.1 client written by hand on a tokio socket
//! (a mobile app would call URLSession or OkHttp instead), counting what it carries.
//!
//! `cargo run -p metaless-examples --example custom_transport`

use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use metaless_client::http::{TokioClock, wall_clock_ms};
use metaless_client::{
    Client, Config, Driver, Event, HttpResponse, Messenger, Transmit, Transport, TransportError,
};
use metaless_envelope::Content;
use metaless_identity::{Keypair, Seed};
use rand_core::OsRng;
use tokio::net::TcpStream;

/// Largest response accepted (a retrieve reply is well under this on a testnet).
const MAX_RESPONSE: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct RawHttp {
    requests: AtomicU64,
    bytes_out: AtomicU64,
    bytes_in: AtomicU64,
}

impl Transport for RawHttp {
    async fn post(&self, t: &Transmit) -> Result<HttpResponse, TransportError> {
        let authority = t
            .to_node
            .base_url
            .strip_prefix("http://")
            .ok_or(TransportError::Connect)?;
        let stream = TcpStream::connect(authority)
            .await
            .map_err(|_| TransportError::Connect)?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            t.to_node.path,
            t.body.len()
        );
        let request = [head.as_bytes(), &t.body].concat();
        let mut sent = 0;
        while sent < request.len() {
            stream
                .writable()
                .await
                .map_err(|_| TransportError::Connect)?;
            match stream.try_write(request.get(sent..).unwrap_or_default()) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return Err(TransportError::Connect),
            }
        }
        // `Connection: close`: the answer ends when the server closes.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            stream
                .readable()
                .await
                .map_err(|_| TransportError::Connect)?;
            match stream.try_read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return Err(TransportError::Connect),
            }
            if answer.len() > MAX_RESPONSE {
                return Err(TransportError::TooLarge);
            }
        }
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or(TransportError::Connect)?;
        let status_line =
            String::from_utf8_lossy(answer.get(..split).unwrap_or_default()).into_owned();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(TransportError::Connect)?;
        let body = answer.get(split + 4..).unwrap_or_default().to_vec();
        self.requests.fetch_add(1, Relaxed);
        self.bytes_out.fetch_add(request.len() as u64, Relaxed);
        self.bytes_in.fetch_add(answer.len() as u64, Relaxed);
        Ok(HttpResponse { status, body })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let net = metaless_node_server::local::start(8).await?;
    let file = std::fs::read(net.bootstrap_path())?;
    let config = Config::from_testnet_file(&file)?.with_poll_interval_ms(Some(250));
    let transport = std::sync::Arc::new(RawHttp::default());
    let keys = || Keypair::from_seed(&Seed::generate_full(&mut OsRng));
    let mut alice = Driver::with_shared(
        Client::new(keys(), config.clone(), [1; 32], wall_clock_ms()),
        transport.clone(),
        TokioClock,
    );
    // Bob the quick way: a `Messenger` (on the default hyper transport).
    let bob = Messenger::builder()
        .testnet(net.bootstrap_path())
        .build()
        .await?;
    let mut inbox = bob.events();

    let to = bob.session_id();
    alice.send(
        &to,
        &Content::text("sent through a hand-written HTTP client"),
    )?;
    alice
        .wait_for(10_000, |e| matches!(e, Event::Delivered { .. }))
        .await
        .ok_or("not delivered")?;
    let m = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.next_message())
        .await?
        .ok_or("nothing arrived")?;
    println!("Bob got: {:?}", m.message.content.as_text().unwrap_or(""));
    println!(
        "Alice's transport carried {} requests, {} bytes out, {} bytes in",
        transport.requests.load(Relaxed),
        transport.bytes_out.load(Relaxed),
        transport.bytes_in.load(Relaxed)
    );
    drop(alice);
    bob.shutdown().await;
    net.shutdown().await;
    Ok(())
}
