#!/usr/bin/env bash
# Browser tests of the hosted pages (issue 16): Tessera (debug build) on a
# fresh embedded store, driven in Debian's Chromium by playwright-core from
# the npm registry, each page checked with axe-core and screenshotted;
# Tessera as an OpenID Provider (issue 18) with openid-client from the npm
# registry as the relying party; and Tessera signing people in through
# upstream providers (issue 19): oidc-provider from the npm registry and a
# GitHub-shaped OAuth 2.0 server (scripts/browser/*.mjs).
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
if [ ! -d scripts/browser/node_modules/playwright-core ] || [ ! -d scripts/browser/node_modules/axe-core ] || [ ! -d scripts/browser/node_modules/otpauth ] || [ ! -d scripts/browser/node_modules/openid-client ] || [ ! -d scripts/browser/node_modules/oidc-provider ]; then
    log "installing playwright-core, axe-core, otpauth, openid-client and oidc-provider (npm ci)"
    (cd scripts/browser && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# --workspace: the feature set `cargo test --workspace` built with, so the
# binary is not rebuilt with another one (a `-p` selection unifies fewer
# features and recompiles much of the tree).
cargo build --quiet --locked --workspace --bin tessera
bin=$PWD/target/debug/tessera
work=$(mktemp -d)
server_pid=""
fixture_pids=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    for pid in $fixture_pids; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Four consecutive free ports: the upstream OpenID Providers (issue 19).
free_ports4() { python3 -c '
import socket
for base in range(20000, 60000, 7):
    try:
        socks = [socket.socket() for _ in range(4)]
        for i, s in enumerate(socks):
            s.bind(("127.0.0.1", base + i))
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
'; }
port=$(free_port)
rp_port=$(free_port)
op_port=$(free_ports4)
gh_port=$(free_port)
down_port=$(free_port)
# The test files run at once against one server from one IP: the per-IP
# limits of sign-ins and ceremonies are raised so they do not starve each
# other (the HTTP suite tests the limits).
export RATE_LIMIT_LOGIN=300/60 RATE_LIMIT_CEREMONY=300/60
export TESSERA_VAR_DIR=$work/var HOST=127.0.0.1 PORT=$port RUST_LOG=warn \
    ARGON2_MEMORY_KIB=1024 ARGON2_ITERATIONS=1 PUBLIC_BASE_URL="http://127.0.0.1:$port" \
    MAIL_PRODUCT_NAME="Tessera" RETURN_TO_ALLOWED="http://localhost:$port/ui/,http://127.0.0.1:$port/app/" \
    WEBAUTHN_ORIGINS="http://localhost:$port" OIDC_ISSUER="http://127.0.0.1:$port" \
    PASSWORDLESS_LOGIN=true
# Upstream identity providers (issue 19): oidc-provider instances and a
# GitHub-shaped OAuth 2.0 server, all on loopback (see federation.test.mjs).
op() { printf 'http://127.0.0.1:%s' "$((op_port + $1))"; }
gh="http://127.0.0.1:$gh_port"
export UPSTREAM_PROVIDERS=corp,partner,forged,nonce,flaky,down,github \
    UPSTREAM_CORP_NAME=Corp UPSTREAM_CORP_ISSUER="$(op 0)" \
    UPSTREAM_CORP_CLIENT_ID=tessera-corp UPSTREAM_CORP_CLIENT_SECRET=corp-secret \
    UPSTREAM_PARTNER_NAME=Partner UPSTREAM_PARTNER_ISSUER="$(op 0)" UPSTREAM_PARTNER_LINK_BY_EMAIL=true \
    UPSTREAM_PARTNER_CLIENT_ID=tessera-partner UPSTREAM_PARTNER_CLIENT_SECRET=partner-secret \
    UPSTREAM_FORGED_NAME=Forged UPSTREAM_FORGED_ISSUER="$(op 1)" \
    UPSTREAM_FORGED_CLIENT_ID=tessera-forged UPSTREAM_FORGED_CLIENT_SECRET=forged-secret \
    UPSTREAM_NONCE_NAME=Nonce UPSTREAM_NONCE_ISSUER="$(op 2)" \
    UPSTREAM_NONCE_CLIENT_ID=tessera-nonce UPSTREAM_NONCE_CLIENT_SECRET=nonce-secret \
    UPSTREAM_FLAKY_NAME=Flaky UPSTREAM_FLAKY_ISSUER="$(op 3)" \
    UPSTREAM_FLAKY_CLIENT_ID=tessera-flaky UPSTREAM_FLAKY_CLIENT_SECRET=flaky-secret \
    UPSTREAM_DOWN_NAME=Down UPSTREAM_DOWN_ISSUER="http://127.0.0.1:$down_port" \
    UPSTREAM_DOWN_CLIENT_ID=nobody UPSTREAM_DOWN_CLIENT_SECRET=nothing \
    UPSTREAM_GITHUB_CLIENT_ID=gh-client UPSTREAM_GITHUB_CLIENT_SECRET=gh-secret \
    UPSTREAM_GITHUB_AUTHORIZATION_URL="$gh/login/oauth/authorize" \
    UPSTREAM_GITHUB_TOKEN_URL="$gh/login/oauth/access_token" \
    UPSTREAM_GITHUB_USERINFO_URL="$gh/api/user" UPSTREAM_GITHUB_EMAILS_URL="$gh/api/user/emails"
UPSTREAM_OP_BASE_PORT=$op_port TESSERA_BASE_URL="http://127.0.0.1:$port" \
    node scripts/browser/upstream-op.mjs >"$work/upstream-op.log" 2>&1 &
fixture_pids="$fixture_pids $!"
GITHUB_STUB_PORT=$gh_port TESSERA_BASE_URL="http://127.0.0.1:$port" \
    node scripts/browser/github-stub.mjs >"$work/github-stub.log" 2>&1 &
fixture_pids="$fixture_pids $!"
for _ in $(seq 1 100); do
    grep -q "upstream-op ready" "$work/upstream-op.log" && grep -q "github-stub ready" "$work/github-stub.log" && break
    sleep 0.1
done
grep -q "upstream-op ready" "$work/upstream-op.log" || { log "upstream-op did not start:"; cat "$work/upstream-op.log" >&2; exit 1; }
"$bin" user create --username pat --email pat@corp.test \
    --password 'Harbor-Mist-Pass-73' --role user >/dev/null
"$bin" user create --username uvuser --email unverified-uv@corp.test \
    --password 'Harbor-Mist-Pass-73' --role user >/dev/null
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
    APP_RETURN_TO="http://127.0.0.1:$port/app/done" \
    node --test --test-reporter=spec scripts/browser/pages.test.mjs scripts/browser/oidc.test.mjs \
        scripts/browser/federation.test.mjs scripts/browser/upstream-fixtures.test.mjs || status=$?
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
