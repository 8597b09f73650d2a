//! Redis: `REDIS_URL`, `REDIS_CLUSTER_URLS`, `REDIS_KEY_PREFIX`,
//! `REDIS_POOL_SIZE`, `REDIS_TIMEOUT_MS`, `USER_CACHE_TTL`.

use std::time::Duration;

use tessera_redis::{RedisConfig, RedisUserCache};

use super::ConfigError;
use super::source::Reader;

/// Redis, when configured: sessions, denylist, codes, rate limits and the
/// user cache shared by instances. `Debug` hides the URLs' passwords.
#[derive(Clone)]
pub struct RedisSettings {
    /// `REDIS_URL`: one Redis server.
    pub url: Option<String>,
    /// `REDIS_CLUSTER_URLS`, comma-separated seed nodes of a Redis Cluster.
    pub cluster_urls: Vec<String>,
    /// `REDIS_KEY_PREFIX`, default `tessera:` (taken as written, untrimmed).
    pub key_prefix: String,
    /// `REDIS_POOL_SIZE`, default 32.
    pub pool_size: usize,
    /// `REDIS_TIMEOUT_MS`, default 2000: connection and command timeout.
    pub timeout: Duration,
    /// `USER_CACHE_TTL` seconds, default 60 (with Redis only).
    pub user_cache_ttl: Duration,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.url.as_deref().map(tessera_redis::redact))
            .field(
                "cluster_urls",
                &self
                    .cluster_urls
                    .iter()
                    .map(|u| tessera_redis::redact(u))
                    .collect::<Vec<_>>(),
            )
            .field("key_prefix", &self.key_prefix)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .field("user_cache_ttl", &self.user_cache_ttl)
            .finish()
    }
}

impl RedisSettings {
    /// Reads the section.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            url: r.string("REDIS_URL"),
            cluster_urls: r.list("REDIS_CLUSTER_URLS").unwrap_or_default(),
            key_prefix: r
                .raw("REDIS_KEY_PREFIX")
                .unwrap_or_else(|| RedisConfig::DEFAULT_KEY_PREFIX.into()),
            pool_size: r.parse("REDIS_POOL_SIZE", RedisConfig::DEFAULT_POOL_SIZE)?,
            timeout: r.millis("REDIS_TIMEOUT_MS", RedisConfig::DEFAULT_TIMEOUT_MS)?,
            user_cache_ttl: r.seconds("USER_CACHE_TTL", RedisUserCache::DEFAULT_TTL_SECS)?,
        })
    }

    /// Whether Redis is configured at all (one server or a cluster).
    #[must_use]
    pub fn is_configured(&self) -> bool {
        self.url.is_some() || !self.cluster_urls.is_empty()
    }
}
