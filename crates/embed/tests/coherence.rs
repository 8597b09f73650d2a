//! Two instances on one store: what one changes, the other's in-process
//! caches honour (issue 15). Each flip is made on instance A after B has
//! cached what it changes; B is polled until it answers the new state. The
//! bound itself (`CACHE_MAX_LAG_MS`, 100 ms) is measured by
//! `bench/coherence.py`; here a flip must show within a generous 5 s, and
//! every answer B gives before it shows is counted, not failed.
//!
//! SQLite always; MySQL + Redis with `TEST_DATABASE_URL` and
//! `TEST_REDIS_URL` (scripts/test.sh provides both).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tessera_embed::tessera_domain::error::{AuthError, TokenProblem};
use tessera_embed::tessera_domain::mail::Locale;
use tessera_embed::tessera_domain::ports::Ports;
use tessera_embed::tessera_domain::settings::LinkKind;
use tessera_embed::tessera_domain::usecase::{Actor, LoginStep, LoginTerms, RegistrationForm};
use tessera_embed::tessera_domain::values::PasswordInput;
use tessera_embed::tessera_memory::MemoryMailer;
use tessera_embed::{ClientInfo, MailSink, Running, Secret, Tessera, client};

fn me() -> ClientInfo {
    client("192.0.2.7".parse().unwrap(), Some("coherence"))
}

/// Polls `check` on B until it is true; panics after 5 s.
async fn until_seen(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("{what}: instance B still answers the old state after 5 s");
}

async fn login<P: Ports>(a: &Running<P>, name: &str) -> String
where
    P::Outbox: Clone,
{
    a.verify_credentials(
        &format!("{name}@example.com"),
        PasswordInput::Plain("correct horse battery"),
        me(),
        LoginTerms::default(),
    )
    .await
    .and_then(LoginStep::done)
    .unwrap()
    .tokens
    .access
    .token
    .expose()
    .to_owned()
}

/// Role grant and revoke, logout, disable, password change: each made on A,
/// each seen by B.
async fn flips_on_a_are_seen_by_b<P: Ports>(a: &Running<P>, b: &Running<P>)
where
    P::Outbox: Clone,
{
    let name = format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    a.register(
        &RegistrationForm {
            username: Some(name.clone()),
            email: Some(format!("{name}@example.com")),
            password: Some("correct horse battery".into()),
            ..RegistrationForm::default()
        },
        Locale::En,
        LinkKind::Page,
    )
    .await
    .unwrap();
    let token = login(a, &name).await;
    // Give B's feed time to prove its caches (its first reads position it).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, user) = b.authenticate_user(Some(&token), me()).await.unwrap();
    assert!(!user.has_role("admin"));
    let operator = Actor::operator();

    a.grant_role(&operator, user.id, "admin").await.unwrap();
    until_seen("role grant", async || {
        b.authenticate_user(Some(&token), me())
            .await
            .unwrap()
            .1
            .has_role("admin")
    })
    .await;
    a.revoke_role(&operator, user.id, "admin").await.unwrap();
    until_seen("role revoke", async || {
        !b.authenticate_user(Some(&token), me())
            .await
            .unwrap()
            .1
            .has_role("admin")
    })
    .await;

    let auth = a.authenticate(Some(&token), me()).await.unwrap();
    a.logout(&auth).await.unwrap();
    until_seen("logout", async || {
        matches!(
            b.authenticate_user(Some(&token), me()).await,
            Err(AuthError::Token(TokenProblem::Revoked))
        )
    })
    .await;

    let token = login(a, &name).await;
    b.authenticate_user(Some(&token), me()).await.unwrap();
    a.set_user_active(&operator, user.id, false).await.unwrap();
    until_seen("disable", async || {
        b.authenticate_user(Some(&token), me()).await.is_err()
    })
    .await;
    a.set_user_active(&operator, user.id, true).await.unwrap();

    // A password change elsewhere: the cached hash is not what B checks
    // (logins read the store), but B's copy of the account is dropped.
    let token = login(a, &name).await;
    let before = b.authenticate_user(Some(&token), me()).await.unwrap().1;
    let auth = a.authenticate(Some(&token), me()).await.unwrap();
    a.change_password(
        &auth,
        Some("correct horse battery"),
        Some("another fine staple"),
        Locale::En,
    )
    .await
    .unwrap();
    until_seen("password change", async || {
        match b.authenticate_user(Some(&token), me()).await {
            Err(_) => true,
            Ok((_, now)) => now.updated_at != before.updated_at,
        }
    })
    .await;
}

async fn pair<P: Ports>(build: impl AsyncFn() -> Tessera<P>) -> (Running<P>, Running<P>)
where
    P::Outbox: Clone,
{
    (build().await.spawn_workers(), build().await.spawn_workers())
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_instances_stay_coherent() {
    let dir = tempfile::tempdir().unwrap();
    let secret = Secret::generate().unwrap();
    let path = dir.path().join("shared.db");
    let (a, b) = pair(async || {
        Tessera::builder()
            .sqlite(&path)
            .secret(secret.clone())
            .mail(MailSink::memory(MemoryMailer::default()))
            .build()
            .await
            .unwrap()
    })
    .await;
    flips_on_a_are_seen_by_b(&a, &b).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_and_redis_instances_stay_coherent() {
    let base = std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set (e.g. mysql://root@127.0.0.1:3306): run scripts/test.sh",
    );
    let redis = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379): run scripts/test.sh");
    let id = uuid::Uuid::new_v4().simple().to_string();
    let url = format!("{}/tessera_test_{id}", base.trim_end_matches('/'));
    let secret = Secret::generate().unwrap();
    let (a, b) = pair(async || {
        Tessera::builder()
            .mysql(url.clone())
            .redis_config(tessera_embed::tessera_redis::RedisConfig {
                key_prefix: format!("tessera-coherence-{id}:"),
                ..tessera_embed::tessera_redis::RedisConfig::new(redis.clone())
            })
            .secret(secret.clone())
            .mail(MailSink::memory(MemoryMailer::default()))
            .build()
            .await
            .unwrap()
    })
    .await;
    flips_on_a_are_seen_by_b(&a, &b).await;
    a.stop().await;
    b.stop().await;
    tessera_embed::tessera_sql::Database::drop_database(&url)
        .await
        .unwrap();
}
