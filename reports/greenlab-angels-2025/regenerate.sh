#!/usr/bin/env bash
# Regenerates this report from the published raw data: import (with gold labels), gold-label
# scoring of all 72,000 answers, then the report with the corrected accounting. The dataset is
# built in a temporary folder; only this report folder is written.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${GREENLAB_DATASET:-../shared/datasets/greenlab-angels-2025}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release -q -p analyze -p judge
bin=${CARGO_TARGET_DIR:-target}/release
"$bin"/analyze -q import "$src/experiments/llama_profiling" --prompts "$src/prompts" --out "$tmp/data"
"$bin"/judge -q "$tmp/data" --gold >/dev/null
"$bin"/analyze -q "$tmp/data" --accounting corrected --report reports/greenlab-angels-2025 --no-png
