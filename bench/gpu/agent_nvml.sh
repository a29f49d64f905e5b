#!/usr/bin/env bash
# Real-GPU check of the two-machine mode on one host: llama_shim.py (random-weight Llama 3.2
# 1B/3B shapes, ../shared/tools) on :8100, `collect agent --energy nvml` on loopback with a
# token, and an orchestrator `collect --agent`; then `analyze metrics`. Every trial should
# have gpu_source = energy_counter. Outputs go to $OUT (default /tmp/gpu-check).
#
#   COLLECT=target/release/collect ANALYZE=target/release/analyze bench/gpu/agent_nvml.sh
set -u
# shellcheck source=bench/gpu/common.sh
source "$(dirname "$0")/common.sh"
nvidia-smi --query-gpu=name,driver_version,power.draw --format=csv
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >token
chmod 600 token
"$collect" agent --config "$here/agent_nvml.toml" --out agent-data --endpoint http://127.0.0.1:8100 \
  --token-file token --listen 127.0.0.1:8787 >"$OUT/agent.log" 2>&1 &
for _ in $(seq 60); do curl -fsS http://127.0.0.1:8787/v1/health >/dev/null 2>&1 && break; sleep 0.5; done
curl -fsS -H "Authorization: Bearer $(cat token)" http://127.0.0.1:8787/v1/capabilities >"$OUT/capabilities.json"
/usr/bin/time -v "$collect" --config "$here/agent_nvml.toml" --out remote --agent http://127.0.0.1:8787 \
  --agent-token-file token >"$OUT/orchestrator.log" 2>&1
echo "orchestrator exit $?"
"$analyze" metrics remote --csv "$OUT/metrics.csv" >"$OUT/analyze.log" 2>&1
echo "analyze exit $?"
tail -5 "$OUT/orchestrator.log"
kill %1 %2 2>/dev/null
