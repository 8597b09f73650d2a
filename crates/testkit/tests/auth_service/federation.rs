//! Signing in through upstream providers (issue 19), against a scripted
//! provider: the linking rules, the one-time exchange, the state's binding,
//! and accounts without a password.

use super::*;
use tessera_domain::clock::Clock as _;
use tessera_domain::model::{
    ProviderSource, TokenEndpointAuth, UpstreamId, UpstreamIdentity, UpstreamProtocol,
    UpstreamProvider,
};
use tessera_domain::ports::{IdentityLinks as _, UpstreamError, UserRepository as _};
use tessera_domain::secret::Secret;
use tessera_domain::usecase::{FederationError, UpstreamAnswer, UpstreamLanding, UpstreamReturn};

fn provider(id: &str, link_by_email: bool) -> UpstreamProvider {
    UpstreamProvider {
        id: UpstreamId::parse(id).unwrap(),
        display_name: id.to_uppercase(),
        preset: None,
        protocol: UpstreamProtocol::OpenIdConnect {
            issuer: format!("https://{id}.test"),
            tenant_issuer: false,
        },
        client_id: "tessera".into(),
        client_secret: Secret::new("s"),
        token_auth: TokenEndpointAuth::ClientSecretBasic,
        scopes: vec!["openid".into(), "email".into()],
        allow_sign_up: true,
        link_by_email,
        enabled: true,
        source: ProviderSource::Configuration,
    }
}

fn federated(require_verified_email: bool) -> Harness {
    let mut settings = AuthSettings {
        password_policy: PasswordPolicy {
            min_score: 0,
            ..PasswordPolicy::default()
        },
        require_verified_email,
        ..AuthSettings::default()
    };
    settings.upstream.providers = vec![provider("corp", false), provider("trusted", true)];
    settings.upstream.callback_base = "https://auth.test".into();
    harness_with(settings)
}

