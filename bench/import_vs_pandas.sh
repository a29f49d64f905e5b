#!/usr/bin/env bash
# `analyze import` + `analyze metrics --accounting published` of the 900 published trials against
# a pandas implementation of the same published procedure (bench/pandas_published.py), side by
# side in one run: ROUNDS interleaved rounds (default 3), warm page cache, release build. Prints
# wall and CPU time and peak RSS of each, the medians, the ratio pandas / ours, and checks that
# both found the same energy (largest relative difference over the 900 trials).
#
#   bench/import_vs_pandas.sh [ROUNDS]      (needs python3 with pandas: pip install pandas)
set -euo pipefail
rounds=${1:-3}
source "$(dirname "$0")/common.sh"
python3 -c "import pandas" 2>/dev/null || { echo "bench/import_vs_pandas.sh: needs pandas (pip install pandas)" >&2; exit 1; }
exp="$src/experiments/llama_profiling"
cat "$exp"/*/* >/dev/null # warm the page cache
here=$(dirname "$0")
measure() { # LABEL CMD...: appends "label wall cpu rss_kib"
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" >/dev/null 2>&1
  awk -v l="$label" '{printf "%s %.2f %.2f %d\n", l, $1, $2 + $3, $4}' "$tmp/t" >>"$tmp/results"
}
for round in $(seq "$rounds"); do
  rm -rf "$tmp/data"
  t0=$(date +%s.%N)
  measure import "$bin" -q import "$exp" --out "$tmp/data"
  measure metrics "$bin" -q metrics "$tmp/data" --accounting published --csv "$tmp/ours.csv"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "ours %.2f\n", b - a}' >>"$tmp/totals"
  measure pandas python3 "$here/pandas_published.py" "$exp" "$tmp/pandas.csv"
  echo "round $round of $rounds done" >&2
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "analyze: $bin   ($rounds interleaved rounds, $(nproc) cores, 900 trials, warm cache)"
printf '%-22s %10s %10s %10s\n' step "wall s" "cpu s" "RSS MB"
for step in import metrics pandas; do
  w=$(awk -v s=$step '$1 == s {print $2}' "$tmp/results" | median)
  c=$(awk -v s=$step '$1 == s {print $3}' "$tmp/results" | median)
  r=$(awk -v s=$step '$1 == s {print $4}' "$tmp/results" | median)
  printf '%-22s %10.2f %10.2f %10.0f\n' "$step" "$w" "$c" "$(awk -v r="$r" 'BEGIN {print r / 1024}')"
done
ours=$(awk '$1 == "ours" {print $2}' "$tmp/totals" | median)
pandas=$(awk '$1 == "pandas" {print $2}' "$tmp/results" | median)
printf '%-22s %10.2f\n' "import + metrics" "$ours"
awk -v o="$ours" -v p="$pandas" 'BEGIN {printf "pandas / (import + metrics) = %.1fx\n", p / o}'
python3 - "$tmp/ours.csv" "$tmp/pandas.csv" <<'PY'
import csv, sys
ours = {r["run_id"]: float(r["energy_j"]) for r in csv.DictReader(open(sys.argv[1]))}
theirs = {r["run_id"]: float(r["energy_j"]) for r in csv.DictReader(open(sys.argv[2]))}
assert ours.keys() == theirs.keys(), "the two found different trials"
d = max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in ours)
print(f"same energy: largest relative difference over {len(ours)} trials {d:.1e}")
PY
