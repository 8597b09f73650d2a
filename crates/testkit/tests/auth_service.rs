//! The authentication use cases, run against the in-memory fakes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use tessera_domain::error::TokenProblem;
use tessera_domain::mail::Locale;
use tessera_domain::model::ClientInfo;
use tessera_domain::model::UniqueField;
use tessera_domain::ports::{Ports, SessionStore, UserDirectory};
use tessera_domain::settings::LinkKind;
use tessera_domain::usecase::{LoginStep, LoginTerms, RegistrationForm};
use tessera_domain::validation::FieldIssue;
use tessera_domain::values::PasswordInput;
use tessera_domain::values::PasswordPolicy;
use tessera_domain::values::RoleName;
use tessera_domain::{AuthError, AuthService, AuthSettings};
use tessera_testkit::{ManualClock, MemoryPorts, memory_adapters, test_client};

struct Harness {
    svc: AuthService<MemoryPorts>,
    clock: ManualClock,
    /// The service's adapters (clones share their state), for checks.
    ports: tessera_domain::ports::Adapters<MemoryPorts>,
}

impl Harness {
    async fn login(&self) -> tessera_domain::usecase::LoginOutcome {
        self.svc
            .verify_credentials(
                "alice",
                PasswordInput::Plain("Secret123"),
                test_client(),
                LoginTerms::default(),
            )
            .await
            .and_then(LoginStep::done)
            .unwrap()
    }

    async fn auth(&self, token: &str) -> Result<tessera_domain::usecase::Authenticated, AuthError> {
        self.svc.authenticate(Some(token), test_client()).await
    }

    async fn revoked(&self, token: &str) -> bool {
        matches!(
            self.auth(token).await,
            Err(AuthError::Token(TokenProblem::Revoked))
        )
    }
}

/// The use cases with the zxcvbn screening off (`min_score` 0), so that
/// short fixtures like `Secret123` stay usable;
/// `the_default_policy_screens_passwords_with_zxcvbn` checks the default.
fn harness() -> Harness {
    harness_with(AuthSettings {
        password_policy: PasswordPolicy {
            min_score: 0,
            ..PasswordPolicy::default()
        },
        ..AuthSettings::default()
    })
}

fn harness_with(settings: AuthSettings) -> Harness {
    // The server's role configuration (`REGISTRATION_ROLES`, `DEFAULT_ROLE`).
    let role = |r: &str| RoleName::parse(r).unwrap();
    let settings = AuthSettings {
        registrable_roles: ["pharmacy", "supplier", "logistics", "regulator", "unauth"]
            .map(role)
            .to_vec(),
        default_role: role("unauth"),
        ..settings
    };
    let clock = ManualClock::default();
    let ports = memory_adapters(clock.clone());
    let svc = AuthService::new(ports.clone(), settings);
    Harness { svc, clock, ports }
}

fn form(username: &str, email: &str, password: &str) -> RegistrationForm {
    RegistrationForm {
        username: Some(username.into()),
        email: Some(email.into()),
        password: Some(password.into()),
        ..RegistrationForm::default()
    }
}

async fn alice(h: &Harness) {
    let mut f = form("alice", "a@b.com", "Secret123");
    f.phone = Some("13800138000".into());
    f.role = Some("pharmacy".into());
    h.svc
        .register(&f, Locale::En, LinkKind::Page)
        .await
        .unwrap();
}

#[tokio::test]
async fn register_stores_a_normalised_user_with_the_default_role() {
    let h = harness();
    let u = h
        .svc
        .register(
            &form(" testuser ", "Test@Example.com", "Kite-Runner-9"),
            Locale::En,
            LinkKind::Page,
        )
        .await
        .unwrap();
    assert_eq!(u.username.as_str(), "testuser");
    assert_eq!(u.email.as_str(), "test@example.com");
    assert_eq!(u.role.as_str(), "unauth");
    assert!(u.is_active);
    assert_ne!(u.password_hash.as_str(), "password123");
}

