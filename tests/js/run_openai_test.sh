#!/usr/bin/env bash
# CTest driver for openai_client.test.mjs: installs the pinned openai client
# (npm ci) when node_modules is missing, starts `jarvis serve` on a free
# loopback port, runs `node --test`, then stops the server with SIGTERM and
# checks that it exits 0. Exit 77 (CTest SKIP_RETURN_CODE) when node is absent.
# Usage: run_openai_test.sh JARVIS_BINARY MODEL.gguf
set -euo pipefail
jarvis=$1
model=$2
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1; then
  echo "node not found: skipping the openai npm client test"
  exit 77
fi
if [[ ! -d "$here/node_modules/openai" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

log=$(mktemp)
"$jarvis" serve --model "$model" --port 0 --threads 1 >"$log" 2>&1 &
pid=$!
cleanup() { kill -9 "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT

url=""
for _ in $(seq 1 500); do
  url=$(sed -n 's/^jarvis: listening on \(http:[^ ]*\)$/\1/p' "$log" | head -1)
  if [[ -n "$url" ]] && grep -q "ready" "$log"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "jarvis serve exited early"; exit 1; fi
  sleep 0.02
done
[[ -n "$url" ]] || { cat "$log"; echo "jarvis serve did not start"; exit 1; }

status=0
JARVIS_URL="$url" JARVIS_TEST_MODEL="$(basename "$model" .gguf)" node --test "$here/openai_client.test.mjs" || status=$?

kill -TERM "$pid"
server_status=0
wait "$pid" || server_status=$?
trap - EXIT
rm -f "$log"
if ((server_status != 0)); then
  echo "jarvis serve exited with $server_status after SIGTERM"
  exit 1
fi
exit "$status"
