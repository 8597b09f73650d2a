//! Configuration from the environment and a `.env` file (the environment wins).
//!
//! Nothing here reads process-global state by itself: [`Config::from_lookup`]
//! takes a lookup function, so tests build configurations without touching the
//! environment. See `docs/configuration.md` for every setting.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tessera_crypto::{Argon2Params, HasherLimits};
use tessera_domain::model::{DEFAULT_REGISTRABLE_ROLES, DEFAULT_ROLE};
use tessera_domain::secret::Secret;
use tessera_domain::values::{PasswordPolicy, RoleName, Username, UsernamePolicy};
use thiserror::Error;

/// Development (the default) or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Readable logs; a JWT key is generated under the var folder when missing.
    Development,
    /// JSON logs; refuses to start without a JWT key of at least 32 bytes.
    Production,
}

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

/// Every setting of the server. `Debug` redacts the JWT key and database/Redis passwords.
#[derive(Clone)]
pub struct Config {
    /// `HOST`, default `127.0.0.1`.
    pub host: String,
    /// `PORT`, default 8080 (0 picks a free port).
    pub port: u16,
    /// `TESSERA_ENV`.
    pub environment: Environment,
    /// `DATABASE_URL`, default `sqlite://<var>/tessera.db`; without it, seed 001's
    /// `DB_HOST`/`DB_PORT`/`DB_USER`/`DB_PASSWORD`/`DB_NAME` build a MySQL URL.
    /// `DATABASE_TLS` (`off`, `required`, `verify-ca`, `verify-identity`) adds
    /// the driver's TLS parameters. Redacted in `Debug`.
    pub database_url: String,
    /// `AUTO_MIGRATE`, default true: `serve` applies pending migrations first.
    pub auto_migrate: bool,
    /// `REDIS_URL`: sessions, denylist and user cache in Redis, shared by instances.
    pub redis_url: Option<String>,
    /// `REDIS_CLUSTER_URLS`, comma-separated seed nodes of a Redis Cluster.
    pub redis_cluster_urls: Vec<String>,
    /// `REDIS_KEY_PREFIX`, default `tessera:`.
    pub redis_key_prefix: String,
    /// `REDIS_POOL_SIZE`, default 32.
    pub redis_pool_size: usize,
    /// `REDIS_TIMEOUT_MS`, default 2000: connection and command timeout.
    pub redis_timeout: Duration,
    /// `USER_CACHE_TTL` seconds, default 60 (with Redis only).
    pub user_cache_ttl: Duration,
    /// `DATABASE_MAX_CONNECTIONS`, default 8.
    pub database_max_connections: usize,
    /// `DATABASE_TIMEOUT` seconds, default 5.
    pub database_timeout: Duration,
    /// `TESSERA_VAR_DIR`, default `./var`: the SQLite file and the development key.
    pub var_dir: PathBuf,
    /// `JWT_SECRET_KEY` (redacted in `Debug`).
    pub jwt_secret: Option<Secret>,
    /// `JWT_ALGORITHM`: `HS256` (default, with `JWT_SECRET_KEY`), `EdDSA` or
    /// `RS256` (keys in `JWT_KEYS_DIR`, rotated by `tessera keys rotate`).
    pub jwt_algorithm: Option<tessera_crypto::keyring::KeyAlg>,
    /// `JWT_KEYS_DIR`, default `<var>/jwt-keys`: the asymmetric key ring.
    pub jwt_keys_dir: std::path::PathBuf,
    /// `JWT_KEY_ACTIVATION_DELAY` seconds (default 60): a rotated-in key is
    /// published at once and signs only after this, so that every instance
    /// (which re-reads the folder every 10 s) knows it first.
    pub jwt_key_activation_delay: Duration,
    /// `JWT_ISSUER`, default `tessera`.
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`, default `tessera`.
    pub jwt_audience: String,
    /// `ACCESS_TOKEN_TTL` seconds, default 900.
    pub access_ttl: Duration,
    /// `LEGACY_ACCESS_TOKEN_TTL`: access tokens issued at `/Auth/Login` and `/Admin/Login` (seed
    /// 001 clients cannot refresh). Default 86 400 s.
    pub legacy_access_ttl: Duration,
    /// `V1_ACCESS_TOKEN_TTL`: access tokens issued at `/api/v1/auth/login`
    /// (seed 002 promises 1 hour). Default 3600 s.
    pub v1_access_ttl: Duration,
    /// `REFRESH_TOKEN_TTL` seconds, default 604800 (7 days): the absolute session lifetime.
    pub refresh_ttl: Duration,
    /// `SESSION_IDLE_TTL`: a session whose refresh token has not been used for
    /// this long refreshes no more. Default 259 200 s (3 days).
    pub idle_ttl: Duration,
    /// `MAX_SESSIONS_PER_USER`: most live sessions per account; a login
    /// beyond it ends the least recently used ones. Default 50; `0` or `off`
    /// for no limit.
    pub max_sessions_per_user: Option<u32>,
    /// `REFRESH_REUSE_INTERVAL` seconds, default 10.
    pub refresh_reuse_interval: Duration,
    /// `JWT_LEEWAY` seconds of clock skew tolerated on `exp`/`nbf`, default 30.
    pub jwt_leeway: Duration,
    /// `ARGON2_MEMORY_KIB`, `ARGON2_ITERATIONS`, `ARGON2_PARALLELISM`.
    pub argon2: Argon2Params,
    /// `HASH_MAX_IN_FLIGHT`, `HASH_MAX_WAITING`.
    pub hasher_limits: HasherLimits,
    /// `PASSWORD_MIN_LENGTH` (8), `PASSWORD_MAX_LENGTH` (256), `PASSWORD_REQUIRE_MIXED` (false),
    /// `PASSWORD_MIN_SCORE` (zxcvbn score 0-4, default 3; `PASSWORD_REJECT_COMMON=false`
    /// means 0 when `PASSWORD_MIN_SCORE` is not set).
    pub password_policy: PasswordPolicy,
    /// `USERNAME_MIN_LENGTH`: fewest characters of a new username (Unicode
    /// scalar values after NFC, so `张三` is 2), 1 to 50; default 3 (seed
    /// 004's 3–50). Existing names log in whatever it is (issue 13, item 10).
    pub username_policy: UsernamePolicy,
    /// `REGISTRATION_ROLES`, comma-separated; default pharmacy,supplier,logistics,regulator,unauth.
    pub registrable_roles: Vec<RoleName>,
    /// `DEFAULT_ROLE`, default `unauth`.
    pub default_role: RoleName,
    /// `ADMIN_LOGIN_ROLES`, comma-separated, default `super_admin`: the roles
    /// that may log in at seed 001's `/Admin/Login` (issue 13, item 11). At
    /// least one role, none of them one a user may choose at registration
    /// (`REGISTRATION_ROLES`, `DEFAULT_ROLE`).
    pub admin_login_roles: Vec<RoleName>,
    /// `MAX_BODY_BYTES`, default 65536: a larger body is refused (413); a
    /// larger declared `Content-Length` is refused before any byte is read.
    pub max_body_bytes: usize,
    /// `REQUEST_BODY_TIMEOUT` seconds, default 10 (at least 1): a request body
    /// that has not fully arrived this long after the request head is
    /// answered 408 and the connection closed (slow-body attacks).
    pub request_body_timeout: Duration,
    /// `METRICS_BEARER_TOKEN`: when set, `GET /metrics` asks for
    /// `Authorization: Bearer <token>` (compared in constant time) and
    /// answers 401 without it. Redacted in `Debug`.
    pub metrics_bearer_token: Option<Secret>,
    /// `METRICS_LISTEN` (`host:port`, e.g. `127.0.0.1:9100`): `/metrics` is
    /// served only on this address, and the main port answers 404 for it.
    pub metrics_listen: Option<String>,
    /// `WORKERS`, default: the number of CPUs.
    pub workers: usize,
    /// `MAIL_PRODUCT_NAME` (default `Tessera`), `PUBLIC_BASE_URL` (default
    /// `http://HOST:PORT`), `DEFAULT_LOCALE` (`zh-CN` or `en`, default `zh-CN`).
    pub mail: tessera_domain::mail::MailSettings,
    /// Where mail goes: `SMTP_URL`; or seed 002's `MAIL_SERVER`, `MAIL_PORT`,
    /// `MAIL_USE_TLS`, `MAIL_USE_SSL`, `MAIL_USERNAME`, `MAIL_PASSWORD`; or seed
    /// 001's `EMAIL_SMTP_SERVER`, `EMAIL_SMTP_PORT`, `EMAIL_SENDER`,
    /// `EMAIL_PASSWORD`; without any, `.eml` files under `<var>/mail/`.
    pub mail_transport: MailTransport,
    /// `MAIL_SENDER_NAME` (default: the product name) and `MAIL_SENDER_EMAIL`
    /// (default: `EMAIL_SENDER`, `MAIL_USERNAME` if an address, else `no-reply@localhost`).
    pub mail_sender: (String, String),
    /// `OUTBOX_POLL_MS` (default 1000), `OUTBOX_RETRY_BASE_MS` (5000), `OUTBOX_RETRY_MAX_SECS` (3600).
    pub delivery: tessera_domain::mail::DeliveryPolicy,
    /// How often the outbox worker looks for due mail.
    pub outbox_poll: Duration,
    /// `VERIFICATION_CODE_TTL` seconds, default 600: lifetime of mailed codes and links.
    pub code_ttl: Duration,
    /// `REQUIRE_VERIFIED_EMAIL`, default false (the seeds let unverified users log in).
    pub require_verified_email: bool,
    /// `UNVERIFIED_ACCOUNT_TTL` seconds or `off`: an account whose address is
    /// still unverified after this long is a pending registration that a new
    /// registration of the address replaces and the expiry sweep removes.
    /// Default 604 800 (7 days) with `REQUIRE_VERIFIED_EMAIL`, `off` without
    /// (then unverified accounts are ordinary accounts in use).
    pub unverified_account_ttl: Option<Duration>,
    /// `V1_VERIFY_ON_GET`, default false: seed 002's `GET
    /// /api/v1/auth/verify/<token>` confirms the address for a client that
    /// does not ask for HTML, as seed 002's contract says. Off, every GET of
    /// the link shows its page, which confirms only with the account's
    /// password (a GET without it could hand the address to someone else's
    /// password: docs/security.md, "Pre-account hijacking").
    pub v1_verify_on_get: bool,
    /// `PHONE_DEFAULT_REGION`, default `CN`: the region (ISO 3166-1 alpha-2)
    /// whose numbering plan reads phone numbers written without a country code.
    pub phone_region: tessera_domain::values::PhoneRegion,
    /// `SMS_WEBHOOK_URL`: text messages are POSTed there as `{to, text}`; without
    /// it they are appended to `<var>/sms.log`.
    pub sms_webhook_url: Option<String>,
    /// `LOGIN_FREE_FAILURES` (5), `LOGIN_FREE_FAILURES_PER_IP` (30),
    /// `LOGIN_FAILURE_WINDOW` (900 s), `LOGIN_MAX_DELAY` (900 s).
    pub login_throttle: tessera_domain::settings::LoginThrottle,
    /// Per-client-IP limits of each kind of request (`RATE_LIMIT_*`).
    pub rate_limits: RateLimits,
    /// `CORS_ALLOWED_ORIGINS` (`*`, default, or a comma list; `none` for no
    /// CORS), `CORS_ALLOW_CREDENTIALS` (false), `CORS_ALLOWED_METHODS`,
    /// `CORS_MAX_AGE` (86 400 s).
    pub cors: Cors,
    /// `TRUSTED_PROXIES`: addresses or CIDR ranges of the reverse proxies whose
    /// `X-Forwarded-For` is believed. Empty (default): the peer address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Which browser origins may call Tessera (CORS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `None`: any origin (`*`); `Some(list)`: exactly these (empty: no CORS at all).
    pub origins: Option<Vec<String>>,
    /// `Access-Control-Allow-Credentials: true` (then the origin is echoed, never `*`).
    pub credentials: bool,
    /// `Access-Control-Allow-Methods` of preflights.
    pub methods: String,
    /// `Access-Control-Max-Age` of preflights, in seconds.
    pub max_age: u64,
}

