#!/usr/bin/env bash
# Visual positioning benchmark (not a test): armap's localizer side by side
# with COLMAP on the same queries and the same map images.
#
# COLMAP gets its own model of the map's virtual views with the map's KNOWN
# poses and intrinsics (both systems localize against the same metric map
# poses): feature_extractor on the views, matches_importer on pairs of views
# that can see each other, point_triangulator with the poses fixed. The
# queries are then extracted into the same database with their own OPENCV
# intrinsics, matched against the views near their GPS prior (within armap's
# search radius, the 18 nearest by default), and registered with
# image_registrator (no bundle adjustment). The
# registered poses are in the map frame already (the views' poses are fixed;
# checked below), so no alignment is applied.
#
# Time per query: COLMAP = wall time of (query extraction + query matching +
# registration) / number of queries, with 2 threads; armap = the localizer's
# per-query latency (p50 and mean) from `armap eval localize` in the same run.
#
# Usage: bench/localization_vs_colmap.sh [--capture DIR --map MAP --workspace WS]
#          [--work DIR] [--out JSON] [--reuse-model]
#   --reuse-model keeps COLMAP's model of the views from an earlier run in WORK
#   (its database is saved before any query is added) and redoes the queries.
#   Without --map, builds the demo's city (scripts/lib/demo_city.sh) under WORK.
#   ARMAP_BIN overrides the armap binary (default build/bin/armap).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REUSE=0 CAPTURE="" MAP="" WS="" WORK=/tmp/armap_bench_localization OUT="$ROOT/bench/out/localization_vs_colmap.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --capture) CAPTURE=$2; shift 2 ;;
    --map) MAP=$2; shift 2 ;;
    --workspace) WS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --reuse-model) REUSE=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
ARMAP=${ARMAP_BIN:-$ROOT/build/bin/armap}
PY=/usr/bin/python3  # has numpy and sqlite3
THREADS=2
export QT_QPA_PLATFORM=offscreen
mkdir -p "$WORK" "$(dirname "$OUT")"
WORK=$(cd "$WORK" && pwd)

if [ -z "$MAP" ]; then
  CAPTURE=$WORK/city MAP=$WORK/map WS=$WORK/map.workspace
  source scripts/lib/demo_city.sh
  [ -f "$CAPTURE/queries.json" ] || "$ARMAP" -q synth city "${ARMAP_DEMO_CITY_FLAGS[@]}" --out "$CAPTURE"
  [ -f "$MAP/views.json" ] || "$ARMAP" map build --capture "$CAPTURE" --out "$MAP" --workspace "$WS" --overwrite
fi
[ -n "$CAPTURE" ] && [ -n "$WS" ] || { echo "--map needs --capture and --workspace" >&2; exit 2; }
for f in "$MAP/views.json" "$MAP/config.json" "$CAPTURE/queries.json" "$CAPTURE/gt/queries_gt.json" "$CAPTURE/capture.json"; do
  [ -f "$f" ] || { echo "missing $f" >&2; exit 1; }
done

C=$WORK/colmap
DB=$C/database.db LOG=$C/log.txt
if [ $REUSE = 1 ] && [ -f "$C/model_database.db" ] && [ -f "$C/times_model.env" ]; then
  rm -rf "$C/reg" "$C/reg_txt"; mkdir -p "$C/reg" "$C/reg_txt"
  cp "$C/model_database.db" "$DB"
else
  REUSE=0
  rm -rf "$C"; mkdir -p "$C/known" "$C/tri" "$C/reg" "$C/reg_txt" "$C/tri_txt"
fi
: > "$LOG"
H=$C/helper.py
cat > "$H" <<'PY'
import json, math, os, sqlite3, sys
import numpy as np

PIXEL_OFFSET = 0.5  # COLMAP puts the top-left pixel's centre at (0.5, 0.5); armap at (0, 0)
THRESHOLDS = [("0.25m_2deg", 0.25, 2.0), ("0.5m_5deg", 0.5, 5.0), ("5m_10deg", 5.0, 10.0)]
MIN_RADIUS_M, SIGMAS = 30.0, 3.0        # armap Localizer::Options min_search_radius_m, search_sigmas
MAP_PAIR_DIST_M, MAP_PAIR_ANGLE_DEG = 25.0, 75.0
NEAREST = int(os.environ.get("COLMAP_QUERY_NEAREST", "0"))  # > 0: only the K nearest of those views

