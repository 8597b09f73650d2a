//! `/api/admin/users`: each route refused without its permission (403) and
//! allowed with it; disabling revokes every session at once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, parts, s, spawn_app};

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    parts(r.send().await.unwrap()).await
}

fn roles(user: &Value) -> Vec<&str> {
    user["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_needs_its_permission() {
    use reqwest::Method as M;
    let app = spawn_app().await;
    let root = app
        .create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    let root_at = s(&root["access_token"]).to_owned();
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let alice = app.login("alice", "Secret123").await;
    let alice_at = s(&alice["access_token"]).to_owned();
    let alice_id = alice["user"]["id"].as_i64().unwrap();
    let root_id = root["user"]["id"].as_i64().unwrap();

    let routes = [
        (M::GET, "/api/admin/users".to_owned(), None),
        (M::GET, format!("/api/admin/users/{root_id}"), None),
        (M::POST, format!("/api/admin/users/{root_id}/disable"), None),
        (M::POST, format!("/api/admin/users/{root_id}/enable"), None),
        (
            M::POST,
            format!("/api/admin/users/{alice_id}/roles"),
            Some(json!({"role": "admin"})),
        ),
        (
            M::DELETE,
            format!("/api/admin/users/{root_id}/roles/super_admin"),
            None,
        ),
        (
            M::POST,
            format!("/api/admin/users/{root_id}/revoke-sessions"),
            None,
        ),
        (M::DELETE, format!("/api/admin/users/{root_id}"), None),
    ];
    for (method, path, body) in &routes {
        let (status, answer) = call(&app, method.clone(), path, &alice_at, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_error(&answer, "forbidden");
        assert!(answer["permission"].is_string());
        let (status, _) = parts(
            app.client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );
    }
    // The refusals changed nothing.
    let (_, me) = app.get_bearer("/api/auth/me", &root_at).await;
    assert_eq!(roles(&me["user"]), ["super_admin"]);

    // List with search and paging.
    let (status, page) = call(
        &app,
        M::GET,
        "/api/admin/users?per_page=1&page=2",
        &root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        (page["total"].as_u64(), page["pages"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(page["users"][0]["username"], "alice");
    let (_, page) = call(&app, M::GET, "/api/admin/users?q=ALI", &root_at, None).await;
    assert_eq!(page["total"], 1);
    let (status, bad) = call(&app, M::GET, "/api/admin/users?page=0", &root_at, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    // A number is explained as a range, not as a length in characters.
    assert_eq!(bad["fields"]["page"], json!(["range"]), "{bad}");
    let text = s(&bad["details"]["page"][0]);
    assert!(text.contains('1') && !text.contains("字符"), "{text}");
    let r = app
        .client
        .get(app.url("/api/admin/users?per_page=0"))
        .bearer_auth(&root_at)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let (status, bad) = parts(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let text = s(&bad["details"]["per_page"][0]);
    assert_eq!(
        text, "Page size must be a whole number from 1 to 100",
        "{bad}"
    );
    for missing in ["999999", "not-a-number"] {
        let (status, body) = call(
            &app,
            M::GET,
            &format!("/api/admin/users/{missing}"),
            &root_at,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }

    // Grant admin: alice may now read users, but not grant roles.
    let (status, body) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{alice_id}/roles"),
        &root_at,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(roles(&body["user"]), ["unauth", "admin"]);
    let (_, me) = app.get_bearer("/api/auth/me", &alice_at).await;
    assert_eq!(
        roles(&me["user"]),
        ["unauth", "admin"],
        "the same token sees the new role"
    );
    assert!(
        me["user"]["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("user:read"))
    );
    let (status, _) = call(&app, M::GET, "/api/admin/users", &alice_at, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{alice_id}/roles"),
        &alice_at,
        Some(json!({"role": "super_admin"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an admin cannot promote itself"
    );
    let (status, body) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{alice_id}/roles"),
        &root_at,
        Some(json!({"role": "no_such_role"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Revoke it again.
    let (status, body) = call(
        &app,
        M::DELETE,
        &format!("/api/admin/users/{alice_id}/roles/admin"),
        &root_at,
        None,
    )
    .await;
    assert_eq!(
        (status, roles(&body["user"])),
        (StatusCode::OK, vec!["unauth"])
    );
    let (status, _) = call(&app, M::GET, "/api/admin/users", &alice_at, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(
        &app,
        M::DELETE,
        &format!("/api/admin/users/{root_id}/roles/super_admin"),
        &root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no self lock-out: {body}");
    assert_error(&body, "self_lockout");
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_revokes_every_session_at_once() {
    use reqwest::Method as M;
    let app = spawn_app().await;
    let root = app
        .create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    let root_at = s(&root["access_token"]).to_owned();
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let first = app.login("alice", "Secret123").await;
    let second = app.login("alice@example.com", "Secret123").await;
    let id = first["user"]["id"].as_i64().unwrap();

    let (status, body) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{id}/disable"),
        &root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["is_active"], false);
    for login in [&first, &second] {
        let (status, _) = app
            .get_bearer("/api/auth/me", s(&login["access_token"]))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = app
            .post_bearer("/api/auth/refresh", s(&login["refresh_token"]), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "account_disabled");
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "alice@example.com", "Password": "Secret123"}),
        )
        .await;
    assert_eq!(body["Code"], 401, "{body}");

    let (status, body) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{}/disable", root["user"]["id"]),
        &root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, _) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{id}/enable"),
        &root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let again = app.login("alice", "Secret123").await;
    let (status, body) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{id}/revoke-sessions"),
        &root_at,
        None,
    )
    .await;
    assert_eq!(
        (status, body["revoked"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&again["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_user_ends_their_sessions_and_frees_the_address() {
    use reqwest::Method as M;
    // Seed 002's link answers JSON with V1_VERIFY_ON_GET (code 2 once the
    // account is gone).
    let app = crate::helpers::spawn_app_with(&[("V1_VERIFY_ON_GET", "true")]).await;
    let root = app
        .create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    let root_at = s(&root["access_token"]).to_owned();
    let admin = app
        .create_with_role("helper", "helper@example.com", "Admin-Secret-1", "admin")
        .await;
    // Seed 002: a registration whose link is clicked after the user is gone is code 2.
    let (status, _) = crate::seed001::post_en(
        &app,
        "/api/v1/auth/register",
        &json!({"username": "bob", "email": "bob@example.com", "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let link = crate::seed002::link_token(&app, "bob@example.com", 1).await;
    let bob = app.login("bob", "Secret123").await;
    let id = bob["user"]["id"].as_i64().unwrap();

    let path = format!("/api/admin/users/{id}");
    let (status, body) = call(&app, M::DELETE, &path, s(&admin["access_token"]), None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "admin lacks user:delete: {body}"
    );
    let (status, body) = call(&app, M::DELETE, &path, &root_at, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(&app, M::DELETE, &path, &root_at, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&bob["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = crate::helpers::parts(
        app.client
            .get(app.url(&format!("/api/v1/auth/verify/{link}")))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"code": 2, "message": "user not found", "error": "user not found"})
    );
    // The address and name are free again.
    app.register("bob", "bob@example.com", "Secret123").await;
    let root_id = root["user"]["id"].as_i64().unwrap();
    let (status, body) = call(
        &app,
        M::DELETE,
        &format!("/api/admin/users/{root_id}"),
        &root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no self-deletion: {body}");
}
