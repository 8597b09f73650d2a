//! The OpenAPI document: served at `/openapi.json` and `/docs`, lists exactly
//! the routes the server has, and a tour through every route gets each
//! one's documented success answer (every JSON answer is checked against the
//! document by `helpers::parts`).

use std::collections::BTreeSet;

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tessera_server::http::{DialectKind, route_table};

use crate::contract;
use crate::helpers::{TestApp, parts, s, spawn_app_with};
use crate::seed001::code_in_mail;
use crate::seed002::link_token;

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let table = route_table();
    let routes: BTreeSet<(String, String)> = table
        .iter()
        // The hosted pages are for browsers, not API clients: docs/pages.md
        // lists them, the document does not.
        .filter(|(path, _)| DialectKind::of(path) != DialectKind::Pages)
        .flat_map(|(path, methods)| {
            // HEAD is GET without the body (RFC 9110 §9.3.2): GET's entry documents it.
            methods
                .iter()
                .filter(|m| **m != "HEAD")
                .map(|m| ((*m).to_owned(), (*path).to_owned()))
        })
        .collect();
    for (path, methods) in &table {
        assert_eq!(
            methods.contains(&"GET"),
            methods.contains(&"HEAD"),
            "{path}: HEAD is listed exactly where GET is"
        );
    }
    let documented: BTreeSet<(String, String)> = tessera_server::openapi::documented_operations()
        .into_iter()
        .collect();
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes without documentation: {undocumented:?}"
    );
    assert!(
        phantom.is_empty(),
        "documented routes the server lacks: {phantom:?}"
    );
}

/// What the tour saw: (method, documented path, status).
struct Tour<'a> {
    app: &'a TestApp,
    seen: BTreeSet<(String, String, u16)>,
}

impl Tour<'_> {
    async fn json(&mut self, method: &str, r: RequestBuilder) -> (StatusCode, Value) {
        let resp = r.header("accept-language", "en").send().await.unwrap();
        let path = resp.url().path().to_owned();
        let (status, body) = parts(resp).await;
        self.note(method, &path, status);
        (status, body)
    }

    async fn raw(&mut self, method: &str, r: RequestBuilder) -> (StatusCode, String) {
        let resp = r.send().await.unwrap();
        let path = resp.url().path().to_owned();
        let status = resp.status();
        self.note(method, &path, status);
        (status, resp.text().await.unwrap())
    }

    fn note(&mut self, method: &str, path: &str, status: StatusCode) {
        let t = contract::template(path).unwrap_or_else(|| panic!("{path} is not documented"));
        self.seen
            .insert((method.to_owned(), t.to_owned(), status.as_u16()));
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.app.client.get(self.app.url(path))
    }

    fn post(&self, path: &str, body: &Value) -> RequestBuilder {
        self.app.client.post(self.app.url(path)).json(body)
    }

    fn delete(&self, path: &str) -> RequestBuilder {
        self.app.client.delete(self.app.url(path))
    }
}

