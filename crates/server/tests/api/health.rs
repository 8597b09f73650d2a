use reqwest::StatusCode;

use crate::helpers::{parts, spawn_app};

/// Issue 13, item 2: seed 001's `{Code, Msg}` with the peer's `status:
/// "healthy"`, `service` and `version` (old main: `status: "ok"`, no
/// `service` or `version`).
#[tokio::test]
async fn health_answers_in_seed_001_shape() {
    let app = spawn_app().await;
    let (status, body) = parts(app.client.get(app.url("/health")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Code"], 200, "{body}");
    assert!(
        body["Msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(body["service"], "Tessera", "{body}");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"), "{body}");
}

/// Issue 13, item 3: a path outside every prefix answers 404 with seed
/// 001's `Code: 404` and `Msg` beside the `/api/auth` keys; a known path
/// outside every prefix with another method, 405 likewise. Within
/// `/api/auth` the shape stays as it was (old main: no `Code`/`Msg` anywhere).
#[tokio::test]
async fn a_path_outside_every_prefix_answers_404_with_code_and_msg() {
    let app = spawn_app().await;
    for path in ["/definitely-not-here", "/api/elsewhere", "/Authx/Login"] {
        let (status, body) = parts(app.client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        crate::helpers::assert_error(&body, "not_found");
        assert_eq!(body["Code"], 404, "{path}: {body}");
        assert_eq!(body["Msg"], "接口不存在", "{path}: {body}");
    }
    let (status, body) = parts(app.client.patch(app.url("/health")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    crate::helpers::assert_error(&body, "method_not_allowed");
    assert_eq!(body["Code"], 405, "{body}");
    assert!(
        body["Msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    for path in ["/api/auth/nope", "/api/admin/nope"] {
        let (status, body) = parts(app.client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        crate::helpers::assert_error(&body, "not_found");
        assert!(
            body.get("Code").is_none() && body.get("Msg").is_none(),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let app = spawn_app().await;
    let (status, body) = parts(
        app.client
            .get(app.url("/api/auth/nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    crate::helpers::assert_error(&body, "not_found");
}

#[tokio::test]
async fn every_response_carries_a_request_id_taken_or_made() {
    let app = crate::helpers::spawn_app().await;
    let echo = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "trace-42.abc:1")
        .send()
        .await
        .unwrap();
    assert_eq!(echo.headers()["x-request-id"], "trace-42.abc:1");
    let made = app
        .client
        .get(app.url("/api/auth/me"))
        .send()
        .await
        .unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let replaced = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "an unfit id is replaced: {id}"
    );
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = crate::helpers::spawn_app_with(&[
        (
            "CORS_ALLOWED_ORIGINS",
            "https://app.example, https://admin.example/",
        ),
        ("CORS_ALLOW_CREDENTIALS", "true"),
    ])
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = preflight("https://admin.example").await.unwrap();
    assert!(ok.status().is_success());
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://admin.example"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let real = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        real.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(real.headers()["vary"], "Origin");
    let other = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn metrics_move_with_traffic() {
    let app = crate::helpers::spawn_app().await;
    let scrape = || async {
        let r = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        r.text().await.unwrap()
    };
    let value = |text: &str, series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series).map(|v| v.trim().parse().unwrap()))
            .unwrap_or(0.0)
    };
    let health = r#"tessera_http_requests_total{method="GET",route="/health",status="200"}"#;
    let before = scrape().await;
    for _ in 0..3 {
        app.client.get(app.url("/health")).send().await.unwrap();
    }
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    app.login("alice", "Secret123").await;
    let _ = app
        .post(
            "/api/auth/login",
            &serde_json::json!({"username": "alice", "password": "Wrong-123"}),
        )
        .await;
    app.client
        .get(app.url("/api/admin/users/5"))
        .send()
        .await
        .unwrap();
    let after = scrape().await;
    assert_eq!(
        value(&after, health) - value(&before, health),
        3.0,
        "{after}"
    );
    assert_eq!(
        value(
            &after,
            r#"tessera_audit_events_total{kind="login_succeeded"}"#
        ),
        1.0
    );
    assert_eq!(
        value(&after, r#"tessera_audit_events_total{kind="login_failed"}"#),
        1.0
    );
    assert!(
        after.contains(r#"route="/api/admin/users/{id}",status="401""#),
        "routes are labelled by pattern"
    );
    assert!(after.contains(
        r#"tessera_http_request_duration_seconds_count{method="POST",route="/api/auth/login"} 2"#
    ));
    for gauge in [
        "tessera_password_hashes_in_flight",
        "tessera_db_pool_max",
        "tessera_mail_sent_total",
    ] {
        assert!(after.lines().any(|l| l.starts_with(gauge)), "{gauge}");
    }
}
