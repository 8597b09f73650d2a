//! Passkeys over HTTP (issue 17): registration, a passkey as the second
//! factor of a password login and as a sign-in alone, rename and removal,
//! and the WebAuthn checks that matter to an attacker (another origin,
//! a replayed answer). The authenticator is `webauthn-authenticator-rs`'s
//! software passkey, which runs the browser's side of each ceremony
//! (client data, origin and RP id checks) and signs with a real P-256 key.

use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{
    AllowCredentials, AuthenticatorTransport, CreationChallengeResponse, RequestChallengeResponse,
};

use crate::factors::claims;
use crate::helpers::{TestApp, assert_error, s, spawn_app, spawn_app_with};

const PASSWORD: &str = "Passkey-Pass-1";
/// The server's default `WEBAUTHN_ORIGINS` (any port on localhost).
pub(crate) const ORIGIN: &str = "http://localhost:8080";

/// An authenticator that performs user verification.
pub(crate) fn authenticator() -> SoftPasskey {
    SoftPasskey::new(true)
}

/// Runs `create()` on `options` from `origin`: the credential's JSON.
pub(crate) fn create(key: &mut SoftPasskey, origin: &str, options: &Value) -> Value {
    let options: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
    let credential = key
        .do_registration(Url::parse(origin).unwrap(), options)
        .unwrap();
    serde_json::to_value(credential).unwrap()
}

/// Runs `get()` on `options` from `origin`. For options that allow any
/// credential, `discoverable` names the credential id and the user handle
/// (the account's uuid) a discoverable credential would answer with: the
/// software passkey keeps no resident credentials, so the test lists the
/// id for it and adds the handle to its answer (the handle is not signed;
/// a platform authenticator returns the one it stored).
pub(crate) fn get(
    key: &mut SoftPasskey,
    origin: &str,
    options: &Value,
    discoverable: Option<(&str, &str)>,
) -> Value {
    let mut options: RequestChallengeResponse = serde_json::from_value(options.clone()).unwrap();
    if options.public_key.allow_credentials.is_empty() {
        options.public_key.allow_credentials = discoverable
            .iter()
            .map(|(id, _)| AllowCredentials {
                type_: "public-key".into(),
                id: {
                    use base64::Engine as _;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(id)
                        .unwrap()
                },
                transports: Some(vec![AuthenticatorTransport::Internal]),
            })
            .collect();
    }
    let mut credential = key
        .do_authentication(Url::parse(origin).unwrap(), options)
        .unwrap();
    if let Some((_, handle)) = discoverable {
        credential.response.user_handle =
            Some(uuid::Uuid::parse_str(handle).unwrap().as_bytes().to_vec());
    }
    serde_json::to_value(credential).unwrap()
}

