//! Redis: `REDIS_URL`, `REDIS_CLUSTER_URLS`, `REDIS_KEY_PREFIX`,
//! `REDIS_POOL_SIZE`, `REDIS_TIMEOUT_MS`.

use tessera_redis::RedisConfig;

use super::ConfigError;
use super::source::Reader;

/// Redis, when configured: sessions, denylist, codes and rate limits shared
/// by instances.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// How to reach Redis (`Debug` hides the URLs' passwords): `REDIS_URL`
    /// (one server), `REDIS_CLUSTER_URLS` (comma-separated seed nodes of a
    /// Redis Cluster), `REDIS_KEY_PREFIX` (default `tessera:`, taken as
    /// written, untrimmed), `REDIS_POOL_SIZE` (default 32), `REDIS_TIMEOUT_MS`
    /// (default 2000: connection and command timeout).
    pub connection: RedisConfig,
}

impl RedisSettings {
    /// Reads the section.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            connection: RedisConfig {
                url: r.string("REDIS_URL"),
                cluster_urls: r.list("REDIS_CLUSTER_URLS").unwrap_or_default(),
                key_prefix: r
                    .raw("REDIS_KEY_PREFIX")
                    .unwrap_or_else(|| RedisConfig::DEFAULT_KEY_PREFIX.into()),
                pool_size: r.parse("REDIS_POOL_SIZE", RedisConfig::DEFAULT_POOL_SIZE)?,
                timeout: r.millis("REDIS_TIMEOUT_MS", RedisConfig::DEFAULT_TIMEOUT_MS)?,
            },
        })
        .inspect(|_| r.default_shown("REDIS_KEY_PREFIX", RedisConfig::DEFAULT_KEY_PREFIX))
    }

    /// Whether Redis is configured at all (one server or a cluster).
    #[must_use]
    pub fn is_configured(&self) -> bool {
        self.connection.url.is_some() || !self.connection.cluster_urls.is_empty()
    }
}
