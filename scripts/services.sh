#!/usr/bin/env bash
# Sourced by scripts/test.sh: makes sure the tests have what they need, and
# exports TEST_DATABASE_URL and TEST_REDIS_URL.
#
# - Uses MariaDB/MySQL and Redis already reachable on loopback (or the URLs
#   given in TEST_DATABASE_URL / TEST_REDIS_URL).
# - Otherwise starts private servers on free ports with data under
#   target/test-services/ (stopped when the script exits).
# - Installs Debian's mariadb-server, redis-server and python3-aiosmtpd (the
#   SMTP sink of the mail tests) when missing; the fault tests also start
#   private instances of MariaDB and Redis.

svc_dir="$(pwd)/target/test-services"
svc_pids=()

svc_log() { printf '[services] %s\n' "$*" >&2; }

svc_cleanup() {
    for pid in "${svc_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${svc_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap svc_cleanup EXIT

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
    for _ in $(seq 1 240); do port_open 127.0.0.1 "$1" && return 0; sleep 0.25; done
    svc_log "nothing listens on port $1"; return 1
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

apt_updated=""
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        svc_log "missing $*: install them (Debian: apt-get install $*) or run as root"; return 1
    fi
    if [ -z "$apt_updated" ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
    svc_log "installing $*"
    # Without an init system, post-install scripts that start services fail:
    # forbid starting them during the install (the tests start their own).
    local guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
    if [ -n "$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi
    return $rc
}

ensure_binaries() {
    local missing=()
    have mariadbd || missing+=(mariadb-server)
    have mariadb || missing+=(mariadb-client)
    have redis-server || missing+=(redis-server)
    have redis-cli || missing+=(redis-tools)
    /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
    # Debian may start the packaged servers on install; that is fine (they are shared ones).
}

mariadb_bin() { if command -v "$1" >/dev/null 2>&1; then command -v "$1"; else echo "/usr/sbin/$1"; fi; }

mysql_ok() { # host port
    mariadb --protocol=tcp -h "$1" -P "$2" -uroot -e 'SELECT 1' >/dev/null 2>&1
}

start_private_mariadb() {
    local port data
    port=$(free_port); data="$svc_dir/mariadb-$port"
    mkdir -p "$data"
    svc_log "starting a private MariaDB on 127.0.0.1:$port"
    "$(mariadb_bin mariadb-install-db)" --no-defaults --datadir="$data/data" --user="$(id -un)" \
        --skip-test-db --auth-root-authentication-method=normal >"$data/install.log" 2>&1
    "$(mariadb_bin mariadbd)" --no-defaults --datadir="$data/data" --socket="$data/sock" --pid-file="$data/pid" \
        --port="$port" --bind-address=127.0.0.1 --user="$(id -un)" --skip-grant-tables --skip-log-bin \
        --innodb-buffer-pool-size=64M >"$data/server.log" 2>&1 &
    svc_pids+=($!)
    wait_port "$port"
    TEST_DATABASE_URL="mysql://root@127.0.0.1:$port"
}

start_private_redis() {
    local port
    port=$(free_port)
    svc_log "starting a private Redis on 127.0.0.1:$port"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >"$svc_dir/redis-$port.log" 2>&1 &
    svc_pids+=($!)
    wait_port "$port"
    TEST_REDIS_URL="redis://127.0.0.1:$port"
}

mkdir -p "$svc_dir"
ensure_binaries

# TESSERA_TEST_PRIVATE_SERVICES=1 ignores the machine's servers (to exercise a fresh machine's path).
private=${TESSERA_TEST_PRIVATE_SERVICES:-0}
if [ -z "${TEST_DATABASE_URL:-}" ]; then
    if [ "$private" != 1 ] && port_open 127.0.0.1 3306 && mysql_ok 127.0.0.1 3306; then
        TEST_DATABASE_URL="mysql://root@127.0.0.1:3306"
    else
        start_private_mariadb
    fi
fi
if [ -z "${TEST_REDIS_URL:-}" ]; then
    if [ "$private" != 1 ] && port_open 127.0.0.1 6379 && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; then
        TEST_REDIS_URL="redis://127.0.0.1:6379"
    else
        start_private_redis
    fi
fi
export TEST_DATABASE_URL TEST_REDIS_URL
svc_log "TEST_DATABASE_URL=$TEST_DATABASE_URL TEST_REDIS_URL=$TEST_REDIS_URL"

# Every test database is named tessera_test_<id> and every Redis key starts
# with tessera-test:; sweep what earlier (or interrupted) runs left.
# Host and port of TEST_DATABASE_URL (mysql://user@host:port).
mysql_hostport() { local h=${TEST_DATABASE_URL#mysql://}; h=${h#*@}; echo "${h%%/*}"; }
mysql_host() { local h; h=$(mysql_hostport); echo "${h%:*}"; }
mysql_port() { local h p; h=$(mysql_hostport); p=${h##*:}; [ "$p" = "$h" ] && p=3306; echo "$p"; }

sweep_test_data() {
    local host port
    host=$(mysql_host); port=$(mysql_port)
    mariadb --protocol=tcp -h "$host" -P "$port" -uroot -N -e \
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'tessera\\_test\\_%'" 2>/dev/null |
        while read -r db; do mariadb --protocol=tcp -h "$host" -P "$port" -uroot -e "DROP DATABASE \`$db\`"; done
    local r=${TEST_REDIS_URL#redis://}; r=${r%%/*}
    redis_del_matching "${r%:*}" "${r##*:}" 'tessera-test:*'
}

# Deletes the keys matching a pattern inside Redis (keys may hold any bytes,
# e.g. a hostile login name in a rate-limit key, which no shell pipe handles).
redis_del_matching() { # host port pattern
    redis-cli -h "$1" -p "$2" EVAL \
        "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) n = n + 1 end return n" \
        0 "$3" >/dev/null 2>&1 || true
}
