//! [`Builder`]: a store, a secret and a mail sink make a service.

use std::time::Duration;

use tessera_crypto::{Argon2Hasher, Argon2Params, HasherLimits, JwtConfig, JwtSigner, RingHandle};
use tessera_domain::AuthService;
use tessera_domain::AuthSettings;
use tessera_domain::clock::{RandomIds, SystemClock};
use tessera_domain::mail::DeliveryPolicy;
use tessera_domain::ports::Adapters;
use tessera_memory::{
    MemoryCodes, MemoryDenylist, MemoryOutbox, MemoryRateLimiter, MemorySessions, MemoryTasks,
    MemoryUsers,
};

use crate::{AnySms, BuildError, KeyRingDir, MailSink, MemoryStack, Secret, Tessera, Workers};

/// No store chosen yet.
#[derive(Debug)]
pub struct NoStore;

/// Everything in memory ([`MemoryStack`]).
#[derive(Debug)]
pub struct MemoryStore;

/// Builds a [`Tessera`]: choose a store, give a [`Secret`] and a
/// [`MailSink`], change what you need, then `build().await`.
///
/// Defaults: issuer and audience `tessera`, [`AuthSettings::default`],
/// argon2id with OWASP's first parameters, mail polled every
/// [`DEFAULT_MAIL_POLL_MS`](crate::DEFAULT_MAIL_POLL_MS) with
/// [`DeliveryPolicy::default`], text messages kept in memory, HS256 tokens.
#[derive(Debug)]
pub struct Builder<S> {
    store: S,
    common: Common,
}

#[derive(Debug)]
struct Common {
    secret: Option<Secret>,
    issuer: String,
    audience: String,
    settings: AuthSettings,
    argon2: Argon2Params,
    hasher_limits: HasherLimits,
    mail: Option<MailSink>,
    delivery: DeliveryPolicy,
    poll: Duration,
    sms: AnySms,
    keys: Option<KeyRingDir>,
    verified_tokens_max_bytes: u64,
    id_token_key_file: Option<std::path::PathBuf>,
    relying_party: tessera_crypto::WebAuthnRelyingParty,
    upstream: Option<tessera_federation::UpstreamClient>,
    token_hook: tessera_webhooks::HttpAccessTokenHook,
}

/// What every store needs, checked before any store is opened.
struct Parts {
    secret: Secret,
    mail: MailSink,
    upstream: tessera_federation::UpstreamClient,
    webhook_transport: tessera_webhooks::HttpWebhookTransport,
    rest: Common,
}

impl Builder<NoStore> {
    pub(crate) fn new() -> Self {
        Self {
            store: NoStore,
            common: Common {
                secret: None,
                issuer: "tessera".into(),
                audience: "tessera".into(),
                settings: AuthSettings::default(),
                argon2: Argon2Params::default(),
                hasher_limits: HasherLimits::default(),
                mail: None,
                delivery: DeliveryPolicy::default(),
                poll: Duration::from_millis(crate::DEFAULT_MAIL_POLL_MS),
                sms: AnySms::default(),
                keys: None,
                verified_tokens_max_bytes: crate::DEFAULT_VERIFIED_TOKENS_BYTES,
                id_token_key_file: None,
                relying_party: default_relying_party(),
                upstream: None,
                token_hook: tessera_webhooks::HttpAccessTokenHook::disabled(),
            },
        }
    }

    /// Every store in this process's memory: users, sessions and mail are
    /// lost when it ends. For demos and tests only: the audit trail, the sent
    /// mail (with its codes and links) and ended sessions are kept until the
    /// process ends, so memory grows with every request. Serve real traffic
    /// from [`Self::sqlite`] or [`Self::mysql`].
    #[must_use]
    pub fn memory(self) -> Builder<MemoryStore> {
        Builder {
            store: MemoryStore,
            common: self.common,
        }
    }
}

impl<S> Builder<S> {
    /// The shared secret (required).
    #[must_use]
    pub fn secret(mut self, secret: Secret) -> Self {
        self.common.secret = Some(secret);
        self
    }

    /// The access-token hook (issue 20): an endpoint asked for custom claims
    /// before each access token is signed. None by default.
    #[must_use]
    pub fn access_token_hook(mut self, hook: tessera_webhooks::HttpAccessTokenHook) -> Self {
        self.common.token_hook = hook;
        self
    }

