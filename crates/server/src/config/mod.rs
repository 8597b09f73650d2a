//! Configuration from the environment, a `.env` file and a `tessera.toml`
//! (in that order of precedence), in typed sections.
//!
//! Nothing here reads process-global state by itself: [`Config::from_lookup`]
//! takes a lookup function, so tests build configurations without touching the
//! environment. Each section reads its own settings, with their defaults and
//! checks, in its own file. See `docs/configuration.md` for every setting.

mod accounts;
mod caches;
mod compat;
mod cors;
mod database;
mod limits;
mod messaging;
mod observability;
mod pages;
mod passwords;
mod provider;
mod redis;
mod server;
mod source;
mod tokens;
pub(crate) mod upstream;
mod verification;
mod webhooks;

use std::path::Path;

use thiserror::Error;

pub use accounts::AccountSettings;
pub use cors::Cors;
pub use database::DatabaseSettings;
pub use limits::{Bucket, Limit, RateLimits};
pub use messaging::{MailTransport, MessagingSettings};
pub use observability::ObservabilitySettings;
pub use pages::{PagesSettings, ReturnTarget};
pub use passwords::PasswordSettings;
pub use provider::ProviderConfig;
pub use redis::RedisSettings;
pub use server::{Environment, ServerSettings};
pub use source::{SettingsListing, read_dotenv, read_toml};
pub use tokens::TokenSettings;
pub use verification::VerificationSettings;

/// A setting could not be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A value did not parse.
    #[error("{name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// A value of a setting whose name is made at run time
    /// (`UPSTREAM_<ID>_<KEY>`) did not parse.
    #[error("{name}: {reason}")]
    Setting {
        /// The variable.
        name: String,
        /// Why.
        reason: String,
    },
    /// Production without a usable JWT key.
    #[error("JWT_SECRET_KEY must be set to at least 32 bytes when TESSERA_ENV=production")]
    MissingProductionKey,
    /// The development key file could not be read or written.
    #[error("development JWT key at {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Every setting of the server, by section. `tessera config check` prints
/// [`Config::settings`] (every setting by name with its effective value,
/// secrets redacted); `Debug` redacts the JWT key, the metrics token and the
/// passwords in database, Redis and SMTP settings too.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TESSERA_ENV`: development (default) or production.
    pub environment: Environment,
    /// Listening and serving.
    pub server: ServerSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// Redis, when configured.
    pub redis: RedisSettings,
    /// The in-process caches of users and denylist answers.
    pub caches: tessera_embed::CacheSettings,
    /// Token signing and lifetimes, sessions.
    pub tokens: TokenSettings,
    /// Password hashing and policy.
    pub passwords: PasswordSettings,
    /// Usernames, roles, phone numbers.
    pub accounts: AccountSettings,
    /// Codes, links and unverified accounts.
    pub verification: VerificationSettings,
    /// Per-client-IP limits of each kind of request (`RATE_LIMIT_*`).
    pub rate_limits: RateLimits,
    /// `LOGIN_FREE_FAILURES` (5), `LOGIN_FREE_FAILURES_PER_IP` (30),
    /// `LOGIN_FAILURE_WINDOW` (900 s), `LOGIN_MAX_DELAY` (900 s).
    pub login_throttle: tessera_domain::settings::LoginThrottle,
    /// Browser origins (CORS).
    pub cors: Cors,
    /// Mail and text messages.
    pub messaging: MessagingSettings,
    /// Metrics access and trace export.
    pub observability: ObservabilitySettings,
    /// The hosted pages: logo, accent colour, `return_to` allow-list.
    pub pages: PagesSettings,
    /// The OpenID Provider: issuer and ID-token key (issue 18).
    pub provider: ProviderConfig,
    /// Upstream identity providers (issue 19): `UPSTREAM_PROVIDERS`.
    pub upstream: Vec<tessera_domain::model::UpstreamProvider>,
    /// Webhook retries (issue 20): `WEBHOOK_FIRST_RETRY`, `WEBHOOK_GIVE_UP_AFTER`.
    pub webhook_retry: tessera_domain::model::RetryPolicy,
    /// The access-token hook (issue 20): `ACCESS_TOKEN_HOOK_*`.
    pub token_hook: webhooks::TokenHookConfig,
    /// Every setting read, by name, with its effective value (secrets redacted).
    pub settings: SettingsListing,
}

impl Config {
    /// Reads the process environment, then `.env` in the working directory,
    /// then `TESSERA_CONFIG` (which must exist) or `./tessera.toml` (if
    /// present); the first that names a setting wins.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad setting.
    pub fn from_env() -> Result<Self, ConfigError> {
        let dotenv = read_dotenv(Path::new(".env"));
        let file = match std::env::var("TESSERA_CONFIG") {
            Ok(path) => read_toml(Path::new(&path), true)?,
            Err(_) => read_toml(Path::new("tessera.toml"), false)?,
        };
        Self::from_lookup(&|name| {
            std::env::var(name)
                .ok()
                .or_else(|| dotenv.get(name).cloned())
                .or_else(|| file.get(name).cloned())
        })
    }

    /// Reads settings through `lookup` (name → raw value).
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad setting.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let r = source::Reader::new(lookup);
        let environment = Environment::read(&r)?;
        let server = ServerSettings::read(&r)?;
        let messaging = MessagingSettings::read(&r, &server)?;
        let provider = ProviderConfig::read(&r, &messaging.mail.public_base_url, &server.var_dir)?;
        let mut config = Self {
            environment,
            database: DatabaseSettings::read(&r, &server.var_dir)?,
            accounts: AccountSettings::read(&r)?,
            passwords: PasswordSettings::read(&r)?,
            redis: RedisSettings::read(&r)?,
            caches: caches::read(&r)?,
            tokens: TokenSettings::read(&r, &server.var_dir)?,
            verification: VerificationSettings::read(&r)?,
            rate_limits: RateLimits::read(&r)?,
            login_throttle: limits::login_throttle(&r)?,
            cors: Cors::read(&r)?,
            messaging,
            provider,
            upstream: upstream::read(&r)?,
            webhook_retry: webhooks::read(&r)?,
            token_hook: webhooks::read_token_hook(&r)?,
            observability: ObservabilitySettings::read(&r)?,
            pages: PagesSettings::read(&r)?,
            server,
            settings: SettingsListing::default(),
        };
        config.settings = r.into_listing();
        config.cors.check()?;
        config.observability.check()?;
        config.tokens.check(config.environment)?;
        Ok(config)
    }

    /// The JWT key: the configured one; in development without one, the key
    /// kept in `<var>/jwt-secret.key`, generated on first use.
    ///
    /// # Errors
    /// As [`TokenSettings::resolve_secret`].
    pub fn resolve_jwt_secret(&self) -> Result<Vec<u8>, ConfigError> {
        self.tokens
            .resolve_secret(self.environment, &self.server.var_dir)
    }
}

#[cfg(test)]
mod tests;
