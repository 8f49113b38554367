#!/usr/bin/env bash
# The test command: installs dependencies (idempotent), builds, runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
cd "${ARMAP_BUILD_DIR:-build}"
ctest --output-on-failure -j "${ARMAP_JOBS:-$(nproc)}" --timeout 600
