use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_redis::redis::{self, Script};
use tessera_domain::error::StoreError;
use tessera_domain::model::TokenFingerprint;
use tessera_domain::model::UserId;
use tessera_domain::model::{Authentication, ClientInfo, Session, SessionId, SessionRotation};
use tessera_domain::ports::SessionStore;
use uuid::Uuid;

use crate::{Redis, from_micros, micros};

/// How long a session's key outlives its absolute end, so that late refreshes
/// are told "expired" rather than "unknown".
const KEEP_AFTER_END_SECS: i64 = 3600;

/// Sessions as hashes `<prefix>session:<sid>`, with a set of session ids per
/// user (`<prefix>user-sessions:<uid>`). Keys expire with the session.
#[derive(Debug, Clone)]
pub struct RedisSessions {
    redis: Redis,
    rotate: std::sync::Arc<Script>,
    revoke: std::sync::Arc<Script>,
    touch: std::sync::Arc<Script>,
}

const ROTATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[2], 'fingerprint', ARGV[3], 'rotated_at', ARGV[4], 'last_used_at', ARGV[4])
return 1
";

const TOUCH: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
return 1
";

const REVOKE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1])
return 1
";

impl RedisSessions {
    /// Sessions kept in `redis`.
    #[must_use]
    pub fn new(redis: Redis) -> Self {
        Self {
            redis,
            rotate: std::sync::Arc::new(Script::new(ROTATE)),
            revoke: std::sync::Arc::new(Script::new(REVOKE)),
            touch: std::sync::Arc::new(Script::new(TOUCH)),
        }
    }

    fn session_key(&self, id: SessionId) -> String {
        self.redis.key(format_args!("session:{}", id.0))
    }

    fn user_key(&self, user: UserId) -> String {
        self.redis.key(format_args!("user-sessions:{}", user.0))
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("redis: unreadable session field {what}"))
}

fn parse(id: SessionId, h: &HashMap<String, String>) -> Result<Session, StoreError> {
    let int = |k: &str| {
        h.get(k)
            .ok_or_else(|| corrupt(k))?
            .parse::<i64>()
            .map_err(|_| corrupt(k))
    };
    let time = |k: &str| from_micros(int(k)?).ok_or_else(|| corrupt(k));
    let opt_time = |k: &str| h.get(k).map(|_| time(k)).transpose();
    Ok(Session {
        id,
        user_id: UserId(int("user_id")?),
        generation: u32::try_from(int("generation")?).map_err(|_| corrupt("generation"))?,
        refresh_fingerprint: TokenFingerprint(
            h.get("fingerprint")
                .cloned()
                .ok_or_else(|| corrupt("fingerprint"))?,
        ),
        created_at: time("created_at")?,
        last_used_at: time("last_used_at")?,
        rotated_at: opt_time("rotated_at")?,
        expires_at: time("expires_at")?,
        revoked_at: opt_time("revoked_at")?,
        client: ClientInfo {
            ip: h.get("ip").cloned(),
            user_agent: h.get("user_agent").cloned(),
        },
        // Sessions stored before these fields read as a password login at
        // their creation time.
        authentication: Authentication {
            at: match h.get("auth_time") {
                Some(_) => time("auth_time")?,
                None => time("created_at")?,
            },
            methods: Authentication::methods_from_text(h.get("amr").map_or("pwd", String::as_str)),
        },
        issued_to: match h.get("issued_to") {
            Some(c) => Some(
                tessera_domain::model::ClientId::parse(c).ok_or_else(|| corrupt("issued_to"))?,
            ),
            None => None,
        },
    })
}