#[tokio::test]
async fn register_reports_every_bad_field_at_once() {
    let h = harness();
    let mut f = form("ab", "not-an-email", "short");
    f.phone = Some("12ab".into());
    f.role = Some("super_admin".into());
    let Err(AuthError::Validation(e)) = h.svc.register(&f, Locale::En, LinkKind::Page).await else {
        panic!("expected validation")
    };
    let fields: Vec<&str> = e.fields().keys().map(String::as_str).collect();
    assert_eq!(fields, ["email", "password", "phone", "role", "username"]);
    assert!(matches!(
        e.fields()["role"][0],
        FieldIssue::RoleNotAllowed { .. }
    ));
}

#[tokio::test]
async fn duplicates_conflict_on_the_right_field() {
    let h = harness();
    alice(&h).await;
    for (f, field) in [
        (form("ALICE", "x@b.com", "Secret123"), UniqueField::Username),
        (form("alice2", "A@B.com", "Secret123"), UniqueField::Email),
        (
            RegistrationForm {
                phone: Some("138 0013 8000".into()),
                ..form("alice3", "c@b.com", "Secret123")
            },
            UniqueField::Phone,
        ),
    ] {
        match h.svc.register(&f, Locale::En, LinkKind::Page).await {
            Err(AuthError::Conflict(got)) => assert_eq!(got, field),
            other => panic!("expected conflict on {field:?}, got {other:?}"),
        }
    }
}

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
        .set_active(out.user.id, false, chrono::Utc::now())
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
async fn access_tokens_expire_and_refresh_tokens_are_not_access_tokens() {
    let h = harness();
    alice(&h).await;
    let out = h.login().await;
    let at = out.tokens.access.token.expose().to_owned();
    assert!(h.auth(&at).await.is_ok());
    assert!(matches!(
        h.svc
            .authenticate(Some(out.tokens.refresh.expose()), test_client())
            .await,
        Err(AuthError::Token(TokenProblem::RefreshTokenPresented))
    ));
    assert!(matches!(
        h.svc.authenticate(None, test_client()).await,
        Err(AuthError::Token(TokenProblem::Missing))
    ));
    h.clock.advance(Duration::seconds(900 + 31));
    assert!(matches!(
        h.svc.authenticate(Some(&at), test_client()).await,
        Err(AuthError::Token(TokenProblem::Expired))
    ));
}

#[tokio::test]
async fn refresh_rotates_and_reuse_after_the_interval_revokes_the_family() {
    let h = harness();
    alice(&h).await;
    let out = h.login().await;
    let r0 = out.tokens.refresh.expose().to_owned();
    let (_, p1) = h.svc.refresh(&r0, test_client()).await.unwrap();
    assert_ne!(p1.refresh.expose(), r0);

    // Within the interval, the old token answers with the current pair.
    h.clock.advance(Duration::seconds(5));
    let (_, again) = h.svc.refresh(&r0, test_client()).await.unwrap();
    assert_eq!(again.refresh.expose(), p1.refresh.expose());

    // After it, the old token revokes the whole session.
    h.clock.advance(Duration::seconds(6));
    assert!(matches!(
        h.svc.refresh(&r0, test_client()).await,
        Err(AuthError::RefreshReused)
    ));
    assert!(matches!(
        h.svc.refresh(p1.refresh.expose(), test_client()).await,
        Err(AuthError::Token(TokenProblem::Revoked))
    ));
    assert!(h.revoked(p1.access.token.expose()).await);
    assert!(h.revoked(out.tokens.access.token.expose()).await);
}

#[tokio::test]
async fn a_token_two_generations_old_is_reuse_even_inside_the_interval() {
    let h = harness();
    alice(&h).await;
    let out = h.login().await;
    let r0 = out.tokens.refresh.expose().to_owned();
    let (_, p1) = h.svc.refresh(&r0, test_client()).await.unwrap();
    let (_, _p2) = h
        .svc
        .refresh(p1.refresh.expose(), test_client())
        .await
        .unwrap();
    assert!(matches!(
        h.svc.refresh(&r0, test_client()).await,
        Err(AuthError::RefreshReused)
    ));
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_rotate_once() {
    let h = std::sync::Arc::new(harness());
    alice(&h).await;
    let out = h.login().await;
    let r0 = out.tokens.refresh.expose().to_owned();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (h, r0) = (h.clone(), r0.clone());
            tokio::spawn(async move {
                h.svc
                    .refresh(&r0, test_client())
                    .await
                    .map(|(_, p)| p.refresh.expose().to_owned())
            })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap().unwrap());
    }
    assert_eq!(
        tokens.len(),
        1,
        "every caller got the same current refresh token"
    );
    let s = h.ports.sessions.get(out.session.id).await.unwrap().unwrap();
    assert_eq!(s.generation, 1);
}