impl Cors {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    #[must_use]
    pub fn allow_origin(&self, origin: Option<&str>) -> Option<String> {
        match (&self.origins, origin) {
            (None, Some(o)) if self.credentials => Some(o.to_owned()),
            (None, _) => Some("*".to_owned()),
            (Some(list), Some(o)) if list.iter().any(|a| a == o) => Some(o.to_owned()),
            (Some(_), _) => None,
        }
    }
}

/// `limit` requests per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed in a window.
    pub limit: u32,
    /// Window length in seconds.
    pub window_secs: u64,
}

/// What a request spends; one counter per kind and client IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Logins in every dialect.
    Login,
    /// Registrations and sign-ups.
    Register,
    /// Requests that mail or text a code or link.
    SendCode,
    /// Requests that check a code or link.
    VerifyCode,
    /// Token refreshes.
    Refresh,
}

impl Bucket {
    /// The name in keys and variables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::SendCode => "send_code",
            Self::VerifyCode => "verify_code",
            Self::Refresh => "refresh",
        }
    }
}

/// Per-IP limits, each `N/SECONDS` or `off`: `RATE_LIMIT_LOGIN` (default
/// 30/60), `RATE_LIMIT_REGISTER` (20/3600), `RATE_LIMIT_SEND_CODE` (20/3600),
/// `RATE_LIMIT_VERIFY_CODE` (30/600), `RATE_LIMIT_REFRESH` (120/60).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Logins.
    pub login: Option<Limit>,
    /// Registrations.
    pub register: Option<Limit>,
    /// Code and link sending.
    pub send_code: Option<Limit>,
    /// Code and link checking (including password resets).
    pub verify_code: Option<Limit>,
    /// Refreshes.
    pub refresh: Option<Limit>,
}

