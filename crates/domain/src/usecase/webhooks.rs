//! Webhooks (issue 20): the endpoints administrators subscribe (holders of
//! `client:manage`, the permission of every integration, with a recent
//! authentication; or the command line), the events no stored change
//! carries, and the delivery of queued messages with retries.
//!
//! Events of changes to accounts (created, e-mail verified, password changed
//! or reset, enabled, disabled, deleted, roles) are queued by the user store
//! in the change's own transaction. Sign-ins, failed sign-ins, ended
//! sessions and factor changes are queued here right after the change, from
//! its audit entry ([`announced_event`]): sessions may live in Redis, where
//! no transaction spans the SQL outbox.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{Actor, AuthService};
use crate::clock::IdSource as _;
use crate::error::{AuthError, StoreError};
use crate::model::{
    AccountEvent, AuditEvent, AuditKind, DueDelivery, EndpointUrlProblem, EventType,
    MAX_WEBHOOK_DESCRIPTION_CHARS, WebhookDelivery, WebhookEndpoint, WebhookId, WebhookSecret,
    check_endpoint_url,
};
use crate::ports::{NewWebhookEndpoint, Ports, WebhookStore as _, WebhookTransport as _};

/// Events one [`AuthService::dispatch_webhook_events`] call turns into deliveries at most.
pub const DISPATCH_BATCH: usize = 500;
/// How long a claimed delivery is reserved for its worker, in seconds:
/// three times the longest attempt (`tessera-webhooks`: 10 s).
pub const DELIVERY_LEASE_SECS: i64 = 30;
/// The most deliveries the console lists per endpoint.
pub const DELIVERIES_SHOWN: usize = 100;

/// Why a webhook request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The URL is refused: why.
    #[error("invalid endpoint URL")]
    UrlInvalid(EndpointUrlProblem),
    /// No event type was named, or one is unknown (named).
    #[error("unknown or missing event type: {0}")]
    EventsInvalid(String),
    /// The description is longer than 200 characters.
    #[error("description too long")]
    DescriptionTooLong,
    /// The description holds a control or text-direction character (which
    /// could make the console show something else than was stored).
    #[error("description holds control or text-direction characters")]
    DescriptionInvalid,
    /// No endpoint has this id.
    #[error("unknown webhook endpoint")]
    UnknownEndpoint,
    /// The caller may not manage webhooks, must re-authenticate, or a store failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl From<StoreError> for WebhookError {
    fn from(e: StoreError) -> Self {
        Self::Auth(e.into())
    }
}

impl WebhookError {
    /// A machine-readable code (`webhook_url_invalid`, …) for the API's answers.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::UrlInvalid(EndpointUrlProblem::NotHttps) => "webhook_url_not_https",
            Self::UrlInvalid(_) => "webhook_url_invalid",
            Self::EventsInvalid(_) => "webhook_events_invalid",
            Self::DescriptionTooLong => "webhook_description_too_long",
            Self::DescriptionInvalid => "webhook_description_invalid",
            Self::UnknownEndpoint => "webhook_not_found",
            Self::Auth(_) => "webhook_refused",
        }
    }
}

/// The event a stored change does not carry that an audit entry announces:
/// sign-ins (`user.signed_in`), failed sign-ins of an existing account
/// (`user.sign_in_failed`, its reason), sessions ended by someone or
/// something other than their own logout (`session.revoked`, the audit
/// kind as reason), factors enrolled or removed (`factor.*`, the kind).
#[must_use]
pub fn announced_event(entry: &AuditEvent) -> Option<AccountEvent> {
    let user = entry.subject?;
    let (kind, detail) = match entry.kind {
        AuditKind::LoginSucceeded => (EventType::UserSignedIn, None),
        AuditKind::LoginFailed => (EventType::UserSignInFailed, entry.detail.clone()),
        AuditKind::SessionEnded
        | AuditKind::SessionEvicted
        | AuditKind::SessionsRevoked
        | AuditKind::RefreshReused
        | AuditKind::AuthorizationCodeReused => (
            EventType::SessionRevoked,
            Some(entry.kind.as_str().to_owned()),
        ),
        AuditKind::FactorEnrolled => (EventType::FactorEnrolled, entry.detail.clone()),
        AuditKind::FactorRemoved => (EventType::FactorRemoved, entry.detail.clone()),
        _ => return None,
    };
    Some(AccountEvent {
        kind,
        user,
        at: entry.at,
        detail: detail.map(|d| d.chars().take(64).collect()),
    })
}

