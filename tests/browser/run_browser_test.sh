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
# shellcheck source=../support/jarvis_server.sh
source "$here/../support/jarvis_server.sh"
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

start_jarvis_server "$jarvis" "$model"

status=0
JARVIS_URL="$server_url" JARVIS_TEST_MODEL="$(basename "$model" .gguf)" CHROMIUM="$chromium" ARTIFACT_DIR="$work" \
  timeout 180 node "$work/dashboard.test.mjs" || status=$?

stop_jarvis_server "$status"
