//! Issue 13, items 6–10 and the password-policy message: what each dialect
//! says when it refuses, replayed as the seeds' real clients send it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, parts, s, spawn_app, spawn_app_with};
use crate::seed001::sign_up;

/// Flask-JWT-Extended's wording for another scheme than `Bearer`.
const WRONG_SCHEME: &str =
    "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'";

/// A GET of `path` with `Authorization: <authorization>` as sent (no scheme added).
async fn get_authorized(app: &TestApp, path: &str, authorization: &str) -> (StatusCode, Value) {
    parts(
        app.client
            .get(app.url(path))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A POST of `body` to `path` asking for `lang`.
async fn post_lang(app: &TestApp, path: &str, body: &Value, lang: &str) -> (StatusCode, Value) {
    parts(
        app.client
            .post(app.url(path))
            .header("accept-language", lang)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The `WWW-Authenticate` of a GET of `path` with `Authorization: <authorization>`.
async fn www_authenticate(app: &TestApp, path: &str, authorization: &str) -> String {
    let r = app
        .client
        .get(app.url(path))
        .header("authorization", authorization)
        .send()
        .await
        .unwrap();
    r.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Registers `vera` at seed 002's route and returns a login token there.
async fn v1_token(app: &TestApp) -> String {
    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "vera", "email": "vera@example.com", "password": "your_password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "vera@example.com", "password": "your_password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s(&body["token"]).to_owned()
}

/// Item 8: `/api/auth` keeps 401, `code`, `error` and `message`, and puts
/// Flask-JWT-Extended's wording for each case in `msg` (and in the
/// `WWW-Authenticate` error_description).
#[tokio::test(flavor = "multi_thread")]
async fn api_auth_token_errors_carry_flask_jwt_extendeds_msg_for_each_case() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let at = s(&login["access_token"]).to_owned();
    let rt = s(&login["refresh_token"]).to_owned();
    let segments: Vec<&str> = at.split('.').collect();
    let tampered = format!("{}.{}x.{}", segments[0], segments[1], segments[2]);
    let other_app = spawn_app_with(&[(
        "JWT_SECRET_KEY",
        "another-secret-key-of-at-least-32-bytes!!",
    )])
    .await;
    let foreign = s(&other_app.alice().await["access_token"]).to_owned();
    let invalid = "无效的认证令牌";
    let missing = "未提供有效的认证令牌";
    for (authorization, code, error, msg) in [
        (
            "Bearer garbage".to_owned(),
            "token_invalid",
            invalid,
            "Not enough segments",
        ),
        (
            "Bearer a.b".to_owned(),
            "token_invalid",
            invalid,
            "Not enough segments",
        ),
        (
            format!("Bearer {foreign}"),
            "token_invalid",
            invalid,
            "Signature verification failed",
        ),
        (
            format!("Bearer {tampered}"),
            "token_invalid",
            invalid,
            "Signature verification failed",
        ),
        (
            format!("Bearer {rt}"),
            "token_invalid",
            invalid,
            "Only non-refresh tokens are allowed",
        ),
        (
            "Token abc".to_owned(),
            "token_missing",
            missing,
            WRONG_SCHEME,
        ),
        (
            format!("Basic {at}"),
            "token_missing",
            missing,
            WRONG_SCHEME,
        ),
        // A bare token is seed 002's habit only.
        (at.clone(), "token_missing", missing, WRONG_SCHEME),
    ] {
        for path in ["/api/auth/me", "/api/auth/profile"] {
            let (status, body) = get_authorized(&app, path, &authorization).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization}: {body}");
            assert_eq!(
                (
                    &body["code"],
                    &body["error"],
                    &body["message"],
                    &body["msg"]
                ),
                (&json!(code), &json!(error), &json!(error), &json!(msg)),
                "{path} {authorization}"
            );
        }
        assert!(
            www_authenticate(&app, "/api/auth/me", &authorization)
                .await
                .contains(&format!("error_description=\"{msg}\"")),
            "{authorization}"
        );
    }
    let (status, body) = parts(
        app.client
            .get(app.url("/api/auth/me"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (&body["code"], &body["msg"]),
        (
            &json!("token_missing"),
            &json!("Missing Authorization Header")
        )
    );
    // The refresh route reads the header too: another scheme is named.
    let r = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header("authorization", format!("Token {rt}"))
        .send()
        .await
        .unwrap();
    let (status, body) = parts(r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        (&body["code"], &body["msg"]),
        (&json!("token_missing"), &json!(WRONG_SCHEME))
    );
    // The administrators' routes answer in the same shape.
    let (status, body) = get_authorized(&app, "/api/admin/users", "Bearer garbage").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (&body["code"], &body["msg"]),
        (&json!("token_invalid"), &json!("Not enough segments"))
    );
    // Revoked: logged out.
    let (status, _) = app.post_bearer("/api/auth/logout", &at, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.get_bearer("/api/auth/me", &at).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (&body["code"], &body["msg"]),
        (&json!("token_revoked"), &json!("Token has been revoked"))
    );
}

/// Item 8, the other dialects: the finer token problems change nothing there.
#[tokio::test(flavor = "multi_thread")]
async fn the_other_dialects_answer_token_problems_as_before() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let rt = s(&login["refresh_token"]).to_owned();
    let token = v1_token(&app).await;
    let segments: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}x.{}", segments[0], segments[1], segments[2]);
    for (authorization, error) in [
        ("Bearer garbage".to_owned(), "Invalid token"),
        (format!("Bearer {tampered}"), "Invalid token"),
        (format!("Bearer {rt}"), "Invalid token"),
        (format!("Basic {token}"), "Missing token"),
        ("Token abc".to_owned(), "Missing token"),
    ] {
        let (status, body) = get_authorized(&app, "/api/v1/auth/profile", &authorization).await;
        assert_eq!(
            (status, &body),
            (
                StatusCode::UNAUTHORIZED,
                &json!({"error": error, "message": error})
            ),
            "{authorization}"
        );
        let (status, body) = get_authorized(&app, "/CheckJWTToken", &authorization).await;
        assert_eq!(
            (status, &body["Code"]),
            (StatusCode::OK, &json!(401)),
            "{authorization}: {body}"
        );
    }
}

/// Item 7: seed 002's clients send `Authorization: <token>` without
/// `Bearer `; only seed 002's routes accept it, and `Basic …` stays refused.
#[tokio::test(flavor = "multi_thread")]
async fn api_v1_accepts_a_bare_token_and_only_there() {
    let app = spawn_app().await;
    let token = v1_token(&app).await;
    let (status, body) = get_authorized(&app, "/api/v1/auth/profile", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (s(&body["username"]), s(&body["email"])),
        ("vera", "vera@example.com")
    );
    let (status, body) =
        get_authorized(&app, "/api/v1/auth/profile", &format!("bearer {token}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        get_authorized(&app, "/api/v1/auth/profile", &format!("Basic {token}")).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("Missing token"))
    );
    let (status, body) = get_authorized(&app, "/api/v1/auth/profile", "garbage").await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("Invalid token"))
    );
    // The same bare token elsewhere is another scheme.
    let (status, body) = get_authorized(&app, "/api/auth/me", &token).await;
    assert_eq!(
        (status, &body["msg"]),
        (StatusCode::UNAUTHORIZED, &json!(WRONG_SCHEME))
    );
    let (status, body) = get_authorized(&app, "/CheckJWTToken", &token).await;
    assert_eq!(
        (status, &body["Code"]),
        (StatusCode::OK, &json!(401)),
        "{body}"
    );
}

/// Item 6: seed 002 documents only 401 for login; missing, empty or wrongly
/// typed fields answer like a wrong password.
#[tokio::test(flavor = "multi_thread")]
async fn api_v1_login_with_missing_fields_is_401_like_a_wrong_password() {
    let app = spawn_app().await;
    v1_token(&app).await;
    let refused = json!({"error": "Invalid credentials, incorrect email or password"});
    for body in [
        json!({}),
        json!({"email": "vera@example.com"}),
        json!({"password": "your_password"}),
        json!({"email": "", "password": ""}),
        json!({"email": "  ", "password": "your_password"}),
        json!({"email": "vera@example.com", "password": ""}),
        json!({"email": 5, "password": "your_password"}),
        json!({"email": "vera@example.com", "password": ["your_password"]}),
        json!({"email": null, "password": null}),
        json!({"email": "vera@example.com", "password": "x".repeat(5000)}),
        json!({"email": "vera@example.com", "password": "wrong"}),
    ] {
        let (status, answer) = app.post("/api/v1/auth/login", &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}: {answer}");
        assert_eq!(answer["error"], refused["error"], "{body}: {answer}");
        assert!(answer.get("code").is_none(), "{answer}");
    }
    // A body that is no JSON object is a broken request, not a login attempt.
    let (status, answer) = app.post_raw("/api/v1/auth/login", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "Request body must be a JSON object");
}

/// Item 9: the one text each dialect's front end shows names the first
/// specific reason: `msg` on `/api/auth`, `Msg` of a Code 530 on `/Auth/*`,
/// `message`/`error` of the 400 on `/api/v1`.
#[tokio::test(flavor = "multi_thread")]
async fn a_refusals_reason_reaches_the_person_in_every_dialect() {
    let app = spawn_app().await;
    // /api/auth (seed 003's front end reads `msg`).
    let form = json!({"username": "ab", "email": "not-an-email", "password": "Secret123"});
    for (lang, text) in [("zh-CN", "邮箱格式不正确"), ("en", "Invalid email address")] {
        let (status, body) = post_lang(&app, "/api/auth/register", &form, lang).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(
            (&body["msg"], &body["message"]),
            (&json!(text), &json!(text)),
            "{lang}"
        );
        assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
    }
    let (_, body) = post_lang(
        &app,
        "/api/auth/register",
        &json!({"username": "alice", "email": "a@b.com", "password": "Secret123", "role": "boss"}),
        "zh-CN",
    )
    .await;
    assert_eq!(
        body["msg"],
        "角色必须是以下之一: pharmacy, supplier, logistics, regulator, unauth"
    );
    let (status, body) = post_lang(
        &app,
        "/api/auth/request-reset-code",
        &json!({"identifier": "alice", "channel": "fax", "contact": "x"}),
        "zh-CN",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["msg"], "接收方式必须是以下之一: email, phone");
    // /Auth/* (dream's front end shows `Msg`).
    for (path, form, zh, en) in [
        (
            "/Auth/Sign",
            json!({"Name": "n", "Email": "not-an-email", "Password": "Plain-Pass-1"}),
            "邮箱格式不正确",
            "Invalid email address",
        ),
        (
            "/Auth/Sign",
            json!({"Email": "a@b.com", "Password": "Plain-Pass-1"}),
            "用户名不能为空",
            "Username is required",
        ),
        (
            "/Auth/Login",
            json!({"Email": "a@b.com"}),
            "密码不能为空",
            "Password is required",
        ),
        (
            "/Auth/Verify",
            json!({"Name": "n", "Email": "a@b.com", "Password": "Plain-Pass-1"}),
            "验证码不能为空",
            "Verification code is required",
        ),
        (
            "/Auth/ResetPassword",
            json!({}),
            "邮箱不能为空",
            "Email is required",
        ),
        (
            "/Auth/ResetPassword",
            json!({"Email": "nope"}),
            "邮箱格式不正确",
            "Invalid email address",
        ),
    ] {
        for (lang, text) in [("zh-CN", zh), ("en", en)] {
            let (status, body) = post_lang(&app, path, &form, lang).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(
                (&body["Code"], &body["Msg"]),
                (&json!(530), &json!(text)),
                "{path} {form} {lang}"
            );
        }
    }
    // /api/v1 (English by default).
    let form = json!({"username": "bob", "email": "not-an-email", "password": "your_password"});
    for (lang, text) in [("en", "Invalid email address"), ("zh-CN", "邮箱格式不正确")] {
        let (status, body) = post_lang(&app, "/api/v1/auth/register", &form, lang).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            (&body["code"], &body["message"], &body["error"]),
            (&json!(4), &json!(text), &json!(text)),
            "{lang}"
        );
        assert_eq!(body["details"]["email"], json!(["email_format"]));
    }
}

