//! The access-token hook over HTTP (issue 20): the domain's
//! [`AccessTokenHook`] port.
//!
//! Before an access token is signed, Tessera posts
//! `{"type":"access_token.issuing","timestamp","data":{…}}` to the configured
//! URL, signed as webhook messages are (Standard Webhooks: `webhook-id`
//! `msg_<the token's jti>`, `webhook-timestamp`, `webhook-signature`), and
//! reads `{"claims":{…}}` back from a `200`. Nothing else is accepted: no
//! redirect is followed, the answer is read up to
//! [`MAX_ANSWER_BYTES`], and the whole call has the configured timeout. A
//! failure is logged here (without the URL's query) and reported to the
//! domain, which decides between failing open and closed.

use std::time::Duration;

use chrono::SecondsFormat;
use standardwebhooks::{HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP};
use tessera_domain::model::{AccessTokenHookRequest, CustomClaims, HookError};
use tessera_domain::ports::AccessTokenHook;

/// The longest answer read, in bytes.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The default timeout of one call, in milliseconds
/// (`ACCESS_TOKEN_HOOK_TIMEOUT_MS`).
pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;

/// Where the hook is and how to call it.
#[derive(Clone)]
pub struct TokenHookTarget {
    /// The endpoint (`https://`, or `http://` to loopback).
    pub url: String,
    /// The signing secret, `whsec_` and base64 (as webhook secrets).
    pub secret: String,
    /// How long one call may take in all.
    pub timeout: Duration,
}

impl std::fmt::Debug for TokenHookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenHookTarget")
            .field("url", &self.url)
            .field("secret", &"***")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The HTTP access-token hook; [`HttpAccessTokenHook::disabled`] when none
/// is configured.
#[derive(Debug, Clone, Default)]
pub struct HttpAccessTokenHook {
    target: Option<(TokenHookTarget, reqwest::Client)>,
}

impl HttpAccessTokenHook {
    /// No hook: tokens are signed as they are.
    #[must_use]
    pub fn disabled() -> Self {
        Self::default()
    }

    /// A hook calling `target`.
    ///
    /// # Errors
    /// When the secret is not `whsec_` and base64, or the HTTP client
    /// cannot be built.
    pub fn new(target: TokenHookTarget) -> Result<Self, String> {
        standardwebhooks::Webhook::new(&target.secret)
            .map_err(|e| format!("the signing secret is unusable: {e}"))?;
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(target.timeout)
            .connect_timeout(target.timeout)
            .user_agent(concat!("Tessera-Hooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            target: Some((target, http)),
        })
    }
}

/// The body posted for `request`.
#[must_use]
pub fn hook_payload(
    request: &AccessTokenHookRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    serde_json::json!({
        "type": "access_token.issuing",
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": {
            "user_id": request.user_id,
            "user_uuid": request.user_uuid,
            "username": request.username,
            "email": request.email,
            "email_verified": request.email_verified,
            "roles": request.roles,
            "session_id": request.session_id,
            "client_id": request.client_id,
            "amr": request.amr,
            "aal": request.aal,
            "issued_at": time(request.issued_at),
            "expires_at": time(request.expires_at),
        },
    })
    .to_string()
}

/// The claims of an answer body: `{"claims": {…}}`.
///
/// # Errors
/// [`HookError::Refused`] for anything else.
pub fn answer_claims(body: &[u8]) -> Result<CustomClaims, HookError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| HookError::Refused("the answer is not JSON".to_owned()))?;
    match value.get("claims") {
        Some(serde_json::Value::Object(claims)) => Ok(claims.clone()),
        _ => Err(HookError::Refused(
            "the answer has no \"claims\" object".to_owned(),
        )),
    }
}

impl AccessTokenHook for HttpAccessTokenHook {
    fn enabled(&self) -> bool {
        self.target.is_some()
    }

    async fn custom_claims(
        &self,
        request: &AccessTokenHookRequest,
    ) -> Result<CustomClaims, HookError> {
        let Some((target, http)) = &self.target else {
            return Ok(CustomClaims::new());
        };
        let outcome = call(target, http, request).await;
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "access-token hook failed");
        }
        outcome
    }
}

async fn call(
    target: &TokenHookTarget,
    http: &reqwest::Client,
    request: &AccessTokenHookRequest,
) -> Result<CustomClaims, HookError> {
    let now = chrono::Utc::now();
    let body = hook_payload(request, now);
    let id = format!("msg_{}", request.token_id.simple());
    let signature = crate::signature(&target.secret, &id, now.timestamp(), &body)
        .map_err(HookError::Unavailable)?;
    let sent = http
        .post(&target.url)
        .header(HEADER_WEBHOOK_ID, &id)
        .header(HEADER_WEBHOOK_TIMESTAMP, now.timestamp().to_string())
        .header(HEADER_WEBHOOK_SIGNATURE, signature)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    let mut answer = sent.map_err(|e| {
        // reqwest's error names the URL: only the kind of failure is kept.
        HookError::Unavailable(
            if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "request failed"
            }
            .to_owned(),
        )
    })?;
    if answer.status() != reqwest::StatusCode::OK {
        return Err(HookError::Unavailable(format!(
            "answered {}",
            answer.status().as_u16()
        )));
    }
    let mut body = Vec::new();
    loop {
        match answer.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(HookError::Refused(format!(
                        "the answer is longer than {MAX_ANSWER_BYTES} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(HookError::Unavailable(
                    if e.is_timeout() {
                        "timed out"
                    } else {
                        "the answer broke off"
                    }
                    .to_owned(),
                ));
            }
        }
    }
    answer_claims(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_claims_object_is_an_answer() {
        assert_eq!(
            answer_claims(br#"{"claims":{"tenant":"acme"}}"#).unwrap()["tenant"],
            "acme"
        );
        for bad in [
            &br#"{"claims":["x"]}"#[..],
            br#"{"tenant":"acme"}"#,
            b"not json",
            b"[]",
        ] {
            assert!(matches!(answer_claims(bad), Err(HookError::Refused(_))));
        }
    }

    #[test]
    fn a_secret_that_is_not_whsec_base64_is_refused() {
        let target = |secret: &str| TokenHookTarget {
            url: "https://hooks.example.com/claims".to_owned(),
            secret: secret.to_owned(),
            timeout: Duration::from_secs(1),
        };
        assert!(HttpAccessTokenHook::new(target("not base64 !!")).is_err());
        let hook =
            HttpAccessTokenHook::new(target("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        assert!(hook.enabled());
        assert!(!HttpAccessTokenHook::disabled().enabled());
        assert!(
            !format!("{:?}", target("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).contains("MfKQ")
        );
    }
}