impl RateLimits {
    /// The limit of `bucket`, if any.
    #[must_use]
    pub fn get(&self, bucket: Bucket) -> Option<Limit> {
        match bucket {
            Bucket::Login => self.login,
            Bucket::Register => self.register,
            Bucket::SendCode => self.send_code,
            Bucket::VerifyCode => self.verify_code,
            Bucket::Refresh => self.refresh,
        }
    }
}

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// An SMTP server.
    Smtp(tessera_smtp::SmtpConfig),
    /// `.eml` files in a folder (the embedded default).
    Files(PathBuf),
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("environment", &self.environment)
            .field("database_url", &tessera_sql::redact(&self.database_url))
            .field("auto_migrate", &self.auto_migrate)
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(tessera_redis::redact),
            )
            .field(
                "redis_cluster_urls",
                &self
                    .redis_cluster_urls
                    .iter()
                    .map(|u| tessera_redis::redact(u))
                    .collect::<Vec<_>>(),
            )
            .field("redis_key_prefix", &self.redis_key_prefix)
            .field("jwt_secret", &self.jwt_secret)
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("jwt_keys_dir", &self.jwt_keys_dir)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("access_ttl", &self.access_ttl)
            .field("legacy_access_ttl", &self.legacy_access_ttl)
            .field("v1_access_ttl", &self.v1_access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("idle_ttl", &self.idle_ttl)
            .field("max_sessions_per_user", &self.max_sessions_per_user)
            .field("refresh_reuse_interval", &self.refresh_reuse_interval)
            .field("argon2", &self.argon2)
            .field("password_policy", &self.password_policy)
            .field("username_policy", &self.username_policy)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("request_body_timeout", &self.request_body_timeout)
            .field("metrics_bearer_token", &self.metrics_bearer_token)
            .field("metrics_listen", &self.metrics_listen)
            .finish_non_exhaustive()
    }
}

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Reader<'_> {
    fn string(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.string(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: format!("{v:?}: {e}"),
            }),
        }
    }

    fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.parse(name, default).map(Duration::from_secs)
    }

    /// A count where `0` or `off` means none (`None`).
    fn optional_count(&self, name: &'static str, default: u32) -> Result<Option<u32>, ConfigError> {
        match self.string(name) {
            None => Ok(Some(default)),
            Some(v) if v.eq_ignore_ascii_case("off") => Ok(None),
            Some(v) => match v.trim().parse::<u32>() {
                Ok(0) => Ok(None),
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(ConfigError::Invalid {
                    name,
                    reason: format!("{v:?}: expected a whole number, 0 or off"),
                }),
            },
        }
    }

    fn bool(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.string(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError::Invalid {
                name,
                reason: format!("{v:?} is not a boolean"),
            }),
        }
    }

    fn limit(
        &self,
        name: &'static str,
        limit: u32,
        window_secs: u64,
    ) -> Result<Option<Limit>, ConfigError> {
        let Some(v) = self.string(name) else {
            return Ok(Some(Limit { limit, window_secs }));
        };
        if v.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = || ConfigError::Invalid {
            name,
            reason: format!("{v:?}: expected N/SECONDS (for example 30/60) or off"),
        };
        let (n, secs) = v.split_once('/').ok_or_else(bad)?;
        let limit = n.trim().parse::<u32>().map_err(|_| bad())?;
        let window_secs = secs.trim().parse::<u64>().map_err(|_| bad())?;
        if limit == 0 || window_secs == 0 {
            return Err(bad());
        }
        Ok(Some(Limit { limit, window_secs }))
    }

    fn networks(&self, name: &'static str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        let Some(v) = self.string(name) else {
            return Ok(Vec::new());
        };
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|e| ConfigError::Invalid {
                        name,
                        reason: format!("{s:?}: {e}"),
                    })
            })
            .collect()
    }

    fn phone_region(
        &self,
        name: &'static str,
    ) -> Result<tessera_domain::values::PhoneRegion, ConfigError> {
        use tessera_domain::values::PhoneRegion;
        self.string(name).map_or(Ok(PhoneRegion::default()), |v| {
            PhoneRegion::parse(&v).map_err(|_| ConfigError::Invalid {
                name,
                reason: format!("{v:?}: expected a region code such as CN or US"),
            })
        })
    }

    fn role(&self, name: &'static str, raw: &str) -> Result<RoleName, ConfigError> {
        RoleName::parse(raw).map_err(|e| ConfigError::Invalid {
            name,
            reason: format!("{raw:?}: {e}"),
        })
    }
}

impl Config {
    /// Reads the process environment, falling back to `.env` in the working directory.
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