def R(q):
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])

def centre(q, t): return -R(q).T @ np.asarray(t, float)
def axis(q): return R(q)[2]  # optical axis (camera z) in the world
def rot_err_deg(qa, qb):
    D = R(qa) @ R(qb).T
    s = np.linalg.norm([D[2, 1] - D[1, 2], D[0, 2] - D[2, 0], D[1, 0] - D[0, 1]]) / 2
    return math.degrees(math.atan2(s, (np.trace(D) - 1) / 2))

def views(map_dir): return json.load(open(os.path.join(map_dir, "views.json")))["views"]
def image_ids(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT image_id, name, camera_id FROM images").fetchall()
    con.close()
    return {n: (i, c) for i, n, c in rows}

def ecef(lat, lon, alt):
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    la, lo = math.radians(lat), math.radians(lon)
    n = a / math.sqrt(1 - e2 * math.sin(la) ** 2)
    return np.array([(n + alt) * math.cos(la) * math.cos(lo), (n + alt) * math.cos(la) * math.sin(lo),
                     (n * (1 - e2) + alt) * math.sin(la)])

def enu(origin, lat, lon, alt):
    la, lo = math.radians(origin["lat"]), math.radians(origin["lon"])
    M = np.array([[-math.sin(lo), math.cos(lo), 0],
                  [-math.sin(la) * math.cos(lo), -math.sin(la) * math.sin(lo), math.cos(la)],
                  [math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)]])
    return M @ (ecef(lat, lon, alt) - ecef(origin["lat"], origin["lon"], origin.get("alt", 0.0)))

def read_images_txt(path):
    out, lines = {}, [l for l in open(path) if not l.startswith("#")]
    for l in lines[0::2]:
        p = l.split()
        if len(p) >= 10:
            out[p[9]] = ([float(v) for v in p[1:5]], [float(v) for v in p[5:8]])
    return out

def cmd_views(map_dir, work):
    vs = views(map_dir)
    cams = {(v["camera"]["model"], v["camera"]["width"], v["camera"]["height"], tuple(v["camera"]["params"])) for v in vs}
    if len(cams) != 1 or next(iter(cams))[0] != "PINHOLE":
        sys.exit(f"expected one PINHOLE camera for all views, got {len(cams)}")
    fx, fy, cx, cy = next(iter(cams))[3]
    with open(os.path.join(work, "views_list.txt"), "w") as f:
        for v in vs: f.write(v["name"] + ".jpg\n")
    print(f"{fx!r},{fy!r},{cx + PIXEL_OFFSET!r},{cy + PIXEL_OFFSET!r}")

def cmd_model(map_dir, work, db):
    """Text model with the map's known poses, ids as in the database; pairs of views to match."""
    vs, ids = views(map_dir), image_ids(db)
    cam = vs[0]["camera"]
    cam_ids = {ids[v["name"] + ".jpg"][1] for v in vs}
    if len(cam_ids) != 1: sys.exit("views must share one COLMAP camera")
    fx, fy, cx, cy = cam["params"]
    k = os.path.join(work, "known")
    with open(os.path.join(k, "cameras.txt"), "w") as f:
        f.write(f"{cam_ids.pop()} PINHOLE {cam['width']} {cam['height']} {fx!r} {fy!r} {cx + PIXEL_OFFSET!r} {cy + PIXEL_OFFSET!r}\n")
    with open(os.path.join(k, "images.txt"), "w") as f:
        for v in vs:
            i, c = ids[v["name"] + ".jpg"]
            q, t = v["cam_from_world"]["q"], v["cam_from_world"]["t"]
            f.write(" ".join(map(repr, [i] + q + t)) + f" {c} {v['name']}.jpg\n\n")
    open(os.path.join(k, "points3D.txt"), "w").close()
    # Pairs: views of the same or of nearby panoramas (centres <= 25 m apart,
    # i.e. about two panoramas either way along the route, and across loop
    # closures) whose optical axes are within 75 deg (armap's mapping rule).
    C = np.array([centre(v["cam_from_world"]["q"], v["cam_from_world"]["t"]) for v in vs])
    A = np.array([axis(v["cam_from_world"]["q"]) for v in vs])
    cos_max = math.cos(math.radians(MAP_PAIR_ANGLE_DEG))
    n = 0
    with open(os.path.join(work, "pairs_map.txt"), "w") as f:
        for a in range(len(vs)):
            for b in range(a + 1, len(vs)):
                if np.linalg.norm(C[a] - C[b]) <= MAP_PAIR_DIST_M and A[a] @ A[b] >= cos_max:
                    f.write(f"{vs[a]['name']}.jpg {vs[b]['name']}.jpg\n"); n += 1
    print(f"{len(vs)} views, {n} view pairs")

