#!/usr/bin/env bash
# Scale benchmark: synthetic studies (`analyze synth`, simulated, energy known in closed form) of
# growing size, each trial SAMPLES energy samples (default 1,000) as collect writes them (one
# part per trial: four Parquet files), then `analyze metrics DIR` and the full report
# (`analyze DIR --report OUT`, PNGs included), in a release build, with wall time, CPU time
# (user + system) and peak RSS from /usr/bin/time. Prints one row per size and, between
# consecutive sizes, the growth exponent b in t ∝ N^b of wall time, CPU time and RSS: b ≈ 1 is
# linear in the number of trials. On a shared machine wall time follows the other load; CPU
# time much less so.
#
# Usage: bench/scale.sh [N ...]
#   N        trials asked for (rounded up to whole repetitions of the 30 treatments); default
#            `1000 10000`. `bench/scale.sh 1000 10000 100000` adds 100k trials: about ten times
#            the 10k run's time and disk (some 7 GB and 400,000 files under $TMPDIR).
#   SAMPLES  environment: samples per trial (default 1000)
#   RUNS     environment: timed runs of metrics and of the report per size (default 3); the
#            table shows the median wall and CPU times and the largest peak RSS
# Each dataset is synced to disk before it is read (so no write-back competes with the timed
# runs), read from the page cache, and removed once measured.
set -euo pipefail
source "$(dirname "$0")/common.sh"
samples=${SAMPLES:-1000}
runs=${RUNS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)

rows=()
for n in "${sizes[@]}"; do
  data=$tmp/synth-$n
  rm -f "$tmp/synth" "$tmp/metrics" "$tmp/report"
  echo "N = $n: generating ..." >&2
  step synth synth --trials "$n" --samples-per-trial "$samples" --out "$data"
  sync
  trials=$(ls "$data/trials" | wc -l)
  size=$(du -sh "$data" | cut -f1)
  for run in $(seq "$runs"); do
    echo "N = $n: metrics and report, run $run of $runs ..." >&2
    step metrics metrics "$data"
    step report "$data" --report "$tmp/report-$n"
  done
  read -r sw sr sc < <(summary synth)
  read -r mw mr mc < <(summary metrics)
  read -r rw rr rc < <(summary report)
  rows+=("$trials $size $sw $sr $sc $mw $mr $mc $rw $rr $rc")
  rm -rf "$data" "$tmp/report-$n"
done

echo "analyze at scale: $samples samples per trial, median of $runs runs, release build, $(nproc) cores ($(date -u +%F))"
echo "(each step: wall s / CPU s / peak RSS MB; per trial: wall)"
printf '| %7s | %10s | %7s | %22s | %22s | %22s | %13s | %13s |\n' \
  trials samples dataset synth metrics report "metrics/trial" "report/trial"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' --------- ------------ --------- ------------------------ \
  ------------------------ ------------------------ --------------- ---------------
for row in "${rows[@]}"; do
  read -r t size sw sr sc mw mr mc rw rr rc <<<"$row"
  printf '| %7d | %10d | %7s | %6.2f / %6.2f / %4s | %6.2f / %6.2f / %4s | %6.2f / %6.2f / %4s | %10.3f ms | %10.3f ms |\n' \
    "$t" $((t * samples)) "$size" "$sw" "$sc" "$(mb "$sr")" "$mw" "$mc" "$(mb "$mr")" "$rw" "$rc" "$(mb "$rr")" \
    "$(awk "BEGIN { print $mw * 1000 / $t }")" "$(awk "BEGIN { print $rw * 1000 / $t }")"
done

# Growth exponents between consecutive sizes.
verdict() {
  [ "$1" != nan ] || {
    echo "n/a (too fast to time)"
    return
  }
  awk "BEGIN { b = $1; print (b < 0.9 ? \"sublinear\" : b <= 1.1 ? \"linear\" : \"superlinear\") }"
}
exponent() { awk "BEGIN { if ($1 <= 0 || $2 <= 0) print \"nan\"; else printf \"%.2f\", log($2 / $1) / log($4 / $3) }"; }
for ((i = 1; i < ${#rows[@]}; i++)); do
  read -r t0 _ sw0 sr0 sc0 mw0 mr0 mc0 rw0 rr0 rc0 <<<"${rows[i - 1]}"
  read -r t1 _ sw1 sr1 sc1 mw1 mr1 mc1 rw1 rr1 rc1 <<<"${rows[i]}"
  echo "from $t0 to $t1 trials (t ∝ N^b; sublinear = fixed costs still count):"
  for what in "synth:$sw0:$sw1:$sc0:$sc1:$sr0:$sr1" "metrics:$mw0:$mw1:$mc0:$mc1:$mr0:$mr1" \
    "report:$rw0:$rw1:$rc0:$rc1:$rr0:$rr1"; do
    IFS=: read -r name w0 w1 c0 c1 r0 r1 <<<"$what"
    bw=$(exponent "$w0" "$w1" "$t0" "$t1")
    bc=$(exponent "$c0" "$c1" "$t0" "$t1")
    br=$(exponent "$r0" "$r1" "$t0" "$t1")
    printf '  %-8s wall b = %s (%s), CPU b = %s (%s); peak RSS b = %s (%s -> %s MB)\n' \
      "$name" "$bw" "$(verdict "$bw")" "$bc" "$(verdict "$bc")" "$br" "$(mb "$r0")" "$(mb "$r1")"
  done
done
