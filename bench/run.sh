#!/usr/bin/env bash
# The benchmark suite: builds the release binary, starts it on the embedded
# default (SQLite, no Redis) and on MySQL + Redis, and measures with wrk —
# the median of RUNS runs of requests/s, p50 and p99 — for
#   GET /health (the reference), GET /api/auth/me, POST /api/auth/refresh,
#   POST /api/auth/login, POST /api/auth/register, and /me during a login flood;
# plus, per store (issue 15):
#   - start to ready on the embedded default: a fresh TESSERA_VAR_DIR (every
#     migration runs) until /health answers 200, median of READY_RUNS starts
#     (bench/ready.py);
#   - MySQL + Redis runs two instances, A and B, on one database and one Redis:
#     every figure is measured on A while B runs;
#   - the coherence lag: a state flip on A (logout, password change, role
#     revoke) or by `tessera user disable`, seen by B, under a wrk /me load on B
#     (bench/coherence.py; on the embedded default B is a second process on
#     the same SQLite file);
#   - the million phase: SEED_USERS users and SEED_SESSIONS live sessions
#     bulk-inserted into the store (bench/seed.py), then /me, login and refresh
#     again beside their empty-store figures;
#   - the server's RSS when idle, its peak (VmHWM) after the load runs and under
#     the whole bench, and its RSS after the million phase.
# Each figure is printed beside its reference from the same run (/me as a
# share of /health, login and register as a share of the hash-bound limit =
# CPUs ÷ one argon2id hash's time, measured here first) and beside issue 15's
# target.
#
#   bench/run.sh                                   # 10 s per run, 3 runs, both stores
#   DURATION=5s RUNS=1 STORES=embedded bench/run.sh
#   CONNECTIONS=128 THREADS=2 bench/run.sh
#   MILLION=0 COHERENCE=0 bench/run.sh             # without the million phase and the coherence run
#   SEED_USERS=100000 SEED_SESSIONS=100000 COHERENCE=40 READY_RUNS=3 bench/run.sh
#
# MariaDB and Redis come from scripts/services.sh (the machine's when they
# answer, private ones otherwise); wrk is installed from Debian if missing.
# Everything the run creates (a database tessera_bench_<time>, Redis keys
# under tessera-bench:<that name>:, a temporary directory) is removed at the end.
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
MILLION=${MILLION:-1}                 # 0 skips the million phase
SEED_USERS=${SEED_USERS:-1000000}
SEED_SESSIONS=${SEED_SESSIONS:-1000000}
COHERENCE=${COHERENCE:-200}           # flips of the coherence run; 0 skips it
READY_RUNS=${READY_RUNS:-5}           # starts timed for start to ready

source scripts/services.sh
command -v wrk >/dev/null || apt_install wrk

cargo build --release --locked -p tessera-server >&2
bin=./target/release/tessera
cpus=$(nproc)

# The hash-bound limit: CPUs ÷ one hash with the default parameters, timed
# before anything else runs (median of seven, after a warm-up hash).
# Also the hashes/s with every CPU hashing at once, which is the real ceiling
# where concurrent hashes share a core or memory bandwidth.
cal_dir=$(mktemp -d)
calibration=$(TESSERA_VAR_DIR=$cal_dir $bin calibrate --target-ms 1)
rm -rf "$cal_dir"
hash_ms=$(awk '/ms per hash/ && /m=/ {print $5; exit}' <<<"$calibration")
parallel=$(awk '/CPUs hashing/ {print $(NF-1); exit}' <<<"$calibration")
bound=$(python3 -c "print(f'{$cpus * 1000 / $hash_ms:.0f}')")