def cmd_queries(capture, work):
    qs = json.load(open(os.path.join(capture, "queries.json")))["queries"]
    with open(os.path.join(work, "queries_list.txt"), "w") as f:
        for q in qs: f.write(q["image"] + "\n")

def cmd_query_setup(capture, map_dir, work, db):
    """Sets each query's intrinsics in the database; pairs query x views near its prior."""
    qs = json.load(open(os.path.join(capture, "queries.json")))["queries"]
    origin = json.load(open(os.path.join(capture, "capture.json")))["origin"]
    ids = image_ids(db)
    con = sqlite3.connect(db)
    used = set()
    for q in qs:
        i, c = ids[q["image"]]
        if c in used: sys.exit(f"query {q['name']} shares a COLMAP camera with another query")
        used.add(c)
        cam = q["camera"]
        if cam["model"] != "OPENCV" or len(cam["params"]) != 8: sys.exit(f"{q['name']}: expected OPENCV intrinsics")
        p = list(cam["params"]); p[2] += PIXEL_OFFSET; p[3] += PIXEL_OFFSET
        con.execute("UPDATE cameras SET model=4, width=?, height=?, params=?, prior_focal_length=1 WHERE camera_id=?",
                    (cam["width"], cam["height"], np.asarray(p, np.float64).tobytes(), c))
    con.commit(); con.close()
    vs = views(map_dir)
    C = np.array([centre(v["cam_from_world"]["q"], v["cam_from_world"]["t"])[:2] for v in vs])
    counts = []
    with open(os.path.join(work, "pairs_query.txt"), "w") as f:
        for q in qs:
            pr = q.get("prior")
            if pr and "lat" in pr:
                radius = max(MIN_RADIUS_M, SIGMAS * pr.get("accuracy_m", 10.0))
                c = enu(origin, pr["lat"], pr["lon"], pr.get("alt", 0.0))[:2]
                d = np.linalg.norm(C - c, axis=1)
                sel = [k for k in np.argsort(d, kind="stable") if d[k] <= radius]
            else:
                sel = list(range(len(vs)))
            if NEAREST > 0: sel = sel[:NEAREST]
            counts.append(len(sel))
            for k in sel: f.write(f"{q['image']} {vs[k]['name']}.jpg\n")
    print(f"{len(qs)} queries, {sum(counts)} query-view pairs ({np.mean(counts):.1f} views per query, "
          f"min {min(counts)}, max {max(counts)})")

def metrics(rows):
    """rows: (localizable, success, pos_err, rot_err) -> armap's eval metrics."""
    loc = [r for r in rows if r[0]]
    ok = [r for r in loc if r[1]]
    out = {"num_queries": len(rows), "num_localizable": len(loc), "num_localized": sum(1 for r in rows if r[1]),
           "failures": len(loc) - len(ok), "recall": {}}
    for key, d, a in THRESHOLDS:
        out["recall"][key] = sum(1 for r in ok if r[2] <= d and r[3] <= a) / max(1, len(loc))
    out["median_pos_err_m"] = float(np.median([r[2] for r in ok])) if ok else None
    out["median_rot_err_deg"] = float(np.median([r[3] for r in ok])) if ok else None
    out["false_confident"] = sum(1 for r in rows if r[1] and (not r[0] or r[2] > 5 or r[3] > 10))
    return out

