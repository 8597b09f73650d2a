//! In-process caches kept coherent with a shared store by its change feed
//! (issue 15): users with their roles, and denylist answers.
//!
//! Three rules make a cached answer safe to give:
//!
//! 1. **Fresh or bypassed.** A [`Coherence`] knows when the feed last proved
//!    the caches current ([`Coherence::synced`]: the start of the last
//!    successful [`ChangeFeed`](tessera_domain::ports::ChangeFeed) read, whose
//!    changes were applied). When that is older than the configured bound
//!    ([`Coherence::max_lag`]), every read goes to the store and nothing is
//!    filled: a dropped feed can never make an instance accept a revoked
//!    token or a disabled user, it only makes it slower.
//! 2. **No stale fills.** A miss reads the store and fills the cache only when
//!    no change for that cache was applied while the read was in flight
//!    (checked before and after the insert, so a change applied at any
//!    moment of the fill wins).
//! 3. **Own writes at once.** A write through the cache drops the cached copy
//!    as soon as the store answers (even with an error: the write may have
//!    committed), so the writing instance reads its own writes.
//!
//! Both caches are `moka` sync caches bounded by an estimate of their bytes
//! (entries are counted by their weight, which includes a fixed per-entry
//! overhead, so the byte bound also bounds the number of entries) with a
//! time-to-live as a last resort.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use moka::sync::Cache;
use tessera_domain::error::{CreateUserError, StoreError};
use tessera_domain::model::ContactChange;
use tessera_domain::model::{
    Change, NewUser, PasswordHash, PendingEvent, RevocationKey, RoleCatalogue, User, UserId,
    UserPage, UserQuery,
};
use tessera_domain::ports::{OutgoingMail, TokenDenylist, UserDirectory, UserRepository};
use tessera_domain::values::{Login, RoleName};

/// Bytes a cache entry costs beside its own data (moka's node, the hash
/// table slot, the `Arc`): an estimate used by the weighers.
const ENTRY_OVERHEAD_BYTES: usize = 160;

/// Something that holds copies and drops them when told what changed.
trait Invalidate: Send + Sync {
    fn apply(&self, change: &Change);
    fn flush(&self);
}

/// The freshness of the caches in front of one shared store: when its change
/// feed last proved them current, and which caches to tell about changes.
/// Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Coherence {
    state: Arc<CoherenceState>,
}

struct CoherenceState {
    base: Instant,
    /// Nanoseconds after `base` of the last proof, plus one (0 = never).
    synced: AtomicU64,
    max_lag: Duration,
    caches: RwLock<Vec<Arc<dyn Invalidate>>>,
}

impl std::fmt::Debug for Coherence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coherence")
            .field("max_lag", &self.state.max_lag)
            .field("fresh", &self.is_fresh())
            .finish_non_exhaustive()
    }
}

impl Coherence {
    /// Caches that may answer while the feed proved them current no more
    /// than `max_lag` ago (the server's `CACHE_MAX_LAG_MS`). They start
    /// unproven: nothing is answered from memory before the first
    /// successful read of the feed.
    #[must_use]
    pub fn new(max_lag: Duration) -> Self {
        Self {
            state: Arc::new(CoherenceState {
                base: Instant::now(),
                synced: AtomicU64::new(0),
                max_lag,
                caches: RwLock::new(Vec::new()),
            }),
        }
    }

    /// The bound on how old the last proof may be for the caches to answer.
    #[must_use]
    pub fn max_lag(&self) -> Duration {
        self.state.max_lag
    }

    /// Records a proof: a feed read that began at `began` succeeded and its
    /// changes were applied ([`Self::apply`]) — so every change committed
    /// before `began` is reflected. Proofs never move backwards.
    pub fn synced(&self, began: Instant) {
        let nanos = began.saturating_duration_since(self.state.base).as_nanos();
        let stamp = u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1;
        self.state.synced.fetch_max(stamp, Ordering::AcqRel);
    }

    /// True while the last proof is at most [`Self::max_lag`] old.
    #[must_use]
    pub fn is_fresh(&self) -> bool {
        let stamp = self.state.synced.load(Ordering::Acquire);
        if stamp == 0 {
            return false;
        }
        let proved = self.state.base + Duration::from_nanos(stamp - 1);
        Instant::now().saturating_duration_since(proved) <= self.state.max_lag
    }

