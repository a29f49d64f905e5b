#!/usr/bin/env bash
# Real-GPU check of the serving regime (issue 14): energy per token at concurrency 1 and 8.
# llama_shim_batched.py (random-weight Llama 3.2 1B/3B shapes, continuous batching) on :8100;
# a warm-up at concurrency 8 (each model in turn) brings the GPU to its working clocks and
# temperature and measures the decode step time, which sizes the design
# (concurrency_sweep.toml: max_tokens so that a concurrency-8 trial's steady state outlasts
# the 30 s gate; at concurrency 1 only a few prompts, since each takes about eight times as
# long to serve); collect runs the concurrency-8 dataset (80 COPA prompts), then the
# concurrency-1 one (`--concurrency 1 --max-prompts N`), with --energy nvml,procfs. The GPU's
# settings are only read (nvidia-smi before and after, and each trial's provenance), never
# changed. Then sweep_summary.py (needs pyarrow) and, where $ANALYZE exists, `analyze
# metrics` with the per-request attribution. Outputs go to $OUT (default /tmp/gpu-check):
# run.txt, shim.log, calib.json, collect8.log, collect1.log, datasets.tar.gz, summary.txt,
# summary.json.
#
#   COLLECT=target/release/collect BUDGET_S=570 bench/gpu/concurrency_sweep.sh
#   MODELS=llama-3.2-1b-shape C1_FIRST=1 WARM_S=30 BUDGET_S=420 bench/gpu/concurrency_sweep.sh
# (BUDGET_S: seconds for the whole script; each collect is stopped, its committed trials kept,
# where the budget would run out.)
set -u
t0=$(date +%s)
budget=${BUDGET_S:-540}
left() { echo $((t0 + budget - $(date +%s))); }
models=${MODELS:-llama-3.2-1b-shape,llama-3.2-3b-shape}
export SHIM_MODELS=$models SHIM_MAX_PROMPT=1024 SHIM_MAX_TOKENS=4096 PYTHONUNBUFFERED=1
export SHIM=${SHIM:-$(dirname "$0")/llama_shim_batched.py}
repo=$(pwd)
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
q=name,driver_version,power.limit,enforced.power.limit,power.default_limit,power.min_limit,power.max_limit,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw,pstate
{ echo "== GPU settings before (read only)"; nvidia-smi --query-gpu=$q --format=csv; } >"$OUT/run.txt" 2>&1
# shellcheck source=bench/gpu/common.sh
source "$(dirname "$0")/common.sh"
curl -fsS http://127.0.0.1:8100/calib >"$OUT/calib.json" || { echo "shim not serving"; exit 1; }
cat "$OUT/calib.json"; echo
# Warm-up at concurrency 8, each model in turn (the heaviest last), so that the GPU's clocks
# and temperature are where the trials will hold them; the shim's decode-step counter over
# the middle of each phase gives the step time that sizes the design (the start-up timings
# run on idle clocks and read several times too slow).
python3 - "$models" "${WARM_S:-40}" "$OUT/calib.json" >warm.json <<'PY' || exit 1
import json, re, sys, threading, time, urllib.request
models, secs, calib = sys.argv[1].split(","), float(sys.argv[2]), json.load(open(sys.argv[3]))
models.sort(key=lambda m: calib[m]["step_ms_b8"])
def steps(m):
    text = urllib.request.urlopen("http://127.0.0.1:8100/metrics", timeout=10).read().decode()
    return float(re.search(r'shim:decode_steps_total\{model_name="%s"\} (\S+)' % re.escape(m), text).group(1))
out = {}
for m in models:
    end = time.time() + secs / len(models)
    def worker():
        while time.time() < end:
            body = json.dumps({"model": m, "messages": [{"role": "user", "content": "warm up " * 20}],
                               "max_tokens": 128, "stream": True}).encode()
            req = urllib.request.Request("http://127.0.0.1:8100/v1/chat/completions", body,
                                         {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=300) as r:
                for _ in r:
                    pass
    ts = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in ts]
    phase = secs / len(models)
    time.sleep(phase * 0.3); a, ta = steps(m), time.time()
    time.sleep(phase * 0.6); b, tb = steps(m), time.time()
    [t.join() for t in ts]
    out[m] = {"step_ms_b8_warm": (tb - ta) / max(b - a, 1) * 1000}
    print(f"warm-up {m}: {out[m]['step_ms_b8_warm']:.1f} ms per decode step at concurrency 8", file=sys.stderr)
json.dump(out, sys.stdout)
PY
cat warm.json; echo
python3 - "$here/concurrency_sweep.toml" "$repo/prompts" warm.json "$(left)" "$models" \
  "${STEADY_TARGET_S:-36}" >sizing.env <<'PY' || exit 1
