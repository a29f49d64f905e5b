#!/usr/bin/env bash
# GPU testbed bootstrap of the llm-energy study: turns a fresh Debian/Ubuntu machine with an
# NVIDIA GPU into a testbed that an orchestrator (`collect --agent URL`) can run trials on.
# Safe to run repeatedly: every step is skipped when already done ("ok, already ...").
#
#   ./init_env.sh              bring the testbed up (asks for sudo where root is needed)
#   ./init_env.sh --check      change nothing; print a readiness table; non-zero if anything is missing
#   ./init_env.sh --dry-run    change nothing; print every step it would take and its command
#   ./init_env.sh --help       all options
#
# The steps: 1 the NVIDIA driver; 2 NVML's total-energy counter; 3 Debian packages; 4 a Python
# virtual environment; 5 vLLM (pinned) and the Hugging Face client in it; 6 collect, built and
# installed; 7 the weights of every model of the experiment config; 8 read access to the RAPL
# counters; 9 the agent's token file; 10 the agent as a service; 11 its health check and the
# readiness table. docs/testbed.md explains them. The test dependencies of `cargo test` (no GPU)
# are installed by scripts/test-env.sh instead.
#
# Nothing here needs a GPU to run --check or --dry-run. Secrets (HF_TOKEN, the agent's token)
# are never printed, never put on a command line and never written into the systemd unit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VLLM_VERSION=0.11.0                  # the study's vLLM
HF_HUB_REQUIREMENT='huggingface_hub>=0.34'  # the `hf` command (vLLM pins the rest)
UNIT_NAME=llm-energy-agent.service
RAPL_GROUP=llm-energy
# Debian packages: python3-dev because vLLM's Triton kernels compile a small C launcher at run
# time; the rest builds collect (native-tls, C code of its compression crates) and runs curl.
DEB_PACKAGES=(python3 python3-venv python3-dev gcc g++ make pkg-config libssl-dev curl ca-certificates)

