//! Sessions and the access-token denylist.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::RevocationKey;
use crate::model::UserId;
use crate::model::{Session, SessionId, SessionRotation};

/// Where sessions (refresh-token families) live.
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn create(&self, session: &Session) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session with this id, revoked or not.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn get(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;

    /// The session as this process last saw it, which may be behind the
    /// store: another instance may have rotated, touched or revoked it since.
    /// Only for callers that confirm what they read with a compare-and-swap
    /// ([`Self::rotate`]) and go back to [`Self::get`] when it fails, as a
    /// refresh does. Adapters without a copy of their own answer [`Self::get`].
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn get_recent(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send {
        self.get(id)
    }

    /// Compare-and-swap rotation ([`SessionRotation`]): if the session is
    /// unrevoked and still at `from_generation`, makes the swap and returns
    /// true (what [`SessionRotation::apply_to`] does to a session in memory).
    /// Otherwise changes nothing and returns false. Exactly one of many
    /// concurrent callers with the same `from_generation` gets true.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn rotate(
        &self,
        rotation: &SessionRotation,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The live sessions of `user` at `now` (unrevoked, before their absolute
    /// end), oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn list_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;

    /// Sets `last_used_at` of an unrevoked session to `at` (a refresh that
    /// does not rotate). Missing or revoked sessions are left alone.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn touch(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks a session revoked (idempotent); true when this call revoked it
    /// (it existed and was not revoked yet), so that of many concurrent
    /// callers exactly one learns it did (one audit event per eviction).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn revoke(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes every unrevoked session of `user` except `keep`, and returns the
    /// ids it revoked (so their access tokens can be denied too). Idempotent.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<SessionId>, StoreError>> + Send;
}

/// Revoked access tokens and sessions, until their tokens would have expired anyway.
pub trait TokenDenylist: Send + Sync + 'static {
    /// Denies `key` until `until` (after which the entry may be forgotten). Idempotent.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn deny(
        &self,
        key: RevocationKey,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// True if any of `keys` is denied at `now`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; callers must then refuse the token
    /// (fail closed), never accept it.
    fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
