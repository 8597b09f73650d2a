//! Password reset as seed 003 describes it, by email and by phone.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_testkit::PrivateSmtpSink;

use crate::helpers::{TestApp, assert_error, eventually, s, spawn_app, spawn_app_with};

fn ask(channel: &str, contact: &str) -> Value {
    json!({"identifier": "alice", "channel": channel, "contact": contact})
}

fn reset(channel: &str, contact: &str, code: &str, new_password: &str) -> Value {
    json!({"identifier": "alice", "channel": channel, "contact": contact, "code": code, "new_password": new_password})
}

async fn request_code(app: &TestApp, channel: &str, contact: &str) -> Value {
    let (status, body) = app
        .post("/api/auth/request-reset-code", &ask(channel, contact))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 600);
    body
}

#[tokio::test]
async fn seed_003_reset_by_email_revokes_every_session() {
    let app = spawn_app().await;
    let before = app.alice().await;
    let body = request_code(&app, "email", "a@b.com").await;
    let code = s(&body["debug_code"]).to_owned();
    assert_eq!(code.len(), 6, "debug_code in development: {body}");

    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset("email", "a@b.com", &code, "NewSecret456"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&before["access_token"]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "every session is revoked");
    let (status, _) = app
        .post_bearer("/api/auth/refresh", s(&before["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.login("alice", "NewSecret456").await;

    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset("email", "a@b.com", &code, "Another789"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "single use");
    assert_error(&body, "code_expired");
}

#[tokio::test]
async fn seed_003_documented_errors() {
    let app = spawn_app().await;
    app.alice().await;
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &json!({"identifier": "nobody", "channel": "email", "contact": "a@b.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "account_not_found");
    let (status, body) = app
        .post("/api/auth/request-reset-code", &ask("email", "other@b.com"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "contact_mismatch");
    let (status, body) = app
        .post("/api/auth/request-reset-code", &ask("fax", "a@b.com"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["fields"]["channel"][0], "not_one_of");
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset("email", "a@b.com", "123456", "NewSecret456"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no code issued");
    assert_error(&body, "code_expired");

    let code = s(&request_code(&app, "email", "a@b.com").await["debug_code"]).to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset("email", "a@b.com", wrong, "NewSecret456"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "code_wrong");
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset("email", "a@b.com", &code, "short"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "validation_failed");

    let (status, body) = app
        .post("/api/auth/request-reset-code", &ask("email", "a@b.com"))
        .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "no sooner than 60 s: {body}"
    );
    // The code still works after the refused resend.
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset("email", "a@b.com", &code, "NewSecret456"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_phone_channel_sends_a_text_message() {
    let app = spawn_app().await;
    app.alice().await;
    // Written with the usual punctuation; compared as digits.
    request_code(&app, "phone", "138-0013-8000").await;
    let log = app.var_dir().join("sms.log");
    let line = eventually(20, || async { std::fs::read_to_string(&log).ok() })
        .await
        .expect("var/sms.log");
    assert!(
        line.contains("\t+8613800138000\t"),
        "texted in E.164: {line}"
    );
    let code: String = line
        .split("验证码是 ")
        .nth(1)
        .expect("a code in the message")
        .chars()
        .take(6)
        .collect();
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset("phone", "13800138000", &code, "NewSecret456"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.login("13800138000", "NewSecret456").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn in_production_the_code_is_only_in_the_mail() {
    let sink = PrivateSmtpSink::start();
    let url = sink.url();
    let app = spawn_app_with(&[
        ("TESSERA_ENV", "production"),
        ("SMTP_URL", &url),
        ("OUTBOX_POLL_MS", "100"),
    ])
    .await;
    app.alice().await;
    let r = app
        .client
        .post(app.url("/api/auth/request-reset-code"))
        .header("accept-language", "en")
        .json(&ask("email", "a@b.com"));
    let (status, body) = crate::helpers::parts(r.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("debug_code").is_none(), "{body}");
    let mails = sink.wait_for(2, Duration::from_secs(10));
    let mail = mails
        .iter()
        .find(|m| m.contains("Subject: [Tessera] Your password reset code"))
        .expect("the reset mail");
    let at = mail.find("Your password reset code is ").expect("code")
        + "Your password reset code is ".len();
    let code = &mail[at..at + 6];
    let r = app
        .client
        .post(app.url("/api/auth/reset-password"))
        .header("accept-language", "en")
        .json(&reset("email", "a@b.com", code, "NewSecret456"));
    let (status, body) = crate::helpers::parts(r.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // And the notice follows.
    let mails = sink.wait_for(3, Duration::from_secs(10));
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Subject: [Tessera] Your password was changed"))
    );
}

/// A one-request HTTP endpoint on loopback: answers `status` and hands over the body.
async fn webhook(status: u16) -> (String, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= len || n == 0 {
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    sock.write_all(reply.as_bytes()).await.unwrap();
                    let _ = tx.send(body.to_owned());
                    return;
                }
            }
        }
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sms_webhook_receives_the_code_as_json() {
    let (url, body) = webhook(200).await;
    let app = spawn_app_with(&[("SMS_WEBHOOK_URL", &url)]).await;
    app.alice().await;
    request_code(&app, "phone", "13800138000").await;
    let sent: Value = serde_json::from_str(&body.await.unwrap()).unwrap();
    assert_eq!(sent["to"], "+8613800138000", "texted in E.164");
    let text = s(&sent["text"]);
    let code: String = text
        .split("验证码是 ")
        .nth(1)
        .expect("a code")
        .chars()
        .take(6)
        .collect();
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &reset("phone", "13800138000", &code, "NewSecret456"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_sms_webhook_is_a_503() {
    let (url, _body) = webhook(500).await;
    let app = spawn_app_with(&[("SMS_WEBHOOK_URL", &url)]).await;
    app.alice().await;
    let (status, body) = app
        .post("/api/auth/request-reset-code", &ask("phone", "13800138000"))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error(&body, "service_unavailable");
}
