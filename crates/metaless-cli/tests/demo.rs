//! `metaless demo`: runs to completion on an embedded testnet and tells the story.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn metaless(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metaless"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn demo_runs_end_to_end() {
    let (code, stdout, stderr) = metaless(&["demo", "--disappear-after", "1"]);
    assert_eq!(code, 0, "stderr:\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["nodes"], 12);
    assert_eq!(v["swarms"], 4);
    let messages = v["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    for m in messages {
        assert_eq!(m["path"].as_array().unwrap().len(), 3, "three onion hops");
    }
    assert!(v["disappearing"]["held_before"].as_u64().unwrap() > 0);
    assert_eq!(v["disappearing"]["held_after"], 0);
    // The path table: guard, two relays, destination; only the guard saw the sender's device.
    let rows = v["path_view"].as_array().unwrap();
    let roles: Vec<&str> = rows.iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["guard", "relay", "relay", "destination"]);
    let device = rows
        .iter()
        .filter(|r| r["which_is"].as_str().unwrap().contains("device"))
        .count();
    assert_eq!(device, 1);
    assert!(
        rows.last().unwrap()["next"]
            .as_str()
            .unwrap()
            .contains("stores a sealed message")
    );
    // The picture went through the file server whole; the second device has the profile.
    let a = &v["attachment"];
    assert_eq!(a["ok"], true);
    assert_eq!(a["size"], 3126);
    assert_eq!(a["encrypted_size"], 4096);
    assert_eq!(a["content_type"], "image/bmp");
    // Three members, one removed: the removed one never read what followed.
    let g = &v["group"];
    assert_eq!(g["ok"], true);
    assert!(g["group"].as_str().unwrap().starts_with("03"));
    assert_eq!(g["members_before"], 3);
    assert_eq!(g["members_after"], 2);
    assert_eq!(g["generation_after_removal"], 1);
    assert_eq!(g["carol_read_after_removal"], false);
    let c = &v["config"];
    assert_eq!(c["ok"], true);
    assert_eq!(c["name"], "Alice");
    assert_eq!(c["contacts"], 1);
    assert!(c["seqnos"]["UserProfile"].as_i64().unwrap() >= 1);
    // The community room: posts under blinded ids; the DM's sender recovered as Bob's 05 id.
    let m = &v["community"];
    assert_eq!(m["ok"], true);
    assert_eq!(m["room"], "lobby");
    assert!(m["alice_blinded"].as_str().unwrap().starts_with("15"));
    assert_ne!(m["alice_blinded"], v["alice"]);
    assert_eq!(m["dm"]["sender"], v["bob"]);
    for line in [
        "starting a local network: 12 service nodes in 4 swarms",
        "n12 ready",
        "Alice → Bob",
        "Bob → Alice",
        "sender verified: Alice",
        "what each node on that path saw",
        "gone from all 3 members",
        "byte for byte Alice's picture",
        "second device, restored from her 13-word recovery phrase",
        "Bob reads it, Carol (removed) cannot",
        "join the community room",
        "a blinded DM through the server's inbox",
        "demo finished",
    ] {
        assert!(stderr.contains(line), "missing {line:?} in:\n{stderr}");
    }
}

#[test]
fn demo_rejects_bad_sizes() {
    for args in [
        &["demo", "--nodes", "2"][..],
        &["demo", "--swarms", "0"],
        &["demo", "--disappear-after", "0"],
    ] {
        let (code, stdout, stderr) = metaless(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(stdout.is_empty());
        assert_eq!(stderr.lines().count(), 1);
    }
}
