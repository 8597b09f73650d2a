#!/usr/bin/env bash
# Soak run (not part of scripts/test.sh): Tessera (release build) on the
# embedded default, a mix of 90% /me, 9% refresh and 1% login held at half
# its measured capacity for SOAK_SECS (default 600); prints 5xx answers,
# latency and RSS by minute, and exits 1 on any 5xx. See docs/benchmarks.md.
#
#   scripts/soak.sh                 # 10 minutes
#   SOAK_SECS=60 scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p tessera-server --example proof >&2
exec ./target/release/examples/proof soak
