// Signing in through upstream identity providers (issue 19) in Chromium,
// against real providers running locally: oidc-provider (panva's
// OpenID-certified OP, scripts/browser/upstream-op.mjs) as "corp" and
// "partner" (trusted to link by address), three misbehaving instances of it
// ("forged" ID-token keys, "nonce" mismatch, "flaky" token endpoint), an
// address nobody listens on ("down"), and an OAuth 2.0 server shaped like
// GitHub's (scripts/browser/github-stub.mjs) as the "github" preset.
// scripts/browser.sh starts them and Tessera with UPSTREAM_* settings, and
// creates the accounts olga (olga@example.com), pat (pat@corp.test) and
// uvuser (unverified-uv@corp.test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE_URL;

/** axe-core finds no serious or critical violation; a screenshot as `name`.png. */
async function checked(page, name) {
  await page.evaluate(AXE);
  // eslint-disable-next-line no-undef
  const results = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
  const bad = results.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
    [],
    `${name}: axe-core found serious or critical violations`,
  );
  await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
});

after(async () => {
  await browser?.close();
});

async function freshPage() {
  const context = await browser.newContext({ locale: 'en-US' });
  return context.newPage();
}

// Clicks a provider's button on the hosted sign-in page.
async function startAt(page, name) {
  await page.goto(`${BASE}/ui/sign-in`);
  await page.getByRole('link', { name, exact: true }).click();
}

