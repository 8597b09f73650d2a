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
