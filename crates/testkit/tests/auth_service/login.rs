//! Logging in: identifiers, failures, disabled accounts, rehashing.

use super::*;

#[tokio::test]
async fn login_by_username_email_or_phone_and_one_answer_for_every_failure() {
    let h = harness();
    alice(&h).await;
    for id in [
        "alice",
        "Alice",
        "A@B.COM",
        "13800138000",
        "+86 138-0013-8000",
        "0086 13800138000",
    ] {
        let out = h
            .svc
            .verify_credentials(
                id,
                PasswordInput::Plain("Secret123"),
                test_client(),
                LoginTerms::default(),
            )
            .await
            .and_then(LoginStep::done)
            .unwrap();
        assert_eq!(out.user.username.as_str(), "alice", "{id}");
        assert_eq!(out.tokens.access.expires_in, 900);
    }
    for (id, pw) in [
        ("alice", "wrong"),
        ("nobody", "Secret123"),
        ("ab", "Secret123"),
        ("x@y.com", "Secret123"),
    ] {
        assert!(
            matches!(
                h.svc
                    .verify_credentials(
                        id,
                        PasswordInput::Plain(pw),
                        test_client(),
                        LoginTerms::default()
                    )
                    .await
                    .and_then(LoginStep::done),
                Err(AuthError::InvalidCredentials)
            ),
            "{id}"
        );
    }
    let Err(AuthError::Validation(e)) = h
        .svc
        .verify_credentials(
            "",
            PasswordInput::Plain(""),
            test_client(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
    else {
        panic!()
    };
    assert_eq!(e.fields().len(), 2);
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in_or_use_its_tokens() {
    let h = harness();
    alice(&h).await;
    let out = h.login().await;
    h.ports
        .users
        .set_active(out.user.id, false, chrono::Utc::now(), &[])
        .await
        .unwrap();
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
        Err(AuthError::AccountDisabled)
    ));
    let auth = h.auth(out.tokens.access.token.expose()).await.unwrap();
    assert!(matches!(
        h.svc.current_user(&auth).await,
        Err(AuthError::AccountDisabled)
    ));
    assert!(matches!(
        h.svc
            .refresh(out.tokens.refresh.expose(), test_client())
            .await,
        Err(AuthError::AccountDisabled)
    ));
}

#[tokio::test]
async fn an_imported_hash_is_replaced_at_the_first_successful_login() {
    use tessera_domain::ports::UserRepository as _;
    let h = harness();
    let mut user = tessera_testkit::contract_free_new_user();
    user.password_hash = tessera_domain::model::PasswordHash::new("legacy$OldSecret1");
    let stored = h.ports.users.create(user, None, &[]).await.unwrap();
    assert!(matches!(
        h.svc
            .verify_credentials(
                "legacy",
                PasswordInput::Plain("wrong"),
                test_client(),
                LoginTerms::default()
            )
            .await
            .and_then(LoginStep::done),
        Err(AuthError::InvalidCredentials)
    ));
    h.svc
        .verify_credentials(
            "legacy",
            PasswordInput::Plain("OldSecret1"),
            test_client(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
        .unwrap();
    let after = h.ports.users.find_by_id(stored.id).await.unwrap().unwrap();
    assert_eq!(
        after.password_hash.as_str(),
        "plain$OldSecret1",
        "rehashed with the current hasher"
    );
    h.svc
        .verify_credentials(
            "legacy",
            PasswordInput::Plain("OldSecret1"),
            test_client(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
        .unwrap();
}

/// Issue 14, item 2: the rehash of an outdated hash comes after the checks
/// that the account is active (and verified, when required), so a disabled
/// account's hash is left as it was however right the password.
#[tokio::test]
async fn a_disabled_account_keeps_its_outdated_hash_after_a_login_attempt() {
    use tessera_domain::ports::UserRepository as _;
    let h = harness();
    let mut user = tessera_testkit::contract_free_new_user();
    user.password_hash = tessera_domain::model::PasswordHash::new("legacy$OldSecret1");
    let stored = h.ports.users.create(user, None, &[]).await.unwrap();
    assert!(
        h.ports
            .users
            .set_active(stored.id, false, chrono::Utc::now(), &[])
            .await
            .unwrap()
    );
    assert!(matches!(
        h.svc
            .verify_credentials(
                "legacy",
                PasswordInput::Plain("OldSecret1"),
                test_client(),
                LoginTerms::default()
            )
            .await
            .and_then(LoginStep::done),
        Err(AuthError::AccountDisabled)
    ));
    let after = h.ports.users.find_by_id(stored.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash.as_str(), "legacy$OldSecret1");
}

/// Guesses sent at once cannot all slip past the throttle before any is
/// recorded: one check per (account, address) is in flight at a time, so of
/// 25 concurrent wrong passwords one is verified and 24 are refused
/// unhashed; once it ends, the account's owner logs in (nothing is locked).
#[tokio::test]
async fn concurrent_guesses_are_checked_one_at_a_time() {
    let h = harness();
    alice(&h).await;
    let before = h.ports.hasher.verifications();
    let guesses = (0..25).map(|_| {
        h.svc.verify_credentials(
            "alice",
            PasswordInput::Plain("wrong-guess"),
            test_client(),
            LoginTerms::default(),
        )
    });
    let answers = futures_util::future::join_all(guesses).await;
    let count =
        |f: fn(&Result<LoginStep, AuthError>) -> bool| answers.iter().filter(|a| f(a)).count();
    assert_eq!(h.ports.hasher.verifications() - before, 1);
    assert_eq!(
        count(|a| matches!(a, Err(AuthError::InvalidCredentials))),
        1
    );
    assert_eq!(
        count(|a| matches!(
            a,
            Err(AuthError::TooManyRequests {
                retry_after_secs: 1,
                ..
            })
        )),
        24
    );
    // Sequential guesses still get their free failures, then growing delays.
    let free = AuthSettings::default().login_throttle.free_per_account_ip;
    for _ in 1..free {
        let wrong = h
            .svc
            .verify_credentials(
                "alice",
                PasswordInput::Plain("wrong-guess"),
                test_client(),
                LoginTerms::default(),
            )
            .await;
        assert!(
            matches!(wrong, Err(AuthError::InvalidCredentials)),
            "{wrong:?}"
        );
    }
    h.login().await;
}
