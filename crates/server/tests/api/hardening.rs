//! Issue 12's fault kinds that live in the use cases: one-time codes under
//! concurrency (item 1), reset codes that outlive a password change (item 2),
//! pre-account hijacking (item 3) and resend timing (item 12). Each input of
//! the issue is replayed here, across dialects; the suite runs on SQLite and
//! again on MySQL + Redis.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, parts, s, spawn_app_with};

/// The 6 digits after `after` in the newest mail to `to` that holds `after`.
async fn code_in_mail(app: &TestApp, to: &str, after: &str, count: usize) -> String {
    let mails = app.mails(to, after, count).await;
    let mail = mails.last().unwrap();
    let at = mail.find(after).unwrap() + after.len();
    mail[at..at + 6].to_owned()
}

/// The verification code of the mail to `to` that names `account`.
async fn code_for_account(app: &TestApp, to: &str, account: &str) -> String {
    let marker = format!("for the account \"{account}\"");
    let mails = app.mails(to, &marker, 1).await;
    let mail = mails.last().unwrap();
    let after = "Your verification code is ";
    let at = mail.find(after).unwrap() + after.len();
    mail[at..at + 6].to_owned()
}

/// The token of the newest verification link mailed to `to`.
async fn token_in_mail(app: &TestApp, to: &str, marker: &str, count: usize) -> String {
    let mails = app.mails(to, marker, count).await;
    let mail = mails.last().unwrap();
    let at = mail.find(marker).unwrap() + marker.len();
    mail[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

fn reset_body(code: &str, new_password: &str) -> Value {
    json!({"identifier": "alice", "channel": "email", "contact": "a@b.com", "code": code, "new_password": new_password})
}

async fn reset_code(app: &TestApp, channel: &str, contact: &str) -> String {
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &json!({"identifier": "alice", "channel": channel, "contact": contact}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s(&body["debug_code"]).to_owned()
}

fn wrong_code(right: &str, n: u32) -> String {
    let candidate = format!("{:06}", (right.parse::<u32>().unwrap() + 1 + n) % 1_000_000);
    assert_ne!(candidate, right);
    candidate
}

/// Item 1: 100 different wrong codes at once to `/api/auth/reset-password`
/// are compared at most 5 times (today: dozens), and the right code is dead
/// afterwards. The same for seed 001's `/Auth/UpdatePassword` (520 is its
/// "wrong code", given only for a compared guess with guesses left).
#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_concurrent_wrong_codes_are_compared_at_most_five_times() {
    let app = spawn_app_with(&[("RATE_LIMIT_VERIFY_CODE", "off"), ("DEFAULT_LOCALE", "en")]).await;
    app.alice().await;
    let code = reset_code(&app, "email", "a@b.com").await;
    let guesses: Vec<_> = (0..100)
        .map(|n| {
            let (client, url, body) = (
                app.client.clone(),
                app.url("/api/auth/reset-password"),
                reset_body(&wrong_code(&code, n), "NewSecret456"),
            );
            tokio::spawn(
                async move { parts(client.post(url).json(&body).send().await.unwrap()).await },
            )
        })
        .collect();
    let mut wrong_with_guesses_left = 0;
    for g in guesses {
        let (status, body) = g.await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        if body["code"] == "code_wrong" {
            wrong_with_guesses_left += 1;
        } else {
            assert!(
                body["code"] == "code_exhausted" || body["code"] == "code_expired",
                "{body}"
            );
        }
    }
    assert!(
        wrong_with_guesses_left <= 4,
        "{wrong_with_guesses_left} guesses were compared with guesses left"
    );
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset_body(&code, "NewSecret456"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the right code is dead: {body}"
    );
    app.login("alice", "Secret123").await;

    // Seed 001: the same store, the same limit.
    let app = spawn_app_with(&[("RATE_LIMIT_VERIFY_CODE", "off"), ("DEFAULT_LOCALE", "en")]).await;
    app.alice().await;
    let (status, body) = app
        .post("/Auth/ResetPassword", &json!({"Email": "a@b.com"}))
        .await;
    assert_eq!(
        (status, body["Code"].as_u64()),
        (StatusCode::OK, Some(200)),
        "{body}"
    );
    let code = code_in_mail(&app, "a@b.com", "Your password reset code is ", 1).await;
    let guesses: Vec<_> = (0..60)
        .map(|n| {
            let (client, url, body) = (
                app.client.clone(),
                app.url("/Auth/UpdatePassword"),
                json!({"Email": "a@b.com", "Password": "NewSecret456", "VerifyCode": wrong_code(&code, n)}),
            );
            tokio::spawn(async move { parts(client.post(url).json(&body).send().await.unwrap()).await })
        })
        .collect();
    let mut compared = 0;
    for g in guesses {
        let (_, body) = g.await.unwrap();
        match body["Code"].as_u64() {
            Some(520) => compared += 1,
            Some(521) => {}
            other => panic!("unexpected {other:?}: {body}"),
        }
    }
    assert!(
        compared <= 4,
        "{compared} seed-001 guesses compared with guesses left"
    );
    let (_, body) = app
        .post(
            "/Auth/UpdatePassword",
            &json!({"Email": "a@b.com", "Password": "NewSecret456", "VerifyCode": code}),
        )
        .await;
    assert_eq!(body["Code"], 521, "{body}");
}

/// Item 2: a reset code issued before a password change, or before a reset
/// by the other channel, resets nothing afterwards (every dialect's change).
#[tokio::test]
async fn reset_codes_die_with_any_password_change() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let login = app.alice().await;
    let old_code = reset_code(&app, "email", "a@b.com").await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/change-password",
            s(&login["access_token"]),
            Some(&json!({"old_password": "Secret123", "new_password": "Changed-Secret-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset_body(&old_code, "Attacker-Pass-9"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_expired");
    app.login("alice", "Changed-Secret-1").await;

    // A code by e-mail, then a reset by SMS: the e-mail code is void.
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    app.alice().await;
    let by_mail = reset_code(&app, "email", "a@b.com").await;
    let by_sms = reset_code(&app, "phone", "13800138000").await;
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &json!({"identifier": "alice", "channel": "phone", "contact": "13800138000", "code": by_sms, "new_password": "Sms-Reset-Pass-7"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset_body(&by_mail, "Attacker-Pass-9"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_expired");
    app.login("alice", "Sms-Reset-Pass-7").await;

    // Seed 001's code, then the change through /api/auth: UpdatePassword fails.
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let login = app.alice().await;
    let (_, body) = app
        .post("/Auth/ResetPassword", &json!({"Email": "a@b.com"}))
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    let code = code_in_mail(&app, "a@b.com", "Your password reset code is ", 1).await;
    let (status, _) = app
        .post_bearer(
            "/api/auth/change-password",
            s(&login["access_token"]),
            Some(&json!({"old_password": "Secret123", "new_password": "Changed-Secret-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app
        .post(
            "/Auth/UpdatePassword",
            &json!({"Email": "a@b.com", "Password": "Attacker-Pass-9", "VerifyCode": code}),
        )
        .await;
    assert_eq!(body["Code"], 521, "{body}");
    app.login("alice", "Changed-Secret-1").await;
}

/// The registrant's credentials: every dialect refuses them.
async fn refused_everywhere(app: &TestApp, email: &str, password: &str) {
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": email, "password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": password}),
        )
        .await;
    assert_eq!(body["Code"], 501, "{body}");
}

/// Item 3 with `REQUIRE_VERIFIED_EMAIL=true`: someone registers the
/// victim's address through `/api/v1`; the owner registers it again (the
/// pending account is replaced) and verifies; the registrant's password and
/// the old link are refused everywhere.
#[tokio::test]
async fn the_owner_claims_a_pending_address_by_registering_it() {
    let app = spawn_app_with(&[("REQUIRE_VERIFIED_EMAIL", "true"), ("DEFAULT_LOCALE", "en")]).await;
    let victim = "victim@example.com";
    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "intruder", "email": victim, "password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let old_link = token_in_mail(&app, victim, "/api/v1/auth/verify/", 1).await;

    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "victim", "email": victim, "password": "Owner-Pass-2"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the pending account is replaced: {body}"
    );
    let code = code_for_account(&app, victim, "victim").await;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": victim, "code": code, "password": "Owner-Pass-2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["username"], "victim");

    refused_everywhere(&app, victim, "Sneaky-Pass-1").await;
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "intruder", "password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let r = app
        .client
        .get(app.url(&format!("/api/v1/auth/verify/{old_link}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "the old link's account is gone"
    );
    app.login(victim, "Owner-Pass-2").await;

    // A verified address is taken for good.
    let (status, _) = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "intruder2", "email": victim, "password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Item 3 on the default configuration (unverified accounts are usable):
/// the registrant logs in through every dialect; the owner claims the
/// address with a password reset by e-mail; the registrant's password and
/// every token are refused everywhere, and the address counts as verified.
#[tokio::test]
async fn the_owner_claims_an_address_in_use_by_a_reset_and_every_session_ends() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let victim = "victim@example.com";
    let (status, _) = app
        .post(
            "/api/auth/register",
            &json!({"username": "intruder", "email": victim, "phone": "13900139000", "password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let modern = app.login(victim, "Sneaky-Pass-1").await;
    let (_, v1) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": victim, "password": "Sneaky-Pass-1"}),
        )
        .await;
    let (_, legacy) = app
        .post(
            "/Auth/Login",
            &json!({"Email": victim, "Password": "Sneaky-Pass-1"}),
        )
        .await;

    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &json!({"identifier": victim, "channel": "email", "contact": victim}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = s(&body["debug_code"]).to_owned();
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &json!({"identifier": victim, "channel": "email", "contact": victim, "code": code, "new_password": "Owner-Pass-2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    refused_everywhere(&app, victim, "Sneaky-Pass-1").await;
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&modern["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post_bearer("/api/auth/refresh", s(&modern["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .get_bearer("/api/v1/auth/profile", s(&v1["token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, body) = app.get_bearer("/CheckJWTToken", s(&legacy["Token"])).await;
    assert_eq!(body["Code"], 401, "{body}");
    let owner = app.login(victim, "Owner-Pass-2").await;
    assert_eq!(
        owner["user"]["email_verified"], true,
        "a mailed code proved the address"
    );
    // The registrant's phone went with the claim: no reset by SMS takes it back.
    assert_eq!(owner["user"]["phone"], Value::Null, "{owner}");
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &json!({"identifier": victim, "channel": "phone", "contact": "13900139000"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Item 3: the link opened in a browser (or by a mail scanner posing as one)
/// confirms nothing; its page names the account, confirms only with the
/// account's password, and "This wasn't me" removes the pending account.
#[tokio::test]
async fn the_link_page_never_hands_the_address_to_someone_elses_password() {
    let app = spawn_app_with(&[("REQUIRE_VERIFIED_EMAIL", "true"), ("DEFAULT_LOCALE", "en")]).await;
    let victim = "victim@example.com";
    app.post(
        "/api/v1/auth/register",
        &json!({"username": "intruder", "email": victim, "password": "Sneaky-Pass-1"}),
    )
    .await;
    let token = token_in_mail(&app, victim, "/api/v1/auth/verify/", 1).await;
    let link = app.url(&format!("/api/v1/auth/verify/{token}"));
    for accept in [
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "text/html",
    ] {
        let r = app
            .client
            .get(&link)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains("intruder")
                && html.contains(victim)
                && html.contains("type=\"password\""),
            "the page names the account and asks for its password: {html}"
        );
    }
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": victim, "password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "still unverified: {body}");

    let confirm = |password: &'static str| {
        app.client
            .post(app.url("/api/auth/verify-email/confirm"))
            .form(&[("token", token.as_str()), ("password", password)])
            .send()
    };
    let r = confirm("Owner-Guess-3").await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "only the registrant's password confirms"
    );
    let (status, body) = app
        .post("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["fields"]["password"][0], "required", "{body}");

    let r = app
        .client
        .post(app.url("/api/auth/verify-email/reject"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    refused_everywhere(&app, victim, "Sneaky-Pass-1").await;
    let r = confirm("Sneaky-Pass-1").await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "the link died with its account"
    );
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "victim", "email": victim, "password": "Owner-Pass-2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "the address is free: {body}");
}

/// Item 3: whoever confirms the link with the account's own password gets
/// it verified; every session opened before the verification ends (on the
/// default configuration, unverified accounts may log in).
#[tokio::test]
async fn a_verification_ends_every_session_opened_before_it() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    app.register("alice", "a@b.com", "Secret123").await;
    let before = app.login("alice", "Secret123").await;
    let token = token_in_mail(&app, "a@b.com", "token=", 1).await;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"token": token, "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&before["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post_bearer("/api/auth/refresh", s(&before["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let after = app.login("alice", "Secret123").await;
    assert_eq!(after["user"]["email_verified"], true);

    // Seed 002's link for JSON clients where the deployment opted in
    // (`V1_VERIFY_ON_GET`): verifies on GET, as its contract says, and ends
    // earlier sessions too; an `/api/auth` link never verifies that way.
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en"), ("V1_VERIFY_ON_GET", "true")]).await;
    app.post(
        "/api/v1/auth/register",
        &json!({"username": "bob", "email": "bob@b.com", "password": "Secret123"}),
    )
    .await;
    let (_, v1) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "bob@b.com", "password": "Secret123"}),
        )
        .await;
    let token = token_in_mail(&app, "bob@b.com", "/api/v1/auth/verify/", 1).await;
    assert_eq!(token.len(), 64, "an opaque token: no address in it");
    app.register("carol", "carol@b.com", "Secret123").await;
    let modern_token = token_in_mail(&app, "carol@b.com", "token=", 1).await;
    let r = app
        .client
        .get(app.url(&format!("/api/v1/auth/verify/{modern_token}")))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let (status, body) = parts(r).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(1)),
        "{body}"
    );
    // A HEAD probe or a GET that does not ask for JSON confirms nothing.
    let link = app.url(&format!("/api/v1/auth/verify/{token}"));
    let r = app
        .client
        .head(&link)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .get(&link)
        .header("accept", "*/*")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let r = app
        .client
        .get(&link)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let (status, body) = parts(r).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (StatusCode::OK, Some(0)),
        "{body}"
    );
    let (status, _) = app
        .get_bearer("/api/v1/auth/profile", s(&v1["token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Item 3, the input on `/api/v1`: by default no GET of the link —
/// curl's `*/*`, an explicit `application/json`, a browser's — confirms
/// anything; each gets the page, and the registrant stays unverified.
#[tokio::test]
async fn no_get_of_a_v1_link_confirms_by_default() {
    let app = spawn_app_with(&[("REQUIRE_VERIFIED_EMAIL", "true"), ("DEFAULT_LOCALE", "en")]).await;
    let victim = "victim@example.com";
    app.post(
        "/api/v1/auth/register",
        &json!({"username": "intruder", "email": victim, "password": "Sneaky-Pass-1"}),
    )
    .await;
    let token = token_in_mail(&app, victim, "/api/v1/auth/verify/", 1).await;
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("text/html"),
    ] {
        let mut r = app
            .client
            .get(app.url(&format!("/api/v1/auth/verify/{token}")));
        if let Some(a) = accept {
            r = r.header("accept", a);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{accept:?}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{accept:?}"
        );
    }
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": victim, "password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "still unverified: {body}");
}

/// Item 3, the review's input: the owner registers, someone replaces the
/// pending registration, and the owner types the code of the newest mail
/// (the intruder's) with the owner's own password: refused, and the
/// intruder's account stays unverified.
#[tokio::test]
async fn a_code_confirms_only_with_the_password_of_its_account() {
    let app = spawn_app_with(&[("REQUIRE_VERIFIED_EMAIL", "true"), ("DEFAULT_LOCALE", "en")]).await;
    let victim = "victim@example.com";
    app.register("victim", victim, "Owner-Pass-2").await;
    let (status, _) = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "intruder", "email": victim, "password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let code = code_for_account(&app, victim, "intruder").await;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": victim, "code": code, "password": "Owner-Pass-2"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "wrong_password");
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": victim, "code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["fields"]["password"][0], "required", "{body}");
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": victim, "password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "still unverified: {body}");
    // The owner takes the address back by registering again.
    app.register("victim2", victim, "Owner-Pass-2").await;
    let code = code_for_account(&app, victim, "victim2").await;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": victim, "code": code, "password": "Owner-Pass-2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    refused_everywhere(&app, victim, "Sneaky-Pass-1").await;
}

/// Item 3 in seed 001: a pending registration of the address does not block
/// `/Auth/Sign`, which replaces it with the owner's account and mails the
/// code; `/Auth/Verify` (code and the same password) confirms it.
#[tokio::test]
async fn seed_001_sign_up_takes_back_a_pending_address() {
    let app = spawn_app_with(&[("REQUIRE_VERIFIED_EMAIL", "true"), ("DEFAULT_LOCALE", "en")]).await;
    let victim = "victim@example.com";
    app.post(
        "/api/v1/auth/register",
        &json!({"username": "intruder", "email": victim, "password": "Sneaky-Pass-1"}),
    )
    .await;
    let sign = json!({"Name": "Victoria", "Email": victim, "Password": "Owner-Pass-2"});
    let (_, body) = app.post("/Auth/Sign", &sign).await;
    assert_eq!(body["Code"], 200, "{body}");
    let code = code_in_mail(&app, victim, "Your sign-up code is ", 1).await;
    let mut verify = sign.clone();
    verify["VerifyCode"] = json!(code);
    let (_, body) = app.post("/Auth/Verify", &verify).await;
    assert_eq!(body["Code"], 200, "{body}");
    refused_everywhere(&app, victim, "Sneaky-Pass-1").await;
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": victim, "Password": "Owner-Pass-2"}),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
}

/// Item 3: one link, many concurrent uses (confirm with the right password,
/// "this wasn't me", and the code): exactly one succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_link_is_used_once_under_concurrency() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en"), ("RATE_LIMIT_VERIFY_CODE", "off")]).await;
    app.register("alice", "a@b.com", "Secret123").await;
    let token = token_in_mail(&app, "a@b.com", "token=", 1).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (client, base, token) = (app.client.clone(), app.base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let path = if i % 2 == 0 { "confirm" } else { "reject" };
            client
                .post(format!("{base}/api/auth/verify-email/{path}"))
                .form(&[("token", token.as_str()), ("password", "Secret123")])
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "exactly one use of the link succeeds");
}

/// "Verify-email answers one way for a wrong and for a missing code": an
/// address with a pending code and one without get the same body.
#[tokio::test]
async fn verify_email_answers_alike_with_and_without_a_live_code() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    app.register("alice", "a@b.com", "Secret123").await;
    let (s1, live) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": "a@b.com", "code": "000000", "password": "Secret123"}),
        )
        .await;
    let (s2, none) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": "nobody@b.com", "code": "000000", "password": "Secret123"}),
        )
        .await;
    assert_eq!((s1, s2), (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST));
    assert_error(&live, "code_invalid");
    assert_eq!(live, none);
}

/// Mann–Whitney U statistic of `a` against `b`, as a z score (normal
/// approximation, ties averaged).
fn mann_whitney_z(a: &[f64], b: &[f64]) -> f64 {
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|x| (*x, true))
        .chain(b.iter().map(|x| (*x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut ranks = vec![0.0; all.len()];
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for r in &mut ranks[i..=j] {
            *r = rank;
        }
        i = j + 1;
    }
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let r1: f64 = all
        .iter()
        .zip(&ranks)
        .filter(|((_, first), _)| *first)
        .map(|(_, r)| r)
        .sum();
    let u = r1 - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let sd = (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    (u - mean) / sd
}

/// Times `N` requests for registered (`known<i>@b.com`) and `N` for unknown
/// addresses to `path`, in a fixed shuffle with a pause after each (so no
/// deferred work overlaps a timed request), after 20 warm-up requests.
/// `body(email)` is the request; every answer must have `status` and one
/// body for all. Returns the latencies (known, unknown) in seconds.
async fn time_known_and_unknown(
    app: &TestApp,
    path: &str,
    body: impl Fn(String) -> Value,
    status: StatusCode,
) -> (Vec<f64>, Vec<f64>) {
    const N: usize = 150;
    for i in 0..N {
        app.register(&format!("user{i}"), &format!("known{i}@b.com"), "Secret123")
            .await;
    }
    let mut order: Vec<(bool, usize)> = (0..N).flat_map(|i| [(true, i), (false, i)]).collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let url = app.url(path);
    for i in 0..20 {
        let _ = app
            .client
            .post(&url)
            .json(&body(format!("warm{i}@b.com")))
            .send()
            .await
            .unwrap();
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    let mut bodies = std::collections::HashSet::new();
    for (is_known, i) in order {
        let email = if is_known {
            format!("known{i}@b.com")
        } else {
            format!("unknown{i}@b.com")
        };
        let started = Instant::now();
        let r = app
            .client
            .post(&url)
            .json(&body(email))
            .send()
            .await
            .unwrap();
        let got = r.status();
        let text = r.text().await.unwrap();
        let took = started.elapsed().as_secs_f64();
        assert_eq!(got, status, "{text}");
        bodies.insert(text);
        if is_known { &mut known } else { &mut unknown }.push(took);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    assert_eq!(bodies.len(), 1, "one body for every address: {bodies:?}");
    (known, unknown)
}

/// Item 12: `resend-verification` costs the same for registered and
/// unknown addresses. 150 requests of each kind, in a shuffled order, with a
/// pause between them so the worker's deferred work never overlaps a timed
/// request; their latencies are compared with a two-sided Mann–Whitney U
/// test at a false-alarm rate of 0.1 % (|z| > 3.29). Before the fix the
/// registered addresses answered measurably slower (0.56 ms against 0.21 ms
/// median in the issue), a difference this test sees at |z| far above 3.29.
#[tokio::test(flavor = "multi_thread")]
async fn resend_verification_costs_the_same_for_known_and_unknown_addresses() {
    let app = spawn_app_with(&[
        ("RATE_LIMIT_SEND_CODE", "off"),
        ("RATE_LIMIT_REGISTER", "off"),
        ("DEFAULT_LOCALE", "en"),
    ])
    .await;
    let (known, unknown) = time_known_and_unknown(
        &app,
        "/api/auth/resend-verification",
        |email| json!({ "email": email }),
        StatusCode::OK,
    )
    .await;
    let z = mann_whitney_z(&known, &unknown);
    eprintln!("resend latency: z = {z:.2}");
    assert!(z.abs() < 3.29, "the two distributions differ: z = {z:.2}");
    // The deferred work happened: a known address got its second mail.
    app.mails("known0@b.com", "token=", 2).await;
}

/// "Verify-email answers one way", timed: a wrong code for an address with a
/// pending code and for one without take the same store work (one claim
/// that finds a code, one that finds none). 150 of each, shuffled, compared
/// with a two-sided Mann–Whitney U test at a false-alarm rate of 0.1 %.
#[tokio::test(flavor = "multi_thread")]
async fn verify_email_costs_the_same_with_and_without_a_live_code() {
    let app = spawn_app_with(&[
        ("RATE_LIMIT_VERIFY_CODE", "off"),
        ("RATE_LIMIT_REGISTER", "off"),
        ("DEFAULT_LOCALE", "en"),
    ])
    .await;
    let (known, unknown) = time_known_and_unknown(
        &app,
        "/api/auth/verify-email",
        |email| json!({"email": email, "code": "000000", "password": "Secret123"}),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let (_, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": "known0@b.com", "code": "000000", "password": "Secret123"}),
        )
        .await;
    assert_error(&body, "code_invalid");
    let z = mann_whitney_z(&known, &unknown);
    eprintln!("verify-email latency: z = {z:.2}");
    assert!(z.abs() < 3.29, "the two distributions differ: z = {z:.2}");
}
