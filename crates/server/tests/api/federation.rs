//! Signing in through upstream identity providers (issue 19), with Tessera
//! itself as the upstream OpenID Provider: a second instance, its sign-in
//! and consent pages driven through a cookie jar, its ID tokens checked by
//! the relying party's library. Each refusal would be a hole if it passed.

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Browser, Page};
use crate::helpers::{TestApp, spawn_app_with};
use crate::oidc::{PASSWORD, authorize, create_client, provider_with};

/// An upstream OP and a relying party that signs people in through it as
/// `corp`, and as `partner` (trusted to link by address); `down` is a
/// provider nobody answers for.
struct Federation {
    op: TestApp,
    rp: TestApp,
}

fn free_port() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string()
}

async fn federation(rp_extra: &[(&str, &str)]) -> Federation {
    let (op, issuer) = provider_with(&[]).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut env: Vec<(String, String)> = vec![
        ("PORT".into(), port.clone()),
        ("PUBLIC_BASE_URL".into(), base.clone()),
        ("RETURN_TO_ALLOWED".into(), format!("{base}/app/")),
        ("UPSTREAM_PROVIDERS".into(), "corp,partner,down".into()),
        ("UPSTREAM_CORP_NAME".into(), "Corp".into()),
        ("UPSTREAM_PARTNER_LINK_BY_EMAIL".into(), "true".into()),
        ("UPSTREAM_DOWN_ISSUER".into(), "http://127.0.0.1:1".into()),
        ("UPSTREAM_DOWN_CLIENT_ID".into(), "nobody".into()),
        ("UPSTREAM_DOWN_CLIENT_SECRET".into(), "nothing".into()),
    ];
    for id in ["corp", "partner"] {
        let callback = format!("{base}/api/auth/oauth/{id}/callback");
        let (client_id, secret) = create_client(
            &op,
            &[
                "--name",
                id,
                "--kind",
                "confidential",
                "--redirect-uri",
                &callback,
            ],
        );
        let upper = id.to_ascii_uppercase();
        env.push((format!("UPSTREAM_{upper}_ISSUER"), issuer.clone()));
        env.push((format!("UPSTREAM_{upper}_CLIENT_ID"), client_id));
        env.push((format!("UPSTREAM_{upper}_CLIENT_SECRET"), secret.unwrap()));
    }
    let mut refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    refs.extend_from_slice(rp_extra);
    let rp = spawn_app_with(&refs).await;
    assert_eq!(rp.base, base);
    Federation { op, rp }
}

/// The path and query of `url` when it is on `app`; `None` elsewhere.
fn on(app: &TestApp, url: &str) -> Option<String> {
    url.strip_prefix(&app.base).map(str::to_owned)
}

impl Federation {
    /// Starts at the relying party (`start`: path and query), signs in at
    /// the OP as `person` (consenting), and returns the relying party's
    /// answer to the callback.
    async fn sign_in_through(
        &self,
        rp: &mut Browser<'_>,
        op: &mut Browser<'_>,
        start: &str,
        person: &str,
    ) -> Page {
        let started = rp.get(start).await;
        assert_eq!(started.status, StatusCode::FOUND, "{}", started.body);
        let at_op = on(&self.op, started.location()).expect("a redirect to the OP");
        let back = authorize(op, &at_op, person, "allow").await;
        let callback = on(&self.rp, &back).expect("a redirect to the callback");
        assert!(callback.starts_with("/api/auth/oauth/"), "{callback}");
        rp.get(&callback).await
    }
}

async fn signed_in_user(rp: &mut Browser<'_>) -> String {
    let page = rp.get("/ui/account").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body
}