fn identity(subject: &str, email: &str, verified: bool) -> UpstreamIdentity {
    UpstreamIdentity {
        subject: subject.into(),
        email: Some(email.into()),
        email_verified: verified,
        name: None,
        username: Some("up".into()),
    }
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// One sign-in through `provider` answered with `outcome`.
async fn sign_in(
    h: &Harness,
    provider: &str,
    returns: UpstreamReturn,
    outcome: Result<UpstreamIdentity, UpstreamError>,
) -> Result<UpstreamLanding, FederationError> {
    let started = h
        .svc
        .begin_upstream_sign_in(provider, returns, &test_client())
        .await?;
    let state = started.state.expose().to_owned();
    assert!(started.authorization_url.contains(&state));
    let code = format!("code-{state}");
    assert!(h.ports.upstream.answer(&state, &code, outcome));
    let flow = h
        .svc
        .take_upstream_flow(provider, &state, Some(&state), &test_client())
        .await?;
    h.svc
        .finish_upstream_sign_in(
            flow,
            UpstreamAnswer {
                code: Some(code),
                error: None,
            },
            test_client(),
        )
        .await
}

fn pages() -> UpstreamReturn {
    UpstreamReturn::Pages {
        return_to: "/ui/account".into(),
    }
}

fn client() -> UpstreamReturn {
    UpstreamReturn::Client {
        return_to: "https://app.test/done".into(),
        code_challenge: CHALLENGE.into(),
    }
}

async fn accounts_with(h: &Harness, email: &str) -> usize {
    let login =
        tessera_domain::values::Login::Email(tessera_domain::values::Email::parse(email).unwrap());
    usize::from(h.ports.users.find_by_login(&login).await.unwrap().is_some())
}

#[tokio::test]
async fn a_new_identity_makes_one_account_however_many_sign_ins_race() {
    let h = federated(false);
    let who = || Ok(identity("u-1", "new@up.test", true));
    let (a, b) = tokio::join!(
        sign_in(&h, "corp", pages(), who()),
        sign_in(&h, "corp", pages(), who())
    );
    assert!(a.is_ok() || b.is_ok(), "{a:?} {b:?}");
    assert_eq!(accounts_with(&h, "new@up.test").await, 1);
    let user = h
        .ports
        .identities
        .linked(&UpstreamId::parse("corp").unwrap(), "u-1")
        .await
        .unwrap()
        .expect("linked");
    let created = h
        .ports
        .users
        .find_by_id(user.user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(created.email_verified, "the provider verified it");
    assert!(created.password_hash.is_none(), "no password");
    // A password login of that account fails like a wrong password.
    let refused = h
        .svc
        .verify_credentials(
            "new@up.test",
            PasswordInput::Plain("anything-at-all"),
            test_client(),
            LoginTerms::default(),
        )
        .await;
    assert!(
        matches!(refused, Err(AuthError::InvalidCredentials)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_address_links_only_when_verified_and_at_once_only_for_a_trusted_provider() {
    let h = federated(false);
    alice(&h).await; // a@b.com, unverified locally
    let unverified = sign_in(&h, "corp", pages(), Ok(identity("x", "a@b.com", false))).await;
    assert!(
        matches!(unverified, Err(FederationError::AccountExists)),
        "{unverified:?}"
    );
    let verified = sign_in(&h, "corp", pages(), Ok(identity("x", "a@b.com", true))).await;
    assert!(
        matches!(verified, Ok(UpstreamLanding::LinkRequired { .. })),
        "{verified:?}"
    );
    // A trusted provider links at once only when the account's own address
    // is verified too: alice's is not.
    let trusted = sign_in(&h, "trusted", pages(), Ok(identity("x", "a@b.com", true))).await;
    assert!(
        matches!(trusted, Ok(UpstreamLanding::LinkRequired { .. })),
        "{trusted:?}"
    );
    assert!(
        h.ports
            .identities
            .linked(&UpstreamId::parse("trusted").unwrap(), "x")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_unverified_address_makes_no_account_that_its_mailbox_could_later_claim() {
    let h = federated(false);
    let refused = sign_in(&h, "corp", pages(), Ok(identity("y", "y@up.test", false))).await;
    assert!(
        matches!(refused, Err(FederationError::EmailUnverified)),
        "{refused:?}"
    );
    assert_eq!(accounts_with(&h, "y@up.test").await, 0);
}

#[tokio::test]
async fn the_exchange_code_works_once_within_a_minute_with_its_verifier() {
    let h = federated(false);
    let code = |landing: Result<UpstreamLanding, FederationError>| match landing {
        Ok(UpstreamLanding::Exchange { code, return_to }) => {
            assert_eq!(return_to, "https://app.test/done");
            code.expose().to_owned()
        }
        other => panic!("{other:?}"),
    };
    let who = || Ok(identity("z", "z@up.test", true));
    let first = code(sign_in(&h, "corp", client(), who()).await);
    let wrong = h
        .svc
        .exchange_upstream_code(
            &first,
            &"x".repeat(43),
            test_client(),
            LoginTerms::default(),
        )
        .await;
    assert!(matches!(wrong, Err(FederationError::CodeInvalid)));
    let spent = h
        .svc
        .exchange_upstream_code(&first, VERIFIER, test_client(), LoginTerms::default())
        .await;
    assert!(
        matches!(spent, Err(FederationError::CodeInvalid)),
        "a tried code is spent"
    );

    let late = code(sign_in(&h, "corp", client(), who()).await);
    h.clock.advance(Duration::seconds(61));
    let expired = h
        .svc
        .exchange_upstream_code(&late, VERIFIER, test_client(), LoginTerms::default())
        .await;
    assert!(matches!(expired, Err(FederationError::CodeInvalid)));

    let good = code(sign_in(&h, "corp", client(), who()).await);
    let step = h
        .svc
        .exchange_upstream_code(&good, VERIFIER, test_client(), LoginTerms::default())
        .await
        .unwrap();
    let outcome = step.done().unwrap();
    assert_eq!(outcome.user.email.as_str(), "z@up.test");
    let amr: Vec<&str> = outcome
        .session
        .authentication
        .methods
        .iter()
        .map(|m| m.as_str())
        .collect();
    assert_eq!(amr, ["fed"]);
}

#[tokio::test]
async fn a_state_serves_once_only_its_own_browser_and_provider() {
    let h = federated(false);
    let started = h
        .svc
        .begin_upstream_sign_in("corp", pages(), &test_client())
        .await
        .unwrap();
    let state = started.state.expose().to_owned();
    for (provider, cookie) in [
        ("corp", None),
        ("corp", Some("another-browser")),
        ("trusted", Some(state.as_str())),
    ] {
        let refused = h
            .svc
            .take_upstream_flow(provider, &state, cookie, &test_client())
            .await;
        assert!(
            matches!(refused, Err(FederationError::StateInvalid)),
            "{provider} {cookie:?}"
        );
    }
    // The wrong provider's callback spent it.
    let gone = h
        .svc
        .take_upstream_flow("corp", &state, Some(&state), &test_client())
        .await;
    assert!(matches!(gone, Err(FederationError::StateInvalid)));
    let unknown = h
        .svc
        .begin_upstream_sign_in("nope", pages(), &test_client())
        .await;
    assert!(matches!(unknown, Err(FederationError::UnknownProvider)));
}

#[tokio::test]
async fn a_provider_error_or_a_refused_code_is_audited_and_links_nothing() {
    let h = federated(false);
    let refused = sign_in(
        &h,
        "corp",
        pages(),
        Err(UpstreamError::Invalid("ID token: signature".into())),
    )
    .await;
    assert!(matches!(
        refused,
        Err(FederationError::Upstream(UpstreamError::Invalid(_)))
    ));
    let events = h.ports.audit.events();
    assert!(
        events
            .iter()
            .any(|e| e.kind.as_str() == "upstream_sign_in_failed"
                && e.detail.as_deref() == Some("corp upstream_invalid")),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_last_two_identities_of_an_account_without_a_password_are_never_both_unlinked() {
    let h = federated(false);
    // An account made by corp, linked to a second identity of trusted's.
    sign_in(&h, "corp", pages(), Ok(identity("p-1", "p@up.test", true)))
        .await
        .unwrap();
    let corp = UpstreamId::parse("corp").unwrap();
    let user = h
        .ports
        .identities
        .linked(&corp, "p-1")
        .await
        .unwrap()
        .unwrap()
        .user_id;
    assert!(
        h.ports
            .identities
            .link(&tessera_domain::model::LinkedIdentity {
                user_id: user,
                provider: UpstreamId::parse("trusted").unwrap(),
                subject: "p-2".into(),
                email: None,
                linked_at: h.clock.now(),
                last_used_at: None,
            })
            .await
            .unwrap()
    );
    let outcome = match sign_in(&h, "corp", pages(), Ok(identity("p-1", "p@up.test", true)))
        .await
        .unwrap()
    {
        UpstreamLanding::Browser {
            step: tessera_domain::usecase::BrowserStep::SignedIn(signed),
            ..
        } => signed,
        other => panic!("{other:?}"),
    };
    let auth = h
        .svc
        .authenticate_browser(Some(outcome.credential.expose()), test_client())
        .await
        .unwrap()
        .auth;
    let (a, b) = tokio::join!(
        h.svc.unlink_identity(&auth, "corp", "p-1"),
        h.svc.unlink_identity(&auth, "trusted", "p-2")
    );
    assert!(a.is_ok() || b.is_ok(), "one may go: {a:?} {b:?}");
    assert!(
        matches!(a, Err(FederationError::LastSignInMethod))
            || matches!(b, Err(FederationError::LastSignInMethod)),
        "never both: {a:?} {b:?}"
    );
    assert_eq!(
        h.ports.identities.identities_of(user).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_console_provider_pointed_elsewhere_loses_the_old_ones_identities() {
    let mut settings = AuthSettings::default();
    settings.upstream.callback_base = "https://auth.test".into();
    let h = harness_with(settings);
    let operator = tessera_domain::usecase::Actor::operator();
    let mut acme = provider("acme", false);
    acme.source = ProviderSource::Console;
    h.svc
        .save_upstream_provider(&operator, acme.clone())
        .await
        .unwrap();
    sign_in(&h, "acme", pages(), Ok(identity("s-1", "s@up.test", true)))
        .await
        .unwrap();
    let id = UpstreamId::parse("acme").unwrap();
    // A change of name keeps the identities; another issuer does not.
    acme.display_name = "ACME SSO".into();
    h.svc
        .save_upstream_provider(&operator, acme.clone())
        .await
        .unwrap();
    assert!(
        h.ports
            .identities
            .linked(&id, "s-1")
            .await
            .unwrap()
            .is_some()
    );
    acme.protocol = UpstreamProtocol::OpenIdConnect {
        issuer: "https://other.test".into(),
        tenant_issuer: false,
    };
    h.svc.save_upstream_provider(&operator, acme).await.unwrap();
    assert!(
        h.ports
            .identities
            .linked(&id, "s-1")
            .await
            .unwrap()
            .is_none()
    );
}
