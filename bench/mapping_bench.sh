#!/usr/bin/env bash
# Mapping benchmark (not a test): builds the default synthetic city's map and
# runs COLMAP's own SfM (CPU, use_gpu 0) on the same virtual views, side by
# side. Prints per-stage times, map sizes, both pipelines' pose accuracy
# against ground truth and the time ratio; writes OUT/mapping_bench.json and
# OUT/mapping_bench.md.
#
# Usage: bench/mapping_bench.sh [OUT_DIR] [--no-colmap] [--reuse] [--panos N]
#   --panos N    both pipelines on the first N panoramas only (a shorter drive:
#                those trajectory rows, panoramas and ground truth, and the
#                lidar chunks recorded until 5 s after the last one). COLMAP's
#                matching of the 360 views of the whole default city takes
#                hours on a shared 2-core machine; the subset keeps the
#                comparison like for like
#   --reuse      keep an existing OUT/map (its report.json's stage seconds are
#                the build time; stages skipped by a resumed run keep the
#                seconds recorded when they ran) and an existing COLMAP run
#   ARMAP_BIN    folder with armap and mapping_vs_colmap (default ./build/bin)
#
# COLMAP setup, the same information armap gets, stated so that the
# comparison is honest:
#   * the same 640 px virtual views (9 per panorama) armap cuts, after its
#     privacy blur, and as many SIFT features per view as armap keeps
#     (features.max_features, 2000); one shared PINHOLE camera with the views' exact
#     intrinsics, kept fixed in bundle adjustment (COLMAP's principal-point
#     convention is half a pixel off armap's: cx = size/2 there);
#   * sequential matching in capture order: each view against the next
#     3 panoramas' worth of views (overlap 27, no quadratic overlap, no loop
#     detection: Debian ships no vocabulary tree). Exhaustive matching of
#     360 views is 64,620 pairs, hours on 2 cores; armap matches neighbouring
#     panoramas too;
#   * timed: feature_extractor + sequential_matcher + mapper (wall and CPU).
#   COLMAP's model has no metric scale or frame: its camera centres are
#   mapped onto the truth with a similarity (Umeyama) before errors are
#   taken; armap's poses are compared as they come out (and also after the
#   same similarity, to show how much of its error is a global offset).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=/tmp/armap_bench_mapping
NO_COLMAP=0
REUSE=0
for arg in "$@"; do
  case "$arg" in
    --no-colmap) NO_COLMAP=1 ;;
    --reuse) REUSE=1 ;;
    --panos) SUBSET=next ;;
    [0-9]*) if [ "${SUBSET:-}" = next ]; then SUBSET=$arg; else echo "unexpected $arg" >&2; exit 2; fi ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) OUT=$arg ;;
  esac
done
BIN=${ARMAP_BIN:-./build/bin}
mkdir -p "$OUT"
TIME="/usr/bin/time -f %e,%U,%S -a -o"

if [ ! -d "$OUT/city" ]; then
  $BIN/armap -q synth city --seed 1 --out "$OUT/city" --queries 0
fi
CITY="$OUT/city"
if [ -n "${SUBSET:-}" ]; then
  CITY="$OUT/city_first$SUBSET"
  if [ ! -d "$CITY" ]; then
    /usr/bin/python3 - "$OUT/city" "$CITY" "$SUBSET" <<'PY'
import csv, json, os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = os.path.abspath(src)
os.makedirs(f"{dst}/panos"); os.makedirs(f"{dst}/lidar"); os.makedirs(f"{dst}/gt")
for name in ("trajectory.csv", "gt/panos_gt.csv"):
    lines = open(f"{src}/{name}").read().splitlines(True)
    open(f"{dst}/{name}", "w").writelines(lines[:n + 1])
rows = list(csv.DictReader(open(f"{dst}/trajectory.csv")))
for r in rows: os.symlink(f"{src}/panos/{r['name']}.jpg", f"{dst}/panos/{r['name']}.jpg")
meta = json.load(open(f"{src}/capture.json"))
t_end = float(rows[-1]["timestamp_s"]) + 5
meta["lidar"]["files"] = [f for f in meta["lidar"]["files"] if f["t_begin_s"] <= t_end]
for f in meta["lidar"]["files"]: os.symlink(f"{src}/{f['file']}", f"{dst}/{f['file']}")
meta.pop("queries", None)
json.dump(meta, open(f"{dst}/capture.json", "w"), indent=2)
print(f"subset capture {dst}: {len(rows)} panoramas, {len(meta['lidar']['files'])} lidar chunks")
PY
  fi
