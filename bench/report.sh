#!/usr/bin/env bash
# Benchmark of the report: wall time of `analyze DATA --report DIR` (load, metrics, statistics,
# audit, tables, index.html, summary.md, SVG and PNG figures) for the 900 published trials, in
# a release build, and the size of index.html. Target (issue 4): <= 1 s wall, index.html <= 5 MB.
#
# Usage: bench/report.sh [DATA] [RUNS]
#   DATA  an imported dataset; without it the published dataset ($GREENLAB_DATASET, default
#         ../shared/datasets/greenlab-angels-2025) is imported into a temporary folder first
#   RUNS  timed runs after one warm-up run (default 5); the median and the best are reported
set -euo pipefail
source "$(dirname "$0")/common.sh"
runs=${2:-5}

data=${1:-}
if [ -z "$data" ]; then
    data=$tmp/data
    "$bin" import "$src/experiments/llama_profiling" --out "$data" --prompts "$src/prompts" --quiet >&2
fi

# One warm-up run so every run reads the dataset from the page cache.
"$bin" "$data" --report "$tmp/warm-up" --quiet 2>/dev/null

times=()
for i in $(seq "$runs"); do
    start=$(date +%s.%N)
    "$bin" "$data" --report "$tmp/run-$i" --quiet 2>/dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -g)
median=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
best=$(echo "$sorted" | head -n 1)
bytes=$(stat -c %s "$tmp/run-1/index.html")
trials=$(($(wc -l <"$tmp/run-1/tables/metrics.csv") - 1))

echo "command: $bin DATA --report DIR --quiet   ($trials trials, $(nproc) cores)"
printf 'wall: median %.3f s, best %.3f s over %d runs (target <= 1 s)\n' "$median" "$best" "$runs"
printf 'index.html: %d bytes (%.2f MB; target <= 5 MB)\n' "$bytes" "$(echo "$bytes / 1000000" | bc -l)"
