#!/usr/bin/env bash
# The main job on the embedded default: installs dependencies, builds,
# generates the default synthetic city (seed 1, 200 m, 40 panoramas, 100
# queries; 4096x2048 panoramas, see scripts/lib/demo_city.sh) with a preview
# contact sheet, builds its map package, serves it
# with `armap serve` and localizes the 100 phone queries through the server
# (gRPC, C++ SDK), ending with the accuracy and latency table. The map
# products (white models, pedestrian network, POIs) are evaluated against
# the city's ground truth on the way, and it ends by routing to a POI on the
# pedestrian network, drawn on the map's overview.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
OUT=${ARMAP_DEMO_DIR:-out/demo}
mkdir -p "$OUT"
source scripts/lib/demo_city.sh
./build/bin/armap synth city "${ARMAP_DEMO_CITY_FLAGS[@]}" --out "$OUT/city" --preview --overwrite --report "$OUT/synth_report.json"
# The workspace is kept between runs, so a second run reuses every stage.
rm -rf "$OUT/map"
./build/bin/armap map build --capture "$OUT/city" --out "$OUT/map" --workspace "$OUT/map.workspace"
echo
echo "== map products against ground truth"
./build/bin/armap -q eval whitemodel --map "$OUT/map" --gt "$OUT/city/gt" --json "$OUT/whitemodel_eval.json"
./build/bin/armap -q eval roads --map "$OUT/map" --gt "$OUT/city/gt" --json "$OUT/roads_eval.json"
./build/bin/armap -q eval pois --map "$OUT/map" --gt "$OUT/city/gt" --json "$OUT/pois_eval.json"
echo
echo "== visual positioning through the server: $OUT/city/queries.json"
bash scripts/serve_and_eval.sh "$OUT/map" "$OUT/city" "$OUT/localize_eval.json"
echo
echo "== AR navigation: from the first phone query's GPS fix to the most confidently read shop sign"
read -r FROM TO < <(/usr/bin/python3 - "$OUT" <<'PY'
import json, re, sys
out = sys.argv[1]
prior = json.load(open(f"{out}/city/queries.json"))["queries"][0]["prior"]
pois = json.load(open(f"{out}/map/pois/pois.geojson"))["features"]
named = [p["properties"] for p in pois if re.search(r"[\u4e00-\u9fff]", p["properties"].get("name", ""))]
named.sort(key=lambda p: -p.get("confidence", 0))
print(f"{prior['lat']},{prior['lon']}", named[0]["name"] if named else "")
PY
)
if [ -n "$TO" ]; then
  ./build/bin/armap route --map "$OUT/map" --from "$FROM" --to "$TO" --json "$OUT/route.json" --png "$OUT/route.png"
else
  echo "no readable POI in the map; route skipped"
fi
echo
echo "capture:  $OUT/city (preview: $OUT/city/preview.png)"
echo "map:      $OUT/map (report: $OUT/map/report.json, overview: $OUT/map/overview.png)"
echo "products: $OUT/whitemodel_eval.json $OUT/roads_eval.json $OUT/pois_eval.json"
echo "queries:  $OUT/localize_eval.json"
echo "route:    $OUT/route.json (drawn on the overview: $OUT/route.png)"
