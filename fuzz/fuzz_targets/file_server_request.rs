//! The file server's request parser: a decrypted v4 payload (bencoded info JSON + body) routed
//! through the core, and a raw HTTP-style request (method, path and body split from the
//! input) — never a panic, every answer a status the server documents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_file_server::{Config, FileServerCore, MemoryStore, Request, open_onion};

fuzz_target!(|data: &[u8]| {
    let mut core = FileServerCore::new(MemoryStore::default(), Config::default());
    let _ = open_onion(&mut core, 1_000, data);
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let method = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or("").as_bytes();
    let reply = core.handle(1_000, &Request { method, path, headers: vec![("X-FS-TTL".into(), method.into())], body });
    assert!(matches!(reply.status, 200 | 400 | 404 | 413 | 500));
});
