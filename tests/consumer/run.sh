#!/usr/bin/env bash
# CTest install.consumer (label install): installs the build tree into a temporary prefix, then
# builds tests/consumer — a C program on tram.h, a C++ one on the engine and the C API, one on
# the C++ API — against that prefix only: with CMake (find_package(Tram CONFIG),
# CMAKE_PREFIX_PATH=prefix), and the C one again with `pkg-config --cflags --libs tram-client`;
# then runs them. The consumer is a copy outside the source tree and gets no path of the build.
# Usage: run.sh BUILD_DIR CONSUMER_SRC CC CXX SANITIZE(0|1)
set -euo pipefail
build=$1 src=$2 cc=$3 cxx=$4 sanitize=${5:-0}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tram-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
t0=$(date +%s)

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
echo "== installed into $prefix ($(find "$prefix" -type f | wc -l) files)"
(cd "$prefix" && find . -maxdepth 3 -not -path './share/doc/*' -not -path './share/tram/schemas/*' \
   -not -path './include/tram/engine/*' | sort | sed 's/^\.\///' | grep -v '^\.$')

lib=$(dirname "$(find "$prefix" -name 'libtram_client.so' | head -1)")
soname=$(objdump -p "$lib/libtram_client.so" | awk '$1 == "SONAME" {print $2}')
echo "== libtram_client.so soname: $soname"
[[ -n "$soname" && -e "$lib/$soname" ]] || { echo "missing soname link $lib/$soname" >&2; exit 1; }
strip -o "$tmp/libtram_client.stripped.so" "$lib/libtram_client.so"
echo "== stripped libtram_client.so: $(stat -c %s "$tmp/libtram_client.stripped.so") bytes"

# The consumer's own copy, so nothing resolves relative to the source tree.
cp -r "$src" "$tmp/consumer"
flags=() ldflags=
if [[ "$sanitize" == 1 ]]; then
  # The installed libraries are instrumented: the programs must load the sanitizers' runtime first.
  # shellcheck disable=SC2054  # one -D each; the commas belong to -fsanitize=
  flags=(-DCMAKE_C_FLAGS=-fsanitize=address,undefined -DCMAKE_CXX_FLAGS=-fsanitize=address,undefined)
  ldflags=-fsanitize=address,undefined
fi
echo "== cmake: find_package(Tram CONFIG) with CMAKE_PREFIX_PATH=$prefix"
cmake -S "$tmp/consumer" -B "$tmp/consumer-build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF "${flags[@]}" >"$tmp/configure.log" 2>&1 \
  || { cat "$tmp/configure.log"; echo "configuring the consumer failed" >&2; exit 1; }
grep 'Found Tram' "$tmp/configure.log"
cmake --build "$tmp/consumer-build" -j2

schemas=$prefix/share/tram/schemas/sonla-2026
[[ -f "$schemas/v1.json" ]] || { echo "schemas not installed at $schemas" >&2; exit 1; }
mkdir -p "$tmp/home-c" "$tmp/home-cpp" "$tmp/home-sdk" "$tmp/home-pc"
echo "== run"
"$tmp/consumer-build/consumer_c" "$schemas" "$tmp/home-c"
"$tmp/consumer-build/consumer_cpp" "$schemas" "$tmp/home-cpp"
"$tmp/consumer-build/consumer_sdk" "$schemas" "$tmp/home-sdk"
# The consumer loads the installed library (its RUNPATH names the prefix, not the build tree).
ldd "$tmp/consumer-build/consumer_c" | grep libtram_client

echo "== pkg-config --cflags --libs tram-client"
export PKG_CONFIG_PATH="$lib/pkgconfig"
pc=$(pkg-config --cflags --libs tram-client)
echo "   $pc (version $(pkg-config --modversion tram-client))"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -o "$tmp/consumer_pc" "$tmp/consumer/consumer.c" $pc $ldflags
LD_LIBRARY_PATH="$lib" "$tmp/consumer_pc" "$schemas" "$tmp/home-pc"
echo "install.consumer: ok in $(( $(date +%s) - t0 )) s"
