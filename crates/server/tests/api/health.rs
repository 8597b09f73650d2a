use reqwest::StatusCode;

use crate::helpers::{parts, spawn_app};

#[tokio::test]
async fn health_answers_in_seed_001_shape() {
    let app = spawn_app().await;
    let (status, body) = parts(app.client.get(app.url("/health")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Code"], 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let app = spawn_app().await;
    let (status, body) = parts(
        app.client
            .get(app.url("/api/auth/nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    crate::helpers::assert_error(&body, "not_found");
}
