#!/usr/bin/env bash
# Mapping benchmark (not a test): builds the default synthetic city's map and
# runs COLMAP's SfM (CPU, use_gpu 0) on the same virtual views, side by side.
# Prints per-stage times, map sizes, and both pipelines' pose accuracy
# against ground truth with the time ratio.
# Usage: bench/mapping_bench.sh [OUT_DIR] [--no-colmap]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/armap_bench_mapping}
mkdir -p "$OUT"
BIN=./build/bin
if [ ! -d "$OUT/city" ]; then
  $BIN/armap -q synth city --seed 1 --out "$OUT/city" --queries 0
fi
start=$SECONDS
$BIN/armap map build --capture "$OUT/city" --out "$OUT/map" --workspace "$OUT/ws" --overwrite
armap_s=$((SECONDS - start))
/usr/bin/python3 - "$OUT/map/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = r["counts"]["panos"]
print("\n| stage | seconds | per panorama |\n|---|---|---|")
for k, v in r["stages"].items(): print(f"| {k} | {v['seconds']:.1f} | {v['seconds']/n:.2f} |")
s = r["size_bytes"]
print(f"\nmap size: {s['total']/1e6:.1f} MB total, {s['total']/n/1e6:.2f} MB per panorama, "
      f"{s['total']/max(1,r['counts']['landmarks'])*1000/1e6:.2f} MB per 1,000 landmarks "
      f"(descriptors {s['descriptors']/1e6:.1f} MB, index {s['index']/1e6:.1f} MB)")
PY
if [ "${2:-}" = "--no-colmap" ]; then exit 0; fi
# COLMAP on the same views, with the views' known intrinsics.
C="$OUT/colmap"; rm -rf "$C"; mkdir -p "$C/sparse"
size=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/map/config.json'))['views']['size_px'])")
f=$(/usr/bin/python3 -c "import math;s=$size;print(0.5*s/math.tan(math.radians(45)))")
c=$(/usr/bin/python3 -c "print($size/2-0.5)")
nv=$(ls "$OUT/ws/views/pano_0000" | wc -l)
start=$SECONDS
colmap feature_extractor --database_path "$C/db.db" --image_path "$OUT/ws/views" \
  --ImageReader.camera_model PINHOLE --ImageReader.single_camera 1 --ImageReader.camera_params "$f,$f,$c,$c" \
  --SiftExtraction.use_gpu 0 --SiftExtraction.num_threads 2 > "$C/log.txt" 2>&1
colmap sequential_matcher --database_path "$C/db.db" --SiftMatching.use_gpu 0 --SiftMatching.num_threads 2 \
  --SequentialMatching.overlap $((3 * nv)) >> "$C/log.txt" 2>&1
colmap mapper --database_path "$C/db.db" --image_path "$OUT/ws/views" --output_path "$C/sparse" \
  --Mapper.num_threads 2 --Mapper.ba_refine_focal_length 0 --Mapper.ba_refine_principal_point 0 \
  --Mapper.ba_refine_extra_params 0 >> "$C/log.txt" 2>&1
colmap_s=$((SECONDS - start))
best=$(ls -d "$C"/sparse/* | head -1)
colmap model_converter --input_path "$best" --output_path "$C/txt" --output_type TXT >> "$C/log.txt" 2>&1 || \
  (mkdir -p "$C/txt" && colmap model_converter --input_path "$best" --output_path "$C/txt" --output_type TXT >> "$C/log.txt" 2>&1)
echo
$BIN/mapping_vs_colmap "$OUT/city" "$OUT/ws" "$C/txt" "$size"
/usr/bin/python3 -c "print(f'\ntime: armap map build {$armap_s} s (all stages), COLMAP SfM {$colmap_s} s (extract+match+map); COLMAP / armap = {$colmap_s / max(1, $armap_s):.1f}x')"
