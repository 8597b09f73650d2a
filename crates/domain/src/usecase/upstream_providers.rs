//! The upstream providers added in the admin console (issue 19), for
//! holders of `client:manage` (the permission of every integration: the
//! OpenID Provider's clients and the providers Tessera is a client of),
//! with a recent authentication (`REAUTH_MAX_AGE`). The configuration's
//! providers are listed beside them and cannot be changed here.

use super::upstream_sign_in::FederationError;
use super::{Actor, AuthService};
use crate::error::AuthError;
use crate::model::{AuditEvent, AuditKind, ProviderSource, UpstreamId, UpstreamProvider};
use crate::ports::{IdentityLinks as _, Ports};

impl<P: Ports> AuthService<P> {
    /// Every provider, the configuration's then the console's, enabled or not.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`], [`AuthError::ReauthenticationRequired`],
    /// [`AuthError::Unavailable`].
    pub async fn list_upstream_providers(
        &self,
        actor: &Actor,
    ) -> Result<Vec<UpstreamProvider>, AuthError> {
        self.client_manager(actor).await?;
        self.every_upstream_provider().await
    }

    /// Adds or replaces the console's provider `provider.id`
    /// ([`UpstreamProvider::check`] first).
    ///
    /// # Errors
    /// [`FederationError::ProviderInvalid`], [`FederationError::ProviderReadOnly`]
    /// for an id of the configuration, and as [`Self::list_upstream_providers`].
    pub async fn save_upstream_provider(
        &self,
        actor: &Actor,
        mut provider: UpstreamProvider,
    ) -> Result<(), FederationError> {
        self.client_manager(actor).await?;
        provider.check().map_err(FederationError::ProviderInvalid)?;
        if self.configured_provider(&provider.id) {
            return Err(FederationError::ProviderReadOnly);
        }
        provider.source = ProviderSource::Console;
        // Identities are keyed by the provider's id: one that now names
        // another provider (issuer or endpoints) must not keep the old
        // one's subjects, which the new one could reuse for other people.
        let replaced = self
            .ports
            .identities
            .providers()
            .await?
            .into_iter()
            .find(|p| p.id == provider.id);
        if replaced.is_some_and(|old| old.protocol != provider.protocol) {
            self.ports.identities.delete_provider(&provider.id).await?;
        }
        self.ports.identities.save_provider(&provider).await?;
        self.provider_audit(actor, AuditKind::ProviderSaved, &provider.id)
            .await;
        Ok(())
    }

    /// Removes the console's provider `id` and the identities linked
    /// through it.
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`], [`FederationError::ProviderReadOnly`],
    /// and as [`Self::list_upstream_providers`].
    pub async fn delete_upstream_provider(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(), FederationError> {
        self.client_manager(actor).await?;
        let id = UpstreamId::parse(id).ok_or(FederationError::UnknownProvider)?;
        if self.configured_provider(&id) {
            return Err(FederationError::ProviderReadOnly);
        }
        if !self.ports.identities.delete_provider(&id).await? {
            return Err(FederationError::UnknownProvider);
        }
        self.provider_audit(actor, AuditKind::ProviderDeleted, &id)
            .await;
        Ok(())
    }

    fn configured_provider(&self, id: &UpstreamId) -> bool {
        self.settings.upstream.providers.iter().any(|p| &p.id == id)
    }

    async fn provider_audit(&self, actor: &Actor, kind: AuditKind, id: &UpstreamId) {
        self.audit(AuditEvent {
            actor: actor.user.as_ref().map(|u| u.id),
            detail: Some(id.to_string()),
            ..self.event(kind, &actor.client)
        })
        .await;
    }
}