impl SessionStore for RedisSessions {
    async fn create(&self, s: &Session) -> Result<(), StoreError> {
        let key = self.session_key(s.id);
        let mut fields: Vec<(&str, String)> = vec![
            ("user_id", s.user_id.0.to_string()),
            ("generation", s.generation.to_string()),
            ("fingerprint", s.refresh_fingerprint.0.clone()),
            ("created_at", micros(s.created_at).to_string()),
            ("last_used_at", micros(s.last_used_at).to_string()),
            ("expires_at", micros(s.expires_at).to_string()),
            ("amr", s.authentication.methods_text()),
            ("auth_time", micros(s.authentication.at).to_string()),
        ];
        if let Some(t) = s.rotated_at {
            fields.push(("rotated_at", micros(t).to_string()));
        }
        if let Some(t) = s.revoked_at {
            fields.push(("revoked_at", micros(t).to_string()));
        }
        if let Some(ip) = &s.client.ip {
            fields.push(("ip", ip.clone()));
        }
        if let Some(ua) = &s.client.user_agent {
            fields.push(("user_agent", ua.clone()));
        }
        if let Some(client) = &s.issued_to {
            fields.push(("issued_to", client.as_str().to_owned()));
        }
        let end = s.expires_at.timestamp() + KEEP_AFTER_END_SECS;
        let user_key = self.user_key(s.user_id);
        // Two single-key pipelines: the keys may live on different cluster nodes.
        // The user's index first, so a session is never unlisted; an index
        // entry without a session is skipped (and swept) by revoke_all_for_user.
        let mut index = redis::pipe();
        index
            .cmd("SADD")
            .arg(&user_key)
            .arg(s.id.0.to_string())
            .ignore();
        index
            .cmd("EXPIREAT")
            .arg(&user_key)
            .arg(end)
            .arg("GT")
            .ignore();
        index
            .cmd("EXPIREAT")
            .arg(&user_key)
            .arg(end)
            .arg("NX")
            .ignore();
        self.redis.pipeline::<()>(&index).await?;
        let mut session = redis::pipe();
        session.cmd("HSET").arg(&key).arg(fields).ignore();
        session.cmd("EXPIREAT").arg(&key).arg(end).ignore();
        self.redis.pipeline::<()>(&session).await
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let h: HashMap<String, String> = self
            .redis
            .query(redis::cmd("HGETALL").arg(self.session_key(id)))
            .await?;
        if h.is_empty() {
            Ok(None)
        } else {
            parse(id, &h).map(Some)
        }
    }

    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut inv = self.touch.key(self.session_key(id));
        inv.arg(micros(at).to_string());
        let _: i64 = self.redis.script(&inv).await?;
        Ok(())
    }

    async fn list_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let user_key = self.user_key(user);
        let members: Vec<String> = self
            .redis
            .query(redis::cmd("SMEMBERS").arg(&user_key))
            .await?;
        let ids: Vec<(String, SessionId)> = members
            .into_iter()
            .filter_map(|m| Uuid::parse_str(&m).ok().map(|u| (m, SessionId(u))))
            .collect();
        // Every session of the index in one round trip (each login lists them).
        let keys: Vec<String> = ids.iter().map(|(_, id)| self.session_key(*id)).collect();
        let hashes: Vec<HashMap<String, String>> = self.redis.each_key("HGETALL", &keys).await?;
        let mut live = Vec::new();
        let mut dead = Vec::new();
        for ((m, id), h) in ids.into_iter().zip(hashes) {
            let found = if h.is_empty() {
                None
            } else {
                Some(parse(id, &h)?)
            };
            match found {
                Some(s) if s.is_open(now) => live.push(s),
                // Revoked (evicted, logged out): nothing needs it in the
                // index any more, and each login lists it (issue 12, item
                // 11), so the index stays near the live sessions. A missing
                // hash is left alone: `create` indexes before it writes.
                Some(s) if s.revoked_at.is_some() => dead.push(m),
                _ => {}
            }
        }
        if !dead.is_empty() {
            self.redis
                .query::<()>(redis::cmd("SREM").arg(&user_key).arg(dead))
                .await?;
        }
        live.sort_by_key(|s| (s.created_at, s.id.0));
        Ok(live)
    }

    async fn rotate(&self, rotation: &SessionRotation) -> Result<bool, StoreError> {
        let from = rotation.from_generation;
        let mut inv = self.rotate.key(self.session_key(rotation.id));
        inv.arg(from.to_string())
            .arg((u64::from(from) + 1).to_string())
            .arg(&rotation.new_fingerprint.0)
            .arg(micros(rotation.at).to_string());
        let changed: i64 = self.redis.script(&inv).await?;
        Ok(changed == 1)
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut inv = self.revoke.key(self.session_key(id));
        inv.arg(micros(at).to_string());
        Ok(self.redis.script::<i64>(&inv).await? == 1)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let user_key = self.user_key(user);
        let members: Vec<String> = self
            .redis
            .query(redis::cmd("SMEMBERS").arg(&user_key))
            .await?;
        let mut revoked = Vec::new();
        for m in members {
            let Ok(uuid) = Uuid::parse_str(&m) else {
                continue;
            };
            let id = SessionId(uuid);
            if Some(id) == keep {
                continue;
            }
            let key = self.session_key(id);
            let mut inv = self.revoke.key(&key);
            inv.arg(micros(at).to_string());
            if self.redis.script::<i64>(&inv).await? == 1 {
                revoked.push(id);
            } else {
                let exists: bool = self.redis.query(redis::cmd("EXISTS").arg(&key)).await?;
                if !exists {
                    self.redis
                        .query::<()>(redis::cmd("SREM").arg(&user_key).arg(&m))
                        .await?;
                }
            }
        }
        Ok(revoked)
    }
}