fi
if [ $REUSE = 0 ] || [ ! -f "$OUT/map/report.json" ]; then
  rm -f "$OUT/armap_time.csv"
  $TIME "$OUT/armap_time.csv" $BIN/armap map build --capture "$CITY" --out "$OUT/map" --workspace "$OUT/ws" --overwrite
fi
/usr/bin/python3 - "$OUT/map/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = r["counts"]["panos"]
print("\n| stage | seconds | per panorama |\n|---|---|---|")
for k, v in r["stages"].items(): print(f"| {k} | {v['seconds']:.1f} | {v['seconds']/n:.2f} |")
print(f"| total | {r['seconds_total']:.1f} | {r['seconds_per_pano']:.2f} |")
s = r["size_bytes"]
print(f"\nmap size: {s['total']/1e6:.1f} MB total, {s['total']/n/1e6:.2f} MB per panorama, "
      f"{s['total']/max(1,r['counts']['landmarks'])*1000/1e6:.3f} MB per 1,000 landmarks "
      f"(descriptors {s['descriptors']/1e6:.1f} MB, index {s['index']/1e6:.1f} MB; {r['counts']['landmarks']} landmarks)")
a = r.get("alignment", {})
if "median_pos_err_m_after" in a:
    print(f"alignment vs gt: {100*a['median_pos_err_m_before']:.2f} cm / {a['median_rot_err_deg_before']:.3f} deg -> "
          f"{100*a['median_pos_err_m_after']:.2f} cm / {a['median_rot_err_deg_after']:.3f} deg (median)")
PY
if [ $NO_COLMAP = 1 ]; then exit 0; fi

