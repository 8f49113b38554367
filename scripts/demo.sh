#!/usr/bin/env bash
# The main job on the embedded default: installs dependencies, builds,
# generates the default synthetic city (seed 1, 200 m, 40 panoramas, 100
# queries) with a preview contact sheet, and builds its map package,
# printing the figures of each step.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
OUT=${ARMAP_DEMO_DIR:-out/demo}
mkdir -p "$OUT"
./build/bin/armap synth city --seed 1 --out "$OUT/city" --preview --overwrite --report "$OUT/synth_report.json"
# The workspace is kept between runs, so a second run reuses every stage.
rm -rf "$OUT/map"
./build/bin/armap map build --capture "$OUT/city" --out "$OUT/map" --workspace "$OUT/map.workspace"
echo
echo "capture:  $OUT/city (preview: $OUT/city/preview.png)"
echo "map:      $OUT/map (report: $OUT/map/report.json)"
