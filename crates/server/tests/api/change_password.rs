use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, s, spawn_app};

#[tokio::test]
async fn seed_003_change_password_revokes_every_other_session() {
    let app = spawn_app().await;
    let me = app.alice().await;
    let other = app.login("13800138000", "Secret123").await;
    let at = s(&me["access_token"]);

    let (status, body) = app
        .post_bearer(
            "/api/auth/change-password",
            at,
            Some(&json!({"old_password": "Secret123", "new_password": "NewSecret456"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!s(&body["message"]).is_empty());

    let (status, _) = app.get_bearer("/api/auth/me", at).await;
    assert_eq!(status, StatusCode::OK, "the asking session stays valid");
    let (status, _) = app
        .post_bearer("/api/auth/refresh", s(&me["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = app
        .get_bearer("/api/auth/me", s(&other["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_revoked");
    let (status, _) = app
        .post_bearer("/api/auth/refresh", s(&other["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.login("alice", "NewSecret456").await;
}

#[tokio::test]
async fn wrong_old_same_or_weak_new_passwords_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let me = app.alice().await;
    let other = app.login("alice", "Secret123").await;
    let at = s(&me["access_token"]);
    let cases = [
        (
            json!({"old_password": "Wrong123", "new_password": "NewSecret456"}),
            "wrong_password",
        ),
        (
            json!({"old_password": "Secret123", "new_password": "Secret123"}),
            "same_password",
        ),
        (
            json!({"old_password": "Secret123", "new_password": "short"}),
            "validation_failed",
        ),
        (json!({"old_password": "Secret123"}), "validation_failed"),
    ];
    for (payload, code) in cases {
        let (status, body) = app
            .post_bearer("/api/auth/change-password", at, Some(&payload))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{payload}");
        assert_error(&body, code);
    }
    let (status, body) = app
        .post_bearer(
            "/api/auth/change-password",
            at,
            Some(&json!({"old_password": "Secret123"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["details"]["new_password"][0], "新密码不能为空");
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&other["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK, "failed attempts revoke nothing");
    app.login("alice", "Secret123").await;
}

#[tokio::test]
async fn change_password_needs_a_token() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/auth/change-password"))
        .json(&json!({"old_password": "a", "new_password": "b"}));
    let (status, body) = crate::helpers::parts(r.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_missing");
}
