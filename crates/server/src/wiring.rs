//! The adapters the `tessera` binary uses, chosen from the configuration:
//!
//! | configuration | users | sessions | denylist | user cache |
//! |---|---|---|---|---|
//! | SQLite, no Redis (embedded default) | SQL | SQL | SQL, mirrored in memory | none |
//! | MySQL, no Redis | SQL | SQL | SQL (every check a query, so instances agree) | none |
//! | any database + `REDIS_URL` / `REDIS_CLUSTER_URLS` | SQL | Redis | Redis | Redis |

use chrono::{DateTime, Utc};
use tessera_crypto::{Argon2Hasher, HmacRefreshCodec, JwtSigner};
use tessera_domain::cache::CachedUsers;
use tessera_domain::clock::{RandomIds, SystemClock};
use tessera_domain::error::StoreError;
use tessera_domain::model::{CodePurpose, VerificationCode};
use tessera_domain::model::{RevocationKey, TokenFingerprint};
use tessera_domain::model::{Session, SessionId};
use tessera_domain::model::{User, UserId};
use tessera_domain::ports::{
    CodeStore, Ports, RateDecision, RateLimiter, SessionStore, TokenDenylist, UserCache,
};
use tessera_domain::settings::{LinkTemplate, TokenProfile, VerificationLinks};
use tessera_domain::{AuthService, AuthSettings};

/// The token profile of seed 001's routes, whose clients cannot refresh
/// (`LEGACY_ACCESS_TOKEN_TTL`).
pub const LEGACY_TOKENS: &str = "legacy";

/// The token profile of seed 002's routes (`V1_ACCESS_TOKEN_TTL`).
pub const V1_TOKENS: &str = "v1";
use tessera_memory::{MemoryRateLimiter, MirroredDenylist};
use tessera_redis::{RedisCodes, RedisDenylist, RedisRateLimiter, RedisSessions, RedisUserCache};
use tessera_sql::{SqlCodes, SqlDenylist, SqlOutbox, SqlSessions, SqlUsers};

use crate::config::{Config, ConfigError};

/// The binary's ports.
#[derive(Debug, Clone, Copy)]
pub struct ServerPorts;

impl Ports for ServerPorts {
    type Users = CachedUsers<SqlUsers, AnyUserCache>;
    type Sessions = AnySessions;
    type Denylist = AnyDenylist;
    type Hasher = Argon2Hasher;
    type Signer = JwtSigner;
    type Codec = HmacRefreshCodec;
    type Clock = SystemClock;
    type Ids = RandomIds;
    type Codes = AnyCodes;
    type Limiter = AnyLimiter;
    type Outbox = SqlOutbox;
    type Sms = AnySms;
    type Audit = LoggedAudit;
    type Tasks = tessera_memory::MemoryTasks;
}

/// The audit trail: a structured log line (target `tessera::audit`) for every
/// event, then a row in `audit_log`. A failing table is logged, never hidden.
#[derive(Debug, Clone)]
pub struct LoggedAudit(
    pub tessera_sql::SqlAudit,
    pub std::sync::Arc<crate::metrics::Metrics>,
);

impl tessera_domain::ports::AuditLog for LoggedAudit {
    async fn record(&self, e: &tessera_domain::model::AuditEvent) -> Result<(), StoreError> {
        tracing::info!(
            target: "tessera::audit",
            kind = e.kind.as_str(),
            actor = e.actor.map(|u| u.0),
            subject = e.subject.map(|u| u.0),
            identifier = e.identifier.as_deref(),
            ip = e.client.ip.as_deref(),
            user_agent = e.client.user_agent.as_deref(),
            detail = e.detail.as_deref(),
            "audit"
        );
        self.1.observe_audit(e.kind.as_str());
        let stored = self.0.record(e).await;
        if let Err(cause) = &stored {
            tracing::error!(target: "tessera::audit", %cause, kind = e.kind.as_str(), "audit row not stored");
        }
        stored
    }
}

/// Text messages to a file or a webhook.
#[derive(Debug, Clone)]
pub enum AnySms {
    /// `<var>/sms.log` (the default).
    File(tessera_smtp::FileSms),
    /// `SMS_WEBHOOK_URL`.
    Webhook(tessera_smtp::WebhookSms),
}

