// Upstream OpenID Providers for Tessera's "sign in with ..." tests: four
// instances of oidc-provider (panva's OpenID-certified OP), each on its own
// port of 127.0.0.1 with issuer http://127.0.0.1:<port>, and each with the
// library's development interactions (a login form taking any login and
// password, then a consent page with a "Continue" button).
//
//   corp   on B     a normal provider; clients tessera-corp and tessera-partner
//   forged on B+1   publishes at its jwks_uri a different public key under the
//                   kid it signs with: its ID tokens fail signature checks
//   nonce  on B+2   rewrites the nonce of each authorization request: its ID
//                   tokens never carry the nonce the relying party sent
//   flaky  on B+3   its token endpoint answers 503
//
// Env: UPSTREAM_OP_BASE_PORT (B), TESSERA_BASE_URL (the redirect URIs are
// ${TESSERA_BASE_URL}/api/auth/oauth/<id>/callback). Prints "upstream-op
// ready" once all four listen; exits on SIGTERM or SIGINT.
//
// oidc-provider is pinned to 8.8.1: the 9.x line warns "Unsupported
// runtime" below Node.js 22, and 8.x supports Node.js 18 and 20.
//
// Accounts: any login is an account. sub = login; email = login if it has
// an @, else login@corp.test; email_verified unless the login starts with
// "unverified"; name = "Name of <login>"; preferred_username = the part
// before any @.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const BASE_PORT = Number(process.env.UPSTREAM_OP_BASE_PORT);
const TESSERA = (process.env.TESSERA_BASE_URL || '').replace(/\/+$/, '');
if (!Number.isInteger(BASE_PORT) || BASE_PORT <= 0 || !TESSERA) {
  console.error('upstream-op: set UPSTREAM_OP_BASE_PORT and TESSERA_BASE_URL');
  process.exit(2);
}
const callback = (id) => `${TESSERA}/api/auth/oauth/${id}/callback`;

function client(clientId, secret, providerId) {
  return {
    client_id: clientId,
    client_secret: secret,
    redirect_uris: [callback(providerId)],
    token_endpoint_auth_method: 'client_secret_basic',
    response_types: ['code'],
    grant_types: ['authorization_code'],
    id_token_signed_response_alg: 'RS256',
  };
}

// A fresh RSA signing key as a private JWK.
function rsaKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

function publicPart({ kty, n, e, kid, alg, use }) {
  return { kty, n, e, kid, alg, use };
}

async function findAccount(ctx, id) {
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: id.includes('@') ? id : `${id}@corp.test`,
        email_verified: !id.startsWith('unverified'),
        name: `Name of ${id}`,
        preferred_username: id.split('@')[0],
      };
    },
  };
}

function makeProvider(name, port, clients) {
  const issuer = `http://127.0.0.1:${port}`;
  const key = rsaKey(`${name}-${randomBytes(4).toString('hex')}`);
  const provider = new Provider(issuer, {
    clients,
    findAccount,
    jwks: { keys: [key] },
    scopes: ['openid', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // The scopes' claims in the ID token too, not only at userinfo.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { methods: ['S256'], required: () => true },
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
      // No pushed authorization requests: the nonce instance rewrites the
      // authorization request itself, and nothing here needs PAR.
      pushedAuthorizationRequests: { enabled: false },
    },
    // Plain http on 127.0.0.1: cookies are never Secure (ctx.secure is
    // false), so SameSite=None (which browsers drop without Secure) is not
    // used. Every instance (and Tessera) shares the host 127.0.0.1 and
    // cookies ignore ports, so each instance has its own cookie names.
    cookies: {
      keys: [randomBytes(32).toString('hex')],
      names: {
        session: `${name}_session`,
        interaction: `${name}_interaction`,
        resume: `${name}_interaction_resume`,
      },
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    // Errors as text, not the library's page that points at its docs.
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>${name}: error</title><h1>oops! something went wrong</h1>`
        + `<pre id="error">${escapeHtml(JSON.stringify(out, null, 2))}</pre>`;
    },
  });
  return { name, port, issuer, key, provider };
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const corp = makeProvider('corp', BASE_PORT, [
  client('tessera-corp', 'corp-secret', 'corp'),
  client('tessera-partner', 'partner-secret', 'partner'),
]);
const forged = makeProvider('forged', BASE_PORT + 1, [client('tessera-forged', 'forged-secret', 'forged')]);
const nonce = makeProvider('nonce', BASE_PORT + 2, [client('tessera-nonce', 'nonce-secret', 'nonce')]);
const flaky = makeProvider('flaky', BASE_PORT + 3, [client('tessera-flaky', 'flaky-secret', 'flaky')]);

// forged: signs with its real key, publishes another public key under the
// same kid and alg.
{
  const impostor = publicPart(rsaKey(forged.key.kid));
  forged.provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/jwks' && ctx.status === 200) {
      ctx.type = 'application/jwk-set+json; charset=utf-8';
      ctx.body = { keys: [impostor] };
    }
  });
}

// nonce: every authorization request (GET or POST /auth, not the /auth/<uid>
// resumes) gets nonce=not-your-nonce in place of whatever was sent (if any).
nonce.provider.use(async (ctx, next) => {
  if (ctx.path === '/auth' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
    const query = new URLSearchParams(ctx.querystring);
    query.set('nonce', 'not-your-nonce');
    ctx.querystring = query.toString();
  } else if (ctx.path === '/auth' && ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
    // oidc-provider falls back to req.body once the stream has been read.
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    form.set('nonce', 'not-your-nonce');
    ctx.req.body = form.toString();
  }
  await next();
});

// flaky: the token endpoint is down.
flaky.provider.use(async (ctx, next) => {
  if (ctx.path === '/token') {
    ctx.status = 503;
    ctx.set('retry-after', '1');
    ctx.body = { error: 'temporarily_unavailable', error_description: 'the token endpoint is down (flaky fixture)' };
    return;
  }
  await next();
});

const all = [corp, forged, nonce, flaky];
const servers = await Promise.all(all.map(({ provider, port, name }) => new Promise((resolve, reject) => {
  const server = provider.listen(port, '127.0.0.1', () => resolve(server));
  server.once('error', (err) => reject(new Error(`${name} on ${port}: ${err.message}`)));
}))).catch((err) => {
  console.error(`upstream-op: ${err.message}`);
  process.exit(1);
});
for (const { provider, name } of all) {
  provider.on('server_error', (ctx, err) => console.error(`upstream-op ${name}: ${err.stack || err}`));
}
console.log('upstream-op ready');

function stop() {
  for (const server of servers) {
    server.close();
    server.closeAllConnections?.();
  }
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
