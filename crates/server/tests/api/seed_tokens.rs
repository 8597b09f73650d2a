//! Tokens the seeds' own Flask routes accept (issue 13, item 12): seed 001's
//! tokens name the account by its address in `sub` and carry `role`,
//! `permissions`, `is_superuser` and `is_admin`; the other dialects' tokens
//! name it by id; every token carries Tessera's own `uid`, which is what
//! Tessera reads. scripts/seed-tokens.sh checks the same tokens with
//! Flask-JWT-Extended itself.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, s, spawn_app};

/// The claims of `token` (not checked: the server checks).
pub fn payload_of(token: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()
}

/// `token` with its claims edited by `edit`, signed with the test app's
/// shared secret under the header Tessera writes (as a Flask app holding
/// the same `JWT_SECRET_KEY` could).
fn resigned(token: &str, edit: impl Fn(&mut serde_json::Map<String, Value>)) -> String {
    let mut claims = payload_of(token);
    edit(claims.as_object_mut().unwrap());
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    encode(
        &header,
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn legacy_login(app: &TestApp, email: &str, password: &str) -> Value {
    let (status, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(matches!(body["Code"].as_i64(), Some(200 | 202)), "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_001_tokens_present_the_address_and_the_claims_dream_reads() {
    let app = spawn_app().await;
    // A verified address (the command line's accounts are): only a proven
    // address is presented in `sub`.
    let registered = app
        .create_with_role("dreamer", "Dreamer@Example.com", "Secret123", "unauth")
        .await;
    let id = registered["user"]["id"].as_i64().unwrap();
    let login = legacy_login(&app, "dreamer@example.com", "Secret123").await;
    let claims = payload_of(s(&login["Token"]));
    assert_eq!(claims["sub"], "dreamer@example.com", "{claims}");
    assert_eq!(claims["uid"], id, "{claims}");
    assert_eq!(claims["role"], "unauth", "{claims}");
    assert_eq!(
        claims["permissions"],
        json!(["profile:read", "profile:update"]),
        "{claims}"
    );
    assert_eq!(claims["is_superuser"], false, "{claims}");
    assert_eq!(claims["is_admin"], false, "{claims}");
    assert_eq!(claims["aud"], "tessera", "kept (RFC 9068 §2.2): {claims}");
    // Tessera itself still knows the account.
    let (_, check) = app.get_bearer("/CheckJWTToken", s(&login["Token"])).await;
    assert_eq!(
        (check["Code"].as_i64(), check["UserID"].as_i64()),
        (Some(200), Some(id)),
        "{check}"
    );
    let (status, me) = app.get_bearer("/api/auth/me", s(&login["Token"])).await;
    assert_eq!(
        (status, me["user"]["id"].as_i64()),
        (StatusCode::OK, Some(id))
    );

    // A super_admin's token says so.
    let root = app
        .create_with_role("root", "root@example.com", "Admin-Secret-1", "super_admin")
        .await;
    let login = legacy_login(&app, "root@example.com", "Admin-Secret-1").await;
    assert_eq!(login["Code"], 202, "{login}");
    let claims = payload_of(s(&login["Token"]));
    assert_eq!(claims["sub"], "root@example.com");
    assert_eq!(claims["uid"], root["user"]["id"]);
    assert_eq!(claims["is_superuser"], true, "{claims}");
    assert_eq!(claims["is_admin"], false, "only /Admin/Login: {claims}");
    let permissions = claims["permissions"].as_array().unwrap();
    assert!(
        permissions.contains(&json!("user:delete")) && permissions.len() > 2,
        "{claims}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_other_dialects_tokens_present_the_account_id() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let id = login["user"]["id"].as_i64().unwrap();
    let (status, v1) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "a@b.com", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    for (route, token) in [
        ("/api/auth/login", s(&login["access_token"])),
        ("/api/v1/auth/login", s(&v1["token"])),
    ] {
        let claims = payload_of(token);
        // Seed 003's routes read `int(get_jwt_identity())`: the id /me shows.
        assert_eq!(claims["sub"], id.to_string(), "{route}: {claims}");
        assert_eq!(claims["uid"], id, "{route}: {claims}");
        for absent in ["permissions", "is_superuser", "is_admin"] {
            assert!(claims.get(absent).is_none(), "{route}: {claims}");
        }
    }
    let (_, me) = app
        .get_bearer("/api/auth/me", s(&login["access_token"]))
        .await;
    assert_eq!(me["user"]["id"], id);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_in_sub_never_names_an_account() {
    let app = spawn_app().await;
    let alice = app
        .create_with_role("alice", "alice@example.com", "Secret123", "unauth")
        .await;
    app.register("bob", "bob@example.com", "Secret123").await;
    let login = legacy_login(&app, "alice@example.com", "Secret123").await;
    let token = s(&login["Token"]);

    // The address in `sub` is stale (or names someone else, as after an
    // address change): the account is still the one `uid` names.
    let stale = resigned(token, |c| {
        c.insert("sub".into(), json!("bob@example.com"));
    });
    let (_, check) = app.get_bearer("/CheckJWTToken", &stale).await;
    assert_eq!(check["Code"], 200, "{check}");
    assert_eq!(check["User"], "alice@example.com", "{check}");
    assert_eq!(check["UserID"], alice["user"]["id"], "{check}");

    // Without `uid`, an address-subject token names no account.
    let no_uid = resigned(token, |c| {
        c.remove("uid");
    });
    let (_, check) = app.get_bearer("/CheckJWTToken", &no_uid).await;
    assert_eq!(check["Code"], 401, "{check}");
    let (status, _) = app.get_bearer("/api/auth/me", &no_uid).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A token issued before `uid` existed (`sub` = the id) still works.
    let modern = app.login("alice", "Secret123").await;
    let old = resigned(s(&modern["access_token"]), |c| {
        c.remove("uid");
    });
    let (status, me) = app.get_bearer("/api/auth/me", &old).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["id"], alice["user"]["id"]);
}

/// An address nobody has proved is never presented in `sub` (issue 13
/// review): the seed's Flask routes trust `sub` without asking Tessera, so
/// a token of someone who signed up with another's address would outlive
/// the owner's claim there. Until the address is verified, `sub` is the id;
/// once it is, the address.
#[tokio::test(flavor = "multi_thread")]
async fn only_a_verified_address_is_presented_in_sub() {
    let app = spawn_app().await;
    let email = "late@example.com";
    let form = json!({"Name": "late", "Email": email, "Password": "Secret123"});
    let (_, body) = crate::seed001::post_en(&app, "/Auth/Sign", &form).await;
    assert_eq!(body["Code"], 200, "{body}");
    let login = legacy_login(&app, email, "Secret123").await;
    let claims = payload_of(s(&login["Token"]));
    assert_eq!(claims["sub"], claims["uid"].to_string(), "{claims}");
    assert_eq!(claims["sub"], login["UserID"].to_string(), "{claims}");
    let code = crate::seed001::code_in_mail(&app, email, "Your sign-up code is ", 1).await;
    let mut verify = form.clone();
    verify["VerifyCode"] = json!(code);
    let (_, body) = crate::seed001::post_en(&app, "/Auth/Verify", &verify).await;
    assert_eq!(body["Code"], 200, "{body}");
    let login = legacy_login(&app, email, "Secret123").await;
    assert_eq!(payload_of(s(&login["Token"]))["sub"], email);
}

/// Every dialect's access token says how and when its session authenticated
/// (RFC 8176 `amr`, `acr` as the NIST assurance level, OpenID Connect
/// `auth_time`), after a login and after each kind of refresh alike (issue
/// 14): a refresh keeps the login's time and methods.
#[tokio::test(flavor = "multi_thread")]
async fn every_access_token_carries_amr_acr_and_auth_time() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let check = |token: &str, what: &str| -> i64 {
        let c = payload_of(token);
        assert_eq!(c["amr"], json!(["pwd"]), "{what}: {c}");
        assert_eq!(c["acr"], "aal1", "{what}: {c}");
        let t = c["auth_time"]
            .as_i64()
            .unwrap_or_else(|| panic!("{what}: {c}"));
        assert!(t <= c["iat"].as_i64().unwrap(), "{what}: {c}");
        t
    };
    let at = check(s(&login["access_token"]), "/api/auth/login");
    let (status, rotated) = app
        .post_bearer("/api/auth/refresh", s(&login["refresh_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(check(s(&rotated["access_token"]), "rotation"), at);
    let (status, again) = app
        .post_bearer("/api/auth/refresh", s(&rotated["access_token"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(check(s(&again["access_token"]), "access refresh"), at);

    let (status, v1) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "a@b.com", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    check(s(&v1["token"]), "/api/v1/auth/login");

    let legacy = legacy_login(&app, "a@b.com", "Secret123").await;
    let at = check(s(&legacy["Token"]), "/Auth/Login");
    let (status, rotated) = app
        .post_bearer("/api/auth/refresh", s(&legacy["RefreshToken"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(
        check(s(&rotated["access_token"]), "/Auth/Login's refresh"),
        at
    );
}
