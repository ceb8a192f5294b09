//! The checked-in prost code must be exactly what the `.proto` files generate today.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

#[allow(dead_code)]
#[path = "../examples/regen.rs"]
mod regen;

#[test]
fn checked_in_code_matches_the_proto_files() {
    let scratch = tempfile::tempdir().unwrap();
    regen::generate(scratch.path()).unwrap();
    let checked_in = regen::crate_dir().join("src").join("generated");

    let mut generated: Vec<String> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    generated.sort();
    let mut ours: Vec<String> = std::fs::read_dir(&checked_in)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    ours.sort();
    assert_eq!(
        generated, ours,
        "generated file set differs: run `cargo run -p metaless-envelope --example regen`"
    );

    for name in generated {
        let fresh = std::fs::read_to_string(scratch.path().join(&name)).unwrap();
        let kept = std::fs::read_to_string(checked_in.join(&name)).unwrap();
        assert!(
            fresh == kept,
            "src/generated/{name} is stale: run `cargo run -p metaless-envelope --example regen`"
        );
    }
}
