//! Second factors (issue 17) on a clock the test moves: RFC 6238 skew and
//! replay exactly at step boundaries, the audit trail, the notice mail.

use chrono::Duration;
use tessera_crypto::TotpAuthenticator;
use tessera_domain::clock::Clock as _;
use tessera_domain::model::{AuditKind, AuthMethod};
use tessera_domain::usecase::{LoginStep, LoginTerms, SecondFactorChallenge};
use tessera_domain::values::PasswordInput;
use tessera_domain::{AuthError, mail::Locale};
use tessera_testkit::test_client;

use super::{Harness, alice, harness};

/// Alice with a confirmed TOTP factor; her secret and recovery codes.
async fn enrolled(h: &Harness) -> (String, Vec<String>) {
    alice(h).await;
    let auth = h
        .auth(h.login().await.tokens.access.token.expose())
        .await
        .unwrap();
    let enrolment = h.svc.begin_totp_enrolment(&auth).await.unwrap();
    let secret = enrolment.secret.expose().to_owned();
    let code = TotpAuthenticator::code_at(&enrolment.secret, h.clock.now()).unwrap();
    let codes = h
        .svc
        .confirm_totp_enrolment(&auth, &code, Locale::En)
        .await
        .unwrap()
        .unwrap();
    (
        secret,
        codes.0.iter().map(|c| c.expose().to_owned()).collect(),
    )
}

async fn challenge(h: &Harness) -> SecondFactorChallenge {
    match h
        .svc
        .verify_credentials(
            "alice",
            PasswordInput::Plain("Secret123"),
            test_client(),
            LoginTerms::default(),
        )
        .await
        .unwrap()
    {
        LoginStep::SecondFactor(c) => c,
        other => panic!("a session without the second factor: {other:?}"),
    }
}

fn code_at(h: &Harness, secret: &str, secs: i64) -> String {
    TotpAuthenticator::code_at(
        &tessera_domain::model::TotpSecret::new(secret),
        h.clock.now() + Duration::seconds(secs),
    )
    .unwrap()
}

#[tokio::test]
async fn one_step_of_skew_each_way_and_each_step_once() {
    let h = harness();
    let (secret, _) = enrolled(&h).await;
    // Well inside a step, so that ±30 s are exactly the neighbouring steps.
    let into = h.clock.now().timestamp().rem_euclid(30);
    h.clock.advance(Duration::seconds(45 - into));
    let verify = |token: String, code: String| {
        let svc = &h.svc;
        async move {
            svc.verify_second_factor(
                &token,
                None,
                &code,
                test_client(),
                LoginTerms::default(),
                Locale::En,
            )
            .await
        }
    };
    let c = challenge(&h).await;
    assert_eq!(c.factors.len(), 2);
    let token = c.token.expose().to_owned();
    for off in [-60, 60] {
        assert!(
            matches!(
                verify(token.clone(), code_at(&h, &secret, off)).await,
                Err(AuthError::CodeWrong { .. })
            ),
            "two steps away ({off} s)"
        );
    }
    let out = verify(token.clone(), code_at(&h, &secret, 30))
        .await
        .unwrap();
    assert_eq!(
        out.session.authentication.methods,
        [AuthMethod::Pwd, AuthMethod::Otp, AuthMethod::Mfa]
    );
    // The next step was used: this one and the one before are spent too.
    let token = challenge(&h).await.token.expose().to_owned();
    for off in [0, -30, 30] {
        assert!(
            matches!(
                verify(token.clone(), code_at(&h, &secret, off)).await,
                Err(AuthError::CodeWrong { .. })
            ),
            "spent ({off} s)"
        );
    }
    h.clock.advance(Duration::seconds(60));
    verify(token, code_at(&h, &secret, 0)).await.unwrap();

    let kinds: Vec<AuditKind> = h.ports.audit.events().iter().map(|e| e.kind).collect();
    for kind in [
        AuditKind::FactorEnrolled,
        AuditKind::RecoveryCodesIssued,
        AuditKind::SecondFactorFailed,
        AuditKind::SecondFactorSucceeded,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == AuditKind::SecondFactorFailed)
            .count(),
        5
    );
}

