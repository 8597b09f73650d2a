//! The authentication use cases, run against the in-memory fakes, one
//! module per topic; this file holds the shared harness.
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
use tessera_testkit::{FlakyDenylist, ManualClock, MemoryPorts, memory_adapters, test_client};

mod factors;
mod federation;
mod login;
mod passkeys;
mod password;
mod registration;
mod sessions;
mod sign_up;
mod tokens;

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