    /// How long ago the last proof began; `None` before the first.
    #[must_use]
    pub fn lag(&self) -> Option<Duration> {
        let stamp = self.state.synced.load(Ordering::Acquire);
        (stamp != 0).then(|| {
            Instant::now()
                .saturating_duration_since(self.state.base + Duration::from_nanos(stamp - 1))
        })
    }

    /// Tells every cache what changed.
    pub fn apply(&self, changes: &[Change]) {
        let caches = self.caches();
        for change in changes {
            for cache in &caches {
                cache.apply(change);
            }
        }
    }

    /// Empties every cache (after the feed failed: what it missed is unknown).
    pub fn flush(&self) {
        for cache in self.caches() {
            cache.flush();
        }
    }

    fn caches(&self) -> Vec<Arc<dyn Invalidate>> {
        self.state
            .caches
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    fn register(&self, cache: Arc<dyn Invalidate>) {
        if let Ok(mut caches) = self.state.caches.write() {
            caches.push(cache);
        }
    }
}

/// How big a cache may grow and how long an entry may live at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheBudget {
    /// The most bytes the entries may take (estimated: data plus a fixed
    /// per-entry overhead); 0 turns the cache off.
    pub max_bytes: u64,
    /// The longest an entry lives, whatever the feed says (a last resort).
    pub time_to_live: Duration,
}

/// A moka cache with a change counter: a fill is kept only when no change
/// was applied to the cache while its read was in flight.
struct Guarded<K, V> {
    entries: Cache<K, V>,
    /// Incremented before every change is applied.
    changes: AtomicU64,
    enabled: bool,
}

impl<K, V> Guarded<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + Clone + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(budget: CacheBudget, weigh: fn(&K, &V) -> usize) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(budget.max_bytes)
                .weigher(move |k, v| {
                    u32::try_from(weigh(k, v) + ENTRY_OVERHEAD_BYTES).unwrap_or(u32::MAX)
                })
                .time_to_live(budget.time_to_live)
                .build(),
            changes: AtomicU64::new(0),
            enabled: budget.max_bytes > 0,
        }
    }

    fn ticket(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Inserts unless a change was applied since `ticket`; re-checked after
    /// the insert, so a change applied during it removes what was inserted.
    fn fill(&self, ticket: u64, key: K, value: V) {
        if !self.enabled || self.ticket() != ticket {
            return;
        }
        self.entries.insert(key.clone(), value);
        if self.ticket() != ticket {
            self.entries.invalidate(&key);
        }
    }

    /// Drops `key`, counting a change first (so fills in flight are refused).
    fn drop_key(&self, key: &K) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate(key);
    }

    fn drop_all(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }
}

fn user_bytes(_: &UserId, user: &Arc<User>) -> usize {
    std::mem::size_of::<User>()
        + user.username.as_str().len()
        + user.email.as_str().len()
        + user.phone.as_ref().map_or(0, |p| p.as_str().len())
        + user.password_hash.as_str().len()
        + user.role.as_str().len()
        + user
            .roles
            .iter()
            .map(|r| std::mem::size_of::<RoleName>() + r.as_str().len())
            .sum::<usize>()
}

struct UserEntries(Guarded<UserId, Arc<User>>);

impl Invalidate for UserEntries {
    fn apply(&self, change: &Change) {
        match change {
            Change::User(id) => self.0.drop_key(id),
            Change::Everything => self.0.drop_all(),
            Change::Denied(_) => {}
        }
    }

    fn flush(&self) {
        self.0.drop_all();
    }
}

/// A user repository whose `find_by_id` (every authenticated request) is
/// answered from memory while its [`Coherence`] is fresh. Logins
/// (`find_by_login`) always read the store: credentials are checked against
/// the durable hash. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct CoherentUsers<R> {
    repo: R,
    coherence: Coherence,
    cache: Arc<UserEntries>,
}

impl<R> std::fmt::Debug for CoherentUsers<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoherentUsers")
            .field("entries", &self.cache.0.entries.entry_count())
            .field("coherence", &self.coherence)
            .finish_non_exhaustive()
    }
}

