# Sourced by the analyze benchmarks: go to the repository root, build analyze in release, and
# set `bin` (the binary, under $CARGO_TARGET_DIR or target/), `src` (the published dataset:
# $GREENLAB_DATASET or ../shared/datasets/greenlab-angels-2025) and `tmp` (a temporary folder
# removed on exit), and the helpers the timing scripts share (step, median, summary, mb).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=${GREENLAB_DATASET:-../shared/datasets/greenlab-angels-2025}
cargo build --release -q -p analyze >&2
# ANALYZE_BIN: time another build (a baseline) instead of this checkout's.
bin=${ANALYZE_BIN:-${CARGO_TARGET_DIR:-target}/release/analyze}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# step NAME ARGS...: runs analyze, appends "wall_s rss_kib cpu_s" to $tmp/NAME.
step() {
  local name=$1
  shift
  /usr/bin/time -f "%e %M %U %S" -a -o "$tmp/$name" "$bin" -q "$@" >"$tmp/out" 2>&1 || {
    cat "$tmp/out" >&2
    exit 1
  }
}
# median: the median of the numbers on standard input.
median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# summary NAME: "median_wall_s max_rss_kib median_cpu_s" of the runs in $tmp/NAME.
summary() {
  echo "$(awk '{ print $1 }' "$tmp/$1" | median) $(awk '$2 > r { r = $2 } END { print r }' "$tmp/$1")" \
    "$(awk '{ print $3 + $4 }' "$tmp/$1" | median)"
}
# mb KIB: KiB as whole MB.
mb() { awk "BEGIN { printf \"%.0f\", $1 / 1024 }"; }
