//! The ports of the SQL stores, with Redis for sessions when asked:
//!
//! | store | users | sessions | denylist | codes | rate limits | user cache |
//! |---|---|---|---|---|---|---|
//! | SQLite | SQL | SQL | SQL, mirrored in memory | SQL | memory | none |
//! | MySQL | SQL | SQL | SQL (every check a query, so instances agree) | SQL | memory | none |
//! | any database + Redis | SQL | Redis | Redis | Redis | Redis | Redis |

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
    AuditLog, CodeStore, Ports, RateDecision, RateLimiter, SessionStore, TokenDenylist, UserCache,
};
use tessera_memory::{MemoryRateLimiter, MirroredDenylist};
#[cfg(feature = "redis")]
use tessera_redis::{RedisCodes, RedisDenylist, RedisRateLimiter, RedisSessions, RedisUserCache};
use tessera_sql::{SqlAudit, SqlCodes, SqlDenylist, SqlOutbox, SqlSessions, SqlUsers};

use crate::AnySms;

/// The ports of a SQL store; `A` is the audit trail (the `audit_log` table
/// by default, or what [`crate::Builder::audit`] wraps around it).
pub struct SqlStack<A = SqlAudit>(std::marker::PhantomData<fn() -> A>);

impl<A> std::fmt::Debug for SqlStack<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqlStack")
    }
}

impl<A: AuditLog> Ports for SqlStack<A> {
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
    type Audit = A;
    type Tasks = tessera_memory::MemoryTasks;
}

/// Verification codes in the database or in Redis.
#[derive(Debug, Clone)]
pub enum AnyCodes {
    /// The `verification_codes` table.
    Sql(SqlCodes),
    #[cfg(feature = "redis")]
    /// Redis hashes.
    Redis(RedisCodes),
}

impl CodeStore for AnyCodes {
    async fn put(&self, code: &VerificationCode) -> Result<(), StoreError> {
        match self {
            Self::Sql(c) => c.put(code).await,
            #[cfg(feature = "redis")]
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
            #[cfg(feature = "redis")]
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
            #[cfg(feature = "redis")]
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
            #[cfg(feature = "redis")]
            Self::Redis(c) => c.take(purpose, recipient).await,
        }
    }
}

/// Rate-limit counters in this process or in Redis (shared by instances).
#[derive(Debug, Clone)]
pub enum AnyLimiter {
    /// In-process counters.
    Memory(MemoryRateLimiter),
    #[cfg(feature = "redis")]
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
            #[cfg(feature = "redis")]
            Self::Redis(l) => l.hit(key, limit, window_secs).await,
        }
    }

    async fn open_for(&self, key: &str) -> Result<Option<u64>, StoreError> {
        match self {
            Self::Memory(l) => l.open_for(key).await,
            #[cfg(feature = "redis")]
            Self::Redis(l) => l.open_for(key).await,
        }
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Self::Memory(l) => l.clear(key).await,
            #[cfg(feature = "redis")]
            Self::Redis(l) => l.clear(key).await,
        }
    }
}

/// A user cache, or none.
#[derive(Debug, Clone)]
pub enum AnyUserCache {
    /// No cache: every read goes to the database.
    None,
    #[cfg(feature = "redis")]
    /// Redis.
    Redis(RedisUserCache),
}

#[cfg_attr(not(feature = "redis"), allow(unused_variables))]
impl UserCache for AnyUserCache {
    async fn get(&self, id: UserId) -> Result<Option<User>, StoreError> {
        match self {
            Self::None => Ok(None),
            #[cfg(feature = "redis")]
            Self::Redis(c) => c.get(id).await,
        }
    }

    async fn put(&self, user: &User) -> Result<(), StoreError> {
        match self {
            Self::None => Ok(()),
            #[cfg(feature = "redis")]
            Self::Redis(c) => c.put(user).await,
        }
    }

    async fn invalidate(&self, id: UserId) -> Result<(), StoreError> {
        match self {
            Self::None => Ok(()),
            #[cfg(feature = "redis")]
            Self::Redis(c) => c.invalidate(id).await,
        }
    }
}

/// Sessions in the database or in Redis.
#[derive(Debug, Clone)]
pub enum AnySessions {
    /// The `sessions` table.
    Sql(SqlSessions),
    #[cfg(feature = "redis")]
    /// Redis hashes.
    Redis(RedisSessions),
}

impl SessionStore for AnySessions {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        match self {
            Self::Sql(s) => s.create(session).await,
            #[cfg(feature = "redis")]
            Self::Redis(s) => s.create(session).await,
        }
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        match self {
            Self::Sql(s) => s.get(id).await,
            #[cfg(feature = "redis")]
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
            #[cfg(feature = "redis")]
            Self::Redis(s) => s.rotate(id, from_generation, new_fingerprint, at).await,
        }
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        match self {
            Self::Sql(s) => s.revoke(id, at).await,
            #[cfg(feature = "redis")]
            Self::Redis(s) => s.revoke(id, at).await,
        }
    }

    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        match self {
            Self::Sql(s) => s.touch(id, at).await,
            #[cfg(feature = "redis")]
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
            #[cfg(feature = "redis")]
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
            #[cfg(feature = "redis")]
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
    #[cfg(feature = "redis")]
    /// Redis.
    Redis(RedisDenylist),
}

impl TokenDenylist for AnyDenylist {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        match self {
            Self::Mirrored(d) => d.deny(key, until).await,
            Self::Sql(d) => d.deny(key, until).await,
            #[cfg(feature = "redis")]
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
            #[cfg(feature = "redis")]
            Self::Redis(d) => d.any_denied(keys, now).await,
        }
    }
}
