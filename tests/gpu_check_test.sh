#!/usr/bin/env bash
# CTest gpu_check_script: scripts/gpu-check on a machine without a GPU.
#   1. The real mode says "no GPU" and exits 2 (skipped where a GPU exists).
#   2. The CPU rehearsal (JARVIS_GPU_CHECK_ALLOW_CPU=1) runs every step and
#      passes: gpu_tests ran, greedy outputs compared, bench JSON parsed into
#      the summary table.
#   3. A failing step and a spent time budget give exit 1, named.
# Usage: gpu_check_test.sh SCRIPT JARVIS GPU_TESTS SHARED_DIR
set -euo pipefail
script=$1 jarvis=$2 gpu_tests=$3 shared=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export JARVIS_BIN=$jarvis JARVIS_GPU_TESTS=$gpu_tests JARVIS_SHARED_DIR=$shared JARVIS_GPU_CHECK_MODELS=$tmp/models
problem() { echo "gpu_check_test: $*" >&2; exit 1; }
expect() { grep -qF -- "$1" "$2" || problem "'$1' missing from $2:"$'\n'"$(cat "$2")"; }

if nvidia-smi -L >/dev/null 2>&1; then
  echo "a GPU is present: the no-GPU refusal is not checked here"
else
  rc=0
  env -u JARVIS_GPU_CHECK_ALLOW_CPU "$script" "$tmp/real" >"$tmp/real.log" 2>&1 || rc=$?
  [[ $rc -eq 2 ]] || problem "real mode without a GPU exited $rc, want 2"
  expect "no GPU" "$tmp/real.log"
fi

rc=0
JARVIS_GPU_CHECK_ALLOW_CPU=1 "$script" "$tmp/out" >"$tmp/rehearsal.log" 2>&1 || rc=$?
cat "$tmp/rehearsal.log"
[[ $rc -eq 0 ]] || problem "the CPU rehearsal exited $rc"
summary=$tmp/out/summary.txt
expect "CPU REHEARSAL" "$summary"
expect "gpu_tests: " "$summary"
expect "equality stories260K (--gpu-layers 0 vs 0, F32 KV, 16 greedy tokens): EQUAL" "$summary"
for type in q4_0 q4_k_m f32; do expect "equality tiny-$type (" "$summary"; done
expect "doctor tiny-q4_0 --gpu-layers 0: all 2 layers + output on the CPU: " "$summary"
# Every bench result is a table row (parsed from the JSON), the partial run too.
for row in "| tiny-q4_0 " "| tiny-q4_k_m " "| tiny-q4_0-batched " "| tiny-q4_0-partial0 "; do expect "$row" "$summary"; done
for test in "pp32" "tg8" "b2@tg8" "b4@tg8"; do expect "| $test " "$summary"; done
expect "all steps passed" "$summary"
for f in nvidia-smi.txt version.log doctor.log gpu_tests.log gpu_tests.json bench-tiny-q4_0.json; do
  [[ -e $tmp/out/$f ]] || problem "$f not written"
done
# The generated text is not empty (an empty pair would compare equal).
[[ -s $tmp/out/equal-stories260K-gpu.txt ]] || problem "empty greedy output"

# 3. Failures are reported: a failing gpu_tests makes the run exit 1 naming
# it, and so does a spent budget (4 s: under the 5 s a step needs, so every
# step is skipped, whatever the machine's speed), naming the skipped steps.
rc=0
JARVIS_GPU_CHECK_ALLOW_CPU=1 JARVIS_GPU_TESTS=/bin/false "$script" "$tmp/bad" >"$tmp/bad.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || problem "a failing run exited $rc, want 1: $(cat "$tmp/bad.log")"
expect "FAILED: gpu_tests" "$tmp/bad/summary.txt"
rc=0
JARVIS_GPU_CHECK_ALLOW_CPU=1 JARVIS_GPU_CHECK_BUDGET_S=4 "$script" "$tmp/spent" >"$tmp/spent.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || problem "a run past its budget exited $rc, want 1: $(cat "$tmp/spent.log")"
expect "SKIPPED (budget 4s spent" "$tmp/spent/summary.txt"
echo "gpu-check rehearsal ok"
