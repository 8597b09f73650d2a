//! In-process caches: `CACHE_MAX_LAG_MS`, `USER_CACHE_MAX_BYTES`,
//! `DENYLIST_CACHE_MAX_BYTES`, `SESSION_CACHE_MAX_BYTES`, `USER_CACHE_TTL`.

use tessera_embed::CacheSettings;
use tessera_embed::tessera_memory::CacheBudget;

use super::ConfigError;
use super::source::Reader;

/// The smallest and largest `CACHE_MAX_LAG_MS` accepted.
const MIN_LAG_MS: u64 = 10;
const MAX_LAG_MS: u64 = 10_000;

/// Reads the in-process caches' settings (issue 15): how late another
/// instance's change may be seen, how big each cache may grow, how long an
/// entry lives at most.
pub(crate) fn read(r: &Reader<'_>) -> Result<CacheSettings, ConfigError> {
    let ttl = r.seconds("USER_CACHE_TTL", CacheSettings::DEFAULT_TTL_SECS)?;
    let max_lag = r.millis("CACHE_MAX_LAG_MS", CacheSettings::DEFAULT_MAX_LAG_MS)?;
    // Below 10 ms the feed is read every 2 ms (a fifth of a CPU idle);
    // above 10 s the "bound" stops meaning anything a client would call prompt.
    if !(MIN_LAG_MS..=MAX_LAG_MS).contains(&u64::try_from(max_lag.as_millis()).unwrap_or(u64::MAX))
    {
        return Err(ConfigError::Invalid {
            name: "CACHE_MAX_LAG_MS",
            reason: format!(
                "must be {MIN_LAG_MS} to {MAX_LAG_MS} (turn a cache off with its *_CACHE_MAX_BYTES=0)"
            ),
        });
    }
    Ok(CacheSettings {
        max_lag,
        users: CacheBudget {
            max_bytes: r.parse("USER_CACHE_MAX_BYTES", CacheSettings::DEFAULT_USER_BYTES)?,
            time_to_live: ttl,
        },
        denylist: CacheBudget {
            max_bytes: r.parse(
                "DENYLIST_CACHE_MAX_BYTES",
                CacheSettings::DEFAULT_DENYLIST_BYTES,
            )?,
            time_to_live: ttl,
        },
        sessions: CacheBudget {
            max_bytes: r.parse(
                "SESSION_CACHE_MAX_BYTES",
                CacheSettings::DEFAULT_SESSION_BYTES,
            )?,
            time_to_live: ttl,
        },
    })
}
