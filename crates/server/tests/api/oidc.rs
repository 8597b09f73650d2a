//! Tessera as an OpenID Provider (issue 18). The happy path is driven by a
//! real relying-party library, the `openidconnect` crate: discovery, the
//! authorization request with PKCE and a nonce, the sign-in and consent
//! pages (through a cookie jar), the code exchange, the ID token's
//! signature and claims checked by the library, UserInfo and the refresh.
//! The refusals are driven by hand: each would be a hole if it passed.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, Page};
use crate::helpers::{TestApp, spawn_app_with};

pub(crate) const PASSWORD: &str = "Correct-Horse-9";
pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// An app whose issuer is its own address (a free port chosen first, as a
/// deployment sets `OIDC_ISSUER` to its public URL).
async fn provider() -> (TestApp, String) {
    provider_with(&[]).await
}

/// [`provider`] with more settings.
pub(crate) async fn provider_with(extra: &[(&str, &str)]) -> (TestApp, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let issuer = format!("http://127.0.0.1:{port}");
    // A rotated refresh token is refused at once (no grace for racing tabs).
    let mut env = vec![
        ("PORT", port.as_str()),
        ("OIDC_ISSUER", issuer.as_str()),
        ("REFRESH_REUSE_INTERVAL", "0"),
    ];
    env.extend_from_slice(extra);
    let app = spawn_app_with(&env).await;
    assert_eq!(app.base, issuer);
    (app, issuer)
}

/// `tessera client create …`; returns (client_id, client_secret).
pub(crate) fn create_client(app: &TestApp, args: &[&str]) -> (String, Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = app
        .tessera_cli(dir.path())
        .args(["client", "create"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::to_owned)
    };
    (value("client_id").unwrap(), value("client_secret"))
}

fn cli(app: &TestApp, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = app.tessera_cli(dir.path()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every hidden field of a page's forms, HTML entities decoded.
pub(crate) fn hidden_fields(page: &Page) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in page.body.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| {
            let marker = format!("{name}=\"");
            let at = chunk.find(&marker)? + marker.len();
            Some(chunk[at..].split('"').next()?.to_owned())
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            let v = v
                .replace("&quot;", "\"")
                .replace("&#34;", "\"")
                .replace("&#x27;", "'")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&#60;", "<")
                .replace("&gt;", ">")
                .replace("&#62;", ">")
                .replace("&#38;", "&")
                .replace("&amp;", "&");
            out.push((n, v));
        }
    }
    out
}

