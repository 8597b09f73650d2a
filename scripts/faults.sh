#!/usr/bin/env bash
# Fault run (not part of scripts/test.sh): Tessera (release build) on private
# MariaDB, Redis (AOF) and an SMTP sink under a mixed load, while Redis, then
# MariaDB, then the sink are killed and restarted. Prints answers by phase and
# class, recovery times, revoked tokens accepted and mails lost (both must be
# 0), and exits 1 otherwise. About two minutes. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_binaries
cargo build --release --locked -p tessera-server --example proof >&2
exec ./target/release/examples/proof faults
