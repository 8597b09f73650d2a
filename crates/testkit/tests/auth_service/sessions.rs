//! Session lists, limits and revocation, and the audit trail.

use super::*;

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

/// The memory ports with a denylist that can be made to fail once.
struct FlakyDenylistPorts;

impl Ports for FlakyDenylistPorts {
    type Users = <MemoryPorts as Ports>::Users;
    type Sessions = <MemoryPorts as Ports>::Sessions;
    type Denylist = FlakyDenylist;
    type Hasher = <MemoryPorts as Ports>::Hasher;
    type Signer = <MemoryPorts as Ports>::Signer;
    type Codec = <MemoryPorts as Ports>::Codec;
    type Clock = <MemoryPorts as Ports>::Clock;
    type Ids = <MemoryPorts as Ports>::Ids;
    type Codes = <MemoryPorts as Ports>::Codes;
    type Limiter = <MemoryPorts as Ports>::Limiter;
    type Outbox = <MemoryPorts as Ports>::Outbox;
    type Sms = <MemoryPorts as Ports>::Sms;
    type Audit = <MemoryPorts as Ports>::Audit;
    type Tasks = <MemoryPorts as Ports>::Tasks;
    type Factors = <MemoryPorts as Ports>::Factors;
    type Otp = <MemoryPorts as Ports>::Otp;
    type RelyingParty = <MemoryPorts as Ports>::RelyingParty;
    type Clients = <MemoryPorts as Ports>::Clients;
    type Identities = <MemoryPorts as Ports>::Identities;
    type Upstream = <MemoryPorts as Ports>::Upstream;
    type Webhooks = <MemoryPorts as Ports>::Webhooks;
    type WebhookTransport = <MemoryPorts as Ports>::WebhookTransport;
    type TokenHook = <MemoryPorts as Ports>::TokenHook;
}

/// A service on [`FlakyDenylistPorts`], its denylist and its audit trail.
fn flaky_denylist_service() -> (
    AuthService<FlakyDenylistPorts>,
    FlakyDenylist,
    tessera_memory::MemoryAudit,
    tessera_memory::MemoryOutbox,
) {
    let m = memory_adapters(ManualClock::default());
    let audit = m.audit.clone();
    let outbox = m.outbox.clone();
    let denylist = FlakyDenylist::default();
    let ports = tessera_domain::ports::Adapters::<FlakyDenylistPorts> {
        users: m.users,
        sessions: m.sessions,
        denylist: denylist.clone(),
        hasher: m.hasher,
        signer: m.signer,
        codec: m.codec,
        clock: m.clock,
        ids: m.ids,
        codes: m.codes,
        limiter: m.limiter,
        outbox: m.outbox,
        sms: m.sms,
        audit: m.audit,
        tasks: m.tasks,
        factors: m.factors,
        otp: m.otp,
        relying_party: m.relying_party,
        clients: m.clients,
        identities: m.identities,
        upstream: m.upstream,
        webhooks: m.webhooks,
        webhook_transport: m.webhook_transport,
        token_hook: m.token_hook,
    };
    let svc = AuthService::new(ports, harness().svc.settings().clone());
    (svc, denylist, audit, outbox)
}

/// Issue 14, item 1: ending every session denies their access tokens before
/// it marks the sessions revoked, so that when a denial fails, a retry finds
/// the same live sessions again and every old access token ends up refused.
#[tokio::test]
async fn a_failed_denial_during_logout_all_is_finished_by_a_retry() {
    let (svc, denylist, _, _) = flaky_denylist_service();
    svc.register(
        &form("alice", "a@b.com", "Secret123"),
        Locale::En,
        LinkKind::Page,
    )
    .await
    .unwrap();
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let out = svc
            .verify_credentials(
                "alice",
                PasswordInput::Plain("Secret123"),
                test_client(),
                LoginTerms::default(),
            )
            .await
            .and_then(LoginStep::done)
            .unwrap();
        tokens.push(out.tokens.access.token.expose().to_owned());
    }
    let auth = svc
        .authenticate(Some(&tokens[0]), test_client())
        .await
        .unwrap();

    denylist.fail_next_deny();
    assert!(matches!(
        svc.logout_all(&auth).await,
        Err(AuthError::Unavailable(_))
    ));
    assert_eq!(
        svc.logout_all(&auth).await.unwrap(),
        3,
        "the retry ends all three"
    );
    for token in &tokens {
        assert!(
            matches!(
                svc.authenticate(Some(token), test_client()).await,
                Err(AuthError::Token(TokenProblem::Revoked))
            ),
            "an old access token still works after the retry"
        );
    }
}

