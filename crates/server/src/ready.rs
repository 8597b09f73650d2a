//! `GET /ready`: 200 only when every configured dependency answers.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tessera_redis::Redis;
use tessera_smtp::LettreMailer;
use tessera_sql::Database;

/// The dependencies `/ready` checks (none: always ready, as with in-memory fakes).
#[derive(Default)]
pub struct Readiness {
    /// The database.
    pub database: Option<Database>,
    /// Redis, when configured.
    pub redis: Option<Redis>,
    /// The SMTP server, when mail goes to one.
    pub mailer: Option<LettreMailer>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("database", &self.database.is_some())
            .field("redis", &self.redis.is_some())
            .field("mailer", &self.mailer.is_some())
            .finish()
    }
}

/// How long one dependency may take to answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Awaits a configured dependency's check (`None`: not configured).
async fn probe<F, E>(name: &str, check: Option<F>) -> Option<(bool, Value)>
where
    F: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, check?).await;
    let ms = started.elapsed().as_millis();
    Some(match outcome {
        Ok(Ok(())) => (true, json!({"status": "up", "latency_ms": ms})),
        Ok(Err(e)) => {
            tracing::warn!(dependency = name, error = %e, "not ready");
            (false, json!({"status": "down", "latency_ms": ms}))
        }
        Err(_) => {
            tracing::warn!(dependency = name, "not ready: no answer within 2 s");
            (false, json!({"status": "down", "latency_ms": ms}))
        }
    })
}

impl Readiness {
    /// Checks every configured dependency at once: whether all are up, and
    /// each one's state (causes go to the log, not the body).
    pub async fn check(&self) -> (bool, Value) {
        let (db, redis, smtp) = tokio::join!(
            probe("database", self.database.as_ref().map(Database::ping)),
            probe("redis", self.redis.as_ref().map(Redis::ping)),
            probe("smtp", self.mailer.as_ref().map(LettreMailer::check)),
        );
        let mut checks = Map::new();
        let mut ready = true;
        for (name, result) in [("database", db), ("redis", redis), ("smtp", smtp)] {
            match result {
                Some((up, v)) => {
                    ready &= up;
                    checks.insert(name.into(), v);
                }
                None => {
                    checks.insert(name.into(), json!({"status": "not_configured"}));
                }
            }
        }
        let status = if ready { "ready" } else { "not_ready" };
        (ready, json!({"status": status, "checks": checks}))
    }
}
