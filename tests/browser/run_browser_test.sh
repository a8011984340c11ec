#!/usr/bin/env bash
# CTest driver of dashboard.test.mjs: installs the pinned playwright-core into
# WORK_DIR (npm ci, again only when package-lock.json changes), starts
# `jarvis serve` on a free loopback port, runs the test against Debian's
# Chromium (CHROMIUM, default /usr/bin/chromium; never a downloaded browser),
# then stops the server with SIGTERM and checks that it exits 0. Screenshots
# land in WORK_DIR (dashboard.png, dashboard-phone.png).
# Exit 77 (CTest SKIP_RETURN_CODE) without node >= 20 or chromium, or when the
# binary was built without the dashboard.
# Usage: run_browser_test.sh JARVIS_BINARY MODEL.gguf WORK_DIR
set -euo pipefail
jarvis=$1
model=$2
work=$3
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node/npm not found: skipping the dashboard browser test"
  exit 77
fi
if (($(node -p 'process.versions.node.split(".")[0]') < 20)); then
  echo "playwright-core needs Node.js >= 20 (found $(node --version)): skipping"
  exit 77
fi
if [[ ! -x "$chromium" ]]; then
  echo "$chromium not found (apt-get install chromium; scripts/bootstrap does): skipping"
  exit 77
fi

mkdir -p "$work"
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [[ ! -d "$work/node_modules/playwright-core" ]]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$here/dashboard.test.mjs" "$work/"
rm -f "$work/dashboard.png" "$work/dashboard-phone.png"

log=$(mktemp)
"$jarvis" serve --model "$model" --host 127.0.0.1 --port 0 --threads 1 >"$log" 2>&1 &
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
JARVIS_URL="$url" JARVIS_TEST_MODEL="$(basename "$model" .gguf)" CHROMIUM="$chromium" ARTIFACT_DIR="$work" \
  timeout 180 node "$work/dashboard.test.mjs" || status=$?

kill -TERM "$pid"
server_status=0
wait "$pid" || server_status=$?
trap - EXIT
if ((status != 0 && status != 77)); then
  echo "--- jarvis serve log ---"
  tail -n 40 "$log"
fi
rm -f "$log"
if ((server_status != 0)); then
  echo "jarvis serve exited with $server_status after SIGTERM"
  exit 1
fi
exit "$status"
