#!/usr/bin/env bash
# Per-call overhead of Armap.Sdk (C#) over the C ABI, side by side.
#   sdk/csharp/bench/run_overhead_bench.sh [BUILD_DIR] [ITERATIONS]
set -euo pipefail
build=${1:-build}
n=${2:-2000000}
dir="$build/sdk/csharp"
ninja -C "$build" armap_csharp_bench >/dev/null
c=$("$dir/fusion_overhead_c" "$n")
cs=$(mono "$dir/OverheadBench.exe" "$n")
printf '| call | C (ns) | C# (ns) | C# overhead (ns) |\n|---|---|---|---|\n'
for call in status_name fusion_add_tracking fusion_map_from_cam; do
  a=$(sed -n "s/^c ${call}_ns //p" <<<"$c")
  b=$(sed -n "s/^csharp ${call}_ns //p" <<<"$cs")
  printf '| %s | %s | %s | %.1f |\n' "$call" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b - a }')"
done
