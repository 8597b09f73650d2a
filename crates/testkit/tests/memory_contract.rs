//! The in-memory adapters pass every port's contract.

use std::time::Duration;

use tessera_domain::model::{SessionRotation, TokenFingerprint, UserId};
use tessera_domain::ports::SessionStore as _;
use tessera_domain::ports::UserRepository as _;
use tessera_memory::{
    CacheBudget, MemoryCodes, MemoryDenylist, MemoryOutbox, MemoryRateLimiter, MemorySessions,
    MemoryUserCache, MemoryUsers, MirroredDenylist, RecentSessions,
};
use tessera_testkit::contract;

#[tokio::test(flavor = "multi_thread")]
async fn users() {
    contract::users(MemoryUsers::default()).await;
    // The contract expects the roles a migrated database holds.
    let directory = MemoryUsers::default();
    directory.set_catalogue(tessera_testkit::migrated_catalogue());
    contract::directory(directory).await;
    contract::account_deletion(MemoryUsers::default()).await;
    contract::contact_change(MemoryUsers::default()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions() {
    let users = MemoryUsers::default();
    let owner = users
        .create(contract::new_user("owner", "o@b.com", None), None, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    contract::sessions(MemorySessions::default(), owner.id).await;
    contract::sessions(
        RecentSessions::new(MemorySessions::default(), BUDGET),
        owner.id,
    )
    .await;
    contract::sessions(
        RecentSessions::new(MemorySessions::default(), OFF),
        owner.id,
    )
    .await;
}

const BUDGET: CacheBudget = CacheBudget {
    max_bytes: 1 << 20,
    time_to_live: Duration::from_secs(60),
};
const OFF: CacheBudget = CacheBudget {
    max_bytes: 0,
    time_to_live: Duration::from_secs(60),
};

fn rotation(id: tessera_domain::model::SessionId, from: u32, fingerprint: &str) -> SessionRotation {
    SessionRotation {
        id,
        from_generation: from,
        new_fingerprint: TokenFingerprint(fingerprint.into()),
        at: chrono::Utc::now(),
    }
}

/// `get_recent` answers from the copy, which another instance's writes (made
/// here on the shared store underneath) leave behind; the compare-and-swap
/// then fails and drops the copy, and the next read is the store's.
#[tokio::test]
async fn recent_sessions_are_confirmed_by_the_rotation() {
    let shared = MemorySessions::default();
    let here = RecentSessions::new(shared.clone(), BUDGET);
    let session = contract::new_session(UserId(1));
    here.create(&session).await.unwrap();
    assert_eq!(
        here.get_recent(session.id)
            .await
            .unwrap()
            .unwrap()
            .generation,
        0
    );

    // This instance's rotation updates its copy.
    assert!(here.rotate(&rotation(session.id, 0, "fp1")).await.unwrap());
    let copy = here.get_recent(session.id).await.unwrap().unwrap();
    assert_eq!(
        (copy.generation, copy.refresh_fingerprint.0.as_str()),
        (1, "fp1")
    );

    // Another instance rotates: the copy is behind, and the rotation from it fails.
    assert!(
        shared
            .rotate(&rotation(session.id, 1, "fp2"))
            .await
            .unwrap()
    );
    assert_eq!(
        here.get_recent(session.id)
            .await
            .unwrap()
            .unwrap()
            .generation,
        1
    );
    assert!(
        !here
            .rotate(&rotation(session.id, 1, "fp-stale"))
            .await
            .unwrap()
    );
    let now = here.get_recent(session.id).await.unwrap().unwrap();
    assert_eq!(
        (now.generation, now.refresh_fingerprint.0.as_str()),
        (2, "fp2")
    );

    // Another instance revokes: the copy still says live, the rotation fails.
    assert!(shared.revoke(session.id, chrono::Utc::now()).await.unwrap());
    assert!(
        here.get_recent(session.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(!here.rotate(&rotation(session.id, 2, "fp3")).await.unwrap());
    assert!(
        here.get_recent(session.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    // `get` is always the store's.
    assert!(
        here.get(session.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );

    // Without a budget, `get_recent` is the store's answer.
    let plain = RecentSessions::new(shared.clone(), OFF);
    let other = contract::new_session(UserId(1));
    plain.create(&other).await.unwrap();
    plain.get_recent(other.id).await.unwrap();
    assert!(shared.rotate(&rotation(other.id, 0, "fp1")).await.unwrap());
    assert_eq!(
        plain
            .get_recent(other.id)
            .await
            .unwrap()
            .unwrap()
            .generation,
        1
    );
}

/// This instance's own revocations drop its copies at once.
#[tokio::test]
async fn own_revocations_drop_the_copies() {
    let here = RecentSessions::new(MemorySessions::default(), BUDGET);
    let (one, two) = (
        contract::new_session(UserId(1)),
        contract::new_session(UserId(1)),
    );
    for s in [&one, &two] {
        here.create(s).await.unwrap();
        here.get_recent(s.id).await.unwrap();
    }
    here.revoke(one.id, chrono::Utc::now()).await.unwrap();
    assert!(
        here.get_recent(one.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    here.revoke_all_for_user(UserId(1), None, chrono::Utc::now())
        .await
        .unwrap();
    assert!(
        here.get_recent(two.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
}

#[tokio::test]
async fn denylists() {
    contract::denylist(MemoryDenylist::default()).await;
    contract::denylist(MirroredDenylist::new(MemoryDenylist::default())).await;
}

#[tokio::test]
async fn user_cache() {
    contract::user_cache(MemoryUserCache::new(Duration::from_secs(60))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn codes() {
    contract::codes(MemoryCodes::default()).await;
}

#[tokio::test]
async fn rate_limiter() {
    contract::rate_limiter(MemoryRateLimiter::default()).await;
}

#[tokio::test]
async fn outbox_and_mail_with_changes() {
    contract::outbox(MemoryOutbox::default()).await;
    contract::audit(tessera_memory::MemoryAudit::default()).await;
    let users = MemoryUsers::default();
    let outbox = users.outbox().clone();
    contract::mail_with_changes(users, outbox).await;
}

#[tokio::test]
async fn webhooks() {
    let users = MemoryUsers::default();
    let store = users.webhooks().clone();
    contract::webhooks(users, store).await;
}

#[tokio::test]
async fn identities() {
    contract::identities(
        tessera_memory::MemoryIdentities::default(),
        UserId(1),
        UserId(2),
    )
    .await;
}

#[tokio::test]
async fn clients() {
    contract::clients(tessera_memory::MemoryClients::default(), UserId(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn factors() {
    contract::factors(
        tessera_memory::MemoryFactors::default(),
        UserId(1),
        UserId(2),
    )
    .await;
    contract::passkeys(
        tessera_memory::MemoryFactors::default(),
        UserId(1),
        UserId(2),
    )
    .await;
}
