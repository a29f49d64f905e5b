#!/usr/bin/env bash
# Benchmark (issue 3): all statistics tables of the 900 published trials, after loading.
# Target: <= 100 ms. `analyze --report` times the statistics step itself and prints it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$bin" -q import "$src/experiments/llama_profiling" --out "$tmp/data" --prompts "$src/prompts" >/dev/null
for accounting in corrected published; do
  for run in 1 2 3; do
    "$bin" "$tmp/data" --accounting "$accounting" --report "$tmp/report" 2>&1 | grep -o 'statistics took [0-9]* ms' |
      sed "s/^/$accounting run $run: /"
  done
done
