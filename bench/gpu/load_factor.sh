#!/usr/bin/env bash
# Real-GPU check of the load as a factor of one design: bench/gpu/load_factor.toml
# (`concurrency = [1, 8]`) against llama_shim_batched.py on :8100 with --energy nvml,procfs; a
# dry run first (the factors and the GPU's settings, read only), then the collection; the
# dataset comes back in $OUT/load_factor.tar.gz for `analyze metrics` elsewhere. The GPU's
# settings are only read (nvidia-smi before and after), never changed.
#
#   COLLECT=target/release/collect bench/gpu/load_factor.sh
set -u
export SHIM_MODELS=llama-3.2-1b-shape SHIM_MAX_PROMPT=1024 SHIM_MAX_TOKENS=4096 PYTHONUNBUFFERED=1
export SHIM=${SHIM:-$(dirname "$0")/llama_shim_batched.py}
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
q=power.limit,power.default_limit,power.min_limit,power.max_limit,clocks.max.sm
nvidia-smi --query-gpu=$q --format=csv >"$OUT/before.csv" 2>&1
# shellcheck source=bench/gpu/common.sh
source "$(dirname "$0")/common.sh"
"$collect" --config "$here/load_factor.toml" --out lf --endpoint http://127.0.0.1:8100 --dry-run >"$OUT/dry_run.txt" 2>&1
"$collect" --config "$here/load_factor.toml" --out lf --endpoint http://127.0.0.1:8100 >"$OUT/collect.log" 2>&1
echo "collect exit $?"
tar czf "$OUT/load_factor.tar.gz" lf
nvidia-smi --query-gpu=$q --format=csv >"$OUT/after.csv" 2>&1
cmp -s "$OUT/before.csv" "$OUT/after.csv" && echo "GPU settings unchanged" || echo "GPU settings differ"
kill "$shim_pid" 2>/dev/null
