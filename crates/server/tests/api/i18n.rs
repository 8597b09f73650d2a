//! Messages follow `Accept-Language` (zh-CN or en, default from
//! `DEFAULT_LOCALE`, English for seed 002's `/api/v1`); machine fields do not.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, parts, spawn_app, spawn_app_with};

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
    lang: Option<&str>,
) -> (StatusCode, Value) {
    let mut r = app.client.request(method.parse().unwrap(), app.url(path));
    if let Some(l) = lang {
        r = r.header("accept-language", l);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    parts(r.send().await.unwrap()).await
}

fn has_cjk(v: &Value) -> bool {
    match v {
        Value::String(s) => s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        Value::Array(a) => a.iter().any(has_cjk),
        Value::Object(o) => o.values().any(has_cjk),
        _ => false,
    }
}

/// The fields of `body` that carry text for people.
const TEXT_FIELDS: &[&str] = &["error", "message", "msg", "Msg", "details", "errors"];

/// Asks the same thing in zh-CN and in en: status and every machine field
/// agree, every text field differs, the English answer has no Chinese and
/// the Chinese one has Chinese in its main text.
async fn same_but_translated(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (Value, Value) {
    let (zs, zh) = send(app, method, path, body, Some("zh-CN,zh;q=0.9")).await;
    let (es, en) = send(app, method, path, body, Some("en-US,en;q=0.9")).await;
    assert_eq!(zs, es, "{method} {path}: status");
    let (zo, eo) = (zh.as_object().unwrap(), en.as_object().unwrap());
    assert_eq!(
        zo.keys().collect::<Vec<_>>(),
        eo.keys().collect::<Vec<_>>(),
        "{method} {path}: same keys"
    );
    for (k, z) in zo {
        let e = &eo[k];
        if TEXT_FIELDS.contains(&k.as_str()) {
            assert!(!has_cjk(e), "{method} {path}: en {k} = {e}");
        } else if !matches!(k.as_str(), "timestamp") {
            assert_eq!(z, e, "{method} {path}: machine field {k}");
        }
    }
    let main = ["Msg", "message", "error"]
        .iter()
        .find_map(|k| zo.get(*k))
        .unwrap();
    assert!(has_cjk(main), "{method} {path}: zh {main}");
    assert_ne!(zh, en, "{method} {path}");
    (zh, en)
}

#[tokio::test]
async fn every_dialect_answers_in_the_asked_language_with_the_same_machine_fields() {
    let app = spawn_app().await;
    app.alice().await;
    let bad_login = json!({"username": "alice", "password": "wrong-password-1"});

    let (zh, en) = same_but_translated(&app, "POST", "/api/auth/login", Some(&bad_login)).await;
    assert_eq!(zh["error"], "用户名或密码错误", "seed 004's text");
    assert_eq!(en["error"], "Invalid username or password");
    assert_eq!(en["code"], "invalid_credentials");

    let (zh, en) = same_but_translated(&app, "POST", "/api/auth/register", Some(&json!({}))).await;
    assert_eq!(zh["error"], "验证失败", "seed 004's text");
    assert_eq!(en["error"], "Validation failed");
    assert_eq!(en["details"]["username"][0], "Username is required");
    assert_eq!(zh["fields"], en["fields"]);

    let (zh, en) = same_but_translated(&app, "GET", "/api/auth/me", None).await;
    assert_eq!(zh["error"], "未提供有效的认证令牌", "seed 004's text");
    assert_eq!(en["error"], "No valid authentication token was provided");
    // Flask-JWT-Extended's `msg` (seed 000) is English in both.
    assert_eq!(zh["msg"], "Missing Authorization Header");

    same_but_translated(&app, "GET", "/api/auth/nowhere", None).await;
    same_but_translated(&app, "GET", "/api/auth/login", None).await;
    let (zh, en) = same_but_translated(
        &app,
        "POST",
        "/Auth/Login",
        Some(&json!({"Email": "alice@example.com", "Password": "nope"})),
    )
    .await;
    assert_eq!(zh["Code"], 501);
    assert_eq!(zh["Msg"], "登录失败，邮箱或密码错误");
    assert_eq!(en["Msg"], "Login failed: wrong email or password");
    same_but_translated(&app, "GET", "/health", None).await;
    same_but_translated(&app, "GET", "/Auth/Nothing", None).await;

    let (zh, en) = same_but_translated(
        &app,
        "POST",
        "/api/v1/auth/login",
        Some(&json!({"email": "alice@example.com", "password": "wrong-password-1"})),
    )
    .await;
    assert_eq!(
        en["error"],
        "Invalid credentials, incorrect email or password"
    );
    assert_eq!(zh["error"], "凭据无效，邮箱或密码错误");
}

#[tokio::test]
async fn without_a_supported_language_each_dialect_uses_its_default() {
    let app = spawn_app().await;
    // DEFAULT_LOCALE is zh-CN; q-values rank, unsupported tags are skipped.
    let (_, body) = send(&app, "GET", "/api/auth/me", None, None).await;
    assert_eq!(body["error"], "未提供有效的认证令牌");
    let (_, body) = send(&app, "GET", "/api/auth/me", None, Some("fr-FR, de")).await;
    assert_eq!(body["error"], "未提供有效的认证令牌");
    let (_, body) = send(
        &app,
        "GET",
        "/api/auth/me",
        None,
        Some("fr, zh;q=0.5, en;q=0.8"),
    )
    .await;
    assert_eq!(body["error"], "No valid authentication token was provided");
    let (_, body) = send(&app, "GET", "/api/auth/me", None, Some("en;q=0, zh")).await;
    assert_eq!(body["error"], "未提供有效的认证令牌");
    // Seed 002's README is in English: its dialect stays English unless asked.
    let (_, body) = send(&app, "GET", "/api/v1/auth/profile", None, None).await;
    assert_eq!(body["error"], "Missing token");
    let (_, body) = send(&app, "GET", "/api/v1/auth/profile", None, Some("zh")).await;
    assert_eq!(body["error"], "缺少令牌");

    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let (_, body) = send(&app, "GET", "/api/auth/me", None, None).await;
    assert_eq!(body["error"], "No valid authentication token was provided");
    let (_, body) = send(&app, "POST", "/Auth/Login", Some(&json!({})), None).await;
    assert_eq!(body["Code"], 530);
    assert!(!has_cjk(&body), "{body}");
}