import json, math, sys
toml, prompts, warm, left, models = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), float(sys.argv[4]), sys.argv[5].split(",")
TARGET = float(sys.argv[6])
N8, MEAN, OVERHEAD, REPS, FAST = 80, 0.787, 5.0, 2, 0.75
# The step time varies from trial to trial (down to about 0.75 of the warm-up's on the H200):
# size for the fast end, so that every concurrency-8 trial's steady state outlasts TARGET.
s8 = {m: warm[m]["step_ms_b8_warm"] / 1000 for m in models}
s1 = s8  # one request alone decodes about as fast as the batch of 8 (overhead-bound)
L = TARGET / ((N8 - 8) / 8 * FAST * min(s8.values()))
M = max(64, min(4096, math.ceil(L / MEAN)))
L = MEAN * M
N1 = max(3, math.ceil(TARGET / 2.5 / (L * min(s1.values()))))
def t8(ms):
    return REPS * sum((N8 / 8 + 0.7) * L * s8[m] + OVERHEAD for m in ms)
def t1(ms, n1):
    return REPS * sum(n1 * L * s1[m] + OVERHEAD for m in ms)
keep = list(models)
while len(keep) > 1 and t8(keep) + t1(keep, N1) > left - 30:
    keep.pop()
text = open(toml).read()
text = text.replace('prompts = "../../prompts"', f'prompts = "{prompts}"').replace("max_tokens = 1024", f"max_tokens = {M}")
head, *blocks = text.split("[[models]]")
text = head + "".join("[[models]]" + b for b in blocks if any(f'name = "{k}"' in b for k in keep))
open("c8.toml", "w").write(text)
print(f"MAX_TOKENS={M} N1={N1} KEEP={','.join(keep)} EST8_S={t8(keep):.0f} EST1_S={t1(keep, N1):.0f}")
PY
cat sizing.env
# shellcheck disable=SC1091  # written just above
source sizing.env
{ echo "== warm-up step times and sizing"; cat warm.json; echo; cat sizing.env; } >>"$OUT/run.txt"
nvidia-smi --query-gpu=temperature.gpu,power.draw --format=csv,noheader
run8() {
  local lim=$(( $(left) - $1 ))
  timeout -s INT $(( lim > 20 ? lim : 20 )) "$collect" --config c8.toml --out c8 --endpoint http://127.0.0.1:8100 \
    ${ENERGY:+--energy "$ENERGY"} >"$OUT/collect8.log" 2>&1
  echo "collect c8 exit $?" | tee -a "$OUT/run.txt"
}
run1() {
  local lim=$(( $(left) - $1 ))
  timeout -s INT $(( lim > 10 ? lim : 10 )) "$collect" --config c8.toml --out c1 --endpoint http://127.0.0.1:8100 \
    ${ENERGY:+--energy "$ENERGY"} --concurrency 1 --max-prompts "$N1" >"$OUT/collect1.log" 2>&1
  echo "collect c1 exit $?" | tee -a "$OUT/run.txt"
}
# Each collect stops (Ctrl-C: committed trials stay) where the budget would run out; C1_FIRST=1
# runs the short concurrency-1 dataset first, so that a slow GPU costs concurrency-8 trials.
if [ "${C1_FIRST:-0}" = 1 ]; then
  run1 $(( ${EST8_S%.*} / 2 + 30 )); run8 25
else
  run8 $(( ${EST1_S%.*} + 40 )); run1 25
fi
curl -fsS http://127.0.0.1:8100/metrics | grep -v '^#' >>"$OUT/run.txt"
kill "$shim_pid" 2>/dev/null
{ echo "== GPU settings after (read only)"; nvidia-smi --query-gpu=$q --format=csv; } >>"$OUT/run.txt" 2>&1
tar czf "$OUT/datasets.tar.gz" c8 c1 c8.toml
extra=()
if [ -x "$analyze" ]; then
  for d in c8 c1; do
    "$analyze" metrics "$d" --csv "$d-metrics.csv" --requests-csv "$d-requests.csv" >>"$OUT/run.txt" 2>&1
    extra+=(--analyze "$d=$d-metrics.csv,$d-requests.csv")
  done
fi
if python3 -c "import pyarrow" 2>/dev/null; then
  python3 "$here/sweep_summary.py" c8 c1 "${extra[@]}" --json "$OUT/summary.json" >"$OUT/summary.txt" 2>&1
  cat "$OUT/summary.txt"
else
  echo "no pyarrow here: run bench/gpu/sweep_summary.py on the datasets elsewhere" | tee "$OUT/summary.txt"
fi
tail -n 3 "$OUT/collect8.log" "$OUT/collect1.log"
echo "done in $(( $(date +%s) - t0 )) s"
