use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{s, spawn_app};

#[tokio::test]
async fn profile_is_seed_000s_flat_user() {
    let app = spawn_app().await;
    app.register("testuser", "test@example.com", "password123")
        .await;
    let login = app.login("testuser", "password123").await;
    let (status, body) = app
        .get_bearer("/api/auth/profile", s(&login["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], 1);
    assert_eq!(body["username"], "testuser");
    assert_eq!(body["email"], "test@example.com");
    assert!(
        chrono::NaiveDateTime::parse_from_str(s(&body["created_at"]), "%Y-%m-%dT%H:%M:%S").is_ok()
    );
    assert!(body.get("user").is_none(), "flat, not nested");
}

#[tokio::test]
async fn me_is_seed_004s_nested_user_with_roles_and_permissions() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let (status, body) = app
        .get_bearer("/api/auth/me", s(&login["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let u = &body["user"];
    assert_eq!(u["username"], "alice");
    assert_eq!(u["email"], "a@b.com");
    assert_eq!(u["phone"], "+8613800138000");
    assert_eq!(u["is_active"], true);
    assert_eq!(u["email_verified"], false);
    assert_eq!(u["role"], "pharmacy");
    assert_eq!(u["roles"], json!(["pharmacy"]));
    assert!(
        u["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("profile:read"))
    );
    assert!(
        !u["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("user:delete"))
    );
}

#[tokio::test]
async fn seed_004_auth_token_works_as_bearer() {
    let app = spawn_app().await;
    app.register("newuser", "newuser@example.com", "password123")
        .await;
    let login = app.login("newuser", "password123").await;
    let (status, body) = app
        .get_bearer("/api/auth/me", s(&login["auth"]["token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["id"], login["user"]["id"]);
}
