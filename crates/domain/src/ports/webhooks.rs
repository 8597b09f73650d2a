//! Webhooks (issue 20): the endpoints, the event outbox and its deliveries,
//! and the transport that posts a signed message.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{
    AccountEvent, AttemptOutcome, DueDelivery, EventType, WebhookDelivery, WebhookEndpoint,
    WebhookId, WebhookSecret,
};

/// An endpoint to create (its id and creation time come from the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    /// Where messages go (checked by [`crate::model::check_endpoint_url`]).
    pub url: String,
    /// The event types it receives.
    pub events: Vec<EventType>,
    /// A note for administrators.
    pub description: String,
    /// The signing secret.
    pub secret: WebhookSecret,
}

/// Where endpoints, queued events and deliveries live. Stores that change
/// accounts queue their events in the change's own transaction (the
/// `events` arguments of [`crate::ports::UserRepository`] and
/// [`crate::ports::UserDirectory`]); [`WebhookStore::enqueue`] queues the
/// events no stored change accompanies (sign-ins and failed sign-ins,
/// sessions ended in a session store of its own).
pub trait WebhookStore: Send + Sync + 'static {
    /// Stores a new endpoint, enabled.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn create_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<WebhookEndpoint, StoreError>> + Send;

    /// Every endpoint, by id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn endpoints(&self) -> impl Future<Output = Result<Vec<WebhookEndpoint>, StoreError>> + Send;

    /// Enables or disables an endpoint; false when there is none with `id`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn set_endpoint_enabled(
        &self,
        id: WebhookId,
        enabled: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes an endpoint with its deliveries; false when there is none.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete_endpoint(
        &self,
        id: WebhookId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Queues events no stored change accompanies.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails (the events are then lost: the
    /// caller logs them).
    fn enqueue(
        &self,
        events: &[AccountEvent],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Turns up to `limit` queued events, oldest first, into one delivery
    /// per endpoint that wants each (enabled and subscribed at this moment),
    /// due at `now`; returns how many events it took. Each event is taken
    /// once, even by concurrent callers.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn dispatch(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Reserves up to `limit` pending deliveries due at `now` for `lease`
    /// and returns them. A delivery waits while an earlier event of the same
    /// account is still pending for the same endpoint (in order per
    /// account); one reserved by another worker is skipped until its lease
    /// ends.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: chrono::Duration,
    ) -> impl Future<Output = Result<Vec<DueDelivery>, StoreError>> + Send;

    /// Records an attempt of delivery `id` made at `at`: delivered when
    /// `outcome` was accepted; otherwise pending again until `retry_at`, or
    /// failed for good when `retry_at` is `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn record_attempt(
        &self,
        id: i64,
        at: DateTime<Utc>,
        outcome: &AttemptOutcome,
        retry_at: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The endpoint's `limit` newest deliveries with their attempts, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn deliveries(
        &self,
        endpoint: WebhookId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<WebhookDelivery>, StoreError>> + Send;
}

/// Posts one message to an endpoint: the Standard Webhooks headers
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`), the JSON
/// payload `{type, timestamp, data}`; no redirect followed, a bounded wait.
pub trait WebhookTransport: Send + Sync + 'static {
    /// Makes one attempt of `delivery` at `now` and says what came back;
    /// never fails (a transport error is an outcome without a status).
    fn post(
        &self,
        delivery: &DueDelivery,
        now: DateTime<Utc>,
    ) -> impl Future<Output = AttemptOutcome> + Send;
}
