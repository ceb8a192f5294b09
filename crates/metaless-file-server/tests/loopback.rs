//! The file server over real loopback sockets: onion v4 requests (one relay hop, peeled here as
//! a service node would) and plain HTTP, files on disk.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_attachment::{
    AttachmentError, Domain, FileRequest, FileServer, FileUrl, decrypt, encrypt,
    parse_download_reply, parse_meta_reply, parse_upload_reply,
};
use metaless_file_server::{Config, DiskStore, FileServerCore, MemoryStore, Request, server};
use metaless_identity::{Keypair, Seed, X25519Secret};
use metaless_onion::{EncType, Hop, NodeKey, Peeled, build, peel};
use rand_core::SeedableRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status: u16 = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
    (status, out[split + 4..].to_vec())
}

struct Client {
    rng: rand_chacha::ChaCha20Rng,
    hop: X25519Secret,
    fs: FileServer,
}

impl Client {
    /// Builds the onion request, peels the relay's layer, POSTs the rest to the server and
    /// opens the reply: the v4 response bytes.
    async fn onion(&mut self, addr: std::net::SocketAddr, req: &FileRequest) -> Vec<u8> {
        let path = [Hop::new([0xaa; 32], self.hop.public_key())];
        let built = build(
            &path,
            &self.fs.destination().unwrap(),
            &req.to_v4(),
            EncType::XChaCha20,
            &mut self.rng,
        )
        .unwrap();
        let Ok(Peeled::Server {
            body, target, port, ..
        }) = peel(&NodeKey::new(&self.hop), &built.body)
        else {
            panic!("not a server layer")
        };
        assert_eq!(port, addr.port());
        let (status, reply) = http(addr, "POST", &target, &body).await;
        assert_eq!(status, 200);
        built.pending.open(&reply).unwrap()
    }
}

fn client(handle: &server::ServerHandle) -> Client {
    Client {
        rng: rand_chacha::ChaCha20Rng::from_seed([5; 32]),
        hop: X25519Secret::from_bytes([6; 32]),
        fs: handle.file_server().unwrap(),
    }
}

#[tokio::test]
async fn upload_download_through_onion_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = Keypair::from_seed(&Seed::from_bytes([7; 32]));
    let core = FileServerCore::new(DiskStore::open(dir.path()).unwrap(), Config::default());
    let handle = server::spawn(listener, core, keys).unwrap();
    let addr = handle.addr();
    let mut c = client(&handle);

    let seed = Seed::from_bytes([1; 32]);
    let file: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (blob, key) = encrypt(&seed, &file, Domain::Attachment, false).unwrap();
    let up = FileRequest::upload(blob.clone(), Some("photo.jpg"), Some(3600)).unwrap();
    let meta = parse_upload_reply(&c.onion(addr, &up).await).unwrap();
    assert_eq!(meta.id.len(), 44);
    assert_eq!(meta.size, Some(blob.len() as u64));
    let (up_ms, exp_ms) = (meta.uploaded_ms.unwrap(), meta.expires_ms.unwrap());
    assert!((exp_ms - up_ms).abs_diff(3_600_000) < 2);

    // The URL a message carries, parsed back by the receiver, leads to the same server.
    let url = c.fs.download_url(&meta.id, true);
    let parsed = FileUrl::parse(&url).unwrap();
    assert!(parsed.is_stream());
    assert_eq!(parsed.server().unwrap(), c.fs);

    let down = c
        .onion(addr, &FileRequest::download(&parsed.file_id).unwrap())
        .await;
    let d = parse_download_reply(&down).unwrap();
    assert_eq!(d.data, &blob[..]);
    assert!(d.expires_ms.unwrap().abs_diff(exp_ms) < 1000);
    assert_eq!(decrypt(d.data, &key).unwrap(), file);

    // Same bytes again: same id, stored once.
    let again = parse_upload_reply(&c.onion(addr, &up).await).unwrap();
    assert_eq!(again.id, meta.id);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    // info and extend
    let info =
        parse_meta_reply(&c.onion(addr, &FileRequest::info(&meta.id).unwrap()).await).unwrap();
    assert_eq!(info.size, Some(blob.len() as u64));
    let ext = FileRequest::extend(&meta.id, Some(7200)).unwrap();
    let ext = parse_meta_reply(&c.onion(addr, &ext).await).unwrap();
    assert!(ext.expires_ms.unwrap() > exp_ms);

    // Unknown id: 404 through the onion reply.
    let missing = c.onion(addr, &FileRequest::download("nope").unwrap()).await;
    assert_eq!(
        parse_download_reply(&missing),
        Err(AttachmentError::Status { status: 404 })
    );

    // Plain HTTP reaches the same routes.
    let (status, body) = http(addr, "GET", &format!("/file/{}", meta.id), b"").await;
    assert_eq!((status, body.len()), (200, blob.len()));
    let (status, _) = http(addr, "GET", "/file/..%2f..%2fetc", b"").await;
    assert_eq!(status, 404);

    // A survives restart: a new server over the same directory serves the file.
    handle.shutdown().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = Keypair::from_seed(&Seed::from_bytes([7; 32]));
    let core = FileServerCore::new(DiskStore::open(dir.path()).unwrap(), Config::default());
    let handle = server::spawn(listener, core, keys).unwrap();
    let (status, body) = http(handle.addr(), "GET", &format!("/file/{}", meta.id), b"").await;
    assert_eq!((status, body), (200, blob));
    handle.shutdown().await;
}

