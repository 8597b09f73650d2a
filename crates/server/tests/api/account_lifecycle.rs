//! Issue 20: changing the e-mail address (and phone number) with a code
//! sent to the new one, the previous address's link that undoes it and ends
//! every session; sign-in by a one-time code (`PASSWORDLESS_LOGIN`) with its
//! limits, its enumeration-safe answers and the second-factor step. Codes
//! are read where a person would read them: the mail file, the SMS log.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::factors::{claims, code as totp_code, early_in_a_step};
use crate::helpers::{TestApp, assert_error, eventually, parts, s, spawn_app_with};

const PASSWORD: &str = "Lifecycle-Pass-7";

/// The six digits after `lead` in the newest mail to `to` containing it.
async fn mailed_code(app: &TestApp, to: &str, lead: &str, count: usize) -> String {
    let mails = app.mails(to, lead, count).await;
    let mail = mails.last().unwrap();
    let at = mail.find(lead).unwrap() + lead.len();
    mail[at..at + 6].to_owned()
}

/// The newest text message to `phone` (E.164) in the SMS log, waiting for
/// at least `count`.
async fn texted(app: &TestApp, phone: &str, count: usize) -> String {
    let path = app.var_dir().join("sms.log");
    eventually(100, || async {
        let log = std::fs::read_to_string(&path).ok()?;
        let mine: Vec<&str> = log
            .lines()
            .filter(|l| l.split('\t').nth(1) == Some(phone))
            .collect();
        (mine.len() >= count).then(|| mine.last().unwrap().split('\t').nth(2).unwrap().to_owned())
    })
    .await
    .unwrap_or_else(|| panic!("{count} text message(s) to {phone}"))
}

fn six_digits_in(text: &str) -> String {
    let at = text
        .char_indices()
        .find(|(i, _)| {
            text[*i..].len() >= 6 && text[*i..*i + 6].bytes().all(|b| b.is_ascii_digit())
        })
        .unwrap()
        .0;
    text[at..at + 6].to_owned()
}

/// The revert link's token in the notice mailed to `to`.
async fn revert_token(app: &TestApp, to: &str) -> String {
    let mails = app.mails(to, "/ui/account/revert?token=", 1).await;
    let mail = mails.last().unwrap();
    let at = mail.find("token=").unwrap() + 6;
    mail[at..at + 64].to_owned()
}

