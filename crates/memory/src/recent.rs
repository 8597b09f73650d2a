//! Recent copies of sessions, for the refresh's first read (issue 15).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use moka::sync::Cache;
use tessera_domain::error::StoreError;
use tessera_domain::model::{Session, SessionId, SessionRotation, UserId};
use tessera_domain::ports::SessionStore;

use crate::coherence::CacheBudget;

/// A [`SessionStore`] that keeps a copy of the sessions it read or rotated,
/// for [`SessionStore::get_recent`]: a refresh then reads the session from
/// memory and only its compare-and-swap rotation goes to the store (one
/// store call instead of two; on SQLite, one blocking hop instead of two).
///
/// The copies need no change feed. Every other method reads and writes the
/// store; only `get_recent` answers from a copy, and its callers confirm with
/// [`SessionStore::rotate`], which fails on a session another instance has
/// rotated or revoked since, and then read the store ([`SessionStore::get`]).
/// This process's own rotations, touches and revocations update or drop its
/// copies. The copies are bounded by bytes (`budget`, estimated per entry)
/// and live at most `budget.time_to_live`.
#[derive(Clone)]
pub struct RecentSessions<S> {
    inner: S,
    copies: Option<Cache<SessionId, Arc<Session>>>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for RecentSessions<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentSessions")
            .field("inner", &self.inner)
            .field("copies", &self.copies.as_ref().map(Cache::entry_count))
            .finish()
    }
}

/// The bytes one kept session takes, estimated: the struct, its strings
/// (client address and user agent, fingerprint, methods) and the cache's own
/// bookkeeping.
fn weight(session: &Session) -> u32 {
    let strings = session.client.user_agent.as_deref().map_or(0, str::len)
        + session.client.ip.as_deref().map_or(0, str::len)
        + session.refresh_fingerprint.0.len()
        + session.authentication.methods.len() * 8;
    u32::try_from(std::mem::size_of::<Session>() + strings + 96).unwrap_or(u32::MAX)
}

impl<S> RecentSessions<S> {
    /// `inner` with copies of at most `budget.max_bytes` (0: no copies;
    /// `get_recent` then reads the store).
    #[must_use]
    pub fn new(inner: S, budget: CacheBudget) -> Self {
        let copies = (budget.max_bytes > 0 && !budget.time_to_live.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(budget.max_bytes)
                .weigher(|_: &SessionId, s: &Arc<Session>| weight(s))
                .time_to_live(budget.time_to_live)
                .build()
        });
        Self { inner, copies }
    }

    fn keep(&self, session: &Session) {
        if let Some(copies) = &self.copies {
            if session.revoked_at.is_some() {
                copies.invalidate(&session.id);
            } else {
                copies.insert(session.id, Arc::new(session.clone()));
            }
        }
    }

    fn drop_copy(&self, id: SessionId) {
        if let Some(copies) = &self.copies {
            copies.invalidate(&id);
        }
    }
}

impl<S: SessionStore> SessionStore for RecentSessions<S> {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        self.inner.create(session).await
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let found = self.inner.get(id).await?;
        match &found {
            Some(session) => self.keep(session),
            None => self.drop_copy(id),
        }
        Ok(found)
    }

    async fn get_recent(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        if let Some(copy) = self.copies.as_ref().and_then(|c| c.get(&id)) {
            return Ok(Some(Session::clone(&copy)));
        }
        self.get(id).await
    }

    async fn rotate(&self, rotation: &SessionRotation) -> Result<bool, StoreError> {
        // Dropped first: a rotation whose answer is lost (an error) leaves
        // no copy that could be older than the store.
        let before = self.copies.as_ref().and_then(|c| c.remove(&rotation.id));
        let rotated = self.inner.rotate(rotation).await?;
        if rotated && let Some(copy) = before {
            let mut session = Session::clone(&copy);
            if rotation.apply_to(&mut session) {
                self.keep(&session);
            }
        }
        Ok(rotated)
    }

    async fn list_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        self.inner.list_for_user(user, now).await
    }

    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.drop_copy(id);
        self.inner.touch(id, at).await
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.drop_copy(id);
        self.inner.revoke(id, at).await
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let revoked = self.inner.revoke_all_for_user(user, keep, at).await?;
        for id in &revoked {
            self.drop_copy(*id);
        }
        Ok(revoked)
    }
}