work=$(mktemp -d)
pids=()
db=""
# Drops what the MySQL + Redis store holds (the database and every key under
# its prefix; SCAN + UNLINK, so a million sessions never block Redis long).
drop_mysql_store() {
    [ -n "$db" ] || return 0
    local hp=${TEST_DATABASE_URL#mysql://}; hp=${hp#*@}; hp=${hp%%/*}
    mariadb --protocol=tcp -h "${hp%:*}" -P "${hp##*:}" -uroot -e "DROP DATABASE IF EXISTS \`$db\`" 2>/dev/null || true
    python3 bench/seed.py redis-clean --redis-url "$TEST_REDIS_URL" --prefix "tessera-bench:$db:" >&2 || true
    db=""
}
cleanup_bench() {
    local p
    for p in "${pids[@]}"; do stop_tessera "$p"; done
    drop_mysql_store
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
pct() { python3 -c "print(f'{$1 / $2 * 100:.0f}%')"; }
verdict() { python3 -c "print('met' if $1 else 'MISSED')"; }
mib() { python3 -c "print(f'{$1 / 1024:.1f}')"; }

report=()
line() { report+=("$(printf "$@")"); }

# Starts tessera with the given environment (output into the log file) and
# waits until /health answers; its pid is left in $started (a child of this
# shell, so that stop_tessera can wait for it).
start_tessera() { # log env...
    local log=$1; shift
    env "$@" $bin >"$log" 2>&1 &
    started=$!; pids+=("$started")
    local port; port=$(printf '%s\n' "$@" | sed -n 's/^PORT=//p')
    for _ in $(seq 1 400); do
        curl -fs "http://127.0.0.1:$port/health" >/dev/null && return 0
        kill -0 "$started" 2>/dev/null || break
        sleep 0.05
    done
    echo "tessera did not become ready; the end of $log:" >&2; tail -5 "$log" >&2
    return 1
}

stop_tessera() { # pid (forgotten afterwards: a reused pid is never killed)
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local rest=() p
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || rest+=("$p"); done
    pids=("${rest[@]}")
}

bench_store() { # store
    local store=$1 port port_b base base_b secret env_store
    port=$(free_port); base="http://127.0.0.1:$port"
    port_b=$(free_port); base_b="http://127.0.0.1:$port_b"
    secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    local common=(TESSERA_ENV=production JWT_SECRET_KEY="$secret" HOST=127.0.0.1
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

    # Start to ready (embedded): fresh directories, before anything else loads the machine.
    local ready_out=""
    if [ "$store" = embedded ] && [ "$READY_RUNS" -gt 0 ]; then
        ready_out=$(env "${common[@]}" python3 bench/ready.py "$bin" --runs "$READY_RUNS")
        echo "$ready_out" >&2
    fi

    local pid pid_b=""
    start_tessera "$work/$store/tessera.log" "${common[@]}" "${env_store[@]}" PORT="$port"; pid=$started
    if [ "$store" = mysql-redis ]; then
        # Instance B: same database, same Redis, its own port. It runs for the
        # whole phase (every figure below is measured on A while B runs) and
        # is the instance the coherence run polls.
        start_tessera "$work/$store/tessera-b.log" "${common[@]}" "${env_store[@]}" PORT="$port_b"; pid_b=$started
    fi
    sleep 2
    local idle_rss idle_rss_b=""; idle_rss=$(rss_kib "$pid" VmRSS)
    [ -n "$pid_b" ] && idle_rss_b=$(rss_kib "$pid_b" VmRSS)

    curl -fs -X POST "$base/api/auth/register" -H 'Content-Type: application/json' \
        -d '{"username":"bench","email":"bench@example.com","password":"wrk-load-Pass-9"}' >/dev/null
    login() { # [username]
        curl -fs -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
            -d "{\"username\":\"${1:-bench}\",\"password\":\"wrk-load-Pass-9\"}"
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
            if [[ $name == refresh* ]]; then # fresh live tokens for every run
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
    local peak_load; peak_load=$(rss_kib "$pid" VmHWM)

    # Coherence: flips on A (and by the CLI), polled on B under a /me load on B.
    local coh_out="" coh_json="$work/$store-coherence.json"
    if [ "$COHERENCE" -gt 0 ]; then
        idle
        if [ "$store" = embedded ]; then # B: a second process on the same SQLite file
            start_tessera "$work/$store/tessera-b.log" "${common[@]}" PORT="$port_b"; pid_b=$started
            sleep 1
            idle_rss_b=$(rss_kib "$pid_b" VmRSS)
        fi
        # A flip not shown within 1 s (10× the bound) counts as never shown;
        # after 5 of one kind, that kind is not tried again (the run stays short).
        coh_out=$(env "${common[@]}" "${env_store[@]}" PORT="$port" python3 bench/coherence.py "$base" "$base_b" \
            -n "$COHERENCE" --cli "$bin" --timeout-s 1 --give-up 5 \
            --load-connections "$CONNECTIONS" --load-threads "$THREADS" --json "$coh_json")
        echo "$coh_out" >&2
    fi
    local peak_b=""
    [ -n "$pid_b" ] && peak_b=$(rss_kib "$pid_b" VmHWM)
    if [ "$store" = embedded ] && [ -n "$pid_b" ]; then
        stop_tessera "$pid_b"
    fi

    # The million phase: bulk-seeded users and live sessions, then /me, login and refresh again.
    local seed_out="" seed_check=""
    if [ "$MILLION" != 0 ]; then
        idle
        if [ "$store" = embedded ]; then
            seed_out=$(python3 bench/seed.py sqlite --db "$work/$store/var/tessera.db" \
                --users "$SEED_USERS" --sessions "$SEED_SESSIONS")
        else
            seed_out=$(python3 bench/seed.py mysql --database-url "${TEST_DATABASE_URL%/}/$db" \
                --redis-url "$TEST_REDIS_URL" --prefix "tessera-bench:$db:" \
                --users "$SEED_USERS" --sessions "$SEED_SESSIONS")
        fi
        echo "$seed_out" >&2
        # The seeded rows are real: the first seeded user logs in with the
        # template's password, /me answers, and its seeded sessions are listed.
        local tag seeded_token listed="" expected
        tag=$(sed -n 's/^seeded .* tag=\([0-9a-f]*\) .*/\1/p' <<<"$seed_out")
        expected=$(( (SEED_SESSIONS + SEED_USERS - 1) / SEED_USERS + 1 ))
        if seeded_token=$(curl -fs -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
                -H 'X-Forwarded-For: 192.0.2.200' \
                -d "{\"username\":\"seed${tag}_0\",\"password\":\"wrk-load-Pass-9\"}" | json '["access_token"]') &&
            curl -fs "$base/api/auth/me" -H "Authorization: Bearer $seeded_token" >/dev/null &&
            listed=$(curl -fs "$base/api/auth/sessions?per_page=100" -H "Authorization: Bearer $seeded_token" | json '["total"]'); then
            seed_check="seed${tag}_0 logged in, /me 200, $listed sessions listed (its seeded ones + this login: $expected expected)"
            [ "$listed" = "$expected" ] || seed_check="$seed_check — MISMATCH"
        else
            seed_check="FAILED: seed${tag}_0 could not log in, read /me or list its sessions (sessions listed: ${listed:-none})"
        fi
        measure me_m -H "Authorization: Bearer $access" "$base/api/auth/me"
        measure login_m -s bench/login.lua "$base/api/auth/login"
        measure refresh_m -s bench/refresh.lua "$base/api/auth/refresh"
    fi
    local rss_end peak_all
    rss_end=$(rss_kib "$pid" VmRSS); peak_all=$(rss_kib "$pid" VmHWM)
    [ -n "$pid_b" ] && [ "$store" = mysql-redis ] && peak_b=$(rss_kib "$pid_b" VmHWM)
    stop_tessera "$pid"
    if [ "$store" = mysql-redis ]; then
        stop_tessera "$pid_b"
        drop_mysql_store
    fi
    rm -rf "$work/$store/var"

    # ---- the report of this store
    local h=${rps[health]} me_target refresh_target
    if [ "$store" = embedded ]; then me_target=0.60; refresh_target=10000; else me_target=0.55; refresh_target=25000; fi
    line '\n%s\n' "== $store ($([ "$store" = embedded ] && echo 'SQLite, in-process sessions and denylist' || echo 'MySQL + Redis, 2 instances: figures of A while B runs'))"
    if [ -n "$ready_out" ]; then
        local ready_ms; ready_ms=$(sed -n 's/^ready_ms median=\([0-9.]*\) .*/\1/p' <<<"$ready_out")
        line 'start to ready (empty TESSERA_VAR_DIR, migrations included), median of %s: %s ms (%s)  target ≤ 300 ms: %s' \
            "$READY_RUNS" "$ready_ms" "$(sed -n 's/^ready_ms median=[0-9.]* \(min=[0-9.]*\) \(max=[0-9.]*\).*/\1 \2/p' <<<"$ready_out")" \
            "$(verdict "$ready_ms <= 300")"
    fi
    line '%-24s %11s %9s %9s %8s  %-22s %s' endpoint "2xx/s" "p50 ms" "p99 ms" non-2xx "share" "target"
    local label share target
    for name in health me refresh login register me_flood; do
        target=""
        case $name in
            health) label="GET /health"; share="reference";;
            me) label="GET /api/auth/me"; share="$(pct "${rps[me]}" "$h") of /health"
                target="≥ $(calc "int($me_target * 100)")% of /health: $(verdict "${rps[me]} >= $me_target * $h")";;
            refresh) label="POST /api/auth/refresh"; share="$(pct "${rps[refresh]}" "$h") of /health"
                target="≥ $refresh_target/s: $(verdict "${rps[refresh]} >= $refresh_target")";;
            login) label="POST /api/auth/login"; share="$(pct "${rps[login]}" "$bound") of $bound/s"
                target="≥ 90% of hash bound: $(verdict "${rps[login]} >= 0.9 * $bound"); $(pct "${rps[login]}" "$parallel") of the $parallel/s measured with every CPU hashing";;
            register) label="POST /api/auth/register"; share="$(pct "${rps[register]}" "$bound") of $bound/s"
                target="≥ 90% of hash bound: $(verdict "${rps[register]} >= 0.9 * $bound"); $(pct "${rps[register]}" "$parallel") of $parallel/s";;
            me_flood) label="GET /me, login flood"; share="$(pct "${rps[me_flood]}" "$h") of /health"
                target="p99 ≤ 5 ms: $(verdict "${p99[me_flood]} <= 5")";;
        esac
        line '%-24s %11.0f %9.2f %9.2f %8s  %-22s %s' "$label" "${rps[$name]}" "${p50[$name]}" "${p99[$name]}" "${non2xx[$name]}" "$share" "$target"
    done

    if [ -n "$coh_out" ]; then
        line '%s' "coherence lag, $([ "$store" = embedded ] && echo 'B = a second process on the same SQLite file' || echo 'B = the second instance'), under a wrk /me load on B:"
        line '%s' "$(sed 's/^/  /' <<<"$coh_out")"
        line '%s' "$(python3 -c "
