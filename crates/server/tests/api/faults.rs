//! Dependency outages: answers are 503 with an opaque body, nothing is
//! half-written, and service resumes by itself. Each test stops and restarts
//! servers it started itself, never the machine's shared ones.

use reqwest::StatusCode;
use serde_json::json;
use tessera_testkit::{PrivateMariaDb, PrivateRedis};

use crate::helpers::{Stores, assert_error, eventually, s, spawn_app_with};

fn assert_opaque_503(status: StatusCode, body: &serde_json::Value) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error(body, "service_unavailable");
    let text = body.to_string().to_lowercase();
    for leak in ["redis", "mysql", "connection", "pool", "127.0.0.1"] {
        assert!(
            !text.contains(leak),
            "the cause stays in the log, not the body: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_outage_fails_closed_and_recovers_without_a_restart() {
    let mut redis = PrivateRedis::start();
    let stores = Stores::fresh();
    let url = redis.url();
    let app = spawn_app_with(&[
        ("DATABASE_URL", &stores.database_url),
        ("REDIS_URL", &url),
        ("REDIS_TIMEOUT_MS", "1500"),
    ])
    .await;
    let login = app.alice().await;
    let at = s(&login["access_token"]).to_owned();
    let (status, _) = app.post_bearer("/api/auth/logout", &at, None).await;
    assert_eq!(status, StatusCode::OK);
    let fresh = app.login("alice", "Secret123").await;

    redis.stop();
    for path in ["/api/auth/me", "/api/auth/profile"] {
        let (status, body) = app.get_bearer(path, s(&fresh["access_token"])).await;
        assert_opaque_503(status, &body);
        // Fail closed: the logged-out token is not accepted for want of a denylist.
        let (status, body) = app.get_bearer(path, &at).await;
        assert_opaque_503(status, &body);
    }
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "Secret123"}),
        )
        .await;
    assert_opaque_503(status, &body);
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&fresh["refresh_token"]), None)
        .await;
    assert_opaque_503(status, &body);

    redis.restart();
    let login = json!({"username": "alice", "password": "Secret123"});
    let back = eventually(40, || async {
        let (status, body) = app.post("/api/auth/login", &login).await;
        (status == StatusCode::OK).then_some(body)
    })
    .await
    .expect("login works again once Redis is back, without restarting tessera");
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&back["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_outage_is_503_writes_nothing_and_recovers() {
    let mut db = PrivateMariaDb::start();
    let stores = Stores::fresh();
    let url = db.url("tessera");
    let app = spawn_app_with(&[
        ("DATABASE_URL", &url),
        ("REDIS_URL", &stores.redis_url),
        ("REDIS_KEY_PREFIX", &stores.redis_prefix),
        ("DATABASE_TIMEOUT", "2"),
    ])
    .await;
    app.alice().await;

    db.stop();
    let bob = json!({"username": "bob", "email": "bob@b.com", "password": "password123"});
    let (status, body) = app.post("/api/auth/register", &bob).await;
    assert_opaque_503(status, &body);
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "Secret123"}),
        )
        .await;
    assert_opaque_503(status, &body);

    db.restart();
    let (status, body) = eventually(60, || async {
        let (status, body) = app.post("/api/auth/register", &bob).await;
        (status != StatusCode::SERVICE_UNAVAILABLE).then_some((status, body))
    })
    .await
    .expect("register works again once MySQL is back");
    assert_eq!(
        status,
        StatusCode::CREATED,
        "nothing was half-written during the outage: {body}"
    );
    app.login("alice", "Secret123").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_follows_redis_and_smtp_down_and_back() {
    use tessera_testkit::PrivateSmtpSink;
    let mut redis = PrivateRedis::start();
    let mut smtp = PrivateSmtpSink::start();
    let stores = Stores::fresh();
    let (redis_url, smtp_url) = (redis.url(), smtp.url());
    let app = spawn_app_with(&[
        ("DATABASE_URL", &stores.database_url),
        ("REDIS_URL", &redis_url),
        ("REDIS_TIMEOUT_MS", "1500"),
        ("SMTP_URL", &smtp_url),
    ])
    .await;
    let ready = || async {
        crate::helpers::parts(app.client.get(app.url("/ready")).send().await.unwrap()).await
    };
    let up = eventually(40, || async {
        let (status, body) = ready().await;
        (status == StatusCode::OK).then_some(body)
    })
    .await
    .expect("ready once everything answers");
    for dep in ["database", "redis", "smtp"] {
        assert_eq!(up["checks"][dep]["status"], "up", "{up}");
    }
    redis.stop();
    let (status, body) = ready().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        (
            body["status"].as_str(),
            body["checks"]["redis"]["status"].as_str()
        ),
        (Some("not_ready"), Some("down"))
    );
    assert_eq!(body["checks"]["database"]["status"], "up");
    let (status, _) = app.get_bearer("/health", "").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "/health answers while the process lives"
    );
    redis.restart();
    smtp.stop();
    let body = eventually(40, || async {
        let (status, body) = ready().await;
        (status == StatusCode::SERVICE_UNAVAILABLE && body["checks"]["redis"]["status"] == "up")
            .then_some(body)
    })
    .await
    .expect("Redis back, SMTP down");
    assert_eq!(body["checks"]["smtp"]["status"], "down");
    smtp.restart();
    eventually(40, || async {
        (ready().await.0 == StatusCode::OK).then_some(())
    })
    .await
    .expect("ready again without a restart");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_default_is_ready_with_only_its_database() {
    // Explicitly embedded (SQLite, no Redis), whatever TESSERA_TEST_STORES says.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ready.db").display());
    let app = spawn_app_with(&[("DATABASE_URL", &url), ("REDIS_URL", "")]).await;
    let (status, body) =
        crate::helpers::parts(app.client.get(app.url("/ready")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["database"]["status"], "up");
    assert_eq!(body["checks"]["redis"]["status"], "not_configured");
    assert_eq!(body["checks"]["smtp"]["status"], "not_configured");
}
