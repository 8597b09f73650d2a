// The upstream identity providers that Tessera's "sign in with ..." tests
// sign in through, checked on their own: upstream-op.mjs (four oidc-provider
// instances: corp, forged, nonce, flaky) and github-stub.mjs (an OAuth 2.0
// server shaped like GitHub's). openid-client (an OpenID-certified relying
// party library) plays Tessera's part against the OpenID Providers; the
// browser is plain fetch with a small cookie jar, and, where Debian's
// Chromium is found ($CHROMIUM or `chromium` on PATH), Chromium too.
//
//   cd scripts/browser && npm ci && node --test upstream-fixtures.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execSync } from 'node:child_process';
import { createServer, get as httpGet } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const children = [];
let rp;
let TESSERA;
let OP_BASE;
let GH;

// ---- processes and ports ----------------------------------------------

function portFree(port) {
  return new Promise((resolve) => {
    const s = createNetServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freePort() {
  const s = createNetServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

// A base port B with B..B+3 all free.
async function freePortRun(n) {
  for (let i = 0; i < 50; i += 1) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let p = base; p < base + n && ok; p += 1) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no run of ${n} free ports`);
}

function start(script, env, readyLine) {
  const child = spawn(process.execPath, [`${HERE}${script}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script}: not ready after 20 s\n${err}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.split('\n').includes(readyLine)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before ready\n${err}`));
    });
  });
}

before(async () => {
  // Tessera's stand-in: where the providers send the browser back to.
  rp = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>RP</title><p id="rp">${req.url.split('?')[0]}</p>`);
  });
  await new Promise((ok) => rp.listen(0, '127.0.0.1', ok));
  TESSERA = `http://127.0.0.1:${rp.address().port}`;
  OP_BASE = await freePortRun(4);
  const ghPort = await freePort();
  GH = `http://127.0.0.1:${ghPort}`;
  await Promise.all([
    start('upstream-op.mjs', { UPSTREAM_OP_BASE_PORT: String(OP_BASE), TESSERA_BASE_URL: TESSERA }, 'upstream-op ready'),
    start('github-stub.mjs', { GITHUB_STUB_PORT: String(ghPort), TESSERA_BASE_URL: TESSERA }, 'github-stub ready'),
  ]);
});

after(async () => {
  await Promise.all(children.map((child) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  })));
  await new Promise((ok) => (rp ? rp.close(ok) : ok()));
});

// ---- a browser made of fetch --------------------------------------------

// Cookies by name and path (every server here is on 127.0.0.1, and cookies
// ignore ports, as browsers do).
class Jar {
  #cookies = new Map();

  take(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let gone = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') path = v || '/';
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) gone = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) gone = true;
      }
      const key = `${name}\t${path}`;
      if (gone) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter(({ path }) => pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
      .sort((a, b) => b.path.length - a.path.length)
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }

  async fetch(url, init = {}) {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.take(res);
    return res;
  }
}

// The (only) form of a page: its action and its hidden inputs.
function form(page, base) {
  const m = /<form[^>]*action="([^"]*)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(page);
  assert.ok(m, `a form in:\n${page}`);
  const fields = new URLSearchParams();
  for (const [, name, value] of m[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/?>/g)) {
    fields.set(name, value);
  }
  return { action: new URL(m[1].replaceAll('&amp;', '&'), base).href, fields, inner: m[2] };
}

