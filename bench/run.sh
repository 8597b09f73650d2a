#!/usr/bin/env bash
# The benchmark suite: builds the release binary, starts it on the embedded
# default (SQLite, no Redis) and on MySQL + Redis, and measures with wrk —
# the median of RUNS runs of requests/s, p50 and p99 — for
#   GET /health (the reference), GET /api/auth/me, POST /api/auth/refresh,
#   POST /api/auth/login, POST /api/auth/register, and /me during a login flood;
# plus the server's RSS when idle and its peak under that load. Each figure is
# printed beside its reference from the same run (/me as a share of /health,
# login and register as a share of the hash-bound limit = CPUs ÷ one argon2id
# hash's time, measured here first) and beside issue 8's target.
#
#   bench/run.sh                                   # 10 s per run, 3 runs, both stores
#   DURATION=5s RUNS=1 STORES=embedded bench/run.sh
#   CONNECTIONS=128 THREADS=2 bench/run.sh
#
# MariaDB and Redis come from scripts/services.sh (the machine's when they
# answer, private ones otherwise); wrk is installed from Debian if missing.
# The report is also written to bench/results/<timestamp>.txt (not committed).
# The criterion benches (JWT, argon2id, SM3) are separate:
#   cargo bench -p tessera-crypto
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
STORES=${STORES:-embedded mysql-redis}

source scripts/services.sh
command -v wrk >/dev/null || apt_install wrk

cargo build --release --locked -p tessera-server >&2
bin=./target/release/tessera
cpus=$(nproc)

# The hash-bound limit: CPUs ÷ one hash with the default parameters, timed
# before anything else runs (median of seven, after a warm-up hash).
# Also the hashes/s with every CPU hashing at once, which is the real ceiling
# where concurrent hashes share a core or memory bandwidth.
calibration=$(TESSERA_VAR_DIR=$(mktemp -d) $bin calibrate --target-ms 1)
hash_ms=$(awk '/ms per hash/ && /m=/ {print $5; exit}' <<<"$calibration")
parallel=$(awk '/CPUs hashing/ {print $(NF-1); exit}' <<<"$calibration")
bound=$(python3 -c "print(f'{$cpus * 1000 / $hash_ms:.0f}')")