impl<R: UserRepository> CoherentUsers<R> {
    /// Puts a cache of `budget` in front of `repo`, kept current by
    /// `coherence` (which the feed of `repo`'s store drives).
    #[must_use]
    pub fn new(repo: R, coherence: Coherence, budget: CacheBudget) -> Self {
        let cache = Arc::new(UserEntries(Guarded::new(budget, user_bytes)));
        coherence.register(Arc::clone(&cache) as Arc<dyn Invalidate>);
        Self {
            repo,
            coherence,
            cache,
        }
    }

    /// The repository behind the cache.
    pub fn repository(&self) -> &R {
        &self.repo
    }

    /// Users held now (moka counts lazily: pending inserts may be missing).
    #[must_use]
    pub fn entry_count(&self) -> u64 {
        self.cache.0.entries.run_pending_tasks();
        self.cache.0.entries.entry_count()
    }

    fn written(&self, id: UserId) {
        self.cache.0.drop_key(&id);
    }
}

impl<R: UserRepository> UserRepository for CoherentUsers<R> {
    async fn create(
        &self,
        user: NewUser,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<User, CreateUserError> {
        // Only found users are cached, so a new one needs no invalidation.
        self.repo.create(user, mail, events).await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let fresh = self.coherence.is_fresh();
        if fresh && let Some(user) = self.cache.0.entries.get(&id) {
            return Ok(Some(User::clone(&user)));
        }
        let ticket = self.cache.0.ticket();
        let user = self.repo.find_by_id(id).await?;
        if fresh && let Some(u) = &user {
            self.cache.0.fill(ticket, id, Arc::new(u.clone()));
        }
        Ok(user)
    }

    /// Always read from the store (a login checks the durable hash); the
    /// copy read replaces the cached one, so the checks a login makes after
    /// hashing (`find_by_id`: is the account unchanged?) compare like with like.
    async fn find_by_login(&self, login: &Login) -> Result<Option<User>, StoreError> {
        let fresh = self.coherence.is_fresh();
        let ticket = self.cache.0.ticket();
        let user = self.repo.find_by_login(login).await?;
        if fresh && let Some(u) = &user {
            self.cache.0.fill(ticket, u.id, Arc::new(u.clone()));
        }
        Ok(user)
    }

    async fn update_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<(), StoreError> {
        let done = self.repo.update_password(id, hash, at, mail, events).await;
        self.written(id);
        done
    }

    async fn clear_phone(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let done = self.repo.clear_phone(id, at).await;
        self.written(id);
        done
    }

    async fn change_contact(
        &self,
        id: UserId,
        change: &ContactChange,
        expected: Option<&ContactChange>,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<bool, CreateUserError> {
        let done = self
            .repo
            .change_contact(id, change, expected, at, mail, events)
            .await;
        self.written(id);
        done
    }

    async fn mark_email_verified(
        &self,
        id: UserId,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let done = self.repo.mark_email_verified(id, at, events).await;
        self.written(id);
        done
    }
}

impl<R: UserRepository + UserDirectory> UserDirectory for CoherentUsers<R> {
    async fn list(&self, query: &UserQuery) -> Result<UserPage, StoreError> {
        self.repo.list(query).await
    }

    async fn set_active(
        &self,
        id: UserId,
        active: bool,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let done = self.repo.set_active(id, active, at, events).await;
        self.written(id);
        done
    }

    async fn grant_role(
        &self,
        id: UserId,
        role: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let done = self.repo.grant_role(id, role, at, events).await;
        self.written(id);
        done
    }

    async fn revoke_role(
        &self,
        id: UserId,
        role: &RoleName,
        fallback: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let done = self.repo.revoke_role(id, role, fallback, at, events).await;
        self.written(id);
        done
    }

    async fn catalogue(&self) -> Result<RoleCatalogue, StoreError> {
        self.repo.catalogue().await
    }

    async fn delete(&self, id: UserId, events: &[PendingEvent]) -> Result<bool, StoreError> {
        let done = self.repo.delete(id, events).await;
        self.written(id);
        done
    }

    async fn delete_unverified(
        &self,
        id: UserId,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let done = self.repo.delete_unverified(id, events).await;
        self.written(id);
        done
    }

    async fn schedule_deletion(
        &self,
        id: UserId,
        requested_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.repo.schedule_deletion(id, requested_at, due_at).await
    }

    async fn cancel_deletion(&self, id: UserId) -> Result<bool, StoreError> {
        self.repo.cancel_deletion(id).await
    }

    async fn deletion_due_at(&self, id: UserId) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.repo.deletion_due_at(id).await
    }

    async fn deletions_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UserId>, StoreError> {
        self.repo.deletions_due(now, limit).await
    }

    async fn delete_if_due(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let done = self.repo.delete_if_due(id, now, events).await;
        self.written(id);
        done
    }

    async fn unverified_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UserId>, StoreError> {
        self.repo.unverified_before(cutoff, limit).await
    }
}

/// A cached denylist answer for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Not denied when the store was read (entries expire with the cache's
    /// time-to-live, and a [`Change::Denied`] drops them at once).
    Allowed,
    /// Denied; kept until the store's own expiry of the entry.
    DeniedUntil(DateTime<Utc>),
}

