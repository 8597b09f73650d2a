//! The OpenID Provider's registry (issue 18).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
use tessera_domain::model::{ClientId, ClientKind, GrantType, OAuthClient, OAuthGrant, Scope};
use tessera_domain::ports::ClientRegistry;

fn client(id: &str) -> OAuthClient {
    OAuthClient {
        id: ClientId::parse(id).unwrap(),
        name: "Wiki — 维基".into(),
        kind: ClientKind::Confidential,
        secret_fingerprint: Some(TokenFingerprint("f".repeat(64))),
        jwks: Some(r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc"}]}"#.into()),
        redirect_uris: vec![
            "https://wiki.example/cb?x=1".into(),
            "http://127.0.0.1:9/cb".into(),
        ],
        post_logout_redirect_uris: vec!["https://wiki.example/bye".into()],
        scopes: vec![Scope::OpenId, Scope::Email, Scope::Roles],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::ClientCredentials],
        first_party: true,
        disabled: false,
        created_at: chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap(),
    }
}

/// [`ClientRegistry`]: a client reads back as stored (lists, optional
/// fields), ids are unique, updates replace, consents replace and are per
/// (account, client), grants are found by session and by client, and
/// deleting a client takes its consents and grants. `owner` is an existing
/// account (SQL stores check the foreign key).
pub async fn clients<S: ClientRegistry>(store: S, owner: UserId) {
    let wiki = client("tc_wiki");
    assert!(store.create_client(&wiki).await.unwrap());
    assert!(!store.create_client(&wiki).await.unwrap(), "ids are unique");
    assert_eq!(store.client(&wiki.id).await.unwrap(), Some(wiki.clone()));
    let public = OAuthClient {
        id: ClientId::parse("tc_app").unwrap(),
        kind: ClientKind::Public,
        secret_fingerprint: None,
        jwks: None,
        post_logout_redirect_uris: vec![],
        ..client("tc_app")
    };
    assert!(store.create_client(&public).await.unwrap());
    let ids: Vec<String> = store
        .clients()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    assert_eq!(ids, ["tc_app", "tc_wiki"], "by id");

    let changed = OAuthClient {
        disabled: true,
        secret_fingerprint: Some(TokenFingerprint("e".repeat(64))),
        ..wiki.clone()
    };
    assert!(store.update_client(&changed).await.unwrap());
    assert_eq!(store.client(&wiki.id).await.unwrap(), Some(changed));
    assert!(!store.update_client(&client("tc_none")).await.unwrap());

    assert!(
        store
            .consented_scopes(owner, &wiki.id)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .remember_consent(owner, &wiki.id, &[Scope::OpenId, Scope::Email])
        .await
        .unwrap();
    store
        .remember_consent(
            owner,
            &wiki.id,
            &[Scope::OpenId, Scope::Email, Scope::Roles],
        )
        .await
        .unwrap();
    assert_eq!(
        store.consented_scopes(owner, &wiki.id).await.unwrap(),
        vec![Scope::OpenId, Scope::Email, Scope::Roles]
    );
    let consents = store.consents_of(owner).await.unwrap();
    assert_eq!(consents.len(), 1, "one consent per (account, client)");
    assert_eq!(consents[0].client_id, wiki.id);
    assert_eq!(
        consents[0].scopes,
        vec![Scope::OpenId, Scope::Email, Scope::Roles]
    );
    assert!(
        (Utc::now() - consents[0].updated_at).num_seconds().abs() < 60,
        "when it was given"
    );
    assert!(
        store
            .consents_of(UserId(owner.0 + 1_000_000))
            .await
            .unwrap()
            .is_empty(),
        "another account's are not listed"
    );
    assert!(
        store
            .consented_scopes(owner, &public.id)
            .await
            .unwrap()
            .is_empty()
    );

    let session = SessionId(uuid::Uuid::new_v4());
    let grant = OAuthGrant {
        session_id: session,
        client_id: wiki.id.clone(),
        user_id: owner,
        scopes: vec![Scope::OpenId, Scope::OfflineAccess],
        created_at: wiki.created_at,
    };
    store.record_grant(&grant).await.unwrap();
    assert_eq!(store.grant(session).await.unwrap(), Some(grant));
    assert_eq!(store.grant_sessions(&wiki.id).await.unwrap(), vec![session]);
    assert!(store.grant_sessions(&public.id).await.unwrap().is_empty());

    assert!(store.delete_client(&wiki.id).await.unwrap());
    assert!(!store.delete_client(&wiki.id).await.unwrap());
    assert_eq!(store.client(&wiki.id).await.unwrap(), None);
    assert_eq!(
        store.grant(session).await.unwrap(),
        None,
        "grants go with it"
    );
    assert!(
        store
            .consented_scopes(owner, &wiki.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.consents_of(owner).await.unwrap().is_empty());
    assert!(store.client(&public.id).await.unwrap().is_some());
}
