//! One account, every dialect: register in each, log in from every other.

use reqwest::StatusCode;
use serde_json::json;
use tessera_crypto::legacy::sm3_hex;

use crate::helpers::{TestApp, s, spawn_app_with};
use crate::seed001::{post_en, sign_up};
use crate::seed002::link_token;

const PASSWORD: &str = "Matrix-Pass-1";

/// Logs in through every dialect; returns the three tokens.
async fn log_in_everywhere(app: &TestApp, username: &str, email: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for identifier in [username, email] {
        let (status, body) = app
            .post(
                "/api/auth/login",
                &json!({"username": identifier, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "/api/auth/login {identifier}: {body}"
        );
        tokens.push(s(&body["access_token"]).to_owned());
    }
    for password in [PASSWORD.to_owned(), sm3_hex(PASSWORD)] {
        let (_, body) = app
            .post(
                "/Auth/Login",
                &json!({"Email": email, "Password": password}),
            )
            .await;
        assert_eq!(body["Code"], 200, "/Auth/Login {email}: {body}");
        tokens.push(s(&body["Token"]).to_owned());
    }
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "/api/v1/auth/login {email}: {body}");
    tokens.push(s(&body["token"]).to_owned());
    tokens
}

/// Every token works on every dialect's "who am I" route, for the same account.
async fn every_token_everywhere(app: &TestApp, tokens: &[String], username: &str, email: &str) {
    for t in tokens {
        let (status, me) = app.get_bearer("/api/auth/me", t).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["user"]["username"], username);
        let (_, check) = app.get_bearer("/CheckJWTToken", t).await;
        assert_eq!(
            (check["Code"].as_i64(), check["User"].as_str()),
            (Some(200), Some(email))
        );
        let (status, profile) = app.get_bearer("/api/v1/auth/profile", t).await;
        assert_eq!(
            (status, profile["username"].as_str()),
            (StatusCode::OK, Some(username))
        );
        assert_eq!(
            profile["id"], me["user"]["uuid"],
            "one UUID for the account"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_from_any_dialect_logs_in_from_every_dialect() {
    let app = spawn_app_with(&[("V1_VERIFY_ON_GET", "true")]).await;
    // /api/auth (seeds 000, 003, 004).
    app.register("modern", "modern@example.com", PASSWORD).await;
    // /Auth (seed 001), once with the password and once with its SM3 digest.
    sign_up(&app, "legacy", "legacy@example.com", PASSWORD).await;
    sign_up(&app, "digest", "digest@example.com", &sm3_hex(PASSWORD)).await;
    // /api/v1/auth (seed 002), verified through its link.
    let (status, body) = post_en(
        &app,
        "/api/v1/auth/register",
        &json!({"username": "vone", "email": "vone@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = link_token(&app, "vone@example.com", 1).await;
    let (status, _) = crate::helpers::parts(
        app.client
            .get(app.url(&format!("/api/v1/auth/verify/{token}")))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    for (username, email) in [
        ("modern", "modern@example.com"),
        ("legacy", "legacy@example.com"),
        ("digest", "digest@example.com"),
        ("vone", "vone@example.com"),
    ] {
        let tokens = log_in_everywhere(&app, username, email).await;
        every_token_everywhere(&app, &tokens, username, email).await;
    }
    // Seed 001's sign-up confirms the address; 002's link did too.
    for name in ["legacy", "digest", "vone"] {
        let login = app.login(name, PASSWORD).await;
        let (_, me) = app
            .get_bearer("/api/auth/me", s(&login["access_token"]))
            .await;
        assert_eq!(me["user"]["email_verified"], true, "{name}");
    }
}
