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
use tessera_domain::model::RevocationKey;
use tessera_domain::model::{CodePurpose, VerificationCode};
use tessera_domain::model::{Session, SessionId, SessionRotation};
use tessera_domain::model::{User, UserId};
use tessera_domain::ports::{
    AuditLog, CodeStore, Ports, RateDecision, RateLimiter, RateWindow, SessionStore, TokenDenylist,
    UserCache,
};
use tessera_memory::{MemoryRateLimiter, MirroredDenylist};
#[cfg(feature = "redis")]
use tessera_redis::{RedisCodes, RedisDenylist, RedisRateLimiter, RedisSessions, RedisUserCache};
use tessera_sql::{SqlAudit, SqlCodes, SqlDenylist, SqlOutbox, SqlSessions, SqlUsers};

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

/// A user cache, or none.
#[derive(Debug, Clone)]
#[non_exhaustive]
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

/// The denylist: mirrored SQL (one instance), plain SQL (several), or Redis.
#[derive(Debug, Clone)]
#[non_exhaustive]
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
        forward!(self, [Mirrored, Sql], d => d.deny(key, until))
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        forward!(self, [Mirrored, Sql], d => d.any_denied(keys, now))
    }
}
