//! The OpenID Provider's registry (issue 18): clients, the consents people
//! gave them, and the grants that tie a session to a client.

use std::future::Future;

use crate::error::StoreError;
use crate::model::{ClientId, Consent, OAuthClient, OAuthGrant, Scope, SessionId, UserId};

/// Where registered clients, consents and grants are kept.
pub trait ClientRegistry: Send + Sync + 'static {
    /// Stores a new client; `false` when its id is taken.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn create_client(
        &self,
        client: &OAuthClient,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The client with `id`, disabled or not.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn client(
        &self,
        id: &ClientId,
    ) -> impl Future<Output = Result<Option<OAuthClient>, StoreError>> + Send;

    /// Every client, by id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn clients(&self) -> impl Future<Output = Result<Vec<OAuthClient>, StoreError>> + Send;

    /// Replaces the stored client of the same id; `false` when none exists.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn update_client(
        &self,
        client: &OAuthClient,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes the client with its consents and grants; `false` when none
    /// existed. The caller ends the grants' sessions first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete_client(&self, id: &ClientId)
    -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The scopes `user` consented to for `client` (empty when none).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn consented_scopes(
        &self,
        user: UserId,
        client: &ClientId,
    ) -> impl Future<Output = Result<Vec<Scope>, StoreError>> + Send;

    /// Records that `user` consents to `scopes` for `client`, replacing an
    /// earlier consent.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn remember_consent(
        &self,
        user: UserId,
        client: &ClientId,
        scopes: &[Scope],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every consent `user` gave, by client id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn consents_of(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<Consent>, StoreError>> + Send;

    /// Records the grant of a session opened for a client.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn record_grant(
        &self,
        grant: &OAuthGrant,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The grant of `session`, if it was opened for a client.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn grant(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<Option<OAuthGrant>, StoreError>> + Send;

    /// The sessions opened for `client` (to end them when it is disabled
    /// or deleted).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn grant_sessions(
        &self,
        client: &ClientId,
    ) -> impl Future<Output = Result<Vec<SessionId>, StoreError>> + Send;
}
