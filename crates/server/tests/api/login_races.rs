//! Logins in flight while the account's credentials change (issue 13
//! review): a login that verified the old password must not keep a session
//! opened after the change ended every session — not after seed 001's
//! `/Auth/Verify` claims an address for its owner, not after a password
//! reset by e-mail, not after a password change.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, s, spawn_app_with};
use crate::seed001::{code_in_mail, post_en};

/// An app whose hashing takes long enough for logins to overlap a change.
async fn slow_hashing_app() -> Arc<TestApp> {
    Arc::new(
        spawn_app_with(&[
            ("ARGON2_MEMORY_KIB", "8192"),
            ("ARGON2_ITERATIONS", "2"),
            ("RATE_LIMIT_LOGIN", "off"),
            // The logins after the change fail by the hundred: no delays.
            ("LOGIN_FREE_FAILURES", "1000000"),
            ("LOGIN_FREE_FAILURES_PER_IP", "1000000"),
            // Each looping client from its own address: one password check
            // per (account, address) is in flight at a time.
            ("TRUSTED_PROXIES", "127.0.0.1"),
            ("WORKERS", "4"),
        ])
        .await,
    )
}

/// Runs `change` while three clients, each from its own address, log in at
/// `path` with `body` in a loop, then asserts that no token they got is
/// still accepted.
async fn no_login_outlives<F: Future<Output = ()>>(
    app: &Arc<TestApp>,
    path: &'static str,
    body: Value,
    token_at: &'static str,
    change: F,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for n in 0..3 {
        let (app, stop, body) = (Arc::clone(app), Arc::clone(&stop), body.clone());
        clients.push(tokio::spawn(async move {
            let mut tokens = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let r = app
                    .client
                    .post(app.url(path))
                    .header("x-forwarded-for", format!("198.51.100.{}", n + 10))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let (_, b) = crate::helpers::parts(r).await;
                if let Some(t) = b.pointer(token_at).and_then(Value::as_str) {
                    tokens.push(t.to_owned());
                }
            }
            tokens
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    change.await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, Ordering::SeqCst);
    let mut tokens = Vec::new();
    for c in clients {
        tokens.extend(c.await.unwrap());
    }
    assert!(
        !tokens.is_empty(),
        "the old password logged in before the change"
    );
    let mut alive = 0;
    for t in &tokens {
        let (_, b) = app.get_bearer("/CheckJWTToken", t).await;
        if b["Code"] == 200 {
            alive += 1;
        }
    }
    assert_eq!(
        alive,
        0,
        "{alive} of {} tokens outlived the change",
        tokens.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_login_in_flight_outlives_the_owners_claim_at_auth_verify() {
    let app = slow_hashing_app().await;
    let victim = "victim@example.com";
    let sign = json!({"Name": "Intruder", "Email": victim, "Password": "Sneaky-Pass-1"});
    let (_, body) = post_en(&app, "/Auth/Sign", &sign).await;
    assert_eq!(body["Code"], 200, "{body}");
    let code = code_in_mail(&app, victim, "Your sign-up code is ", 1).await;
    let login = json!({"Email": victim, "Password": "Sneaky-Pass-1"});
    let verify = json!({"Name": "Victoria", "Email": victim, "Password": "Owner-Pass-2", "VerifyCode": code});
    let owner = Arc::clone(&app);
    no_login_outlives(&app, "/Auth/Login", login, "/Token", async move {
        let (_, body) = post_en(&owner, "/Auth/Verify", &verify).await;
        assert_eq!(body["Code"], 200, "{body}");
    })
    .await;
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": victim, "Password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(
        body["Code"], 501,
        "the registrant's password is gone: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_login_in_flight_outlives_a_reset_or_a_change() {
    let app = slow_hashing_app().await;
    app.register("carol", "carol@example.com", "Harbour-Light-1")
        .await;
    let owner = Arc::clone(&app);
    let login = json!({"username": "carol", "password": "Harbour-Light-1"});
    no_login_outlives(&app, "/api/auth/login", login, "/access_token", async move {
        let r = owner
            .client
            .post(owner.url("/api/auth/request-reset-code"))
            .header("accept-language", "en")
            .json(&json!({"identifier": "carol", "channel": "email", "contact": "carol@example.com"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let code = code_in_mail(&owner, "carol@example.com", "Your password reset code is ", 1).await;
        let (status, body) = owner
            .post(
                "/api/auth/reset-password",
                &json!({"identifier": "carol", "channel": "email", "contact": "carol@example.com",
                        "code": code, "new_password": "Harbour-Light-2"}),
            )
            .await;
        assert!(status.is_success(), "{body}");
    })
    .await;
    let session = app.login("carol", "Harbour-Light-2").await;
    let token = s(&session["access_token"]).to_owned();
    let owner = Arc::clone(&app);
    let login = json!({"username": "carol", "password": "Harbour-Light-2"});
    no_login_outlives(
        &app,
        "/api/auth/login",
        login,
        "/access_token",
        async move {
            let (status, body) = owner
                .post_bearer(
                    "/api/auth/change-password",
                    &token,
                    Some(&json!({"old_password": "Harbour-Light-2", "new_password": "Harbour-Light-3"})),
                )
                .await;
            assert!(status.is_success(), "{body}");
        },
    )
    .await;
}
