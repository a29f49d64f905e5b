#!/usr/bin/env bash
# Benchmark (issue 2): `analyze import` + `analyze metrics` of all 900 published trials, warm
# page cache, release build. Target: <= 2 s wall together on a 2-core machine. Prints wall time
# and peak resident memory of each step, for three runs (figures: README; against a baseline
# build: bench/compare.sh).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cat "$src"/experiments/llama_profiling/*/* >/dev/null # warm the page cache
for run in 1 2 3; do
  rm -rf "$tmp/data"
  t0=$(date +%s.%N)
  /usr/bin/time -f "  import : %e s wall, %M KiB peak RSS" \
    "$bin" -q import "$src/experiments/llama_profiling" --out "$tmp/data" --prompts "$src/prompts" >/dev/null
  /usr/bin/time -f "  metrics: %e s wall, %M KiB peak RSS" "$bin" -q metrics "$tmp/data" >/dev/null
  t1=$(date +%s.%N)
  printf 'run %d: import + metrics %.2f s wall\n' "$run" "$(awk "BEGIN{print $t1 - $t0}")"
done
du -sh "$tmp/data" | awk '{print "dataset size: " $1}'
