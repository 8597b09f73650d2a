//! # tessera-redis
//!
//! Redis adapters for Tessera's fast-changing state, so that any number of
//! stateless `tessera` instances share it: sessions and refresh families
//! ([`RedisSessions`]), the access-token denylist ([`RedisDenylist`]), a
//! cache-aside user cache ([`RedisUserCache`]), verification codes
//! ([`RedisCodes`]) and rate-limit counters ([`RedisRateLimiter`]).
//!
//! One [`Redis`] handle serves a single node (`REDIS_URL`) or a Redis Cluster
//! (`REDIS_CLUSTER_URLS`). Every key starts with a configurable prefix; every
//! multi-key operation is split per key, so nothing crosses cluster slots;
//! every compare-and-swap is a single-key Lua script. Every command runs under
//! a timeout, so an unreachable Redis answers [`StoreError::Unavailable`]
//! quickly instead of hanging a request.

mod cache;
mod changes;
mod codes;
mod denylist;
mod ratelimit;
mod sessions;

use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::redis::aio::ConnectionLike;
use deadpool_redis::redis::{
    self, Cmd, FromRedisValue, Pipeline, RedisFuture, ScriptInvocation, Value,
};
use deadpool_redis::{PoolConfig, Runtime, Timeouts};
use tessera_domain::error::StoreError;
use tessera_domain::secret::redact_url;
use thiserror::Error;

pub use cache::RedisUserCache;
pub use changes::RedisChangeFeed;
pub use codes::RedisCodes;
pub use denylist::RedisDenylist;
pub use ratelimit::RedisRateLimiter;
pub use sessions::RedisSessions;

/// How to reach Redis.
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://[user:pass@]host:port[/db]` (or `rediss://` for TLS) of a single node.
    pub url: Option<String>,
    /// Seed nodes of a Redis Cluster; used instead of `url` when not empty.
    pub cluster_urls: Vec<String>,
    /// Prefix of every key, default `tessera:`.
    pub key_prefix: String,
    /// Most pooled connections.
    pub pool_size: usize,
    /// Limit for getting a connection and for each command.
    pub timeout: Duration,
}

impl RedisConfig {
    /// The default of [`RedisConfig::key_prefix`] (the server's `REDIS_KEY_PREFIX` too).
    pub const DEFAULT_KEY_PREFIX: &'static str = "tessera:";
    /// The default of [`RedisConfig::pool_size`] (the server's `REDIS_POOL_SIZE` too).
    pub const DEFAULT_POOL_SIZE: usize = 32;
    /// The default of [`RedisConfig::timeout`] in milliseconds (the server's
    /// `REDIS_TIMEOUT_MS` too).
    pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;

    /// The single node at `url` (`redis://host:6379`) with
    /// [`Self::DEFAULT_KEY_PREFIX`], [`Self::DEFAULT_POOL_SIZE`] and
    /// [`Self::DEFAULT_TIMEOUT_MS`].
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            cluster_urls: Vec::new(),
            key_prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            timeout: Duration::from_millis(Self::DEFAULT_TIMEOUT_MS),
        }
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field(
                "cluster_urls",
                &self
                    .cluster_urls
                    .iter()
                    .map(|u| redact_url(u))
                    .collect::<Vec<_>>(),
            )
            .field("key_prefix", &self.key_prefix)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Redis could not be set up.
#[derive(Debug, Error)]
#[error("redis: {0}")]
pub struct RedisSetupError(String);

#[derive(Clone)]
enum Pool {
    Single(deadpool_redis::Pool),
    Cluster(deadpool_redis::cluster::Pool),
}

/// A multiplexed connection of either kind. Clones share one socket (or one
/// set of node sockets) and pipeline concurrent requests over it.
#[derive(Clone)]
enum Conn {
    Single(redis::aio::MultiplexedConnection),
    Cluster(deadpool_redis::cluster::ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// A shared handle to Redis: cheap to clone.
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    /// The connection every request shares, taken out of `pool` on first use
    /// and dropped on the first I/O error, so the next request reconnects.
    /// (A pooled checkout would cost a PING round trip per command.)
    shared: Arc<tokio::sync::RwLock<Option<Conn>>>,
    prefix: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.pool {
            Pool::Single(_) => "single",
            Pool::Cluster(_) => "cluster",
        };
        f.debug_struct("Redis")
            .field("kind", &kind)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("redis: {e}"))
}

impl Redis {
    /// Builds the pool (connections are opened lazily, so Redis may be down now).
    ///
    /// # Errors
    /// [`RedisSetupError`] when neither a URL nor cluster nodes are given, or a URL is invalid.
    pub fn connect(config: &RedisConfig) -> Result<Self, RedisSetupError> {
        let mut pool_config = PoolConfig::new(config.pool_size.max(1));
        pool_config.timeouts = Timeouts {
            wait: Some(config.timeout),
            create: Some(config.timeout),
            recycle: Some(config.timeout),
        };
        let setup = |e: &dyn std::fmt::Display| RedisSetupError(e.to_string());
        let pool = if config.cluster_urls.is_empty() {
            let url = config
                .url
                .clone()
                .ok_or_else(|| RedisSetupError("no REDIS_URL or REDIS_CLUSTER_URLS".into()))?;
            let mut c = deadpool_redis::Config::from_url(url);
            c.pool = Some(pool_config);
            Pool::Single(
                c.create_pool(Some(Runtime::Tokio1))
                    .map_err(|e| setup(&e))?,
            )
        } else {
            let mut c = deadpool_redis::cluster::Config::from_urls(config.cluster_urls.clone());
            c.pool = Some(pool_config);
            Pool::Cluster(
                c.create_pool(Some(Runtime::Tokio1))
                    .map_err(|e| setup(&e))?,
            )
        };
        Ok(Self {
            pool,
            shared: Arc::default(),
            prefix: Arc::from(config.key_prefix.as_str()),
            timeout: config.timeout,
        })
    }

