//! Webhooks (issue 20) against a local receiver that checks every message's
//! Standard Webhooks signature with the specification authors' own
//! `standardwebhooks` crate: every event type, in order per account; the
//! receiver down for a while; Tessera restarted with messages pending; the
//! admin API's refusals and the CLI.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::factors::{code, early_in_a_step};
use crate::helpers::{TestApp, assert_error, eventually, parts, s, spawn_app_with};

const PASSWORD: &str = "Secret123";

/// One message as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    body: Value,
}

/// A webhook endpoint on loopback: answers `status` (200 unless set),
/// keeps every message whose signature verifies, and counts those that do not.
struct Receiver {
    port: u16,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
    forged: Arc<Mutex<usize>>,
    secret: Arc<Mutex<String>>,
    handle: actix_web::dev::ServerHandle,
}

#[derive(Clone)]
struct ReceiverState {
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
    forged: Arc<Mutex<usize>>,
    secret: Arc<Mutex<String>>,
}

async fn receive(
    state: web::Data<ReceiverState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let mut headers = reqwest::header::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        if let Some(v) = req.headers().get(name) {
            headers.insert(
                name,
                reqwest::header::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
            );
        }
    }
    let secret = state.secret.lock().unwrap().clone();
    let verified = standardwebhooks::Webhook::new(&secret)
        .and_then(|w| w.verify(&body, &headers))
        .is_ok();
    let status = state.status.load(Ordering::SeqCst);
    if !verified {
        *state.forged.lock().unwrap() += 1;
        return HttpResponse::BadRequest().finish();
    }
    if status == 200 {
        state.got.lock().unwrap().push(Received {
            id: headers["webhook-id"].to_str().unwrap().to_owned(),
            body: serde_json::from_slice(&body).unwrap(),
        });
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    /// A receiver on `port` (0: any free one).
    fn start(port: u16) -> Self {
        let state = ReceiverState {
            status: Arc::new(AtomicU16::new(200)),
            got: Arc::default(),
            forged: Arc::default(),
            secret: Arc::new(Mutex::new("whsec_AAAA".to_owned())),
        };
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/hooks", web::post().to(receive))
        })
        .workers(1)
        .bind(("127.0.0.1", port))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            port,
            status: state.status,
            got: state.got,
            forged: state.forged,
            secret: state.secret,
            handle,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    /// Messages received so far, each `webhook-id` once, in arrival order.
    fn unique(&self) -> Vec<Received> {
        let mut seen = HashSet::new();
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| seen.insert(r.id.clone()))
            .cloned()
            .collect()
    }

    /// Waits (up to `secs` seconds) until `n` distinct messages arrived.
    async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        eventually(usize::try_from(secs * 10).unwrap(), || async {
            let got = self.unique();
            (got.len() >= n).then_some(got)
        })
        .await
        .unwrap_or_else(|| panic!("{n} messages expected; got {:#?}", self.unique()))
    }
}

/// A port nothing listens on (bound, read, released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn app() -> TestApp {
    spawn_app_with(&[("WEBHOOK_FIRST_RETRY", "1")]).await
}

/// A super_admin's access token.
async fn root(app: &TestApp) -> String {
    let login = app
        .create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    s(&login["access_token"]).to_owned()
}

