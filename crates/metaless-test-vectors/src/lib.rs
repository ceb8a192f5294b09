//! The one loader of the workspace's known-answer files (`test-vectors/*.json`), for tests.
//!
//! Every test suite that checks against upstream vectors reads them through here, so the path,
//! the error message on a missing file and the field accessors are written once. A missing file
//! or field is a test failure, so these functions panic with the file and field named.
//!
//! ```
//! let v = metaless_test_vectors::load("swarm.json");
//! assert!(v["swarm_space"].is_array());
//! ```
#![forbid(unsafe_code)]
// A test helper fails the test by panicking, with the file and field named.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

pub use serde_json::Value;

/// The `test-vectors/` directory at the workspace root.
///
/// ```
/// assert!(metaless_test_vectors::dir().join("onionreq.json").is_file());
/// ```
pub fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors"))
}

/// Parses `test-vectors/<name>`; panics naming the path when it is missing or not JSON.
///
/// ```
/// let v = metaless_test_vectors::load("mnemonic.json");
/// assert!(v.is_object());
/// ```
pub fn load(name: &str) -> Value {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The string `case[field]`; panics naming the field when absent or not a string.
///
/// ```
/// let case = serde_json::json!({ "name": "x" });
/// assert_eq!(metaless_test_vectors::text(&case, "name"), "x");
/// ```
pub fn text<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field:?} missing or not a string"))
}

/// The hex string `case[field]` decoded.
///
/// ```
/// let case = serde_json::json!({ "key": "00ff" });
/// assert_eq!(metaless_test_vectors::bytes(&case, "key"), vec![0, 255]);
/// ```
pub fn bytes(case: &Value, field: &str) -> Vec<u8> {
    metaless_identity::hex::decode(text(case, field))
        .unwrap_or_else(|e| panic!("vector field {field:?} is not hex: {e}"))
}

/// The hex string `case[field]` decoded to exactly `N` bytes.
///
/// ```
/// let case = serde_json::json!({ "key": "0102" });
/// assert_eq!(metaless_test_vectors::array::<2>(&case, "key"), [1, 2]);
/// ```
pub fn array<const N: usize>(case: &Value, field: &str) -> [u8; N] {
    metaless_identity::hex::decode_array(text(case, field))
        .unwrap_or_else(|e| panic!("vector field {field:?} is not {N} hex bytes: {e}"))
}