#[tokio::test]
async fn refresh_by_access_token_never_outlives_the_session() {
    let h = harness();
    alice(&h).await;
    let out = h.login().await;
    // Keep refreshing by access token until just before the 7-day session end.
    let mut at = out.tokens.access.token.expose().to_owned();
    for _ in 0..((7 * 24 * 3600) / 800 - 1) {
        h.clock.advance(Duration::seconds(800));
        let auth = h.auth(&at).await.unwrap();
        let (_, access) = h.svc.refresh_access(&auth).await.unwrap();
        assert!(access.claims.expires_at <= out.session.expires_at);
        at = access.token.expose().to_owned();
    }
    h.clock.advance(Duration::seconds(800));
    let auth = h.svc.authenticate(Some(&at), test_client()).await;
    // The last token expired with the session, or the session itself refuses.
    match auth {
        Err(AuthError::Token(TokenProblem::Expired)) => {}
        Ok(a) => assert!(matches!(
            h.svc.refresh_access(&a).await,
            Err(AuthError::Token(TokenProblem::Expired))
        )),
        Err(e) => panic!("unexpected {e:?}"),
    }
}

#[tokio::test]
async fn logout_kills_access_and_refresh_of_that_session_only() {
    let h = harness();
    alice(&h).await;
    let a = h.login().await;
    let b = h.login().await;
    let auth = h.auth(a.tokens.access.token.expose()).await.unwrap();
    h.svc.logout(&auth).await.unwrap();
    assert!(h.revoked(a.tokens.access.token.expose()).await);
    assert!(matches!(
        h.svc
            .refresh(a.tokens.refresh.expose(), test_client())
            .await,
        Err(AuthError::Token(TokenProblem::Revoked))
    ));
    assert!(h.auth(b.tokens.access.token.expose()).await.is_ok());
}

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

#[test]
fn memory_ports_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AuthService<MemoryPorts>>();
    assert_send_sync::<<MemoryPorts as Ports>::Users>();
}

