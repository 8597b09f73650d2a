//! The SQL stores (SQLite, MySQL), with Redis for sessions when asked.

use std::time::Duration;

use tessera_domain::clock::{RandomIds, SystemClock};
use tessera_domain::ports::{Adapters, AuditLog};
use tessera_domain::values::PhoneRegion;
use tessera_memory::{
    Coherence, CoherentDenylist, CoherentUsers, MemoryRateLimiter, RecentSessions,
};
use tessera_sql::{
    Database, DbConfig, SqlAudit, SqlChangeFeed, SqlCodes, SqlDenylist, SqlOutbox, SqlSessions,
    SqlUsers,
};

use super::{Builder, NoStore};
use crate::workers::follow_changes;
use crate::{
    AnyChangeFeed, AnyCodes, AnyDenylist, AnyLimiter, AnySessions, BuildError, CacheSettings,
    SqlStack, Tessera,
};

/// How long rows of the `cache_changes` table are kept, in seconds.
const CHANGES_KEPT_SECS: i64 = 600;

/// A SQL database ([`SqlStack`]); `A` is the audit trail.
pub struct SqlStore<A = SqlAudit> {
    /// The database, or why its location was refused (reported by `build`).
    database: Result<DbConfig, tessera_sql::DbError>,
    migrate: bool,
    caches: CacheSettings,
    #[cfg(feature = "redis")]
    redis: Option<tessera_redis::RedisConfig>,
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
        d.field("caches", &self.caches);
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
                caches: CacheSettings::default(),
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
            caches,
            #[cfg(feature = "redis")]
            redis,
            audit: _,
        } = self.store;
        Builder {
            store: SqlStore {
                database,
                migrate,
                caches,
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

    /// The in-process caches' bound and budgets (default
    /// [`CacheSettings::default`]).
    #[must_use]
    pub fn caches(mut self, caches: CacheSettings) -> Self {
        self.store.caches = caches;
        self
    }

    /// Sessions, denylist, codes and rate limits in the Redis at `url`
    /// (`redis://host:6379`), with the defaults of
    /// [`tessera_redis::RedisConfig::new`] (keys prefixed `tessera:`).
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis(self, url: impl Into<String>) -> Self {
        self.redis_config(tessera_redis::RedisConfig::new(url))
    }

    /// [`Builder::redis`] with every setting.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis_config(mut self, config: tessera_redis::RedisConfig) -> Self {
        self.store.redis = Some(config);
        self
    }

    /// Opens (and migrates) the database, connects Redis when asked and
    /// builds the service. The caches follow their change feeds once the
    /// workers run ([`Tessera::spawn_workers`], or [`crate::Workers::spawn`]);
    /// until then they are bypassed.
    ///
    /// # Errors
    /// [`BuildError::NoSecret`], [`BuildError::NoMail`], the database, Redis,
    /// the hasher or the key folder failing.
    pub async fn build(self) -> Result<Tessera<SqlStack<A>>, BuildError> {
        let (store, mut parts) = self.parts()?;
        let region = parts.rest.settings.phone_region;
        let config = store.database?;
        let db = open_database(&config, store.migrate, region).await?;
        // The feed reads through a connection of its own, so that a pool
        // exhausted by requests cannot delay the caches' proofs (and turn
        // them off when they are needed most).
        let feed_db = Database::connect(&DbConfig {
            max_connections: 1,
            ..config.clone()
        })?;
        let caches = store.caches;
        let users_coherence = Coherence::new(caches.max_lag);
        #[cfg_attr(not(feature = "redis"), allow(unused_mut))]
        let mut feeds = vec![(
            AnyChangeFeed::Sql(SqlChangeFeed::new(feed_db)),
            users_coherence.clone(),
        )];
        #[cfg(feature = "redis")]
        let (stores, redis) = match &store.redis {
            Some(config) => {
                let (stores, redis) = redis_stores(config).await?;
                (stores, Some(redis))
            }
            None => (sql_stores(&db), None),
        };
        #[cfg(not(feature = "redis"))]
        let stores = sql_stores(&db);
        let denylist_coherence = match &stores.denylist {
            AnyDenylist::Sql(_) => Some(users_coherence.clone()),
            #[cfg(feature = "redis")]
            AnyDenylist::Redis(_) => redis
                .clone()
                .and_then(tessera_redis::RedisChangeFeed::new)
                .map(|feed| {
                    let coherence = Coherence::new(caches.max_lag);
                    feeds.push((AnyChangeFeed::Redis(feed), coherence.clone()));
                    coherence
                }),
        };
        // Without a feed (a Redis Cluster), a coherence nobody proves: the
        // denylist cache is always bypassed.
        let denylist_coherence =
            denylist_coherence.unwrap_or_else(|| Coherence::new(Duration::ZERO));
        let hasher = parts.hasher().await?;
        let (signer, keys) = parts.signer()?;
        let outbox = SqlOutbox::new(db.clone());
        let adapters = Adapters::<SqlStack<A>> {
            users: CoherentUsers::new(SqlUsers::new(db.clone()), users_coherence, caches.users),
            sessions: RecentSessions::new(stores.sessions, caches.sessions),
            denylist: CoherentDenylist::new(stores.denylist, denylist_coherence, caches.denylist),
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
            factors: tessera_sql::SqlFactors::new(db.clone()),
            otp: tessera_crypto::TotpAuthenticator::new(parts.secret.bytes()),
            relying_party: parts.rest.relying_party.clone(),
            clients: tessera_sql::SqlClients::new(db.clone()),
            identities: tessera_sql::SqlIdentities::new(db.clone()),
            upstream: parts.upstream.clone(),
            webhooks: tessera_sql::SqlWebhooks::new(db.clone()),
            webhook_transport: parts.webhook_transport.clone(),
            token_hook: parts.rest.token_hook.clone(),
        };
        let mut tessera = parts.assemble(adapters, outbox, hasher, keys);
        for (feed, coherence) in feeds {
            tessera
                .workers
                .add_background(Box::pin(follow_changes(feed, coherence)));
        }
        tessera
            .workers
            .add_background(Box::pin(prune_changes(SqlChangeFeed::new(db.clone()))));
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

/// Deletes rows of the `cache_changes` table older than
/// [`CHANGES_KEPT_SECS`], every minute, forever.
async fn prune_changes(feed: SqlChangeFeed) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let before = chrono::Utc::now() - chrono::Duration::seconds(CHANGES_KEPT_SECS);
        if let Err(e) = feed.prune(before).await {
            tracing::warn!(error = %e, "pruning the change feed failed");
        }
    }
}

