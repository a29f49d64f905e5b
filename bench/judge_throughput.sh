#!/usr/bin/env bash
# Judgments per second of `judge` against the local fake judge server (not a test).
#
#   bench/judge_throughput.sh            # 2000 relevancy judgments, --jobs 16
#   N=5000 JOBS=32 bench/judge_throughput.sh
#
# Builds the judge binary and two examples (the tests' fake OpenAI-compatible server and a
# synthetic-dataset writer), writes N requests to a temporary dataset, serves the fake on a
# free loopback port and runs `judge --jobs $JOBS` with an empty cache. Every relevancy
# judgment is two calls (statements, verdicts). Prints judge's summary and the wall-clock
# rate; a second run shows that the cache makes the rerun free.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
JOBS=${JOBS:-16}
PROFILE=${PROFILE:-dev}
target_dir=$( [ "$PROFILE" = dev ] && echo debug || echo "$PROFILE" )

cargo build -q -p judge --profile "$PROFILE" --bin judge --example fake_judge_server --example bench_dataset
bin=${CARGO_TARGET_DIR:-target}/$target_dir

work=$(mktemp -d)
fake_pid=
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin/examples/bench_dataset" "$work/data" "$N" >/dev/null
"$bin/examples/fake_judge_server" >"$work/url" 2>/dev/null &
fake_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(cat "$work/url")

run() {
  local t0 t1
  t0=$(date +%s.%N)
  "$bin/judge" "$work/data" --quiet --endpoint "$url" --model bench --jobs "$JOBS"
  t1=$(date +%s.%N)
  awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "wall clock: %d judgments in %.2f s = %.0f judgments/s (whole run: read, judge, write)\n", n, b - a, n / (b - a) }'
}
echo "== first run: $N requests, --jobs $JOBS, empty cache"
run
echo "== second run: everything cached"
run