/// The path and query of an absolute URL of the app.
pub(crate) fn local(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

pub(crate) fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Follows an authorization request through sign-in (when asked) and the
/// consent page (`consent`: allow or deny, when shown) to the client's
/// redirect URI; returns that URL.
pub(crate) async fn authorize(
    browser: &mut Browser<'_>,
    path: &str,
    identifier: &str,
    consent: &str,
) -> String {
    authorize_as(browser, path, identifier, consent, None).await
}

/// [`authorize`], answering the sign-in's second step with a TOTP code of
/// `totp_secret` when it comes.
pub(crate) async fn authorize_as(
    browser: &mut Browser<'_>,
    path: &str,
    identifier: &str,
    consent: &str,
    totp_secret: Option<&str>,
) -> String {
    // The client's origin: where the last redirect goes.
    let client_origin = url::Url::parse(&format!("http://app{path}"))
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "redirect_uri")
                .and_then(|(_, v)| url::Url::parse(&v).ok())
        })
        .map_or_else(
            || "http://127.0.0.1:9".to_owned(),
            |u| u.origin().ascii_serialization(),
        );
    let mut page = browser.get(path).await;
    for _ in 0..6 {
        if page.status == StatusCode::SEE_OTHER {
            let to = page.location().to_owned();
            if to.starts_with(&format!("{client_origin}/")) {
                return to;
            }
            if to.starts_with("/ui/sign-in") {
                let form = browser.get(&to).await;
                assert_eq!(form.status, StatusCode::OK, "{}", form.body);
                // Chromium applies form-action to the form's redirects, which
                // end at the client.
                let csp = form.headers["content-security-policy"].to_str().unwrap();
                assert!(
                    csp.contains(&format!("form-action 'self' {client_origin}")),
                    "{csp}"
                );
                let mut fields = hidden_fields(&form);
                fields.push(("identifier".into(), identifier.into()));
                fields.push(("password".into(), PASSWORD.into()));
                let refs: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                page = browser.post("/ui/sign-in", &refs).await;
                continue;
            }
            page = browser.get(&to).await;
            continue;
        }
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if page.body.contains("id=\"second-factor\"") {
            let secret = totp_secret.expect("a second step was asked for");
            let mut fields = hidden_fields(&page);
            fields.push(("code".into(), crate::factors::code(secret, 0)));
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            page = browser.post("/ui/sign-in/second-factor", &refs).await;
            continue;
        }
        assert!(page.body.contains("id=\"consent\""), "{}", page.body);
        let mut fields = hidden_fields(&page);
        fields.push(("consent".into(), consent.into()));
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        page = browser.post("/oauth/authorize", &refs).await;
    }
    panic!("no redirect to the client: {} {}", page.status, page.body);
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_relying_party_library_signs_a_person_in_reads_userinfo_and_refreshes() {
    let (app, issuer) = provider().await;
    app.create_account("olivia", "olivia@example.com", PASSWORD, "user");
    let (client_id, secret) = create_client(
        &app,
        &[
            "--name",
            "Wiki",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let http = no_redirects();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.clone()),
        Some(ClientSecret::new(secret.unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_scope(Scope::new("roles".into()))
        .set_pkce_challenge(challenge)
        .url();

    let mut browser = Browser::new(&app);
    let back = authorize(&mut browser, &local(url.as_str()), "olivia", "allow").await;
    let answer = query(&back);
    assert_eq!(answer.get("state"), Some(state.secret()));
    assert_eq!(answer.get("iss"), Some(&issuer), "RFC 9207");
    let code = answer.get("code").unwrap().clone();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token for openid");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.issuer().as_str(), issuer);
    assert_eq!(
        claims.email().map(|e| e.as_str().to_owned()),
        Some("olivia@example.com".to_owned())
    );
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str().to_owned()),
        Some("olivia".to_owned())
    );
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect();
    assert_eq!(amr, ["pwd"]);
    assert_eq!(claims.auth_context_ref().unwrap().as_str(), "aal1");
    assert!(claims.auth_time().is_some());
    // The raw claims: roles, and the session the RP-initiated logout will name.
    let payload = id_token_claims(&id_token.to_string());
    assert_eq!(payload["roles"], serde_json::json!(["user"]));
    assert_eq!(payload["azp"], client_id.as_str());
    assert!(payload["sid"].is_string());

    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(
        info.email().map(|e| e.as_str().to_owned()),
        Some("olivia@example.com".to_owned())
    );

    // The refresh token rotates; the refreshed ID token verifies too (no nonce).
    let refresh = tokens.refresh_token().expect("offline_access").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let again = refreshed.id_token().unwrap();
    let again_claims = again
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(again_claims.subject(), claims.subject());
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        refresh.secret()
    );
    // The old refresh token is spent: using it again is refused and ends
    // the session (reuse detection), so the new one stops working too.
    let reused = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(reused.is_err());
    let after_reuse = client
        .exchange_refresh_token(refreshed.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await;
    assert!(after_reuse.is_err(), "reuse ends the whole session");

    // A second authorization: the consent is remembered, no page is shown.
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let page = browser.get(&local(url.as_str())).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(page.location().starts_with(REDIRECT), "{}", page.location());
    assert!(query(page.location()).contains_key("code"));
}

/// Builds an authorization request by hand: `response_type=code`, the
/// client, [`REDIRECT`], `scope=openid email`, `state=st4te`, each replaced
/// by a value of `extra` of the same name, then the rest of `extra`.
pub(crate) fn authorize_path(client_id: &str, extra: &[(&str, &str)]) -> String {
    let base = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "st4te"),
    ];
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in base {
        if !extra.iter().any(|(name, _)| *name == k) {
            q.append_pair(k, v);
        }
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("/oauth/authorize?{}", q.finish())
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn token(app: &TestApp, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn authorization_requests_that_must_not_pass_are_refused_where_rfc_6749_says() {
    let (app, _) = provider().await;
    app.create_account("paul", "paul@example.com", PASSWORD, "user");
    let (public, _) = create_client(
        &app,
        &[
            "--name",
            "SPA",
            "--kind",
            "public",
            "--redirect-uri",
            REDIRECT,
            "--scopes",
            "openid email",
            "--first-party",
        ],
    );
    let mut browser = Browser::new(&app);

    // Unknown client, unregistered redirect URI: a page here, never a redirect.
    for path in [
        authorize_path("tc_nobody", &[]),
        format!(
            "/oauth/authorize?response_type=code&client_id={public}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=openid"
        ),
        format!(
            "/oauth/authorize?response_type=code&client_id={public}&redirect_uri={}&scope=openid",
            url::form_urlencoded::byte_serialize(format!("{REDIRECT}/x").as_bytes())
                .collect::<String>()
        ),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            page.body
        );
        assert!(page.headers.get("location").is_none(), "{path}");
    }

    // A repeated parameter is ambiguous: an error page, whatever the order.
    let repeated = format!(
        "{}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        authorize_path(&public, &[])
    );
    let page = browser.get(&repeated).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(
        page.body.contains("redirect_uri is repeated"),
        "{}",
        page.body
    );

    // Redirectable refusals go back with the error and the state.
    for (extra, error) in [
        (vec![], "invalid_request"),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("scope", "openid roles"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("scope", "openid admin"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("response_type", "token"),
            ],
            "unsupported_response_type",
        ),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("prompt", "none"),
            ],
            "login_required",
        ),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("request", "eyJhbGciOiJub25lIn0.e30."),
            ],
            "request_not_supported",
        ),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("response_mode", "fragment"),
            ],
            "invalid_request",
        ),
    ] {
        let path = authorize_path(&public, &extra);
        let page = browser.get(&path).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{extra:?}: {}",
            page.body
        );
        let q = query(page.location());
        assert!(page.location().starts_with(REDIRECT), "{}", page.location());
        assert_eq!(q.get("error").map(String::as_str), Some(error), "{extra:?}");
        assert_eq!(q.get("state").map(String::as_str), Some("st4te"));
        assert!(!q.contains_key("code"));
    }

    // A first-party client skips the consent page; a code comes back.
    let path = authorize_path(
        &public,
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = authorize(&mut browser, &path, "paul", "unused").await;
    let code = query(&back)["code"].clone();

    // A wrong PKCE verifier is refused, and the code is spent by the try:
    // a code is single use whatever the outcome.
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &public),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &VERIFIER.replace('d', "e")),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &public),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a refused code is spent: {body}"
    );

    // A fresh code, redeemed, then presented again: the second use is
    // refused and the tokens of the first stop working.
    let back = authorize(&mut browser, &path, "paul", "unused").await;
    let code = query(&back)["code"].clone();
    let redeem = [
        ("grant_type", "authorization_code"),
        ("client_id", public.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, first) = token(&app, &redeem).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["token_type"], "Bearer");
    assert!(
        first.get("refresh_token").is_none(),
        "no offline_access asked"
    );
    let access = first["access_token"].as_str().unwrap().to_owned();
    let (status, info) = app.get_bearer("/oauth/userinfo", &access).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["email"], "paul@example.com");
    assert!(info.get("roles").is_none(), "roles was not granted");
    let (status, again) = token(&app, &redeem).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert_eq!(again["error"], "invalid_grant");
    let (status, info) = app.get_bearer("/oauth/userinfo", &access).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "code reuse ends the first session: {info}"
    );
    assert_eq!(info["error"], "invalid_token");

    // A token of the first-party API is no client's: UserInfo refuses it.
    let login = app.login("paul", PASSWORD).await;
    let (status, info) = app
        .get_bearer("/oauth/userinfo", login["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{info}");
}

