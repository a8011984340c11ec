# Sourced by the CTest drivers that test a running `jarvis serve` (tests/js,
# tests/browser): start it on a free loopback port, wait until it is ready,
# and stop it checking that SIGTERM gives exit 0.

# start_jarvis_server JARVIS MODEL [extra serve args...]: sets $server_pid,
# $server_url and $server_log; kills the server on any early exit.
start_jarvis_server() {
  local jarvis=$1 model=$2
  shift 2
  server_log=$(mktemp)
  "$jarvis" serve --model "$model" --host 127.0.0.1 --port 0 --threads 1 "$@" >"$server_log" 2>&1 &
  server_pid=$!
  trap 'kill -9 "$server_pid" 2>/dev/null || true; rm -f "$server_log"' EXIT
  server_url=""
  for _ in $(seq 1 500); do
    server_url=$(sed -n 's/^jarvis: listening on \(http:[^ ]*\)$/\1/p' "$server_log" | head -1)
    if [[ -n "$server_url" ]] && grep -q "ready" "$server_log"; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then cat "$server_log"; echo "jarvis serve exited early"; exit 1; fi
    sleep 0.02
  done
  cat "$server_log"
  echo "jarvis serve did not start"
  exit 1
}

# stop_jarvis_server TEST_STATUS: SIGTERM, wait, show the log tail when the
# test failed, then exit with the test's status (1 if the server did not exit 0).
stop_jarvis_server() {
  local status=$1 server_status=0
  kill -TERM "$server_pid"
  wait "$server_pid" || server_status=$?
  trap - EXIT
  if ((status != 0 && status != 77)); then
    echo "--- jarvis serve log ---"
    tail -n 40 "$server_log"
  fi
  rm -f "$server_log"
  if ((server_status != 0)); then
    echo "jarvis serve exited with $server_status after SIGTERM"
    exit 1
  fi
  exit "$status"
}
