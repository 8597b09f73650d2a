//! Seed 001's README, route by route: `/Auth/*`, `/CheckJWTToken`, CORS.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_crypto::legacy::sm3_hex;

use crate::helpers::{TestApp, parts, s, spawn_app, spawn_app_with};

/// POSTs in English (mail texts are then plain ASCII to grep).
pub async fn post_en(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    parts(
        app.client
            .post(app.url(path))
            .header("accept-language", "en")
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The six digits after `after` in the newest of `count` mails to `to`.
pub async fn code_in_mail(app: &TestApp, to: &str, after: &str, count: usize) -> String {
    let mails = app.mails(to, after, count).await;
    let mail = mails.last().unwrap();
    let at = mail.find(after).unwrap() + after.len();
    mail[at..at + 6].to_owned()
}

/// Signs up through `/Auth/Sign` (which creates the account) + `/Auth/Verify`
/// (which confirms its address) with `password` as sent.
pub async fn sign_up(app: &TestApp, name: &str, email: &str, password: &str) -> Value {
    let form = json!({"Name": name, "Email": email, "Password": password});
    let (status, body) = post_en(app, "/Auth/Sign", &form).await;
    assert_eq!(
        (status, body["Code"].as_i64()),
        (StatusCode::OK, Some(200)),
        "{body}"
    );
    let code = code_in_mail(app, email, "Your sign-up code is ", 1).await;
    let mut verify = form.clone();
    verify["VerifyCode"] = json!(code);
    let (status, body) = post_en(app, "/Auth/Verify", &verify).await;
    assert_eq!(
        (status, body["Code"].as_i64()),
        (StatusCode::OK, Some(200)),
        "{body}"
    );
    body
}

fn code(body: &Value) -> i64 {
    body["Code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no Code in {body}"))
}

async fn check(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.get_bearer("/CheckJWTToken", token).await;
    assert_eq!(status, StatusCode::OK, "always HTTP 200: {body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn readme_flow_sign_verify_login_check_reset_update() {
    let app = spawn_app().await;
    let email = "user@example.com";
    // Sign: the account is made and a code mailed; a wrong code is 520; the
    // right one confirms the address.
    let form = json!({"Name": "用户名", "Email": email, "Password": "Plain-Pass-1"});
    let (_, body) = post_en(&app, "/Auth/Sign", &form).await;
    assert_eq!(code(&body), 200, "{body}");
    let sent = code_in_mail(&app, email, "Your sign-up code is ", 1).await;
    let wrong = if sent == "000000" { "111111" } else { "000000" };
    let mut verify = form.clone();
    verify["VerifyCode"] = json!(wrong);
    let (_, body) = post_en(&app, "/Auth/Verify", &verify).await;
    assert_eq!(code(&body), 520, "{body}");
    verify["VerifyCode"] = json!(sent);
    let (_, body) = post_en(&app, "/Auth/Verify", &verify).await;
    assert_eq!(code(&body), 200, "{body}");
    assert_eq!(
        s(&body["Name"]),
        "用户名",
        "a valid name becomes the username"
    );
    let user_id = body["UserID"].as_i64().unwrap();
    // The address is now taken and verified: Verify and Sign are 502.
    let (_, body) = post_en(&app, "/Auth/Verify", &verify).await;
    assert_eq!(code(&body), 502, "{body}");
    let (_, body) = post_en(&app, "/Auth/Sign", &form).await;
    assert_eq!(code(&body), 502, "{body}");

    // Login with the password or its SM3 digest; a wrong one is 501 with nulls.
    for password in [
        "Plain-Pass-1".to_owned(),
        sm3_hex("Plain-Pass-1"),
        sm3_hex("Plain-Pass-1").to_uppercase(),
    ] {
        let (status, body) = app
            .post(
                "/Auth/Login",
                &json!({"Email": email, "Password": password}),
            )
            .await;
        assert_eq!((status, code(&body)), (StatusCode::OK, 200), "{body}");
        assert_eq!(body["UserID"].as_i64(), Some(user_id));
        assert_eq!(s(&body["Token"]).split('.').count(), 3);
    }
    let (status, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": "wrong-pass"}),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::OK, 501), "{body}");
    assert!(
        body["Token"].is_null() && body["UserID"].is_null(),
        "{body}"
    );
    let (_, unknown) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "nobody@example.com", "Password": "wrong-pass"}),
        )
        .await;
    assert_eq!(
        unknown, body,
        "unknown user and wrong password answer alike"
    );

    // CheckJWTToken.
    let (_, login) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": "Plain-Pass-1"}),
        )
        .await;
    let token = s(&login["Token"]).to_owned();
    let body = check(&app, &token).await;
    assert_eq!((code(&body), s(&body["User"])), (200, email), "{body}");
    assert_eq!(code(&check(&app, "not-a-token").await), 401);
    let (status, body) = parts(
        app.client
            .get(app.url("/CheckJWTToken"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::OK, 401),
        "no header: {body}"
    );

    // Reset: unknown address 503; a mailed code; 520 for a wrong one; the new
    // password may be sent as its digest; every session ends.
    let (_, body) = post_en(
        &app,
        "/Auth/ResetPassword",
        &json!({"Email": "nobody@example.com"}),
    )
    .await;
    assert_eq!(code(&body), 503, "{body}");
    let (_, body) = post_en(&app, "/Auth/ResetPassword", &json!({"Email": email})).await;
    assert_eq!(code(&body), 200, "{body}");
    let reset = code_in_mail(&app, email, "Your password reset code is ", 1).await;
    let update =
        |c: &str| json!({"Email": email, "Password": sm3_hex("New-Pass-2"), "VerifyCode": c});
    let wrong = if reset == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (_, body) = post_en(&app, "/Auth/UpdatePassword", &update(wrong)).await;
    assert_eq!(code(&body), 520, "{body}");
    let (_, body) = post_en(&app, "/Auth/UpdatePassword", &update(&reset)).await;
    assert_eq!(code(&body), 200, "{body}");
    let (_, body) = post_en(&app, "/Auth/UpdatePassword", &update(&reset)).await;
    assert_eq!(code(&body), 521, "a used code is gone: {body}");
    assert_eq!(
        code(&check(&app, &token).await),
        401,
        "the old token is revoked"
    );
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": "Plain-Pass-1"}),
        )
        .await;
    assert_eq!(code(&body), 501);
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": "New-Pass-2"}),
        )
        .await;
    assert_eq!(code(&body), 200, "the digest was of this password: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_malformed_fields_are_530_and_nothing_is_stored() {
    let app = spawn_app().await;
    for (path, body) in [
        ("/Auth/Login", json!({})),
        ("/Auth/Login", json!({"Email": "a@b.com"})),
        ("/Auth/Login", json!({"Email": 12, "Password": "x"})),
        (
            "/Auth/Sign",
            json!({"Email": "a@b.com", "Password": "Plain-Pass-1"}),
        ),
        (
            "/Auth/Sign",
            json!({"Name": "n", "Email": "not-an-email", "Password": "Plain-Pass-1"}),
        ),
        (
            "/Auth/Sign",
            json!({"Name": "n", "Email": "a@b.com", "Password": "short"}),
        ),
        (
            "/Auth/Verify",
            json!({"Name": "n", "Email": "a@b.com", "Password": "Plain-Pass-1"}),
        ),
        ("/Auth/ResetPassword", json!({})),
        ("/Auth/UpdatePassword", json!({"Email": "a@b.com"})),
    ] {
        let (status, answer) = app.post(path, &body).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::OK, 530),
            "{path} {body}: {answer}"
        );
        // `Msg` names the first specific reason (issue 13, item 9).
        assert!(
            s(&answer["Msg"]).ends_with("不能为空")
                || s(&answer["Msg"]).ends_with("不正确")
                || s(&answer["Msg"]).ends_with("必须是字符串")
                || s(&answer["Msg"]).contains("长度必须在"),
            "{answer}"
        );
    }
    let (status, answer) = app.post_raw("/Auth/Login", "{not json").await;
    assert_eq!((status, code(&answer)), (StatusCode::OK, 530), "{answer}");
    // Nothing was mailed or stored: a sign-up code for a@b.com was never issued.
    let (_, answer) = app
        .post("/Auth/Verify", &json!({"Name": "n", "Email": "a@b.com", "Password": "Plain-Pass-1", "VerifyCode": "123456"}))
        .await;
    assert_eq!(code(&answer), 521, "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_auth_paths_are_404_and_preflights_succeed() {
    let app = spawn_app().await;
    let (status, body) = app.post("/Auth/Nope", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"Code": 404, "Msg": "接口不存在"}));
    let r = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/Auth/Login"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("content-type")
    );
    let r = app
        .client
        .post(app.url("/Auth/Login"))
        .header("origin", "http://localhost:5173")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "*",
        "the real answer too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_super_admin_login_is_202_and_codes_expire_as_521() {
    let app = spawn_app_with(&[("VERIFICATION_CODE_TTL", "1")]).await;
    app.create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "root@example.com", "Password": sm3_hex("Admin-Secret-1")}),
        )
        .await;
    assert_eq!(code(&body), 202, "{body}");
    assert!(body["UserID"].as_i64().unwrap() > 0, "a real id, never -1");

    let form = json!({"Name": "late", "Email": "late@example.com", "Password": "Plain-Pass-1"});
    post_en(&app, "/Auth/Sign", &form).await;
    let sent = code_in_mail(&app, "late@example.com", "Your sign-up code is ", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mut verify = form.clone();
    verify["VerifyCode"] = json!(sent);
    let (_, body) = post_en(&app, "/Auth/Verify", &verify).await;
    assert_eq!(code(&body), 521, "{body}");
}
