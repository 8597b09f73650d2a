use deadpool_redis::redis::Script;
use tessera_domain::error::StoreError;
use tessera_domain::ports::{RateDecision, RateLimiter, RateWindow};

use crate::Redis;

/// Fixed-window counters `<prefix>rate:<key>`, shared by every instance.
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    redis: Redis,
}

impl RedisRateLimiter {
    /// Counters in `redis`.
    #[must_use]
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }
}

const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
";

impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, key: &str, window: RateWindow) -> Result<RateDecision, StoreError> {
        let script = Script::new(HIT);
        let mut inv = script.key(self.redis.key(format_args!("rate:{key}")));
        inv.arg(window.window_secs.max(1).saturating_mul(1000).to_string());
        let (count, ttl_ms): (i64, i64) = self.redis.script(&inv).await?;
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let reset_after_secs = u64::try_from(ttl_ms).unwrap_or(0).div_ceil(1000);
        Ok(window.decision(count, reset_after_secs))
    }

    async fn open_for(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let script = Script::new("return redis.call('PTTL', KEYS[1])");
        let inv = script.key(self.redis.key(format_args!("rate:{key}")));
        let ttl_ms: i64 = self.redis.script(&inv).await?;
        // -2: no key; -1: no expiry (never written by `hit`).
        Ok(u64::try_from(ttl_ms).ok().map(|ms| ms.div_ceil(1000)))
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        let script = Script::new("return redis.call('DEL', KEYS[1])");
        let inv = script.key(self.redis.key(format_args!("rate:{key}")));
        let _: i64 = self.redis.script(&inv).await?;
        Ok(())
    }
}
