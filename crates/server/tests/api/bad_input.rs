//! Hostile input on every write route of every dialect: bodies over the
//! limit, deep or malformed JSON, wrong types, invalid UTF-8, overlong
//! fields, SQL-looking strings and NUL bytes. Each answer is a clear refusal
//! in the dialect's shape (never a 5xx), and nothing is stored.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_server::http::DialectKind;

use crate::helpers::{TestApp, parts, s, spawn_app_with};

/// The write routes and a body each would accept.
fn routes() -> Vec<(&'static str, Value)> {
    let pw = "Str0ng-Passphrase";
    vec![
        (
            "/api/auth/register",
            json!({"username": "mallory", "email": "mallory@example.com", "password": pw}),
        ),
        (
            "/api/auth/login",
            json!({"username": "mallory", "password": pw}),
        ),
        ("/api/auth/refresh", json!({"refresh_token": "x"})),
        (
            "/api/auth/verify-email",
            json!({"email": "mallory@example.com", "code": "123456", "password": pw}),
        ),
        (
            "/api/auth/resend-verification",
            json!({"email": "mallory@example.com"}),
        ),
        (
            "/api/auth/request-reset-code",
            json!({"identifier": "mallory", "channel": "email", "contact": "mallory@example.com"}),
        ),
        (
            "/api/auth/reset-password",
            json!({"identifier": "mallory", "channel": "email", "contact": "mallory@example.com", "code": "123456", "new_password": pw}),
        ),
        (
            "/api/v1/auth/register",
            json!({"username": "mallory", "email": "mallory@example.com", "password": pw}),
        ),
        (
            "/api/v1/auth/login",
            json!({"email": "mallory@example.com", "password": pw}),
        ),
        (
            "/Auth/Sign",
            json!({"Name": "mallory", "Email": "mallory@example.com", "Password": pw}),
        ),
        (
            "/Auth/Verify",
            json!({"Name": "mallory", "Email": "mallory@example.com", "Password": pw, "VerifyCode": "123456"}),
        ),
        (
            "/Auth/Login",
            json!({"Email": "mallory@example.com", "Password": pw}),
        ),
        (
            "/Auth/ResetPassword",
            json!({"Email": "mallory@example.com"}),
        ),
        (
            "/Auth/UpdatePassword",
            json!({"Email": "mallory@example.com", "Password": pw, "VerifyCode": "123456"}),
        ),
    ]
}

/// Asserts a refusal in the shape of `path`'s dialect: a 4xx with a
/// machine `code` (`/api/auth`), a 4xx with `error` (`/api/v1`), or seed
/// 001's HTTP 200 with a non-success `Code` (or HTTP 413 for a body too large).
fn refused(path: &str, status: StatusCode, body: &Value, what: &str) {
    let dialect = DialectKind::of(path);
    if dialect == DialectKind::Legacy {
        let code = body["Code"].as_u64().unwrap_or(0);
        // 200/202 are success and 510 is seed 001's "server error"; every
        // other Code is a refusal (401, 413, 501–503, 520, 521, 530).
        assert!(
            (status == StatusCode::OK || status == StatusCode::PAYLOAD_TOO_LARGE)
                && ![0, 200, 202, 510].contains(&code),
            "{path} {what}: {status} {body}"
        );
        assert!(body["Msg"].is_string(), "{path} {what}: {body}");
    } else {
        assert!(status.is_client_error(), "{path} {what}: {status} {body}");
        if dialect == DialectKind::V1 {
            assert!(body["error"].is_string(), "{path} {what}: {body}");
        } else {
            assert!(body["code"].is_string(), "{path} {what}: {body}");
        }
    }
}

async fn send(app: &TestApp, path: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    parts(r).await
}

