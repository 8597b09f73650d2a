use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use tessera_domain::error::StoreError;
use tessera_domain::model::RevocationKey;
use tessera_domain::ports::TokenDenylist;

use crate::{Redis, micros};

/// Denied keys `<prefix>deny:t:<jti>` / `<prefix>deny:s:<sid>`, each holding its
/// expiry (µs) and expiring with it, so entries vanish with the tokens they deny.
#[derive(Debug, Clone)]
pub struct RedisDenylist {
    redis: Redis,
}

impl RedisDenylist {
    /// A denylist in `redis`.
    #[must_use]
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn key(&self, k: RevocationKey) -> String {
        match k {
            RevocationKey::Token(t) => self.redis.key(format_args!("deny:t:{t}")),
            RevocationKey::Session(s) => self.redis.key(format_args!("deny:s:{}", s.0)),
        }
    }
}

/// Stores the later of the two expiries; with a second key (the change
/// stream, on a single node), adds the denial to it in the same script, so
/// no denial is stored without its entry (issue 15).
const DENY: &str = r"
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
end
if KEYS[2] then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', ARGV[3], ARGV[4])
end
return 1
";

impl TokenDenylist for RedisDenylist {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        if until <= Utc::now() {
            return Ok(());
        }
        let script = redis::Script::new(DENY);
        let mut inv = script.key(self.key(key));
        if let Some(stream) = self.redis.change_stream() {
            inv.key(stream);
        }
        inv.arg(micros(until).to_string())
            .arg(until.timestamp_millis().to_string())
            .arg(crate::changes::DENIED_FIELD)
            .arg(crate::changes::encode_key(key))
            .arg(crate::changes::STREAM_MAX_LEN);
        self.redis.script::<i64>(&inv).await.map(|_| ())
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if keys.is_empty() {
            return Ok(false);
        }
        let names: Vec<String> = keys.iter().map(|k| self.key(*k)).collect();
        let values: Vec<Option<i64>> = self.redis.get_many(&names).await?;
        Ok(values
            .into_iter()
            .flatten()
            .any(|until| until > micros(now)))
    }
}
