#!/usr/bin/env bash
# The main job on the embedded default: installs dependencies, builds, and
# generates the default synthetic city (seed 1, 200 m, 40 panoramas, 100
# queries) with a preview contact sheet, then prints its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
OUT=${ARMAP_DEMO_DIR:-out/demo}
mkdir -p "$OUT"
./build/bin/armap synth city --seed 1 --out "$OUT/city" --preview --overwrite --report "$OUT/synth_report.json"
echo
echo "capture:  $OUT/city (preview: $OUT/city/preview.png)"
echo "report:   $OUT/synth_report.json"
