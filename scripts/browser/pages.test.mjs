// Tessera's hosted pages in Chromium (scripts/browser.sh starts the server
// and sets BASE_URL, MAIL_DIR, CHROMIUM, SCREENSHOT_DIR, ADMIN_PASSWORD).
// Each page a test reaches is checked with axe-core (no serious or critical
// violation) and screenshotted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import * as OTPAuth from 'otpauth';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE_URL;
const MAIL_DIR = process.env.MAIL_DIR;
const SHOTS = process.env.SCREENSHOT_DIR;
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
const PASSWORD = 'Violet-Harbor-Lantern-42';

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
});

after(async () => {
  await browser?.close();
});

/** A fresh browser profile (its own cookies), in `locale`. */
async function person(locale = 'en-US') {
  const context = await browser.newContext({ locale, viewport: { width: 960, height: 720 } });
  const page = await context.newPage();
  return { context, page };
}

/** Checks the page with axe-core and saves a screenshot as `name`.png. */
async function checked(page, name) {
  // Evaluated through the DevTools protocol: the pages' CSP forbids scripts,
  // and this bypasses it without loosening it for the page.
  await page.evaluate(AXE);
  const results = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  const bad = results.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
    [],
    `${name}: axe-core found serious or critical violations`,
  );
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** The 6 digits after `marker` in the newest mail to `to` (quoted-printable decoded). */
async function mailedCode(to, marker, after = 0) {
  return mailedText(to, marker, 6, after);
}

