//! The access-token hook (issue 20): a local endpoint that checks each
//! call's Standard Webhooks signature (the `standardwebhooks` crate) and
//! answers custom claims; the claims in the tokens of every dialect and of a
//! refresh, never over Tessera's own; a hook that fails, is slow or answers
//! nonsense refuses the sign-in (503) unless `ACCESS_TOKEN_HOOK_FAIL_OPEN`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::factors::claims;
use crate::helpers::{TestApp, assert_error, s, spawn_app_with};

const PASSWORD: &str = "Hook-Pass-123";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the hook answers: a status, a body, after a delay.
#[derive(Clone)]
struct Script {
    status: u16,
    body: String,
    delay: Duration,
}

#[derive(Clone)]
struct HookState {
    script: Arc<Mutex<Script>>,
    /// Each verified call's body.
    calls: Arc<Mutex<Vec<Value>>>,
    /// Calls whose signature did not verify.
    forged: Arc<Mutex<usize>>,
}

async fn hook(state: web::Data<HookState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let mut headers = reqwest::header::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        if let Some(v) = req.headers().get(name) {
            headers.insert(
                name,
                reqwest::header::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
            );
        }
    }
    let verified = standardwebhooks::Webhook::new(SECRET)
        .and_then(|w| w.verify(&body, &headers))
        .is_ok();
    if !verified {
        *state.forged.lock().unwrap() += 1;
        return HttpResponse::Unauthorized().finish();
    }
    state
        .calls
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap());
    let script = state.script.lock().unwrap().clone();
    tokio::time::sleep(script.delay).await;
    HttpResponse::build(actix_web::http::StatusCode::from_u16(script.status).unwrap())
        .content_type("application/json")
        .body(script.body)
}

struct Hook {
    url: String,
    state: HookState,
}

impl Hook {
    fn start() -> Self {
        let state = HookState {
            script: Arc::new(Mutex::new(Script {
                status: 200,
                body: json!({"claims": {
                    "tenant": "acme",
                    "plan": {"tier": 2},
                    "sub": "someone-else",
                    "role": "super_admin",
                    "uid": 1,
                }})
                .to_string(),
                delay: Duration::ZERO,
            })),
            calls: Arc::default(),
            forged: Arc::default(),
        };
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/claims", web::post().to(hook))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}/claims"),
            state,
        }
    }

    fn answer(&self, status: u16, body: &str, delay: Duration) {
        *self.state.script.lock().unwrap() = Script {
            status,
            body: body.to_owned(),
            delay,
        };
    }

    fn calls(&self) -> Vec<Value> {
        self.state.calls.lock().unwrap().clone()
    }
}