/// Every user the admin API lists.
async fn user_count(app: &TestApp, admin: &str) -> u64 {
    let (status, body) = app.get_bearer("/api/admin/users", admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["total"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)]
async fn hostile_bodies_are_refused_in_each_dialects_shape_and_store_nothing() {
    let app = spawn_app_with(&[
        ("MAX_BODY_BYTES", "16384"),
        ("RATE_LIMIT_LOGIN", "off"),
        ("RATE_LIMIT_REGISTER", "off"),
        ("RATE_LIMIT_SEND_CODE", "off"),
        ("RATE_LIMIT_VERIFY_CODE", "off"),
        ("RATE_LIMIT_REFRESH", "off"),
    ])
    .await;
    let admin = app
        .create_with_role("root", "root@example.com", "Adm1n-Secret-99", "super_admin")
        .await;
    let admin = s(&admin["access_token"]).to_owned();
    let users_before = user_count(&app, &admin).await;

    let deep = format!("{{\"x\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    let raw: Vec<(&str, Vec<u8>)> = vec![
        ("over the body limit", {
            let mut b = br#"{"padding": ""#.to_vec();
            b.extend(std::iter::repeat_n(b'a', 20_000));
            b.extend(br#""}"#);
            b
        }),
        ("5000-deep nesting", deep.into_bytes()),
        ("truncated", br#"{"username": "mallory", "pass"#.to_vec()),
        (
            "trailing garbage",
            br#"{"username": "mallory"} {}"#.to_vec(),
        ),
        ("not an object", b"[1, 2, 3]".to_vec()),
        ("a bare string", br#""mallory""#.to_vec()),
        (
            "invalid UTF-8",
            b"{\"username\": \"mal\xff\xfelory\"}".to_vec(),
        ),
        ("a lone surrogate", br#"{"username": "\ud800"}"#.to_vec()),
        (
            "a NUL byte outside a string",
            b"{\"username\"\x00: 1}".to_vec(),
        ),
    ];
    for (path, _) in routes() {
        for (what, bytes) in &raw {
            let (status, body) = send(&app, path, bytes.clone()).await;
            refused(path, status, &body, what);
            if what.starts_with("over") {
                assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
            }
        }
    }

    // Each field of each route, replaced by something hostile.
    let long = "a".repeat(10_000);
    let hostile: Vec<(&str, Value)> = vec![
        ("a number", json!(12345)),
        ("an array", json!(["mallory"])),
        ("an object", json!({"$ne": null})),
        ("a boolean", json!(true)),
        ("10,000 characters", json!(long)),
        ("a NUL byte", json!("mallory\u{0}admin")),
        ("a control character", json!("mal\u{7}lory")),
        ("SQL", json!("' OR '1'='1' --")),
        ("SQL with a statement", json!("x'); DROP TABLE users; --")),
        ("empty", json!("")),
    ];
    for (path, good) in routes() {
        for field in good.as_object().unwrap().keys() {
            for (what, value) in &hostile {
                if what.starts_with("SQL")
                    && (field.to_lowercase().contains("password") || field == "Name")
                {
                    continue; // legal free text: checked below to be stored literally
                }
                let mut body = good.clone();
                body[field] = value.clone();
                let (status, answer) = send(&app, path, serde_json::to_vec(&body).unwrap()).await;
                let what = format!("{field} = {what}");
                refused(path, status, &answer, &what);
            }
        }
    }

    // SQL-looking text where it is legal is only text: searching for it finds nothing.
    let (status, body) = app
        .get_bearer("/api/admin/users?q=%27%20OR%201%3D1%20--", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 0, "{body}");

    // Nothing was stored along the way, and the store still works.
    assert_eq!(user_count(&app, &admin).await, users_before);
    // SQL in a password is a password like any other.
    let sql = "x'); DROP TABLE users; --";
    app.register("bobby", "bobby@example.com", sql).await;
    app.login("bobby", sql).await;
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"username": "bobby", "password": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // And seed 001's free-text Name is harmless.
    let body = crate::seed001::sign_up(&app, sql, "sql@example.com", "Str0ng-Passphrase").await;
    // The display name becomes a username of the allowed characters.
    assert!(
        s(&body["Name"])
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.".contains(c)),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "mallory", "password": "Str0ng-Passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    app.register("mallory", "mallory@example.com", "Str0ng-Passphrase")
        .await;
    assert_eq!(user_count(&app, &admin).await, users_before + 3);
}

#[tokio::test]
async fn the_verify_page_button_refuses_a_body_that_is_not_a_form_with_its_page() {
    let app = crate::helpers::spawn_app().await;
    for (ctype, body) in [
        ("application/json", r#"{"token": "abc"}"#),
        ("text/plain", "token=abc"),
        ("application/x-www-form-urlencoded", "token=%ZZ&&="),
    ] {
        let r = app
            .client
            .post(app.url("/api/auth/verify-email/confirm"))
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{ctype}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{ctype}"
        );
        assert!(r.text().await.unwrap().contains("<p>"), "{ctype}: the page");
    }
}

/// A JSON body sent as `text/plain` (what a foreign page can post without a
/// CORS preflight) or as a form is refused before it is read, in every
/// dialect's shape, and logs nobody in; `application/json` with a charset
/// and `+json` types are JSON.
#[tokio::test]
async fn a_body_that_does_not_declare_json_is_refused_in_every_dialect() {
    let app = crate::helpers::spawn_app().await;
    app.register("ctype", "ctype@example.com", "Str0ng-Passphrase-9")
        .await;
    let logins = [
        (
            "/api/auth/login",
            r#"{"username":"ctype","password":"Str0ng-Passphrase-9"}"#,
        ),
        (
            "/api/v1/auth/login",
            r#"{"email":"ctype@example.com","password":"Str0ng-Passphrase-9"}"#,
        ),
        (
            "/Auth/Login",
            r#"{"Email":"ctype@example.com","Password":"Str0ng-Passphrase-9"}"#,
        ),
    ];
    for (path, body) in logins {
        for ctype in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let r = app
                .client
                .post(app.url(path))
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let answer: Value = r.json().await.unwrap();
            assert!(
                answer.get("access_token").is_none()
                    && answer.get("Token").is_none_or(Value::is_null),
                "{path} {ctype}: {answer}"
            );
            match path {
                "/Auth/Login" => {
                    assert_eq!(status, 200, "{path} {ctype}");
                    assert_eq!(answer["Code"], 530, "{path} {ctype}: {answer}");
                }
                "/api/v1/auth/login" => assert_eq!(status, 400, "{path} {ctype}: {answer}"),
                _ => {
                    assert_eq!(status, 400, "{path} {ctype}: {answer}");
                    assert_eq!(answer["code"], "invalid_json", "{answer}");
                }
            }
        }
        // A JSON route that shares its path with a page (GET
        // /api/auth/verify-email is the link's page) is still JSON-only.
        let r = app
            .client
            .post(app.url("/api/auth/verify-email"))
            .header("content-type", "text/plain")
            .body(r#"{"email":"ctype@example.com","code":"123456"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["code"], "invalid_json", "{answer}");
        for ctype in [
            "application/json; charset=utf-8",
            "application/merge-patch+json",
        ] {
            let r = app
                .client
                .post(app.url(path))
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            let answer: Value = r.json().await.unwrap();
            let token = answer
                .get("access_token")
                .or_else(|| answer.get("Token"))
                .or_else(|| answer.pointer("/data/token"))
                .or_else(|| answer.get("token"));
            assert!(
                token.is_some_and(|t| t.is_string()),
                "{path} {ctype}: {answer}"
            );
        }
    }
}
