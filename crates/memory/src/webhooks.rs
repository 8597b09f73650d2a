//! Webhook endpoints, queued events and deliveries in memory (issue 20), and
//! a transport that records what it would post.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tessera_domain::error::StoreError;
use tessera_domain::model::{AccessTokenHookRequest, CustomClaims, HookError};
use tessera_domain::model::{
    AccountEvent, AttemptOutcome, DeliveryAttempt, DeliveryState, DueDelivery, PendingEvent,
    UserId, WebhookDelivery, WebhookEndpoint, WebhookId,
};
use tessera_domain::ports::{AccessTokenHook, NewWebhookEndpoint, WebhookStore, WebhookTransport};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, Clone)]
struct Delivery {
    endpoint: WebhookId,
    event_id: i64,
    state: DeliveryState,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    leased_until: Option<DateTime<Utc>>,
    history: Vec<DeliveryAttempt>,
}

#[derive(Debug, Default)]
struct Tables {
    next_endpoint: i64,
    endpoints: BTreeMap<i64, WebhookEndpoint>,
    next_event: i64,
    /// Every event ever queued, by id (kept for the deliveries that name them).
    events: BTreeMap<i64, AccountEvent>,
    /// Events not yet dispatched.
    queued: Vec<i64>,
    next_delivery: i64,
    deliveries: BTreeMap<i64, Delivery>,
}

/// Webhooks in maps. [`crate::MemoryUsers`] and [`crate::MemoryFactors`]
/// built with the same `MemoryWebhooks` queue their events under the lock
/// of their change, which is what a transaction gives the SQL store.
#[derive(Debug, Clone, Default)]
pub struct MemoryWebhooks {
    tables: Arc<Mutex<Tables>>,
}

impl MemoryWebhooks {
    /// Queues `events` about `user` (called by the stores that
    /// change accounts, while they hold their own lock).
    pub(crate) fn queue(&self, user: UserId, events: &[PendingEvent]) {
        let mut t = lock(&self.tables);
        for e in events {
            t.push(e.about(user));
        }
    }

    /// Every event ever queued, oldest first (for tests).
    #[must_use]
    pub fn events(&self) -> Vec<AccountEvent> {
        lock(&self.tables).events.values().cloned().collect()
    }
}

impl Tables {
    fn push(&mut self, event: AccountEvent) {
        self.next_event += 1;
        let id = self.next_event;
        self.events.insert(id, event);
        self.queued.push(id);
    }
}

impl WebhookStore for MemoryWebhooks {
    async fn create_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
        at: DateTime<Utc>,
    ) -> Result<WebhookEndpoint, StoreError> {
        let mut t = lock(&self.tables);
        t.next_endpoint += 1;
        let stored = WebhookEndpoint {
            id: WebhookId(t.next_endpoint),
            url: endpoint.url.clone(),
            events: endpoint.events.clone(),
            description: endpoint.description.clone(),
            enabled: true,
            secret: endpoint.secret.clone(),
            created_at: at,
        };
        t.endpoints.insert(stored.id.0, stored.clone());
        Ok(stored)
    }

    async fn endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        Ok(lock(&self.tables).endpoints.values().cloned().collect())
    }

    async fn set_endpoint_enabled(&self, id: WebhookId, enabled: bool) -> Result<bool, StoreError> {
        Ok(lock(&self.tables)
            .endpoints
            .get_mut(&id.0)
            .map(|e| e.enabled = enabled)
            .is_some())
    }

    async fn delete_endpoint(&self, id: WebhookId) -> Result<bool, StoreError> {
        let mut t = lock(&self.tables);
        t.deliveries.retain(|_, d| d.endpoint != id);
        Ok(t.endpoints.remove(&id.0).is_some())
    }

    async fn enqueue(&self, events: &[AccountEvent]) -> Result<(), StoreError> {
        let mut t = lock(&self.tables);
        for e in events {
            t.push(e.clone());
        }
        Ok(())
    }

    async fn dispatch(&self, now: DateTime<Utc>, limit: usize) -> Result<usize, StoreError> {
        let mut t = lock(&self.tables);
        let n = limit.min(t.queued.len());
        let taken: Vec<i64> = t.queued.drain(..n).collect();
        for event_id in &taken {
            let Some(kind) = t.events.get(event_id).map(|e| e.kind) else {
                continue;
            };
            let wanting: Vec<WebhookId> = t
                .endpoints
                .values()
                .filter(|e| e.wants(kind))
                .map(|e| e.id)
                .collect();
            for endpoint in wanting {
                t.next_delivery += 1;
                let id = t.next_delivery;
                t.deliveries.insert(
                    id,
                    Delivery {
                        endpoint,
                        event_id: *event_id,
                        state: DeliveryState::Pending,
                        attempts: 0,
                        next_attempt_at: now,
                        leased_until: None,
                        history: Vec::new(),
                    },
                );
            }
        }
        Ok(taken.len())
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: chrono::Duration,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut t = lock(&self.tables);
        // The first pending delivery of each (endpoint, account), by event.
        let mut first: BTreeMap<(WebhookId, UserId), (i64, i64)> = BTreeMap::new();
        for (id, d) in &t.deliveries {
            if d.state != DeliveryState::Pending {
                continue;
            }
            let Some(user) = t.events.get(&d.event_id).map(|e| e.user) else {
                continue;
            };
            let entry = first.entry((d.endpoint, user)).or_insert((d.event_id, *id));
            if d.event_id < entry.0 {
                *entry = (d.event_id, *id);
            }
        }
        let mut due: Vec<i64> = first
            .values()
            .map(|(_, id)| *id)
            .filter(|id| {
                t.deliveries.get(id).is_some_and(|d| {
                    d.next_attempt_at <= now && d.leased_until.is_none_or(|l| l <= now)
                })
            })
            .collect();
        due.sort_unstable();
        due.truncate(limit);
        let mut out = Vec::with_capacity(due.len());
        for id in due {
            let Some(d) = t.deliveries.get(&id).cloned() else {
                continue;
            };
            let (Some(event), Some(endpoint)) =
                (t.events.get(&d.event_id), t.endpoints.get(&d.endpoint.0))
            else {
                continue;
            };
            out.push(DueDelivery {
                id,
                message_id: format!("msg_{}", d.event_id),
                event: event.clone(),
                attempts: d.attempts,
                url: endpoint.url.clone(),
                secret: endpoint.secret.clone(),
            });
            if let Some(d) = t.deliveries.get_mut(&id) {
                d.leased_until = Some(now + lease);
            }
        }
        Ok(out)
    }

    async fn record_attempt(
        &self,
        id: i64,
        at: DateTime<Utc>,
        outcome: &AttemptOutcome,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        if let Some(d) = lock(&self.tables).deliveries.get_mut(&id) {
            d.attempts += 1;
            d.leased_until = None;
            d.history.push(DeliveryAttempt {
                at,
                status: outcome.status,
                error: outcome.error.clone(),
                duration_ms: outcome.duration_ms,
            });
            match (outcome.accepted(), retry_at) {
                (true, _) => d.state = DeliveryState::Delivered,
                (false, Some(next)) => d.next_attempt_at = next,
                (false, None) => d.state = DeliveryState::Failed,
            }
        }
        Ok(())
    }

    async fn deliveries(
        &self,
        endpoint: WebhookId,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let t = lock(&self.tables);
        Ok(t.deliveries
            .iter()
            .rev()
            .filter(|(_, d)| d.endpoint == endpoint)
            .take(limit)
            .filter_map(|(id, d)| {
                Some(WebhookDelivery {
                    id: *id,
                    endpoint,
                    message_id: format!("msg_{}", d.event_id),
                    event: t.events.get(&d.event_id)?.clone(),
                    state: d.state,
                    attempts: d.attempts,
                    next_attempt_at: d.next_attempt_at,
                    history: d.history.clone(),
                })
            })
            .collect())
    }
}

