# Shell helpers to run `armap serve` for scripts and benchmarks (source me).
#   armap_start_server LOG MAP [launcher...]   e.g. armap_start_server log map taskset -c 0
# starts ./build/bin/armap serve on a free loopback port (optionally through a
# launcher such as taskset), waits for its ready line and sets SERVER_PID and
# SERVER_ADDR (HOST:PORT). armap_stop_server sends SIGTERM and fails unless
# the server shuts down cleanly.
armap_start_server() {
  local log=$1 map=$2
  shift 2
  "$@" ./build/bin/armap --quiet serve --map "$map" --host 127.0.0.1 --port 0 >"$log" 2>&1 &
  SERVER_PID=$!
  SERVER_ADDR=""
  for _ in $(seq 1 600); do
    SERVER_ADDR=$(sed -n 's/^serving .* on \(.*\)$/\1/p' "$log" | head -1)
    [ -n "$SERVER_ADDR" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; echo "armap serve exited before it was ready" >&2; return 1; }
    sleep 0.2
  done
  cat "$log" >&2
  echo "armap serve: no ready line after 120 s" >&2
  return 1
}

armap_stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || { echo "armap serve did not shut down cleanly" >&2; return 1; }
}
