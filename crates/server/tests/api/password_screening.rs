//! Issue 12 (NIST SP 800-63B): new passwords are scored by zxcvbn
//! (`PASSWORD_MIN_SCORE`, default 3) knowing the account's name and address;
//! a refusal is a 400 in each dialect's shape that names the reason and a
//! suggestion, in zh-CN and en, with stable codes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_crypto::legacy::sm3_hex;

use crate::helpers::{TestApp, parts, s, spawn_app_with};

const STRONG: &str = "Kite-Runner-9-Quill";

const EN_COMMON: &str = "Password is too easy to guess (strength 0 of 4, at least 3 required): \
     This is a very common (leaked) password. Suggestion: Add another word or two. Uncommon words are better";
const ZH_COMMON: &str = "密码太容易被猜到（强度 0/4，至少需要 3）：这是一个非常常见（已泄露）的密码。建议：再加一两个单词，不常见的单词更好";

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

/// The default score: the helper turns the screening off for the fixtures,
/// an empty `PASSWORD_MIN_SCORE` is "not set" (and the alias is not given).
async fn default_app() -> TestApp {
    spawn_app_with(&[("PASSWORD_MIN_SCORE", "")]).await
}

fn feedback(message: &str, field: &str) -> Value {
    json!({"field": field, "score": 0, "min_score": 3, "warning": "common_password",
           "suggestions": ["add_another_word"], "message": message})
}

#[tokio::test(flavor = "multi_thread")]
async fn api_auth_refuses_guessable_passwords_naming_reason_and_suggestion_in_both_languages() {
    let app = default_app().await;
    let form =
        json!({"username": "testuser1", "email": "test1@example.com", "password": "password123"});
    for (lang, text) in [("en", EN_COMMON), ("zh-CN", ZH_COMMON)] {
        let (status, body) = post_lang(&app, "/api/auth/register", &form, lang).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(
            body["fields"]["password"],
            json!(["password_too_common"]),
            "{body}"
        );
        assert_eq!(body["details"]["password"], json!([text]), "{lang}: {body}");
        assert_eq!(body["errors"], json!([text]), "{lang}");
        assert_eq!(body["message"], text, "{lang}");
        assert_eq!(
            body["password_feedback"],
            feedback(text, "password"),
            "{lang}"
        );
    }
    // A guess built from the account's own name (disguised so that the
    // containment rule misses it) is weak for that account only.
    let (status, body) = post_lang(
        &app,
        "/api/auth/register",
        &json!({"username": "wombathill", "email": "w@example.com", "password": "w0mb@th1ll99"}),
        "en",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["fields"]["password"],
        json!(["password_too_weak"]),
        "{body}"
    );
    assert_eq!(body["password_feedback"]["score"], 1);
    assert!(
        body["password_feedback"]["suggestions"]
            .as_array()
            .unwrap()
            .contains(&json!("substitutions_do_not_help")),
        "{body}"
    );
    assert!(
        s(&body["details"]["password"][0]).contains("'@' instead of 'a'"),
        "{body}"
    );
    app.register("bob", "bob@example.com", "w0mb@th1ll99").await;
    // The containment rule still comes first.
    let (_, body) = post_lang(
        &app,
        "/api/auth/register",
        &json!({"username": "testuser1", "email": "test1@example.com", "password": "my-testuser1-pass"}),
        "en",
    )
    .await;
    assert_eq!(
        body["fields"]["password"],
        json!(["password_contains_identity"])
    );
    assert!(body.get("password_feedback").is_none());

    // Change: the new password is screened against the account.
    app.register("carol", "carol@example.com", STRONG).await;
    let login = app.login("carol", STRONG).await;
    let r = app
        .client
        .post(app.url("/api/auth/change-password"))
        .header("accept-language", "en")
        .bearer_auth(s(&login["access_token"]))
        .json(&json!({"old_password": STRONG, "new_password": "iloveyou2"}))
        .send()
        .await
        .unwrap();
    let (status, body) = parts(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["fields"]["new_password"],
        json!(["password_too_common"])
    );
    assert_eq!(body["password_feedback"]["field"], "new_password");
    assert!(
        s(&body["details"]["new_password"][0]).starts_with("New password is too easy to guess")
    );

    // Reset: refused before the code is compared, so the code still works.
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &json!({"identifier": "carol", "channel": "email", "contact": "carol@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = s(&body["debug_code"]).to_owned();
    let reset = |pw: &str| json!({"identifier": "carol", "channel": "email", "contact": "carol@example.com", "code": code, "new_password": pw});
    let (status, body) = post_lang(
        &app,
        "/api/auth/reset-password",
        &reset("password123"),
        "zh-CN",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["fields"]["new_password"],
        json!(["password_too_common"])
    );
    assert!(
        s(&body["details"]["new_password"][0]).starts_with("新密码太容易被猜到"),
        "{body}"
    );
    let (status, body) = app
        .post("/api/auth/reset-password", &reset("Wenzhou-Rain-47-Quill"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_v1_refuses_guessable_passwords_with_codes_and_text_in_both_languages() {
    let app = default_app().await;
    let form =
        json!({"username": "alice", "email": "alice@example.com", "password": "password123"});
    for (lang, text) in [("en", EN_COMMON), ("zh-CN", ZH_COMMON)] {
        let (status, body) = post_lang(&app, "/api/v1/auth/register", &form, lang).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], 4);
        assert_eq!(
            body["details"]["password"],
            json!(["password_too_common"]),
            "{body}"
        );
        assert_eq!(
            body["password_feedback"],
            feedback(text, "password"),
            "{lang}: {body}"
        );
    }
    let strong = json!({"username": "alice", "email": "alice@example.com", "password": STRONG});
    let (status, body) = post_lang(&app, "/api/v1/auth/register", &strong, "en").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_001_sign_refuses_guessable_passwords_in_msg_and_cannot_score_digests() {
    let app = default_app().await;
    let form = |pw: &str| json!({"Name": "用户名", "Email": "user@example.com", "Password": pw});
    let (_, body) = post_lang(&app, "/Auth/Sign", &form("password123"), "en").await;
    assert_eq!(body["Code"], 530, "{body}");
    assert!(s(&body["Msg"]).contains(EN_COMMON), "{body}");
    let (_, body) = post_lang(&app, "/Auth/Sign", &form("password123"), "zh-CN").await;
    assert_eq!(body["Code"], 530, "{body}");
    assert!(s(&body["Msg"]).contains(ZH_COMMON), "{body}");
    // A name-based guess for this account only.
    let (_, body) = post_lang(
        &app,
        "/Auth/Sign",
        &json!({"Name": "wombathill", "Email": "w@example.com", "Password": "w0mb@th1ll99"}),
        "en",
    )
    .await;
    assert_eq!(body["Code"], 530, "{body}");
    assert!(
        s(&body["Msg"]).contains("Predictable substitutions"),
        "{body}"
    );
    // An SM3 digest cannot be scored: accepted as before.
    let (_, body) = post_lang(&app, "/Auth/Sign", &form(&sm3_hex("password123")), "en").await;
    assert_eq!(body["Code"], 200, "{body}");
}
