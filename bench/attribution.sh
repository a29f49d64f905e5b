#!/usr/bin/env bash
# The cost of the per-request energy attribution at serving scale: one trial of 1,000
# requests x 500 content chunks (about 50 in flight), sampled every 100 ms (release build,
# analyze/examples/attribution.rs). Prints the median of 15 rounds; the target is 50 ms.
#
#   bench/attribution.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --locked --quiet -p analyze --example attribution