#[tokio::test]
async fn refusals_over_sockets() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = Keypair::from_seed(&Seed::from_bytes([8; 32]));
    let config = Config {
        max_file_size: 10_000,
        ..Config::default()
    };
    let handle = server::spawn(
        listener,
        FileServerCore::new(MemoryStore::default(), config),
        keys,
    )
    .unwrap();
    let addr = handle.addr();
    let mut c = client(&handle);

    // Over the cap, inside the onion: 413 in the reply.
    let big = FileRequest::upload(vec![1; 10_001], None, None).unwrap();
    assert_eq!(
        parse_upload_reply(&c.onion(addr, &big).await),
        Err(AttachmentError::Status { status: 413 })
    );
    // Over the cap by Content-Length, plain HTTP: refused before reading.
    let (status, _) = http(addr, "POST", "/file", &vec![0; 300_000]).await;
    assert_eq!(status, 413);
    // Empty upload
    let (status, _) = http(addr, "POST", "/file", b"").await;
    assert_eq!(status, 400);
    // Garbage and tampered onion bodies: 400, no detail.
    let (status, _) = http(addr, "POST", "/oxen/v4/lsrpc", b"garbage").await;
    assert_eq!(status, 400);
    let path = [Hop::new([0xaa; 32], c.hop.public_key())];
    let req = FileRequest::download("abc").unwrap();
    let built = build(
        &path,
        &c.fs.destination().unwrap(),
        &req.to_v4(),
        EncType::AesGcm,
        &mut c.rng,
    )
    .unwrap();
    let Ok(Peeled::Server { mut body, .. }) = peel(&NodeKey::new(&c.hop), &built.body) else {
        panic!()
    };
    body[10] ^= 1;
    let (status, _) = http(addr, "POST", "/oxen/v4/lsrpc", &body).await;
    assert_eq!(status, 400);
    // A layer for another server's key does not open here.
    let other = FileServer::new(
        "http",
        "127.0.0.1",
        addr.port(),
        FileServer::DEFAULT_ED25519,
    )
    .unwrap();
    let built = build(
        &path,
        &other.destination().unwrap(),
        &req.to_v4(),
        EncType::XChaCha20,
        &mut c.rng,
    )
    .unwrap();
    let Ok(Peeled::Server { body, .. }) = peel(&NodeKey::new(&c.hop), &built.body) else {
        panic!()
    };
    let (status, _) = http(addr, "POST", "/oxen/v4/lsrpc", &body).await;
    assert_eq!(status, 400);
    handle.shutdown().await;
}

#[test]
fn expiry_ttl_clamp_and_purge() {
    let mut core = FileServerCore::new(MemoryStore::default(), Config::default());
    let get = |path: &str| Request {
        method: "GET",
        path: Box::leak(path.to_string().into_boxed_str()),
        headers: vec![],
        body: b"",
    };
    let up = core.handle(
        1_000,
        &Request {
            method: "POST",
            path: "/file",
            headers: vec![("X-FS-TTL".into(), "5".into())],
            body: b"x",
        },
    );
    assert_eq!(up.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&up.body).unwrap();
    // 5 s is raised to the 60 s minimum
    assert_eq!(v["expires"].as_f64().unwrap(), 61.0);
    let path = format!("/file/{}", v["id"].as_str().unwrap());
    assert_eq!(core.handle(60_999, &get(&path)).status, 200);
    assert_eq!(core.handle(61_000, &get(&path)).status, 404);
    assert_eq!(
        core.handle(61_000, &get(&format!("{path}/info"))).status,
        404
    );
    assert_eq!(core.purge(61_000), 1);
    // a TTL beyond the maximum is clamped to it
    let up = core.handle(
        0,
        &Request {
            method: "POST",
            path: "/file",
            headers: vec![("x-fs-ttl".into(), "999999999".into())],
            body: b"y",
        },
    );
    let v: serde_json::Value = serde_json::from_slice(&up.body).unwrap();
    assert_eq!(v["expires"].as_f64().unwrap(), (21 * 86_400) as f64);
    // a TTL that is not a number
    let bad = core.handle(
        0,
        &Request {
            method: "POST",
            path: "/file",
            headers: vec![("X-FS-TTL".into(), "soon".into())],
            body: b"z",
        },
    );
    assert_eq!(bad.status, 400);
    // unknown routes and methods
    assert_eq!(
        core.handle(
            0,
            &Request {
                method: "DELETE",
                path: "/file/x",
                headers: vec![],
                body: b""
            }
        )
        .status,
        404
    );
    assert_eq!(core.handle(0, &get("/nothing")).status, 404);
}
