//! The client credentials grant (RFC 6749 §4.4): a confidential client
//! gets an access token for itself, with no person behind it. The token is
//! a JWT (RFC 9068's shape, `token_use` `client_credentials`) signed with
//! the ID-token key, so resource servers verify it with the JWKS or ask
//! `/oauth/introspect`; UserInfo refuses it (there is no user).

use serde_json::{Map, Value, json};

use super::AuthService;
use super::provider::OAuthError;
use crate::clock::IdSource as _;
use crate::model::{ClientKind, GrantType, OAuthClient, RevocationKey, Scope};
use crate::ports::{ClientRegistry as _, IdTokenSigner as _, Ports, TokenDenylist as _};

/// The `token_use` claim of a client's own access token.
pub const CLIENT_TOKEN_USE: &str = "client_credentials";

/// A client's own access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAccess {
    /// The JWT.
    pub token: String,
    /// Seconds until it expires (`ACCESS_TOKEN_TTL`).
    pub expires_in: i64,
    /// The granted scopes.
    pub scopes: Vec<Scope>,
}

impl<P: Ports> AuthService<P> {
    /// Issues `client`'s own access token for `scope` (space-delimited; by
    /// default every scope the client may have but `openid` and
    /// `offline_access`, which need a person).
    ///
    /// # Errors
    /// [`OAuthError::UnauthorizedClient`] for a public client or one
    /// without the grant; [`OAuthError::InvalidScope`] for an unknown
    /// scope, one the client may not have, `openid` or `offline_access`;
    /// [`OAuthError::ServerError`] when signing fails.
    pub fn issue_client_credentials_token(
        &self,
        client: &OAuthClient,
        scope: Option<&str>,
    ) -> Result<ClientAccess, OAuthError> {
        if client.kind != ClientKind::Confidential
            || !client.allows_grant(GrantType::ClientCredentials)
        {
            return Err(OAuthError::UnauthorizedClient(
                "the client may not use the client credentials grant".into(),
            ));
        }
        let personal = |s: &Scope| matches!(s, Scope::OpenId | Scope::OfflineAccess);
        let scopes = match scope {
            Some(raw) => {
                let asked = Scope::parse_list(raw)
                    .map_err(|name| OAuthError::InvalidScope(format!("unknown scope {name}")))?;
                if let Some(s) = asked
                    .iter()
                    .find(|s| personal(s) || !client.scopes.contains(s))
                {
                    return Err(OAuthError::InvalidScope(format!(
                        "{} is not available to a client acting for itself",
                        s.as_str()
                    )));
                }
                asked
            }
            None => client
                .scopes
                .iter()
                .copied()
                .filter(|s| !personal(s))
                .collect(),
        };
        let now = self.now();
        let expires_at = now + self.settings.access_ttl;
        let claims = json!({
            "iss": self.settings.provider.issuer,
            "sub": client.id.as_str(),
            "client_id": client.id.as_str(),
            "aud": self.settings.provider.issuer,
            "iat": now.timestamp(),
            "exp": expires_at.timestamp(),
            "jti": self.ports.ids.new_uuid().to_string(),
            "scope": Scope::join(&scopes),
            "token_use": CLIENT_TOKEN_USE,
        });
        let token = self
            .ports
            .signer
            .sign_id_token(&claims)
            .map_err(|e| OAuthError::ServerError(e.to_string()))?;
        Ok(ClientAccess {
            token,
            expires_in: self.settings.access_ttl.num_seconds(),
            scopes,
        })
    }

    /// The claims of a live client token (ours, unexpired, not revoked,
    /// its client enabled); `None` for anything else.
    pub(super) async fn live_client_token(
        &self,
        token: &str,
    ) -> Result<Option<Map<String, Value>>, OAuthError> {
        let Some(Value::Object(claims)) = self.ports.signer.read_own_id_token(token) else {
            return Ok(None);
        };
        let now = self.now();
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .and_then(|j| uuid::Uuid::parse_str(j).ok());
        let live = claims.get("token_use").and_then(Value::as_str) == Some(CLIENT_TOKEN_USE)
            && claims.get("iss").and_then(Value::as_str)
                == Some(self.settings.provider.issuer.as_str())
            && claims
                .get("exp")
                .and_then(Value::as_i64)
                .is_some_and(|exp| exp > now.timestamp());
        let (true, Some(jti)) = (live, jti) else {
            return Ok(None);
        };
        if self
            .ports
            .denylist
            .any_denied(&[RevocationKey::Token(jti)], now)
            .await?
        {
            return Ok(None);
        }
        let Some(client) = claims
            .get("client_id")
            .and_then(Value::as_str)
            .and_then(crate::model::ClientId::parse)
        else {
            return Ok(None);
        };
        let enabled = self
            .ports
            .clients
            .client(&client)
            .await?
            .is_some_and(|c| !c.disabled);
        Ok(enabled.then_some(claims))
    }

    /// Puts a live client token of `client` on the denylist until it
    /// expires; `false` when `token` is no such token.
    pub(super) async fn revoke_client_access(
        &self,
        client: &OAuthClient,
        token: &str,
    ) -> Result<bool, OAuthError> {
        let Some(claims) = self.live_client_token(token).await? else {
            return Ok(false);
        };
        if claims.get("client_id").and_then(Value::as_str) != Some(client.id.as_str()) {
            return Ok(false);
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .and_then(|j| uuid::Uuid::parse_str(j).ok());
        let until = claims
            .get("exp")
            .and_then(Value::as_i64)
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0));
        if let (Some(jti), Some(until)) = (jti, until) {
            self.ports
                .denylist
                .deny(RevocationKey::Token(jti), until)
                .await?;
        }
        Ok(true)
    }
}
