//! How a client proves who it is at the OpenID Provider's endpoints (RFC
//! 6749 §2.3, RFC 7523 §2.2; issue 18): its secret, a signed assertion, or
//! for a public client its id alone.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::AuthService;
use super::provider::OAuthError;
use crate::error::AuthError;
use crate::model::{ClientKind, OAuthClient, constant_time_eq};
use crate::ports::{ClientAssertionVerifier as _, Ports, RateLimiter as _, RefreshTokenCodec as _};

impl<P: Ports> AuthService<P> {
    /// The client of a token-endpoint request, authenticated (RFC 6749
    /// §2.3): a confidential client by its secret (`client_secret_basic`
    /// or `client_secret_post`, compared in constant time), a public client
    /// by its id alone (`none`).
    ///
    /// # Errors
    /// [`OAuthError::InvalidClient`] for an unknown or disabled client, a
    /// wrong or missing secret, or a secret sent by a public client;
    /// [`OAuthError::TemporarilyUnavailable`].
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<OAuthClient, OAuthError> {
        let client = match self.find_client(client_id).await {
            Ok(c) if !c.disabled => c,
            Ok(_) | Err(AuthError::ClientNotFound) => return Err(OAuthError::InvalidClient),
            Err(e) => return Err(e.into()),
        };
        match (client.kind, &client.secret_fingerprint, secret) {
            (ClientKind::Public, _, None) => Ok(client),
            (ClientKind::Confidential, Some(stored), Some(presented)) => {
                let presented = self.ports.codec.keyed_fingerprint(presented);
                if constant_time_eq(presented.0.as_bytes(), stored.0.as_bytes()) {
                    Ok(client)
                } else {
                    Err(OAuthError::InvalidClient)
                }
            }
            _ => Err(OAuthError::InvalidClient),
        }
    }

    /// The client of a request authenticated with `private_key_jwt` (RFC
    /// 7523 §2.2, OpenID Connect Core §9): `assertion` is a JWT signed with
    /// a key of the client's registered JWK Set, whose `iss` and `sub` are
    /// the client's id, whose `aud` is the issuer or one of its `/oauth/`
    /// endpoints, which expires within 10 minutes, and whose `jti` was never
    /// seen (kept until it expires, across instances when the rate limiter
    /// is shared). `client_id` (the form's), when given, must agree.
    ///
    /// # Errors
    /// [`OAuthError::InvalidClient`] for any failed check;
    /// [`OAuthError::TemporarilyUnavailable`].
    pub async fn authenticate_client_by_assertion(
        &self,
        client_id: Option<&str>,
        assertion: &str,
    ) -> Result<OAuthClient, OAuthError> {
        let unverified_issuer = assertion
            .split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|c| c["iss"].as_str().map(str::to_owned))
            .ok_or(OAuthError::InvalidClient)?;
        if client_id.is_some_and(|c| c != unverified_issuer) {
            return Err(OAuthError::InvalidClient);
        }
        let client = match self.find_client(&unverified_issuer).await {
            Ok(c) if !c.disabled && c.kind == ClientKind::Confidential => c,
            Ok(_) | Err(AuthError::ClientNotFound) => return Err(OAuthError::InvalidClient),
            Err(e) => return Err(e.into()),
        };
        let jwks = client.jwks.as_deref().ok_or(OAuthError::InvalidClient)?;
        let claims = self
            .ports
            .signer
            .verify_client_assertion(assertion, jwks)
            .map_err(|_| OAuthError::InvalidClient)?;
        let id = client.id.as_str();
        let issuer = &self.settings.provider.issuer;
        let ours = |a: &Value| {
            a.as_str()
                .is_some_and(|a| a == issuer || a.starts_with(&format!("{issuer}/oauth/")))
        };
        let audience_ok = match &claims["aud"] {
            Value::Array(list) => list.iter().any(ours),
            other => ours(other),
        };
        let now = self.now().timestamp();
        let exp = claims["exp"].as_i64().unwrap_or(0);
        let jti = claims["jti"]
            .as_str()
            .filter(|j| !j.is_empty() && j.len() <= 256);
        let (true, Some(jti)) = (
            claims["iss"] == id
                && claims["sub"] == id
                && audience_ok
                && exp > now
                && exp <= now + 600,
            jti,
        ) else {
            return Err(OAuthError::InvalidClient);
        };
        let window = crate::ports::RateWindow {
            limit: 1,
            window_secs: u64::try_from(exp - now).unwrap_or(1).max(1),
        };
        let first = self
            .ports
            .limiter
            .hit(&format!("client-assertion:{id}:{jti}"), window)
            .await?;
        if !first.allowed {
            return Err(OAuthError::InvalidClient);
        }
        Ok(client)
    }
}