#[tokio::test]
async fn client_authentication_disabled_clients_and_disabled_accounts_are_refused() {
    let (app, _) = provider().await;
    app.create_account("quinn", "quinn@example.com", PASSWORD, "user");
    let (server, secret) = create_client(
        &app,
        &[
            "--name",
            "Server",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
            "--first-party",
        ],
    );
    let secret = secret.unwrap();
    let (other, other_secret) = create_client(
        &app,
        &[
            "--name",
            "Other",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let mut browser = Browser::new(&app);
    let path = authorize_path(&server, &[]);
    let code = query(&authorize(&mut browser, &path, "quinn", "unused").await)["code"].clone();

    // A wrong secret: 401 invalid_client, with Basic's challenge when Basic was used.
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&server, Some("wrong"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("www-authenticate").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // Another client's credentials: the code was not issued to it.
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &other),
            ("client_secret", other_secret.as_deref().unwrap()),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");

    // client_secret_basic works for a fresh code.
    let code = query(&authorize(&mut browser, &path, "quinn", "unused").await)["code"].clone();
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&server, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tokens: Value = r.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    // Disabling the client ends its sessions and refuses it everywhere.
    cli(&app, &["client", "disable", &server]);
    let (status, _) = app.get_bearer("/oauth/userinfo", &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &server),
            ("client_secret", &secret),
            ("code", "x.y"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    cli(&app, &["client", "enable", &server]);

    // A rotated secret replaces the old one at once.
    let rotated = cli(&app, &["client", "rotate-secret", &server]);
    let new_secret = rotated
        .trim()
        .strip_prefix("client_secret=")
        .unwrap()
        .to_owned();
    for (s, expected) in [
        (secret.as_str(), StatusCode::UNAUTHORIZED),
        (&new_secret, StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &server),
                ("client_secret", s),
                ("code", "00000000-0000-0000-0000-000000000000.x"),
            ],
        )
        .await;
        assert_eq!(status, expected, "{body}");
    }

    // A code whose account is disabled before redemption is refused.
    let code = query(&authorize(&mut browser, &path, "quinn", "unused").await)["code"].clone();
    cli(&app, &["user", "disable", "--user", "quinn"]);
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &server),
            ("client_secret", &new_secret),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn discovery_names_every_endpoint_and_the_jwks_holds_the_id_token_key() {
    let (app, issuer) = provider().await;
    let (status, meta) = app
        .get_bearer("/.well-known/openid-configuration", "")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["issuer"], issuer.as_str());
    assert_eq!(
        meta["authorization_endpoint"],
        format!("{issuer}/oauth/authorize")
    );
    assert_eq!(meta["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let (_, jwks) = app.get_bearer("/.well-known/jwks.json", "").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert!(
        keys.iter()
            .any(|k| k["alg"] == "RS256" && k["kty"] == "RSA"),
        "an HS256 deployment publishes the ID tokens' RS256 key: {jwks}"
    );
    // The key is kept: a restart signs with the same one.
    let kid = keys[0]["kid"].clone();
    let app = app.restart().await;
    let (_, jwks) = app.get_bearer("/.well-known/jwks.json", "").await;
    assert_eq!(jwks["keys"][0]["kid"], kid);
}

#[tokio::test]
async fn the_admin_api_manages_clients_for_holders_of_client_manage_only() {
    let (app, _) = provider().await;
    let admin = app
        .create_with_role("ada", "ada@example.com", PASSWORD, "admin")
        .await;
    let root = app
        .create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    let admin = admin["access_token"].as_str().unwrap();
    let root = root["access_token"].as_str().unwrap();
    let body = serde_json::json!({"name": "App", "kind": "public", "redirect_uris": [REDIRECT]});
    // `admin` manages users, not clients.
    let (status, refused) = app
        .post_bearer("/api/admin/clients", admin, Some(&body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["permission"], "client:manage");
    // Refused metadata names what is wrong.
    for (bad, words) in [
        (
            serde_json::json!({"name": "App", "kind": "public", "redirect_uris": ["http://evil.example/cb"]}),
            "redirect_uris",
        ),
        (
            serde_json::json!({"name": "App", "kind": "robot", "redirect_uris": [REDIRECT]}),
            "confidential",
        ),
        (
            serde_json::json!({"name": "", "kind": "public", "redirect_uris": [REDIRECT]}),
            "name",
        ),
        (
            serde_json::json!({"name": "App", "kind": "public", "redirect_uris": [REDIRECT], "scopes": ["admin"]}),
            "scopes",
        ),
        (
            serde_json::json!({"name": "App", "kind": "public", "redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]}),
            "grant_types",
        ),
        (
            serde_json::json!({"name": "App", "kind": "public", "redirect_uris": [REDIRECT], "extra": 1}),
            "extra",
        ),
    ] {
        let (status, answer) = app
            .post_bearer("/api/admin/clients", root, Some(&bad))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert_eq!(answer["code"], "invalid_client_metadata");
        assert!(
            answer["message"].as_str().unwrap().contains(words),
            "{answer}"
        );
    }
    let (status, created) = app
        .post_bearer("/api/admin/clients", root, Some(&body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(
        created["client_secret"].is_null(),
        "a public client has no secret"
    );
    assert_eq!(created["client"]["scopes"].as_array().unwrap().len(), 6);
    let id = created["client"]["client_id"].as_str().unwrap();
    // A public client has no secret to rotate; an unknown id is 404.
    let (status, _) = app
        .post_bearer(&format!("/api/admin/clients/{id}/secret"), root, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, missing) = app.get_bearer("/api/admin/clients/tc_missing", root).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["code"], "client_not_found");
    let listed = cli(&app, &["client", "list"]);
    assert!(listed.contains(id), "{listed}");
}

/// A form POST to a client-authenticated endpoint with HTTP Basic.
async fn form_post(
    app: &TestApp,
    path: &str,
    client: (&str, &str),
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(path))
        .basic_auth(client.0, Some(client.1))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn revocation_introspection_pushed_requests_and_rp_initiated_logout() {
    let (app, _) = provider().await;
    app.create_account("rita", "rita@example.com", PASSWORD, "user");
    let (id, secret) = create_client(
        &app,
        &[
            "--name",
            "Portal",
            "--kind",
            "confidential",
            "--first-party",
            "--redirect-uri",
            REDIRECT,
            "--post-logout-redirect-uri",
            "http://127.0.0.1:9/bye",
        ],
    );
    let secret = secret.unwrap();
    let me = (id.as_str(), secret.as_str());
    let (rs_id, rs_secret) = create_client(
        &app,
        &[
            "--name",
            "API",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let rs_secret = rs_secret.unwrap();
    let rs = (rs_id.as_str(), rs_secret.as_str());
    let (spa, _) = create_client(
        &app,
        &[
            "--name",
            "SPA",
            "--kind",
            "public",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let mut browser = Browser::new(&app);
    let scope = [("scope", "openid email offline_access")];
    let path = authorize_path(&id, &scope);
    let code = query(&authorize(&mut browser, &path, "rita", "unused").await)["code"].clone();
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, tokens) = form_post(&app, "/oauth/token", me, &redeem).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    // Introspection, for a confidential client (a resource server).
    let (status, info) = form_post(&app, "/oauth/introspect", rs, &[("token", &access)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], id.as_str());
    assert_eq!(info["scope"], "openid email offline_access");
    assert_eq!(info["username"], "rita");
    assert_eq!(info["token_type"], "Bearer");
    let (_, info) = form_post(&app, "/oauth/introspect", rs, &[("token", &refresh)]).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["token_type"], "refresh_token");
    let (_, info) = form_post(&app, "/oauth/introspect", rs, &[("token", "garbage")]).await;
    assert_eq!(info, serde_json::json!({"active": false}));
    let r = app
        .client
        .post(app.url("/oauth/introspect"))
        .form(&[("client_id", spa.as_str()), ("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a public client may not introspect"
    );

    // Revocation: another client's revoke changes nothing; the owner's ends
    // the access token, then the refresh token's whole session.
    let (status, _) = form_post(&app, "/oauth/revoke", rs, &[("token", &access)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get_bearer("/oauth/userinfo", &access).await;
    assert_eq!(status, StatusCode::OK, "not the revoker's token");
    let (status, _) = form_post(
        &app,
        "/oauth/revoke",
        me,
        &[("token", &access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get_bearer("/oauth/userinfo", &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, info) = form_post(&app, "/oauth/introspect", rs, &[("token", &access)]).await;
    assert_eq!(info["active"], false);
    let (status, _) = form_post(&app, "/oauth/revoke", me, &[("token", &refresh)]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = form_post(&app, "/oauth/introspect", rs, &[("token", &refresh)]).await;
    assert_eq!(info["active"], false);
    let (status, body) = form_post(
        &app,
        "/oauth/token",
        me,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    let (status, _) = form_post(&app, "/oauth/revoke", me, &[("token", "unknown")]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "RFC 7009 §2.2: unknown tokens alike"
    );

    // Pushed authorization requests: pushed with the client's credentials,
    // used by reference, once.
    let pushed_fields = [
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "p4r"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let (status, pushed) = form_post(&app, "/oauth/par", me, &pushed_fields).await;
    assert_eq!(status, StatusCode::CREATED, "{pushed}");
    assert_eq!(pushed["expires_in"], 300);
    let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let by_reference = format!(
        "/oauth/authorize?client_id={id}&request_uri={}",
        url::form_urlencoded::byte_serialize(request_uri.as_bytes()).collect::<String>()
    );
    let back = authorize(&mut browser, &by_reference, "rita", "unused").await;
    let answer = query(&back);
    assert_eq!(answer["state"], "p4r");
    let (status, pushed_tokens) = form_post(
        &app,
        "/oauth/token",
        me,
        &[
            ("grant_type", "authorization_code"),
            ("code", &answer["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{pushed_tokens}");
    let page = browser.get(&by_reference).await;
    assert_eq!(
        page.status,
        StatusCode::BAD_REQUEST,
        "a pushed request works once"
    );
    let mut wrong = pushed_fields.to_vec();
    wrong.push(("client_id", &rs_id));
    let (status, body) = form_post(&app, "/oauth/par", me, &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = form_post(&app, "/oauth/par", (&id, "wrong"), &pushed_fields).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // RP-initiated logout with the ID token: the client's session and the
    // browser's end, and the browser goes to the registered URI with state.
    let id_token = pushed_tokens["id_token"].as_str().unwrap().to_owned();
    let access = pushed_tokens["access_token"].as_str().unwrap().to_owned();
    let unregistered = format!(
        "/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fother"
    );
    let page = browser.get(&unregistered).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    let page = browser
        .get(&format!(
            "/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fbye&state=s1"
        ))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "http://127.0.0.1:9/bye?state=s1");
    let (status, _) = app.get_bearer("/oauth/userinfo", &access).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the client's session ended"
    );
    let page = browser.get("/ui/account").await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "the browser's session ended"
    );
    assert!(page.location().starts_with("/ui/sign-in"));

    // Without an ID token, a signed-in person is asked first.
    browser.sign_in("rita", PASSWORD).await;
    let page = browser.get(&format!("/oauth/logout?client_id={id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"logout\""), "{}", page.body);
    let page2 = browser.get("/ui/account").await;
    assert_eq!(
        page2.status,
        StatusCode::OK,
        "nothing ended before the answer"
    );
    let fields = hidden_fields(&page);
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = browser.post("/oauth/logout", &refs).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/ui/signed-out");
    let page = browser.get("/ui/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

fn id_token_claims(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

/// The ID token of one authorization through the pages.
async fn signed_in_id_token(
    app: &TestApp,
    browser: &mut Browser<'_>,
    client: (&str, &str),
    extra: &[(&str, &str)],
    totp: Option<&str>,
) -> (String, Value) {
    let first = browser.get(&authorize_path(client.0, extra)).await;
    let location = first.location().to_owned();
    let back = if first.status == StatusCode::SEE_OTHER && location.starts_with(REDIRECT) {
        location.clone()
    } else {
        authorize_as(
            browser,
            &authorize_path(client.0, extra),
            "vera",
            "unused",
            totp,
        )
        .await
    };
    let code = query(&back)["code"].clone();
    let (status, tokens) = form_post(
        app,
        "/oauth/token",
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    (
        location,
        id_token_claims(tokens["id_token"].as_str().unwrap()),
    )
}

#[tokio::test]
async fn prompt_max_age_and_acr_values_ask_for_a_fresh_or_second_factor_sign_in() {
    let (app, _) = provider().await;
    app.create_account("vera", "vera@example.com", PASSWORD, "user");
    let (id, secret) = create_client(
        &app,
        &[
            "--name",
            "App",
            "--kind",
            "confidential",
            "--first-party",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let secret = secret.unwrap();
    let client = (id.as_str(), secret.as_str());
    let mut browser = Browser::new(&app);
    let (first, claims) = signed_in_id_token(&app, &mut browser, client, &[], None).await;
    assert!(first.starts_with("/ui/sign-in?return_to="), "{first}");
    assert_eq!(claims["acr"], "aal1");
    let auth_time = claims["auth_time"].as_i64().unwrap();

    // Signed in: prompt=none goes straight back with a code.
    let (first, _) =
        signed_in_id_token(&app, &mut browser, client, &[("prompt", "none")], None).await;
    assert!(first.starts_with(REDIRECT), "{first}");
    // prompt=login and max_age=0 ask for the password again.
    for extra in [("prompt", "login"), ("max_age", "0")] {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (first, claims) = signed_in_id_token(&app, &mut browser, client, &[extra], None).await;
        assert!(
            first.starts_with("/ui/sign-in?reauthenticate=1&return_to="),
            "{extra:?}: {first}"
        );
        assert!(
            claims["auth_time"].as_i64().unwrap() > auth_time,
            "{extra:?}"
        );
    }
    // The way back from a forced sign-in carries its time under a MAC: a
    // request cannot claim a fresh sign-in it did not get.
    let forged = browser
        .get(&authorize_path(
            &id,
            &[("prompt", "login"), ("tessera_signed_in_after", "0.forged")],
        ))
        .await;
    assert!(
        forged
            .location()
            .starts_with("/ui/sign-in?reauthenticate=1"),
        "{}",
        forged.location()
    );
    // prompt=none cannot show the sign-in page.
    let page = browser
        .get(&authorize_path(
            &id,
            &[("prompt", "none"), ("max_age", "0")],
        ))
        .await;
    assert_eq!(query(page.location())["error"], "login_required");
    // acr_values=aal2 of an account without a second factor: aal1 is what it has.
    let (first, claims) =
        signed_in_id_token(&app, &mut browser, client, &[("acr_values", "aal2")], None).await;
    assert!(first.starts_with(REDIRECT), "{first}");
    assert_eq!(claims["acr"], "aal1");

    // An account with a TOTP factor signs in with it: amr and acr say so.
    let login = app.login("vera", PASSWORD).await;
    let token = login["access_token"].as_str().unwrap();
    let (status, body) = app.post_bearer("/api/auth/mfa/totp", token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let totp = body["secret"].as_str().unwrap().to_owned();
    crate::factors::early_in_a_step().await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            token,
            Some(&serde_json::json!({"code": crate::factors::code(&totp, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut browser = Browser::new(&app);
    let (_, claims) = signed_in_id_token(
        &app,
        &mut browser,
        client,
        &[("acr_values", "aal2")],
        Some(&totp),
    )
    .await;
    assert_eq!(claims["acr"], "aal2");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
}

#[tokio::test]
async fn a_confidential_client_gets_a_token_of_its_own_with_client_credentials() {
    let (app, _) = provider().await;
    let (id, secret) = create_client(
        &app,
        &[
            "--name",
            "Batch",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
            "--grant-types",
            "client_credentials",
            "--scopes",
            "roles email",
        ],
    );
    let secret = secret.unwrap();
    let me = (id.as_str(), secret.as_str());
    let (status, tokens) = form_post(
        &app,
        "/oauth/token",
        me,
        &[("grant_type", "client_credentials"), ("scope", "roles")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["scope"], "roles");
    assert!(tokens.get("refresh_token").is_none() && tokens.get("id_token").is_none());
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let claims = id_token_claims(&access);
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["token_use"], "client_credentials");
    let (status, info) = form_post(&app, "/oauth/introspect", me, &[("token", &access)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], id.as_str());
    assert_eq!(info["scope"], "roles");
    let (status, _) = app.get_bearer("/oauth/userinfo", &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no person behind it");
    let (status, _) = app.get_bearer("/api/auth/me", &access).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "not an access token of the API"
    );
    for scope in ["openid", "offline_access", "phone", "nonsense"] {
        let (status, body) = form_post(
            &app,
            "/oauth/token",
            me,
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{scope}: {body}");
        assert_eq!(body["error"], "invalid_scope");
    }
    let (status, _) = form_post(&app, "/oauth/revoke", me, &[("token", &access)]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = form_post(&app, "/oauth/introspect", me, &[("token", &access)]).await;
    assert_eq!(info["active"], false, "revoked");
    // A client without the grant, and a public client, may not use it.
    let (other, other_secret) = create_client(
        &app,
        &[
            "--name",
            "Web",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let (status, body) = form_post(
        &app,
        "/oauth/token",
        (&other, other_secret.as_deref().unwrap()),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
    let dir = tempfile::tempdir().unwrap();
    let out = app
        .tessera_cli(dir.path())
        .args([
            "client",
            "create",
            "--name",
            "SPA",
            "--kind",
            "public",
            "--redirect-uri",
            REDIRECT,
            "--grant-types",
            "client_credentials",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("confidential"));
}

/// A new RS256 key: (PKCS#8 PEM, public JWK with its kid).
fn client_key() -> (String, Value) {
    use base64::Engine as _;
    use tessera_crypto::keyring::{KeyAlg, SigningKey};
    let der = SigningKey::generate(KeyAlg::Rs256).unwrap();
    let jwk = SigningKey::from_pkcs8(KeyAlg::Rs256, &der).unwrap().jwk;
    let body = base64::engine::general_purpose::STANDARD.encode(&der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    (
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ),
        jwk,
    )
}

/// A `private_key_jwt` assertion of `client` for `aud`, expiring in `ttl` s.
fn assertion(pem: &str, kid: &str, client: &str, aud: &str, ttl: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        &serde_json::json!({"iss": client, "sub": client, "aud": aud,
            "iat": now, "exp": now + ttl, "jti": uuid::Uuid::new_v4().to_string()}),
        &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_client_authenticates_with_a_signed_assertion_once_per_jti() {
    let (app, issuer) = provider().await;
    let (pem, jwk) = client_key();
    let kid = jwk["kid"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, serde_json::json!({"keys": [jwk]}).to_string()).unwrap();
    let (id, _) = create_client(
        &app,
        &[
            "--name",
            "Signed",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
            "--grant-types",
            "client_credentials",
            "--jwks-file",
            jwks_file.to_str().unwrap(),
        ],
    );
    let token_endpoint = format!("{issuer}/oauth/token");
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url("/oauth/token"))
                .form(&fields)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned();
    let signed = assertion(&pem, &kid, &id, &token_endpoint, 60);
    let fields = vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_assertion_type", jwt_bearer.clone()),
        ("client_assertion", signed.clone()),
    ];
    let (status, body) = post(fields.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        id_token_claims(body["access_token"].as_str().unwrap())["sub"],
        id.as_str()
    );
    let (status, body) = post(fields).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "replayed: {body}");
    assert_eq!(body["error"], "invalid_client");

    let (other_pem, _) = client_key();
    for (what, bad) in [
        (
            "another audience",
            assertion(&pem, &kid, &id, "https://elsewhere.example/token", 60),
        ),
        ("expired", assertion(&pem, &kid, &id, &token_endpoint, -5)),
        (
            "too long-lived",
            assertion(&pem, &kid, &id, &token_endpoint, 3600),
        ),
        (
            "an unregistered key",
            assertion(&other_pem, &kid, &id, &token_endpoint, 60),
        ),
        (
            "another issuer",
            assertion(&pem, &kid, "tc_someone", &token_endpoint, 60),
        ),
    ] {
        let (status, body) = post(vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_assertion_type", jwt_bearer.clone()),
            ("client_assertion", bad),
        ])
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    }
    let (status, body) = post(vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_assertion_type", "urn:other".to_owned()),
        (
            "client_assertion",
            assertion(&pem, &kid, &id, &token_endpoint, 60),
        ),
    ])
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn the_console_registers_and_manages_applications() {
    let (app, _) = provider().await;
    app.create_account("root", "root@example.com", PASSWORD, "super_admin");
    app.create_account("ada", "ada@example.com", PASSWORD, "admin");
    let mut admin = Browser::new(&app);
    admin.sign_in("ada", PASSWORD).await;
    let page = admin.get("/ui/admin/clients").await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "admin lacks client:manage"
    );

    let mut root = Browser::new(&app);
    root.sign_in("root", PASSWORD).await;
    let page = root.get("/ui/admin/clients").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.field("csrf");
    let bad = root
        .post(
            "/ui/admin/clients",
            &[
                ("csrf", &csrf),
                ("name", "Wiki"),
                ("kind", "confidential"),
                ("redirect_uris", "http://wiki.example/cb"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("redirect_uris"), "{}", bad.body);
    let made = root
        .post(
            "/ui/admin/clients",
            &[
                ("csrf", &csrf),
                ("name", "Wiki"),
                ("kind", "confidential"),
                (
                    "redirect_uris",
                    &format!("{REDIRECT}\r\nhttps://wiki.example/cb\r\n"),
                ),
                ("first_party", "1"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let after = |label: &str| {
        let at = made.body.find(label).unwrap() + label.len();
        made.body[at..].split('<').next().unwrap().trim().to_owned()
    };
    let id = after("Client ID: ");
    let secret = after("Client secret: ");
    assert!(id.starts_with("tc_") && secret.len() == 64, "{}", made.body);
    // The secret works at the token endpoint (an unknown code: invalid_grant, not invalid_client).
    let (status, _) = form_post(
        &app,
        "/oauth/token",
        (&id, &secret),
        &[("grant_type", "authorization_code"), ("code", "x.y")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let listed = root.get("/ui/admin/clients").await;
    assert!(listed.body.contains(&id) && listed.body.contains("https://wiki.example/cb"));

    for (action, expect) in [("disable", "Enable"), ("enable", "Disable")] {
        let done = root
            .post(
                &format!("/ui/admin/clients/{id}/{action}"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let listed = root.get("/ui/admin/clients").await;
        assert!(listed.body.contains(&format!("{expect}: Wiki")), "{action}");
    }
    let rotated = root
        .post(
            &format!("/ui/admin/clients/{id}/secret"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let (status, _) = form_post(
        &app,
        "/oauth/token",
        (&id, &secret),
        &[("grant_type", "authorization_code"), ("code", "x.y")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old secret stopped working"
    );
    let forged = root
        .post(
            &format!("/ui/admin/clients/{id}/delete"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let deleted = root
        .post(
            &format!("/ui/admin/clients/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let listed = root.get("/ui/admin/clients").await;
    assert!(!listed.body.contains(&id));
}

#[tokio::test]
async fn an_expired_code_or_a_missing_verifier_is_refused_and_login_hint_fills_the_form() {
    let (app, _) = provider_with(&[("OIDC_CODE_TTL", "1")]).await;
    app.create_account("walt", "walt@example.com", PASSWORD, "user");
    let (spa, _) = create_client(
        &app,
        &[
            "--name",
            "SPA",
            "--kind",
            "public",
            "--first-party",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let mut browser = Browser::new(&app);
    let path = authorize_path(
        &spa,
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("login_hint", "walt@example.com"),
        ],
    );
    let first = browser.get(&path).await;
    let form = browser.get(first.location()).await;
    assert!(
        form.body.contains("value=\"walt@example.com\""),
        "login_hint fills the identifier: {}",
        form.body
    );
    let code = query(&authorize(&mut browser, &path, "walt", "unused").await)["code"].clone();
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &spa),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error_description"], "code_verifier is missing");
    let code = query(&authorize(&mut browser, &path, "walt", "unused").await)["code"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &spa),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "expired: {body}");
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_clients_tokens_work_at_the_provider_only_never_at_the_first_party_api() {
    let (app, _) = provider().await;
    app.create_account("root", "root@example.com", PASSWORD, "super_admin");
    let (id, secret) = create_client(
        &app,
        &[
            "--name",
            "App",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let secret = secret.unwrap();
    let me = (id.as_str(), secret.as_str());
    let mut browser = Browser::new(&app);
    let path = authorize_path(&id, &[("scope", "openid offline_access")]);
    let code = query(&authorize(&mut browser, &path, "root", "allow").await)["code"].clone();
    let (status, tokens) = form_post(
        &app,
        "/oauth/token",
        me,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        id_token_claims(&access)["client_id"],
        id.as_str(),
        "RFC 9068 client_id"
    );

    // The person's own API, in every dialect, and the admin API refuse it:
    // the application was granted `openid offline_access`, not the account.
    for path in [
        "/api/auth/me",
        "/api/auth/profile",
        "/api/auth/sessions",
        "/api/v1/auth/profile",
        "/api/admin/users",
        "/api/admin/clients",
    ] {
        let (status, body) = app.get_bearer(path, &access).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
    }
    let r = app
        .client
        .get(app.url("/CheckJWTToken"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_ne!(
        body["Code"], 200,
        "seed 001's token check refuses it: {body}"
    );
    // Its refresh token does not refresh at the first-party route either.
    let (status, body) = app
        .post(
            "/api/auth/refresh",
            &serde_json::json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // … and a first-party token does not work at UserInfo.
    let login = app.login("root", PASSWORD).await;
    let (status, _) = app
        .get_bearer("/oauth/userinfo", login["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A first-party refresh token is no client's.
    let (status, body) = form_post(
        &app,
        "/oauth/token",
        me,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", login["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Where it belongs, it works; a reused refresh token is invalid_grant, not a fault.
    let (status, info) = app.get_bearer("/oauth/userinfo", &access).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    let grant = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, body) = form_post(&app, "/oauth/token", me, &grant).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = form_post(&app, "/oauth/token", me, &grant).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn the_token_endpoints_limit_answers_in_the_oauth_shape_and_large_forms_are_read() {
    let (app, _) = provider_with(&[("RATE_LIMIT_REFRESH", "2/60")]).await;
    let (id, secret) = create_client(
        &app,
        &[
            "--name",
            "App",
            "--kind",
            "confidential",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let secret = secret.unwrap();
    // A form larger than actix's 16 KiB default, within MAX_BODY_BYTES: read.
    let padding = "x".repeat(20_000);
    let (status, body) = form_post(
        &app,
        "/oauth/token",
        (&id, &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", &padding)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant", "the form was read: {body}");
    let _ = form_post(&app, "/oauth/token", (&id, &secret), &[("grant_type", "x")]).await;
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
}
