//! The SQL stores (SQLite, MySQL), with Redis for sessions when asked.

#[cfg(feature = "redis")]
use std::time::Duration;

use tessera_domain::cache::CachedUsers;
use tessera_domain::clock::{RandomIds, SystemClock};
use tessera_domain::ports::{Adapters, AuditLog};
use tessera_domain::values::PhoneRegion;
use tessera_memory::{MemoryRateLimiter, MirroredDenylist};
use tessera_sql::{
    Database, DbConfig, SqlAudit, SqlCodes, SqlDenylist, SqlOutbox, SqlSessions, SqlUsers,
};

use super::{Builder, NoStore};
use crate::{
    AnyCodes, AnyDenylist, AnyLimiter, AnySessions, AnyUserCache, BuildError, SqlStack, Tessera,
};

/// A SQL database ([`SqlStack`]); `A` is the audit trail.
pub struct SqlStore<A = SqlAudit> {
    /// The database, or why its location was refused (reported by `build`).
    database: Result<DbConfig, tessera_sql::DbError>,
    migrate: bool,
    #[cfg(feature = "redis")]
    redis: Option<(tessera_redis::RedisConfig, Duration)>,
    audit: Box<dyn FnOnce(SqlAudit) -> A + Send>,
}

impl<A> std::fmt::Debug for SqlStore<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("SqlStore");
        match &self.database {
            Ok(database) => d.field("database", database),
            Err(refused) => d.field("refused", refused),
        };
        d.field("migrate", &self.migrate);
        #[cfg(feature = "redis")]
        d.field("redis", &self.redis);
        d.finish_non_exhaustive()
    }
}

impl Builder<NoStore> {
    /// A SQL database: `sqlite://path`, `mysql://user:pass@host/db` (feature
    /// `mysql`), with its pool settings. Migrations run at build time unless
    /// [`Builder::migrate`] says otherwise.
    #[must_use]
    pub fn database(self, database: DbConfig) -> Builder<SqlStore> {
        self.sql_store(Ok(database))
    }

    /// The SQLite file at `path` (made, with its folder, when missing), with
    /// the pool defaults of [`DbConfig::new`]. A path that is not UTF-8 is
    /// refused by `build` ([`BuildError::Database`]).
    #[must_use]
    pub fn sqlite(self, path: impl AsRef<std::path::Path>) -> Builder<SqlStore> {
        self.sql_store(DbConfig::sqlite(path.as_ref()))
    }

    /// A MySQL or MariaDB database (`mysql://user:pass@host:3306/db`; made
    /// when missing), with the pool defaults of [`DbConfig::new`].
    #[cfg(feature = "mysql")]
    #[must_use]
    pub fn mysql(self, url: impl Into<String>) -> Builder<SqlStore> {
        self.database(DbConfig::new(url))
    }

    fn sql_store(self, database: Result<DbConfig, tessera_sql::DbError>) -> Builder<SqlStore> {
        Builder {
            store: SqlStore {
                database,
                migrate: true,
                #[cfg(feature = "redis")]
                redis: None,
                audit: Box::new(|audit| audit),
            },
            common: self.common,
        }
    }
}

impl Builder<SqlStore> {
    /// Wraps the `audit_log` table in another audit trail (to log or count
    /// events as well).
    #[must_use]
    pub fn audit<B: AuditLog>(
        self,
        wrap: impl FnOnce(SqlAudit) -> B + Send + 'static,
    ) -> Builder<SqlStore<B>> {
        let SqlStore {
            database,
            migrate,
            #[cfg(feature = "redis")]
            redis,
            audit: _,
        } = self.store;
        Builder {
            store: SqlStore {
                database,
                migrate,
                #[cfg(feature = "redis")]
                redis,
                audit: Box::new(wrap),
            },
            common: self.common,
        }
    }
}