    /// Reads settings through `lookup`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad setting.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let r = Reader { lookup };
        let environment = match r
            .string("TESSERA_ENV")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("development" | "dev") => Environment::Development,
            Some("production" | "prod") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "TESSERA_ENV",
                    reason: format!("{other:?}: expected development or production"),
                });
            }
        };
        let var_dir = PathBuf::from(
            r.string("TESSERA_VAR_DIR")
                .unwrap_or_else(|| "./var".into()),
        );
        let database_url = match (r.string("DATABASE_URL"), r.string("DB_HOST")) {
            (Some(url), _) => url,
            (None, Some(host)) => mysql_url_from_parts(&r, &host)?,
            (None, None) => format!("sqlite://{}", var_dir.join("tessera.db").display()),
        };
        let database_url = with_database_tls(database_url, r.string("DATABASE_TLS").as_deref())?;
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let defaults = HasherLimits::default();
        let registrable_roles = match r.string("REGISTRATION_ROLES") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| r.role("REGISTRATION_ROLES", s))
                .collect::<Result<Vec<_>, _>>()?,
            None => DEFAULT_REGISTRABLE_ROLES
                .iter()
                .map(|s| r.role("REGISTRATION_ROLES", s))
                .collect::<Result<Vec<_>, _>>()?,
        };
        if registrable_roles.iter().any(RoleName::is_super_admin) {
            return Err(ConfigError::Invalid {
                name: "REGISTRATION_ROLES",
                reason: "super_admin can never be chosen at registration".into(),
            });
        }
        let default_role = r.role(
            "DEFAULT_ROLE",
            &r.string("DEFAULT_ROLE")
                .unwrap_or_else(|| DEFAULT_ROLE.into()),
        )?;
        let admin_login_roles = r
            .string("ADMIN_LOGIN_ROLES")
            .unwrap_or_else(|| RoleName::SUPER_ADMIN.to_owned())
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| r.role("ADMIN_LOGIN_ROLES", s))
            .collect::<Result<Vec<_>, _>>()?;
        if admin_login_roles.is_empty() {
            return Err(ConfigError::Invalid {
                name: "ADMIN_LOGIN_ROLES",
                reason: "name at least one role".into(),
            });
        }
        // A role anyone can give themselves at registration must not open
        // the administrator login.
        if let Some(open) = admin_login_roles
            .iter()
            .find(|role| **role == default_role || registrable_roles.contains(role))
        {
            return Err(ConfigError::Invalid {
                name: "ADMIN_LOGIN_ROLES",
                reason: format!(
                    "{} can be chosen at registration (REGISTRATION_ROLES or DEFAULT_ROLE)",
                    open.as_str()
                ),
            });
        }
        let password_policy = PasswordPolicy {
            min_chars: r.parse("PASSWORD_MIN_LENGTH", 8)?,
            max_chars: r.parse("PASSWORD_MAX_LENGTH", 256)?,
            require_mixed: r.bool("PASSWORD_REQUIRE_MIXED", false)?,
            // PASSWORD_REJECT_COMMON (the list this replaced) keeps its
            // meaning: `false` turns the screening off unless a score is set.
            min_score: if r.string("PASSWORD_MIN_SCORE").is_some() {
                r.parse("PASSWORD_MIN_SCORE", PasswordPolicy::DEFAULT_MIN_SCORE)?
            } else if r.bool("PASSWORD_REJECT_COMMON", true)? {
                PasswordPolicy::DEFAULT_MIN_SCORE
            } else {
                0
            },
        };
        if password_policy.min_score > PasswordPolicy::MAX_SCORE {
            return Err(ConfigError::Invalid {
                name: "PASSWORD_MIN_SCORE",
                reason: "must be a zxcvbn score from 0 to 4".into(),
            });
        }
        if password_policy.min_chars == 0 || password_policy.min_chars > password_policy.max_chars {
            return Err(ConfigError::Invalid {
                name: "PASSWORD_MIN_LENGTH",
                reason: "must be at least 1 and at most PASSWORD_MAX_LENGTH".into(),
            });
        }
        let username_policy = UsernamePolicy {
            min_chars: r.parse("USERNAME_MIN_LENGTH", UsernamePolicy::DEFAULT_MIN_CHARS)?,
        };
        if !(1..=Username::MAX).contains(&username_policy.min_chars) {
            return Err(ConfigError::Invalid {
                name: "USERNAME_MIN_LENGTH",
                reason: format!("must be a number of characters from 1 to {}", Username::MAX),
            });
        }
        let jwt_keys_dir = r
            .string("JWT_KEYS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| var_dir.join("jwt-keys"));
        let config = Self {
            host: r.string("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: r.parse("PORT", 8080)?,
            environment,
            database_url,
            auto_migrate: r.bool("AUTO_MIGRATE", true)?,
            redis_url: r.string("REDIS_URL"),
            redis_cluster_urls: r
                .string("REDIS_CLUSTER_URLS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            redis_key_prefix: (r.lookup)("REDIS_KEY_PREFIX").unwrap_or_else(|| "tessera:".into()),
            redis_pool_size: r.parse("REDIS_POOL_SIZE", 32)?,
            redis_timeout: Duration::from_millis(r.parse("REDIS_TIMEOUT_MS", 2000)?),
            user_cache_ttl: r.seconds("USER_CACHE_TTL", 60)?,
            database_max_connections: r.parse("DATABASE_MAX_CONNECTIONS", 8)?,
            database_timeout: r.seconds("DATABASE_TIMEOUT", 5)?,
            var_dir,
            jwt_secret: r.string("JWT_SECRET_KEY").map(Secret::new),
            jwt_algorithm: match r.string("JWT_ALGORITHM").as_deref() {
                None | Some("HS256") => None,
                Some("EdDSA") => Some(tessera_crypto::keyring::KeyAlg::EdDsa),
                Some("RS256") => Some(tessera_crypto::keyring::KeyAlg::Rs256),
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "JWT_ALGORITHM",
                        reason: format!("{other:?}: expected HS256, EdDSA or RS256"),
                    });
                }
            },
            jwt_keys_dir,
            jwt_key_activation_delay: r.seconds("JWT_KEY_ACTIVATION_DELAY", 60)?,
            jwt_issuer: r.string("JWT_ISSUER").unwrap_or_else(|| "tessera".into()),
            jwt_audience: r.string("JWT_AUDIENCE").unwrap_or_else(|| "tessera".into()),
            access_ttl: r.seconds("ACCESS_TOKEN_TTL", 900)?,
            legacy_access_ttl: r.seconds("LEGACY_ACCESS_TOKEN_TTL", 86_400)?,
            v1_access_ttl: r.seconds("V1_ACCESS_TOKEN_TTL", 3600)?,
            refresh_ttl: r.seconds("REFRESH_TOKEN_TTL", 7 * 24 * 3600)?,
            idle_ttl: r.seconds("SESSION_IDLE_TTL", 3 * 24 * 3600)?,
            max_sessions_per_user: r.optional_count(
                "MAX_SESSIONS_PER_USER",
                tessera_domain::usecase::DEFAULT_MAX_SESSIONS_PER_USER,
            )?,
            refresh_reuse_interval: r.seconds("REFRESH_REUSE_INTERVAL", 10)?,
            jwt_leeway: r.seconds("JWT_LEEWAY", 30)?,
            argon2: Argon2Params {
                memory_kib: r.parse("ARGON2_MEMORY_KIB", Argon2Params::default().memory_kib)?,
                iterations: r.parse("ARGON2_ITERATIONS", Argon2Params::default().iterations)?,
                parallelism: r.parse("ARGON2_PARALLELISM", Argon2Params::default().parallelism)?,
            },
            hasher_limits: HasherLimits {
                max_in_flight: r.parse("HASH_MAX_IN_FLIGHT", defaults.max_in_flight)?,
                max_waiting: r.parse("HASH_MAX_WAITING", defaults.max_waiting)?,
            },
            password_policy,
            username_policy,
            registrable_roles,
            default_role,
            admin_login_roles,
            max_body_bytes: r.parse("MAX_BODY_BYTES", 64 * 1024)?,
            request_body_timeout: r.seconds("REQUEST_BODY_TIMEOUT", 10)?,
            metrics_bearer_token: r.string("METRICS_BEARER_TOKEN").map(Secret::new),
            metrics_listen: r.string("METRICS_LISTEN"),
            workers: r.parse("WORKERS", cpus)?.max(1),
            mail: tessera_domain::mail::MailSettings::default(),
            mail_transport: MailTransport::Files(PathBuf::new()),
            mail_sender: (String::new(), String::new()),
            delivery: tessera_domain::mail::DeliveryPolicy::default(),
            outbox_poll: Duration::from_secs(1),
            code_ttl: r.seconds("VERIFICATION_CODE_TTL", 600)?,
            require_verified_email: r.bool("REQUIRE_VERIFIED_EMAIL", false)?,
            unverified_account_ttl: None,
            v1_verify_on_get: r.bool("V1_VERIFY_ON_GET", false)?,
            phone_region: r.phone_region("PHONE_DEFAULT_REGION")?,
            login_throttle: tessera_domain::settings::LoginThrottle {
                free_per_account_ip: r.parse("LOGIN_FREE_FAILURES", 5)?,
                free_per_ip: r.parse("LOGIN_FREE_FAILURES_PER_IP", 30)?,
                window_secs: r.parse("LOGIN_FAILURE_WINDOW", 900)?,
                max_delay_secs: r.parse("LOGIN_MAX_DELAY", 900)?,
            },
            rate_limits: RateLimits {
                login: r.limit("RATE_LIMIT_LOGIN", 30, 60)?,
                register: r.limit("RATE_LIMIT_REGISTER", 20, 3600)?,
                send_code: r.limit("RATE_LIMIT_SEND_CODE", 20, 3600)?,
                verify_code: r.limit("RATE_LIMIT_VERIFY_CODE", 30, 600)?,
                refresh: r.limit("RATE_LIMIT_REFRESH", 120, 60)?,
            },
            trusted_proxies: r.networks("TRUSTED_PROXIES")?,
            cors: Cors {
                origins: match r.string("CORS_ALLOWED_ORIGINS").as_deref() {
                    None | Some("*") => None,
                    Some(v) if v.eq_ignore_ascii_case("none") => Some(Vec::new()),
                    Some(v) => Some(
                        v.split(',')
                            .map(|o| o.trim().trim_end_matches('/').to_owned())
                            .filter(|o| !o.is_empty())
                            .collect(),
                    ),
                },
                credentials: r.bool("CORS_ALLOW_CREDENTIALS", false)?,
                methods: r
                    .string("CORS_ALLOWED_METHODS")
                    .unwrap_or_else(|| "GET, POST, PUT, PATCH, DELETE, OPTIONS".into()),
                max_age: r.parse("CORS_MAX_AGE", 86_400)?,
            },
            sms_webhook_url: r.string("SMS_WEBHOOK_URL"),
        };
        let mut config = config;
        config.unverified_account_ttl = match r.string("UNVERIFIED_ACCOUNT_TTL") {
            Some(v) if v.eq_ignore_ascii_case("off") => None,
            Some(_) => Some(r.seconds("UNVERIFIED_ACCOUNT_TTL", 0)?).filter(|d| !d.is_zero()),
            None => config
                .require_verified_email
                .then_some(Duration::from_secs(7 * 24 * 3600)),
        };
        config.mail_transport = mail_transport(&r, &config.var_dir)?;
        config.outbox_poll = Duration::from_millis(r.parse("OUTBOX_POLL_MS", 1000)?);
        config.delivery = tessera_domain::mail::DeliveryPolicy {
            retry_base: chrono::Duration::milliseconds(r.parse("OUTBOX_RETRY_BASE_MS", 5000)?),
            retry_max: chrono::Duration::seconds(r.parse("OUTBOX_RETRY_MAX_SECS", 3600)?),
            ..tessera_domain::mail::DeliveryPolicy::default()
        };
        config.mail = tessera_domain::mail::MailSettings {
            product_name: r
                .string("MAIL_PRODUCT_NAME")
                .unwrap_or_else(|| "Tessera".into()),
            public_base_url: r
                .string("PUBLIC_BASE_URL")
                .unwrap_or_else(|| format!("http://{}:{}", config.host, config.port))
                .trim_end_matches('/')
                .to_owned(),
            default_locale: match r.string("DEFAULT_LOCALE") {
                None => tessera_domain::mail::Locale::ZhCn,
                Some(tag) => {
                    tessera_domain::mail::Locale::from_tag(&tag).ok_or(ConfigError::Invalid {
                        name: "DEFAULT_LOCALE",
                        reason: format!("{tag:?}: expected zh-CN or en"),
                    })?
                }
            },
        };
        let sender_email = r
            .string("MAIL_SENDER_EMAIL")
            .or_else(|| r.string("EMAIL_SENDER"))
            .or_else(|| r.string("MAIL_USERNAME").filter(|u| u.contains('@')))
            .unwrap_or_else(|| "no-reply@localhost".into());
        let sender_name = r
            .string("MAIL_SENDER_NAME")
            .unwrap_or_else(|| config.mail.product_name.clone());
        config.mail_sender = (sender_name, sender_email);
        if config.cors.credentials && config.cors.origins.is_none() {
            return Err(ConfigError::Invalid {
                name: "CORS_ALLOW_CREDENTIALS",
                reason: "needs an explicit CORS_ALLOWED_ORIGINS list, not *".into(),
            });
        }
        // Sandboxed frames, `data:` and `file:` pages all send `Origin: null`:
        // allowing it with credentials lets any of them read answers made
        // with the user's cookies (Fetch standard; PortSwigger "CORS").
        if config.cors.credentials
            && config
                .cors
                .origins
                .iter()
                .flatten()
                .any(|o| o.eq_ignore_ascii_case("null"))
        {
            return Err(ConfigError::Invalid {
                name: "CORS_ALLOWED_ORIGINS",
                reason: "null cannot be allowed together with CORS_ALLOW_CREDENTIALS (any sandboxed page sends Origin: null)".into(),
            });
        }
        if config.request_body_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                name: "REQUEST_BODY_TIMEOUT",
                reason: "must be at least 1 second".into(),
            });
        }
        if config
            .metrics_bearer_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return Err(ConfigError::Invalid {
                name: "METRICS_BEARER_TOKEN",
                reason: "must be at least 16 characters".into(),
            });
        }
        if let Some(addr) = &config.metrics_listen
            && addr.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(ConfigError::Invalid {
                name: "METRICS_LISTEN",
                reason: format!("{addr:?}: expected host:port, for example 127.0.0.1:9100"),
            });
        }
        if config.access_ttl.is_zero() || config.refresh_ttl < config.access_ttl {
            return Err(ConfigError::Invalid {
                name: "ACCESS_TOKEN_TTL",
                reason: "must be positive and no longer than REFRESH_TOKEN_TTL".into(),
            });
        }
        if config.environment == Environment::Production
            && config
                .jwt_secret
                .as_ref()
                .is_some_and(|s| s.expose().len() < 32)
        {
            return Err(ConfigError::MissingProductionKey);
        }
        Ok(config)
    }

    /// The JWT key: the configured one; in development without one, the key
    /// kept in `<var>/jwt-secret.key`, generated on first use.
    ///
    /// # Errors
    /// [`ConfigError::MissingProductionKey`] in production without a key of at
    /// least 32 bytes; [`ConfigError::KeyFile`] when the development key file fails.
    pub fn resolve_jwt_secret(&self) -> Result<Vec<u8>, ConfigError> {
        match (&self.jwt_secret, self.environment) {
            (Some(s), Environment::Production) if s.expose().len() >= 32 => {
                Ok(s.expose().as_bytes().to_vec())
            }
            (_, Environment::Production) => Err(ConfigError::MissingProductionKey),
            (Some(s), Environment::Development) => {
                if s.expose().len() < 32 {
                    tracing::warn!(
                        "JWT_SECRET_KEY is shorter than 32 bytes; production would refuse it"
                    );
                }
                Ok(s.expose().as_bytes().to_vec())
            }
            (None, Environment::Development) => self.development_key(),
        }
    }

    fn development_key(&self) -> Result<Vec<u8>, ConfigError> {
        let path = self.var_dir.join("jwt-secret.key");
        let fail = |reason: String| ConfigError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let key = existing.trim();
            if key.len() >= 32 {
                return Ok(key.as_bytes().to_vec());
            }
        }
        std::fs::create_dir_all(&self.var_dir).map_err(|e| fail(e.to_string()))?;
        let key = tessera_crypto::hex(
            &tessera_crypto::random_bytes(32).map_err(|e| fail(e.to_string()))?,
        );
        write_private(&path, &key).map_err(|e| fail(e.to_string()))?;
        tracing::warn!(
            path = %path.display(),
            "no JWT_SECRET_KEY set: generated a development key; set JWT_SECRET_KEY (32+ bytes) in production"
        );
        Ok(key.into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// The mail transport the settings name (see [`Config::mail_transport`]).
fn mail_transport(r: &Reader<'_>, var_dir: &Path) -> Result<MailTransport, ConfigError> {
    use tessera_smtp::{Security, SmtpConfig};
    let timeout = Duration::from_secs(r.parse("SMTP_TIMEOUT", 10)?);
    if let Some(url) = r.string("SMTP_URL") {
        return SmtpConfig::from_url(&url, timeout)
            .map(MailTransport::Smtp)
            .map_err(|e| ConfigError::Invalid {
                name: "SMTP_URL",
                reason: e.to_string(),
            });
    }
    if let Some(host) = r.string("MAIL_SERVER") {
        let ssl = r.bool("MAIL_USE_SSL", false)?;
        let tls = r.bool("MAIL_USE_TLS", false)?;
        let security = match (ssl, tls) {
            (true, _) => Security::ImplicitTls,
            (false, true) => Security::StartTls,
            (false, false) => Security::Opportunistic,
        };
        let port = r.parse(
            "MAIL_PORT",
            if ssl {
                465
            } else if tls {
                587
            } else {
                25
            },
        )?;
        let credentials = r
            .string("MAIL_USERNAME")
            .map(|u| (u, (r.lookup)("MAIL_PASSWORD").unwrap_or_default()));
        return Ok(MailTransport::Smtp(SmtpConfig {
            host,
            port,
            security,
            credentials,
            timeout,
        }));
    }
    if let Some(host) = r.string("EMAIL_SMTP_SERVER") {
        let port: u16 = r.parse("EMAIL_SMTP_PORT", 465)?;
        let security = if port == 465 {
            Security::ImplicitTls
        } else {
            Security::Opportunistic
        };
        let credentials = r
            .string("EMAIL_SENDER")
            .map(|u| (u, (r.lookup)("EMAIL_PASSWORD").unwrap_or_default()));
        return Ok(MailTransport::Smtp(SmtpConfig {
            host,
            port,
            security,
            credentials,
            timeout,
        }));
    }
    Ok(MailTransport::Files(var_dir.join("mail")))
}

/// Percent-encodes a URL user-info part.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Seed 001's `DB_*` variables as a MySQL URL.
fn mysql_url_from_parts(r: &Reader<'_>, host: &str) -> Result<String, ConfigError> {
    let port: u16 = r.parse("DB_PORT", 3306)?;
    let user = r.string("DB_USER").unwrap_or_else(|| "root".into());
    let name = r.string("DB_NAME").ok_or(ConfigError::Invalid {
        name: "DB_NAME",
        reason: "required with DB_HOST".into(),
    })?;
    let auth = match (r.lookup)("DB_PASSWORD").filter(|p| !p.is_empty()) {
        Some(p) => format!("{}:{}", url_encode(&user), url_encode(&p)),
        None => url_encode(&user),
    };
    Ok(format!(
        "mysql://{auth}@{host}:{port}/{}",
        url_encode(&name)
    ))
}

/// Adds the MySQL driver's TLS parameters for `DATABASE_TLS`.
fn with_database_tls(url: String, tls: Option<&str>) -> Result<String, ConfigError> {
    let params = match tls.map(str::to_ascii_lowercase).as_deref() {
        None | Some("off" | "disabled" | "false") => return Ok(url),
        Some("required" | "require" | "on" | "true") => {
            "require_ssl=true&verify_ca=false&verify_identity=false"
        }
        Some("verify-ca" | "verify_ca") => "require_ssl=true&verify_ca=true&verify_identity=false",
        Some("verify-identity" | "verify_identity" | "verify-full") => {
            "require_ssl=true&verify_ca=true&verify_identity=true"
        }
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "DATABASE_TLS",
                reason: format!("{other:?}: expected off, required, verify-ca or verify-identity"),
            });
        }
    };
    if !(url.starts_with("mysql://") || url.starts_with("mariadb://")) {
        return Err(ConfigError::Invalid {
            name: "DATABASE_TLS",
            reason: "applies to MySQL/MariaDB URLs only".into(),
        });
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}{params}"))
}

