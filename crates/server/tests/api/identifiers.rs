//! Issue 12 items 4 and 9: usernames compared as people read them (RFC 8265
//! PRECIS `UsernameCaseMapped`), e-mail addresses in one canonical form with
//! invisible characters refused, phone numbers in E.164 read in
//! `PHONE_DEFAULT_REGION` (default CN) — in every dialect. The suite runs on
//! SQLite and, with `TESSERA_TEST_STORES=mysql-redis`, on MySQL + Redis.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, eventually, s, spawn_app, spawn_app_with};
use crate::seed001::{post_en, sign_up};

async fn register(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.post("/api/auth/register", &body).await
}

fn user(username: &str, email: &str) -> Value {
    json!({"username": username, "email": email, "password": "Secret123"})
}

#[tokio::test]
async fn usernames_that_read_alike_are_one_name() {
    let app = spawn_app().await;
    // (registered first, then refused as the same name)
    for (n, (first, second)) in [
        ("élise7", "Élise7"),
        ("e\u{301}mile7", "ÉMILE7"),
        ("дмитрий7", "ДМИТРИЙ7"),
        ("Ωmega7", "ωMEGA7"),
        ("kora7", "\u{212A}ora7"),
        ("carol7", "ｃarol7"),
        ("ｄａｖｅ７", "Dave7"),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, body) = register(&app, user(first, &format!("first{n}@b.com"))).await;
        assert_eq!(status, StatusCode::CREATED, "{first}: {body}");
        let (status, body) = register(&app, user(second, &format!("second{n}@b.com"))).await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "{second} beside {first}: {body}"
        );
        assert_error(&body, "username_taken");
        // Logging in with either spelling reaches the first account.
        let login = app.login(second, "Secret123").await;
        assert_eq!(
            login["user"]["email"],
            format!("first{n}@b.com"),
            "{second}"
        );
    }
    // Different letters stay different names.
    for name in ["elise7", "emile7", "resume7", "résumé7"] {
        let (status, body) = register(&app, user(name, &format!("{name}@other.com"))).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
    }
}

