#!/usr/bin/env bash
# CTest driver for openai_client.test.mjs and chat_output_client.test.mjs:
# installs the pinned openai, ollama and zod packages (npm ci) when missing, starts `jarvis serve` on a free
# loopback port, runs `node --test`, then stops the server with SIGTERM and
# checks that it exits 0. Exit 77 (CTest SKIP_RETURN_CODE) when node is absent.
# Usage: run_openai_test.sh JARVIS_BINARY MODEL.gguf
set -euo pipefail
jarvis=$1
model=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../support/jarvis_server.sh
source "$here/../support/jarvis_server.sh"

if ! command -v node >/dev/null 2>&1; then
  echo "node not found: skipping the openai npm client test"
  exit 77
fi
if [[ ! -d "$here/node_modules/openai" || ! -d "$here/node_modules/ollama" || ! -d "$here/node_modules/zod" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

start_jarvis_server "$jarvis" "$model"

status=0
JARVIS_URL="$server_url" JARVIS_TEST_MODEL="$(basename "$model" .gguf)" node --test "$here/openai_client.test.mjs" \
  "$here/chat_output_client.test.mjs" || status=$?

stop_jarvis_server "$status"
