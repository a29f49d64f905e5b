#!/bin/sh
# collect's added time per request over a bare HTTP client, against the in-process fake
# server (target: at most 1 ms). Builds in the release (bench) profile; see
# collect/benches/request_overhead.rs for what is measured.
set -eu
cd "$(dirname "$0")/.."
exec cargo bench -p collect --bench request_overhead "$@"
