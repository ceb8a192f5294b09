//! `metaless-file-server --listen ADDR --dir DIR`: a local Session file server. The Ed25519 seed
//! is `DIR/seed` (made on first start); prints one JSON line with the address, URL and keys.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use metaless_file_server::{Config, DiskStore, FileServerCore, server};
use metaless_identity::{Keypair, Seed, hex};

fn usage() -> ! {
    eprintln!("usage: metaless-file-server --listen 127.0.0.1:0 --dir DIR [--max-size BYTES]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut listen = String::from("127.0.0.1:0");
    let mut dir: Option<PathBuf> = None;
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or_else(|| usage()),
            "--dir" => dir = args.next().map(PathBuf::from),
            "--max-size" => {
                config.max_file_size = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    let Some(dir) = dir else { usage() };
    let store = DiskStore::open(&dir.join("files")).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let seed_path = dir.join("seed");
    let seed = match std::fs::read_to_string(&seed_path) {
        Ok(text) => Seed::from_hex(text.trim()).unwrap_or_else(|_| {
            eprintln!("{}: not a hex seed", seed_path.display());
            std::process::exit(1)
        }),
        Err(_) => {
            let seed = Seed::generate(&mut rand_core::OsRng);
            if std::fs::write(&seed_path, hex::encode(seed.expose_secret())).is_err() {
                eprintln!("cannot write {}", seed_path.display());
                std::process::exit(1)
            }
            seed
        }
    };
    let keys = Keypair::from_seed(&seed);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .unwrap_or_else(|e| {
            eprintln!("bind {listen}: {e}");
            std::process::exit(1)
        });
    let handle = match server::spawn(listener, FileServerCore::new(store, config), keys) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    };
    let x25519 = handle
        .file_server()
        .ok()
        .and_then(|f| f.x25519().ok())
        .map(|k| hex::encode(&k))
        .unwrap_or_default();
    println!(
        "{}",
        serde_json::json!({
            "addr": handle.addr().to_string(),
            "url": format!("http://{}", handle.addr()),
            "ed25519": hex::encode(&handle.ed25519()),
            "x25519": x25519,
        })
    );
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
}
