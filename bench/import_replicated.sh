#!/usr/bin/env bash
# Import memory against study size: the published layout replicated F times (a run_table.csv
# with each row repeated under new repetition numbers, each new trial folder a symlink to the
# original one), imported by `analyze import` and then read by `analyze metrics`, in a release
# build, warm page cache. Prints per factor the trials, the median wall and CPU time (user +
# system) and the largest peak RSS of RUNS runs, and between consecutive factors the growth
# exponent b in t ∝ N^b (b ≈ 1: linear time; b ≈ 0: memory independent of the study's size).
#
# Usage: bench/import_replicated.sh [F ...]     (default: 1 10, i.e. 900 and 9,000 trials)
#   RUNS  environment: timed runs per factor (default 3)
# Each imported dataset (about 41 MB per 900 trials) is removed once measured.
set -euo pipefail
source "$(dirname "$0")/common.sh"
runs=${RUNS:-3}
factors=("$@")
[ ${#factors[@]} -gt 0 ] || factors=(1 10)
exp="$src/experiments/llama_profiling"
cat "$exp"/*/* >/dev/null # warm the page cache

# replicate F DIR: the published experiment F times over, in DIR.
replicate() {
  python3 - "$exp" "$1" "$2" <<'PY'
import csv, os, re, sys
src, factor, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out)
with open(os.path.join(src, "run_table.csv"), newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], [r for r in rows[1:] if r]
ids = [re.fullmatch(r"run_(\d+)_repetition_(\d+)", r[0]) for r in rows]
reps = 1 + max(int(m.group(2)) for m in ids)
with open(os.path.join(out, "run_table.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    for j in range(factor):
        for r, m in zip(rows, ids):
            new = f"run_{m.group(1)}_repetition_{int(m.group(2)) + j * reps}"
            w.writerow([new] + r[1:])
            os.symlink(os.path.abspath(os.path.join(src, r[0])), os.path.join(out, new))
PY
}
echo "analyze: $bin   ($(nproc) cores, $runs runs per factor, warm cache)"
printf '%8s %8s | %-28s | %-28s\n' factor trials "import: wall s  cpu s  RSS MB" "metrics: wall s  cpu s  RSS MB"
prev=""
for f in "${factors[@]}"; do
  replicate "$f" "$tmp/src$f"
  trials=$(($(wc -l <"$tmp/src$f/run_table.csv") - 1))
  for _ in $(seq "$runs"); do
    rm -rf "$tmp/data"
    step "import$f" import "$tmp/src$f" --out "$tmp/data"
    step "metrics$f" metrics "$tmp/data" --csv "$tmp/metrics.csv"
  done
  read -r iw ir ic <<<"$(summary "import$f")"
  read -r mw mr mc <<<"$(summary "metrics$f")"
  printf '%8s %8s | %14.2f %6.2f %6.0f | %15.2f %6.2f %6.0f\n' "$f" "$trials" "$iw" "$ic" "$(mb "$ir")" \
    "$mw" "$mc" "$(mb "$mr")"
  if [ -n "$prev" ]; then
    read -r pt piw pir pic pmw pmr pmc <<<"$prev"
    awk -v n0="$pt" -v n1="$trials" -v a="$piw $pic $pir $pmw $pmc $pmr" -v b="$iw $ic $ir $mw $mc $mr" 'BEGIN {
      split(a, x, " "); split(b, y, " "); r = log(n1 / n0)
      printf "%17s | b: wall %.2f  cpu %.2f  RSS %.2f | b: wall %.2f  cpu %.2f  RSS %.2f\n", "",
        log(y[1] / x[1]) / r, log(y[2] / x[2]) / r, log(y[3] / x[3]) / r, log(y[4] / x[4]) / r, log(y[5] / x[5]) / r, log(y[6] / x[6]) / r }'
  fi
  prev="$trials $iw $ir $ic $mw $mr $mc"
  rm -rf "$tmp/data" "$tmp/src$f"
done