impl tessera_domain::ports::SmsSender for AnySms {
    async fn send(&self, to: &tessera_domain::values::Phone, text: &str) -> Result<(), StoreError> {
        match self {
            Self::File(s) => s.send(to, text).await,
            Self::Webhook(s) => s.send(to, text).await,
        }
    }
}

/// Verification codes in the database or in Redis.
#[derive(Debug, Clone)]
pub enum AnyCodes {
    /// The `verification_codes` table.
    Sql(SqlCodes),
    /// Redis hashes.
    Redis(RedisCodes),
}

impl CodeStore for AnyCodes {
    async fn put(&self, code: &VerificationCode) -> Result<(), StoreError> {
        match self {
            Self::Sql(c) => c.put(code).await,
            Self::Redis(c) => c.put(code).await,
        }
    }

    async fn get(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        match self {
            Self::Sql(c) => c.get(purpose, recipient).await,
            Self::Redis(c) => c.get(purpose, recipient).await,
        }
    }

    async fn claim_attempt(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<tessera_domain::model::AttemptGrant, StoreError> {
        match self {
            Self::Sql(c) => c.claim_attempt(purpose, recipient).await,
            Self::Redis(c) => c.claim_attempt(purpose, recipient).await,
        }
    }

    async fn take(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        match self {
            Self::Sql(c) => c.take(purpose, recipient).await,
            Self::Redis(c) => c.take(purpose, recipient).await,
        }
    }
}

/// Rate-limit counters in this process or in Redis (shared by instances).
#[derive(Debug, Clone)]
pub enum AnyLimiter {
    /// In-process counters.
    Memory(MemoryRateLimiter),
    /// Redis counters.
    Redis(RedisRateLimiter),
}

impl RateLimiter for AnyLimiter {
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window_secs: u64,
    ) -> Result<RateDecision, StoreError> {
        match self {
            Self::Memory(l) => l.hit(key, limit, window_secs).await,
            Self::Redis(l) => l.hit(key, limit, window_secs).await,
        }
    }

    async fn open_for(&self, key: &str) -> Result<Option<u64>, StoreError> {
        match self {
            Self::Memory(l) => l.open_for(key).await,
            Self::Redis(l) => l.open_for(key).await,
        }
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Self::Memory(l) => l.clear(key).await,
            Self::Redis(l) => l.clear(key).await,
        }
    }
}

/// The service the binary runs.
pub type ServerAuth = AuthService<ServerPorts>;

/// A user cache, or none.
#[derive(Debug, Clone)]
pub enum AnyUserCache {
    /// No cache: every read goes to the database.
    None,
    /// Redis.
    Redis(RedisUserCache),
}

impl UserCache for AnyUserCache {
    async fn get(&self, id: UserId) -> Result<Option<User>, StoreError> {
        match self {
            Self::None => Ok(None),
            Self::Redis(c) => c.get(id).await,
        }
    }

    async fn put(&self, user: &User) -> Result<(), StoreError> {
        match self {
            Self::None => Ok(()),
            Self::Redis(c) => c.put(user).await,
        }
    }

    async fn invalidate(&self, id: UserId) -> Result<(), StoreError> {
        match self {
            Self::None => Ok(()),
            Self::Redis(c) => c.invalidate(id).await,
        }
    }
}

/// Sessions in the database or in Redis.
#[derive(Debug, Clone)]
pub enum AnySessions {
    /// The `sessions` table.
    Sql(SqlSessions),
    /// Redis hashes.
    Redis(RedisSessions),
}

impl SessionStore for AnySessions {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        match self {
            Self::Sql(s) => s.create(session).await,
            Self::Redis(s) => s.create(session).await,
        }
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        match self {
            Self::Sql(s) => s.get(id).await,
            Self::Redis(s) => s.get(id).await,
        }
    }

    async fn rotate(
        &self,
        id: SessionId,
        from_generation: u32,
        new_fingerprint: &TokenFingerprint,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Sql(s) => s.rotate(id, from_generation, new_fingerprint, at).await,
            Self::Redis(s) => s.rotate(id, from_generation, new_fingerprint, at).await,
        }
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        match self {
            Self::Sql(s) => s.revoke(id, at).await,
            Self::Redis(s) => s.revoke(id, at).await,
        }
    }

    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        match self {
            Self::Sql(s) => s.touch(id, at).await,
            Self::Redis(s) => s.touch(id, at).await,
        }
    }

    async fn list_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        match self {
            Self::Sql(s) => s.list_for_user(user, now).await,
            Self::Redis(s) => s.list_for_user(user, now).await,
        }
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        match self {
            Self::Sql(s) => s.revoke_all_for_user(user, keep, at).await,
            Self::Redis(s) => s.revoke_all_for_user(user, keep, at).await,
        }
    }
}