/// The event types named in `names` (wire names, `user.created`, …), or
/// every type for `*`; at least one.
///
/// # Errors
/// [`WebhookError::EventsInvalid`] naming the first unknown name, or when
/// none is given.
pub fn parse_event_types<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<EventType>, WebhookError> {
    let mut types = Vec::new();
    for name in names {
        let name = name.trim();
        if name == "*" {
            return Ok(EventType::ALL.to_vec());
        }
        let kind = EventType::parse(name)
            .ok_or_else(|| WebhookError::EventsInvalid(name.chars().take(40).collect()))?;
        if !types.contains(&kind) {
            types.push(kind);
        }
    }
    if types.is_empty() {
        return Err(WebhookError::EventsInvalid(String::new()));
    }
    types.sort();
    Ok(types)
}

impl<P: Ports> AuthService<P> {
    /// Queues the event `entry` announces ([`announced_event`]), if any.
    /// A store failure is logged by the caller's audit trail only: the
    /// change it follows has happened.
    pub(super) async fn announce(&self, entry: &AuditEvent) {
        if let Some(event) = announced_event(entry) {
            let _ = self.ports.webhooks.enqueue(&[event]).await;
        }
    }

    /// Every endpoint, by id.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`], [`AuthError::ReauthenticationRequired`],
    /// [`AuthError::Unavailable`].
    pub async fn list_webhooks(&self, actor: &Actor) -> Result<Vec<WebhookEndpoint>, AuthError> {
        self.client_manager(actor).await?;
        Ok(self.ports.webhooks.endpoints().await?)
    }

