//! Issue 12, item 11: `MAX_SESSIONS_PER_USER` (a login beyond it ends the
//! least recently used sessions, audited, under concurrency too) and
//! `GET /api/auth/sessions` in pages.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_sql::{Database, DbConfig, SqlAudit};

use crate::helpers::{TestApp, assert_error, s, spawn_app, spawn_app_with};

async fn audit_kinds(app: &TestApp) -> Vec<(String, Option<i64>, Option<String>)> {
    let db = Database::connect(&DbConfig {
        url: app.database_url(),
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .unwrap();
    SqlAudit::new(db)
        .recent(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.0, r.2, r.6))
        .collect()
}

async fn evictions(app: &TestApp) -> Vec<(Option<i64>, Option<String>)> {
    audit_kinds(app)
        .await
        .into_iter()
        .filter(|(k, _, _)| k == "session_evicted")
        .map(|(_, subject, detail)| (subject, detail))
        .collect()
}

async fn sessions(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    app.get_bearer(&format!("/api/auth/sessions{query}"), token)
        .await
}

async fn alive(app: &TestApp, login: &Value) -> bool {
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&login["access_token"]))
        .await;
    status == StatusCode::OK
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_over_the_limit_ends_the_least_recently_used_session() {
    let app = spawn_app_with(&[("MAX_SESSIONS_PER_USER", "3")]).await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let a = app.login("alice", "Secret123").await;
    let b = app.login("alice", "Secret123").await;
    let c = app.login("alice", "Secret123").await;
    // Using `a` (a refresh) makes `b` the least recently used.
    let (status, a) = app
        .post_bearer("/api/auth/refresh", s(&a["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    let (_, before) = sessions(&app, s(&c["access_token"]), "").await;
    assert_eq!(before["total"], 3, "{before}");
    let b_id = s(&before["sessions"][1]["id"]).to_owned();
    assert!(evictions(&app).await.is_empty(), "nothing evicted yet");

    let d = app.login("alice", "Secret123").await;
    for (name, login, live) in [
        ("a", &a, true),
        ("b", &b, false),
        ("c", &c, true),
        ("d", &d, true),
    ] {
        assert_eq!(alive(&app, login).await, live, "{name}'s access token");
    }
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&b["refresh_token"]), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "b's refresh token: {body}"
    );
    let (_, list) = sessions(&app, s(&d["access_token"]), "").await;
    assert_eq!(list["total"], 3, "{list}");

    // One audit event, naming alice and the evicted session.
    let evicted = evictions(&app).await;
    assert_eq!(evicted.len(), 1, "{evicted:?}");
    assert_eq!(evicted[0].0, d["user"]["id"].as_i64());
    assert_eq!(
        evicted[0].1.as_deref(),
        Some(format!("session {b_id}").as_str()),
        "b (the second oldest, least recently used) was evicted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dialects_login_counts_towards_the_limit() {
    let app = spawn_app_with(&[("MAX_SESSIONS_PER_USER", "2")]).await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let first = app.login("alice", "Secret123").await;
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "alice@example.com", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "alice@example.com", "Password": "Secret123"}),
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_i64()),
        (StatusCode::OK, Some(200)),
        "{body}"
    );
    assert!(!alive(&app, &first).await, "the oldest session was evicted");
    let last = app.login("alice", "Secret123").await;
    let (_, list) = sessions(&app, s(&last["access_token"]), "").await;
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(evictions(&app).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_logins_leave_at_most_the_limit() {
    let app = spawn_app_with(&[
        ("MAX_SESSIONS_PER_USER", "5"),
        ("RATE_LIMIT_LOGIN", "off"),
        // Each login from its own address: one password check per
        // (account, address) is in flight at a time.
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("HASH_MAX_WAITING", "256"),
        ("DATABASE_MAX_CONNECTIONS", "8"),
    ])
    .await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (client, url) = (app.client.clone(), app.url("/api/auth/login"));
        tasks.spawn(async move {
            let r = client
                .post(url)
                .header("x-forwarded-for", format!("198.51.100.{}", i + 10))
                .json(&json!({"username": "alice", "password": "Secret123"}))
                .send()
                .await
                .unwrap();
            crate::helpers::parts(r).await
        });
    }
    let mut logins = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        logins.push(body);
    }
    let mut live = Vec::new();
    for l in &logins {
        if alive(&app, l).await {
            live.push(l);
        }
    }
    assert!(
        (1..=5).contains(&live.len()),
        "{} live access tokens of 30 logins with a limit of 5",
        live.len()
    );
    let (_, list) = sessions(&app, s(&live[0]["access_token"]), "").await;
    let total = list["total"].as_u64().unwrap();
    assert!(total <= 5 && total as usize == live.len(), "{list}");
    let evicted = evictions(&app).await;
    assert_eq!(
        evicted.len(),
        30 - live.len(),
        "every eviction audited exactly once"
    );
    // The limit holds for the next login too.
    let next = app.login("alice", "Secret123").await;
    let (_, list) = sessions(&app, s(&next["access_token"]), "").await;
    assert!(list["total"].as_u64().unwrap() <= 5, "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_session_list_is_paged() {
    let app = spawn_app().await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let mut last = Value::Null;
    for _ in 0..7 {
        last = app.login("alice", "Secret123").await;
    }
    let at = s(&last["access_token"]).to_owned();

    let (status, all) = sessions(&app, &at, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        (&all["total"], &all["page"], &all["per_page"], &all["pages"]),
        (&json!(7), &json!(1), &json!(50), &json!(1)),
        "the default page holds every session under the default limit"
    );
    let every: Vec<String> = all["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["id"]).to_owned())
        .collect();
    assert_eq!(every.len(), 7);

    let mut paged = Vec::new();
    for page in 1..=4 {
        let (status, body) = sessions(&app, &at, &format!("?page={page}&per_page=3")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (
                &body["total"],
                &body["page"],
                &body["per_page"],
                &body["pages"]
            ),
            (&json!(7), &json!(page), &json!(3), &json!(3)),
        );
        let ids = body["sessions"].as_array().unwrap();
        assert_eq!(ids.len(), [3, 3, 1, 0][page - 1], "page {page}: {body}");
        for x in ids {
            for key in [
                "id",
                "current",
                "device",
                "ip",
                "created_at",
                "last_used_at",
                "expires_at",
            ] {
                assert!(x.get(key).is_some(), "{key} in {x}");
            }
            paged.push(s(&x["id"]).to_owned());
        }
    }
    assert_eq!(paged, every, "pages are the whole list, in order");

    let (_, capped) = sessions(&app, &at, "?per_page=1000").await;
    assert_eq!(capped["per_page"], 100, "{capped}");

    for bad in [
        "?page=0",
        "?per_page=0",
        "?per_page=abc",
        "?page=-1",
        "?page=1.5",
    ] {
        let (status, body) = sessions(&app, &at, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_error(&body, "validation_failed");
    }
    let (status, _) = parts_without_token(&app).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn parts_without_token(app: &TestApp) -> (StatusCode, Value) {
    crate::helpers::parts(
        app.client
            .get(app.url("/api/auth/sessions?per_page=5"))
            .send()
            .await
            .unwrap(),
    )
    .await
}