struct DenylistEntries(Guarded<RevocationKey, Verdict>);

impl Invalidate for DenylistEntries {
    fn apply(&self, change: &Change) {
        match change {
            Change::Denied(key) => self.0.drop_key(key),
            Change::Everything => self.0.drop_all(),
            Change::User(_) => {}
        }
    }

    fn flush(&self) {
        self.0.drop_all();
    }
}

/// A denylist whose checks are answered from memory, key by key, while its
/// [`Coherence`] is fresh; a key not cached is read from the store alone and
/// its answer kept. A denial through this cache is kept at once. Cheap to
/// clone; clones share the cache.
#[derive(Clone)]
pub struct CoherentDenylist<D> {
    store: D,
    coherence: Coherence,
    cache: Arc<DenylistEntries>,
}

impl<D> std::fmt::Debug for CoherentDenylist<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoherentDenylist")
            .field("entries", &self.cache.0.entries.entry_count())
            .field("coherence", &self.coherence)
            .finish_non_exhaustive()
    }
}

impl<D: TokenDenylist> CoherentDenylist<D> {
    /// Puts a cache of `budget` in front of `store`, kept current by
    /// `coherence` (which the feed of `store` drives).
    #[must_use]
    pub fn new(store: D, coherence: Coherence, budget: CacheBudget) -> Self {
        let cache = Arc::new(DenylistEntries(Guarded::new(budget, |_, _| {
            std::mem::size_of::<RevocationKey>() + std::mem::size_of::<Verdict>()
        })));
        coherence.register(Arc::clone(&cache) as Arc<dyn Invalidate>);
        Self {
            store,
            coherence,
            cache,
        }
    }

    /// The durable store.
    pub fn store(&self) -> &D {
        &self.store
    }
}