/// Subscribes `url` to `events`; returns (id, secret).
async fn subscribe(app: &TestApp, token: &str, url: &str, events: &[&str]) -> (i64, String) {
    let (status, body) = app
        .post_bearer(
            "/api/admin/webhooks",
            token,
            Some(&json!({"url": url, "events": events, "description": "CRM 同步"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = s(&body["secret"]).to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    (body["webhook"]["id"].as_i64().unwrap(), secret)
}

/// The types received for `user`, in arrival order.
fn types_of(got: &[Received], user: i64) -> Vec<String> {
    got.iter()
        .filter(|r| r.body["data"]["user_id"] == user)
        .map(|r| s(&r.body["type"]).to_owned())
        .collect()
}

async fn delete_bearer(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    parts(
        app.client
            .delete(app.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_type_arrives_signed_and_in_order_per_account() {
    let app = app().await;
    let token = root(&app).await;
    let receiver = Receiver::start(0);
    let (_, secret) = subscribe(&app, &token, &receiver.url(), &["*"]).await;
    *receiver.secret.lock().unwrap() = secret;

    // alice: created, email_verified, signed_in, sign_in_failed,
    // password_changed, factor.enrolled, factor.removed, email_changed,
    // password_reset.
    let r = app
        .client
        .post(app.url("/api/auth/register"))
        .header("accept-language", "en")
        .json(&json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD}));
    let (status, reg) = parts(r.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    let alice = reg["user"]["id"].as_i64().unwrap();
    let mail = app.mails("alice@example.com", "verification code", 1).await;
    let at = mail[0].find("Your verification code is ").unwrap() + 26;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": "alice@example.com", "code": &mail[0][at..at + 6], "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let login = app.login("alice", PASSWORD).await;
    let alice_token = s(&login["access_token"]).to_owned();
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "wrong-one"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app
        .post_bearer(
            "/api/auth/change-password",
            &alice_token,
            Some(&json!({"old_password": PASSWORD, "new_password": "NewSecret456"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post_bearer("/api/auth/mfa/totp", &alice_token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let totp = s(&body["secret"]).to_owned();
    early_in_a_step().await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &alice_token,
            Some(&json!({"code": code(&totp, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = delete_bearer(
        &app,
        "/api/auth/mfa/totp",
        &alice_token,
        &json!({"code": code(&totp, 0)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email",
            &alice_token,
            Some(&json!({"email": "alice.new@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email/confirm",
            &alice_token,
            Some(&json!({"code": body["debug_code"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &json!({"identifier": "alice", "channel": "email", "contact": "alice.new@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &json!({"identifier": "alice", "channel": "email", "contact": "alice.new@example.com",
                    "code": body["debug_code"], "new_password": "Another789x"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // bob: created, role.granted, role.revoked, disabled, enabled,
    // session.revoked, deleted (by an administrator).
    let reg = app.register("bob", "bob@example.com", PASSWORD).await;
    let bob = reg["user"]["id"].as_i64().unwrap();
    app.login("bob", PASSWORD).await;
    for (path, body) in [
        (
            format!("/api/admin/users/{bob}/roles"),
            Some(json!({"role": "admin"})),
        ),
        (format!("/api/admin/users/{bob}/disable"), None),
        (format!("/api/admin/users/{bob}/enable"), None),
        (format!("/api/admin/users/{bob}/revoke-sessions"), None),
    ] {
        let (status, answer) = app.post_bearer(&path, &token, body.as_ref()).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
    let (status, answer) = delete_bearer(
        &app,
        &format!("/api/admin/users/{bob}/roles/admin"),
        &token,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) =
        delete_bearer(&app, &format!("/api/admin/users/{bob}"), &token, &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let got = eventually(200, || async {
        let got = receiver.unique();
        (types_of(&got, alice).len() >= 9 && types_of(&got, bob).len() >= 8).then_some(got)
    })
    .await
    .unwrap_or_else(|| panic!("alice's and bob's events: {:#?}", receiver.unique()));
    assert_eq!(*receiver.forged.lock().unwrap(), 0);
    assert_eq!(
        types_of(&got, alice),
        [
            "user.created",
            "user.email_verified",
            "user.signed_in",
            "user.sign_in_failed",
            "user.password_changed",
            "factor.enrolled",
            "factor.removed",
            "user.email_changed",
            "user.password_reset",
        ]
    );
    assert_eq!(
        types_of(&got, bob),
        [
            "user.created",
            "user.signed_in",
            "role.granted",
            "user.disabled",
            "user.enabled",
            "session.revoked",
            "role.revoked",
            "user.deleted",
        ]
    );
    let of = |user: i64, kind: &str| {
        got.iter()
            .find(|r| r.body["data"]["user_id"] == user && r.body["type"] == kind)
            .unwrap()
            .body
            .clone()
    };
    assert_eq!(
        of(bob, "role.granted")["data"],
        json!({"user_id": bob, "role": "admin"})
    );
    assert_eq!(of(alice, "factor.enrolled")["data"]["factor"], "totp");
    assert_eq!(
        of(alice, "user.email_changed")["data"],
        json!({"user_id": alice, "change": "changed"})
    );
    assert_eq!(
        of(alice, "user.sign_in_failed")["data"]["reason"],
        "wrong_password"
    );
    assert!(
        of(alice, "user.created")["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let ids: HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), got.len());

    // The console's record: every attempt's status.
    let (status, list) = app.get_bearer("/api/admin/webhooks", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !list.to_string().contains("whsec_"),
        "no secret listed: {list}"
    );
    let id = list["webhooks"][0]["id"].as_i64().unwrap();
    let (status, deliveries) = app
        .get_bearer(&format!("/api/admin/webhooks/{id}/deliveries"), &token)
        .await;
    assert_eq!(status, StatusCode::OK, "{deliveries}");
    let first = deliveries["deliveries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(first["state"], "delivered", "{first}");
    assert_eq!(first["history"][0]["status"], 200, "{first}");
}

/// A pending registration that another registration of its address
/// replaces was announced (`user.created`): its removal is announced too.
#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_pending_registration_is_announced_as_deleted() {
    let app = spawn_app_with(&[
        ("WEBHOOK_FIRST_RETRY", "1"),
        ("UNVERIFIED_ACCOUNT_TTL", "1"),
    ])
    .await;
    let token = root(&app).await;
    let receiver = Receiver::start(0);
    let (_, secret) = subscribe(
        &app,
        &token,
        &receiver.url(),
        &["user.created", "user.deleted"],
    )
    .await;
    *receiver.secret.lock().unwrap() = secret;
    let first = app.register("pam", "pam@example.com", PASSWORD).await;
    let pam = first["user"]["id"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = app.register("pam2", "pam@example.com", PASSWORD).await;
    let pam2 = second["user"]["id"].as_i64().unwrap();
    let got = receiver.wait_for(3, 20).await;
    assert_eq!(types_of(&got, pam), ["user.created", "user.deleted"]);
    assert_eq!(types_of(&got, pam2), ["user.created"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_down_for_a_while_gets_every_message_in_order_per_account() {
    let app = app().await;
    let token = root(&app).await;
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/hooks");
    let (id, secret) = subscribe(
        &app,
        &token,
        &url,
        &[
            "user.created",
            "user.signed_in",
            "role.granted",
            "role.revoked",
        ],
    )
    .await;
    let mut ids = BTreeMap::new();
    for name in ["carol", "dave", "erin"] {
        let reg = app
            .register(name, &format!("{name}@example.com"), PASSWORD)
            .await;
        let user = reg["user"]["id"].as_i64().unwrap();
        ids.insert(name, user);
        app.login(name, PASSWORD).await;
        for _ in 0..2 {
            let (status, body) = app
                .post_bearer(
                    &format!("/api/admin/users/{user}/roles"),
                    &token,
                    Some(&json!({"role": "admin"})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, body) = delete_bearer(
                &app,
                &format!("/api/admin/users/{user}/roles/admin"),
                &token,
                &json!({}),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    // The attempts fail while nothing listens; each is recorded.
    let failing = eventually(100, || async {
        let (_, list) = app
            .get_bearer(&format!("/api/admin/webhooks/{id}/deliveries"), &token)
            .await;
        let any = list["deliveries"]
            .as_array()?
            .iter()
            .any(|d| d["state"] == "pending" && d["history"][0]["error"] == "could not connect");
        any.then_some(list)
    })
    .await;
    assert!(failing.is_some(), "failed attempts are recorded");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let receiver = Receiver::start(port);
    *receiver.secret.lock().unwrap() = secret;
    let got = eventually(600, || async {
        let got = receiver.unique();
        ids.values()
            .all(|u| types_of(&got, *u).len() >= 6)
            .then_some(got)
    })
    .await
    .unwrap_or_else(|| panic!("every account's events: {:#?}", receiver.unique()));
    for (name, user) in ids {
        assert_eq!(
            types_of(&got, user),
            [
                "user.created",
                "user.signed_in",
                "role.granted",
                "role.revoked",
                "role.granted",
                "role.revoked"
            ],
            "{name}"
        );
    }
    assert_eq!(*receiver.forged.lock().unwrap(), 0);
    receiver.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_pending_when_tessera_restarts_are_delivered_after() {
    let app = app().await;
    let token = root(&app).await;
    let receiver = Receiver::start(0);
    receiver.status.store(503, Ordering::SeqCst);
    let (id, secret) = subscribe(&app, &token, &receiver.url(), &["user.created"]).await;
    *receiver.secret.lock().unwrap() = secret;
    for name in ["fay", "gus", "hal", "ivy"] {
        app.register(name, &format!("{name}@example.com"), PASSWORD)
            .await;
    }
    let retried = eventually(100, || async {
        let (_, list) = app
            .get_bearer(&format!("/api/admin/webhooks/{id}/deliveries"), &token)
            .await;
        let statuses: Vec<&Value> = list["deliveries"]
            .as_array()?
            .iter()
            .flat_map(|d| d["history"].as_array().into_iter().flatten())
            .map(|a| &a["status"])
            .collect();
        (statuses.len() >= 4 && statuses.iter().all(|s| **s == 503)).then_some(())
    })
    .await;
    assert!(retried.is_some(), "503s are recorded");

    let app = app.restart().await;
    receiver.status.store(200, Ordering::SeqCst);
    let got = receiver.wait_for(4, 60).await;
    assert!(
        got.iter().all(|r| r.body["type"] == "user.created"),
        "{got:?}"
    );
    let token = s(&app.login("root", PASSWORD).await["access_token"]).to_owned();
    let (_, list) = app
        .get_bearer(&format!("/api/admin/webhooks/{id}/deliveries"), &token)
        .await;
    assert!(
        list["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "delivered"),
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_refuses_bad_endpoints_and_other_callers() {
    let app = app().await;
    let token = root(&app).await;
    for (body, code) in [
        (
            json!({"url": "http://hooks.example.com/in", "events": ["*"]}),
            "webhook_url_not_https",
        ),
        (
            json!({"url": "https://u:p@hooks.example.com/", "events": ["*"]}),
            "webhook_url_invalid",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["user.exploded"]}),
            "webhook_events_invalid",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": []}),
            "webhook_events_invalid",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["*"], "description": "x".repeat(201)}),
            "webhook_description_too_long",
        ),
        (
            json!({"url": "https://hooks.example.com/"}),
            "invalid_request",
        ),
    ] {
        let (status, answer) = app
            .post_bearer("/api/admin/webhooks", &token, Some(&body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_error(&answer, code);
    }
    for path in [
        "/api/admin/webhooks/999/disable",
        "/api/admin/webhooks/abc/enable",
    ] {
        let (status, answer) = app.post_bearer(path, &token, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        assert_error(&answer, "webhook_not_found");
    }
    app.register("mallory", "m@example.com", PASSWORD).await;
    let login = app.login("mallory", PASSWORD).await;
    let (status, _) = app
        .post_bearer(
            "/api/admin/webhooks",
            s(&login["access_token"]),
            Some(&json!({"url": "https://evil.example/", "events": ["*"]})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get_bearer("/api/admin/webhooks", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The command line manages the same endpoints.
    let dir = tempfile::tempdir().unwrap();
    let out = app
        .tessera_cli(dir.path())
        .args([
            "webhook",
            "create",
            "--url",
            "https://crm.example/in",
            "--events",
            "user.created,user.deleted",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("secret\twhsec_"), "{printed}");
    let (_, list) = app.get_bearer("/api/admin/webhooks", &token).await;
    let listed = &list["webhooks"][0];
    assert_eq!(listed["url"], "https://crm.example/in");
    assert_eq!(listed["events"], json!(["user.created", "user.deleted"]));
    let id = listed["id"].as_i64().unwrap();
    let out = app
        .tessera_cli(dir.path())
        .args(["webhook", "disable", &id.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let (_, list) = app.get_bearer("/api/admin/webhooks", &token).await;
    assert_eq!(list["webhooks"][0]["enabled"], false);
    let (status, _) = delete_bearer(
        &app,
        &format!("/api/admin/webhooks/{id}"),
        &token,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.get_bearer("/api/admin/webhooks", &token).await;
    assert_eq!(list["webhooks"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_subscribes_an_endpoint_and_shows_each_attempt() {
    let app = app().await;
    app.create_account("root", "root@example.com", PASSWORD, "super_admin");
    let receiver = Receiver::start(0);
    let mut admin = crate::browser::Browser::new(&app);
    admin.sign_in("root", PASSWORD).await;
    let page = admin.get("/ui/admin/webhooks").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("name=\"ev_user.deleted\""),
        "{}",
        page.body
    );
    let csrf = page.field("csrf");
    let refused = admin
        .post(
            "/ui/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "http://hooks.example.com/in"),
                ("ev_user.created", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let url = receiver.url();
    let created = admin
        .post(
            "/ui/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("url", &url),
                ("ev_user.created", "1"),
                ("description", "CRM"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let at = created.body.find("whsec_").expect("the secret, shown once");
    let secret: String = created.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "_+/=".contains(*c))
        .collect();
    *receiver.secret.lock().unwrap() = secret.clone();
    let page = admin.get("/ui/admin/webhooks").await;
    assert!(
        page.body.contains(&url) && !page.body.contains(&secret),
        "{}",
        page.body
    );

    app.register("zoe", "zoe@example.com", PASSWORD).await;
    receiver.wait_for(1, 20).await;
    let (_, list) = app
        .get_bearer(
            "/api/admin/webhooks",
            s(&app.login("root", PASSWORD).await["access_token"]),
        )
        .await;
    let id = list["webhooks"][0]["id"].as_i64().unwrap();
    let mut shown = None;
    for _ in 0..100 {
        let page = admin.get(&format!("/ui/admin/webhooks/{id}")).await;
        if page.body.contains("delivered") {
            shown = Some(page);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = shown.expect("the delivery is listed as delivered");
    assert!(
        shown.body.contains("user.created") && shown.body.contains(" 200 ("),
        "{}",
        shown.body
    );

    let paused = admin
        .post(
            &format!("/ui/admin/webhooks/{id}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.body);
    let removed = admin
        .post(
            &format!("/ui/admin/webhooks/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let gone = admin.get(&format!("/ui/admin/webhooks/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}
