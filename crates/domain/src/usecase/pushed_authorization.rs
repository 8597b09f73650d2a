//! Pushed authorization requests (RFC 9126): a client posts its
//! authorization request to the token endpoint's neighbour, authenticated,
//! and sends the browser with only `client_id` and the `request_uri` it got
//! back. The request cannot be read or changed in the browser, and it is
//! spent when its code is issued (a second use is refused).

use super::AuthService;
use super::provider::{AuthorizationRefusal, AuthorizationRequest, OAuthError};
use crate::clock::IdSource as _;
use crate::error::AuthError;
use crate::model::{CodePurpose, OAuthClient, VerificationCode};
use crate::ports::{CodeStore as _, Ports, RefreshTokenCodec as _};

/// The prefix of a pushed request's `request_uri` (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request waits for its code, in seconds (RFC 9126
/// §2.2 suggests 5 to 600): the person signs in (and answers a second
/// factor) meanwhile, as long as a second-factor challenge lives.
pub const PUSHED_REQUEST_TTL_SECS: i64 = 300;

/// A pushed request's answer (RFC 9126 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequest {
    /// `urn:ietf:params:oauth:request_uri:<id>`.
    pub request_uri: String,
    /// Seconds it stays usable.
    pub expires_in: i64,
}

impl<P: Ports> AuthService<P> {
    /// Checks and stores `client`'s authorization request (RFC 9126 §2.1):
    /// the same checks as at the authorization endpoint, answered as token
    /// endpoint errors; a `client_id` in the body must be the client's.
    ///
    /// # Errors
    /// [`OAuthError::InvalidRequest`], [`OAuthError::InvalidScope`],
    /// [`OAuthError::UnsupportedResponseType`],
    /// [`OAuthError::UnauthorizedClient`],
    /// [`OAuthError::TemporarilyUnavailable`].
    pub async fn push_authorization_request(
        &self,
        client: &OAuthClient,
        mut req: AuthorizationRequest,
    ) -> Result<PushedRequest, OAuthError> {
        if req.request_uri.is_some() {
            return Err(OAuthError::InvalidRequest(
                "request_uri cannot be pushed".into(),
            ));
        }
        if req
            .client_id
            .as_deref()
            .is_some_and(|c| c != client.id.as_str())
        {
            return Err(OAuthError::InvalidRequest(
                "client_id is not the authenticated client".into(),
            ));
        }
        req.client_id = Some(client.id.to_string());
        match self.check_request_parameters(&req).await {
            Ok(_) => {}
            Err(AuthorizationRefusal::Unredirectable(why)) => {
                return Err(OAuthError::InvalidRequest(why));
            }
            Err(AuthorizationRefusal::Redirect { error, .. }) => return Err(error),
        }
        let id = self.ports.ids.new_uuid().simple().to_string();
        let binding =
            serde_json::to_string(&req).map_err(|e| OAuthError::ServerError(e.to_string()))?;
        self.ports
            .codes
            .put(&VerificationCode {
                purpose: CodePurpose::PushedAuthorization,
                recipient: id.clone(),
                fingerprint: self.ports.codec.keyed_fingerprint(&id),
                digits: 0,
                expires_at: self.now() + chrono::Duration::seconds(PUSHED_REQUEST_TTL_SECS),
                attempts: 0,
                max_attempts: 1,
                binding: Some(binding),
            })
            .await?;
        Ok(PushedRequest {
            request_uri: format!("{REQUEST_URI_PREFIX}{id}"),
            expires_in: PUSHED_REQUEST_TTL_SECS,
        })
    }

    /// The pushed request `request_uri` names, for the browser's
    /// `client_id`: `(id, request)`.
    pub(super) async fn pushed_request(
        &self,
        request_uri: &str,
        client_id: Option<&str>,
    ) -> Result<(String, AuthorizationRequest), AuthorizationRefusal> {
        let gone = || {
            AuthorizationRefusal::Unredirectable(
                "request_uri is unknown, expired or used".to_owned(),
            )
        };
        let id = request_uri
            .strip_prefix(REQUEST_URI_PREFIX)
            .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(gone)?;
        let stored = match self
            .ports
            .codes
            .get(CodePurpose::PushedAuthorization, id)
            .await
        {
            Ok(Some(s)) if s.expires_at > self.now() => s,
            Ok(_) => return Err(gone()),
            Err(_) => {
                return Err(AuthorizationRefusal::Unredirectable(
                    "the service is unavailable".to_owned(),
                ));
            }
        };
        let req: AuthorizationRequest = stored
            .binding
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .ok_or_else(gone)?;
        if client_id != req.client_id.as_deref() {
            return Err(AuthorizationRefusal::Unredirectable(
                "client_id is not the one of the pushed request".to_owned(),
            ));
        }
        Ok((id.to_owned(), req))
    }

    /// Spends the pushed request `id` as its code is issued: `false` when
    /// another use spent it first.
    pub(super) async fn spend_pushed_request(&self, id: &str) -> Result<bool, AuthError> {
        Ok(self
            .ports
            .codes
            .take(CodePurpose::PushedAuthorization, id)
            .await?
            .is_some())
    }
}
