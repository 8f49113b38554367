#!/usr/bin/env bash
# Benchmark of the synthetic city generator (not a test): seconds per
# 2048x1024 panorama, per 1280x960 query, and for the whole default city.
# Usage: bench/synth_bench.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/armap_bench_synth}
mkdir -p "$OUT"
./build/bin/armap -q synth city --seed 1 --out "$OUT/city" --overwrite --report "$OUT/synth_report.json"
/usr/bin/python3 - "$OUT/synth_report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"\n| metric | value | goal |\n|---|---|---|")
print(f"| s / panorama {r['pano_size'][0]}x{r['pano_size'][1]} | {r['seconds_per_pano']:.3f} | <= 1 |")
print(f"| s / query {r['query_size'][0]}x{r['query_size'][1]} | {r['seconds_per_query']:.3f} | |")
print(f"| s whole default city | {r['total_seconds']:.1f} | <= 180 |")
for k, v in r['stages_seconds'].items(): print(f"| s stage {k} | {v:.1f} | |")
print(f"| lidar points | {r['counts']['lidar_points']:,} | 10-30 M |")
PY
if [ -x /usr/bin/python3 ] && [ -f ../shared/tools/realism.py ]; then
  echo; echo "realism (real photo sets: slope -2.25..-3.13, kurtosis 12..26):"
  /usr/bin/python3 ../shared/tools/realism.py "$OUT/city/queries" "$OUT/city/panos"
fi
