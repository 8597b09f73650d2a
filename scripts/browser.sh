#!/usr/bin/env bash
# Browser tests of the hosted pages (issue 16): Tessera (debug build) on a
# fresh embedded store, driven in Debian's Chromium by playwright-core from
# the npm registry, each page checked with axe-core and screenshotted; and
# Tessera as an OpenID Provider (issue 18) with openid-client from the npm
# registry as the relying party.
#
#   scripts/browser.sh                       # as scripts/test.sh runs it
#   UPDATE_SCREENSHOTS=1 scripts/browser.sh  # also copies the screenshots to docs/pages/
#
# Installs what is missing: Debian's `chromium`, `fonts-wqy-microhei`,
# `nodejs` and `npm` (as root), and the npm
# packages pinned in scripts/browser/package-lock.json (`npm ci`; Node.js 18+).
# Screenshots go to target/browser/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[browser] %s\n' "$*" >&2; }

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    if [ "$(id -u)" != 0 ]; then
        log "Chromium is missing: install Debian's chromium (apt-get install chromium) or run as root"; exit 1
    fi
    log "installing Debian's chromium"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    CHROMIUM=$(command -v chromium)
fi
# A font with Chinese glyphs, so the zh-CN pages render (and screenshot) as people see them.
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=zh 2>/dev/null)" ] && [ "$(id -u)" = 0 ]; then
    log "installing Debian's fonts-wqy-microhei (Chinese glyphs)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        log "Node.js is missing (Debian: apt-get install nodejs npm)"; exit 1
    fi
    log "installing Debian's nodejs and npm"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d scripts/browser/node_modules/playwright-core ] || [ ! -d scripts/browser/node_modules/axe-core ] || [ ! -d scripts/browser/node_modules/otpauth ] || [ ! -d scripts/browser/node_modules/openid-client ]; then
    log "installing playwright-core, axe-core, otpauth and openid-client (npm ci)"
    (cd scripts/browser && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# --workspace: the feature set `cargo test --workspace` built with, so the
# binary is not rebuilt with another one (a `-p` selection unifies fewer
# features and recompiles much of the tree).
cargo build --quiet --locked --workspace --bin tessera
bin=$PWD/target/debug/tessera
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
rp_port=$(free_port)
export TESSERA_VAR_DIR=$work/var HOST=127.0.0.1 PORT=$port RUST_LOG=warn \
    ARGON2_MEMORY_KIB=1024 ARGON2_ITERATIONS=1 \
    MAIL_PRODUCT_NAME="Tessera" RETURN_TO_ALLOWED="http://localhost:$port/ui/" \
    WEBAUTHN_ORIGINS="http://localhost:$port" OIDC_ISSUER="http://127.0.0.1:$port"
log "an administrator: tessera user create --role super_admin"
"$bin" user create --username root --email root@example.com \
    --password 'Browser-Admin-Pass-9' --role super_admin >/dev/null
log "an OpenID Provider client and its user: tessera client create, tessera user create"
"$bin" user create --username olga --email olga@example.com \
    --password 'Harbor-Mist-Pass-73' --role user >/dev/null
client_out=$("$bin" client create --name Wiki --kind confidential \
    --redirect-uri "http://127.0.0.1:$rp_port/callback" \
    --post-logout-redirect-uri "http://127.0.0.1:$rp_port/goodbye")
oidc_client_id=$(printf '%s\n' "$client_out" | sed -n 's/^client_id=//p')
oidc_client_secret=$(printf '%s\n' "$client_out" | sed -n 's/^client_secret=//p')
"$bin" >"$work/tessera.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
done

shots=$PWD/target/browser/screenshots
mkdir -p "$shots"
status=0
BASE_URL="http://127.0.0.1:$port" MAIL_DIR="$work/var/mail" CHROMIUM="$CHROMIUM" \
    SCREENSHOT_DIR="$shots" ADMIN_PASSWORD='Browser-Admin-Pass-9' \
    RP_PORT="$rp_port" OIDC_CLIENT_ID="$oidc_client_id" OIDC_CLIENT_SECRET="$oidc_client_secret" \
    OIDC_USER=olga OIDC_EMAIL=olga@example.com OIDC_PASSWORD='Harbor-Mist-Pass-73' \
    node --test --test-reporter=spec scripts/browser/pages.test.mjs scripts/browser/oidc.test.mjs || status=$?
if [ "$status" != 0 ]; then
    log "failed; the server's log:"; tail -n 40 "$work/tessera.log" >&2
fi
if grep -q "panicked" "$work/tessera.log"; then
    log "the server panicked:"; grep -A5 panicked "$work/tessera.log" >&2; status=1
fi
if [ "${UPDATE_SCREENSHOTS:-}" = 1 ] && [ "$status" = 0 ]; then
    mkdir -p docs/pages
    cp "$shots"/*.png docs/pages/
    log "screenshots copied to docs/pages/"
fi
exit "$status"