def cmd_report(capture, map_dir, work, armap_json, times_json, out_path):
    gt = {g["name"]: g for g in json.load(open(os.path.join(capture, "gt", "queries_gt.json")))["queries"]}
    qs = json.load(open(os.path.join(capture, "queries.json")))["queries"]
    times = json.load(open(times_json))
    reg = read_images_txt(os.path.join(work, "reg_txt", "images.txt"))
    tri = read_images_txt(os.path.join(work, "tri_txt", "images.txt"))
    # Sanity: the views' poses went through triangulation and registration unchanged.
    dpos, drot = 0.0, 0.0
    for v in views(map_dir):
        q0, t0 = v["cam_from_world"]["q"], v["cam_from_world"]["t"]
        for model in (tri, reg):
            q1, t1 = model[v["name"] + ".jpg"]
            dpos = max(dpos, float(np.linalg.norm(centre(q0, t0) - centre(q1, t1))))
            drot = max(drot, rot_err_deg(q0, q1))
    if dpos > 1e-4 or drot > 1e-3:
        sys.exit(f"COLMAP moved the map views (max {dpos} m, {drot} deg): query poses are not in the map frame")
    rows, per_query = [], []
    for q in qs:
        g = gt[q["name"]]
        qg, tg = g["cam_from_world"]["q"], g["cam_from_world"]["t"]
        if q["image"] in reg:
            qe, te = reg[q["image"]]
            pe, re_ = float(np.linalg.norm(centre(qe, te) - centre(qg, tg))), rot_err_deg(qe, qg)
            rows.append((g["localizable"], True, pe, re_))
        else:
            pe = re_ = float("inf")
            rows.append((g["localizable"], False, pe, re_))
        per_query.append({"name": q["name"], "localizable": g["localizable"], "success": rows[-1][1],
                          "pos_err_m": pe if math.isfinite(pe) else None,
                          "rot_err_deg": re_ if math.isfinite(re_) else None})
    colmap = metrics(rows)
    n = len(qs)
    colmap["time_s"] = {k: times[k] for k in ("query_extract", "query_match", "register")}
    colmap["seconds_per_query"] = (times["query_extract"] + times["query_match"] + times["register"]) / n
    colmap["query_views"] = "within max(30 m, 3 x accuracy_m) of the prior" + (
        f", nearest {NEAREST}" if NEAREST > 0 else "")
    colmap["model"] = {"map_extract_s": times["map_extract"], "map_match_s": times["map_match"],
                       "triangulate_s": times["triangulate"], "points3D": times.get("points3D"),
                       "view_pairs": times.get("view_pairs"), "query_view_pairs": times.get("query_view_pairs")}
    colmap["sanity_max_view_pose_change"] = {"pos_m": dpos, "rot_deg": drot}
    colmap["queries"] = per_query

    a = json.load(open(armap_json))
    arows = []
    for r in a["queries"]:
        arows.append((r["localizable"], r["success"], r["pos_err_m"], r["rot_err_deg"]))
    armap = metrics(arows)
    lat = [r["latency_ms"] for r in a["queries"]]
    armap["latency_ms"] = {"p50": a["latency_ms"]["p50"], "mean": float(np.mean(lat)), "p90": a["latency_ms"]["p90"]}
    armap["seconds_per_query"] = {"p50": a["latency_ms"]["p50"] / 1000, "mean": float(np.mean(lat)) / 1000}
    armap["eval_wall_s"] = times["armap_eval"]
    armap["armap_version"] = a.get("armap_version")
    ratio = {"vs_p50": colmap["seconds_per_query"] / armap["seconds_per_query"]["p50"],
             "vs_mean": colmap["seconds_per_query"] / armap["seconds_per_query"]["mean"]}

    def pct(x): return f"{100 * x:.1f}%"
    def num(x, f): return "n/a" if x is None else f.format(x)
    print("\n| | armap | COLMAP 3.8 |\n|---|---|---|")
    for key, d, ang in THRESHOLDS:
        print(f"| recall ({d:g} m, {ang:g} deg) | {pct(armap['recall'][key])} | {pct(colmap['recall'][key])} |")
    print(f"| median position error | {num(armap['median_pos_err_m'], '{:.3f} m')} | {num(colmap['median_pos_err_m'], '{:.3f} m')} |")
    print(f"| median rotation error | {num(armap['median_rot_err_deg'], '{:.3f} deg')} | {num(colmap['median_rot_err_deg'], '{:.3f} deg')} |")
    print(f"| failures (of {armap['num_localizable']} localizable) | {armap['failures']} | {colmap['failures']} |")
    print(f"| confident but wrong (> 5 m or 10 deg) | {armap['false_confident']} | {colmap['false_confident']} |")
    print(f"| seconds per query | {armap['seconds_per_query']['p50']:.3f} (p50), {armap['seconds_per_query']['mean']:.3f} (mean) "
          f"| {colmap['seconds_per_query']:.3f} |")
    print(f"| time ratio COLMAP / armap | 1 | {ratio['vs_p50']:.1f}x (vs p50), {ratio['vs_mean']:.1f}x (vs mean) |")
    t = colmap["time_s"]
    print(f"\nCOLMAP per-query time = (extract {t['query_extract']:.1f} s + match {t['query_match']:.1f} s + register "
          f"{t['register']:.1f} s) / {n} queries, {times['threads']} threads; its model: extract "
          f"{times['map_extract']:.1f} s, match {times['map_match']:.1f} s ({times.get('view_pairs')} view pairs), "
          f"triangulate {times['triangulate']:.1f} s, {times.get('points3D')} points.")
    print(f"armap: in-process `armap eval localize`, per-query localizer latency (decode to pose); whole eval "
          f"{times['armap_eval']:.1f} s wall including map load.")
    print(f"queries: longer side {times.get('query_max_px')} px, at most {times.get('query_max_features')} features, for both.")
    print(f"machine: {os.cpu_count()} cores, 1-min load average {times.get('loadavg_1min')}")
    print(f"sanity: view poses after triangulation and registration differ from the map's by at most "
          f"{dpos:.2e} m and {drot:.2e} deg, so COLMAP's query poses are in the map frame.")
    report = {"benchmark": "localization_vs_colmap", "capture": os.path.abspath(capture), "map": os.path.abspath(map_dir),
              "num_queries": n, "threads": times["threads"],
              "query_budget": {"max_image_px": times.get("query_max_px"), "max_features": times.get("query_max_features")},
              "loadavg_1min": times.get("loadavg_1min"),
              "cores": os.cpu_count(), "armap": armap, "colmap": colmap,
              "time_ratio_colmap_over_armap": ratio,
              "goal_met": {"accuracy_at_least_colmap": all(armap["recall"][k] >= colmap["recall"][k] for k, _, _ in THRESHOLDS),
                           "time_ratio_ge_10x": ratio["vs_p50"] >= 10}}
    with open(out_path, "w") as f: json.dump(report, f, indent=2)
    print(f"\nwrote {out_path}")