work=$(mktemp -d)
pids=()
cleanup_bench() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if [ -n "${db:-}" ]; then
        local hp=${TEST_DATABASE_URL#mysql://}; hp=${hp#*@}; hp=${hp%%/*}
        mariadb --protocol=tcp -h "${hp%:*}" -P "${hp##*:}" -uroot -e "DROP DATABASE IF EXISTS \`$db\`" 2>/dev/null || true
        local r=${TEST_REDIS_URL#redis://}; r=${r%%/*}
        redis_del_matching "${r%:*}" "${r##*:}" "tessera-bench:$db:*"
    fi
    rm -rf "$work"
    svc_cleanup
}
trap cleanup_bench EXIT

rss_kib() { awk -v k="$2" '$1==k":" {print $2}' "/proc/$1/status"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
median() { python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
# wrk latency ("812.00us", "3.2ms", "1.01s") in milliseconds.
to_ms() { python3 -c "
import re, sys
n, u = re.match(r'([0-9.]+)([a-z]+)', sys.argv[1]).groups()
print(float(n) * {'us': 0.001, 'ms': 1, 's': 1000, 'm': 60000}[u])" "$1"; }
calc() { python3 -c "print($1)"; }

report=()
line() { report+=("$(printf "$@")"); }

bench_store() { # store
    local store=$1 port base secret env_store
    port=$(free_port); base="http://127.0.0.1:$port"
    secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    local common=(TESSERA_ENV=production JWT_SECRET_KEY="$secret" HOST=127.0.0.1 PORT="$port"
        RUST_LOG=warn TESSERA_VAR_DIR="$work/$store/var"
        RATE_LIMIT_LOGIN=off RATE_LIMIT_REFRESH=off RATE_LIMIT_REGISTER=off
        # bench/login.lua sends each login from its own X-Forwarded-For address:
        # one password check per (account, address) is in flight at a time.
        TRUSTED_PROXIES=127.0.0.1
        PASSWORD_REJECT_COMMON=false
        # One account logs in thousands of times: with the default limit of 50
        # sessions, the flood would evict the tokens the /me and refresh runs use.
        MAX_SESSIONS_PER_USER=off)
    mkdir -p "$work/$store/var"
    if [ "$store" = mysql-redis ]; then
        db="tessera_bench_$(date +%s)"
        env_store=(DATABASE_URL="${TEST_DATABASE_URL%/}/$db" REDIS_URL="$TEST_REDIS_URL"
            REDIS_KEY_PREFIX="tessera-bench:$db:" DATABASE_MAX_CONNECTIONS=16)
    else
        env_store=()
    fi
    env "${common[@]}" "${env_store[@]}" $bin >"$work/$store/tessera.log" 2>&1 &
    local pid=$!; pids+=("$pid")
    for _ in $(seq 1 200); do curl -fs "$base/health" >/dev/null && break; sleep 0.05; done
    sleep 2
    local idle_rss; idle_rss=$(rss_kib "$pid" VmRSS)

    curl -fs -X POST "$base/api/auth/register" -H 'Content-Type: application/json' \
        -d '{"username":"bench","email":"bench@example.com","password":"wrk-load-Pass-9"}' >/dev/null
    login() {
        curl -fs -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
            -d '{"username":"bench","password":"wrk-load-Pass-9"}'
    }
    local access; access=$(login | json '["access_token"]')
    # Waits (up to 20 s) until no hash is admitted: a run's abandoned
    # requests still finish after wrk stops, and must not meet the next run.
    idle() {
        for _ in $(seq 1 200); do
            curl -fs "$base/metrics" | grep -q '^tessera_password_hashes_admitted 0$' && return 0
            sleep 0.1
        done
    }

    declare -A rps p50 p99 non2xx
    measure() { # name, wrk args... (RUNS runs; the medians are kept)
        local name=$1; shift
        local r=() a=() b=() n=() out
        for run in $(seq 1 "$RUNS"); do
            idle
            if [ "$name" = refresh ]; then # fresh live tokens for every run
                local per_thread=$(( (CONNECTIONS + THREADS - 1) / THREADS + 1 ))
                for t in $(seq 1 "$THREADS"); do
                    for _ in $(seq 1 "$per_thread"); do login | json '["refresh_token"]'; done >"$work/tokens-$t.txt"
                done
            fi
            out=$(RUN_ID="$store$run$(date +%s)" TOKENS_DIR=$work wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
            echo "$out" >"$work/$store-$name-$run.wrk"
            # Successful answers per second (a refusal is not throughput).
            r+=("$(python3 -c "
import re, sys
t = sys.stdin.read()
n, secs = re.search(r'(\\d+) requests in ([0-9.]+)(m?s)', t).groups()[:2]
unit = re.search(r'requests in [0-9.]+(m?s)', t).group(1)
bad = re.search(r'Non-2xx or 3xx responses: (\\d+)', t)
secs = float(secs) / (1000 if unit == 'ms' else 1)
print((int(n) - (int(bad.group(1)) if bad else 0)) / secs)" <<<"$out")")
            a+=("$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")")
            b+=("$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")")
            n+=("$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)")
        done
        rps[$name]=$(median "${r[@]}"); p50[$name]=$(median "${a[@]}"); p99[$name]=$(median "${b[@]}")
        non2xx[$name]=$(calc "$(IFS=+; echo "${n[*]}")")
    }

    measure health "$base/health"
    measure me -H "Authorization: Bearer $access" "$base/api/auth/me"
    measure refresh -s bench/refresh.lua "$base/api/auth/refresh"
    measure login -s bench/login.lua "$base/api/auth/login"
    measure register -s bench/register.lua "$base/api/auth/register"
    # /me while a second wrk keeps CONNECTIONS logins in flight (every CPU hashing).
    local flood_secs=$(( ${DURATION%s} * RUNS + 2 * RUNS + 2 ))
    wrk -t1 -c"$CONNECTIONS" -d"${flood_secs}s" -s bench/login.lua "$base/api/auth/login" >"$work/$store-flood.wrk" &
    local flood=$!
    sleep 1
    measure me_flood -H "Authorization: Bearer $access" "$base/api/auth/me"
    wait "$flood" || true
    local peak_rss; peak_rss=$(rss_kib "$pid" VmHWM)
    kill "$pid"; wait "$pid" 2>/dev/null || true

    local h=${rps[health]}
    pct() { python3 -c "print(f'{$1 / $2 * 100:.0f}%')"; }
    verdict() { python3 -c "print('met' if $1 else 'MISSED')"; }
    line '\n%s\n' "== $store ($([ "$store" = embedded ] && echo 'SQLite, in-process sessions and denylist' || echo 'MySQL + Redis'))"
    line '%-24s %11s %9s %9s %8s  %-22s %s' endpoint "2xx/s" "p50 ms" "p99 ms" non-2xx "share" "target"
    for name in health me refresh login register me_flood; do
        local label share target=""
        case $name in
            health) label="GET /health"; share="reference";;
            me) label="GET /api/auth/me"; share="$(pct "${rps[me]}" "$h") of /health"
                target="≥ 50% of /health: $(verdict "${rps[me]} >= 0.5 * $h")";;
            refresh) label="POST /api/auth/refresh"; share="$(pct "${rps[refresh]}" "$h") of /health"
                target="≥ 5000/s: $(verdict "${rps[refresh]} >= 5000")";;
            login) label="POST /api/auth/login"; share="$(pct "${rps[login]}" "$bound") of $bound/s"
                target="≥ 90% of hash bound: $(verdict "${rps[login]} >= 0.9 * $bound"); $(pct "${rps[login]}" "$parallel") of the $parallel/s measured with every CPU hashing";;
            register) label="POST /api/auth/register"; share="$(pct "${rps[register]}" "$bound") of $bound/s"
                target="$(pct "${rps[register]}" "$parallel") of $parallel/s";;
            me_flood) label="GET /me, login flood"; share="$(pct "${rps[me_flood]}" "$h") of /health"
                target="p99 < 10 ms: $(verdict "${p99[me_flood]} < 10")";;
        esac
        line '%-24s %11.0f %9.2f %9.2f %8s  %-22s %s' "$label" "${rps[$name]}" "${p50[$name]}" "${p99[$name]}" "${non2xx[$name]}" "$share" "$target"
    done
    local idle_target=""
    [ "$store" = embedded ] && idle_target="  (target < 30 MiB: $(verdict "$idle_rss < 30 * 1024"))"
    line 'RSS idle %.1f MiB%s; peak under load %.1f MiB' "$(calc "$idle_rss/1024")" "$idle_target" "$(calc "$peak_rss/1024")"
}

for store in $STORES; do
    bench_store "$store"
done

{
    echo "tessera $($bin --version | awk '{print $2}'), $(date -u +%Y-%m-%dT%H:%MZ); $cpus CPUs (shared by wrk, tessera and the stores)"
    echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, median of $RUNS runs"
    echo "one argon2id hash (m=19456 KiB, t=2, p=1): $hash_ms ms; hash-bound limit $cpus CPUs / $hash_ms ms = $bound/s"
    echo "measured with all $cpus CPUs hashing at once: $parallel hashes/s"
    printf '%b\n' "${report[@]}"
} | tee "$work/report.txt"
mkdir -p bench/results
cp "$work/report.txt" "bench/results/$(date +%Y%m%d-%H%M%S).txt"
