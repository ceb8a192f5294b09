//! The result codes agree across the Rust enum, the checked-in header and docs/ffi.md. (That the
//! header is what cbindgen makes of the sources is checked by `tools/drift`, which keeps
//! cbindgen out of the workspace's test build.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

/// The checked-in header (`tools/drift` checks that it is what cbindgen makes of the sources).
fn checked_in_header() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/metaless.h"))
        .unwrap()
}

/// `(number, name)` pairs of `metaless_result` as the header declares them.
fn header_codes(header: &str) -> Vec<(u32, String)> {
    header
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("METALESS_RESULT_") && l.contains(" = "))
        .map(|l| {
            let (name, rest) = l.split_once(" = ").unwrap();
            (rest.trim_end_matches(',').parse().unwrap(), name.to_owned())
        })
        .collect()
}

/// `(number, name, retired)` rows of the table in `docs/ffi.md`.
fn documented_codes() -> Vec<(u32, String, bool)> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ffi.md"))
            .unwrap();
    doc.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let number = cells.get(1)?.parse().ok()?;
            let name = cells.get(2)?;
            if !name.starts_with("METALESS_RESULT_") {
                return None;
            }
            let retired = cells.get(3)?.starts_with("retired");
            Some((number, (*name).to_owned(), retired))
        })
        .collect()
}

#[test]
fn result_codes_agree_across_rust_header_and_docs() {
    let rust: Vec<(u32, String)> = metaless_ffi::metaless_result::ALL
        .iter()
        .map(|r| (*r as u32, r.name().to_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        header_codes(&checked_in_header()),
        rust,
        "header vs Rust enum"
    );

    let docs = documented_codes();
    let mut numbers: Vec<u32> = docs.iter().map(|d| d.0).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        docs.len(),
        "a number appears twice in docs/ffi.md"
    );
    let live: Vec<(u32, String)> = docs
        .iter()
        .filter(|d| !d.2)
        .map(|d| (d.0, d.1.clone()))
        .collect();
    assert_eq!(live, rust, "docs/ffi.md table vs Rust enum");
}
