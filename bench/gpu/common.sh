# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Shared by the real-GPU checks: the binaries, the shim, $OUT, a scratch folder to work in,
# and the shim ($SHIM, default llama_shim.py: random-weight Llama 3.2 1B/3B shapes) started
# on :8100; the wait ends early when the shim exits.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
collect=$(realpath "${COLLECT:-target/release/collect}")
analyze=$(realpath "${ANALYZE:-target/release/analyze}")
shim=$(realpath "${SHIM:-../shared/tools/llama_shim.py}")
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
work=$(mktemp -d)
cd "$work" || exit 1
python3 "$shim" 8100 >"$OUT/shim.log" 2>&1 &
shim_pid=$!
for i in $(seq "${SHIM_WAIT_S:-120}"); do
  curl -fsS http://127.0.0.1:8100/v1/models >/dev/null 2>&1 && break
  kill -0 "$shim_pid" 2>/dev/null || { echo "shim exited"; tail -20 "$OUT/shim.log"; break; }
  sleep 1
done
echo "shim up after ${i}s"
