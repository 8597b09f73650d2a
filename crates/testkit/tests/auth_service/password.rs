//! Changing a password, and the password policy.

use super::*;

#[tokio::test]
async fn change_password_keeps_the_asking_session_and_revokes_the_rest() {
    let h = harness();
    alice(&h).await;
    let me = h.login().await;
    let other = h.login().await;
    let auth = h.auth(me.tokens.access.token.expose()).await.unwrap();

    assert!(matches!(
        h.svc
            .change_password(&auth, Some("wrong"), Some("NewSecret456"), Locale::En)
            .await,
        Err(AuthError::WrongPassword)
    ));
    assert!(matches!(
        h.svc
            .change_password(&auth, Some("Secret123"), Some("Secret123"), Locale::En)
            .await,
        Err(AuthError::SamePassword)
    ));
    assert!(matches!(
        h.svc
            .change_password(&auth, Some("Secret123"), Some("short"), Locale::En)
            .await,
        Err(AuthError::Validation(_))
    ));
    // Failed attempts revoked nothing.
    assert!(h.auth(other.tokens.access.token.expose()).await.is_ok());

    h.svc
        .change_password(&auth, Some("Secret123"), Some("NewSecret456"), Locale::En)
        .await
        .unwrap();
    assert!(h.auth(me.tokens.access.token.expose()).await.is_ok());
    let queued = h.ports.users.outbox().all();
    let subjects: Vec<&str> = queued.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "[Tessera] Verify your email address",
            "[Tessera] Your password was changed"
        ],
        "registration queued its verification mail; the change one notice; failed attempts none"
    );
    assert!(queued.iter().all(|m| m.to.as_str() == "a@b.com"));
    assert!(
        h.svc
            .refresh(me.tokens.refresh.expose(), test_client())
            .await
            .is_ok()
    );
    assert!(h.revoked(other.tokens.access.token.expose()).await);
    assert!(matches!(
        h.svc
            .refresh(other.tokens.refresh.expose(), test_client())
            .await,
        Err(AuthError::Token(TokenProblem::Revoked))
    ));
    assert!(matches!(
        h.svc
            .verify_credentials(
                "alice",
                PasswordInput::Plain("Secret123"),
                test_client(),
                LoginTerms::default()
            )
            .await
            .and_then(LoginStep::done),
        Err(AuthError::InvalidCredentials)
    ));
    assert!(
        h.svc
            .verify_credentials(
                "alice",
                PasswordInput::Plain("NewSecret456"),
                test_client(),
                LoginTerms::default()
            )
            .await
            .and_then(LoginStep::done)
            .is_ok()
    );
}

/// Issue 12 (NIST SP 800-63B): the default policy scores new passwords with
/// zxcvbn, knowing the account's name and address, at registration and at a
/// change; a refusal names the reason as codes.
#[tokio::test]
async fn the_default_policy_screens_passwords_with_zxcvbn() {
    let h = harness_with(AuthSettings::default());
    let codes = |r: Result<_, AuthError>, field: &str| match r {
        Err(AuthError::Validation(e)) => e.fields()[field]
            .iter()
            .map(FieldIssue::code)
            .collect::<Vec<_>>(),
        other => panic!("expected validation, got {:?}", other.map(|_| ())),
    };
    for (username, password, code) in [
        ("bob", "password123", "password_too_common"),
        ("bob", "Secret123", "password_too_common"),
        ("bob", "jennifer", "password_too_weak"),
        ("wombathill", "w0mb@th1ll99", "password_too_weak"),
        ("bob", "my-bob-pass-Quill-9", "password_contains_identity"),
    ] {
        let r = h
            .svc
            .register(
                &form(username, "someone@example.com", password),
                Locale::En,
                LinkKind::Page,
            )
            .await
            .map(|_| ());
        assert_eq!(codes(r, "password"), [code], "{username} {password}");
    }
    // The same password with a name that does not disguise it is fine.
    h.svc
        .register(
            &form("bob", "bob@example.com", "w0mb@th1ll99"),
            Locale::En,
            LinkKind::Page,
        )
        .await
        .unwrap();
    // Bad username and weak password: both named in one answer.
    let r = h
        .svc
        .register(
            &form("a!", "x@example.com", "password123"),
            Locale::En,
            LinkKind::Page,
        )
        .await
        .map(|_| ());
    assert!(matches!(r, Err(AuthError::Validation(ref e)) if e.fields().len() == 2));
    let outcome = h
        .svc
        .verify_credentials(
            "bob",
            PasswordInput::Plain("w0mb@th1ll99"),
            test_client(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
        .unwrap();
    let auth = h.auth(outcome.tokens.access.token.expose()).await.unwrap();
    let r = h
        .svc
        .change_password(&auth, Some("w0mb@th1ll99"), Some("iloveyou2"), Locale::En)
        .await;
    assert_eq!(codes(r, "new_password"), ["password_too_common"]);
    h.svc
        .change_password(
            &auth,
            Some("w0mb@th1ll99"),
            Some("Kite-Runner-9-Quill"),
            Locale::En,
        )
        .await
        .unwrap();
}

/// Issue 14, item 4: a wrong `old_password` counts in the account's login
/// throttle, so a token holder cannot guess the password without limit;
/// once the throttle closes, even the right password is refused for now,
/// and the login of the account is throttled too.
#[tokio::test]
async fn wrong_old_passwords_close_the_login_throttle() {
    let h = harness();
    alice(&h).await;
    let me = h.login().await;
    let auth = h.auth(me.tokens.access.token.expose()).await.unwrap();
    let free = h.svc.settings().login_throttle.free_per_account_ip;
    for _ in 0..=free {
        assert!(matches!(
            h.svc
                .change_password(&auth, Some("Guess-123"), Some("NewSecret456"), Locale::En)
                .await,
            Err(AuthError::WrongPassword)
        ));
    }
    let refused = h
        .svc
        .change_password(&auth, Some("Secret123"), Some("NewSecret456"), Locale::En)
        .await;
    assert!(
        matches!(refused, Err(AuthError::TooManyRequests { .. })),
        "{refused:?}"
    );
    assert!(matches!(
        h.svc
            .verify_credentials(
                "alice",
                PasswordInput::Plain("Secret123"),
                test_client(),
                LoginTerms::default()
            )
            .await
            .and_then(LoginStep::done),
        Err(AuthError::TooManyRequests { .. })
    ));
}
