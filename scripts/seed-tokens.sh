#!/usr/bin/env bash
# Tokens the seeds' own Flask routes accept (issue 13, item 12), checked with
# Flask-JWT-Extended itself: starts Tessera (debug build, embedded default)
# with a known JWT_SECRET_KEY and audience, logs in through /Auth/Login,
# /Admin/Login, /api/auth/login and /api/v1/auth/login, and has a tiny Flask
# app with routes shaped like seed 001's (dream) and seed 003's (SH-Drug)
# accept each token and read the identity its seed expects
# (scripts/seed_tokens.py). Flask and Flask-JWT-Extended are installed from
# PyPI into target/seed-tokens-venv when missing.
#
#   scripts/seed-tokens.sh
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")/.."

venv=target/seed-tokens-venv
if ! "$venv/bin/python" -c 'import flask, flask_jwt_extended' 2>/dev/null; then
    echo "[seed-tokens] installing flask and flask-jwt-extended 4 from PyPI into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        'flask>=3,<4' 'flask-jwt-extended>=4.6,<5' >&2
fi

# --workspace: the feature set `cargo test --workspace` built with, so the
# binary is not rebuilt with another one (a `-p` selection unifies fewer
# features and recompiles much of the tree).
cargo build --quiet --locked --workspace --bin tessera
bin=target/debug/tessera

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export HOST=127.0.0.1 PORT=$port TESSERA_VAR_DIR=$work/var RUST_LOG=warn \
    ARGON2_MEMORY_KIB=64 ARGON2_ITERATIONS=1 \
    JWT_SECRET_KEY=$secret JWT_AUDIENCE=seed-routes JWT_ISSUER=tessera-seed-check
"$bin" >"$work/tessera.log" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 200); do curl -fs "$base/health" >/dev/null && break; sleep 0.05; done

"$bin" user create --username root --email root@example.com --role super_admin \
    --password 'Seed-Admin-Pass-1' >/dev/null
"$bin" user create --username alice --email alice@example.com --role unauth \
    --password 'Seed-User-Pass-1' >/dev/null

status=0
"$venv/bin/python" scripts/seed_tokens.py "$base" || status=1
if [ $status -ne 0 ]; then
    echo "[seed-tokens] server log:" >&2
    tail -n 40 "$work/tessera.log" >&2
fi
exit $status
