//! Regenerates the checked-in prost code from `src/proto/*.proto`, in pure Rust (protox parses
//! the schema, prost-build writes the Rust; no `protoc`):
//!
//! ```sh
//! cargo run -p metaless-envelope --example regen
//! ```
//!
//! `tests/generated_code.rs` runs [`generate`] into a temporary directory and fails if the
//! result differs from `src/generated/`, so the two can never drift apart silently.

use std::error::Error;
use std::path::{Path, PathBuf};

/// The schema files, relative to `src/proto/`.
pub const PROTOS: [&str; 2] = ["SessionProtos.proto", "WebSocketResources.proto"];

/// The crate directory (where `src/` lives).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes one `.rs` file per protobuf package into `out_dir`.
pub fn generate(out_dir: &Path) -> Result<(), Box<dyn Error>> {
    let proto_dir = crate_dir().join("src").join("proto");
    let descriptors = protox::compile(PROTOS, [proto_dir])?;
    prost_build::Config::new()
        .out_dir(out_dir)
        // Deterministic output: no BTreeMap/HashMap choice depends on the machine.
        .compile_fds(descriptors)?;
    Ok(())
}

#[allow(dead_code)] // unused when tests include this file for `generate`
fn main() -> Result<(), Box<dyn Error>> {
    let out_dir = crate_dir().join("src").join("generated");
    generate(&out_dir)?;
    println!("regenerated {}", out_dir.display());
    Ok(())
}
