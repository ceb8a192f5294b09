//! The community server over real loopback sockets: onion v4 requests (one relay hop, peeled
//! here as a service node would) to `POST /oxen/v4/lsrpc`, state in SQLite on disk, and each
//! refusal with pysogs' status and text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use metaless_community::{AuthMode, CommunityUrl, PostMessage, Reply, Request, auth, dm};
use metaless_community_server::Perms;
use metaless_community_server::server::{self, ServerConfig, ServerHandle, wall_ms};
use metaless_identity::{Keypair, Seed, X25519Secret, blinding};
use metaless_onion::{Destination, EncType, Hop, NodeKey, Peeled, build, peel, v4};
use rand_core::SeedableRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // A refused upload may be answered (and the socket closed) before the body is all written.
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status: u16 = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
    (status, out[split + 4..].to_vec())
}

struct User {
    keys: Keypair,
    url: CommunityUrl,
    rng: rand_chacha::ChaCha20Rng,
    hop: X25519Secret,
}

impl User {
    fn new(n: u8, url: CommunityUrl) -> Self {
        Self {
            keys: Keypair::from_seed(&Seed::from_bytes([n; 32])),
            url,
            rng: rand_chacha::ChaCha20Rng::from_seed([n; 32]),
            hop: X25519Secret::from_bytes([0x40 + n; 32]),
        }
    }

    /// Wraps a v4 payload for the server through one hop, peels the hop's layer, POSTs the
    /// rest to the server and opens the reply.
    async fn onion(&mut self, payload: &[u8]) -> Reply {
        let path = [Hop::new([0xaa; 32], self.hop.public_key())];
        let dest = Destination::Server(self.url.destination().unwrap());
        let built = build(&path, &dest, payload, EncType::XChaCha20, &mut self.rng).unwrap();
        let Ok(Peeled::Server {
            body, target, port, ..
        }) = peel(&NodeKey::new(&self.hop), &built.body)
        else {
            panic!("not a server layer")
        };
        assert_eq!(port, self.url.port());
        let addr = format!("{}:{}", self.url.host(), port).parse().unwrap();
        let (status, reply) = http(addr, "POST", &target, &body).await;
        assert_eq!(status, 200);
        Reply::from_v4(&built.pending.open(&reply).unwrap()).unwrap()
    }

    async fn send(&mut self, req: &Request) -> Reply {
        let payload = self.signed(req);
        self.onion(&payload).await
    }

    fn signed(&mut self, req: &Request) -> Vec<u8> {
        req.to_v4_signed(
            &self.keys,
            self.url.server_pk(),
            AuthMode::Blinded15,
            wall_ms(),
            &mut self.rng,
        )
    }

