#!/usr/bin/env bash
# Starts `armap serve` on a free loopback port, waits for its ready line,
# evaluates the capture's queries through it (gRPC, via the C++ SDK), and
# stops it with SIGTERM, checking that it shuts down cleanly.
#   scripts/serve_and_eval.sh MAP CAPTURE OUT_JSON [extra eval flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
MAP=$1 CAPTURE=$2 OUT_JSON=$3
shift 3
ARMAP=./build/bin/armap
LOG=$(mktemp -t armap_serve.XXXXXX)
$ARMAP serve --map "$MAP" --host 127.0.0.1 --port 0 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
ADDR=""
for _ in $(seq 1 600); do
  ADDR=$(sed -n 's/^serving .* on \(.*\)$/\1/p' "$LOG" | head -1)
  [ -n "$ADDR" ] && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; echo "serve_and_eval: the server exited before it was ready" >&2; exit 1; }
  sleep 0.2
done
[ -n "$ADDR" ] || { cat "$LOG" >&2; echo "serve_and_eval: no ready line after 120 s" >&2; exit 1; }
echo "server ready on $ADDR"
$ARMAP eval localize --map "$MAP" --queries "$CAPTURE/queries.json" --gt "$CAPTURE/gt/queries_gt.json" \
  --server "$ADDR" --json "$OUT_JSON" "$@"
kill -TERM $SERVER
wait $SERVER || { cat "$LOG" >&2; echo "serve_and_eval: the server did not shut down cleanly" >&2; exit 1; }
trap - EXIT
rm -f "$LOG"