// Follows redirects from `url`, filling oidc-provider's development login
// form (any login, any password) and consent form ("Continue"), until the
// provider redirects to Tessera. Returns that redirect and the pages seen.
async function signIn(jar, url, login) {
  const seen = [];
  let next = url;
  for (let hop = 0; hop < 20; hop += 1) {
    if (next.startsWith(`${TESSERA}/`)) return { callback: new URL(next), seen };
    const res = await jar.fetch(next);
    if (res.status >= 300 && res.status < 400) {
      next = new URL(res.headers.get('location'), next).href;
      continue;
    }
    const page = await res.text();
    assert.equal(res.status, 200, `${next}: ${page}`);
    const f = form(page, next);
    if (f.fields.get('prompt') === 'login') {
      seen.push('login');
      assert.match(f.inner, /<input required type="text" name="login"/);
      assert.match(f.inner, /<input required type="password" name="password"/);
      assert.match(f.inner, /<button type="submit" class="login login-submit">Sign-in<\/button>/);
      f.fields.set('login', login);
      f.fields.set('password', 'any password');
    } else {
      seen.push('consent');
      assert.equal(f.fields.get('prompt'), 'consent');
      assert.match(f.inner, /<button autofocus type="submit" class="login login-submit">Continue<\/button>/);
    }
    const posted = await jar.fetch(f.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: f.fields.toString(),
    });
    assert.ok(posted.status >= 300 && posted.status < 400, `POST ${f.action}: ${posted.status} ${await posted.text()}`);
    next = new URL(posted.headers.get('location'), f.action).href;
  }
  throw new Error('too many hops');
}

const op = (offset) => `http://127.0.0.1:${OP_BASE + offset}`;

async function discover(offset, clientId, secret) {
  const config = await client.discovery(new URL(op(offset)), clientId, secret, undefined,
    { execute: [client.allowInsecureRequests] });
  return config;
}