/// Reads a `tessera.toml`: top-level `NAME = value` pairs with the same names
/// as the environment variables (any case; strings, numbers, booleans, or
/// arrays, which are joined with commas). A missing file is empty unless
/// `required`.
///
/// # Errors
/// [`ConfigError::Invalid`] for unreadable TOML or values of other types.
pub fn read_toml(path: &Path, required: bool) -> Result<HashMap<String, String>, ConfigError> {
    let bad = |reason: String| ConfigError::Invalid {
        name: "TESSERA_CONFIG",
        reason: format!("{}: {reason}", path.display()),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(HashMap::new());
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad(e.to_string()))?;
    let scalar = |v: &toml::Value| match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    };
    table
        .into_iter()
        .map(|(k, v)| {
            let value = match &v {
                toml::Value::Array(items) => items
                    .iter()
                    .map(scalar)
                    .collect::<Option<Vec<_>>>()
                    .map(|xs| xs.join(",")),
                other => scalar(other),
            }
            .ok_or_else(|| {
                bad(format!(
                    "{k}: expected a string, number, boolean or array of them"
                ))
            })?;
            Ok((k.to_ascii_uppercase(), value))
        })
        .collect()
}

/// The `KEY=VALUE` lines of a `.env` file (none when it is missing or unreadable).
#[must_use]
pub fn read_dotenv(path: &Path) -> HashMap<String, String> {
    dotenvy::from_path_iter(path)
        .map(|it| it.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(&|k| map.get(k).cloned())
    }

    #[test]
    fn a_toml_file_reads_like_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.toml");
        std::fs::write(
            &path,
            "port = 9090\nHOST = \"0.0.0.0\"\nrequire_verified_email = true\nTRUSTED_PROXIES = [\"10.0.0.0/8\", \"::1\"]\n",
        )
        .unwrap();
        let file = read_toml(&path, true).unwrap();
        let c = Config::from_lookup(&|k| file.get(k).cloned()).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("0.0.0.0", 9090));
        assert!(c.require_verified_email);
        assert_eq!(c.trusted_proxies.len(), 2);
        std::fs::write(&path, "PORT = { nested = 1 }\n").unwrap();
        assert!(read_toml(&path, true).is_err());
        std::fs::write(&path, "PORT = \n").unwrap();
        assert!(read_toml(&path, true).is_err(), "not TOML");
        assert!(
            read_toml(&dir.path().join("missing.toml"), false)
                .unwrap()
                .is_empty()
        );
        assert!(read_toml(&dir.path().join("missing.toml"), true).is_err());
    }

    #[test]
    fn max_sessions_per_user_defaults_to_50_and_turns_off() {
        let max = |v: &[(&str, &str)]| config(v).map(|c| c.max_sessions_per_user);
        assert_eq!(max(&[]).unwrap(), Some(50));
        assert_eq!(max(&[("MAX_SESSIONS_PER_USER", "7")]).unwrap(), Some(7));
        assert_eq!(max(&[("MAX_SESSIONS_PER_USER", "0")]).unwrap(), None);
        assert_eq!(max(&[("MAX_SESSIONS_PER_USER", "OFF")]).unwrap(), None);
        for bad in ["-1", "lots", "5.5"] {
            assert!(max(&[("MAX_SESSIONS_PER_USER", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults() {
        let c = config(&[]).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8080));
        assert_eq!(c.environment, Environment::Development);
        assert_eq!(c.access_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_ttl, Duration::from_secs(604_800));
        assert_eq!(c.refresh_reuse_interval, Duration::from_secs(10));
        assert!(c.database_url.starts_with("sqlite://") && c.database_url.ends_with("tessera.db"));
        assert_eq!(c.default_role.as_str(), "unauth");
    }

    #[test]
    fn username_min_length_defaults_to_3_and_is_refused_outside_1_to_50() {
        let min = |pairs: &[(&str, &str)]| config(pairs).map(|c| c.username_policy.min_chars);
        assert_eq!(min(&[]).unwrap(), 3);
        assert_eq!(min(&[("USERNAME_MIN_LENGTH", "2")]).unwrap(), 2);
        assert_eq!(min(&[("USERNAME_MIN_LENGTH", "1")]).unwrap(), 1);
        assert_eq!(min(&[("USERNAME_MIN_LENGTH", "50")]).unwrap(), 50);
        for bad in ["0", "51", "-1", "two", "2.5"] {
            let e = min(&[("USERNAME_MIN_LENGTH", bad)]).unwrap_err();
            assert!(
                matches!(
                    e,
                    ConfigError::Invalid {
                        name: "USERNAME_MIN_LENGTH",
                        ..
                    }
                ),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn password_min_score_and_its_reject_common_alias() {
        let score = |pairs: &[(&str, &str)]| config(pairs).map(|c| c.password_policy.min_score);
        assert_eq!(score(&[]).unwrap(), PasswordPolicy::DEFAULT_MIN_SCORE);
        assert_eq!(score(&[("PASSWORD_MIN_SCORE", "4")]).unwrap(), 4);
        assert_eq!(score(&[("PASSWORD_MIN_SCORE", "0")]).unwrap(), 0);
        assert_eq!(score(&[("PASSWORD_REJECT_COMMON", "false")]).unwrap(), 0);
        assert_eq!(
            score(&[("PASSWORD_REJECT_COMMON", "true")]).unwrap(),
            PasswordPolicy::DEFAULT_MIN_SCORE
        );
        assert_eq!(
            score(&[
                ("PASSWORD_REJECT_COMMON", "false"),
                ("PASSWORD_MIN_SCORE", "2")
            ])
            .unwrap(),
            2,
            "an explicit score wins over the alias"
        );
        for bad in ["5", "-1", "three"] {
            assert!(
                matches!(
                    score(&[("PASSWORD_MIN_SCORE", bad)]),
                    Err(ConfigError::Invalid {
                        name: "PASSWORD_MIN_SCORE",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn admin_login_roles_default_to_super_admin_and_take_a_list() {
        let names = |c: Config| {
            c.admin_login_roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(config(&[]).unwrap()), ["super_admin"]);
        assert_eq!(
            names(config(&[("ADMIN_LOGIN_ROLES", " admin , super_admin ")]).unwrap()),
            ["admin", "super_admin"]
        );
        for bad in [",", "not a role!", "admin, regulator", "unauth"] {
            assert!(
                matches!(
                    config(&[("ADMIN_LOGIN_ROLES", bad)]),
                    Err(ConfigError::Invalid {
                        name: "ADMIN_LOGIN_ROLES",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn production_refuses_a_missing_or_short_key() {
        assert!(matches!(
            config(&[("TESSERA_ENV", "production")])
                .unwrap()
                .resolve_jwt_secret(),
            Err(ConfigError::MissingProductionKey)
        ));
        assert_eq!(
            config(&[("TESSERA_ENV", "production"), ("JWT_SECRET_KEY", "short")]).err(),
            Some(ConfigError::MissingProductionKey)
        );
        let key = "k".repeat(32);
        let c = config(&[("TESSERA_ENV", "production"), ("JWT_SECRET_KEY", &key)]).unwrap();
        assert_eq!(c.resolve_jwt_secret().unwrap(), key.as_bytes());
    }

    #[test]
    fn development_generates_and_keeps_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let var = dir.path().join("var");
        let c = config(&[("TESSERA_VAR_DIR", var.to_str().unwrap())]).unwrap();
        let first = c.resolve_jwt_secret().unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(
            c.resolve_jwt_secret().unwrap(),
            first,
            "the same key after a restart"
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = config(&[("ACCESS_TOKEN_TTL", "soon")]).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Invalid {
                    name: "ACCESS_TOKEN_TTL",
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            config(&[("TESSERA_ENV", "staging")]),
            Err(ConfigError::Invalid {
                name: "TESSERA_ENV",
                ..
            })
        ));
        assert!(matches!(
            config(&[("REGISTRATION_ROLES", "a,super_admin")]),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            config(&[("PHONE_DEFAULT_REGION", "XX")]),
            Err(ConfigError::Invalid {
                name: "PHONE_DEFAULT_REGION",
                ..
            })
        ));
    }

    #[test]
    fn the_phone_region_defaults_to_cn() {
        assert_eq!(config(&[]).unwrap().phone_region.as_str(), "CN");
        assert_eq!(
            config(&[("PHONE_DEFAULT_REGION", " de ")])
                .unwrap()
                .phone_region
                .as_str(),
            "DE"
        );
    }

    #[test]
    fn seed_001_db_variables_build_a_mysql_url() {
        let c = config(&[
            ("DB_HOST", "db.local"),
            ("DB_PORT", "3307"),
            ("DB_USER", "dream"),
            ("DB_PASSWORD", "p@ss word"),
            ("DB_NAME", "dream"),
        ])
        .unwrap();
        assert_eq!(
            c.database_url,
            "mysql://dream:p%40ss%20word@db.local:3307/dream"
        );
        let c = config(&[("DATABASE_URL", "mysql://a@b/c"), ("DB_HOST", "ignored")]).unwrap();
        assert_eq!(c.database_url, "mysql://a@b/c");
        assert!(matches!(
            config(&[("DB_HOST", "h")]),
            Err(ConfigError::Invalid {
                name: "DB_NAME",
                ..
            })
        ));
    }

    #[test]
    fn database_tls_adds_driver_parameters() {
        let c = config(&[
            ("DATABASE_URL", "mysql://a@b/c"),
            ("DATABASE_TLS", "verify-identity"),
        ])
        .unwrap();
        assert_eq!(
            c.database_url,
            "mysql://a@b/c?require_ssl=true&verify_ca=true&verify_identity=true"
        );
        assert!(
            config(&[("DATABASE_TLS", "required")]).is_err(),
            "not for SQLite"
        );
        assert!(config(&[("DATABASE_URL", "mysql://a@b/c"), ("DATABASE_TLS", "maybe")]).is_err());
    }

    #[test]
    fn redis_settings() {
        let c = config(&[
            ("REDIS_CLUSTER_URLS", "redis://a:1, redis://b:2"),
            ("REDIS_KEY_PREFIX", "x:"),
        ])
        .unwrap();
        assert_eq!(c.redis_cluster_urls, ["redis://a:1", "redis://b:2"]);
        assert_eq!(c.redis_key_prefix, "x:");
        assert_eq!(config(&[]).unwrap().redis_key_prefix, "tessera:");
    }

    #[test]
    fn mail_settings_from_each_seed() {
        use tessera_smtp::Security;
        let c = config(&[("SMTP_URL", "smtps://u:p@mail.x.com")]).unwrap();
        assert!(
            matches!(&c.mail_transport, MailTransport::Smtp(s) if s.security == Security::ImplicitTls && s.port == 465)
        );
        let c = config(&[
            ("MAIL_SERVER", "smtp.uscre.com"),
            ("MAIL_USE_TLS", "true"),
            ("MAIL_USERNAME", "bot@uscre.com"),
            ("MAIL_PASSWORD", "pw"),
            ("MAIL_SENDER_NAME", "USCRE"),
        ])
        .unwrap();
        assert!(
            matches!(&c.mail_transport, MailTransport::Smtp(s) if s.security == Security::StartTls && s.port == 587)
        );
        assert_eq!(
            c.mail_sender,
            ("USCRE".to_owned(), "bot@uscre.com".to_owned())
        );
        let c = config(&[
            ("EMAIL_SMTP_SERVER", "smtp.qq.com"),
            ("EMAIL_SENDER", "dream@qq.com"),
            ("EMAIL_PASSWORD", "x"),
        ])
        .unwrap();
        assert!(
            matches!(&c.mail_transport, MailTransport::Smtp(s) if s.host == "smtp.qq.com" && s.security == Security::ImplicitTls)
        );
        assert_eq!(c.mail_sender.1, "dream@qq.com");
        assert!(
            matches!(config(&[]).unwrap().mail_transport, MailTransport::Files(p) if p.ends_with("mail"))
        );
        assert!(config(&[("SMTP_URL", "http://nope")]).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let c = config(&[
            ("JWT_SECRET_KEY", "a-very-secret-key-that-is-long-enough"),
            ("DATABASE_URL", "mysql://u:dbpassword@h/d"),
            ("REDIS_URL", "redis://:redispassword@h:6379"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("a-very-secret")
                && !shown.contains("dbpassword")
                && !shown.contains("redispassword"),
            "{shown}"
        );
    }
}
