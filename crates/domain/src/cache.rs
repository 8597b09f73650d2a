//! Cache-aside over any user repository.

use chrono::{DateTime, Utc};

use crate::error::{CreateUserError, StoreError};
use crate::model::{ContactChange, RoleCatalogue};
use crate::model::{NewUser, PasswordHash, PendingEvent, User, UserId, UserPage, UserQuery};
use crate::ports::{OutgoingMail, UserCache, UserDirectory, UserRepository};
use crate::values::Login;
use crate::values::RoleName;

/// A [`UserRepository`] that answers `find_by_id` from a [`UserCache`] when it
/// can, fills the cache on a miss, and empties it on every change.
///
/// Writes go to the repository first and then invalidate; a cache that cannot
/// be invalidated fails the write's caller (the change itself is durable and
/// safe to retry), so a stale copy never outlives a password change for longer
/// than the cache's own lifetime.
#[derive(Debug, Clone)]
pub struct CachedUsers<R, C> {
    repo: R,
    cache: C,
}

impl<R: UserRepository, C: UserCache> CachedUsers<R, C> {
    /// Puts `cache` in front of `repo`.
    #[must_use]
    pub fn new(repo: R, cache: C) -> Self {
        Self { repo, cache }
    }

    /// The repository behind the cache.
    pub fn repository(&self) -> &R {
        &self.repo
    }

    /// The cache.
    pub fn cache(&self) -> &C {
        &self.cache
    }
}

impl<R: UserRepository, C: UserCache> UserRepository for CachedUsers<R, C> {
    async fn create(
        &self,
        user: NewUser,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<User, CreateUserError> {
        self.repo.create(user, mail, events).await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        if let Some(user) = self.cache.get(id).await? {
            return Ok(Some(user));
        }
        let user = self.repo.find_by_id(id).await?;
        if let Some(u) = &user {
            self.cache.put(u).await?;
        }
        Ok(user)
    }

    async fn mark_email_verified(
        &self,
        id: UserId,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let changed = self.repo.mark_email_verified(id, at, events).await?;
        self.cache.invalidate(id).await?;
        Ok(changed)
    }

    async fn clear_phone(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.repo.clear_phone(id, at).await?;
        self.cache.invalidate(id).await
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
        let changed = self
            .repo
            .change_contact(id, change, expected, at, mail, events)
            .await?;
        self.cache.invalidate(id).await?;
        Ok(changed)
    }

    async fn find_by_login(&self, login: &Login) -> Result<Option<User>, StoreError> {
        // Logins always read the repository: credentials are checked against
        // the durable hash, never a cached one.
        self.repo.find_by_login(login).await
    }

    async fn update_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<(), StoreError> {
        self.repo
            .update_password(id, hash, at, mail, events)
            .await?;
        self.cache.invalidate(id).await
    }
}

impl<R: UserRepository + UserDirectory, C: UserCache> UserDirectory for CachedUsers<R, C> {
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
        let changed = self.repo.set_active(id, active, at, events).await?;
        self.cache.invalidate(id).await?;
        Ok(changed)
    }

    async fn grant_role(
        &self,
        id: UserId,
        role: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let changed = self.repo.grant_role(id, role, at, events).await?;
        self.cache.invalidate(id).await?;
        Ok(changed)
    }

    async fn revoke_role(
        &self,
        id: UserId,
        role: &RoleName,
        fallback: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let changed = self
            .repo
            .revoke_role(id, role, fallback, at, events)
            .await?;
        self.cache.invalidate(id).await?;
        Ok(changed)
    }

    async fn catalogue(&self) -> Result<RoleCatalogue, StoreError> {
        self.repo.catalogue().await
    }

    async fn delete(&self, id: UserId, events: &[PendingEvent]) -> Result<bool, StoreError> {
        let existed = self.repo.delete(id, events).await?;
        self.cache.invalidate(id).await?;
        Ok(existed)
    }

    async fn delete_unverified(
        &self,
        id: UserId,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let deleted = self.repo.delete_unverified(id, events).await?;
        self.cache.invalidate(id).await?;
        Ok(deleted)
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
        let deleted = self.repo.delete_if_due(id, now, events).await?;
        self.cache.invalidate(id).await?;
        Ok(deleted)
    }

    async fn unverified_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UserId>, StoreError> {
        self.repo.unverified_before(cutoff, limit).await
    }
}