    /// The v4 payload with headers signed at `ts` (seconds) with `nonce`, optionally altered.
    fn manual(
        &self,
        req: &Request,
        ts: u64,
        nonce: [u8; 16],
        edit: impl FnOnce(&mut Vec<(&'static str, String)>),
    ) -> Vec<u8> {
        let h = auth::sign(
            &self.keys,
            self.url.server_pk(),
            AuthMode::Blinded15,
            req.method(),
            req.path(),
            req.body().bytes(),
            ts,
            nonce,
        );
        let mut pairs = h.pairs().to_vec();
        edit(&mut pairs);
        let mut headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        headers.extend(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        let body = (!req.body().bytes().is_empty()).then(|| req.body().bytes());
        v4::encode_request(req.method(), req.path(), &headers, body)
    }
}

fn config(db: Option<std::path::PathBuf>) -> ServerConfig {
    let mut c = ServerConfig::new(Keypair::from_seed(&Seed::from_bytes([0x77; 32])));
    c.db = db;
    c.rooms
        .push(("news".into(), "News".into(), Perms::READ_ONLY));
    c.core.max_upload = 1000;
    c
}

async fn start(db: Option<std::path::PathBuf>) -> ServerHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    server::spawn(listener, config(db)).unwrap()
}

#[tokio::test]
async fn post_read_dm_through_onion_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("community.sqlite");
    let handle = start(Some(db.clone())).await;
    let url = handle.community_url("lobby").unwrap();
    assert_eq!(CommunityUrl::parse(&handle.url("lobby")).unwrap(), url);
    let (mut alice, mut bob) = (User::new(1, url.clone()), User::new(2, url.clone()));

    let caps = alice
        .send(&Request::capabilities(&[]))
        .await
        .capabilities()
        .unwrap();
    assert_eq!(
        AuthMode::for_capabilities(&caps.capabilities),
        AuthMode::Blinded15
    );
    let room = alice
        .send(&Request::room("lobby").unwrap())
        .await
        .room()
        .unwrap();
    assert!(room.read && room.write && room.upload);

    let post = PostMessage::signed(&alice.keys, url.server_pk(), b"hello".to_vec(), vec![]);
    let posted = alice
        .send(&Request::post_message("lobby", &post).unwrap())
        .await
        .posted()
        .unwrap();
    let up = alice
        .send(&Request::upload_file("lobby", vec![7; 100], Some("a.bin")).unwrap())
        .await
        .uploaded()
        .unwrap();
    bob.send(&Request::add_reaction("lobby", posted.id, "🎉").unwrap())
        .await
        .reaction_added()
        .unwrap();
    let alice15 =
        blinding::blind15_id_from_ed25519(&alice.keys.ed25519_public(), url.server_pk()).unwrap();
    let sealed = dm::encrypt(&bob.keys, url.server_pk(), &alice15, b"psst", &mut bob.rng).unwrap();
    bob.send(&Request::send_dm(&alice15, &sealed).unwrap())
        .await
        .dm_sent()
        .unwrap();
    // A request kept to replay after the restart.
    let kept = bob.signed(&Request::rooms());
    assert_eq!(bob.onion(&kept).await.code, 200);
    handle.shutdown().await;

    // Same database, new process state: posts, reactions, files, DMs, nonces are all there.
    let handle = start(Some(db)).await;
    let url2 = handle.community_url("lobby").unwrap();
    assert_eq!(url2.server_pk(), url.server_pk(), "same seed, same key");
    let (mut alice, mut bob) = (
        User::new(1, handle.community_url("lobby").unwrap()),
        User::new(2, handle.community_url("lobby").unwrap()),
    );
    // Fresh nonces: the old ones are still recorded.
    alice.rng = rand_chacha::ChaCha20Rng::from_seed([101; 32]);
    bob.rng = rand_chacha::ChaCha20Rng::from_seed([102; 32]);
    let since = bob
        .send(&Request::messages_since("lobby", 0, None, true).unwrap())
        .await
        .messages()
        .unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].verified_data().unwrap().unwrap(), b"hello");
    assert_eq!(since[0].reactions["🎉"].count, 1);
    let file = bob
        .send(&Request::download_file("lobby", up).unwrap())
        .await
        .file()
        .unwrap();
    assert_eq!(file, (vec![7; 100], Some("a.bin".to_string())));
    let inbox = alice.send(&Request::inbox(None)).await.dms().unwrap();
    assert_eq!(inbox.len(), 1);
    let data = B64.decode(inbox[0].message.as_ref().unwrap()).unwrap();
    let opened = dm::decrypt(
        &alice.keys,
        url.server_pk(),
        &inbox[0].sender,
        &inbox[0].recipient,
        &data,
    )
    .unwrap();
    assert_eq!(&opened.message[..], b"psst");
    let replay = bob.onion(&kept).await;
    assert_eq!(
        (replay.code, replay.body.as_slice()),
        (
            425,
            &b"Invalid authentication: X-SOGS-Nonce cannot be reused"[..]
        )
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn refusals_over_sockets() {
    let handle = start(None).await;
    let url = handle.community_url("lobby").unwrap();
    let mut alice = User::new(3, url.clone());
    let now = wall_ms() / 1000;
    let post = PostMessage::signed(&alice.keys, url.server_pk(), b"x".to_vec(), vec![]);
    let req = Request::post_message("lobby", &post).unwrap();

    // Tampered signature: 401.
    let p = alice.manual(&req, now, [1; 16], |h| {
        let mut sig = B64.decode(&h[3].1).unwrap();
        sig[0] ^= 1;
        h[3].1 = B64.encode(sig);
    });
    let r = alice.onion(&p).await;
    assert_eq!(
        (r.code, r.body.as_slice()),
        (
            401,
            &b"Invalid authentication: X-SOGS-Signature verification failed"[..]
        )
    );

    // Replayed nonce: the first goes through, the second is 425.
    let p = alice.manual(&req, now, [2; 16], |_| {});
    assert_eq!(alice.onion(&p).await.code, 201);
    let r = alice.onion(&p).await;
    assert_eq!(
        (r.code, r.body.as_slice()),
        (
            425,
            &b"Invalid authentication: X-SOGS-Nonce cannot be reused"[..]
        )
    );

    // Stale timestamp, both ways past 24 h: 425.
    for ts in [now - 86_400 - 120, now + 86_400 + 120] {
        let p = alice.manual(&req, ts, [3; 16], |_| {});
        let r = alice.onion(&p).await;
        assert_eq!(
            (r.code, r.body.as_slice()),
            (
                425,
                &b"Invalid authentication: X-SOGS-Timestamp is too far from current time"[..]
            )
        );
    }

    // Wrong room permission: posting and uploading to a read-only room are 403.
    let ro = Request::post_message("news", &post).unwrap();
    assert_eq!(alice.send(&ro).await.code, 403);
    let up = Request::upload_file("news", vec![1; 10], None).unwrap();
    assert_eq!(alice.send(&up).await.code, 403);
    // Reading it is fine.
    assert_eq!(
        alice
            .send(&Request::messages_recent("news", None).unwrap())
            .await
            .code,
        200
    );

    // Oversize upload: 413 from the core (inside the onion) …
    let big = Request::upload_file("lobby", vec![1; 1001], None).unwrap();
    assert_eq!(alice.send(&big).await.code, 413);
    let ok = Request::upload_file("lobby", vec![1; 1000], None).unwrap();
    assert_eq!(alice.send(&ok).await.code, 201);
    // … and from the front, by Content-Length, before the body is read.
    let (status, _) = http(
        handle.addr(),
        "POST",
        "/oxen/v4/lsrpc",
        &vec![0; 300 * 1024],
    )
    .await;
    assert_eq!(status, 413);
    // An onion layer that does not open: 400.
    let (status, _) = http(handle.addr(), "POST", "/oxen/v4/lsrpc", b"garbage").await;
    assert_eq!(status, 400);
    // Plain HTTP reaches the same core.
    let (status, body) = http(handle.addr(), "GET", "/capabilities", b"").await;
    assert_eq!(
        (status, body.as_slice()),
        (
            200,
            &br#"{"capabilities":["blind","reactions","sogs"]}"#[..]
        )
    );
    handle.shutdown().await;
}
