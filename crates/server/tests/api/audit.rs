//! The audit trail: a row per security event, with actor, IP and user agent,
//! and never a password or token.

use reqwest::StatusCode;
use serde_json::json;
use tessera_sql::{Database, DbConfig, SqlAudit};

use crate::helpers::{parts, s, spawn_app_with};

#[tokio::test(flavor = "multi_thread")]
async fn security_events_are_recorded_without_secrets() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let root = app
        .create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let post = |path: &str, body: serde_json::Value, token: Option<&str>| {
        let mut r = app
            .client
            .post(app.url(path))
            .header("x-forwarded-for", "203.0.113.5")
            .header("user-agent", "AuditTest/1.0")
            .json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move { parts(r.send().await.unwrap()).await }
    };
    let login = json!({"username": "alice", "password": "Secret123"});
    let (status, _) = post(
        "/api/auth/login",
        json!({"username": "alice", "password": "Wrong-Pass-1"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(
        "/api/auth/login",
        json!({"username": "Hunter2-typed-here", "password": "x-y-z-1"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, first) = post("/api/auth/login", login.clone(), None).await;
    assert_eq!(status, StatusCode::OK);
    // Refresh twice with the same token after the reuse interval: reuse.
    let rt = s(&first["refresh_token"]).to_owned();
    let (status, _) = post("/api/auth/refresh", json!({}), Some(&rt)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, second) = post("/api/auth/login", login.clone(), None).await;
    let at = s(&second["access_token"]).to_owned();
    let (status, _) = post(
        "/api/auth/change-password",
        json!({"old_password": "Secret123", "new_password": "Newer-Secret-2"}),
        Some(&at),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post("/api/auth/logout", json!({}), Some(&at)).await;
    assert_eq!(status, StatusCode::OK);
    let alice_id = second["user"]["id"].as_i64().unwrap();
    let (status, _) = post(
        &format!("/api/admin/users/{alice_id}/roles"),
        json!({"role": "admin"}),
        Some(s(&root["access_token"])),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let db = Database::connect(&DbConfig {
        url: app.database_url(),
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .unwrap();
    let mut rows = SqlAudit::new(db).recent(100).await.unwrap();
    rows.reverse();
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let root_id = root["user"]["id"].as_i64().unwrap();
    assert_eq!(
        kinds,
        [
            "login_succeeded", // root, by the helper
            "login_failed",
            "login_failed",
            "login_succeeded",
            "login_succeeded",
            "password_changed",
            "logout",
            "role_granted",
        ],
        "{rows:?}"
    );
    let failed_known = &rows[1];
    assert_eq!(
        (
            failed_known.2,
            failed_known.3.as_deref(),
            failed_known.6.as_deref()
        ),
        (Some(alice_id), Some("alice"), Some("wrong_password"))
    );
    let failed_unknown = &rows[2];
    assert_eq!(
        (failed_unknown.2, failed_unknown.3.as_deref()),
        (None, None),
        "an unknown name may be a password: not kept"
    );
    assert_eq!(failed_unknown.6.as_deref(), Some("unknown_account"));
    for r in &rows[1..] {
        assert_eq!(r.4.as_deref(), Some("203.0.113.5"), "{r:?}");
        assert_eq!(r.5.as_deref(), Some("AuditTest/1.0"), "{r:?}");
    }
    let grant = &rows[7];
    assert_eq!(
        (grant.1, grant.2, grant.6.as_deref()),
        (Some(root_id), Some(alice_id), Some("admin"))
    );
    let everything = format!("{rows:?}");
    for secret in [
        "Secret123",
        "Wrong-Pass-1",
        "Newer-Secret-2",
        "Hunter2",
        rt.as_str(),
        at.as_str(),
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into the audit log"
        );
    }
}
