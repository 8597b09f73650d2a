use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, s, spawn_app};

#[tokio::test]
async fn seed_000_login_example() {
    let app = spawn_app().await;
    app.register("testuser", "test@example.com", "password123")
        .await;
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "testuser", "password": "password123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s(&body["access_token"]).split('.').count(), 3, "a JWT");
    assert!(!s(&body["refresh_token"]).is_empty());
    assert_ne!(body["access_token"], body["refresh_token"]);
    assert_eq!(body["user"]["id"], 1);
    assert_eq!(body["user"]["username"], "testuser");
    assert_eq!(body["user"]["email"], "test@example.com");
}

#[tokio::test]
async fn seed_004_login_shape_by_username_or_email() {
    let app = spawn_app().await;
    app.register("newuser", "newuser@example.com", "password123")
        .await;
    for id in ["newuser", "newuser@example.com"] {
        let (status, body) = app
            .post(
                "/api/auth/login",
                &json!({"username": id, "password": "password123"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(!s(&body["message"]).is_empty());
        assert_eq!(body["auth"]["token_type"], "Bearer");
        assert_eq!(body["auth"]["expires_in"], 900);
        assert_eq!(body["auth"]["token"], body["access_token"]);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
    }
}

#[tokio::test]
async fn seed_003_login_by_username_email_or_phone() {
    let app = spawn_app().await;
    let body = app.alice().await;
    assert_eq!(body["user"]["role"], "pharmacy");
    for payload in [
        json!({"username": "alice", "password": "Secret123"}),
        json!({"username": " A@B.com ", "password": "Secret123"}),
        json!({"username": "13800138000", "password": "Secret123"}),
        json!({"email": "a@b.com", "password": "Secret123"}),
        json!({"identifier": "138 0013 8000", "password": "Secret123"}),
    ] {
        let (status, body) = app.post("/api/auth/login", &payload).await;
        assert_eq!(status, StatusCode::OK, "{payload}");
        assert_eq!(body["user"]["username"], "alice");
        assert_eq!(body["user"]["phone"], "+8613800138000");
    }
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_401() {
    let app = spawn_app().await;
    app.alice().await;
    let (s1, wrong) = app
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "Wrong123"}),
        )
        .await;
    let (s2, unknown) = app
        .post(
            "/api/auth/login",
            &json!({"username": "nobody", "password": "Secret123"}),
        )
        .await;
    let (s3, odd) = app
        .post(
            "/api/auth/login",
            &json!({"username": "ab", "password": "Secret123"}),
        )
        .await;
    assert_eq!(
        (s1, s2, s3),
        (
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED
        )
    );
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, odd);
    assert_error(&wrong, "invalid_credentials");
    assert_eq!(wrong["error"], "用户名或密码错误");
}

#[tokio::test]
async fn missing_fields_are_400() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/api/auth/login", &json!({"username": "alice"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["fields"], json!({"password": ["required"]}));
    let (status, body) = app.post("/api/auth/login", &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["fields"],
        json!({"password": ["required"], "username": ["required"]})
    );
    let (status, body) = app.post_raw("/api/auth/login", "{{").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_json");
}
