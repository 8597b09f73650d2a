//! Second factors over HTTP (issue 17): TOTP enrolment, the second-factor
//! step of every dialect's login, replay, skew and attempt limits, recovery
//! codes. TOTP codes are computed here from the enrolled secret, as an
//! authenticator app would.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_crypto::TotpAuthenticator;
use tessera_domain::model::TotpSecret;

use crate::helpers::{TestApp, assert_error, parts, s, spawn_app};

const PASSWORD: &str = "Factor-Pass-1";

pub(crate) fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// The code an authenticator app shows `steps` time steps from now.
pub(crate) fn code(secret: &str, steps: i64) -> String {
    TotpAuthenticator::code_at(
        &TotpSecret::new(secret),
        Utc::now() + Duration::seconds(30 * steps),
    )
    .unwrap()
}

/// Waits until the current 30-second step has at least 8 s left, so that
/// a test's codes are checked in the step they were computed for.
pub(crate) async fn early_in_a_step() {
    let into = Utc::now().timestamp().rem_euclid(30);
    if into > 22 {
        tokio::time::sleep(std::time::Duration::from_secs(
            u64::try_from(31 - into).unwrap(),
        ))
        .await;
    }
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

/// Registers `name` and enrols a confirmed TOTP factor (with the code of
/// the previous step); returns (access token, secret, recovery codes).
async fn enrolled(app: &TestApp, name: &str) -> (String, String, Vec<String>) {
    app.register(name, &format!("{name}@example.com"), PASSWORD)
        .await;
    let login = app.login(name, PASSWORD).await;
    let token = s(&login["access_token"]).to_owned();
    let (status, body) = app.post_bearer("/api/auth/mfa/totp", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = s(&body["secret"]).to_owned();
    early_in_a_step().await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &token,
            Some(&json!({"code": code(&secret, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c).to_owned())
        .collect();
    (token, secret, codes)
}

/// A login of `name` that must answer the second-factor step; its `mfa_token`.
async fn challenge(app: &TestApp, name: &str) -> String {
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": name, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "mfa_required");
    assert_eq!(body["mfa_required"], true);
    assert!(body.get("access_token").is_none(), "{body}");
    s(&body["mfa_token"]).to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn totp_enrolment_then_login_needs_a_code_that_is_accepted_once() {
    let app = spawn_app().await;
    app.register("tia", "tia@example.com", PASSWORD).await;
    let token = s(&app.login("tia", PASSWORD).await["access_token"]).to_owned();

    let (status, body) = app.post_bearer("/api/auth/mfa/totp", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = s(&body["secret"]).to_owned();
    assert_eq!(secret.len(), 32, "160 bits of base32: {secret}");
    let uri = s(&body["otpauth_uri"]);
    assert!(
        uri.starts_with("otpauth://totp/Tessera:tia%40example.com?")
            && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    assert!(s(&body["qr_svg"]).contains("<svg"), "{body}");

    // Unconfirmed, the factor does not count: the password alone still logs in.
    let (_, overview) = app.get_bearer("/api/auth/mfa", &token).await;
    assert_eq!(overview["totp"]["pending"], true, "{overview}");
    assert_eq!(overview["mfa_enabled"], false, "{overview}");
    app.login("tia", PASSWORD).await;

    early_in_a_step().await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &token,
            Some(&json!({"code": code(&secret, -3)})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a code two steps old: {body}"
    );
    assert_error(&body, "code_invalid");
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &token,
            Some(&json!({"code": code(&secret, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "one step of skew: {body}");
    let codes: Vec<&str> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 14 && c.chars().filter(char::is_ascii_digit).count() == 12),
        "{codes:?}"
    );
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 10);

    let (_, overview) = app.get_bearer("/api/auth/mfa", &token).await;
    assert_eq!(overview["mfa_enabled"], true, "{overview}");
    assert_eq!(overview["factors"], json!(["totp", "recovery_code"]));
    assert_eq!(overview["recovery_codes_left"], 10);
    // The enrolling session signed in with the password alone: a factor
    // change now needs the account's highest level, aal2.
    let (status, body) = app.post_bearer("/api/auth/mfa/totp", &token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");

    let mfa_token = challenge(&app, "tia").await;
    // The step that confirmed the factor is used: its code is refused.
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code(&secret, -1)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_wrong");
    assert_eq!(body["remaining_attempts"], 4);
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = claims(s(&body["access_token"]));
    assert_eq!(c["amr"], json!(["pwd", "otp", "mfa"]), "{c}");
    assert_eq!(c["aal"], 2, "{c}");
    assert_eq!(c["acr"], "aal2", "{c}");
    let aal2 = s(&body["access_token"]).to_owned();
    let (status, _) = app.get_bearer("/api/auth/me", &aal2).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post_bearer("/api/auth/mfa/totp", &aal2, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "factor_exists");
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &aal2,
            Some(&json!({"code": code(&secret, 1)})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "confirmed already: {body}");
    assert_error(&body, "factor_exists");

    // The challenge is single use.
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code(&secret, 1)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body, "mfa_token_invalid");

    // A code is accepted once: the same step again is refused, the next one passes.
    let mfa_token = challenge(&app, "tia").await;
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "replayed: {body}");
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code(&secret, 1), "factor": "totp"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_challenge_takes_five_codes_and_forged_tokens_cost_it_nothing() {
    let app = spawn_app().await;
    let (_, secret, _) = enrolled(&app, "fay").await;
    let mfa_token = challenge(&app, "fay").await;
    let (id, _) = mfa_token.split_once('.').unwrap();
    for forged in [
        format!("{id}.{}", "0".repeat(64)),
        "nonsense".to_owned(),
        String::new(),
    ] {
        let (status, body) = app
            .post(
                "/api/auth/mfa/verify",
                &json!({"mfa_token": forged, "code": "123456"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{forged}: {body}");
        assert_error(&body, "mfa_token_invalid");
    }
    let (status, body) = app
        .post("/api/auth/mfa/verify", &json!({"mfa_token": mfa_token}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "validation_failed");
    let wrong = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    for left in (1..5).rev() {
        let (status, body) = app
            .post(
                "/api/auth/mfa/verify",
                &json!({"mfa_token": mfa_token, "code": wrong}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["remaining_attempts"], left, "{body}");
    }
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": wrong}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_exhausted");
    early_in_a_step().await;
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a dead challenge: {body}");
    assert_error(&body, "mfa_token_invalid");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_guesses_get_at_most_the_challenge_attempts() {
    let app = spawn_app().await;
    let (_, secret, _) = enrolled(&app, "con").await;
    let mfa_token = challenge(&app, "con").await;
    let wrong = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/api/auth/mfa/verify");
            let body = json!({"mfa_token": mfa_token, "code": wrong});
            tokio::spawn(
                async move { parts(client.post(url).json(&body).send().await.unwrap()).await },
            )
        })
        .collect();
    // Each comparison is counted before it is made, atomically: the wrong
    // answers name distinct attempts left (4, 3, 2, 1), the fifth kills the
    // challenge, and every other guess is refused uncompared.
    let mut left = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match body["code"].as_str() {
            Some("code_wrong") => left.push(body["remaining_attempts"].as_u64().unwrap()),
            Some("code_exhausted" | "mfa_token_invalid" | "too_many_requests") => {}
            _ => panic!("{status} {body}"),
        }
    }
    left.sort_unstable();
    let before = left.len();
    left.dedup();
    assert_eq!(
        before,
        left.len(),
        "two guesses counted as one attempt: {left:?}"
    );
    assert!(
        left.len() <= 4 && left.iter().all(|l| (1..=4).contains(l)),
        "{left:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_codes_are_single_use_mailed_about_and_voided_by_a_new_set() {
    let app = spawn_app().await;
    let (token, secret, codes) = enrolled(&app, "rex").await;
    let mfa_token = challenge(&app, "rex").await;
    // Typed with spaces instead of dashes, without saying which factor.
    // (In English: the notice is mailed in the request's language.)
    let typed = codes[0].replace('-', " ");
    let (status, body) = parts(
        app.client
            .post(app.url("/api/auth/mfa/verify"))
            .header("Accept-Language", "en")
            .json(&json!({"mfa_token": mfa_token, "code": typed}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims(s(&body["access_token"]))["amr"],
        json!(["pwd", "mfa"])
    );
    app.mails(
        "rex@example.com",
        "A recovery code completed a two-step sign-in",
        1,
    )
    .await;
    let (_, overview) = app.get_bearer("/api/auth/mfa", &token).await;
    assert_eq!(overview["recovery_codes_left"], 9, "{overview}");

    let mfa_token = challenge(&app, "rex").await;
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": codes[0], "factor": "recovery_code"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used once: {body}");
    assert_error(&body, "code_wrong");

    early_in_a_step().await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/recovery-codes",
            &token,
            Some(&json!({"code": "000000"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/recovery-codes",
            &token,
            Some(&json!({"code": code(&secret, 0)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh: Vec<&str> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    assert_eq!(fresh.len(), 10);
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": codes[1]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the old set is void: {body}"
    );
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": fresh[3]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_voids_a_waiting_challenge() {
    let app = spawn_app().await;
    let (_, secret, _) = enrolled(&app, "pat").await;
    // A password change of an account with a factor needs an aal2 session.
    early_in_a_step().await;
    let (_, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": challenge(&app, "pat").await, "code": code(&secret, 0)}),
        )
        .await;
    let token = s(&body["access_token"]).to_owned();
    let mfa_token = challenge(&app, "pat").await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/change-password",
            &token,
            Some(&json!({"old_password": PASSWORD, "new_password": "Factor-Pass-2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    early_in_a_step().await;
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code(&secret, 1)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body, "mfa_token_invalid");
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_totp_needs_a_code_and_turns_the_second_step_off() {
    let app = spawn_app().await;
    let (token, _, codes) = enrolled(&app, "rob").await;
    let (status, body) = delete_bearer(&app, "/api/auth/mfa/totp", &token, &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "validation_failed");
    let (status, body) = delete_bearer(
        &app,
        "/api/auth/mfa/totp",
        &token,
        &json!({"code": "0000-0000-0000"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_invalid");
    let (status, body) = delete_bearer(
        &app,
        "/api/auth/mfa/totp",
        &token,
        &json!({"code": codes[5]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a recovery code removes it: {body}");
    let (_, overview) = app.get_bearer("/api/auth/mfa", &token).await;
    assert_eq!(overview["mfa_enabled"], false, "{overview}");
    assert_eq!(overview["recovery_codes_left"], 0, "{overview}");
    app.login("rob", PASSWORD).await;
    let (status, body) = delete_bearer(
        &app,
        "/api/auth/mfa/totp",
        &token,
        &json!({"code": "123456"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "factor_not_enrolled");
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_001_login_answers_code_203_and_finishes_at_login_mfa() {
    let app = spawn_app().await;
    let (_, secret, _) = enrolled(&app, "lee").await;
    let (status, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "lee@example.com", "Password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Code"], 203, "{body}");
    assert_eq!(body["Token"], Value::Null, "{body}");
    assert_eq!(body["UserID"], Value::Null, "{body}");
    assert_eq!(body["Factors"], json!(["totp", "recovery_code"]));
    let mfa_token = s(&body["MfaToken"]).to_owned();

    let (_, body) = app
        .post("/Auth/LoginMfa", &json!({"MfaToken": mfa_token}))
        .await;
    assert_eq!(body["Code"], 530, "{body}");
    let (_, body) = app
        .post(
            "/Auth/LoginMfa",
            &json!({"MfaToken": mfa_token, "Code": "000000"}),
        )
        .await;
    assert!(
        body["Code"] == 520 || code(&secret, 0) == "000000",
        "{body}"
    );
    assert_eq!(body["Token"], Value::Null, "{body}");
    early_in_a_step().await;
    let (_, body) = app
        .post(
            "/Auth/LoginMfa",
            &json!({"MfaToken": mfa_token, "Code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    let c = claims(s(&body["Token"]));
    assert_eq!(c["amr"], json!(["pwd", "otp", "mfa"]), "{c}");
    assert_eq!(c["aal"], 2);
    let (_, body) = app
        .post(
            "/Auth/LoginMfa",
            &json!({"MfaToken": mfa_token, "Code": code(&secret, 1)}),
        )
        .await;
    assert_eq!(body["Code"], 521, "used: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_login_with_a_factor_finishes_only_as_one() {
    let app = spawn_app().await;
    let login = app
        .create_with_role("root2", "root2@example.com", PASSWORD, "super_admin")
        .await;
    let token = s(&login["access_token"]).to_owned();
    let (_, body) = app.post_bearer("/api/auth/mfa/totp", &token, None).await;
    let secret = s(&body["secret"]).to_owned();
    early_in_a_step().await;
    let (status, _) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &token,
            Some(&json!({"code": code(&secret, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, body) = app
        .post(
            "/Admin/Login",
            &json!({"Email": "root2@example.com", "Password": PASSWORD}),
        )
        .await;
    assert_eq!(body["Code"], 203, "{body}");
    assert_eq!(body["Token"], Value::Null);
    let admin_challenge = s(&body["MfaToken"]).to_owned();
    let (_, body) = app
        .post(
            "/Auth/LoginMfa",
            &json!({"MfaToken": admin_challenge, "Code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(
        body["Code"], 521,
        "an administrator login finishes only at /Admin/LoginMfa: {body}"
    );
    let (_, body) = app
        .post(
            "/Admin/LoginMfa",
            &json!({"MfaToken": admin_challenge, "Code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    assert_eq!(claims(s(&body["Token"]))["is_admin"], true);

    // And a plain login's challenge never yields administrator tokens.
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "root2@example.com", "Password": PASSWORD}),
        )
        .await;
    let plain = s(&body["MfaToken"]).to_owned();
    let (_, body) = app
        .post(
            "/Admin/LoginMfa",
            &json!({"MfaToken": plain, "Code": code(&secret, 1)}),
        )
        .await;
    assert_eq!(body["Code"], 521, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_002_login_answers_code_5_and_finishes_at_login_mfa() {
    let app = spawn_app().await;
    let (_, secret, codes) = enrolled(&app, "vic").await;
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "vic@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], 5, "{body}");
    assert!(body.get("token").is_none());
    let mfa_token = s(&body["mfa_token"]).to_owned();
    let wrong = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, body) = app
        .post(
            "/api/v1/auth/login/mfa",
            &json!({"mfa_token": mfa_token, "code": wrong}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 6, "{body}");
    assert_eq!(body["remaining_attempts"], 4, "{body}");
    let (status, body) = app
        .post(
            "/api/v1/auth/login/mfa",
            &json!({"mfa_token": mfa_token, "code": codes[9]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["code"], 0);
    let (status, body) = app
        .post(
            "/api/v1/auth/login/mfa",
            &json!({"mfa_token": mfa_token, "code": codes[8]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], 7, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_sees_and_resets_factors_under_the_rank_rule() {
    let app = crate::helpers::spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let (_, _, _) = enrolled(&app, "una").await;
    let root = app
        .create_with_role("boss", "boss@example.com", PASSWORD, "super_admin")
        .await;
    let root = s(&root["access_token"]).to_owned();
    let helper = app
        .create_with_role("help", "help@example.com", PASSWORD, "admin")
        .await;
    let helper = s(&helper["access_token"]).to_owned();
    let (_, users) = app.get_bearer("/api/admin/users?q=una", &root).await;
    let una = users["users"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .get_bearer(&format!("/api/admin/users/{una}"), &root)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["mfa"]["factors"],
        json!(["totp", "recovery_code"]),
        "{body}"
    );

    // The rank rule: an admin cannot reset a super_admin's factors.
    let (_, users) = app.get_bearer("/api/admin/users?q=boss", &root).await;
    let boss = users["users"][0]["id"].as_i64().unwrap();
    let (status, body) = delete_bearer(
        &app,
        &format!("/api/admin/users/{boss}/mfa"),
        &helper,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = delete_bearer(
        &app,
        &format!("/api/admin/users/{una}/mfa"),
        &helper,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["removed"], true);
    app.mails(
        "una@example.com",
        "an administrator turned two-step verification off",
        1,
    )
    .await;
    app.login("una", PASSWORD).await;
    let (_, body) = app
        .get_bearer(&format!("/api/admin/users/{una}"), &root)
        .await;
    assert_eq!(body["mfa"]["mfa_enabled"], false, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn turning_a_factor_on_needs_a_recent_sign_in_ends_other_sessions_and_is_mailed() {
    let app =
        crate::helpers::spawn_app_with(&[("REAUTH_MAX_AGE", "5"), ("DEFAULT_LOCALE", "en")]).await;
    app.register("ria", "ria@example.com", PASSWORD).await;
    let old = s(&app.login("ria", PASSWORD).await["access_token"]).to_owned();
    let other = s(&app.login("ria", PASSWORD).await["access_token"]).to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
    let (status, body) = app.post_bearer("/api/auth/mfa/totp", &old, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");

    // No wait between the fresh sign-in and the confirmation: it must stay
    // within REAUTH_MAX_AGE.
    early_in_a_step().await;
    let fresh = s(&app.login("ria", PASSWORD).await["access_token"]).to_owned();
    let (_, body) = app.post_bearer("/api/auth/mfa/totp", &fresh, None).await;
    let secret = s(&body["secret"]).to_owned();
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &fresh,
            Some(&json!({"code": code(&secret, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for token in [&old, &other] {
        let (status, _) = app.get_bearer("/api/auth/me", token).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "a session opened without the factor ends"
        );
    }
    let (status, _) = app.get_bearer("/api/auth/me", &fresh).await;
    assert_eq!(status, StatusCode::OK, "the enrolling session stays");
    app.mails("ria@example.com", "two-step verification was turned on", 1)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_claiming_an_address_removes_the_registrants_factor() {
    let app = crate::helpers::spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    // Someone registers the owner's address (unverified) and turns TOTP on.
    let (_, _, squatter_codes) = enrolled(&app, "cam").await;
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &json!({"identifier": "cam@example.com", "channel": "email", "contact": "cam@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mail = app
        .mails("cam@example.com", "Your password reset code is ", 1)
        .await;
    let mail = mail.last().unwrap();
    let at =
        mail.find("Your password reset code is ").unwrap() + "Your password reset code is ".len();
    let reset_code = &mail[at..at + 6];
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &json!({"identifier": "cam@example.com", "channel": "email", "contact": "cam@example.com",
                    "code": reset_code, "new_password": "Owner-New-Pass-77"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The owner's password alone signs in; the registrant's codes are gone.
    let login = app.login("cam@example.com", "Owner-New-Pass-77").await;
    let (_, overview) = app
        .get_bearer("/api/auth/mfa", s(&login["access_token"]))
        .await;
    assert_eq!(overview["mfa_enabled"], false, "{overview}");
    assert_eq!(overview["recovery_codes_left"], 0, "{overview}");
    let _ = squatter_codes;
    app.mails(
        "cam@example.com",
        "was removed when you claimed the account",
        1,
    )
    .await;

    // A verified account keeps its factor through a reset by e-mail.
    let (token, secret, _) = enrolled(&app, "dee").await;
    let mail = app
        .mails("dee@example.com", "Your verification code is ", 1)
        .await;
    let mail = mail.last().unwrap();
    let at = mail.find("Your verification code is ").unwrap() + "Your verification code is ".len();
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": "dee@example.com", "code": &mail[at..at + 6], "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let _ = (token, secret);
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &json!({"identifier": "dee", "channel": "email", "contact": "dee@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mail = app
        .mails("dee@example.com", "Your password reset code is ", 1)
        .await;
    let mail = mail.last().unwrap();
    let at =
        mail.find("Your password reset code is ").unwrap() + "Your password reset code is ".len();
    let (status, body) = app
        .post(
            "/api/auth/reset-password",
            &json!({"identifier": "dee", "channel": "email", "contact": "dee@example.com",
                    "code": &mail[at..at + 6], "new_password": "Owner-New-Pass-88"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "dee", "password": "Owner-New-Pass-88"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the factor stays: {body}");
    assert_error(&body, "mfa_required");
}
