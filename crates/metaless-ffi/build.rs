//! Gives the shared library a SONAME on ELF platforms, so a program linked against
//! `libmetaless.so.N` is refused by the loader when only an ABI-incompatible one is installed.
//! `N` is `METALESS_ABI_VERSION` (src/version.rs); a test checks the two agree.

fn main() {
    const ABI_VERSION: u32 = 1;
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmetaless.so.{ABI_VERSION}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