/// Registers `name` and verifies its address with the mailed code.
async fn verified(app: &TestApp, name: &str) -> Value {
    let email = format!("{name}@example.com");
    app.register(name, &email, PASSWORD).await;
    let code = mailed_code(app, &email, "Your verification code is ", 1).await;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": email, "code": code, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.login(name, PASSWORD).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_change_takes_the_new_addresss_code_and_every_dialect_shows_it() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let login = verified(&app, "gail").await;
    let token = s(&login["access_token"]).to_owned();
    app.register("hank", "hank@example.com", PASSWORD).await;

    // Registration's rules: the canonical form, and no account's address
    // (another's, or this one's own).
    for (taken, field) in [("Hank@EXAMPLE.com", "email"), ("gail@example.com", "email")] {
        let (status, body) = app
            .post_bearer("/api/auth/me/email", &token, Some(&json!({"email": taken})))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_error(&body, &format!("{field}_taken"));
    }
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email",
            &token,
            Some(&json!({"email": "not an address"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["details"]["email"].is_array(), "{body}");

    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email",
            &token,
            Some(&json!({"email": " Gail.New@Example.COM "})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["sent_to"], "gail.new@example.com");
    let code = mailed_code(&app, "gail.new@example.com", "Your code is ", 1).await;
    // Nothing changed yet.
    let (_, me) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(me["user"]["email"], "gail@example.com");

    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email/confirm",
            &token,
            Some(&json!({"code": wrong})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_wrong");
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email/confirm",
            &token,
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], "gail.new@example.com");
    // Single use.
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email/confirm",
            &token,
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_expired");

    // Every dialect shows the new address; it signs in, the old one does not.
    let (_, me) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(me["user"]["email"], "gail.new@example.com");
    assert_eq!(me["user"]["email_verified"], true, "{me}");
    let (status, v1) = app.get_bearer("/api/v1/auth/profile", &token).await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    assert!(v1.to_string().contains("gail.new@example.com"), "{v1}");
    let (_, legacy) = app.get_bearer("/CheckJWTToken", &token).await;
    assert_eq!(legacy["User"], "gail.new@example.com", "{legacy}");
    app.login("gail.new@example.com", PASSWORD).await;
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"identifier": "gail@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "gail.new@example.com", "Password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Code"], 200, "{body}");

    // The previous address is told, with the link.
    let notice = app
        .mails("gail@example.com", "was changed to gail.new@example.com", 1)
        .await;
    assert!(
        notice[0].contains("/ui/account/revert?token="),
        "{}",
        notice[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_previous_addresss_link_undoes_the_change_and_ends_every_session() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let login = verified(&app, "ivy").await;
    let token = s(&login["access_token"]).to_owned();
    let other = app.login("ivy", PASSWORD).await;

    // Someone holding a session changes the address.
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email",
            &token,
            Some(&json!({"email": "thief@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = mailed_code(&app, "thief@example.com", "Your code is ", 1).await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email/confirm",
            &token,
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let link = revert_token(&app, "ivy@example.com").await;

    // Opening the link shows what it undoes and changes nothing.
    let mut browser = Browser::new(&app);
    let page = browser
        .get(&format!("/ui/account/revert?token={link}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("ivy@example.com"), "{}", page.body);
    assert!(page.body.contains("thief@example.com"), "{}", page.body);
    let (status, _) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(status, StatusCode::OK);

    // The button undoes it: the address is back, every session ended.
    let csrf = page.field("csrf");
    let done = browser
        .post("/ui/account/revert", &[("csrf", &csrf), ("token", &link)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    for t in [&token, s(&other["access_token"])] {
        let (status, body) = app.get_bearer("/api/auth/me", t).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (status, body) = app
        .post(
            "/api/auth/refresh",
            &json!({"refresh_token": other["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let back = app.login("ivy@example.com", PASSWORD).await;
    assert_eq!(back["user"]["email"], "ivy@example.com");
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"identifier": "thief@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The link works once; the API answers the same way.
    let (status, body) = app
        .post("/api/auth/contact/revert", &json!({"token": link}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_expired");
    let (status, body) = app
        .post(
            "/api/auth/contact/revert",
            &json!({"token": "0".repeat(64)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_expired");

    // Audited on the account.
    let token = s(&back["access_token"]).to_owned();
    let (_, export) = app.get_bearer("/api/auth/me/export", &token).await;
    let kinds: Vec<&str> = export["audit"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["kind"]))
        .collect();
    for kind in [
        "contact_change_requested",
        "contact_changed",
        "contact_change_reverted",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_change_needs_a_recent_sign_in() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en"), ("REAUTH_MAX_AGE", "1")]).await;
    let login = verified(&app, "jack").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email",
            s(&login["access_token"]),
            Some(&json!({"email": "jack2@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "reauthentication_required");
    let (status, body) = app
        .post("/api/auth/me/email", &json!({"email": "jack2@example.com"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_change_texts_the_code_and_mails_the_revert_link() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "kim", "email": "kim@example.com", "password": PASSWORD, "phone": "13800138000"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let code = mailed_code(&app, "kim@example.com", "Your verification code is ", 1).await;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": "kim@example.com", "code": code, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = s(&app.login("kim", PASSWORD).await["access_token"]).to_owned();
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/phone",
            &token,
            Some(&json!({"phone": "139 0013 9000"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["sent_to"], "+8613900139000");
    assert!(s(&body["message"]).contains("number"), "{body}");
    let sms = texted(&app, "+8613900139000", 1).await;
    let code = six_digits_in(&sms);
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/phone/confirm",
            &token,
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["phone"], "+8613900139000", "{body}");
    // The previous number is told; the account's address gets the link.
    let told = texted(&app, "+8613800138000", 1).await;
    assert!(told.contains("was changed"), "{told}");
    let link = revert_token(&app, "kim@example.com").await;
    let (status, body) = app
        .post("/api/auth/contact/revert", &json!({"token": link}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let back = app.login("+8613800138000", PASSWORD).await;
    assert_eq!(back["user"]["phone"], "+8613800138000", "{back}");
    let (status, body) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_by_code_is_off_unless_configured() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    for (path, body) in [
        ("/api/auth/login/code", json!({"identifier": "a@b.com"})),
        (
            "/api/auth/login/code/verify",
            json!({"identifier": "a@b.com", "code": "123456"}),
        ),
    ] {
        let (status, body) = app.post(path, &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_error(&body, "passwordless_login_disabled");
    }
    let page = Browser::new(&app).get("/ui/sign-in/code").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    let page = Browser::new(&app).get("/ui/sign-in").await;
    assert!(!page.body.contains("/ui/sign-in/code"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailed_code_signs_in_once_and_answers_never_tell_who_exists() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en"), ("PASSWORDLESS_LOGIN", "true")]).await;
    verified(&app, "lena").await;
    app.register("mona", "mona@example.com", PASSWORD).await; // unverified

    // The same answer for an account, an unverified one and no account.
    let mut answers = Vec::new();
    for identifier in ["lena@example.com", "mona@example.com", "nobody@example.com"] {
        let (status, mut body) = app
            .post("/api/auth/login/code", &json!({"identifier": identifier}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body.as_object_mut().unwrap().remove("debug_code");
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    let code = mailed_code(&app, "lena@example.com", "Your sign-in code is ", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let dir = app.var_dir().join("mail");
    let sign_in_mails = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("sign-in code")))
        .count();
    assert_eq!(sign_in_mails, 1, "only the verified account was mailed");
    // Asking again at once is limited, for any identifier alike.
    for identifier in ["lena@example.com", "nobody@example.com"] {
        let (status, body) = app
            .post("/api/auth/login/code", &json!({"identifier": identifier}))
            .await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "{identifier}: {body}"
        );
    }
    // A code for no account fails as a wrong code does.
    let (status, body) = app
        .post(
            "/api/auth/login/code/verify",
            &json!({"identifier": "nobody@example.com", "code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_wrong");

    let (status, body) = app
        .post(
            "/api/auth/login/code/verify",
            &json!({"identifier": "LENA@example.com", "code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = claims(s(&body["access_token"]));
    assert_eq!(access["amr"], json!(["email"]), "{access}");
    assert_eq!(access["acr"], "aal1", "{access}");
    assert_eq!(body["user"]["username"], "lena");
    let (status, body) = app
        .post(
            "/api/auth/login/code/verify",
            &json!({"identifier": "lena@example.com", "code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_guesses_at_a_sign_in_code_get_at_most_its_attempts() {
    let app = spawn_app_with(&[
        ("DEFAULT_LOCALE", "en"),
        ("PASSWORDLESS_LOGIN", "true"),
        ("RATE_LIMIT_VERIFY_CODE", "off"),
    ])
    .await;
    verified(&app, "nora").await;
    let (status, body) = app
        .post("/api/auth/login/code", &json!({"identifier": "nora"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = mailed_code(&app, "nora@example.com", "Your sign-in code is ", 1).await;
    let right: u32 = code.parse().unwrap();
    let mut guesses = tokio::task::JoinSet::new();
    for n in 1..=40 {
        let client = app.client.clone();
        let url = app.url("/api/auth/login/code/verify");
        guesses.spawn(async move {
            let wrong = format!("{:06}", (right + n) % 1_000_000);
            let r = client
                .post(url)
                .json(&json!({"identifier": "nora", "code": wrong}))
                .send()
                .await
                .unwrap();
            let (status, body) = parts(r).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            s(&body["code"]).to_owned()
        });
    }
    let answers = guesses.join_all().await;
    let compared = answers.iter().filter(|c| *c == "code_wrong").count();
    assert!(compared <= 5, "{compared} guesses compared: {answers:?}");
    // The code is dead now, even the right one.
    let (status, body) = app
        .post(
            "/api/auth/login/code/verify",
            &json!({"identifier": "nora", "code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_exhausted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_sign_in_of_an_account_with_a_factor_takes_the_second_step() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en"), ("PASSWORDLESS_LOGIN", "true")]).await;
    let login = verified(&app, "owen").await;
    let token = s(&login["access_token"]).to_owned();
    let (status, body) = app.post_bearer("/api/auth/mfa/totp", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = s(&body["secret"]).to_owned();
    early_in_a_step().await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/mfa/totp/confirm",
            &token,
            Some(&json!({"code": totp_code(&secret, -1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = app
        .post(
            "/api/auth/login/code",
            &json!({"identifier": "owen@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = mailed_code(&app, "owen@example.com", "Your sign-in code is ", 1).await;
    let (status, body) = app
        .post(
            "/api/auth/login/code/verify",
            &json!({"identifier": "owen@example.com", "code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "mfa_required");
    assert!(body.get("access_token").is_none(), "{body}");
    let (status, body) = app
        .post(
            "/api/auth/mfa/verify",
            &json!({"mfa_token": body["mfa_token"], "code": totp_code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = claims(s(&body["access_token"]));
    assert_eq!(access["amr"], json!(["email", "otp", "mfa"]), "{access}");
    assert_eq!(access["acr"], "aal2", "{access}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_texted_code_signs_in_and_the_pages_do_the_same() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en"), ("PASSWORDLESS_LOGIN", "true")]).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "pia", "email": "pia@example.com", "password": PASSWORD, "phone": "13700137000"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let code = mailed_code(&app, "pia@example.com", "Your verification code is ", 1).await;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": "pia@example.com", "code": code, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/api/auth/login/code",
            &json!({"identifier": "13700137000"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = six_digits_in(&texted(&app, "+8613700137000", 1).await);
    let (status, body) = app
        .post(
            "/api/auth/login/code/verify",
            &json!({"identifier": "+86 137 0013 7000", "code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(s(&body["access_token"]))["amr"], json!(["sms"]));

    // The pages: the link on the sign-in form, the code by mail, the cookie.
    let mut browser = Browser::new(&app);
    let page = browser.get("/ui/sign-in").await;
    assert!(page.body.contains("/ui/sign-in/code"), "{}", page.body);
    let page = browser.get("/ui/sign-in/code").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.field("csrf");
    let page = browser
        .post(
            "/ui/sign-in/code",
            &[("csrf", &csrf), ("identifier", "pia@example.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("/ui/sign-in/code/verify"),
        "{}",
        page.body
    );
    let code = mailed_code(&app, "pia@example.com", "Your sign-in code is ", 1).await;
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 7) % 1_000_000);
    let page = browser
        .post(
            "/ui/sign-in/code/verify",
            &[
                ("csrf", &csrf),
                ("identifier", "pia@example.com"),
                ("code", &wrong),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    let page = browser
        .post(
            "/ui/sign-in/code/verify",
            &[
                ("csrf", &csrf),
                ("identifier", "pia@example.com"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/ui/account");
    let account = browser.get("/ui/account").await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.body);
    assert!(account.body.contains("pia@example.com"), "{}", account.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_account_page_changes_the_address_with_the_code() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    verified(&app, "quin").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("quin", PASSWORD).await;
    let csrf = browser.account_csrf().await;
    let page = browser
        .post(
            "/ui/account/email",
            &[("csrf", &csrf), ("email", "quin.new@example.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("/ui/account/email/confirm"),
        "{}",
        page.body
    );
    let code = mailed_code(&app, "quin.new@example.com", "Your code is ", 1).await;
    let page = browser
        .post(
            "/ui/account/email/confirm",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("quin.new@example.com"), "{}", page.body);
    revert_token(&app, "quin@example.com").await;
    // Without the session's form token nothing changes.
    let cookie = browser.cookie_header();
    let refused = app
        .client
        .post(app.url("/ui/account/email"))
        .header("cookie", cookie)
        .form(&[("email", "x@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.mails("quin.new@example.com", "Your code is ", 1)
            .await
            .len(),
        1
    );
}

/// Mails to `to` whose text contains `needle`, now (no waiting).
fn mails_now(app: &TestApp, to: &str, needle: &str) -> usize {
    let to_line = format!("To: {to}");
    std::fs::read_dir(app.var_dir().join("mail"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path()).is_ok_and(|t| {
                        let t = t
                            .replace("=\r\n", "")
                            .replace("=\n", "")
                            .replace("=3D", "=");
                        t.contains(&to_line) && t.contains(needle)
                    })
                })
                .count()
        })
        .unwrap_or(0)
}

/// Changes `token`'s account address to `to`, reading the code there.
async fn change_address(app: &TestApp, token: &str, to: &str) {
    let (status, body) = app
        .post_bearer("/api/auth/me/email", token, Some(&json!({"email": to})))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = mailed_code(app, to, "Your code is ", 1).await;
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/email/confirm",
            token,
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Someone holding a session changes the address twice: both links go to
/// the address before the first change, none to an address they hold, so
/// nothing they receive can undo the owner's revert.
#[tokio::test(flavor = "multi_thread")]
async fn a_chain_of_changes_sends_every_link_to_the_address_before_the_first() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let login = verified(&app, "rosa").await;
    let token = s(&login["access_token"]).to_owned();
    change_address(&app, &token, "x@evil.test").await;
    // One code a minute per account.
    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    change_address(&app, &token, "y@evil.test").await;
    let links = app
        .mails("rosa@example.com", "/ui/account/revert?token=", 2)
        .await;
    assert_eq!(links.len(), 2);
    assert!(
        links[1].contains("was changed to y@evil.test"),
        "{}",
        links[1]
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mails_now(&app, "x@evil.test", "revert?token="), 0);
    assert_eq!(mails_now(&app, "y@evil.test", "revert?token="), 0);
    // Either link restores the first address.
    let link = revert_token(&app, "rosa@example.com").await;
    let (status, body) = app
        .post("/api/auth/contact/revert", &json!({"token": link}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let back = app.login("rosa@example.com", PASSWORD).await;
    assert_eq!(back["user"]["email"], "rosa@example.com");
}

/// An unverified registration of the previous address does not keep it
/// from coming back; a sign-in code sent to the changed address before the
/// revert signs in no one after it.
#[tokio::test(flavor = "multi_thread")]
async fn the_revert_beats_a_squatted_registration_and_voids_sign_in_codes() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en"), ("PASSWORDLESS_LOGIN", "true")]).await;
    let login = verified(&app, "sara").await;
    let token = s(&login["access_token"]).to_owned();
    change_address(&app, &token, "thief@evil.test").await;
    let squat = app.register("squatter", "sara@example.com", PASSWORD).await;
    let (status, body) = app
        .post("/api/auth/login/code", &json!({"identifier": "sara"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let stolen = mailed_code(&app, "thief@evil.test", "Your sign-in code is ", 1).await;

    let link = revert_token(&app, "sara@example.com").await;
    let (status, body) = app
        .post("/api/auth/contact/revert", &json!({"token": link}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let back = app.login("sara@example.com", PASSWORD).await;
    assert_eq!(back["user"]["username"], "sara");
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"identifier": "squatter", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the squatted registration is gone"
    );
    assert!(squat["user"]["id"].is_i64());

    let (status, body) = app
        .post(
            "/api/auth/login/code/verify",
            &json!({"identifier": "sara", "code": stolen}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "code_wrong");
}

/// An address that was never verified is told nothing and gets no link:
/// whoever reads it may not be the account's holder.
#[tokio::test(flavor = "multi_thread")]
async fn a_never_verified_address_gets_no_link() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    app.register("tess", "typo-tess@example.com", PASSWORD)
        .await;
    let token = s(&app.login("tess", PASSWORD).await["access_token"]).to_owned();
    change_address(&app, &token, "tess@example.com").await;
    let (_, me) = app.get_bearer("/api/auth/me", &token).await;
    assert_eq!(me["user"]["email"], "tess@example.com");
    assert_eq!(me["user"]["email_verified"], true, "proved by the code");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mails_now(&app, "typo-tess@example.com", "revert?token="), 0);
}

/// Someone who changed the number registers another account with the old
/// one (numbers are not proven at registration): the revert cannot bring it
/// back, but takes the changed number off the account.
#[tokio::test(flavor = "multi_thread")]
async fn a_squatted_old_number_still_loses_the_changed_one() {
    let app = spawn_app_with(&[("DEFAULT_LOCALE", "en")]).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "uma", "email": "uma@example.com", "password": PASSWORD, "phone": "13600136000"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let code = mailed_code(&app, "uma@example.com", "Your verification code is ", 1).await;
    let (status, body) = app
        .post(
            "/api/auth/verify-email",
            &json!({"email": "uma@example.com", "code": code, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = s(&app.login("uma", PASSWORD).await["access_token"]).to_owned();
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/phone",
            &token,
            Some(&json!({"phone": "13500135000"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = six_digits_in(&texted(&app, "+8613500135000", 1).await);
    let (status, body) = app
        .post_bearer(
            "/api/auth/me/phone/confirm",
            &token,
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"username": "squat", "email": "squat@example.com", "password": PASSWORD, "phone": "13600136000"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let link = revert_token(&app, "uma@example.com").await;
    let (status, body) = app
        .post("/api/auth/contact/revert", &json!({"token": link}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let back = app.login("uma", PASSWORD).await;
    assert!(back["user"]["phone"].is_null(), "{back}");
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"identifier": "13500135000", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the changed number names no account"
    );
}
