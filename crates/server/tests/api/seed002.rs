//! Seed 002's README: `/api/v1/auth/*` with `{code, message, data}`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, parts, s, spawn_app, spawn_app_with};
use crate::seed001::post_en;

/// The verification token of the newest of `count` link mails to `to`.
pub async fn link_token(app: &TestApp, to: &str, count: usize) -> String {
    let mails = app.mails(to, "/api/v1/auth/verify/", count).await;
    let mail = mails.last().unwrap();
    let at = mail.find("/api/v1/auth/verify/").unwrap() + "/api/v1/auth/verify/".len();
    mail[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// A GET as seed 002's API clients send it (asking for JSON).
async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    parts(
        app.client
            .get(app.url(path))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn readme_flow_register_verify_login_profile() {
    // Seed 002's contract: its link confirms on GET (`V1_VERIFY_ON_GET`; by
    // default the GET shows the link's page: hardening.rs).
    let app = spawn_app_with(&[("V1_VERIFY_ON_GET", "true")]).await;
    let alice =
        json!({"username": "alice", "email": "alice@example.com", "password": "your_password"});
    let (status, body) = post_en(&app, "/api/v1/auth/register", &alice).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["code"].as_i64(), s(&body["message"])),
        (Some(0), "user created, verification email sent")
    );
    let data = &body["data"];
    uuid::Uuid::parse_str(s(&data["id"])).expect("a UUID string id");
    assert_eq!(
        (s(&data["email"]), s(&data["username"])),
        ("alice@example.com", "alice")
    );
    assert!(s(&data["created_at"]).ends_with("+00:00"), "{data}");
    chrono::DateTime::parse_from_rfc3339(s(&data["created_at"])).unwrap();

    let (status, body) = post_en(&app, "/api/v1/auth/register", &alice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (body["code"].as_i64(), s(&body["message"])),
        (Some(1), "user already exists")
    );

    // The mailed link verifies on GET; a second click is code 3; garbage is code 1.
    let token = link_token(&app, "alice@example.com", 1).await;
    let (status, body) = get(&app, &format!("/api/v1/auth/verify/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"code": 0, "message": "email verified successfully"})
    );
    let (status, body) = get(&app, &format!("/api/v1/auth/verify/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"code": 3, "message": "already verified"}));
    let forged = format!("{}{}", "ab".repeat(32), &token[64..]);
    for bad in [forged.as_str(), "nonsense"] {
        let (status, body) = get(&app, &format!("/api/v1/auth/verify/{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            (body["code"].as_i64(), s(&body["message"])),
            (Some(1), "invalid or expired token")
        );
    }

    // Login by email: a token valid for one hour.
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "alice@example.com", "password": "your_password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["code"].as_i64(), s(&body["message"])),
        (Some(0), "login successful")
    );
    let token = s(&body["token"]).to_owned();
    let c = claims(&token);
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "alice@example.com", "password": "wrong"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"],
        "Invalid credentials, incorrect email or password"
    );

    // Profile.
    let (status, body) = app.get_bearer("/api/v1/auth/profile", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (s(&body["username"]), s(&body["email"])),
        ("alice", "alice@example.com")
    );
    assert!(s(&body["created_at"]).ends_with("+00:00"));
    let (status, body) = get(&app, "/api/v1/auth/profile").await;
    assert_eq!(
        (status, s(&body["error"])),
        (StatusCode::UNAUTHORIZED, "Missing token")
    );
    let (status, body) = app.get_bearer("/api/v1/auth/profile", "abc.def.ghi").await;
    assert_eq!(
        (status, s(&body["error"])),
        (StatusCode::UNAUTHORIZED, "Invalid token")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_are_400_and_store_nothing() {
    let app = spawn_app().await;
    for body in [
        json!({"username": "bob", "email": "not-an-email", "password": "your_password"}),
        json!({"username": "bob", "email": "bob@example.com"}),
        json!({"username": 5, "email": "bob@example.com", "password": "your_password"}),
    ] {
        let (status, answer) = app.post("/api/v1/auth/register", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(
            answer["error"].is_string() && answer["details"].is_object(),
            "{answer}"
        );
    }
    let (status, answer) = app.post_raw("/api/v1/auth/register", "[1, 2]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "bob@example.com", "password": "your_password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "bob was never stored");
}
