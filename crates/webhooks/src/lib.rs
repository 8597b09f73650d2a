//! Tessera's webhook transport (issue 20): the domain's
//! [`WebhookTransport`] port over HTTP.
//!
//! A message is the JSON payload `{"type", "timestamp", "data"}` that the
//! Standard Webhooks specification recommends, posted with its three
//! headers: `webhook-id` (`msg_<event id>`, the same on every attempt),
//! `webhook-timestamp` (Unix seconds of this attempt) and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
//! computed by the `standardwebhooks` crate of the specification's
//! authors). `data` holds `user_id` (the account's integer id) and, for the
//! types that have one, `role`, `factor` or `reason`.
//!
//! No redirect is followed (an endpoint answers itself; a redirect could
//! point anywhere), connecting waits 5 s and an attempt 10 s at most, and
//! the answer's body is not read.

mod token_hook;

pub use token_hook::{
    DEFAULT_TIMEOUT_MS, HttpAccessTokenHook, MAX_ANSWER_BYTES, TokenHookTarget, answer_claims,
    hook_payload,
};

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use standardwebhooks::{HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP};
use tessera_domain::model::{AccountEvent, AttemptOutcome, DueDelivery};
use tessera_domain::ports::WebhookTransport;

/// How long connecting may take, in seconds.
pub const CONNECT_TIMEOUT_SECS: u64 = 5;
/// How long one attempt may take in all, in seconds.
pub const ATTEMPT_TIMEOUT_SECS: u64 = 10;

/// Posts webhook messages with its own HTTP client.
#[derive(Debug, Clone)]
pub struct HttpWebhookTransport {
    http: reqwest::Client,
}

impl HttpWebhookTransport {
    /// A transport with rustls (aws-lc-rs), the web PKI's roots, no
    /// redirects and the timeouts above.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new() -> Result<Self, String> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS))
            .timeout(Duration::from_secs(ATTEMPT_TIMEOUT_SECS))
            .user_agent(concat!("Tessera-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { http })
    }
}

/// The message body of `event`: `{"type","timestamp","data"}`.
#[must_use]
pub fn payload(event: &AccountEvent) -> String {
    let mut data = serde_json::Map::new();
    data.insert("user_id".to_owned(), event.user.0.into());
    if let (Some(key), Some(detail)) = (event.kind.detail_key(), &event.detail) {
        data.insert(key.to_owned(), detail.clone().into());
    }
    serde_json::json!({
        "type": event.kind.as_str(),
        "timestamp": event.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// The `webhook-signature` header of a message: `v1,<base64>`.
///
/// # Errors
/// When the secret is not `whsec_` and base64.
pub fn signature(
    secret: &str,
    message_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, String> {
    standardwebhooks::Webhook::new(secret)
        .and_then(|w| w.sign(message_id, timestamp, body.as_bytes()))
        .map_err(|e| e.to_string())
}

impl WebhookTransport for HttpWebhookTransport {
    async fn post(&self, delivery: &DueDelivery, now: DateTime<Utc>) -> AttemptOutcome {
        let started = Instant::now();
        let body = payload(&delivery.event);
        let timestamp = now.timestamp();
        let signed = match signature(
            delivery.secret.expose(),
            &delivery.message_id,
            timestamp,
            &body,
        ) {
            Ok(s) => s,
            Err(e) => {
                return AttemptOutcome {
                    status: None,
                    error: Some(format!("secret unusable: {e}")),
                    duration_ms: 0,
                };
            }
        };
        let sent = self
            .http
            .post(&delivery.url)
            .header(HEADER_WEBHOOK_ID, &delivery.message_id)
            .header(HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(HEADER_WEBHOOK_SIGNATURE, signed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match sent {
            Ok(answer) => AttemptOutcome {
                status: Some(answer.status().as_u16()),
                error: None,
                duration_ms,
            },
            Err(e) => {
                // reqwest's error names the URL, which may carry a token in
                // its query: only the kind of failure is kept.
                let kind = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "could not connect"
                } else {
                    "request failed"
                };
                AttemptOutcome {
                    status: None,
                    error: Some(kind.to_owned()),
                    duration_ms,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tessera_domain::model::{EventType, UserId};

    use super::*;

    #[test]
    fn payload_names_the_type_the_account_and_the_detail() {
        let event = AccountEvent {
            kind: EventType::RoleGranted,
            user: UserId(7),
            at: DateTime::<Utc>::UNIX_EPOCH,
            detail: Some("admin".to_owned()),
        };
        let v: serde_json::Value = serde_json::from_str(&payload(&event)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "type": "role.granted",
                "timestamp": "1970-01-01T00:00:00.000Z",
                "data": {"user_id": 7, "role": "admin"}
            })
        );
    }

    /// The example of the Standard Webhooks specification's test vectors
    /// (its reference libraries' tests): secret, id, timestamp and body give
    /// this signature.
    #[test]
    fn signatures_match_the_specification_vector() {
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
