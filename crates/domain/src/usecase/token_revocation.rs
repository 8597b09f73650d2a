//! Token revocation (RFC 7009) and introspection (RFC 7662) at the OpenID
//! Provider: a client ends the tokens it was issued; a resource server
//! (a confidential client) asks whether a token is active.

use serde_json::{Map, Value, json};

use super::AuthService;
use super::provider::OAuthError;
use crate::model::{
    AuditEvent, AuditKind, ClientInfo, ClientKind, OAuthClient, OAuthGrant, RefreshToken,
    RevocationKey, Scope,
};
use crate::ports::{
    AccessTokenSigner as _, ClientRegistry as _, Ports, RefreshTokenCodec as _, SessionStore as _,
    TokenDenylist as _,
};

impl<P: Ports> AuthService<P> {
    /// Revokes `token` for `client` (RFC 7009 §2.1): a refresh token ends
    /// its whole session (every access token of it too); an access token is
    /// put on the denylist until it expires. A token that is not the
    /// client's, unknown or already ended changes nothing and is answered
    /// alike (§2.2). `token_type_hint` only orders the guesses.
    ///
    /// # Errors
    /// [`OAuthError::InvalidRequest`] without `token`;
    /// [`OAuthError::TemporarilyUnavailable`].
    pub async fn revoke_client_token(
        &self,
        client: &OAuthClient,
        token: Option<&str>,
        from: ClientInfo,
    ) -> Result<(), OAuthError> {
        let token = token.ok_or_else(|| OAuthError::InvalidRequest("token is missing".into()))?;
        let now = self.now();
        if let Some(parts) = self.ports.codec.parse(token) {
            if self
                .grant_of_client(client, parts.session_id)
                .await?
                .is_some()
            {
                self.revoke_sessions(&[parts.session_id], now).await?;
                self.audit(AuditEvent {
                    detail: Some(format!("client {} session {}", client.id, parts.session_id)),
                    ..self.event(AuditKind::SessionEnded, &from)
                })
                .await;
            }
            return Ok(());
        }
        if self.revoke_client_access(client, token).await? {
            return Ok(());
        }
        if let Ok(claims) = self.ports.signer.verify(token)
            && self
                .grant_of_client(client, claims.session_id)
                .await?
                .is_some()
            && claims.expires_at > now
        {
            self.ports
                .denylist
                .deny(RevocationKey::Token(claims.token_id), claims.expires_at)
                .await?;
        }
        Ok(())
    }

    async fn grant_of_client(
        &self,
        client: &OAuthClient,
        session: crate::model::SessionId,
    ) -> Result<Option<OAuthGrant>, OAuthError> {
        Ok(self
            .ports
            .clients
            .grant(session)
            .await?
            .filter(|g| g.client_id == client.id))
    }

    /// Introspects `token` for the resource server `caller`, a confidential
    /// client (RFC 7662 §2): `{"active": false}` for anything not live;
    /// otherwise `active`, `token_type` (`Bearer` or `refresh_token`),
    /// `sub` (the account's public id, as in ID tokens), `username`, `exp`,
    /// `iat`, `iss`, `sid`, `jti` for an access token, and for a token
    /// issued to a client its `client_id` and `scope`.
    ///
    /// # Errors
    /// [`OAuthError::InvalidClient`] for a public caller;
    /// [`OAuthError::InvalidRequest`] without `token`;
    /// [`OAuthError::TemporarilyUnavailable`].
    pub async fn introspect_token(
        &self,
        caller: &OAuthClient,
        token: Option<&str>,
    ) -> Result<Value, OAuthError> {
        if caller.kind != ClientKind::Confidential {
            return Err(OAuthError::InvalidClient);
        }
        let token = token.ok_or_else(|| OAuthError::InvalidRequest("token is missing".into()))?;
        let inactive = json!({"active": false});
        if let Some(claims) = self.live_client_token(token).await? {
            let mut out = Map::new();
            out.insert("active".into(), json!(true));
            out.insert("token_type".into(), json!("Bearer"));
            for key in ["sub", "client_id", "scope", "exp", "iat", "jti", "iss"] {
                if let Some(v) = claims.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            return Ok(Value::Object(out));
        }
        let mut out = Map::new();
        let session_id = if let Some(parts) = self.ports.codec.parse(token) {
            let Some(session) = self.ports.sessions.get(parts.session_id).await? else {
                return Ok(inactive);
            };
            let presented = self
                .ports
                .codec
                .fingerprint(&RefreshToken::new(token.to_owned()));
            if session.refresh_fingerprint != presented
                || self.check_live(&session, self.now()).is_err()
            {
                return Ok(inactive);
            }
            let Ok(user) = self.session_user(&session).await else {
                return Ok(inactive);
            };
            out.insert("token_type".into(), json!("refresh_token"));
            out.insert("sub".into(), json!(user.public_id.to_string()));
            out.insert("username".into(), json!(user.username.as_str()));
            out.insert("exp".into(), json!(session.expires_at.timestamp()));
            out.insert("iat".into(), json!(session.created_at.timestamp()));
            session.id
        } else {
            let Ok((auth, user)) = self
                .authenticate_user_for(
                    Some(token),
                    ClientInfo::without_peer(Some("introspection")),
                    super::access::TokenAudience::Any,
                )
                .await
            else {
                return Ok(inactive);
            };
            let c = &auth.claims;
            out.insert("token_type".into(), json!("Bearer"));
            out.insert("sub".into(), json!(user.public_id.to_string()));
            out.insert("username".into(), json!(user.username.as_str()));
            out.insert("exp".into(), json!(c.expires_at.timestamp()));
            out.insert("iat".into(), json!(c.issued_at.timestamp()));
            out.insert("nbf".into(), json!(c.not_before.timestamp()));
            out.insert("jti".into(), json!(c.token_id.to_string()));
            c.session_id
        };
        if let Some(grant) = self.ports.clients.grant(session_id).await? {
            let client = self.ports.clients.client(&grant.client_id).await?;
            if client.is_none_or(|c| c.disabled) {
                return Ok(inactive);
            }
            out.insert("client_id".into(), json!(grant.client_id.as_str()));
            out.insert("scope".into(), json!(Scope::join(&grant.scopes)));
        }
        out.insert("active".into(), json!(true));
        out.insert("iss".into(), json!(self.settings.provider.issuer));
        out.insert("sid".into(), json!(session_id.to_string()));
        Ok(Value::Object(out))
    }
}
