#!/usr/bin/env bash
# Real-GPU check of the per-request attribution: llama_shim.py on :8100, a local collect at
# concurrency 4 with --energy nvml, then `analyze metrics --requests-csv`: the requests'
# energy plus each trial's unattributed energy must equal the trial's energy, while their
# own-window integrals add up to about the concurrency times it. Outputs go to $OUT.
#
#   COLLECT=target/release/collect ANALYZE=target/release/analyze bench/gpu/concurrency4.sh
set -u
# shellcheck source=bench/gpu/common.sh
source "$(dirname "$0")/common.sh"
"$collect" --config "$here/concurrency4.toml" --out c4 --endpoint http://127.0.0.1:8100 >"$OUT/collect4.log" 2>&1
echo "collect exit $?"
"$analyze" metrics c4 --csv "$OUT/metrics4.csv" --requests-csv "$OUT/requests4.csv" >"$OUT/analyze4.log" 2>&1
echo "analyze exit $?"
python3 - "$OUT" <<'PY'
import csv, sys
out = sys.argv[1]
m = list(csv.DictReader(open(f"{out}/metrics4.csv")))
r = list(csv.DictReader(open(f"{out}/requests4.csv")))
for t in m:
    rs = [x for x in r if x["run_id"] == t["run_id"]]
    e = float(t["energy_j"]); un = float(t["unattributed_energy_j"])
    att = sum(float(x["energy_j"]) for x in rs); win = sum(float(x["window_energy_j"]) for x in rs)
    pre = sum(float(x["prefill_energy_j"]) for x in rs)
    print(f"{t['run_id']} {t['gpu_source']} E={e:.1f} J attributed+unattributed-E={(att + un - e) / e:.1e} "
          f"windows={win / e:.2f}x prefill={pre / e:.0%}")
PY
kill %1 2>/dev/null
