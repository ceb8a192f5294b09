#!/usr/bin/env bash
# Installs the C library into a scratch prefix with install.sh and links a small program
# against it the way a packager's user would: through pkg-config, once against the shared
# library (whose SONAME must be libmetaless.so.ABI) and once statically.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
cd "$root"

prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
# The debug build keeps this check quick; packagers use the default release-ffi profile.
crates/metaless-ffi/install.sh --prefix "$prefix" --profile dev

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
abi="$(sed -n 's/^pub const METALESS_ABI_VERSION: u32 = \([0-9]*\);/\1/p' crates/metaless-ffi/src/version.rs)"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
test "$(pkg-config --modversion metaless)" = "$version"

soname="$(readelf -d "$prefix/lib/libmetaless.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
if [ "$soname" != "libmetaless.so.$abi" ]; then
  echo "SONAME is '$soname', expected libmetaless.so.$abi" >&2
  exit 1
fi

# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror -pedantic "$here/link.c" $(pkg-config --cflags --libs metaless) \
  -o "$prefix/link-shared"
# The program records the SONAME, not the file it was linked with.
readelf -d "$prefix/link-shared" | grep -q "NEEDED.*\[libmetaless.so.$abi\]"
LD_LIBRARY_PATH="$prefix/lib" "$prefix/link-shared" "$version"

# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror -pedantic "$here/link.c" $(pkg-config --cflags metaless) \
  "$prefix/lib/libmetaless.a" $(pkg-config --static --libs-only-l metaless | sed 's/-lmetaless//') \
  -o "$prefix/link-static"
if readelf -d "$prefix/link-static" | grep -q "libmetaless"; then
  echo "static program still needs the shared library" >&2
  exit 1
fi
"$prefix/link-static" "$version"