#[tokio::test]
async fn a_recovery_code_is_audited_and_mailed_and_the_factor_check_limit_holds() {
    let h = harness();
    let (_, codes) = enrolled(&h).await;
    let token = challenge(&h).await.token.expose().to_owned();
    let out = h
        .svc
        .verify_second_factor(
            &token,
            None,
            &codes[4],
            test_client(),
            LoginTerms::default(),
            Locale::En,
        )
        .await
        .unwrap();
    assert_eq!(
        out.session.authentication.methods,
        [AuthMethod::Pwd, AuthMethod::Mfa]
    );
    let used: Vec<_> = h
        .ports
        .audit
        .events()
        .into_iter()
        .filter(|e| e.kind == AuditKind::RecoveryCodeUsed)
        .collect();
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].detail.as_deref(), Some("9 left"));
    let mails = h.ports.outbox.all();
    let notice = mails
        .iter()
        .find(|m| m.subject.contains("recovery code"))
        .unwrap();
    assert!(
        notice.text.contains("9 unused recovery codes are left"),
        "{}",
        notice.text
    );

    // Ten checks per account per window, over every challenge: the
    // eleventh guess is refused before it is compared.
    let mut refused = None;
    for n in 0..4 {
        let token = challenge(&h).await.token.expose().to_owned();
        for _ in 0..5 {
            match h
                .svc
                .verify_second_factor(
                    &token,
                    None,
                    "0000-0000-0000",
                    test_client(),
                    LoginTerms::default(),
                    Locale::En,
                )
                .await
            {
                Err(AuthError::TooManyRequests { .. }) => {
                    refused.get_or_insert(n);
                }
                Err(AuthError::CodeWrong { .. } | AuthError::CodeExhausted) => {}
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(
        refused,
        Some(1),
        "the limit bites in the second challenge after the first success"
    );
}

#[tokio::test]
async fn an_administrator_login_waiting_for_its_code_ends_when_the_role_goes() {
    let h = harness();
    let (secret, _) = enrolled(&h).await;
    let alice = {
        use tessera_domain::ports::UserRepository as _;
        let login = tessera_domain::values::Login::parse("alice", Default::default()).unwrap();
        h.ports
            .users
            .find_by_login(&login)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let operator = tessera_domain::usecase::Actor::operator();
    h.svc
        .grant_role(&operator, alice, "super_admin")
        .await
        .unwrap();
    let admin = LoginTerms {
        admin_mode: true,
        ..LoginTerms::default()
    };
    let step = h
        .svc
        .verify_credentials(
            "alice",
            PasswordInput::Plain("Secret123"),
            test_client(),
            admin,
        )
        .await
        .unwrap();
    let LoginStep::SecondFactor(c) = step else {
        panic!("no second step")
    };
    h.svc
        .revoke_role(&operator, alice, "super_admin")
        .await
        .unwrap();
    h.clock.advance(Duration::seconds(30));
    let refused = h
        .svc
        .verify_second_factor(
            c.token.expose(),
            None,
            &code_at(&h, &secret, 0),
            test_client(),
            admin,
            Locale::En,
        )
        .await;
    assert!(
        matches!(refused, Err(AuthError::ChallengeInvalid)),
        "{refused:?}"
    );
}

/// Alice's id, holding `role` (granted by the operator).
async fn alice_with_role(h: &Harness, role: &str) -> tessera_domain::model::UserId {
    use tessera_domain::ports::UserRepository as _;
    alice(h).await;
    let login = tessera_domain::values::Login::parse("alice", Default::default()).unwrap();
    let id = h
        .ports
        .users
        .find_by_login(&login)
        .await
        .unwrap()
        .unwrap()
        .id;
    h.svc
        .grant_role(&tessera_domain::usecase::Actor::operator(), id, role)
        .await
        .unwrap();
    id
}

/// Alice as the administrator of the session `token` opened.
async fn actor_of(h: &Harness, token: &str) -> tessera_domain::usecase::Actor {
    let auth = h.auth(token).await.unwrap();
    let user = h.svc.current_user(&auth).await.unwrap();
    tessera_domain::usecase::Actor {
        user: Some(user),
        client: test_client(),
        authentication: Some(auth.claims.authentication),
    }
}

#[tokio::test]
async fn administrators_changes_need_a_sign_in_within_reauth_max_age_at_the_highest_level() {
    let h = harness();
    alice_with_role(&h, "super_admin").await;
    let bob = h
        .svc
        .register(
            &super::form("bob", "bob@b.com", "Secret123"),
            Locale::En,
            tessera_domain::settings::LinkKind::Page,
        )
        .await
        .unwrap()
        .id;
    let token = h.login().await.tokens.access.token.expose().to_owned();
    let actor = actor_of(&h, &token).await;
    // 900 s after the sign-in is still recent; one second more is not.
    h.clock.advance(Duration::seconds(900));
    h.svc.set_user_active(&actor, bob, false).await.unwrap();
    h.clock.advance(Duration::seconds(1));
    assert!(matches!(
        h.svc.set_user_active(&actor, bob, true).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    assert!(!h.svc.find_user(bob).await.unwrap().is_active, "unchanged");

    // A factor turned on in a password-only session raises the account's
    // highest level: that session no longer changes anything.
    let token = h.login().await.tokens.access.token.expose().to_owned();
    let auth = h.auth(&token).await.unwrap();
    let enrolment = h.svc.begin_totp_enrolment(&auth).await.unwrap();
    let secret = enrolment.secret.expose().to_owned();
    let first = TotpAuthenticator::code_at(&enrolment.secret, h.clock.now()).unwrap();
    h.svc
        .confirm_totp_enrolment(&auth, &first, Locale::En)
        .await
        .unwrap();
    let actor = actor_of(&h, &token).await;
    assert!(matches!(
        h.svc.set_user_active(&actor, bob, true).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    h.clock.advance(Duration::seconds(30));
    let c = challenge(&h).await;
    let out = h
        .svc
        .verify_second_factor(
            c.token.expose(),
            None,
            &code_at(&h, &secret, 0),
            test_client(),
            LoginTerms::default(),
            Locale::En,
        )
        .await
        .unwrap();
    let actor = actor_of(&h, out.tokens.access.token.expose()).await;
    h.svc.set_user_active(&actor, bob, true).await.unwrap();
    // The operator's commands have no session to age.
    h.clock.advance(Duration::days(30));
    h.svc
        .set_user_active(&tessera_domain::usecase::Actor::operator(), bob, false)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_account_of_a_required_role_gets_no_session_until_it_enrols() {
    let h = super::harness_with(tessera_domain::AuthSettings {
        mfa_required_roles: vec![tessera_domain::values::RoleName::parse("admin").unwrap()],
        password_policy: tessera_domain::values::PasswordPolicy {
            min_score: 0,
            ..tessera_domain::values::PasswordPolicy::default()
        },
        ..tessera_domain::AuthSettings::default()
    });
    alice_with_role(&h, "admin").await;
    let c = challenge(&h).await;
    assert!(c.enrolment, "{c:?}");
    assert_eq!(
        c.factors,
        vec![
            tessera_domain::model::FactorKind::Totp,
            tessera_domain::model::FactorKind::Passkey
        ]
    );
    let verify = |code: String| {
        let svc = &h.svc;
        let token = c.token.expose().to_owned();
        async move {
            svc.verify_second_factor(
                &token,
                None,
                &code,
                test_client(),
                LoginTerms::default(),
                Locale::En,
            )
            .await
        }
    };
    // Before a factor is begun no code is right; each try counts.
    assert!(matches!(
        verify("123456".into()).await,
        Err(AuthError::CodeWrong { remaining: 4 })
    ));
    let enrolment = h
        .svc
        .begin_required_totp_enrolment(c.token.expose())
        .await
        .unwrap();
    let shown = h
        .svc
        .pending_required_totp_enrolment(c.token.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        shown.secret.expose(),
        enrolment.secret.expose(),
        "the same key again"
    );
    let out = verify(TotpAuthenticator::code_at(&enrolment.secret, h.clock.now()).unwrap())
        .await
        .unwrap();
    assert_eq!(out.recovery_codes.map(|c| c.0.len()), Some(10));
    assert_eq!(
        out.session.authentication.methods,
        vec![AuthMethod::Pwd, AuthMethod::Otp, AuthMethod::Mfa]
    );
    let trail = h.ports.audit.events();
    assert!(trail.iter().any(|e| e.kind == AuditKind::FactorEnrolled));

    // Enrolled: the next login is the ordinary step, whose token begins no
    // enrolment.
    let c = challenge(&h).await;
    assert!(!c.enrolment);
    assert!(matches!(
        h.svc.begin_required_totp_enrolment(c.token.expose()).await,
        Err(AuthError::ChallengeInvalid)
    ));
}
