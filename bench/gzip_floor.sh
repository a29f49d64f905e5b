#!/usr/bin/env bash
# The floor under `analyze import` of the 900 published trials: what only reading the inputs
# costs, side by side with the import in one run. ROUNDS interleaved rounds (default 3), warm
# page cache, release build. For each round it times
#   inflate  every energibridge.csv.gz inflated by libdeflate (the library import uses),
#            two processes of 450 files each, output discarded: no parse, no Parquet;
#   zcat     the same with zlib's zcat, for scale;
#   import   `analyze -q import` of the same folder (parse, validate, encode, write Parquet);
# and prints the medians (wall and CPU) and import's CPU above the inflate floor.
#
#   bench/gzip_floor.sh [ROUNDS]      (needs libdeflate-gunzip: apt-get install libdeflate-tools)
set -euo pipefail
rounds=${1:-3}
source "$(dirname "$0")/common.sh"
command -v libdeflate-gunzip >/dev/null || {
  echo "bench/gzip_floor.sh: needs libdeflate-gunzip (apt-get install libdeflate-tools)" >&2
  exit 1
}
exp="$src/experiments/llama_profiling"
find "$exp" -name 'energibridge.csv.gz' | sort >"$tmp/gz"
[ -s "$tmp/gz" ] || { echo "bench/gzip_floor.sh: no energibridge.csv.gz under $exp" >&2; exit 1; }
half=$((($(wc -l <"$tmp/gz") + 1) / 2))
cat "$exp"/*/* >/dev/null # warm the page cache
measure() { # LABEL CMD...: appends "label wall cpu"
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$@" >/dev/null 2>&1
  awk -v l="$label" '{printf "%s %.3f %.3f\n", l, $1, $2 + $3}' "$tmp/t" >>"$tmp/results"
}
for round in $(seq "$rounds"); do
  measure inflate sh -c "xargs -P2 -n $half libdeflate-gunzip -c <'$tmp/gz' >/dev/null"
  measure zcat sh -c "xargs -P2 -n $half zcat <'$tmp/gz' >/dev/null"
  rm -rf "$tmp/data"
  measure import "$bin" -q import "$exp" --out "$tmp/data"
  echo "round $round of $rounds done" >&2
done
echo "analyze: $bin   ($rounds interleaved rounds, $(nproc) cores, $(wc -l <"$tmp/gz") gzip files," \
  "$(xargs cat <"$tmp/gz" | wc -c) bytes -> $(xargs -n "$half" libdeflate-gunzip -c <"$tmp/gz" | wc -c) bytes, warm cache)"
printf '%-10s %10s %10s\n' step "wall s" "cpu s"
declare -A wall cpu
for step in inflate zcat import; do
  wall[$step]=$(awk -v s=$step '$1 == s {print $2}' "$tmp/results" | median)
  cpu[$step]=$(awk -v s=$step '$1 == s {print $3}' "$tmp/results" | median)
  printf '%-10s %10.3f %10.3f\n' "$step" "${wall[$step]}" "${cpu[$step]}"
done
awk -v iw="${wall[import]}" -v ic="${cpu[import]}" -v fw="${wall[inflate]}" -v fc="${cpu[inflate]}" 'BEGIN {
  printf "import / inflate floor: %.1fx wall, %.1fx CPU; import spends %.2f s CPU beyond inflating\n",
    iw / fw, ic / fc, ic - fc }'
