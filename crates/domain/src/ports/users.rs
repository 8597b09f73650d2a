//! Where users live: the repository the use cases write, the directory administrators read, and the cache in front of it.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::OutgoingMail;
use crate::error::{CreateUserError, StoreError};
use crate::model::{ContactChange, RoleCatalogue};
use crate::model::{NewUser, PasswordHash, PendingEvent, User, UserId, UserPage, UserQuery};
use crate::values::{Login, RoleName};

/// Where users live.
pub trait UserRepository: Send + Sync + 'static {
    /// Stores a new user and returns it with its id.
    ///
    /// # Errors
    /// [`CreateUserError::Duplicate`] when the username (ignoring ASCII case),
    /// email or phone is taken — decided by the store's own unique constraints,
    /// so that concurrent registrations cannot both win;
    /// [`CreateUserError::Store`] when the store fails. Nothing is stored on error.
    ///
    /// `mail`, when given, is queued in the outbox in the same transaction,
    /// and so are `events` (about the new account).
    fn create(
        &self,
        user: NewUser,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<User, CreateUserError>> + Send;

    /// The user with this id, if any.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn find_by_id(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// The user a login identifier names: usernames match without regard to
    /// ASCII case, emails and phones by their normalised form.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn find_by_login(
        &self,
        login: &Login,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Replaces a user's password hash and sets `updated_at`; `mail`, when
    /// given, and `events` are queued in the same transaction (when the user exists).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails. Updating a missing user is not an error.
    fn update_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the user's phone number (idempotent): a phone set by whoever
    /// registered an address is dropped when the address's owner claims the
    /// account (issue 12, item 3).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn clear_phone(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces one contact of the account (issue 20, "Change e-mail"): a
    /// new e-mail address, which counts as verified, or a new phone number
    /// (or none); sets `updated_at`. `mail`, when given, and `events` are
    /// queued in the same transaction, when the account exists. True when it
    /// exists (and, with `expected`, while the account's value of that kind
    /// is still `expected`, compared in the same statement: a change
    /// confirmed from a session that a revert is ending cannot overwrite the
    /// restored address; false otherwise).
    ///
    /// # Errors
    /// [`CreateUserError::Duplicate`] when another account holds the address
    /// or number (decided by the store's unique constraints, as at
    /// registration, so that two concurrent changes cannot both win);
    /// [`CreateUserError::Store`] when the store fails. Nothing is written on error.
    fn change_contact(
        &self,
        id: UserId,
        change: &ContactChange,
        expected: Option<&ContactChange>,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<bool, CreateUserError>> + Send;

    /// Marks the user's email as confirmed; true when it was not yet (and
    /// only then are `events` queued, in the same transaction).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn mark_email_verified(
        &self,
        id: UserId,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What administrators need from the user store besides [`UserRepository`]:
/// listing, enabling and disabling, roles, and the role catalogue.
pub trait UserDirectory: Send + Sync + 'static {
    /// Users matching `query`, ordered by id, with the total count.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn list(&self, query: &UserQuery) -> impl Future<Output = Result<UserPage, StoreError>> + Send;

    /// Enables or disables a user; true when that changed something (and
    /// only then are `events` queued, in the same transaction).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails. A missing user is not an error (false).
    fn set_active(
        &self,
        id: UserId,
        active: bool,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Grants `role` (which the caller has checked against the catalogue);
    /// true when the user did not hold it yet (and only then are `events`
    /// queued, in the same transaction).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails. A missing user is not an error (false).
    fn grant_role(
        &self,
        id: UserId,
        role: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes `role` away; true when the user held it. When it was the primary
    /// role, the first other granted role becomes primary, or `fallback` when
    /// there is none (so a user always holds at least one role). Atomic,
    /// with `events` queued in the same transaction when it changed something.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails. A missing user is not an error (false).
    fn revoke_role(
        &self,
        id: UserId,
        role: &RoleName,
        fallback: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every role and its permissions.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn catalogue(&self) -> impl Future<Output = Result<RoleCatalogue, StoreError>> + Send;

    /// Deletes a user and everything the stores keep about the account:
    /// granted roles, sessions kept with the user, second factors, recovery
    /// codes, passkeys, consents and grants, linked upstream identities and a
    /// scheduled deletion. The account's audit entries stay with their time,
    /// kind and ids (an opaque number once the account is gone) and lose
    /// their login identifier, IP address, user agent and detail (issue 20,
    /// "Delete my account"). True when the user existed (and only then are
    /// `events` queued). Atomic.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete(
        &self,
        id: UserId,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Schedules the deletion of the account `id` for `due_at`, replacing an
    /// earlier schedule (issue 20, `ACCOUNT_DELETION_GRACE`); true when the
    /// account exists.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn schedule_deletion(
        &self,
        id: UserId,
        requested_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes the account's scheduled deletion; true when there was one
    /// (a sign-in cancels it).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn cancel_deletion(&self, id: UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// When the account's scheduled deletion is due, if one is.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn deletion_due_at(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send;

    /// Up to `limit` accounts whose scheduled deletion is due at `now`,
    /// earliest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn deletions_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<UserId>, StoreError>> + Send;

    /// [`Self::delete`], but only while the account's deletion is scheduled
    /// and due at `now` (one transaction, so a sign-in cancelling it wins or
    /// loses whole); true when it deleted.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete_if_due(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// [`Self::delete`] (everything of the account goes but the mail and codes
    /// of its address, which are the address owner's), but only while the account's address is still
    /// unverified (one conditional statement, so a verification racing with
    /// it wins or loses whole); true when it deleted (and only then are
    /// `events` queued, in the same transaction). Used to replace or remove
    /// a pending account (issue 12, item 3).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete_unverified(
        &self,
        id: UserId,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Ids of up to `limit` accounts whose address is unverified and that
    /// were created before `cutoff`, oldest first (`UNVERIFIED_ACCOUNT_TTL`).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn unverified_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<UserId>, StoreError>> + Send;
}

/// A cache of users by id (cache-aside: readers fill it, every change empties it).
pub trait UserCache: Send + Sync + 'static {
    /// The cached user, if present.
    ///
    /// # Errors
    /// [`StoreError`] when the cache fails.
    fn get(&self, id: UserId) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Caches `user` for the cache's configured lifetime.
    ///
    /// # Errors
    /// [`StoreError`] when the cache fails.
    fn put(&self, user: &User) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets the user (idempotent).
    ///
    /// # Errors
    /// [`StoreError`] when the cache fails; the caller must then fail too, or a
    /// stale copy could outlive the change.
    fn invalidate(&self, id: UserId) -> impl Future<Output = Result<(), StoreError>> + Send;
}
