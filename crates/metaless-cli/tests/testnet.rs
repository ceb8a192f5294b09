//! `metaless testnet init` / `up`: files, a running testnet on loopback, clean shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;

fn metaless() -> Command {
    Command::new(env!("CARGO_BIN_EXE_metaless"))
}

#[test]
fn init_writes_config_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("net");
    let out = metaless()
        .args(["testnet", "init", "--nodes", "4", "--swarms", "2", "--dir"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nodes"], 4);
    assert_eq!(v["swarms"].as_array().unwrap().len(), 2);
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["nodes"].as_array().unwrap().len(), 4);

    for bad in [
        vec!["--nodes", "0", "--swarms", "1"],
        vec!["--nodes", "2", "--swarms", "3"],
        vec!["--nodes", "4", "--swarms", "2"], // already exists
    ] {
        let out = metaless()
            .args(["testnet", "init"])
            .args(&bad)
            .arg("--dir")
            .arg(&d)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
    }
    let out = metaless()
        .args(["testnet", "up", "--dir"])
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[cfg(unix)]
#[test]
fn up_serves_writes_bootstrap_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = metaless()
        .args(["testnet", "init", "--nodes", "3", "--swarms", "1", "--dir"])
        .arg(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    let child = metaless()
        .args(["testnet", "up", "--dir"])
        .arg(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let bootstrap = d.join("bootstrap.json");
    common::wait_for_file(&bootstrap, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(100));
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&bootstrap).unwrap()).unwrap();
    let nodes = b["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    let addr = nodes[0]["address"].as_str().unwrap();
    assert!(addr.starts_with("http://127.0.0.1:"));

    // A raw HTTP/1.1 info request to the first node.
    use std::io::{Read, Write};
    let port: u16 = nodes[0]["port"].as_u64().unwrap() as u16;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = r#"{"method":"info","params":{}}"#;
    write!(s, "POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"version\""));

    // SIGTERM → clean shutdown and one JSON object on stdout.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stopped"], true);
    assert_eq!(v["nodes"], 3);
}

#[cfg(unix)]
#[test]
fn up_tls_writes_https_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = metaless()
        .args(["testnet", "init", "--nodes", "2", "--swarms", "1", "--dir"])
        .arg(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    let child = metaless()
        .args(["testnet", "up", "--tls", "--dir"])
        .arg(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let bootstrap = d.join("bootstrap.json");
    common::wait_for_file(&bootstrap, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(100));
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&bootstrap).unwrap()).unwrap();
    for n in b["nodes"].as_array().unwrap() {
        let port = n["port"].as_u64().unwrap();
        assert_eq!(n["address"], format!("https://127.0.0.1:{port}"));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["nodes"],
        2
    );
}
