//! Proves that no export lacks the panic guard: every `#[unsafe(no_mangle)]` function in
//! `src/` has a body whose first statement (after comments) is `ffi_guard(`, and every
//! `extern "C" fn` is such an export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

struct Export {
    file: String,
    name: String,
    body_start: String,
}

fn sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).unwrap();
                out.push((path.display().to_string(), text));
            }
        }
    }
    out.sort();
    out
}

/// The text after the opening brace of the body, comments and whitespace skipped.
fn body_start(after_brace: &str) -> String {
    let mut rest = after_brace;
    loop {
        rest = rest.trim_start();
        if rest.starts_with("//") {
            rest = rest.split_once('\n').map_or("", |(_, r)| r);
        } else {
            return rest.chars().take(40).collect();
        }
    }
}

fn exports() -> Vec<Export> {
    let mut found = Vec::new();
    for (file, text) in sources() {
        for (at, _) in text.match_indices("#[unsafe(no_mangle)]") {
            let after = &text[at..];
            let fn_at = after.find("fn ").expect("a fn after no_mangle");
            let sig = &after[fn_at + 3..];
            let name: String = sig
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let brace = sig.find('{').expect("a body");
            found.push(Export {
                file: file.clone(),
                name,
                body_start: body_start(&sig[brace + 1..]),
            });
        }
    }
    found
}

#[test]
fn every_export_is_guarded() {
    let exports = exports();
    assert!(exports.len() > 40, "found only {} exports", exports.len());
    let unguarded: Vec<String> = exports
        .iter()
        .filter(|e| !e.body_start.starts_with("ffi_guard("))
        .map(|e| format!("{} in {}: body starts `{}`", e.name, e.file, e.body_start))
        .collect();
    assert!(
        unguarded.is_empty(),
        "exports without the guard:\n{}",
        unguarded.join("\n")
    );
}

#[test]
fn every_export_is_named_for_c() {
    for e in exports() {
        assert!(e.name.starts_with("metaless_"), "{} in {}", e.name, e.file);
    }
}

#[test]
fn every_extern_fn_is_a_guarded_export() {
    let exports = exports();
    for (file, text) in sources() {
        // Other ways to export a symbol would escape the scan above.
        assert!(!text.contains("export_name"), "{file} uses export_name");
        assert!(
            !text.contains("#[no_mangle]"),
            "{file} uses the pre-2024 no_mangle form"
        );
        let marker = "extern \"C\" fn ";
        for (at, _) in text.match_indices(marker) {
            let name: String = text[at + marker.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            assert!(
                exports.iter().any(|e| e.name == name),
                "{name} in {file} is extern \"C\" but not a #[unsafe(no_mangle)] export"
            );
        }
    }
}

#[test]
fn the_scan_itself_catches_a_missing_guard() {
    assert_eq!(
        body_start("\n    // note\n    ffi_guard(|| x)"),
        "ffi_guard(|| x)"
    );
    assert!(!body_start("\n    let x = 1;\n    ffi_guard(|| x)").starts_with("ffi_guard("));
}