#[tokio::test]
async fn an_imported_hash_is_replaced_at_the_first_successful_login() {
    use tessera_domain::ports::UserRepository as _;
    let h = harness();
    let mut user = tessera_testkit::contract_free_new_user();
    user.password_hash = tessera_domain::model::PasswordHash::new("legacy$OldSecret1");
    let stored = h.ports.users.create(user, None).await.unwrap();
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

mod sign_up {
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
}

#[tokio::test]
async fn logins_and_logouts_leave_an_audit_trail_without_secrets() {
    use tessera_domain::model::AuditKind;
    let h = harness();
    alice(&h).await;
    let client = ClientInfo {
        ip: Some("192.0.2.1".into()),
        user_agent: Some("Test/1".into()),
    };
    assert!(
        h.svc
            .verify_credentials(
                "alice",
                PasswordInput::Plain("Wrong-123"),
                client.clone(),
                LoginTerms::default()
            )
            .await
            .and_then(LoginStep::done)
            .is_err()
    );
    let out = h
        .svc
        .verify_credentials(
            "alice",
            PasswordInput::Plain("Secret123"),
            client.clone(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
        .unwrap();
    let auth = h
        .svc
        .authenticate(Some(out.tokens.access.token.expose()), client)
        .await
        .unwrap();
    h.svc.logout(&auth).await.unwrap();
    let events = h.ports.audit.events();
    let kinds: Vec<AuditKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AuditKind::LoginFailed,
            AuditKind::LoginSucceeded,
            AuditKind::Logout
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.subject == Some(out.user.id) && e.client.ip.as_deref() == Some("192.0.2.1"))
    );
    let all = format!("{events:?}");
    assert!(
        !all.contains("Secret123") && !all.contains("Wrong-123"),
        "{all}"
    );
}

/// Issue 12, item 11, on the memory stores: a login beyond
/// `max_sessions_per_user` revokes the least recently used session (its
/// access and refresh tokens are refused), and the list is paged.
#[tokio::test]
async fn a_login_over_the_session_limit_evicts_the_least_recently_used() {
    let settings = AuthSettings {
        max_sessions_per_user: Some(3),
        password_policy: PasswordPolicy {
            min_score: 0,
            ..PasswordPolicy::default()
        },
        ..AuthSettings::default()
    };
    let h = harness_with(settings);
    alice(&h).await;
    let a = h.login().await;
    h.clock.advance(Duration::seconds(1));
    let b = h.login().await;
    h.clock.advance(Duration::seconds(1));
    let c = h.login().await;
    h.clock.advance(Duration::seconds(1));
    // Using a (a refresh) leaves b the least recently used.
    let (_, a2) = h
        .svc
        .refresh(a.tokens.refresh.expose(), test_client())
        .await
        .unwrap();
    h.clock.advance(Duration::seconds(1));
    let d = h.login().await;

    assert!(h.revoked(b.tokens.access.token.expose()).await);
    assert!(
        h.svc
            .refresh(b.tokens.refresh.expose(), test_client())
            .await
            .is_err()
    );
    for live in [
        &a2.access.token,
        &c.tokens.access.token,
        &d.tokens.access.token,
    ] {
        assert!(h.auth(live.expose()).await.is_ok());
    }
    let auth = h.auth(d.tokens.access.token.expose()).await.unwrap();
    let page = h.svc.list_sessions_page(&auth, 1, 2).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(
        page.sessions.iter().map(|s| s.id).collect::<Vec<_>>(),
        [a.session.id, c.session.id],
        "oldest first"
    );
    let last = h.svc.list_sessions_page(&auth, 2, 2).await.unwrap();
    assert_eq!(
        last.sessions.iter().map(|s| s.id).collect::<Vec<_>>(),
        [d.session.id]
    );
    assert!(
        h.svc
            .list_sessions_page(&auth, 3, 2)
            .await
            .unwrap()
            .sessions
            .is_empty()
    );

    // No limit: nothing is evicted.
    let h = harness_with(AuthSettings {
        max_sessions_per_user: None,
        password_policy: PasswordPolicy {
            min_score: 0,
            ..PasswordPolicy::default()
        },
        ..AuthSettings::default()
    });
    alice(&h).await;
    let first = h.login().await;
    for _ in 0..60 {
        h.login().await;
    }
    assert!(h.auth(first.tokens.access.token.expose()).await.is_ok());
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

#[tokio::test]
async fn access_tokens_say_how_and_when_the_session_authenticated() {
    use tessera_domain::model::{Assurance, AuthMethod};
    let h = harness();
    alice(&h).await;
    let out = h.login().await;
    let at = out.session.authentication.clone();
    assert_eq!(at.methods, vec![AuthMethod::Pwd], "amr of a password login");
    assert_eq!(at.assurance(), Assurance::Aal1);
    assert_eq!(out.tokens.access.claims.authentication, at);
    let claims = h
        .auth(out.tokens.access.token.expose())
        .await
        .unwrap()
        .claims;
    assert_eq!(
        claims.authentication.methods, at.methods,
        "read back from the token"
    );
    assert_eq!(claims.authentication.at.timestamp(), at.at.timestamp());
    // A refresh a minute later keeps the login's time and methods.
    h.clock.advance(Duration::seconds(60));
    let (_, pair) = h
        .svc
        .refresh(out.tokens.refresh.expose(), test_client())
        .await
        .unwrap();
    assert_eq!(pair.access.claims.authentication, at);
    assert!(pair.access.claims.issued_at > at.at);
    let claims = h.auth(pair.access.token.expose()).await.unwrap().claims;
    assert_eq!(claims.authentication.at.timestamp(), at.at.timestamp());
    assert_eq!(claims.authentication.methods, vec![AuthMethod::Pwd]);
}