/// The denylist: mirrored SQL (one instance), plain SQL (several), or Redis.
#[derive(Debug, Clone)]
pub enum AnyDenylist {
    /// SQLite with an in-memory mirror.
    Mirrored(MirroredDenylist<SqlDenylist>),
    /// A shared database, read on every check.
    Sql(SqlDenylist),
    /// Redis.
    Redis(RedisDenylist),
}

impl TokenDenylist for AnyDenylist {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        match self {
            Self::Mirrored(d) => d.deny(key, until).await,
            Self::Sql(d) => d.deny(key, until).await,
            Self::Redis(d) => d.deny(key, until).await,
        }
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Mirrored(d) => d.any_denied(keys, now).await,
            Self::Sql(d) => d.any_denied(keys, now).await,
            Self::Redis(d) => d.any_denied(keys, now).await,
        }
    }
}

fn span(name: &'static str, d: std::time::Duration) -> Result<chrono::Duration, ConfigError> {
    chrono::Duration::from_std(d).map_err(|e| ConfigError::Invalid {
        name,
        reason: e.to_string(),
    })
}

/// The use-case settings a configuration asks for.
///
/// # Errors
/// [`ConfigError::Invalid`] when a duration is out of range.
pub fn auth_settings(config: &Config) -> Result<AuthSettings, ConfigError> {
    Ok(AuthSettings {
        access_ttl: span("ACCESS_TOKEN_TTL", config.tokens.access_ttl)?,
        token_profiles: vec![
            TokenProfile {
                name: LEGACY_TOKENS.into(),
                access_ttl: span("LEGACY_ACCESS_TOKEN_TTL", config.tokens.legacy_access_ttl)?,
            },
            TokenProfile {
                name: V1_TOKENS.into(),
                access_ttl: span("V1_ACCESS_TOKEN_TTL", config.tokens.v1_access_ttl)?,
            },
        ],
        verification_links: VerificationLinks {
            page: LinkTemplate {
                tag: "modern".into(),
                path: "/api/auth/verify-email?token={token}".into(),
            },
            direct: LinkTemplate {
                tag: "v1".into(),
                path: "/api/v1/auth/verify/{token}".into(),
            },
        },
        refresh_ttl: span("REFRESH_TOKEN_TTL", config.tokens.refresh_ttl)?,
        idle_ttl: span("SESSION_IDLE_TTL", config.tokens.idle_ttl)?,
        reuse_interval: span(
            "REFRESH_REUSE_INTERVAL",
            config.tokens.refresh_reuse_interval,
        )?,
        leeway: span("JWT_LEEWAY", config.tokens.leeway)?,
        password_policy: config.passwords.policy.clone(),
        username_policy: config.accounts.username_policy,
        registrable_roles: config.accounts.registrable_roles.clone(),
        default_role: config.accounts.default_role.clone(),
        admin_login_roles: config.accounts.admin_login_roles.clone(),
        mail: config.messaging.mail.clone(),
        codes: tessera_domain::settings::CodeSettings {
            ttl: span("VERIFICATION_CODE_TTL", config.verification.code_ttl)?,
            ..tessera_domain::settings::CodeSettings::default()
        },
        require_verified_email: config.verification.require_verified_email,
        unverified_account_ttl: config
            .verification
            .unverified_account_ttl
            .map(|d| span("UNVERIFIED_ACCOUNT_TTL", d))
            .transpose()?,
        phone_region: config.accounts.phone_region,
        expose_debug_codes: config.environment == crate::config::Environment::Development,
        login_throttle: config.login_throttle,
        max_sessions_per_user: config.tokens.max_sessions_per_user,
    })
}
