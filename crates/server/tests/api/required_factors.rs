//! Issue 17, "Login, tokens, policy": `MFA_REQUIRED_ROLES` (an account
//! holding such a role enrols a factor at its next sign-in and gets nothing
//! else until it does, in every dialect) and `REAUTH_MAX_AGE` over the
//! sensitive actions (password change, every administrator's change), at
//! the account's highest level.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::factors::{claims, code, early_in_a_step};
use crate::helpers::{TestApp, assert_error, s, spawn_app_with};
use crate::passkeys::{ORIGIN, authenticator, create};

const PASSWORD: &str = "Required-Pass-1";

async fn app_requiring_factors_of_admins() -> TestApp {
    spawn_app_with(&[
        ("MFA_REQUIRED_ROLES", "admin, super_admin"),
        ("DEFAULT_LOCALE", "en"),
    ])
    .await
}

/// The ten recovery codes of a login answer's `key`.
fn recovery_codes(body: &Value, key: &str) -> Vec<String> {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {body}"))
        .iter()
        .map(|c| s(c).to_owned())
        .collect()
}

/// Begins the TOTP enrolment `mfa_token` waits for; the secret.
async fn begin_totp(app: &TestApp, mfa_token: &str) -> String {
    let (status, body) = app
        .post("/api/auth/mfa/enrol/totp", &json!({"mfa_token": mfa_token}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(s(&body["qr_svg"]).contains("<svg"), "{body}");
    s(&body["secret"]).to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_whose_role_needs_a_factor_enrols_before_it_gets_a_session() {
    let app = app_requiring_factors_of_admins().await;
    app.create_account("ada", "ada@example.com", PASSWORD, "admin");
    let login = json!({"username": "ada", "password": PASSWORD});
    let (status, body) = app.post("/api/auth/login", &login).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "mfa_enrolment_required");
    assert_eq!(body["mfa_required"], true, "{body}");
    assert_eq!(body["mfa_enrolment_required"], true, "{body}");
    assert_eq!(body["factors"], json!(["totp", "passkey"]), "{body}");
    assert!(body.get("access_token").is_none(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let mfa_token = s(&body["mfa_token"]).to_owned();

    // Nothing is enrolled yet: no code finishes the login.
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": "123456"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_wrong");

    let secret = begin_totp(&app, &mfa_token).await;
    early_in_a_step().await;
    let wrong = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": wrong}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_wrong");
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = s(&body["access_token"]).to_owned();
    let c = claims(&token);
    assert_eq!(c["amr"], json!(["pwd", "otp", "mfa"]), "{c}");
    assert_eq!(c["aal"], 2, "{c}");
    let codes = recovery_codes(&body, "recovery_codes");
    assert_eq!(codes.len(), 10, "{body}");
    let (status, me) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    // The role keeps its last factor: removing it is refused, the code unspent.
    let (status, body) = crate::helpers::parts(
        app.client
            .delete(app.url("/api/auth/mfa/totp"))
            .bearer_auth(&token)
            .json(&json!({"code": codes[1]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "factor_required");
    let (_, factors) = app.get_bearer("/api/auth/mfa", &token).await;
    assert_eq!(factors["totp"]["enabled"], true, "{factors}");
    assert_eq!(factors["recovery_codes_left"], 10, "{factors}");

    // Enrolled: the next sign-in is the ordinary second-factor step, which
    // a recovery code of the set just issued answers.
    let (status, body) = app.post("/api/auth/login", &login).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "mfa_required");
    assert_eq!(body["mfa_enrolment_required"], false, "{body}");
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": body["mfa_token"], "code": codes[0]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("recovery_codes").is_none(), "{body}");

    // An ordinary challenge's token begins no enrolment; an account without
    // a listed role logs in with its password alone.
    let (_, waiting) = app.post("/api/auth/login", &login).await;
    let (status, body) = app
        .post(
            "/api/auth/mfa/enrol/totp",
            &json!({"mfa_token": waiting["mfa_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body, "mfa_token_invalid");
    app.register("una", "una@example.com", PASSWORD).await;
    let body = app.login("una", PASSWORD).await;
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body.get("recovery_codes").is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_001_answers_code_204_and_finishes_the_enrolment_at_login_mfa() {
    let app = app_requiring_factors_of_admins().await;
    app.create_account("bea", "bea@example.com", PASSWORD, "admin");
    let (status, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "bea@example.com", "Password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Code"], 204, "{body}");
    assert_eq!(body["Token"], Value::Null, "{body}");
    assert_eq!(body["UserID"], Value::Null, "{body}");
    assert_eq!(body["Factors"], json!(["totp", "passkey"]), "{body}");
    let mfa_token = s(&body["MfaToken"]).to_owned();
    let secret = begin_totp(&app, &mfa_token).await;
    early_in_a_step().await;
    let (_, body) = app
        .post(
            "/Auth/LoginMfa",
            &json!({"MfaToken": mfa_token, "Code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    assert_eq!(claims(s(&body["Token"]))["aal"], 2, "{body}");
    assert_eq!(recovery_codes(&body, "RecoveryCodes").len(), 10, "{body}");

    // The administrators' login of a super_admin who must enrol: Code 204 too.
    app.create_account("root", "root@example.com", PASSWORD, "super_admin");
    let (_, body) = app
        .post(
            "/Admin/Login",
            &json!({"Email": "root@example.com", "Password": PASSWORD}),
        )
        .await;
    assert_eq!(body["Code"], 204, "{body}");
    assert_eq!(body["Token"], Value::Null, "{body}");
    let secret = begin_totp(&app, s(&body["MfaToken"])).await;
    early_in_a_step().await;
    let (_, body) = app
        .post(
            "/Admin/LoginMfa",
            &json!({"MfaToken": body["MfaToken"], "Code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    assert_eq!(claims(s(&body["Token"]))["is_admin"], true, "{body}");
    assert_eq!(recovery_codes(&body, "RecoveryCodes").len(), 10, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_002_answers_code_8_and_finishes_the_enrolment_at_login_mfa() {
    let app = app_requiring_factors_of_admins().await;
    app.create_account("cai", "cai@example.com", PASSWORD, "admin");
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "cai@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], 8, "{body}");
    assert!(body.get("token").is_none(), "{body}");
    let mfa_token = s(&body["mfa_token"]).to_owned();
    let secret = begin_totp(&app, &mfa_token).await;
    early_in_a_step().await;
    let (status, body) = app
        .post(
            "/api/v1/auth/login/mfa",
            &json!({"mfa_token": mfa_token, "code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(claims(s(&body["token"]))["aal"], 2, "{body}");
    assert_eq!(recovery_codes(&body, "recovery_codes").len(), 10, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_registered_with_the_enrolment_token_finishes_the_sign_in() {
    let app = app_requiring_factors_of_admins().await;
    app.create_account("dee", "dee@example.com", PASSWORD, "admin");
    let login = json!({"username": "dee", "password": PASSWORD});
    let (_, body) = app.post("/api/auth/login", &login).await;
    let mfa_token = s(&body["mfa_token"]).to_owned();
    // An enrolment token asserts no passkey (there is none yet).
    let (status, body) = app
        .post(
            "/api/auth/mfa/passkey/options",
            &json!({"mfa_token": mfa_token}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body, "mfa_token_invalid");
    let (status, begun) = app
        .post(
            "/api/auth/mfa/enrol/passkey/options",
            &json!({"mfa_token": mfa_token}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    let mut key = authenticator();
    let credential = create(&mut key, ORIGIN, &begun["options"]);
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "factor": "passkey", "credential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = claims(s(&body["access_token"]));
    let amr = c["amr"].as_array().unwrap();
    assert!(
        amr.contains(&json!("hwk")) || amr.contains(&json!("swk")),
        "{c}"
    );
    assert_eq!(c["aal"], 2, "{c}");
    assert_eq!(recovery_codes(&body, "recovery_codes").len(), 10, "{body}");
    let token = s(&body["access_token"]).to_owned();
    let (_, list) = app.get_bearer("/api/auth/passkeys", &token).await;
    let id = s(&list["passkeys"][0]["id"]).to_owned();
    let (status, body) = crate::helpers::parts(
        app.client
            .delete(app.url(&format!("/api/auth/passkeys/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the last factor stays: {body}"
    );
    assert_error(&body, "factor_required");
    let (_, body) = app.post("/api/auth/login", &login).await;
    assert_error(&body, "mfa_required");
    assert_eq!(
        body["factors"],
        json!(["passkey", "recovery_code"]),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn administrators_changes_need_a_recent_sign_in_at_their_highest_level() {
    let app = spawn_app_with(&[("REAUTH_MAX_AGE", "4"), ("DEFAULT_LOCALE", "en")]).await;
    let root = app
        .create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    let root = s(&root["access_token"]).to_owned();
    let target = app.register("tom", "tom@example.com", PASSWORD).await;
    let id = target["user"]["id"].as_i64().unwrap();
    let disable = format!("/api/admin/users/{id}/disable");
    tokio::time::sleep(std::time::Duration::from_millis(4600)).await;
    let (status, body) = app.post_bearer(&disable, &root, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");
    // Reading is not a change.
    let (status, body) = app
        .get_bearer(&format!("/api/admin/users/{id}"), &root)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["is_active"], true, "nothing changed: {body}");

    // A fresh password sign-in (aal1) is enough for an account without a
    // factor; once it has one, only a recent aal2 sign-in is.
    // No wait from here on: each session must stay within REAUTH_MAX_AGE.
    early_in_a_step().await;
    let fresh = s(&app.login("root", PASSWORD).await["access_token"]).to_owned();
    let (status, body) = app.post_bearer(&disable, &fresh, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
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
    let enable = format!("/api/admin/users/{id}/enable");
    let (status, body) = app.post_bearer(&enable, &fresh, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "aal1 session: {body}");
    assert_error(&body, "reauthentication_required");
    let (_, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "root", "password": PASSWORD}),
        )
        .await;
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": body["mfa_token"], "code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let aal2 = s(&body["access_token"]).to_owned();
    let (status, body) = app.post_bearer(&enable, &aal2, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["is_active"], true, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_needs_a_recent_second_factor_once_the_account_has_one() {
    let app = spawn_app_with(&[("REAUTH_MAX_AGE", "4"), ("DEFAULT_LOCALE", "en")]).await;
    app.register("pia", "pia@example.com", PASSWORD).await;
    let token = s(&app.login("pia", PASSWORD).await["access_token"]).to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(4600)).await;
    // Without a factor, the current password the request proves is the
    // fresh authentication (seed clients keep working with old sessions).
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});
    let (status, body) = app
        .post_bearer(
            "/api/auth/change-password",
            &token,
            Some(&change(PASSWORD, "Required-Pass-2")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, body) = app.post_bearer("/api/auth/mfa/totp", &token, None).await;
    assert_error(&body, "reauthentication_required");
    // No wait from here on: each session must stay within REAUTH_MAX_AGE.
    early_in_a_step().await;
    let fresh = s(&app.login("pia", "Required-Pass-2").await["access_token"]).to_owned();
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
    // The enrolling session signed in with the password alone (aal1): the
    // account's highest level is now aal2, so the right password is not enough.
    let (status, body) = app
        .post_bearer(
            "/api/auth/change-password",
            &fresh,
            Some(&change("Required-Pass-2", "Required-Pass-3")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");
    let (_, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "pia", "password": "Required-Pass-2"}),
        )
        .await;
    let (_, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": body["mfa_token"], "code": code(&secret, 0)}),
        )
        .await;
    let aal2 = s(&body["access_token"]).to_owned();
    let (status, body) = app
        .post_bearer(
            "/api/auth/change-password",
            &aal2,
            Some(&change("Required-Pass-2", "Required-Pass-3")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn granting_a_role_that_needs_a_factor_ends_the_sessions_of_an_account_without_one() {
    let app = spawn_app_with(&[("MFA_REQUIRED_ROLES", "logistics")]).await;
    let root = app
        .create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    let root = s(&root["access_token"]).to_owned();
    let una = app.register("una", "una@example.com", PASSWORD).await;
    let id = una["user"]["id"].as_i64().unwrap();
    let token = s(&app.login("una", PASSWORD).await["access_token"]).to_owned();
    let roles = format!("/api/admin/users/{id}/roles");
    let (status, body) = app
        .post_bearer(&roles, &root, Some(&json!({"role": "supplier"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a role without the rule changes nothing"
    );
    let (status, body) = app
        .post_bearer(&roles, &root, Some(&json!({"role": "logistics"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "una", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "mfa_enrolment_required");
}
