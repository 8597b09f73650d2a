//! The Redis adapters pass every port contract, and survive Redis going away.
//!
//! Needs `TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`); `scripts/test.sh`
//! provides one. The fault test starts its own `redis-server` on a free port,
//! so it never stops the machine's shared server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use tessera_domain::model::RevocationKey;
use tessera_domain::model::SessionId;
use tessera_domain::model::UserId;
use tessera_domain::ports::{SessionStore, TokenDenylist};
use tessera_redis::{
    Redis, RedisChangeFeed, RedisCodes, RedisConfig, RedisDenylist, RedisRateLimiter,
    RedisSessions, RedisUserCache,
};
use tessera_testkit::contract;
use tessera_testkit::{PrivateRedis, PrivateRedisCluster};
use uuid::Uuid;

fn config(url: String) -> RedisConfig {
    RedisConfig {
        url: Some(url),
        cluster_urls: Vec::new(),
        key_prefix: format!("tessera-test:{}:", Uuid::new_v4().simple()),
        pool_size: 16,
        timeout: Duration::from_secs(2),
    }
}

fn shared() -> Redis {
    let url = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379): run scripts/test.sh, which provides Redis");
    Redis::connect(&config(url)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_passes_every_contract() {
    let r = shared();
    r.ping().await.unwrap();
    contract::sessions(RedisSessions::new(r.clone()), UserId(42)).await;
    contract::denylist(RedisDenylist::new(r.clone())).await;
    contract::user_cache(RedisUserCache::new(r.clone(), Duration::from_secs(60))).await;
    contract::codes(RedisCodes::new(r.clone())).await;
    contract::rate_limiter(RedisRateLimiter::new(r.clone())).await;
    assert!(r.clear_prefix().await.unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn denylist_entries_expire_inside_redis() {
    let r = shared();
    let d = RedisDenylist::new(r.clone());
    let now = chrono::Utc::now();
    let k = RevocationKey::Token(Uuid::new_v4());
    d.deny(k, now + chrono::Duration::milliseconds(300))
        .await
        .unwrap();
    assert!(d.any_denied(&[k], now).await.unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Asked as if still early: the key itself is gone.
    assert!(!d.any_denied(&[k], now).await.unwrap());
    r.clear_prefix().await.unwrap();
}

/// Pings until the pool answers (up to 10 s).
async fn reconnects(r: &Redis) -> bool {
    for _ in 0..100 {
        if r.ping().await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_is_unavailable_and_service_resumes_without_a_restart() {
    let mut server = PrivateRedis::start();
    let mut cfg = config(server.url());
    cfg.timeout = Duration::from_millis(800);
    let r = Redis::connect(&cfg).unwrap();
    let d = RedisDenylist::new(r.clone());
    let sessions = RedisSessions::new(r.clone());
    let k = RevocationKey::Session(SessionId(Uuid::new_v4()));
    let until = chrono::Utc::now() + chrono::Duration::minutes(5);
    // The first connection on a loaded CI machine may miss the short timeout;
    // what this test is about starts once the pool has a live connection.
    assert!(reconnects(&r).await, "the private server answers");
    d.deny(k, until).await.unwrap();

    server.stop();
    let started = std::time::Instant::now();
    let err = d.any_denied(&[k], chrono::Utc::now()).await.unwrap_err();
    assert!(err.to_string().contains("redis"), "{err}");
    assert!(sessions.get(SessionId(Uuid::new_v4())).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "fails fast: {:?}",
        started.elapsed()
    );

    server.restart();
    // The restarted server is empty (no persistence); what matters is that the
    // same pool reconnects by itself.
    assert!(
        reconnects(&r).await,
        "the pool reconnects without a restart"
    );
    d.deny(k, until).await.unwrap();
    assert!(d.any_denied(&[k], chrono::Utc::now()).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_cluster_passes_every_contract() {
    let cluster = PrivateRedisCluster::start();
    let cfg = RedisConfig {
        url: None,
        cluster_urls: cluster.urls(),
        ..config(String::new())
    };
    let r = Redis::connect(&cfg).unwrap();
    r.ping().await.unwrap();
    contract::sessions(RedisSessions::new(r.clone()), UserId(7)).await;
    contract::denylist(RedisDenylist::new(r.clone())).await;
    contract::user_cache(RedisUserCache::new(r.clone(), Duration::from_secs(60))).await;
    contract::codes(RedisCodes::new(r.clone())).await;
    contract::rate_limiter(RedisRateLimiter::new(r.clone())).await;
    assert!(
        RedisChangeFeed::new(r).is_none(),
        "no change stream on a cluster: its denylist is read on every check"
    );
}

/// Every denial reaches a reader of the change stream on another handle
/// (another instance), in order; the stream's first read only positions it;
/// an empty read waits; a lost server is an error, and the same feed reads
/// again once it is back (issue 15).
#[tokio::test(flavor = "multi_thread")]
async fn denials_reach_the_change_stream() {
    use tessera_domain::model::Change;
    use tessera_domain::ports::ChangeFeed;

    let mut server = PrivateRedis::start();
    let mut cfg = config(server.url());
    cfg.timeout = Duration::from_millis(800);
    let writer = Redis::connect(&cfg).unwrap();
    assert!(reconnects(&writer).await, "the private server answers");
    let d = RedisDenylist::new(writer.clone());
    let until = chrono::Utc::now() + chrono::Duration::minutes(5);
    let early = RevocationKey::Token(Uuid::new_v4());
    d.deny(early, until).await.unwrap();

    let mut feed = RedisChangeFeed::new(Redis::connect(&cfg).unwrap()).unwrap();
    let wait = Duration::from_millis(40);
    assert!(feed.changes(wait).await.unwrap().is_empty(), "positions");
    let started = std::time::Instant::now();
    assert!(
        feed.changes(wait).await.unwrap().is_empty(),
        "earlier denials are not reported"
    );
    assert!(
        started.elapsed() >= wait / 2,
        "an empty read waits: {:?}",
        started.elapsed()
    );

    let session = RevocationKey::Session(SessionId(Uuid::new_v4()));
    let token = RevocationKey::Token(Uuid::new_v4());
    d.deny(session, until).await.unwrap();
    d.deny(token, until).await.unwrap();
    // An expired denial stores nothing, so it reports nothing.
    d.deny(
        RevocationKey::Token(Uuid::new_v4()),
        chrono::Utc::now() - chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(
        feed.changes(wait).await.unwrap(),
        [Change::Denied(session), Change::Denied(token)]
    );

    server.stop();
    assert!(
        feed.changes(wait).await.is_err(),
        "a lost server is an error"
    );
    server.restart();
    assert!(reconnects(&writer).await);
    let after = RevocationKey::Token(Uuid::new_v4());
    let mut seen = Vec::new();
    for _ in 0..100 {
        d.deny(after, until).await.ok();
        if let Ok(changes) = feed.changes(wait).await {
            seen.extend(changes);
            if seen.contains(&Change::Denied(after)) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.contains(&Change::Denied(after)),
        "the feed reads again: {seen:?}"
    );
}