impl<A: AuditLog> Builder<SqlStore<A>> {
    /// Whether build applies pending migrations first (default yes).
    #[must_use]
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.store.migrate = migrate;
        self
    }

    /// Sessions, denylist, codes, rate limits and a user cache in the Redis
    /// at `url` (`redis://host:6379`), with the defaults of
    /// [`tessera_redis::RedisConfig::new`] (keys prefixed `tessera:`) and
    /// cached users kept [`tessera_redis::RedisUserCache::DEFAULT_TTL_SECS`].
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis(self, url: impl Into<String>) -> Self {
        self.redis_config(
            tessera_redis::RedisConfig::new(url),
            Duration::from_secs(tessera_redis::RedisUserCache::DEFAULT_TTL_SECS),
        )
    }

    /// [`Builder::redis`] with every setting, and the user cache's lifetime.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis_config(
        mut self,
        config: tessera_redis::RedisConfig,
        user_cache: Duration,
    ) -> Self {
        self.store.redis = Some((config, user_cache));
        self
    }

    /// Opens (and migrates) the database, connects Redis when asked and
    /// builds the service.
    ///
    /// # Errors
    /// [`BuildError::NoSecret`], [`BuildError::NoMail`], the database, Redis,
    /// the hasher or the key folder failing.
    pub async fn build(self) -> Result<Tessera<SqlStack<A>>, BuildError> {
        let (store, mut parts) = self.parts()?;
        let region = parts.rest.settings.phone_region;
        let db = open_database(&store.database?, store.migrate, region).await?;
        #[cfg(feature = "redis")]
        let (stores, redis) = match &store.redis {
            Some((config, user_cache)) => {
                let (stores, redis) = redis_stores(config, *user_cache).await?;
                (stores, Some(redis))
            }
            None => (sql_stores(&db).await?, None),
        };
        #[cfg(not(feature = "redis"))]
        let stores = sql_stores(&db).await?;
        let hasher = parts.hasher().await?;
        let (signer, keys) = parts.signer()?;
        let outbox = SqlOutbox::new(db.clone());
        let adapters = Adapters::<SqlStack<A>> {
            users: CachedUsers::new(SqlUsers::new(db.clone()), stores.cache),
            sessions: stores.sessions,
            denylist: stores.denylist,
            hasher: hasher.clone(),
            signer,
            codec: tessera_crypto::HmacRefreshCodec::new(parts.secret.bytes()),
            clock: SystemClock,
            ids: RandomIds,
            codes: stores.codes,
            limiter: stores.limiter,
            outbox: outbox.clone(),
            sms: std::mem::take(&mut parts.rest.sms),
            audit: (store.audit)(SqlAudit::new(db.clone())),
            tasks: tessera_memory::MemoryTasks::default(),
        };
        let mut tessera = parts.assemble(adapters, outbox, hasher, keys);
        tessera.database = Some(db);
        #[cfg(feature = "redis")]
        {
            tessera.redis = redis;
        }
        Ok(tessera)
    }
}

/// Applies pending migrations when `migrate` asks for it (phones of rows
/// older than the identifier migration read in `region`), then opens the
/// pool; what [`Builder::build`] does for a SQL store.
///
/// # Errors
/// [`BuildError::Database`] when the database cannot be opened or migrated.
pub async fn open_database(
    config: &DbConfig,
    migrate: bool,
    region: PhoneRegion,
) -> Result<Database, BuildError> {
    if migrate {
        let report = Database::migrate(config, region).await?;
        if report.applied > 0 {
            tracing::info!(migrations = report.applied, "applied database migrations");
        }
    }
    Ok(Database::connect(config)?)
}

/// The stores besides users, before Redis takes some of them.
struct Stores {
    sessions: AnySessions,
    denylist: AnyDenylist,
    cache: AnyUserCache,
    codes: AnyCodes,
    limiter: AnyLimiter,
}

/// The SQL stores: a shared database (MySQL) reads the denylist on every
/// check, so instances agree; SQLite (one instance) mirrors it in memory.
async fn sql_stores(db: &Database) -> Result<Stores, BuildError> {
    let denylist = if db.is_shared() {
        AnyDenylist::Sql(SqlDenylist::new(db.clone()))
    } else {
        let durable = SqlDenylist::new(db.clone());
        let live = durable
            .live_entries(chrono::Utc::now())
            .await
            .map_err(|e| BuildError::Store(e.to_string()))?;
        let mirrored = MirroredDenylist::new(durable);
        mirrored.preload(live);
        AnyDenylist::Mirrored(mirrored)
    };
    Ok(Stores {
        sessions: AnySessions::Sql(SqlSessions::new(db.clone())),
        denylist,
        cache: AnyUserCache::None,
        codes: AnyCodes::Sql(SqlCodes::new(db.clone())),
        limiter: AnyLimiter::Memory(MemoryRateLimiter::default()),
    })
}

/// Moves sessions, denylist, codes and rate limits to Redis and adds the
/// user cache. An unreachable Redis is not fatal: requests answer
/// "unavailable" until it is back.
#[cfg(feature = "redis")]
async fn redis_stores(
    config: &tessera_redis::RedisConfig,
    user_cache: Duration,
) -> Result<(Stores, tessera_redis::Redis), BuildError> {
    use tessera_redis::{
        Redis, RedisCodes, RedisDenylist, RedisRateLimiter, RedisSessions, RedisUserCache,
    };
    let redis = Redis::connect(config).map_err(|e| BuildError::Store(e.to_string()))?;
    if let Err(e) = redis.ping().await {
        tracing::warn!(error = %e, "Redis is not reachable yet");
    }
    tracing::info!(redis = ?config, "sessions, denylist and user cache in Redis");
    let stores = Stores {
        sessions: AnySessions::Redis(RedisSessions::new(redis.clone())),
        denylist: AnyDenylist::Redis(RedisDenylist::new(redis.clone())),
        cache: AnyUserCache::Redis(RedisUserCache::new(redis.clone(), user_cache)),
        codes: AnyCodes::Redis(RedisCodes::new(redis.clone())),
        limiter: AnyLimiter::Redis(RedisRateLimiter::new(redis.clone())),
    };
    Ok((stores, redis))
}
