//! `GET /api/auth/sessions`, `DELETE /api/auth/sessions/{id}`, `POST /api/auth/logout-all`,
//! and the idle lifetime of a session.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, parts, s, spawn_app, spawn_app_with};

async fn login_as(app: &TestApp, agent: &str, who: &str) -> Value {
    let (status, body) = parts(
        app.client
            .post(app.url("/api/auth/login"))
            .header("user-agent", agent)
            .json(&json!({"username": who, "password": "Secret123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn delete(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    parts(
        app.client
            .delete(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn list_and_end_sessions_one_by_one_or_all_at_once() {
    let app = spawn_app().await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    app.register("bob", "bob@example.com", "Secret123").await;
    let laptop = login_as(&app, "Laptop/1.0", "alice").await;
    let phone = login_as(&app, "Phone/2.0", "alice").await;
    let bob = login_as(&app, "Other/1.0", "bob").await;
    let at = s(&laptop["access_token"]);

    let (status, body) = app.get_bearer("/api/auth/sessions", at).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list = body["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "only alice's: {body}");
    assert_eq!(
        (list[0]["device"].as_str(), list[0]["current"].as_bool()),
        (Some("Laptop/1.0"), Some(true))
    );
    assert_eq!(
        (list[1]["device"].as_str(), list[1]["current"].as_bool()),
        (Some("Phone/2.0"), Some(false))
    );
    assert_eq!(list[0]["ip"], "127.0.0.1");
    for key in ["created_at", "last_used_at", "expires_at"] {
        assert!(list[1][key].is_string(), "{key}");
    }
    let phone_id = s(&list[1]["id"]).to_owned();

    // Someone else's session, an unknown one and a malformed id are all 404.
    let (_, bobs) = app
        .get_bearer("/api/auth/sessions", s(&bob["access_token"]))
        .await;
    let bob_id = s(&bobs["sessions"][0]["id"]).to_owned();
    for id in [
        bob_id.as_str(),
        "00000000-0000-4000-8000-000000000000",
        "nope",
    ] {
        let (status, body) = delete(&app, &format!("/api/auth/sessions/{id}"), at).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
        assert_error(&body, "session_not_found");
    }
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&bob["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK, "bob's session was not touched");

    // End the phone's session: its tokens stop working, the laptop's do not.
    let (status, body) = delete(&app, &format!("/api/auth/sessions/{phone_id}"), at).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&phone["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post_bearer("/api/auth/refresh", s(&phone["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = delete(&app, &format!("/api/auth/sessions/{phone_id}"), at).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already ended");
    let (_, body) = app.get_bearer("/api/auth/sessions", at).await;
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);

    // Log out everywhere, this session included.
    let tablet = login_as(&app, "Tablet/3.0", "alice").await;
    let (status, body) = app.post_bearer("/api/auth/logout-all", at, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revoked"], 2);
    for login in [&laptop, &tablet] {
        let (status, _) = app
            .get_bearer("/api/auth/me", s(&login["access_token"]))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&bob["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_session_refreshes_no_more() {
    let app = spawn_app_with(&[("SESSION_IDLE_TTL", "1")]).await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let login = login_as(&app, "Laptop/1.0", "alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&login["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body, "token_expired");
    let (_, body) = app
        .get_bearer("/api/auth/sessions", s(&login["access_token"]))
        .await;
    assert_eq!(body["sessions"], json!([]), "an idle session is not listed");
}
