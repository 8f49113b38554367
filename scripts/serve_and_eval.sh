#!/usr/bin/env bash
# Starts `armap serve` on a free loopback port, waits for its ready line,
# evaluates the capture's queries through it (gRPC, via the C++ SDK), and
# stops it with SIGTERM, checking that it shuts down cleanly.
#   scripts/serve_and_eval.sh MAP CAPTURE OUT_JSON [extra eval flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/serve.sh
MAP=$1 CAPTURE=$2 OUT_JSON=$3
shift 3
LOG=$(mktemp -t armap_serve.XXXXXX)
armap_start_server "$LOG" "$MAP"
trap 'kill -TERM $SERVER_PID 2>/dev/null || true; rm -f "$LOG"' EXIT
echo "server ready on $SERVER_ADDR"
./build/bin/armap eval localize --map "$MAP" --queries "$CAPTURE/queries.json" --gt "$CAPTURE/gt/queries_gt.json" \
  --server "$SERVER_ADDR" --json "$OUT_JSON" "$@"
armap_stop_server || { cat "$LOG" >&2; exit 1; }
trap - EXIT
rm -f "$LOG"
