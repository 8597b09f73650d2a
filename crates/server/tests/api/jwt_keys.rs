//! Asymmetric access tokens (EdDSA, RS256): JWKS, kid, rotation, and the
//! attack suite — every forged, confused or out-of-date token is 401.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, parts, s, spawn_app_with};

async fn jwks(app: &TestApp) -> Vec<Value> {
    let (status, body) = parts(
        app.client
            .get(app.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    body["keys"].as_array().unwrap().clone()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap()
}

fn payload_of(token: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()
}

async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.get_bearer("/api/auth/me", token).await.0
}

#[tokio::test(flavor = "multi_thread")]
async fn rs256_tokens_carry_a_published_kid_and_refuse_hs256_with_the_public_key() {
    let app = spawn_app_with(&[("JWT_ALGORITHM", "RS256")]).await;
    let login = app.alice().await;
    let at = s(&login["access_token"]).to_owned();
    let h = header_of(&at);
    assert_eq!(
        (h["alg"].as_str(), h["typ"].as_str()),
        (Some("RS256"), Some("at+jwt"))
    );
    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0]["kid"].clone(), keys[0]["kty"].as_str()),
        (h["kid"].clone(), Some("RSA"))
    );
    assert_eq!(me(&app, &at).await, StatusCode::OK);
    // Algorithm confusion: the same claims, HS256-signed with the public key.
    let mut confused = Header::new(Algorithm::HS256);
    confused.typ = Some("at+jwt".into());
    confused.kid = h["kid"].as_str().map(str::to_owned);
    for public in [
        serde_json::to_vec(&keys[0]).unwrap(),
        s(&keys[0]["n"]).as_bytes().to_vec(),
    ] {
        let forged = encode(
            &confused,
            &payload_of(&at),
            &EncodingKey::from_secret(&public),
        )
        .unwrap();
        assert_eq!(me(&app, &forged).await, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_and_out_of_date_eddsa_tokens_are_401() {
    let app = spawn_app_with(&[("JWT_ALGORITHM", "EdDSA"), ("JWT_LEEWAY", "0")]).await;
    let login = app.alice().await;
    let at = s(&login["access_token"]).to_owned();
    assert_eq!(me(&app, &at).await, StatusCode::OK);
    let kid = header_of(&at)["kid"].as_str().unwrap().to_owned();
    // The test holds the private key (it is the app's own development key),
    // so it can sign tokens that are valid in every way but one.
    let pem = std::fs::read(app.var_dir().join("jwt-keys").join(format!("{kid}.pem"))).unwrap();
    let key = EncodingKey::from_ed_pem(&pem).unwrap();
    let good = payload_of(&at);
    let sign = |claims: &Value, kid: Option<&str>, typ: &str| {
        let mut h = Header::new(Algorithm::EdDSA);
        h.typ = Some(typ.into());
        h.kid = kid.map(str::to_owned);
        encode(&h, claims, &key).unwrap()
    };
    assert_eq!(
        me(&app, &sign(&good, Some(&kid), "at+jwt")).await,
        StatusCode::OK,
        "the forger's baseline works"
    );
    let now = chrono::Utc::now().timestamp();
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let parts_of: Vec<&str> = at.split('.').collect();
    let tampered_payload = format!(
        "{}.{}.{}",
        parts_of[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&with("role", json!("super_admin"))).unwrap()),
        parts_of[2]
    );
    let mut sig = URL_SAFE_NO_PAD.decode(parts_of[2]).unwrap();
    sig[0] ^= 1;
    let tampered_signature = format!(
        "{}.{}.{}",
        parts_of[0],
        parts_of[1],
        URL_SAFE_NO_PAD.encode(sig)
    );
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{kid}"}}"#)),
        parts_of[1]
    );
    let cases = [
        ("alg none", alg_none),
        ("tampered payload", tampered_payload),
        ("tampered signature", tampered_signature),
        (
            "expired",
            sign(&with("exp", json!(now - 5)), Some(&kid), "at+jwt"),
        ),
        (
            "not yet valid",
            sign(&with("nbf", json!(now + 600)), Some(&kid), "at+jwt"),
        ),
        (
            "wrong iss",
            sign(&with("iss", json!("someone-else")), Some(&kid), "at+jwt"),
        ),
        (
            "wrong aud",
            sign(&with("aud", json!("another-api")), Some(&kid), "at+jwt"),
        ),
        ("no exp", sign(&without("exp"), Some(&kid), "at+jwt")),
        ("no nbf", sign(&without("nbf"), Some(&kid), "at+jwt")),
        ("no iss", sign(&without("iss"), Some(&kid), "at+jwt")),
        ("no aud", sign(&without("aud"), Some(&kid), "at+jwt")),
        ("not an access token (typ)", sign(&good, Some(&kid), "JWT")),
        (
            "not an access token (token_use)",
            sign(&with("token_use", json!("refresh")), Some(&kid), "at+jwt"),
        ),
        ("unknown kid", sign(&good, Some("no-such-key"), "at+jwt")),
        (
            "path-like kid",
            sign(&good, Some("../../../etc/passwd"), "at+jwt"),
        ),
        ("no kid", sign(&good, None, "at+jwt")),
        ("a refresh token", s(&login["refresh_token"]).to_owned()),
        ("garbage", "abc.def.ghi".to_owned()),
    ];
    for (what, token) in &cases {
        let (status, body) = app.get_bearer("/api/auth/me", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_rotate_publishes_a_new_key_and_old_tokens_keep_working() {
    let app = spawn_app_with(&[("JWT_ALGORITHM", "EdDSA")]).await;
    let before = app.alice().await;
    let old = s(&before["access_token"]).to_owned();
    let old_kid = header_of(&old)["kid"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let out = app
        .tessera_cli(dir.path())
        .env("JWT_ALGORITHM", "EdDSA")
        .env("JWT_KEYS_DIR", app.var_dir().join("jwt-keys"))
        .env("JWT_KEY_ACTIVATION_DELAY", "0")
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("new key "));
    let app = app.restart().await;
    // The access tokens' keys (the RS256 key of ID tokens is published too).
    let keys: Vec<Value> = jwks(&app)
        .await
        .into_iter()
        .filter(|k| k["alg"] == "EdDSA")
        .collect();
    assert_eq!(keys.len(), 2, "old and new published: {keys:?}");
    let after = app.login("alice", "Secret123").await;
    let new = s(&after["access_token"]);
    assert_ne!(
        header_of(new)["kid"].as_str(),
        Some(old_kid.as_str()),
        "the new key signs"
    );
    assert_eq!(me(&app, new).await, StatusCode::OK);
    assert_eq!(
        me(&app, &old).await,
        StatusCode::OK,
        "a token of the old key still verifies"
    );
    // HS256 has no ring to rotate: the command says so and fails.
    let out = app
        .tessera_cli(dir.path())
        .env("JWT_ALGORITHM", "HS256")
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HS256"));
}

/// Issue 12, item 6: a token re-signed with the server's own key but
/// carrying `crit` (RFC 7515 §4.1.11) or an unencoded payload (RFC 7797) is
/// refused by every dialect's "who am I" route, whatever the algorithm; both
/// spellings of the access-token media type (RFC 9068 §4) are accepted.
#[tokio::test(flavor = "multi_thread")]
async fn crit_headers_are_refused_on_every_route_and_both_typ_forms_accepted() {
    for alg in ["HS256", "EdDSA", "RS256"] {
        let app = spawn_app_with(&[("JWT_ALGORITHM", alg)]).await;
        let login = app.alice().await;
        let at = s(&login["access_token"]).to_owned();
        let original = header_of(&at);
        let key = match alg {
            "HS256" => EncodingKey::from_secret(crate::helpers::SECRET.as_bytes()),
            _ => {
                let kid = s(&original["kid"]);
                let pem = std::fs::read(app.var_dir().join("jwt-keys").join(format!("{kid}.pem")))
                    .unwrap();
                if alg == "EdDSA" {
                    EncodingKey::from_ed_pem(&pem).unwrap()
                } else {
                    EncodingKey::from_rsa_pem(&pem).unwrap()
                }
            }
        };
        let payload = payload_of(&at);
        let resign = |extra: Value| {
            let mut h: Header = serde_json::from_value(original.clone()).unwrap();
            let mut merged = serde_json::to_value(&h).unwrap();
            for (k, v) in extra.as_object().unwrap() {
                merged[k] = v.clone();
            }
            h = serde_json::from_value(merged).unwrap();
            encode(&h, &payload, &key).unwrap()
        };
        let routes = |token: String| {
            let app = &app;
            async move {
                let (me, me_body) = app.get_bearer("/api/auth/me", &token).await;
                let (_, check) = app.get_bearer("/CheckJWTToken", &token).await;
                let (profile, profile_body) = app.get_bearer("/api/v1/auth/profile", &token).await;
                (me, me_body, check, profile, profile_body)
            }
        };
        for extra in [
            json!({"crit": ["bork"], "bork": 1}),
            json!({"crit": []}),
            json!({"crit": ["b64"], "b64": false}),
            json!({"b64": false}),
        ] {
            let (me, me_body, check, profile, profile_body) = routes(resign(extra.clone())).await;
            assert_eq!(me, StatusCode::UNAUTHORIZED, "{alg} {extra}: {me_body}");
            assert_eq!(me_body["code"], "token_invalid", "{alg} {extra}");
            assert_eq!(check["Code"], 401, "{alg} {extra}: {check}");
            assert_eq!(
                profile,
                StatusCode::UNAUTHORIZED,
                "{alg} {extra}: {profile_body}"
            );
        }
        for typ in ["at+jwt", "application/at+jwt", "Application/AT+JWT"] {
            let (me, _, check, profile, _) = routes(resign(json!({"typ": typ}))).await;
            assert_eq!(
                (me, check["Code"].as_i64(), profile),
                (StatusCode::OK, Some(200), StatusCode::OK),
                "{alg} typ {typ}: the forger's baseline is accepted"
            );
        }
    }
}
