#!/usr/bin/env bash
# Builds the C library and installs it the way a packager ships it:
#   PREFIX/include/metaless.h
#   PREFIX/lib/libmetaless.so.VERSION, libmetaless.so.ABI (the SONAME), libmetaless.so
#   PREFIX/lib/libmetaless.a
#   PREFIX/lib/pkgconfig/metaless.pc   (pkg-config --cflags --libs [--static] metaless)
#
# usage: crates/metaless-ffi/install.sh [--prefix DIR] [--destdir DIR] [--libdir DIR]
#                                       [--profile release-ffi|release|dev] [--no-build]
# DESTDIR stages the files under another root (for building packages); the .pc file still
# names PREFIX.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

prefix=/usr/local
destdir=""
libdir=""
profile=release-ffi
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --destdir) destdir="$2"; shift 2 ;;
    --libdir) libdir="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
libdir="${libdir:-$prefix/lib}"

version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)"
abi="$(sed -n 's/^pub const METALESS_ABI_VERSION: u32 = \([0-9]*\);/\1/p' "$here/src/version.rs")"
if [ -z "$version" ] || [ -z "$abi" ]; then
  echo "install.sh: could not read the version ($version) or ABI version ($abi)" >&2
  exit 1
fi

if [ "$build" = 1 ]; then
  (cd "$root" && cargo build -p metaless-ffi --lib --profile "$profile")
fi
target="${CARGO_TARGET_DIR:-$root/target}"
case "$profile" in
  dev) out="$target/debug" ;;
  *) out="$target/$profile" ;;
esac
for f in libmetaless_ffi.so libmetaless_ffi.a; do
  [ -f "$out/$f" ] || { echo "install.sh: $out/$f is missing (build with --profile $profile)" >&2; exit 1; }
done

inc_dest="$destdir$prefix/include"
lib_dest="$destdir$libdir"
mkdir -p "$inc_dest" "$lib_dest/pkgconfig"
install -m 0644 "$here/include/metaless.h" "$inc_dest/metaless.h"
install -m 0755 "$out/libmetaless_ffi.so" "$lib_dest/libmetaless.so.$version"
ln -sf "libmetaless.so.$version" "$lib_dest/libmetaless.so.$abi"
ln -sf "libmetaless.so.$abi" "$lib_dest/libmetaless.so"
install -m 0644 "$out/libmetaless_ffi.a" "$lib_dest/libmetaless.a"

cat > "$lib_dest/pkgconfig/metaless.pc" <<PC
prefix=$prefix
libdir=$libdir
includedir=\${prefix}/include

Name: metaless
Description: Session-compatible private messaging: identities, onion requests, sealed messages (C ABI)
Version: $version
Libs: -L\${libdir} -lmetaless
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC

echo "installed metaless $version (ABI $abi) into $destdir$prefix"
