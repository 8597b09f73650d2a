//! Email verification: codes and links mailed at registration, through a real SMTP sink.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_testkit::PrivateSmtpSink;

use crate::helpers::{TestApp, assert_error, parts, s, spawn_app_with};

async fn app(sink: &PrivateSmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let url = sink.url();
    let mut env = vec![("SMTP_URL", url.as_str()), ("OUTBOX_POLL_MS", "100")];
    env.extend_from_slice(extra);
    spawn_app_with(&env).await
}

/// Registers in English and returns (code, link token) from the mail.
async fn register(
    app: &TestApp,
    sink: &PrivateSmtpSink,
    name: &str,
    email: &str,
) -> (String, String) {
    let before = sink.messages().len();
    let r = app
        .client
        .post(app.url("/api/auth/register"))
        .header("accept-language", "en")
        .json(&json!({"username": name, "email": email, "password": "Secret123"}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    let mails = sink.wait_for(before + 1, Duration::from_secs(10));
    let mail = decode_qp(mails.last().expect("a verification mail"));
    assert!(
        mail.contains("Subject: [Tessera] Verify your email address")
            && mail.contains(&format!("To: {email}")),
        "{mail}"
    );
    (
        grab(&mail, "Your verification code is ", 6),
        grab_token(&mail),
    )
}

/// Undoes quoted-printable soft line breaks and `=3D`.
fn decode_qp(m: &str) -> String {
    m.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

fn grab(mail: &str, after: &str, len: usize) -> String {
    let at = mail
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} not in {mail}"))
        + after.len();
    mail[at..at + len].to_owned()
}

fn grab_token(mail: &str) -> String {
    let at = mail.find("token=").expect("a link") + "token=".len();
    mail[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

async fn verify(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    app.post("/api/auth/verify-email", body).await
}

async fn verified(app: &TestApp, name: &str) -> bool {
    let login = app.login(name, "Secret123").await;
    let (_, me) = app
        .get_bearer("/api/auth/me", s(&login["access_token"]))
        .await;
    me["user"]["email_verified"].as_bool().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mailed_code_verifies_once() {
    let sink = PrivateSmtpSink::start();
    let app = app(&sink, &[]).await;
    let (code, _) = register(&app, &sink, "alice", "a@b.com").await;
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
    assert!(!verified(&app, "alice").await);
    let (status, body) = verify(
        &app,
        &json!({"email": "A@B.com", "code": code, "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email_verified"], true);
    assert!(verified(&app, "alice").await);
    let (status, body) = verify(
        &app,
        &json!({"email": "a@b.com", "code": code, "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "single use");
    assert_error(&body, "code_invalid");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_link_page_names_the_account_and_only_its_password_verifies() {
    let sink = PrivateSmtpSink::start();
    let app = app(&sink, &[]).await;
    let (_, token) = register(&app, &sink, "alice", "a@b.com").await;
    let page = app
        .client
        .get(app.url(&format!("/api/auth/verify-email?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\"")
            && html.contains(&token)
            && html.contains("alice")
            && html.contains("a@b.com"),
        "{html}"
    );
    assert!(
        !verified(&app, "alice").await,
        "opening the link changes nothing"
    );
    let confirm = |password: &'static str| {
        app.client
            .post(app.url("/api/auth/verify-email/confirm"))
            .form(&[("token", token.as_str()), ("password", password)])
            .send()
    };
    let wrong = confirm("Not-Her-Password-1").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(
        !verified(&app, "alice").await,
        "a wrong password verifies nothing"
    );

    let right = confirm("Secret123").await.unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.unwrap().contains("a@b.com"));
    assert!(verified(&app, "alice").await);
    let (status, body) = verify(&app, &json!({"token": token, "password": "Secret123"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used up");
    assert_error(&body, "code_invalid");
}

#[tokio::test(flavor = "multi_thread")]
async fn five_wrong_codes_kill_it_and_every_refusal_reads_the_same() {
    let sink = PrivateSmtpSink::start();
    let app = app(&sink, &[]).await;
    let (code, _) = register(&app, &sink, "alice", "a@b.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut refusals = Vec::new();
    for _ in 0..5 {
        let (status, body) = verify(
            &app,
            &json!({"email": "a@b.com", "code": wrong, "password": "Secret123"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, "code_invalid");
        refusals.push(body);
    }
    let (status, body) = verify(
        &app,
        &json!({"email": "a@b.com", "code": code, "password": "Secret123"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "even the right code is dead now"
    );
    refusals.push(body);
    assert!(
        refusals.windows(2).all(|w| w[0] == w[1]),
        "wrong, exhausted and dead answer alike: {refusals:?}"
    );
    assert!(!verified(&app, "alice").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_code_is_refused() {
    let sink = PrivateSmtpSink::start();
    let app = app(&sink, &[("VERIFICATION_CODE_TTL", "1")]).await;
    let (code, token) = register(&app, &sink, "alice", "a@b.com").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, body) = verify(
        &app,
        &json!({"email": "a@b.com", "code": code, "password": "Secret123"}),
    )
    .await;
    assert_error(&body, "code_invalid");
    let (_, body) = verify(&app, &json!({"token": token, "password": "Secret123"})).await;
    assert_error(&body, "code_invalid");
}

#[tokio::test(flavor = "multi_thread")]
async fn resend_is_rate_limited_and_answers_alike_for_unknown_addresses() {
    let sink = PrivateSmtpSink::start();
    let app = app(&sink, &[]).await;
    let (old_code, _) = register(&app, &sink, "alice", "a@b.com").await;

    let r = app
        .client
        .post(app.url("/api/auth/resend-verification"))
        .header("accept-language", "en")
        .json(&json!({"email": "a@b.com"}));
    let (status, known) = parts(r.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let r = app
        .client
        .post(app.url("/api/auth/resend-verification"))
        .header("accept-language", "en")
        .json(&json!({"email": "nobody@b.com"}));
    let (status, unknown) = parts(r.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(known, unknown, "no enumeration");

    let mails = sink.wait_for(2, Duration::from_secs(10));
    assert_eq!(mails.len(), 2, "a new mail for the known address only");
    let fresh = grab(&decode_qp(&mails[1]), "Your verification code is ", 6);
    if fresh != old_code {
        let (_, body) = verify(
            &app,
            &json!({"email": "a@b.com", "code": old_code, "password": "Secret123"}),
        )
        .await;
        assert_error(&body, "code_invalid");
    }

    let r = app
        .client
        .post(app.url("/api/auth/resend-verification"))
        .json(&json!({"email": "a@b.com"}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, body) = parts(r).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "no sooner than 60 s");
    assert_error(&body, "too_many_requests");
    assert!((1..=60).contains(&retry_after));

    let (status, body) = verify(
        &app,
        &json!({"email": "a@b.com", "code": fresh, "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn require_verified_email_blocks_login_until_verified() {
    let sink = PrivateSmtpSink::start();
    let app = app(&sink, &[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let (code, _) = register(&app, &sink, "alice", "a@b.com").await;
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "email_not_verified");
    let (status, _) = verify(
        &app,
        &json!({"email": "a@b.com", "code": code, "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.login("alice", "Secret123").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flow_also_works_from_the_embedded_file_outbox() {
    let app = spawn_app_with(&[("OUTBOX_POLL_MS", "100")]).await;
    let r = app
        .client
        .post(app.url("/api/auth/register"))
        .header("accept-language", "en")
        .json(&json!({"username": "alice", "email": "a@b.com", "password": "Secret123"}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    let dir = app.var_dir().join("mail");
    let eml = crate::helpers::eventually(100, || async {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|m| m.contains("Verify your email address"))
    })
    .await
    .expect("the verification mail as an .eml file");
    let code = grab(&decode_qp(&eml), "Your verification code is ", 6);
    let (status, body) = verify(
        &app,
        &json!({"email": "a@b.com", "code": code, "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(verified(&app, "alice").await);
}
