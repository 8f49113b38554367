#!/usr/bin/env bash
# Visual positioning benchmark (not a test). On the default synthetic city:
#   1. accuracy and server-side latency through `armap serve` pinned to ONE
#      core (taskset), 1280 x 960 JPEG queries;
#   2. throughput through the server on all cores with 2 concurrent clients.
# The COLMAP side by side is bench/localization_vs_colmap.sh.
# Prints a table and writes OUT/localization_bench.json.
# Usage: bench/localization_bench.sh [OUT_DIR]   (reuses OUT/city and OUT/map)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/armap_bench_localization}
mkdir -p "$OUT"
ARMAP=./build/bin/armap
source scripts/lib/demo_city.sh
if [ ! -f "$OUT/city/queries.json" ]; then
  $ARMAP -q synth city "${ARMAP_DEMO_CITY_FLAGS[@]}" --out "$OUT/city" --overwrite
fi
if [ ! -f "$OUT/map/manifest.json" ]; then
  $ARMAP -q map build --capture "$OUT/city" --out "$OUT/map" --workspace "$OUT/map.workspace"
fi
Q="$OUT/city/queries.json"; GT="$OUT/city/gt/queries_gt.json"

source scripts/lib/serve.sh

echo "== 1. one core: server pinned to CPU 0, one sequential client"
armap_start_server "$OUT/serve.log" "$OUT/map" env OMP_NUM_THREADS=1 taskset -c 0
$ARMAP -q eval localize --map "$OUT/map" --queries "$Q" --gt "$GT" --server "$SERVER_ADDR" --json "$OUT/one_core.json"
armap_stop_server

echo "== 2. throughput: server on all cores, 2 concurrent clients x 100 queries"
armap_start_server "$OUT/serve.log" "$OUT/map"
t0=$(date +%s.%N)
$ARMAP -q eval localize --map "$OUT/map" --queries "$Q" --gt "$GT" --server "$SERVER_ADDR" --json "$OUT/client_a.json" >/dev/null &
A=$!
$ARMAP -q eval localize --map "$OUT/map" --queries "$Q" --gt "$GT" --server "$SERVER_ADDR" --json "$OUT/client_b.json" >/dev/null &
B=$!
wait $A; wait $B
t1=$(date +%s.%N)
armap_stop_server

/usr/bin/python3 - "$OUT" "$t0" "$t1" <<'PY'
import json, sys
out, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
one = json.load(open(f"{out}/one_core.json"))
a = json.load(open(f"{out}/client_a.json")); b = json.load(open(f"{out}/client_b.json"))
n = a["num_queries"] + b["num_queries"]
qps = n / (t1 - t0)
res = {
  "one_core": {k: one[k] for k in ["num_queries", "num_localized", "recall", "median_pos_err_m", "median_rot_err_deg",
                                    "false_confident", "unlocalizable_rejected", "latency_ms", "stages_ms"]},
  "throughput": {"clients": 2, "queries": n, "seconds": t1 - t0, "queries_per_second": qps,
                 "client_latency_ms_p50": [a["client_latency_ms"]["p50"], b["client_latency_ms"]["p50"]]},
  "goals": {"recall_0.25m_2deg": ">= 0.95", "recall_5m_10deg": ">= 0.99", "false_confident": 0,
            "unlocalizable_rejected": 1, "latency_ms.p50": "<= 150 (one core)", "latency_ms.p99": "<= 400 (one core)"},
}
json.dump(res, open(f"{out}/localization_bench.json", "w"), indent=2)
r = one["recall"]; l = one["latency_ms"]
print("\n| figure | value | goal |\n|---|---|---|")
print(f"| recall (0.25 m, 2 deg) | {100*r['0.25m_2deg']:.1f}% | >= 95% |")
print(f"| recall (0.5 m, 5 deg) | {100*r['0.5m_5deg']:.1f}% | |")
print(f"| recall (5 m, 10 deg) | {100*r['5m_10deg']:.1f}% | >= 99% |")
print(f"| median error | {one['median_pos_err_m']*100:.1f} cm / {one['median_rot_err_deg']:.3f} deg | |")
print(f"| confident but wrong | {one['false_confident']} | 0 |")
print(f"| unlocalizable rejected | {100*one['unlocalizable_rejected']:.0f}% | 100% |")
print(f"| server latency, one core, p50 / p90 / p99 | {l['p50']:.0f} / {l['p90']:.0f} / {l['p99']:.0f} ms | p50 <= 150, p99 <= 400 |")
for s, v in one["stages_ms"].items(): print(f"| stage {s} p50 (one core) | {v['p50']:.1f} ms | |")
print(f"| throughput, all cores, 2 clients | {qps:.2f} queries/s | |")
print(f"\nwritten: {out}/localization_bench.json")
PY