/// Registers `name` with a passkey from `key`; returns (access token,
/// passkey view, credential id, the account's uuid).
async fn with_passkey(
    app: &TestApp,
    name: &str,
    key: &mut SoftPasskey,
) -> (String, Value, String, String) {
    app.register(name, &format!("{name}@example.com"), PASSWORD)
        .await;
    let login = app.login(name, PASSWORD).await;
    let token = s(&login["access_token"]).to_owned();
    let uuid = s(&login["user"]["uuid"]).to_owned();
    let (status, begun) = app
        .post_bearer("/api/auth/passkeys/options", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    let selection = &begun["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["userVerification"], "required", "{begun}");
    assert_eq!(selection["residentKey"], "preferred", "{begun}");
    let credential = create(key, ORIGIN, &begun["options"]);
    let id = s(&credential["id"]).to_owned();
    let (status, body) = app
        .post_bearer(
            "/api/auth/passkeys",
            &token,
            Some(&json!({
                "ceremony_token": begun["ceremony_token"],
                "credential": credential,
                "name": "  Laptop  ",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (token, body, id, uuid)
}

/// Signs `name` in with the password and `key` as the second factor: an
/// aal2 access token.
async fn signed_in_at_aal2(app: &TestApp, name: &str, key: &mut SoftPasskey) -> String {
    let (_, step) = app
        .post(
            "/api/auth/login",
            &json!({"username": name, "password": PASSWORD}),
        )
        .await;
    let (_, begun) = app
        .post(
            "/api/auth/mfa/passkey/options",
            &json!({"mfa_token": step["mfa_token"]}),
        )
        .await;
    let assertion = get(key, ORIGIN, &begun["options"], None);
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": step["mfa_token"], "credential": assertion}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s(&body["access_token"]).to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_is_a_second_factor_and_a_sign_in_of_its_own() {
    let app = spawn_app().await;
    let mut key = authenticator();
    let (token, registered, credential_id, uuid) = with_passkey(&app, "pia", &mut key).await;
    assert_eq!(registered["passkey"]["name"], "Laptop", "{registered}");
    // The software passkey is not backup eligible: a device-bound key.
    assert_eq!(registered["passkey"]["amr"], "hwk", "{registered}");
    let codes = registered["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10, "the first factor issues recovery codes");

    let (status, list) = app.get_bearer("/api/auth/passkeys", &token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["passkeys"][0]["last_used_at"], Value::Null, "{list}");
    let (_, factors) = app.get_bearer("/api/auth/mfa", &token).await;
    assert_eq!(factors["mfa_enabled"], true, "{factors}");
    assert_eq!(factors["factors"], json!(["passkey", "recovery_code"]));
    assert_eq!(factors["passkeys"], 1, "{factors}");

    // The password alone is no longer enough.
    let (status, step) = app
        .post(
            "/api/auth/login",
            &json!({"username": "pia", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{step}");
    assert_error(&step, "mfa_required");
    assert_eq!(step["factors"], json!(["passkey", "recovery_code"]));
    let mfa_token = s(&step["mfa_token"]).to_owned();
    let (status, begun) = app
        .post(
            "/api/auth/mfa/passkey/options",
            &json!({"mfa_token": mfa_token}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    let allowed = begun["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(allowed.len(), 1, "{begun}");
    assert_eq!(allowed[0]["id"], credential_id.as_str(), "{begun}");
    let assertion = get(&mut key, ORIGIN, &begun["options"], None);
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "factor": "passkey", "credential": assertion}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = claims(s(&body["access_token"]));
    assert_eq!(c["amr"], json!(["pwd", "hwk", "mfa"]), "{c}");
    assert_eq!(c["aal"], 2, "{c}");
    // The same answer again: the challenge is gone.
    let (status, again) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "credential": assertion}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{again}");
    assert_error(&again, "mfa_token_invalid");

    // A sign-in with the passkey alone: no username, no password.
    let (status, begun) = app.post("/api/auth/passkey/options", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    assert!(
        begun["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "any discoverable passkey: {begun}"
    );
    // Without the user handle a discoverable credential returns, refused.
    let anonymous = get(
        &mut key,
        ORIGIN,
        &begun["options"],
        Some((&credential_id, &uuid)),
    );
    let mut no_handle = anonymous.clone();
    no_handle["response"]["userHandle"] = Value::Null;
    let (status, body) = app
        .post(
            "/api/auth/passkey/login",
            &json!({"ceremony_token": begun["ceremony_token"], "credential": no_handle}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "passkey_refused");
    let (_, begun) = app.post("/api/auth/passkey/options", &json!({})).await;
    let assertion = get(
        &mut key,
        ORIGIN,
        &begun["options"],
        Some((&credential_id, &uuid)),
    );
    let signed_in = json!({"ceremony_token": begun["ceremony_token"], "credential": assertion});
    let (status, body) = app.post("/api/auth/passkey/login", &signed_in).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["username"], "pia", "{body}");
    let c = claims(s(&body["access_token"]));
    assert_eq!(c["amr"], json!(["hwk", "mfa"]), "{c}");
    assert_eq!(c["aal"], 2, "{c}");
    let (status, me) = app
        .get_bearer("/api/auth/me", s(&body["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    // Replayed: the ceremony was used.
    let (status, again) = app.post("/api/auth/passkey/login", &signed_in).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert_error(&again, "passkey_refused");
    let (_, list) = app
        .get_bearer("/api/auth/passkeys", s(&body["access_token"]))
        .await;
    assert!(list["passkeys"][0]["last_used_at"].is_string(), "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ceremony_relayed_through_another_origin_is_refused() {
    let app = spawn_app().await;
    app.register("phil", "phil@example.com", PASSWORD).await;
    let token = s(&app.login("phil", PASSWORD).await["access_token"]).to_owned();
    let (_, begun) = app
        .post_bearer("/api/auth/passkeys/options", &token, None)
        .await;
    // A phishing page relays the server's options under its own RP id.
    let mut relayed = begun["options"].clone();
    relayed["publicKey"]["rp"]["id"] = json!("evil.example");
    let mut key = authenticator();
    let credential = create(&mut key, "https://evil.example", &relayed);
    let (status, body) = app
        .post_bearer(
            "/api/auth/passkeys",
            &token,
            Some(&json!({"ceremony_token": begun["ceremony_token"], "credential": credential})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "passkey_refused");
    let (_, list) = app.get_bearer("/api/auth/passkeys", &token).await;
    assert_eq!(list["passkeys"], json!([]), "nothing stored: {list}");

    // A registered passkey's assertion made for another origin is refused
    // too (sign-in alone).
    let mut key = authenticator();
    let (_, _, credential_id, uuid) = with_passkey(&app, "phoebe", &mut key).await;
    let (_, begun) = app.post("/api/auth/passkey/options", &json!({})).await;
    let mut relayed = begun["options"].clone();
    relayed["publicKey"]["rpId"] = json!("evil.example");
    let assertion = get(
        &mut key,
        "https://evil.example",
        &relayed,
        Some((&credential_id, &uuid)),
    );
    let (status, body) = app
        .post(
            "/api/auth/passkey/login",
            &json!({"ceremony_token": begun["ceremony_token"], "credential": assertion}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "passkey_refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn passkeys_are_renamed_and_removed_by_their_owner_only() {
    let app = spawn_app().await;
    let mut key = authenticator();
    let (token, registered, _, _) = with_passkey(&app, "rena", &mut key).await;
    let id = s(&registered["passkey"]["id"]).to_owned();
    let path = format!("/api/auth/passkeys/{id}/rename");
    let (status, body) = app
        .post_bearer(&path, &token, Some(&json!({"name": "Phone"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for bad in [
        json!({"name": "  "}),
        json!({"name": "x".repeat(65)}),
        json!({}),
    ] {
        let (status, body) = app.post_bearer(&path, &token, Some(&bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} {body}");
        assert_error(&body, "validation_failed");
    }
    let (_, list) = app.get_bearer("/api/auth/passkeys", &token).await;
    assert_eq!(list["passkeys"][0]["name"], "Phone", "{list}");

    // Another account cannot see, rename or remove it.
    app.register("mallory", "mallory@example.com", PASSWORD)
        .await;
    let other = s(&app.login("mallory", PASSWORD).await["access_token"]).to_owned();
    let (status, body) = app
        .post_bearer(&path, &other, Some(&json!({"name": "Mine"})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "factor_not_enrolled");
    let delete = |t: &str| {
        app.client
            .delete(app.url(&format!("/api/auth/passkeys/{id}")))
            .bearer_auth(t.to_owned())
            .send()
    };
    let (status, body) = crate::helpers::parts(delete(&other).await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // The registering session signed in with the password alone (aal1):
    // removing a factor needs the account's highest level, aal2.
    let (status, body) = crate::helpers::parts(delete(&token).await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");
    let token = signed_in_at_aal2(&app, "rena", &mut key).await;
    let (status, body) = crate::helpers::parts(delete(&token).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The last factor took the recovery codes with it.
    let (_, factors) = app.get_bearer("/api/auth/mfa", &token).await;
    assert_eq!(factors["mfa_enabled"], false, "{factors}");
    assert_eq!(factors["recovery_codes_left"], 0, "{factors}");
    let (status, _) = crate::helpers::parts(delete(&token).await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let login = app.login("rena", PASSWORD).await;
    assert!(login["access_token"].is_string(), "{login}");
}

#[tokio::test(flavor = "multi_thread")]
async fn registering_and_removing_need_a_recent_sign_in() {
    // 3 s, not 1: the registration before must still count as recent on a
    // loaded machine (auth_time is whole seconds).
    let app = spawn_app_with(&[("REAUTH_MAX_AGE", "3")]).await;
    let mut key = authenticator();
    let (token, registered, _, _) = with_passkey(&app, "old", &mut key).await;
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    let (status, body) = app
        .post_bearer("/api/auth/passkeys/options", &token, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");
    let id = s(&registered["passkey"]["id"]);
    let (status, body) = crate::helpers::parts(
        app.client
            .delete(app.url(&format!("/api/auth/passkeys/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_dialect_logins_of_a_passkey_account_name_the_factor() {
    let app = spawn_app().await;
    let mut key = authenticator();
    with_passkey(&app, "sid", &mut key).await;
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "sid@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], 5, "{body}");
    assert!(
        body["factors"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("passkey"))),
        "{body}"
    );
}
