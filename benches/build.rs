//! Finds libsodium for the same-run baselines: the development library (`libsodium.so`) where
//! `libsodium-dev` is installed, else the runtime library the Debian image ships
//! (`libsodium.so.23`, linked by its full name). Without either the benches still build and
//! print their rows without the libsodium column (`cfg(libsodium)` is off).

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(libsodium)");
    println!("cargo::rerun-if-env-changed=SODIUM_LIB_DIR");
    let mut dirs: Vec<String> = std::env::var("SODIUM_LIB_DIR").into_iter().collect();
    dirs.extend(
        [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/usr/local/lib",
            "/opt/homebrew/lib",
        ]
        .map(String::from),
    );
    for dir in &dirs {
        let dir = Path::new(dir);
        if dir.join("libsodium.so").exists() || dir.join("libsodium.dylib").exists() {
            println!("cargo::rustc-link-search=native={}", dir.display());
            println!("cargo::rustc-link-lib=dylib=sodium");
            println!("cargo::rustc-cfg=libsodium");
            return;
        }
        if dir.join("libsodium.so.23").exists() {
            println!("cargo::rustc-link-search=native={}", dir.display());
            println!("cargo::rustc-link-lib=dylib:+verbatim=libsodium.so.23");
            println!("cargo::rustc-cfg=libsodium");
            return;
        }
    }
    println!("cargo::warning=libsodium not found: benches run without the libsodium baseline");
}
