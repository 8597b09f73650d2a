//! Every way an access token is refused: 401 with `{error, message, msg, code}`.

use reqwest::StatusCode;

use crate::helpers::{assert_error, parts, s, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_missing_header_is_401_with_flasks_msg() {
    let app = spawn_app().await;
    for path in ["/api/auth/me", "/api/auth/profile"] {
        let (status, body) = parts(app.client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_error(&body, "token_missing");
        assert_eq!(body["msg"], "Missing Authorization Header");
        assert_eq!(body["error"], "未提供有效的认证令牌");
    }
    let (status, body) = parts(
        app.client
            .post(app.url("/api/auth/logout"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_missing");
}

#[tokio::test]
async fn malformed_foreign_and_refresh_tokens_are_401() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let at = s(&login["access_token"]);
    let parts_of: Vec<&str> = at.split('.').collect();
    let tampered = format!("{}.{}x.{}", parts_of[0], parts_of[1], parts_of[2]);
    let other_app = spawn_app_with(&[(
        "JWT_SECRET_KEY",
        "another-secret-key-of-at-least-32-bytes!!",
    )])
    .await;
    let foreign = other_app.alice().await;
    for bad in [
        "not-a-token",
        "a.b.c",
        tampered.as_str(),
        s(&login["refresh_token"]),
        s(&foreign["access_token"]),
    ] {
        let (status, body) = app.get_bearer("/api/auth/me", bad).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_error(&body, "token_invalid");
    }
    // Another scheme than Bearer.
    let r = app
        .client
        .get(app.url("/api/auth/me"))
        .header("authorization", format!("Basic {at}"))
        .send()
        .await
        .unwrap();
    let (status, body) = parts(r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_missing");
}

#[tokio::test]
async fn an_expired_token_is_401_token_has_expired() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL", "1"), ("JWT_LEEWAY", "0")]).await;
    let login = app.alice().await;
    let at = s(&login["access_token"]).to_owned();
    assert_eq!(login["expires_in"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = app.get_bearer("/api/auth/me", &at).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_expired");
    assert_eq!(body["msg"], "Token has expired");
    // The refresh token still works and gives a fresh access token.
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&login["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // With a 1 s lifetime the new token may itself expire before another
    // request (whole-second `exp`); what matters is that it is a later one.
    let exp = |t: &str| {
        use base64::Engine as _;
        let payload = t.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        claims["exp"].as_i64().unwrap()
    };
    assert!(exp(s(&body["access_token"])) >= exp(&at) + 2);
}