/// A transport that posts nothing: it records each delivery and answers
/// with the status tests set (200 by default; `None` for no answer).
#[derive(Debug, Clone)]
pub struct RecordingTransport {
    answer: Arc<Mutex<Option<u16>>>,
    posted: Arc<Mutex<Vec<DueDelivery>>>,
}

impl Default for RecordingTransport {
    fn default() -> Self {
        Self {
            answer: Arc::new(Mutex::new(Some(200))),
            posted: Arc::default(),
        }
    }
}

impl RecordingTransport {
    /// Answers later attempts with `status` (`None`: no answer, as when the
    /// receiver is down).
    pub fn answer(&self, status: Option<u16>) {
        *lock(&self.answer) = status;
    }

    /// Every delivery attempted, in order.
    #[must_use]
    pub fn posted(&self) -> Vec<DueDelivery> {
        lock(&self.posted).clone()
    }
}

impl WebhookTransport for RecordingTransport {
    async fn post(&self, delivery: &DueDelivery, _now: DateTime<Utc>) -> AttemptOutcome {
        lock(&self.posted).push(delivery.clone());
        let status = *lock(&self.answer);
        AttemptOutcome {
            status,
            error: status.is_none().then(|| "connection refused".to_owned()),
            duration_ms: 0,
        }
    }
}

/// An access-token hook for tests (issue 20): off by default; once given an
/// answer, it returns it to every call and records each request.
#[derive(Debug, Clone, Default)]
pub struct ScriptedTokenHook {
    answer: Arc<Mutex<Option<Result<CustomClaims, HookError>>>>,
    asked: Arc<Mutex<Vec<AccessTokenHookRequest>>>,
}

impl ScriptedTokenHook {
    /// Turns the hook on, answering `answer` from now on.
    pub fn answer(&self, answer: Result<CustomClaims, HookError>) {
        *lock(&self.answer) = Some(answer);
    }

    /// Every request made, in order.
    #[must_use]
    pub fn asked(&self) -> Vec<AccessTokenHookRequest> {
        lock(&self.asked).clone()
    }
}

impl AccessTokenHook for ScriptedTokenHook {
    fn enabled(&self) -> bool {
        lock(&self.answer).is_some()
    }

    async fn custom_claims(
        &self,
        request: &AccessTokenHookRequest,
    ) -> Result<CustomClaims, HookError> {
        lock(&self.asked).push(request.clone());
        lock(&self.answer)
            .clone()
            .unwrap_or_else(|| Ok(CustomClaims::new()))
    }
}
