//! The hosted pages (issue 16) over HTTP, as a browser drives them: a
//! cookie jar, no redirects followed, forms posted URL-encoded with the
//! hidden fields the pages rendered. The browser tests (scripts/browser)
//! drive the same pages in Chromium.

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Browser, Page};
use crate::helpers::{TestApp, s, spawn_app_with};

const PASSWORD: &str = "Correct-Horse-9";

/// The 6 digits after `after` in the newest mail to `to` holding it.
async fn code_in_mail(app: &TestApp, to: &str, after: &str, count: usize) -> String {
    let mails = app.mails(to, after, count).await;
    let mail = mails.last().unwrap();
    let at = mail.find(after).unwrap() + after.len();
    mail[at..at + 6].to_owned()
}

fn assert_page_headers(page: &Page) {
    let h = |name: &str| {
        page.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let csp = h("content-security-policy");
    for part in [
        "default-src 'none'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    // Scripts only from this server's files (the passkey script), none inline.
    assert!(
        !csp.contains("unsafe-inline") && csp.contains("script-src 'self';"),
        "{csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "no-referrer");
    assert_eq!(h("cache-control"), "no-store");
    assert!(h("content-type").starts_with("text/html"));
    // The one script is a file of this server's; no inline script or style.
    let scripts: Vec<&str> = page
        .body
        .match_indices("<script")
        .map(|(i, _)| &page.body[i..])
        .collect();
    assert!(
        !page.body.contains("style=")
            && scripts
                .iter()
                .all(|tag| tag.starts_with("<script src=\"/ui/assets/passkey.js\" defer></script>")),
        "no inline style or script"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_signs_up_verifies_signs_in_manages_sessions_and_signs_out() {
    let app = spawn_app_with(&[]).await;
    let mut browser = Browser::new(&app);

    let form = browser.get("/ui/sign-up").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_page_headers(&form);
    assert!(form.body.contains("<html lang=\"en\">"), "{}", form.body);
    assert!(
        form.body.contains("Password: characters: 8–256"),
        "the rules before submitting"
    );
    let form_cookie = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-tessera-form="))
        .expect("the form nonce cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(form_cookie.contains(attr), "{form_cookie}");
    }

    // The server's answer to a refused form, in the form.
    let csrf = form.field("csrf");
    let refused = browser
        .post(
            "/ui/sign-up",
            &[
                ("csrf", &csrf),
                ("username", "ann"),
                ("email", "not-an-address"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("Invalid email address"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"ann\""),
        "the form keeps what was typed"
    );

    let created = browser
        .post(
            "/ui/sign-up",
            &[
                ("csrf", &csrf),
                ("username", "ann"),
                ("email", "ann@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(
        created
            .body
            .contains("/ui/verify-email?email=ann%40example.com")
    );

    let code = code_in_mail(&app, "ann@example.com", "Your verification code is ", 1).await;
    let verify = browser
        .get("/ui/verify-email?email=ann%40example.com")
        .await;
    assert!(verify.body.contains("value=\"ann@example.com\""));
    let csrf = verify.field("csrf");
    let wrong = browser
        .post(
            "/ui/verify-email",
            &[
                ("csrf", &csrf),
                ("email", "ann@example.com"),
                ("code", "000000"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    let verified = browser
        .post(
            "/ui/verify-email",
            &[
                ("csrf", &csrf),
                ("email", "ann@example.com"),
                ("code", &code),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    assert!(verified.body.contains("Email verified"));

    // Signing in: the session cookie, then the account page.
    browser.sign_in("ann", PASSWORD).await;
    let session_cookie = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-tessera-session="))
        .expect("the session cookie")
        .clone();
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(session_cookie.contains(attr), "{session_cookie}");
    }
    assert!(!session_cookie.contains("Domain="), "{session_cookie}");
    let value = browser.cookies["__Host-tessera-session"].clone();
    assert!(!value.starts_with("eyJ"), "never a JWT: {value}");
    let (status, body) = app
        .post("/api/auth/refresh", &json!({"refresh_token": value}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the cookie is no refresh token: {body}"
    );

    let account = browser.get("/ui/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert_page_headers(&account);
    assert!(
        account.body.contains("ann@example.com (verified)"),
        "{}",
        account.body
    );
    assert!(account.body.contains("(this browser)"));

    // The browser session is a Tessera session: the API lists it, and a
    // second one (a phone app) shows on the page, where it can be ended.
    let api = app.login("ann", PASSWORD).await;
    let access = s(&api["access_token"]).to_owned();
    let (status, sessions) = app.get_bearer("/api/auth/sessions", &access).await;
    assert_eq!(status, StatusCode::OK);
    let listed = sessions["sessions"]
        .as_array()
        .or(sessions.as_array())
        .unwrap()
        .len();
    assert_eq!(listed, 2, "{sessions}");
    let account = browser.get("/ui/account").await;
    assert_eq!(
        account.body.matches("<tr").count(),
        3,
        "a header and two sessions"
    );
    let other = account.body.split("/ui/account/sessions/").nth(1).unwrap();
    let other_id = other.split('/').next().unwrap().to_owned();
    let csrf = account.field("csrf");
    let ended = browser
        .post(
            &format!("/ui/account/sessions/{other_id}/end"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        ended.status,
        StatusCode::SEE_OTHER,
        "{other_id}: {}",
        ended.body
    );
    assert_eq!(ended.location(), "/ui/account?done=sessions");
    let (status, _) = app.get_bearer("/api/auth/me", &access).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the ended session's tokens stop working"
    );
    assert!(
        browser
            .get("/ui/account?done=sessions")
            .await
            .body
            .contains("Sessions ended.")
    );

    // "End all other sessions" keeps this browser's.
    let api = app.login("ann", PASSWORD).await;
    let access = s(&api["access_token"]).to_owned();
    let csrf = browser.account_csrf().await;
    let ended = browser
        .post("/ui/account/sessions/end-others", &[("csrf", &csrf)])
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_bearer("/api/auth/me", &access).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(browser.get("/ui/account").await.status, StatusCode::OK);

    // Changing the password: a wrong current one is said in the page.
    let csrf = browser.account_csrf().await;
    let wrong = browser
        .post(
            "/ui/account/password",
            &[
                ("csrf", &csrf),
                ("old_password", "nope-Nope-1"),
                ("new_password", "Another-Horse-7"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(wrong.body.contains("The current password is wrong"));
    let changed = browser
        .post(
            "/ui/account/password",
            &[
                ("csrf", &csrf),
                ("old_password", PASSWORD),
                ("new_password", "Another-Horse-7"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert!(
        browser
            .get("/ui/account?done=password")
            .await
            .body
            .contains("Your password was changed")
    );

    // Signing out ends the session; the page then asks to sign in.
    let csrf = browser.account_csrf().await;
    let out = browser.post("/ui/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/ui/signed-out");
    assert!(
        !browser.cookies.contains_key("__Host-tessera-session"),
        "the cookie is cleared"
    );
    assert!(
        browser
            .get("/ui/signed-out")
            .await
            .body
            .contains("You have signed out")
    );
    let after = browser.get("/ui/account").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location(), "/ui/sign-in?return_to=%2Fui%2Faccount");
    // The ended session's cookie, presented again, is refused too.
    browser
        .cookies
        .insert("__Host-tessera-session".into(), value);
    assert_eq!(
        browser.get("/ui/account").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_without_its_token_or_with_another_sessions_is_refused_and_changes_nothing() {
    let app = spawn_app_with(&[]).await;
    app.register("bob", "bob@example.com", PASSWORD).await;
    app.register("eve", "eve@example.com", PASSWORD).await;

    // Anonymous forms: no nonce cookie, or a token for another nonce.
    let mut stranger = Browser::new(&app);
    let refused = stranger
        .post(
            "/ui/sign-in",
            &[("csrf", "x"), ("identifier", "bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("This form has expired"));
    let mut other = Browser::new(&app);
    let others_token = other.get("/ui/sign-in").await.field("csrf");
    stranger.get("/ui/sign-in").await;
    let refused = stranger
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &others_token),
                ("identifier", "bob"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!stranger.cookies.contains_key("__Host-tessera-session"));

    // Signed-in forms: none, empty, or another session's token.
    let mut bob = Browser::new(&app);
    bob.sign_in("bob", PASSWORD).await;
    let mut eve = Browser::new(&app);
    eve.sign_in("eve", PASSWORD).await;
    let eves_token = eve.account_csrf().await;
    for token in [None, Some(""), Some(eves_token.as_str())] {
        let mut fields = vec![
            ("old_password", PASSWORD),
            ("new_password", "Stolen-Horse-5"),
        ];
        if let Some(t) = token {
            fields.push(("csrf", t));
        }
        let refused = bob.post("/ui/account/password", &fields).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{token:?}: {}",
            refused.body
        );
        let mut fields = vec![];
        if let Some(t) = token {
            fields.push(("csrf", t));
        }
        assert_eq!(
            bob.post("/ui/sign-out", &fields).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            bob.post("/ui/account/sessions/end-others", &fields)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    // Nothing changed: the password is the old one, the session lives.
    assert!(app.login("bob", PASSWORD).await["access_token"].is_string());
    assert_eq!(bob.get("/ui/account").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_errors_do_not_tell_whether_an_account_exists() {
    let app = spawn_app_with(&[]).await;
    app.register("carl", "carl@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/ui/sign-in").await.field("csrf");
    let wrong = browser
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &csrf),
                ("identifier", "carl"),
                ("password", "Wrong-Horse-1"),
            ],
        )
        .await;
    let unknown = browser
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &csrf),
                ("identifier", "nobody"),
                ("password", "Wrong-Horse-1"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    let error = |p: &Page| {
        p.body
            .split("role=\"alert\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(error(&wrong), error(&unknown));
    assert_eq!(error(&wrong), "Invalid username or password");

    // Forgot password: an unknown account and a known one answer alike.
    let csrf = browser.get("/ui/forgot-password").await.field("csrf");
    let known = browser
        .post(
            "/ui/forgot-password",
            &[
                ("csrf", &csrf),
                ("identifier", "carl"),
                ("contact", "carl@example.com"),
            ],
        )
        .await;
    let unknown = browser
        .post(
            "/ui/forgot-password",
            &[
                ("csrf", &csrf),
                ("identifier", "nobody"),
                ("contact", "nobody@example.com"),
            ],
        )
        .await;
    let mismatch = browser
        .post(
            "/ui/forgot-password",
            &[
                ("csrf", &csrf),
                ("identifier", "carl"),
                ("contact", "x@example.com"),
            ],
        )
        .await;
    for (p, who) in [(&known, "carl"), (&unknown, "nobody"), (&mismatch, "carl")] {
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert!(
            p.location()
                .starts_with(&format!("/ui/reset-password?identifier={who}&contact="))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forgotten_password_is_reset_with_the_mailed_code_and_every_session_ends() {
    let app = spawn_app_with(&[]).await;
    app.register("dora", "dora@example.com", PASSWORD).await;
    let mut old = Browser::new(&app);
    old.sign_in("dora", PASSWORD).await;

    let mut browser = Browser::new(&app);
    let csrf = browser.get("/ui/forgot-password").await.field("csrf");
    let sent = browser
        .post(
            "/ui/forgot-password",
            &[
                ("csrf", &csrf),
                ("identifier", "dora"),
                ("contact", "dora@example.com"),
            ],
        )
        .await;
    let reset_page = browser.get(sent.location()).await;
    assert!(reset_page.body.contains("Code sent"), "{}", reset_page.body);
    assert!(reset_page.body.contains("value=\"dora@example.com\""));
    let code = code_in_mail(&app, "dora@example.com", "Your password reset code is ", 1).await;
    let csrf = reset_page.field("csrf");
    let done = browser
        .post(
            "/ui/reset-password",
            &[
                ("csrf", &csrf),
                ("identifier", "dora"),
                ("contact", "dora@example.com"),
                ("code", &code),
                ("new_password", "Fresh-Horse-42"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Your password was reset"));
    assert_eq!(
        old.get("/ui/account").await.status,
        StatusCode::SEE_OTHER,
        "the old browser's session ended"
    );
    browser.sign_in("dora", "Fresh-Horse-42").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn return_to_goes_only_to_this_server_or_an_allowed_target() {
    let app = spawn_app_with(&[("RETURN_TO_ALLOWED", "https://app.example.com/cb/")]).await;
    app.register("erin", "erin@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app);
    for refused in [
        "https://evil.example.com/",
        "https://app.example.com/other",
        "https://app.example.com.evil.com/cb/",
        "//evil.example.com/",
        "/\\evil.example.com/",
        "javascript:alert(1)",
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(refused.as_bytes()).collect();
        let page = browser
            .get(&format!("/ui/sign-in?return_to={encoded}"))
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(
            page.body.contains("is not one this server may send you to"),
            "{refused}"
        );
    }
    let page = browser
        .get("/ui/sign-in?return_to=https%3A%2F%2Fapp.example.com%2Fcb%2Fdone%3Fx%3D1")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("form-action 'self' https://app.example.com"),
        "{csp}"
    );
    let csrf = page.field("csrf");
    let return_to = page.field("return_to");
    assert_eq!(return_to, "https://app.example.com/cb/done?x=1");
    // A forged hidden field is checked again.
    let forged = browser
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &csrf),
                ("identifier", "erin"),
                ("password", PASSWORD),
                ("return_to", "https://evil.example.com/"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let signed = browser
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &csrf),
                ("identifier", "erin"),
                ("password", PASSWORD),
                ("return_to", &return_to),
            ],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    assert_eq!(signed.location(), "https://app.example.com/cb/done?x=1");
    // Signed in, the sign-in page sends straight back.
    let again = browser.get("/ui/sign-in?return_to=%2Fui%2Faccount").await;
    assert_eq!(
        (again.status, again.location()),
        (StatusCode::SEE_OTHER, "/ui/account")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_disabling_an_account_ends_its_browser_session_at_the_next_click() {
    let app = spawn_app_with(&[]).await;
    let admin = app
        .create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    let user = app.register("finn", "finn@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("finn", PASSWORD).await;
    let id = user["user"]["id"].as_i64().or(user["id"].as_i64()).unwrap();
    let (status, body) = app
        .post_bearer(
            &format!("/api/admin/users/{id}/disable"),
            s(&admin["access_token"]),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = browser.get("/ui/account").await;
    assert_eq!(next.status, StatusCode::SEE_OTHER);
    assert!(next.location().starts_with("/ui/sign-in"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_language_follows_the_switcher_then_accept_language() {
    let app = spawn_app_with(&[]).await;
    let mut browser = Browser::new(&app);
    browser.lang = "zh-CN,zh;q=0.9";
    let page = browser.get("/ui/sign-in").await;
    assert!(page.body.contains("<html lang=\"zh-CN\">"));
    assert!(page.body.contains("用户名、邮箱或手机号"));
    let switch = browser.get("/ui/lang/en?back=%2Fui%2Fsign-in").await;
    assert_eq!(
        (switch.status, switch.location()),
        (StatusCode::SEE_OTHER, "/ui/sign-in")
    );
    let set = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-tessera-lang=en"))
        .unwrap();
    assert!(set.contains("Secure") && set.contains("Path=/"), "{set}");
    let page = browser.get("/ui/sign-in").await;
    assert!(
        page.body.contains("<html lang=\"en\">"),
        "the switch wins over Accept-Language"
    );
    assert!(page.body.contains("Username, e-mail or phone"));
    // The switcher goes back only to a path here.
    let off_site = browser
        .get("/ui/lang/zh-CN?back=%2F%2Fevil.example.com%2F")
        .await;
    assert_eq!(off_site.location(), "/ui/account");
    assert!(
        browser
            .get("/ui/sign-in")
            .await
            .body
            .contains("<html lang=\"zh-CN\">")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn assets_and_theme_are_served_from_the_binary_and_unknown_pages_are_html_404s() {
    let app = spawn_app_with(&[
        ("PAGES_ACCENT_COLOR", "#0F766E"),
        ("MAIL_PRODUCT_NAME", "Acme ID"),
    ])
    .await;
    let mut browser = Browser::new(&app);
    let css = browser.get("/ui/assets/tessera.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let etag = css.headers["etag"].to_str().unwrap().to_owned();
    let again = browser
        .send(
            browser
                .client
                .get(app.url("/ui/assets/tessera.css"))
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let theme = browser.get("/ui/theme.css").await;
    assert!(theme.body.contains("--accent: #0f766e;"), "{}", theme.body);
    assert!(browser.get("/ui/sign-in").await.body.contains("Acme ID"));
    for missing in [
        "/ui/assets/nope.css",
        "/ui/nothing-here",
        "/ui/assets/..%2FCargo.toml",
    ] {
        let page = browser.get(missing).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{missing}");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{missing}"
        );
    }
    let home = browser.get("/").await;
    assert_eq!(
        (home.status, home.location()),
        (StatusCode::SEE_OTHER, "/ui/account")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_counts_against_the_login_rate_limit_and_says_so_in_a_page() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN", "2/60")]).await;
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/ui/sign-in").await.field("csrf");
    let mut last = None;
    for _ in 0..3 {
        last = Some(
            browser
                .post(
                    "/ui/sign-in",
                    &[
                        ("csrf", &csrf),
                        ("identifier", "nobody"),
                        ("password", "Wrong-Horse-1"),
                    ],
                )
                .await,
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "{}", last.body);
    assert!(last.headers.contains_key("retry-after"));
    assert!(
        last.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

fn id_of(registered: &serde_json::Value) -> i64 {
    registered["user"]["id"]
        .as_i64()
        .or(registered["id"].as_i64())
        .unwrap()
}

/// The text of a page's error (`role="alert"`), if any.
fn alert(page: &Page) -> String {
    page.body
        .split("role=\"alert\">")
        .nth(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_manages_users_and_reads_the_audit_log_in_the_console() {
    let app = spawn_app_with(&[]).await;
    app.create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    let gina = id_of(&app.register("gina", "gina@example.com", PASSWORD).await);
    let hank = id_of(&app.register("hank", "hank@example.com", PASSWORD).await);
    let mut root = Browser::new(&app);
    root.sign_in("root", PASSWORD).await;

    // The list: every user, a search, an order, the header link.
    let list = root.get("/ui/admin/users").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_page_headers(&list);
    assert!(
        list.body
            .contains("href=\"/ui/admin/users\">Administration</a>"),
        "the header offers the console"
    );
    for name in ["root", "gina", "hank"] {
        assert!(list.body.contains(&format!(">{name}</a>")), "{name}");
    }
    let found = root.get("/ui/admin/users?q=GIN").await;
    assert!(found.body.contains(">gina</a>") && !found.body.contains(">hank</a>"));
    let newest = root.get("/ui/admin/users?order=newest").await;
    let first = newest.body.find(">hank</a>").unwrap();
    assert!(
        first < newest.body.find(">gina</a>").unwrap(),
        "newest first"
    );
    assert!(newest.body.contains("<option value=\"newest\" selected>"));

    // A user's page: grant and remove a role.
    let page = root.get(&format!("/ui/admin/users/{gina}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.field("csrf");
    let granted = root
        .post(
            &format!("/ui/admin/users/{gina}/roles"),
            &[("csrf", &csrf), ("role", "admin")],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", alert(&granted));
    let page = root.get(granted.location()).await;
    assert!(page.body.contains("Role granted"));
    assert!(
        page.body
            .contains(&format!("/ui/admin/users/{gina}/roles/admin/revoke"))
    );
    let removed = root
        .post(
            &format!("/ui/admin/users/{gina}/roles/admin/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", alert(&removed));
    let unknown = root
        .post(
            &format!("/ui/admin/users/{gina}/roles"),
            &[("csrf", &csrf), ("role", "no-such-role")],
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::BAD_REQUEST,
        "{}",
        alert(&unknown)
    );

    // Disable, enable, end sessions: through the same use cases as /api/admin.
    let api = app.login("gina", PASSWORD).await;
    let access = s(&api["access_token"]).to_owned();
    let disabled = root
        .post(
            &format!("/ui/admin/users/{gina}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_bearer("/api/auth/me", &access).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"username": "gina", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a disabled account cannot log in"
    );
    let enabled = root
        .post(
            &format!("/ui/admin/users/{gina}/enable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);
    let api = app.login("gina", PASSWORD).await;
    let access = s(&api["access_token"]).to_owned();
    let ended = root
        .post(
            &format!("/ui/admin/users/{gina}/end-sessions"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_bearer("/api/auth/me", &access).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Delete: only with the username typed.
    let mistyped = root
        .post(
            &format!("/ui/admin/users/{gina}/delete"),
            &[("csrf", &csrf), ("confirm", "gin")],
        )
        .await;
    assert_eq!(mistyped.status, StatusCode::BAD_REQUEST);
    assert!(alert(&mistyped).contains("does not match"));
    assert!(app.login("gina", PASSWORD).await["access_token"].is_string());
    let deleted = root
        .post(
            &format!("/ui/admin/users/{gina}/delete"),
            &[("csrf", &csrf), ("confirm", "gina")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", alert(&deleted));
    assert_eq!(deleted.location(), "/ui/admin/users?done=deleted");
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"username": "gina", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        root.get(&format!("/ui/admin/users/{gina}")).await.status,
        StatusCode::NOT_FOUND
    );

    // The audit log: by account, by kind; an unreadable filter is said.
    let trail = root.get(&format!("/ui/admin/audit?user={gina}")).await;
    assert_eq!(trail.status, StatusCode::OK);
    for kind in [
        "role_granted",
        "role_revoked",
        "user_disabled",
        "user_enabled",
        "sessions_revoked",
        "user_deleted",
    ] {
        assert!(trail.body.contains(&format!("<td>{kind}</td>")), "{kind}");
    }
    let only = root
        .get(&format!("/ui/admin/audit?user={gina}&kind=user_disabled"))
        .await;
    assert_eq!(only.body.matches("<td>user_disabled</td>").count(), 1);
    assert!(!only.body.contains("<td>role_granted</td>"));
    let future = root.get("/ui/admin/audit?since=2999-01-01T00%3A00").await;
    assert!(
        !future.body.contains("<td>login_succeeded</td>"),
        "nothing after the filter's start"
    );
    let bad = root.get("/ui/admin/audit?kind=nope&since=yesterday").await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(alert(&bad).contains("could not be read"));

    // An account without the permissions sees a 403 page and changes nothing.
    let mut hanks = Browser::new(&app);
    hanks.sign_in("hank", PASSWORD).await;
    let refused = hanks.get("/ui/admin/users").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        !hanks
            .get("/ui/account")
            .await
            .body
            .contains("Administration")
    );
    let hanks_csrf = hanks.account_csrf().await;
    let refused = hanks
        .post(
            &format!("/ui/admin/users/{hank}/roles"),
            &[("csrf", &hanks_csrf), ("role", "super_admin")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (_, me) = app
        .get_bearer(
            "/api/auth/me",
            s(&app.login("hank", PASSWORD).await["access_token"]),
        )
        .await;
    assert!(!me.to_string().contains("super_admin"), "{me}");
    // And root's form token is no use in hank's browser.
    let stolen = hanks
        .post(
            &format!("/ui/admin/users/{hank}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_keeps_the_role_rank_rule() {
    let app = spawn_app_with(&[]).await;
    app.create_with_role("root", "root@example.com", PASSWORD, "super_admin")
        .await;
    app.create_with_role("ivy", "ivy@example.com", PASSWORD, "admin")
        .await;
    let (status, listed) = app
        .get_bearer(
            "/api/admin/users?q=root",
            s(&app.login("root", PASSWORD).await["access_token"]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let root_id = listed["users"][0]["id"].as_i64().unwrap();
    let mut ivy = Browser::new(&app);
    ivy.sign_in("ivy", PASSWORD).await;
    let page = ivy.get(&format!("/ui/admin/users/{root_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "an admin may look");
    assert!(
        !page.body.contains("/delete\""),
        "no delete form without user:delete"
    );
    assert!(
        !page.body.contains("/roles\""),
        "no grant form without role:update"
    );
    assert!(
        page.body.contains("/end-sessions\""),
        "admin holds session:revoke"
    );
    let csrf = page.field("csrf");
    let outranked = ivy
        .post(
            &format!("/ui/admin/users/{root_id}/end-sessions"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        outranked.status,
        StatusCode::FORBIDDEN,
        "{}",
        alert(&outranked)
    );
    assert!(!alert(&outranked).is_empty());
    // `admin` lacks user:delete: the delete form is refused before anything.
    let refused = ivy
        .post(
            &format!("/ui/admin/users/{root_id}/delete"),
            &[("csrf", &csrf), ("confirm", "root")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(app.login("root", PASSWORD).await["access_token"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn no_page_redirects_off_site_through_invisible_characters_and_odd_queries_get_pages() {
    let app = spawn_app_with(&[]).await;
    let mut browser = Browser::new(&app);
    // Browsers drop tabs and line breaks from a URL: `/\t/host` is `//host`.
    for back in [
        "/%09/evil.example/",
        "/%0A/evil.example/",
        "/%0D%0ASet-Cookie:x=1",
        "/%7F",
        "/%5Cevil",
    ] {
        let page = browser.get(&format!("/ui/lang/en?back={back}")).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{back}");
        assert_eq!(page.location(), "/ui/account", "{back}");
        let page = browser.get(&format!("/ui/sign-in?return_to={back}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{back}");
    }
    // A local return_to that would bounce through the switcher is checked there again.
    let chained =
        "/ui/sign-in?return_to=%2Fui%2Flang%2Fen%3Fback%3D%252F%2509%252Fevil.example%252F";
    let page = browser.get(chained).await;
    let return_to = page.field("return_to");
    let bounced = browser.get(&return_to).await;
    assert_eq!(bounced.location(), "/ui/account");
    // A field given twice, or bytes that are not UTF-8: a page, not a plain-text error.
    for odd in [
        "/ui/sign-in?return_to=/a&return_to=/b",
        "/ui/verify-email?email=%FF%FE",
        "/ui/reset-password?contact=a&contact=b",
    ] {
        let page = browser.get(odd).await;
        assert_eq!(page.status, StatusCode::OK, "{odd}");
        assert_page_headers(&page);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_answer_no_cross_origin_request_whatever_cors_allows_the_api() {
    let app = spawn_app_with(&[
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
        ("CORS_ALLOW_CREDENTIALS", "true"),
    ])
    .await;
    let origin = "https://app.example.com";
    let api = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/me"))
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.headers()["access-control-allow-origin"],
        origin,
        "the API's CORS works"
    );
    for path in [
        "/ui/sign-in",
        "/ui/account/sessions/end-others",
        "/ui/admin/users/1/delete",
    ] {
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        let get = app
            .client
            .get(app.url(path))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        for r in [&preflight, &get] {
            assert!(
                !r.headers()
                    .keys()
                    .any(|k| k.as_str().starts_with("access-control-")),
                "{path}: {:?}",
                r.headers()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_answers_the_same_whether_or_not_the_account_and_address_belong_together() {
    let app = spawn_app_with(&[]).await;
    app.register("kim", "kim@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/ui/reset-password").await.field("csrf");
    // The same answers for a real pair, an unknown account and a mismatched
    // address: a wrong code, a password the policy refuses, and one that
    // names the account as typed.
    let mut answers = Vec::new();
    for (who, contact) in [
        ("kim", "kim@example.com"),
        ("nobody", "nobody@example.com"),
        ("kim", "x@example.com"),
    ] {
        let naming = format!("{who}-Horse-42-{who}");
        for (case, new_password) in [
            ("wrong code", "Fresh-Horse-42"),
            ("policy", "short"),
            ("identity", naming.as_str()),
        ] {
            let page = browser
                .post(
                    "/ui/reset-password",
                    &[
                        ("csrf", csrf.as_str()),
                        ("identifier", who),
                        ("contact", contact),
                        ("code", "000000"),
                        ("new_password", new_password),
                    ],
                )
                .await;
            answers.push((case, page.status, alert(&page), who, contact));
        }
    }
    for case in ["wrong code", "policy", "identity"] {
        let seen: std::collections::BTreeSet<_> = answers
            .iter()
            .filter(|a| a.0 == case)
            .map(|a| (a.1, a.2.clone()))
            .collect();
        assert_eq!(seen.len(), 1, "{case}: {answers:?}");
    }
    // Asking twice at once: the per-address resend limit of a real account
    // answers as a sent code, as an unknown one does.
    let csrf = browser.get("/ui/forgot-password").await.field("csrf");
    for (who, contact) in [("kim", "kim@example.com"), ("nobody", "nobody@example.com")] {
        for _ in 0..2 {
            let page = browser
                .post(
                    "/ui/forgot-password",
                    &[("csrf", &csrf), ("identifier", who), ("contact", contact)],
                )
                .await;
            assert_eq!(
                page.status,
                StatusCode::SEE_OTHER,
                "{who}: {}",
                alert(&page)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_that_cannot_be_read_and_paths_with_a_trailing_slash_get_plain_answers() {
    let app = spawn_app_with(&[]).await;
    app.register("lee", "lee@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/ui/sign-in").await.field("csrf");
    // Not URL-encoded, or more than the form reader takes: 400, not a CSRF refusal.
    let json = browser
        .send(
            browser
                .client
                .post(app.url("/ui/sign-in"))
                .header("content-type", "application/json")
                .body(r#"{"identifier":"lee"}"#),
        )
        .await;
    assert_eq!(json.status, StatusCode::BAD_REQUEST);
    assert!(
        json.body.contains("The request body could not be read"),
        "{}",
        json.body
    );
    let long = "x".repeat(20_000);
    let big = browser
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &csrf),
                ("identifier", &long),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(big.status, StatusCode::BAD_REQUEST);
    // A page's path with a trailing slash is no page.
    for path in ["/ui/", "/ui/account/", "/ui/assets/tessera.css/"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    // After a refused form, the language switcher goes back to the form's page.
    let refused = browser
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &csrf),
                ("identifier", "lee"),
                ("password", "Wrong-Horse-1"),
            ],
        )
        .await;
    assert!(
        refused.body.contains("/ui/lang/zh-CN?back=/ui/sign-in\""),
        "{}",
        refused.body
    );
    browser.sign_in("lee", PASSWORD).await;
    let account_csrf = browser.account_csrf().await;
    let wrong = browser
        .post(
            "/ui/account/password",
            &[
                ("csrf", &account_csrf),
                ("old_password", "Wrong-Horse-1"),
                ("new_password", "Another-Horse-7"),
            ],
        )
        .await;
    assert!(
        wrong.body.contains("/ui/lang/zh-CN?back=/ui/account\""),
        "{}",
        wrong.body
    );
}

/// The text of every `<li><code>…</code></li>` of a page (recovery codes).
/// The TOTP key a page shows (`<code id="totp-secret">`), without its spaces.
fn shown_secret(page: &Page) -> String {
    let marker = "<code id=\"totp-secret\">";
    let at = page.body.find(marker).unwrap() + marker.len();
    page.body[at..]
        .split('<')
        .next()
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn listed_codes(page: &Page) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_turns_on_two_step_verification_and_signs_in_with_a_code_or_a_recovery_code() {
    use crate::factors::{code, early_in_a_step};
    let app = spawn_app_with(&[]).await;
    app.register("tom", "tom@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("tom", PASSWORD).await;
    let account = browser.get("/ui/account").await;
    assert!(
        account.body.contains("Set up an authenticator app"),
        "{}",
        account.body
    );
    let csrf = account.field("csrf");

    let setup = browser.post("/ui/account/totp", &[("csrf", &csrf)]).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    assert_page_headers(&setup);
    assert!(
        setup.body.contains("<svg") && !setup.body.contains("<?xml"),
        "an inline QR code"
    );
    let secret = shown_secret(&setup);
    assert_eq!(secret.len(), 32, "{secret}");
    let wrong = browser
        .post(
            "/ui/account/totp/confirm",
            &[("csrf", &csrf), ("code", "12345")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(wrong.body.contains("<svg"), "the same QR code again");
    early_in_a_step().await;
    let codes_page = browser
        .post(
            "/ui/account/totp/confirm",
            &[("csrf", &csrf), ("code", &code(&secret, -1))],
        )
        .await;
    assert_eq!(codes_page.status, StatusCode::OK, "{}", codes_page.body);
    assert_eq!(codes_page.headers["cache-control"], "no-store");
    let recovery = listed_codes(&codes_page);
    assert_eq!(recovery.len(), 10, "{}", codes_page.body);
    let account = browser.get("/ui/account").await;
    assert!(
        account.body.contains("Two-step verification is on"),
        "{}",
        account.body
    );
    assert!(account.body.contains("<dd id=\"recovery-left\">10</dd>"));

    // A new browser: the password, then the second step.
    let mut other = Browser::new(&app);
    let form = other.get("/ui/sign-in").await;
    let step = other
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &form.field("csrf")),
                ("identifier", "tom"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    assert!(step.body.contains("Two-step verification"), "{}", step.body);
    assert!(
        !other.cookies.keys().any(|k| k.ends_with("tessera-session")),
        "no session before the second factor"
    );
    let (csrf2, mfa_token) = (step.field("csrf"), step.field("mfa_token"));
    let wrong = other
        .post(
            "/ui/sign-in/second-factor",
            &[
                ("csrf", &csrf2),
                ("mfa_token", &mfa_token),
                ("code", "000000"),
            ],
        )
        .await;
    if code(&secret, 0) != "000000" {
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
        assert_eq!(wrong.field("mfa_token"), mfa_token, "the step again");
    }
    let done = other
        .post(
            "/ui/sign-in/second-factor",
            &[
                ("csrf", &csrf2),
                ("mfa_token", &mfa_token),
                ("code", &code(&secret, 0)),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/ui/account");
    assert_eq!(other.get("/ui/account").await.status, StatusCode::OK);

    // A third browser with a recovery code; the used token goes back to sign-in.
    let mut third = Browser::new(&app);
    let form = third.get("/ui/sign-in").await;
    let step = third
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &form.field("csrf")),
                ("identifier", "tom"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let fields = [
        ("csrf", step.field("csrf")),
        ("mfa_token", step.field("mfa_token")),
        ("code", recovery[2].clone()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = third.post("/ui/sign-in/second-factor", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let again = third.post("/ui/sign-in/second-factor", &fields).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{}", again.body);
    assert!(
        again.body.contains("action=\"/ui/sign-in\""),
        "back to the sign-in form"
    );

    // Turning it off takes a code; then the password alone signs in again.
    let csrf = browser.account_csrf().await;
    let refused = browser
        .post(
            "/ui/account/totp/remove",
            &[("csrf", &csrf), ("code", "0000-0000-0000")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let removed = browser
        .post(
            "/ui/account/totp/remove",
            &[("csrf", &csrf), ("code", &recovery[7])],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let mut fourth = Browser::new(&app);
    fourth.sign_in("tom", PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_whose_role_needs_a_factor_sets_one_up_in_the_sign_in_step() {
    use crate::factors::{code, early_in_a_step};
    let app = spawn_app_with(&[("MFA_REQUIRED_ROLES", "logistics")]).await;
    app.create_account("lia", "lia@example.com", PASSWORD, "logistics");
    let mut browser = Browser::new(&app);
    let form = browser.get("/ui/sign-in").await;
    let step = browser
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &form.field("csrf")),
                ("identifier", "lia"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    assert!(
        step.body.contains("id=\"enrolment-required\"") && step.body.contains("<svg"),
        "the enrolment's QR code in the second step: {}",
        step.body
    );
    assert!(
        !browser
            .cookies
            .keys()
            .any(|k| k.ends_with("tessera-session")),
        "no session before a factor is enrolled"
    );
    let secret = shown_secret(&step);
    let (csrf, mfa_token) = (step.field("csrf"), step.field("mfa_token"));
    early_in_a_step().await;
    let wrong = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let again = browser
        .post(
            "/ui/sign-in/second-factor",
            &[
                ("csrf", &csrf),
                ("mfa_token", &mfa_token),
                ("enrol", "1"),
                ("code", wrong),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert!(
        again.body.contains(&secret[..4]),
        "the same key again after a wrong code: {}",
        again.body
    );
    let done = browser
        .post(
            "/ui/sign-in/second-factor",
            &[
                ("csrf", &csrf),
                ("mfa_token", &mfa_token),
                ("enrol", "1"),
                ("code", &code(&secret, 0)),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.headers["cache-control"], "no-store");
    assert_eq!(listed_codes(&done).len(), 10, "{}", done.body);
    assert!(
        browser
            .cookies
            .keys()
            .any(|k| k.ends_with("tessera-session")),
        "signed in with the recovery codes shown"
    );
    let account = browser.get("/ui/account").await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.body);
    assert!(
        account.body.contains("Two-step verification is on"),
        "{}",
        account.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_change_after_reauth_max_age_asks_for_a_fresh_sign_in_first() {
    let app = spawn_app_with(&[("REAUTH_MAX_AGE", "3")]).await;
    app.create_account("root", "root@example.com", PASSWORD, "super_admin");
    let user = app.register("ivy", "ivy@example.com", PASSWORD).await;
    let id = user["user"]["id"].as_i64().unwrap();
    let mut root = Browser::new(&app);
    root.sign_in("root", PASSWORD).await;
    let page = root.get(&format!("/ui/admin/users/{id}")).await;
    let csrf = page.field("csrf");
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let refused = root
        .post(&format!("/ui/admin/users/{id}/disable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER, "{}", refused.body);
    assert_eq!(
        refused.location(),
        format!("/ui/sign-in?reauthenticate=1&return_to=%2Fui%2Fadmin%2Fusers%2F{id}")
    );
    let (_, body) = app
        .get_bearer(
            &format!("/api/admin/users/{id}"),
            s(&app.login("root", PASSWORD).await["access_token"]),
        )
        .await;
    assert_eq!(body["user"]["is_active"], true, "nothing changed: {body}");
    // The sign-in form shows although the browser is signed in, and leads back.
    let form = root.get(refused.location()).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let again = root
        .post(
            "/ui/sign-in",
            &[
                ("csrf", &form.field("csrf")),
                ("identifier", "root"),
                ("password", PASSWORD),
                ("return_to", &format!("/ui/admin/users/{id}")),
            ],
        )
        .await;
    assert_eq!(again.location(), format!("/ui/admin/users/{id}"));
    let csrf = root
        .get(&format!("/ui/admin/users/{id}"))
        .await
        .field("csrf");
    let done = root
        .post(&format!("/ui/admin/users/{id}/disable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location(),
        format!("/ui/admin/users/{id}?done=disabled")
    );
}
