//! Issue 13, items 1–5: seed 001's answers as its real clients need them
//! (peer-facts "Measured side by side"). Sign creates the account, so the
//! front end's Sign → Login works beside the README's Sign → Verify → Login;
//! whoever reads the mailed code ends up holding the address.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, s, spawn_app_with};
use crate::seed001::{code_in_mail, post_en};

const SIGN_UP_CODE: &str = "Your sign-up code is ";

fn sign_form(name: &str, email: &str, password: &str) -> Value {
    json!({"Name": name, "Email": email, "Password": password})
}

fn verify_form(name: &str, email: &str, password: &str, code: &str) -> Value {
    json!({"Name": name, "Email": email, "Password": password, "VerifyCode": code})
}

/// A code that is not `sent`.
fn other_than(sent: &str) -> &'static str {
    if sent == "000000" { "111111" } else { "000000" }
}

async fn legacy_login(app: &TestApp, email: &str, password: &str) -> Value {
    let (status, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A successful `/Auth/Login`: Code 200 with a JWT and the account's id.
fn logged_in(body: &Value) -> i64 {
    assert_eq!(body["Code"], 200, "{body}");
    assert_eq!(s(&body["Token"]).split('.').count(), 3, "{body}");
    body["UserID"]
        .as_i64()
        .unwrap_or_else(|| panic!("no UserID in {body}"))
}

/// `/CheckJWTToken`'s `Code` for `token`.
async fn check_code(app: &TestApp, token: &str) -> Value {
    let (_, body) = app.get_bearer("/CheckJWTToken", token).await;
    body["Code"].clone()
}

async fn sign(app: &TestApp, form: &Value) -> Value {
    let (status, body) = post_en(app, "/Auth/Sign", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn verify(app: &TestApp, form: &Value) -> Value {
    let (status, body) = post_en(app, "/Auth/Verify", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Item 1, the real front end's flow: Sign, then Login at once (default
/// configuration). Old main answered 501: Sign only mailed a code.
#[tokio::test(flavor = "multi_thread")]
async fn sign_then_login_works_without_verify() {
    let app = spawn_app_with(&[]).await;
    let email = "dreamer@example.com";
    let body = sign(&app, &sign_form("Dreamer", email, "Plain-Pass-1")).await;
    assert_eq!(body["Code"], 200, "{body}");
    let id = logged_in(&legacy_login(&app, email, "Plain-Pass-1").await);
    assert!(id > 0, "a real id");
    // The address is not verified yet: the account says so.
    let body = app.login(email, "Plain-Pass-1").await;
    assert_eq!(body["user"]["email_verified"], false, "{body}");
}

/// Item 1, the README's flow on an account Sign already made: Login works
/// before Verify; Verify (200, same account) confirms the address and ends
/// the sessions opened before it; Login works after.
#[tokio::test(flavor = "multi_thread")]
async fn sign_login_verify_login_keeps_one_account() {
    let app = spawn_app_with(&[]).await;
    let email = "reader@example.com";
    sign(&app, &sign_form("Reader", email, "Plain-Pass-1")).await;
    let before = legacy_login(&app, email, "Plain-Pass-1").await;
    let id = logged_in(&before);
    let sent = code_in_mail(&app, email, SIGN_UP_CODE, 1).await;
    let body = verify(&app, &verify_form("Reader", email, "Plain-Pass-1", &sent)).await;
    assert_eq!(body["Code"], 200, "{body}");
    assert_eq!(body["UserID"].as_i64(), Some(id), "the account Sign made");
    assert_eq!(s(&body["Name"]), "Reader", "{body}");
    assert_eq!(
        check_code(&app, s(&before["Token"])).await,
        401,
        "a verification ends the sessions opened before it"
    );
    assert_eq!(
        logged_in(&legacy_login(&app, email, "Plain-Pass-1").await),
        id
    );
    let body = app.login(email, "Plain-Pass-1").await;
    assert_eq!(body["user"]["email_verified"], true, "{body}");
}

/// Item 1: a second Sign for the address within the resend minute answers
/// 502 "exists" as the peer does, never HTTP 429 (old main: 429).
#[tokio::test(flavor = "multi_thread")]
async fn a_second_sign_is_502_not_429() {
    let app = spawn_app_with(&[]).await;
    let email = "twice@example.com";
    sign(&app, &sign_form("Twice", email, "Plain-Pass-1")).await;
    for password in ["Plain-Pass-1", "Other-Pass-2"] {
        let body = sign(&app, &sign_form("Twice", email, password)).await;
        assert_eq!(body["Code"], 502, "{body}");
    }
    // The first password still holds the account.
    logged_in(&legacy_login(&app, email, "Plain-Pass-1").await);
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": "Other-Pass-2"}),
        )
        .await;
    assert_eq!(body["Code"], 501, "{body}");
}

/// Item 1 with `REQUIRE_VERIFIED_EMAIL=true`: Sign → Login is refused as
/// "not verified" (Code 401, `Token`/`UserID` null) until Verify.
#[tokio::test(flavor = "multi_thread")]
async fn with_required_verification_login_waits_for_verify() {
    let app = spawn_app_with(&[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let email = "strict@example.com";
    sign(&app, &sign_form("Strict", email, "Plain-Pass-1")).await;
    let body = legacy_login(&app, email, "Plain-Pass-1").await;
    assert_eq!(body["Code"], 401, "{body}");
    assert!(
        body.get("Token").is_some_and(Value::is_null)
            && body.get("UserID").is_some_and(Value::is_null),
        "{body}"
    );
    let sent = code_in_mail(&app, email, SIGN_UP_CODE, 1).await;
    let body = verify(&app, &verify_form("Strict", email, "Plain-Pass-1", &sent)).await;
    assert_eq!(body["Code"], 200, "{body}");
    logged_in(&legacy_login(&app, email, "Plain-Pass-1").await);
}

/// Item 1, pre-hijacking (issue 12, item 3): an attacker Signs the victim's
/// address with password A and logs in; the victim types the mailed code with
/// password B. The victim holds the account with B (verified); A is refused
/// and the attacker's token is dead.
#[tokio::test(flavor = "multi_thread")]
async fn the_code_reader_takes_the_address_from_the_registrant() {
    let app = spawn_app_with(&[]).await;
    let victim = "victim@example.com";
    sign(&app, &sign_form("Intruder", victim, "Sneaky-Pass-1")).await;
    let attacker = legacy_login(&app, victim, "Sneaky-Pass-1").await;
    let id = logged_in(&attacker);
    assert_eq!(check_code(&app, s(&attacker["Token"])).await, 200);
    let sent = code_in_mail(&app, victim, SIGN_UP_CODE, 1).await;
    let body = verify(
        &app,
        &verify_form("Victoria", victim, "Owner-Pass-2", &sent),
    )
    .await;
    assert_eq!(body["Code"], 200, "{body}");
    assert_eq!(
        check_code(&app, s(&attacker["Token"])).await,
        401,
        "the attacker's token is dead"
    );
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": victim, "Password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(body["Code"], 501, "A is refused: {body}");
    assert_eq!(
        logged_in(&legacy_login(&app, victim, "Owner-Pass-2").await),
        id,
        "the account, claimed"
    );
    let body = app.login(victim, "Owner-Pass-2").await;
    assert_eq!(body["user"]["email_verified"], true, "{body}");
    // The claim was the owner's: a second Verify (or Sign) is "exists".
    let body = verify(
        &app,
        &verify_form("Intruder", victim, "Sneaky-Pass-1", &sent),
    )
    .await;
    assert_eq!(body["Code"], 502, "{body}");
}

/// Item 1 with `REQUIRE_VERIFIED_EMAIL=true` (the registrant's account is
/// pending): the attacker Signs first, the victim Signs again within the
/// resend minute (200, no 429: the account is replaced, the mail held back),
/// then Verifies with the one code mailed. The attacker's password is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_pending_sign_up_is_replaced_and_the_mailed_code_still_confirms() {
    let app = spawn_app_with(&[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let victim = "victim@example.com";
    sign(&app, &sign_form("Intruder", victim, "Sneaky-Pass-1")).await;
    let sent = code_in_mail(&app, victim, SIGN_UP_CODE, 1).await;
    let body = sign(&app, &sign_form("Victoria", victim, "Owner-Pass-2")).await;
    assert_eq!(body["Code"], 200, "{body}");
    let body = verify(
        &app,
        &verify_form("Victoria", victim, "Owner-Pass-2", &sent),
    )
    .await;
    assert_eq!(body["Code"], 200, "{body}");
    assert_eq!(s(&body["Name"]), "Victoria", "the victim's own account");
    logged_in(&legacy_login(&app, victim, "Owner-Pass-2").await);
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": victim, "Password": "Sneaky-Pass-1"}),
        )
        .await;
    assert_eq!(body["Code"], 501, "{body}");
}

/// Item 1: a wrong code for an account Sign made is 520 and changes
/// nothing (the Sign's password still logs in; a Verify with another password
/// claims nothing).
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_code_is_520_and_changes_nothing() {
    let app = spawn_app_with(&[]).await;
    let email = "careful@example.com";
    sign(&app, &sign_form("Careful", email, "Plain-Pass-1")).await;
    let sent = code_in_mail(&app, email, SIGN_UP_CODE, 1).await;
    let body = verify(
        &app,
        &verify_form("Careful", email, "Other-Pass-2", other_than(&sent)),
    )
    .await;
    assert_eq!(body["Code"], 520, "{body}");
    logged_in(&legacy_login(&app, email, "Plain-Pass-1").await);
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": email, "Password": "Other-Pass-2"}),
        )
        .await;
    assert_eq!(body["Code"], 501, "{body}");
}

/// Item 5: Verify for an address whose account is verified answers 502
/// before the code is looked at: with the used code and with a wrong one
/// (old main: 521 and 521).
#[tokio::test(flavor = "multi_thread")]
async fn verify_on_a_verified_address_is_502_before_the_code() {
    let app = spawn_app_with(&[]).await;
    let email = "done@example.com";
    let form = sign_form("Done", email, "Plain-Pass-1");
    sign(&app, &form).await;
    let sent = code_in_mail(&app, email, SIGN_UP_CODE, 1).await;
    let body = verify(&app, &verify_form("Done", email, "Plain-Pass-1", &sent)).await;
    assert_eq!(body["Code"], 200, "{body}");
    for code in [sent.as_str(), other_than(&sent)] {
        let body = verify(&app, &verify_form("Done", email, "Plain-Pass-1", code)).await;
        assert_eq!(body["Code"], 502, "{code}: {body}");
        assert!(body.get("UserID").is_none(), "{body}");
    }
    let body = sign(&app, &form).await;
    assert_eq!(body["Code"], 502, "{body}");
}

/// Asserts a failed `/Auth/Login`: `Code` `code`, `Msg`, and `Token` and
/// `UserID` present as `null` (item 4).
fn failed_login(body: &Value, code: u64, what: &str) {
    assert_eq!(body["Code"], code, "{what}: {body}");
    assert!(
        body["Msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
    for key in ["Token", "UserID"] {
        assert!(
            body.get(key).is_some_and(Value::is_null),
            "{what}: {key} must be null: {body}"
        );
    }
}

/// Item 4: every `/Auth/Login` answer that is not a success carries
/// `"Token": null, "UserID": null` — 530 for each kind of bad input, 401
/// for a disabled account, 429 from the IP limit and from the growing delay,
/// 413 declared and streamed (old main: only 501 had them).
#[tokio::test(flavor = "multi_thread")]
async fn every_failed_login_has_null_token_and_user_id() {
    let app = spawn_app_with(&[("MAX_BODY_BYTES", "1024"), ("LOGIN_FREE_FAILURES", "1")]).await;
    for (what, body) in [
        ("no fields", "{}"),
        ("no password", r#"{"Email": "a@b.com"}"#),
        ("no email", r#"{"Password": "Plain-Pass-1"}"#),
        ("empty body", ""),
        ("a number for Email", r#"{"Email": 12, "Password": "x"}"#),
        (
            "a list for Password",
            r#"{"Email": "a@b.com", "Password": ["x"]}"#,
        ),
        ("malformed JSON", "{not json"),
        ("not JSON at all", "Email=a@b.com&Password=x"),
        ("not an object", "[1, 2]"),
    ] {
        let (status, body) = app.post_raw("/Auth/Login", body).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        failed_login(&body, 530, what);
    }
    let (_, body) = app
        .post(
            "/Auth/Login",
            &json!({"Email": "nobody@example.com", "Password": "Plain-Pass-1"}),
        )
        .await;
    failed_login(&body, 501, "unknown account");

    // 413: declared over MAX_BODY_BYTES (refused before reading), and streamed.
    let big = format!(r#"{{"Email": "{}", "Password": "x"}}"#, "a".repeat(2048));
    let (status, body) = app.post_raw("/Auth/Login", big.clone().leak()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    failed_login(&body, 413, "declared too large");
    let head = "POST /Auth/Login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunked = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let (status, _, body) = crate::edge::raw(&app, head, chunked.as_bytes()).await;
    assert_eq!(status, 413, "{body}");
    failed_login(&body, 413, "streamed too large");
    crate::contract::check("/Auth/Login", status, &body);

    // 401: a disabled account, with the right password.
    app.register("dormant", "dormant@example.com", "Plain-Pass-1")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let out = app
        .tessera_cli(dir.path())
        .args(["user", "disable", "--user", "dormant"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = legacy_login(&app, "dormant@example.com", "Plain-Pass-1").await;
    failed_login(&body, 401, "disabled");

    // 429 from the growing delay after failed logins of one account.
    app.register("guessed", "guessed@example.com", "Plain-Pass-1")
        .await;
    let throttled = eventually_throttled(&app, "guessed@example.com").await;
    failed_login(&throttled, 429, "growing delay");
    assert!(throttled["RetryAfter"].as_u64().is_some(), "{throttled}");
}

/// Wrong passwords for `email` until the growing delay answers 429 (HTTP 429).
async fn eventually_throttled(app: &TestApp, email: &str) -> Value {
    for _ in 0..5 {
        let (status, body) = app
            .post(
                "/Auth/Login",
                &json!({"Email": email, "Password": "Wrong-Pass-9"}),
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            return body;
        }
        failed_login(&body, 501, "wrong password");
    }
    panic!("no 429 after 5 wrong passwords")
}

/// Item 4: the per-IP limit of logins (`RATE_LIMIT_LOGIN`) answers HTTP 429
/// with `Retry-After`, Code 429 and null `Token`/`UserID`.
#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_login_has_null_token_and_user_id() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN", "1/60")]).await;
    let login = json!({"Email": "a@b.com", "Password": "Plain-Pass-1"});
    app.post("/Auth/Login", &login).await;
    let r = app
        .client
        .post(app.url("/Auth/Login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("retry-after"));
    let (status, body) = crate::helpers::parts(r).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    failed_login(&body, 429, "per-IP limit");
}

/// Item 4: the store unreachable (Redis stopped) answers Code 510 with null
/// `Token`/`UserID`, its cause kept out of the body.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_store_at_login_has_null_token_and_user_id() {
    let mut redis = tessera_testkit::PrivateRedis::start();
    let url = redis.url();
    let app = spawn_app_with(&[("REDIS_URL", &url), ("REDIS_TIMEOUT_MS", "1500")]).await;
    app.register("alice", "alice@example.com", "Plain-Pass-1")
        .await;
    redis.stop();
    let body = legacy_login(&app, "alice@example.com", "Plain-Pass-1").await;
    failed_login(&body, 510, "store down");
    assert!(!body.to_string().to_lowercase().contains("redis"), "{body}");
}

/// A name and an address too short for `USERNAME_MIN_LENGTH` still give a
/// username as long as the setting asks (issue 13 review).
#[tokio::test]
async fn a_derived_username_is_as_long_as_username_min_length_asks() {
    let app = spawn_app_with(&[("USERNAME_MIN_LENGTH", "10")]).await;
    let email = "bob@x.io";
    let body = sign(&app, &sign_form("Bob", email, "Plain-Pass-1")).await;
    assert_eq!(body["Code"], 200, "{body}");
    let code = code_in_mail(&app, email, "Your sign-up code is ", 1).await;
    let body = verify(&app, &verify_form("Bob", email, "Plain-Pass-1", &code)).await;
    let name = s(&body["Name"]);
    assert!(name.chars().count() >= 10, "{name:?} in {body}");
    assert!(name.starts_with("user-"), "{body}");
}

/// Six concurrent Verifies with the right code: exactly one confirms, and
/// the account is the code reader's (issue 13 review: an exhausted claim
/// used to remove the code under the right guesses, and all six failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_right_codes_confirm_exactly_once() {
    let app = std::sync::Arc::new(
        // Hashing slow enough for the six to overlap, as with real settings.
        spawn_app_with(&[
            ("WORKERS", "4"),
            ("RATE_LIMIT_VERIFY_CODE", "off"),
            ("ARGON2_MEMORY_KIB", "8192"),
            ("ARGON2_ITERATIONS", "2"),
        ])
        .await,
    );
    for round in 0..4 {
        let email = format!("six{round}@example.com");
        let email = email.as_str();
        sign(&app, &sign_form("six", email, "Plain-Pass-1")).await;
        let code = code_in_mail(&app, email, "Your sign-up code is ", 1).await;
        let mut verifies = Vec::new();
        for _ in 0..6 {
            let (app, form) = (
                std::sync::Arc::clone(&app),
                verify_form("six", email, "Plain-Pass-1", &code),
            );
            verifies.push(tokio::spawn(async move { verify(&app, &form).await }));
        }
        let mut codes = Vec::new();
        for v in verifies {
            codes.push(v.await.unwrap()["Code"].as_i64().unwrap());
        }
        assert_eq!(
            codes.iter().filter(|c| **c == 200).count(),
            1,
            "round {round}: {codes:?}"
        );
        let login = legacy_login(&app, email, "Plain-Pass-1").await;
        assert_eq!(login["Code"], 200, "{login}");
    }
}

/// An intruder who keeps signing up the address while its owner verifies
/// (with `REQUIRE_VERIFIED_EMAIL`, every Sign replaces the pending account)
/// cannot burn the owner's code: the Verify applies its proof to whoever
/// holds the address by then (issue 13 review).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signs_racing_the_owners_verify_cannot_burn_the_code() {
    let app = std::sync::Arc::new(
        spawn_app_with(&[
            ("WORKERS", "4"),
            ("REQUIRE_VERIFIED_EMAIL", "true"),
            ("RATE_LIMIT_SEND_CODE", "off"),
            ("RATE_LIMIT_LOGIN", "off"),
        ])
        .await,
    );
    for round in 0..3 {
        let email = format!("o{round}@example.com");
        let body = sign(&app, &sign_form("owner", &email, "Harbour-Kite-1")).await;
        assert_eq!(body["Code"], 200, "{body}");
        let code = code_in_mail(&app, &email, "Your sign-up code is ", 1).await;
        let mut intruders = Vec::new();
        for i in 0..4 {
            let (app, form) = (
                std::sync::Arc::clone(&app),
                sign_form("eve", &email, &format!("Mallory-Kite-{i}-Quill")),
            );
            intruders.push(tokio::spawn(async move { sign(&app, &form).await }));
        }
        let body = verify(&app, &verify_form("owner", &email, "Harbour-Kite-1", &code)).await;
        for i in intruders {
            i.await.unwrap();
        }
        assert_eq!(body["Code"], 200, "round {round}: {body}");
        let login = legacy_login(&app, &email, "Harbour-Kite-1").await;
        assert_eq!(login["Code"], 200, "round {round}: {login}");
        for i in 0..4 {
            let login = legacy_login(&app, &email, &format!("Mallory-Kite-{i}-Quill")).await;
            assert_eq!(login["Code"], 501, "round {round}: {login}");
        }
    }
}
