//! Sign-up by code.

use tessera_domain::AuthError;
use tessera_domain::mail::Locale;
use tessera_domain::usecase::{LoginStep, LoginTerms, SignUp};
use tessera_domain::values::PasswordInput;
use tessera_testkit::{MemoryPorts, test_client};

use super::harness;

fn last_code(ports: &tessera_domain::ports::Adapters<MemoryPorts>, to: &str) -> String {
    let mail = ports
        .outbox
        .all()
        .into_iter()
        .rev()
        .find(|m| m.to.as_str() == to)
        .unwrap();
    let at = mail.text.find("sign-up code is ").unwrap() + "sign-up code is ".len();
    mail.text[at..at + 6].to_owned()
}

async fn sign_up(h: &super::Harness, name: &str, email: &str) -> Result<String, AuthError> {
    let form = SignUp {
        name: Some(name),
        email: Some(email),
        password: Some(tessera_domain::values::PasswordInput::PlainOrSm3Digest(
            "Plain-Pass-1",
        )),
    };
    h.svc.sign_up(&form, Locale::En).await?;
    let code = last_code(&h.ports, email);
    let user = h
        .svc
        .confirm_sign_up(&form, Some(&code), Locale::En, &test_client())
        .await?;
    assert!(user.email_verified, "the code proved the address");
    Ok(user.username.as_str().to_owned())
}

#[tokio::test]
async fn usernames_come_from_the_name_or_the_address_and_never_collide() {
    let h = harness();
    assert_eq!(sign_up(&h, "Dreamer", "d1@b.com").await.unwrap(), "Dreamer");
    // Taken (ignoring case): a numeric suffix.
    let second = sign_up(&h, "dreamer", "d2@b.com").await.unwrap();
    assert!(
        second.starts_with("dreamer-") && second.len() == "dreamer-".len() + 4,
        "{second}"
    );
    // Not a valid username: from the address; all digits: prefixed.
    assert_eq!(
        sign_up(&h, "a b!", "mail.box@b.com").await.unwrap(),
        "mail.box"
    );
    assert_eq!(
        sign_up(&h, "!!", "12345@b.com").await.unwrap(),
        "user-12345"
    );
}

/// A code mailed before `/Auth/Sign` created accounts (or whose account
/// expired) still signs up: the account is created, its address verified.
#[tokio::test]
async fn a_code_without_an_account_creates_a_verified_one() {
    use tessera_domain::clock::Clock as _;
    use tessera_domain::model::{CodePurpose, VerificationCode};
    use tessera_domain::ports::{CodeStore as _, RefreshTokenCodec as _};
    let h = harness();
    let ports = h.ports;
    ports
        .codes
        .put(&VerificationCode {
            purpose: CodePurpose::Register,
            recipient: "early@b.com".to_owned(),
            fingerprint: ports.codec.keyed_fingerprint("123456"),
            digits: 6,
            expires_at: ports.clock.now() + chrono::Duration::minutes(10),
            attempts: 0,
            max_attempts: 5,
            binding: None,
        })
        .await
        .unwrap();
    let form = SignUp {
        name: Some("Early"),
        email: Some("early@b.com"),
        password: Some(tessera_domain::values::PasswordInput::PlainOrSm3Digest(
            "Plain-Pass-1",
        )),
    };
    let user = h
        .svc
        .confirm_sign_up(&form, Some("123456"), Locale::En, &test_client())
        .await
        .unwrap();
    assert!(user.email_verified);
    assert_eq!(user.username.as_str(), "Early");
    h.svc
        .verify_credentials(
            "Early",
            PasswordInput::Plain("Plain-Pass-1"),
            test_client(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
        .unwrap();
    // Single use: the code went with it (the address now answers "exists").
    let again = h
        .svc
        .confirm_sign_up(&form, Some("123456"), Locale::En, &test_client())
        .await
        .unwrap_err();
    assert!(matches!(again, AuthError::Conflict(_)), "{again:?}");
}

#[tokio::test]
async fn a_registered_address_gets_no_code() {
    let h = harness();
    sign_up(&h, "first", "x@b.com").await.unwrap();
    let err = sign_up(&h, "second", "x@b.com").await.unwrap_err();
    assert!(matches!(err, AuthError::Conflict(_)), "{err:?}");
}
