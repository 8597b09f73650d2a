//! The in-memory adapters pass every port's contract.

use std::time::Duration;

use tessera_domain::ports::UserRepository as _;
use tessera_memory::{
    MemoryCodes, MemoryDenylist, MemoryOutbox, MemoryRateLimiter, MemorySessions, MemoryUserCache,
    MemoryUsers, MirroredDenylist,
};
use tessera_testkit::contract;

#[tokio::test(flavor = "multi_thread")]
async fn users() {
    contract::users(MemoryUsers::default()).await;
    // The contract expects the roles a migrated database holds.
    let directory = MemoryUsers::default();
    directory.set_catalogue(tessera_testkit::migrated_catalogue());
    contract::directory(directory).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions() {
    let users = MemoryUsers::default();
    let owner = users
        .create(contract::new_user("owner", "o@b.com", None), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    contract::sessions(MemorySessions::default(), owner.id).await;
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
    let users = MemoryUsers::default();
    let outbox = users.outbox().clone();
    contract::mail_with_changes(users, outbox).await;
}
