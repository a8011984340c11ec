#!/usr/bin/env bash
# CTest driver for openai_client.test.mjs, chat_output_client.test.mjs and
# embeddings_client.test.mjs:
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

# Tools need a model whose GGUF carries a chat template: a tiny random-weight
# one with Qwen3's (Hermes-style <tool_call> calls), beside the real model.
shared=$(cd "$(dirname "$model")/.." && pwd)
models_dir=$(mktemp -d)
tools_model=tiny-qwen3-template
"$jarvis" synth --preset tiny-chat --type q8_0 --seed 7 --out "$models_dir/$tools_model.gguf" \
  --chat-template-file "$shared/chat-templates/templates/Qwen-Qwen3-0.6B.jinja" >/dev/null

# Embeddings from an encoder: a tiny random-weight bert (WordPiece vocabulary,
# [CLS]/[SEP]), which must also refuse to generate.
encoder_model=tiny-bert
"$jarvis" synth --preset tiny-bert --type f16 --seed 5 --out "$models_dir/$encoder_model.gguf" >/dev/null

start_jarvis_server "$jarvis" "$model" --model "$models_dir/$tools_model.gguf" --model "$models_dir/$encoder_model.gguf"

status=0
JARVIS_URL="$server_url" JARVIS_TEST_MODEL="$(basename "$model" .gguf)" JARVIS_TOOLS_MODEL="$tools_model" \
  JARVIS_ENCODER_MODEL="$encoder_model" node --test "$here/openai_client.test.mjs" \
  "$here/chat_output_client.test.mjs" "$here/embeddings_client.test.mjs" || status=$?

rm -rf "$models_dir"
stop_jarvis_server "$status"
