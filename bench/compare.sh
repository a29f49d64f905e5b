#!/usr/bin/env bash
# Before/after benchmark: the analyze binary of this checkout against another build of it (a
# baseline), interleaved run by run so that both see the same machine, on the 900 published
# trials (release builds, warm page cache). Each round times, for each binary: `import` (with
# gold labels), `metrics`, and the full report (`analyze DATA --report DIR`, PNGs included),
# with wall time and peak RSS from /usr/bin/time, plus the statistics time analyze itself
# prints. Prints the median of each figure per binary and the ratio current / baseline.
#
# Usage: bench/compare.sh BASELINE_ANALYZE [ROUNDS]
#   BASELINE_ANALYZE  an analyze binary built from the baseline commit, e.g.
#                     git worktree add /tmp/base <rev> && cargo build --release -p analyze \
#                       --manifest-path /tmp/base/Cargo.toml   (then /tmp/base/target/release/analyze)
#   ROUNDS            interleaved rounds (default 5)
set -euo pipefail
base=$(realpath "${1:?usage: bench/compare.sh BASELINE_ANALYZE [ROUNDS]}")
rounds=${2:-5}
source "$(dirname "$0")/common.sh"
new=$bin
cat "$src"/experiments/llama_profiling/*/* >/dev/null # warm the page cache

# step NAME BIN LABEL ARGS...: runs one step, appends "label name wall_s rss_kib" to results.
step() {
  local name=$1 bin=$2 label=$3
  shift 3
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" "$@" >"$tmp/out" 2>&1
  echo "$label $name $(cat "$tmp/time")" >>"$tmp/results"
}
for round in $(seq "$rounds"); do
  for pair in "baseline:$base" "current:$new"; do
    label=${pair%%:*}
    bin=${pair#*:}
    data=$tmp/data-$label
    rm -rf "$data" "$tmp/report-$label"
    step import "$bin" "$label" -q import "$src/experiments/llama_profiling" --out "$data" --prompts "$src/prompts"
    step metrics "$bin" "$label" -q metrics "$data"
    step report "$bin" "$label" "$data" --report "$tmp/report-$label"
    stats_ms=$(grep -o 'statistics took [0-9]* ms' "$tmp/out" | grep -o '[0-9]*' || echo nan)
    echo "$label statistics $(awk -v ms="$stats_ms" 'BEGIN{print ms/1000}') 0" >>"$tmp/results"
  done
  echo "round $round of $rounds done" >&2
done
html_base=$(stat -c %s "$tmp/report-baseline/index.html")
html_new=$(stat -c %s "$tmp/report-current/index.html")

echo "current: $new   baseline: $base   ($rounds interleaved rounds, $(nproc) cores, 900 trials)"
printf '%-11s %14s %14s %8s %14s %14s\n' step "baseline s" "current s" ratio "baseline MB" "current MB"
for name in import metrics report statistics; do
  awk -v name="$name" '
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $2 == name && $1 == "baseline" { bw[++nb] = $3; bm[nb] = $4 }
    $2 == name && $1 == "current" { cw[++nc] = $3; cm[nc] = $4 }
    END {
      b = median(bw, nb); c = median(cw, nc)
      printf "%-11s %14.3f %14.3f %8.2f %14.0f %14.0f\n", name, b, c, (b > 0 ? c / b : 0), median(bm, nb) / 1024, median(cm, nc) / 1024
    }' "$tmp/results"
done
echo "index.html: baseline $html_base bytes, current $html_new bytes"
