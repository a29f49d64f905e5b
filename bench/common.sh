# Sourced by the analyze benchmarks: go to the repository root, build analyze in release, and
# set `bin` (the binary, under $CARGO_TARGET_DIR or target/), `src` (the published dataset:
# $GREENLAB_DATASET or ../shared/datasets/greenlab-angels-2025) and `tmp` (a temporary folder
# removed on exit).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=${GREENLAB_DATASET:-../shared/datasets/greenlab-angels-2025}
cargo build --release -q -p analyze >&2
bin=${CARGO_TARGET_DIR:-target}/release/analyze
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