/// The stores besides users, before Redis takes some of them.
struct Stores {
    sessions: AnySessions,
    denylist: AnyDenylist,
    codes: AnyCodes,
    limiter: AnyLimiter,
}

/// The SQL stores.
fn sql_stores(db: &Database) -> Stores {
    Stores {
        sessions: AnySessions::Sql(SqlSessions::new(db.clone())),
        denylist: AnyDenylist::Sql(SqlDenylist::new(db.clone())),
        codes: AnyCodes::Sql(SqlCodes::new(db.clone())),
        limiter: AnyLimiter::Memory(MemoryRateLimiter::default()),
    }
}

/// Moves sessions, denylist, codes and rate limits to Redis. An
/// unreachable Redis is not fatal: requests answer "unavailable" until it is
/// back.
#[cfg(feature = "redis")]
async fn redis_stores(
    config: &tessera_redis::RedisConfig,
) -> Result<(Stores, tessera_redis::Redis), BuildError> {
    use tessera_redis::{Redis, RedisCodes, RedisDenylist, RedisRateLimiter, RedisSessions};
    let redis = Redis::connect(config).map_err(|e| BuildError::Store(e.to_string()))?;
    if let Err(e) = redis.ping().await {
        tracing::warn!(error = %e, "Redis is not reachable yet");
    }
    tracing::info!(redis = ?config, "sessions, denylist, codes and rate limits in Redis");
    let stores = Stores {
        sessions: AnySessions::Redis(RedisSessions::new(redis.clone())),
        denylist: AnyDenylist::Redis(RedisDenylist::new(redis.clone())),
        codes: AnyCodes::Redis(RedisCodes::new(redis.clone())),
        limiter: AnyLimiter::Redis(RedisRateLimiter::new(redis.clone())),
    };
    Ok((stores, redis))
}