cmds = {"views": cmd_views, "model": cmd_model, "queries": cmd_queries, "query_setup": cmd_query_setup,
        "report": cmd_report}
cmds[sys.argv[1]](*sys.argv[2:])
PY

now() { date +%s.%N; }
declare -A T
timed() {  # timed KEY cmd...: runs cmd (output to the log), stores its wall seconds in T[KEY]
  local key=$1; shift
  local t0; t0=$(now)
  echo "+ $*" >> "$LOG"
  "$@" >> "$LOG" 2>&1 || { echo "failed: $* (see $LOG)" >&2; tail -20 "$LOG" >&2; exit 1; }
  T[$key]=$("$PY" -c "print($(now) - $t0)")
}
MAXF=$("$PY" -c "import json;print(json.load(open('$MAP/config.json'))['features']['max_features'])")
# Both systems get the same query budget, passed to both: photos downscaled to
# a longer side of QUERY_MAX_PX (armap's localizer default, 640), at most
# QUERY_MAX_FEATURES features (2000). Map views: the map's max_features.
QMAX_PX=${QUERY_MAX_PX:-640}
QMAXF=${QUERY_MAX_FEATURES:-2000}
# Each query is matched against every view within armap's search radius of
# its prior, max(30 m, 3 x accuracy_m); COLMAP_QUERY_NEAREST=K keeps only the
# K nearest of them (COLMAP has no retrieval index here; default 18, two
# panoramas of views, to keep the run near 20 minutes on 2 cores; 0 = all).
export COLMAP_QUERY_NEAREST=${COLMAP_QUERY_NEAREST:-18}
SIFT_CPU=(--SiftExtraction.use_gpu 0 --SiftExtraction.num_threads $THREADS)
MATCH_CPU=(--SiftMatching.use_gpu 0 --SiftMatching.num_threads $THREADS)

if [ $REUSE = 1 ]; then
  echo "== COLMAP model of the map views: reused from $C"
  source "$C/times_model.env"
else
echo "== COLMAP model of the map views (known poses)"
CAM=$("$PY" "$H" views "$MAP" "$C")
timed map_extract colmap feature_extractor --database_path "$DB" --image_path "$WS/views" \
  --image_list_path "$C/views_list.txt" --ImageReader.single_camera 1 --ImageReader.camera_model PINHOLE \
  --ImageReader.camera_params "$CAM" --SiftExtraction.max_num_features "$MAXF" "${SIFT_CPU[@]}"
