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
  colmap tesseract-ocr tesseract-ocr-chi-sim libtesseract-dev libleptonica-dev
  # fonts for shop signs (CJK + Latin)
  fonts-noto-cjk fonts-dejavu-core
  # python for the realism check
  python3-numpy python3-opencv
)

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
  exit 0
fi
echo "install_deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install_deps: done"
