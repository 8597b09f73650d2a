//! "Export my data" (issue 20): `GET /api/auth/me/export` and the account
//! page's download hold every part of the account — profile, roles,
//! sessions, factors, passkeys, consents, its own audit events — and no
//! secret: not the password or its hash, the TOTP secret, a recovery code,
//! a token or a passkey's key.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::factors::{code, early_in_a_step};
use crate::helpers::{TestApp, assert_error, eventually, s};
use crate::oidc::{
    CHALLENGE, PASSWORD, REDIRECT, authorize, authorize_path, create_client, provider_with,
};
use crate::passkeys::{ORIGIN, authenticator, create, get};

/// `GET /api/auth/me/export` with `token`: status, `Content-Disposition`,
/// the raw text and the body (checked against the OpenAPI document).
async fn export(app: &TestApp, token: &str) -> (StatusCode, Option<String>, String, Value) {
    let r = app
        .client
        .get(app.url("/api/auth/me/export"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let disposition = r
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    crate::contract::check("/api/auth/me/export", status.as_u16(), &body);
    (status, disposition, text, body)
}

/// Every object key in `v`, at any depth.
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                out.push(k.clone());
                keys(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
        _ => {}
    }
}

fn kinds(body: &Value) -> Vec<String> {
    body["audit"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["kind"]).to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_export_holds_every_part_of_the_account_and_no_secret() {
    let (app, _) = provider_with(&[]).await;
    let registered = app.register("erin", "erin@example.com", PASSWORD).await;
    let erin_id = registered["user"]["id"].as_i64().unwrap();
    // Someone else, whose data must not appear.
    app.register("frank", "frank@example.com", PASSWORD).await;
    app.login("frank", PASSWORD).await;

    // A consent given to a third-party application.
    let (album, _) = create_client(
        &app,
        &[
            "--name",
            "Photo Album",
            "--kind",
            "public",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let mut browser = Browser::new(&app);
    let path = authorize_path(
        &album,
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = authorize(&mut browser, &path, "erin", "allow").await;
    assert!(back.contains("code="), "{back}");

    // Sessions of its own, a passkey (with recovery codes), a TOTP factor.
    let first = app.login("erin", PASSWORD).await;
    let first_refresh = s(&first["refresh_token"]).to_owned();
    let first = s(&first["access_token"]).to_owned();
    let mut key = authenticator();
    let (status, begun) = app
        .post_bearer("/api/auth/passkeys/options", &first, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    let credential = create(&mut key, ORIGIN, &begun["options"]);
    let (status, passkey) = app
        .post_bearer(
            "/api/auth/passkeys",
            &first,
            Some(&json!({
                "ceremony_token": begun["ceremony_token"],
                "credential": credential,
                "name": "Laptop",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{passkey}");
    let recovery: Vec<String> = passkey["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c).to_owned())
        .collect();
    assert!(!recovery.is_empty());
    // A second sign-in, finished with the passkey, adds a TOTP factor.
    let (_, step) = app
        .post(
            "/api/auth/login",
            &json!({"username": "erin", "password": PASSWORD}),
        )
        .await;
    let (_, begun) = app
        .post(
            "/api/auth/mfa/passkey/options",
            &json!({"mfa_token": step["mfa_token"]}),
        )
        .await;
    let assertion = get(&mut key, ORIGIN, &begun["options"], None);
    let (status, login) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": step["mfa_token"], "credential": assertion}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = s(&login["access_token"]).to_owned();
    let refresh = s(&login["refresh_token"]).to_owned();
    let (status, enrolment) = app.post_bearer("/api/auth/mfa/totp", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let secret = s(&enrolment["secret"]).to_owned();
    early_in_a_step().await;
    let (status, confirmed) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &token,
            Some(&json!({"code": code(&secret, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");

    // The audit trail is written behind the answers: wait for the factor.
    let (status, disposition, text, body) = eventually(50, || async {
        let got = export(&app, &token).await;
        kinds(&got.3)
            .iter()
            .any(|k| k == "factor_enrolled")
            .then_some(got)
    })
    .await
    .expect("the factor's audit event in the export");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        disposition.as_deref(),
        Some("attachment; filename=\"tessera-export-erin.json\"")
    );

    assert_eq!(body["format"], "tessera.account-export.v1");
    let profile = &body["profile"];
    assert_eq!(profile["id"], erin_id);
    assert_eq!(profile["username"], "erin");
    assert_eq!(profile["email"], "erin@example.com");
    assert_eq!(profile["role"], registered["user"]["role"]);
    assert_eq!(profile["roles"], json!([profile["role"]]));
    assert!(
        profile["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.is_string())
    );
    assert_eq!(profile["uuid"], registered["user"]["uuid"]);

    // Its sessions: this one (marked), signed in with a password.
    let sessions = body["sessions"].as_array().unwrap();
    let current: Vec<&Value> = sessions.iter().filter(|x| x["current"] == true).collect();
    assert_eq!(current.len(), 1, "{sessions:?}");
    let amr = current[0]["amr"].as_array().unwrap();
    assert!(
        amr.contains(&json!("pwd")) && amr.contains(&json!("mfa")),
        "{amr:?}"
    );
    // Turning the TOTP factor on ended the password-only session.
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert!(current[0]["client_id"].is_null());

    // Factor kinds and counts, the passkey's name.
    assert_eq!(body["factors"]["mfa_enabled"], true);
    assert_eq!(body["factors"]["totp"]["enabled"], true);
    assert_eq!(body["factors"]["passkeys"], 1);
    assert_eq!(body["factors"]["recovery_codes_left"], recovery.len());
    let passkeys = body["passkeys"].as_array().unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0]["name"], "Laptop");
    assert_eq!(passkeys[0]["id"], passkey["passkey"]["id"]);
    assert_eq!(body["identities"], json!([]));

    // The consent, with the application's name and the scopes granted.
    let consents = body["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 1, "{consents:?}");
    assert_eq!(consents[0]["client_id"], album.as_str());
    assert_eq!(consents[0]["client_name"], "Photo Album");
    let scopes = consents[0]["scopes"].as_array().unwrap();
    assert!(scopes.contains(&json!("openid")) && scopes.contains(&json!("email")));

    // Its own audit events, newest first, and no one else's.
    let events = body["audit"]["events"].as_array().unwrap();
    assert_eq!(body["audit"]["total"], events.len());
    let seen = kinds(&body);
    for kind in [
        "login_succeeded",
        "factor_enrolled",
        "recovery_codes_issued",
    ] {
        assert!(seen.iter().any(|k| k == kind), "{kind} in {seen:?}");
    }
    for e in events {
        assert!(
            e["actor_id"] == erin_id || e["subject_id"] == erin_id,
            "not erin's: {e}"
        );
    }
    let times: Vec<&str> = events.iter().map(|e| s(&e["at"])).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(!text.contains("frank"), "another account's data: {text}");

    // No secret, under any name or as any value.
    let mut names = Vec::new();
    keys(&body, &mut names);
    for name in &names {
        for word in [
            "password",
            "hash",
            "secret",
            "token",
            "public_key",
            "credential",
        ] {
            assert!(!name.contains(word), "a key named {name}");
        }
    }
    for value in [
        PASSWORD,
        &secret,
        &token,
        &refresh,
        &first,
        &first_refresh,
        "$argon2",
        s(&credential["response"]["attestationObject"]),
    ] {
        assert!(!text.contains(value), "{value} in the export");
    }
    for c in &recovery {
        assert!(
            !text.contains(c.as_str()),
            "recovery code {c} in the export"
        );
        assert!(
            !text.contains(&c.replace('-', "")),
            "recovery code {c} in the export"
        );
    }

    // Each export is audited, and the next one shows it.
    let again = eventually(50, || async {
        let got = export(&app, &token).await;
        kinds(&got.3)
            .iter()
            .any(|k| k == "account_exported")
            .then_some(got.3)
    })
    .await
    .expect("account_exported in a later export");
    let newest = &again["audit"]["events"][0];
    assert_eq!(newest["actor_id"], erin_id);

    // No token, a forged one, a refresh token: the /api/auth refusal.
    let r = app
        .client
        .get(app.url("/api/auth/me/export"))
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::parts(r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "token_missing");
    let (status, _, _, body) = export(&app, &refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _, _, body) = export(&app, &format!("{token}x")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_account_page_downloads_the_same_document() {
    let (app, _) = provider_with(&[]).await;
    app.register("gina", "gina@example.com", PASSWORD).await;

    // Signed out: the sign-in page, then back.
    let mut browser = Browser::new(&app);
    let page = browser.get("/ui/account/export").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location().starts_with("/ui/sign-in"),
        "{}",
        page.location()
    );

    browser.sign_in("gina", PASSWORD).await;
    let account = browser.get("/ui/account").await;
    assert!(
        account
            .body
            .contains("id=\"export-data\" href=\"/ui/account/export\" download"),
        "{}",
        account.body
    );
    let download = browser.get("/ui/account/export").await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.body);
    assert_eq!(
        download.headers["content-disposition"],
        "attachment; filename=\"tessera-export-gina.json\""
    );
    let body: Value = serde_json::from_str(&download.body).unwrap();
    crate::contract::check("/api/auth/me/export", 200, &body);
    assert_eq!(body["format"], "tessera.account-export.v1");
    assert_eq!(body["profile"]["username"], "gina");
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(
        sessions.iter().filter(|x| x["current"] == true).count(),
        1,
        "the browser's session is the current one: {sessions:?}"
    );
    assert!(!download.body.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrators_ip_and_browser_stay_out_of_a_users_export() {
    let (app, _) = provider_with(&[]).await;
    let root = app
        .create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    let registered = app.register("lena", "lena@example.com", PASSWORD).await;
    let id = registered["user"]["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/admin/users/{id}/roles")))
        .bearer_auth(s(&root["access_token"]))
        .header("user-agent", "AdminLaptop/secret-internal-build")
        .json(&json!({"role": "pharmacy"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let token = s(&app.login("lena", PASSWORD).await["access_token"]).to_owned();
    let (_, _, text, body) = eventually(50, || async {
        let got = export(&app, &token).await;
        kinds(&got.3)
            .iter()
            .any(|k| k == "role_granted")
            .then_some(got)
    })
    .await
    .expect("the grant in the export");
    assert!(!text.contains("AdminLaptop"), "{text}");
    let grant = body["audit"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "role_granted")
        .unwrap();
    assert_eq!(grant["actor_id"], root["user"]["id"]);
    assert!(
        grant["ip"].is_null() && grant["user_agent"].is_null(),
        "{grant}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_username_beyond_ascii_is_named_in_rfc_6266s_extended_filename() {
    let (app, _) = provider_with(&[]).await;
    app.register("张三李", "zhang@example.com", PASSWORD).await;
    let token = s(&app.login("zhang@example.com", PASSWORD).await["access_token"]).to_owned();
    let (status, disposition, _, body) = export(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let disposition = disposition.unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"tessera-export.json\"")
            && disposition.contains("filename*=UTF-8''tessera")
            && disposition.ends_with("%E5%BC%A0%E4%B8%89%E6%9D%8E.json"),
        "{disposition}"
    );
}