"$PY" "$H" model "$MAP" "$C" "$DB" | tee "$C/model.txt"
timed map_match colmap matches_importer --database_path "$DB" --match_list_path "$C/pairs_map.txt" \
  --match_type pairs "${MATCH_CPU[@]}"
timed triangulate colmap point_triangulator --database_path "$DB" --image_path "$WS/views" \
  --input_path "$C/known" --output_path "$C/tri" --Mapper.num_threads $THREADS
colmap model_converter --input_path "$C/tri" --output_path "$C/tri_txt" --output_type TXT >> "$LOG" 2>&1
NPTS=$(grep -vc '^#' "$C/tri_txt/points3D.txt" || true)
echo "   $NPTS points"
cp "$DB" "$C/model_database.db"
echo "T[map_extract]=${T[map_extract]} T[map_match]=${T[map_match]} T[triangulate]=${T[triangulate]} NPTS=$NPTS" \
  > "$C/times_model.env"
fi

# armap on the same queries, right before COLMAP's query phase (so that both
# run under similar machine load; the load average is recorded).
echo "== armap eval localize ($ARMAP)"
LOAD_ARMAP=$(cut -d' ' -f1 /proc/loadavg)
t0=$(now)
"$ARMAP" -q eval localize --map "$MAP" --queries "$CAPTURE/queries.json" --gt "$CAPTURE/gt/queries_gt.json" \
  --max-image-px "$QMAX_PX" --max-features "$QMAXF" --json "$C/armap_eval.json" > "$C/armap_eval.txt" 2>&1 \
  || { cat "$C/armap_eval.txt" >&2; exit 1; }
T[armap_eval]=$("$PY" -c "print($(now) - $t0)")

echo "== COLMAP registers the queries"
LOAD_COLMAP=$(cut -d' ' -f1 /proc/loadavg)
"$PY" "$H" queries "$CAPTURE" "$C"
t0=$(now)
timed q_extract colmap feature_extractor --database_path "$DB" --image_path "$CAPTURE" \
  --image_list_path "$C/queries_list.txt" --ImageReader.camera_model OPENCV \
  --SiftExtraction.max_image_size "$QMAX_PX" --SiftExtraction.max_num_features "$QMAXF" "${SIFT_CPU[@]}"
"$PY" "$H" query_setup "$CAPTURE" "$MAP" "$C" "$DB" | tee "$C/query_pairs.txt"
T[query_extract]=$("$PY" -c "print($(now) - $t0)")  # extraction + setting the intrinsics and pairs
timed query_match colmap matches_importer --database_path "$DB" --match_list_path "$C/pairs_query.txt" \
  --match_type pairs "${MATCH_CPU[@]}"
# Intrinsics are known and fixed (as for armap: prior_focal_length = 1 and the
# ba_refine_* flags, which also drive the absolute pose refinement); no bundle
# adjustment after.
timed register colmap image_registrator --database_path "$DB" --input_path "$C/tri" --output_path "$C/reg" \
  --Mapper.num_threads $THREADS --Mapper.ba_refine_focal_length 0 --Mapper.ba_refine_extra_params 0
colmap model_converter --input_path "$C/reg" --output_path "$C/reg_txt" --output_type TXT >> "$LOG" 2>&1

VIEW_PAIRS=$(wc -l < "$C/pairs_map.txt") QUERY_PAIRS=$(wc -l < "$C/pairs_query.txt")
cat > "$C/times.json" <<EOF
{"query_max_px": $QMAX_PX, "query_max_features": $QMAXF,
 "armap_eval": ${T[armap_eval]}, "map_extract": ${T[map_extract]}, "map_match": ${T[map_match]},
 "triangulate": ${T[triangulate]}, "query_extract": ${T[query_extract]}, "query_match": ${T[query_match]},
 "register": ${T[register]}, "threads": $THREADS, "points3D": $NPTS,
 "view_pairs": $VIEW_PAIRS, "query_view_pairs": $QUERY_PAIRS,
 "loadavg_1min": {"armap_eval_start": $LOAD_ARMAP, "colmap_queries_start": $LOAD_COLMAP, "end": $(cut -d' ' -f1 /proc/loadavg)}}
EOF
"$PY" "$H" report "$CAPTURE" "$MAP" "$C" "$C/armap_eval.json" "$C/times.json" "$OUT"