    /// Subscribes `url` to `events` ([`parse_event_types`]) with a new
    /// secret: `whsec_` and the base64 of 32 random bytes (Standard
    /// Webhooks' format), returned this once.
    ///
    /// # Errors
    /// [`WebhookError::UrlInvalid`] ([`check_endpoint_url`]),
    /// [`WebhookError::EventsInvalid`], [`WebhookError::DescriptionTooLong`],
    /// and as [`Self::list_webhooks`].
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        url: &str,
        events: &[&str],
        description: &str,
    ) -> Result<WebhookEndpoint, WebhookError> {
        self.client_manager(actor).await?;
        let url = url.trim();
        check_endpoint_url(url).map_err(WebhookError::UrlInvalid)?;
        let events = parse_event_types(events.iter().copied())?;
        let description = description.trim();
        if description.chars().count() > MAX_WEBHOOK_DESCRIPTION_CHARS {
            return Err(WebhookError::DescriptionTooLong);
        }
        if description
            .chars()
            .any(|c| c.is_control() || crate::model::is_direction_control(c))
        {
            return Err(WebhookError::DescriptionInvalid);
        }
        let endpoint = self
            .ports
            .webhooks
            .create_endpoint(
                &NewWebhookEndpoint {
                    url: url.to_owned(),
                    events,
                    description: description.to_owned(),
                    secret: self.new_webhook_secret(),
                },
                self.now(),
            )
            .await?;
        self.webhook_audit(actor, AuditKind::WebhookCreated, &endpoint.id, url)
            .await;
        Ok(endpoint)
    }

    /// Enables or disables endpoint `id`.
    ///
    /// # Errors
    /// [`WebhookError::UnknownEndpoint`], and as [`Self::list_webhooks`].
    pub async fn set_webhook_enabled(
        &self,
        actor: &Actor,
        id: WebhookId,
        enabled: bool,
    ) -> Result<(), WebhookError> {
        self.client_manager(actor).await?;
        if !self
            .ports
            .webhooks
            .set_endpoint_enabled(id, enabled)
            .await?
        {
            return Err(WebhookError::UnknownEndpoint);
        }
        let change = if enabled { "enabled" } else { "disabled" };
        self.webhook_audit(actor, AuditKind::WebhookUpdated, &id, change)
            .await;
        Ok(())
    }

    /// Removes endpoint `id` and its deliveries.
    ///
    /// # Errors
    /// [`WebhookError::UnknownEndpoint`], and as [`Self::list_webhooks`].
    pub async fn delete_webhook(&self, actor: &Actor, id: WebhookId) -> Result<(), WebhookError> {
        self.client_manager(actor).await?;
        if !self.ports.webhooks.delete_endpoint(id).await? {
            return Err(WebhookError::UnknownEndpoint);
        }
        self.webhook_audit(actor, AuditKind::WebhookDeleted, &id, "deleted")
            .await;
        Ok(())
    }

    /// Endpoint `id`'s newest deliveries ([`DELIVERIES_SHOWN`] at most) with
    /// each attempt, newest first.
    ///
    /// # Errors
    /// [`WebhookError::UnknownEndpoint`], and as [`Self::list_webhooks`].
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: WebhookId,
    ) -> Result<Vec<WebhookDelivery>, WebhookError> {
        self.client_manager(actor).await?;
        if !self
            .ports
            .webhooks
            .endpoints()
            .await?
            .iter()
            .any(|e| e.id == id)
        {
            return Err(WebhookError::UnknownEndpoint);
        }
        Ok(self.ports.webhooks.deliveries(id, DELIVERIES_SHOWN).await?)
    }

    /// Turns queued events into deliveries (up to [`DISPATCH_BATCH`]);
    /// returns how many events it took. The webhook worker calls it.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn dispatch_webhook_events(&self) -> Result<usize, StoreError> {
        self.ports
            .webhooks
            .dispatch(self.now(), DISPATCH_BATCH)
            .await
    }

    /// Reserves up to `limit` deliveries due now
    /// ([`crate::ports::WebhookStore::claim_due`]) for
    /// [`DELIVERY_LEASE_SECS`].
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn claim_webhook_deliveries(
        &self,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        self.ports
            .webhooks
            .claim_due(
                self.now(),
                limit,
                chrono::Duration::seconds(DELIVERY_LEASE_SECS),
            )
            .await
    }

    /// Makes one attempt of `delivery` and records it: delivered on a 2xx
    /// answer; otherwise tried again as the retry policy says
    /// ([`crate::model::RetryPolicy`], `WEBHOOK_FIRST_RETRY`,
    /// `WEBHOOK_GIVE_UP_AFTER`), or failed for good; true when delivered.
    ///
    /// # Errors
    /// [`StoreError`] when the attempt cannot be recorded (the lease then
    /// ends and the delivery is tried again: the receiver may see it twice,
    /// with the same `webhook-id`).
    pub async fn attempt_webhook_delivery(
        &self,
        delivery: &DueDelivery,
    ) -> Result<bool, StoreError> {
        let started = self.now();
        let outcome = self.ports.webhook_transport.post(delivery, started).await;
        let now = self.now();
        let retry_at = if outcome.accepted() {
            None
        } else {
            self.settings
                .webhooks
                .retry
                .next_attempt(delivery.attempts + 1, now, delivery.event.at)
        };
        self.ports
            .webhooks
            .record_attempt(delivery.id, now, &outcome, retry_at)
            .await?;
        Ok(outcome.accepted())
    }

    fn new_webhook_secret(&self) -> WebhookSecret {
        let mut bytes = Vec::with_capacity(48);
        for _ in 0..3 {
            bytes.extend_from_slice(self.ports.ids.new_uuid().as_bytes());
        }
        bytes.truncate(32);
        WebhookSecret::new(format!("whsec_{}", STANDARD.encode(bytes)))
    }

    async fn webhook_audit(&self, actor: &Actor, kind: AuditKind, id: &WebhookId, what: &str) {
        let what: String = what.chars().take(100).collect();
        self.audit(AuditEvent {
            actor: actor.user.as_ref().map(|u| u.id),
            detail: Some(format!("webhook {id} {what}")),
            ..self.event(kind, &actor.client)
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_lists_parse_or_name_the_unknown_one() {
        assert_eq!(
            parse_event_types(["user.deleted", "user.created", "user.created"]).unwrap(),
            vec![EventType::UserCreated, EventType::UserDeleted]
        );
        assert_eq!(
            parse_event_types(["*"]).unwrap().len(),
            EventType::ALL.len()
        );
        assert!(matches!(
            parse_event_types(["user.created", "user.exploded"]),
            Err(WebhookError::EventsInvalid(n)) if n == "user.exploded"
        ));
        assert!(matches!(
            parse_event_types([]),
            Err(WebhookError::EventsInvalid(_))
        ));
    }
}
