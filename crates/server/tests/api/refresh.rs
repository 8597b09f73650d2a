use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, s, spawn_app, spawn_app_with};

#[tokio::test]
async fn seed_000_refresh_token_as_bearer_rotates() {
    let app = spawn_app().await;
    app.register("testuser", "test@example.com", "password123")
        .await;
    let login = app.login("testuser", "password123").await;
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&login["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s(&body["access_token"]).split('.').count(), 3);
    assert_ne!(body["refresh_token"], login["refresh_token"], "rotated");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["auth"]["token"], body["access_token"]);
    let (status, me) = app
        .get_bearer("/api/auth/me", s(&body["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["username"], "testuser");
    // The new refresh token rotates again.
    let (status, again) = app
        .post_bearer("/api/auth/refresh", s(&body["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(again["refresh_token"], body["refresh_token"]);
}

#[tokio::test]
async fn refresh_token_in_the_body_works_too() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let (status, body) = app
        .post(
            "/api/auth/refresh",
            &json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["refresh_token"].is_string());
    let (status, body) = app.post("/api/auth/refresh", &json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_missing");
}

#[tokio::test]
async fn seed_004_access_token_as_bearer_gets_a_new_access_token() {
    let app = spawn_app().await;
    app.register("newuser", "newuser@example.com", "password123")
        .await;
    let login = app.login("newuser", "password123").await;
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&login["auth"]["token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!s(&body["message"]).is_empty());
    assert_eq!(body["auth"]["token_type"], "Bearer");
    assert_eq!(body["auth"]["expires_in"], 900);
    assert_ne!(body["auth"]["token"], login["auth"]["token"]);
    assert_eq!(body["access_token"], body["auth"]["token"]);
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&body["auth"]["token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn reuse_within_the_interval_answers_with_the_current_pair() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let r0 = s(&login["refresh_token"]).to_owned();
    let (_, first) = app.post_bearer("/api/auth/refresh", &r0, None).await;
    let (status, second) = app.post_bearer("/api/auth/refresh", &r0, None).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["refresh_token"], first["refresh_token"]);
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&second["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn reuse_after_the_interval_revokes_the_whole_session() {
    let app = spawn_app_with(&[("REFRESH_REUSE_INTERVAL", "1")]).await;
    let login = app.alice().await;
    let other = app.login("alice", "Secret123").await;
    let r0 = s(&login["refresh_token"]).to_owned();
    let (_, rotated) = app.post_bearer("/api/auth/refresh", &r0, None).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    let (status, body) = app.post_bearer("/api/auth/refresh", &r0, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "refresh_token_reused");
    // Every token of that family fails from now on.
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&rotated["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_revoked");
    for at in [&login["access_token"], &rotated["access_token"]] {
        let (status, body) = app.get_bearer("/api/auth/me", s(at)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["msg"], "Token has been revoked");
    }
    // Another session of the same user is untouched.
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&other["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_never_fork_the_family() {
    let app = std::sync::Arc::new(spawn_app().await);
    let login = app.alice().await;
    let r0 = s(&login["refresh_token"]).to_owned();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, r0) = (app.clone(), r0.clone());
            tokio::spawn(async move { app.post_bearer("/api/auth/refresh", &r0, None).await })
        })
        .collect();
    let mut live = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        live.insert(s(&body["refresh_token"]).to_owned());
    }
    assert_eq!(live.len(), 1, "one rotation, one current token");
}

#[tokio::test]
async fn refresh_by_access_token_never_outlives_the_session() {
    // Margins hold for any fractional start second: the login token lives at
    // least 3 s, the session ends 5 s after login.
    let app = spawn_app_with(&[
        ("REFRESH_TOKEN_TTL", "5"),
        ("ACCESS_TOKEN_TTL", "4"),
        ("JWT_LEEWAY", "0"),
    ])
    .await;
    let login = app.alice().await;
    assert_eq!(login["refresh_expires_in"], 5);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&login["access_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expires_in = body["expires_in"].as_i64().unwrap();
    assert!(
        expires_in < 4,
        "capped by the session's end, not a full ACCESS_TOKEN_TTL: {expires_in}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&login["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_expired");
}

#[tokio::test]
async fn garbage_refresh_tokens_are_401() {
    let app = spawn_app().await;
    for bad in [
        "garbage",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let (status, body) = app.post_bearer("/api/auth/refresh", bad, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_error(&body, "token_invalid");
    }
}
