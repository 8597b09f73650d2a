//! Linked identities and the console's upstream providers (issue 19).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
use tessera_domain::model::{
    ClaimMapping, LinkedIdentity, OAuth2Endpoints, ProviderSource, TokenEndpointAuth, UpstreamId,
    UpstreamProtocol, UpstreamProvider,
};
use tessera_domain::ports::IdentityLinks;
use tessera_domain::secret::Secret;

fn at(secs: i64) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

fn linked(user: UserId, provider: &str, subject: &str, secs: i64) -> LinkedIdentity {
    LinkedIdentity {
        user_id: user,
        provider: UpstreamId::parse(provider).unwrap(),
        subject: subject.into(),
        email: Some("ünï@example.com".into()),
        linked_at: at(secs),
        last_used_at: None,
    }
}

fn gitee() -> UpstreamProvider {
    UpstreamProvider {
        id: UpstreamId::parse("gitee").unwrap(),
        display_name: "码云 Gitee".into(),
        preset: None,
        protocol: UpstreamProtocol::OAuth2(OAuth2Endpoints {
            authorization_url: "https://gitee.com/oauth/authorize".into(),
            token_url: "https://gitee.com/oauth/token".into(),
            userinfo_url: "https://gitee.com/api/v5/user".into(),
            emails_url: Some("https://gitee.com/api/v5/emails".into()),
            claims: ClaimMapping {
                subject: "id".into(),
                email: Some("email".into()),
                email_verified: None,
                name: Some("name".into()),
                username: Some("login".into()),
            },
        }),
        client_id: "g-id".into(),
        client_secret: Secret::new("g-secret"),
        token_auth: TokenEndpointAuth::ClientSecretPost,
        scopes: vec!["user_info".into(), "emails".into()],
        allow_sign_up: false,
        link_by_email: true,
        enabled: true,
        source: ProviderSource::Console,
    }
}

/// [`IdentityLinks`]: a (provider, subject) links to one account only,
/// whoever asks; links read back as stored and per account in order;
/// unlinking needs the right account; a sign-in's time is kept; console
/// providers read back whole (secret and claim mapping), replace by id, and
/// deleting one takes its links. `owner` and `other` are existing accounts
/// (SQL stores check the foreign key).
pub async fn identities<S: IdentityLinks>(store: S, owner: UserId, other: UserId) {
    let a = linked(owner, "corp", "sub-1", 0);
    assert!(store.link(&a).await.unwrap());
    assert!(
        !store
            .link(&linked(other, "corp", "sub-1", 1))
            .await
            .unwrap(),
        "one account per identity"
    );
    let corp = UpstreamId::parse("corp").unwrap();
    assert_eq!(store.linked(&corp, "sub-1").await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.linked(&corp, "SUB-1").await.unwrap(),
        None,
        "subjects are exact"
    );
    let b = linked(owner, "github", "583231", 5);
    let c = linked(owner, "corp", "sub-2", 9);
    assert!(store.link(&b).await.unwrap());
    assert!(store.link(&c).await.unwrap());
    assert!(store.link(&linked(other, "github", "1", 2)).await.unwrap());
    assert_eq!(
        store.identities_of(owner).await.unwrap(),
        vec![a.clone(), c.clone(), b.clone()],
        "by provider, then link time"
    );
    store.record_use(&corp, "sub-1", at(60)).await.unwrap();
    assert_eq!(
        store
            .linked(&corp, "sub-1")
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(at(60))
    );
    assert!(
        !store.unlink(other, &corp, "sub-1").await.unwrap(),
        "not other's"
    );
    assert!(store.unlink(owner, &corp, "sub-1").await.unwrap());
    assert!(!store.unlink(owner, &corp, "sub-1").await.unwrap());
    assert_eq!(store.linked(&corp, "sub-1").await.unwrap(), None);

    assert!(store.providers().await.unwrap().is_empty());
    let mut g = gitee();
    store.save_provider(&g).await.unwrap();
    assert_eq!(store.providers().await.unwrap(), vec![g.clone()]);
    g.enabled = false;
    g.client_secret = Secret::new("rotated");
    store.save_provider(&g).await.unwrap();
    assert_eq!(
        store.providers().await.unwrap(),
        vec![g.clone()],
        "replaced by id"
    );
    assert!(store.link(&linked(owner, "gitee", "42", 20)).await.unwrap());
    assert!(store.delete_provider(&g.id).await.unwrap());
    assert!(!store.delete_provider(&g.id).await.unwrap());
    assert!(store.providers().await.unwrap().is_empty());
    assert_eq!(
        store.linked(&g.id, "42").await.unwrap(),
        None,
        "its links went"
    );
    assert_eq!(store.identities_of(owner).await.unwrap(), vec![c, b]);
}