// An authorization request as Tessera would make it, and the browser's way
// through the provider back to Tessera's callback.
async function authorize(config, providerId, login, jar = new Jar()) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${TESSERA}/api/auth/oauth/${providerId}/callback`,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { callback, seen } = await signIn(jar, url.href, login);
  assert.equal(callback.origin + callback.pathname, `${TESSERA}/api/auth/oauth/${providerId}/callback`);
  assert.equal(callback.searchParams.get('state'), state);
  return { callback, verifier, state, nonce, seen, jar };
}

const grant = (config, a) => client.authorizationCodeGrant(config, a.callback, {
  pkceCodeVerifier: a.verifier,
  expectedState: a.state,
  expectedNonce: a.nonce,
  idTokenExpected: true,
});

function decodeJwt(jwt) {
  const [header, payload] = jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
  return { header, payload };
}

// ---- the OpenID Providers -----------------------------------------------

test('corp: code flow with PKCE through the login and consent forms; claims in the ID token and at userinfo', async () => {
  const config = await discover(0, 'tessera-corp', 'corp-secret');
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, op(0));
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(meta.id_token_signing_alg_values_supported, ['RS256']);
  assert.deepEqual(meta.scopes_supported, ['openid', 'email', 'profile']);
  client.enableNonRepudiationChecks(config); // the ID token's signature, against jwks_uri

  const alice = await authorize(config, 'corp', 'alice');
  assert.deepEqual(alice.seen, ['login', 'consent']);
  const tokens = await grant(config, alice);
  assert.equal(decodeJwt(tokens.id_token).header.alg, 'RS256');
  const claims = tokens.claims();
  assert.equal(claims.iss, op(0));
  assert.equal(claims.aud, 'tessera-corp');
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.email, 'alice@corp.test');
  assert.equal(claims.email_verified, true);
  assert.equal(claims.name, 'Name of alice');
  assert.equal(claims.preferred_username, 'alice');
  const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
  assert.deepEqual(
    { email: info.email, email_verified: info.email_verified, name: info.name, preferred_username: info.preferred_username },
    { email: 'alice@corp.test', email_verified: true, name: 'Name of alice', preferred_username: 'alice' },
  );

  // Signed in and consented: a second authorization goes straight back.
  const again = await authorize(config, 'corp', 'alice', alice.jar);
  assert.deepEqual(again.seen, []);
  assert.equal((await grant(config, again)).claims().sub, 'alice');

  const bob = await authorize(config, 'corp', 'unverified-bob@elsewhere.test');
  const bobClaims = (await grant(config, bob)).claims();
  assert.equal(bobClaims.email, 'unverified-bob@elsewhere.test');
  assert.equal(bobClaims.email_verified, false);
  assert.equal(bobClaims.preferred_username, 'unverified-bob');
});

test('corp: the second client, tessera-partner, with its own callback', async () => {
  const config = await discover(0, 'tessera-partner', 'partner-secret');
  client.enableNonRepudiationChecks(config);
  const a = await authorize(config, 'partner', 'carol');
  const claims = (await grant(config, a)).claims();
  assert.equal(claims.aud, 'tessera-partner');
  assert.equal(claims.email, 'carol@corp.test');

  // A wrong secret is refused.
  const wrong = await discover(0, 'tessera-partner', 'not-the-secret');
  const b = await authorize(wrong, 'partner', 'carol');
  await assert.rejects(grant(wrong, b), (err) => {
    assert.equal(err.error, 'invalid_client');
    assert.equal(err.status, 401);
    return true;
  });
});

test('corp: PKCE is required', async () => {
  const url = new URL(`${op(0)}/auth`);
  url.search = new URLSearchParams({
    client_id: 'tessera-corp',
    redirect_uri: `${TESSERA}/api/auth/oauth/corp/callback`,
    response_type: 'code',
    scope: 'openid',
    state: 's1',
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  const back = new URL(res.headers.get('location'));
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.match(back.searchParams.get('error_description'), /PKCE/);
});

test('forged: the ID token fails the signature check against jwks_uri', async () => {
  const config = await discover(1, 'tessera-forged', 'forged-secret');
  client.enableNonRepudiationChecks(config);
  const a = await authorize(config, 'forged', 'mallory');
  await assert.rejects(grant(config, a), (err) => {
    assert.equal(err.code, 'OAUTH_INVALID_RESPONSE');
    assert.match(err.cause.message, /JWT signature verification failed/);
    return true;
  });
  // Same kid and alg as the token's header: only the key material differs.
  const jwks = await (await fetch(config.serverMetadata().jwks_uri)).json();
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0].alg, 'RS256');
  assert.equal(jwks.keys[0].d, undefined, 'no private parts published');
  // A relying party that trusts the token endpoint's TLS instead (OpenID
  // Connect Core 3.1.3.7 allows it; openid-client's default) notices nothing.
  const trusting = await discover(1, 'tessera-forged', 'forged-secret');
  const t = await authorize(trusting, 'forged', 'mallory', a.jar);
  assert.equal((await grant(trusting, t)).claims().sub, 'mallory');

  const b = await authorize(config, 'forged', 'mallory', a.jar);
  const raw = await fetch(config.serverMetadata().token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('tessera-forged:forged-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: b.callback.searchParams.get('code'),
      redirect_uri: `${TESSERA}/api/auth/oauth/forged/callback`,
      code_verifier: b.verifier,
    }),
  });
  assert.equal(raw.status, 200);
  assert.equal(decodeJwt((await raw.json()).id_token).header.kid, jwks.keys[0].kid);
});

test('nonce: the ID token carries a nonce other than the one sent', async () => {
  const config = await discover(2, 'tessera-nonce', 'nonce-secret');
  client.enableNonRepudiationChecks(config);
  const a = await authorize(config, 'nonce', 'alice');
  await assert.rejects(grant(config, a), (err) => {
    assert.equal(err.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED');
    assert.equal(err.cause.cause.claim, 'nonce');
    assert.equal(err.cause.cause.claims.nonce, 'not-your-nonce');
    return true;
  });

  const b = await authorize(config, 'nonce', 'alice', a.jar);
  const tokens = await client.authorizationCodeGrant(config, b.callback, {
    pkceCodeVerifier: b.verifier,
    expectedState: b.state,
    expectedNonce: 'not-your-nonce',
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.nonce, 'not-your-nonce');
  assert.notEqual(claims.nonce, b.nonce);
  assert.equal(claims.email, 'alice@corp.test', 'otherwise a normal, correctly signed ID token');
});

test('flaky: the token endpoint answers 503', async () => {
  const config = await discover(3, 'tessera-flaky', 'flaky-secret');
  const a = await authorize(config, 'flaky', 'alice');
  await assert.rejects(grant(config, a), (err) => {
    assert.equal(err.code, 'OAUTH_RESPONSE_IS_NOT_CONFORM');
    assert.equal(err.cause.status, 503);
    return true;
  });
  const raw = await fetch(config.serverMetadata().token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('tessera-flaky:flaky-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: a.callback.searchParams.get('code') }),
  });
  assert.equal(raw.status, 503);
  assert.equal((await raw.json()).error, 'temporarily_unavailable');
});

// ---- the GitHub stub -----------------------------------------------------

const GH_CALLBACK = () => `${TESSERA}/api/auth/oauth/github/callback`;
const UA = { 'user-agent': 'tessera-fixture-test' };

async function ghAuthorize(login, extra = {}) {
  const url = new URL(`${GH}/login/oauth/authorize`);
  url.search = new URLSearchParams({
    client_id: 'gh-client', redirect_uri: GH_CALLBACK(), state: 'st-1', scope: 'read:user user:email', ...extra,
  }).toString();
  const page = await fetch(url);
  assert.equal(page.status, 200);
  const f = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(await page.text());
  assert.ok(f);
  assert.match(f[2], /<input id="login" type="text" name="login"/);
  assert.match(f[2], /<button type="submit"[^>]*>Authorize<\/button>/);
  const fields = new URLSearchParams();
  for (const [, k, v] of f[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields.set(k, v.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))));
  fields.set('login', login);
  const res = await fetch(new URL(f[1], GH), {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields, redirect: 'manual',
  });
  assert.equal(res.status, 302);
  const back = new URL(res.headers.get('location'));
  assert.equal(back.origin + back.pathname, GH_CALLBACK());
  assert.equal(back.searchParams.get('state'), 'st-1');
  return back.searchParams.get('code');
}

test('github stub: authorize, code, token (JSON and form), user and emails; GitHub-style errors', async () => {
  // Bad client or redirect_uri: an error page, no redirect.
  for (const [k, v] of [['client_id', 'nope'], ['redirect_uri', `${TESSERA}/elsewhere`]]) {
    const q = new URLSearchParams({ client_id: 'gh-client', redirect_uri: GH_CALLBACK(), state: 'x', [k]: v });
    const res = await fetch(`${GH}/login/oauth/authorize?${q}`, { redirect: 'manual' });
    assert.equal(res.status, 400);
  }

  // PKCE, HTTP Basic, Accept: application/json.
  const verifier = client.randomPKCECodeVerifier();
  const code = await ghAuthorize('octo', {
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const basic = `Basic ${Buffer.from('gh-client:gh-secret').toString('base64')}`;
  let res = await fetch(`${GH}/login/oauth/access_token`, {
    method: 'POST',
    headers: { authorization: basic, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, redirect_uri: GH_CALLBACK(), code_verifier: verifier }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const tok = await res.json();
  assert.equal(tok.token_type, 'bearer');
  assert.equal(tok.scope, 'read:user user:email');
  assert.ok(tok.access_token);

  // The code is single use: GitHub's 200 with an error.
  res = await fetch(`${GH}/login/oauth/access_token`, {
    method: 'POST',
    headers: { authorization: basic, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, code_verifier: verifier }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).error, 'bad_verification_code');

  // A wrong code_verifier is a bad code too.
  const code2 = await ghAuthorize('octo', {
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  res = await fetch(`${GH}/login/oauth/access_token`, {
    method: 'POST',
    headers: { authorization: basic, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code: code2, code_verifier: client.randomPKCECodeVerifier() }),
  });
  assert.equal((await res.json()).error, 'bad_verification_code');

  // Credentials in the body, no Accept: form-encoded.
  const code3 = await ghAuthorize('unverified-dora');
  res = await fetch(`${GH}/login/oauth/access_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'gh-client', client_secret: 'gh-secret', code: code3 }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/x-www-form-urlencoded/);
  const form3 = new URLSearchParams(await res.text());
  assert.equal(form3.get('token_type'), 'bearer');
  const dora = form3.get('access_token');

  // Wrong secret.
  res = await fetch(`${GH}/login/oauth/access_token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'gh-client', client_secret: 'nope', code: 'x' }),
  });
  assert.equal((await res.json()).error, 'incorrect_client_credentials');

  // api.github.com's /user and /user/emails.
  res = await fetch(`${GH}/api/user`, { headers: { ...UA, authorization: `Bearer ${tok.access_token}` } });
  assert.equal(res.status, 200);
  const user = await res.json();
  assert.deepEqual(user, {
    id: user.id, login: 'octo', name: 'Name of octo', email: null,
  });
  assert.ok(Number.isInteger(user.id) && user.id >= 1000);
  res = await fetch(`${GH}/api/user`, { headers: { ...UA, authorization: `token ${tok.access_token}` } });
  assert.equal((await res.json()).id, user.id, 'a stable id');
  assert.equal(1000 + createHash('sha256').update('octo').digest().readUInt32BE(0) % 1_000_000_000, user.id);

  res = await fetch(`${GH}/api/user/emails`, { headers: { ...UA, authorization: `Bearer ${tok.access_token}` } });
  assert.deepEqual(await res.json(), [
    { email: 'octo@users.noreply.github.com', primary: false, verified: true, visibility: null },
    { email: 'octo@gh.test', primary: true, verified: true, visibility: 'public' },
  ]);
  res = await fetch(`${GH}/api/user/emails`, { headers: { ...UA, authorization: `token ${dora}` } });
  assert.deepEqual((await res.json())[1], {
    email: 'unverified-dora@gh.test', primary: true, verified: false, visibility: 'public',
  });

  // fetch always sends a User-Agent; node:http sends none unless told.
  const noUa = await new Promise((resolve, reject) => {
    httpGet(`${GH}/api/user`, { headers: { authorization: `Bearer ${tok.access_token}` } }, (r) => {
      r.resume();
      r.on('end', () => resolve(r.statusCode));
    }).on('error', reject);
  });
  assert.equal(noUa, 403, 'no User-Agent');
  res = await fetch(`${GH}/api/user`, { headers: { ...UA, authorization: 'Bearer nope' } });
  assert.equal(res.status, 401);
  res = await fetch(`${GH}/api/user/emails`, { headers: UA });
  assert.equal(res.status, 401);
});

// ---- in Chromium, where it is installed ----------------------------------

const CHROMIUM = process.env.CHROMIUM || (() => {
  try { return execSync('command -v chromium || command -v chromium-browser', { encoding: 'utf8', shell: '/bin/sh' }).trim(); } catch { return ''; }
})();

test('in Chromium: corp and the GitHub stub over plain http', { skip: !CHROMIUM && 'no Chromium ($CHROMIUM or chromium on PATH)' }, async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();

    const config = await discover(0, 'tessera-corp', 'corp-secret');
    client.enableNonRepudiationChecks(config);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${TESSERA}/api/auth/oauth/corp/callback`,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'chromium-state',
      nonce: 'chromium-nonce',
    });
    await page.goto(url.href);
    // The development login page.
    assert.equal(await page.locator('h1').textContent(), 'Sign-in');
    await page.locator('input[name="login"]').fill('alice');
    await page.locator('input[name="password"]').fill('anything');
    await Promise.all([page.waitForURL(/\/interaction\//), page.locator('button[type="submit"]', { hasText: 'Sign-in' }).click()]);
    // The development consent page.
    await page.locator('h1', { hasText: 'Authorize' }).waitFor();
    await Promise.all([
      page.waitForURL(`${TESSERA}/api/auth/oauth/corp/callback?**`),
      page.getByRole('button', { name: 'Continue' }).click(),
    ]);
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: verifier, expectedState: 'chromium-state', expectedNonce: 'chromium-nonce', idTokenExpected: true,
    });
    assert.equal(tokens.claims().email, 'alice@corp.test');
    const names = (await context.cookies(op(0))).map((c) => c.name).sort();
    assert.ok(names.includes('corp_session'), names.join(' '));

    // The GitHub stub's page.
    const gh = new URL(`${GH}/login/oauth/authorize`);
    gh.search = new URLSearchParams({ client_id: 'gh-client', redirect_uri: GH_CALLBACK(), state: 'gh-state', scope: 'user:email' }).toString();
    await page.goto(gh.href);
    await page.locator('input[name="login"]').fill('octo');
    await Promise.all([
      page.waitForURL(`${TESSERA}/api/auth/oauth/github/callback?**`),
      page.getByRole('button', { name: 'Authorize' }).click(),
    ]);
    assert.equal(new URL(page.url()).searchParams.get('state'), 'gh-state');
    await context.close();
  } finally {
    await browser.close();
  }
});
