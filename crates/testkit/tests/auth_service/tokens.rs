//! Access and refresh tokens: expiry, rotation, reuse, logout, claims.

use super::*;

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

/// Issue 20: the access-token hook's claims go into the token's claims,
/// without reserved names; a failing hook refuses the login (no session is
/// stored) unless the settings fail open.
#[tokio::test]
async fn the_access_token_hooks_claims_are_merged_and_its_failure_is_a_policy() {
    use tessera_domain::model::{CustomClaims, HookError};
    let h = harness();
    alice(&h).await;
    let claims: CustomClaims =
        serde_json::from_str(r#"{"tenant":"acme","sub":"mallory","aal":2}"#).unwrap();
    h.ports.token_hook.answer(Ok(claims));
    let out = h.login().await;
    let custom = &out.tokens.access.claims.custom;
    assert_eq!(custom.get("tenant").unwrap(), "acme");
    assert!(
        !custom.contains_key("sub") && !custom.contains_key("aal"),
        "{custom:?}"
    );
    let asked = h.ports.token_hook.asked();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].username, "alice");
    assert_eq!(asked[0].session_id, out.session.id.0);
    assert_eq!(asked[0].token_id, out.tokens.access.claims.token_id);

    h.ports
        .token_hook
        .answer(Err(HookError::Unavailable("down".to_owned())));
    let before = h
        .ports
        .sessions
        .list_for_user(out.user.id, tessera_domain::clock::Clock::now(&h.clock))
        .await
        .unwrap()
        .len();
    let refused = h
        .svc
        .verify_credentials(
            "alice",
            PasswordInput::Plain("Secret123"),
            test_client(),
            LoginTerms::default(),
        )
        .await;
    assert!(
        matches!(refused, Err(AuthError::Unavailable(_))),
        "{refused:?}"
    );
    let after = h
        .ports
        .sessions
        .list_for_user(out.user.id, tessera_domain::clock::Clock::now(&h.clock))
        .await
        .unwrap()
        .len();
    assert_eq!(before, after, "no session stored");

    let open = harness_with(AuthSettings {
        password_policy: PasswordPolicy {
            min_score: 0,
            ..PasswordPolicy::default()
        },
        webhooks: tessera_domain::settings::WebhookSettings {
            token_hook_fail_open: true,
            ..Default::default()
        },
        ..AuthSettings::default()
    });
    alice(&open).await;
    open.ports
        .token_hook
        .answer(Err(HookError::Refused("nonsense".to_owned())));
    let out = open.login().await;
    assert!(out.tokens.access.claims.custom.is_empty());
}