usage() {
  cat <<EOF
Usage: ./init_env.sh [--check | --dry-run] [--config FILE] [--rapl udev|capability|skip]
                     [--listen ADDR] [--out DIR]

Bootstraps a GPU testbed of the llm-energy study (Debian/Ubuntu, NVIDIA GPU): checks the
driver and NVML's energy counter, installs vLLM $VLLM_VERSION in a virtual environment, builds
and installs collect, downloads the weights of the config's models, makes the RAPL counters
readable, writes the agent's token file and starts \`collect agent\` as a service. Every step
is skipped when already done, so running it again is harmless.

Options:
  --check           change nothing: print a readiness table (driver, energy counter, RAPL,
                    vLLM, each model's weights, collect, token file, agent) and exit 1 when
                    anything is missing, 0 when the testbed is ready
  --dry-run         change nothing: print each step it would take as
                    "[dry-run] step N: <what> : <command>" (or "ok, already ..." when done)
  --config FILE     experiment config whose [[models]] are downloaded and which the agent
                    serves (default: experiments/llama_profiling.toml of this checkout)
  --rapl MODE       how the agent may read /sys/class/powercap/intel-rapl:*/energy_uj, which
                    is root-only since CVE-2020-8694 (a power side channel):
                      udev        (default) a udev rule gives read access to the group
                                  $RAPL_GROUP, and you are added to it; only members read it
                      capability  the agent's systemd unit gets CAP_DAC_READ_SEARCH
                                  (AmbientCapabilities): no group, but the agent and every
                                  model server it starts may then read any file
                      skip        leave RAPL alone (CPU energy is then not measured unless
                                  the agent runs as root); --check does not count it missing
  --listen ADDR     the agent's address (default 127.0.0.1:8787; keep it on loopback and use
                    an SSH tunnel or a TLS proxy, docs/agent.md)
  --out DIR         the agent's dataset folder (default \$LLM_ENERGY_HOME/agent-data)
  -h, --help        this text

Environment:
  LLM_ENERGY_HOME    token file, agent data, log and pid file (default ~/.config/llm-energy)
  LLM_ENERGY_VENV    the virtual environment (default ~/.local/share/llm-energy/venv)
  LLM_ENERGY_PREFIX  collect is installed as PREFIX/bin/collect (default ~/.local)
  HF_TOKEN           Hugging Face token for gated repositories (meta-llama/*); read by \`hf\`
                     from the environment, never printed. HF_HOME / HF_HUB_CACHE move the cache.
  LLM_ENERGY_AGENT_WAIT_S  how long to wait for the agent's /v1/health (default 60)
  LLM_ENERGY_SYSROOT prefix of /etc, /run and /sys (tests only)

Files: the token is \$LLM_ENERGY_HOME/agent.token (mode 0600, kept once written); the unit is
/etc/systemd/system/$UNIT_NAME (where systemd runs, else a nohup process with its pid in
\$LLM_ENERGY_HOME/agent.pid and its log in \$LLM_ENERGY_HOME/agent.log); the udev rule is
/etc/udev/rules.d/90-llm-energy-rapl.rules. Extra variables for the agent and the model
servers (e.g. HF_TOKEN if a server must download) go into \$LLM_ENERGY_HOME/agent.env.
EOF
}

die() { printf 'init_env.sh: error: %s\n' "$*" >&2; exit 1; }
warn() { printf 'init_env.sh: warning: %s\n' "$*" >&2; }

# --- options ---------------------------------------------------------------------------------
mode=run
config="$ROOT/experiments/llama_profiling.toml"
rapl=udev
listen=127.0.0.1:8787
out=""
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --check) [ "$mode" = run ] || die "--check and --dry-run exclude each other"; mode=check ;;
    --dry-run) [ "$mode" = run ] || die "--check and --dry-run exclude each other"; mode=dry-run ;;
    --config) need_value "$@"; config=$2; shift ;;
    --config=*) config=${1#*=} ;;
    --rapl) need_value "$@"; rapl=$2; shift ;;
    --rapl=*) rapl=${1#*=} ;;
    --listen) need_value "$@"; listen=$2; shift ;;
    --listen=*) listen=${1#*=} ;;
    --out) need_value "$@"; out=$2; shift ;;
    --out=*) out=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
case "$rapl" in udev | capability | skip) ;; *) die "--rapl takes udev, capability or skip, not '$rapl'" ;; esac

abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

[ -n "${HOME:-}" ] || die "HOME is not set"
[ -f "$config" ] || die "config $config not found (--config FILE)"
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
LLM_ENERGY_HOME=$(abs "${LLM_ENERGY_HOME:-$HOME/.config/llm-energy}")
VENV=$(abs "${LLM_ENERGY_VENV:-$HOME/.local/share/llm-energy/venv}")
PREFIX=$(abs "${LLM_ENERGY_PREFIX:-$HOME/.local}")
COLLECT_BIN=$PREFIX/bin/collect
TOKEN_FILE=$LLM_ENERGY_HOME/agent.token
AGENT_OUT=$(abs "${out:-$LLM_ENERGY_HOME/agent-data}")
PID_FILE=$LLM_ENERGY_HOME/agent.pid
AGENT_LOG=$LLM_ENERGY_HOME/agent.log
SYSROOT=${LLM_ENERGY_SYSROOT:-}
UDEV_RULE=$SYSROOT/etc/udev/rules.d/90-llm-energy-rapl.rules
UNIT_FILE=$SYSROOT/etc/systemd/system/$UNIT_NAME
POWERCAP=$SYSROOT/sys/class/powercap
HF_HUB=${HF_HUB_CACHE:-${HF_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/huggingface}/hub}
AGENT_USER=$(id -un)
HEALTH_URL="http://${listen/#0.0.0.0:/127.0.0.1:}/v1/health"
AGENT_PATH="$VENV/bin:$PREFIX/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

# A command line as text, quoted where needed (for the messages; nothing secret goes in).
shq() {
  local out="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi
  done
  printf '%s' "${out% }"
}

# Step reporting. `todo N WHAT COMMAND...` prints the step; in a dry run that is all, otherwise
# the caller then runs it. `already N WHAT DETAIL` reports a step that is done.
todo() {
  local n=$1 what=$2; shift 2
  if [ "$mode" = dry-run ]; then
    printf '[dry-run] step %s: %s : %s\n' "$n" "$what" "$*"
  else
    printf '[init_env] step %s: %s : %s\n' "$n" "$what" "$*"
  fi
}
already() { printf '[%s] step %s: %s : ok, already %s\n' "$([ "$mode" = dry-run ] && echo dry-run || echo init_env)" "$1" "$2" "$3"; }
note() { printf '           %s\n' "$@"; }
dry() { [ "$mode" = dry-run ]; }
has_systemd() { command -v systemctl >/dev/null 2>&1 && [ -d "$SYSROOT/run/systemd/system" ]; }

# --- probes (read-only; shared by the steps and --check) -------------------------------------

# NVML's total-energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ since the driver
# loaded, Volta and newer). nvidia-smi has no query field for it (checked with driver 580), so
# it is read through libnvidia-ml with python3's ctypes: no package needed. One line per GPU:
# "index,name,energy_mJ" or "index,name,unsupported (NVML error N)".
NVML_PROBE='
import ctypes, sys
try:
    nvml = ctypes.CDLL("libnvidia-ml.so.1")
except OSError as e:
    sys.exit("libnvidia-ml.so.1 cannot be loaded (%s)" % e)
if nvml.nvmlInit_v2() != 0:
    sys.exit("nvmlInit failed")
n = ctypes.c_uint()
nvml.nvmlDeviceGetCount_v2(ctypes.byref(n))
bad = 0
for i in range(n.value):
    h = ctypes.c_void_p()
    nvml.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(h))
    name = ctypes.create_string_buffer(96)
    nvml.nvmlDeviceGetName(h, name, 96)
    e = ctypes.c_ulonglong()
    rc = nvml.nvmlDeviceGetTotalEnergyConsumption(h, ctypes.byref(e))
    if rc == 0:
        print("%d,%s,%d" % (i, name.value.decode(), e.value))
    else:
        bad += 1
        print("%d,%s,unsupported (NVML error %d)" % (i, name.value.decode(), rc))
nvml.nvmlShutdown()
sys.exit(1 if bad or n.value == 0 else 0)
'

gpu_list() { nvidia-smi --query-gpu=index,name,driver_version,power.draw --format=csv,noheader 2>&1; }

missing_packages() {
  local p
  for p in "${DEB_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || printf '%s ' "$p"; done
}

vllm_installed_version() {
  local d
  for d in "$VENV"/lib/python3*/site-packages/vllm-*.dist-info; do
    [ -d "$d" ] || continue
    d=${d##*/vllm-}; printf '%s\n' "${d%.dist-info}"; return 0
  done
  return 1
}

# collect: "missing", "stale" (a source file of collect or its crates is newer), or "ok".
collect_state() {
  [ -x "$COLLECT_BIN" ] || { echo missing; return; }
  local srcs=() d newer
  for d in collect dataset endpoint; do
    [ -d "$ROOT/$d/src" ] && srcs+=("$ROOT/$d/src" "$ROOT/$d/Cargo.toml")
  done
  [ -f "$ROOT/Cargo.lock" ] && srcs+=("$ROOT/Cargo.toml" "$ROOT/Cargo.lock")
  if ((${#srcs[@]})); then
    newer=$(find "${srcs[@]}" -type f -newer "$COLLECT_BIN" -print 2>/dev/null | head -n 1)
    [ -z "$newer" ] || { echo stale; return; }
  fi
  echo ok
}

# The [[models]] of the config: "repo-or-path<TAB>revision" per model (path, else name;
# revision "main" when absent), in config order, each once.
config_models() {
  awk -v sq="'" '
    function val(line,   q, rest, i) {
      sub(/^[^=]*=[ \t]*/, "", line)
      q = substr(line, 1, 1)
      if (q == "\"" || q == sq) { rest = substr(line, 2); i = index(rest, q); return i ? substr(rest, 1, i - 1) : rest }
      sub(/[ \t#].*$/, "", line); return line
    }
    function flush() {
      if (inm && name != "") { k = (path != "" ? path : name) "\t" (rev != "" ? rev : "main"); if (!(k in seen)) { seen[k] = 1; print k } }
      inm = 0; name = ""; path = ""; rev = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*\[\[[ \t]*models[ \t]*\]\]/ { flush(); inm = 1; next }
    /^[ \t]*\[/ { flush(); next }
    inm && /^[ \t]*name[ \t]*=/ { name = val($0) }
    inm && /^[ \t]*path[ \t]*=/ { path = val($0) }
    inm && /^[ \t]*revision[ \t]*=/ { rev = val($0) }
    END { flush() }
  ' "$config"
}

# A model path is a Hugging Face repo id unless it looks like or is a local folder.
local_model_dir() {
  local p=$1
  case "$p" in
    /*) printf '%s\n' "$p"; return 0 ;;
    ./* | ../* | "~"*) printf '%s\n' "$(dirname "$config")/$p"; return 0 ;;
  esac
  if [ -d "$(dirname "$config")/$p" ]; then printf '%s\n' "$(dirname "$config")/$p"; return 0; fi
  [[ "$p" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$ ]] && return 1
  printf '%s\n' "$(dirname "$config")/$p"
}

# Is REPO at REVISION complete in the Hugging Face cache? Prints the snapshot folder. Complete
# means: the revision resolves to a snapshot, it has config.json and every safetensors shard its
# index names (or model.safetensors), and no download of the repo is half done.
hf_cached() {
  local repo=$1 rev=$2 dir sha snap f
  dir="$HF_HUB/models--${repo//\//--}"
  if [[ "$rev" =~ ^[0-9a-f]{40}$ ]]; then sha=$rev
  elif [ -f "$dir/refs/$rev" ]; then sha=$(cat "$dir/refs/$rev")
  else return 1; fi
  snap="$dir/snapshots/$sha"
  [ -f "$snap/config.json" ] || return 1
  for f in "$dir"/blobs/*.incomplete; do [ -e "$f" ] && return 1; done
  if [ -f "$snap/model.safetensors.index.json" ]; then
    for f in $(grep -o '"[^"]*\.safetensors"' "$snap/model.safetensors.index.json" | tr -d '"' | sort -u); do
      [ -f "$snap/$f" ] || return 1
    done
  elif ! compgen -G "$snap/*.safetensors" >/dev/null && ! compgen -G "$snap/*.bin" >/dev/null; then
    return 1
  fi
  printf '%s\n' "$snap"
}

hf_token_known() {
  [ -n "${HF_TOKEN:-}" ] || [ -s "${HF_TOKEN_PATH:-${HF_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/huggingface}/token}" ]
}

rapl_domains() {
  local d
  for d in "$POWERCAP"/intel-rapl:*; do [ -f "$d/energy_uj" ] && printf '%s\n' "$d"; done
  return 0
}

in_group() { id -nG "$1" 2>/dev/null | tr ' ' '\n' | grep -qx "$2"; }

# Can the agent read every RAPL counter? Prints how (or why not); non-zero when it cannot.
rapl_access() {
  local domains d g m how=""
  domains=$(rapl_domains)
  [ -n "$domains" ] || { echo "no RAPL domains under $POWERCAP (CPU energy cannot be measured here)"; return 1; }
  if [ "$(id -u)" -eq 0 ]; then echo "the agent runs as root"; return 0; fi
  if [ -f "$UNIT_FILE" ] && grep -q '^AmbientCapabilities=CAP_DAC_READ_SEARCH' "$UNIT_FILE"; then
    echo "CAP_DAC_READ_SEARCH in $UNIT_NAME"; return 0
  fi
  for d in $domains; do
    [ -r "$d/energy_uj" ] && continue
    g=$(stat -c %G "$d/energy_uj"); m=$(stat -c %A "$d/energy_uj")
    if [ "$g" = "$RAPL_GROUP" ] && [ "${m:4:1}" = r ] && in_group "$AGENT_USER" "$RAPL_GROUP"; then
      how="group $RAPL_GROUP (udev rule; a new login or the unit's SupplementaryGroups applies it)"
      continue
    fi
    echo "$d/energy_uj is $m $(stat -c %U:%G "$d/energy_uj"): not readable by $AGENT_USER"; return 1
  done
  echo "${how:-readable by $AGENT_USER}"
}

agent_running() {
  if has_systemd && [ -f "$UNIT_FILE" ]; then
    systemctl is-active --quiet "$UNIT_NAME" && { echo "systemd unit $UNIT_NAME active"; return 0; }
    echo "systemd unit $UNIT_NAME not active"; return 1
  fi
  local pid
  if [ -f "$PID_FILE" ] && pid=$(cat "$PID_FILE") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
     tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'collect.* agent'; then
    echo "pid $pid (nohup, log $AGENT_LOG)"; return 0
  fi
  echo "not running"; return 1
}

agent_healthy() { command -v curl >/dev/null 2>&1 && curl -fsS --max-time 3 "$HEALTH_URL" >/dev/null 2>&1; }

# --- the readiness table ---------------------------------------------------------------------
ROWS=()
NOT_READY=()
row() { ROWS+=("$1"$'\t'"$2"$'\t'"$3"); case "$2" in ok | skipped) ;; *) NOT_READY+=("$1") ;; esac; }

readiness() {
  ROWS=(); NOT_READY=()
  local out d v st how repo rev snap
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    row "NVIDIA driver" MISSING "nvidia-smi not found (install the NVIDIA driver and reboot)"
  elif out=$(gpu_list) && [ -n "$out" ]; then
    row "NVIDIA driver" ok "$(printf '%s\n' "$out" | wc -l | tr -d ' ') GPU(s): $(printf '%s' "$out" | head -n 1)"
  else
    row "NVIDIA driver" MISSING "nvidia-smi failed: $(printf '%s' "$out" | head -n 1)"
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    row "NVML energy counter" MISSING "python3 not found (reads the counter through libnvidia-ml)"
  elif out=$(python3 -c "$NVML_PROBE" 2>&1); then
    row "NVML energy counter" ok "$(printf '%s' "$out" | head -n 1 | awk -F, '{print "GPU" $1 " " $2 ": " $3 " mJ"}')"
  else
    row "NVML energy counter" MISSING "$(printf '%s' "$out" | tail -n 1)"
  fi
  if command -v dpkg >/dev/null 2>&1; then
    out=$(missing_packages)
    if [ -z "$out" ]; then row "Debian packages" ok "${DEB_PACKAGES[*]}"; else row "Debian packages" MISSING "$out"; fi
  else
    row "Debian packages" skipped "no dpkg (not Debian/Ubuntu): install ${DEB_PACKAGES[*]} yourself"
  fi
  d=$(rapl_domains | wc -l | tr -d ' ')
  if how=$(rapl_access); then
    row "RAPL counters" ok "$d domain(s): $how"
  elif [ "$rapl" = skip ]; then
    row "RAPL counters" skipped "--rapl skip: $how"
  else
    row "RAPL counters" MISSING "$how"
  fi
  if v=$(vllm_installed_version); then
    if [ "$v" = "$VLLM_VERSION" ]; then row "vLLM $VLLM_VERSION" ok "$VENV"; else row "vLLM $VLLM_VERSION" OUTDATED "vllm $v in $VENV"; fi
  elif [ -x "$VENV/bin/python" ]; then
    row "vLLM $VLLM_VERSION" MISSING "not installed in $VENV"
  else
    row "vLLM $VLLM_VERSION" MISSING "no virtual environment at $VENV"
  fi
  if [ -x "$VENV/bin/hf" ]; then
    row "Hugging Face client" ok "$VENV/bin/hf ($(hf_token_known && echo 'a token is set' || echo 'no token: gated repositories refuse downloads'))"
  else
    row "Hugging Face client" MISSING "no $VENV/bin/hf"
  fi
  while IFS=$'\t' read -r repo rev; do
    [ -n "$repo" ] || continue
    if d=$(local_model_dir "$repo"); then
      if [ -d "$d" ]; then row "weights $repo" ok "local folder $d"; else row "weights $repo" MISSING "local folder $d not found"; fi
    elif snap=$(hf_cached "$repo" "$rev"); then
      row "weights $repo" ok "@$rev: ${snap#"$HF_HUB"/}"
    else
      row "weights $repo" MISSING "@$rev: not (completely) in $HF_HUB"
    fi
  done < <(config_models)
  st=$(collect_state)
  case "$st" in
    ok) if "$COLLECT_BIN" agent --help >/dev/null 2>&1; then row collect ok "$COLLECT_BIN"
        else row collect OUTDATED "$COLLECT_BIN has no 'agent' subcommand"; fi ;;
    stale) row collect OUTDATED "$COLLECT_BIN is older than the sources in $ROOT" ;;
    *) row collect MISSING "no $COLLECT_BIN" ;;
  esac
  if [ -s "$TOKEN_FILE" ]; then
    v=$(stat -c %a "$TOKEN_FILE")
    if [ "$v" = 600 ]; then row "agent token file" ok "$TOKEN_FILE (mode 600)"; else row "agent token file" INSECURE "$TOKEN_FILE has mode $v, want 600"; fi
  else
    row "agent token file" MISSING "no $TOKEN_FILE"
  fi
  if how=$(agent_running); then
    if agent_healthy; then row agent ok "$how; $HEALTH_URL answers"; else row agent "NOT ANSWERING" "$how; $HEALTH_URL does not answer"; fi
  else
    row agent MISSING "$how ($HEALTH_URL)"
  fi
}

print_table() {
  local r label status detail
  printf '\nllm-energy testbed readiness (config %s)\n' "$config"
  printf '  %-46s %-14s %s\n' ITEM STATUS DETAIL
  for r in "${ROWS[@]}"; do
    IFS=$'\t' read -r label status detail <<<"$r"
    printf '  %-46s %-14s %s\n' "$label" "$status" "$detail"
  done
  if ((${#NOT_READY[@]})); then
    printf '\nnot ready: %s\n' "$(IFS=,; printf '%s' "${NOT_READY[*]}" | sed 's/,/, /g')"
    return 1
  fi
  printf '\nready: the orchestrator can run `collect --agent http://%s --agent-token-file <a copy of %s>`\n' "$listen" "$TOKEN_FILE"
}

if [ "$mode" = check ]; then
  readiness
  print_table
  exit $?
fi

# --- the steps -------------------------------------------------------------------------------
[ "$mode" = dry-run ] && printf '[dry-run] nothing is changed; config %s\n' "$config"
if [ "$mode" = run ] && [ "$rapl" = capability ] && [ "$(id -u)" -ne 0 ] && ! has_systemd; then
  die "--rapl capability needs systemd (AmbientCapabilities); this machine has none: use --rapl udev (the default)"
fi

# 1. The NVIDIA driver. Installing one needs a matching kernel module and a reboot, so this
#    only checks.
step_driver() {
  local what="check the NVIDIA driver" out
  todo 1 "$what" "nvidia-smi --query-gpu=index,name,driver_version,power.draw --format=csv,noheader"
  dry && return 0
  command -v nvidia-smi >/dev/null 2>&1 ||
    die "nvidia-smi not found: install the NVIDIA driver (Debian: nvidia-driver from non-free; Ubuntu: sudo ubuntu-drivers install), reboot, run this again"
  out=$(gpu_list) || die "nvidia-smi failed: $out"
  note "$out"
}

# 2. NVML's total-energy counter, which collect's nvml source reads for GPU energy.
step_energy() {
  local out
  todo 2 "check NVML's total-energy counter" "python3 -c '<nvmlDeviceGetTotalEnergyConsumption through ctypes>'"
  dry && return 0
  command -v python3 >/dev/null 2>&1 || die "python3 not found (Debian: sudo apt-get install python3)"
  out=$(python3 -c "$NVML_PROBE" 2>&1) ||
    die "NVML's total-energy counter is not available (it needs a Volta or newer GPU): $out"
  note "$(printf '%s\n' "$out" | awk -F, '{print "GPU" $1 " " $2 ": counter at " $3 " mJ"}')"
}

# 3. Debian packages.
step_packages() {
  local what="Debian packages" miss
  if ! command -v dpkg >/dev/null 2>&1; then
    printf '[%s] step 3: %s : skipped, no dpkg (install %s yourself)\n' "$(dry && echo dry-run || echo init_env)" "$what" "${DEB_PACKAGES[*]}"
    return 0
  fi
  miss=$(missing_packages)
  if [ -z "$miss" ]; then already 3 "$what" "installed (${DEB_PACKAGES[*]})"; return 0; fi
  # shellcheck disable=SC2086 # $miss is a list of package names
  todo 3 "$what" "$(shq "${SUDO[@]}" apt-get update) && $(shq "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $miss)"
  dry && return 0
  "${SUDO[@]}" apt-get update -qq
  # shellcheck disable=SC2086
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $miss
}

# 4. The virtual environment (vLLM pins many packages; it stays out of the system Python).
step_venv() {
  local what="Python virtual environment"
  if [ -x "$VENV/bin/python" ]; then already 4 "$what" "at $VENV"; return 0; fi
  todo 4 "$what" "$(shq python3 -m venv "$VENV")"
  dry && return 0
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
}

# 5. vLLM, pinned to the study's version, and the Hugging Face client (`hf`).
step_vllm() {
  local what="vLLM $VLLM_VERSION and the Hugging Face client" v
  if v=$(vllm_installed_version) && [ "$v" = "$VLLM_VERSION" ] && [ -x "$VENV/bin/hf" ]; then
    already 5 "$what" "installed in $VENV"; return 0
  fi
  todo 5 "$what" "$(shq "$VENV/bin/pip" install "vllm==$VLLM_VERSION" "$HF_HUB_REQUIREMENT")"
  dry && return 0
  "$VENV/bin/pip" install --quiet "vllm==$VLLM_VERSION" "$HF_HUB_REQUIREMENT"
}

# 6. collect, built from this checkout.
step_collect() {
  local what="build and install collect" st
  st=$(collect_state)
  if [ "$st" = ok ]; then already 6 "$what" "installed ($COLLECT_BIN, newer than its sources)"; return 0; fi
  todo 6 "$what" "$(shq cargo install --path "$ROOT/collect" --locked --force --root "$PREFIX")"
  command -v cargo >/dev/null 2>&1 || { dry && note "(cargo is missing: install Rust with rustup, https://rustup.rs)" && return 0
    die "cargo is missing: install Rust with rustup (https://rustup.rs), then run this again"; }
  dry && return 0
  cargo install --path "$ROOT/collect" --locked --force --root "$PREFIX"
  case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) note "($PREFIX/bin is not on your PATH; the agent is started with its full path)" ;; esac
}

# 7. The weights of the config's models, into the Hugging Face cache that vLLM reads. The
#    original/ folders (consolidated PyTorch checkpoints, which vLLM does not read) are left out.
step_models() {
  local repo rev d snap n=0 warned=0
  while IFS=$'\t' read -r repo rev; do
    [ -n "$repo" ] || continue
    n=$((n + 1))
    if d=$(local_model_dir "$repo"); then
      if [ -d "$d" ]; then already 7 "weights of $repo" "a local folder ($d)"; continue; fi
      dry && { todo 7 "weights of $repo" "(local folder $d is missing: put the model there)"; continue; }
      die "model path $repo is a local folder that does not exist ($d)"
    fi
    if snap=$(hf_cached "$repo" "$rev"); then already 7 "weights of $repo@$rev" "in the cache ($snap)"; continue; fi
    todo 7 "weights of $repo@$rev" "$(shq "$VENV/bin/hf" download "$repo" --revision "$rev" --exclude 'original/*')"
    if [ "$warned" = 0 ] && ! hf_token_known; then
      warn "HF_TOKEN is not set and no 'hf auth login' token exists: gated repositories (meta-llama/*) refuse the download; accept the licence on huggingface.co and export HF_TOKEN"
      warned=1
    fi
    dry && continue
    "$VENV/bin/hf" download "$repo" --revision "$rev" --exclude 'original/*' >/dev/null
    hf_cached "$repo" "$rev" >/dev/null || die "$repo@$rev is still incomplete in $HF_HUB after hf download"
  done < <(config_models)
  [ "$n" -gt 0 ] || warn "the config $config names no [[models]]"
}

# 8. Read access to the RAPL energy counters.
#
# Since CVE-2020-8694 ("Platypus": the energy counters leak what other processes compute, e.g.
# key bits) the kernel makes energy_uj readable by root only. The agent should not run as root
# (it starts model servers), so either:
#   udev        a udev rule gives the counters to the group llm-energy (mode 0440) at every boot,
#               and the agent's user joins the group. The side channel opens to that group only.
#   capability  the agent's systemd unit gets CAP_DAC_READ_SEARCH as an ambient capability. No
#               group, no rule; but the capability lets the agent, and the model servers it
#               starts (ambient capabilities are inherited), read every file on the machine.
RAPL_RULE_TEXT="# Written by llm-energy's init_env.sh (--rapl udev): the RAPL energy counters, root-only
# since CVE-2020-8694 (a power side channel), become readable by the group $RAPL_GROUP.
ACTION==\"add|change\", SUBSYSTEM==\"powercap\", KERNEL==\"intel-rapl:*\", RUN+=\"/bin/chgrp $RAPL_GROUP /sys%p/energy_uj\", RUN+=\"/bin/chmod g+r /sys%p/energy_uj\""

step_rapl() {
  local what="RAPL read access" domains how tmp
  domains=$(rapl_domains)
  case "$rapl" in
    skip)
      printf '[%s] step 8: %s : skipped (--rapl skip): the counters stay root-only\n' "$(dry && echo dry-run || echo init_env)" "$what"
      return 0 ;;
    capability)
      if [ "$(id -u)" -eq 0 ]; then
        printf '[%s] step 8: %s : ok, already readable: the agent runs as root, no capability needed\n' "$(dry && echo dry-run || echo init_env)" "$what"
        return 0
      fi
      if has_systemd || dry; then
        printf '[%s] step 8: %s : by capability: step 10 gives %s AmbientCapabilities=CAP_DAC_READ_SEARCH\n' "$(dry && echo dry-run || echo init_env)" "$what" "$UNIT_NAME"
        note "trade-off: no group and no udev rule, but the agent and the model servers it starts" \
             "can read every file on this machine (CVE-2020-8694 made the counters root-only)"
        has_systemd || note "(this machine runs no systemd: a real run stops here; use --rapl udev)"
        return 0
      fi
      die "--rapl capability needs systemd (AmbientCapabilities); this machine has none: use --rapl udev, or run the agent as root" ;;
  esac
  note "RAPL counters are root-only since CVE-2020-8694 (a power side channel). The udev rule" \
       "gives read access to the group $RAPL_GROUP only; --rapl capability grants the agent" \
       "CAP_DAC_READ_SEARCH instead (any file readable), --rapl skip leaves them root-only."
  [ -n "$domains" ] || note "(no RAPL domains under $POWERCAP on this machine: the rule is installed for when there are)"
  if getent group "$RAPL_GROUP" >/dev/null 2>&1; then
    already 8 "group $RAPL_GROUP" "exists"
  else
    todo 8 "create the group $RAPL_GROUP" "$(shq "${SUDO[@]}" groupadd --system "$RAPL_GROUP")"
    dry || "${SUDO[@]}" groupadd --system "$RAPL_GROUP"
  fi
  if in_group "$AGENT_USER" "$RAPL_GROUP"; then
    already 8 "$AGENT_USER in $RAPL_GROUP" "a member"
  else
    todo 8 "add $AGENT_USER to $RAPL_GROUP" "$(shq "${SUDO[@]}" usermod -aG "$RAPL_GROUP" "$AGENT_USER")"
    if ! dry; then
      "${SUDO[@]}" usermod -aG "$RAPL_GROUP" "$AGENT_USER"
      note "(your shell gets the group at the next login; the systemd unit gets it at once)"
    fi
  fi
  if [ -f "$UDEV_RULE" ] && [ "$(cat "$UDEV_RULE")" = "$RAPL_RULE_TEXT" ]; then
    already 8 "udev rule" "installed ($UDEV_RULE)"
  else
    todo 8 "udev rule" "write $UDEV_RULE ($(shq "${SUDO[@]}" install -m 0644 RULE "$UDEV_RULE"))"
    if ! dry; then
      tmp=$(mktemp)
      printf '%s\n' "$RAPL_RULE_TEXT" >"$tmp"
      "${SUDO[@]}" mkdir -p "$(dirname "$UDEV_RULE")"
      "${SUDO[@]}" install -m 0644 "$tmp" "$UDEV_RULE"
      rm -f "$tmp"
    fi
  fi
  [ -n "$domains" ] || return 0
  if how=$(rapl_access); then already 8 "RAPL counters readable" "so: $how"; return 0; fi
  if command -v udevadm >/dev/null 2>&1; then
    todo 8 "apply the rule now" "$(shq "${SUDO[@]}" udevadm control --reload-rules) && $(shq "${SUDO[@]}" udevadm trigger --action=change --subsystem-match=powercap) && $(shq "${SUDO[@]}" udevadm settle)"
    dry && return 0
    "${SUDO[@]}" udevadm control --reload-rules
    "${SUDO[@]}" udevadm trigger --action=change --subsystem-match=powercap
    "${SUDO[@]}" udevadm settle || true
  else
    todo 8 "apply the rule now (no udevadm)" "$(shq "${SUDO[@]}" chgrp "$RAPL_GROUP" "$POWERCAP/intel-rapl:*/energy_uj") && $(shq "${SUDO[@]}" chmod g+r "$POWERCAP/intel-rapl:*/energy_uj")"
    dry && return 0
    local d
    for d in $domains; do
      "${SUDO[@]}" chgrp "$RAPL_GROUP" "$d/energy_uj"
      "${SUDO[@]}" chmod g+r "$d/energy_uj"
    done
  fi
}

# 9. The agent's bearer token: 32 random bytes, hex, mode 0600, never printed, kept once written
#    (the orchestrator holds a copy).
step_token() {
  local what="agent token file" m tmp
  if [ -s "$TOKEN_FILE" ]; then
    m=$(stat -c %a "$TOKEN_FILE")
    if [ "$m" = 600 ]; then already 9 "$what" "there ($TOKEN_FILE, mode 600; kept)"; return 0; fi
    todo 9 "$what" "$(shq chmod 600 "$TOKEN_FILE") (it has mode $m)"
    dry || chmod 600 "$TOKEN_FILE"
    return 0
  fi
  todo 9 "$what" "write $TOKEN_FILE: 32 random bytes as hex (openssl rand -hex 32, else od of /dev/urandom), mode 0600, not printed"
  dry && return 0
  mkdir -p "$LLM_ENERGY_HOME"
  chmod 700 "$LLM_ENERGY_HOME"
  tmp=$(umask 077 && mktemp "$LLM_ENERGY_HOME/.agent.token.XXXXXX")
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex 32 >"$tmp"
  else
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$tmp"
    printf '\n' >>"$tmp"
  fi
  [ "$(tr -d '\n' <"$tmp" | wc -c)" -eq 64 ] || { rm -f "$tmp"; die "could not generate a token"; }
  chmod 600 "$tmp"
  mv "$tmp" "$TOKEN_FILE"
  note "(copy it to the orchestrator over SSH for --agent-token-file; it is not shown here)"
}

# A value for a systemd unit line, double-quoted; in Exec lines $ must be doubled as well.
sd_quote() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//%/%%}
  [ "${2:-}" = exec ] && s=${s//\$/\$\$}
  printf '"%s"' "$s"
}

agent_argv() {
  printf '%s\0' "$COLLECT_BIN" agent --listen "$listen" --config "$config" --token-file "$TOKEN_FILE" --out "$AGENT_OUT"
}

unit_text() {
  local a exec="" v
  while IFS= read -r -d '' a; do exec+="$(sd_quote "$a" exec) "; done < <(agent_argv)
  cat <<EOF
# Written by llm-energy's init_env.sh; run it again to regenerate (edits here are overwritten).
[Unit]
Description=llm-energy measurement agent (collect agent, docs/agent.md)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
EOF
  if [ "$(id -u)" -ne 0 ]; then
    printf 'User=%s\n' "$AGENT_USER"
    case "$rapl" in
      udev) printf 'SupplementaryGroups=%s\n' "$RAPL_GROUP" ;;
      capability) printf 'AmbientCapabilities=CAP_DAC_READ_SEARCH\nCapabilityBoundingSet=CAP_DAC_READ_SEARCH\n' ;;
    esac
  fi
  printf 'WorkingDirectory=%s\n' "${LLM_ENERGY_HOME//%/%%}"
  printf 'Environment=%s\n' "$(sd_quote "PATH=$AGENT_PATH")"
  # The weights were downloaded by step 7: the model servers read the cache and stay offline.
  printf 'Environment=HF_HUB_OFFLINE=1\n'
  for v in HF_HOME HF_HUB_CACHE; do
    [ -n "${!v:-}" ] && printf 'Environment=%s\n' "$(sd_quote "$v=${!v}")"
  done
  printf 'EnvironmentFile=-%s\n' "${LLM_ENERGY_HOME//%/%%}/agent.env"
  printf 'ExecStart=%s\n' "${exec% }"
  cat <<EOF
Restart=on-failure
RestartSec=5
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
EOF
}

# 10. The agent: a systemd system unit where systemd runs, else a nohup background process.
step_agent() {
  local what="start the agent" tmp changed=0 how a nohup_bin
  local argv=()
  while IFS= read -r -d '' a; do argv+=("$a"); done < <(agent_argv)
  if has_systemd; then
    if [ -f "$UNIT_FILE" ] && [ "$(cat "$UNIT_FILE")" = "$(unit_text)" ]; then
      already 10 "systemd unit" "installed ($UNIT_FILE)"
    else
      todo 10 "systemd unit" "write $UNIT_FILE (ExecStart=$(shq "${argv[@]}")) && $(shq "${SUDO[@]}" systemctl daemon-reload)"
      if ! dry; then
        mkdir -p "$AGENT_OUT"
        tmp=$(mktemp)
        unit_text >"$tmp"
        "${SUDO[@]}" mkdir -p "$(dirname "$UNIT_FILE")"
        "${SUDO[@]}" install -m 0644 "$tmp" "$UNIT_FILE"
        rm -f "$tmp"
        "${SUDO[@]}" systemctl daemon-reload
      fi
      changed=1
    fi
    if systemctl is-enabled --quiet "$UNIT_NAME" 2>/dev/null; then
      already 10 "enable $UNIT_NAME" "enabled"
    else
      todo 10 "enable $UNIT_NAME" "$(shq "${SUDO[@]}" systemctl enable "$UNIT_NAME")"
      dry || "${SUDO[@]}" systemctl enable --quiet "$UNIT_NAME"
    fi
    if systemctl is-active --quiet "$UNIT_NAME" 2>/dev/null; then
      if [ "$changed" = 1 ]; then
        todo 10 "$what" "$(shq "${SUDO[@]}" systemctl restart "$UNIT_NAME") (the unit changed)"
        dry || "${SUDO[@]}" systemctl restart "$UNIT_NAME"
      else
        already 10 "$what" "running (systemd unit $UNIT_NAME active)"
      fi
    else
      todo 10 "$what" "$(shq "${SUDO[@]}" systemctl start "$UNIT_NAME")"
      dry || "${SUDO[@]}" systemctl start "$UNIT_NAME"
    fi
    return 0
  fi
  if [ "$rapl" = capability ] && [ "$(id -u)" -ne 0 ] && ! dry; then
    die "--rapl capability needs systemd; this machine has none"
  fi
  if how=$(agent_running); then already 10 "$what" "running ($how)"; return 0; fi
  todo 10 "$what" "nohup $(shq "${argv[@]}") >>$(shq "$AGENT_LOG") 2>&1 & (pid in $(shq "$PID_FILE"); no systemd here)"
  dry && return 0
  mkdir -p "$LLM_ENERGY_HOME" "$AGENT_OUT"
  if [ "$rapl" = udev ] && [ "$(id -u)" -ne 0 ] && ! id -nG | tr ' ' '\n' | grep -qx "$RAPL_GROUP"; then
    warn "this shell is not yet in the group $RAPL_GROUP: the agent cannot read RAPL until you log in again and rerun (stop it first: kill \$(cat $PID_FILE))"
  fi
  nohup_bin=$(command -v nohup) || die "nohup not found"
  PATH=$AGENT_PATH HF_HUB_OFFLINE=1 "$nohup_bin" "${argv[@]}" >>"$AGENT_LOG" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$PID_FILE"
  note "(pid $! in $PID_FILE, log $AGENT_LOG; stop it with: kill \$(cat $PID_FILE))"
}

# 11. The agent answers, and the readiness table.
step_health() {
  local wait=${LLM_ENERGY_AGENT_WAIT_S:-60} t=0
  todo 11 "the agent answers" "curl -fsS $HEALTH_URL; then the readiness table (./init_env.sh --check)"
  dry && return 0
  until agent_healthy; do
    if [ "$t" -ge "$wait" ]; then
      if has_systemd; then warn "the agent does not answer $HEALTH_URL after ${wait}s: see journalctl -u $UNIT_NAME"
      else warn "the agent does not answer $HEALTH_URL after ${wait}s: see $AGENT_LOG"; fi
      break
    fi
    sleep 1; t=$((t + 1))
  done
}

step_driver
step_energy
step_packages
step_venv
step_vllm
step_collect
step_models
step_rapl
step_token
step_agent
step_health

if dry; then
  printf '[dry-run] done: nothing was changed\n'
  exit 0
fi
readiness
print_table