    /// The WebAuthn relying party passkeys are registered with (issue 17).
    /// Without one: RP id `localhost`, origin `http://localhost:8080` (any
    /// port), for development.
    #[must_use]
    pub fn relying_party(mut self, relying_party: tessera_crypto::WebAuthnRelyingParty) -> Self {
        self.common.relying_party = relying_party;
        self
    }

    /// The `iss` claim written into access tokens and required of them.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.common.issuer = issuer.into();
        self
    }

    /// The `aud` claim written into access tokens and required of them.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.common.audience = audience.into();
        self
    }

    /// The use cases' settings (lifetimes, policies, roles, mail branding).
    #[must_use]
    pub fn settings(mut self, settings: AuthSettings) -> Self {
        self.common.settings = settings;
        self
    }

    /// The argon2id cost and how many hashes may run and wait at once.
    #[must_use]
    pub fn argon2(mut self, params: Argon2Params, limits: HasherLimits) -> Self {
        self.common.argon2 = params;
        self.common.hasher_limits = limits;
        self
    }

    /// Where queued mail goes (required): the delivery worker reads the
    /// store's own outbox, so every queued mail reaches this sink.
    #[must_use]
    pub fn mail(mut self, sink: MailSink) -> Self {
        self.common.mail = Some(sink);
        self
    }

    /// How queued mail is retried, and how often the worker looks for it.
    #[must_use]
    pub fn delivery(mut self, policy: DeliveryPolicy, poll: Duration) -> Self {
        self.common.delivery = policy;
        self.common.poll = poll;
        self
    }

    /// Where text messages go (default: kept in memory).
    #[must_use]
    pub fn sms(mut self, sms: AnySms) -> Self {
        self.common.sms = sms;
        self
    }

    /// Signs access tokens with the keys of a folder (EdDSA or RS256, reloaded
    /// every 10 s by the workers) instead of HS256 with the secret.
    #[must_use]
    pub fn signing_keys(mut self, keys: KeyRingDir) -> Self {
        self.common.keys = Some(keys);
        self
    }

    /// Keeps the RS256 key of the OpenID Provider's ID tokens in the PEM
    /// file `path` (read at the first ID token, made there when missing;
    /// issue 18). Without it, and unless access tokens are signed with an
    /// RS256 key folder, each process makes its own key in memory, which
    /// other instances do not share.
    #[must_use]
    pub fn id_token_key_file(mut self, path: std::path::PathBuf) -> Self {
        self.common.id_token_key_file = Some(path);
        self
    }

    /// How many bytes of verified access tokens the signer keeps, so that a
    /// token presented again is not parsed and checked again (see
    /// [`JwtSigner::keep_verified`]; default
    /// [`crate::DEFAULT_VERIFIED_TOKENS_BYTES`], 0 = none).
    #[must_use]
    pub fn verified_tokens_max_bytes(mut self, max_bytes: u64) -> Self {
        self.common.verified_tokens_max_bytes = max_bytes;
        self
    }

    /// The required parts, or the error naming the first one missing.
    fn parts(self) -> Result<(S, Parts), BuildError> {
        let mut rest = self.common;
        let secret = rest.secret.take().ok_or(BuildError::NoSecret)?;
        let mail = rest.mail.take().ok_or(BuildError::NoMail)?;
        let upstream = match rest.upstream.take() {
            Some(u) => u,
            None => tessera_federation::UpstreamClient::new().map_err(BuildError::Upstream)?,
        };
        let webhook_transport =
            tessera_webhooks::HttpWebhookTransport::new().map_err(BuildError::Webhooks)?;
        Ok((
            self.store,
            Parts {
                secret,
                mail,
                upstream,
                webhook_transport,
                rest,
            },
        ))
    }
}

impl Parts {
    async fn hasher(&self) -> Result<Argon2Hasher, BuildError> {
        argon2_hasher(self.rest.argon2, self.rest.hasher_limits).await
    }

    /// The access-token signer, and the ring to reload when keys come from a folder.
    fn signer(&self) -> Result<(JwtSigner, Option<(KeyRingDir, RingHandle)>), BuildError> {
        let jwt = JwtConfig {
            secret: self.secret.bytes().to_vec(),
            issuer: self.rest.issuer.clone(),
            audience: self.rest.audience.clone(),
        };
        let keep = self.rest.verified_tokens_max_bytes;
        let id_key = |signer: JwtSigner| match &self.rest.id_token_key_file {
            Some(path) => signer.with_id_token_key_file(path.clone()),
            None => signer,
        };
        let Some(keys) = &self.rest.keys else {
            return Ok((id_key(JwtSigner::new(&jwt).keep_verified(keep)), None));
        };
        let signer = id_key(JwtSigner::with_ring(&jwt, keys.alg, keys.load()?).keep_verified(keep));
        let reload = signer.ring_handle().map(|handle| (keys.clone(), handle));
        Ok((signer, reload))
    }

