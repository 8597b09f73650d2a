//! Seed 001's `POST /Admin/Login` (dream's "admin mode" switch; issue 13,
//! item 11): an account holding one of `ADMIN_LOGIN_ROLES` gets a token
//! that says `is_admin`; anyone else gets one Code 500 answer.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, s, spawn_app, spawn_app_with};
use crate::seed_tokens::payload_of;

async fn admin_login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    app.post(
        "/Admin/Login",
        &json!({"Email": email, "Password": password}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_super_admin_gets_an_admin_token_with_the_address_identity() {
    let app = spawn_app().await;
    let root = app
        .create_with_role("root", "Root@Example.com", "Admin-Secret-1", "super_admin")
        .await;
    let id = root["user"]["id"].as_i64().unwrap();
    let (status, body) = admin_login(&app, "root@example.com", "Admin-Secret-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Code"], 200, "{body}");
    assert!(body["Msg"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(body["Email"], "root@example.com", "{body}");
    let token = s(&body["Token"]);
    let claims = payload_of(token);
    assert_eq!(claims["sub"], "root@example.com", "{claims}");
    assert_eq!(claims["uid"], id, "{claims}");
    assert_eq!(claims["is_admin"], true, "{claims}");
    assert_eq!(claims["is_superuser"], true, "{claims}");
    assert_eq!(claims["role"], "super_admin", "{claims}");
    assert!(
        claims["permissions"]
            .as_array()
            .is_some_and(|p| p.contains(&json!("user:delete"))),
        "{claims}"
    );
    // The token is an ordinary Tessera token of that account.
    let (_, check) = app.get_bearer("/CheckJWTToken", token).await;
    assert_eq!(
        (check["Code"].as_i64(), check["UserID"].as_i64()),
        (Some(200), Some(id)),
        "{check}"
    );
    // The password's SM3 digest works as at /Auth/Login.
    let digest = tessera_crypto::legacy::sm3_hex("Admin-Secret-1");
    let (_, body) = admin_login(&app, "root@example.com", &digest).await;
    assert_eq!(body["Code"], 200, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_admin_a_wrong_password_and_an_unknown_address_get_one_answer() {
    let app = spawn_app().await;
    app.create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    // An administrator, but not of ADMIN_LOGIN_ROLES' default.
    app.create_with_role("helper", "helper@example.com", "Admin-Secret-2", "admin")
        .await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let mut answers = Vec::new();
    for (who, email, password) in [
        (
            "non-admin, right password",
            "alice@example.com",
            "Secret123",
        ),
        (
            "admin role not listed",
            "helper@example.com",
            "Admin-Secret-2",
        ),
        ("wrong password", "root@example.com", "Wrong-Secret-1"),
        ("unknown address", "nobody@example.com", "Admin-Secret-1"),
    ] {
        let (status, body) = admin_login(&app, email, password).await;
        assert_eq!(status, StatusCode::OK, "{who}: {body}");
        assert_eq!(body["Code"], 500, "{who}: {body}");
        assert_eq!(
            (&body["Token"], &body["Email"]),
            (&Value::Null, &Value::Null),
            "{who}: {body}"
        );
        answers.push(body);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one body for all: {answers:?}"
    );
    // The non-admin got no session out of it: a login now shows one.
    let login = app.login("alice", "Secret123").await;
    let (status, sessions) = app
        .get_bearer("/api/auth/sessions", s(&login["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    assert_eq!(sessions["total"], 1, "{sessions}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_malformed_fields_are_530() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"Email": "root@example.com"}),
        json!({"Password": "Admin-Secret-1"}),
        json!({"Email": 7, "Password": "Admin-Secret-1"}),
        json!({"Email": "  ", "Password": "Admin-Secret-1"}),
    ] {
        let (status, answer) = app.post("/Admin/Login", &body).await;
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
        assert_eq!(answer["Code"], 530, "{body}: {answer}");
        assert!(answer.get("Token").is_none_or(Value::is_null), "{answer}");
    }
    let (status, answer) = app.post_raw("/Admin/Login", "{not json").await;
    assert_eq!(
        (status, answer["Code"].as_i64()),
        (StatusCode::OK, Some(530))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_admin_paths_are_404_and_other_methods_405_in_the_dialect() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/Admin/GetLogs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["Code"], 404, "{body}");
    assert!(
        body["Msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );

    let r = app
        .client
        .get(app.url("/Admin/Login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["Code"], 405, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_login_roles_chooses_the_administrators() {
    let app = spawn_app_with(&[("ADMIN_LOGIN_ROLES", "admin")]).await;
    app.create_with_role("helper", "helper@example.com", "Admin-Secret-2", "admin")
        .await;
    app.create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    let (_, body) = admin_login(&app, "helper@example.com", "Admin-Secret-2").await;
    assert_eq!(body["Code"], 200, "{body}");
    let claims = payload_of(s(&body["Token"]));
    assert_eq!(
        (&claims["is_admin"], &claims["is_superuser"]),
        (&json!(true), &json!(false)),
        "{claims}"
    );
    let (_, body) = admin_login(&app, "root@example.com", "Admin-Secret-1").await;
    assert_eq!(body["Code"], 500, "super_admin is not listed: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_login_throttle_applies_as_at_auth_login() {
    let app = spawn_app_with(&[("LOGIN_FREE_FAILURES", "1")]).await;
    app.create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    for _ in 0..2 {
        let (_, body) = admin_login(&app, "root@example.com", "Wrong-Secret-1").await;
        assert_eq!(body["Code"], 500, "{body}");
    }
    // Blocked now, even with the right password.
    let (status, body) = admin_login(&app, "root@example.com", "Admin-Secret-1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["Code"], 429, "{body}");
}