/** The `length` characters after `marker` in the newest mail to `to`. */
async function mailedText(to, marker, length, after = 0) {
  for (let i = 0; i < 100; i++) {
    let files = [];
    try {
      files = readdirSync(MAIL_DIR)
        .filter((f) => f.endsWith('.eml'))
        .map((f) => join(MAIL_DIR, f))
        .filter((f) => statSync(f).mtimeMs >= after);
    } catch {
      files = [];
    }
    const found = files
      .map((f) => ({
        at: statSync(f).mtimeMs,
        text: readFileSync(f, 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '='),
      }))
      .filter((m) => m.text.includes(`To: ${to}`) && m.text.includes(marker))
      .sort((a, b) => a.at - b.at);
    if (found.length > 0) {
      const text = found[found.length - 1].text;
      const at = text.indexOf(marker) + marker.length;
      return text.slice(at, at + length);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} containing ${marker}`);
}

async function signIn(page, identifier, password, base = BASE) {
  await page.goto(`${base}/ui/sign-in`);
  await page.getByLabel('Username, e-mail or phone').fill(identifier);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signUpAndVerify(page, username, email, base = BASE) {
  await page.goto(`${base}/ui/sign-up`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByText('Your account was created').waitFor();
  await page.getByRole('link', { name: 'Verify e-mail' }).click();
  const code = await mailedCode(email, 'Your verification code is ');
  await page.getByLabel('Code').fill(code);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('Email verified').waitFor();
}

test('sign up, verify by the mailed code, sign in, change password, end the other session, sign out', async () => {
  const { context, page } = await person();
  await page.goto(`${BASE}/`);
  assert.equal(new URL(page.url()).pathname, '/ui/sign-in', 'the home page asks to sign in');
  await checked(page, 'sign-in');

  await page.getByRole('link', { name: 'Sign up' }).first().click();
  await page.getByText('Password: characters: 8–256').waitFor();
  await checked(page, 'sign-up');
  await page.getByLabel('Username').fill('ann');
  await page.getByLabel('E-mail').fill('ann@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByText('Your account was created').waitFor();
  await page.getByRole('link', { name: 'Verify e-mail' }).click();
  assert.equal(await page.getByLabel('E-mail').inputValue(), 'ann@example.com');
  await checked(page, 'verify-email');
  const code = await mailedCode('ann@example.com', 'Your verification code is ');
  await page.getByLabel('Code').fill(code);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('Email verified').waitFor();

  await signIn(page, 'ann', PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/ui/account');
  await page.getByText('ann@example.com (verified)').waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-tessera-session');
  assert.ok(session, 'the session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, 'Lax');
  assert.equal(await page.evaluate(() => document.cookie.includes('tessera-session')), false, 'not readable by scripts');

  // A second device signs in: two sessions, and the other one can be ended.
  const phone = await person();
  await signIn(phone.page, 'ann@example.com', PASSWORD);
  await page.reload();
  assert.equal(await page.locator('tbody tr').count(), 2, 'two sessions listed');
  await checked(page, 'account');
  await page.getByRole('button', { name: /^End: / }).click();
  await page.getByText('Sessions ended.').waitFor();
  assert.equal(await page.locator('tbody tr').count(), 1);
  await phone.page.reload();
  assert.equal(new URL(phone.page.url()).pathname, '/ui/sign-in', 'the ended session asks to sign in again');
  await phone.context.close();

  // Change the password.
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password').fill('Copper-Meadow-Signal-77');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Your password was changed').waitFor();

  // Sign out.
  await page.getByRole('button', { name: 'Sign out' }).click();
  assert.equal(new URL(page.url()).pathname, '/ui/signed-out');
  await checked(page, 'signed-out');
  await page.goto(`${BASE}/ui/account`);
  assert.equal(new URL(page.url()).pathname, '/ui/sign-in');
  await signIn(page, 'ann', 'Copper-Meadow-Signal-77');
  assert.equal(new URL(page.url()).pathname, '/ui/account', 'the new password signs in');
  await context.close();
});

test('forgot password: a mailed code resets it', async () => {
  const { context, page } = await person();
  await signUpAndVerify(page, 'bea', 'bea@example.com');
  const since = Date.now();
  await page.goto(`${BASE}/ui/forgot-password`);
  await checked(page, 'forgot-password');
  await page.getByLabel('Username, e-mail or phone').fill('bea');
  await page.getByLabel('E-mail / Phone').fill('bea@example.com');
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByText('Code sent').waitFor();
  await checked(page, 'reset-password');
  const code = await mailedCode('bea@example.com', 'Your password reset code is ', since - 1000);
  await page.getByLabel('Code').fill(code);
  await page.getByLabel('New password').fill('Amber-Falcon-Orchard-58');
  await page.getByRole('button', { name: 'Reset password' }).click();
  await page.getByText('Your password was reset').waitFor();
  await signIn(page, 'bea', 'Amber-Falcon-Orchard-58');
  assert.equal(new URL(page.url()).pathname, '/ui/account');
  await context.close();
});

test('an administrator disables a user: that browser is signed out at its next click', async () => {
  const carol = await person();
  await signUpAndVerify(carol.page, 'carol', 'carol@example.com');
  await signIn(carol.page, 'carol', PASSWORD);
  assert.equal(new URL(carol.page.url()).pathname, '/ui/account');

  const admin = await person();
  await signIn(admin.page, 'root', ADMIN_PASSWORD);
  await admin.page.getByRole('link', { name: 'Administration' }).click();
  assert.equal(new URL(admin.page.url()).pathname, '/ui/admin/users');
  await checked(admin.page, 'admin-users');
  await admin.page.getByLabel('Search').fill('carol');
  await admin.page.getByRole('button', { name: 'Search' }).click();
  await admin.page.getByRole('link', { name: 'carol' }).click();
  await checked(admin.page, 'admin-user');
  await admin.page.getByRole('button', { name: 'Disable the account' }).click();
  await admin.page.getByText('User disabled', { exact: false }).first().waitFor();

  await carol.page.getByRole('link', { name: 'carol' }).click();
  assert.equal(new URL(carol.page.url()).pathname, '/ui/sign-in', 'the disabled account is signed out');

  await admin.page.getByRole('link', { name: 'Audit log' }).click();
  await admin.page.locator('td', { hasText: 'user_disabled' }).first().waitFor();
  await checked(admin.page, 'admin-audit');
  await carol.context.close();
  await admin.context.close();
});

test('a form whose CSRF token was changed is refused and changes nothing', async () => {
  const { context, page } = await person();
  await signUpAndVerify(page, 'dan', 'dan@example.com');
  await signIn(page, 'dan', PASSWORD);
  await page.evaluate(() => {
    document.querySelector('form[action="/ui/account/password"] input[name="csrf"]').value = 'forged';
  });
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password').fill('Forged-Change-Pass-31');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/ui/account/password')),
    page.getByRole('button', { name: 'Change password' }).click(),
  ]);
  assert.equal(response.status(), 403);
  await page.getByText('This form has expired').waitFor();
  const other = await person();
  await signIn(other.page, 'dan', PASSWORD);
  assert.equal(new URL(other.page.url()).pathname, '/ui/account', 'the old password still works');
  await other.context.close();
  await context.close();
});

test('return_to: a foreign origin is refused, an allowed one is followed', async () => {
  const { context, page } = await person();
  const refused = await page.goto(`${BASE}/ui/sign-in?return_to=${encodeURIComponent('https://evil.example/')}`);
  assert.equal(refused.status(), 400);
  await page.getByText('is not one this server may send you to').waitFor();
  const port = new URL(BASE).port;
  const allowed = `http://localhost:${port}/ui/signed-out`;
  await page.goto(`${BASE}/ui/sign-in?return_to=${encodeURIComponent(allowed)}`);
  await page.getByLabel('Username, e-mail or phone').fill('root');
  await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(allowed);
  await context.close();
});

