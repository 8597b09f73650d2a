// An OAuth 2.0 server shaped like GitHub's (github.com's OAuth app endpoints
// and api.github.com's user endpoints, all on one port), for Tessera's
// "sign in with GitHub" tests. No dependencies: node:http only.
//
//   GET|POST /login/oauth/authorize   client gh-client, redirect_uri
//                                     ${TESSERA_BASE_URL}/api/auth/oauth/github/callback;
//                                     a form with input name="login" and an
//                                     "Authorize" button, then 302 to
//                                     redirect_uri?code=...&state=...
//   POST /login/oauth/access_token    client secret gh-secret (HTTP Basic or
//                                     in the body); JSON if Accept asks for
//                                     it, else form-encoded; a bad code is
//                                     HTTP 200 {error: bad_verification_code}
//   GET /api/user, /api/user/emails   Authorization: Bearer|token <token>;
//                                     a User-Agent is required (403 without)
//
// Env: GITHUB_STUB_PORT, TESSERA_BASE_URL. Prints "github-stub ready" once
// listening; exits on SIGTERM or SIGINT.
import { createServer } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PORT = Number(process.env.GITHUB_STUB_PORT);
const TESSERA = (process.env.TESSERA_BASE_URL || '').replace(/\/+$/, '');
if (!Number.isInteger(PORT) || PORT <= 0 || !TESSERA) {
  console.error('github-stub: set GITHUB_STUB_PORT and TESSERA_BASE_URL');
  process.exit(2);
}
const CLIENT_ID = 'gh-client';
const CLIENT_SECRET = 'gh-secret';
const REDIRECT_URI = `${TESSERA}/api/auth/oauth/github/callback`;
const CODE_TTL_MS = 10 * 60 * 1000;

const codes = new Map(); // code -> { login, scope, redirectUri, codeChallenge, codeChallengeMethod, expires }
const tokens = new Map(); // access token -> { login, scope }

const b64url = (buf) => buf.toString('base64url');
const random = (n = 20) => randomBytes(n).toString('hex');

// A stable numeric id per login.
function userId(login) {
  return 1000 + createHash('sha256').update(login).digest().readUInt32BE(0) % 1_000_000_000;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}
const json = (res, status, obj, headers) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(obj), headers);
const html = (res, status, title, body) => send(res, status, 'text/html; charset=utf-8',
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title><body>${body}</body></html>`);

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// Query and (for POST) form body, body winning.
async function params(req, url) {
  const out = new URLSearchParams(url.search);
  if (req.method === 'POST') {
    const body = await readBody(req);
    const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    let fields;
    if (type === 'application/json') {
      fields = Object.entries(body ? JSON.parse(body) : {}).map(([k, v]) => [k, String(v)]);
    } else {
      fields = [...new URLSearchParams(body)];
    }
    for (const [k, v] of fields) out.set(k, v);
  }
  return out;
}

function same(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

async function authorize(req, res, url) {
  const p = await params(req, url);
  if (p.get('client_id') !== CLIENT_ID) {
    return html(res, 400, 'Bad request', `<h1>The client_id is not valid</h1><p id="error">unknown client_id ${escapeHtml(p.get('client_id') ?? '')}</p>`);
  }
  if (p.get('redirect_uri') !== REDIRECT_URI) {
    return html(res, 400, 'Bad request', `<h1>The redirect_uri MUST match the registered callback URL for this application.</h1><p id="error">redirect_uri_mismatch</p>`);
  }
  const method = p.get('code_challenge_method') || (p.get('code_challenge') ? 'plain' : null);
  if (method && method !== 'S256' && method !== 'plain') {
    return html(res, 400, 'Bad request', '<h1>Unsupported code_challenge_method</h1>');
  }
  const login = (p.get('login') || '').trim();
  if (!login) {
    const hidden = ['client_id', 'redirect_uri', 'state', 'scope', 'code_challenge', 'code_challenge_method']
      .filter((k) => p.has(k))
      .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(p.get(k))}">`)
      .join('');
    return html(res, 200, 'Authorize application', `<h1>Authorize gh-client</h1>
<p>gh-client wants to access your account (scope: <span id="scope">${escapeHtml(p.get('scope') || '')}</span>).</p>
<form method="post" action="/login/oauth/authorize">${hidden}
<label for="login">Username</label> <input id="login" type="text" name="login" required autofocus>
<button type="submit" name="authorize" value="1">Authorize</button>
</form>`);
  }
  const code = random(10);
  codes.set(code, {
    login,
    scope: p.get('scope') || '',
    redirectUri: p.get('redirect_uri'),
    codeChallenge: p.get('code_challenge'),
    codeChallengeMethod: method,
    expires: Date.now() + CODE_TTL_MS,
  });
  const back = new URL(p.get('redirect_uri'));
  back.searchParams.set('code', code);
  if (p.has('state')) back.searchParams.set('state', p.get('state'));
  res.writeHead(302, { location: back.href, 'cache-control': 'no-store' });
  res.end();
}

