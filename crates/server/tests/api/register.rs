use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, s, spawn_app};

fn assert_timestamp(v: &serde_json::Value) {
    let t = s(v);
    assert!(
        chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").is_ok(),
        "created_at {t}"
    );
}

#[tokio::test]
async fn seed_000_register_example() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/api/auth/register", &json!({"username": "testuser", "email": "test@example.com", "password": "password123"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!s(&body["message"]).is_empty());
    assert_eq!(body["user"]["id"], 1);
    assert_eq!(body["user"]["username"], "testuser");
    assert_eq!(body["user"]["email"], "test@example.com");
    assert!(body["user"].get("password").is_none() && body["user"].get("password_hash").is_none());
    assert_timestamp(&body["user"]["created_at"]);
}

#[tokio::test]
async fn seed_004_register_example() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/api/auth/register", &json!({"username": "testuser1", "email": "test1@example.com", "password": "password123"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!s(&body["message"]).is_empty());
    assert!(body["user"]["id"].is_i64());
    assert_eq!(body["user"]["username"], "testuser1");
    assert_eq!(body["user"]["email"], "test1@example.com");
}

#[tokio::test]
async fn seed_003_register_example_with_phone_and_role() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "alice", "email": "a@b.com", "phone": "13800138000", "password": "Secret123", "role": "pharmacy"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!s(&body["msg"]).is_empty());
    let u = &body["user"];
    assert_eq!(
        (u["username"].as_str(), u["email"].as_str()),
        (Some("alice"), Some("a@b.com"))
    );
    assert_eq!(
        (u["phone"].as_str(), u["role"].as_str()),
        (Some("+8613800138000"), Some("pharmacy"))
    );
    assert_timestamp(&u["created_at"]);
}

#[tokio::test]
async fn role_defaults_to_unauth_and_email_is_normalised() {
    let app = spawn_app().await;
    let body = app
        .register("bob", "  Bob@Example.COM ", "password123")
        .await;
    assert_eq!(body["user"]["role"], "unauth");
    assert_eq!(body["user"]["email"], "bob@example.com");
    assert_eq!(body["user"]["phone"], serde_json::Value::Null);
}

#[tokio::test]
async fn duplicates_answer_409_naming_the_field() {
    let app = spawn_app().await;
    app.alice().await;
    for (payload, code, text) in [
        (
            json!({"username": "ALICE", "email": "x@b.com", "password": "Secret123"}),
            "username_taken",
            "用户名已存在",
        ),
        (
            json!({"username": "alice2", "email": "A@b.com", "password": "Secret123"}),
            "email_taken",
            "邮箱已被注册",
        ),
        (
            json!({"username": "alice3", "email": "c@b.com", "phone": "138-0013-8000", "password": "Secret123"}),
            "phone_taken",
            "手机号已被注册",
        ),
    ] {
        let (status, body) = app.post("/api/auth/register", &payload).await;
        assert_eq!(status, StatusCode::CONFLICT, "{payload}");
        assert_error(&body, code);
        assert_eq!(body["error"], text);
    }
}

#[tokio::test]
async fn every_invalid_field_is_listed_at_once_in_seed_004_shape() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "ab", "email": "not-an-email", "password": "short", "phone": "12ab", "role": "super_admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "validation_failed");
    assert_eq!(body["error"], "验证失败");
    assert_eq!(
        body["details"]["username"][0],
        "用户名长度必须在3-50个字符之间"
    );
    assert_eq!(body["details"]["email"][0], "邮箱格式不正确");
    for field in ["username", "email", "password", "phone", "role"] {
        assert!(
            body["details"][field]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{field}: {body}"
        );
    }
    assert_eq!(body["errors"].as_array().unwrap().len(), 5);
    assert_eq!(body["fields"]["role"][0], "role_not_allowed");
}

#[tokio::test]
async fn missing_and_wrongly_typed_fields_are_400() {
    let app = spawn_app().await;
    let (status, body) = app.post("/api/auth/register", &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["fields"],
        json!({"username": ["required"], "email": ["required"], "password": ["required"]})
    );

    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": 12345, "email": "a@b.com", "password": ["x"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["fields"],
        json!({"username": ["not_a_string"], "password": ["not_a_string"]})
    );

    // A phone sent as a JSON number is read as its digits (in the default region, CN).
    let (status, body) = app
        .post("/api/auth/register", &json!({"username": "numphone", "email": "n@b.com", "password": "password123", "phone": 13900139000_u64}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["phone"], "+8613900139000");
}

#[tokio::test]
async fn malformed_bodies_are_clear_json_400s_and_store_nothing() {
    let app = spawn_app().await;
    for raw in [
        "{not json",
        "[1,2,3]",
        "\"text\"",
        "{\"username\": \"x\", }",
    ] {
        let (status, body) = app.post_raw("/api/auth/register", raw).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw}");
        assert_error(&body, "invalid_json");
    }
    // Form-encoded is not JSON either.
    let r = app
        .client
        .post(app.url("/api/auth/register"))
        .body("username=a&password=b")
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::parts(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_json");
    // Nothing was half-written: the name is still free.
    app.register("testuser", "test@example.com", "password123")
        .await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app_with_small_body().await;
    let big = "x".repeat(2048);
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": big, "email": "a@b.com", "password": "p"}),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&body, "body_too_large");
}

async fn spawn_app_with_small_body() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(&[("MAX_BODY_BYTES", "1024")]).await
}

#[tokio::test]
async fn concurrent_registrations_of_one_name_give_one_201() {
    let app = std::sync::Arc::new(spawn_app().await);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.post("/api/auth/register", &json!({"username": "race", "email": format!("r{i}@b.com"), "password": "password123"}))
                    .await
                    .0
            })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(
        codes.iter().filter(|c| **c == StatusCode::CREATED).count(),
        1,
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|c| *c == StatusCode::CREATED || *c == StatusCode::CONFLICT),
        "{codes:?}"
    );
}

#[tokio::test]
async fn the_default_policy_refuses_common_and_self_naming_passwords() {
    // An empty PASSWORD_MIN_SCORE is "not set": the default (3).
    let app = crate::helpers::spawn_app_with(&[("PASSWORD_MIN_SCORE", "")]).await;
    for (password, code) in [
        ("password123", "password_too_common"),
        ("ＰＡＳＳＷＯＲＤ１２３", "password_too_common"),
        ("my-testuser1-pass", "password_contains_identity"),
        ("test1@example.com!", "password_contains_identity"),
    ] {
        let (status, body) = app
            .post("/api/auth/register", &json!({"username": "testuser1", "email": "test1@example.com", "password": password}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{password}: {body}");
        assert_eq!(body["fields"]["password"][0], code, "{body}");
        assert!(
            body["details"]["password"][0].is_string(),
            "seed 004's shape: {body}"
        );
    }
    // Full-width input is normalised (NFKC): registered in one form, it logs in in the other.
    app.register("wide", "wide@example.com", "Ｋｉｔｅ－Ｒｕｎｎｅｒ９")
        .await;
    app.login("wide", "Kite-Runner9").await;
    // PASSWORD_REJECT_COMMON=false (the list zxcvbn replaced) still turns
    // the screening off when no score is set.
    let lax = crate::helpers::spawn_app_with(&[
        ("PASSWORD_MIN_SCORE", ""),
        ("PASSWORD_REJECT_COMMON", "false"),
    ])
    .await;
    lax.register("testuser1", "test1@example.com", "password123")
        .await;
}
