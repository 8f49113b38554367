#!/usr/bin/env bash
# Configures and builds armap (Release, Ninja, ccache when present) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ARMAP_BUILD_DIR:-build}
JOBS=${ARMAP_JOBS:-$(nproc)}
# ccache keys on paths relative to the project, so clones in other folders
# (CI's fresh clone) reuse each other's cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