async fn app_with_hook(hook: &Hook, extra: &[(&str, &str)]) -> TestApp {
    let mut env = vec![
        ("ACCESS_TOKEN_HOOK_URL", hook.url.as_str()),
        ("ACCESS_TOKEN_HOOK_SECRET", SECRET),
        ("ACCESS_TOKEN_HOOK_TIMEOUT_MS", "500"),
    ];
    env.extend_from_slice(extra);
    spawn_app_with(&env).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dialects_tokens_carry_the_hooks_claims_never_over_ours() {
    let hook = Hook::start();
    let app = app_with_hook(&hook, &[]).await;
    let registered = app.register("hana", "hana@example.com", PASSWORD).await;
    let id = registered["user"]["id"].as_i64().unwrap();

    let login = app.login("hana", PASSWORD).await;
    let token = s(&login["access_token"]);
    let c = claims(token);
    assert_eq!(c["tenant"], "acme");
    assert_eq!(c["plan"], json!({"tier": 2}));
    assert_eq!(c["sub"], id.to_string(), "ours stays: {c}");
    assert_eq!(c["uid"], id);
    assert_ne!(c["role"], "super_admin");
    // The token works as before.
    let (status, me) = app.get_bearer("/api/auth/me", token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["username"], "hana");

    // The call: signed (the receiver verified it), about this token.
    let calls = hook.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let data = &calls[0]["data"];
    assert_eq!(calls[0]["type"], "access_token.issuing");
    assert_eq!(data["user_id"], id);
    assert_eq!(data["username"], "hana");
    assert_eq!(data["email"], "hana@example.com");
    assert_eq!(data["session_id"], c["sid"]);
    assert_eq!(data["amr"], json!(["pwd"]));
    assert_eq!(data["aal"], 1);
    assert!(data["client_id"].is_null());
    assert_eq!(*hook.state.forged.lock().unwrap(), 0);

    // A refresh asks again: claims may change between tokens.
    hook.answer(
        200,
        &json!({"claims": {"tenant": "globex"}}).to_string(),
        Duration::ZERO,
    );
    let (status, refreshed) = app
        .post(
            "/api/auth/refresh",
            &json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(claims(s(&refreshed["access_token"]))["tenant"], "globex");
    assert_eq!(hook.calls().len(), 2);

    // Seed 001 and seed 002 sign-ins too.
    let (status, legacy) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "hana@example.com", "Password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{legacy}");
    assert_eq!(claims(s(&legacy["Token"]))["tenant"], "globex", "{legacy}");
    let (status, v1) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "hana@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    assert_eq!(claims(s(&v1["token"]))["tenant"], "globex", "{v1}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_hook_refuses_the_sign_in_unless_it_fails_open() {
    let hook = Hook::start();
    // A rotated refresh token is refused at once: a retry cannot hide a
    // rotation the client never saw.
    let app = app_with_hook(&hook, &[("REFRESH_REUSE_INTERVAL", "0")]).await;
    app.register("ivan", "ivan@example.com", PASSWORD).await;
    let login = || async {
        app.post(
            "/api/auth/login",
            &json!({"username": "ivan", "password": PASSWORD}),
        )
        .await
    };
    let large = json!({"claims": {"blob": "x".repeat(5000)}}).to_string();
    for (status, body, delay, why) in [
        (500, "{}", Duration::ZERO, "an error status"),
        (200, "not json", Duration::ZERO, "not JSON"),
        (
            200,
            r#"{"tenant":"acme"}"#,
            Duration::ZERO,
            "no claims object",
        ),
        (200, large.as_str(), Duration::ZERO, "claims over 4 KiB"),
        (
            200,
            r#"{"claims":{"tenant":"acme"}}"#,
            Duration::from_millis(1500),
            "slower than its timeout",
        ),
    ] {
        hook.answer(status, body, delay);
        let (code, answer) = login().await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{why}: {answer}");
        assert_error(&answer, "service_unavailable");
        assert!(answer.get("access_token").is_none(), "{why}");
        assert!(
            !answer.to_string().contains("127.0.0.1"),
            "the cause stays in the log: {answer}"
        );
    }
    // Nothing is left behind: the next good answer signs in, with one
    // session (the refused sign-ins stored none).
    hook.answer(200, r#"{"claims":{"tenant":"acme"}}"#, Duration::ZERO);
    let (code, answer) = login().await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    let token = s(&answer["access_token"]).to_owned();
    assert_eq!(claims(&token)["tenant"], "acme");
    let (_, sessions) = app.get_bearer("/api/auth/sessions", &token).await;
    assert_eq!(
        sessions["sessions"].as_array().unwrap().len(),
        1,
        "{sessions}"
    );

    // A refresh the hook refuses does not rotate: the same refresh token
    // works once the hook answers again.
    hook.answer(500, "{}", Duration::ZERO);
    let refresh = json!({"refresh_token": answer["refresh_token"]});
    let (code, body) = app.post("/api/auth/refresh", &refresh).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    hook.answer(200, r#"{"claims":{"tenant":"acme"}}"#, Duration::ZERO);
    let (code, body) = app.post("/api/auth/refresh", &refresh).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    // Failing open: the token, without the hook's claims.
    let open = app_with_hook(&hook, &[("ACCESS_TOKEN_HOOK_FAIL_OPEN", "true")]).await;
    open.register("jack", "jack@example.com", PASSWORD).await;
    hook.answer(503, "{}", Duration::ZERO);
    let login = open.login("jack", PASSWORD).await;
    let c = claims(s(&login["access_token"]));
    assert!(c.get("tenant").is_none(), "{c}");
    assert_eq!(c["uid"], login["user"]["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hook_url_must_be_https_and_come_with_a_secret() {
    let app = spawn_app_with(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    for (env, needle) in [
        (
            vec![
                ("ACCESS_TOKEN_HOOK_URL", "http://hooks.example.com/claims"),
                ("ACCESS_TOKEN_HOOK_SECRET", SECRET),
            ],
            "ACCESS_TOKEN_HOOK_URL",
        ),
        (
            vec![("ACCESS_TOKEN_HOOK_URL", "https://hooks.example.com/claims")],
            "ACCESS_TOKEN_HOOK_SECRET",
        ),
        (
            vec![
                ("ACCESS_TOKEN_HOOK_URL", "https://hooks.example.com/claims"),
                ("ACCESS_TOKEN_HOOK_SECRET", "not a secret"),
            ],
            "ACCESS_TOKEN_HOOK_SECRET",
        ),
        (
            vec![
                ("ACCESS_TOKEN_HOOK_URL", "https://hooks.example.com/claims"),
                ("ACCESS_TOKEN_HOOK_SECRET", SECRET),
                ("ACCESS_TOKEN_HOOK_TIMEOUT_MS", "60000"),
            ],
            "ACCESS_TOKEN_HOOK_TIMEOUT_MS",
        ),
    ] {
        let out = app
            .tessera_cli(dir.path())
            .args(["config", "check"])
            .envs(env)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{needle}: {stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    // A good one passes, and `config check` hides the secret.
    let out = app
        .tessera_cli(dir.path())
        .args(["config", "check"])
        .env("ACCESS_TOKEN_HOOK_URL", "https://hooks.example.com/claims")
        .env("ACCESS_TOKEN_HOOK_SECRET", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("MfKQ9r8"), "{stdout}");
    // `tessera webhook secret` makes one.
    let out = app
        .tessera_cli(dir.path())
        .args(["webhook", "secret"])
        .output()
        .unwrap();
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(standardwebhooks::Webhook::new(&secret).is_ok(), "{secret}");
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 44,
        "{secret}"
    );
}