test('the language follows Accept-Language, then the switcher', async () => {
  const { context, page } = await person('zh-CN');
  await page.goto(`${BASE}/ui/sign-in`);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await page.getByRole('button', { name: '登录', exact: true }).waitFor();
  await checked(page, 'sign-in-zh');
  await page.getByRole('link', { name: 'English' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(new URL(page.url()).pathname, '/ui/sign-in');
  await page.reload();
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  await context.close();
});

/** Waits until the current 30-second TOTP step has at least 8 s left. */
async function earlyInAStep() {
  const into = Math.floor(Date.now() / 1000) % 30;
  if (into > 22) await new Promise((r) => setTimeout(r, (31 - into) * 1000));
}

test('two-step verification: set up from the QR page, sign in with the app\'s code, then with a recovery code', async () => {
  const { context, page } = await person();
  await signUpAndVerify(page, 'dora', 'dora@example.com');
  await signIn(page, 'dora', PASSWORD);
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
  await qr.waitFor();
  assert.ok((await qr.locator('svg').count()) === 1, 'the QR code is an inline SVG');
  await checked(page, 'totp-setup');
  // What an authenticator app does with the key (otpauth from the npm registry).
  const key = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(key), algorithm: 'SHA1', digits: 6, period: 30 });
  await earlyInAStep();
  await page.getByLabel('Code', { exact: true }).fill(app.generate({ timestamp: Date.now() - 30_000 }));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
  const codes = await page.locator('#recovery-codes code').allInnerTexts();
  assert.equal(codes.length, 10);
  assert.ok(codes.every((c) => /^\d{4}-\d{4}-\d{4}$/.test(c)), codes.join(' '));
  await checked(page, 'recovery-codes');
  await page.getByRole('link', { name: 'Back to the account' }).click();
  await page.getByText('Two-step verification is on').waitFor();
  await checked(page, 'account-totp');
  await page.getByRole('button', { name: 'Sign out' }).click();

  // The password alone is not enough: the second step asks for the code.
  await signIn(page, 'dora', PASSWORD);
  await page.getByText('Enter the 6-digit code from your authenticator app').waitFor();
  await checked(page, 'second-factor');
  assert.ok(
    !(await context.cookies()).some((c) => c.name.endsWith('tessera-session')),
    'no session before the second factor',
  );
  await page.getByLabel('Code').fill(app.generate());
  await page.getByRole('button', { name: 'Verify' }).click();
  assert.equal(new URL(page.url()).pathname, '/ui/account');
  await page.getByRole('button', { name: 'Sign out' }).click();

  // A lost phone: a recovery code signs in once.
  await signIn(page, 'dora', PASSWORD);
  await page.getByLabel('Code').fill(codes[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  assert.equal(new URL(page.url()).pathname, '/ui/account');
  assert.equal(await page.locator('#recovery-left').innerText(), '9');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'dora', PASSWORD);
  await page.getByLabel('Code').fill(codes[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText(/Wrong code, \d tries left/).waitFor();
  assert.equal(new URL(page.url()).pathname, '/ui/sign-in/second-factor', 'a used code is refused');
  await context.close();
});

test('passkeys: added on the account page, then signing in with the passkey alone and as the second step', async () => {
  // WebAuthn needs a secure context whose host the RP id (`localhost`) covers.
  const local = BASE.replace('127.0.0.1', 'localhost');
  const { context, page } = await person();
  // Chromium's virtual authenticator: a platform passkey (internal
  // transport) that keeps discoverable credentials and verifies the user.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  await signUpAndVerify(page, 'penny', 'penny@example.com', local);
  await signIn(page, 'penny', PASSWORD, local);
  await page.getByLabel('Name', { exact: true }).fill('Work laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  // The first factor: its recovery codes, shown once.
  await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
  assert.equal((await page.locator('#recovery-codes code').allInnerTexts()).length, 10);
  await page.getByRole('link', { name: 'Back to the account' }).click();
  await page.locator('.passkey-name', { hasText: 'Work laptop' }).waitFor();
  await page.locator('#passkeys-title').scrollIntoViewIfNeeded();
  await checked(page, 'account-passkeys');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.ok(credentials[0].isResidentCredential, 'a discoverable credential');
  await page.getByRole('button', { name: 'Sign out' }).click();

  // No username, no password: the passkey alone, from the button ...
  await page.goto(`${local}/ui/sign-in`);
  await checked(page, 'sign-in-passkey');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL(`${local}/ui/account`);
  await page.locator('.passkey-name', { hasText: 'Work laptop' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  // ... and from the identifier field's autofill (conditional mediation,
  // begun at the field's focus; the virtual authenticator picks the passkey
  // as a person would from the list).
  await page.goto(`${local}/ui/sign-in`);
  await page.getByLabel('Username, e-mail or phone').focus();
  await page.waitForURL(`${local}/ui/account`);
  await page.getByRole('button', { name: 'Sign out' }).click();

  // The password asks for the second step; the passkey answers it. (The
  // authenticator waits for a person meanwhile, so that the autofill does
  // not answer while the password is typed.)
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
  await signIn(page, 'penny', PASSWORD, local);
  await page.getByRole('button', { name: 'Use a passkey' }).waitFor();
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.waitForURL(`${local}/ui/account`);
  const { credentials: used } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(used[0].signCount >= 3, `three assertions signed: ${used[0].signCount}`);

  // Renamed, then removed: the password alone signs in again.
  await page.getByLabel('Name', { exact: true }).first().fill('Old laptop');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByText('Passkey renamed.').waitFor();
  await page.getByRole('button', { name: 'Remove Old laptop' }).click();
  await page.getByText('Passkey removed.').waitFor();
  assert.equal(await page.locator('.passkey-name').count(), 0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
  await signIn(page, 'penny', PASSWORD, local);
  await page.waitForURL(`${local}/ui/account`);
  await context.close();
});

test('a new e-mail address by its code, undone from the old address, then a sign-in by a mailed code', async () => {
  const { context, page } = await person();
  await signUpAndVerify(page, 'ines', 'ines@example.com');
  await signIn(page, 'ines', PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/ui/account');

  // Change the address: a code goes to the new one.
  await page.getByLabel('New e-mail address').fill('ines.new@example.com');
  await page.locator('form[action="/ui/account/email"]').getByRole('button', { name: 'Send code' }).click();
  await page.getByText('A code was sent to ines.new@example.com').waitFor();
  await checked(page, 'account-email-code');
  const code = await mailedCode('ines.new@example.com', 'Your code is ');
  await page.getByLabel('The code that was sent').fill(code);
  await page.getByRole('button', { name: 'Confirm the change' }).click();
  await page.getByText('Changed. The previous address').waitFor();
  await page.getByText('ines.new@example.com (verified)').waitFor();

  // The old address's link undoes it, and this browser is signed out.
  const token = await mailedText('ines@example.com', '/ui/account/revert?token=', 64);
  const owner = await person();
  await owner.page.goto(`${BASE}/ui/account/revert?token=${token}`);
  await owner.page.getByText('in place of ines.new@example.com').waitFor();
  await checked(owner.page, 'undo-change');
  await owner.page.getByRole('button', { name: 'Undo the change' }).click();
  await owner.page.getByText('The change was undone').waitFor();
  await owner.context.close();
  await page.reload();
  assert.equal(new URL(page.url()).pathname, '/ui/sign-in', 'every session ended');

  // Sign in with a code mailed to the restored address.
  const since = Date.now();
  await page.getByRole('link', { name: 'Sign in with a code instead' }).click();
  await checked(page, 'sign-in-code');
  await page.getByLabel('Username, e-mail or phone').fill('ines@example.com');
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByText('If an account may sign in with it').waitFor();
  const signInCode = await mailedCode('ines@example.com', 'Your sign-in code is ', since - 1000);
  await page.getByLabel('Code', { exact: true }).fill(signInCode);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${BASE}/ui/account`);
  await page.getByText('ines@example.com (verified)').waitFor();
  await context.close();
});
