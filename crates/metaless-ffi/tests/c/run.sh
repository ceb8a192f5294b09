#!/usr/bin/env bash
# Builds metaless-ffi as a static library (with the loopback test network), compiles the C test
# against it and the checked-in header with warnings as errors, and runs it on test-vectors/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
cd "$root"

cargo build -p metaless-ffi --features loopback --lib
target="${CARGO_TARGET_DIR:-$root/target}"
lib="$target/debug/libmetaless_ffi.a"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

inc="crates/metaless-ffi/include"
# The header must also be valid C++ (cpp_compat): bindings generators often parse it as such.
g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -DMETALESS_LOOPBACK -x c++ "$inc/metaless.h"
# AddressSanitizer and LeakSanitizer watch the C side: a leaked handle or buffer (an
# ownership rule broken by the library or by the test) fails the run.
gcc -std=c11 -Wall -Wextra -Werror -pedantic -g -fsanitize=address,undefined \
  -fno-sanitize-recover=all -fno-omit-frame-pointer -DMETALESS_LOOPBACK -I"$inc" \
  "$here/test.c" "$lib" -lpthread -ldl -lm -o "$out/metaless-ffi-test"
ASAN_OPTIONS=detect_leaks=1 "$out/metaless-ffi-test" test-vectors
