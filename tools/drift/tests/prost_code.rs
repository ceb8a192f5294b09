//! `crates/metaless-envelope/src/generated/` is the prost code of `src/proto/*.proto`, checked
//! in; this regenerates it in pure Rust (protox parses the schema, prost-build writes the Rust,
//! no `protoc`) and fails if any file differs or is missing. `METALESS_BLESS=1` rewrites them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_drift::{check_or_bless, repo_root};

/// The schema files, relative to the envelope crate's `src/proto/`.
const PROTOS: [&str; 2] = ["SessionProtos.proto", "WebSocketResources.proto"];

const HOW: &str = "regenerate with METALESS_BLESS=1 cargo test --manifest-path tools/drift/Cargo.toml";

fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn prost_code_matches_the_proto_files() {
    let envelope = repo_root().join("crates/metaless-envelope/src");
    let descriptors = protox::compile(PROTOS, [envelope.join("proto")]).expect("protox parses");
    let scratch = tempfile::tempdir().unwrap();
    prost_build::Config::new()
        .out_dir(scratch.path())
        .compile_fds(descriptors)
        .expect("prost-build generates");

    let checked_in = envelope.join("generated");
    let fresh = file_names(scratch.path());
    let blessing = std::env::var_os("METALESS_BLESS").is_some();
    if !blessing {
        assert_eq!(fresh, file_names(&checked_in), "generated file set differs; {HOW}");
    }
    for name in fresh {
        let text = std::fs::read_to_string(scratch.path().join(&name)).unwrap();
        if let Err(why) = check_or_bless(&checked_in.join(&name), &text, HOW) {
            panic!("{why}");
        }
    }
}