    /// True when this handle talks to a Redis Cluster (`REDIS_CLUSTER_URLS`).
    #[must_use]
    pub fn is_cluster(&self) -> bool {
        matches!(self.pool, Pool::Cluster(_))
    }

    /// The key of the change stream ([`RedisChangeFeed`]), or `None` on a
    /// cluster, where a denial and the stream cannot be written atomically
    /// (their keys live in different slots).
    pub(crate) fn change_stream(&self) -> Option<String> {
        (!self.is_cluster()).then(|| self.key(format_args!("changes")))
    }

    /// A connection of its own (taken out of the pool) whose requests may
    /// wait `response_timeout` for an answer: for blocking reads.
    pub(crate) async fn dedicated(
        &self,
        response_timeout: Duration,
    ) -> Result<redis::aio::MultiplexedConnection, StoreError> {
        match &self.pool {
            Pool::Single(p) => {
                let mut c = deadpool_redis::Connection::take(
                    tokio::time::timeout(self.timeout, p.get())
                        .await
                        .map_err(unavailable)?
                        .map_err(unavailable)?,
                );
                c.set_response_timeout(response_timeout);
                Ok(c)
            }
            Pool::Cluster(_) => Err(StoreError::Unavailable(
                "redis: no change stream on a cluster".into(),
            )),
        }
    }

    pub(crate) fn key(&self, parts: std::fmt::Arguments<'_>) -> String {
        format!("{}{parts}", self.prefix)
    }

    async fn conn(&self) -> Result<Conn, StoreError> {
        if let Some(c) = self.shared.read().await.as_ref() {
            return Ok(c.clone());
        }
        let mut slot = self.shared.write().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let fresh = match &self.pool {
            Pool::Single(p) => Conn::Single(deadpool_redis::Connection::take(
                p.get().await.map_err(unavailable)?,
            )),
            Pool::Cluster(p) => Conn::Cluster(deadpool_redis::cluster::Connection::take(
                p.get().await.map_err(unavailable)?,
            )),
        };
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    async fn timed<T>(
        &self,
        f: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let error = match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e))
                if !(e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal()) =>
            {
                return Err(unavailable(e));
            }
            Ok(Err(e)) => unavailable(e),
            Err(_) => unavailable(format!("no answer within {:?}", self.timeout)),
        };
        // The shared connection is broken or stuck: the next request makes a new one.
        *self.shared.write().await = None;
        Err(error)
    }

    /// Runs one command.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        let mut c = self.conn().await?;
        self.timed(cmd.query_async(&mut c)).await
    }

    /// Runs a pipeline. Every command of it must touch the same key (or, in
    /// a cluster, keys of one slot); [`Self::get_many`] reads several keys.
    pub(crate) async fn pipeline<T: FromRedisValue>(&self, p: &Pipeline) -> Result<T, StoreError> {
        let mut c = self.conn().await?;
        self.timed(p.query_async(&mut c)).await
    }

    /// `GET` of several keys: one pipelined round trip on a single node, one
    /// command per key on a cluster (keys of different slots cannot share one).
    pub(crate) async fn get_many<T: FromRedisValue>(
        &self,
        keys: &[String],
    ) -> Result<Vec<T>, StoreError> {
        self.each_key("GET", keys).await
    }

    /// One single-key read `command` (`GET`, `HGETALL`) per key, as
    /// [`Self::get_many`]: one pipelined round trip on a single node.
    pub(crate) async fn each_key<T: FromRedisValue>(
        &self,
        command: &'static str,
        keys: &[String],
    ) -> Result<Vec<T>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        match self.pool {
            Pool::Single(_) => {
                let mut p = redis::pipe();
                for k in keys {
                    p.cmd(command).arg(k);
                }
                self.pipeline(&p).await
            }
            Pool::Cluster(_) => {
                let mut out = Vec::with_capacity(keys.len());
                for k in keys {
                    out.push(self.query(redis::cmd(command).arg(k)).await?);
                }
                Ok(out)
            }
        }
    }

    /// Runs a Lua script (its keys must share one slot).
    pub(crate) async fn script<T: FromRedisValue>(
        &self,
        inv: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let mut c = self.conn().await?;
        self.timed(inv.invoke_async(&mut c)).await
    }

    /// Deletes every key under this handle's prefix (tests and tooling; a
    /// single node only).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when Redis fails.
    pub async fn clear_prefix(&self) -> Result<usize, StoreError> {
        let pattern = format!("{}*", self.prefix);
        let mut cursor = 0u64;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .query(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(500),
                )
                .await?;
            if !keys.is_empty() {
                deleted += keys.len();
                self.query::<()>(redis::cmd("DEL").arg(keys)).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    /// Checks that Redis answers.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] otherwise.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let pong: String = self.query(&redis::cmd("PING")).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(unavailable(format!("PING answered {pong}")))
        }
    }
}

pub(crate) fn micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(us: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_micros(us)
}