/// A disable whose revocation fails half-way leaves the account disabled
/// (and audited as such); enabling it then never brings the old sessions
/// back (found by issue 15's newcomer review: `tessera user disable` with
/// Redis down, then `enable`).
#[tokio::test]
async fn enabling_after_a_half_done_disable_revives_no_session() {
    use tessera_domain::model::AuditKind;
    use tessera_domain::usecase::Actor;

    let (svc, denylist, audit, _) = flaky_denylist_service();
    svc.register(
        &form("bob", "b@b.com", "Secret123"),
        Locale::En,
        LinkKind::Page,
    )
    .await
    .unwrap();
    let login = svc
        .verify_credentials(
            "bob",
            PasswordInput::Plain("Secret123"),
            test_client(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
        .unwrap();
    let access = login.tokens.access.token.expose().to_owned();
    let who = svc
        .authenticate(Some(&access), test_client())
        .await
        .unwrap();
    let operator = Actor::operator();

    denylist.fail_next_deny();
    assert!(matches!(
        svc.set_user_active(&operator, who.user_id(), false).await,
        Err(AuthError::Unavailable(_))
    ));
    assert!(
        matches!(
            svc.authenticate_user(Some(&access), test_client()).await,
            Err(AuthError::AccountDisabled)
        ),
        "the flag holds although the sessions were not ended"
    );
    assert!(
        audit
            .events()
            .iter()
            .any(|e| e.kind == AuditKind::UserDisabled),
        "the disable is recorded"
    );

    svc.set_user_active(&operator, who.user_id(), true)
        .await
        .unwrap();
    assert!(
        matches!(
            svc.authenticate(Some(&access), test_client()).await,
            Err(AuthError::Token(TokenProblem::Revoked))
        ),
        "the old access token stays refused after enable"
    );
    assert!(
        svc.refresh(login.tokens.refresh.expose(), test_client())
            .await
            .is_err(),
        "the old refresh token too"
    );
    svc.verify_credentials(
        "bob",
        PasswordInput::Plain("Secret123"),
        test_client(),
        LoginTerms::default(),
    )
    .await
    .and_then(LoginStep::done)
    .expect("a new login works");
}

/// The text after `marker` (`length` characters) in the newest mail to `to`.
fn mailed(outbox: &tessera_memory::MemoryOutbox, to: &str, marker: &str, length: usize) -> String {
    let mail = outbox
        .all()
        .into_iter()
        .rev()
        .find(|m| m.to.as_str() == to && m.text.contains(marker))
        .unwrap_or_else(|| panic!("a mail to {to} with {marker:?}"));
    let at = mail.text.find(marker).unwrap() + marker.len();
    mail.text[at..at + length].to_owned()
}

/// Issue 20: undoing a change of address ends every session; when ending
/// them fails, the link is not spent, and a retry finishes the job.
#[tokio::test]
async fn a_failed_session_sweep_leaves_the_revert_link_usable() {
    use tessera_domain::model::ContactKind;
    let (svc, denylist, _, outbox) = flaky_denylist_service();
    svc.register(
        &form("alice", "a@b.com", "Secret123"),
        Locale::En,
        LinkKind::Page,
    )
    .await
    .unwrap();
    // Only a verified address is sent a revert link.
    let code = mailed(&outbox, "a@b.com", "Your verification code is ", 6);
    svc.verify_email_code(
        Some("a@b.com"),
        Some(&code),
        Some("Secret123"),
        &test_client(),
    )
    .await
    .unwrap();
    let out = svc
        .verify_credentials(
            "alice",
            PasswordInput::Plain("Secret123"),
            test_client(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
        .unwrap();
    let token = out.tokens.access.token.expose().to_owned();
    let auth = svc.authenticate(Some(&token), test_client()).await.unwrap();
    svc.request_email_change(&auth, Some("new@b.com"), Locale::En)
        .await
        .unwrap();
    let code = mailed(&outbox, "new@b.com", "Your code is ", 6);
    let user = svc
        .confirm_contact_change(&auth, ContactKind::Email, Some(&code), Locale::En)
        .await
        .unwrap();
    assert_eq!(user.email.as_str(), "new@b.com");
    assert!(user.email_verified);
    let link = mailed(&outbox, "a@b.com", "/ui/account/revert?token=", 64);

    denylist.fail_next_deny();
    assert!(matches!(
        svc.revert_contact_change(&link, &test_client()).await,
        Err(AuthError::Unavailable(_))
    ));
    let user = svc
        .revert_contact_change(&link, &test_client())
        .await
        .unwrap();
    assert_eq!(user.email.as_str(), "a@b.com");
    assert!(matches!(
        svc.authenticate(Some(&token), test_client()).await,
        Err(AuthError::Token(TokenProblem::Revoked))
    ));
    assert!(matches!(
        svc.revert_contact_change(&link, &test_client()).await,
        Err(AuthError::CodeExpired)
    ));
}