import json, math
j = json.load(open('$coh_json')); o = j['figures']['overall']
ms = lambda x: 'never' if x == math.inf else f'{x:.2f} ms'
ok = o['p99'] <= 100 and j['never_shown'] == 0 and j['skipped'] == 0
print(f\"coherence lag p99 {ms(o['p99'])} over {o['n']} flips (lower bound p99 {ms(o['lower_p99'])}; \"
      f\"max {ms(o['max'])}; {o['stale_polls']} polls showed \"
      f\"the old state past 100 ms; {j['never_shown']} never shown, {j['skipped']} not tried)  \"
      f\"target p99 ≤ 100 ms: {'met' if ok else 'MISSED'}\")")"
    fi

    if [ -n "$seed_out" ]; then
        local seed_secs; seed_secs=$(sed -n 's/^seeded .* seconds=\([0-9.]*\).*/\1/p' <<<"$seed_out")
        line '%s' "million phase: $SEED_USERS users and $SEED_SESSIONS live sessions seeded in $seed_secs s ($([ "$store" = embedded ] && echo 'SQLite, INSERT … SELECT' || echo 'MySQL INSERT … SELECT, Redis RESP through redis-cli --pipe'); bench/seed.py):"
        line '%s' "$(grep '^  ' <<<"$seed_out")"
        line '  check: %s' "$seed_check"
        line '%-24s %11s %9s %9s %8s  %11s %6s  %s' "endpoint (seeded store)" "2xx/s" "p50 ms" "p99 ms" non-2xx "empty 2xx/s" "ratio" "target"
        for name in me login refresh; do
            case $name in
                me) label="GET /api/auth/me";; login) label="POST /api/auth/login";; refresh) label="POST /api/auth/refresh";;
            esac
            line '%-24s %11.0f %9.2f %9.2f %8s  %11.0f %6s  %s' "$label" "${rps[${name}_m]}" "${p50[${name}_m]}" "${p99[${name}_m]}" \
                "${non2xx[${name}_m]}" "${rps[$name]}" "$(pct "${rps[${name}_m]}" "${rps[$name]}")" \
                "within 10%: $(verdict "${rps[${name}_m]} >= 0.9 * ${rps[$name]}")"
        done
        line 'RSS after the million phase %s MiB' "$(mib "$rss_end")"
    fi
    line 'RSS idle %s MiB (≤ 20 MiB: %s); peak after the load runs %s MiB; peak under the whole bench %s MiB (≤ 80 MiB: %s)' \
        "$(mib "$idle_rss")" "$(verdict "$idle_rss <= 20 * 1024")" "$(mib "$peak_load")" \
        "$(mib "$peak_all")" "$(verdict "$peak_all <= 80 * 1024")"
    if [ -n "$idle_rss_b" ]; then
        line 'instance B: RSS idle %s MiB, peak %s MiB' "$(mib "$idle_rss_b")" "$(mib "$peak_b")"
    fi
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
