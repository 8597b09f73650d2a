#!/usr/bin/env bash
# Runs every test of the workspace: formatting, lints, unit, property,
# contract, adapter, HTTP, concurrency and fault tests, then schemathesis
# against /openapi.json (scripts/schemathesis.sh; installs it from PyPI) and
# the seeds' Flask-JWT-Extended against Tessera's tokens
# (scripts/seed-tokens.sh; installs Flask from PyPI into target/), and the
# hosted pages in Chromium (scripts/browser.sh; installs Debian's chromium and
# playwright-core and axe-core from the npm registry when missing).
#
# Needs the Rust toolchain named in rust-toolchain.toml. MariaDB and Redis are
# used when reachable on loopback, otherwise started privately; Debian's
# packages are installed when their binaries are missing (see scripts/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rustdoc: the embedding API's documentation has no broken links"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --locked -p tessera-domain -p tessera-testkit
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --locked -p tessera-embed --all-features

step "test services"
# shellcheck source=scripts/services.sh
source scripts/services.sh
sweep_test_data

step "cargo test (HTTP suite on SQLite)"
cargo test --workspace --locked --no-fail-fast

step "cargo test: the HTTP suite again, on MySQL + Redis"
# Every cargo call below keeps the workspace's feature set (--workspace, no
# -p selection): a narrower selection unifies other features and rebuilds
# much of the tree, minutes on a clean clone.
TESSERA_TEST_STORES=mysql-redis cargo test --workspace --locked --test api

step "schemathesis: fuzzing every operation of /openapi.json"
scripts/schemathesis.sh

step "browser: the hosted pages in Chromium (playwright-core, axe-core)"
scripts/browser.sh

step "seed tokens: Flask-JWT-Extended accepts every dialect's tokens"
scripts/seed-tokens.sh

step "examples: embedding (memory, SQLite, MySQL, axum, actix-web) build; memory, SQLite and MySQL run"
# The workspace enables every feature of tessera-embed (the server uses them all).
cargo build --quiet --locked --workspace --examples
examples="${CARGO_TARGET_DIR:-target}/debug/examples"
"$examples/memory"
"$examples/sqlite"
# The MySQL example against the test server, in a database the sweep drops.
mariadb --protocol=tcp -h "$(mysql_host)" -P "$(mysql_port)" -uroot -e 'CREATE DATABASE IF NOT EXISTS tessera_test_example'
env -u REDIS_URL DATABASE_URL="${TEST_DATABASE_URL%/}/tessera_test_example" \
    "$examples/mysql"
# The smallest embedding (SQLite alone) still compiles.
cargo check --quiet --locked -p tessera-embed --no-default-features --features sqlite

sweep_test_data