/// Item 10: `USERNAME_MIN_LENGTH=2` lets `张三` register on every dialect
/// that takes a username and log in by it; the default refuses it naming
/// the minimum.
#[tokio::test(flavor = "multi_thread")]
async fn two_character_usernames_follow_username_min_length() {
    let app = spawn_app_with(&[("USERNAME_MIN_LENGTH", "2")]).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "张三", "email": "zhang@example.com", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["username"], "张三");
    let body = app.login("张三", "Secret123").await;
    assert_eq!(body["user"]["username"], "张三");
    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "李四", "email": "li@example.com", "password": "your_password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["username"], "李四");
    let body = app.login("李四", "your_password").await;
    assert_eq!(body["user"]["email"], "li@example.com");
    // Seed 001's Sign derives the username from `Name`: 王五 is kept.
    sign_up(&app, "王五", "wang@example.com", "Plain-Pass-1").await;
    let body = app.login("王五", "Plain-Pass-1").await;
    assert_eq!(body["user"]["email"], "wang@example.com");
    // One character is still too short.
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "赵", "email": "zhao@example.com", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["msg"], "用户名长度必须在2-50个字符之间");

    // The default: 3 characters, named in the refusal.
    let app = spawn_app().await;
    let form = json!({"username": "张三", "email": "zhang@example.com", "password": "Secret123"});
    let (status, body) = post_lang(&app, "/api/auth/register", &form, "zh-CN").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["fields"]["username"], json!(["length"]));
    assert_eq!(body["msg"], "用户名长度必须在3-50个字符之间");
    let (status, body) = post_lang(&app, "/api/v1/auth/register", &form, "en").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "Username must be 3-50 characters long");
    // Sign still works: the username comes from the address instead.
    sign_up(&app, "张三", "zhang@example.com", "Plain-Pass-1").await;
    let body = app.login("zhang", "Plain-Pass-1").await;
    assert_eq!(body["user"]["email"], "zhang@example.com");
}

