#!/usr/bin/env bash
# Benchmarks the release binary on MySQL + Redis with wrk and prints, from one
# run: requests/s and p50/p99 latency of GET /health (the reference),
# GET /api/auth/me and POST /api/auth/refresh, each also as a share of /health;
# POST /api/auth/login beside the hash-bound limit (CPUs ÷ one argon2id hash's
# time, measured by `tessera calibrate` in the same run); and /me's latency
# while a login flood saturates the hasher.
#
#   bench/run.sh                 # defaults: 10 s per endpoint, 64 connections, 2 threads
#   DURATION=30s CONNECTIONS=128 bench/run.sh
#
# MariaDB and Redis come from scripts/services.sh (shared ones when reachable,
# private ones otherwise). wrk is installed from Debian's packages if missing.
# Results are also written to bench/results/<timestamp>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}

source scripts/services.sh
command -v wrk >/dev/null || apt_install wrk

cargo build --release --locked -p tessera-server >&2

# The hash-bound limit: CPUs ÷ one hash with the default parameters, timed
# before anything else runs (median of seven, after a warm-up hash).
hash_ms=$(TESSERA_VAR_DIR=$(mktemp -d) ./target/release/tessera calibrate --target-ms 1 | awk '/ms per hash/ && /m=/ {print $5; exit}')
bound=$(python3 -c "print(f'{$(nproc) * 1000 / $hash_ms:.0f}')")

work=$(mktemp -d)
db="tessera_bench_$(date +%s)"
port=$(free_port)
base="http://127.0.0.1:$port"
secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')

cleanup_bench() {
    [ -n "${tessera_pid:-}" ] && kill "$tessera_pid" 2>/dev/null && wait "$tessera_pid" 2>/dev/null
    local hp=${TEST_DATABASE_URL#mysql://}; hp=${hp#*@}; hp=${hp%%/*}
    mariadb --protocol=tcp -h "${hp%:*}" -P "${hp##*:}" -uroot -e "DROP DATABASE IF EXISTS \`$db\`" 2>/dev/null || true
    local r=${TEST_REDIS_URL#redis://}; r=${r%%/*}
    redis-cli -h "${r%:*}" -p "${r##*:}" --scan --pattern "tessera-bench:$db:*" | xargs -r -n 500 redis-cli -h "${r%:*}" -p "${r##*:}" del >/dev/null
    rm -rf "$work"
    svc_cleanup
}
trap cleanup_bench EXIT

TESSERA_ENV=production JWT_SECRET_KEY="$secret" HOST=127.0.0.1 PORT="$port" \
DATABASE_URL="${TEST_DATABASE_URL%/}/$db" REDIS_URL="$TEST_REDIS_URL" REDIS_KEY_PREFIX="tessera-bench:$db:" \
DATABASE_MAX_CONNECTIONS=16 RUST_LOG=warn TESSERA_VAR_DIR="$work/var" \
RATE_LIMIT_LOGIN=off RATE_LIMIT_REFRESH=off \
    ./target/release/tessera >"$work/tessera.log" 2>&1 &
tessera_pid=$!
for _ in $(seq 1 200); do curl -fs "$base/health" >/dev/null && break; sleep 0.05; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
curl -fs -X POST "$base/api/auth/register" -H 'Content-Type: application/json' \
    -d '{"username":"bench","email":"bench@example.com","password":"wrk-load-Pass-9"}' >/dev/null
login() {
    curl -fs -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
        -d '{"username":"bench","password":"wrk-load-Pass-9"}'
}
access=$(login | json '["access_token"]')
# One token per connection, plus one: wrk calls request() once per thread to
# check the script before the run, which takes a token that is never sent.
per_thread=$(( (CONNECTIONS + THREADS - 1) / THREADS + 1 ))
for t in $(seq 1 "$THREADS"); do
    for _ in $(seq 1 "$per_thread"); do login | json '["refresh_token"]'; done >"$work/tokens-$t.txt"
done

results=()
run() { # name, wrk args...
    local name=$1; shift
    local out; out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
    echo "$out" >"$work/$name.wrk"
    local rps p50 p99 non2xx fails
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
    fails=$(awk '/refresh-failures/ {print $2}' <<<"$out"); fails=${fails:-0}
    results+=("$name $rps $p50 $p99 $non2xx")
}

run health "$base/health"
run me -H "Authorization: Bearer $access" "$base/api/auth/me"
TOKENS_DIR=$work run refresh -s bench/refresh.lua "$base/api/auth/refresh"
run login -s bench/login.lua "$base/api/auth/login"

# /me while a login flood keeps every CPU hashing.
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/login.lua "$base/api/auth/login" >"$work/flood.wrk" &
flood_pid=$!
sleep 1
run me_flood -H "Authorization: Bearer $access" "$base/api/auth/me"
wait "$flood_pid" || true


health_rps=$(awk '{print $2}' <<<"${results[0]}")
report=$(
    echo "tessera $(./target/release/tessera --version | awk '{print $2}') on MySQL + Redis; $(nproc) CPUs; wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
    echo "one argon2id hash (m=19456 KiB, t=2, p=1): $hash_ms ms; hash-bound login limit $(nproc) CPUs / $hash_ms ms = $bound/s"
    printf '%-26s %12s %10s %10s %9s %12s\n' endpoint "requests/s" p50 p99 non-2xx "of /health"
    for r in "${results[@]}"; do
        read -r name rps p50 p99 non2xx <<<"$r"
        case $name in health) label="GET /health";; me) label="GET /api/auth/me";; refresh) label="POST /api/auth/refresh";;
            login) label="POST /api/auth/login";; me_flood) label="GET /me, login flood";; esac
        if [ "$name" = login ]; then
            share=$(python3 -c "print(f'{$rps / $bound * 100:.0f}% of {$bound}/s')")
        else
            share=$(python3 -c "print(f'{$rps / $health_rps * 100:.0f}%')")
        fi
        printf '%-26s %12s %10s %10s %9s %12s\n' "$label" "$rps" "$p50" "$p99" "$non2xx" "$share"
    done
)
echo "$report"
mkdir -p bench/results
echo "$report" >"bench/results/$(date +%Y%m%d-%H%M%S).txt"
