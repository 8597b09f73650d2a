//! "Delete my account" (issue 20): `DELETE /api/auth/me` and the account
//! page's form; the grace period (`ACCOUNT_DELETION_GRACE`), a sign-in in
//! any dialect cancelling it, and, once due, the account gone with its
//! sessions, factors, passkeys, consents and identities, its audit entries
//! reduced to an opaque id. The stores are read straight after, so that
//! "removed" is checked where it is kept.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_domain::model::{AuditQuery, LinkedIdentity, UpstreamId, UserId};
use tessera_domain::ports::{
    AuditLog as _, ClientRegistry as _, FactorStore as _, IdentityLinks as _,
};
use tessera_sql::{Database, DbConfig};

use crate::browser::Browser;
use crate::helpers::{TestApp, assert_error, eventually, parts, s, spawn_app_with};
use crate::oidc::{
    CHALLENGE, PASSWORD, REDIRECT, authorize, authorize_path, create_client, provider_with,
};
use crate::passkeys::{ORIGIN, authenticator, create, get};

async fn delete_me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    parts(
        app.client
            .delete(app.url("/api/auth/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn database(app: &TestApp) -> Database {
    Database::connect(&DbConfig {
        url: app.database_url(),
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_in_the_grace_period_cancels_the_deletion() {
    let app = spawn_app_with(&[("ACCOUNT_DELETION_GRACE", "3600")]).await;
    app.register("dana", "dana@example.com", PASSWORD).await;
    let login = app.login("dana", PASSWORD).await;
    let token = s(&login["access_token"]).to_owned();
    let other = s(&app.login("dana", PASSWORD).await["refresh_token"]).to_owned();

    let before = chrono::Utc::now();
    let (status, body) = delete_me(&app, &token).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "scheduled");
    let due = chrono::DateTime::parse_from_rfc3339(s(&body["deletion_due_at"])).unwrap();
    let ahead = due.signed_duration_since(before).num_seconds();
    assert!((3599..=3602).contains(&ahead), "due in {ahead} s");
    // In the request's language (none asked: the seeds' Chinese).
    let mail = app
        .mails("dana@example.com", "在此之前登录即可取消删除", 1)
        .await;
    assert!(mail[0].contains("您的账户将被删除"), "{}", mail[0]);

    // Every session ended, this one too.
    let (status, body) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app
        .post("/api/auth/refresh", &json!({"refresh_token": other}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // A sign-in in another dialect cancels it.
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "dana@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.mails("dana@example.com", "删除申请已取消", 1).await;
    let token = s(&app.login("dana", PASSWORD).await["access_token"]).to_owned();
    let kinds = eventually(50, || async {
        let (_, export) = app.get_bearer("/api/auth/me/export", &token).await;
        let kinds: Vec<String> = export["audit"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| s(&e["kind"]).to_owned())
            .collect();
        kinds
            .iter()
            .any(|k| k == "account_deletion_cancelled")
            .then_some(kinds)
    })
    .await
    .expect("the cancellation audited");
    assert!(kinds.iter().any(|k| k == "account_deletion_requested"));
    // One cancellation mail only: later sign-ins have nothing to cancel.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.mails("dana@example.com", "删除申请已取消", 1)
            .await
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deletion_needs_a_recent_sign_in_and_a_token() {
    let app = spawn_app_with(&[("REAUTH_MAX_AGE", "1")]).await;
    app.register("evan", "evan@example.com", PASSWORD).await;
    let token = s(&app.login("evan", PASSWORD).await["access_token"]).to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = delete_me(&app, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");
    // Nothing was scheduled: the token still works.
    let (status, _) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = parts(
        app.client
            .delete(app.url("/api/auth/me"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn once_due_the_account_and_everything_kept_about_it_is_removed() {
    let (app, _) = provider_with(&[("ACCOUNT_DELETION_GRACE", "1")]).await;
    let registered = app.register("fay", "fay@example.com", PASSWORD).await;
    let id = UserId(registered["user"]["id"].as_i64().unwrap());

    // A consent, a passkey with recovery codes, a linked identity.
    let (album, _) = create_client(
        &app,
        &[
            "--name",
            "Album",
            "--kind",
            "public",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let mut browser = Browser::new(&app);
    let path = authorize_path(
        &album,
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    authorize(&mut browser, &path, "fay", "allow").await;
    let token = s(&app.login("fay", PASSWORD).await["access_token"]).to_owned();
    let mut key = authenticator();
    let (_, begun) = app
        .post_bearer("/api/auth/passkeys/options", &token, None)
        .await;
    let credential = create(&mut key, ORIGIN, &begun["options"]);
    let (status, body) = app
        .post_bearer(
            "/api/auth/passkeys",
            &token,
            Some(&json!({"ceremony_token": begun["ceremony_token"], "credential": credential})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let db = database(&app);
    let factors = tessera_sql::SqlFactors::new(db.clone());
    let identities = tessera_sql::SqlIdentities::new(db.clone());
    let clients = tessera_sql::SqlClients::new(db.clone());
    let audit = tessera_sql::SqlAudit::new(db.clone());
    // As a sign-in with a provider would have linked it.
    assert!(
        identities
            .link(&LinkedIdentity {
                user_id: id,
                provider: UpstreamId::parse("corp").unwrap(),
                subject: "fay-at-corp".to_owned(),
                email: Some("fay@corp.example".to_owned()),
                linked_at: chrono::Utc::now(),
                last_used_at: None,
            })
            .await
            .unwrap()
    );
    assert_eq!(factors.overview(id).await.unwrap().passkeys, 1);
    assert_eq!(clients.consents_of(id).await.unwrap().len(), 1);

    // Signed in with the passkey (a second factor now): the deletion.
    let (_, step) = app
        .post(
            "/api/auth/login",
            &json!({"username": "fay", "password": PASSWORD}),
        )
        .await;
    let (_, begun) = app
        .post(
            "/api/auth/mfa/passkey/options",
            &json!({"mfa_token": step["mfa_token"]}),
        )
        .await;
    let assertion = get(&mut key, ORIGIN, &begun["options"], None);
    let (status, login) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": step["mfa_token"], "credential": assertion}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let (status, body) = delete_me(&app, s(&login["access_token"])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // The sweep (every 5 s) deletes it once due.
    let users = tessera_sql::SqlUsers::new(db.clone());
    eventually(150, || async {
        use tessera_domain::ports::UserRepository as _;
        users.find_by_id(id).await.unwrap().is_none().then_some(())
    })
    .await
    .expect("the account deleted after its grace period");
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "fay", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // Nothing of it is left in the stores.
    let overview = factors.overview(id).await.unwrap();
    assert_eq!(overview.passkeys, 0);
    assert_eq!(overview.recovery_codes_left, 0);
    assert!(factors.passkeys(id).await.unwrap().is_empty());
    assert!(identities.identities_of(id).await.unwrap().is_empty());
    assert!(clients.consents_of(id).await.unwrap().is_empty());
    let trail = audit
        .query(&AuditQuery {
            user: Some(id),
            limit: 500,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(trail.events.len() > 3, "{trail:?}");
    for e in &trail.events {
        if e.actor == Some(id) || e.actor.is_none() {
            assert!(
                e.identifier.is_none()
                    && e.client.ip.is_none()
                    && e.client.user_agent.is_none()
                    && (e.detail.is_none() || e.kind.as_str() == "user_deleted"),
                "kept more than an id: {e:?}"
            );
        }
    }
    let deleted = trail
        .events
        .iter()
        .find(|e| e.kind.as_str() == "user_deleted")
        .expect("the deletion audited");
    assert_eq!(deleted.detail.as_deref(), Some("grace_period_ended"));

    // The name and address are free again.
    let again = app.register("fay", "fay@example.com", PASSWORD).await;
    assert_ne!(again["user"]["id"], registered["user"]["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_account_page_asks_for_the_username_then_signs_out() {
    let app = spawn_app_with(&[]).await;
    app.register("gus", "gus@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("gus", PASSWORD).await;
    let account = browser.get("/ui/account").await;
    assert!(
        account
            .body
            .contains("will be deleted 7 days after you ask"),
        "{}",
        account.body
    );
    let csrf = account.field("csrf");

    let wrong = browser
        .post("/ui/account/delete", &[("csrf", &csrf), ("confirm", "gu")])
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("Type your username to confirm"));
    let no_token = browser
        .post(
            "/ui/account/delete",
            &[("csrf", "forged"), ("confirm", "gus")],
        )
        .await;
    assert_ne!(no_token.status, StatusCode::OK, "{}", no_token.body);

    let done = browser
        .post(
            "/ui/account/delete",
            &[("csrf", &csrf), ("confirm", " Gus ")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("Your account will be deleted at "),
        "{}",
        done.body
    );
    assert!(
        browser
            .set_cookies
            .iter()
            .any(|c| c.starts_with("__Host-tessera-session=;") || c.contains("Max-Age=0")),
        "{:?}",
        browser.set_cookies
    );
    let after = browser.get("/ui/account").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    app.mails("gus@example.com", "It will be deleted at", 1)
        .await;

    // Signing in on the pages cancels it.
    browser.sign_in("gus", PASSWORD).await;
    app.mails("gus@example.com", "删除申请已取消", 1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_super_administrator_cannot_delete_their_own_account() {
    let app = spawn_app_with(&[]).await;
    let login = app
        .create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    let token = s(&login["access_token"]);
    let (status, body) = delete_me(&app, token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "self_lockout");
    // Nothing happened: the token still works.
    let (status, _) = app.get_bearer("/api/auth/me", token).await;
    assert_eq!(status, StatusCode::OK);
}
