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
    // `up` before `init` says what to run.
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("metaless testnet init --dir"), "{err}");
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
        .stderr(Stdio::piped())
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
    // The log went to a pipe, not a terminal: plain text, no ANSI colour codes.
    let log = String::from_utf8(out.stderr).unwrap();
    assert!(!log.trim().is_empty(), "no log lines");
    assert!(
        !log.contains('\u{1b}'),
        "ANSI escapes in a non-terminal log: {log:?}"
    );
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

/// `n` consecutive ports that are free right now (bounded search above an ephemeral port).
fn free_port_run(n: u16) -> u16 {
    for _ in 0..50 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        if base > 60_000 {
            continue;
        }
        if (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no run of {n} free ports");
}

/// A raw HTTP/1.1 `info` request; `None` when the port does not answer.
fn info_status(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let body = r#"{"method":"info","params":{}}"#;
    write!(s, "POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    Some(resp.lines().next().unwrap_or_default().to_owned())
}

/// Polls `port` until it answers `info` (bounded).
fn wait_serving(port: u16) {
    let start = std::time::Instant::now();
    while info_status(port).as_deref() != Some("HTTP/1.1 200 OK") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "port {port} never served"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(unix)]
#[test]
fn up_only_runs_one_node_per_process_with_a_complete_bootstrap() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = free_port_run(3);
    let base_s = base.to_string();
    let out = metaless()
        .args([
            "testnet",
            "init",
            "--nodes",
            "3",
            "--swarms",
            "1",
            "--base-port",
            &base_s,
            "--dir",
        ])
        .arg(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
    let keys: Vec<String> = cfg["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["pubkey_ed25519"].as_str().unwrap().to_owned())
        .collect();
    let ports: Vec<u16> = (0..3).map(|i| base + i).collect();

    // Unknown key, and a key that is not hex: refused before anything starts.
    let bad = metaless()
        .args(["testnet", "up", "--only", &"ab".repeat(32), "--dir"])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no such node"));
    let bad = metaless()
        .args(["testnet", "up", "--only", "xyz", "--dir"])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));

    let spawn = |only: &[&String]| {
        let mut c = metaless();
        c.args(["testnet", "up", "--dir"]).arg(d);
        for k in only {
            c.args(["--only", k.as_str()]);
        }
        c.stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let first = spawn(&[&keys[0]]);
    let rest = spawn(&[&keys[1], &keys[2]]);
    for &p in &ports {
        wait_serving(p);
    }
    // Every process wrote the complete list, with the fixed ports.
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("bootstrap.json")).unwrap()).unwrap();
    let listed: Vec<(String, u64)> = b["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["pubkey_ed25519"].as_str().unwrap().to_owned(),
                n["port"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = keys
        .iter()
        .cloned()
        .zip(ports.iter().map(|&p| u64::from(p)))
        .collect();
    assert_eq!(listed, want);

    // Kill the first process by PID: its node goes, the other two keep serving.
    let kill = |pid: u32, sig: &str| {
        assert!(
            Command::new("kill")
                .args([sig, &pid.to_string()])
                .status()
                .unwrap()
                .success()
        );
    };
    kill(first.id(), "-KILL");
    let _ = first.wait_with_output();
    assert_eq!(info_status(ports[0]), None);
    assert_eq!(info_status(ports[1]).as_deref(), Some("HTTP/1.1 200 OK"));
    assert_eq!(info_status(ports[2]).as_deref(), Some("HTTP/1.1 200 OK"));

    // Restarted alone on its fixed port; bootstrap.json still lists all three.
    let again = spawn(&[&keys[0]]);
    wait_serving(ports[0]);
    let b2: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("bootstrap.json")).unwrap()).unwrap();
    assert_eq!(b2, b);

    for (child, n) in [(again, 1), (rest, 2)] {
        kill(child.id(), "-TERM");
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            serde_json::from_slice::<Value>(&out.stdout).unwrap()["nodes"],
            n
        );
    }
}

#[test]
fn up_only_needs_fixed_ports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = metaless()
        .args(["testnet", "init", "--nodes", "2", "--swarms", "1", "--dir"])
        .arg(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
    let key = cfg["nodes"][0]["pubkey_ed25519"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = metaless()
        .args(["testnet", "up", "--only", &key, "--dir"])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--base-port"));
    assert!(!d.join("bootstrap.json").exists());
}