# COLMAP on the same views.
C="$OUT/colmap"
VIEWS="$OUT/ws/views"
size=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/map/config.json'))['views']['size_px'])")
fov=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/map/config.json'))['views']['fov_deg'])")
f=$(/usr/bin/python3 -c "import math;print(0.5*$size/math.tan(math.radians($fov)/2))")
c=$(/usr/bin/python3 -c "print($size/2)")   # COLMAP: pixel (0,0) is centred at (0.5, 0.5)
max_features=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/map/config.json'))['features']['max_features'])")
nv=$(ls "$VIEWS/pano_0000" | wc -l)
if [ $REUSE = 0 ] || [ ! -f "$C/done" ]; then
  rm -rf "$C"; mkdir -p "$C/sparse"
  (cd "$VIEWS" && ls -d pano_*/ | sed 's#/$##' | while read -r p; do ls "$p"/*.jpg; done) > "$C/images.txt"
  : > "$C/time.csv"
  echo "colmap: $(wc -l < "$C/images.txt") views, log in $C/log.txt"
  $TIME "$C/time.csv" colmap feature_extractor --database_path "$C/db.db" --image_path "$VIEWS" --image_list_path "$C/images.txt" \
    --ImageReader.camera_model PINHOLE --ImageReader.single_camera 1 --ImageReader.camera_params "$f,$f,$c,$c" \
    --SiftExtraction.use_gpu 0 --SiftExtraction.num_threads 2 --SiftExtraction.max_num_features "$max_features" > "$C/log.txt" 2>&1
  $TIME "$C/time.csv" colmap sequential_matcher --database_path "$C/db.db" --SiftMatching.use_gpu 0 --SiftMatching.num_threads 2 \
    --SequentialMatching.overlap $((3 * nv)) --SequentialMatching.quadratic_overlap 0 >> "$C/log.txt" 2>&1
  $TIME "$C/time.csv" colmap mapper --database_path "$C/db.db" --image_path "$VIEWS" --output_path "$C/sparse" \
    --Mapper.num_threads 2 --Mapper.ba_refine_focal_length 0 --Mapper.ba_refine_principal_point 0 \
    --Mapper.ba_refine_extra_params 0 >> "$C/log.txt" 2>&1
  touch "$C/done"
fi
# The largest model (COLMAP may split the sequence into several).
best=""; best_n=0
for m in "$C"/sparse/*/; do
  rm -rf "$C/txt_tmp"; mkdir -p "$C/txt_tmp"
  colmap model_converter --input_path "$m" --output_path "$C/txt_tmp" --output_type TXT >> "$C/log.txt" 2>&1
  n=$(grep -v '^#' "$C/txt_tmp/images.txt" | awk 'NF' | wc -l); n=$((n / 2))
  if [ "$n" -gt "$best_n" ]; then best_n=$n; best=$m; rm -rf "$C/txt"; mv "$C/txt_tmp" "$C/txt"; fi
done
rm -rf "$C/txt_tmp"
num_models=$(ls -d "$C"/sparse/*/ 2>/dev/null | wc -l)
echo
$BIN/mapping_vs_colmap "$CITY" "$OUT/ws" "$C/txt" "$size" > "$OUT/accuracy.txt"
cat "$OUT/accuracy.txt"
/usr/bin/python3 - "$OUT" "$num_models" "$(wc -l < "$C/images.txt")" <<'PY'
import json, os, sys
out, num_models, num_views = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(f"{out}/map/report.json"))
acc = json.loads(open(f"{out}/accuracy.txt").read().strip().splitlines()[-1])
def times(path):
    rows = [list(map(float, l.split(","))) for l in open(path) if l.strip() and l[0].isdigit()]
    return {"wall_s": sum(x[0] for x in rows), "cpu_s": sum(x[1] + x[2] for x in rows), "steps_wall_s": [x[0] for x in rows]}
colmap = times(f"{out}/colmap/time.csv")
armap = {"wall_s": r["seconds_total"], "stages_s": {k: v["seconds"] for k, v in r["stages"].items()}}
if os.path.exists(f"{out}/armap_time.csv"):
    t = times(f"{out}/armap_time.csv")
    armap["process_wall_s"], armap["cpu_s"] = t["wall_s"], t["cpu_s"]
res = {"armap_version": r.get("armap_version"), "map_version": r.get("map_version"), "capture": r["capture"],
       "panos": r["counts"]["panos"], "views": num_views,
       "armap": {**armap, **acc["armap"]}, "colmap": {**colmap, **acc["colmap"], "models": num_models},
       "measured_trajectory": acc["measured"],
       "time_ratio_colmap_over_armap_wall": colmap["wall_s"] / armap["wall_s"],
       "load_average_1min_at_end": os.getloadavg()[0]}
if "cpu_s" in armap: res["time_ratio_colmap_over_armap_cpu"] = colmap["cpu_s"] / armap["cpu_s"]
json.dump(res, open(f"{out}/mapping_bench.json", "w"), indent=2)
lines = ["| | armap map build | COLMAP SfM (extract + sequential match + map) |", "|---|---|---|",
         f"| wall time, s | {armap['wall_s']:.0f} (all stages) | {colmap['wall_s']:.0f} |"]
if "cpu_s" in armap: lines.append(f"| CPU time, s | {armap['cpu_s']:.0f} | {colmap['cpu_s']:.0f} |")
lines += [f"| panoramas registered | {res['panos']} of {res['panos']} | {acc['colmap']['registered_panos']} of {res['panos']} ({acc['colmap']['registered_views']} of {num_views} views, {num_models} model(s)) |",
          f"| median position error | {100*acc['armap']['median_pos_err_m']:.2f} cm (metric, as built) | {100*acc['colmap']['median_pos_err_m']:.2f} cm (after Sim3 to truth) |",
          f"| median rotation error | {acc['armap']['median_rot_err_deg']:.3f} deg | {acc['colmap']['median_rot_err_deg']:.3f} deg |",
          f"| same after Sim3 to truth | {100*acc['armap_sim3']['median_pos_err_m']:.2f} cm / {acc['armap_sim3']['median_rot_err_deg']:.3f} deg | |",
          "", f"time ratio COLMAP / armap: {res['time_ratio_colmap_over_armap_wall']:.2f}x wall"
          + (f", {res['time_ratio_colmap_over_armap_cpu']:.2f}x CPU" if "cpu_s" in armap else "")
          + f" (load average at the end {res['load_average_1min_at_end']:.1f} on {os.cpu_count()} cores)"]
open(f"{out}/mapping_bench.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
print(f"\nwrote {out}/mapping_bench.json and {out}/mapping_bench.md")
PY
