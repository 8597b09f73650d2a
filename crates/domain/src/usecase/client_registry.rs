//! The OpenID Provider's registry of clients (issue 18), for
//! administrators (`client:manage`, `REAUTH_MAX_AGE`) and the command line:
//! register, list, find, give a new secret, disable, enable, delete.

use super::{Actor, AuthService};
use crate::clock::IdSource as _;
use crate::error::AuthError;
use crate::model::{
    AuditEvent, AuditKind, ClientDraft, ClientDraftError, ClientId, ClientKind, ClientSecret,
    OAuthClient, Permission,
};
use crate::ports::{ClientRegistry as _, Ports, RefreshTokenCodec as _};

/// A registered client and, for a confidential one, its secret (shown once).
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    /// The client as stored.
    pub client: OAuthClient,
    /// The secret of a confidential client.
    pub secret: Option<ClientSecret>,
}

impl<P: Ports> AuthService<P> {
    /// `actor` when they may manage clients: the operator, or a recently
    /// authenticated holder of `client:manage` (`REAUTH_MAX_AGE`).
    pub(super) async fn client_manager(&self, actor: &Actor) -> Result<(), AuthError> {
        if let Some(me) = &actor.user {
            let authentication = actor
                .authentication
                .as_ref()
                .ok_or(AuthError::ReauthenticationRequired)?;
            self.require_permission(me.clone(), Permission::CLIENT_MANAGE)
                .await?;
            self.require_recent(authentication, me, false).await?;
        }
        Ok(())
    }

    async fn client_audit(&self, actor: &Actor, kind: AuditKind, detail: String) {
        self.audit(AuditEvent {
            actor: actor.user.as_ref().map(|u| u.id),
            detail: Some(detail),
            ..self.event(kind, &actor.client)
        })
        .await;
    }

    /// A new secret and its fingerprint.
    fn new_client_secret(&self) -> (ClientSecret, crate::model::TokenFingerprint) {
        let secret = self.ports.ids.secret_token();
        let fingerprint = self.ports.codec.keyed_fingerprint(&secret);
        (ClientSecret::new(secret), fingerprint)
    }

    /// Registers a client from `draft` ([`ClientDraft::validate`]); a
    /// confidential client gets a generated secret, returned once.
    ///
    /// # Errors
    /// `Err(Ok(`[`ClientDraftError`]`))` for a refused draft;
    /// `Err(Err(`[`AuthError`]`))`: [`AuthError::Forbidden`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub async fn register_client(
        &self,
        actor: &Actor,
        draft: ClientDraft,
    ) -> Result<RegisteredClient, Result<ClientDraftError, AuthError>> {
        self.client_manager(actor).await.map_err(Err)?;
        let draft = draft.validate().map_err(Ok)?;
        let (secret, fingerprint) = match draft.kind {
            ClientKind::Confidential => {
                let (s, f) = self.new_client_secret();
                (Some(s), Some(f))
            }
            ClientKind::Public => (None, None),
        };
        let client = OAuthClient {
            id: ClientId::generated(self.ports.ids.new_uuid()),
            name: draft.name,
            kind: draft.kind,
            secret_fingerprint: fingerprint,
            jwks: draft.jwks,
            redirect_uris: draft.redirect_uris,
            post_logout_redirect_uris: draft.post_logout_redirect_uris,
            scopes: draft.scopes,
            grant_types: draft.grant_types,
            first_party: draft.first_party,
            disabled: false,
            created_at: self.now(),
        };
        if !self
            .ports
            .clients
            .create_client(&client)
            .await
            .map_err(|e| Err(e.into()))?
        {
            return Err(Err(AuthError::Internal("client id collision".into())));
        }
        self.client_audit(
            actor,
            AuditKind::ClientRegistered,
            format!("{} {}", client.id, client.name),
        )
        .await;
        Ok(RegisteredClient { client, secret })
    }

    /// Every registered client, by id.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn list_clients(&self) -> Result<Vec<OAuthClient>, AuthError> {
        Ok(self.ports.clients.clients().await?)
    }

    /// The client `id` names.
    ///
    /// # Errors
    /// [`AuthError::ClientNotFound`], [`AuthError::Unavailable`].
    pub async fn find_client(&self, id: &str) -> Result<OAuthClient, AuthError> {
        let id = ClientId::parse(id).ok_or(AuthError::ClientNotFound)?;
        self.ports
            .clients
            .client(&id)
            .await?
            .ok_or(AuthError::ClientNotFound)
    }

    /// Replaces a confidential client's secret (the old one stops working
    /// at once) and returns the client with the new one, shown once.
    ///
    /// # Errors
    /// [`AuthError::ClientNotFound`] (also for a public client, which has
    /// no secret), [`AuthError::Forbidden`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub async fn rotate_client_secret(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<RegisteredClient, AuthError> {
        self.client_manager(actor).await?;
        let mut client = self.find_client(id).await?;
        if client.kind != ClientKind::Confidential {
            return Err(AuthError::ClientNotFound);
        }
        let (secret, fingerprint) = self.new_client_secret();
        client.secret_fingerprint = Some(fingerprint);
        if !self.ports.clients.update_client(&client).await? {
            return Err(AuthError::ClientNotFound);
        }
        self.client_audit(
            actor,
            AuditKind::ClientUpdated,
            format!("{} secret_rotated", client.id),
        )
        .await;
        Ok(RegisteredClient {
            client,
            secret: Some(secret),
        })
    }

    /// Disables (every session opened for it ends; it is refused
    /// everywhere) or enables a client.
    ///
    /// # Errors
    /// [`AuthError::ClientNotFound`], [`AuthError::Forbidden`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub async fn set_client_disabled(
        &self,
        actor: &Actor,
        id: &str,
        disabled: bool,
    ) -> Result<OAuthClient, AuthError> {
        self.client_manager(actor).await?;
        let mut client = self.find_client(id).await?;
        client.disabled = disabled;
        if !self.ports.clients.update_client(&client).await? {
            return Err(AuthError::ClientNotFound);
        }
        if disabled {
            self.end_client_sessions(&client.id).await?;
        }
        self.client_audit(
            actor,
            AuditKind::ClientUpdated,
            format!(
                "{} {}",
                client.id,
                if disabled { "disabled" } else { "enabled" }
            ),
        )
        .await;
        Ok(client)
    }

    /// Deletes a client, its consents and grants; every session opened for
    /// it ends first.
    ///
    /// # Errors
    /// [`AuthError::ClientNotFound`], [`AuthError::Forbidden`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub async fn delete_client(&self, actor: &Actor, id: &str) -> Result<(), AuthError> {
        self.client_manager(actor).await?;
        let client = self.find_client(id).await?;
        self.end_client_sessions(&client.id).await?;
        if !self.ports.clients.delete_client(&client.id).await? {
            return Err(AuthError::ClientNotFound);
        }
        self.client_audit(actor, AuditKind::ClientDeleted, client.id.to_string())
            .await;
        Ok(())
    }

    async fn end_client_sessions(&self, client: &ClientId) -> Result<(), AuthError> {
        let sessions = self.ports.clients.grant_sessions(client).await?;
        if !sessions.is_empty() {
            self.revoke_sessions(&sessions, self.now()).await?;
        }
        Ok(())
    }
}
