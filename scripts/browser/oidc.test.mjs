// Tessera as an OpenID Provider (issue 18), with openid-client (an
// OpenID-certified relying-party library) as the application and Chromium
// as the person's browser: discovery, the authorization code flow with PKCE
// through the hosted sign-in and consent pages, the token exchange with the
// ID token checked by the library, UserInfo, the refresh, and RP-initiated
// logout. scripts/browser.sh registers the client (`tessera client create`)
// and the account, and sets BASE_URL, CHROMIUM, RP_PORT, OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET, OIDC_USER and OIDC_PASSWORD.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import * as client from 'openid-client';

const BASE = process.env.BASE_URL;
const RP = `http://127.0.0.1:${process.env.RP_PORT}`;
const CALLBACK = `${RP}/callback`;
const GOODBYE = `${RP}/goodbye`;

let browser;
let rp;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  // The application's own pages: where the browser comes back to.
  rp = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>RP</title><p id="rp">${req.url.split('?')[0]}</p>`);
  });
  await new Promise((ok) => rp.listen(Number(process.env.RP_PORT), '127.0.0.1', ok));
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => (rp ? rp.close(ok) : ok()));
});

test('openid-client signs a person in through the hosted pages, refreshes and logs out', async () => {
  // Plain http on loopback: the library wants https unless told otherwise.
  const config = await client.discovery(
    new URL(BASE),
    process.env.OIDC_CLIENT_ID,
    process.env.OIDC_CLIENT_SECRET,
    undefined,
    { execute: [client.allowInsecureRequests] },
  );
  assert.equal(config.serverMetadata().issuer, BASE);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(url.href);
  assert.equal(new URL(page.url()).pathname, '/ui/sign-in', 'not signed in: the sign-in page');
  await page.getByLabel('Username, e-mail or phone').fill(process.env.OIDC_USER);
  await page.getByLabel('Password', { exact: true }).fill(process.env.OIDC_PASSWORD);
  await Promise.all([page.waitForURL(/\/oauth\/authorize/), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  // The consent page names the application and the scopes.
  assert.equal(await page.locator('#client-name').textContent(), 'Wiki');
  assert.match(await page.locator('#scopes').textContent(), /offline_access/);
  await Promise.all([page.waitForURL(`${CALLBACK}?**`), page.locator('#allow').click()]);
  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), state);

  const tokens = await client.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, BASE);
  assert.equal(claims.aud, process.env.OIDC_CLIENT_ID);
  assert.equal(claims.email, process.env.OIDC_EMAIL);
  assert.equal(claims.preferred_username, process.env.OIDC_USER);
  assert.deepEqual(claims.amr, ['pwd']);

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, process.env.OIDC_EMAIL);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, claims.sub);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');

  // A second authorization: signed in and consented, straight back.
  const again = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  await page.goto(again.href);
  assert.equal(new URL(page.url()).origin + new URL(page.url()).pathname, CALLBACK);

  // RP-initiated logout: back to the application, the sessions ended.
  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token,
    post_logout_redirect_uri: GOODBYE,
    state: 'bye-1',
  });
  await page.goto(logout.href);
  const landed = new URL(page.url());
  assert.equal(landed.origin + landed.pathname, GOODBYE);
  assert.equal(landed.searchParams.get('state'), 'bye-1');
  await assert.rejects(
    client.fetchUserInfo(config, refreshed.access_token, claims.sub),
    'the client session ended with the logout',
  );
  await page.goto(`${BASE}/ui/account`);
  assert.equal(new URL(page.url()).pathname, '/ui/sign-in', 'the browser session ended too');
  await context.close();
});
