//! Mail through the outbox: a real SMTP sink (aiosmtpd) and the file outbox.
//! Registration queues a verification mail first; these tests look at the
//! password-change notice that follows.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tessera_testkit::PrivateSmtpSink;

use crate::helpers::{TestApp, eventually, s, spawn_app_with};

async fn app_mailing_to(sink: &PrivateSmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(&[
        ("SMTP_URL", &url),
        ("OUTBOX_POLL_MS", "100"),
        ("OUTBOX_RETRY_BASE_MS", "200"),
    ])
    .await
}

async fn change_password(app: &TestApp, token: &str, old: &str, new: &str, language: Option<&str>) {
    let mut r = app
        .client
        .post(app.url("/api/auth/change-password"))
        .bearer_auth(token)
        .json(&json!({"old_password": old, "new_password": new}));
    if let Some(l) = language {
        r = r.header("accept-language", l);
    }
    let status = r.send().await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
}

const NOTICE_EN: &str = "Subject: [Tessera] Your password was changed";

#[tokio::test(flavor = "multi_thread")]
async fn the_password_change_notice_arrives_over_smtp_in_the_asked_language() {
    let sink = PrivateSmtpSink::start();
    let app = app_mailing_to(&sink).await;
    let login = app.alice().await;
    change_password(
        &app,
        s(&login["access_token"]),
        "Secret123",
        "NewSecret456",
        Some("en-GB,en;q=0.9"),
    )
    .await;
    let got = sink.wait_for(2, Duration::from_secs(10));
    assert_eq!(got.len(), 2, "the verification mail, then the notice");
    let m = &got[1];
    assert!(m.contains(NOTICE_EN), "{m}");
    assert!(
        m.contains("To: a@b.com") && m.contains("From: Tessera <no-reply@localhost>"),
        "{m}"
    );
    assert!(
        m.contains("multipart/alternative") && m.contains("text/plain") && m.contains("text/html"),
        "{m}"
    );
    assert!(m.contains("Hello alice,"), "{m}");

    change_password(
        &app,
        s(&login["access_token"]),
        "NewSecret456",
        "Another789",
        None,
    )
    .await;
    let got = sink.wait_for(3, Duration::from_secs(10));
    assert_eq!(got.len(), 3);
    // The default language is zh-CN; its subject is RFC 2047-encoded UTF-8.
    assert!(
        got[2].contains("Subject: =?utf-8?") && !got[2].contains(NOTICE_EN),
        "{}",
        got[2]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smtp_outage_loses_nothing_and_each_mail_is_sent_once() {
    let mut sink = PrivateSmtpSink::stopped();
    let app = app_mailing_to(&sink).await;
    let login = app.alice().await;
    change_password(
        &app,
        s(&login["access_token"]),
        "Secret123",
        "NewSecret456",
        Some("en"),
    )
    .await;
    // Registration and the change succeeded while SMTP is down; their mail waits in the outbox.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let queued = || async {
        let text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let value = |series: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(series).map(|v| v.trim().parse().unwrap()))
                .unwrap()
        };
        (
            value("tessera_mail_queued "),
            value("tessera_mail_failed_total "),
        )
    };
    let (waiting, failed) = queued().await;
    assert_eq!(waiting, 2.0, "both mails wait in the outbox");
    assert!(failed >= 1.0, "failed attempts are counted");
    sink.restart();
    let got = sink.wait_for(2, Duration::from_secs(15));
    assert_eq!(got.len(), 2, "both delivered once SMTP is back");
    let drained = eventually(100, || async { (queued().await.0 == 0.0).then_some(()) }).await;
    assert!(drained.is_some(), "the queue gauge falls back to 0");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 2, "and only once");
    assert_eq!(got.iter().filter(|m| m.contains(NOTICE_EN)).count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_smtp_each_mail_is_an_eml_file_under_var_mail() {
    let app = spawn_app_with(&[("OUTBOX_POLL_MS", "100")]).await;
    let login = app.alice().await;
    change_password(
        &app,
        s(&login["access_token"]),
        "Secret123",
        "NewSecret456",
        Some("en"),
    )
    .await;
    let dir = app.var_dir().join("mail");
    let notice = eventually(100, || async {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|eml| eml.contains(NOTICE_EN))
    })
    .await
    .expect("the notice as an .eml file under var/mail");
    assert!(notice.contains("To: a@b.com"), "{notice}");
}
