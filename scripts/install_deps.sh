#!/usr/bin/env bash
# Installs every Debian 12 package armap needs. Idempotent: packages already
# present are skipped by apt. Works as root or through sudo.
set -euo pipefail

# The one list of system packages. Keep it sorted by purpose.
PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # core libraries
  libeigen3-dev libabsl-dev libgeographiclib-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev libcpp-httplib-dev libtinygltf-dev libfreetype-dev libharfbuzz-dev
  libssl-dev libsqlite3-dev libexif-dev
  # vision, geometry, search
  libopencv-dev libopencv-contrib-dev opencv-data libpcl-dev libceres-dev libfaiss-dev
  # rpc
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # C# SDK (mono's mcs, C# 7.2) and its NUnit 2.6 tests
  mono-mcs mono-runtime nunit-console libnunit-cil-dev
  # mapping peers and OCR
  colmap tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-script-hans libtesseract-dev libleptonica-dev
  # fonts for shop signs (CJK + Latin)
  fonts-noto-cjk fonts-dejavu-core
  # python for the realism check
  python3-numpy python3-opencv
  # WebAssembly SDK (em++ 3.1.6; node itself is the machine's) and the browser demo's tests
  emscripten chromium
)

# npm projects (folders with a package-lock.json) whose node_modules the
# build and tests use: installed with `npm ci` when missing or stale.
NPM_PROJECTS=(server/web sdk/wasm)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages present"
else
  echo "install_deps: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "install_deps: apt packages done"
fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
command -v npm >/dev/null || { echo "install_deps: npm not found (node and npm come with the machine)" >&2; exit 1; }
for project in "${NPM_PROJECTS[@]}"; do
  dir="$ROOT/$project"
  [ -f "$dir/package-lock.json" ] || continue
  # npm ci leaves a copy of the lock inside node_modules; newer than the
  # project's lock means it is current.
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    echo "install_deps: npm packages of $project present"
    continue
  fi
  echo "install_deps: npm ci in $project"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
echo "install_deps: done"
