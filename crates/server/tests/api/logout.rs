use reqwest::StatusCode;

use crate::helpers::{assert_error, s, spawn_app};

#[tokio::test]
async fn logout_refuses_that_sessions_access_and_refresh_tokens() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let other = app.login("alice", "Secret123").await;
    let (status, body) = app
        .post_bearer("/api/auth/logout", s(&login["access_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!s(&body["message"]).is_empty());

    let (status, body) = app
        .get_bearer("/api/auth/me", s(&login["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_revoked");
    assert_eq!(body["msg"], "Token has been revoked");
    let (status, body) = app
        .post_bearer("/api/auth/refresh", s(&login["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_revoked");
    let (status, _) = app
        .post_bearer("/api/auth/logout", s(&login["access_token"]), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a second logout with the dead token"
    );

    let (status, _) = app
        .get_bearer("/api/auth/me", s(&other["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK, "other sessions are untouched");
}

#[tokio::test]
async fn a_logged_out_token_stays_refused_after_a_restart() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let keep = app.login("alice", "Secret123").await;
    let (status, _) = app
        .post_bearer("/api/auth/logout", s(&login["access_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let again = app.restart().await;
    let (status, body) = again
        .get_bearer("/api/auth/me", s(&login["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_revoked");
    let (status, _) = again
        .get_bearer("/api/auth/me", s(&keep["access_token"]))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "same database and key: other sessions survive the restart"
    );
}
