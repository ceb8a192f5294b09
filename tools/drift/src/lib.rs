//! Drift checks for checked-in generated code; the checks are the tests in `tests/`.
//!
//! ```sh
//! cargo test --manifest-path tools/drift/Cargo.toml            # check
//! METALESS_BLESS=1 cargo test --manifest-path tools/drift/Cargo.toml   # rewrite the files
//! ```

use std::path::{Path, PathBuf};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compares `fresh` with the checked-in file at `path`; with `METALESS_BLESS` set, rewrites
/// the file instead. Returns a message naming the first differing line when they differ.
pub fn check_or_bless(path: &Path, fresh: &str, how_to_regenerate: &str) -> Result<(), String> {
    if std::env::var_os("METALESS_BLESS").is_some() {
        std::fs::write(path, fresh).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    if checked_in == fresh {
        return Ok(());
    }
    let line = checked_in
        .lines()
        .zip(fresh.lines())
        .position(|(a, b)| a != b)
        .map_or_else(|| "end of file".to_owned(), |n| format!("line {}", n + 1));
    Err(format!(
        "{} is out of date (first difference at {line}); {how_to_regenerate}",
        path.display()
    ))
}