#[tokio::test]
async fn a_first_sign_in_creates_a_verified_account_and_the_next_one_returns_to_it() {
    let f = federation(&[]).await;
    f.op.create_account("uma", "uma@example.com", PASSWORD, "user");
    let mut rp = Browser::new(&f.rp);
    let mut op = Browser::new(&f.op);

    let done = f
        .sign_in_through(&mut rp, &mut op, "/api/auth/oauth/corp/start", "uma")
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/ui/account");
    let account = signed_in_user(&mut rp).await;
    assert!(account.contains("uma@example.com"), "{account}");
    assert!(
        account.contains("class=\"card identity\""),
        "linked: {account}"
    );

    // The account has the upstream's verified address, and no password: a
    // password login of any kind fails like a wrong one.
    let (status, body) =
        f.rp.post(
            "/api/auth/login",
            &json!({"identifier": "uma@example.com", "password": ""}),
        )
        .await;
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
        "{body}"
    );

    // A second sign-in (a new browser at the RP; the OP remembers the
    // person and the consent) lands in the same account.
    let mut again = Browser::new(&f.rp);
    let done = f
        .sign_in_through(&mut again, &mut op, "/api/auth/oauth/corp/start", "uma")
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = signed_in_user(&mut again).await;
    assert!(page.contains("uma@example.com"));
    let admin =
        f.rp.create_with_role("root", "root@example.com", PASSWORD, "super_admin")
            .await;
    let (status, listing) =
        f.rp.get_bearer(
            "/api/admin/users?search=uma",
            admin["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listing}");
    assert_eq!(listing["total"], 1, "one account: {listing}");

    // Its only way to sign in cannot be removed.
    let csrf = again.account_csrf().await;
    let subject = page
        .split("name=\"subject\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let refused = again
        .post(
            "/ui/account/identities/unlink",
            &[("csrf", &csrf), ("provider", "corp"), ("subject", &subject)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("last way to sign in"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn an_existing_address_links_only_after_the_account_signs_in_to_confirm() {
    let f = federation(&[]).await;
    f.op.create_account("vera", "vera@example.com", PASSWORD, "user");
    f.rp.create_account("vera", "vera@example.com", PASSWORD, "user");
    f.rp.create_account("mallory", "mallory@example.com", PASSWORD, "user");
    let mut op = Browser::new(&f.op);

    // The pending link stays in the browser whose sign-in matched: signed
    // in there as another account, it is neither offered nor taken.
    let mut other = Browser::new(&f.rp);
    let pending = f
        .sign_in_through(&mut other, &mut op, "/api/auth/oauth/corp/start", "vera")
        .await;
    assert_eq!(pending.status, StatusCode::SEE_OTHER, "{}", pending.body);
    assert_eq!(pending.location(), "/ui/account");
    assert!(
        other
            .cookies
            .keys()
            .any(|k| k.ends_with("tessera-upstream-link")),
        "{:?}",
        other.set_cookies
    );
    other.sign_in("mallory", PASSWORD).await;
    let page = other.get("/ui/account").await;
    assert!(!page.body.contains("id=\"confirm-link\""), "not mallory's");
    let csrf = page.field("csrf");
    let taken = other
        .post("/ui/account/identities/confirm", &[("csrf", &csrf)])
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST, "{}", taken.body);

    // Not signed in: the account page asks for the sign-in first; the
    // owner signs in and confirms.
    let mut rp = Browser::new(&f.rp);
    let pending = f
        .sign_in_through(&mut rp, &mut op, "/api/auth/oauth/corp/start", "vera")
        .await;
    assert_eq!(pending.location(), "/ui/account");
    let asked = rp.get("/ui/account").await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    assert!(
        asked.location().starts_with("/ui/sign-in?return_to="),
        "{}",
        asked.location()
    );
    rp.sign_in("vera", PASSWORD).await;
    let confirm = rp.get("/ui/account").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("id=\"confirm-link\""),
        "{}",
        confirm.body
    );
    let csrf = confirm.field("csrf");
    // vera in another browser (a link sent to her) has no such link.
    let mut phished = Browser::new(&f.rp);
    phished.sign_in("vera", PASSWORD).await;
    let phished_csrf = phished.account_csrf().await;
    let refused = phished
        .post("/ui/account/identities/confirm", &[("csrf", &phished_csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let linked = rp
        .post("/ui/account/identities/confirm", &[("csrf", &csrf)])
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
    assert_eq!(linked.location(), "/ui/account?done=linked");
    // Spent: the token works once (and its cookie is gone).
    let again = rp
        .post("/ui/account/identities/confirm", &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    // From now on the identity signs straight in to vera's account.
    let mut later = Browser::new(&f.rp);
    let done = f
        .sign_in_through(&mut later, &mut op, "/api/auth/oauth/corp/start", "vera")
        .await;
    assert_eq!(done.location(), "/ui/account");
    assert!(
        signed_in_user(&mut later)
            .await
            .contains("vera@example.com")
    );

    // vera has a password, so the identity may go.
    let page = later.get("/ui/account").await;
    let subject = page.field("subject");
    let csrf = page.field("csrf");
    let unlinked = later
        .post(
            "/ui/account/identities/unlink",
            &[("csrf", &csrf), ("provider", "corp"), ("subject", &subject)],
        )
        .await;
    assert_eq!(unlinked.status, StatusCode::SEE_OTHER, "{}", unlinked.body);
    f.rp.create_account("root", "root@example.com", PASSWORD, "super_admin");
    let mut admin = Browser::new(&f.rp);
    admin.sign_in("root", PASSWORD).await;
    for kind in ["identity_linked", "identity_unlinked", "upstream_sign_in"] {
        let trail = admin.get(&format!("/ui/admin/audit?kind={kind}")).await;
        assert_eq!(trail.status, StatusCode::OK);
        assert!(trail.body.contains("corp"), "{kind}: {}", trail.body);
    }
}

#[tokio::test]
async fn a_provider_trusted_for_linking_links_a_verified_address_at_once() {
    let f = federation(&[]).await;
    f.op.create_account("tara", "tara@example.com", PASSWORD, "user");
    f.rp.create_account("tara", "tara@example.com", PASSWORD, "user");
    let mut rp = Browser::new(&f.rp);
    let mut op = Browser::new(&f.op);
    let done = f
        .sign_in_through(&mut rp, &mut op, "/api/auth/oauth/partner/start", "tara")
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/ui/account");
    assert!(signed_in_user(&mut rp).await.contains("tara@example.com"));
}

#[tokio::test]
async fn an_unverified_upstream_address_never_links_and_sign_up_can_be_closed() {
    let f = federation(&[("UPSTREAM_PARTNER_ALLOW_SIGN_UP", "false")]).await;
    // At the OP the address is unverified (registered, never confirmed).
    let (status, body) =
        f.op.post(
            "/api/auth/register",
            &json!({"username": "nina", "email": "nina@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    f.rp.create_account("nina", "nina@example.com", PASSWORD, "user");
    let mut op = Browser::new(&f.op);
    for provider in ["corp", "partner"] {
        let mut rp = Browser::new(&f.rp);
        let refused = f
            .sign_in_through(
                &mut rp,
                &mut op,
                &format!("/api/auth/oauth/{provider}/start"),
                "nina",
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert!(
            refused.body.contains("already uses this e-mail address"),
            "{}",
            refused.body
        );
        assert_ne!(signed_in_user_status(&mut rp).await, StatusCode::OK);
    }

    // No account matches, and `partner` creates none.
    f.op.create_account("olaf", "olaf@example.com", PASSWORD, "user");
    let mut op = Browser::new(&f.op);
    let mut rp = Browser::new(&f.rp);
    let closed = f
        .sign_in_through(&mut rp, &mut op, "/api/auth/oauth/partner/start", "olaf")
        .await;
    assert_eq!(closed.status, StatusCode::FORBIDDEN, "{}", closed.body);
}

async fn signed_in_user_status(rp: &mut Browser<'_>) -> StatusCode {
    rp.get("/ui/account").await.status
}

#[tokio::test]
async fn a_callback_without_this_browsers_state_or_with_a_stale_code_is_refused() {
    let f = federation(&[]).await;
    f.op.create_account("sam", "sam@example.com", PASSWORD, "user");
    let mut rp = Browser::new(&f.rp);
    let mut op = Browser::new(&f.op);
    let started = rp.get("/api/auth/oauth/corp/start").await;
    let at_op = on(&f.op, started.location()).unwrap();
    let back = authorize(&mut op, &at_op, "sam", "allow").await;
    let callback = on(&f.rp, &back).unwrap();

    // Another browser (the attacker's victim) has no state cookie.
    let mut victim = Browser::new(&f.rp);
    let refused = victim.get(&callback).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("expired or was started in another browser"),
        "{}",
        refused.body
    );

    // The right browser with a forged state.
    let forged = callback.replace("state=", "state=x");
    assert_eq!(rp.get(&forged).await.status, StatusCode::BAD_REQUEST);

    // The state is spent by its first use, right or wrong: a replay fails.
    let mut rp2 = Browser::new(&f.rp);
    let started = rp2.get("/api/auth/oauth/corp/start").await;
    let back = authorize(
        &mut op,
        &on(&f.op, started.location()).unwrap(),
        "sam",
        "allow",
    )
    .await;
    let callback = on(&f.rp, &back).unwrap();
    let cookies = rp2.cookies.clone();
    assert_eq!(rp2.get(&callback).await.status, StatusCode::SEE_OTHER);
    rp2.cookies = cookies;
    assert_eq!(rp2.get(&callback).await.status, StatusCode::BAD_REQUEST);

    // The provider's refusal (`error=access_denied`) is a clear page.
    let mut rp3 = Browser::new(&f.rp);
    let started = rp3.get("/api/auth/oauth/corp/start").await;
    let state = crate::oidc::query(started.location())["state"].clone();
    let denied = rp3
        .get(&format!(
            "/api/auth/oauth/corp/callback?state={state}&error=access_denied"
        ))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
    assert!(
        denied.body.contains("did not sign you in"),
        "{}",
        denied.body
    );
}

#[tokio::test]
async fn a_provider_that_is_down_or_unknown_gets_a_clear_page_not_a_500() {
    let f = federation(&[]).await;
    let mut rp = Browser::new(&f.rp);
    let down = rp.get("/api/auth/oauth/down/start").await;
    assert_eq!(down.status, StatusCode::BAD_GATEWAY, "{}", down.body);
    assert!(down.body.contains("unavailable"), "{}", down.body);
    assert!(
        down.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let unknown = rp.get("/api/auth/oauth/nope/start").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    // A client's sign-in gets its errors at its return_to.
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let api = rp
        .get(&format!(
            "/api/auth/oauth/down/start?return_to={}&code_challenge={challenge}&code_challenge_method=S256",
            urlencode(&format!("{}/app/done", f.rp.base))
        ))
        .await;
    assert_eq!(api.status, StatusCode::SEE_OTHER);
    let back = crate::oidc::query(api.location());
    assert_eq!(back["error"], "upstream_unavailable");
    // A return_to outside the allow-list is refused outright.
    let outside = rp
        .get(&format!(
            "/api/auth/oauth/corp/start?return_to={}&code_challenge={challenge}",
            urlencode("https://evil.example/")
        ))
        .await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn an_api_client_exchanges_its_one_time_code_with_its_pkce_verifier_once() {
    let f = federation(&[]).await;
    f.op.create_account("ada", "ada@example.com", PASSWORD, "user");
    let mut rp = Browser::new(&f.rp);
    let mut op = Browser::new(&f.op);
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let return_to = format!("{}/app/done", f.rp.base);
    let start = format!(
        "/api/auth/oauth/corp/start?return_to={}&code_challenge={challenge}&code_challenge_method=S256",
        urlencode(&return_to)
    );
    let landed = f.sign_in_through(&mut rp, &mut op, &start, "ada").await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert!(
        landed.location().starts_with(&return_to),
        "{}",
        landed.location()
    );
    let code = crate::oidc::query(landed.location())["code"].clone();

    let wrong =
        f.rp.post(
            "/api/auth/oauth/exchange",
            &json!({"code": code, "code_verifier": "x".repeat(43)}),
        )
        .await;
    assert_eq!(wrong.0, StatusCode::BAD_REQUEST, "{}", wrong.1);
    assert_eq!(wrong.1["code"], "code_invalid");

    // The wrong verifier spent the code: start again.
    let landed = f.sign_in_through(&mut rp, &mut op, &start, "ada").await;
    let code = crate::oidc::query(landed.location())["code"].clone();
    let (status, tokens) =
        f.rp.post(
            "/api/auth/oauth/exchange",
            &json!({"code": code, "code_verifier": verifier}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert!(tokens["refresh_token"].is_string());
    let (status, me) = f.rp.get_bearer("/api/auth/me", &access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["email"], "ada@example.com");
    let (status, list) = f.rp.get_bearer("/api/auth/identities", &access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["identities"][0]["provider"], "corp");
    assert_eq!(list["identities"][0]["email"], "ada@example.com");

    let replay =
        f.rp.post(
            "/api/auth/oauth/exchange",
            &json!({"code": code, "code_verifier": verifier}),
        )
        .await;
    assert_eq!(replay.0, StatusCode::BAD_REQUEST);
    let (status, providers) = f.rp.get_bearer("/api/auth/oauth/providers", "").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = providers["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["corp", "partner", "down"]);
}

#[tokio::test]
async fn an_account_with_a_second_factor_answers_it_after_the_upstream_sign_in() {
    let f = federation(&[]).await;
    f.op.create_account("zoe", "zoe@example.com", PASSWORD, "user");
    f.rp.create_account("zoe", "zoe@example.com", PASSWORD, "user");
    let mut rp = Browser::new(&f.rp);
    let mut op = Browser::new(&f.op);
    // zoe links corp (trusted partner links by address at once) and sets up TOTP.
    let done = f
        .sign_in_through(&mut rp, &mut op, "/api/auth/oauth/partner/start", "zoe")
        .await;
    assert_eq!(done.location(), "/ui/account");
    let login = f.rp.login("zoe", PASSWORD).await;
    let token = login["access_token"].as_str().unwrap();
    let (status, body) = f.rp.post_bearer("/api/auth/mfa/totp", token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    // Confirmed with the previous step's code, so the sign-in's is fresh.
    crate::factors::early_in_a_step().await;
    let (status, body) =
        f.rp.post_bearer(
            "/api/auth/mfa/totp/confirm",
            token,
            Some(&json!({"code": crate::factors::code(&secret, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut fresh = Browser::new(&f.rp);
    let step = f
        .sign_in_through(&mut fresh, &mut op, "/api/auth/oauth/partner/start", "zoe")
        .await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    assert!(step.body.contains("id=\"second-factor\""), "{}", step.body);
    let mut fields = crate::oidc::hidden_fields(&step);
    fields.push(("code".into(), crate::factors::code(&secret, 0)));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = fresh.post("/ui/sign-in/second-factor", &refs).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/ui/account");
}

#[tokio::test]
async fn administrators_add_console_providers_but_not_over_the_configurations() {
    let f = federation(&[]).await;
    let admin =
        f.rp.create_with_role("root", "root@example.com", PASSWORD, "super_admin")
            .await;
    let token = admin["access_token"].as_str().unwrap();
    let (status, body) =
        f.rp.post_bearer(
            "/api/admin/providers/gitee",
            token,
            Some(&json!({
                "name": "Gitee", "preset": "oauth2",
                "authorization_url": "https://gitee.com/oauth/authorize",
                "token_url": "https://gitee.com/oauth/token",
                "userinfo_url": "https://gitee.com/api/v5/user",
                "claims": {"subject": "id", "username": "login"},
                "client_id": "g", "client_secret": "s"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["redirect_uri"],
        format!("{}/api/auth/oauth/gitee/callback", f.rp.base)
    );
    let (_, list) = f.rp.get_bearer("/api/auth/oauth/providers", "").await;
    assert!(
        list["providers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "gitee")
    );
    let (status, body) =
        f.rp.post_bearer(
            "/api/admin/providers/corp",
            token,
            Some(&json!({"issuer": "https://example.com", "client_id": "a", "client_secret": "b"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) =
        f.rp.post_bearer(
            "/api/admin/providers/bad",
            token,
            Some(&json!({"issuer": "ftp://example.com", "client_id": "a", "client_secret": "b"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "provider_invalid");
    let (status, list) = f.rp.get_bearer("/api/admin/providers", token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !list.to_string().contains("\"s\""),
        "no secret listed: {list}"
    );
}

#[tokio::test]
async fn the_console_lists_adds_and_removes_providers_and_the_sign_in_page_offers_them() {
    let f = federation(&[]).await;
    f.rp.create_account("root", "root@example.com", PASSWORD, "super_admin");
    let mut admin = Browser::new(&f.rp);
    admin.sign_in("root", PASSWORD).await;
    let page = admin.get("/ui/admin/providers").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("/api/auth/oauth/corp/callback"),
        "{}",
        page.body
    );
    assert!(page.body.contains("configuration (read-only)"));
    let csrf = page.field("csrf");
    let bad = admin
        .post(
            "/ui/admin/providers",
            &[
                ("csrf", &csrf),
                ("id", "acme"),
                ("preset", "oidc"),
                ("client_id", "a"),
                ("client_secret", "b"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(
        bad.body.contains("issuer"),
        "names the setting: {}",
        bad.body
    );
    let added = admin
        .post(
            "/ui/admin/providers",
            &[
                ("csrf", &csrf),
                ("id", "acme"),
                ("name", "ACME SSO"),
                ("preset", "oidc"),
                ("issuer", "https://sso.acme.example"),
                ("client_id", "a"),
                ("client_secret", "b"),
                ("allow_sign_up", "1"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let sign_in = Browser::new(&f.rp).get("/ui/sign-in").await;
    for name in ["Corp", "ACME SSO"] {
        assert!(sign_in.body.contains(name), "{name}: {}", sign_in.body);
    }
    assert!(sign_in.body.contains("href=\"/api/auth/oauth/acme/start\""));
    let taken = admin
        .post("/ui/admin/providers/corp/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(
        taken.status,
        StatusCode::CONFLICT,
        "the configuration's: {}",
        taken.body
    );
    let removed = admin
        .post("/ui/admin/providers/acme/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(
        !admin
            .get("/ui/admin/providers")
            .await
            .body
            .contains("ACME SSO")
    );
}