async function accessToken(req, res, url) {
  const p = await params(req, url);
  const wantsJson = /application\/json/i.test(req.headers.accept || '');
  const answer = (status, obj) => (wantsJson
    ? json(res, status, obj)
    : send(res, status, 'application/x-www-form-urlencoded; charset=utf-8', new URLSearchParams(obj).toString()));

  let clientId = p.get('client_id');
  let clientSecret = p.get('client_secret');
  const auth = req.headers.authorization || '';
  if (/^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
  }
  if (clientId !== CLIENT_ID || !same(clientSecret ?? '', CLIENT_SECRET)) {
    return answer(200, {
      error: 'incorrect_client_credentials',
      error_description: 'The client_id and/or client_secret passed are incorrect.',
      error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials',
    });
  }
  const badCode = () => answer(200, {
    error: 'bad_verification_code',
    error_description: 'The code passed is incorrect or expired.',
    error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
  });
  const code = p.get('code');
  const grant = code ? codes.get(code) : undefined;
  if (!grant) return badCode();
  codes.delete(code); // single use, whatever happens next
  if (grant.expires < Date.now()) return badCode();
  if (p.has('redirect_uri') && p.get('redirect_uri') !== grant.redirectUri) {
    return answer(200, {
      error: 'redirect_uri_mismatch',
      error_description: 'The redirect_uri MUST match the registered callback URL for this application.',
    });
  }
  if (grant.codeChallenge) {
    const verifier = p.get('code_verifier');
    if (verifier) {
      const computed = grant.codeChallengeMethod === 'S256'
        ? b64url(createHash('sha256').update(verifier).digest())
        : verifier;
      if (!same(computed, grant.codeChallenge)) return badCode();
    }
  }
  const token = `gho_${random(18)}`;
  tokens.set(token, { login: grant.login, scope: grant.scope });
  return answer(200, { access_token: token, token_type: 'bearer', scope: grant.scope });
}

function api(req, res, url) {
  if (!req.headers['user-agent']) {
    return json(res, 403, {
      message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).',
    });
  }
  const m = /^(?:bearer|token)\s+(\S+)$/i.exec(req.headers.authorization || '');
  const grant = m ? tokens.get(m[1]) : undefined;
  if (!grant) {
    return json(res, 401, { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest', status: '401' },
      { 'www-authenticate': 'Bearer realm="GitHub"' });
  }
  const { login } = grant;
  if (url.pathname === '/api/user') {
    return json(res, 200, { id: userId(login), login, name: `Name of ${login}`, email: null });
  }
  return json(res, 200, [
    { email: `${login}@users.noreply.github.com`, primary: false, verified: true, visibility: null },
    {
      email: login.includes('@') ? login : `${login}@gh.test`,
      primary: true,
      verified: !login.startsWith('unverified'),
      visibility: 'public',
    },
  ]);
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, `http://127.0.0.1:${PORT}`);
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    switch (route) {
      case 'GET /login/oauth/authorize':
      case 'POST /login/oauth/authorize':
        return await authorize(req, res, url);
      case 'POST /login/oauth/access_token':
        return await accessToken(req, res, url);
      case 'GET /api/user':
      case 'GET /api/user/emails':
        return api(req, res, url);
      default:
        return json(res, 404, { message: 'Not Found' });
    }
  } catch (err) {
    console.error(`github-stub: ${err.stack || err}`);
    if (!res.headersSent) json(res, 400, { message: String(err.message || err) });
    else res.end();
  }
});

server.once('error', (err) => {
  console.error(`github-stub: ${err.message}`);
  process.exit(1);
});
server.listen(PORT, '127.0.0.1', () => console.log('github-stub ready'));

function stop() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
