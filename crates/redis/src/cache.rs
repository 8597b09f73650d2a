use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use serde::{Deserialize, Serialize};
use tessera_domain::error::StoreError;
use tessera_domain::model::{PasswordHash, User, UserId};
use tessera_domain::ports::UserCache;
use tessera_domain::values::{Email, Phone, RoleName, Username};
use uuid::Uuid;

use crate::Redis;

/// Users as JSON at `<prefix>user:<id>`, kept for a configured lifetime.
#[derive(Debug, Clone)]
pub struct RedisUserCache {
    redis: Redis,
    ttl: Duration,
}

impl RedisUserCache {
    /// The default lifetime of a cached user in seconds (the server's
    /// `USER_CACHE_TTL` and `tessera-embed`'s `Builder::redis` use it).
    pub const DEFAULT_TTL_SECS: u64 = 60;

    /// A cache in `redis` whose entries live `ttl`.
    #[must_use]
    pub fn new(redis: Redis, ttl: Duration) -> Self {
        Self { redis, ttl }
    }

    fn key(&self, id: UserId) -> String {
        self.redis.key(format_args!("user:{}", id.0))
    }
}

#[derive(Serialize, Deserialize)]
struct Cached {
    id: i64,
    public_id: Uuid,
    username: String,
    email: String,
    phone: Option<String>,
    password_hash: String,
    role: String,
    /// Every role (entries cached before roles existed have none: the primary alone).
    #[serde(default)]
    roles: Vec<String>,
    is_active: bool,
    email_verified: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&User> for Cached {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            public_id: u.public_id,
            username: u.username.as_str().to_owned(),
            email: u.email.as_str().to_owned(),
            phone: u.phone.as_ref().map(|p| p.as_str().to_owned()),
            password_hash: u.password_hash.as_str().to_owned(),
            role: u.role.as_str().to_owned(),
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            is_active: u.is_active,
            email_verified: u.email_verified,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

impl From<Cached> for User {
    fn from(c: Cached) -> Self {
        Self {
            id: UserId(c.id),
            public_id: c.public_id,
            username: Username::from_stored(c.username),
            email: Email::from_stored(c.email),
            phone: c.phone.map(Phone::from_stored),
            password_hash: PasswordHash::new(c.password_hash),
            roles: User::role_list(
                &RoleName::from_stored(c.role.clone()),
                c.roles.into_iter().map(RoleName::from_stored),
            ),
            role: RoleName::from_stored(c.role),
            is_active: c.is_active,
            email_verified: c.email_verified,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl UserCache for RedisUserCache {
    async fn get(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let raw: Option<String> = self
            .redis
            .query(redis::cmd("GET").arg(self.key(id)))
            .await?;
        // An unreadable entry (written by another version) is a miss.
        Ok(raw
            .and_then(|r| serde_json::from_str::<Cached>(&r).ok())
            .map(User::from))
    }

    async fn put(&self, user: &User) -> Result<(), StoreError> {
        let json = serde_json::to_string(&Cached::from(user))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let ms = u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.redis
            .query(
                redis::cmd("SET")
                    .arg(self.key(user.id))
                    .arg(json)
                    .arg("PX")
                    .arg(ms),
            )
            .await
    }

    async fn invalidate(&self, id: UserId) -> Result<(), StoreError> {
        self.redis.query(redis::cmd("DEL").arg(self.key(id))).await
    }
}
