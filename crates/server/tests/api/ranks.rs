//! Issue 12, item 5: a lower administrator cannot change a higher one.
//! Roles rank (super_admin 100, admin 50, the others 0); an administrator
//! may read every account but change only those ranking no higher than
//! their own highest role, grant or revoke only roles ranking no higher,
//! and a `super_admin` account is changed only by a `super_admin`. The
//! command line (the operator) is exempt.

use reqwest::{Method as M, StatusCode};
use serde_json::{Value, json};
use tessera_domain::values::RoleName;
use tessera_sql::{Database, DbConfig, SqlUsers};

use crate::helpers::{TestApp, assert_error, parts, s, spawn_app};

async fn call(
    app: &TestApp,
    method: M,
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

/// Custom roles, defined before the app first reads its catalogue:
/// `deputy` (rank 50, like admin) may delete users and grant roles;
/// `chief` (rank 80) may nothing special.
async fn define_roles(app: &TestApp) {
    let db = Database::connect(&DbConfig {
        url: app.database_url(),
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .unwrap();
    let users = SqlUsers::new(db);
    let role = |r: &str| RoleName::parse(r).unwrap();
    users
        .define_role(&role("deputy"), 50, &["user:delete", "role:update"])
        .await
        .unwrap();
    users
        .define_role(&role("chief"), 80, &["profile:read"])
        .await
        .unwrap();
}

fn cli(app: &TestApp, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = app
        .tessera_cli(dir.path())
        .arg("user")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn roles(user: &Value) -> Vec<&str> {
    user["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect()
}

fn assert_outranked(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert_error(body, "forbidden");
    assert_eq!(body["reason"], "outranked", "{what}: {body}");
}

/// The admin (plus `deputy`, so that it holds every permission the routes
/// need) and a super_admin; alice, an ordinary user.
async fn cast(app: &TestApp) -> (Value, Value, i64) {
    define_roles(app).await;
    let root = app
        .create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    app.create_with_role("helper", "helper@example.com", "Admin-Secret-1", "admin")
        .await;
    cli(app, &["grant", "--user", "helper", "--role", "deputy"]);
    let helper = app.login("helper", "Admin-Secret-1").await;
    assert_eq!(roles(&helper["user"]), ["admin", "deputy"]);
    let alice = app
        .register("alice", "alice@example.com", "Secret123")
        .await;
    let alice_id = alice["user"]["id"]
        .as_i64()
        .or_else(|| alice["id"].as_i64())
        .unwrap_or_else(|| panic!("{alice}"));
    (root, helper, alice_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_cannot_change_a_super_admin_and_nothing_changes() {
    let app = spawn_app().await;
    let (root, helper, alice_id) = cast(&app).await;
    let helper_at = s(&helper["access_token"]);
    let root_at = s(&root["access_token"]);
    let root_id = root["user"]["id"].as_i64().unwrap();

    // Reading is allowed.
    let (status, body) = call(
        &app,
        M::GET,
        &format!("/api/admin/users/{root_id}"),
        helper_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let changes = [
        (M::POST, format!("/api/admin/users/{root_id}/disable"), None),
        (M::POST, format!("/api/admin/users/{root_id}/enable"), None),
        (
            M::POST,
            format!("/api/admin/users/{root_id}/revoke-sessions"),
            None,
        ),
        (
            M::POST,
            format!("/api/admin/users/{root_id}/roles"),
            Some(json!({"role": "pharmacy"})),
        ),
        (
            M::DELETE,
            format!("/api/admin/users/{root_id}/roles/super_admin"),
            None,
        ),
        (M::DELETE, format!("/api/admin/users/{root_id}"), None),
        // A role above the caller's, even to a lower account, even with role:update.
        (
            M::POST,
            format!("/api/admin/users/{alice_id}/roles"),
            Some(json!({"role": "super_admin"})),
        ),
        (
            M::POST,
            format!("/api/admin/users/{alice_id}/roles"),
            Some(json!({"role": "chief"})),
        ),
    ];
    for (method, path, body) in changes {
        let (status, answer) = call(&app, method.clone(), &path, helper_at, body).await;
        assert_outranked(status, &answer, &format!("{method} {path}"));
    }

    // Nothing changed: root still logs in, keeps its role and its session.
    let (status, me) = app.get_bearer("/api/auth/me", root_at).await;
    assert_eq!(status, StatusCode::OK, "root's session survived: {me}");
    assert_eq!(roles(&me["user"]), ["super_admin"]);
    app.login("root", "Admin-Secret-1").await;
    let (status, body) = call(
        &app,
        M::GET,
        &format!("/api/admin/users/{alice_id}"),
        root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roles(&body["user"]), ["unauth"], "alice was not promoted");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_may_change_equal_and_lower_accounts() {
    let app = spawn_app().await;
    let (_root, helper, alice_id) = cast(&app).await;
    let helper_at = s(&helper["access_token"]);
    let peer = app
        .create_with_role("peer", "peer@example.com", "Admin-Secret-1", "admin")
        .await;
    let peer_id = peer["user"]["id"].as_i64().unwrap();

    for (method, path, body) in [
        (
            M::POST,
            format!("/api/admin/users/{alice_id}/disable"),
            None,
        ),
        (M::POST, format!("/api/admin/users/{alice_id}/enable"), None),
        (
            M::POST,
            format!("/api/admin/users/{alice_id}/roles"),
            Some(json!({"role": "admin"})),
        ),
        (
            M::DELETE,
            format!("/api/admin/users/{alice_id}/roles/admin"),
            None,
        ),
        (
            M::POST,
            format!("/api/admin/users/{peer_id}/revoke-sessions"),
            None,
        ),
        (M::POST, format!("/api/admin/users/{peer_id}/disable"), None),
        (M::DELETE, format!("/api/admin/users/{peer_id}"), None),
    ] {
        let (status, answer) = call(&app, method.clone(), &path, helper_at, body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {answer}");
    }
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&peer["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the peer is gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_super_admin_changes_a_super_admin_and_so_does_the_command_line() {
    let app = spawn_app().await;
    let (root, _helper, _) = cast(&app).await;
    let root_at = s(&root["access_token"]);
    let other = app
        .create_with_role(
            "root2",
            "root2@example.com",
            "Admin-Secret-1",
            "super_admin",
        )
        .await;
    let other_id = other["user"]["id"].as_i64().unwrap();

    let (status, body) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{other_id}/disable"),
        root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["is_active"], false);
    let (status, body) = call(
        &app,
        M::POST,
        &format!("/api/admin/users/{other_id}/enable"),
        root_at,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The operator at the command line is exempt (and audited as tessera-cli).
    let out = cli(&app, &["disable", "--user", "root2"]);
    assert!(out.contains("disabled"), "{out}");
    let out = cli(&app, &["enable", "--user", "root2"]);
    assert!(out.contains("active"), "{out}");
    let out = cli(&app, &["grant", "--user", "root2", "--role", "chief"]);
    assert!(out.contains("chief"), "{out}");
    let out = cli(
        &app,
        &["revoke", "--user", "root2", "--role", "super_admin"],
    );
    assert!(!out.contains("super_admin"), "{out}");
    app.login("root2", "Admin-Secret-1").await;
}
