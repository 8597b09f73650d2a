//! Signing in through upstream identity providers (issue 19): where linked
//! identities and the console's providers are kept, and the relying party
//! that talks to a provider.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{LinkedIdentity, UpstreamId, UpstreamIdentity, UpstreamProvider, UserId};

/// Where identities linked to accounts, and the providers added in the
/// console, are kept.
pub trait IdentityLinks: Send + Sync + 'static {
    /// Links `identity`; `false` when its (provider, subject) is linked
    /// already (to any account) — decided by the store's unique key, so two
    /// concurrent links cannot both win.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn link(
        &self,
        identity: &LinkedIdentity,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The identity `subject` of `provider`, if it is linked.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn linked(
        &self,
        provider: &UpstreamId,
        subject: &str,
    ) -> impl Future<Output = Result<Option<LinkedIdentity>, StoreError>> + Send;

    /// The identities linked to `user`, by provider then link time.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn identities_of(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<LinkedIdentity>, StoreError>> + Send;

    /// Unlinks `subject` of `provider` from `user`; `false` when it was not
    /// linked to `user`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn unlink(
        &self,
        user: UserId,
        provider: &UpstreamId,
        subject: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Notes a sign-in with the identity at `at`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn record_use(
        &self,
        provider: &UpstreamId,
        subject: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The providers added in the console, by id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn providers(&self) -> impl Future<Output = Result<Vec<UpstreamProvider>, StoreError>> + Send;

    /// Stores `provider`, replacing the one with its id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn save_provider(
        &self,
        provider: &UpstreamProvider,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the provider `id` and every identity linked through it;
    /// `false` when there was none.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete_provider(
        &self,
        id: &UpstreamId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Where the relying party sends the browser, and what it checks on the way
/// back: the values of one authorization request (RFC 6749 §4.1.1, OpenID
/// Connect Core §3.1.2.1). `Debug` shows only the redirect URI.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    /// Tessera's callback for the provider (`redirect_uri`).
    pub redirect_uri: String,
    /// The `state` bound to the browser.
    pub state: String,
    /// The `nonce` the ID token must carry (OpenID Connect only).
    pub nonce: String,
    /// The PKCE `code_challenge` (`S256`, RFC 7636 §4.2).
    pub code_challenge: String,
}

/// What the relying party needs to redeem an authorization code. `Debug`
/// shows only the redirect URI.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamRedemption {
    /// The `code` the provider sent back.
    pub code: String,
    /// The `redirect_uri` of the request.
    pub redirect_uri: String,
    /// The PKCE `code_verifier`.
    pub code_verifier: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
}

impl std::fmt::Debug for UpstreamRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamRequest")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for UpstreamRedemption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamRedemption")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Why a provider's answer was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The provider could not be reached, timed out, or answered 5xx.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused (an OAuth error such as `invalid_grant`).
    #[error("the provider refused: {0}")]
    Refused(String),
    /// The provider's answer failed a check: the ID token's signature,
    /// issuer, audience, expiry or `nonce`, or a malformed document.
    #[error("the provider's answer is invalid: {0}")]
    Invalid(String),
}

/// The relying party of upstream providers: builds authorization requests
/// and redeems their codes into a checked [`UpstreamIdentity`].
pub trait UpstreamRelyingParty: Send + Sync + 'static {
    /// The URL of `provider`'s authorization endpoint carrying `request`
    /// (OpenID Connect: read from its discovery document).
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`] when discovery fails,
    /// [`UpstreamError::Invalid`] when its document is unusable.
    fn authorization_url(
        &self,
        provider: &UpstreamProvider,
        request: &UpstreamRequest,
    ) -> impl Future<Output = Result<String, UpstreamError>> + Send;

    /// Redeems `redemption.code` at `provider`'s token endpoint and reads
    /// who signed in: from the ID token (signature against the provider's
    /// JWKS, `iss`, `aud`, `exp`, `nonce`; OpenID Connect Core §3.1.3.7),
    /// or from the user-info document through the claim mapping (OAuth 2.0).
    ///
    /// # Errors
    /// [`UpstreamError`].
    fn redeem(
        &self,
        provider: &UpstreamProvider,
        redemption: &UpstreamRedemption,
    ) -> impl Future<Output = Result<UpstreamIdentity, UpstreamError>> + Send;
}
