//! What every CLI test needs: run `metaless`, and hold it to its contract (one JSON object
//! on stdout on success; one `error:` line on stderr, exit 2, empty stdout on bad input).
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs the binary with `args`.
pub fn metaless(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metaless"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command that must succeed and returns its one-line JSON object.
pub fn ok_json(args: &[&str]) -> Value {
    let out = metaless(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    assert!(out.stderr.is_empty(), "{args:?}: {stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "one JSON object on one line: {text}"
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert!(value.is_object(), "{text}");
    value
}

/// Runs a command that must be refused and returns its one stderr line.
pub fn bad_input(args: &[&str]) -> String {
    let out = metaless(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty(), "{args:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error"), "{args:?}: {stderr}");
    stderr
}

/// A test-vector file from the repository's `test-vectors/`.
pub fn vectors(name: &str) -> Value {
    let path = format!("{}/../../test-vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The entry with `id` of a test-vector file (`{"entries": [{"id": …}, …]}`).
pub fn vector(name: &str, id: &str) -> Value {
    vectors(name)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id} in {name}"))
        .clone()
}

/// Waits (bounded by `limit`) until `testnet up` has written `path` (its `bootstrap.json`).
pub fn wait_for_file(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < limit,
            "{} never appeared",
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `metaless testnet up` (its nodes and the servers beside them), stopped on drop.
pub struct Testnet {
    child: Child,
    /// Its `bootstrap.json`.
    pub bootstrap: PathBuf,
}

impl Drop for Testnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `metaless testnet init` + `up` in `dir` with `nodes` nodes in `swarms` swarms; returns once
/// `bootstrap.json` is written and the nodes had a moment to accept.
pub fn testnet_up(dir: &Path, nodes: usize, swarms: usize) -> Testnet {
    let metaless = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_metaless"));
        c.env_remove("METALESS_SEED");
        c
    };
    let out = metaless()
        .args(["testnet", "init", "--nodes", &nodes.to_string(), "--swarms"])
        .arg(swarms.to_string())
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = metaless()
        .args(["testnet", "up", "--dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let bootstrap = dir.join("bootstrap.json");
    wait_for_file(&bootstrap, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(200));
    Testnet { child, bootstrap }
}