    /// The service and its workers over `adapters`, whose outbox is `outbox`.
    fn assemble<P>(
        self,
        adapters: Adapters<P>,
        outbox: P::Outbox,
        hasher: Argon2Hasher,
        keys: Option<(KeyRingDir, RingHandle)>,
    ) -> Tessera<P>
    where
        P: tessera_domain::ports::Ports,
        P::Outbox: Clone,
    {
        Tessera {
            service: AuthService::new(adapters, self.rest.settings),
            workers: Workers::new(outbox, self.mail, self.rest.delivery, self.rest.poll, keys),
            hasher,
            #[cfg(feature = "sqlite")]
            database: None,
            #[cfg(feature = "redis")]
            redis: None,
        }
    }
}

impl Builder<MemoryStore> {
    /// Builds the service over the in-memory stores.
    ///
    /// # Errors
    /// [`BuildError::NoSecret`], [`BuildError::NoMail`], or the hasher or
    /// key folder failing.
    pub async fn build(self) -> Result<Tessera<MemoryStack>, BuildError> {
        let (MemoryStore, mut parts) = self.parts()?;
        let hasher = parts.hasher().await?;
        let (signer, keys) = parts.signer()?;
        let outbox = MemoryOutbox::default();
        // The users' store queues mail in the outbox the worker reads, and
        // its events where the webhook worker finds them.
        // Deleting an account empties the other stores of it.
        let data = tessera_memory::AccountData::default();
        let users = MemoryUsers::with_outbox(outbox.clone()).with_account_data(data.clone());
        let adapters = Adapters::<MemoryStack> {
            webhooks: users.webhooks().clone(),
            webhook_transport: parts.webhook_transport.clone(),
            token_hook: parts.rest.token_hook.clone(),
            users,
            sessions: MemorySessions::default(),
            denylist: MemoryDenylist::default(),
            hasher: hasher.clone(),
            signer,
            codec: tessera_crypto::HmacRefreshCodec::new(parts.secret.bytes()),
            clock: SystemClock,
            ids: RandomIds,
            codes: MemoryCodes::default(),
            limiter: MemoryRateLimiter::default(),
            outbox: outbox.clone(),
            sms: std::mem::take(&mut parts.rest.sms),
            audit: data.audit,
            tasks: MemoryTasks::default(),
            factors: data.factors,
            otp: tessera_crypto::TotpAuthenticator::new(parts.secret.bytes()),
            relying_party: parts.rest.relying_party.clone(),
            clients: data.clients,
            identities: data.identities,
            upstream: parts.upstream.clone(),
        };
        Ok(parts.assemble(adapters, outbox, hasher, keys))
    }
}

/// An argon2id hasher with `params` and `limits`, built on the blocking pool
/// (it computes a dummy hash, ~20 ms with the defaults).
///
/// # Errors
/// [`BuildError::Hasher`] when the parameters are refused.
pub async fn argon2_hasher(
    params: Argon2Params,
    limits: HasherLimits,
) -> Result<Argon2Hasher, BuildError> {
    tokio::task::spawn_blocking(move || Argon2Hasher::new(params, limits))
        .await
        .map_err(|e| BuildError::Hasher(e.to_string()))?
        .map_err(|e| BuildError::Hasher(e.to_string()))
}

#[cfg(feature = "sqlite")]
pub use sql::{SqlStore, open_database};

#[cfg(feature = "sqlite")]
mod sql;

/// RP id `localhost` for `http://localhost` on any port: what a developer's
/// browser reaches (WebAuthn needs a secure context; `localhost` is one).
fn default_relying_party() -> tessera_crypto::WebAuthnRelyingParty {
    let origin = url::Url::parse("http://localhost:8080").unwrap_or_else(|_| unreachable!());
    tessera_crypto::WebAuthnRelyingParty::new("localhost", "Tessera", &[origin])
        .unwrap_or_else(|e| unreachable!("the default relying party is valid: {e}"))
}