/// The password policy: each dialect's one shown text names the rule that
/// failed, in the caller's language.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_password_names_the_failed_rule_in_every_dialect_and_language() {
    let common_en = "Password is too easy to guess (strength 0 of 4, at least 3 required): \
         This is a very common (leaked) password. Suggestion: Add another word or two. Uncommon words are better";
    let common_zh = "密码太容易被猜到（强度 0/4，至少需要 3）：这是一个非常常见（已泄露）的密码。建议：再加一两个单词，不常见的单词更好";
    let cases = [
        // (settings, password, zh, en)
        (
            &[("PASSWORD_MIN_SCORE", "")][..],
            "short",
            "密码长度必须在8-256个字符之间",
            "Password must be 8-256 characters long",
        ),
        (
            &[("PASSWORD_MIN_SCORE", "")][..],
            "password123",
            common_zh,
            common_en,
        ),
        (
            &[
                ("PASSWORD_REQUIRE_MIXED", "true"),
                ("PASSWORD_MIN_SCORE", ""),
            ][..],
            "lowercase123",
            "密码必须包含大写字母、小写字母和数字",
            "Password must contain an upper-case letter, a lower-case letter and a digit",
        ),
    ];
    for (settings, password, zh, en) in cases {
        let app = spawn_app_with(settings).await;
        for (lang, text) in [("zh-CN", zh), ("en", en)] {
            let (status, body) = post_lang(
                &app,
                "/api/auth/register",
                &json!({"username": "alice", "email": "a@b.com", "password": password}),
                lang,
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(
                (&body["msg"], &body["message"]),
                (&json!(text), &json!(text)),
                "/api/auth {password} {lang}"
            );
            let (status, body) = post_lang(
                &app,
                "/api/v1/auth/register",
                &json!({"username": "alice", "email": "a@b.com", "password": password}),
                lang,
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(
                (&body["code"], &body["message"], &body["error"]),
                (&json!(4), &json!(text), &json!(text)),
                "/api/v1 {password} {lang}"
            );
            let (status, body) = post_lang(
                &app,
                "/Auth/Sign",
                &json!({"Name": "alice", "Email": "a@b.com", "Password": password}),
                lang,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(
                (&body["Code"], &body["Msg"]),
                (&json!(530), &json!(text)),
                "/Auth/Sign {password} {lang}"
            );
        }
    }
    // Another common password names its reason too.
    let app = spawn_app_with(&[("PASSWORD_MIN_SCORE", "")]).await;
    let (_, body) = post_lang(
        &app,
        "/api/auth/register",
        &json!({"username": "alice", "email": "a@b.com", "password": "iloveyou2"}),
        "en",
    )
    .await;
    assert_eq!(body["fields"]["password"], json!(["password_too_common"]));
    assert!(
        s(&body["msg"]).starts_with("Password is too easy to guess")
            && s(&body["msg"]).contains("common"),
        "{body}"
    );
}