// oidc-provider's development login and consent pages.
async function upstreamSignIn(page, login) {
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function accountText(page) {
  await page.waitForURL(`${BASE}/ui/account**`);
  return page.locator('main').innerText();
}

test('a first sign-in through an OpenID provider creates the account, the next returns to it', async () => {
  const page = await freshPage();
  await startAt(page, 'Corp');
  await upstreamSignIn(page, 'alice');
  const text = await accountText(page);
  assert.match(text, /alice@corp\.test/);
  await checked(page, 'account-connected');
  assert.match(text, /Connected accounts/);
  assert.equal(await page.locator('.card.identity').count(), 1);
  // Signed out, then in again: the provider remembers the person, Tessera
  // the link.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await startAt(page, 'Corp');
  assert.match(await accountText(page), /alice@corp\.test/);
  await page.context().close();
});

test('an existing verified address links only after the account signs in and confirms', async () => {
  const page = await freshPage();
  await startAt(page, 'Corp');
  await upstreamSignIn(page, process.env.OIDC_EMAIL);
  await page.waitForURL(`${BASE}/ui/sign-in?**`);
  await page.getByLabel('Username, e-mail or phone').fill(process.env.OIDC_USER);
  await page.getByLabel('Password', { exact: true }).fill(process.env.OIDC_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // The pending link is this browser's cookie: the account page asks.
  await page.waitForURL(`${BASE}/ui/account`);
  assert.match(await page.locator('#confirm-link').innerText(), /olga@example\.com/);
  await checked(page, 'account-confirm-link');
  await page.locator('#confirm-link button').click();
  await page.waitForURL(`${BASE}/ui/account?done=linked`);
  assert.equal(await page.locator('.card.identity').count(), 1);
  // olga has a password: the identity may be disconnected.
  await page.getByRole('button', { name: /^Disconnect/ }).click();
  await page.waitForURL(`${BASE}/ui/account?done=unlinked`);
  assert.equal(await page.locator('.card.identity').count(), 0);
  await page.context().close();
});

test('a provider trusted for linking links a verified address at once; an unverified one never links', async () => {
  const page = await freshPage();
  await startAt(page, 'Partner');
  await upstreamSignIn(page, 'pat');
  assert.match(await accountText(page), /pat@corp\.test/);
  await page.context().close();

  const other = await freshPage();
  await startAt(other, 'Corp');
  await upstreamSignIn(other, 'unverified-uv');
  await other.waitForURL(`${BASE}/api/auth/oauth/corp/callback?**`);
  assert.match(await other.locator('main').innerText(), /already uses this e-mail address/);
  await other.context().close();
});

for (const [name, pattern] of [
  ['Forged', /could not be accepted/],
  ['Nonce', /could not be accepted/],
  ['Flaky', /unavailable/],
]) {
  test(`${name}: the provider's bad answer is a clear page, and nobody is signed in`, async () => {
    const page = await freshPage();
    await startAt(page, name);
    await upstreamSignIn(page, `victim-${name.toLowerCase()}`);
    await page.waitForURL(`${BASE}/api/auth/oauth/**/callback?**`);
    const main = await page.locator('main').innerText();
    assert.match(main, pattern);
    await page.goto(`${BASE}/ui/account`);
    assert.match(page.url(), /\/ui\/sign-in/);
    await page.context().close();
  });
}

test('a provider that is down, and a callback this browser did not start, get clear pages', async () => {
  const page = await freshPage();
  await startAt(page, 'Down');
  assert.match(await page.locator('main').innerText(), /unavailable/);
  const response = await page.goto(`${BASE}/api/auth/oauth/corp/callback?state=forged&code=stolen`);
  assert.equal(response.status(), 400);
  assert.match(await page.locator('main').innerText(), /started in another browser/);
  await page.context().close();
});

test('GitHub: the verified primary address from its e-mail list makes the account', async () => {
  const page = await freshPage();
  await startAt(page, 'GitHub');
  await page.fill('input[name="login"]', 'octocat');
  await page.getByRole('button', { name: 'Authorize' }).click();
  assert.match(await accountText(page), /octocat@gh\.test/);
  await page.context().close();
});

test('an API client exchanges its one-time code with its PKCE verifier for tokens', async () => {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const returnTo = `${process.env.APP_RETURN_TO}`;
  const page = await freshPage();
  const start = new URL(`${BASE}/api/auth/oauth/corp/start`);
  start.searchParams.set('return_to', returnTo);
  start.searchParams.set('code_challenge', challenge);
  start.searchParams.set('code_challenge_method', 'S256');
  await page.goto(start.href);
  await upstreamSignIn(page, 'spa-user');
  await page.waitForURL(`${returnTo}?**`);
  const code = new URL(page.url()).searchParams.get('code');
  assert.ok(code);
  await page.context().close();
  const exchange = (body) =>
    fetch(`${BASE}/api/auth/oauth/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const tokens = await exchange({ code, code_verifier: verifier });
  assert.equal(tokens.status, 200);
  const body = await tokens.json();
  const identities = await fetch(`${BASE}/api/auth/identities`, {
    headers: { authorization: `Bearer ${body.access_token}` },
  });
  const list = await identities.json();
  assert.equal(list.identities[0].provider, 'corp');
  assert.equal(list.identities[0].email, 'spa-user@corp.test');
  const replay = await exchange({ code, code_verifier: verifier });
  assert.equal(replay.status, 400);
});

test('the sign-in page offers the providers; the admin console lists and adds them', async () => {
  const page = await freshPage();
  await page.goto(`${BASE}/ui/sign-in`);
  await checked(page, 'sign-in-providers');
  await page.getByLabel('Username, e-mail or phone').fill('root');
  await page.getByLabel('Password', { exact: true }).fill(process.env.ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${BASE}/ui/account`);
  await page.goto(`${BASE}/ui/admin/providers`);
  assert.match(await page.locator('#providers').innerText(), /configuration \(read-only\)/);
  await checked(page, 'admin-providers');
  await page.fill('#id', 'acme');
  await page.fill('#provider-name', 'ACME SSO');
  await page.fill('#issuer', 'https://sso.acme.example');
  await page.fill('#provider-client-id', 'tessera');
  await page.fill('#provider-client-secret', 'secret');
  await page.getByRole('button', { name: 'Add a provider' }).click();
  await page.waitForURL(`${BASE}/ui/admin/providers`);
  assert.match(await page.locator('#providers').innerText(), /ACME SSO/);
  await page.getByRole('button', { name: 'Remove: ACME SSO' }).click();
  await page.waitForURL(`${BASE}/ui/admin/providers`);
  assert.doesNotMatch(await page.locator('main').innerText(), /ACME SSO/);
  await page.context().close();
});
