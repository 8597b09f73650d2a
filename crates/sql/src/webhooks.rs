//! Webhooks in SQL (issue 20): `webhook_endpoints`, `webhook_events` (the
//! event outbox, written in the transaction of the change that causes each
//! event), `webhook_deliveries` and `webhook_attempts`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use tessera_domain::error::StoreError;
use tessera_domain::model::{
    AccountEvent, AttemptOutcome, DeliveryAttempt, DeliveryState, DueDelivery, EventType, UserId,
    WebhookDelivery, WebhookEndpoint, WebhookId, WebhookSecret,
};
use tessera_domain::ports::{NewWebhookEndpoint, WebhookStore};

use crate::db::{Database, unavailable, with_conn};
use crate::rows::{naive, utc};
use crate::schema::{
    webhook_attempts as wa, webhook_deliveries as wd, webhook_endpoints as we, webhook_events as ev,
};

/// Webhook endpoints, events and deliveries in SQL, shared by every
/// instance of one database. Claims are leases taken with a compare-and-swap
/// UPDATE, as the mail outbox's are.
#[derive(Debug, Clone)]
pub struct SqlWebhooks {
    db: Database,
}

impl SqlWebhooks {
    /// The webhooks stored in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The row that queues one event.
#[derive(Insertable, Clone)]
#[diesel(table_name = ev)]
pub(crate) struct NewEventRow {
    event_type: &'static str,
    user_id: i64,
    detail: Option<String>,
    occurred_at: NaiveDateTime,
}

/// The rows that queue `events`.
pub(crate) fn event_rows(events: &[AccountEvent]) -> Vec<NewEventRow> {
    events
        .iter()
        .map(|e| NewEventRow {
            event_type: e.kind.as_str(),
            user_id: e.user.0,
            detail: e.detail.clone(),
            occurred_at: naive(e.at),
        })
        .collect()
}

/// Queues `$events` (`&[PendingEvent]`) about `$user` in the transaction of
/// `$conn` (an expression evaluating to `Result<usize, DieselError>`).
macro_rules! queue_events {
    ($conn:expr, $user:expr, $events:expr) => {{
        let about: Vec<tessera_domain::model::AccountEvent> =
            $events.iter().map(|e| e.about($user)).collect();
        let mut queued: Result<usize, diesel::result::Error> = Ok(0);
        // One statement per row: SQLite's diesel backend has no batch insert
        // of rows with optional columns.
        for row in $crate::webhooks::event_rows(&about) {
            queued = diesel::insert_into($crate::schema::webhook_events::table)
                .values(row)
                .execute($conn)
                .await;
            if queued.is_err() {
                break;
            }
        }
        queued
    }};
}
pub(crate) use queue_events;

type EndpointRow = (i64, String, String, String, bool, String, NaiveDateTime);
/// A claimed delivery: id, event id, attempts, type, account, detail, time, URL, secret.
type DueRow = (
    i64,
    i64,
    i32,
    String,
    i64,
    Option<String>,
    NaiveDateTime,
    String,
    String,
);
/// A listed delivery: id, event id, state, attempts, next attempt, type, account, detail, time.
type DeliveryRow = (
    i64,
    i64,
    String,
    i32,
    NaiveDateTime,
    String,
    i64,
    Option<String>,
    NaiveDateTime,
);
/// An attempt: delivery, time, status, error, duration.
type AttemptRow = (i64, NaiveDateTime, Option<i32>, Option<String>, i64);

fn endpoint(row: EndpointRow) -> WebhookEndpoint {
    let (id, url, types, description, enabled, secret, created_at) = row;
    WebhookEndpoint {
        id: WebhookId(id),
        url,
        events: types.split(' ').filter_map(EventType::parse).collect(),
        description,
        enabled,
        secret: WebhookSecret::new(secret),
        created_at: utc(created_at),
    }
}

fn event(kind: &str, user: i64, detail: Option<String>, at: NaiveDateTime) -> Option<AccountEvent> {
    Some(AccountEvent {
        kind: EventType::parse(kind)?,
        user: UserId(user),
        at: utc(at),
        detail,
    })
}

fn endpoint_columns() -> (
    we::id,
    we::url,
    we::event_types,
    we::description,
    we::enabled,
    we::secret,
    we::created_at,
) {
    (
        we::id,
        we::url,
        we::event_types,
        we::description,
        we::enabled,
        we::secret,
        we::created_at,
    )
}

impl WebhookStore for SqlWebhooks {
    async fn create_endpoint(
        &self,
        endpoint_in: &NewWebhookEndpoint,
        at: DateTime<Utc>,
    ) -> Result<WebhookEndpoint, StoreError> {
        let types: Vec<&str> = endpoint_in.events.iter().map(|t| t.as_str()).collect();
        let types = types.join(" ");
        let secret = endpoint_in.secret.expose().to_owned();
        let row: EndpointRow = with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<EndpointRow, DieselError> {
                diesel::insert_into(we::table)
                    .values((
                        we::url.eq(&endpoint_in.url),
                        we::event_types.eq(&types),
                        we::description.eq(&endpoint_in.description),
                        we::enabled.eq(true),
                        we::secret.eq(&secret),
                        we::created_at.eq(naive(at)),
                    ))
                    .execute(c)
                    .await?;
                // The secret is 256 random bits: it finds the row just made.
                we::table.filter(we::secret.eq(&secret)).select(endpoint_columns()).first(c).await
            })
            .await
            .map_err(unavailable)
        })?;
        Ok(endpoint(row))
    }

    async fn endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows: Vec<EndpointRow> = with_conn!(&self.db, conn => {
            we::table.order(we::id).select(endpoint_columns()).load(conn).await.map_err(unavailable)
        })?;
        Ok(rows.into_iter().map(endpoint).collect())
    }

    async fn set_endpoint_enabled(&self, id: WebhookId, enabled: bool) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            let exists: i64 = we::table.filter(we::id.eq(id.0)).count().get_result(conn).await.map_err(unavailable)?;
            diesel::update(we::table.find(id.0))
                .set(we::enabled.eq(enabled))
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(exists == 1)
        })
    }

    async fn delete_endpoint(&self, id: WebhookId) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                let deliveries: Vec<i64> =
                    wd::table.filter(wd::endpoint_id.eq(id.0)).select(wd::id).load(c).await?;
                for chunk in deliveries.chunks(500) {
                    diesel::delete(wa::table.filter(wa::delivery_id.eq_any(chunk))).execute(c).await?;
                }
                diesel::delete(wd::table.filter(wd::endpoint_id.eq(id.0))).execute(c).await?;
                Ok(diesel::delete(we::table.find(id.0)).execute(c).await? == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn enqueue(&self, events: &[AccountEvent]) -> Result<(), StoreError> {
        let rows = event_rows(events);
        if rows.is_empty() {
            return Ok(());
        }
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<(), DieselError> {
                for row in rows.clone() {
                    diesel::insert_into(ev::table).values(row).execute(c).await?;
                }
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn dispatch(&self, now: DateTime<Utc>, limit: usize) -> Result<usize, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let n = naive(now);
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<usize, DieselError> {
                let queued: Vec<(i64, String, i64)> = ev::table
                    .filter(ev::dispatched.eq(false))
                    .order(ev::id)
                    .limit(limit)
                    .select((ev::id, ev::event_type, ev::user_id))
                    .load(c)
                    .await?;
                if queued.is_empty() {
                    return Ok(0);
                }
                let endpoints: Vec<EndpointRow> =
                    we::table.filter(we::enabled.eq(true)).order(we::id).select(endpoint_columns()).load(c).await?;
                let endpoints: Vec<WebhookEndpoint> = endpoints.into_iter().map(endpoint).collect();
                let mut taken = 0;
                for (event_id, kind, user) in queued {
                    // Taken once: a concurrent dispatcher's update of the
                    // same row waits for this transaction and then finds it taken.
                    let won = diesel::update(ev::table.find(event_id).filter(ev::dispatched.eq(false)))
                        .set(ev::dispatched.eq(true))
                        .execute(c)
                        .await?;
                    if won != 1 {
                        continue;
                    }
                    taken += 1;
                    let Some(kind) = EventType::parse(&kind) else { continue };
                    for e in endpoints.iter().filter(|e| e.wants(kind)) {
                        diesel::insert_into(wd::table)
                            .values((
                                wd::endpoint_id.eq(e.id.0),
                                wd::event_id.eq(event_id),
                                wd::user_id.eq(user),
                                wd::state.eq(DeliveryState::Pending.as_str()),
                                wd::attempts.eq(0),
                                wd::next_attempt_at.eq(n),
                            ))
                            .execute(c)
                            .await?;
                    }
                }
                Ok(taken)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: chrono::Duration,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let n = naive(now);
        let until = naive(now + lease);
        let pending = DeliveryState::Pending.as_str();
        let wanted = limit;
        let limit = i64::try_from(limit.saturating_mul(4)).unwrap_or(i64::MAX);
        with_conn!(write &self.db, conn => {
            // The pending deliveries that are due, oldest event first; one
            // is ready when no earlier event of its account is pending for
            // its endpoint.
            let candidates: Vec<(i64, i64, i64, i64)> = wd::table
                .filter(wd::state.eq(pending))
                .filter(wd::next_attempt_at.le(n))
                .filter(wd::leased_until.is_null().or(wd::leased_until.le(n)))
                .order(wd::event_id)
                .limit(limit)
                .select((wd::id, wd::endpoint_id, wd::user_id, wd::event_id))
                .load(conn)
                .await
                .map_err(unavailable)?;
            let mut mine = Vec::new();
            for (id, endpoint_id, user, event_id) in candidates {
                if mine.len() >= wanted {
                    break;
                }
                let earlier: i64 = wd::table
                    .filter(wd::endpoint_id.eq(endpoint_id))
                    .filter(wd::user_id.eq(user))
                    .filter(wd::state.eq(pending))
                    .filter(wd::event_id.lt(event_id))
                    .count()
                    .get_result(conn)
                    .await
                    .map_err(unavailable)?;
                if earlier > 0 {
                    continue;
                }
                let won = diesel::update(
                    wd::table
                        .filter(wd::id.eq(id))
                        .filter(wd::state.eq(pending))
                        .filter(wd::leased_until.is_null().or(wd::leased_until.le(n))),
                )
                .set(wd::leased_until.eq(Some(until)))
                .execute(conn)
                .await
                .map_err(unavailable)?;
                if won == 1 {
                    mine.push(id);
                }
            }
            let rows: Vec<DueRow> = wd::table
                .inner_join(ev::table)
                .inner_join(we::table)
                .filter(wd::id.eq_any(&mine))
                .order(wd::event_id)
                .select((
                    wd::id,
                    wd::event_id,
                    wd::attempts,
                    ev::event_type,
                    ev::user_id,
                    ev::detail,
                    ev::occurred_at,
                    we::url,
                    we::secret,
                ))
                .load(conn)
                .await
                .map_err(unavailable)?;
            Ok(rows
                .into_iter()
                .filter_map(|(id, event_id, attempts, kind, user, detail, at, url, secret)| {
                    Some(DueDelivery {
                        id,
                        message_id: format!("msg_{event_id}"),
                        event: event(&kind, user, detail, at)?,
                        attempts: u32::try_from(attempts).unwrap_or(0),
                        url,
                        secret: WebhookSecret::new(secret),
                    })
                })
                .collect())
        })
    }

    async fn record_attempt(
        &self,
        id: i64,
        at: DateTime<Utc>,
        outcome: &AttemptOutcome,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let state = match (outcome.accepted(), retry_at) {
            (true, _) => DeliveryState::Delivered,
            (false, Some(_)) => DeliveryState::Pending,
            (false, None) => DeliveryState::Failed,
        };
        let next = naive(retry_at.unwrap_or(at));
        let error: Option<String> = outcome
            .error
            .as_ref()
            .map(|e| e.chars().take(200).collect());
        let status = outcome.status.map(i32::from);
        let duration = i64::try_from(outcome.duration_ms).unwrap_or(i64::MAX);
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<(), DieselError> {
                diesel::insert_into(wa::table)
                    .values((
                        wa::delivery_id.eq(id),
                        wa::attempted_at.eq(naive(at)),
                        wa::status.eq(status),
                        wa::error.eq(&error),
                        wa::duration_ms.eq(duration),
                    ))
                    .execute(c)
                    .await?;
                diesel::update(wd::table.find(id))
                    .set((
                        wd::state.eq(state.as_str()),
                        wd::attempts.eq(wd::attempts + 1),
                        wd::next_attempt_at.eq(next),
                        wd::leased_until.eq(None::<NaiveDateTime>),
                    ))
                    .execute(c)
                    .await?;
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn deliveries(
        &self,
        endpoint_id: WebhookId,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (rows, attempts): (Vec<DeliveryRow>, Vec<AttemptRow>) = with_conn!(&self.db, conn => {
            let rows: Vec<DeliveryRow> = wd::table
                .inner_join(ev::table)
                .filter(wd::endpoint_id.eq(endpoint_id.0))
                .order(wd::id.desc())
                .limit(limit)
                .select((
                    wd::id,
                    wd::event_id,
                    wd::state,
                    wd::attempts,
                    wd::next_attempt_at,
                    ev::event_type,
                    ev::user_id,
                    ev::detail,
                    ev::occurred_at,
                ))
                .load(conn)
                .await
                .map_err(unavailable)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let attempts = wa::table
                .filter(wa::delivery_id.eq_any(&ids))
                .order((wa::delivery_id, wa::id))
                .select((wa::delivery_id, wa::attempted_at, wa::status, wa::error, wa::duration_ms))
                .load(conn)
                .await
                .map_err(unavailable)?;
            Ok::<_, StoreError>((rows, attempts))
        })?;
        let mut history: BTreeMap<i64, Vec<DeliveryAttempt>> = BTreeMap::new();
        for (delivery, at, status, error, duration) in attempts {
            history.entry(delivery).or_default().push(DeliveryAttempt {
                at: utc(at),
                status: status.and_then(|s| u16::try_from(s).ok()),
                error,
                duration_ms: u64::try_from(duration).unwrap_or(0),
            });
        }
        Ok(rows
            .into_iter()
            .filter_map(
                |(id, event_id, state, attempts, next, kind, user, detail, at)| {
                    Some(WebhookDelivery {
                        id,
                        endpoint: endpoint_id,
                        message_id: format!("msg_{event_id}"),
                        event: event(&kind, user, detail, at)?,
                        state: DeliveryState::parse(&state)?,
                        attempts: u32::try_from(attempts).unwrap_or(0),
                        next_attempt_at: utc(next),
                        history: history.remove(&id).unwrap_or_default(),
                    })
                },
            )
            .collect())
    }
}
