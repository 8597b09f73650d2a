#!/usr/bin/env bash
# Schema-driven fuzzing: schemathesis generates requests for every operation
# of /openapi.json on a running instance (embedded default, debug build) and
# fails on any server error or any answer outside the document (status,
# content type, headers, body schema).
#
#   scripts/schemathesis.sh                 # as CI runs it (about 3 minutes)
#   MAX_EXAMPLES=100 MAX_TIME=600 scripts/schemathesis.sh
#
# Two passes: without credentials over every operation, then with a
# super_admin's bearer token over every operation except those that would
# end that token's session (logout, logout-all, revoke-sessions), so the
# fuzzer reaches past authentication. The checks that judge the *request*
# schema (positive/negative data acceptance, ignored auth, missing header)
# run on /api/auth, /api/v1 and /api/admin, whose request schemas carry the
# rules the server enforces; scripts/schemathesis.toml leaves them out for
# seed 001's dialect (HTTP 200 for every refusal, by contract), operations
# routes, and each operation with a rule JSON Schema cannot state (password
# strength, a code that must match the one mailed), naming that rule.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES=${MAX_EXAMPLES:-15}
MAX_TIME=${MAX_TIME:-75}
# Which checks run where: scripts/schemathesis.toml.
CONFIG=$PWD/scripts/schemathesis.toml

if ! command -v st >/dev/null; then
    echo "[schemathesis] installing schemathesis 4 from PyPI" >&2
    python3 -m pip install --quiet --disable-pip-version-check 'schemathesis>=4.32,<5' >&2
fi
st=$(command -v st || echo "$(python3 -m site --user-base)/bin/st")

# --workspace: the feature set `cargo test --workspace` built with, so the
# binary is not rebuilt with another one (a `-p` selection unifies fewer
# features and recompiles much of the tree).
cargo build --quiet --locked --workspace --bin tessera
bin=target/debug/tessera

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export HOST=127.0.0.1 PORT=$port TESSERA_VAR_DIR=$work/var RUST_LOG=warn \
    ARGON2_MEMORY_KIB=64 ARGON2_ITERATIONS=1 \
    RATE_LIMIT_LOGIN=off RATE_LIMIT_REGISTER=off RATE_LIMIT_REFRESH=off \
    RATE_LIMIT_SEND_CODE=off RATE_LIMIT_VERIFY_CODE=off RATE_LIMIT_CEREMONY=off \
    LOGIN_FREE_FAILURES=1000000 LOGIN_FREE_FAILURES_PER_IP=1000000 PASSWORDLESS_LOGIN=true
"$bin" >"$work/tessera.log" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 200); do curl -fs "$base/health" >/dev/null && break; sleep 0.05; done

# Something for the fuzzer to find: an administrator and two users.
"$bin" user create --username root --email root@example.com --role super_admin --password 'Fuzz-Admin-Pass-1' >/dev/null
for u in alice bob; do
    curl -fs -X POST "$base/api/auth/register" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$u\",\"email\":\"$u@example.com\",\"password\":\"Fuzz-User-Pass-1\"}" >/dev/null
done
token=$(curl -fs -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"root","password":"Fuzz-Admin-Pass-1"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

run() {
    (cd "$work" && "$st" --config-file "$CONFIG" run "$base/openapi.json" \
        --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --request-timeout 10 \
        --generation-database none --no-color --warnings off "$@")
}
status=0
echo "==> schemathesis: every operation, no credentials"
run || status=1
echo "==> schemathesis: every operation but logout, as a super_admin"
run -H "Authorization: Bearer $token" \
    --exclude-path-regex '^/api/auth/logout|/revoke-sessions$' || status=1
if grep -q 'panicked' "$work/tessera.log"; then
    echo "[schemathesis] the server log has a panic:" >&2
    grep -A5 panicked "$work/tessera.log" >&2
    status=1
fi
exit $status