impl<D: TokenDenylist> TokenDenylist for CoherentDenylist<D> {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        let done = self.store.deny(key, until).await;
        self.cache.0.drop_key(&key);
        if done.is_ok() && self.coherence.is_fresh() {
            let ticket = self.cache.0.ticket();
            self.cache.0.fill(ticket, key, Verdict::DeniedUntil(until));
        }
        done
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if !self.coherence.is_fresh() {
            return self.store.any_denied(keys, now).await;
        }
        let mut unknown = Vec::new();
        for key in keys {
            match self.cache.0.entries.get(key) {
                Some(Verdict::DeniedUntil(until)) if now < until => return Ok(true),
                Some(Verdict::Allowed | Verdict::DeniedUntil(_)) => {}
                None => unknown.push(*key),
            }
        }
        match unknown.as_slice() {
            [] => Ok(false),
            [key] => {
                let ticket = self.cache.0.ticket();
                let denied = self.store.any_denied(unknown.as_slice(), now).await?;
                // A denial read from the store is kept until the cache's
                // time-to-live (its own expiry is not read): replaying a
                // revoked token costs no store read.
                let verdict = if denied {
                    Verdict::DeniedUntil(DateTime::<Utc>::MAX_UTC)
                } else {
                    Verdict::Allowed
                };
                self.cache.0.fill(ticket, *key, verdict);
                Ok(denied)
            }
            // Several unknown keys: one read for all of them; a "no" is
            // known for each of them, a "yes" for none in particular.
            _ => {
                let ticket = self.cache.0.ticket();
                let denied = self.store.any_denied(&unknown, now).await?;
                if !denied {
                    for key in unknown {
                        self.cache.0.fill(ticket, key, Verdict::Allowed);
                    }
                }
                Ok(denied)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use chrono::{DateTime, Utc};
    use tessera_domain::error::{CreateUserError, StoreError};
    use tessera_domain::model::ContactChange;
    use tessera_domain::model::{
        Change, NewUser, PasswordHash, PendingEvent, RevocationKey, SessionId, User, UserId,
    };
    use tessera_domain::ports::{OutgoingMail, TokenDenylist, UserDirectory, UserRepository};
    use tessera_domain::values::{Email, Login, RoleName, Username, UsernamePolicy};
    use tokio::sync::Notify;

    use super::{CacheBudget, Coherence, CoherentDenylist, CoherentUsers};
    use crate::{MemoryDenylist, MemoryUsers};

    const BUDGET: CacheBudget = CacheBudget {
        max_bytes: 1 << 20,
        time_to_live: Duration::from_secs(60),
    };

    fn new_user(name: &str) -> NewUser {
        NewUser {
            public_id: uuid::Uuid::new_v4(),
            username: Username::parse(name, &UsernamePolicy::EXISTING).unwrap(),
            email: Email::parse(&format!("{name}@example.com")).unwrap(),
            phone: None,
            password_hash: PasswordHash::new("$argon2id$old"),
            role: RoleName::parse("user").unwrap(),
            email_verified: false,
            created_at: Utc::now(),
        }
    }

    /// A coherence proved just now (a feed read that began now).
    fn proved(max_lag: Duration) -> Coherence {
        let c = Coherence::new(max_lag);
        c.synced(Instant::now());
        c
    }

    async fn active(users: &impl UserRepository, id: UserId) -> bool {
        users.find_by_id(id).await.unwrap().unwrap().is_active
    }

    #[tokio::test]
    async fn fresh_caches_answer_until_the_feed_reports_the_change() {
        let store = MemoryUsers::default();
        let coherence = proved(Duration::from_secs(60));
        let users = CoherentUsers::new(store.clone(), coherence.clone(), BUDGET);
        let u = store.create(new_user("ann"), None, &[]).await.unwrap();
        assert!(active(&users, u.id).await);
        // Another instance disables her: this one still has its copy...
        store
            .set_active(u.id, false, Utc::now(), &[])
            .await
            .unwrap();
        assert!(active(&users, u.id).await, "served from the cache");
        // ...until the feed says so.
        coherence.apply(&[Change::User(UserId(u.id.0 + 1))]);
        assert!(
            active(&users, u.id).await,
            "another user's change drops nothing"
        );
        coherence.apply(&[Change::User(u.id)]);
        assert!(!active(&users, u.id).await);
        store.set_active(u.id, true, Utc::now(), &[]).await.unwrap();
        coherence.apply(&[Change::Everything]);
        assert!(active(&users, u.id).await);
    }

    #[tokio::test]
    async fn a_login_read_replaces_the_cached_copy() {
        let store = MemoryUsers::default();
        let users = CoherentUsers::new(store.clone(), proved(Duration::from_secs(60)), BUDGET);
        let u = store.create(new_user("fay"), None, &[]).await.unwrap();
        assert!(active(&users, u.id).await);
        store
            .set_active(u.id, false, Utc::now(), &[])
            .await
            .unwrap();
        assert!(
            active(&users, u.id).await,
            "the copy, before the feed tells"
        );
        let login = Login::parse("fay", tessera_domain::values::PhoneRegion::default()).unwrap();
        assert!(
            !users
                .find_by_login(&login)
                .await
                .unwrap()
                .unwrap()
                .is_active
        );
        assert!(
            !active(&users, u.id).await,
            "a login's read is the copy now"
        );
    }

    #[tokio::test]
    async fn unproven_or_stale_caches_are_bypassed() {
        let store = MemoryUsers::default();
        let coherence = Coherence::new(Duration::from_millis(50));
        let users = CoherentUsers::new(store.clone(), coherence.clone(), BUDGET);
        let u = store.create(new_user("bob"), None, &[]).await.unwrap();
        assert!(!coherence.is_fresh(), "unproven at start");
        assert!(active(&users, u.id).await);
        store
            .set_active(u.id, false, Utc::now(), &[])
            .await
            .unwrap();
        assert!(
            !active(&users, u.id).await,
            "nothing was filled while unproven"
        );

        coherence.synced(Instant::now());
        assert!(!active(&users, u.id).await);
        assert_eq!(users.entry_count(), 1);
        store.set_active(u.id, true, Utc::now(), &[]).await.unwrap();
        // The feed stops answering: once the proof is older than the bound,
        // the store is read again, without any message about the change.
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(!coherence.is_fresh());
        assert!(
            active(&users, u.id).await,
            "a lost feed never serves a stale copy"
        );
        // An older proof does not move the clock back.
        coherence.synced(Instant::now() - Duration::from_secs(5));
        assert!(!coherence.is_fresh());
    }

    #[tokio::test]
    async fn own_writes_are_read_at_once() {
        let store = MemoryUsers::default();
        let users = CoherentUsers::new(store.clone(), proved(Duration::from_secs(60)), BUDGET);
        let u = users.create(new_user("cid"), None, &[]).await.unwrap();
        let admin = RoleName::parse("admin").unwrap();
        assert!(active(&users, u.id).await);
        users
            .set_active(u.id, false, Utc::now(), &[])
            .await
            .unwrap();
        assert!(!active(&users, u.id).await);
        users
            .grant_role(u.id, &admin, Utc::now(), &[])
            .await
            .unwrap();
        let read = users.find_by_id(u.id).await.unwrap().unwrap();
        assert!(read.has_role("admin"), "{:?}", read.roles);
        users
            .update_password(
                u.id,
                &PasswordHash::new("$argon2id$new"),
                Utc::now(),
                None,
                &[],
            )
            .await
            .unwrap();
        let read = users.find_by_id(u.id).await.unwrap().unwrap();
        assert_eq!(read.password_hash.as_str(), "$argon2id$new");
        users.delete(u.id, &[]).await.unwrap();
        assert!(users.find_by_id(u.id).await.unwrap().is_none());
    }

    /// A repository whose `find_by_id` waits for a signal after reading, so a
    /// change can be applied while the read is in flight.
    #[derive(Clone)]
    struct SlowReads {
        inner: MemoryUsers,
        read: Arc<Notify>,
        release: Arc<Notify>,
    }

    impl UserRepository for SlowReads {
        async fn create(
            &self,
            user: NewUser,
            mail: Option<&OutgoingMail>,
            events: &[PendingEvent],
        ) -> Result<User, CreateUserError> {
            self.inner.create(user, mail, events).await
        }
        async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
            let user = self.inner.find_by_id(id).await;
            self.read.notify_one();
            self.release.notified().await;
            user
        }
        async fn find_by_login(&self, login: &Login) -> Result<Option<User>, StoreError> {
            self.inner.find_by_login(login).await
        }
        async fn update_password(
            &self,
            id: UserId,
            hash: &PasswordHash,
            at: DateTime<Utc>,
            mail: Option<&OutgoingMail>,
            events: &[PendingEvent],
        ) -> Result<(), StoreError> {
            self.inner.update_password(id, hash, at, mail, events).await
        }
        async fn clear_phone(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
            self.inner.clear_phone(id, at).await
        }
        async fn change_contact(
            &self,
            id: UserId,
            change: &ContactChange,
            expected: Option<&ContactChange>,
            at: DateTime<Utc>,
            mail: Option<&OutgoingMail>,
            events: &[PendingEvent],
        ) -> Result<bool, CreateUserError> {
            self.inner
                .change_contact(id, change, expected, at, mail, events)
                .await
        }
        async fn mark_email_verified(
            &self,
            id: UserId,
            at: DateTime<Utc>,
            events: &[PendingEvent],
        ) -> Result<bool, StoreError> {
            self.inner.mark_email_verified(id, at, events).await
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_change_applied_during_a_read_keeps_its_result_out() {
        let store = MemoryUsers::default();
        let slow = SlowReads {
            inner: store.clone(),
            read: Arc::new(Notify::new()),
            release: Arc::new(Notify::new()),
        };
        let coherence = proved(Duration::from_secs(60));
        let users = CoherentUsers::new(slow.clone(), coherence.clone(), BUDGET);
        let u = store.create(new_user("dee"), None, &[]).await.unwrap();

        let reader = {
            let users = users.clone();
            tokio::spawn(async move { users.find_by_id(u.id).await })
        };
        slow.read.notified().await; // the old copy is read, not yet filled
        store
            .set_active(u.id, false, Utc::now(), &[])
            .await
            .unwrap();
        coherence.apply(&[Change::User(u.id)]);
        slow.release.notify_one();
        assert!(
            reader.await.unwrap().unwrap().unwrap().is_active,
            "the read itself is what it read"
        );
        assert_eq!(users.entry_count(), 0, "but it was not kept");

        let next = {
            let users = users.clone();
            tokio::spawn(async move { users.find_by_id(u.id).await })
        };
        slow.read.notified().await;
        slow.release.notify_one();
        assert!(!next.await.unwrap().unwrap().unwrap().is_active);
        assert_eq!(
            users.entry_count(),
            1,
            "a read with no change in flight is kept"
        );
    }

    #[tokio::test]
    async fn a_zero_budget_caches_nothing() {
        let store = MemoryUsers::default();
        let users = CoherentUsers::new(
            store.clone(),
            proved(Duration::from_secs(60)),
            CacheBudget {
                max_bytes: 0,
                ..BUDGET
            },
        );
        let u = store.create(new_user("eve"), None, &[]).await.unwrap();
        assert!(active(&users, u.id).await);
        store
            .set_active(u.id, false, Utc::now(), &[])
            .await
            .unwrap();
        assert!(!active(&users, u.id).await);
    }

    #[tokio::test]
    async fn the_byte_budget_bounds_the_entries() {
        let store = MemoryUsers::default();
        let users = CoherentUsers::new(
            store.clone(),
            proved(Duration::from_secs(60)),
            CacheBudget {
                max_bytes: 16 * 1024,
                ..BUDGET
            },
        );
        for n in 0..500 {
            let u = store
                .create(new_user(&format!("user{n}")), None, &[])
                .await
                .unwrap();
            users.find_by_id(u.id).await.unwrap();
        }
        let held = users.entry_count();
        assert!(
            held > 0 && held < 60,
            "16 KiB holds a few dozen users, not {held}"
        );
    }

    #[tokio::test]
    async fn denylist_answers_are_cached_key_by_key() {
        let store = MemoryDenylist::default();
        let coherence = proved(Duration::from_secs(60));
        let denylist = CoherentDenylist::new(store.clone(), coherence.clone(), BUDGET);
        let now = Utc::now();
        let session = RevocationKey::Session(SessionId(uuid::Uuid::new_v4()));
        let token = RevocationKey::Token(uuid::Uuid::new_v4());
        assert!(!denylist.any_denied(&[session, token], now).await.unwrap());
        // Another instance denies the session: still allowed here...
        store
            .deny(session, now + chrono::Duration::hours(1))
            .await
            .unwrap();
        assert!(!denylist.any_denied(&[session, token], now).await.unwrap());
        // ...until the feed reports it.
        coherence.apply(&[Change::Denied(token)]);
        assert!(!denylist.any_denied(&[session], now).await.unwrap());
        coherence.apply(&[Change::Denied(session)]);
        assert!(denylist.any_denied(&[session, token], now).await.unwrap());

        // An own denial is answered at once, and until its end.
        let other = RevocationKey::Token(uuid::Uuid::new_v4());
        assert!(!denylist.any_denied(&[other], now).await.unwrap());
        denylist
            .deny(other, now + chrono::Duration::minutes(5))
            .await
            .unwrap();
        assert!(denylist.any_denied(&[other], now).await.unwrap());
        assert!(
            !denylist
                .any_denied(&[other], now + chrono::Duration::minutes(6))
                .await
                .unwrap()
        );

        // Stale: read from the store whatever the cache holds.
        let stale = Coherence::new(Duration::from_secs(60));
        let bypassed = CoherentDenylist::new(store.clone(), stale, BUDGET);
        let fresh_key = RevocationKey::Token(uuid::Uuid::new_v4());
        assert!(!bypassed.any_denied(&[fresh_key], now).await.unwrap());
        store
            .deny(fresh_key, now + chrono::Duration::hours(1))
            .await
            .unwrap();
        assert!(bypassed.any_denied(&[fresh_key], now).await.unwrap());
    }
}
