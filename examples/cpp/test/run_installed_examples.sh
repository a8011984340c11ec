#!/usr/bin/env bash
# run_installed_examples.sh BUILD_DIR EXAMPLES_DIR MODEL WORK_DIR
# Installs BUILD_DIR into WORK_DIR/prefix, builds EXAMPLES_DIR against it and
# runs every example on MODEL. No jarvis source or build path is visible to
# the examples' build: only the prefix.
set -euo pipefail
build=$1 examples=$2 model=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
# The installed tree: the library, the headers, the package files; no internal header.
test -f "$work/prefix/include/jarvis/runtime.h"
test -f "$work/prefix/lib/cmake/jarvis/jarvisConfig.cmake"
test -f "$work/prefix/lib/pkgconfig/jarvis.pc"
if [ -e "$work/prefix/include/util" ] || [ -e "$work/prefix/include/service" ]; then
  echo "internal headers were installed" >&2
  exit 1
fi
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$examples" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" "${launcher[@]}" >"$work/configure.log"
cmake --build "$work/build" >"$work/build.log"
for example in generate stream concurrent stats; do
  echo "== $example"
  "$work/build/$example" "$model"
done
# pkg-config finds the same library.
if command -v pkg-config >/dev/null; then
  PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --libs jarvis | grep -q -- "-ljarvis"
fi
echo "installed-package examples: ok"