#[tokio::test]
async fn an_account_registered_with_the_kelvin_sign_logs_in_by_typing_k() {
    let app = spawn_app().await;
    let (status, body) = register(&app, user("\u{212A}ora7", "kelvin@b.com")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The display form is the input in NFC (the Kelvin sign is canonically K).
    assert_eq!(body["user"]["username"], "Kora7");
    for typed in ["Kora7", "kora7", "KORA7", "\u{212A}ora7", "ｋｏｒａ７"] {
        let login = app.login(typed, "Secret123").await;
        assert_eq!(login["user"]["email"], "kelvin@b.com", "{typed}");
    }
    // Seed 002's and seed 001's logins read the same.
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "kelvin@b.com", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn usernames_outside_the_rule_are_refused_with_a_clear_400() {
    let app = spawn_app().await;
    for (name, message) in [
        (
            "ﬁsh7",
            "fi ligature: a compatibility character PRECIS refuses",
        ),
        ("１２３４５", "full-width digits are digits"),
        ("a\u{200B}b7", "an invisible character"),
    ] {
        let (status, body) = register(&app, user(name, "x@b.com")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{message}: {body}");
        assert_error(&body, "validation_failed");
        assert!(body["details"]["username"][0].is_string(), "{body}");
    }
}

#[tokio::test]
async fn seed_002_refuses_a_name_that_reads_as_a_taken_one() {
    let app = spawn_app().await;
    for (first, second) in [
        ("élise7", "Élise7"),
        ("kora7", "\u{212A}ora7"),
        ("carol7", "ｃarol7"),
    ] {
        let (status, body) = post_en(
            &app,
            "/api/v1/auth/register",
            &json!({"username": first, "email": format!("{}@a.com", first.len()), "password": "your_password"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = post_en(
            &app,
            "/api/v1/auth/register",
            &json!({"username": second, "email": format!("{}@b.com", first.len()), "password": "your_password"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{second}: {body}");
        assert_eq!(
            (body["code"].as_i64(), s(&body["message"])),
            (Some(1), "user already exists")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_001_derives_a_free_name_as_people_read_it() {
    let app = spawn_app().await;
    let (status, body) = register(&app, user("élise7", "taken@b.com")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // `ÉLISE7` reads as the taken `élise7`: the derived name gets a suffix.
    let body = sign_up(&app, "ÉLISE7", "new@b.com", "Plain-Pass-1").await;
    let name = s(&body["Name"]);
    assert!(name.starts_with("ÉLISE7-"), "{body}");
    let login = app.login(name, "Plain-Pass-1").await;
    assert_eq!(login["user"]["email"], "new@b.com");
    let login = app.login("élise7", "Secret123").await;
    assert_eq!(login["user"]["email"], "taken@b.com");
}

#[tokio::test]
async fn email_addresses_have_one_canonical_form() {
    let app = spawn_app().await;
    let (status, body) = register(&app, user("idn7", " Élise@Bücher.Example ")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["email"], "élise@xn--bcher-kva.example");
    for same in ["ÉLISE@BÜCHER.EXAMPLE", "e\u{301}lise@xn--bcher-kva.example"] {
        let (status, body) = register(&app, user("other7", same)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{same}: {body}");
        assert_error(&body, "email_taken");
        let login = app.login(same, "Secret123").await;
        assert_eq!(login["user"]["username"], "idn7", "{same}");
    }
    // Accents are letters, not decoration: a different address.
    let (status, body) = register(&app, user("plain7", "elise@bucher.example")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn invisible_characters_in_addresses_are_refused_everywhere() {
    let app = spawn_app().await;
    for address in [
        "vic\u{200B}tim@b.com",
        "victim@b\u{200B}.com",
        "victim\u{200D}@b.com",
        "\u{FEFF}victim@b.com",
        "vic\u{2060}tim@b.com",
        "vic\u{202E}tim@b.com",
        "vic\u{00AD}tim@b.com",
    ] {
        let (status, body) = register(&app, user("someone7", address)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{address:?}: {body}");
        assert_error(&body, "validation_failed");
        assert_eq!(body["fields"]["email"][0], "email_format", "{body}");
        let (status, body) = post_en(
            &app,
            "/api/v1/auth/register",
            &json!({"username": "someone7", "email": address, "password": "your_password"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{address:?}: {body}");
        let (status, body) = post_en(
            &app,
            "/Auth/Sign",
            &json!({"Name": "someone7", "Email": address, "Password": "Plain-Pass-1"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "seed 001 answers 200: {body}");
        assert_ne!(body["Code"].as_i64(), Some(200), "{address:?}: {body}");
    }
}

#[tokio::test]
async fn one_phone_number_however_it_is_written() {
    let app = spawn_app().await;
    let (status, body) = register(
        &app,
        json!({"username": "cn7", "email": "cn@b.com", "phone": "13800138000", "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["phone"], "+8613800138000");
    for (n, same) in ["+86 13800138000", "0086 13800138000", "+86 138-0013-8000"]
        .into_iter()
        .enumerate()
    {
        let (status, body) = register(
            &app,
            json!({"username": format!("again{n}"), "email": format!("again{n}@b.com"), "phone": same, "password": "Secret123"}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{same}: {body}");
        assert_error(&body, "phone_taken");
        let login = app.login(same, "Secret123").await;
        assert_eq!(login["user"]["username"], "cn7", "{same}");
    }
}

#[tokio::test]
async fn a_foreign_number_is_not_the_same_digits_read_at_home() {
    let app = spawn_app().await;
    let (status, body) = register(
        &app,
        json!({"username": "us7", "email": "us@b.com", "phone": "+1 (555) 010-0199", "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["phone"], "+15550100199");
    // The same digits without `+` are a Chinese number: another account.
    let (status, body) = register(
        &app,
        json!({"username": "cn7", "email": "cn@b.com", "phone": "15550100199", "password": "Other-Pass-9"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["phone"], "+8615550100199");
    // A login with those digits never reaches the +1 account.
    let (status, body) = app
        .post(
            "/api/auth/login",
            &json!({"username": "15550100199", "password": "Secret123"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let login = app.login("15550100199", "Other-Pass-9").await;
    assert_eq!(login["user"]["username"], "cn7");
    let login = app.login("+1 555 010 0199", "Secret123").await;
    assert_eq!(login["user"]["username"], "us7");
}

#[tokio::test]
async fn numbers_that_are_no_numbers_are_a_clear_400() {
    let app = spawn_app().await;
    for phone in [
        "12345",
        "+86 1",
        "1-800-FLOWERS",
        "+999 1234567",
        "13800138000 ext. 7",
    ] {
        let (status, body) = register(
            &app,
            json!({"username": "p7", "email": "p@b.com", "phone": phone, "password": "Secret123"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{phone}: {body}");
        assert_error(&body, "validation_failed");
        assert_eq!(body["fields"]["phone"][0], "phone_format", "{body}");
        assert_eq!(body["details"]["phone"][0], "手机号格式不正确", "{body}");
    }
}

#[tokio::test]
async fn the_default_region_is_configurable() {
    let app = spawn_app_with(&[("PHONE_DEFAULT_REGION", "US")]).await;
    let (status, body) = register(
        &app,
        json!({"username": "us7", "email": "us@b.com", "phone": "(201) 555-0123", "password": "Secret123"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["phone"], "+12015550123");
    let login = app.login("201-555-0123", "Secret123").await;
    assert_eq!(login["user"]["username"], "us7");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reset_text_goes_to_the_e164_number_however_the_contact_is_written() {
    let app = spawn_app().await;
    app.alice().await;
    let ask = |identifier: &str, contact: &str| json!({"identifier": identifier, "channel": "phone", "contact": contact});
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &ask("alice", "0086 138 0013 8000"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let log = app.var_dir().join("sms.log");
    let line = eventually(50, || async { std::fs::read_to_string(&log).ok() })
        .await
        .expect("var/sms.log");
    assert!(
        line.contains("\t+8613800138000\t"),
        "texted in E.164: {line}"
    );
    // Written another way it is the same number: its resend cooldown holds.
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &ask("alice", "+86 13800138000"),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

    // The identifier may be the phone too, written any way.
    let app = spawn_app().await;
    app.alice().await;
    let (status, body) = app
        .post(
            "/api/auth/request-reset-code",
            &ask("0086 13800138000", "+86 138 0013 8000"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let log = app.var_dir().join("sms.log");
    let line = eventually(50, || async { std::fs::read_to_string(&log).ok() })
        .await
        .expect("var/sms.log");
    assert!(line.contains("\t+8613800138000\t"), "{line}");
}

#[tokio::test]
async fn failed_logins_count_once_per_account_however_it_is_spelt() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN", "off"), ("LOGIN_FREE_FAILURES", "2")]).await;
    app.alice().await;
    for spellings in [
        ["kora7", "KORA7", "\u{212A}ora7"],
        ["13800138000", "+86 138 0013 8000", "0086 13800138000"],
    ] {
        let (status, body) = register(&app, user("kora7", "kora@b.com")).await;
        assert!(
            status.is_success() || status == StatusCode::CONFLICT,
            "{body}"
        );
        // Two free failures, the third (another spelling) blocks.
        for who in &spellings[..2] {
            let (status, body) = app
                .post(
                    "/api/auth/login",
                    &json!({"username": who, "password": "wrong-pass"}),
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{who}: {body}");
        }
        let (status, body) = app
            .post(
                "/api/auth/login",
                &json!({"username": spellings[2], "password": "wrong-pass"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let (status, body) = app
            .post(
                "/api/auth/login",
                &json!({"username": spellings[0], "password": "wrong-pass"}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "{spellings:?}: {body}"
        );
    }
}
