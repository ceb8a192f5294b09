//! `metaless-community-server --listen ADDR --dir DIR [--room TOKEN[:NAME]]… [--max-size BYTES]
//! [--allow-unblinded]`: a local Session community server. The Ed25519 seed is `DIR/seed` (made
//! on first start), state in `DIR/community.sqlite`; prints one JSON line with the address, keys
//! and each room's URL.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use metaless_community_server::Perms;
use metaless_community_server::server::{self, ServerConfig};
use metaless_identity::{Keypair, Seed, hex};

fn usage() -> ! {
    eprintln!(
        "usage: metaless-community-server --listen 127.0.0.1:0 --dir DIR [--room TOKEN[:NAME]]... [--max-size BYTES] [--allow-unblinded]"
    );
    std::process::exit(2)
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("{msg}");
    std::process::exit(1)
}

#[tokio::main]
async fn main() {
    let mut listen = String::from("127.0.0.1:0");
    let mut dir: Option<PathBuf> = None;
    let mut rooms: Vec<(String, String, Perms)> = Vec::new();
    let mut max_size: Option<usize> = None;
    let mut allow_unblinded = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or_else(|| usage()),
            "--dir" => dir = args.next().map(PathBuf::from),
            "--room" => {
                let spec = args.next().unwrap_or_else(|| usage());
                let (token, name) = spec.split_once(':').unwrap_or((&spec, &spec));
                rooms.push((token.into(), name.into(), Perms::ALL));
            }
            "--max-size" => {
                max_size = Some(
                    args.next()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_else(|| usage()),
                )
            }
            "--allow-unblinded" => allow_unblinded = true,
            _ => usage(),
        }
    }
    let Some(dir) = dir else { usage() };
    if std::fs::create_dir_all(&dir).is_err() {
        fail(format!("cannot create {}", dir.display()));
    }
    let seed_path = dir.join("seed");
    let seed = match std::fs::read_to_string(&seed_path) {
        Ok(text) => Seed::from_hex(text.trim())
            .unwrap_or_else(|_| fail(format!("{}: not a hex seed", seed_path.display()))),
        Err(_) => {
            let seed = Seed::generate(&mut rand_core::OsRng);
            if std::fs::write(&seed_path, hex::encode(seed.expose_secret())).is_err() {
                fail(format!("cannot write {}", seed_path.display()));
            }
            seed
        }
    };
    let mut config = ServerConfig::new(Keypair::from_seed(&seed));
    config.db = Some(dir.join("community.sqlite"));
    if !rooms.is_empty() {
        config.rooms = rooms;
    }
    if let Some(m) = max_size {
        config.core.max_upload = m;
    }
    config.core.require_blind = !allow_unblinded;
    let tokens: Vec<String> = config.rooms.iter().map(|r| r.0.clone()).collect();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .unwrap_or_else(|e| fail(format!("bind {listen}: {e}")));
    let handle = server::spawn(listener, config).unwrap_or_else(|e| fail(e));
    let urls: serde_json::Map<String, serde_json::Value> = tokens
        .iter()
        .map(|t| (t.clone(), serde_json::Value::String(handle.url(t))))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "addr": handle.addr().to_string(),
            "url": handle.url(&tokens[0]),
            "rooms": urls,
            "x25519": hex::encode(&handle.x25519()),
            "ed25519": hex::encode(&handle.ed25519()),
        })
    );
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
}