fn ok(status: StatusCode, body: &Value) {
    assert!(status.is_success(), "{status}: {body}");
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)]
async fn a_tour_of_every_route_gets_the_documented_answers() {
    // Carol's pending registration (older than the 1 s TTL) can be rejected.
    // Its own address is its issuer and callback base: it is its own
    // upstream provider in the tour's last part (issue 19).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let base = format!("http://127.0.0.1:{port}");
    let app_return = format!("{base}/app/");
    let app = spawn_app_with(&[
        ("V1_VERIFY_ON_GET", "true"),
        ("UNVERIFIED_ACCOUNT_TTL", "1"),
        ("MFA_REQUIRED_ROLES", "logistics"),
        ("PASSWORDLESS_LOGIN", "true"),
        ("PORT", &port),
        ("OIDC_ISSUER", &base),
        ("PUBLIC_BASE_URL", &base),
        ("RETURN_TO_ALLOWED", &app_return),
    ])
    .await;
    let mut t = Tour {
        app: &app,
        seen: BTreeSet::new(),
    };

    // Operations and the document itself.
    let (_, served) = t.json("GET", t.get("/openapi.json")).await;
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(
        served,
        serde_json::to_value(tessera_server::openapi::document()).unwrap()
    );
    for p in ["/health", "/ready", "/.well-known/jwks.json"] {
        let (status, body) = t.json("GET", t.get(p)).await;
        ok(status, &body);
    }
    let (status, text) = t.raw("GET", t.get("/metrics")).await;
    assert!(status.is_success() && text.contains("# TYPE"), "{text}");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (status, _) = t.raw("GET", no_redirects.get(app.url("/docs"))).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    let (status, page) = t.raw("GET", t.get("/docs/")).await;
    assert!(status.is_success() && page.contains("swagger"), "{page}");
    let init = t
        .app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert!(
        init.text().await.unwrap().contains("/openapi.json"),
        "Swagger UI loads our document"
    );

    // /api/auth: register, verify by code, log in, and every token route.
    let (status, body) = t
        .json("POST", t.post("/api/auth/register", &json!({"username": "alice", "email": "alice@example.com", "password": "Secret123", "phone": "13800138000"})))
        .await;
    ok(status, &body);
    let code = code_in_mail(&app, "alice@example.com", "Your verification code is ", 1).await;
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/verify-email",
                &json!({"email": "alice@example.com", "code": code, "password": "Secret123"}),
            ),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/register",
                &json!({"username": "bob", "email": "bob@example.com", "password": "Secret123"}),
            ),
        )
        .await;
    ok(status, &body);
    let mails = app.mails("bob@example.com", "token=", 1).await;
    let link = mails.last().unwrap();
    let at = link.find("token=").unwrap() + "token=".len();
    let token: String = link[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let (status, page) = t
        .raw(
            "GET",
            t.get(&format!("/api/auth/verify-email?token={token}")),
        )
        .await;
    assert!(status.is_success() && page.contains("<form"), "{page}");
    let (status, page) = t
        .raw(
            "POST",
            t.app
                .client
                .post(app.url("/api/auth/verify-email/confirm"))
                .form(&[("token", token.as_str()), ("password", "Secret123")]),
        )
        .await;
    assert!(status.is_success(), "{page}");
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/register",
                &json!({"username": "carol", "email": "carol@example.com", "password": "Secret123"}),
            ),
        )
        .await;
    ok(status, &body);
    let mails = app.mails("carol@example.com", "token=", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let link = mails.last().unwrap();
    let at = link.find("token=").unwrap() + "token=".len();
    let token: String = link[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let (status, page) = t
        .raw(
            "POST",
            t.app
                .client
                .post(app.url("/api/auth/verify-email/reject"))
                .form(&[("token", token.as_str())]),
        )
        .await;
    assert!(status.is_success(), "{page}");
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/resend-verification",
                &json!({"email": "bob@example.com"}),
            ),
        )
        .await;
    ok(status, &body);

    let login = json!({"username": "alice", "password": "Secret123"});
    let (status, first) = t.json("POST", t.post("/api/auth/login", &login)).await;
    ok(status, &first);
    let (status, second) = t.json("POST", t.post("/api/auth/login", &login)).await;
    ok(status, &second);
    let access = s(&first["access_token"]).to_owned();
    for p in ["/api/auth/profile", "/api/auth/me"] {
        let (status, body) = t.json("GET", t.get(p).bearer_auth(&access)).await;
        ok(status, &body);
    }
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/refresh",
                &json!({"refresh_token": first["refresh_token"]}),
            ),
        )
        .await;
    ok(status, &body);
    let access = s(&body["access_token"]).to_owned();
    let (status, sessions) = t
        .json("GET", t.get("/api/auth/sessions").bearer_auth(&access))
        .await;
    ok(status, &sessions);
    let other = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["current"] == false)
        .unwrap();
    let (status, body) = t
        .json(
            "DELETE",
            t.delete(&format!("/api/auth/sessions/{}", s(&other["id"])))
                .bearer_auth(&access),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/change-password",
                &json!({"old_password": "Secret123", "new_password": "Secret456"}),
            )
            .bearer_auth(&access),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "POST",
            t.post("/api/auth/logout-all", &json!({}))
                .bearer_auth(&access),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/request-reset-code",
                &json!({"identifier": "alice", "channel": "email", "contact": "alice@example.com"}),
            ),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json("POST", t.post("/api/auth/reset-password", &json!({"identifier": "alice", "channel": "email", "contact": "alice@example.com", "code": body["debug_code"], "new_password": "Secret789"})))
        .await;
    ok(status, &body);
    let (_, again) = t
        .json(
            "POST",
            t.post(
                "/api/auth/login",
                &json!({"username": "alice", "password": "Secret789"}),
            ),
        )
        .await;
    let (status, body) = t
        .json(
            "POST",
            t.post("/api/auth/logout", &json!({}))
                .bearer_auth(s(&again["access_token"])),
        )
        .await;
    ok(status, &body);

    // /api/admin, as a super_admin made by the CLI.
    let root = app
        .create_with_role("root", "root@example.com", "Secret123", "super_admin")
        .await;
    let root = s(&root["access_token"]).to_owned();
    let (status, list) = t
        .json(
            "GET",
            t.get("/api/admin/users?per_page=50").bearer_auth(&root),
        )
        .await;
    ok(status, &list);
    let bob = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "bob")
        .unwrap()["id"]
        .clone();
    let user = |tail: &str| format!("/api/admin/users/{bob}{tail}");
    let (status, body) = t.json("GET", t.get(&user("")).bearer_auth(&root)).await;
    ok(status, &body);
    for tail in ["/disable", "/enable", "/revoke-sessions"] {
        let (status, body) = t
            .json("POST", t.post(&user(tail), &json!({})).bearer_auth(&root))
            .await;
        ok(status, &body);
    }
    let (status, body) = t
        .json(
            "POST",
            t.post(&user("/roles"), &json!({"role": "admin"}))
                .bearer_auth(&root),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json("DELETE", t.delete(&user("/roles/admin")).bearer_auth(&root))
        .await;
    ok(status, &body);
    let (status, body) = t
        .json("DELETE", t.delete(&user("/mfa")).bearer_auth(&root))
        .await;
    ok(status, &body);
    let (status, body) = t
        .json("DELETE", t.delete(&user("")).bearer_auth(&root))
        .await;
    ok(status, &body);

    // /api/v1/auth (seed 002).
    let (status, body) = t
        .json("POST", t.post("/api/v1/auth/register", &json!({"username": "carol", "email": "carol@example.com", "password": "Secret123"})))
        .await;
    ok(status, &body);
    let token = link_token(&app, "carol@example.com", 1).await;
    let (status, body) = t
        .json(
            "GET",
            t.get(&format!("/api/v1/auth/verify/{token}"))
                .header("accept", "application/json"),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/v1/auth/login",
                &json!({"email": "carol@example.com", "password": "Secret123"}),
            ),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "GET",
            t.get("/api/v1/auth/profile").bearer_auth(s(&body["token"])),
        )
        .await;
    ok(status, &body);

    // /Auth/* (seed 001): every answer is HTTP 200 with `Code`.
    let form = json!({"Name": "dave", "Email": "dave@example.com", "Password": "Secret123"});
    let (status, body) = t.json("POST", t.post("/Auth/Sign", &form)).await;
    assert_eq!(
        (status, body["Code"].as_i64()),
        (StatusCode::OK, Some(200)),
        "{body}"
    );
    let code = code_in_mail(&app, "dave@example.com", "Your sign-up code is ", 1).await;
    let mut verify = form.clone();
    verify["VerifyCode"] = json!(code);
    let (status, body) = t.json("POST", t.post("/Auth/Verify", &verify)).await;
    assert_eq!(
        (status, body["Code"].as_i64()),
        (StatusCode::OK, Some(200)),
        "{body}"
    );
    let (_, body) = t
        .json(
            "POST",
            t.post(
                "/Auth/Login",
                &json!({"Email": "dave@example.com", "Password": "Secret123"}),
            ),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    let (_, body) = t
        .json(
            "GET",
            t.get("/CheckJWTToken").bearer_auth(s(&body["Token"])),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    let (_, body) = t
        .json(
            "POST",
            t.post("/Auth/ResetPassword", &json!({"Email": "dave@example.com"})),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    let code = code_in_mail(&app, "dave@example.com", "Your password reset code is ", 1).await;
    let (_, body) = t
        .json(
            "POST",
            t.post(
                "/Auth/UpdatePassword",
                &json!({"Email": "dave@example.com", "Password": "Secret456", "VerifyCode": code}),
            ),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");
    let (_, body) = t
        .json(
            "POST",
            t.post(
                "/Admin/Login",
                &json!({"Email": "root@example.com", "Password": "Secret123"}),
            ),
        )
        .await;
    assert_eq!(body["Code"], 200, "{body}");

    // Second factors (issue 17): root turns TOTP on; then every dialect's
    // login answers its second-factor step and finishes at its own route.
    let (_, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/login",
                &json!({"username": "root", "password": "Secret123"}),
            ),
        )
        .await;
    let root = s(&body["access_token"]).to_owned();
    let root_uuid = s(&body["user"]["uuid"]).to_owned();
    let (status, body) = t
        .json("GET", t.get("/api/auth/mfa").bearer_auth(&root))
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "POST",
            t.app
                .client
                .post(t.app.url("/api/auth/mfa/totp"))
                .bearer_auth(&root),
        )
        .await;
    ok(status, &body);
    let secret = s(&body["secret"]).to_owned();
    crate::factors::early_in_a_step().await;
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/mfa/totp/confirm",
                &json!({"code": crate::factors::code(&secret, -1)}),
            )
            .bearer_auth(&root),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/mfa/recovery-codes",
                &json!({"code": crate::factors::code(&secret, 0)}),
            )
            .bearer_auth(&root),
        )
        .await;
    ok(status, &body);
    let recovery: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c).to_owned())
        .collect();
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/login",
                &json!({"username": "root", "password": "Secret123"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/mfa/verify",
                &json!({"mfa_token": body["mfa_token"], "code": recovery[0]}),
            ),
        )
        .await;
    ok(status, &body);
    let credentials = json!({"Email": "root@example.com", "Password": "Secret123"});
    for (login, finish, code) in [
        ("/Auth/Login", "/Auth/LoginMfa", &recovery[1]),
        ("/Admin/Login", "/Admin/LoginMfa", &recovery[2]),
    ] {
        let (_, step) = t.json("POST", t.post(login, &credentials)).await;
        assert_eq!(step["Code"], 203, "{step}");
        let (_, done) = t
            .json(
                "POST",
                t.post(finish, &json!({"MfaToken": step["MfaToken"], "Code": code})),
            )
            .await;
        assert!(done["Code"] == 200 || done["Code"] == 202, "{done}");
    }
    let (status, step) = t
        .json(
            "POST",
            t.post(
                "/api/v1/auth/login",
                &json!({"email": "root@example.com", "password": "Secret123"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{step}");
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/v1/auth/login/mfa",
                &json!({"mfa_token": step["mfa_token"], "code": recovery[5]}),
            ),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "DELETE",
            t.delete("/api/auth/mfa/totp")
                .bearer_auth(&root)
                .json(&json!({"code": recovery[6]})),
        )
        .await;
    ok(status, &body);

    // Passkeys (issue 17): root registers one with a software passkey, which
    // then answers a login's second step and signs in alone; renamed and
    // removed.
    let mut key = crate::passkeys::authenticator();
    let (status, begun) = t
        .json(
            "POST",
            t.app
                .client
                .post(t.app.url("/api/auth/passkeys/options"))
                .bearer_auth(&root),
        )
        .await;
    ok(status, &begun);
    let credential = crate::passkeys::create(&mut key, crate::passkeys::ORIGIN, &begun["options"]);
    let credential_id = s(&credential["id"]).to_owned();
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/passkeys",
                &json!({"ceremony_token": begun["ceremony_token"], "credential": credential}),
            )
            .bearer_auth(&root),
        )
        .await;
    ok(status, &body);
    let passkey = s(&body["passkey"]["id"]).to_owned();
    let (status, body) = t
        .json("GET", t.get("/api/auth/passkeys").bearer_auth(&root))
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "POST",
            t.post(
                &format!("/api/auth/passkeys/{passkey}/rename"),
                &json!({"name": "Tour key"}),
            )
            .bearer_auth(&root),
        )
        .await;
    ok(status, &body);
    let (_, step) = t
        .json(
            "POST",
            t.post(
                "/api/auth/login",
                &json!({"username": "root", "password": "Secret123"}),
            ),
        )
        .await;
    let (status, begun) = t
        .json(
            "POST",
            t.post(
                "/api/auth/mfa/passkey/options",
                &json!({"mfa_token": step["mfa_token"]}),
            ),
        )
        .await;
    ok(status, &begun);
    let assertion =
        crate::passkeys::get(&mut key, crate::passkeys::ORIGIN, &begun["options"], None);
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/mfa/verify",
                &json!({"mfa_token": step["mfa_token"], "credential": assertion}),
            ),
        )
        .await;
    ok(status, &body);
    // Removing a factor needs the account's highest level: this aal2 session.
    let root_aal2 = s(&body["access_token"]).to_owned();
    let (status, begun) = t
        .json("POST", t.post("/api/auth/passkey/options", &json!({})))
        .await;
    ok(status, &begun);
    let assertion = crate::passkeys::get(
        &mut key,
        crate::passkeys::ORIGIN,
        &begun["options"],
        Some((&credential_id, &root_uuid)),
    );
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/passkey/login",
                &json!({"ceremony_token": begun["ceremony_token"], "credential": assertion}),
            ),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "DELETE",
            t.delete(&format!("/api/auth/passkeys/{passkey}"))
                .bearer_auth(&root_aal2),
        )
        .await;
    ok(status, &body);

    // An account whose role needs a factor enrols one to sign in
    // (`MFA_REQUIRED_ROLES`): a TOTP factor begun, a passkey registered.
    t.app
        .create_account("lou", "lou@example.com", "Secret123", "logistics");
    let (_, step) = t
        .json(
            "POST",
            t.post(
                "/api/auth/login",
                &json!({"username": "lou", "password": "Secret123"}),
            ),
        )
        .await;
    let enrol = json!({"mfa_token": step["mfa_token"]});
    let (status, body) = t
        .json("POST", t.post("/api/auth/mfa/enrol/totp", &enrol))
        .await;
    ok(status, &body);
    let (status, begun) = t
        .json(
            "POST",
            t.post("/api/auth/mfa/enrol/passkey/options", &enrol),
        )
        .await;
    ok(status, &begun);
    let mut lou_key = crate::passkeys::authenticator();
    let credential =
        crate::passkeys::create(&mut lou_key, crate::passkeys::ORIGIN, &begun["options"]);
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/mfa/verify",
                &json!({"mfa_token": step["mfa_token"], "credential": credential}),
            ),
        )
        .await;
    ok(status, &body);
    assert_eq!(
        body["recovery_codes"].as_array().map(Vec::len),
        Some(10),
        "{body}"
    );

    // The OpenID Provider (issue 18): a client registered and managed
    // through the admin API, a code through the pages, the token endpoint
    // and UserInfo.
    let (status, meta) = t
        .json("GET", t.get("/.well-known/openid-configuration"))
        .await;
    ok(status, &meta);
    let (status, created) = t
        .json(
            "POST",
            t.post(
                "/api/admin/clients",
                &json!({"name": "Tour", "kind": "confidential",
                        "redirect_uris": [crate::oidc::REDIRECT], "first_party": true}),
            )
            .bearer_auth(&root_aal2),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let client_id = created["client"]["client_id"].as_str().unwrap().to_owned();
    let client_path = format!("/api/admin/clients/{client_id}");
    for (method, path) in [
        ("GET", "/api/admin/clients".to_owned()),
        ("GET", client_path.clone()),
        ("POST", format!("{client_path}/disable")),
        ("POST", format!("{client_path}/enable")),
    ] {
        let r = match method {
            "GET" => t.get(&path),
            _ => t.post(&path, &json!({})),
        };
        let (status, body) = t.json(method, r.bearer_auth(&root_aal2)).await;
        ok(status, &body);
    }
    let (status, rotated) = t
        .json(
            "POST",
            t.post(&format!("{client_path}/secret"), &json!({}))
                .bearer_auth(&root_aal2),
        )
        .await;
    ok(status, &rotated);
    let secret = rotated["client_secret"].as_str().unwrap().to_owned();
    t.app
        .create_account("tina", "tina@example.com", crate::oidc::PASSWORD, "user");
    let mut browser = crate::browser::Browser::new(t.app);
    let authorize =
        format!("/oauth/authorize?response_type=code&scope=openid%20email&client_id={client_id}");
    let back = crate::oidc::authorize(&mut browser, &authorize, "tina", "allow").await;
    let code = crate::oidc::query(&back)["code"].clone();
    let (status, tokens) = t
        .json(
            "POST",
            t.app
                .client
                .post(t.app.url("/oauth/token"))
                .basic_auth(&client_id, Some(&secret))
                .form(&[("grant_type", "authorization_code"), ("code", &code)]),
        )
        .await;
    ok(status, &tokens);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (status, info) = t
        .json("GET", t.get("/oauth/userinfo").bearer_auth(&access))
        .await;
    ok(status, &info);
    let (status, info) = t
        .json(
            "POST",
            t.app
                .client
                .post(t.app.url("/oauth/userinfo"))
                .bearer_auth(&access),
        )
        .await;
    ok(status, &info);
    for (path, fields) in [
        ("/oauth/introspect", vec![("token", access.as_str())]),
        (
            "/oauth/par",
            vec![("response_type", "code"), ("scope", "openid")],
        ),
        ("/oauth/revoke", vec![("token", access.as_str())]),
    ] {
        let (status, _) = t
            .raw(
                "POST",
                t.app
                    .client
                    .post(t.app.url(path))
                    .basic_auth(&client_id, Some(&secret))
                    .form(&fields),
            )
            .await;
        assert!(status.is_success(), "{path}: {status}");
    }
    let (status, body) = t
        .json("DELETE", t.delete(&client_path).bearer_auth(&root_aal2))
        .await;
    ok(status, &body);

    // Upstream providers (issue 19): the app signs people in through
    // itself, a console provider over a client of its own.
    let callback = format!("{base}/api/auth/oauth/self/callback");
    let (status, upstream) = t
        .json(
            "POST",
            t.post(
                "/api/admin/clients",
                &json!({"name": "Itself", "kind": "confidential",
                        "redirect_uris": [callback], "first_party": true}),
            )
            .bearer_auth(&root_aal2),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{upstream}");
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/admin/providers/self",
                &json!({"issuer": base, "name": "Itself",
                        "client_id": upstream["client"]["client_id"],
                        "client_secret": upstream["client_secret"]}),
            )
            .bearer_auth(&root_aal2),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json("GET", t.get("/api/admin/providers").bearer_auth(&root_aal2))
        .await;
    ok(status, &body);
    let (status, body) = t.json("GET", t.get("/api/auth/oauth/providers")).await;
    ok(status, &body);
    // tina's address is her own account's: the first sign-in waits for
    // her to link it; the next exchanges its code for tokens.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let start = format!(
        "/api/auth/oauth/self/start?return_to={}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        url::form_urlencoded::byte_serialize(format!("{app_return}done").as_bytes())
            .collect::<String>()
    );
    let mut landings = Vec::new();
    for _ in 0..2 {
        let started = browser.get(&start).await;
        assert_eq!(started.status, StatusCode::FOUND, "{}", started.body);
        let at_op = started.location().strip_prefix(&base).unwrap().to_owned();
        let back = crate::oidc::authorize(&mut browser, &at_op, "tina", "allow").await;
        let landed = browser.get(back.strip_prefix(&base).unwrap()).await;
        assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
        landings.push(crate::oidc::query(landed.location()));
        if landings.len() == 1 {
            assert_eq!(landings[0]["error"], "link_required", "{:?}", landings[0]);
            let tina = t.app.login("tina", crate::oidc::PASSWORD).await;
            let (status, body) = t
                .json(
                    "POST",
                    t.post(
                        "/api/auth/identities/link",
                        &json!({"link_token": landings[0]["link_token"],
                                "code_verifier": verifier}),
                    )
                    .bearer_auth(tina["access_token"].as_str().unwrap()),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
    let (status, tokens) = t
        .json(
            "POST",
            t.post(
                "/api/auth/oauth/exchange",
                &json!({"code": landings[1]["code"], "code_verifier": verifier}),
            ),
        )
        .await;
    ok(status, &tokens);
    let tina_token = tokens["access_token"].as_str().unwrap().to_owned();
    let (status, linked) = t
        .json(
            "GET",
            t.get("/api/auth/identities").bearer_auth(&tina_token),
        )
        .await;
    ok(status, &linked);
    // Unlinking needs a recent sign-in at the account's level: the
    // exchange's is one (`fed`).
    let subject = linked["identities"][0]["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = t
        .json(
            "DELETE",
            t.delete(&format!("/api/auth/identities/self/{subject}"))
                .bearer_auth(&tina_token),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json(
            "DELETE",
            t.delete("/api/admin/providers/self")
                .bearer_auth(&root_aal2),
        )
        .await;
    ok(status, &body);

    // Export my data (issue 20).
    let (status, body) = t
        .json("GET", t.get("/api/auth/me/export").bearer_auth(&tina_token))
        .await;
    ok(status, &body);

    // Webhooks (issue 20): subscribe, pause, resume, read deliveries, remove.
    let (status, hook) = t
        .json(
            "POST",
            t.post(
                "/api/admin/webhooks",
                &json!({"url": "http://127.0.0.1:9/hooks", "events": ["*"],
                        "description": "tour"}),
            )
            .bearer_auth(&root_aal2),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let hook_path = format!(
        "/api/admin/webhooks/{}",
        hook["webhook"]["id"].as_i64().unwrap()
    );
    let (status, body) = t
        .json("GET", t.get("/api/admin/webhooks").bearer_auth(&root_aal2))
        .await;
    ok(status, &body);
    for action in ["disable", "enable"] {
        let (status, body) = t
            .json(
                "POST",
                t.post(&format!("{hook_path}/{action}"), &json!({}))
                    .bearer_auth(&root_aal2),
            )
            .await;
        ok(status, &body);
    }
    let (status, body) = t
        .json(
            "GET",
            t.get(&format!("{hook_path}/deliveries"))
                .bearer_auth(&root_aal2),
        )
        .await;
    ok(status, &body);
    let (status, body) = t
        .json("DELETE", t.delete(&hook_path).bearer_auth(&root_aal2))
        .await;
    ok(status, &body);

    // Sign-in by a one-time code, then a change of address and number, and
    // the link that undoes the address's (issue 20).
    let (status, sent) = t
        .json(
            "POST",
            t.post("/api/auth/login/code", &json!({"identifier": "tina"})),
        )
        .await;
    ok(status, &sent);
    assert!(
        sent.get("debug_code").is_none(),
        "never a sign-in code: {sent}"
    );
    let mail = t
        .app
        .mails("tina@example.com", "Your sign-in code is ", 1)
        .await;
    let at = mail[0].find("Your sign-in code is ").unwrap() + "Your sign-in code is ".len();
    let (status, tokens) = t
        .json(
            "POST",
            t.post(
                "/api/auth/login/code/verify",
                &json!({"identifier": "tina", "code": &mail[0][at..at + 6]}),
            ),
        )
        .await;
    ok(status, &tokens);
    let tina_token = tokens["access_token"].as_str().unwrap().to_owned();
    for (kind, value) in [("email", "tina.new@example.com"), ("phone", "13900000001")] {
        let (status, sent) = t
            .json(
                "POST",
                t.post(&format!("/api/auth/me/{kind}"), &json!({kind: value}))
                    .bearer_auth(&tina_token),
            )
            .await;
        ok(status, &sent);
        let (status, body) = t
            .json(
                "POST",
                t.post(
                    &format!("/api/auth/me/{kind}/confirm"),
                    &json!({"code": sent["debug_code"]}),
                )
                .bearer_auth(&tina_token),
            )
            .await;
        ok(status, &body);
    }
    let notice = t.app.mails("tina@example.com", "revert?token=", 1).await;
    let at = notice[0].find("revert?token=").unwrap() + "revert?token=".len();
    let (status, body) = t
        .json(
            "POST",
            t.post(
                "/api/auth/contact/revert",
                &json!({"token": &notice[0][at..at + 64]}),
            ),
        )
        .await;
    ok(status, &body);
    let tina_token =
        s(&t.app.login("tina@example.com", crate::oidc::PASSWORD).await["access_token"]).to_owned();

    // Delete my account: tina's last step (her sessions end).
    let (status, body) = t
        .json("DELETE", t.delete("/api/auth/me").bearer_auth(&tina_token))
        .await;
    ok(status, &body);

    // Every documented operation was called and answered one of its documented successes.
    let doc = serde_json::to_value(tessera_server::openapi::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let successes: Vec<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter_map(|k| k.parse().ok())
                .filter(|s: &u16| (200..400).contains(s))
                .collect();
            assert!(
                successes
                    .iter()
                    .any(|st| t.seen.contains(&(method.clone(), path.clone(), *st))),
                "{method} {path}: the tour got none of {successes:?}; saw {:?}",
                t.seen
                    .iter()
                    .filter(|(m, p, _)| *m == method && p == path)
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// The summaries name the seed whose README documents the route: seed 000
/// has the flat `/profile`, seeds 003 and 004 have `/me` (issue 13).
#[tokio::test]
async fn profile_and_me_name_their_own_seeds() {
    let app = spawn_app_with(&[]).await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let summary = |path: &str| {
        doc["paths"][path]["get"]["summary"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(summary("/api/auth/profile"), "The caller, flat (seed 000)");
    assert_eq!(
        summary("/api/auth/me"),
        "The caller with permissions (seeds 003, 004)"
    );
}
