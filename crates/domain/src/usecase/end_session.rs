//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a client
//! sends the browser to the provider's `end_session_endpoint` to sign the
//! person out, then back to a registered `post_logout_redirect_uri`.

use super::provider::with_query;
use super::{AuthService, BrowserCaller};
use crate::error::AuthError;
use crate::model::{AuditEvent, AuditKind, ClientId, OAuthClient, SessionId};
use crate::ports::{ClientRegistry as _, IdTokenSigner as _, Ports};

/// A logout request's parameters (RP-Initiated Logout §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutRequest {
    /// `id_token_hint`: an ID token Tessera issued (expired or not).
    pub id_token_hint: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `post_logout_redirect_uri`: one the client registered.
    pub post_logout_redirect_uri: Option<String>,
    /// `state`, echoed to the redirect URI.
    pub state: Option<String>,
}

/// A logout request that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLogout {
    /// The client, when the hint or `client_id` named one.
    pub client: Option<OAuthClient>,
    /// Where to send the browser afterwards (with `state`), when asked.
    pub redirect: Option<String>,
    /// The hint's session (the client's) and account (`sub`), when an
    /// ID token of ours was given.
    pub hinted: Option<(SessionId, String)>,
}

/// What the browser sees next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutStep {
    /// Ask the person to confirm (no valid hint: a foreign page could
    /// otherwise sign them out).
    Confirm,
    /// Signed out: go to the client's URI, or Tessera's signed-out page.
    Done(Option<String>),
}

impl<P: Ports> AuthService<P> {
    /// Checks a logout request: the hint must be an ID token of ours for
    /// this issuer; a `client_id` must agree with its audience; a
    /// `post_logout_redirect_uri` must be one the client registered (exact
    /// match).
    ///
    /// # Errors
    /// A sentence for the error page: an unreadable hint, a mismatched or
    /// unknown client, an unregistered redirect URI.
    pub async fn check_logout_request(&self, req: &LogoutRequest) -> Result<CheckedLogout, String> {
        let mut hinted = None;
        let mut client_id = req.client_id.clone();
        if let Some(hint) = &req.id_token_hint {
            let claims = self
                .ports
                .signer
                .read_own_id_token(hint)
                .filter(|c| c["iss"] == self.settings.provider.issuer.as_str())
                .ok_or("id_token_hint is not an ID token of this provider")?;
            let aud = claims["aud"].as_str().unwrap_or_default().to_owned();
            if client_id.as_ref().is_some_and(|c| *c != aud) {
                return Err("client_id is not the ID token's audience".into());
            }
            client_id = Some(aud);
            let sid = claims["sid"]
                .as_str()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .map(SessionId);
            if let (Some(sid), Some(sub)) = (sid, claims["sub"].as_str()) {
                hinted = Some((sid, sub.to_owned()));
            }
        }
        let client = match client_id.as_deref() {
            None => None,
            Some(id) => Some(
                match ClientId::parse(id) {
                    Some(id) => self.ports.clients.client(&id).await.ok().flatten(),
                    None => None,
                }
                .ok_or("unknown client")?,
            ),
        };
        let redirect = match (&req.post_logout_redirect_uri, &client) {
            (None, _) => None,
            (Some(_), None) => {
                return Err("post_logout_redirect_uri needs client_id or id_token_hint".into());
            }
            (Some(uri), Some(c)) if c.post_logout_redirect_uris.contains(uri) => {
                Some(match &req.state {
                    Some(state) => with_query(uri, &[("state", state)]),
                    None => uri.clone(),
                })
            }
            (Some(_), Some(_)) => {
                return Err("post_logout_redirect_uri is not registered for the client".into());
            }
        };
        Ok(CheckedLogout {
            client,
            redirect,
            hinted,
        })
    }

    /// Signs the person out: the hint's session (the client's) ends, and
    /// the browser's own session when it belongs to the same account, or
    /// when the person confirmed (`confirmed`, the form's CSRF checked by
    /// the caller). Without a valid hint and unconfirmed, the browser's
    /// session is kept and the person is asked.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn end_session(
        &self,
        checked: &CheckedLogout,
        caller: Option<&BrowserCaller>,
        confirmed: bool,
    ) -> Result<LogoutStep, AuthError> {
        let now = self.now();
        let same_person = match (&checked.hinted, caller) {
            (Some((_, sub)), Some(c)) => c.user.public_id.to_string() == *sub,
            _ => false,
        };
        if caller.is_some() && !same_person && !confirmed {
            return Ok(LogoutStep::Confirm);
        }
        if let Some((sid, _)) = &checked.hinted {
            self.revoke_sessions(&[*sid], now).await?;
        }
        if let Some(c) = caller {
            self.revoke_sessions(&[c.session.id], now).await?;
            self.audit(AuditEvent {
                actor: Some(c.user.id),
                subject: Some(c.user.id),
                detail: Some(match &checked.client {
                    Some(client) => format!("rp-initiated by client {}", client.id),
                    None => "rp-initiated".to_owned(),
                }),
                ..self.event(AuditKind::Logout, &c.auth.client)
            })
            .await;
        }
        Ok(LogoutStep::Done(checked.redirect.clone()))
    }
}
