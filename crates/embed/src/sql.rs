//! The ports of the SQL stores, with Redis for sessions when asked:
//!
//! | store | users | sessions | denylist | codes | rate limits |
//! |---|---|---|---|---|---|
//! | SQLite | SQL | SQL | SQL | SQL | memory |
//! | MySQL | SQL | SQL | SQL | SQL | memory |
//! | any database + Redis | SQL | Redis | Redis | Redis | Redis |
//!
//! Users (with their roles) and denylist answers are cached in each process
//! ([`tessera_memory::CoherentUsers`], [`tessera_memory::CoherentDenylist`]),
//! kept coherent by the change feed of the store that holds them: the
//! `cache_changes` table of the database for users (and the SQL denylist),
//! the Redis stream for the Redis denylist (none on a Redis Cluster, whose
//! denylist is read on every check). See [`crate::CacheSettings`].

use chrono::{DateTime, Utc};
use tessera_crypto::{Argon2Hasher, HmacRefreshCodec, JwtSigner};
use tessera_domain::clock::{RandomIds, SystemClock};
use tessera_domain::error::StoreError;
use tessera_domain::model::Change;
use tessera_domain::model::RevocationKey;
use tessera_domain::model::UserId;
use tessera_domain::model::{CodePurpose, VerificationCode};
use tessera_domain::model::{Session, SessionId, SessionRotation};
use tessera_domain::ports::{
    AuditLog, ChangeFeed, CodeStore, Ports, RateDecision, RateLimiter, RateWindow, SessionStore,
    TokenDenylist,
};
use tessera_memory::{CoherentDenylist, CoherentUsers, MemoryRateLimiter, RecentSessions};
#[cfg(feature = "redis")]
use tessera_redis::{RedisChangeFeed, RedisCodes, RedisDenylist, RedisRateLimiter, RedisSessions};
use tessera_sql::{
    SqlAudit, SqlChangeFeed, SqlCodes, SqlDenylist, SqlOutbox, SqlSessions, SqlUsers,
};

use crate::AnySms;

/// Calls `$call` on the store an `Any*` enum holds: one of `$variant`s or,
/// with the `redis` feature, its `Redis` variant.
macro_rules! forward {
    ($self:ident, [$($variant:ident),+], $store:ident => $call:expr) => {
        match $self {
            $(Self::$variant($store) => $call.await,)+
            #[cfg(feature = "redis")]
            Self::Redis($store) => $call.await,
        }
    };
}

/// The ports of a SQL store; `A` is the audit trail (the `audit_log` table
/// by default, or what [`crate::Builder::audit`] wraps around it).
pub struct SqlStack<A = SqlAudit>(std::marker::PhantomData<fn() -> A>);

impl<A> std::fmt::Debug for SqlStack<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqlStack")
    }
}

impl<A: AuditLog> Ports for SqlStack<A> {
    type Users = CoherentUsers<SqlUsers>;
    type Sessions = RecentSessions<AnySessions>;
    type Denylist = CoherentDenylist<AnyDenylist>;
    type Hasher = Argon2Hasher;
    type Signer = JwtSigner;
    type Codec = HmacRefreshCodec;
    type Clock = SystemClock;
    type Ids = RandomIds;
    type Codes = AnyCodes;
    type Limiter = AnyLimiter;
    type Outbox = SqlOutbox;
    type Sms = AnySms;
    type Audit = A;
    type Tasks = tessera_memory::MemoryTasks;
    type Factors = tessera_sql::SqlFactors;
    type Otp = tessera_crypto::TotpAuthenticator;
    type RelyingParty = tessera_crypto::WebAuthnRelyingParty;
    type Clients = tessera_sql::SqlClients;
    type Identities = tessera_sql::SqlIdentities;
    type Upstream = tessera_federation::UpstreamClient;
    type Webhooks = tessera_sql::SqlWebhooks;
    type WebhookTransport = tessera_webhooks::HttpWebhookTransport;
    type TokenHook = tessera_webhooks::HttpAccessTokenHook;
}

/// Verification codes in the database or in Redis.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyCodes {
    /// The `verification_codes` table.
    Sql(SqlCodes),
    #[cfg(feature = "redis")]
    /// Redis hashes.
    Redis(RedisCodes),
}

impl CodeStore for AnyCodes {
    async fn put(&self, code: &VerificationCode) -> Result<(), StoreError> {
        forward!(self, [Sql], c => c.put(code))
    }

    async fn get(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        forward!(self, [Sql], c => c.get(purpose, recipient))
    }

    async fn claim_attempt(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<tessera_domain::model::AttemptGrant, StoreError> {
        forward!(self, [Sql], c => c.claim_attempt(purpose, recipient))
    }

    async fn take(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        forward!(self, [Sql], c => c.take(purpose, recipient))
    }
}

/// Rate-limit counters in this process or in Redis (shared by instances).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyLimiter {
    /// In-process counters.
    Memory(MemoryRateLimiter),
    #[cfg(feature = "redis")]
    /// Redis counters.
    Redis(RedisRateLimiter),
}

impl RateLimiter for AnyLimiter {
    async fn hit(&self, key: &str, window: RateWindow) -> Result<RateDecision, StoreError> {
        forward!(self, [Memory], l => l.hit(key, window))
    }

    async fn open_for(&self, key: &str) -> Result<Option<u64>, StoreError> {
        forward!(self, [Memory], l => l.open_for(key))
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        forward!(self, [Memory], l => l.clear(key))
    }
}

/// Sessions in the database or in Redis.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnySessions {
    /// The `sessions` table.
    Sql(SqlSessions),
    #[cfg(feature = "redis")]
    /// Redis hashes.
    Redis(RedisSessions),
}

impl SessionStore for AnySessions {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        forward!(self, [Sql], s => s.create(session))
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        forward!(self, [Sql], s => s.get(id))
    }

    async fn rotate(&self, rotation: &SessionRotation) -> Result<bool, StoreError> {
        forward!(self, [Sql], s => s.rotate(rotation))
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        forward!(self, [Sql], s => s.revoke(id, at))
    }

    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        forward!(self, [Sql], s => s.touch(id, at))
    }

    async fn list_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        forward!(self, [Sql], s => s.list_for_user(user, now))
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        forward!(self, [Sql], s => s.revoke_all_for_user(user, keep, at))
    }
}

/// The denylist in the database or in Redis.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyDenylist {
    /// The `revoked_tokens` table.
    Sql(SqlDenylist),
    #[cfg(feature = "redis")]
    /// Redis.
    Redis(RedisDenylist),
}

impl TokenDenylist for AnyDenylist {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        forward!(self, [Sql], d => d.deny(key, until))
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        forward!(self, [Sql], d => d.any_denied(keys, now))
    }
}

/// The change feed of the database or of Redis.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyChangeFeed {
    /// The `cache_changes` table.
    Sql(SqlChangeFeed),
    #[cfg(feature = "redis")]
    /// The Redis stream.
    Redis(RedisChangeFeed),
}

impl ChangeFeed for AnyChangeFeed {
    async fn changes(&mut self, wait: std::time::Duration) -> Result<Vec<Change>, StoreError> {
        match self {
            Self::Sql(f) => f.changes(wait).await,
            #[cfg(feature = "redis")]
            Self::Redis(f) => f.changes(wait).await,
        }
    }
}
