//! Helpers the known-answer tests share: the documents' hex (whitespace allowed) as bytes.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses what it needs

/// Hex text, whitespace ignored, as bytes; panics on malformed input (the vectors are literals).
pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// [`unhex`] into an array of exactly `N` bytes.
pub fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().unwrap()
}
